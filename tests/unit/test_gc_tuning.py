"""scanner/gc_tuning.py: the one place legacyscan sets the garbage collector."""

from __future__ import annotations

import gc
from pathlib import Path

from scanner.gc_tuning import GC_YOUNG_THRESHOLD, fewer_collections

ROOT = Path(__file__).resolve().parents[2]


def test_collections_are_fewer_inside_and_the_process_setting_comes_back() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    kept = [object() for _ in range(10)]  # allocated before: frozen out of collections inside
    with fewer_collections():
        inside = gc.get_threshold()
        assert inside[0] == max(before[0], GC_YOUNG_THRESHOLD) and inside[1] >= 20 and inside[2] == before[2]
        assert gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    try:
        with fewer_collections(young=123_456):
            assert gc.get_threshold()[0] == max(before[0], 123_456)
            raise RuntimeError("a scan that fails")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    assert kept


CALLS = ("gc.freeze", "gc.set_threshold", "gc.disable")


def test_nothing_else_in_scanner_or_agents_tunes_the_collector() -> None:
    tuning = ROOT / "scanner" / "gc_tuning.py"
    touching = [
        path.relative_to(ROOT).as_posix()
        for package in ("scanner", "agents")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != tuning and any(call in path.read_text("utf-8") for call in CALLS)
    ]
    assert touching == []
