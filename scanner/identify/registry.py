"""Record -> (product, cycle): the identifier registry and the contract evaluator.

Each kind of record has one identifier, listed explicitly below (no plugin discovery).  An
identifier is a pure function of the record, the catalog and the rules; it never reads the clock.
``evaluate`` adds the verdict for a date and produces the ``legacyscan eol identify`` output line.

Identifications are remembered by ``IdentifyContext`` through the one memoising wrapper
(``remember.Remembered``), keyed by the whole normalised record: an estate has far fewer distinct
records than hosts (thousands of PCs share the same Chrome build).  ``evaluate`` itself remembers
nothing; ``eol identify`` puts its answers behind the same wrapper (``answers``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from eol_data.catalog import Catalog, Product
from eol_data.rules import Rules, load_rules
from scanner.identify.remember import Remembered
from scanner.identify.remember import record_key as record_key  # re-exported: the key of a whole record
from scanner.identify.verdict import judge
from scanner.model import NOT_A_PRODUCT, Identification, Policy, Status, Verdict

Identifier = Callable[[dict[str, Any], "IdentifyContext"], Identification]


class IdentifyContext:
    """Catalog + rules, and the identifications made with them (one per scan; cheap to keep for a
    whole report run).  The identifiers are pure functions (:func:`identification`); the context
    asks them through the one memoising wrapper (``scanner.identify.remember.Remembered``), keyed
    by the whole normalised record.  ``eol identify``'s answers are remembered by a wrapper of
    their own (``scanner.identify.answers``)."""

    def __init__(self, catalog: Catalog, rules: Rules | None = None) -> None:
        self.catalog = catalog
        self.rules = rules if rules is not None else load_rules()
        self._identified: Remembered[Identification] = Remembered(_Identifications(self), normalize=normalize_record)

    def identify(self, record: dict[str, Any]) -> Identification:
        """``identification(record, self)``, remembered (an ``Identification`` cannot change:
        every caller is handed the one answer)."""
        return self._identified.answer(record)


def identification(record: dict[str, Any], ctx: IdentifyContext) -> Identification:
    """What ``record`` is: its identifier's answer (a pure function of the record and the context's
    catalogue and rules; a software record's ``host_os`` is identified through ``ctx``)."""
    return _dispatch(with_host_os(normalize_record(record), ctx), ctx)


@dataclass(frozen=True, slots=True)
class _Identifications:
    """:func:`identification` with its context fixed (what the context's memo wraps)."""

    ctx: IdentifyContext

    def answer(self, record: Any) -> Identification:
        return identification(record, self.ctx)


# Names other tools give the contract's software fields (eol_data/rules/software_fields.toml).
# Only used when the contract name is absent.
_SW_ALIASES: dict[str, tuple[str, ...]] = {
    str(field): tuple(str(a) for a in aliases)
    for field, aliases in load_rules().table("software_fields").get("aliases", {}).items()
}


def normalize_record(record: dict[str, Any]) -> dict[str, Any]:
    """A software record whose fields carry their source's names (``DisplayName``...) is read
    with the contract's names; a contract-shaped record is returned unchanged (the fast path)."""
    if record.get("kind") != "software" or record.get("name"):
        return record
    out = dict(record)
    for field, aliases in _SW_ALIASES.items():
        if out.get(field) in (None, ""):
            for alias in aliases:
                value = record.get(alias)
                if value not in (None, ""):
                    out[field] = value
                    break
    return out


def with_host_os(record: dict[str, Any], ctx: IdentifyContext) -> dict[str, Any]:
    """A software record may say which OS it is installed on (``host_os``: an OS record as
    ``eol identify`` takes it, without ``kind``, or a one-line OS string): identified here into the
    ``host_os_product`` / ``host_os_cycle`` fields the identifiers read (IE 11's channel), and used
    for OS components' verdicts (``os_component_verdict``).  Records without it are unchanged."""
    host = record.get("host_os")
    if record.get("kind") != "software" or host is None or record.get("host_os_product"):
        return record
    out = {k: v for k, v in record.items() if k != "host_os"}
    os_record = _host_os_record(host)
    if os_record is not None:
        try:
            ident = ctx.identify(os_record)
        except (TypeError, ValueError):
            ident = NOT_A_PRODUCT
        if ident.product:
            out["host_os_product"], out["host_os_cycle"] = ident.product, ident.cycle
    return out


