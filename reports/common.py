"""Helpers every renderer shares: one row shape per table, so all formats say the same thing.

Each ``*_rows`` function turns part of the view model into (headers, rows of plain values), and
the renderers only lay them out.  Values are str / int / float / None; dates are ISO strings.
``neutralise`` defuses spreadsheet formula injection (CSV and XLSX): a cell starting with
``= + - @`` tab, CR or LF (also after leading blanks) gets a leading apostrophe, as OWASP
recommends, so a hostile DisplayName such as ``=HYPERLINK(...)`` is shown as text, never evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from scanner.model import Finding, MatchDetail
from scanner.plan.actions import ExtendedCost, release_name
from scanner.plan.priority import Score
from scanner.report.model import (
    KPI_LABELS,
    KPI_NAMES,
    EstateReport,
    EvidenceCoverage,
    EvidenceScope,
    FindingRow,
    HostRow,
    KpiChange,
    KpiName,
    Kpis,
    SiteReport,
    UnsupportedItem,
)

Value = str | int | float | None

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# What a spreadsheet may take for the start of a formula (the full-width forms too: some input
# methods and "normalise width" import options turn them into the ASCII ones).
_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# Blanks a spreadsheet may trim before it looks at the first character: LibreOffice's CSV import
# with "Trim spaces" turns " =1+1" into a live formula (checked with LibreOffice headless,
# tests/integration/test_spreadsheet_libreoffice.py).  Zero-width characters and the BOM too.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
DEMO_DEFAULT = "DEMO DATA — a generated estate for evaluation; not a real hospital"


def neutralise(value: Value) -> Value:
    """A leading apostrophe for any string a spreadsheet could evaluate: one starting with
    ``= + - @`` (or their full-width forms), tab, CR or LF -- also after leading blanks (spaces,
    no-break and other Unicode spaces, zero-width characters), which an import may trim."""
    if not isinstance(value, str) or not value:
        return value
    first = value[0]
    if first in _TRIGGERS or value.startswith(_FORMULA_START):
        return "'" + value
    if first.isspace() or first in _INVISIBLE:
        rest = value.lstrip().lstrip(_INVISIBLE).lstrip()
        while rest and (rest[0].isspace() or rest[0] in _INVISIBLE):
            rest = rest[1:]
        if rest[:1] in _TRIGGERS:
            return "'" + value
    return value


def iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def pct(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "n/a"


NOT_COSTED = "not costed"


def money(value: float | None, currency: str) -> str:
    return f"{value:,.0f} {currency}" if value is not None else ""


def cost_text(value: float | None, currency: str) -> str:
    """A cost, or "not costed" (never a misleading 0) when no unit cost applied."""
    return money(value, currency) if value is not None else NOT_COSTED


def os_name(h: HostRow) -> str:
    """The device's OS as people say it ("Microsoft Windows XP SP3"), or what it reported."""
    f = h.os
    if f is None:
        return ""
    return release_name(f) if f.product else (f.name or "unidentified")


def header_lines(report: EstateReport) -> list[str]:
    """What every format states before anything else: the trust, demo data, an old dataset."""
    out = []
    if report.demo:
        out.append(report.demo)
    if report.organisation:
        out.append(report.organisation)
    if report.dataset_warning:
        out.append("WARNING: " + report.dataset_warning)
    return out


MONEY_KPIS: tuple[KpiName, ...] = ("estimated_cost", "esu_cost_this_year", "esu_quote_this_year")


def kpi_values(k: Kpis, change: KpiChange) -> list[tuple[KpiName, str, float | int | None, float | None]]:
    """(key, label, value, change) with raw numbers, for formats that type their cells (XLSX)."""
    figures = k.numbers()
    return [(key, KPI_LABELS[key], figures[key], change.get(key)) for key in KPI_NAMES]


def one_line(text: str, width: int | None = None) -> str:
    """Control characters (NUL, CR, LF, bidi overrides stay visible as text) flattened to spaces."""
    out = "".join(ch if ch.isprintable() else " " for ch in text)
    if width is not None and len(out) > width:
        out = out[: width - 1] + "…"
    return out


def kpi_rows(k: Kpis, change: KpiChange, currency: str) -> list[list[Value]]:
    """(label, value as shown, change as shown) per KPI, in ``KPI_NAMES`` order."""
    figures = k.numbers()
    return [[KPI_LABELS[key], *kpi_shown(key, figures[key], change.get(key), currency)] for key in KPI_NAMES]


