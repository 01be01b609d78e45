"""``legacyscan benchmark FILES...``: organisations side by side, in every report format.

One view model (``Comparison``: the organisations, the KPI rows with one value per organisation,
and one row per organisation and site), laid out by the same writers and with the same escaping as
the estate report: plain-text tables through ``reports.table``'s tabulate helper (``one_line``
flattens control characters), CSV and XLSX cells through ``reports.common.neutralise`` /
``reports.xlsx._cell`` (formula injection, XML-illegal characters), HTML through ``reports.html``'s
``_e`` / ``_table`` under its pinned Content-Security-Policy, and JSON as data.  A benchmark file
comes from another organisation: every string in it is hostile until a writer has escaped it.

Figures judged on different dates or with different datasets are not strictly comparable; every
format says so in a warning line rather than refusing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

from reports.common import Value, neutralise, one_line, pct
from scanner.report.benchmark_export import KPIS, BenchmarkKpiName, BenchmarkKpis
from scanner.report.benchmark_file import BenchmarkFile
from scanner.report.formats import ReportFormat

SCHEMA = "legacyscan-benchmark-comparison/1"
ALL_SITES = "(all sites)"
# The per-site table: the figures a regional lead compares first.
SITE_KPIS: tuple[BenchmarkKpiName, ...] = (
    "devices",
    "unsupported_os",
    "unsupported_os_share",
    "median_days_past_end",
    "windows10",
    "win11_ready_share",
    "devices_with_open_findings_share",
    "stale_share",
    "coverage",
)
SITE_HEADERS = [
    "devices",
    "unsupported OS",
    "share",
    "median days past end",
    "Windows 10",
    "Windows 11-ready",
    "with open findings",
    "stale",
    "coverage",
]


@dataclass(slots=True)
class Comparison:
    files: list[BenchmarkFile]
    labels: list[str]  # one unique column label per file
    warnings: list[str] = field(default_factory=list)

    def kpi_rows(self) -> list[tuple[BenchmarkKpiName, str, str, list[Any]]]:
        """(key, label, kind, one value per organisation) for the organisations' totals."""
        return [(key, label, kind, [f.totals[key] for f in self.files]) for key, (kind, label) in KPIS.items()]

    def site_rows(self) -> list[tuple[str, str, str, BenchmarkKpis]]:
        """(organisation label, ODS code, site, KPIs): each organisation's total, then its sites."""
        out: list[tuple[str, str, str, BenchmarkKpis]] = []
        for label, f in zip(self.labels, self.files, strict=True):
            out.append((label, f.ods_code, ALL_SITES, f.totals))
            out.extend((label, f.ods_code, s.site, s.kpis) for s in f.sites)
        return out

    def meta_rows(self) -> list[list[Value]]:
        return [
            [
                label,
                f.ods_code,
                f.as_of.isoformat(),
                f.dataset_version,
                f.tool_version,
                len(f.sites),
                "demo data" if f.demo else "",
                f.path,
            ]
            for label, f in zip(self.labels, self.files, strict=True)
        ]


META_HEADERS = ["organisation", "ODS code", "as of", "dataset version", "legacyscan", "sites", "note", "file"]


def compare(files: Sequence[BenchmarkFile]) -> Comparison:
    labels: list[str] = []
    seen: set[str] = set()
    for f in files:
        base = f.label
        label, n = base, 2
        while label.lower() in seen:
            label, n = f"{base} ({n})", n + 1
        seen.add(label.lower())
        labels.append(label)
    warnings = []
    dates = sorted({f.as_of.isoformat() for f in files})
    if len(dates) > 1:
        warnings.append(
            f"Figures judged on different dates ({', '.join(dates)}): an older date shows fewer devices "
            "past end of support."
        )
    datasets = sorted({f.dataset_version.split("+site:")[0] for f in files})
    if len(datasets) > 1:
        warnings.append(
            f"Figures judged with different end-of-life datasets ({'; '.join(datasets)}): run "
            "`legacyscan eol update` everywhere before exporting."
        )
    if any(f.demo for f in files):
        warnings.append("Includes DEMO data (legacyscan demo), not a real organisation.")
    return Comparison(list(files), labels, warnings)


