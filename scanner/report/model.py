"""The report view model: what every renderer in ``reports`` takes, display-ready and typed.

Built by ``scanner.report.build`` (findings -> ``EstateReport``); renderers never see raw findings
or inventories, only these types, so every format says the same thing and none re-derives a number.
Per site (``SiteReport``): the devices (``HostRow``) ranked by priority with their findings
(``FindingRow``), the action that clears them and the KPIs (``Kpis``, with the change since the
previous scan); for the estate (``EstateReport``): the product roll-ups, the roadmap by quarter and
NHS financial year, the capital plan, extended support, the exception register and the DSPT / CAF
evidence (``Evidence``).  This module imports no builder code: a renderer that imports it loads
the model's types, not the ranking, matching or planning rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NotRequired, TypedDict, get_args

from scanner.judge.match import worst_status
from scanner.model import Finding, Status
from scanner.plan.actions import Action, EsuLine, ExtendedCost
from scanner.plan.priority import ZERO, Score
from scanner.plan.readiness import Readiness
from scanner.plan.risk_register import RiskException
from scanner.store.sqlite import HostStatus

ACCEPTED, EXPIRED, NOT_YET = "accepted", "exception expired", "exception not yet in force"


@dataclass(slots=True)
class FindingRow:
    finding: Finding
    score: Score = ZERO
    band: str = "none"
    exception: RiskException | None = None
    exception_state: str = ""  # "" | accepted | exception expired | exception not yet in force

    @property
    def accepted(self) -> bool:
        return self.exception_state == ACCEPTED

    @property
    def open(self) -> bool:
        """On the action list: actionable and not covered by an active exception."""
        return self.finding.actionable and not self.accepted


@dataclass(slots=True)
class HostRow:
    hostname: str
    host_key: str
    site: str
    os: Finding | None
    rows: list[FindingRow]
    worst: Status
    collected_at: str
    unidentified: int = 0
    tags: list[str] = field(default_factory=list)
    score: Score = ZERO
    band: str = "none"
    action: Action = Action("none", "no action", "", None)
    readiness: Readiness | None = None
    esu: EsuLine | None = None
    # paid extended phases this device is kept on (site catalogue prices, else [esu] for the OS)
    extended: list[ExtendedCost] = field(default_factory=list)
    extended_cost: float | None = None  # their yearly total in the report's currency (None: none priced)
    hardware: str = ""  # vendor model, for the reader
    cpu: str = ""
    stale: bool = False  # latest inventory older than the configured stale_days
    open_rows: list[FindingRow] = field(default_factory=list)  # on the action list (set by build)
    accepted_rows: list[FindingRow] = field(default_factory=list)  # under an active exception
    # inventory | discovered (legacyscan discover: what its services announced) | register (device register
    # import); ``hostname`` then carries a visible mark, ``name`` the host's own name.
    source: str = "inventory"
    name: str = ""
    # The finding whose support ends first among the open ones (or the OS, for a planned upgrade),
    # and that end: an extended finding ends when its extended phase does.  None: nothing to plan.
    binding: Finding | None = None
    due: date | None = None
    scheduled: str = ""  # the NHS financial year the plan puts this device's action in

    @property
    def findings(self) -> list[Finding]:
        return [r.finding for r in self.rows]

    @property
    def os_row(self) -> FindingRow | None:
        return next((r for r in self.rows if r.finding.kind == "os"), None)


@dataclass(slots=True)
class Kpis:
    devices: int = 0
    unsupported_os: int = 0  # OS past end of security support, no entitlement (status eol)
    extended_os: int = 0  # OS supported only through an extended phase (paid ESU, free LTS)
    ending_soon_os: int = 0
    unknown_os: int = 0
    median_days_past_end: float | None = None  # over devices on an unsupported (eol) OS
    windows10: int = 0
    win11_ready: int = 0
    win11_not_ready: int = 0
    win11_unknown: int = 0
    open_findings: int = 0
    accepted_findings: int = 0
    expired_exceptions_hit: int = 0
    targets: int = 0  # scan attempts recorded
    not_reached: int = 0
    stale: int = 0
    estimated_cost: float | None = None  # None: no unit costs configured for any listed action
    esu_cost_this_year: float | None = None  # paid extended phases held, per year (None: nothing priced)
    esu_quote_this_year: float | None = None  # what ESU would cost this year for eligible devices without it

    @property
    def unsupported_os_share(self) -> float | None:
        return self.unsupported_os / self.devices if self.devices else None

    @property
    def win11_ready_share(self) -> float | None:
        return self.win11_ready / self.windows10 if self.windows10 else None

    @property
    def coverage(self) -> float | None:
        """Share of scan targets reached at the last attempt (None when nothing was scanned by target)."""
        return (self.targets - self.not_reached) / self.targets if self.targets else None

    def numbers(self) -> KpiFigures:
        """The comparable figures (for benchmarking and for "change since"), in ``KPI_NAMES`` order."""
        return {
            "devices": self.devices,
            "unsupported_os": self.unsupported_os,
            "unsupported_os_share": round4(self.unsupported_os_share),
            "extended_os": self.extended_os,
            "ending_soon_os": self.ending_soon_os,
            "unknown_os": self.unknown_os,
            "median_days_past_end": self.median_days_past_end,
            "windows10": self.windows10,
            "win11_ready": self.win11_ready,
            "win11_not_ready": self.win11_not_ready,
            "win11_unknown": self.win11_unknown,
            "win11_ready_share": round4(self.win11_ready_share),
            "open_findings": self.open_findings,
            "accepted_findings": self.accepted_findings,
            "expired_exceptions_hit": self.expired_exceptions_hit,
            "targets": self.targets,
            "not_reached": self.not_reached,
            "coverage": round4(self.coverage),
            "stale": self.stale,
            "estimated_cost": round2(self.estimated_cost),
            "esu_cost_this_year": round2(self.esu_cost_this_year),
            "esu_quote_this_year": round2(self.esu_quote_this_year),
        }


def round2(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def round4(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


# The KPI figures every format shows (estate and per site), by name, in this order: the JSON
# report's ``kpis`` (docs/report-json.md, KPIS), the tables' KPI rows, the change since the previous scan.
KpiName = Literal[
    "devices",
    "unsupported_os",
    "unsupported_os_share",
    "extended_os",
    "ending_soon_os",
    "unknown_os",
    "median_days_past_end",
    "windows10",
    "win11_ready",
    "win11_not_ready",
    "win11_unknown",
    "win11_ready_share",
    "open_findings",
    "accepted_findings",
    "expired_exceptions_hit",
    "targets",
    "not_reached",
    "coverage",
    "stale",
    "estimated_cost",
    "esu_cost_this_year",
    "esu_quote_this_year",
]
KPI_NAMES: tuple[KpiName, ...] = get_args(KpiName)


class KpiFigures(TypedDict):
    """``Kpis.numbers()``: counts as int, shares (0-1) to 4 decimals, money to 2, None where undefined."""

    devices: int
    unsupported_os: int
    unsupported_os_share: float | None
    extended_os: int
    ending_soon_os: int
    unknown_os: int
    median_days_past_end: float | None
    windows10: int
    win11_ready: int
    win11_not_ready: int
    win11_unknown: int
    win11_ready_share: float | None
    open_findings: int
    accepted_findings: int
    expired_exceptions_hit: int
    targets: int
    not_reached: int
    coverage: float | None
    stale: int
    estimated_cost: float | None
    esu_cost_this_year: float | None
    esu_quote_this_year: float | None


class KpiChange(TypedDict, total=False):
    """Each figure now minus the previous scan's (None: undefined on either side, or a scan-only
    figure); empty when there is no previous scan, else every ``KPI_NAMES`` key in that order."""

    devices: float | None
    unsupported_os: float | None
    unsupported_os_share: float | None
    extended_os: float | None
    ending_soon_os: float | None
    unknown_os: float | None
    median_days_past_end: float | None
    windows10: float | None
    win11_ready: float | None
    win11_not_ready: float | None
    win11_unknown: float | None
    win11_ready_share: float | None
    open_findings: float | None
    accepted_findings: float | None
    expired_exceptions_hit: float | None
    targets: float | None
    not_reached: float | None
    coverage: float | None
    stale: float | None
    estimated_cost: float | None
    esu_cost_this_year: float | None
    esu_quote_this_year: float | None


KPI_LABELS: dict[KpiName, str] = {
    "devices": "Devices",
    "unsupported_os": "Devices on an unsupported OS",
    "unsupported_os_share": "Share on an unsupported OS",
    "extended_os": "OS in extended support (ESU/LTS)",
    "ending_soon_os": "OS ending soon",
    "unknown_os": "OS not identified",
    "median_days_past_end": "Median days past end of support (unsupported OS)",
    "windows10": "Windows 10 devices",
    "win11_ready": "Windows 11-ready",
    "win11_not_ready": "Not Windows 11-ready",
    "win11_unknown": "Windows 11 readiness unknown",
    "win11_ready_share": "Windows 11-ready share",
    "open_findings": "Open findings",
    "accepted_findings": "Accepted (exception)",
    "expired_exceptions_hit": "Findings under expired exceptions",
    "targets": "Scan targets",
    "not_reached": "Targets not reached",
    "coverage": "Coverage",
    "stale": "Stale inventories",
    "estimated_cost": "Estimated cost of planned actions",
    "esu_cost_this_year": "Extended support cost this year (entitled)",
    "esu_quote_this_year": "ESU cost this year if bought",
}


@dataclass(slots=True)
class SiteReport:
    site: str
    hosts: list[HostRow] = field(default_factory=list)
    statuses: list[HostStatus] = field(default_factory=list)
    kpis: Kpis = field(default_factory=Kpis)
    kpi_change: KpiChange = field(default_factory=lambda: KpiChange())

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for host in self.hosts:
            for r in host.rows:
                out[r.finding.status.value] += 1
        return out

    @property
    def not_reached(self) -> list[HostStatus]:
        return [s for s in self.statuses if s.status not in ("ok", "partial")]


@dataclass(slots=True, frozen=True)
class ProductRollup:
    product: str
    cycle: str
    name: str  # "Windows 10 22H2"
    kind: str
    status: Status
    eol: date | None
    devices: int
    sites: list[str]
    accepted_devices: int
    top_score: float
    extended_until: date | None = None  # when status is extended: the end of the phase covering it
    phase: str = ""  # "Debian LTS (free)", "Windows 10 ESU": the extended phase, by name
    # distribution builds of one release end with their distributions: ``eol`` is the earliest end
    # among the release's findings of its status, this the latest when they differ
    eol_latest: date | None = None

    @property
    def end_text(self) -> str:
        """The end that matters to the reader: an extended release's phase and its end."""
        if self.status is Status.EXTENDED:
            until = self.extended_until.isoformat() if self.extended_until else "date not published"
            return f"{self.phase or 'extended support'} until {until}"
        return self.eol.isoformat() if self.eol else ""

    def sentence(self) -> str:
        n, d = len(self.sites), self.devices
        text = f"{self.name}: {d} device{'s' if d != 1 else ''} on {n} site{'s' if n != 1 else ''}"
        if self.eol and self.eol_latest and self.status is not Status.EXTENDED:
            text += f" (its builds' support ends from {self.eol.isoformat()} to {self.eol_latest.isoformat()})"
        return text


