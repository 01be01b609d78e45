"""What a service announced without credentials (``legacyscan discover``) -> product and cycle.

Two record kinds arrive here:

* OS records carrying ``announced`` (built by ``scanner.discover.fingerprint``): a Windows NT
  version/build or NativeOS caption is handed to the Windows identifier (one set of Windows
  rules); a distribution or device OS product with its release is matched to the dataset's cycle.
* software records with ``source = "banner"`` (``nginx/1.22.1`` in a Server header, OpenSSH in an
  SSH banner): ``eol_data/rules/announced.toml`` names the product, the version picks the cycle.

Confidence is capped at the evidence's own (never "high": a banner can be stale, edited or a
decoy), and every answer names the service that announced it and its exact words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from eol_data.catalog import Product
from scanner.identify.context import Knowledge
from scanner.identify.versions import pick_cycle
from scanner.model import Confidence, Identification

_ORDER = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


def _cap(ident: Confidence, evidence: str) -> Confidence:
    try:
        stated = Confidence(evidence)
    except ValueError:
        stated = Confidence.LOW
    if stated is Confidence.HIGH:
        stated = Confidence.MEDIUM
    return ident if _ORDER[ident] <= _ORDER[stated] else stated


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    if record.get("kind") == "software":
        return identify_software(record, ctx)
    a = record.get("announced")
    if not isinstance(a, dict):
        return Identification(None, None, "announced.no-evidence", "no announced evidence in the record")
    by = str(a.get("by") or "unknown")
    said = str(a.get("evidence") or "")[:300]
    ev = _announced_evidence(a, by, said)
    conf = str(a.get("confidence") or "low")
    if a.get("windows_version") or a.get("caption"):
        return _announced_windows(a, ctx, by, said, ev, conf)
    return _announced_release(record, a, ctx, by, said, ev, conf)


def _announced_evidence(a: dict[str, Any], by: str, said: str) -> tuple[tuple[str, str], ...]:
    ev: tuple[tuple[str, str], ...] = (("announced_by", by), ("announced", said))
    if a.get("smb1"):
        ev += (("smb1", str(a["smb1"])),)
    if a.get("services"):  # every service's own words (TLS certificate, SNMP vendor...), for the reader
        ev += (("services", str(a["services"])[:1500]),)
    return ev


def _announced_windows(
    a: dict[str, Any], ctx: Knowledge, by: str, said: str, ev: tuple[tuple[str, str], ...], conf: str
) -> Identification:
    """A Windows version or caption (SMB, RDP/NTLM): the Windows identifier decides, capped at what
    the announcement can support."""
    from scanner.identify import windows_os  # the Windows tables, only when a Windows host announced itself

    rec: dict[str, Any] = {"kind": "os", "family": "windows"}
    if a.get("windows_version"):
        rec["version"] = str(a["windows_version"])
        parts = rec["version"].split(".")
        if len(parts) == 3:
            rec["build"] = parts[2]
    if a.get("caption"):
        rec["caption"] = str(a["caption"])
    ident = windows_os.identify(rec, ctx)
    return replace(
        ident,
        rule=f"announced.{by}+{ident.rule}",
        confidence=_cap(ident.confidence, conf),
        evidence=ident.evidence + ev,
        reason=f"{ident.reason} (announced by {by}: {said})",
    )


def _announced_release(
    record: dict[str, Any],
    a: dict[str, Any],
    ctx: Knowledge,
    by: str,
    said: str,
    ev: tuple[tuple[str, str], ...],
    conf: str,
) -> Identification:
    """A product and release a service announced (an SSH banner's distribution, an SNMP sysDescr)."""
    slug = str(a.get("product") or "")
    version = str(a.get("version") or "")
    why = str(a.get("why") or "")
    if not slug:
        family = str(record.get("family") or "unknown")
        return Identification(
            None,
            None,
            f"announced.{by}.no-release",
            f"{family} ({why or 'no release announced'}; announced by {by}: {said})",
            Confidence.LOW,
            ev,
        )
    product = ctx.catalog.product(slug)
    if product is None:
        return Identification(None, None, f"announced.{by}.{slug}", f"{slug} not in dataset", Confidence.LOW, ev)
    if not version:
        return Identification(
            slug,
            None,
            f"announced.{by}.{slug}",
            f"{product.label}, release not announced ({why}; announced by {by}: {said})",
            Confidence.LOW,
            ev,
        )
    return _announced_cycle(product, slug, version, why, by, said, ev, conf)


def _announced_cycle(
    product: Product,
    slug: str,
    version: str,
    why: str,
    by: str,
    said: str,
    ev: tuple[tuple[str, str], ...],
    conf: str,
) -> Identification:
    release, newer = pick_cycle(product, version)
    if release is None:
        return Identification(
            slug,
            None,
            f"announced.{by}.{slug}",
            f"{product.label} {version} matches no cycle (announced by {by}: {said})",
            Confidence.LOW,
            ev,
            newer_than_known=newer,
        )
    return Identification(
        slug,
        release.name,
        f"announced.{by}.{slug}",
        f"{product.label} {release.name}: {why} (announced by {by}: {said})",
        _cap(Confidence.MEDIUM, conf),
        ev + (("release", version),),
    )


def identify_software(record: dict[str, Any], ctx: Knowledge) -> Identification:
    name = str(record.get("name") or "").strip()
    version = str(record.get("version") or "").strip()
    ev = (("name", name), ("version", version), ("source", "banner"))
    for i, rule in enumerate(ctx.rules.table("announced").get("software", [])):
        if not re.fullmatch(rule["names"], name, re.I):
            continue
        rule_id = f"announced.banner.{rule['product']}#{i}"
        if rule["product"] == "none":
            return Identification(
                None, None, rule_id, f"{name}: {rule.get('why', 'not a tracked product')}", Confidence.LOW, ev
            )
        product = ctx.catalog.product(rule["product"])
        if product is None:
            return Identification(None, None, rule_id, f"{rule['product']} not in dataset", Confidence.LOW, ev)
        m = re.match(r"\d+(?:\.\d+)*[a-z]?", version)
        upstream = m.group() if m else version
        release, newer = pick_cycle(product, upstream)
        if release is None:
            return Identification(
                rule["product"],
                None,
                rule_id,
                f"announced {name}/{version}: {product.label}, version matches no cycle",
                Confidence.LOW,
                ev,
                newer_than_known=newer,
            )
        return Identification(
            rule["product"],
            release.name,
            rule_id,
            f"announced {name}/{version} is {product.label} {release.name} (from a banner: the "
            "service may hide backported fixes or a different build)",
            Confidence.LOW,
            ev,
            group=f"{rule['product']}:{release.name}",
        )
    return Identification(
        None, None, "announced.banner.untracked", f"announced {name!r} is not a tracked product", Confidence.LOW, ev
    )
