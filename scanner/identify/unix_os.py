"""Other-Unix record (AIX, Solaris, FreeBSD, OpenBSD, NetBSD, ...) -> endoflife.date product + cycle.

Why one module: these systems are identified the same way — ``uname`` (sysname + release, often
the whole ``uname -a`` line), ``oslevel`` on AIX, or a release file (Solaris ``/etc/release``, a
FreeBSD-based appliance's os-release) — and each names its cycles differently: FreeBSD per point
release with a ``stable/N`` branch fallback, NetBSD per major, AIX per technology level
(``7200-05`` -> ``7.2.5``), Solaris by ``SunOS 5.N`` plus the update.  Systems endoflife.date does
not track (HP-UX, illumos/SmartOS, DragonFly) answer "no product" with a reason, never a neighbour.

``identify_release_files`` is exported for the Linux identifier: a Solaris or FreeBSD release file
collected by a generic "release files" probe reaches this module through it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eol_data.catalog import Product
from eol_data.rules import Rules
from scanner.identify.context import Knowledge
from scanner.model import Confidence, Identification

RULES = "unix_os"
HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

_BSD_RELEASE = re.compile(r"(?<![\w.])(\d{1,2})\.(\d{1,2})(?:[-_]([A-Za-z]+[\d]*)(?:-p\d+)?)?(?![\d])")
_AIX_TL = re.compile(r"\b(\d)(\d)00-(\d{2})(?:-\d{2})?(?:-\d{4})?\b")
_AIX_VRMF = re.compile(r"\b(\d)\.(\d)\.(\d)\.(\d)\b")
_SUNOS = re.compile(r"\bSunOS\b(?:\s+\S+)?\s+(5\.\d{1,2})\b(?:\s+(\S+))?", re.I)
_SOLARIS_RELEASE = re.compile(r"\bSolaris\s+(\d{1,2}(?:\.\d)?)\b(?:\s+(\d{1,2}/\d{2}))?", re.I)


Texts = Sequence[tuple[str, str]]  # (key, text) of a record's values


@dataclass(frozen=True, slots=True)
class UnixFacts:
    """What an other-Unix record says, as typed facts: the system it names, its texts under their
    keys (uname, oslevel, nested agent values, release files), and the first four as the answer's
    evidence."""

    system: str
    texts: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Words:
    """``[words]`` of the rules as the identifier uses them (built once per rules table)."""

    sysnames: re.Pattern[str]  # a system name as uname and agents print it
    bsd_ids: tuple[str, ...]  # os-release IDs of the BSDs
    version_keys: tuple[str, ...]  # keys whose value is a BSD release number
    development_tags: tuple[str, ...]  # "14.0-RC1": a development build, not the release


def _compile_words(rules: dict[str, Any]) -> _Words:
    words = rules.get("words", {})
    names = "|".join(re.escape(str(w)) for w in words.get("sysnames", [])) or "(?!)"
    return _Words(
        re.compile(rf"\b({names})\b", re.I),
        tuple(str(w) for w in words.get("bsd_ids", [])),
        tuple(str(w) for w in words.get("version_keys", [])),
        tuple(str(w) for w in words.get("development_tags", [])),
    )


def _words(rules: Rules) -> _Words:
    """The compiled words of these rules, made once and kept with them (``Rules.derived``)."""
    return rules.derived("unix_os.words", lambda r: _compile_words(r.table(RULES)))


def _text_values(record: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key in ("uname", "oslevel"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            out.append((key, value.strip()))

    def walk(prefix: str, value: Any, depth: int) -> None:
        # Nested agent sections (FusionInventory OPERATINGSYSTEM / HARDWARE) keep their path.
        if isinstance(value, dict) and depth < 4:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v, depth + 1)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            out.append((prefix, str(value).strip()))

    for key, value in record.items():
        if key in ("kind", "family", "uname", "oslevel", "files"):
            continue
        walk(key, value, 0)
    files = record.get("files")
    if isinstance(files, dict):
        out.extend((str(k), str(v)) for k, v in files.items() if isinstance(v, str))
    return out


def facts_of(record: dict[str, Any], rules: Rules) -> UnixFacts:
    """The typed facts of an other-Unix record."""
    texts = tuple(_text_values(record))
    notes = tuple((k, v[:200]) for k, v in texts[:4])
    return UnixFacts(_system(record, texts, _words(rules)), texts, notes)


def _system(record: dict[str, Any], texts: Texts, words: _Words) -> str:
    system = _uname_system(texts, words) or _system_in_texts(texts, words)
    if system:
        return system
    family = str(record.get("family") or "").lower()
    return {"sunos": "sunos"}.get(family, family)


def _uname_system(texts: Texts, words: _Words) -> str:
    """The system name a ``uname`` value starts with."""
    for key, text in texts:
        if key.startswith("uname") or key == "uname":
            m = words.sysnames.match(text.strip())
            if m:
                return m.group(1).lower()
    return ""


def _system_in_texts(texts: Texts, words: _Words) -> str:
    """A system name anywhere in the texts, or a BSD's os-release ID."""
    for _key, text in texts:
        m = words.sysnames.search(text)
        if m:
            return m.group(1).lower()
        osrel = re.search(r"^ID=\"?([\w.-]+)", text, re.M)
        if osrel and osrel.group(1).lower() in words.bsd_ids:
            return osrel.group(1).lower()
    return ""