def _host_os_record(host: Any) -> dict[str, Any] | None:
    """``host_os`` as an OS record: an object as given, a one-line OS string as its name."""
    if isinstance(host, dict):
        return {**host, "kind": "os"}
    if isinstance(host, str) and host.strip():
        return {"kind": "os", "name": host.strip()[:500]}
    return None


# Releases that are components of the host OS, serviced with it (IE 11 on Windows Server, LTSC and
# Embedded; .NET Framework 4.6.2-4.8.1, and 3.5 SP1 before Windows 10 1809 / Server 2019): at best as
# supported as the OS release they are installed on.  (product, cycle) -> the hosts they are components
# of: OS products, or "product:cycle" OS releases (eol_data/rules/os_components.toml).
OsComponents = dict[tuple[str, str], frozenset[str]]


def os_components(rules: Rules) -> OsComponents:
    """The OS components ``rules`` name (built once per rules object)."""
    return rules.derived("identify.os_components", lambda r: _compile_os_components(r.table("os_components")))


def _compile_os_components(table: dict[str, Any]) -> OsComponents:
    out: OsComponents = {}
    for entry in table.get("component", []):
        releases = entry.get("host_releases")  # only these OS releases ("product:cycle"), when given
        hosts = frozenset(str(h) for h in (entry["hosts"] if releases is None else releases))
        for cycle in entry["cycles"]:
            key = (str(entry["product"]), str(cycle))
            out[key] = out.get(key, frozenset()) | hosts
    return out


def os_component_verdict(
    ident: Identification,
    verdict: Verdict,
    host_product: str | None,
    host_cycle: str | None,
    ctx: IdentifyContext,
    as_of: date,
    policy: Policy,
) -> Verdict:
    """``verdict``, or the host OS's when the release is a component of that OS and the OS is worse
    off (``verdict`` itself, the same object, when the OS does not decide)."""
    if not host_product or not host_cycle or ident.product is None or ident.cycle is None:
        return verdict
    hosts = os_components(ctx.rules).get((ident.product, ident.cycle))
    if hosts is None or (host_product not in hosts and f"{host_product}:{host_cycle}" not in hosts):
        return verdict
    os_verdict = verdict_for(Identification(host_product, host_cycle, "host-os", ""), ctx, as_of, policy)
    if not _os_worse_off(os_verdict, verdict):
        return verdict
    label = ctx.catalog.product(host_product)
    host = f"{label.label if label else host_product} {host_cycle}"
    return Verdict(
        os_verdict.status,
        eol=os_verdict.eol,
        extended_until=os_verdict.extended_until,
        phase_label=os_verdict.phase_label,
        reason=f"a component of {host}, serviced with it: {os_verdict.reason}",
    )


def _os_worse_off(os_verdict: Verdict, verdict: Verdict) -> bool:
    """The OS's verdict is known and worse than the component's (or the same state, ending sooner)."""
    if os_verdict.status is Status.UNKNOWN or os_verdict.status.severity < verdict.status.severity:
        return False
    if os_verdict.status is verdict.status and (
        os_verdict.eol is None or (verdict.eol is not None and verdict.eol <= os_verdict.eol)
    ):
        return False  # the same state, and the component's own end is no later than the OS's
    return True


# The identifiers, one module each, imported on first use (a Linux-only estate never loads the
# Windows tables).  The imports are written out, not built from strings, so mypy and a reader
# follow every edge.
def _linux_os() -> Identifier:
    from scanner.identify import linux_os

    return linux_os.identify


def _windows_os() -> Identifier:
    from scanner.identify import windows_os

    return windows_os.identify


def _macos() -> Identifier:
    from scanner.identify import macos

    return macos.identify


def _unix_os() -> Identifier:
    from scanner.identify import unix_os

    return unix_os.identify


def _announced() -> Identifier:
    from scanner.identify import announced

    return announced.identify


def _packages() -> Identifier:
    from scanner.identify import packages

    return packages.identify


def _windows_apps() -> Identifier:
    from scanner.identify import windows_apps

    return windows_apps.identify


