"""Streamed reports (``write(report, fh)``, device by device) are byte-identical to ``render``:
``legacyscan report`` streams CSV and JSON so a large estate's report is never one string in
memory, and the golden files pin ``render``."""

from __future__ import annotations

import io
import json
import sys

import pytest

import reports.csv
import reports.json
from scanner.report.model import EstateReport
from tests.unit import report_estate as est


@pytest.fixture(scope="module")
def report() -> EstateReport:
    return est.report()


def _written(module: object, report: EstateReport) -> str:
    buf = io.StringIO()
    module.write(report, buf)  # type: ignore[attr-defined]
    return buf.getvalue()


def test_csv_written_equals_rendered(report: EstateReport) -> None:
    assert _written(reports.csv, report) == reports.csv.render(report)


@pytest.mark.parametrize("orjson", [True, False], ids=["orjson", "json"])
def test_json_written_equals_rendered_indented_and_compact(
    report: EstateReport, orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not orjson:
        monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` raises ImportError
    assert _written(reports.json, report) == reports.json.render(report)  # small: indented, in one piece
    monkeypatch.setattr(reports.json, "INDENT_MAX_FINDINGS", 0)  # large: compact, device by device
    streamed = _written(reports.json, report)
    assert streamed == reports.json.render(report)
    data = json.loads(streamed)
    assert [len(s["hosts"]) for s in data["sites"]] == [len(s.hosts) for s in report.sites] and len(report.sites) > 1
