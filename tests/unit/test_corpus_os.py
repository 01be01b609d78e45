"""Acceptance measurement: every OS record of the labelled corpus, through the identify contract.

Counted like the acceptance check (issue 3): high- and medium-confidence labels; exact product and
cycle or a listed alternative; product "none" must come back as no product; at most 1 % wrong (a
confident other product/cycle; "unknown" is a miss, not a wrong answer); never "eol" where the
label says supported.  Raw strings go through ``tests/corpus_input.py`` (routing only), so the
identifiers see what a collector would send.  Run ``pytest tests/unit/test_corpus_os.py -q -s`` to
print the figures.
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
from tests.corpus_input import os_record_from_corpus

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "os_records.jsonl"
REF = date(2026, 11, 22)


def expected_answers(label: dict[str, Any]) -> set[tuple[str | None, str | None]]:
    def one(product: str, cycle: str | None) -> tuple[str | None, str | None]:
        return (None, None) if product == "none" else (product, cycle)

    ok = {one(label["product"], label.get("cycle"))}
    ok.update(one(a["product"], a.get("cycle")) for a in label.get("alternatives") or [])
    return ok


def score(
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]],
    ctx: IdentifyContext,
    confidences: tuple[str, ...] = ("high", "medium"),
) -> dict[str, Any]:
    exact = wrong = false_eol = 0
    misses: list[tuple[str, tuple[Any, Any], str, str]] = []
    for rid, record, label in cases:
        if label["confidence"] not in confidences:
            continue
        out = evaluate(record, ctx, REF, Policy())
        got = (out["product"], out["cycle"])
        if got in expected_answers(label):
            exact += 1
        else:
            misses.append((rid, got, out["rule"], out["reason"]))
            if out["product"] is not None and out["cycle"] is not None:
                wrong += 1
        if out["status"] == "eol" and label.get("is_eol_2026_11_22") is False:
            false_eol += 1
            misses.append((rid, got, "FALSE EOL", out["reason"]))
    total = exact + sum(1 for m in misses if m[2] != "FALSE EOL")
    return {"total": total, "exact": exact, "wrong": wrong, "false_eol": false_eol, "misses": misses}


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog(BUNDLED_DIR))


def _cases(non_linux_only: bool) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    cases = []
    for line in CORPUS.read_text("utf-8").splitlines():
        rec = json.loads(line)
        record = os_record_from_corpus(rec["raw"], rec["raw_format"])
        if non_linux_only and record["family"] == "linux":
            continue
        cases.append((rec["id"], record, rec["expected"]))
    return cases


def test_corpus_windows_macos_unix_records(ctx: IdentifyContext) -> None:
    s = score(_cases(non_linux_only=True), ctx)
    print(f"\ncorpus non-Linux OS: {s['exact']}/{s['total']} exact, {s['wrong']} wrong, {s['false_eol']} false eol")
    assert s["total"] >= 35
    assert s["exact"] / s["total"] >= 0.97, s["misses"]
    assert s["wrong"] / s["total"] <= 0.01, s["misses"]
    assert s["false_eol"] == 0, s["misses"]


def test_corpus_all_os_records(ctx: IdentifyContext) -> None:
    s = score(_cases(non_linux_only=False), ctx)
    print(f"\ncorpus all OS: {s['exact']}/{s['total']} exact, {s['wrong']} wrong, {s['false_eol']} false eol")
    assert s["total"] >= 85
    assert s["exact"] / s["total"] >= 0.97, s["misses"]
    assert s["wrong"] / s["total"] <= 0.01, s["misses"]
    assert s["false_eol"] == 0, s["misses"]


def test_low_confidence_records_never_false_eol(ctx: IdentifyContext) -> None:
    """Low-confidence labels are not scored for accuracy, but a false "eol" is never acceptable."""
    s = score(_cases(non_linux_only=False), ctx, confidences=("low",))
    assert s["total"] >= 3
    assert s["false_eol"] == 0, s["misses"]


def _other_conversions(record: dict[str, Any], raw: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """How a different converter might hand over the same raw strings: raw labels as keys, one
    ``label: value`` blob, or every value run together as free text."""
    fam = record["family"]
    return [
        ("raw-keys", {"kind": "os", "family": fam, **raw}),
        ("blob", {"kind": "os", "family": fam, "raw": "\n".join(f"{k}: {v}" for k, v in raw.items())}),
        ("free-text", {"kind": "os", "family": fam, "text": " ".join(str(v) for v in raw.values())}),
    ]


def test_corpus_non_linux_records_survive_other_converters(ctx: IdentifyContext) -> None:
    """The held-out split is converted by a converter we cannot see: identification must not depend
    on our routing of raw labels to contract fields."""
    failures = []
    checked = 0
    for line in CORPUS.read_text("utf-8").splitlines():
        rec = json.loads(line)
        record = os_record_from_corpus(rec["raw"], rec["raw_format"])
        if "files" in record or rec["expected"]["confidence"] == "low":
            continue
        for name, variant in _other_conversions(record, rec["raw"]):
            out = evaluate(variant, ctx, REF, Policy())
            checked += 1
            if (out["product"], out["cycle"]) not in expected_answers(rec["expected"]):
                failures.append((rec["id"], name, out["product"], out["cycle"], out["reason"]))
    assert checked >= 90
    assert not failures, failures
