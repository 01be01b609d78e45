"""macOS record -> endoflife.date ``macos`` cycle.

Why not just the prefix rule: endoflife.date names cycles ``"13"`` from macOS 11 on but ``"10.15"``
before; macOS 11+ reports ``10.16`` to old software (``SYSTEM_VERSION_COMPAT``), which names no
release; and collectors hand us ``sw_vers`` text, ``system_profiler`` lines ("System Version: macOS
13.6.1 (22G313)"), sysctl keys or only a Darwin kernel version.  The build number ("22G313") and the
Darwin major carry the release too, so any of them identifies the cycle; when the product version
and the build disagree the product version wins (a build prefix is a weaker signal) but the
confidence drops.  Tables are data in ``eol_data/rules/macos.toml``.

Note on dates: Apple publishes no end-of-support dates; endoflife.date's are community-inferred and
its current majors carry ``eol: false`` (no end announced), which the verdict reports honestly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eol_data.rules import Rules
from scanner.identify.context import Knowledge
from scanner.model import Confidence, Identification

RULES = "macos"
PRODUCT = "macos"

_NAMED = re.compile(
    r"(?:mac\s?os(?:\s?x)?|os\s?x)(?:\s+server)?(?:\s+(?!version\b)[A-Za-z]+){0,2}?"
    r"\s+(?:version\s+)?(\d{1,2}(?:\.\d+){0,2})"
    r"(?:\s*\((?:build\s+)?(\d{1,2}[A-Z]\d{1,4}[a-z]?)\))?",
    re.I,
)
_BUILD = re.compile(r"^\s*(\d{1,2})([A-Z])(\d{1,4})([a-z]?)\s*$")
# "Darwin Kernel Version 23.1.0" (uname -v), "Darwin 23.1.0", and Node's os.type() / os.arch() /
# os.release() as VS Code's issue reporter writes them: "Darwin arm64 23.4.0", "Darwin x64 22.6.0".
_DARWIN = re.compile(
    r"darwin(?:\s+kernel\s+version)?(?:\s+(?:arm64|x64|x86_64|amd64|ia32|i386|universal))?\s+(\d{1,2})\.\d+(?:\.\d+)?",
    re.I,
)
_VERSION = re.compile(r"^\s*(\d{1,2})(?:\.(\d+))?(?:\.(\d+))?\s*$")
_VERSION_BUILD_PAIR = re.compile(r"^\s*(\d{1,2}\.\d+(?:\.\d+)?)\s*\((\d{1,2}[A-Z]\d{1,4}[a-z]?)\)\s*$")


def _flatten(record: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """String leaves with dotted keys (agent documents nest the OS section)."""
    out: list[tuple[str, str]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}."))
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            out.append((name, str(value)))
    return out


@dataclass(frozen=True, slots=True)
class MacFacts:
    """What a macOS record says, as typed facts: product version, build, Darwin major, and the
    (field, value) pairs each was read from (the answer's evidence)."""

    product_version: str
    build_version: str
    darwin: str
    notes: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Labels:
    """``[labels]`` of the rules: the names tools give the product version, the build and the
    kernel release, as the patterns and key words the adapters use (built once per rules table)."""

    product_version: re.Pattern[str]  # "ProductVersion: 13.6.1", "kern.osproductversion = 13.6.1"
    build_version: re.Pattern[str]  # "BuildVersion: 22G313", "kern.osversion = 22G313"
    build_key_endings: tuple[str, ...]  # a key (letters only, lower case) ending so holds a build
    build_key_words: tuple[str, ...]  # ... or containing one of these
    kernel_keys: tuple[str, ...]  # a key that holds the Darwin kernel release ("uname -r")


def _alt(words: Any) -> str:
    """Words as one (escaped) regular-expression alternation; one that never matches when none."""
    items = [re.escape(str(w)) for w in words or []]
    return "(?:" + "|".join(items) + ")" if items else "(?!)"


def _compile_labels(rules: dict[str, Any]) -> _Labels:
    table = rules.get("labels", {})
    return _Labels(
        re.compile(rf"{_alt(table.get('product_version'))}\s*[:=]\s*(\d+(?:\.\d+){{0,2}})", re.I),
        re.compile(rf"{_alt(table.get('build_version'))}\s*[:=]\s*(\d{{1,2}}[A-Z]\d{{1,4}}[a-z]?)", re.I),
        tuple(str(w) for w in table.get("build_key_endings", [])),
        tuple(str(w) for w in table.get("build_key_words", [])),
        tuple(str(w) for w in table.get("kernel_keys", [])),
    )


def _labels(rules: Rules) -> _Labels:
    """The compiled labels of these rules, made once and kept with them (``Rules.derived``)."""
    return rules.derived("macos.labels", lambda r: _compile_labels(r.table(RULES)))


@dataclass(slots=True)
class _Facts:
    """What the record says so far (the adapters fill only what is still unknown)."""

    pv: str
    bv: str
    darwin: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)


