"""Installed applications (Windows Add/Remove Programs, MSIX/AppX, macOS bundles) -> product + cycle.

Why this module looks the way it does:

* Windows Uninstall entries carry no identifiers endoflife.date knows (eol-data.md §7, §12.8), so the
  mapping from DisplayName/Publisher to a product is our own table, kept as data in
  ``eol_data/rules/windows_apps.toml`` where it can be reviewed and extended without code.
* The cycle cannot be read off the version with one rule: Java registers ``8.0.4510.9`` for 8u451,
  Office 2016-2024 all say 16.0, SQL Server cycles are service-pack levels, IE 10/11 report
  ``9.10``/``9.11``, IE 11's support depends on the host OS.  Each such version family is one
  small "scheme" function below; the rules name the scheme.
* A wrong "eol" is worse than "unknown": anything not matched, ambiguous (Office 16.0 without a
  year, IE 11 on a build shared by client/LTSC/server) or newer than the dataset stays unknown.
* Patch entries (KB, "Update for", ParentKeyName, ReleaseType) are not products.  SystemComponent=1
  entries are still identified when a rule matches (MSI suites such as Office register their
  components that way) and always carry a ``group`` so the matcher folds them into one finding.

Optional record fields beyond the ``eol identify`` contract: ``host_os_product`` and
``host_os_cycle`` (the host's own identification) choose the IE 11 channel when present.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eol_data.catalog import Product
from eol_data.rules import Rules, RulesError
from scanner.identify.context import Knowledge
from scanner.identify.versions import numeric_parts, pick_cycle
from scanner.model import Confidence, Identification

TABLE = "windows_apps"

_MARKS = re.compile(r"\((?:tm|r|c)\)|[\u2122\u00ae\u00a9]", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_AGENT_DUP = re.compile(r"_\d+$")  # macOS inventory agents suffix duplicate bundle names with _0, _1
_LEAD_NUM = re.compile(r"^v?(\d+(?:\.\d+)*)")


class WindowsAppsRulesError(ValueError):
    """A rule in windows_apps.toml (or a site rule) is malformed; the message names it."""


@dataclass(slots=True, frozen=True)
class Rule:
    id: str
    name: re.Pattern[str]
    product: str  # "" = deliberately not a product
    scheme: str
    reason: str
    not_name: re.Pattern[str] | None = None
    publisher: re.Pattern[str] | None = None
    sources: frozenset[str] = frozenset()
    version_match: re.Pattern[str] | None = None
    version_required: bool = False
    version_from: str = "version_or_name"
    cycle: str = ""
    cycle_map: dict[str, str] = field(default_factory=dict)
    group: str = ""
    confidence: Confidence = Confidence.HIGH
    allow_patch: bool = False


@dataclass(slots=True)
class RuleSet:
    rules: list[Rule]
    patch_names: list[re.Pattern[str]]
    release_types: frozenset[str]
    tables: dict[str, Any]


@dataclass(slots=True, frozen=True)
class Record:
    """The typed facts of a software record: the fields a rule looks at, cleaned once by its
    adapter (``clean_record``), never changed after."""

    name: str
    version: str
    publisher: str
    source: str
    system_component: bool
    parent_key_name: str
    release_type: str
    host_product: str
    host_cycle: str

    def evidence(self) -> tuple[tuple[str, str], ...]:
        out = [("name", self.name)]
        if self.version:
            out.append(("version", self.version))
        if self.publisher:
            out.append(("publisher", self.publisher))
        return tuple(out)


# -- rule loading -------------------------------------------------------------------------------


def _regex(rule_id: str, key: str, value: Any) -> re.Pattern[str] | None:
    if value in (None, ""):
        return None
    try:
        return re.compile(str(value), re.IGNORECASE)
    except re.error as exc:
        raise WindowsAppsRulesError(f"{TABLE} rule {rule_id!r}: bad regex in {key!r}: {exc}") from exc


def compile_rule(raw: dict[str, Any]) -> Rule:
    """One ``[[rule]]`` table -> Rule; a clear error names the rule and the key."""
    rule_id = str(raw.get("id") or "")
    if not rule_id:
        raise WindowsAppsRulesError(f"{TABLE}: a rule has no 'id': {raw!r}")
    name = _regex(rule_id, "name", raw.get("name"))
    if name is None:
        raise WindowsAppsRulesError(f"{TABLE} rule {rule_id!r}: 'name' regex is required")
    if "product" not in raw:
        raise WindowsAppsRulesError(f"{TABLE} rule {rule_id!r}: 'product' is required ('' = not a product)")
    product = str(raw["product"])
    return Rule(
        id=rule_id,
        name=name,
        product=product,
        scheme=_rule_scheme(rule_id, raw, product),
        reason=_text(raw, "reason", rule_id),
        not_name=_regex(rule_id, "not_name", raw.get("not_name")),
        publisher=_regex(rule_id, "publisher", raw.get("publisher")),
        sources=frozenset(str(s).lower() for s in _given(raw, "sources", ())),
        version_match=_regex(rule_id, "version_match", raw.get("version_match")),
        version_required=bool(raw.get("version_required")),
        version_from=_rule_version_from(rule_id, raw),
        cycle=_text(raw, "cycle", ""),
        cycle_map={str(k).lower(): str(v) for k, v in _given(raw, "cycle_map", {}).items()},
        group=_text(raw, "group", ""),
        confidence=_rule_confidence(rule_id, raw),
        allow_patch=bool(raw.get("allow_patch")),
    )


def _given(raw: dict[str, Any], key: str, default: Any) -> Any:
    """``raw[key]`` unless it is missing, null or empty."""
    return raw.get(key) or default


def _text(raw: dict[str, Any], key: str, default: str) -> str:
    return str(raw.get(key) or default)


def _rule_scheme(rule_id: str, raw: dict[str, Any], product: str) -> str:
    scheme = _text(raw, "scheme", "prefix" if product else "none")
    if scheme not in SCHEMES:
        raise WindowsAppsRulesError(
            f"{TABLE} rule {rule_id!r}: unknown scheme {scheme!r}; expected one of {', '.join(sorted(SCHEMES))}"
        )
    return scheme


def _rule_confidence(rule_id: str, raw: dict[str, Any]) -> Confidence:
    try:
        return Confidence(_text(raw, "confidence", "high"))
    except ValueError as exc:
        raise WindowsAppsRulesError(f"{TABLE} rule {rule_id!r}: bad confidence {raw.get('confidence')!r}") from exc


def _rule_version_from(rule_id: str, raw: dict[str, Any]) -> str:
    version_from = _text(raw, "version_from", "version_or_name")
    if version_from not in ("version", "name", "version_or_name", "name_or_version"):
        raise WindowsAppsRulesError(f"{TABLE} rule {rule_id!r}: bad version_from {version_from!r}")
    return version_from


def ruleset(rules: Rules) -> RuleSet:
    """Compiled rules for a Rules object (site rules first), made once and kept with it
    (``Rules.derived``; site rules added later drop it)."""
    return rules.derived("windows_apps.ruleset", _build_ruleset)


def _build_ruleset(rules: Rules) -> RuleSet:
    try:
        table = rules.table(TABLE)
    except RulesError as exc:  # checked when it loads: the message names the file, line and rule
        raise WindowsAppsRulesError(str(exc)) from exc
    return _compile_ruleset(rules.extra(TABLE), table)


def _compile_ruleset(extra: list[dict[str, Any]], table: dict[str, Any]) -> RuleSet:
    """Site rules (``extra``) first, then the bundled table's rules, patch patterns and tables."""
    compiled = [compile_rule(r) for r in extra] + [compile_rule(r) for r in _given(table, "rule", [])]
    patch = _given(table, "patch", {})
    return RuleSet(
        rules=compiled,
        patch_names=[p for p in (_regex("patch", "name", n) for n in _given(patch, "name", [])) if p is not None],
        release_types=frozenset(str(t).lower() for t in _given(patch, "release_types", [])),
        tables={k: v for k, v in table.items() if k not in ("rule", "patch")},
    )


