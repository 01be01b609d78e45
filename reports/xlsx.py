"""XLSX workbook (openpyxl, write-only; the sheet rows written as XML text by ``_RowXml`` and
``_SheetWriter``): what finance and the SIRO open.

Sheets: Summary (KPIs and evidence metadata), one sheet per site (its replacement list),
Devices, Device applications (which application to update on which device), Products, Plan by
FY, Extended support, Roadmap, Register (exceptions), Evidence 8.2.1 (the unsupported-item
register), Coverage.  Every sheet has a frozen header row, an autofilter, sensible column widths,
print setup (A4 landscape, fit to width, header row repeated) and, where there is a status
column, conditional formatting that colours it.  Numbers, money, dates and percentages are typed
cells with number formats, so finance can sum and filter them.
Every string cell is neutralised against formula injection and stripped of characters XML cannot
carry (NUL and other C0 controls), so hostile inventory strings stay inert text.  Per-finding
detail is in the CSV and JSON formats (a 20,000-device estate has ~10^6 findings, too many for a
workbook people open).
``render`` returns bytes.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from datetime import date, datetime
from typing import Any

from openpyxl import LXML as OPENPYXL_LXML
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter, create_temporary_file
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

from reports.common import (
    COVERAGE_HEADERS,
    DEVICE_HEADERS,
    EVIDENCE_HEADERS,
    EXTENDED_HEADERS,
    MONEY_KPIS,
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
    header_lines,
    kpi_values,
    meta_rows,
    neutralise,
    plan_rows,
    product_rows,
    register_rows,
    roadmap_rows,
    site_rows,
)
from scanner.plan.actions import release_name
from scanner.report.model import ACCEPTED, EXPIRED, EstateReport, FindingRow, HostRow, KpiChange, SiteReport

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # not XML 1.0 text
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MAX_CELL = 32_000  # Excel's limit is 32,767 characters per cell
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
BANNER_FONT = Font(bold=True, color="9C0006")

# Number formats by column type.  Money columns carry the currency in their header.
FORMATS = {
    "int": "#,##0",
    "num": "#,##0.0",
    "money": "#,##0",
    "pct": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "delta": "+#,##0.##;-#,##0.##;0",
    "pts": "+0.0%;-0.0%;0.0%",
}
# Status colours (fill, font) for conditional formatting, as in the HTML report.
STATUS_FILLS = {
    "eol": ("F4CCCC", "9C0006"),
    "extended": ("FCE5CD", "7F4F00"),
    "ending-soon": ("FFF2CC", "7F6000"),
    "supported": ("D9EAD3", "274E13"),
    "unknown": ("EFEFEF", "434343"),
}


def _cell(value: Value) -> Value:
    if isinstance(value, str):
        if not value.isprintable():  # fast path: almost every cell is plain printable text
            value = _ILLEGAL.sub(" ", value)
        if len(value) > MAX_CELL:
            value = value[: MAX_CELL - 1] + "…"
        return neutralise(value)
    return value


_PROTO: dict[tuple[int, str], WriteOnlyCell] = {}
_DATES: dict[str, date] = {}


def _typed(ws: WriteOnlyWorksheet, value: Value, kind: str) -> object:
    """A typed cell: ISO date strings become dates (openpyxl gives a date value the ``yyyy-mm-dd``
    format itself) and ISO UTC timestamps date-times, whole numbers and plain decimals stay numbers
    in the General format, money, percentages and changes get their number format; anything else
    ("not costed", an empty date, "2026-07-11; covered until 2028-06-30", "never") stays text.
    The formatted cells copy one prototype's style: setting ``number_format`` per cell costs a
    style lookup each, which a 100,000-row sheet notices."""
    if kind == "datetime":
        if isinstance(value, str) and value[10:11] == "T":
            try:
                stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return _cell(value)
            c = WriteOnlyCell(ws, value=stamp.replace(tzinfo=None))  # UTC, as the header says
            c.number_format = FORMATS["datetime"]
            return c
        return _cell(value)
    if kind == "date":
        if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[10:11] in ("", "T"):
            day = _DATES.get(value)
            if day is None:
                try:
                    day = _DATES[value] = date.fromisoformat(value[:10])
                except ValueError:
                    return _cell(value)
            return day
        return _cell(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return _cell(value)
    if kind in ("int", "num"):
        return value
    c = WriteOnlyCell(ws, value=value)
    c._style = copy(_proto(ws, kind)._style)
    return c


def _proto(ws: WriteOnlyWorksheet, kind: str) -> WriteOnlyCell:
    """The cell whose style every ``kind`` number of ``ws`` copies (its number format registered
    with the workbook when it is made)."""
    proto = _PROTO.get((id(ws), kind))
    if proto is None or proto.parent is not ws:
        proto = _PROTO[(id(ws), kind)] = WriteOnlyCell(ws)
        proto.number_format = FORMATS[kind]
    return proto


_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FORMATTED = frozenset(("money", "pct", "delta", "pts"))  # number kinds with a number format


class _Formatted:
    """A number of a formatted kind (``_FORMATTED``) on its way into a row: the value and the
    prototype cell whose style it takes (what ``_typed`` would copy into a cell of its own)."""

    __slots__ = ("proto", "value")

    def __init__(self, value: float, proto: WriteOnlyCell) -> None:
        self.value = value
        self.proto = proto


class _RowXml:
    """A sheet row as the XML openpyxl writes for it (inline strings, numbers, dates as serial
    numbers with their style), made as text and written into the sheet's part as it is
    (``_SheetWriter``) instead of cell by cell: a 100,000-row sheet spent most of its time in
    openpyxl's per-cell objects, then in parsing each row's text back.  Returns None for any
    row holding a value it does not handle exactly as openpyxl would (a formula- or error-like
    string, a control character, a float that is not finite, another type): that row goes through
    openpyxl itself.

    Rows are cells (already typed and neutralised) until ``report_values``; from then on they are
    the report's own values, typed by column (``_typed``) and neutralised (``_cell``) here.  A
    string's cell after its reference is worked out once per distinct string (a 20,000-device
    workbook has ~500,000 string cells but ~22,000 distinct strings), and so is a date's."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.epoch = ws.parent.epoch
        self.letters: list[str] = []
        self.date_style: int | None = None
        self.kinds: dict[int, str] = {}
        self.typed: list[int] = []  # the typed columns, left to right (as a list comprehension meets them)
        self.raw = False
        self.tails: dict[str, str] = {}  # a clean string -> its cell after the reference; "" declined
        self.raw_tails: dict[str, str] = {}  # a report's string -> its neutralised cell's tail
        self.memos: list[dict[str, str]] = []  # per column: which of the two a string is looked up in
        self.dates: dict[date, str] = {}
        self.styles: dict[int, int] = {}  # id(prototype) -> its style id, once openpyxl has given it

    def report_values(self, kinds: dict[int, str], clean: bool) -> None:
        """Rows from now on are the report's values: ``kinds`` maps columns to a ``_typed`` kind;
        ``clean``: the values are neutralised already (and none is typed)."""
        self.kinds, self.typed, self.raw = kinds, sorted(kinds), not clean
        self.memos = []

    def cells(self, values: Sequence[object]) -> Sequence[object]:
        """The cells openpyxl writes for ``values`` (``_sheet``'s conversion before this class
        typed and neutralised rows itself)."""
        if not self.raw:
            return values
        kinds, ws = self.kinds, self.ws
        return [_typed(ws, v, kinds[i]) if i in kinds else _cell(v) for i, v in enumerate(values)]  # type: ignore[arg-type]

    def _letters(self, n: int) -> list[str]:
        while len(self.letters) < n:
            self.letters.append(get_column_letter(len(self.letters) + 1))
        return self.letters

    def _memos(self, n: int) -> list[dict[str, str]]:
        while len(self.memos) < n:
            raw = self.raw and len(self.memos) not in self.kinds
            self.memos.append(self.raw_tails if raw else self.tails)
        return self.memos

    def _typed_row(self, values: Sequence[object]) -> list[object]:
        """``values`` with the typed columns typed, left to right as ``cells`` does (so the workbook
        registers number formats in the same order); a formatted number as a ``_Formatted``."""
        row = list(values)
        ws, kinds, n = self.ws, self.kinds, len(row)
        for i in self.typed:
            if i >= n:
                break
            v, kind = row[i], kinds[i]
            cls = v.__class__
            if cls is int or cls is float:
                if kind in _FORMATTED:
                    row[i] = _Formatted(v, _proto(ws, kind))  # type: ignore[arg-type]
                elif kind != "int" and kind != "num":  # int and num: the number itself
                    row[i] = _typed(ws, v, kind)  # type: ignore[arg-type]
            else:
                row[i] = _typed(ws, v, kind)  # type: ignore[arg-type]
        return row

    def xml(self, values: Sequence[object], row_idx: int) -> str | None:
        n = len(values)
        letters, memos, r = self._letters(n), self._memos(n), str(row_idx)
        if self.typed:
            values = self._typed_row(values)
        out = [f'<row r="{r}">']
        for i, v in enumerate(values):
            if v is None:
                continue
            if v.__class__ is str:
                memo = memos[i]
                tail = memo.get(v)
                if tail is None:
                    tail = memo[v] = _string_tail(_cell(v) if memo is self.raw_tails else v)  # type: ignore[arg-type]
                if not tail:
                    return None
                out.append(f'<c r="{letters[i]}{r}"{tail}')
                continue
            if v.__class__ is int:  # as _number_xml writes it (an int is always finite)
                out.append(f'<c r="{letters[i]}{r}" t="n"><v>{v:.16g}</v></c>')
                continue
            cell = self._value(letters[i] + r, v)
            if cell is None:
                return None
            out.append(cell)
        out.append("</row>")
        return "".join(out)

    def _value(self, ref: str, v: object, style: str = "") -> str | None:
        cls = v.__class__
        if cls is str:
            return _string_xml(ref, v, style)  # type: ignore[arg-type]
        if cls is int or cls is float:
            return _number_xml(ref, v, style)  # type: ignore[arg-type]
        if cls is date:
            if style:
                return _number_xml(ref, to_excel(v, self.epoch), style)
            tail = self.dates.get(v)  # type: ignore[call-overload]
            if tail is None:
                if self.date_style is None:
                    self.date_style = WriteOnlyCell(self.ws, value=date(2000, 1, 1)).style_id
                tail = self.dates[v] = f' s="{self.date_style}" t="n"><v>{to_excel(v, self.epoch):.16g}</v></c>'  # type: ignore[index]
            return f'<c r="{ref}"{tail}'
        if cls is _Formatted:
            proto = v.proto  # type: ignore[attr-defined]
            sid = self.styles.get(id(proto))
            if sid is None:
                sid = self.styles[id(proto)] = proto.style_id
            return _number_xml(ref, v.value, f' s="{sid}"')  # type: ignore[attr-defined]
        if cls is Cell:
            return self._styled(ref, v)
        return None

    def _styled(self, ref: str, c: Cell) -> str | None:
        if c.hyperlink is not None or c.comment is not None or c.data_type not in ("n", "s", "d"):
            return None
        v = c._value
        if v is None:
            return None
        style = f' s="{c.style_id}"' if c.has_style else ""
        if c.data_type == "d":
            if v.__class__ is not datetime and v.__class__ is not date:
                return None
            return _number_xml(ref, to_excel(v, self.epoch), style)
        return self._value(ref, v, style) if v.__class__ in (str, int, float) else None


