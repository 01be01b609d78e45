"""JSON report: the whole view model, machine-readable (schema documented in docs/report-json.md).

Stable keys: ``schema``, ``as_of``, ``dataset_version``, ``tool_version``, ``sites[].site``,
``sites[].hosts[].hostname``, ``sites[].hosts[].os`` and ``sites[].hosts[].findings[]`` (others
rely on them).  Everything else was added under new keys; consumers must ignore unknown keys.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date
from typing import IO, Any, NotRequired, TypedDict

from reports.common import iso
from scanner.model import FindingJson, FindingReleaseJson
from scanner.plan.actions import Action, EsuLine, ExtendedCost
from scanner.plan.priority import Score, ScoreJson
from scanner.plan.readiness import ReadinessJson
from scanner.report.model import (
    EstateReport,
    Evidence,
    EvidenceCoverage,
    EvidenceScope,
    ExtendedSupportRow,
    FindingRow,
    HostRow,
    KpiChange,
    KpiFigures,
    PlanRow,
    PriorityWeights,
    ProductRollup,
    RegisterRow,
    RoadmapRow,
    SiteReport,
    UnsupportedItem,
    round2,
)

SCHEMA = "legacyscan-report/1"


# The document's shape (docs/report-json.md): each section a TypedDict, its keys in the order they
# are written, so mypy checks every key a writer function fills against the schema.  A finding
# (``os``, ``findings[]``) is ``FindingJson`` (``scanner.model``: the finding's own keys) with the
# report's priority, band and exception added; a score and a readiness are their modules' shapes.
class ExceptionRefJson(TypedDict):
    id: str
    state: str  # accepted | exception expired | exception not yet in force
    expires: str


class ReportFindingJson(FindingJson):
    """``FINDING`` of docs/report-json.md: the finding's keys, then the report's."""

    priority: ScoreJson
    band: str
    exception: ExceptionRefJson | None


class HostMarks(TypedDict, total=False):
    """The keys only a host no agent or probe inventoried carries (docs/discovery.md)."""

    discovered: bool
    source: str


class ActionJson(TypedDict):
    kind: str
    text: str
    clears: str
    cost: float | None
    currency: str


class EsuJson(TypedDict):
    key: str
    name: str
    year: int
    cost: float | None
    entitled: bool


class ExtendedLineJson(TypedDict):
    product: str | None
    cycle: str | None
    release: str
    entitlement: str
    reference: str | None
    cost_per_year: float
    currency: str
    until: str | None
    basis: str
    source: str


class HostJson(TypedDict):
    hostname: str
    host_key: str
    discovered: NotRequired[bool]
    source: NotRequired[str]
    collected_at: str
    worst: str
    unidentified_packages: int
    tags: list[str]
    hardware: str
    cpu: str
    stale: bool
    os: ReportFindingJson | None
    findings: list[ReportFindingJson]
    priority: ScoreJson
    band: str
    action: ActionJson
    win11_readiness: ReadinessJson | None
    esu: EsuJson | None
    extended_support: list[ExtendedLineJson]
    extended_cost_per_year: float | None
    due: str | None
    scheduled_financial_year: str | None


class SiteCoverageJson(TypedDict):
    target: str
    status: str
    error: str
    at: str
    last_ok_at: str


class SiteJson(TypedDict):
    site: str
    counts: dict[str, int]
    kpis: KpiFigures
    kpi_change: KpiChange
    hosts: list[HostJson] | str  # ``write`` puts a placeholder string here while it streams the devices
    coverage: list[SiteCoverageJson]


class ProductJson(TypedDict):
    product: str
    cycle: str
    name: str
    kind: str
    status: str
    eol: str | None
    devices: int
    sites: list[str]
    accepted_devices: int
    top_priority: float
    extended_until: str | None
    phase: str | None
    summary: str


class PlanJson(TypedDict):
    site: str
    financial_year: str
    devices: int
    actions: dict[str, int]
    cost: float | None
    costed_devices: int
    overdue_devices: int
    deferred_devices: int
    extended_cost_per_year: float | None
    extended_devices: int


class ExtendedSupportJson(TypedDict):
    site: str
    entitlement: str
    reference: str | None
    releases: list[str]
    devices: int
    basis: str
    source: str
    currency: str
    cost_per_year: float
    until: str | None
    actions_cost: float | None
    actions_costed_devices: int
    years_equal_to_actions: float | None
    summary: str


class RoadmapJson(TypedDict):
    period: str
    financial_year: str | None
    product: str
    cycle: str
    name: str
    eol: str | None
    devices: int
    sites: list[str]
    status: str
    extended_until: str | None
    phase: str | None
    action_devices: int
    costed_devices: int
    cost: float | None


class ExceptionScopeJson(TypedDict):
    host: str
    site: str
    tag: str
    product: str
    cycle: str


class RegisterJson(TypedDict):
    id: str
    state: str
    scope: ExceptionScopeJson
    category: str
    justification: str
    compensating_controls: list[str]
    medical_device: bool
    manufacturer_ref: str
    owner: str
    approver: str
    approved_on: str
    expires: str
    risk: str
    findings: int
    devices: int
    sites: list[str]


class UnsupportedItemJson(TypedDict):
    site: str
    product: str
    cycle: str
    name: str
    status: str
    eol: str | None
    devices: int
    risk: str
    risk_score: float
    reason: str
    mitigation: str
    approval: str
    decision: str
    exception_ids: list[str]
    extended_until: str | None
    phase: str | None
    discovered_not_inventoried: NotRequired[int]
    register_not_inventoried: NotRequired[int]


class SiteCatalogJson(TypedDict):
    file: str
    sha256: str


class EvidenceJson(TypedDict):
    frameworks: list[str]
    scope: EvidenceScope
    coverage: EvidenceCoverage
    tool_version: str
    dataset_version: str
    win11_cpu_data_version: str
    exceptions_file: str | None
    config_file: str | None
    site_catalog: SiteCatalogJson | None
    b4d_statement: str
    sha256: str
    unsupported_items: list[UnsupportedItemJson]


class ReportJson(TypedDict):
    schema: str
    as_of: str
    dataset_version: str
    tool_version: str
    demo: str | None
    organisation: str | None
    dataset_date: str | None
    dataset_warning: str | None
    plan_devices_per_year: int | None
    currency: str
    previous_as_of: str | None
    kpis: KpiFigures
    kpi_change: KpiChange
    priority_weights: PriorityWeights
    sites: list[SiteJson]
    products: list[ProductJson]
    plan: list[PlanJson]
    extended_support: list[ExtendedSupportJson]
    roadmap: list[RoadmapJson]
    register: list[RegisterJson]
    evidence: EvidenceJson | None


def _finding(r: FindingRow, release: FindingReleaseJson, priority: ScoreJson) -> ReportFindingJson:
    """One finding of the report: its host, its release's keys (shared), its priority (shared)."""
    f = r.finding
    return {
        "host": f.hostname,
        "host_key": f.host_key,
        "site": f.site,
        **release,
        "priority": priority,
        "band": r.band,
        "exception": (
            {"id": r.exception.id, "state": r.exception_state, "expires": iso(r.exception.expires)}
            if r.exception
            else None
        ),
    }