# -- record cleaning ----------------------------------------------------------------------------


def _clean(value: Any) -> str:
    text = str(value or "")
    if not text:
        return ""
    text = _MARKS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value or "").strip().lower()
    if text.startswith("dword:"):
        try:
            return int(text[6:], 16) != 0
        except ValueError:
            return False
    return text in ("1", "true", "yes")


def clean_record(record: dict[str, Any]) -> Record:
    source = str(record.get("source") or "windows-registry").lower()
    name = _clean(record.get("name"))
    if source == "macos-app":
        name = _AGENT_DUP.sub("", name)
    version = _clean(record.get("version"))
    return Record(
        name=name,
        version=version,
        publisher=_clean(record.get("publisher")),
        source=source,
        system_component=_flag(record.get("system_component")),
        parent_key_name=_clean(record.get("parent_key_name")),
        release_type=_clean(record.get("release_type")).lower(),
        host_product=str(record.get("host_os_product") or "").lower(),
        host_cycle=str(record.get("host_os_cycle") or "").lower(),
    )


# -- the identifier -----------------------------------------------------------------------------


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    rs = ruleset(ctx.rules)
    rec = clean_record(record)
    if not rec.name:
        return Identification(None, None, "windows_apps.no-name", "the record has no display name")
    patch_why = _patch_reason(rec, rs)
    for rule in rs.rules:
        if patch_why and not rule.allow_patch:
            continue
        m = _match(rule, rec)
        if m is None:
            continue
        if not rule.product:
            return Identification(None, None, f"windows_apps.{rule.id}", rule.reason, rule.confidence, rec.evidence())
        return _apply(rule, m, rec, ctx, rs)
    if patch_why:
        return Identification(None, None, "windows_apps.patch-entry", patch_why, Confidence.HIGH, rec.evidence())
    if rec.system_component:
        return Identification(
            None,
            None,
            "windows_apps.system-component",
            "SystemComponent=1 (hidden in Add/Remove Programs) and no rule ties it to a tracked "
            "product: a component, not a product",
            Confidence.HIGH,
            rec.evidence(),
        )
    return Identification(
        None,
        None,
        "windows_apps.no-rule",
        "no identification rule for this application (not a tracked product)",
        Confidence.HIGH,
        rec.evidence(),
    )


