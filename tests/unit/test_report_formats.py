"""Report formats: one enum (``scanner.report.formats.ReportFormat``), the CLI's choices from it (#18 item 5).

The CLI surface is a contract: the five format names, in this order, the table as the default, and
argparse's own refusal of anything else; every format has a renderer, the stream writers are exactly
the two text formats that had them, and ``demo`` names its files as before.
"""

from __future__ import annotations

import argparse

import pytest

from reports import benchmark as benchmark_reports
from scanner.cli import build_parser
from scanner.cli.report import renderer, writer
from scanner.report.formats import CHOICES, ReportFormat

NAMES = ("table", "csv", "json", "xlsx", "html")


def _format_action(command: str) -> argparse.Action:
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if "--format" in a.option_strings)


@pytest.mark.parametrize("command", ["report", "scan", "discover", "benchmark"])
def test_cli_format_choices_are_the_enum_in_order(command: str) -> None:
    action = _format_action(command)
    assert tuple(action.choices or ()) == NAMES == CHOICES
    assert action.default == "table"


def test_an_unknown_format_is_refused_by_argparse_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser(["report"]).parse_args(["report", "--format", "pdf"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "[--format {table,csv,json,xlsx,html}]" in err
    assert "argument --format: invalid choice: 'pdf' (choose from 'table', 'csv', 'json', 'xlsx', 'html')" in err


def test_every_format_has_a_renderer_and_only_csv_and_json_stream() -> None:
    assert [f.value for f in ReportFormat] == list(NAMES)
    for fmt in ReportFormat:
        assert callable(renderer(fmt))
        assert renderer(fmt).__module__ == f"reports.{fmt.value}"
    streaming = {fmt.value for fmt in ReportFormat if writer(fmt) is not None}
    assert streaming == {"csv", "json"}


def test_binary_and_extension() -> None:
    assert [f.value for f in ReportFormat if f.binary] == ["xlsx"]
    assert {f.value: f.extension for f in ReportFormat} == {
        "table": "txt",
        "csv": "csv",
        "json": "json",
        "xlsx": "xlsx",
        "html": "html",
    }


def test_benchmark_comparison_renders_every_format() -> None:
    comparison = benchmark_reports.compare([])
    for fmt in ReportFormat:
        out = benchmark_reports.render(comparison, fmt)
        assert isinstance(out, bytes if fmt.binary else str) and out