class _Cache:
    """Thousands of findings share their release part and their score: build each dict once."""

    def __init__(self) -> None:
        self.releases: dict[tuple[object, ...], FindingReleaseJson] = {}
        self.scores: dict[int, tuple[Score, ScoreJson]] = {}

    def finding(self, r: FindingRow) -> ReportFindingJson:
        f = r.finding
        key = (
            id(f.detail),
            f.kind,
            f.name,
            f.version,
            f.product,
            f.cycle,
            f.status,
            f.eol,
            f.extended_until,
            f.count,
            f.product_label,
        )
        release = self.releases.get(key)
        if release is None:
            release = self.releases[key] = f.release_dict()
        hit = self.scores.get(id(r.score))
        if hit is None or hit[0] is not r.score:
            hit = self.scores[id(r.score)] = (r.score, r.score.to_dict())
        return _finding(r, release, hit[1])


def _host(h: HostRow, currency: str, cache: _Cache) -> HostJson:
    _finding = cache.finding
    os_row = h.os_row
    return {
        "hostname": h.name or h.hostname,
        "host_key": h.host_key,
        **_marks(h.source),
        "collected_at": h.collected_at,
        "worst": h.worst.value,
        "unidentified_packages": h.unidentified,
        "tags": h.tags,
        "hardware": h.hardware,
        "cpu": h.cpu,
        "stale": h.stale,
        "os": _finding(os_row) if os_row else None,
        "findings": [_finding(r) for r in h.rows if r.finding.kind != "os"],
        "priority": h.score.to_dict(),
        "band": h.band,
        "action": _action(h.action, currency),
        "win11_readiness": h.readiness.to_dict() if h.readiness else None,
        "esu": _esu(h.esu) if h.esu else None,
        "extended_support": [_extended_line(x) for x in h.extended],
        "extended_cost_per_year": round2(h.extended_cost),
        "due": _date(h.due),
        "scheduled_financial_year": h.scheduled or None,
    }


_INVENTORIED = HostMarks()
_DISCOVERED = HostMarks(discovered=True, source="discovered")


def _marks(source: str) -> HostMarks:
    """``discovered`` and ``source`` on a host no agent or probe inventoried (docs/discovery.md)."""
    if source == "inventory":
        return _INVENTORIED
    return _DISCOVERED if source == "discovered" else HostMarks(source=source)


