"""Privacy by design on real stores (SQLite and PostgreSQL): ``[privacy]`` applied on every ingest
path - a real ``legacyscan serve`` (upload), ``legacyscan import``, ``legacyscan scan --local`` and a
fleet scan (threads and forked collector processes) - and ``legacyscan prune`` applying a
retention period, including rows of tables tied to inventories and findings."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.inventory import Hardware, Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.cli import main
from scanner.collect.config import ScanConfig
from scanner.collect.engine import FleetScanner
from scanner.privacy import Privacy
from scanner.store.open import open_store
from scanner.store.retention import cutoff_for, prune
from scanner.store.sqlite import HostStatus, Store
from scanner.targets import Target
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.integration.test_server_agent import Serve, cli, create_token
from tests.integration.tls import make_pki

pytestmark = pytest.mark.integration

KEY = b"0123456789abcdef0123456789abcdef"
SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
SERIAL = "5CG1234XYZ"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


def config(tmp_path: Path, serials: str, sids: str) -> Path:
    (tmp_path / "privacy.key").write_bytes(KEY)
    cfg = tmp_path / "legacyscan.toml"
    cfg.write_text(
        f'[privacy]\nserials = "{serials}"\nuser_sids = "{sids}"\nhash_key_file = "privacy.key"\n', encoding="utf-8"
    )
    return cfg


def inventory(n: int = 1, collected_at: str = "2026-11-30T09:00:00Z", site: str = "Ward 9") -> Inventory:
    return Inventory(
        host=Host(hostname=f"PC-{n}", machine_id=f"m-{n}", site=site),
        os=OsInfo(family="windows", name="Windows 10"),
        hardware=Hardware(vendor="Dell Inc.", serial=SERIAL),
        software=[
            Software(
                name="Zoom",
                version="5.1",
                source="windows-registry",
                scope="user",
                sid=SID,
                key=f"HKU\\{SID}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\ZoomUMX",
            ),
            Software(name="7-Zip", version="23.01", source="windows-registry", scope="machine"),
        ],
        collected_at=collected_at,
        inventory_id=f"inv-{n}-{collected_at}",
    )


def stored_text(db: str, inventory_id: str) -> str:
    with open_store(db) as store:
        inv = store.get_inventory(inventory_id)
    assert inv is not None, inventory_id
    return inv.to_json()


def assert_treated(text: str, hashed: bool) -> None:
    assert SERIAL not in text and SID not in text
    assert ("hmac-sha256:" in text) == hashed


def test_upload_through_a_real_collector_is_treated_before_storing(db: str, tmp_path: Path) -> None:
    cfg = config(tmp_path, "hash", "hash")
    token, _ = create_token(db, "Ward 9")
    serve = Serve(db, make_pki(tmp_path / "pki"), "--config", str(cfg)).start()
    try:
        for n, gz in ((1, False), (2, True)):
            body = compact_json(inventory(n)).encode()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            if gz:
                body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
            r = httpx.post(
                serve.url + "/v1/inventories", content=body, headers=headers, verify=serve.pki.context(), timeout=30
            )
            assert r.status_code == 201, r.text
    finally:
        serve.stop()
    for n in (1, 2):
        text = stored_text(db, inventory(n).inventory_id)
        assert_treated(text, hashed=True)
    # keyed: the pseudonym is the same for both uploads of the same serial
    with open_store(db) as store:
        a, b = (store.get_inventory(inventory(n).inventory_id) for n in (1, 2))
    assert a is not None and b is not None and a.hardware.serial == b.hardware.serial
    assert a.hardware.serial == Privacy(serials="hash", key=KEY).serial(SERIAL)


def test_import_is_treated_before_storing(db: str, tmp_path: Path) -> None:
    cfg = config(tmp_path, "drop", "drop")
    doc = tmp_path / "pc.json"
    doc.write_text(inventory().to_json(), encoding="utf-8")
    cli("import", str(doc), "--config", str(cfg), db=db)
    text = stored_text(db, inventory().inventory_id)
    assert_treated(text, hashed=False)
    assert '"serial": ""' in text and "HKU\\\\user\\\\Software" in text


def test_local_scan_is_treated_before_storing(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agents import collect

    monkeypatch.setattr(collect.Collector, "collect", lambda self: inventory())
    cfg = config(tmp_path, "hash", "drop")
    assert main(["scan", "--local", "--no-report", "--config", str(cfg), "--db", db]) == 0
    assert_treated(stored_text(db, inventory().inventory_id), hashed=True)


@pytest.mark.parametrize("processes", [1, 2])
def test_fleet_scan_is_treated_where_it_is_collected(db: str, processes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The privacy step runs in ``scan_one`` - in the collector process, before the stored form is
    made there - so no serial or SID crosses to the storing process."""
    import scanner.collect.engine as engine_mod

    class Shell:
        lost = False  # as SshShell: the connection stayed up

        def close(self) -> None:
            pass

    class Connector:
        def open(self, target: Target) -> Shell:
            return Shell()

    monkeypatch.setattr(FleetScanner, "_connector", lambda self: Connector())
    monkeypatch.setattr(
        engine_mod, "collect_ssh", lambda shell, target, timeout, packages=None: inventory(int(target.host[-1]))
    )
    privacy = Privacy(serials="hash", user_sids="hash", key=KEY)
    targets = [Target(f"10.0.0.{n}", site="Ward 9") for n in (1, 2, 3)]
    with open_store(db) as store:
        summary = FleetScanner(
            store, ScanConfig(processes=processes, concurrency=2, privacy=privacy), keep_inventories=False
        ).run(targets)
    assert summary.done == 3
    for n in (1, 2, 3):
        assert_treated(stored_text(db, inventory(n).inventory_id), hashed=True)