# The registries: record family / source -> the loader of its identifier.
OS_IDENTIFIERS: dict[str, Callable[[], Identifier]] = {
    "linux": _linux_os,
    "windows": _windows_os,
    **dict.fromkeys(("macos", "darwin", "mac", "osx", "mac os x"), _macos),
    **dict.fromkeys(
        (
            "aix",
            "unix",
            "bsd",
            "hp-ux",
            "hpux",
            "dragonfly",
            "illumos",
            "solaris",
            "sunos",
            "freebsd",
            "openbsd",
            "netbsd",
        ),
        _unix_os,
    ),
    "announced": _announced,  # `legacyscan discover`: what services announced (any family)
}
SOFTWARE_IDENTIFIERS: dict[str, Callable[[], Identifier]] = {
    **dict.fromkeys(("dpkg", "rpm", "apk"), _packages),
    "banner": _announced,  # what a service announced to `legacyscan discover`
    **dict.fromkeys(("windows-registry", "msix", "appx", "macos-app"), _windows_apps),
}


class _Registry:
    """family/source -> identifier function, loading each identifier once, on first use."""

    def __init__(self, loaders: dict[str, Callable[[], Identifier]]) -> None:
        self._loaders = loaders
        self._loaded: dict[str, Identifier] = {}

    def get(self, key: str) -> Identifier | None:
        fn = self._loaded.get(key)
        if fn is None:
            loader = self._loaders.get(key)
            if loader is None:
                return None
            fn = self._loaded[key] = loader()
        return fn


_OS = _Registry(OS_IDENTIFIERS)
_SW = _Registry(SOFTWARE_IDENTIFIERS)


@dataclass(frozen=True, slots=True)
class _FamilyWords:
    """``eol_data/rules/families.toml`` as the inference uses it (built once per rules table)."""

    words: tuple[tuple[str, re.Pattern[str]], ...]  # family -> the words that name it, in file order
    solaris: re.Pattern[str]  # an /etc/release of Solaris or a derivative
    bsd_id: re.Pattern[str]  # an os-release ID of a BSD


def _compile_families(table: dict[str, Any]) -> _FamilyWords:
    files = table.get("release_files", {})
    solaris = "|".join(re.escape(str(w)) for w in files.get("solaris", [])) or "(?!)"
    bsd = "|".join(re.escape(str(w)) for w in files.get("bsd_ids", [])) or "(?!)"
    return _FamilyWords(
        tuple((str(e["name"]), re.compile(str(e["pattern"]), re.I)) for e in table.get("family", [])),
        re.compile(solaris, re.I),
        re.compile(rf"^ID=[\"']?({bsd})\b", re.M | re.I),
    )


def _families(rules: Rules) -> _FamilyWords:
    """The family words of these rules, made once and kept with them (``Rules.derived``)."""
    return rules.derived("identify.families", lambda r: _compile_families(r.table("families")))


def _infer_family(record: dict[str, Any], family: str, words: _FamilyWords) -> str:
    """An OS record whose ``family`` is missing or not one we know (the contract never requires
    every field; another tool may say "GNU/Linux", "Win32NT" or nothing): judge it by its own
    evidence rather than answer "unknown family".  Release files first (their text decides between
    Linux, Solaris and the BSDs, as the collectors do), then the family word itself, then the
    contract's per-family fields."""
    files = record.get("files")
    if isinstance(files, dict) and files:
        return _family_of_release_files(files, words)
    for name, pattern in words.words:
        if family and pattern.search(family):
            return name
    return _family_of_fields(record) or _family_of_text(record, words) or family


def _family_of_text(record: dict[str, Any], words: _FamilyWords) -> str | None:
    """Free text only (an issue title, an agent's one-line OS string): an os-release text under any
    key (only Linux and the BSDs write one; NixOS's names no family word), its words, or an NT build."""
    from scanner.identify.linux_os import is_os_release_text  # deferred, as the identifiers are

    values = [str(v) for k, v in record.items() if k not in ("kind", "family") and isinstance(v, str)]
    for value in values:
        if is_os_release_text(value):
            m = words.bsd_id.search(value)
            return m.group(1).lower() if m else "linux"
    text = " ".join(values)
    for name, pattern in words.words:
        if pattern.search(text):
            return name
    if re.search(r"\b(?:5\.[12]|6\.[0-3]|10\.0)\.\d{4,5}\b|\blts[bc]\b", text, re.I):
        return "windows"
    return None


def _family_of_release_files(files: dict[str, Any], words: _FamilyWords) -> str:
    """Solaris and its derivatives by /etc/release, a BSD by its os-release ID, else Linux."""
    release = str(files.get("/etc/release") or "")
    if words.solaris.search(release):
        return "solaris"
    osr = str(files.get("/etc/os-release") or files.get("/usr/lib/os-release") or "")
    m = words.bsd_id.search(osr)
    return m.group(1).lower() if m else "linux"