def _action(a: Action, currency: str) -> ActionJson:
    return {"kind": a.kind, "text": a.text, "clears": a.clears, "cost": a.cost, "currency": currency}


def _esu(e: EsuLine) -> EsuJson:
    return {"key": e.key, "name": e.name, "year": e.year, "cost": e.cost, "entitled": e.entitled}


def _extended_line(x: ExtendedCost) -> ExtendedLineJson:
    return {
        "product": x.finding.product,
        "cycle": x.finding.cycle,
        "release": x.release,
        "entitlement": x.entitlement,
        "reference": x.reference or None,
        "cost_per_year": round(x.yearly, 2),
        "currency": x.currency,
        "until": _date(x.until),
        "basis": x.basis,
        "source": x.source,
    }


def _date(d: date | None) -> str | None:
    """An ISO date, or None (JSON null)."""
    return d.isoformat() if d else None


def _site_dict(
    site: SiteReport, i: int, report: EstateReport, cache: _Cache, hosts: Callable[[int, SiteReport], str] | None
) -> SiteJson:
    return {
        "site": site.site,
        "counts": site.counts(),
        "kpis": site.kpis.numbers(),
        "kpi_change": site.kpi_change,
        "hosts": hosts(i, site) if hosts else [_host(h, report.currency, cache) for h in site.hosts],
        "coverage": [
            {"target": s.target, "status": s.status, "error": s.error, "at": s.at, "last_ok_at": s.last_ok_at}
            for s in site.statuses
        ],
    }


def _product(p: ProductRollup) -> ProductJson:
    return {
        "product": p.product,
        "cycle": p.cycle,
        "name": p.name,
        "kind": p.kind,
        "status": p.status.value,
        "eol": _date(p.eol),
        "devices": p.devices,
        "sites": p.sites,
        "accepted_devices": p.accepted_devices,
        "top_priority": round(p.top_score, 1),
        "extended_until": _date(p.extended_until),
        "phase": p.phase or None,
        "summary": p.sentence(),
    }


def _plan(p: PlanRow) -> PlanJson:
    return {
        "site": p.site,
        "financial_year": p.financial_year,
        "devices": p.devices,
        "actions": p.actions,
        "cost": round(p.cost, 2) if p.cost is not None else None,
        "costed_devices": p.costed_devices,
        "overdue_devices": p.overdue,
        "deferred_devices": p.deferred,
        "extended_cost_per_year": round(p.extended_per_year, 2) if p.extended_devices else None,
        "extended_devices": p.extended_devices,
    }


def _extended(x: ExtendedSupportRow, currency: str) -> ExtendedSupportJson:
    return {
        "site": x.site,
        "entitlement": x.entitlement,
        "reference": x.reference or None,
        "releases": x.releases,
        "devices": x.devices,
        "basis": x.basis,
        "source": x.source,
        "currency": x.currency,
        "cost_per_year": x.per_year,
        "until": _date(x.until),
        "actions_cost": x.action_cost if x.action_costed else None,
        "actions_costed_devices": x.action_costed,
        "years_equal_to_actions": x.replace_years if x.currency == currency else None,
        "summary": x.sentence(currency),
    }


def _roadmap(r: RoadmapRow) -> RoadmapJson:
    return {
        "period": r.period,
        "financial_year": r.financial_year or None,
        "product": r.product,
        "cycle": r.cycle,
        "name": r.name,
        "eol": _date(r.eol),
        "devices": r.devices,
        "sites": r.sites,
        "status": r.status.value,
        "extended_until": _date(r.extended_until),
        "phase": r.phase or None,
        "action_devices": r.action_devices,
        "costed_devices": r.costed_devices,
        "cost": round(r.cost, 2) if r.cost is not None else None,
    }


def _register(r: RegisterRow) -> RegisterJson:
    return {
        "id": r.exception.id,
        "state": r.state,
        "scope": {
            "host": r.exception.host,
            "site": r.exception.site,
            "tag": r.exception.tag,
            "product": r.exception.product,
            "cycle": r.exception.cycle,
        },
        "category": r.exception.category,
        "justification": r.exception.justification,
        "compensating_controls": list(r.exception.compensating_controls),
        "medical_device": r.exception.medical_device,
        "manufacturer_ref": r.exception.manufacturer_ref,
        "owner": r.exception.owner,
        "approver": r.exception.approver,
        "approved_on": iso(r.exception.approved_on),
        "expires": iso(r.exception.expires),
        "risk": r.exception.risk,
        "findings": r.findings,
        "devices": r.devices,
        "sites": r.sites,
    }


