"""Discovered devices in every report (issue #15 item 3): marked in every format, judged, counted in
coverage, the DSPT 8.1 survey scope and each 8.2.1 unsupported item, and giving way to an inventory.

The discovered hosts go through the real engine and store (``Discoverer`` with a probe that replays
what real Windows servers announced -- nmap's published smb-os-discovery output,
tests/fixtures/discovery/PROVENANCE.md) and the real ``legacyscan report`` command."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agents.inventory import Collector, Host, Inventory, OsInfo
from scanner.cli import main
from scanner.discover.base import Observation, ProbeSettings
from scanner.discover.engine import DiscoverConfig, Discoverer
from scanner.discover.exclusions import Exclusions
from scanner.store.open import open_store
from scanner.targets import Target

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "discovery"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SITE = "RXX01 Main Hospital"
MARK = "(discovered, not inventoried)"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _replay(target: Target, settings: ProbeSettings) -> Observation:
    """Windows Server 2008 SP1's SMB1 answer (nmap's published output); 10.9.0.99 never answers."""
    if target.host == "10.9.0.99":
        return Observation(
            host=target.host,
            port=target.port,
            service="smb",
            status="timeout",
            error="TimeoutError: timed out",
            connections=1,
        )
    row = json.loads((FIX / "nmap-native-os.json").read_text())[0]
    facts = {
        "smb1": True,
        "native_os": row["native_os"],
        "native_lanman": row["native_lanman"],
        "netbios_name": "IMG-" + target.host.rsplit(".", 1)[1],
    }
    return Observation(host=target.host, port=target.port, service="smb", facts=facts, connections=1)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("discovered-reports")
    url = f"sqlite:///{root / 'ls.db'}"
    targets = [
        Target(h, site=SITE, transport="smb", port=445) for h in ("10.9.0.14", "10.9.0.15", "10.9.0.16", "10.9.0.99")
    ]
    with open_store(url) as store:
        summary = Discoverer(
            store, ProbeSettings(), DiscoverConfig(concurrency=2), {"smb": _replay}, Exclusions(), now=lambda: NOW
        ).run(targets)
        assert summary.identified == 3 and summary.silent == 1
        # An agent inventories another 2008 server, and the machine discovered at 10.9.0.16.
        for name, address in (("ris-db.example.nhs.uk", "10.9.0.40"), ("img-16.example.nhs.uk", "10.9.0.16")):
            store.save_inventory(
                Inventory(
                    host=Host(hostname=name, machine_id=f"mid-{address}", site=SITE, address=address),
                    os=OsInfo(
                        family="windows",
                        name="Windows Server 2008 Standard",
                        facts={
                            "caption": "Microsoft Windows Server 2008 Standard",
                            "version": "6.0.6002",
                            "build": "6002",
                            "service_pack": "Service Pack 2",
                            "product_type": "3",
                        },
                    ),
                    collected_at="2026-12-05T10:00:00Z",
                    collector=Collector(transport="agent"),
                )
            )
    assert main(["import", str(EXAMPLES / "device-register.csv"), "--db", url]) == 0
    return url


def _report(db: str, fmt: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Any:
    capsys.readouterr()
    if fmt == "xlsx":
        out = tmp_path / "r.xlsx"
        assert main(["report", "--db", db, "--format", fmt, "--as-of", "2026-12-06", "--out", str(out)]) == 0
        from openpyxl import load_workbook

        wb = load_workbook(out, read_only=True)
        return {ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    assert main(["report", "--db", db, "--format", fmt, "--as-of", "2026-12-06"]) == 0
    return capsys.readouterr().out


def test_json_marks_discovered_hosts_and_counts_them_in_dspt_8_1_and_8_2_1(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = json.loads(_report(db, "json", capsys, tmp_path))
    hosts = {h["hostname"]: h for s in report["sites"] for h in s["hosts"]}
    discovered = {n: h for n, h in hosts.items() if h.get("discovered")}
    assert set(discovered) == {"IMG-14", "IMG-15"}  # IMG-16 was inventoried later: the inventory won
    assert "img-16.example.nhs.uk" in hosts and not hosts["img-16.example.nhs.uk"].get("discovered")
    for h in discovered.values():
        assert h["source"] == "discovered"
        assert h["os"]["product"] == "windows-server" and h["os"]["status"] == "eol"
        assert h["os"]["match"]["confidence"] in ("medium", "low")  # a banner is never "high"
        assert h["os"]["match"]["evidence"]["smb1"] == "enabled"
    ev = report["evidence"]
    assert ev["scope"]["discovered_not_inventoried"] == 2
    assert ev["scope"]["register_not_inventoried"] == 4
    assert ev["scope"]["devices"] == len(hosts)
    server_2008 = [
        i
        for i in ev["unsupported_items"]
        if i["product"] == "windows-server" and i["cycle"].startswith("2008") and i["site"] == SITE
    ]
    assert sum(i["devices"] for i in server_2008) == 4  # two discovered, two inventoried by the agent
    assert sum(i.get("discovered_not_inventoried", 0) for i in server_2008) == 2
    assert all("register_not_inventoried" not in i for i in server_2008)
    register_items = [i for i in ev["unsupported_items"] if i.get("register_not_inventoried")]
    assert register_items and all("discovered_not_inventoried" not in i for i in register_items)
    coverage = {c["target"]: c["status"] for s in report["sites"] for c in s.get("coverage", [])}
    assert coverage.get("discover://10.9.0.99") == "timeout"  # counted as not reached, never as clean
    assert ev["coverage"]["not_reached"] >= 1


@pytest.mark.parametrize("fmt", ["table", "csv", "html"])
def test_text_formats_mark_every_discovered_host(
    db: str, fmt: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = _report(db, fmt, capsys, tmp_path)
    assert f"IMG-14 {MARK}" in out and f"IMG-15 {MARK}" in out
    assert f"img-16.example.nhs.uk {MARK}" not in out and f"IMG-16 {MARK}" not in out
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        marked = [r for r in rows if any(MARK in c for c in r)]
        assert marked and all(any("eol" == c for c in r) for r in marked)  # marked rows carry their verdict
    else:  # table and HTML carry the DSPT 8.1 scope and the 8.2.1 register lines
        assert "2 discovered, not inventoried" in out
        assert "from the device register only" in out


def test_xlsx_marks_discovered_hosts_and_the_8_2_1_sheet_counts_them(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sheets = _report(db, "xlsx", capsys, tmp_path)
    cells = [str(c) for rows in sheets.values() for row in rows for c in row if c is not None]
    assert any(c == f"IMG-14 {MARK}" for c in cells) and any(c == f"IMG-15 {MARK}" for c in cells)
    register = sheets["Evidence 8.2.1"]
    assert any("2 discovered, not inventoried" in str(c) for row in register for c in row if c is not None)