def shown(value: Any, kind: str) -> Value:
    """A value as people read it (shares as percentages, "n/a" for none)."""
    if value is None:
        return "n/a"
    if kind == "share":
        return pct(float(value))
    if kind == "days":
        return f"{float(value):,.0f}"
    return int(value)


# -- text ---------------------------------------------------------------------------------------


def _t(rows: Sequence[Sequence[Value]], headers: list[str]) -> str:
    from tabulate import tabulate

    clean = [[one_line(c, 48) if isinstance(c, str) else ("" if c is None else c) for c in row] for row in rows]
    return tabulate(clean, headers=[one_line(h, 48) for h in headers], tablefmt="simple", disable_numparse=True)


def render_table(c: Comparison) -> str:
    out = ["legacyscan benchmark — organisations compared", ""]
    out += [f"WARNING: {one_line(w)}" for w in c.warnings]
    out += ["", "== Organisations", _t(c.meta_rows(), META_HEADERS), "", "== Key figures"]
    out.append(
        _t(
            [[label, *(shown(v, kind) for v in values)] for _k, label, kind, values in c.kpi_rows()],
            ["figure", *c.labels],
        )
    )
    out += ["", "== Sites"]
    out.append(
        _t(
            [[org, site, *(shown(k[key], KPIS[key][0]) for key in SITE_KPIS)] for org, _ods, site, k in c.site_rows()],
            ["organisation", "site", *SITE_HEADERS],
        )
    )
    return "\n".join(out) + "\n"


# -- CSV ----------------------------------------------------------------------------------------


def _csv_cell(value: Value) -> Value:
    if isinstance(value, str):
        return neutralise(value.replace("\x00", ""))
    return value