def _string_tail(v: str) -> str:
    """A string cell's XML after its reference and style, as openpyxl writes it; "" when openpyxl
    must write it itself (a formula- or error-like string, a character that is not printable, too
    long)."""
    if not v:  # as openpyxl writes an empty string's cell: <c ...></c>, not <c .../>
        return ' t="inlineStr"></c>'
    if v[0] in "=#" or not v.isprintable() or len(v) > 32767:
        return ""
    space = ' xml:space="preserve"' if v != v.strip() else ""
    return f' t="inlineStr"><is><t{space}>{v.translate(_XML_TEXT)}</t></is></c>'


def _string_xml(ref: str, v: str, style: str) -> str | None:
    tail = _string_tail(v)
    return f'<c r="{ref}"{style}{tail}' if tail else None


def _number_xml(ref: str, v: float, style: str) -> str | None:
    if not math.isfinite(v):
        return None
    return f'<c r="{ref}"{style} t="n"><v>{v:.16g}</v></c>'


class _SheetWriter(WorksheetWriter):  # type: ignore[misc,unused-ignore]  # openpyxl is untyped
    """openpyxl's writer of a write-only sheet, writing its part to a file this module holds open,
    so that a row made as text by ``_RowXml`` goes into the part as bytes, between the elements
    openpyxl writes itself (the sheet's top and tail, and any row ``_RowXml`` declines): no parse
    and re-serialisation of every row.  The bytes are what openpyxl's lxml writer would have made
    of the same row: ASCII, everything else as decimal character references (the writer's
    encoding), and an empty string's cell as ``<c ...></c>``."""

    def __init__(self, ws: WriteOnlyWorksheet, to_cells: Callable[[Any, int], Any]) -> None:
        out = create_temporary_file()
        self.fh = open(out, "wb")  # noqa: SIM115 - closed in close(), before openpyxl zips the part
        self.rows = _RowXml(ws)
        self.to_cells = to_cells
        self.pending = True  # lxml may hold output not yet in self.fh (its buffer comes first)
        super().__init__(ws, out)

    def get_stream(self) -> Any:
        """openpyxl's ``get_stream`` on ``self.fh`` instead of a file it opens itself."""
        with xmlfile(self.fh) as xf:
            with xf.element("worksheet", xmlns=SHEET_MAIN_NS):
                try:
                    while True:
                        el = yield
                        if el is True:
                            yield xf
                        elif el is not None:
                            xf.write(el)
                except GeneratorExit:
                    pass

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        text = self.rows.xml(row, row_idx)
        if text is None:
            super().write_row(xf, self.to_cells(self.rows.cells(row), row_idx), row_idx)
            self.pending = True
            return
        if self.pending:
            xf.flush()
            self.pending = False
        self.fh.write(text.encode("ascii", "xmlcharrefreplace"))

    def close(self) -> None:
        super().close()
        self.fh.close()


