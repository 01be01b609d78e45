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
from scanner.plan import release_name
from scanner.rank import EstateReport

_W = 48  # widest cell
TABLE_MAX_DEVICES = 500  # per site on a terminal; the file formats carry every device
DETAIL_MAX_HOSTS = 25  # a site this small also gets every finding with its rule (e.g. `scan --local`)


def _t(rows: Sequence[Sequence[Value]], headers: list[str], width: int = _W) -> str:
    clean = [[one_line(str(c), width) if isinstance(c, str) else ("" if c is None else c) for c in row] for row in rows]
    return tabulate(clean, headers=headers, tablefmt="simple", disable_numparse=True)


def _wrap(text: str, width: int = 100) -> str:
    """Long sentences (the CAF statement) wrapped, never cut off."""
    return "\n".join(textwrap.wrap(one_line(text), width)) or ""


def render(report: EstateReport) -> str:
    out: list[str] = []
    head = header_lines(report)
    if head:
        out += ["*" * 78] + [f"*** {line}" for h in head for line in textwrap.wrap(one_line(h), 74)] + ["*" * 78]
    out.append(
        f"legacyscan {report.tool_version} — support status as of {report.as_of.isoformat()} "
        f"(dataset {report.dataset_version})"
    )
    out += ["", "== Estate", _t(kpi_rows(report.kpis, report.kpi_change, report.currency), ["KPI", "value", "change"])]
    for site in report.sites:
        counts = site.counts()
        out += [
            "",
            f"== Site: {one_line(site.site, 60)} — {len(site.hosts)} host(s); "
            + ", ".join(f"{k} {v}" for k, v in counts.items() if v),
        ]
        k = site.kpis
        out.append(
            f"   unsupported OS {k.unsupported_os}/{k.devices}; Windows 10 {k.windows10} "
            f"(Windows 11-ready {k.win11_ready}); open findings {k.open_findings}; "
            f"accepted {k.accepted_findings}"
        )
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
                    cost_text(h.action.cost, report.currency),
                    money(h.extended_cost, report.currency),
                    h.scheduled,
                ]
            )
        if rows:
            out += [
                "",
                "Replacement list (highest priority first):",
                _t(
                    rows,
                    [
                        "#",
                        "host",
                        "priority",
                        "band",
                        "os",
                        "os status",
                        "action",
                        "win11",
                        "cost",
                        "extended/yr",
                        "FY",
                    ],
                    60,
                ),
            ]
            if len(to_act) > TABLE_MAX_DEVICES:
                out.append(
                    f"   … and {len(to_act) - TABLE_MAX_DEVICES} more device(s) to act on: the full list is "
                    "in --format csv, xlsx, html or json"
                )
        else:
            out.append("   nothing to act on")
        accepted = [
            [
                h.hostname,
                release_name(r.finding),
                r.exception.id if r.exception else "",
                iso(r.exception.expires) if r.exception else "",
            ]
            for h in site.hosts
            for r in h.accepted_rows
        ]
        if accepted:
            out += ["", "Accepted (exception register):", _t(accepted, ["host", "release", "exception", "expires"])]
        expired = [
            [
                h.hostname,
                release_name(r.finding),
                r.exception.id if r.exception else "",
                iso(r.exception.expires) if r.exception else "",
            ]
            for h in site.hosts
            for r in h.rows
            if r.exception_state == "exception expired"
        ]
        if expired:
            out += [
                "",
                "Exception expired (back on the action list):",
                _t(expired, ["host", "release", "exception", "expired"]),
            ]
        if site.hosts and len(site.hosts) <= DETAIL_MAX_HOSTS:
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
            out += [
                "",
                "Findings (every identified product, with the rule that decided it):",
                _t(
                    detail,
                    ["host", "kind", "name", "version", "product cycle", "status", "until", "exception", "rule"],
                    40,
                ),
            ]
        if site.not_reached:
            out += [
                "",
                "Not reached:",
                _t(
                    [[st.target, st.status, st.error, st.last_ok_at or "never"] for st in site.not_reached],
                    ["target", "status", "error", "last ok"],
                ),
            ]
    if report.products:
        out += [
            "",
            "== Products out of (or leaving) support",
            _t(
                [[p.name, p.status.value, p.end_text, str(p.devices), str(len(p.sites))] for p in report.products],
                ["release", "status", "end", "devices", "sites"],
                60,
            ),
        ]
    if report.plan:
        cap = (
            f"capacity {report.devices_per_year} devices per year"
            if report.devices_per_year
            else "no capacity set: each device in the year it is due"
        )
        out += [
            "",
            f"== Replacement plan by NHS financial year (each device once, from its earliest open end; {cap})",
            _t(
                [
                    [
                        y[0],
                        str(y[1]),
                        cost_text(y[2] if isinstance(y[2], float) else None, report.currency),
                        str(y[3]),
                        str(y[4]),
                    ]
                    for y in plan_by_year(report)
                ],
                ["FY", "devices", "cost", "already past end", "deferred by capacity"],
            ),
            "",
            _t(
                [
                    [
                        r[0],
                        r[1],
                        str(r[2]),
                        r[3],
                        cost_text(p.cost, report.currency),
                        money(p.extended_per_year if p.extended_devices else None, report.currency),
                    ]
                    for r, p in zip(plan_rows(report), report.plan, strict=True)
                ],
                ["site", "FY", "devices", "actions", "cost", "extended support/yr"],
                70,
            ),
        ]
    if report.extended_support:
        out += [
            "",
            "== Replace or pay: paid extended support per year vs the planned actions (once)",
            _t(
                [
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
                ],
                ["site", "extended support", "devices", "per year", "until", "actions (once)", "years", "basis"],
                60,
            ),
        ]
    if report.roadmap:
        out += [
            "",
            "== Roadmap (NHS financial-year quarters; a device's action cost on its earliest end's row)",
            _t(
                [
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
                ],
                ["period", "release", "status", "end", "devices", "actions here", "cost"],
            ),
        ]
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
    ev = evidence_rows(report)
    meta = [[k, _wrap(str(v), 100)] for k, v in meta_rows(report)]
    out += [
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
    return "\n".join(out) + "\n"
