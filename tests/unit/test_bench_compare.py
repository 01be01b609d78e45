"""tools/bench_compare.py's pure parts: which keys are figures, the 10 % rule, two sides' lines compared."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "bench_compare.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_compare", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


tool = _tool()


def test_the_ten_percent_rule_in_both_directions() -> None:
    assert not tool.worse(10.0, 11.0, lower_is_better=True)  # exactly 10 % more: within
    assert tool.worse(10.0, 11.01, lower_is_better=True)
    assert not tool.worse(10.0, 2.0, lower_is_better=True)  # faster is never worse
    assert not tool.worse(200.0, 180.0, lower_is_better=False)  # exactly 10 % fewer per second: within
    assert tool.worse(200.0, 179.9, lower_is_better=False)
    assert not tool.worse(200.0, 900.0, lower_is_better=False)


def test_extract_expands_stars_and_list_items_and_skips_what_is_not_a_number() -> None:
    line = {
        "formats": {"csv": {"current": {"cpu_s": 2.5}}, "json": {"current": {"cpu_s": 3}}, "x": {"current": None}},
        "runs": [{"legacyscan": {"n": 7}}],
        "ok": True,
        "flag": {"cpu_s": False},
    }
    assert tool.extract(line, "formats.*.current.cpu_s") == {
        "formats.csv.current.cpu_s": 2.5,
        "formats.json.current.cpu_s": 3.0,
    }
    assert tool.extract(line, "runs.0.legacyscan.n") == {"runs.0.legacyscan.n": 7.0}
    assert tool.extract(line, "runs.1.legacyscan.n") == {}
    assert tool.extract(line, "ok") == {}  # a bool is no figure
    assert tool.extract(line, "flag.cpu_s") == {}
    assert tool.extract(line, "missing.cpu_s") == {}


def test_line_key_names_bench_and_backend_or_scenario() -> None:
    assert tool.line_key({"bench": "ingest", "backend": "sqlite"}) == "ingest/sqlite"
    assert tool.line_key({"benchmark": "eol_identify_cli"}) == "eol_identify_cli"
    assert tool.line_key({"scenario": "fleet"}) == "?/fleet"


def test_json_lines_keeps_only_json_objects() -> None:
    text = 'warming up\n{"bench": "a", "x": 1}\n[1, 2]\n{not json\n  {"bench": "b"}  \n'
    assert tool.json_lines(text) == [{"bench": "a", "x": 1}, {"bench": "b"}]


def test_compare_two_sides_medians_ratio_and_verdict() -> None:
    bench = tool.Bench(
        "x",
        "x.py",
        (),
        (
            tool.Figure("ours.cpu_s"),
            tool.Figure("ours.wall_s", judged=False),
            tool.Figure("rate", lower_is_better=False),
        ),
    )
    old = [
        [{"bench": "x", "ours": {"cpu_s": 1.0, "wall_s": 2.0}, "rate": 100}],
        [{"bench": "x", "ours": {"cpu_s": 1.2, "wall_s": 2.0}, "rate": 110}],
    ]
    new = [
        [{"bench": "x", "ours": {"cpu_s": 1.4, "wall_s": 9.0}, "rate": 104}],
        [{"bench": "x", "ours": {"cpu_s": 1.4, "wall_s": 9.0}, "rate": 106}],
    ]
    rows = tool.compare_runs(bench, old, new)["x"]
    cpu = rows["ours.cpu_s"]
    assert (cpu["old"], cpu["new"], cpu["ratio"], cpu["worse"]) == (1.1, 1.4, 1.273, True)
    assert rows["ours.wall_s"]["worse"] is False and rows["ours.wall_s"]["ratio"] == 4.5  # shown, not judged
    assert rows["rate"]["worse"] is False and rows["rate"]["better"] == "higher"


def test_a_paired_line_compares_its_baseline_with_its_current() -> None:
    bench = tool.Bench("report", "report.py", (), (tool.Figure("formats.*.{side}.cpu_s"),), paired=True)
    line = {
        "bench": "report",
        "formats": {
            "csv": {"baseline": {"cpu_s": 10.0}, "current": {"cpu_s": 12.0}},
            "json": {"baseline": {"cpu_s": 10.0}, "current": {"cpu_s": 9.0}},
        },
    }
    rows = tool.compare_runs(bench, [[line]], [[line]])["report"]
    assert set(rows) == {"formats.csv.cpu_s", "formats.json.cpu_s"}
    assert (rows["formats.csv.cpu_s"]["ratio"], rows["formats.csv.cpu_s"]["worse"]) == (1.2, True)
    assert rows["formats.json.cpu_s"]["worse"] is False


def test_figure_of_maps_a_concrete_name_back_and_refuses_an_unknown_one() -> None:
    figures = (tool.Figure("formats.*.{side}.wall_s", judged=False), tool.Figure("formats.*.{side}.cpu_s"))
    assert tool.figure_of(figures, "formats.csv.cpu_s") is figures[1]
    with pytest.raises(KeyError):
        tool.figure_of(figures, "formats.csv.rss")


def test_every_declared_bench_script_exists_and_only_helpers_are_left_out() -> None:
    scripts = {p.stem for p in (TOOL.parents[1] / "bench").glob("*.py")}
    declared = {b.script.removesuffix(".py") for b in tool.BENCHES}
    assert declared <= scripts
    assert scripts - declared == set(tool.NOT_BENCHMARKS)


def test_a_line_one_side_did_not_print_is_a_failure_not_a_pass() -> None:
    bench = tool.Bench("x", "x.py", (), (tool.Figure("ours.cpu_s"),))
    new_only = tool.Run("new", "cmd", lines=[{"bench": "x", "ours": {"cpu_s": 1.0}}])
    old_failed = tool.Run("old", "cmd", error="Traceback ...", returncode=1)
    (line,) = tool.report(bench, "a" * 40, "b" * 40, [old_failed, new_only])
    assert line["failed"] is True and line["figures"] == {}
    ok = tool.Run("old", "cmd", lines=[{"bench": "x", "ours": {"cpu_s": 1.0}}])
    (line,) = tool.report(bench, "a" * 40, "b" * 40, [ok, new_only])
    assert "failed" not in line and line["worse"] == []
