"""The JSON report's typed shapes are the shapes written: a finding, a score, a readiness and the
KPI figures carry exactly the keys their TypedDicts declare, in the documented order
(docs/report-json.md), so a key mypy checks is the key a consumer reads."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest

import reports.json
from reports.common import MONEY_KPIS, kpi_rows, kpi_shown, kpi_values
from scanner.model import FindingJson, FindingReleaseJson, MatchJson
from scanner.plan.priority import PartJson, ScoreJson
from scanner.plan.readiness import CheckJson, ReadinessJson
from scanner.report import benchmark_export, benchmark_file
from scanner.report.benchmark_export import (
    KPIS,
    SHARES,
    BenchmarkKpiName,
    BenchmarkKpis,
    ReleaseCount,
    kpi_block,
    share,
)
from scanner.report.build import SCAN_ONLY_KPIS, kpi_change
from scanner.report.model import KPI_LABELS, KPI_NAMES, EstateReport, KpiChange, KpiFigures, KpiName, Kpis
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


# -- KPI figures ----------------------------------------------------------------------------------


def test_the_kpi_names_labels_figures_and_change_are_one_list_in_one_order() -> None:
    assert len(KPI_NAMES) == 22 and len(set(KPI_NAMES)) == 22
    assert tuple(KpiFigures.__annotations__) == KPI_NAMES
    assert tuple(KpiChange.__annotations__) == KPI_NAMES
    assert tuple(KPI_LABELS) == KPI_NAMES
    assert set(MONEY_KPIS) < set(KPI_NAMES) and SCAN_ONLY_KPIS < set(KPI_NAMES)


def test_numbers_and_change_carry_every_kpi_in_order(report: EstateReport) -> None:
    for k in [report.kpis, *(s.kpis for s in report.sites)]:
        assert tuple(k.numbers()) == KPI_NAMES
    assert tuple(report.kpi_change) == KPI_NAMES  # the estate fixture has a previous scan
    before = Kpis(devices=3, unsupported_os=1, targets=9, estimated_cost=100.0)
    now = Kpis(devices=5, unsupported_os=1, targets=4, estimated_cost=None)
    change = kpi_change(now, before)
    assert tuple(change) == KPI_NAMES
    assert change["devices"] == 2 and change["unsupported_os"] == 0
    assert change["unsupported_os_share"] == round(1 / 5 - 1 / 3, 4)
    assert change["targets"] is None and change["coverage"] is None  # scan attempts: no honest before
    assert change["estimated_cost"] is None  # not costed now
    assert kpi_change(now, None) == {}


def test_the_written_kpis_are_the_typed_figures(written: dict[str, Any], report: EstateReport) -> None:
    assert list(written["kpis"]) == list(KPI_NAMES) and written["kpis"] == report.kpis.numbers()
    assert list(written["kpi_change"]) == list(KPI_NAMES)
    assert [list(s["kpis"]) for s in written["sites"]] == [list(KPI_NAMES)] * len(report.sites)


@pytest.mark.parametrize(
    ("key", "value", "delta", "want"),
    [
        ("coverage", 0.66666, 0.125, ("66.7%", "+12.5 pts")),
        ("unsupported_os_share", None, None, ("n/a", "")),
        ("estimated_cost", 1234.5, -10.0, ("1,234 GBP", "-10")),
        ("estimated_cost", None, None, ("not costed", "")),
        ("esu_quote_this_year", None, 2500.0, ("none", "+2,500")),
        ("devices", 7, 2.0, (7, "+2")),
        ("median_days_past_end", None, -1.5, ("n/a", "-1.5")),
    ],
)
def test_a_kpi_is_shown_by_its_kind(key: KpiName, value: float | None, delta: float | None, want: object) -> None:
    assert kpi_shown(key, value, delta, "GBP") == want


def test_kpi_rows_and_values_follow_the_names(report: EstateReport) -> None:
    rows = kpi_rows(report.kpis, report.kpi_change, report.currency)
    assert [r[0] for r in rows] == [KPI_LABELS[k] for k in KPI_NAMES]
    values = kpi_values(report.kpis, {})
    assert [v[0] for v in values] == list(KPI_NAMES) and all(v[3] is None for v in values)
    assert [v[2] for v in values] == list(report.kpis.numbers().values())


def test_only_an_uninventoried_host_carries_its_marks_in_the_documented_place() -> None:
    assert reports.json._marks("inventory") == {}
    assert list(reports.json._marks("discovered").items()) == [("discovered", True), ("source", "discovered")]
    assert reports.json._marks("register") == {"source": "register"}
    assert list(reports.json.HostJson.__annotations__)[:5] == [
        "hostname",
        "host_key",
        "discovered",
        "source",
        "collected_at",
    ]


# -- the benchmark file's KPI block ---------------------------------------------------------------


def test_the_benchmark_block_type_is_the_kpis_table() -> None:
    assert get_args(BenchmarkKpiName) == tuple(KPIS)
    assert list(BenchmarkKpis.__annotations__) == [*KPIS, "unsupported_os_releases"]
    assert set(SHARES) <= {k for k, (kind, _label) in KPIS.items() if kind == "share"}
    assert list(ReleaseCount.__annotations__) == ["product", "cycle", "name", "devices"]


def test_a_benchmark_block_is_written_in_order_with_its_shares_from_their_counts(report: EstateReport) -> None:
    for hosts, k in [(report.all_hosts(), report.kpis), *((s.hosts, s.kpis) for s in report.sites)]:
        block = kpi_block(hosts, k)
        assert list(block) == [*KPIS, "unsupported_os_releases"]
        counts = {**block, "reached": block["targets"] - block["not_reached"]}
        for key, (num, den) in SHARES.items():
            assert block[key] == share(counts[num], counts[den])
    doc = benchmark_export.build(report)
    read = benchmark_file.parse(json.dumps(doc).encode(), "x.json")
    assert read.totals == doc["totals"] and [s.kpis for s in read.sites] == [s["kpis"] for s in doc["sites"]]
    assert read.totals["unsupported_os"] > 0 and read.totals["unsupported_os_releases"]
