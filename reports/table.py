"""Plain-text tables (tabulate), a section per site: what a terminal user reads first.

Order follows the questions people ask: how bad is it (KPIs), what do I do first at my site
(the replacement list, ranked), what did we accept, what could we not reach; then the estate
views (products, roadmap, register, evidence).  Every cell goes through ``one_line`` so hostile
strings (newlines, NUL, escape sequences) cannot break the layout or the terminal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from tabulate import tabulate

from reports.common import (
    Value,
    cost_text,
    coverage_rows,
    evidence_rows,
    extended_rows,
    header_lines,
    iso,
    kpi_rows,
    meta_rows,
    money,
    one_line,
    os_name,
    plan_by_year,
    plan_rows,
    register_rows,
    roadmap_rows,
)
from scanner.plan.actions import release_name
from scanner.report.model import EstateReport, FindingRow, HostRow, SiteReport

_W = 48  # widest cell
TABLE_MAX_DEVICES = 500  # per site on a terminal; the file formats carry every device
DETAIL_MAX_HOSTS = 25  # a site this small also gets every finding with its rule (e.g. `scan --local`)


def _t(rows: Sequence[Sequence[Value]], headers: list[str], width: int = _W) -> str:
    clean = [[one_line(str(c), width) if isinstance(c, str) else ("" if c is None else c) for c in row] for row in rows]
    return tabulate(clean, headers=headers, tablefmt="simple", disable_numparse=True)


def _wrap(text: str, width: int = 100) -> str:
    """Long sentences (the CAF statement) wrapped, never cut off."""
    return "\n".join(textwrap.wrap(one_line(text), width)) or ""


def _head(report: EstateReport) -> list[str]:
    out: list[str] = []
    head = header_lines(report)
    if head:
        out += ["*" * 78] + [f"*** {line}" for h in head for line in textwrap.wrap(one_line(h), 74)] + ["*" * 78]
    out.append(
        f"legacyscan {report.tool_version} — support status as of {report.as_of.isoformat()} "
        f"(dataset {report.dataset_version})"
    )
    out += ["", "== Estate", _t(kpi_rows(report.kpis, report.kpi_change, report.currency), ["KPI", "value", "change"])]
    return out


DEVICE_COLUMNS = ["#", "host", "priority", "band", "os", "os status", "action", "win11", "cost", "extended/yr", "FY"]


def _replacement_list(site: SiteReport, currency: str) -> list[str]:
    rows: list[list[Value]] = []
    to_act = [h for h in site.hosts if h.open_rows]
    for rank, h in enumerate(to_act[:TABLE_MAX_DEVICES], 1):
        os_f = h.os
        rows.append(
            [
                str(rank),
                h.hostname,
                f"{h.score.total:.1f}",
                h.band,
                os_name(h) or "-",
                os_f.status.value if os_f else "",
                f"{h.action.text}: {h.action.clears}",
                h.readiness.summary() if h.readiness else "",
                cost_text(h.action.cost, currency),
                money(h.extended_cost, currency),
                h.scheduled,
            ]
        )
    if not rows:
        return ["   nothing to act on"]
    out = ["", "Replacement list (highest priority first):", _t(rows, DEVICE_COLUMNS, 60)]
    if len(to_act) > TABLE_MAX_DEVICES:
        out.append(
            f"   … and {len(to_act) - TABLE_MAX_DEVICES} more device(s) to act on: the full list is "
            "in --format csv, xlsx, html or json"
        )
    return out


def _exception_row(h: HostRow, r: FindingRow) -> list[Value]:
    return [
        h.hostname,
        release_name(r.finding),
        r.exception.id if r.exception else "",
        iso(r.exception.expires) if r.exception else "",
    ]


def _exceptions(site: SiteReport) -> list[str]:
    out: list[str] = []
    accepted = [_exception_row(h, r) for h in site.hosts for r in h.accepted_rows]
    if accepted:
        out += ["", "Accepted (exception register):", _t(accepted, ["host", "release", "exception", "expires"])]
    expired = [_exception_row(h, r) for h in site.hosts for r in h.rows if r.exception_state == "exception expired"]
    if expired:
        out += [
            "",
            "Exception expired (back on the action list):",
            _t(expired, ["host", "release", "exception", "expired"]),
        ]
    return out


def _detail(site: SiteReport) -> list[str]:
    if not site.hosts or len(site.hosts) > DETAIL_MAX_HOSTS:
        return []
    detail = [
        [
            h.hostname,
            r.finding.kind,
            r.finding.name,
            r.finding.version,
            f"{r.finding.product or '-'} {r.finding.cycle or ''}".strip(),
            r.finding.status.value,
            iso(r.finding.extended_until or r.finding.eol),
            r.exception.id if r.exception else "",
            r.finding.detail.rule,
        ]
        for h in site.hosts
        for r in h.rows
    ]
    return [
        "",
        "Findings (every identified product, with the rule that decided it):",
        _t(detail, ["host", "kind", "name", "version", "product cycle", "status", "until", "exception", "rule"], 40),
    ]


def _site(site: SiteReport, currency: str) -> list[str]:
    counts = site.counts()
    k = site.kpis
    out = [
        "",
        f"== Site: {one_line(site.site, 60)} — {len(site.hosts)} host(s); "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v),
        f"   unsupported OS {k.unsupported_os}/{k.devices}; Windows 10 {k.windows10} "
        f"(Windows 11-ready {k.win11_ready}); open findings {k.open_findings}; "
        f"accepted {k.accepted_findings}",
    ]
    out += _replacement_list(site, currency) + _exceptions(site) + _detail(site)
    if site.not_reached:
        out += [
            "",
            "Not reached:",
            _t(
                [[st.target, st.status, st.error, st.last_ok_at or "never"] for st in site.not_reached],
                ["target", "status", "error", "last ok"],
            ),
        ]
    return out


def _products(report: EstateReport) -> list[str]:
    if not report.products:
        return []
    return [
        "",
        "== Products out of (or leaving) support",
        _t(
            [[p.name, p.status.value, p.end_text, str(p.devices), str(len(p.sites))] for p in report.products],
            ["release", "status", "end", "devices", "sites"],
            60,
        ),
    ]


def _plan(report: EstateReport) -> list[str]:
    if not report.plan:
        return []
    cap = (
        f"capacity {report.devices_per_year:,} devices per year, this year pro rata; application updates take none"
        if report.devices_per_year
        else "no capacity set: each device in the year it is due"
    )
    cur = report.currency
    years = [
        [y[0], str(y[1]), cost_text(y[2] if isinstance(y[2], float) else None, cur), str(y[3]), str(y[4])]
        for y in plan_by_year(report)
    ]
    sites = [
        [
            r[0],
            r[1],
            str(r[2]),
            r[3],
            cost_text(p.cost, cur),
            money(p.extended_per_year if p.extended_devices else None, cur),
        ]
        for r, p in zip(plan_rows(report), report.plan, strict=True)
    ]
    return [
        "",
        f"== Replacement plan by NHS financial year (each device once, from its earliest open end; {cap})",
        _t(years, ["FY", "devices", "cost", "already past end", "deferred by capacity"]),
        "",
        _t(sites, ["site", "FY", "devices", "actions", "cost", "extended support/yr"], 70),
    ]


def _extended(report: EstateReport) -> list[str]:
    if not report.extended_support:
        return []
    rows = [
        [
            r[0],
            r[1],
            str(r[4]),
            money(x.per_year, x.currency),
            r[9],
            money(x.action_cost, report.currency) if x.action_costed else "",
            "" if r[12] is None else f"{r[12]:g}",
            r[5],
        ]
        for r, x in zip(extended_rows(report), report.extended_support, strict=True)
    ]
    return [
        "",
        "== Replace or pay: paid extended support per year vs the planned actions (once)",
        _t(rows, ["site", "extended support", "devices", "per year", "until", "actions (once)", "years", "basis"], 60),
    ]


def _roadmap(report: EstateReport) -> list[str]:
    if not report.roadmap:
        return []
    rows = [
        [
            r[0],
            r[2],
            r[3],
            r[5] or r[4],
            r[6],
            str(r[8]) if r[8] else "",
            money(r[9], report.currency) if isinstance(r[9], float) else (r[9] or ""),
        ]
        for r in roadmap_rows(report)
    ]
    return [
        "",
        "== Roadmap (NHS financial-year quarters; a device's action cost on its earliest end's row)",
        _t(rows, ["period", "release", "status", "end", "devices", "actions here", "cost"]),
    ]


def _register_and_coverage(report: EstateReport) -> list[str]:
    out: list[str] = []
    if report.register:
        out += [
            "",
            "== Exception register",
            _t(
                [[r[0], r[1], r[2], r[3], r[9], r[11], r[14]] for r in register_rows(report)],
                ["id", "state", "scope", "category", "approver", "expires", "devices"],
            ),
        ]
    cov = coverage_rows(report)
    if cov:
        out += [
            "",
            f"== Coverage: {len(cov)} target(s) not reached",
            _t(
                [[r[0], r[1], r[2], r[3], r[4], r[5]] for r in cov],
                ["site", "target", "status", "error", "last attempt", "last ok"],
                50,
            ),
        ]
    return out


def _evidence(report: EstateReport) -> list[str]:
    ev = evidence_rows(report)
    meta = [[k, _wrap(str(v), 100)] for k, v in meta_rows(report)]
    out = [
        "",
        "== Evidence (DSPT 8.1 / 8.2.1, CAF B4.d)",
        tabulate(meta, headers=["", ""], tablefmt="simple", disable_numparse=True),
    ]
    if ev:
        out += [
            "",
            "8.2.1 register of unsupported items (an item in an extended phase: the phase and its end)",
            _t(
                [[r[0], r[1], r[2], r[3], r[4], r[5], r[9]] for r in ev],
                ["site", "release", "status", "end of support", "devices", "risk", "decision"],
                52,
            ),
        ]
    return out


def render(report: EstateReport) -> str:
    out = _head(report)
    for site in report.sites:
        out += _site(site, report.currency)
    out += _products(report) + _plan(report) + _extended(report) + _roadmap(report)
    out += _register_and_coverage(report) + _evidence(report)
    return "\n".join(out) + "\n"