def _untracked(
    system: str, rules: dict[str, Any], texts: Texts, evidence: tuple[tuple[str, str], ...]
) -> Identification | None:
    """A system endoflife.date does not track (HP-UX, DragonFly, an illumos distribution...)."""
    untracked = [str(n) for n in rules.get("untracked", {}).get("names", [])]
    joined = "\n".join(t for _, t in texts).lower()
    if system in untracked or (system in ("sunos", "solaris") and _is_illumos(rules, joined)):
        name = system if system in untracked else "an illumos distribution"
        return Identification(
            None,
            None,
            "unix.untracked",
            f"{name} is not tracked by endoflife.date (SunOS/illumos derivatives, HP-UX, "
            "DragonFly and similar have no dataset entry)",
            HIGH,
            evidence,
        )
    return None


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    rules = ctx.rules.table(RULES)
    words = _words(ctx.rules)
    facts = facts_of(record, ctx.rules)
    texts, evidence, system = facts.texts, facts.notes, facts.system
    untracked = _untracked(system, rules, texts, evidence)
    if untracked is not None:
        return untracked
    spec = rules.get("systems", {}).get(system)
    if spec is None:
        return Identification(
            None, None, "unix.unknown-system", f"no rule for OS {system or 'unknown'!r}", LOW, evidence
        )
    product_name = str(spec["product"])
    product = ctx.catalog.product(product_name)
    if product is None:
        return Identification(
            product_name, None, "unix.no-dataset", f"{product_name} not in the dataset", LOW, evidence
        )
    scheme = str(spec.get("scheme"))
    if scheme == "aix":
        return _aix(product, texts, evidence)
    if scheme == "solaris":
        return _solaris(product, rules, texts, evidence)
    return _bsd(product, system, spec, texts, evidence, words)


def identify_release_files(files: dict[str, str], ctx: Knowledge) -> Identification | None:
    """For the Linux identifier: a non-Linux release file (Solaris /etc/release, FreeBSD os-release).

    Returns None when the files are not from a Unix this module knows, so Linux rules go on.
    """
    release = files.get("/etc/release", "")
    osrel = files.get("/etc/os-release", "") or files.get("/usr/lib/os-release", "")
    m = re.search(r"^ID=\"?([\w.-]+)", osrel, re.M)
    if re.search(r"\bSolaris\b|SmartOS|OpenIndiana|illumos|OmniOS", release) or (
        m and m.group(1).lower() in _words(ctx.rules).bsd_ids
    ):
        return identify({"kind": "os", "family": "unix", "files": files}, ctx)
    return None


def _is_illumos(rules: dict[str, Any], joined: str) -> bool:
    markers = [str(m) for m in rules.get("solaris", {}).get("illumos_markers", [])]
    return any(m in joined for m in markers) and "oracle solaris" not in joined


def _release_of(product: Product, name: str) -> bool:
    return product.release(name) is not None


def _numeric_cycles(product: Product) -> list[tuple[int, ...]]:
    return [tuple(int(x) for x in r.name.split(".")) for r in product.releases if re.fullmatch(r"[\d.]+", r.name)]


def _newer(product: Product, key: tuple[int, ...]) -> bool:
    cycles = _numeric_cycles(product)
    return bool(cycles) and all(key[: len(c)] > c for c in cycles)