def _stream_rows(ws: WriteOnlyWorksheet) -> bool:
    """Have ``ws`` write every appended row through ``_RowXml`` into its part (``_SheetWriter``;
    openpyxl's own path for a row it declines); called before the first ``append``.  Only where
    openpyxl writes with lxml (its default when lxml is installed, as it is here): the writer's
    stream is lxml's incremental writer.  True when installed."""
    if not OPENPYXL_LXML:
        return False
    to_cells: Callable[[Any, int], Any] = ws._values_to_row

    def values_as_given(values: Any, _row_idx: int) -> Any:
        return values

    def install_writer() -> None:  # openpyxl calls this on every append; the writer is made once
        if ws._writer is not None:
            return
        ws._writer = _SheetWriter(ws, to_cells)
        ws._writer.write_top()

    ws._values_to_row = values_as_given
    ws._get_writer = install_writer
    return True


def _print_setup(ws: WriteOnlyWorksheet, title: str, orientation: str, first: int, org: str, as_of: str) -> None:
    """A4, fitted to the page width, the header row repeated, and on every printed page the trust's
    name (left), the sheet (centre) and the report date (right), page numbers in the footer."""
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{first}:{first}"
    if org:
        ws.oddHeader.left.text = _header_text(org)
    ws.oddHeader.center.text = _header_text(title)
    ws.oddHeader.right.text = _header_text(f"as of {as_of}")
    ws.oddFooter.center.text = "&P / &N"


