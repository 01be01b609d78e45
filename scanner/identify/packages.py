"""Linux packages (dpkg / rpm / apk) -> endoflife.date product and cycle.

The rules are data (``eol_data/rules/packages.toml``): a package-name pattern names the product;
the cycle comes from the package's *upstream* version.  Distro revisions (``-1ubuntu2.1``,
``-4.el8``), epochs (``1:``) and rpm arch suffixes (``.x86_64``) are removed first, because they
say nothing about which upstream release line the package belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scanner.identify.context import Knowledge
from scanner.identify.versions import pick_cycle
from scanner.model import Confidence, Identification

if TYPE_CHECKING:
    from eol_data.rules import Rules


def _arch_suffix(rules: Rules) -> re.Pattern[str]:
    """The rpm arch suffixes (``[words] architectures``) as one pattern, made once per Rules object
    and kept with it (``Rules.derived``)."""
    return rules.derived("packages.arch_suffix", _compile_arch_suffix)


def _compile_arch_suffix(rules: Rules) -> re.Pattern[str]:
    words = rules.table("packages").get("words", {}).get("architectures", [])
    return re.compile(rf"\.({'|'.join(re.escape(str(w)) for w in words) or '(?!)'})$", re.I)


@dataclass(slots=True, frozen=True)
class PackageRule:
    index: int
    pattern: re.Pattern[str]
    product: str
    why: str
    version: re.Pattern[str] | None = None  # the rule applies only to upstream versions of this form
    java: bool = False  # scheme "java": "1.8.0_202" / "1.8.0.412.b08" are Java 8
    release: re.Pattern[str] | None = None  # the rule applies only to versions (as recorded) containing this


def compiled_rules(rules: Rules) -> list[PackageRule]:
    """The package rules compiled once per Rules object (kept with it: ``Rules.derived``)."""
    return rules.derived("packages.compiled", _compile)


def _compile(rules: Rules) -> list[PackageRule]:
    return [
        PackageRule(
            i,
            re.compile(r["names"], re.I),
            str(r["product"]),
            str(r.get("why", "")),
            re.compile(r["version"], re.I) if r.get("version") else None,
            r.get("scheme") == "java",
            re.compile(r["release"], re.I) if r.get("release") else None,
        )
        for i, r in enumerate(rules.table("packages").get("package", []))
    ]


def upstream_version(version: str, source: str) -> str:
    """``1:1.1.1k-5.el8_5`` -> ``1.1.1k``; ``3.0.11-1~deb12u1`` -> ``3.0.11``; apk ``1.1.1d-r2`` -> ``1.1.1d``."""
    v = version.strip()
    v = re.sub(r"^\d+:", "", v)
    if "-" in v:
        v = v.rsplit("-", 1)[0] if source in ("dpkg", "rpm", "apk") else v
    return v


# Red Hat Software Collections prefix their packages with the collection ("rh-php73-php-common",
# "httpd24-httpd", "rh-postgresql12-postgresql-server"); the package inside carries the upstream
# version, so the name after the prefix is what the rules look at.
_SCL_PREFIX = re.compile(r"^(?:rh-[a-z]+\d+|httpd24|devtoolset-\d+|rh-[a-z]+)-(?=[a-z])", re.I)


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    raw_name = str(record.get("name") or "").strip()
    source = str(record.get("source") or "")
    version = str(record.get("version") or "")
    name = _SCL_PREFIX.sub("", _arch_suffix(ctx.rules).sub("", raw_name))
    for rule in compiled_rules(ctx.rules):
        if not rule.pattern.fullmatch(name):
            continue
        if rule.version is not None and not rule.version.fullmatch(upstream_version(version, source)):
            continue
        if rule.release is not None and not rule.release.search(version):
            continue
        return _identified(rule, ctx, raw_name, name, version, source)
    return Identification(None, None, "package.untracked", f"package {name!r} is not a tracked product")


def _identified(
    rule: PackageRule, ctx: Knowledge, raw_name: str, name: str, version: str, source: str
) -> Identification:
    """The package a rule matched: its product and release (by the upstream version)."""
    rule_id = f"package.{rule.product}#{rule.index}"
    evidence = (("name", raw_name), ("version", version), ("source", source))
    if rule.product == "none":
        return Identification(None, None, rule_id, f"package {name!r}: {rule.why}", evidence=evidence)
    product = ctx.catalog.product(rule.product)
    if product is None:
        return Identification(
            None, None, rule_id, f"package {name!r}: product {rule.product!r} not in dataset", evidence=evidence
        )
    upstream = upstream_version(version, source)
    if rule.java:
        upstream = re.sub(r"^1\.([5-9])(?=[._]|$)", r"\1", upstream)
    release, newer = pick_cycle(product, upstream)
    group = f"{rule.product}:{release.name if release else upstream}"
    if release is None:
        return Identification(
            rule.product,
            None,
            rule_id,
            f"package {name!r} is {product.label}; upstream version {upstream!r} matches no cycle",
            Confidence.MEDIUM,
            evidence,
            group=group,
            newer_than_known=newer,
        )
    return Identification(
        rule.product,
        release.name,
        rule_id,
        f"package {name!r} {version} is {product.label} {release.name} (upstream version {upstream})",
        Confidence.HIGH,
        evidence,
        group=group,
    )