# -- retention -------------------------------------------------------------------------------------


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    conn = getattr(store, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql).fetchall()
    with store.pool.connection() as pg:  # type: ignore[attr-defined]
        return list(pg.execute(sql).fetchall())


@pytest.fixture
def estate(db: str) -> Iterator[str]:
    """Host 1: inventories in 2024 and 2026 (history to prune); host 2: seen last in 2024 (gone);
    host 3: 2026 only; scan attempts of both years.  The store's own findings tables are filled."""
    invs = [
        inventory(1, "2024-03-01T09:00:00Z"),
        inventory(1, "2026-11-01T09:00:00Z"),
        inventory(2, "2024-05-01T09:00:00Z"),
        inventory(3, "2026-10-01T09:00:00Z"),
    ]
    with open_store(db) as store:
        store.save_batch(invs)
        store.record_statuses(
            [
                HostStatus("10.0.0.2", "Ward 9", "ok", "", "2024-05-01T09:00:00Z"),
                HostStatus("10.0.0.1", "Ward 9", "ok", "", "2026-11-01T09:00:00Z"),
            ]
        )
        # the store persists findings (and their status ranges, package links, judgements) at ingest
        for table in ("findings", "finding_status", "inventory_software", "judgements"):
            assert _rows(store, f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table  # noqa: S608
    yield db


def test_prune_deletes_history_gone_hosts_their_findings_and_old_attempts(estate: str) -> None:
    cutoff = cutoff_for(date(2026, 11, 30), 400)  # 2025-10-26
    with open_store(estate) as store:
        dry = prune(store, cutoff, dry_run=True)
        assert (dry.inventories, dry.hosts, dry.scan_status) == (2, 1, 1)
        assert store.count_inventories() == 4  # a dry run keeps everything
        findings_before = len(_rows(store, "SELECT finding_id FROM findings"))
        result = prune(store, cutoff)
        assert result.to_dict() == {**dry.to_dict(), "dry_run": False}
        assert {"findings", "finding_status", "inventory_software_sets", "judgements"} <= set(result.related)
        left = sorted(r[0] for r in _rows(store, "SELECT inventory_id FROM inventories"))
        assert left == [
            inventory(1, "2026-11-01T09:00:00Z").inventory_id,
            inventory(3, "2026-10-01T09:00:00Z").inventory_id,
        ]
        for table in ("findings", "inventory_software_sets", "inventory_software", "judgements"):
            assert sorted({r[0] for r in _rows(store, f"SELECT inventory_id FROM {table}")}) == left  # noqa: S608
        assert len(_rows(store, "SELECT finding_id FROM findings")) == findings_before - result.related["findings"]
        orphans = _rows(
            store, "SELECT COUNT(*) FROM finding_status WHERE finding_id NOT IN (SELECT finding_id FROM findings)"
        )
        assert orphans[0][0] == 0 and result.related["finding_status"] >= result.related["findings"]
        # a finding's contents stay while a finding names them (here: all of them, shared)
        named = {r[0] for r in _rows(store, "SELECT content_id FROM findings")}
        assert {r[0] for r in _rows(store, "SELECT content_id FROM finding_contents")} == named
        assert sorted(h.host.hostname for h in store.latest_inventories()) == ["PC-1", "PC-3"]
        assert [s.target for s in store.statuses()] == ["10.0.0.1"]
        assert prune(store, cutoff).inventories == 0  # idempotent


def test_prune_deletes_a_findings_contents_with_the_last_finding_naming_them(db: str) -> None:
    gone, kept = inventory(4, "2024-03-01T09:00:00Z"), inventory(5, "2026-11-01T09:00:00Z")
    gone.software.append(
        Software(name="Adobe Flash Player 32 NPAPI", version="32.0.0.465", publisher="Adobe", source="windows-registry")
    )
    flash = "SELECT c.content_id FROM finding_contents c WHERE c.name = 'Adobe Flash Player 32 NPAPI'"
    with open_store(db) as store:
        store.save_batch([gone, kept])
        assert len(_rows(store, flash)) == 1
        contents = {r[0] for r in _rows(store, "SELECT content_id FROM finding_contents")}
        result = prune(store, cutoff_for(date(2026, 11, 30), 400))
        assert result.hosts == 1 and result.related["finding_contents"] >= 1
        named = {r[0] for r in _rows(store, "SELECT content_id FROM findings")}
        left = {r[0] for r in _rows(store, "SELECT content_id FROM finding_contents")}
        assert left == named and not _rows(store, flash)  # the pruned host's own contents went
        assert len(contents) - len(left) == result.related["finding_contents"]


def test_prune_keep_latest_keeps_every_hosts_latest_inventory(estate: str) -> None:
    with open_store(estate) as store:
        result = prune(store, cutoff_for(date(2026, 11, 30), 400), keep_latest=True)
        assert (result.inventories, result.hosts) == (1, 0)
        assert sorted(h.host.hostname for h in store.latest_inventories()) == ["PC-1", "PC-2", "PC-3"]


def test_prune_cli_reads_the_retention_setting_and_never_the_clock(estate: str, tmp_path: Path) -> None:
    cfg = tmp_path / "legacyscan.toml"
    cfg.write_text("[retention]\nkeep_days = 400\n", encoding="utf-8")
    proc = cli("prune", "--config", str(cfg), "--as-of", "2026-11-30", "--format", "json", db=estate)
    assert json.loads(proc.stdout)["inventories"] == 2 and json.loads(proc.stdout)["cutoff"] == "2025-10-26"
    # an earlier --as-of prunes nothing more (the cutoff comes from --as-of, never the clock)
    proc = cli("prune", "--keep-days", "400", "--as-of", "2026-01-01", "--format", "json", db=estate)
    assert json.loads(proc.stdout)["inventories"] == 0
    bad = cli("prune", "--as-of", "2026-11-30", db=estate, check=False)
    assert bad.returncode == 2 and "no retention period" in bad.stderr