def _patch_reason(rec: Record, rs: RuleSet) -> str:
    if rec.parent_key_name:
        return f"patch/update entry (ParentKeyName={rec.parent_key_name}): part of its parent, not a product"
    if rec.release_type and rec.release_type in rs.release_types:
        return f"patch/update entry (ReleaseType={rec.release_type}): not a separately installed product"
    for pat in rs.patch_names:
        if pat.search(rec.name):
            return "patch/update entry (KB / update / hotfix name): not a separately installed product"
    return ""


def _match(rule: Rule, rec: Record) -> re.Match[str] | None:
    if rule.sources and rec.source not in rule.sources:
        return None
    m = rule.name.search(rec.name)
    if m is None or not _admits(rule, rec):
        return None
    return m


def _admits(rule: Rule, rec: Record) -> bool:
    """The rule's other conditions, once its name pattern matched: not_name, publisher, version."""
    if rule.not_name is not None and rule.not_name.search(rec.name):
        return False
    if rule.publisher is not None and rec.publisher and not rule.publisher.search(rec.publisher):
        return False
    if not rec.version:
        return not rule.version_required
    return rule.version_match is None or rule.version_match.search(rec.version) is not None


@dataclass(slots=True)
class Answer:
    """What a scheme decided: a cycle (or None) and why."""

    cycle: str | None
    note: str = ""
    newer: bool = False
    confidence: Confidence | None = None
    line: str = ""
    not_a_product: bool = False  # the scheme found the record cannot be judged by a date