def _bsd(
    product: Product,
    system: str,
    spec: dict[str, Any],
    texts: Texts,
    evidence: tuple[tuple[str, str], ...],
    words: _Words,
) -> Identification:
    version, source = _bsd_release(texts, words)
    label = product.label or product.name
    if version is None:
        return Identification(product.name, None, "unix.no-version", f"{label} without a release number", LOW, evidence)
    major, minor, tag = int(version.group(1)), int(version.group(2)), (version.group(3) or "").upper()
    dev = tag.startswith(words.development_tags)
    if str(spec.get("scheme")) == "major":
        cycle = str(major)
        if _release_of(product, cycle):
            return Identification(
                product.name,
                cycle,
                "unix.release",
                f"{label} {major}.{minor} ({source}) -> major cycle {cycle}",
                LOW if dev else HIGH,
                evidence,
            )
        return Identification(
            product.name,
            None,
            "unix.release-unknown",
            f"{label} {major}.{minor} not in dataset",
            LOW,
            evidence,
            newer_than_known=_newer(product, (major,)),
        )
    return _bsd_point_release(product, spec, label, major, minor, tag, dev, source, evidence)


def _bsd_release(texts: Texts, words: _Words) -> tuple[re.Match[str] | None, str]:
    """The first ``N.M[-TAG]`` in an os-release VERSION, after a system name, or under a version key."""
    for key, text in texts:
        body = text
        idm = re.search(r"^VERSION=\"?([\w.-]+)", text, re.M)
        if idm:
            body = idm.group(1)
        else:
            sm = words.sysnames.search(text)
            if sm:
                body = text[sm.end() :]
            elif not key.startswith("uname") and key.rsplit(".", 1)[-1].lower() not in words.version_keys:
                continue
        m = _BSD_RELEASE.search(body)
        if m:
            return m, f"{key}: {text.splitlines()[0][:80] if text else ''}"
    return None, ""


def _bsd_point_release(
    product: Product,
    spec: dict[str, Any],
    label: str,
    major: int,
    minor: int,
    tag: str,
    dev: bool,
    source: str,
    evidence: tuple[tuple[str, str], ...],
) -> Identification:
    """FreeBSD-style cycles per point release, with the stable/N branch as the fallback."""
    point = f"{major}.{minor}"
    branch = bool(spec.get("branch_fallback")) and _release_of(product, str(major))
    if tag.startswith("STABLE") and branch:
        return Identification(
            product.name,
            str(major),
            "unix.branch",
            f"{label} {point}-STABLE follows the stable/{major} branch ({source})",
            MEDIUM,
            evidence,
        )
    if tag.startswith("CURRENT"):
        return Identification(
            product.name,
            None,
            "unix.development",
            f"{label} {point}-CURRENT is a development snapshot, not a supported release",
            LOW,
            evidence,
            newer_than_known=_newer(product, (major, minor)),
        )
    if _release_of(product, point):
        why = f"{label} {point}{'-' + tag if tag else ''} ({source})" + (
            "; pre-release of that point release" if dev else ""
        )
        return Identification(product.name, point, "unix.release", why, LOW if dev else HIGH, evidence)
    return _bsd_no_point_cycle(product, label, major, minor, branch, evidence)


def _bsd_no_point_cycle(
    product: Product, label: str, major: int, minor: int, branch: bool, evidence: tuple[tuple[str, str], ...]
) -> Identification:
    """A point release the dataset has no cycle for: the stable branch where it has one."""
    point = f"{major}.{minor}"
    if branch:
        return Identification(
            product.name,
            str(major),
            "unix.branch",
            f"{label} {point} has no point-release cycle; stable/{major} branch assumed",
            LOW,
            evidence,
        )
    return Identification(
        product.name,
        None,
        "unix.release-unknown",
        f"{label} {point} not in the dataset",
        LOW,
        evidence,
        newer_than_known=_newer(product, (major, minor)),
    )


def _aix(product: Product, texts: Texts, evidence: tuple[tuple[str, str], ...]) -> Identification:
    version, tl, source = _aix_level(texts)
    if version is None:
        return Identification(
            product.name, None, "aix.no-version", "AIX without oslevel or uname version", LOW, evidence
        )
    v, r = version
    if tl is not None:
        cycle = f"{v}.{r}.{tl}"
        if _release_of(product, cycle):
            return Identification(
                product.name, cycle, "aix.technology-level", f"AIX {v}.{r} TL{tl} ({source})", HIGH, evidence
            )
    tls = sorted(
        (rel.name for rel in product.releases if rel.name.startswith(f"{v}.{r}.")), key=lambda n: int(n.split(".")[2])
    )
    if tls:
        latest = tls[-1]
        what = f"TL{tl} is not in the dataset" if tl is not None else "technology level unknown"
        # Without the TL the host may be on any of the release's TLs: the verdict holds only where
        # it is the same for all of them (an oslevel "7.2.0.0" host may be on an ended TL).
        spans = tuple(tls) if tl is None else ()
        return Identification(
            product.name,
            latest,
            "aix.release",
            f"AIX {v}.{r} ({source}); {what}: the release's latest TL in the dataset ({latest}) "
            "is assumed, so support may have ended earlier for an older TL",
            LOW,
            evidence,
            spans=spans,
        )
    return Identification(
        product.name,
        None,
        "aix.release-unknown",
        f"AIX {v}.{r} not in the dataset",
        LOW,
        evidence,
        newer_than_known=_newer(product, (v, r)),
    )