def _header_text(text: str, limit: int = 80) -> str:
    """Text for a print header section: ``&`` starts a code there, so it is doubled; kept short
    (Excel refuses a header over 255 characters)."""
    clean = str(_cell(text))
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return clean.replace("&", "&&")


def _sheet(
    wb: Workbook,
    title: str,
    headers: list[str],
    rows: Iterable[Sequence[object]],
    widths: dict[int, int] | None = None,
    banner: str = "",
    types: dict[int, str] | None = None,
    status_col: int | None = None,
    clean: bool = False,
    org: str = "",
    as_of: str = "",
) -> None:
    """One sheet; ``types`` maps 0-based columns to a FORMATS kind; ``status_col`` (0-based) gets
    conditional formatting by status; ``org`` and ``as_of`` head every printed page."""
    ws: WriteOnlyWorksheet = wb.create_sheet(title=title)
    fast = _stream_rows(ws)
    for i, h in enumerate(headers, 1):
        width = (widths or {}).get(i) or min(60, max(10, len(h) + 2))
        ws.column_dimensions[get_column_letter(i)].width = width
    first = 2 if banner else 1
    ws.freeze_panes = f"A{first + 1}"  # before the first append: write-only sheets emit the view first
    _print_setup(ws, title, "landscape", first, org, as_of)
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
    kinds = types or {}
    if fast:  # the writer types and neutralises the rows' values itself (_RowXml.report_values)
        ws._writer.rows.report_values(kinds, clean)
        for row in rows:
            ws.append(row)
            n += 1
    elif clean:  # the rows' cells are already neutralised and typed
        for row in rows:
            ws.append(row)
            n += 1
    elif kinds:
        for row in rows:
            ws.append(
                [
                    _typed(ws, v, kinds[i]) if i in kinds else _cell(v)  # type: ignore[arg-type]
                    for i, v in enumerate(row)
                ]
            )
            n += 1
    else:
        for row in rows:
            ws.append([_cell(v) for v in row])  # type: ignore[arg-type]
            n += 1
    last = first + max(n, 1)
    ws.auto_filter.ref = f"A{first}:{get_column_letter(len(headers))}{last}"
    if status_col is not None:
        col = get_column_letter(status_col + 1)
        area = f"{col}{first + 1}:{col}{last}"
        for status, (fill, font) in STATUS_FILLS.items():
            ws.conditional_formatting.add(
                area,
                FormulaRule(
                    formula=[f'LEFT(${col}{first + 1},{len(status)})="{status}"'],
                    fill=PatternFill("solid", fgColor=fill, bgColor=fill),
                    font=Font(color=font),
                ),
            )


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


