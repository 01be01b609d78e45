"""XLSX workbook (openpyxl, write-only for speed): what finance and the SIRO open.

Sheets: Summary (KPIs and evidence metadata), one sheet per site (its replacement list),
Devices, Products, Roadmap, Register (exceptions), Evidence 8.2.1 (the unsupported-item
register).  Every sheet has a frozen header row, an autofilter and sensible column widths.
Every string cell is neutralised against formula injection and stripped of characters XML cannot
carry (NUL and other C0 controls), so hostile inventory strings stay inert text.  Per-finding
detail is in the CSV and JSON formats (a 20,000-device estate has ~10^6 findings, too many for a
workbook people open).
``render`` returns bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.common import (
    COVERAGE_HEADERS,
    DEVICE_HEADERS,
    EVIDENCE_HEADERS,
    EXTENDED_HEADERS,
    PLAN_HEADERS,
    PRODUCT_HEADERS,
    REGISTER_HEADERS,
    ROADMAP_HEADERS,
    SITE_HEADERS,
    Value,
    coverage_rows,
    device_rows,
    evidence_rows,
    extended_rows,
    kpi_rows,
    meta_rows,
    neutralise,
    plan_rows,
    product_rows,
    register_rows,
    roadmap_rows,
    site_rows,
)
from scanner.rank import EstateReport

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # not XML 1.0 text
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MAX_CELL = 32_000  # Excel's limit is 32,767 characters per cell
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
BANNER_FONT = Font(bold=True, color="9C0006")


def _cell(value: Value) -> Value:
    if isinstance(value, str):
        if not value.isprintable():  # fast path: almost every cell is plain printable text
            value = _ILLEGAL.sub(" ", value)
        if len(value) > MAX_CELL:
            value = value[: MAX_CELL - 1] + "…"
        return neutralise(value)
    return value


def _sheet(wb: Workbook, title: str, headers: list[str], rows: Iterable[Sequence[Value]],
           widths: dict[int, int] | None = None, banner: str = "") -> None:
    ws: WriteOnlyWorksheet = wb.create_sheet(title=title)
    for i, h in enumerate(headers, 1):
        width = (widths or {}).get(i) or min(60, max(10, len(h) + 2))
        ws.column_dimensions[get_column_letter(i)].width = width
    first = 2 if banner else 1
    ws.freeze_panes = f"A{first + 1}"  # before the first append: write-only sheets emit the view first
    if banner:
        c = WriteOnlyCell(ws, value=_cell(banner))
        c.font = BANNER_FONT
        ws.append([c])
    header_cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        c.alignment = Alignment(vertical="top", wrap_text=True)
        header_cells.append(c)
    ws.append(header_cells)
    n = 0
    for row in rows:
        ws.append([_cell(v) for v in row])
        n += 1
    ws.auto_filter.ref = f"A{first}:{get_column_letter(len(headers))}{first + max(n, 1)}"


def _title(name: str, used: set[str]) -> str:
    """A sheet name Excel and LibreOffice accept: no control or format characters (a newline in a
    site name made a workbook Excel refuses to open), none of ``[]:*?/\\``, no leading or trailing
    apostrophe, at most 31 characters, unique ignoring case, never the reserved ``History``."""
    clean = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in name)
    base = " ".join(_SHEET_BAD.sub("_", clean).split()).strip("' ") or "site"
    base = ("Site " + base)[:31].rstrip("' ")
    title, i = base, 2
    while title.lower() in used:
        suffix = f" ({i})"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(title.lower())
    return title


def render(report: EstateReport) -> bytes:
    wb = Workbook(write_only=True)
    banner = report.demo
    cur = report.currency
    summary = [["Estate KPIs", "", ""]] + [list(r) for r in kpi_rows(report.kpis, report.kpi_change, cur)]
    for site in report.sites:
        summary.append([f"Site: {site.site}", "", ""])
        summary += [list(r) for r in kpi_rows(site.kpis, site.kpi_change, cur)]
    summary.append(["Evidence", "", ""])
    summary += [[r[0], r[1], ""] for r in meta_rows(report)]
    _sheet(wb, "Summary", ["item", "value", "change since previous scan"], summary, {1: 42, 2: 60, 3: 24},
           banner)
    used = {"summary", "devices", "products", "plan by fy", "extended support", "roadmap", "register",
            "evidence 8.2.1", "coverage"}
    dev_widths = {2: 22, 3: 22, 6: 26, 9: 34, 10: 40, 13: 30, 14: 40, 16: 14, 19: 60}
    for site in report.sites:
        _sheet(wb, _title(site.site, used), SITE_HEADERS, site_rows(site, cur),
               {2: 22, 5: 26, 7: 34, 8: 40, 9: 30}, banner)
    _sheet(wb, "Devices", DEVICE_HEADERS, (r for s in report.sites for r in device_rows(s, cur)), dev_widths,
           banner)
    _sheet(wb, "Products", PRODUCT_HEADERS, product_rows(report), {2: 30, 6: 40, 9: 50}, banner)
    _sheet(wb, "Plan by FY", PLAN_HEADERS, plan_rows(report), {1: 26, 4: 60}, banner)
    _sheet(wb, "Extended support", EXTENDED_HEADERS, extended_rows(report),
           {1: 26, 2: 34, 4: 34, 6: 40, 14: 70}, banner)
    _sheet(wb, "Roadmap", ROADMAP_HEADERS, roadmap_rows(report), {3: 30, 6: 40}, banner)
    _sheet(wb, "Register", REGISTER_HEADERS, register_rows(report), {3: 30, 4: 36, 5: 50, 6: 40, 13: 40},
           banner)
    _sheet(wb, "Evidence 8.2.1", EVIDENCE_HEADERS, evidence_rows(report), {1: 22, 2: 30, 6: 30, 7: 50, 8: 50,
                                                                            9: 40}, banner)
    _sheet(wb, "Coverage", COVERAGE_HEADERS, coverage_rows(report), {2: 30, 4: 50}, banner)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