def _aix_level(texts: Texts) -> tuple[tuple[int, int] | None, int | None, str]:
    """(version, release), technology level and where: ``oslevel -s`` (7200-05-03-2148), then a
    VRMF (7.2.0.0), then ``uname -a`` / ``AIX 7.2``."""
    for key, text in texts:
        m = _AIX_TL.search(text)
        if m:
            return (int(m.group(1)), int(m.group(2))), int(m.group(3)), f"{key} {m.group(0)}"
    for key, text in texts:
        m2 = _AIX_VRMF.search(text)
        if m2:
            return (int(m2.group(1)), int(m2.group(2))), None, f"{key} {m2.group(0)}"
    for key, text in texts:
        version = _aix_uname_version(text)
        if version is not None:
            return version, None, f"{key} {text[:60]}"
    return None, None, ""


def _aix_uname_version(text: str) -> tuple[int, int] | None:
    """``uname -a`` (AIX <host> <release> <version> ...) or "AIX 7.2": (version, release)."""
    toks = text.split()
    if not toks or toks[0].upper() != "AIX":
        return None
    nums = [t for t in toks[1:] if re.fullmatch(r"\d", t)]
    if len(nums) >= 2:  # uname -a: AIX <host> <release> <version> <machine id>
        return int(nums[1]), int(nums[0])
    m3 = re.search(r"\b(\d)\.(\d)\b", text)
    return (int(m3.group(1)), int(m3.group(2))) if m3 else None


def _solaris(
    product: Product, rules: dict[str, Any], texts: Texts, evidence: tuple[tuple[str, str], ...]
) -> Identification:
    mapping: dict[str, str] = {str(k): str(v) for k, v in rules.get("solaris", {}).get("sunos_to_solaris", {}).items()}
    release, source, guessed = _solaris_release(texts, mapping)
    if release is None:
        return Identification(
            product.name, None, "solaris.no-version", "Solaris without a release number", LOW, evidence
        )
    if release == "11.0":
        release = "11"
    if guessed:
        updates = sorted(
            (r.name for r in product.releases if r.name.startswith("11.")), key=lambda n: int(n.split(".")[1])
        )
        if updates:
            return Identification(
                product.name,
                updates[-1],
                "solaris.sunos",
                f"SunOS 5.11 ({source}) is Solaris 11 with the update unknown: the latest update "
                f"in the dataset ({updates[-1]}) is assumed; an older update ended earlier",
                LOW,
                evidence,
            )
    if _release_of(product, release):
        return Identification(
            product.name, release, "solaris.release", f"Oracle Solaris {release} ({source})", HIGH, evidence
        )
    return Identification(
        product.name, None, "solaris.release-unknown", f"Solaris {release} not in the dataset", LOW, evidence
    )


def _sunos_release(texts: Texts, mapping: dict[str, str]) -> tuple[str, str, bool] | None:
    """The Solaris release of the first ``SunOS 5.N`` (None: none, or one no Solaris maps to)."""
    for key, text in texts:
        m2 = _SUNOS.search(text)
        if m2:
            mapped = mapping.get(m2.group(1))
            if mapped == "11":
                upd = re.match(r"11\.(\d)", m2.group(2) or "")
                where = f"{key}: {text[:80]}"
                return (f"11.{upd.group(1)}", where, False) if upd else ("11", where, True)
            if mapped is not None:
                return mapped, f"{key}: {text[:80]}", False
            return None  # a SunOS release no Solaris maps to: a bare uname -v may still say
    return None


def _solaris_release(texts: Texts, mapping: dict[str, str]) -> tuple[str | None, str, bool]:
    """(release, where, guessed): /etc/release's "Solaris N", else ``SunOS 5.N`` (5.11 without its
    update is a guess), else a bare ``uname -v`` of 11.x."""
    for key, text in texts:
        m = _SOLARIS_RELEASE.search(text)
        if m:
            return m.group(1), f"{key}: {text.strip().splitlines()[0].strip()[:80]}", False
    sunos = _sunos_release(texts, mapping)
    if sunos is not None:
        return sunos
    release: str | None = None
    source = ""
    for key, text in texts:
        if key.startswith("uname") and re.fullmatch(r"11\.\d(?:\.[\d.]+)?", text):
            release, source = text[:4], f"{key}: {text}"
    return release, source, False