@dataclass(slots=True)
class PlanRow:
    """Capital plan: devices of one site whose binding support end falls in one NHS financial year.

    A device's binding constraint is the earliest end of support among its open findings (and,
    for devices with nothing open yet, its OS's end when that falls inside the roadmap horizon);
    "now" collects every device whose binding end has passed.
    """

    site: str
    financial_year: str  # the NHS financial year the work is scheduled in, "FY2027/28"
    devices: int
    actions: dict[str, int]  # action kind -> devices
    cost: float | None  # sum of the known action costs (None: nothing here is costed)
    costed_devices: int  # devices whose action has a configured cost
    extended_per_year: float = 0.0  # what keeping these devices on paid extended phases costs per year
    extended_devices: int = 0  # devices with a priced extended phase
    overdue: int = 0  # devices whose support had already ended on the report date
    deferred: int = 0  # devices scheduled after the year they are due (per-year capacity reached)


@dataclass(slots=True, frozen=True)
class ExtendedSupportRow:
    """Replace or pay: one site's devices kept on one paid extended phase, its yearly cost, and what
    the planned actions for the same devices would cost once.

    ``replace_years`` = action cost / yearly cost: how many years of extended support cost as much as
    acting now (None when either side is not costed, or the currencies differ).
    """

    site: str
    entitlement: str
    reference: str
    releases: list[str]
    devices: int
    basis: str  # how the per-device figure was worked out
    source: str  # where the price was declared
    currency: str
    per_year: float
    until: date | None  # the earliest end of the covered extended phases
    action_cost: float  # the planned actions of the same devices (replace, upgrade...) once
    action_costed: int  # devices whose action has a cost

    @property
    def replace_years(self) -> float | None:
        if self.per_year <= 0 or self.action_costed == 0:
            return None
        return round(self.action_cost / self.per_year, 2)

    def sentence(self, report_currency: str) -> str:
        n = self.devices
        text = (
            f"{self.entitlement}: {n} device{'s' if n != 1 else ''} at {self.per_year:,.0f} {self.currency}"
            f" per year" + (f" until {self.until.isoformat()}" if self.until else "")
        )
        years = self.replace_years if self.currency == report_currency else None
        if years is not None:
            text += (
                f"; their planned actions cost {self.action_cost:,.0f} {report_currency} once "
                f"(= {years:g} years of extended support)"
            )
        return text


