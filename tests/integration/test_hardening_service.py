"""Issue #19, the collector service's findings, each against the real thing: ``legacyscan serve`` (uvicorn)
over TLS with a test CA, real PostgreSQL and SQLite, real sockets, a real full filesystem.

Every test here failed on the code before its fix (the closing note names the failure seen).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from agents.inventory import Inventory
from scanner.store import HostStatus, open_store
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.integration.test_server_agent import ROOT, Serve, cli, count, create_token, fake_inventory, post
from tests.integration.tls import Pki, make_pki

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    return str(request.getfixturevalue("pg_url"))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> dt.datetime:
    """The test's clock (the service reads the same machine clock through its composition root)."""
    return dt.datetime.now(dt.timezone.utc)


# -- 1: cross-site takeover --------------------------------------------------------------------


def test_a_token_cannot_take_over_another_sites_host(db_url: str, pki: Pki) -> None:
    serve = Serve(db_url, pki).start()
    try:
        ward_a, _ = create_token(db_url, "Ward A")
        ward_b, _ = create_token(db_url, "Ward B")
        genuine = fake_inventory("theatre-pc", 20)
        genuine.collected_at = iso(now() - dt.timedelta(hours=2))
        assert post(serve, ward_a, genuine.to_json().encode()).status_code == 201

        # Site B's token claims the same machine id with a far-future collection time.
        for future in ("2099-01-01T00:00:00Z", iso(now() + dt.timedelta(days=1))):
            hostile = fake_inventory("theatre-pc", 1)
            hostile.collected_at = future
            resp = post(serve, ward_b, hostile.to_json().encode())
            assert resp.status_code == 422, resp.text
            assert "collected_at" in resp.json()["error"]
        for odd in ("", "yesterday", "2026-11-30T09:00:00"):  # missing, not a time, no time zone
            hostile = fake_inventory("theatre-pc", 1)
            hostile.collected_at = odd
            resp = post(serve, ward_b, hostile.to_json().encode())
            assert resp.status_code == 422 and "collected_at" in resp.json()["error"], (odd, resp.text)

        # A plausible time: the claim is filed under site B only; site A keeps its host.
        claim = fake_inventory("theatre-pc", 1)
        claim.collected_at = iso(now() - dt.timedelta(hours=1))
        assert post(serve, ward_b, claim.to_json().encode()).status_code == 201
        with open_store(db_url) as s:
            assert [i.inventory_id for i in s.latest_inventories("Ward A")] == [genuine.inventory_id]
            assert [i.inventory_id for i in s.latest_inventories("Ward B")] == [claim.inventory_id]

        # Later genuine uploads of site A still replace its latest inventory.
        later = fake_inventory("theatre-pc", 25)
        later.collected_at = iso(now() - dt.timedelta(minutes=30))
        assert post(serve, ward_a, later.to_json().encode()).status_code == 201
    finally:
        serve.stop()
    with open_store(db_url) as s:
        [latest_a] = s.latest_inventories("Ward A")
        assert latest_a.inventory_id == later.inventory_id and len(latest_a.software) == 25
        assert [i.inventory_id for i in s.latest_inventories("Ward B")] == [claim.inventory_id]
        assert s.count_inventories() == 3


# -- 2: NUL bytes ------------------------------------------------------------------------------


def _with_nul(host: str) -> Inventory:
    inv = fake_inventory(host, 3)
    inv.host.hostname = host + "\x00evil"
    inv.os.name = "Debian\x00"
    inv.host.tags = ["ward\x00"]
    inv.software[0].name = "pkg\x00-0"
    inv.os.facts = {"files": {"/etc/os-release": "ID=debian\x00\n"}}
    inv.collected_at = iso(now() - dt.timedelta(minutes=5))
    return inv


def test_nul_bytes_never_fail_innocent_uploads_in_a_batch(db_url: str, pki: Pki) -> None:
    serve = Serve(db_url, pki).start()
    try:
        token, _ = create_token(db_url, "Ward N")
        innocent = [fake_inventory(f"pc-{i}", 30) for i in range(150)]
        hostile = [_with_nul(f"nul-{i}") for i in range(8)]
        for inv in innocent:
            inv.collected_at = iso(now() - dt.timedelta(minutes=5))
        bodies = [inv.to_json().encode() for inv in innocent + hostile]
        order = list(range(len(bodies)))
        order = order[::2] + order[1::2]  # NUL uploads spread among the others: same batches
        with ThreadPoolExecutor(24) as pool:
            answers = dict(zip(order, pool.map(lambda i: post(serve, token, bodies[i]), order)))
    finally:
        serve.stop()
    innocent_codes = [answers[i].status_code for i in range(150)]
    assert innocent_codes.count(201) == 150, sorted(set(innocent_codes))
    assert [answers[150 + i].status_code for i in range(8)] == [201] * 8  # neutralised, not refused
    with open_store(db_url) as s:
        assert s.count_inventories() == 158
        by_id = {inv.inventory_id: inv for inv in s.latest_inventories("Ward N")}
    back = by_id[hostile[0].inventory_id]
    # The same neutral form on both backends: every NUL became U+FFFD, nothing else changed.
    assert back.host.hostname == "nul-0\ufffdevil"
    assert back.os.name == "Debian\ufffd" and back.host.tags == ["ward\ufffd"]
    assert back.software[0].name == "pkg\ufffd-0"
    assert back.os.facts == {"files": {"/etc/os-release": "ID=debian\ufffd\n"}}


def test_nul_bytes_in_import_and_in_a_fleet_scans_batch(db_url: str, tmp_path: Path) -> None:
    """``legacyscan import`` of a folder with one such file, and the store calls a fleet scan makes
    (one ``save_batch`` and one ``record_statuses`` per batch), store everything else."""
    drop = tmp_path / "drop"
    drop.mkdir()
    good = [fake_inventory(f"imp-{i}", 5) for i in range(6)]
    for inv in good:
        (drop / f"{inv.host.hostname}.json").write_text(inv.to_json())
    (drop / "nul.json").write_text(_with_nul("imp-nul").to_json())
    proc = cli("import", str(drop), db=db_url, check=False)
    assert "imported 7, duplicates 0, refused 0" in proc.stderr, proc.stderr
    with open_store(db_url) as s:
        assert s.count_inventories() == 7
        names = sorted(i.host.hostname for i in s.latest_inventories())
        assert names == sorted([f"imp-{i}" for i in range(6)] + ["imp-nul\ufffdevil"])

        scanned = [fake_inventory(f"scan-{i}", 5, site="north") for i in range(5)] + [_with_nul("scan-nul")]
        s.save_batch(scanned)
        s.record_statuses([HostStatus(target=f"10.0.0.{i}", site="north", status="ok", error="", at=iso(now()))
                           for i in range(5)] +
                          [HostStatus(target="10.0.0.9\x00", site="north", status="error",
                                      error="dpkg printed \x00 garbage", at=iso(now()), host_key="mid\x00")])
        assert s.count_inventories() == 13
        statuses = {st.target: st for st in s.statuses("north")}
    assert len(statuses) == 6
    assert statuses["10.0.0.9\ufffd"].error == "dpkg printed \ufffd garbage"
    assert statuses["10.0.0.9\ufffd"].host_key == "mid\ufffd"