def facts_of(record: dict[str, Any], rules: Rules) -> MacFacts:
    """The typed facts of a macOS record: the contract's fields first, then any other value (a
    ``sw_vers`` or ``system_profiler`` text, a sysctl key, an agent document's nested OS section)."""
    labels = _labels(rules)
    facts = _contract_facts(record)
    for key, value in _flatten(record):
        if key in ("kind", "family", "product_version", "build_version"):
            continue
        text = str(value)
        low_key = re.sub(r"[^a-z]", "", key.lower())  # "sw_vers -productVersion" -> "swversproductversion"
        if not facts.pv:
            _product_version_in(facts, key, low_key, text, labels)
        if not facts.bv:
            _build_in(facts, key, low_key, text, labels)
        if not facts.darwin:
            _darwin_in(facts, key, low_key, text, labels)
    return MacFacts(facts.pv, facts.bv, facts.darwin, tuple(facts.pairs))


def _lenient_product_version(pv: str, bv: str) -> tuple[str, str]:
    """Lenient: "Mac OS X 10.4.11", "14.4.1 (23E224)", "macOS 13.6.1" -> (version, build)."""
    found = re.search(r"(?<![\d.])(\d{1,2}(?:\.\d+){1,2})(?![\d.])", pv) or re.search(r"\b(\d{2})\b", pv)
    bfound = re.search(r"\((\d{1,2}[A-Z]\d{1,4}[a-z]?)\)", pv)
    if bfound and not bv:
        bv = bfound.group(1)
    return (found.group(1) if found else pv), bv


def _contract_facts(record: dict[str, Any]) -> _Facts:
    pv = str(record.get("product_version") or "").strip()
    bv = str(record.get("build_version") or "").strip()
    if pv and not _VERSION.match(pv):
        pv, bv = _lenient_product_version(pv, bv)
    facts = _Facts(pv, bv)
    if pv:
        facts.pairs.append(("product_version", pv))
    if bv:
        facts.pairs.append(("build_version", bv))
    return facts


def _product_version_in(facts: _Facts, key: str, low_key: str, text: str, labels: _Labels) -> None:
    m = labels.product_version.search(text) or _NAMED.search(text)
    if m is None and low_key.endswith("version") and "kernel" not in low_key:
        m = _version_value(facts, key, text)
    if m is not None:
        _take_version(facts, m, key, text)


def _take_version(facts: _Facts, m: re.Match[str], key: str, text: str) -> None:
    facts.pv = m.group(1) if m.re is not _VERSION else text.strip()
    facts.pairs.append((key, text.strip()[:200]))
    if m.re is _NAMED and m.group(2) and not facts.bv:
        facts.bv = m.group(2)


def _version_value(facts: _Facts, key: str, text: str) -> re.Match[str] | None:
    """A value under a ``...version`` key: "14.4.1 23E224" (taken here, None returned), else a
    bare version match for the caller."""
    m = _VERSION_BUILD_PAIR.match(text)
    if m is None:
        return _VERSION.match(text)
    facts.pv = m.group(1)
    facts.bv = facts.bv or m.group(2)
    facts.pairs.append((key, text.strip()[:200]))
    return None


def _build_in(facts: _Facts, key: str, low_key: str, text: str, labels: _Labels) -> None:
    m = labels.build_version.search(text)
    if m:
        facts.bv = m.group(1)
        facts.pairs.append((key, text.strip()[:200]))
    elif (
        low_key.endswith(labels.build_key_endings) or any(w in low_key for w in labels.build_key_words)
    ) and _BUILD.match(text):
        facts.bv = text.strip()
        facts.pairs.append((key, text.strip()))


def _darwin_in(facts: _Facts, key: str, low_key: str, text: str, labels: _Labels) -> None:
    m = _DARWIN.search(text)
    if m:
        facts.darwin = m.group(1)
        facts.pairs.append((key, text.strip()[:200]))
    elif low_key in labels.kernel_keys and re.match(r"^\d{1,2}\.\d", text.strip()):
        facts.darwin = text.strip().split(".")[0]
        facts.pairs.append((key, text.strip()))