@dataclass(slots=True, frozen=True)
class RoadmapRow:
    """Devices whose release leaves support (or its extended phase) in one period.

    ``period``: "overdue" (unsupported: support ended and nothing covers it), an NHS financial-year
    quarter "FY2026/27 Q4" (support, or an extended phase, ends then), or "extended, ends later"
    (covered beyond the horizon).  ``cost`` is the cost of the device actions this row *drives*:
    each device's action is counted once, on the row of its earliest open end, so the roadmap's
    costs add up to the plan's and to the KPI.
    """

    period: str
    financial_year: str  # "FY2026/27" ("" for overdue)
    product: str
    cycle: str
    name: str
    eol: date | None
    devices: int
    sites: list[str]
    cost: float | None  # actions driven by this row (None: none of them costed)
    status: Status = Status.EOL
    extended_until: date | None = None
    phase: str = ""  # the extended phase's name, for extended rows
    action_devices: int = 0  # devices whose action is counted on this row
    costed_devices: int = 0


@dataclass(slots=True, frozen=True)
class RegisterRow:
    """One exception of the register, with what it covers on this run."""

    exception: RiskException
    state: str  # active | expired | not yet in force
    findings: int
    devices: int
    sites: list[str]


@dataclass(slots=True, frozen=True)
class UnsupportedItem:
    """DSPT 8.2.1 register line: one unsupported product/cycle at one site."""

    site: str
    product: str
    cycle: str
    name: str
    status: Status
    eol: date | None
    devices: int
    risk: str  # band of the highest score
    risk_score: float
    reason: str  # why it is still in use (the exception's justification, or "no decision recorded")
    mitigation: str
    approval: str
    exception_ids: list[str]
    decision: str  # accepted | exception expired | no decision
    not_inventoried: int = 0  # of ``devices``: known only from discovery or the device register
    discovered: int = 0  # of ``not_inventoried``: known only from credential-free discovery (the rest: register)
    extended_until: date | None = None  # extended items: the end of the phase covering them
    phase: str = ""  # extended items: the phase's name ("Debian LTS (free)")


