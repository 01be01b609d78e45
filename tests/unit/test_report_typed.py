"""The JSON report's typed shapes are the shapes written: a finding, a score, a readiness and the
KPI figures carry exactly the keys their TypedDicts declare, in the documented order
(docs/report-json.md), so a key mypy checks is the key a consumer reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

import reports.json
from scanner.model import FindingJson, FindingReleaseJson, MatchJson
from scanner.plan.priority import PartJson, ScoreJson
from scanner.plan.readiness import CheckJson, ReadinessJson
from scanner.report.model import EstateReport
from tests.unit import report_estate as est

# FINDING of docs/report-json.md, in its order
FINDING_KEYS = [
    "host",
    "host_key",
    "site",
    "kind",
    "name",
    "version",
    "product",
    "cycle",
    "product_label",
    "status",
    "eol",
    "extended_until",
    "count",
    "match",
    "priority",
    "band",
    "exception",
]


@pytest.fixture(scope="module")
def report() -> EstateReport:
    return est.report()


@pytest.fixture(scope="module")
def written(report: EstateReport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reports.json.render(report))
    return data


def _findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    hosts = [h for s in data["sites"] for h in s["hosts"]]
    return [f for h in hosts for f in ([h["os"]] if h["os"] else []) + h["findings"]]


def test_the_typed_finding_declares_the_documented_keys_in_order() -> None:
    assert list(reports.json.ReportFindingJson.__annotations__) == FINDING_KEYS
    assert list(FindingJson.__annotations__) == FINDING_KEYS[:-3]
    assert list(FindingReleaseJson.__annotations__) == FINDING_KEYS[3:-3]


def test_every_written_finding_has_the_typed_keys_in_order(written: dict[str, Any]) -> None:
    findings = _findings(written)
    assert len(findings) > 10
    assert {tuple(f) for f in findings} == {tuple(FINDING_KEYS)}
    assert {tuple(f["match"]) for f in findings} == {tuple(MatchJson.__annotations__)}
    assert {tuple(f["priority"]) for f in findings} == {tuple(ScoreJson.__annotations__)}
    parts = [p for f in findings for p in f["priority"]["parts"]]
    assert parts and {tuple(p) for p in parts} == {tuple(PartJson.__annotations__)}
    refs = [f["exception"] for f in findings if f["exception"]]
    assert refs and {tuple(e) for e in refs} == {("id", "state", "expires")}


def test_a_written_finding_is_the_findings_own_dict_plus_the_reports_keys(report: EstateReport) -> None:
    """The shared release part (built once per build) never leaks one host's keys into another's."""
    data = json.loads(reports.json.render(report))
    by_host = {h["host_key"]: h for s in data["sites"] for h in s["hosts"]}
    checked = 0
    for h in report.all_hosts():
        written = by_host[h.host_key]
        rows = [r for r in h.rows if r.finding.kind != "os"]
        assert len(written["findings"]) == len(rows)
        for r, w in zip(rows, written["findings"], strict=True):
            own = json.loads(json.dumps(r.finding.to_dict()))
            assert {k: w[k] for k in own} == own
            assert (w["host"], w["host_key"], w["site"]) == (r.finding.hostname, h.host_key, h.site)
            assert w["priority"] == r.score.to_dict() and w["band"] == r.band
            checked += 1
    assert checked > 5


def test_finding_to_dict_is_host_keys_then_the_release_part(report: EstateReport) -> None:
    f = report.all_findings()[0]
    d = f.to_dict()
    assert list(d)[:3] == ["host", "host_key", "site"]
    assert {k: v for k, v in d.items() if k not in ("host", "host_key", "site")} == f.release_dict()
    assert d["match"] == f.detail.to_dict() and list(d["match"]) == list(MatchJson.__annotations__)


def test_a_written_readiness_has_the_typed_keys(written: dict[str, Any]) -> None:
    ready = [h["win11_readiness"] for s in written["sites"] for h in s["hosts"] if h["win11_readiness"]]
    assert ready and {tuple(r) for r in ready} == {tuple(ReadinessJson.__annotations__)}
    checks = [c for r in ready for c in r["checks"]]
    assert checks and {tuple(c) for c in checks} == {tuple(CheckJson.__annotations__)}
