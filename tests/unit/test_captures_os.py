"""Acceptance measurement: the OS of every labelled whole-host capture (real machines).

Each capture's raw OS section (systeminfo text fields, FusionInventory/GLPI inventory, sysctl,
system_profiler, os-release) goes through ``tests/corpus_input.os_record_from_capture`` and the
identify contract.  Target (issue 3): at least 95 % exact, at most 2 % wrong, no false "eol".
All labels count here, low confidence included (where a low label allows "none", so do we).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import BUNDLED_DIR, Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy
from tests.corpus_input import os_record_from_capture
from tests.unit.test_corpus_os import score

CAPTURES = Path(__file__).resolve().parents[2] / "scanner" / "demo_data" / "captures"
REF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog(BUNDLED_DIR))


def _cases(platforms: tuple[str, ...]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    cases = []
    for path in sorted(CAPTURES.glob("*/*.json")):
        cap = json.loads(path.read_text("utf-8"))
        if cap["platform"] in platforms:
            cases.append((path.name, os_record_from_capture(cap), cap["expected"]["os"]))
    return cases


def test_windows_and_macos_captures(ctx: IdentifyContext) -> None:
    s = score(_cases(("windows", "macos")), ctx, confidences=("high", "medium", "low"))
    print(f"\ncaptures windows+macos: {s['exact']}/{s['total']} exact, {s['wrong']} wrong, {s['false_eol']} false eol")
    assert s["total"] >= 25
    assert s["exact"] / s["total"] >= 0.95, s["misses"]
    assert s["wrong"] / s["total"] <= 0.02, s["misses"]
    assert s["false_eol"] == 0, s["misses"]


def test_all_captures(ctx: IdentifyContext) -> None:
    s = score(_cases(("windows", "macos", "linux")), ctx, confidences=("high", "medium", "low"))
    print(f"\ncaptures all: {s['exact']}/{s['total']} exact, {s['wrong']} wrong, {s['false_eol']} false eol")
    assert s["total"] >= 45
    assert s["exact"] / s["total"] >= 0.95, s["misses"]
    assert s["wrong"] / s["total"] <= 0.02, s["misses"]
    assert s["false_eol"] == 0, s["misses"]


@pytest.mark.parametrize(
    "name",
    ["win10-22h2-enterprise_wesng.json", "srv2016-datacenter_wesng.json", "win7-sp1-enterprise-n-x64-fr_wesng.json"],
)
def test_capture_reason_names_the_evidence(ctx: IdentifyContext, name: str) -> None:
    """Every verdict explains itself: the reason cites the build or NT version it used."""
    path = next(CAPTURES.glob(f"*/{name}"))
    out = evaluate(os_record_from_capture(json.loads(path.read_text("utf-8"))), ctx, REF, Policy())
    assert any(token in out["reason"] for token in ("19045", "14393", "7601")), out
    assert out["rule"].startswith(("windows", "windows-server"))


def test_windows_and_macos_captures_as_raw_agent_documents(ctx: IdentifyContext) -> None:
    """The capture's OS section handed over unconverted (flat or nested under "os")."""
    failures = []
    for path in sorted(CAPTURES.glob("*/*.json")):
        cap = json.loads(path.read_text("utf-8"))
        if cap["platform"] not in ("windows", "macos"):
            continue
        for variant in (
            {"kind": "os", "family": cap["platform"], **cap["os"]},
            {"kind": "os", "family": cap["platform"], "os": cap["os"]},
        ):
            out = evaluate(variant, ctx, REF, Policy())
            label = cap["expected"]["os"]
            ok = {(label["product"], label["cycle"])} | {
                (a["product"] if a["product"] != "none" else None, a.get("cycle"))
                for a in label.get("alternatives") or []
            }
            if (out["product"], out["cycle"]) not in ok:
                failures.append((path.name, out["product"], out["cycle"], out["reason"]))
    assert not failures, failures