def _apply(rule: Rule, m: re.Match[str], rec: Record, ctx: Knowledge, rs: RuleSet) -> Identification:
    product = ctx.catalog.product(rule.product)
    if product is None:
        return Identification(
            None,
            None,
            f"windows_apps.{rule.id}",
            f"{rule.reason}; product {rule.product!r} is not in the dataset",
            Confidence.LOW,
            rec.evidence(),
        )
    answer = SCHEMES[rule.scheme](rule, m, rec, product, rs.tables)
    rule_id = f"windows_apps.{rule.id}"
    reason = rule.reason + (f"; {answer.note}" if answer.note else "")
    confidence = answer.confidence or rule.confidence
    unjudged = _unjudged(answer, product, rs, reason)
    if unjudged is not None:
        return Identification(None, None, rule_id, unjudged, confidence, rec.evidence())
    if rec.system_component and rule.group:
        reason += " (SystemComponent=1: a hidden component of the installed product)"
    group = _group(rule, answer, product)
    if answer.cycle is not None and product.release(answer.cycle) is None:
        # A scheme named a cycle the dataset lacks: honest unknown, never a neighbour.
        return Identification(
            product.name,
            None,
            rule_id,
            f"{reason}; cycle {answer.cycle!r} not in the dataset",
            Confidence.LOW,
            rec.evidence(),
            group,
        )
    return Identification(product.name, answer.cycle, rule_id, reason, confidence, rec.evidence(), group, answer.newer)


def _unjudged(answer: Answer, product: Product, rs: RuleSet, reason: str) -> str | None:
    """Why the record is not reported as the product (not a product by date, or a supplementary
    product whose reporting is switched off); None when it is."""
    if answer.not_a_product:
        return reason
    if _supplementary_off(product, rs):
        return (
            f"{reason}; not in endoflife.date (supplementary {product.name} "
            f"{answer.cycle or ''} applies; reporting switched off)"
        )
    return None


def _supplementary_off(product: Product, rs: RuleSet) -> bool:
    """A supplementary product (not in endoflife.date) while the tables switch their reporting off."""
    return product.source == "supplementary" and not _given(rs.tables, "supplementary", {}).get("report", True)


def _group(rule: Rule, answer: Answer, product: Product) -> str | None:
    """The finding group the rule names ({cycle}, {product}, {line} filled in), if any."""
    if not rule.group:
        return None
    cycle = answer.cycle or "unknown"
    return rule.group.format(cycle=cycle, product=product.name, line=answer.line or cycle)


# -- version helpers ----------------------------------------------------------------------------


def _named(m: re.Match[str], key: str) -> str:
    try:
        return (m.group(key) or "").strip()
    except IndexError:
        return ""


def _version_text(rule: Rule, m: re.Match[str], rec: Record) -> str:
    in_name = _named(m, "v")
    if rule.version_from == "version":
        return rec.version
    if rule.version_from == "name":
        return in_name
    if rule.version_from == "name_or_version":
        return in_name or rec.version
    return rec.version or in_name


def _lead(version: str) -> str:
    lm = _LEAD_NUM.match(version.strip().lower())
    return lm.group(1) if lm else ""


def _by_prefix(product: Product, version: str) -> Answer:
    lead = _lead(version)
    if not lead:
        return Answer(None, "no usable version")
    rel, newer = pick_cycle(product, lead)
    if rel is not None:
        return Answer(rel.name)
    if newer:
        return Answer(None, f"version {lead} is newer than every cycle in the dataset", newer=True)
    return Answer(None, f"version {lead} predates or is missing from the dataset's cycles")


def _exact_or_newer(product: Product, cycle: str, key: tuple[int, ...]) -> Answer:
    if product.release(cycle) is not None:
        return Answer(cycle)
    numeric = [tuple(numeric_parts(r.name)) for r in product.releases if re.fullmatch(r"[\d.]+", r.name)]
    if numeric and key and all(key > k for k in numeric):
        return Answer(None, f"release {cycle} is newer than every cycle in the dataset", newer=True)
    return Answer(None, f"release {cycle} is not in the dataset")


# -- schemes: one per version family ------------------------------------------------------------

Scheme = Callable[[Rule, "re.Match[str]", Record, Product, dict[str, Any]], Answer]