def _family_of_fields(record: dict[str, Any]) -> str | None:
    """The family whose contract fields the record carries (macOS, Windows, a uname/oslevel Unix)."""
    if any(record.get(k) for k in ("product_version", "build_version")):
        return "macos"
    if any(record.get(k) for k in ("caption", "product_name", "edition_id", "installation_type", "csd_version")):
        return "windows"
    uname = str(record.get("uname") or "")
    if uname or record.get("oslevel"):
        first = (uname.split() or ["aix"])[0].lower()
        return {"sunos": "solaris"}.get(first, first)
    return None


def _dispatch(record: dict[str, Any], ctx: IdentifyContext) -> Identification:
    kind = record.get("kind")
    if kind == "os":
        return _dispatch_os(record, ctx)
    if kind == "software":
        hit = _by_site_rules(record, ctx)
        if hit is not None:
            return hit
        source = str(record.get("source") or "windows-registry").lower()
        # An unfamiliar source (an export from another inventory tool) is judged by its name and
        # publisher, as an application; the rule id in the answer shows which identifier decided.
        fn = _SW.get(source) or _windows_apps()
        return fn(record, ctx)
    return NOT_A_PRODUCT


def _dispatch_os(record: dict[str, Any], ctx: IdentifyContext) -> Identification:
    family = str(record.get("family") or "").lower()
    if isinstance(record.get("announced"), dict):  # discovered without credentials: its own evidence
        family = "announced"
    fn = _OS.get(family)
    if fn is None:
        family = _infer_family(record, family, _families(ctx.rules))
        fn = _OS.get(family)
    if fn is None:
        return Identification(None, None, "os.family-unknown", f"no identifier for OS family {family!r}")
    ident = fn(record, ctx)
    if ident.product is None and ident.rule in (f"{family}.no-evidence", f"{family}.unrecognised"):
        return _other_family(record, ctx, family, settle=ident.rule.endswith(".no-evidence")) or ident
    return ident


def _other_family(record: dict[str, Any], ctx: IdentifyContext, family: str, settle: bool) -> Identification | None:
    """The record says one family but its identifier found none of that family's evidence (or
    recognised none of it), while its own evidence names another: release files, another family's
    contract fields (a Windows caption, a macOS product version) or words (``lsb_release -a``
    output under family "windows", systeminfo under "linux" -- the default of a converter that
    could not tell).  The other family's identifier judges it.  Why: the family is a converter's
    guess, the evidence is the host's own; "no Windows evidence" would hide a named Debian 7.
    Its answer is taken when it names a product, or (``settle``: the claimed family saw nothing
    at all) when it at least saw evidence of its own."""
    words = _families(ctx.rules)
    files = record.get("files")
    other = (
        (_family_of_release_files(files, words) if isinstance(files, dict) and files else None)
        or _family_of_fields(record)
        or _family_of_text(record, words)
    )
    fn = _OS.get(other) if other and other != family else None
    if fn is None:
        return None
    ident = fn(record, ctx)
    if ident.product is not None or (settle and not ident.rule.endswith(".no-evidence")):
        return ident
    return None


def _by_site_rules(record: dict[str, Any], ctx: IdentifyContext) -> Identification | None:
    """The trust's own rules (site catalogue) win over the bundled identifiers."""
    site_rules = ctx.rules.extra("site_apps")
    if not site_rules:
        return None
    from scanner.identify.site_rules import identify as site_identify

    return site_identify(record, ctx, site_rules)


def verdict_for(ident: Identification, ctx: IdentifyContext, as_of: date, policy: Policy) -> Verdict:
    """Status of an identification on ``as_of``.  Unidentified or undated -> unknown."""
    if ident.product is None:
        return Verdict(Status.UNKNOWN, reason=ident.reason)
    if ident.cycle is None:
        why = (
            "newer than every cycle in the dataset (probably current; refresh the dataset)"
            if ident.newer_than_known
            else "release not in the dataset"
        )
        return Verdict(Status.UNKNOWN, reason=why)
    product = ctx.catalog.product(ident.product)
    release = product.release(ident.cycle) if product else None
    if release is None:
        return Verdict(Status.UNKNOWN, reason=f"cycle {ident.cycle!r} not in dataset")
    verdict = judge(release, product, as_of, policy)
    if (ident.spans or ident.alternatives) and product is not None:
        return _across_spans(verdict, ident, product, ctx, as_of, policy)
    return verdict


