"""The previous scan's KPIs ("change since") are computed without the device list's extras
(``rank._HostRanker.host(scored=False)``): on a demo estate, with its configuration and exception
register (accepted, expired and not-yet exceptions, costs, ESU prices), they equal the KPIs of the
full host rows, per site and for the estate, on dates where statuses differ."""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from scanner.cli.common import context_and_policy
from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, generate
from scanner.judge.match import match_estate
from scanner.plan.config import load_config
from scanner.plan.risk_register import load as load_register
from scanner.report.build import build_host_rows, compute_kpis, previous_kpis
from scanner.report.model import HostRow


@pytest.mark.parametrize("as_of", [date(2026, 8, 30), date(2025, 3, 1), date(2027, 6, 1)])
def test_previous_kpis_equal_full_host_rows(tmp_path: Path, as_of: date) -> None:
    (tmp_path / "legacyscan.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    (tmp_path / "exceptions.toml").write_text(DEMO_EXCEPTIONS, encoding="utf-8")
    cfg = load_config(tmp_path / "legacyscan.toml")
    register = load_register(tmp_path / "exceptions.toml")
    ctx, policy = context_and_policy(argparse.Namespace(site_catalog=None))
    demo = generate(devices=300, sites=3, seed=11, as_of=date(2026, 11, 30))
    results = match_estate(demo.previous, ctx, as_of, policy)

    by_site, total = previous_kpis(results, as_of, cfg, register)

    hosts = build_host_rows(results, as_of, cfg, register)
    sites: dict[str, list[HostRow]] = defaultdict(list)
    for h in hosts:
        sites[h.site].append(h)
    assert len(sites) == 3
    assert {s: k.numbers() for s, k in by_site.items()} == {
        s: compute_kpis(hs, [], as_of).numbers() for s, hs in sites.items()
    }
    full = compute_kpis(hosts, [], as_of)
    assert total.numbers() == full.numbers()
    # the estate exercises what the KPIs count
    assert full.open_findings and full.unsupported_os and full.windows10 and full.estimated_cost
    if as_of == date(2026, 8, 30):
        assert full.accepted_findings and full.expired_exceptions_hit and full.esu_quote_this_year