def _item(i: UnsupportedItem) -> UnsupportedItemJson:
    item: UnsupportedItemJson = {
        "site": i.site,
        "product": i.product,
        "cycle": i.cycle,
        "name": i.name,
        "status": i.status.value,
        "eol": _date(i.eol),
        "devices": i.devices,
        "risk": i.risk,
        "risk_score": round(i.risk_score, 1),
        "reason": i.reason,
        "mitigation": i.mitigation,
        "approval": i.approval,
        "decision": i.decision,
        "exception_ids": i.exception_ids,
        "extended_until": _date(i.extended_until),
        "phase": i.phase or None,
    }
    if i.discovered:
        item["discovered_not_inventoried"] = i.discovered
    if i.not_inventoried > i.discovered:
        item["register_not_inventoried"] = i.not_inventoried - i.discovered
    return item


def _evidence(ev: Evidence | None) -> EvidenceJson | None:
    if ev is None:
        return None
    return {
        "frameworks": ["DSPT 8.1", "DSPT 8.2.1", "CAF B4.d"],
        "scope": ev.scope,
        "coverage": ev.coverage,
        "tool_version": ev.tool_version,
        "dataset_version": ev.dataset_version,
        "win11_cpu_data_version": ev.readiness_data_version,
        "exceptions_file": ev.exceptions_file or None,
        "config_file": ev.config_file or None,
        "site_catalog": (
            {"file": ev.site_catalog_file, "sha256": ev.site_catalog_sha256} if ev.site_catalog_file else None
        ),
        "b4d_statement": ev.b4d_statement,
        "sha256": ev.digest,
        "unsupported_items": [_item(i) for i in ev.items],
    }


def to_dict(report: EstateReport, hosts: Callable[[int, SiteReport], str] | None = None) -> ReportJson:
    """The report as JSON-ready data; ``hosts(i, site)`` stands in for site i's device list when
    given (``write`` serialises the devices one at a time in its place)."""
    cache = _Cache()
    return {
        "schema": SCHEMA,
        "as_of": report.as_of.isoformat(),
        "dataset_version": report.dataset_version,
        "tool_version": report.tool_version,
        "demo": report.demo or None,
        "organisation": report.organisation or None,
        "dataset_date": _date(report.dataset_date),
        "dataset_warning": report.dataset_warning or None,
        "plan_devices_per_year": report.devices_per_year,
        "currency": report.currency,
        "previous_as_of": _date(report.previous_as_of),
        "kpis": report.kpis.numbers(),
        "kpi_change": report.kpi_change,
        "priority_weights": report.priority_weights,
        "sites": [_site_dict(site, i, report, cache, hosts) for i, site in enumerate(report.sites)],
        "products": [_product(p) for p in report.products],
        "plan": [_plan(p) for p in report.plan],
        "extended_support": [_extended(x, report.currency) for x in report.extended_support],
        "roadmap": [_roadmap(r) for r in report.roadmap],
        "register": [_register(r) for r in report.register],
        "evidence": _evidence(report.evidence),
    }


INDENT_MAX_FINDINGS = 5_000  # above this, compact output (a 20,000-device estate would be ~3x larger)


def _big(report: EstateReport) -> bool:
    return sum(len(h.rows) for s in report.sites for h in s.hosts) > INDENT_MAX_FINDINGS


def _dumps() -> Callable[[Any], str]:
    """Compact JSON text: orjson's when installed, else json's (the same text)."""
    try:  # orjson (optional) encodes several times faster, byte-identical to json's form
        import orjson
    except ImportError:
        return lambda data: json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return lambda data: orjson.dumps(data).decode("utf-8")


def render(report: EstateReport) -> str:
    data = to_dict(report)
    big = _big(report)
    try:  # orjson (optional) encodes several times faster, byte-identical to json's form below
        import orjson
    except ImportError:
        if big:
            return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    option = orjson.OPT_APPEND_NEWLINE | (0 if big else orjson.OPT_INDENT_2)
    return orjson.dumps(data, option=option).decode("utf-8")


def write(report: EstateReport, fh: IO[str]) -> None:
    """``render(report)`` written to ``fh``; a large (compact) report device by device, so the
    whole document is never in memory at once.  Compact JSON does not depend on where a value
    sits, so the pieces add up to exactly ``render``'s text."""
    if not _big(report):
        fh.write(render(report))
        return
    dumps = _dumps()
    mark = f"legacyscan-devices-{secrets.token_hex(16)}-"
    head = dumps(to_dict(report, hosts=lambda i, _site: f"{mark}{i}"))
    cache = _Cache()
    rest = head
    for i, site in enumerate(report.sites):
        before, found, rest = rest.partition(f'"{mark}{i}"')
        if not found:  # pragma: no cover - the mark is random and every site has one
            raise AssertionError("device list placeholder missing")
        fh.write(before)
        fh.write("[")
        for n, h in enumerate(site.hosts):
            if n:
                fh.write(",")
            fh.write(dumps(_host(h, report.currency, cache)))
        fh.write("]")
    fh.write(rest)
    fh.write("\n")