APP_HEADERS = ["device", "site", "application", "version", "status", "end date", "action"]
# A workbook people open, not a database: past this many rows the sheet ends with a line saying
# how many more there are and that the CSV (one row per finding, every device) has them all.  A
# 2,000-device trust has about 10,000 rows; writing each costs ~50 us in openpyxl.
MAX_APP_ROWS = 12_000


def _app_findings(report: EstateReport) -> Iterator[tuple[SiteReport, HostRow, FindingRow]]:
    """Every open or excepted application finding, with its site and device, in sheet order."""
    for site in report.sites:
        for h in site.hosts:
            for r in h.rows:
                f = r.finding
                if f.kind == "os" or not (f.actionable or r.exception):
                    continue
                yield site, h, r


def _app_row_maker() -> Callable[[SiteReport, HostRow, FindingRow], list[object]]:
    """``app_rows``' row of one finding (``_app_findings``), with the memos the rows share."""
    static: dict[tuple[object, ...], list[object]] = {}
    sites: dict[int, object] = {}
    host: list[Any] = [None, None, None]  # the device of the last row, its name cell, its "goes with" text

    def row(site: SiteReport, h: HostRow, r: FindingRow) -> list[object]:
        site_cell = sites.get(id(site))
        if site_cell is None:
            site_cell = sites[id(site)] = _cell(site.site)
        if host[0] is not h:
            host[:] = [h, _cell(h.hostname), None]
        f = r.finding
        key = (id(f.detail), f.version, f.status, f.eol, f.extended_until)
        part = static.get(key)
        if part is None:
            end = f.extended_until if f.status.value == "extended" else f.eol
            part = static[key] = [_cell(release_name(f)), _cell(f.version), f.status.value, end]
        action: object
        if r.exception_state == ACCEPTED:
            action = _cell(f"accepted (exception {r.exception.id})" if r.exception else "accepted")
        elif h.action.kind in ("replace-device", "migrate-server") and r.open:
            if host[2] is None:
                host[2] = _cell(f"goes with the device ({h.action.text})")
            action = host[2]
        elif r.open:
            expired = r.exception_state == EXPIRED and r.exception is not None
            action = (
                _cell(f"update or remove (exception {r.exception.id} expired)")
                if expired and r.exception
                else "update or remove"
            )
        else:
            action = _cell(r.exception_state or "")
        return [host[1], site_cell, *part, action]

    return row


