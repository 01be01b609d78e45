"""The matcher: OS always judged, components collapse into their product with the newest member
representing it, host context reaches identifiers, every finding explains itself."""

from __future__ import annotations

from datetime import date

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Policy, Status

AS_OF = date(2026, 11, 30)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def server_2019(*software: Software) -> Inventory:
    return Inventory(
        host=Host(hostname="srv-1", machine_id="m1", site="A"),
        os=OsInfo(
            family="windows",
            name="Windows Server 2019 Standard",
            facts={
                "caption": "Microsoft Windows Server 2019 Standard",
                "version": "10.0.17763",
                "build": "17763",
                "product_type": 3,
            },
        ),
        software=list(software),
    )


def sw(name: str, version: str) -> Software:
    return Software(name=name, version=version, source="windows-registry", publisher="Microsoft Corporation")


def test_sql_components_collapse_and_newest_build_decides(ctx: IdentifyContext) -> None:
    inv = server_2019(
        sw("SQL Server 2014 Common Files", "12.0.2000.8"),  # shared component keeps RTM build
        sw("Microsoft SQL Server 2014 (64-bit)", "12.0.6024.0"),
        sw("SQL Server 2014 Database Engine Services", "12.3.6024.0"),
    )
    entitled = Policy(entitlements=frozenset({"mssqlserver:12.0-sp3"}))
    res = match_inventory(inv, ctx, AS_OF, entitled)
    sql = [f for f in res.findings if f.product == "mssqlserver"]
    assert len(sql) == 1, [(f.name, f.cycle) for f in sql]
    assert sql[0].cycle == "12.0-sp3" and sql[0].count == 3
    assert sql[0].status is Status.EXTENDED  # ESU declared; the RTM component must not make it "eol"


def test_ie_channel_comes_from_the_host(ctx: IdentifyContext) -> None:
    res = match_inventory(server_2019(sw("Internet Explorer 11", "11.0.17763.0")), ctx, AS_OF, Policy())
    ie = next(f for f in res.findings if f.product == "internet-explorer")
    assert ie.cycle == "11-server" and ie.status is Status.SUPPORTED


def test_os_finding_always_present_and_explained(ctx: IdentifyContext) -> None:
    res = match_inventory(server_2019(sw("7-Zip 23.01 (x64)", "23.01")), ctx, AS_OF, Policy())
    os_f = res.os_finding
    assert os_f is not None and (os_f.product, os_f.cycle) == ("windows-server", "2019")
    assert os_f.detail.rule and os_f.detail.dataset_version.startswith("endoflife.date@")
    assert os_f.detail.evidence, "the evidence the rule looked at is kept"
    assert res.unidentified == 1  # 7-Zip is not a tracked product: counted, not listed


def test_unidentified_os_is_an_unknown_finding(ctx: IdentifyContext) -> None:
    inv = Inventory(host=Host(hostname="x", machine_id="x"), os=OsInfo(family="linux", facts={"files": {}}))
    res = match_inventory(inv, ctx, AS_OF, Policy())
    assert res.os_finding is not None and res.os_finding.status is Status.UNKNOWN