def scheme_none(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    return Answer(None, not_a_product=True)


def scheme_prefix(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """endoflife.date's own rule: the cycle is a prefix of the version at a component boundary."""
    return _by_prefix(product, _version_text(rule, m, rec))


def scheme_unknown_release(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """The product is certain but the version field does not name its release (the Chrome
    enterprise MSI's encoded ProductVersion): report the product with no cycle rather than guess."""
    return Answer(None, "the version field does not name a release")


def scheme_fixed(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    return Answer(rule.cycle or None)


def scheme_name_cycle(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    text = _named(m, "cycle").lower()
    return Answer(rule.cycle_map.get(text, text) or None)


def java_major(text: str) -> int | None:
    """``1.8.0_451`` -> 8, ``8.0.4510.9`` -> 8, ``25.0.2`` -> 25, ``8u392-b08`` -> 8, ``1.4.2`` -> None."""
    parts = numeric_parts(text.replace("_", ".").replace("u", ".").replace("+", "."))
    if not parts:
        return None
    if parts[0] == 1 and len(parts) > 1:
        return parts[1] if parts[1] >= 5 else None
    return parts[0]


def _java_legacy(product: Product, version: str) -> Answer:
    """Legacy 1.x numbering (1.4 and older): the cycle is "1.4" as is."""
    legacy = ".".join(str(p) for p in numeric_parts(version)[:2])
    return _exact_or_newer(product, legacy, numeric_parts(legacy))


def _java_major_in_name(major_txt: str, in_name: str) -> int | None:
    if major_txt.isdecimal():
        return int(major_txt)
    return java_major(in_name) if in_name else None


def scheme_java(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """Java: the cycle is the feature release; legacy 1.x numbering keeps 1.4 and older as is."""
    major_txt = _named(m, "major")
    in_name = _named(m, "v")
    if in_name.startswith("1.") and java_major(in_name) is None:
        return _java_legacy(product, in_name)
    major = _java_major_in_name(major_txt, in_name)
    if major is None and rec.version:
        if rec.version.startswith("1.") and java_major(rec.version) is None:
            return _java_legacy(product, rec.version)
        major = java_major(rec.version)
    return _java_release(product, major)


def _java_release(product: Product, major: int | None) -> Answer:
    if major is None:
        return Answer(None, "no Java feature version in name or version")
    if major == 2 and product.name == "oracle-jdk":  # "Java 2" = the J2SE brand, not a release
        return Answer(None, '"Java 2" brand without a release number')
    return _exact_or_newer(product, str(major), (major,))


def _office_of_year(office: dict[str, Any], year: str, name: str) -> Answer:
    if "ltsc" in name.lower() and year in (office.get("ltsc_years") or {}):
        return Answer(str(office["ltsc_years"][year]))
    cycle = (office.get("years") or {}).get(year)
    return Answer(str(cycle)) if cycle else Answer(None, f"Office {year} has no cycle")


def scheme_office(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """Office: the year in the name decides (16.0 is shared by 2016-2024); else 12/14/15.0 majors."""
    office = t.get("office") or {}
    year = _named(m, "year")
    if year:
        return _office_of_year(office, year, rec.name)
    parts = numeric_parts(rec.version)
    if parts:
        cycle = (office.get("majors") or {}).get(str(parts[0]))
        if cycle:
            return Answer(str(cycle), f"release from version {rec.version}", confidence=Confidence.MEDIUM)
    return Answer(None, "no year in the name and version 16.0 is shared by Office 2016/2019/2021/2024")


def scheme_office_mac(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    parts = numeric_parts(rec.version)
    majors = (t.get("office") or {}).get("mac_majors") or {}
    if parts:
        cycle = majors.get(str(parts[0]))
        if parts[0] == 16 and len(parts) > 1 and parts[1] <= 16:
            cycle = majors.get("15")
        if cycle:
            return Answer(str(cycle))
    return Answer(
        None, "Office for Mac 16.17+ is 2019/2021/2024 or Microsoft 365; the version cannot tell", not_a_product=True
    )


def _mssql_line(year: str, version: tuple[int, ...], t: dict[str, Any]) -> str:
    years = (t.get("mssql") or {}).get("years") or {}
    if year:
        return str(years.get(year.lower(), ""))
    if len(version) >= 2:
        if version[0] == 10 and version[1] >= 50:
            return "10.50"
        return f"{version[0]}.0"
    return ""


def _mssql_levels(t: dict[str, Any], line: str) -> list[Any] | None:
    """The line's (first build, cycle) service-pack levels."""
    levels: list[Any] | None = ((t.get("mssql") or {}).get("levels") or {}).get(line)
    return levels


def _mssql_year_in_name(name: str) -> str:
    year_m = re.search(r"\b(2005|2008 R2|2008|2012|2014|2016|2017|2019|2022|2025)\b", name, re.IGNORECASE)
    return year_m.group(1) if year_m else ""


def scheme_mssql(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """SQL Server: line from the year (or build major), service-pack level from the build.

    With no build and no SP in the name, the newest service-pack cycle of the line is used: the
    newest level ends last, so this can only ever under-report EOL, never invent it.
    """
    year = _named(m, "year") or _mssql_year_in_name(rec.name)
    version = numeric_parts(rec.version)
    line = _mssql_line(year, version, t)
    levels = _mssql_levels(t, line)
    if not line or not levels:
        return Answer(None, "SQL Server release not recognised")
    by_sp = _mssql_level_by_sp(_mssql_service_pack(m, rec), levels, line)
    if by_sp is not None:
        return by_sp
    if bool(version) and _mssql_line("", version, t) == line and len(version) >= 3:
        return _mssql_level_by_build(version[2], levels, line)
    return _mssql_newest_level(levels, line)


def _mssql_level_by_build(build: int, levels: list[Any], line: str) -> Answer:
    chosen = str(levels[0][1])
    for first, cyc in levels:
        if build >= int(first):
            chosen = str(cyc)
    return Answer(chosen, f"build {build}", line=line)


def _mssql_newest_level(levels: list[Any], line: str) -> Answer:
    latest = str(levels[-1][1])
    if latest.endswith("-acp"):  # Azure Connect Pack is a separate build line; plain SP3 for a guess
        latest = str(levels[-2][1])
    conf = Confidence.HIGH if len(levels) == 1 else Confidence.MEDIUM
    note = "" if len(levels) == 1 else "service-pack level unknown; judged by the newest level (most generous)"
    return Answer(latest, note, confidence=conf, line=line)


def _mssql_service_pack(m: re.Match[str], rec: Record) -> int | None:
    """The service pack the rule's match or the name states ("SQL Server 2012 Service Pack 4")."""
    sp_txt = _named(m, "sp")
    if sp_txt:
        return int(sp_txt)
    sp_m = re.search(r"\b(?:Service Pack |SP)(\d)\b", rec.name, re.IGNORECASE)
    return int(sp_m.group(1)) if sp_m else None


def _mssql_level_by_sp(sp: int | None, levels: list[Any], line: str) -> Answer | None:
    if sp is None:
        return None
    for _first, cyc in levels:
        if re.search(rf"-sp{sp}$", cyc):
            return Answer(cyc, f"service pack {sp} from the name", line=line)
    if sp == 0:
        return Answer(str(levels[0][1]), line=line)
    return None


def _ie_release(rec: Record, m: re.Match[str]) -> tuple[int | None, int | None]:
    """(IE major, OS build) from the registry DisplayVersion (9.10 = IE10, 9.11 = IE11)."""
    parts = numeric_parts(rec.version)
    in_name = _named(m, "v")
    if not parts or parts[0] > 100:  # XP-era IE entries carry a date stamp (20090308.140743) as version
        return (int(in_name) if in_name.isdecimal() else None), None
    major = parts[0]
    if major == 9 and len(parts) > 1 and parts[1] in (10, 11):
        major = parts[1]
    build = parts[2] if len(parts) > 2 and parts[2] > 1000 else None
    return major, build


def _ie_channel_of_host(host_p: str, host_c: str) -> Answer | None:
    """IE 11's support channel from the host OS the record sits on (None: host unknown)."""
    if host_p.startswith("windows-server"):
        return Answer("11-server", "channel from the host OS (Windows Server)")
    if host_p == "windows-embedded":
        return Answer("11-embedded", "channel from the host OS (Windows Embedded)")
    if host_p != "windows":
        return None
    if "lts" in host_c:
        cyc = "11-ltsb" if host_c.startswith(("10-1507", "10-1607")) else "11-ltsc"
        return Answer(cyc, f"channel from the host OS ({host_c})")
    return Answer("11", f"channel from the host OS ({host_c or 'Windows client'})")


def _ie_channel_of_build(build: int, ie: dict[str, Any]) -> Answer | None:
    """IE 11's channel from an OS build that exists as only one kind of Windows."""
    if build in set(ie.get("server_only_builds") or []):
        return Answer("11-server", f"OS build {build} exists only as Windows Server")
    if build in set(ie.get("sac_client_builds") or []):
        return Answer("11", f"OS build {build} exists only as a General Availability Windows client")
    return None


def scheme_ie(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    major, build = _ie_release(rec, m)
    if major is None:
        return Answer(None, "no Internet Explorer version")
    if major != 11:
        return _exact_or_newer(product, str(major), (major,))
    by_host = _ie_channel_of_host(rec.host_product, rec.host_cycle)
    if by_host is not None:
        return by_host
    by_build = _ie_channel_of_build(build, t.get("ie") or {}) if build is not None else None
    if by_build is not None:
        return by_build
    return Answer(
        None,
        "IE 11's support channel depends on the host OS (client, LTSC, server or embedded), "
        "which this record does not say",
    )


def _dotnetfx_version(vm: re.Match[str] | None, version: str) -> tuple[tuple[int, ...], str | None, Confidence | None]:
    """(version parts, service pack, confidence): from the name when it states them, else from
    the version (medium confidence)."""
    if vm:
        return numeric_parts(vm.group(1)), vm.group(2), None
    return numeric_parts(version)[:2], None, Confidence.MEDIUM


def _dotnetfx35(sp1: bool, conf: Confidence | None) -> Answer:
    if sp1:
        return Answer("3.5-sp1", confidence=conf)
    return Answer(None, ".NET Framework 3.5 without SP1 is not in the dataset")


def scheme_dotnetfx(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    vm = re.search(
        r"(?:Framework|keretrendszer) (\d+(?:\.\d+)*)(?:\s+(?:SP|Service Pack)\s*(\d))?", rec.name, re.IGNORECASE
    )
    parts, sp, conf = _dotnetfx_version(vm, rec.version)
    if not parts:
        return Answer(None, "no .NET Framework version")
    if parts == (4,):
        parts = (4, 0)
    name = ".".join(str(p) for p in parts)
    if parts[:2] == (3, 5):
        return _dotnetfx35(sp == "1" or (vm is None and rec.version.startswith("3.5.30729")), conf)
    if product.release(name) is not None:
        return Answer(name, confidence=conf)
    return (
        _exact_or_newer(product, name, parts)
        if parts[0] >= 4
        else Answer(None, f".NET Framework {name} predates the dataset's cycles")
    )


def scheme_dotnet(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    vm = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", rec.name)
    parts = numeric_parts(vm.group(1)) if vm else numeric_parts(rec.version)
    if not parts:
        return Answer(None, "no .NET version")
    first_major_only = int((t.get("dotnet") or {}).get("first_major_only") or 5)
    if parts[0] >= first_major_only:
        return _exact_or_newer(product, str(parts[0]), (parts[0],))
    if len(parts) < 2:
        return Answer(None, "no .NET Core minor version")
    return _exact_or_newer(product, f"{parts[0]}.{parts[1]}", parts[:2])


def _acrobat_track_in_name(name: str) -> Answer | None:
    """A Classic track the name states: a year (2015, 2017, 2020), XI or X."""
    ym = re.search(r"\b(2015|2017|2020)\b", name)
    if ym:
        return Answer(ym.group(1))
    if re.search(r"\bXI\b", name):
        return Answer("11")
    if re.search(r"\bX\b", name):
        return Answer("10")
    return None


def _acrobat_major_in_name(name: str) -> int | None:
    in_name = re.search(r"\b(\d{1,2})(?:\.\d+)*\b", name)
    return int(in_name.group(1)) if in_name else None


def scheme_acrobat(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """Acrobat/Reader: Classic tracks (XI, 2015, 2017, 2020) have end dates; DC/Continuous is judged
    by currency (only the latest build is patched), so it is reported as not judgeable by date."""
    name = rec.name
    if re.search(r"\bDC\b|Continuous", name, re.IGNORECASE):
        return Answer(
            None, "Continuous (DC) track: only the current release is supported; check currency", not_a_product=True
        )
    named = _acrobat_track_in_name(name)
    if named is not None:
        return named
    parts = numeric_parts(rec.version)
    major = parts[0] if parts else _acrobat_major_in_name(name)
    if major is None:
        return Answer(None, "no Acrobat/Reader version", not_a_product=True)
    if major <= 11:
        return Answer("11") if major == 11 else Answer("10", f"version {major} is X or older")
    return _acrobat_track_of_build(major, parts)


def _acrobat_track_of_build(major: int, parts: tuple[int, ...]) -> Answer:
    """2015/2017/2020 Classic builds have 3xxxx build numbers; the rest is the Continuous track."""
    classic = {15: "2015", 17: "2017", 20: "2020"}
    if major in classic and len(parts) > 2 and parts[2] >= 30000:
        return Answer(classic[major], "Classic-track build (3xxxx build numbers)")
    return Answer(
        None, "Continuous-track build: only the current release is supported; check currency", not_a_product=True
    )


def scheme_vcredist(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    vc = t.get("vcredist") or {}
    year = _named(m, "year")
    if year in set(vc.get("v14_years") or []):
        return Answer(
            None,
            "v14 (2015-2022+) runtime: one cumulative line, supported only while current; check the build, not a date",
            not_a_product=True,
        )
    cycle = (vc.get("years") or {}).get(year)
    if cycle:
        return Answer(str(cycle))
    parts = numeric_parts(rec.version)
    if parts:
        cycle = (vc.get("majors") or {}).get(str(parts[0]))
        if cycle:
            return Answer(str(cycle), confidence=Confidence.MEDIUM)
    return Answer(None, "Visual C++ release not recognised", not_a_product=True)


def scheme_silverlight(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    parts = numeric_parts(rec.version)
    if not parts:
        return Answer("5", "no version: every Silverlight release has ended", confidence=Confidence.MEDIUM)
    return Answer("5" if parts[0] >= 5 else "4-and-older")


def _nvidia_branches(product: Product, suffix: str) -> list[tuple[int, str]]:
    """(branch number, cycle) of every ``rBBB<suffix>`` cycle of the product."""
    branches: list[tuple[int, str]] = []
    for rel in product.releases:
        bm = re.fullmatch(rf"r(\d+){re.escape(suffix)}", rel.name)
        if bm:
            branches.append((int(bm.group(1)), rel.name))
    return branches


def scheme_nvidia(rule: Rule, m: re.Match[str], rec: Record, product: Product, t: dict[str, Any]) -> Answer:
    """NVIDIA driver NNN.xx -> branch rBBB (BBB <= NNN < BBB + span) of the Windows cycles."""
    nv = t.get("nvidia") or {}
    span = int(nv.get("span") or 5)
    suffix = str(nv.get("suffix") or "-windows")
    parts = numeric_parts(rec.version) or numeric_parts(_named(m, "v"))
    if not parts:
        return Answer(None, "no driver version")
    drv = parts[0]
    branches = _nvidia_branches(product, suffix)
    if not branches:
        return Answer(None, "no driver branches in the dataset")
    return _nvidia_branch(drv, branches, span)


def _nvidia_branch(drv: int, branches: list[tuple[int, str]], span: int) -> Answer:
    for branch, name in sorted(branches, reverse=True):
        if branch <= drv < branch + span:
            return Answer(name, f"driver {drv} is branch R{branch}")
    if drv > max(b for b, _ in branches) + span:
        return Answer(None, f"driver {drv} is newer than every branch in the dataset", newer=True)
    return Answer(None, f"driver {drv} belongs to no branch in the dataset")


SCHEMES: dict[str, Scheme] = {
    "none": scheme_none,
    "prefix": scheme_prefix,
    "fixed": scheme_fixed,
    "unknown_release": scheme_unknown_release,
    "name_cycle": scheme_name_cycle,
    "java": scheme_java,
    "office": scheme_office,
    "office_mac": scheme_office_mac,
    "mssql": scheme_mssql,
    "ie": scheme_ie,
    "dotnetfx": scheme_dotnetfx,
    "dotnet": scheme_dotnet,
    "acrobat": scheme_acrobat,
    "vcredist": scheme_vcredist,
    "silverlight": scheme_silverlight,
    "nvidia": scheme_nvidia,
}
