"""Acceptance: application identification on the labelled whole-host captures.

Each capture's ``expected.software`` lists notable entries (matched by name + version) with their
product and cycle.  Windows and macOS entries go through the application identifier; the host's
own OS identification (from the same capture, through the OS identifier) is passed along as
``host_os_product`` / ``host_os_cycle`` -- what the matcher knows about the host -- because
Internet Explorer 11's support channel depends on it.  Linux package labels belong to the package
identifier's own tests.  Thresholds (issue 3): at least 95 % exact, at most 2 % wrong, no false eol.
A ``none`` label is compared as in test_corpus_software.py.

``LEGACYSCAN_CAPTURES_DIR`` points the measurement at another directory of the same format.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy
from tests.corpus_input import os_record_from_capture, software_record_from_capture
from tests.unit.test_corpus_software import Score, judge

AS_OF = date(2026, 11, 22)
CAPTURES = Path(
    os.environ.get("LEGACYSCAN_CAPTURES_DIR")
    or Path(__file__).resolve().parents[2] / "scanner" / "demo_data" / "captures"
)


def _entry_matches(entry: dict[str, Any], platform: str, want: dict[str, Any]) -> bool:
    if platform == "windows":
        return entry.get("DisplayName") == want.get("name") and entry.get("DisplayVersion") == want.get("version")
    return entry.get("name") == want.get("name") and entry.get("version") == want.get("version")


@pytest.fixture(scope="module")
def score() -> Score:
    files = sorted(CAPTURES.glob("*/*.json"))
    if not files:
        pytest.fail(f"no captures under {CAPTURES}")
    catalog = Catalog()
    ctx = IdentifyContext(catalog)
    result = Score()
    for path in files:
        capture = json.loads(path.read_text("utf-8"))
        platform = str(capture.get("platform") or "")
        if platform not in ("windows", "macos"):
            continue
        host = ctx.identify(os_record_from_capture(capture))
        for expected in (capture.get("expected") or {}).get("software") or []:
            hits = [e for e in capture.get("software") or [] if _entry_matches(e, platform, expected["match"])]
            assert hits, f"{path.name}: labelled entry {expected['match']} not in the capture"
            for entry in hits:
                record = software_record_from_capture(entry, platform)
                if host.product:
                    record["host_os_product"] = host.product
                    record["host_os_cycle"] = host.cycle or ""
                out = evaluate(record, ctx, AS_OF, Policy())
                if out["status"] == "eol" and expected.get("is_eol_2026_11_22") is False:
                    result.false_eol.append(f"{path.name}: {expected['match']} -> {out}")
                if expected.get("confidence") not in ("high", "medium"):
                    continue
                result.counted += 1
                exact, strict, wrong = judge(expected, out, catalog)
                result.exact += exact
                result.exact_strict += strict
                what = (
                    f"{path.name}: {expected['match']} got {out['product']}/{out['cycle']} ({out['rule']}), "
                    f"want {expected['product']}/{expected.get('cycle')}"
                )
                if wrong:
                    result.wrong.append(what)
                elif not exact:
                    result.missed.append(what)
    return result


def test_captures_have_software_labels(score: Score) -> None:
    assert score.counted >= 30


def test_exact_rate(score: Score) -> None:
    print(score.line())
    assert score.exact / score.counted >= 0.95, (score.line(), score.wrong + score.missed)


def test_wrong_rate(score: Score) -> None:
    assert len(score.wrong) / score.counted <= 0.02, (score.line(), score.wrong)


def test_no_false_eol(score: Score) -> None:
    assert not score.false_eol, score.false_eol