def is_share_kpi(key: KpiName) -> bool:
    return key.endswith("share") or key == "coverage"


def kpi_shown(key: KpiName, value: float | None, delta: float | None, currency: str) -> tuple[Value, str]:
    """A KPI's value and change as a reader sees them: a share as a percentage and its change in
    points, money as money ("not costed" / "none" when nothing is priced), a count as it is."""
    if is_share_kpi(key):
        return pct(value), ("" if delta is None else f"{delta * 100:+.1f} pts")
    if key in MONEY_KPIS:
        unpriced = NOT_COSTED if key == "estimated_cost" else "none"
        return (unpriced if value is None else money(value, currency)), ("" if delta is None else f"{delta:+,.0f}")
    return ("n/a" if value is None else value), ("" if delta is None else f"{delta:+g}")


DEVICE_HEADERS = [
    "rank",
    "site",
    "host",
    "priority",
    "band",
    "os",
    "os status",
    "os end",
    "action",
    "clears",
    "open findings",
    "accepted",
    "win11 readiness",
    "esu / extended support",
    "cost",
    "extended support per year",
    "tags",
    "last seen",
    "priority parts",
    "scheduled (FY)",
]


def extended_text(h: HostRow, currency: str) -> str:
    """The device's paid extended phases (what it costs to stay), else its ESU line (a quote)."""
    if h.extended:
        return "; ".join(x.text() for x in h.extended)
    return h.esu.text(currency) if h.esu else ""


def device_row(rank: int, h: HostRow, currency: str) -> list[Value]:
    os_f = h.os
    action_cost: Value = (
        round(h.action.cost, 2) if h.action.cost is not None else (NOT_COSTED if h.action.kind != "none" else None)
    )
    return [
        rank,
        h.site,
        h.hostname,
        round(h.score.total, 1),
        h.band,
        os_name(h),
        os_f.status.value if os_f else "",
        iso(os_f.eol) if os_f else "",
        h.action.text,
        h.action.clears,
        len(h.open_rows),
        len(h.accepted_rows),
        h.readiness.summary() if h.readiness else "",
        extended_text(h, currency),
        action_cost,
        round(h.extended_cost, 2) if h.extended_cost is not None else None,
        ", ".join(h.tags),
        h.collected_at,
        h.score.explain(nested=True),
        h.scheduled,
    ]


SITE_HEADERS = [
    "rank",
    "host",
    "priority",
    "band",
    "os",
    "os status",
    "action",
    "clears",
    "win11 readiness",
    "cost",
    "extended support per year",
    "scheduled (FY)",
]


def site_rows(site: SiteReport, currency: str) -> Iterator[list[Value]]:
    """The per-site replacement list: devices with something open, highest priority first."""
    rank = 0
    for h in site.hosts:
        if not h.open_rows:
            continue
        rank += 1
        row = device_row(rank, h, currency)
        yield [row[0], row[2], row[3], row[4], row[5], row[6], row[8], row[9], row[12], row[14], row[15], row[19]]


def device_rows(site: SiteReport, currency: str, only_open: bool = False) -> Iterator[list[Value]]:
    rank = 0
    for h in site.hosts:
        if only_open and not h.open_rows:
            continue
        rank += 1
        yield device_row(rank, h, currency)


FINDING_HEADERS = [
    "site",
    "host",
    "device priority",
    "action",
    "kind",
    "name",
    "version",
    "product",
    "cycle",
    "release",
    "status",
    "eol",
    "extended until",
    "priority",
    "band",
    "priority parts",
    "exception",
    "exception state",
    "rule",
    "evidence",
    "dataset",
    "tags",
    "extended support",
    "extended cost per year",
    "device action cost",
]


Cell = Callable[[Value], Value]


def finding_rows(report: EstateReport, cell: Cell = lambda v: v) -> Iterator[list[Value]]:
    """One row per OS finding and per actionable (or excepted) application finding.

    ``cell`` is applied to every value (CSV/XLSX neutralisation).  The parts thousands of rows
    share (the product columns of one package build, a score) are built and converted once.
    ``release`` is the release as people say it (``release_name``), as in every other table.
    ``device action cost`` is the device's planned action priced once, on its first row ("not
    costed" when no unit cost applies), so the column's sum is the KPI "estimated cost".
    """
    shared = _SharedFindingCells(cell)
    for site in report.sites:
        site_cell = cell(site.site)
        for h in site.hosts:
            yield from _host_finding_rows(h, site_cell, shared)