def app_rows(report: EstateReport) -> Iterable[list[object]]:
    """Which application to update on which device: every open or excepted application finding.

    ``end date`` is the end of support, or for an extended finding the end of its extended phase
    (a date cell).  ``action`` says what the device's plan does with it: goes with the device
    (replaced or migrated), update or remove, or accepted under the named exception.  Cells come
    out neutralised (the sheet is written without a second pass): the part thousands of devices
    share (release, version, status, end) is built once per package build."""
    row = _app_row_maker()
    for site, h, r in _app_findings(report):
        yield row(site, h, r)


def capped_app_rows(report: EstateReport, limit: int | None = None) -> Iterable[list[object]]:
    """``app_rows`` up to ``limit`` (default ``MAX_APP_ROWS``), then one line naming what is left
    (counted, not built: a 20,000-device estate has ~100,000 such rows)."""
    limit = MAX_APP_ROWS if limit is None else limit
    row = _app_row_maker()
    found = _app_findings(report)
    n = 0
    for site, h, r in found:
        if n >= limit:
            n += 1 + sum(1 for _ in found)
            break
        n += 1
        yield row(site, h, r)
    if n > limit:
        yield [
            f"… {n - limit:,} more rows: every device's applications are in --format csv (one row per "
            "finding) and --format json",
            "",
            "",
            "",
            "",
            None,
            "",
        ]


def _kpi_summary(report: EstateReport) -> list[list[object]]:
    """KPI rows with typed values and changes (a share as a percentage, money as money)."""
    out: list[list[object]] = []

    def block(title: str, k: object, change: KpiChange) -> None:
        out.append([title, "", ""])
        for key, label, value, delta in kpi_values(k, change):  # type: ignore[arg-type]
            kind = (
                "pct"
                if key.endswith("share") or key == "coverage"
                else "money"
                if key in MONEY_KPIS
                else "num"
                if key == "median_days_past_end"
                else "int"
            )
            dkind = "pts" if kind == "pct" else "delta"
            shown: object = value if value is not None else ("not costed" if key == "estimated_cost" else "n/a")
            out.append([label, (shown, kind), (delta, dkind) if delta is not None else ""])

    block("Estate KPIs", report.kpis, report.kpi_change)
    for site in report.sites:
        block(f"Site: {site.site}", site.kpis, site.kpi_change)
    return out