def render_csv(c: Comparison) -> str:
    """One flat table (what people pivot): a row per organisation total and per site, every KPI a
    column, raw numbers (shares as fractions)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["organisation", "ods_code", "site", "as_of", "dataset_version", *KPIS])
    by_label = dict(zip(c.labels, c.files, strict=True))
    for org, ods, site, k in c.site_rows():
        f = by_label[org]
        w.writerow(
            [
                _csv_cell(v)
                for v in (
                    org,
                    ods,
                    site,
                    f.as_of.isoformat(),
                    f.dataset_version,
                    *("" if k[key] is None else k[key] for key in KPIS),
                )
            ]
        )
    return buf.getvalue()


# -- JSON ---------------------------------------------------------------------------------------


def render_json(c: Comparison) -> str:
    doc = {
        "schema": SCHEMA,
        "warnings": c.warnings,
        "organisations": [
            {
                "label": label,
                "name": f.name or None,
                "ods_code": f.ods_code or None,
                "as_of": f.as_of.isoformat(),
                "dataset_version": f.dataset_version,
                "tool_version": f.tool_version,
                "demo": f.demo,
                "file": f.path,
                "totals": f.totals,
                "sites": [{"site": s.site, "kpis": s.kpis} for s in f.sites],
            }
            for label, f in zip(c.labels, c.files, strict=True)
        ],
        "figures": [{"key": key, "label": label, "values": values} for key, label, _kind, values in c.kpi_rows()],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


# -- XLSX ---------------------------------------------------------------------------------------


def _compared_rows(c: Comparison) -> list[list[Any]]:
    """A row per figure, a column per organisation: shares as percentages (a number column holds
    counts and percentages alike, so the row says which)."""
    return [
        [f"{label} (%)", *(None if v is None else round(float(v) * 100, 2) for v in values)]
        if kind == "share"
        else [label, *values]
        for _k, label, kind, values in c.kpi_rows()
    ]


def render_xlsx(c: Comparison) -> bytes:
    from openpyxl import Workbook

    from reports.xlsx import _cell, _sheet

    wb = Workbook(write_only=True)
    banner = " — ".join(c.warnings)
    kinds = {"share": "pct", "days": "num", "count": "int"}
    compared = _compared_rows(c)
    # the organisations' labels are column headers here, which _sheet writes as given: neutralised now
    labels = [str(_cell(label)) for label in c.labels]
    _sheet(
        wb, "Compared", ["figure", *labels], compared, {1: 48}, banner, {i: "num" for i in range(1, len(c.labels) + 1)}
    )
    site_headers = ["organisation", "ODS code", "site", *(KPIS[k][1] for k in KPIS)]
    site_types = {3 + i: kinds[KPIS[k][0]] for i, k in enumerate(KPIS)}
    _sheet(
        wb,
        "Sites",
        site_headers,
        [[org, ods, site, *(k[key] for key in KPIS)] for org, ods, site, k in c.site_rows()],
        {1: 30, 3: 30},
        banner,
        site_types,
    )
    _sheet(wb, "Organisations", META_HEADERS, c.meta_rows(), {1: 30, 4: 60, 8: 40}, banner)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- HTML ---------------------------------------------------------------------------------------


def _bars(c: Comparison, key: BenchmarkKpiName) -> str:
    """Horizontal bars of one share per organisation (inline SVG, escaped labels)."""
    from reports.html import STATUS_COLOURS, _e, _svg

    label_w, bar_w, row_h = 260, 320, 24
    rows = []
    for i, (label, f) in enumerate(zip(c.labels, c.files, strict=True)):
        value = f.totals[key]
        y = 8 + i * row_h
        w = bar_w * float(value or 0)
        short = label if len(label) <= 40 else label[:39] + "…"
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="16" fill="{STATUS_COLOURS["eol"]}">'
            f"<title>{_e(label)}: {_e(pct(value))}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{_e(pct(value))}</text>'
        )
    return _svg(label_w + bar_w + 60, 16 + len(c.files) * row_h, "".join(rows), KPIS[key][1])


def render_html(c: Comparison) -> str:
    from reports.html import CSP, CSS, JS, _e, _table

    title = "legacyscan benchmark — organisations compared"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f'<header><h1>{_e(title)}</h1><p class="meta">{len(c.files)} organisation(s) · anonymised '
        "benchmark files (legacyscan export --benchmark) · click a column header to sort</p>",
    ]
    parts += [f'<p class="warn" role="note"><b>Warning:</b> {_e(w)}</p>' for w in c.warnings]
    parts.append("</header><main><h2>Organisations</h2>")
    parts.append(_table(META_HEADERS, c.meta_rows(), num_cols={5}))
    parts.append(
        '<h2>Key figures</h2><div class="charts">'
        f"<figure><figcaption>Share of devices on an unsupported OS</figcaption>"
        f"{_bars(c, 'unsupported_os_share')}</figure>"
        f"<figure><figcaption>Windows 11-ready share of Windows 10 devices</figcaption>"
        f"{_bars(c, 'win11_ready_share')}</figure></div>"
    )
    parts.append(
        _table(
            ["figure", *c.labels],
            [[label, *(shown(v, kind) for v in values)] for _k, label, kind, values in c.kpi_rows()],
            num_cols=set(range(1, len(c.labels) + 1)),
        )
    )
    parts.append("<h2>Sites</h2>")
    parts.append(
        _table(
            ["organisation", "site", *SITE_HEADERS],
            [[org, site, *(shown(k[key], KPIS[key][0]) for key in SITE_KPIS)] for org, _ods, site, k in c.site_rows()],
            num_cols=set(range(2, 2 + len(SITE_KPIS))),
        )
    )
    parts.append(f"</main><script>{JS}</script></body></html>\n")
    return "".join(parts)


def render(c: Comparison, fmt: ReportFormat) -> str | bytes:
    match fmt:
        case ReportFormat.TABLE:
            return render_table(c)
        case ReportFormat.CSV:
            return render_csv(c)
        case ReportFormat.JSON:
            return render_json(c)
        case ReportFormat.XLSX:
            return render_xlsx(c)
        case ReportFormat.HTML:
            return render_html(c)
        case _:
            assert_never(fmt)