def _across_spans(
    verdict: Verdict, ident: Identification, product: Product, ctx: IdentifyContext, as_of: date, policy: Policy
) -> Verdict:
    """Unknown when the releases the evidence fits are in different states; else ``verdict``.
    Why: the identifier names one of them (the latest-ending), but a "supported" that is only true
    for a release the host may not be is as wrong as a false "end-of-life"."""
    others = {c: judge(r, product, as_of, policy).status for c in ident.spans if (r := product.release(c)) is not None}
    others.update(_alternative_states(ident, ctx, as_of, policy))
    if any(status is not verdict.status for status in others.values()):
        states = ", ".join(f"{c}: {st.value}" for c, st in sorted(others.items()))
        return Verdict(
            Status.UNKNOWN,
            reason=f"the evidence fits several releases whose states differ ({states}); which one this is decides",
        )
    return verdict


def _alternative_states(ident: Identification, ctx: IdentifyContext, as_of: date, policy: Policy) -> dict[str, Status]:
    """The states of the other products' releases the evidence also fits ("product cycle" -> status)."""
    states: dict[str, Status] = {}
    for other_product, cycle in ident.alternatives:
        other = ctx.catalog.product(other_product)
        rel = other.release(cycle) if other is not None else None
        if other is not None and rel is not None:
            states[f"{other_product} {cycle}"] = judge(rel, other, as_of, policy).status
    return states


def contract_names(ident: Identification, ctx: IdentifyContext) -> tuple[str | None, str | None]:
    """Product and cycle as the ``eol identify`` contract names them: endoflife.date slugs only.

    Our supplementary catalogue (Flash, Reader, Visual C++ 2005-2013, Office 2003...) fills gaps
    endoflife.date leaves.  Its verdicts stay (status, date, rule and reason say which entry
    decided), but a product or cycle that exists only there is not an endoflife.date release, so
    the contract reports it as null rather than inventing a slug other tools would not know.
    A trust's own site-catalogue products are reported as they are: the caller asked for them.
    """
    if ident.product is None:
        return None, None
    product = ctx.catalog.product(ident.product)
    if product is None:
        return ident.product, ident.cycle
    if product.source == "supplementary":
        return None, None
    if ident.cycle is not None:
        release = product.release(ident.cycle)
        if release is not None and release.source == "supplementary":
            return ident.product, None
    return ident.product, ident.cycle


def evaluate(record: Any, ctx: IdentifyContext, as_of: date, policy: Policy) -> dict[str, Any]:
    """One ``eol identify`` output object for one input record (the CLI contract)."""
    if not isinstance(record, dict):
        return {"error": "each line must be a JSON object"}
    kind = record.get("kind")
    if kind not in ("os", "software"):
        return {"error": f"field 'kind' must be 'os' or 'software', got {kind!r}"}
    record = with_host_os(normalize_record(record), ctx)
    ident = ctx.identify(record)
    verdict = verdict_for(ident, ctx, as_of, policy)
    if kind == "software" and record.get("host_os_product"):
        verdict = os_component_verdict(
            ident,
            verdict,
            str(record.get("host_os_product") or ""),
            str(record.get("host_os_cycle") or ""),
            ctx,
            as_of,
            policy,
        )
    reason = _reason(ident, verdict)
    product_out, cycle_out = contract_names(ident, ctx)
    if (product_out, cycle_out) != (ident.product, ident.cycle):
        reason += (
            f" [{ident.product}:{ident.cycle or '-'} is a legacyscan supplementary entry, not an "
            "endoflife.date release, so product/cycle are reported as null]"
        )
    return {
        "product": product_out,
        "cycle": cycle_out,
        "status": verdict.status.value,
        "eol": verdict.eol.isoformat() if verdict.eol else None,
        "rule": ident.rule,
        "reason": reason.replace("\n", " "),
    }


def _reason(ident: Identification, verdict: Verdict) -> str:
    """The identification's reason and the verdict's, once each."""
    if verdict.status is Status.UNKNOWN and ident.product is None:
        return ident.reason
    if verdict.reason.startswith(ident.reason):
        return verdict.reason
    return f"{ident.reason}; {verdict.reason}" if verdict.reason else ident.reason
