"""Acceptance: application identification on the labelled Windows software corpus.

Counts high- and medium-confidence labels (issue 3): at least 97 % exact product and cycle (or a
listed alternative; a ``none`` label must come back as no endoflife.date product), at most 1 %
wrong, and no record called ``eol`` whose label says supported.

How a ``none`` label is compared: the corpus defines ``none`` as "no endoflife.date product
applies" and lists Flash, Reader, Silverlight, Visual C++ and Edge among them.  Those are exactly
the products our supplementary catalogue covers, so a supplementary-only product (never an
endoflife.date slug) agrees with ``none`` -- but only when its verdict agrees with the label's
``is_eol_2026_11_22`` (eol where the label says EOL; never eol where the label says supported or
does not know).  The strict rate (no product at all) is reported beside it.

``LEGACYSCAN_SOFTWARE_CORPUS`` points the same measurement at another file of the same format
(the held-out split).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy
from tests.corpus_input import software_record_from_corpus

AS_OF = date(2026, 11, 22)
CORPUS = Path(
    os.environ.get("LEGACYSCAN_SOFTWARE_CORPUS")
    or Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "windows_software.jsonl"
)


@dataclass
class Score:
    counted: int = 0
    exact: int = 0
    exact_strict: int = 0
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_eol: list[str] = field(default_factory=list)

    def line(self) -> str:
        n = max(self.counted, 1)
        return (
            f"{self.counted} labels: exact {self.exact / n:.1%} (strict none {self.exact_strict / n:.1%}), "
            f"wrong {len(self.wrong) / n:.1%}, missed {len(self.missed) / n:.1%}, false eol {len(self.false_eol)}"
        )


def judge(expected: dict[str, Any], out: dict[str, Any], catalog: Catalog) -> tuple[bool, bool, bool]:
    """(exact, exact under the strict reading of ``none``, a confident wrong answer)."""

    def norm(p: str | None) -> str | None:
        return None if p in (None, "none") else p

    answers = [(norm(expected["product"]), expected.get("cycle"))]
    answers += [(norm(a.get("product")), a.get("cycle")) for a in expected.get("alternatives") or []]
    got = (out["product"], out["cycle"])
    if got in answers:
        return True, True, False
    product = catalog.product(out["product"]) if out["product"] else None
    if norm(expected["product"]) is None and product is not None and product.source == "supplementary":
        label_eol = expected.get("is_eol_2026_11_22")
        agrees = (out["status"] == "eol") if label_eol is True else out["status"] != "eol"
        return agrees, False, not agrees
    wrong = out["product"] is not None and (out["product"] != norm(expected["product"]) or out["cycle"] is not None)
    return False, False, wrong


def score_file(path: Path) -> Score:
    catalog = Catalog()
    ctx = IdentifyContext(catalog)
    score = Score()
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        expected = item["expected"]
        out = evaluate(software_record_from_corpus(item["raw"], item["raw_format"]), ctx, AS_OF, Policy())
        if out["status"] == "eol" and expected.get("is_eol_2026_11_22") is False:
            score.false_eol.append(f"{item['id']}: {out}")
        if expected.get("confidence") not in ("high", "medium"):
            continue
        score.counted += 1
        exact, strict, wrong = judge(expected, out, catalog)
        score.exact += exact
        score.exact_strict += strict
        what = (
            f"{item['id']}: got {out['product']}/{out['cycle']} ({out['rule']}), "
            f"want {expected['product']}/{expected.get('cycle')}"
        )
        if wrong:
            score.wrong.append(what)
        elif not exact:
            score.missed.append(what)
    return score


@pytest.fixture(scope="module")
def score() -> Score:
    if not CORPUS.exists():
        pytest.fail(f"software corpus not found: {CORPUS}")
    return score_file(CORPUS)


def test_corpus_is_not_trivially_small(score: Score) -> None:
    assert score.counted >= 100


def test_exact_rate(score: Score) -> None:
    print(score.line())
    assert score.exact / score.counted >= 0.97, (score.line(), score.wrong + score.missed)


def test_exact_rate_strict(score: Score) -> None:
    """The contract reports supplementary-only products as null, so the strict reading holds too."""
    assert score.exact_strict / score.counted >= 0.97, (score.line(), score.wrong + score.missed)


def test_wrong_rate(score: Score) -> None:
    assert len(score.wrong) / score.counted <= 0.01, (score.line(), score.wrong)


def test_no_false_eol(score: Score) -> None:
    assert not score.false_eol, score.false_eol
