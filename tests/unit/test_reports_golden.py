"""Golden outputs: every format rendered from the fixed estate (report_estate.py) must not drift.

A change in a renderer, the priority model or the plan shows up here as a diff to review.  After
an intended change regenerate with ``LEGACYSCAN_UPDATE_GOLDEN=1 python -m pytest
tests/unit/test_reports_golden.py`` and commit the files under ``tests/fixtures/golden/``.
The XLSX golden is the workbook's cell values and sheet layout as JSON (the zip carries timestamps).
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

import reports.csv
import reports.html
import reports.json
import reports.table
import reports.xlsx
from scanner.report.model import EstateReport
from tests.unit import report_estate as est

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden"
UPDATE = os.environ.get("LEGACYSCAN_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def report() -> EstateReport:
    return est.report(demo="DEMO DATA — golden test estate", dataset_version="golden-dataset@2026-08-22")


def xlsx_snapshot(data: bytes) -> dict[str, Any]:
    wb = load_workbook(io.BytesIO(data))
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        out[ws.title] = {
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "widths": {k: round(v.width, 1) for k, v in sorted(ws.column_dimensions.items()) if v.width},
            "rows": [[c for c in row] for row in ws.iter_rows(values_only=True)],
        }
    return out


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"golden file {path} missing; run with LEGACYSCAN_UPDATE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    expected = path.read_bytes().decode("utf-8")  # keep CRLF (CSV) as written
    assert text == expected, f"{name} differs from the golden file; review, then LEGACYSCAN_UPDATE_GOLDEN=1"


def test_table_golden(report: EstateReport) -> None:
    _check("report.txt", reports.table.render(report))


def test_csv_golden(report: EstateReport) -> None:
    _check("report.csv", reports.csv.render(report))


def test_json_golden(report: EstateReport) -> None:
    text = reports.json.render(report)
    data = json.loads(text)
    # the keys other tools and the README rely on
    assert {"schema", "as_of", "dataset_version", "tool_version", "sites"} <= set(data)
    host = data["sites"][0]["hosts"][0]
    assert {"hostname", "os", "findings"} <= set(host) and {"product", "cycle", "status", "eol"} <= set(host["os"])
    _check("report.json", text)


def test_json_without_orjson_is_byte_identical(report: EstateReport, monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson is optional at run time: the stdlib fallback writes exactly the same report."""
    indented = reports.json.render(report)
    limit = reports.json.INDENT_MAX_FINDINGS
    monkeypatch.setattr(reports.json, "INDENT_MAX_FINDINGS", 0)  # the compact form for large estates
    compact = reports.json.render(report)
    assert json.loads(compact) == json.loads(indented) and len(compact) < len(indented)
    monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` raises ImportError
    assert reports.json.render(report) == compact
    monkeypatch.setattr(reports.json, "INDENT_MAX_FINDINGS", limit)
    assert reports.json.render(report) == indented


def test_html_golden(report: EstateReport) -> None:
    _check("report.html", reports.html.render(report))


def test_xlsx_golden(report: EstateReport) -> None:
    snap = xlsx_snapshot(reports.xlsx.render(report))
    assert list(snap)[:2] == ["Summary", "Site North General"]
    assert {"Devices", "Products", "Roadmap", "Register", "Evidence 8.2.1"} <= set(snap)
    for sheet in snap.values():
        assert sheet["freeze"] == "A3" and sheet["filter"]  # banner row, header row, then data
    _check("report.xlsx.json", json.dumps(snap, ensure_ascii=False, indent=1, default=str) + "\n")


def test_compact_json_for_large_reports_says_the_same(report: EstateReport, monkeypatch: pytest.MonkeyPatch) -> None:
    pretty = reports.json.render(report)
    monkeypatch.setattr(reports.json, "INDENT_MAX_FINDINGS", 0)
    compact = reports.json.render(report)
    assert "\n  " not in compact and compact.endswith("\n")
    assert json.loads(compact) == json.loads(pretty)