def _host_finding_rows(h: HostRow, site_cell: Value, shared: _SharedFindingCells) -> Iterator[list[Value]]:
    """``finding_rows`` of one device (``site_cell``: its site, converted)."""
    cell, release, score, rule = shared.cell, shared.release, shared.score, shared.rule
    host_cells = [site_cell, cell(h.hostname), round(h.score.total, 1), cell(h.action.text)]
    action_cost = _action_cost_cell(h)
    priced = _extended_by_finding(h)
    tags_cell: Value = None
    for r in h.rows:
        if not _listed_finding(r):
            continue
        f = r.finding
        if tags_cell is None:
            tags_cell = cell(", ".join(f.tags))
        yield (
            host_cells
            + release(f)
            + score(r)
            + [cell(r.exception.id if r.exception else ""), r.exception_state]
            + rule(f)
            + [tags_cell]
            + (_extended_cells(priced.get(id(f)), f, cell) if priced else _NO_EXTENDED)
            + [action_cost]
        )
        action_cost = None


def _listed_finding(r: FindingRow) -> bool:
    """An OS finding, an actionable one, or one an exception covers; supported and unknown
    applications are counted, not listed."""
    return r.finding.kind == "os" or r.finding.actionable or bool(r.exception)


def _action_cost_cell(h: HostRow) -> Value:
    """The device's planned action, priced: None without an action, "not costed" without a unit cost."""
    if h.action.kind == "none":
        return None
    return round(h.action.cost, 2) if h.action.cost is not None else NOT_COSTED


def _extended_by_finding(h: HostRow) -> dict[int, ExtendedCost]:
    """The paid extended phase covering each finding of the device, by the finding's id()."""
    if not h.extended:
        return _NOTHING_PRICED
    return {id(f): x for x in h.extended for f in (x.covers or (x.finding,))}


_NOTHING_PRICED: dict[int, ExtendedCost] = {}  # read only


_NO_EXTENDED: list[Value] = ["", None]


def _extended_cells(x: ExtendedCost | None, f: Finding, cell: Cell) -> list[Value]:
    """The extended phase covering ``f``, and its yearly figure on the first finding it covers on
    the device only (so a column sum counts each device once)."""
    if x is None:
        return _NO_EXTENDED
    return [cell(f"{x.entitlement} ({x.basis}; {x.source})"), round(x.yearly, 2) if x.finding is f else None]


class _SharedFindingCells:
    """The cells thousands of finding rows share, each converted once per report: a release's
    columns (kind .. extended until), a score's (priority, band, parts), a match's (rule, evidence,
    dataset)."""

    __slots__ = ("cell", "releases", "rules", "scores")

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.releases: dict[tuple[object, ...], list[Value]] = {}
        self.scores: dict[int, tuple[Score, list[Value]]] = {}
        self.rules: dict[int, tuple[MatchDetail, list[Value]]] = {}

    def release(self, f: Finding) -> list[Value]:
        key = (id(f.detail), f.kind, f.name, f.version, f.product, f.cycle, f.status, f.eol, f.extended_until)
        cells = self.releases.get(key)
        if cells is None:
            release = release_name(f) if f.product else f.detail.release_label
            values = (
                f.kind,
                f.name,
                f.version,
                f.product or "",
                f.cycle or "",
                release,
                f.status.value,
                iso(f.eol),
                iso(f.extended_until),
            )
            cells = self.releases[key] = list(map(self.cell, values))
        return cells

    def score(self, r: FindingRow) -> list[Value]:
        hit = self.scores.get(id(r.score))
        if hit is None or hit[0] is not r.score:
            cells = [round(r.score.total, 1), self.cell(r.band), self.cell(r.score.explain())]
            hit = self.scores[id(r.score)] = (r.score, cells)
        return hit[1]

    def rule(self, f: Finding) -> list[Value]:
        d = f.detail
        hit = self.rules.get(id(d))
        if hit is None or hit[0] is not d:
            evidence = "; ".join(f"{k}={v}" for k, v in d.evidence.items())
            hit = self.rules[id(d)] = (d, [self.cell(d.rule), self.cell(evidence), self.cell(d.dataset_version)])
        return hit[1]


PRODUCT_HEADERS = [
    "product",
    "release",
    "status",
    "end of support",
    "devices",
    "sites",
    "accepted devices",
    "top priority",
    "summary",
]


