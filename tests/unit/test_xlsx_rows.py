"""The XLSX rows written as text (``reports.xlsx._RowXml``, ``_SheetWriter``) are exactly what
openpyxl writes cell by cell: every part of the workbook is byte-identical with and without the
fast rows, on the golden estate, on the hostile one (formula-like, control-character and
whitespace strings) and on a report read from a demo store, and the hostile estate really sends
rows down both paths."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

import reports.xlsx as xlsx
from scanner.cli import main
from scanner.report.model import EstateReport
from tests.unit import report_estate as est
from tests.unit.test_reports_hostile import _estate as hostile_estate


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}  # core: a timestamp


def _both(report: EstateReport, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, bytes], dict[str, bytes]]:
    fast = _parts(xlsx.render(report))
    with monkeypatch.context() as m:
        m.setattr(xlsx, "_stream_rows", lambda ws: None)
        plain = _parts(xlsx.render(report))
    return fast, plain


@pytest.mark.parametrize("which", ["golden", "hostile"])
def test_fast_rows_write_the_same_workbook(which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = hostile_estate() if which == "hostile" else est.report(demo="DEMO DATA", dataset_version="d@2026-08-22")
    declined: list[int] = []
    written: list[int] = []
    xml = xlsx._RowXml.xml

    def counting(self: xlsx._RowXml, values: object, row_idx: int) -> str | None:
        text = xml(self, values, row_idx)  # type: ignore[arg-type]
        written.append(row_idx)
        if text is None:
            declined.append(row_idx)
        return text

    monkeypatch.setattr(xlsx._RowXml, "xml", counting)
    fast, plain = _both(report, monkeypatch)
    assert len(written) > 50  # the fast rows were in use (openpyxl writes with lxml here)
    assert fast.keys() == plain.keys()
    sheets = [n for n in fast if n.startswith("xl/worksheets/")]
    assert len(sheets) >= 10
    for name in fast:
        assert fast[name] == plain[name], name
    if which == "hostile":
        assert declined  # some rows went through openpyxl itself, and still match
    else:
        assert not declined  # the ordinary estate is written entirely as text


def test_row_xml_values() -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("t")
    rows = xlsx._RowXml(ws)
    assert rows.xml(["a & <b>", 3, 2.5, None, ""], 7) == (
        '<row r="7"><c r="A7" t="inlineStr"><is><t>a &amp; &lt;b&gt;</t></is></c>'
        '<c r="B7" t="n"><v>3</v></c><c r="C7" t="n"><v>2.5</v></c><c r="E7" t="inlineStr"></c></row>'
    )
    assert (
        rows.xml([" padded "], 1)
        == '<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve"> padded </t></is></c></row>'
    )
    day = rows.xml([date(2026, 11, 30)], 2)
    assert day is not None and day.startswith('<row r="2"><c r="A2" s="') and "<v>46356</v>" in day
    for declined in ("=1+1", "#N/A", "line\nbreak", float("nan"), True, datetime(2026, 1, 1), b"x"):
        assert rows.xml(["ok", declined], 3) is None, declined


HOSTILE_CELLS = [
    "NUL\x00byte",
    "vertical\x0btab",
    "lone \ud800 high and \udfff low surrogate",
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "#N/A",
    "a & <b> \"q\" 'x'",
    "x" * 32_767,
    "y" * 40_000,
    "line\r\nbreak",
    "😀 non-BMP é —",
    "\ufffe\uffff not characters",
    " padded ",
    "",
    "\u00a0=1+1",  # a formula after a no-break space
]


def _hostile_workbook(fast: bool) -> bytes:
    """A sheet written by ``_sheet`` with the hostile strings in an untyped column, a money column
    and a date column, beside ordinary numbers and dates; ``fast``: through ``_SheetWriter``."""
    wb = Workbook(write_only=True)
    rows: list[list[object]] = []
    for i, evil in enumerate(HOSTILE_CELLS):
        rows.append([i, evil, float(i) * 1.5, "2026-11-30", evil])
        rows.append([i, f"ok {i}", 1000 + i, evil, "plain"])
    types = {0: "int", 2: "money", 3: "date"}
    if fast:
        xlsx._sheet(wb, "Hostile", ["n", "text", "money", "date", "more"], rows, types=types, status_col=1)
    else:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(xlsx, "_stream_rows", lambda ws: False)
            xlsx._sheet(wb, "Hostile", ["n", "text", "money", "date", "more"], rows, types=types, status_col=1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_hostile_strings_are_written_as_openpyxl_writes_them_and_read_back_inert(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    declined: list[int] = []
    xml = xlsx._RowXml.xml

    def counting(self: xlsx._RowXml, values: object, row_idx: int) -> str | None:
        text = xml(self, values, row_idx)  # type: ignore[arg-type]
        if text is None:
            declined.append(row_idx)
        return text

    monkeypatch.setattr(xlsx._RowXml, "xml", counting)
    fast_bytes = _hostile_workbook(fast=True)
    assert declined and len(declined) < 2 * len(HOSTILE_CELLS)  # both paths taken
    fast, plain = _parts(fast_bytes), _parts(_hostile_workbook(fast=False))
    assert fast.keys() == plain.keys()
    for name in fast:
        assert fast[name] == plain[name], name
    ws = load_workbook(io.BytesIO(fast_bytes))["Hostile"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(values) == 2 * len(HOSTILE_CELLS)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f", (c.coordinate, c.value)
            if isinstance(c.value, str):
                assert not c.value.startswith(("=", "+", "-", "@")), c.value[:40]
                assert not set(c.value) & {"\x00", "\x0b", "\ufffe", "\uffff"}
                assert not any("\ud800" <= ch <= "\udfff" for ch in c.value)
                assert len(c.value) <= xlsx.MAX_CELL
    texts = {v[1] for v in values[0::2]}
    assert "'=cmd|' /C calc'!A0" in texts and "'+cmd|' /C calc'!A0" in texts and "'@SUM(1+1)" in texts
    assert "NUL byte" in texts and "vertical tab" in texts and "lone   high and   low surrogate" in texts
    assert "a & <b> \"q\" 'x'" in texts and "😀 non-BMP é —" in texts and " padded " in texts
    assert "#N/A" in texts  # text, not an error value
    assert "'\u00a0=1+1" in texts
    assert "x" * (xlsx.MAX_CELL - 1) + "…" in texts and "y" * (xlsx.MAX_CELL - 1) + "…" in texts
    for i, row in enumerate(values[0::2]):
        assert row[0] == i and isinstance(row[0], int)
        assert row[2] == float(i) * 1.5  # money stays a number
        assert row[3] == datetime(2026, 11, 30)  # a real date
    money = ws.cell(row=4, column=3)  # the second hostile row: 1.5
    assert money.number_format == xlsx.FORMATS["money"] and money.data_type == "n"
    day = ws.cell(row=4, column=4)
    assert day.is_date and day.number_format == xlsx.FORMATS["date"]
    # a hostile string in the date column stays (neutralised) text
    assert [v[3] for v in values[1::2]][3] == "'=cmd|' /C calc'!A0"


def test_capped_app_rows_are_the_first_rows_then_the_count_of_the_rest() -> None:
    """Past the cap the rows are counted, not built: what is written stays the first ``limit`` rows
    of ``app_rows`` and one line with the exact number left, at every edge of the cap."""
    report = hostile_estate()
    every = list(xlsx.app_rows(report))
    total = len(every)
    assert total > 10
    for limit in (0, 1, total - 1, total, total + 1):
        capped = list(xlsx.capped_app_rows(report, limit))
        assert capped[: min(limit, total)] == every[:limit]
        if limit >= total:
            assert len(capped) == total
        else:
            assert len(capped) == limit + 1
            assert str(capped[-1][0]).startswith(f"… {total - limit:,} more rows")


def test_a_report_from_a_demo_store_is_the_workbook_openpyxl_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real path: ``legacyscan demo`` stores an estate, ``legacyscan report --format xlsx``
    reads it back; the workbook written through ``_SheetWriter`` and the one written by openpyxl
    cell by cell are the same part for part, and openpyxl reads the same value, type and number
    format in every cell of every sheet."""
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--devices", "150", "--seed", "5", "--as-of", "2026-11-30", "-q"]) == 0
    common = ["report", "--db", f"sqlite:///{out / 'demo.db'}", "--config", str(out / "legacyscan.toml")]
    common += ["--exceptions", str(out / "exceptions.toml"), "--format", "xlsx", "-q"]
    written: list[int] = []
    xml = xlsx._RowXml.xml

    def counting(self: xlsx._RowXml, values: object, row_idx: int) -> str | None:
        written.append(row_idx)
        return xml(self, values, row_idx)  # type: ignore[arg-type]

    monkeypatch.setattr(xlsx._RowXml, "xml", counting)
    results = {}
    for name, fast in (("fast", True), ("plain", False)):
        with pytest.MonkeyPatch.context() as m:
            if not fast:
                m.setattr(xlsx, "_stream_rows", lambda ws: False)
            for as_of in ("2026-11-30", "2027-03-01"):
                path = out / f"{name}-{as_of}.xlsx"
                assert main([*common, "--as-of", as_of, "--out", str(path)]) == 0
                results[name, as_of] = path.read_bytes()
    assert len(written) > 1000  # the demo's rows went through _SheetWriter
    for as_of in ("2026-11-30", "2027-03-01"):
        fast_bytes, plain_bytes = results["fast", as_of], results["plain", as_of]
        assert _parts(fast_bytes) == _parts(plain_bytes)
        a, b = load_workbook(io.BytesIO(fast_bytes)), load_workbook(io.BytesIO(plain_bytes))
        assert a.sheetnames == b.sheetnames and len(a.sheetnames) >= 10
        cells = 0
        for ws_a, ws_b in zip(a.worksheets, b.worksheets, strict=True):
            rows_a, rows_b = list(ws_a.iter_rows()), list(ws_b.iter_rows())
            assert len(rows_a) == len(rows_b), ws_a.title
            for ra, rb in zip(rows_a, rows_b, strict=True):
                for ca, cb in zip(ra, rb, strict=True):
                    assert (ca.value, ca.data_type, ca.number_format) == (cb.value, cb.data_type, cb.number_format)
                    cells += 1
        assert cells > 10_000
        devices = a["Devices"]
        header = [c.value for c in next(devices.iter_rows(min_row=2, max_row=2))]
        first = list(next(devices.iter_rows(min_row=3, max_row=3)))
        assert header[0] == "rank" and first[0].data_type == "n"
        assert first[header.index("os end")].is_date