class EvidenceScope(TypedDict):
    """What was surveyed (``evidence.scope`` of the JSON report, docs/report-json.md; in the digest)."""

    sites: list[str]
    devices: int
    os_products: dict[str, int]  # OS product (or "unidentified") -> devices, by name
    as_of: str  # ISO date
    # DSPT 8.1: devices known only from credential-free discovery or the device register (only when any)
    discovered_not_inventoried: NotRequired[int]
    register_not_inventoried: NotRequired[int]


class EvidenceCoverage(TypedDict):
    """How completely it was surveyed (``evidence.coverage`` of the JSON report; in the digest)."""

    targets: int
    not_reached: int
    coverage: float | None  # share of targets reached, 4 decimals (None: nothing scanned by target)
    stale_inventories: int
    stale_days: int


# The ``[priority]`` weights the scores were computed with (``priority_weights`` of the JSON report,
# the HTML report's scoring appendix), in this order; empty until ``build_report`` fills it.  The
# functional form: one key is ``class``.
PriorityWeights = TypedDict(
    "PriorityWeights",
    {
        "status": dict[str, float],
        "points_per_30_days_past": float,
        "max_days_points": float,
        "class": dict[str, float],
        "tags": dict[str, float],
        "points_per_doubling_devices": float,
        "max_devices_points": float,
        "device_bonus_per_finding": float,
        "max_device_bonus": float,
        "bands": dict[str, float],
        "app_only_critical_tags": list[str],
    },
    total=False,
)


