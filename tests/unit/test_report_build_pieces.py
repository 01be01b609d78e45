"""The small pieces ``scanner.report.build`` is made of (the roadmap's period of a finding, an
unsupported item's phase, mitigation and band, the CAF B4.d sentence's parts), each on its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scanner.model import Status
from scanner.plan.config import ReportConfig
from scanner.plan.periods import add_quarters, quarter, quarter_start
from scanner.report import build
from scanner.report.model import EstateReport, FindingRow
from tests.unit import report_estate as est


@pytest.fixture(scope="module")
def report() -> EstateReport:
    return est.report()


def test_a_findings_roadmap_period(report: EstateReport) -> None:
    as_of = est.AS_OF
    horizon = add_quarters(quarter_start(as_of), 8)
    h = next(h for h in report.all_hosts() if h.binding is not None and len(h.rows) > 1)
    bound = next(r for r in h.rows if r.finding is h.binding)
    other = next(r for r in h.rows if r.finding is not h.binding)
    unknown = FindingRow(replace(other.finding, status=Status.UNKNOWN))
    assert build._row_period(h, unknown, as_of, horizon) is None  # not the binding one: unknown is left out
    nameless = FindingRow(replace(other.finding, product=None))
    assert build._row_period(h, nameless, as_of, horizon) is None
    far = replace(bound.finding, status=Status.SUPPORTED, eol=date(2040, 1, 1))
    due = date(2027, 5, 1)
    h_far = replace(h, binding=far, due=due)
    assert build._row_period(h_far, FindingRow(far), as_of, horizon) == quarter(due)  # bound: in its due quarter
    assert build._row_period(h_far, FindingRow(replace(far)), as_of, horizon) is None  # a copy is not bound
    eol = replace(bound.finding, status=Status.EOL, eol=date(2020, 1, 1))
    assert build._row_period(replace(h, binding=eol), FindingRow(eol), as_of, horizon) == "overdue"


def test_an_items_phase_mitigation_and_band(report: EstateReport) -> None:
    cfg = ReportConfig()
    f = report.all_findings()[0]
    assert build._phase_and_mitigation(replace(f, status=Status.EOL), "replace it", cfg) == ("", "replace it")
    ext = replace(f, status=Status.EXTENDED, product="debian", cycle="11", extended_until=date(2026, 8, 31))
    phase, mitigation = build._phase_and_mitigation(ext, "upgrade", cfg)
    assert phase and mitigation == f"upgrade; covered by {phase} until 2026-08-31"
    unpublished = build._phase_and_mitigation(replace(ext, extended_until=None), "upgrade", cfg)[1]
    assert unpublished.endswith("until (date not published)")
    assert build._item_band(0.0, True, cfg) == "accepted" and build._item_band(0.0, False, cfg) == "low"
    assert build._item_band(500.0, False, cfg) == cfg.priority.band(500.0) != "low"


def test_the_b4d_sentences_parts() -> None:
    assert build._nothing_surveyed(0, 0) == "No device was surveyed, so nothing can be said about unsupported items."
    assert build._nothing_surveyed(4, 4).startswith("No device was surveyed: 4 of 4 scan target(s) could not")
    assert build._covered_sentence([]) == ""
    assert build.b4d_statement([], 2, 0, 3, 3) == build._nothing_surveyed(3, 3)
    text = build.b4d_statement([], 2, 10, 5, 1)
    assert text.startswith("0 unsupported item(s) across 2 site(s): 0 with a recorded")
    assert text.endswith(" 1 of 5 scan target(s) were not reached: their status is unknown and not counted above.")
