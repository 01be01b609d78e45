"""Fuzzing the benchmark-file reader and the comparison writers (``legacyscan benchmark``).

A benchmark file comes from another organisation.  Whatever its bytes, the reader either accepts
it or raises ``BenchmarkFileError`` whose message starts with the file's name (never another
exception, never a partial result); whatever an accepted file says, every report format renders
it, and the HTML never carries its text unescaped.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reports.benchmark import compare, render
from scanner.report.benchmark_file import BenchmarkFileError, load, parse
from scanner.report.formats import ReportFormat
from tests.fuzz.strategies import hostile_text, mutated

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "benchmark"
SEEDS = [(FIXTURES / n).read_text(encoding="utf-8") for n in ("demo-a.json", "demo-b.json")]
BASE = json.loads(SEEDS[1])
REFERENCE = load(FIXTURES / "demo-a.json")
NAME = "fuzz.json"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)


def _check(data: bytes) -> None:
    try:
        parsed = parse(data, NAME)
    except BenchmarkFileError as exc:
        assert str(exc).startswith(f"{NAME}: ")
        return
    comparison = compare([REFERENCE, parsed])
    for fmt in ReportFormat:
        out = render(comparison, fmt)
        assert out
        if fmt == "html":
            assert isinstance(out, str)
            for text in (parsed.name, *(s.site for s in parsed.sites)):
                if "<" in text:
                    assert text not in out


@given(mutated(SEEDS))
def test_mutated_files_are_accepted_or_refused_naming_the_file(text: str) -> None:
    _check(text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_refused_naming_the_file(data: bytes) -> None:
    _check(data)


@given(st.sampled_from(PATHS), json_values)
def test_any_field_set_to_any_value_is_refused_with_its_path_or_accepted(path: tuple[Any, ...], value: Any) -> None:
    doc = copy.deepcopy(BASE)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        parse(data, NAME)
    except BenchmarkFileError as exc:
        assert str(exc).startswith(f"{NAME}: ")
        return
    _check(data)


@given(hostile_text, st.lists(hostile_text, min_size=1, max_size=3, unique=True))
def test_hostile_names_render_in_every_format(name: str, sites: list[str]) -> None:
    doc = copy.deepcopy(BASE)
    doc["organisation"]["name"] = name
    template = doc["sites"][0]
    doc["sites"] = [{"site": s, "kpis": copy.deepcopy(template["kpis"])} for s in sites]
    doc["totals"] = copy.deepcopy(template["kpis"])
    for key in (
        "devices",
        "unsupported_os",
        "extended_os",
        "ending_soon_os",
        "supported_os",
        "unknown_os",
        "windows10",
        "win11_ready",
        "win11_not_ready",
        "win11_unknown",
        "open_findings",
        "accepted_findings",
        "devices_with_open_findings",
        "stale",
        "inventoried",
        "discovered",
        "register",
        "targets",
        "not_reached",
    ):
        doc["totals"][key] = template["kpis"][key] * len(sites)
    _check(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