@dataclass(slots=True)
class Evidence:
    """DSPT 8.1 / 8.2.1 and CAF B4.d: what was surveyed, how completely, with which tools and data."""

    scope: EvidenceScope
    coverage: EvidenceCoverage
    tool_version: str
    dataset_version: str
    readiness_data_version: str
    exceptions_file: str
    config_file: str
    items: list[UnsupportedItem]
    b4d_statement: str
    site_catalog_file: str = ""  # the site catalogue in use ("" = none)
    site_catalog_sha256: str = ""  # of its bytes; its first 12 hex digits are in the dataset version
    digest: str = ""  # SHA-256 of the evidence content (scope, coverage, versions, items): tamper-evident

    def canonical(self) -> str:
        """The evidence as canonical JSON (sorted keys, ISO dates): what ``digest`` is computed over."""
        body = {
            "scope": self.scope,
            "coverage": self.coverage,
            "tool_version": self.tool_version,
            "dataset_version": self.dataset_version,
            "readiness_data_version": self.readiness_data_version,
            "site_catalog_sha256": self.site_catalog_sha256,
            "items": [
                {
                    "site": i.site,
                    "product": i.product,
                    "cycle": i.cycle,
                    "status": i.status.value,
                    "eol": i.eol.isoformat() if i.eol else None,
                    "devices": i.devices,
                    "risk": i.risk,
                    "reason": i.reason,
                    "mitigation": i.mitigation,
                    "approval": i.approval,
                    "decision": i.decision,
                    **({"not_inventoried": i.not_inventoried} if i.not_inventoried else {}),
                }
                for i in self.items
            ],
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class EstateReport:
    as_of: date
    dataset_version: str
    tool_version: str
    sites: list[SiteReport]
    products: list[ProductRollup] = field(default_factory=list)
    roadmap: list[RoadmapRow] = field(default_factory=list)
    plan: list[PlanRow] = field(default_factory=list)
    extended_support: list[ExtendedSupportRow] = field(default_factory=list)
    register: list[RegisterRow] = field(default_factory=list)
    kpis: Kpis = field(default_factory=Kpis)
    kpi_change: KpiChange = field(default_factory=lambda: KpiChange())
    previous_as_of: date | None = None
    evidence: Evidence | None = None
    currency: str = "GBP"
    priority_weights: PriorityWeights = field(default_factory=lambda: PriorityWeights())
    demo: str = ""  # banner text when the estate is demo data ("" for real estates)
    organisation: str = ""  # the trust (site catalogue [site] name), in every header
    dataset_date: date | None = None  # of the bundled / updated end-of-life data
    dataset_warning: str = ""  # set when the dataset is older than the configured age on as_of
    devices_per_year: int | None = None  # the plan's capacity ([plan] devices_per_year)

    def all_findings(self) -> list[Finding]:
        return [f for s in self.sites for h in s.hosts for f in h.findings]

    def open_findings(self) -> list[Finding]:
        """Findings on the action list (actionable, not covered by an active exception)."""
        return [r.finding for s in self.sites for h in s.hosts for r in h.rows if r.open]

    def worst(self) -> Status:
        return worst_status(self.all_findings())

    def all_hosts(self) -> list[HostRow]:
        return [h for s in self.sites for h in s.hosts]