def cycle_for_version(version: str, first_major_cycle: int = 11) -> str | None:
    """``"13.6.1"`` -> ``"13"``; ``"10.15.7"`` -> ``"10.15"``; junk -> None."""
    m = _VERSION.match(version)
    if not m:
        return None
    major = int(m.group(1))
    if major >= first_major_cycle:
        return str(major)
    if major == 10 and m.group(2) is not None:
        return f"10.{int(m.group(2))}"
    return None


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    rules = ctx.rules.table(RULES)
    darwin_map: dict[str, str] = {str(k): str(v) for k, v in rules.get("darwin", {}).items()}
    limits = rules.get("limits", {})
    compat = str(limits.get("compat_version", "10.16"))
    first = int(limits.get("first_major_cycle", 11))
    facts = facts_of(record, ctx.rules)
    pv, bv, darwin, ev = facts.product_version, facts.build_version, facts.darwin, facts.notes
    product = ctx.catalog.product(PRODUCT)
    by_build, by_kernel = _cycle_by_build_and_kernel(bv, darwin, darwin_map)
    secondary = by_build or by_kernel
    secondary_src = _secondary_source(by_build, by_kernel, bv, darwin)

    by_version = cycle_for_version(pv, first) if pv and not pv.startswith(compat) else None
    darwin_named = _darwin_as_version(by_version, darwin, product, darwin_map, limits)
    if darwin_named is not None:
        return _by_build_or_kernel(pv, compat, False, darwin_named, f"Darwin {by_version} (written as {pv})", ev)
    if by_version:
        return _by_product_version(pv, by_version, secondary, secondary_src, product, ev)
    if secondary and _known(product, secondary):
        return _by_build_or_kernel(pv, compat, bool(by_build), secondary, secondary_src, ev)
    unknown = _build_unknown(bv, darwin, darwin_map, secondary_src, ev)
    if unknown is not None:
        return unknown
    named = _by_release_name(record, product) if not pv else None
    return named if named is not None else _unidentified(pv, compat, ev)


def _darwin_as_version(
    by_version: str | None, darwin: str, product: Any, darwin_map: dict[str, str], limits: dict[str, Any]
) -> str | None:
    """A "macOS version" that no macOS release ever had but a Darwin kernel did: macOS went from 15
    to 26 (year numbers), so 16-25 written as the OS version ("Unsupported Mac OS version 20.0.0",
    Node's os.release() shown as the OS version) is the Darwin release.  Only in that gap."""
    if by_version is None or darwin or _known(product, by_version) or not by_version.isdigit():
        return None
    low, high = (int(x) for x in limits.get("darwin_only_majors", [16, 25]))
    cycle = darwin_map.get(by_version) if low <= int(by_version) <= high else None
    return cycle if cycle and _known(product, cycle) else None


_MAC_PREFIX = re.compile(r"\b(?:mac\s?os(?:\s?x)?|os\s?x)\s+(?:server\s+)?", re.I)


def _by_release_name(record: dict[str, Any], product: Any) -> Identification | None:
    """A release's marketing name with no version ("macOS Ventura", "OS X El Capitan"): the dataset's
    own codenames name the cycle (the longest first, so "High Sierra" is not "Sierra").  Why: issue
    reports and inventories often give only the name; they were "no macOS evidence"."""
    if product is None:
        return None
    names = sorted(
        ((str(rel.codename), str(rel.name)) for rel in product.releases if rel.codename),
        key=lambda item: -len(item[0]),
    )
    for key, value in _flatten(record):
        if key in ("kind", "family"):
            continue
        for codename, cycle in names:
            # "Monterey 12.0.1" anywhere: the name and a version of that very release
            m = re.search(rf"\b{re.escape(codename)}\s+(\d{{1,2}}(?:\.\d+){{0,2}})\b", value, re.I)
            if m and cycle_for_version(m.group(1)) == cycle:
                return Identification(
                    PRODUCT,
                    cycle,
                    "macos.release-name",
                    f"release name {codename!r} with its version {m.group(1)} in {key} -> cycle {cycle}",
                    Confidence.HIGH,
                    ((key, value),),
                )
        for m in _MAC_PREFIX.finditer(value):
            rest = value[m.end() :].lower()
            for codename, cycle in names:
                if re.match(rf"{re.escape(codename.lower())}\b", rest):
                    return Identification(
                        PRODUCT,
                        cycle,
                        "macos.release-name",
                        f"release name {codename!r} in {key} -> cycle {cycle}",
                        Confidence.MEDIUM,
                        ((key, value),),
                    )
    return None