def product_rows(report: EstateReport) -> list[list[Value]]:
    """Releases; an extended one shows its phase and that phase's end, not the mainstream end."""
    return [
        [
            p.product,
            p.name,
            p.status.value,
            p.end_text,
            p.devices,
            ", ".join(p.sites),
            p.accepted_devices,
            round(p.top_score, 1),
            p.sentence(),
        ]
        for p in report.products
    ]


PLAN_HEADERS = [
    "site",
    "financial year",
    "devices",
    "actions",
    "cost",
    "devices costed",
    "already past end",
    "deferred by capacity",
    "extended support per year",
    "devices on paid extended support",
]


def plan_rows(report: EstateReport) -> list[list[Value]]:
    return [
        [
            p.site,
            p.financial_year,
            p.devices,
            ", ".join(f"{k} {v}" for k, v in sorted(p.actions.items())),
            round(p.cost, 2) if p.cost is not None else NOT_COSTED,
            p.costed_devices,
            p.overdue,
            p.deferred,
            round(p.extended_per_year, 2) if p.extended_devices else None,
            p.extended_devices,
        ]
        for p in report.plan
    ]


def plan_by_year(report: EstateReport) -> list[list[Value]]:
    """The estate's plan per financial year: devices, cost (or "not costed"), carried over."""
    years: dict[str, list[float | int | None]] = {}
    for p in report.plan:
        y = years.setdefault(p.financial_year, [0, None, 0, 0])
        y[0] = int(y[0] or 0) + p.devices
        if p.cost is not None:
            y[1] = float(y[1] or 0.0) + p.cost
        y[2] = int(y[2] or 0) + p.overdue
        y[3] = int(y[3] or 0) + p.deferred
    return [
        [fy, v[0], round(float(v[1]), 2) if v[1] is not None else NOT_COSTED, v[2], v[3]]
        for fy, v in sorted(years.items())
    ]


EXTENDED_HEADERS = [
    "site",
    "extended support",
    "reference",
    "releases",
    "devices",
    "price basis",
    "declared in",
    "currency",
    "cost per year",
    "covered until",
    "planned actions cost (once)",
    "devices with costed action",
    "years of extended support = actions cost",
    "summary",
]


def extended_rows(report: EstateReport) -> list[list[Value]]:
    """Replace or pay: per site and entitlement, the yearly cost of staying next to acting once."""
    return [
        [
            x.site,
            x.entitlement,
            x.reference,
            ", ".join(x.releases),
            x.devices,
            x.basis,
            x.source,
            x.currency,
            x.per_year,
            iso(x.until),
            x.action_cost if x.action_costed else None,
            x.action_costed,
            x.replace_years if x.currency == report.currency else None,
            x.sentence(report.currency),
        ]
        for x in report.extended_support
    ]


ROADMAP_HEADERS = [
    "period",
    "financial year",
    "release",
    "status",
    "end of support",
    "extended phase ends",
    "devices",
    "sites",
    "devices whose action is counted here",
    "cost of those actions",
]


def roadmap_rows(report: EstateReport) -> list[list[Value]]:
    """Per period and release; each device's action cost appears once, on its earliest end's row."""
    out: list[list[Value]] = []
    for r in report.roadmap:
        ext = f"{r.phase} until {iso(r.extended_until) or 'date not published'}" if r.phase else ""
        cost: Value = round(r.cost, 2) if r.cost is not None else (NOT_COSTED if r.action_devices else None)
        out.append(
            [
                r.period,
                r.financial_year,
                r.name,
                r.status.value,
                iso(r.eol),
                ext,
                r.devices,
                ", ".join(r.sites),
                r.action_devices,
                cost,
            ]
        )
    return out


REGISTER_HEADERS = [
    "id",
    "state",
    "scope",
    "category",
    "justification",
    "compensating controls",
    "medical device",
    "manufacturer ref",
    "owner",
    "approver",
    "approved on",
    "expires",
    "risk",
    "findings",
    "devices",
    "sites",
]


def register_rows(report: EstateReport) -> list[list[Value]]:
    out: list[list[Value]] = []
    for r in report.register:
        e = r.exception
        out.append(
            [
                e.id,
                r.state,
                e.scope_text(),
                e.category_label,
                e.justification,
                "; ".join(e.compensating_controls),
                "yes" if e.medical_device else "no",
                e.manufacturer_ref,
                e.owner,
                e.approver,
                iso(e.approved_on),
                iso(e.expires),
                e.risk,
                r.findings,
                r.devices,
                ", ".join(r.sites),
            ]
        )
    return out