def render(report: EstateReport) -> bytes:
    wb = Workbook(write_only=True)
    banner = " — ".join(header_lines(report))
    cur = report.currency
    ws: WriteOnlyWorksheet = wb.create_sheet(title="Summary")
    for col, width in zip("ABC", (46, 60, 24), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3" if banner else "A2"
    org, as_of = report.organisation, report.as_of.isoformat()
    _print_setup(ws, "Summary", "portrait", 2 if banner else 1, org, as_of)
    if banner:
        c = WriteOnlyCell(ws, value=_cell(banner))
        c.font = BANNER_FONT
        ws.append([c])
    hdr = []
    for h in ("item", f"value (money in {cur})", "change since previous scan"):
        c = WriteOnlyCell(ws, value=h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        hdr.append(c)
    ws.append(hdr)
    summary_rows = _kpi_summary(report)
    for label, value, delta in summary_rows:
        row: list[object] = [_cell(label)]  # type: ignore[arg-type]
        for cell in (value, delta):
            if isinstance(cell, tuple):
                row.append(_typed(ws, cell[0], cell[1]))
            else:
                row.append(_cell(cell))  # type: ignore[arg-type]
        ws.append(row)
    n = len(summary_rows)
    ws.append(["Evidence", "", ""])
    for r in meta_rows(report):
        dated = r[0] == "Report date (as of)"  # a date cell, like every other date in the workbook
        ws.append([_cell(r[0]), _typed(ws, r[1], "date") if dated else _cell(r[1]), ""])
        n += 1
    first = 2 if banner else 1
    ws.auto_filter.ref = f"A{first}:C{first + n + 1}"
    used = {
        "summary",
        "devices",
        "device applications",
        "products",
        "plan by fy",
        "extended support",
        "roadmap",
        "register",
        "evidence 8.2.1",
        "coverage",
    }
    money, date_, int_, num = "money", "date", "int", "num"
    dev_widths = {2: 22, 3: 22, 6: 30, 9: 34, 10: 40, 13: 30, 14: 40, 16: 14, 19: 60, 20: 12}
    dev_types = {0: int_, 3: num, 7: date_, 10: int_, 11: int_, 14: money, 15: money}
    for site in report.sites:
        _sheet(
            wb,
            _title(site.site, used),
            SITE_HEADERS[:9] + [f"cost ({cur})", f"extended support per year ({cur})", "scheduled (FY)"],
            site_rows(site, cur),
            {2: 22, 5: 30, 7: 34, 8: 40, 9: 30, 12: 12},
            banner,
            {0: int_, 2: num, 9: money, 10: money},
            status_col=5,
            org=org,
            as_of=as_of,
        )
    _sheet(
        wb,
        "Devices",
        DEVICE_HEADERS[:14] + [f"cost ({cur})", f"extended support per year ({cur})"] + DEVICE_HEADERS[16:],
        (r for s in report.sites for r in device_rows(s, cur)),
        dev_widths,
        banner,
        dev_types,
        status_col=6,
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Device applications",
        APP_HEADERS,
        capped_app_rows(report),
        {1: 22, 2: 22, 3: 40, 4: 22, 5: 12, 6: 12, 7: 44},
        banner,
        status_col=4,
        clean=True,
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Products",
        PRODUCT_HEADERS,
        product_rows(report),
        {2: 34, 4: 30, 6: 40, 9: 50},
        banner,
        {3: date_, 4: int_, 6: int_, 7: num},
        status_col=2,
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Plan by FY",
        PLAN_HEADERS[:4]
        + [f"cost ({cur})"]
        + PLAN_HEADERS[5:8]
        + [f"extended support per year ({cur})", PLAN_HEADERS[9]],
        plan_rows(report),
        {1: 26, 4: 60},
        banner,
        {2: int_, 4: money, 5: int_, 6: int_, 7: int_, 8: money, 9: int_},
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Extended support",
        EXTENDED_HEADERS,
        extended_rows(report)
        or [["(none: no paid extended support is declared in the site catalogue; docs/site-catalogue.md)"]],
        {1: 26, 2: 34, 4: 34, 6: 40, 14: 70},
        banner,
        {4: int_, 8: money, 9: date_, 10: money, 11: int_, 12: num},
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Roadmap",
        ROADMAP_HEADERS[:9] + [f"cost of those actions ({cur})"],
        roadmap_rows(report),
        {3: 34, 6: 34, 8: 40},
        banner,
        {4: date_, 6: int_, 8: int_, 9: money},
        status_col=3,
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Register",
        REGISTER_HEADERS,
        register_rows(report),
        {3: 30, 4: 36, 5: 50, 6: 40, 13: 40},
        banner,
        {10: date_, 11: date_, 13: int_, 14: int_},
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Evidence 8.2.1",
        EVIDENCE_HEADERS,
        evidence_rows(report),
        {1: 22, 2: 30, 3: 24, 4: 30, 6: 30, 7: 50, 8: 50, 9: 40},
        banner,
        {3: date_, 4: int_},
        status_col=2,
        org=org,
        as_of=as_of,
    )
    _sheet(
        wb,
        "Coverage",
        COVERAGE_HEADERS[:4] + [f"{h} (UTC)" for h in COVERAGE_HEADERS[4:]],
        coverage_rows(report),
        {2: 30, 4: 50, 5: 18, 6: 18},
        banner,
        {4: "datetime", 5: "datetime"},
        org=org,
        as_of=as_of,
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
