"""The XLSX rows written as text (``reports.xlsx._RowXml``) are exactly what openpyxl writes cell by
cell: every part of the workbook is byte-identical with and without the fast rows, on the golden
estate and on the hostile one (formula-like, control-character and whitespace strings), and the
hostile estate really sends rows down both paths."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

import reports.xlsx as xlsx
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
        '<c r="B7" t="n"><v>3</v></c><c r="C7" t="n"><v>2.5</v></c><c r="E7" t="inlineStr"/></row>'
    )
    assert (
        rows.xml([" padded "], 1)
        == '<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve"> padded </t></is></c></row>'
    )
    day = rows.xml([date(2026, 11, 30)], 2)
    assert day is not None and day.startswith('<row r="2"><c r="A2" s="') and "<v>46356</v>" in day
    for declined in ("=1+1", "#N/A", "line\nbreak", float("nan"), True, datetime(2026, 1, 1), b"x"):
        assert rows.xml(["ok", declined], 3) is None, declined