EVIDENCE_HEADERS = [
    "site",
    "release",
    "status",
    "end of support",
    "devices",
    "risk",
    "reason for continued use",
    "mitigation / action",
    "approval",
    "decision",
    "exceptions",
]


def evidence_rows(report: EstateReport) -> list[list[Value]]:
    """The 8.2.1 register; an item in an extended phase says so (phase and end), never "unsupported"."""
    if report.evidence is None:
        return []
    return [
        [
            i.site,
            i.name,
            i.status.value if not i.phase else f"extended ({i.phase})",
            iso(i.eol) if not i.phase else f"{iso(i.eol)}; covered until {iso(i.extended_until) or 'unpublished'}",
            f"{i.devices} ({_item_not_inventoried(i)})" if i.not_inventoried else i.devices,
            i.risk,
            i.reason,
            i.mitigation,
            i.approval,
            i.decision,
            ", ".join(i.exception_ids),
        ]
        for i in report.evidence.items
    ]


COVERAGE_HEADERS = ["site", "target", "status", "error", "last attempt", "last ok"]


def coverage_rows(report: EstateReport) -> list[list[Value]]:
    return [
        [s.site, st.target, st.status, st.error, st.at, st.last_ok_at or "never"]
        for s in report.sites
        for st in s.not_reached
    ]


def meta_rows(report: EstateReport) -> list[list[Value]]:
    ev = report.evidence
    org: list[list[Value]] = [["Organisation", report.organisation]] if report.organisation else []
    rows: list[list[Value]] = org + [
        ["Report date (as of)", report.as_of.isoformat()],
        ["Tool", f"legacyscan {report.tool_version}"],
        ["EOL dataset", report.dataset_version + (f" — {report.dataset_warning}" if report.dataset_warning else "")],
    ]
    if ev is not None:
        rows += [
            ["Windows 11 processor data", ev.readiness_data_version],
            ["Site catalogue", ev.site_catalog_file or "(none)"],
        ]
        if ev.site_catalog_file:
            rows.append(["Site catalogue SHA-256", ev.site_catalog_sha256])
        rows += [
            ["Exceptions file", ev.exceptions_file or "(none)"],
            ["Configuration", ev.config_file or "(defaults)"],
            [
                "Survey scope",
                f"{ev.scope['devices']} devices on {len(ev.scope['sites'])} site(s)" + _not_inventoried(ev.scope),
            ],
            ["Coverage", coverage_sentence(ev.coverage)],
            ["CAF B4.d", ev.b4d_statement],
            ["Evidence SHA-256", ev.digest],
        ]
    if report.previous_as_of:
        rows.append(["Compared with", f"previous scan judged on {report.previous_as_of.isoformat()}"])
    return rows


def _item_not_inventoried(i: UnsupportedItem) -> str:
    """DSPT 8.2.1: of an item's devices, those no agent or probe inventoried, by where they are known from."""
    parts = [
        f"{n} {label}"
        for n, label in (
            (i.discovered, "discovered, not inventoried"),
            (i.not_inventoried - i.discovered, "from the device register only"),
        )
        if n
    ]
    return "; ".join(parts)


def _not_inventoried(scope: EvidenceScope) -> str:
    """DSPT 8.1: how many devices no agent or probe inventoried (credential-free discovery, register)."""
    parts = [
        f"{n} {label}"
        for n, label in (
            (scope.get("discovered_not_inventoried", 0), "discovered, not inventoried"),
            (scope.get("register_not_inventoried", 0), "from the device register only"),
        )
        if n
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def coverage_sentence(cov: EvidenceCoverage) -> str:
    """DSPT 8.1 survey coverage in words; unreached targets are named as such, never as clean."""
    targets, missed = cov["targets"], cov["not_reached"]
    if not targets:
        reach = "no scan targets recorded (inventories from agents, imports or local scans only)"
    else:
        reach = f"{targets - missed} of {targets} scan targets reached ({pct(cov['coverage'])})" + (
            f"; {missed} not reached — their support status is unknown" if missed else ""
        )
    return f"{reach}; {cov['stale_inventories']} inventories older than {cov['stale_days']} days"


def as_text(value: Any) -> str:
    return "" if value is None else str(value)