def _by_build_or_kernel(
    pv: str, compat: str, by_build: bool, cycle: str, source: str, ev: tuple[tuple[str, str], ...]
) -> Identification:
    note = f"product version {pv} is the compatibility value; " if pv.startswith(compat) and pv else ""
    return Identification(
        PRODUCT,
        cycle,
        "macos.build" if by_build else "macos.darwin",
        f"{note}{source} -> cycle {cycle}",
        Confidence.HIGH if by_build else Confidence.MEDIUM,
        ev,
    )


def _secondary_source(by_build: str | None, by_kernel: str | None, bv: str, darwin: str) -> str:
    if by_build:
        return f"build {bv}"
    return f"Darwin {darwin}" if by_kernel else ""


def _build_unknown(
    bv: str, darwin: str, darwin_map: dict[str, str], secondary_src: str, ev: tuple[tuple[str, str], ...]
) -> Identification | None:
    """A build or Darwin version that names no release in the dataset (newer than all: likely current)."""
    bm = _BUILD.match(bv) if bv else None
    if not bm and not darwin:
        return None
    major = int(bm.group(1)) if bm else int(darwin)
    newer = bool(darwin_map) and major > max(int(k) for k in darwin_map)
    return Identification(
        PRODUCT,
        None,
        "macos.build-unknown",
        f"{secondary_src or 'build ' + bv or 'Darwin ' + darwin} names no release in the dataset",
        Confidence.LOW,
        ev,
        newer_than_known=newer,
    )


def _cycle_by_build_and_kernel(bv: str, darwin: str, darwin_map: dict[str, str]) -> tuple[str | None, str | None]:
    """The cycles a build number ("22G313": Darwin 22) and a Darwin kernel major name, if any."""
    bm = _BUILD.match(bv) if bv else None
    by_build = darwin_map.get(str(int(bm.group(1)))) if bm else None
    by_kernel = darwin_map.get(darwin) if darwin else None
    return by_build, by_kernel


def _known(product: Any, cycle: str | None) -> bool:
    return bool(cycle) and product is not None and product.release(str(cycle)) is not None


def _by_product_version(
    pv: str, cycle: str, secondary: str | None, secondary_src: str, product: Any, ev: tuple[tuple[str, str], ...]
) -> Identification:
    """The product version names the cycle; a build or kernel that disagrees lowers the confidence."""
    if not _known(product, cycle):
        return Identification(
            PRODUCT,
            None,
            "macos.version-unknown",
            f"macOS {pv} is not a release in the dataset",
            Confidence.LOW,
            ev,
            newer_than_known=_newer(cycle, product),
        )
    conf = Confidence.HIGH
    why = f"macOS {pv} -> cycle {cycle}"
    if secondary and secondary != cycle:
        conf = Confidence.MEDIUM
        why += f" ({secondary_src} suggests {secondary}; the product version wins)"
    elif secondary:
        why += f" (consistent with {secondary_src})"
    return Identification(PRODUCT, cycle, "macos.product-version", why, conf, ev)


def _unidentified(pv: str, compat: str, ev: tuple[tuple[str, str], ...]) -> Identification:
    if pv.startswith(compat):
        return Identification(
            PRODUCT,
            None,
            "macos.compat-version",
            f"product version {pv} is what macOS 11 and later report in compatibility mode; "
            "no build or kernel version to tell which release",
            Confidence.LOW,
            ev,
        )
    if pv:
        return Identification(
            PRODUCT, None, "macos.version-unknown", f"macOS version {pv!r} not understood", Confidence.LOW, ev
        )
    return Identification(
        None, None, "macos.no-evidence", "no macOS product version, build or Darwin version", Confidence.LOW, ev
    )


def _newer(cycle: str, product: Any) -> bool:
    """A major above every known cycle: unknown, probably current (never EOL)."""
    if product is None:
        return False
    try:
        wanted = tuple(int(x) for x in cycle.split("."))
        keys = [tuple(int(x) for x in r.name.split(".")) for r in product.releases if re.fullmatch(r"[\d.]+", r.name)]
    except ValueError:
        return False
    return bool(keys) and all(wanted > k for k in keys)
