"""The SQL views for BI tools (issue #17 item 3), on BOTH backends.

* A demo estate stored through the real ingest path (``Store.save_batch`` judging each inventory,
  scan statuses recorded): every row of the views agrees with ``legacyscan report --format json``
  for the same date -- the status ranges on the report's ``--as-of``, the findings, hosts and sites
  on the day the inventories were judged -- cross-checked, never hard-coded.
* The views' contract version, on a new store and on a store written by release 0.1 (migrated).
* Every ```sql block of docs/bi.md runs on both backends, so the documented queries cannot rot.
* PostgreSQL: ``legacyscan db readonly-role`` (printed and run by the real psql, and ``--apply``):
  the role can SELECT every view and nothing else -- no base table, no write, no CREATE.
* SQLite: a ``mode=ro`` URI connection reads the views and cannot write.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from agents.inventory import Collector, Host, Inventory, OsInfo
from scanner.cli import main
from scanner.demo import generate
from scanner.store.open import open_store
from scanner.store.schema import MIGRATIONS, VIEWS_VERSION
from scanner.store.sqlite import Store
from scanner.store.views import VIEW_NAMES, readonly_role_sql
from tests.conftest import require_or_skip
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "stores" / "release-0.1-schema3.db"
AS_OF = date(2026, 11, 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


def q(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return store._query(sql.replace("?", store.placeholder), params)


def execute(store: Store, sql: str) -> None:
    conn = getattr(store, "conn", None)
    if conn is not None:
        conn.execute(sql)
        return
    with store.pool.connection() as pg:  # type: ignore[attr-defined]
        pg.execute(sql)


def dicts(store: Store, sql: str) -> list[dict[str, Any]]:
    """Rows as dicts (column names from the database), dates as ISO text on both backends."""
    conn = getattr(store, "conn", None)
    if conn is not None:
        cur = conn.execute(sql)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    else:
        with store.pool.connection() as pg:  # type: ignore[attr-defined]
            cur = pg.execute(sql)
            names = [d[0] for d in cur.description or ()]
            rows = cur.fetchall()
    return [{n: (v.isoformat() if isinstance(v, date) else v) for n, v in zip(names, r, strict=True)} for r in rows]


@pytest.fixture
def estate(store_url: str) -> Iterator[Store]:
    """A small demo estate (two sites, a previous and a current scan, unreached targets) stored
    through the real ingest path: each inventory judged into findings as it is saved."""
    demo = generate(devices=36, sites=2, seed=11, as_of=AS_OF)
    with open_store(store_url) as store:
        store.save_batch(demo.previous)
        store.save_batch(demo.current)
        store.record_statuses(demo.statuses)
        store.save_batch(discovered(demo.current))
        yield store


def discovered(current: list[Inventory]) -> list[Inventory]:
    """Devices credential-free discovery found and rows of the device register: some later
    inventoried (linked by the short name of an address, across sites by a full name, by a host
    name), so the report leaves them out, and some only discovered or registered, which it keeps
    (one of them shares an inventoried host's short name at another site: short names and addresses
    link only within a site)."""
    a, b, c = current[0], current[1], current[2]

    def found(site: str, hostname: str, address: str) -> Inventory:
        return Inventory(
            host=Host(hostname=hostname, machine_id=f"discovered:{address}", site=site, address=address),
            os=OsInfo(family="windows", name="Windows (SMB)"),
            collected_at=a.collected_at,
            collector=Collector(name="legacyscan-discover", transport="discovery"),
        )

    def registered(line: int, hostname: str) -> Inventory:
        # as scanner.imports.register makes them: tagged, no collection time, the recorded OS only
        return Inventory(
            host=Host(
                hostname=hostname,
                machine_id=f"register:0123456789ab:{line}",
                site=c.host.site,
                tags=["device-register", "location:ward-7"],
            ),
            os=OsInfo(family="unknown", name="Proprietary RTOS 2.1", facts={"recorded_os": "RTOS"}),
            collected_at="",
            collector=Collector(name="register", transport="import", source="register"),
        )

    return [
        found(a.host.site, "", f"{a.host.hostname.upper()}.ward.example"),
        found("DEMO Found Elsewhere", b.host.address.upper(), "10.9.9.8"),
        found(a.host.site, "lab-printer-9.example", "10.9.9.9"),
        # another site's device that shares a's short name: never linked across sites (kept)
        found(
            next(i.host.site for i in current if i.host.site != a.host.site), a.host.hostname.upper(), "192.168.1.10"
        ),
        registered(2, c.host.hostname.lower()),
        registered(3, "INFUSION-PUMP-0042"),
    ]


def report(url: str, as_of: date, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["report", "--db", url, "--format", "json", "--as-of", as_of.isoformat()]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def report_findings(rep: dict[str, Any]) -> list[dict[str, Any]]:
    """Every identified finding of the report (the OS when identified, and the software)."""
    out = []
    for site in rep["sites"]:
        for host in site["hosts"]:
            for f in ([host["os"]] if host["os"] else []) + host["findings"]:
                if f["product"] is not None:
                    out.append(f)
    return out


KEY = ("site", "host_key", "kind", "product", "cycle", "name", "version", "status", "eol", "extended_until")


def _key(f: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(f[k] for k in KEY)


def test_views_agree_with_the_json_report(
    estate: Store, store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no legacyscan-site.toml / legacyscan.toml of the developer's
    assert dicts(estate, "SELECT * FROM legacyscan_views_version") == [
        {"version": VIEWS_VERSION, "schema_name": f"legacyscan-views/{VIEWS_VERSION}"}
    ]

    # 1. status on any date: the ranges on a date give exactly the report's findings with that --as-of
    #    (the report's date, a year on, a year and a half back: statuses differ between them)
    judged: Counter[tuple[Any, ...]] = Counter(_key(r) for r in dicts(estate, "SELECT * FROM legacyscan_findings"))
    differ = 0
    for on_date in (AS_OF, date(2027, 12, 1), date(2025, 6, 1)):
        rep = report(store_url, on_date, capsys)
        on = on_date.isoformat()
        where = f"WHERE valid_from <= '{on}' AND '{on}' < valid_until"
        ranged = dicts(estate, "SELECT * FROM legacyscan_finding_status " + where)  # noqa: S608
        expected = Counter(_key(f) for f in report_findings(rep))
        assert len(expected) > 50 and {k[7] for k in expected} >= {"eol", "supported"}
        assert Counter(_key(r) for r in ranged) == expected, on
        assert {r["dataset_version"] for r in ranged} == {rep["dataset_version"]}
        differ += expected != judged
    assert differ >= 2  # the check has teeth: the status changes over these dates

    # 2. legacyscan_findings: the status as judged on the collection day = the report on that day
    rows = dicts(estate, "SELECT * FROM legacyscan_findings")
    days = {r["judged_on"] for r in rows}
    assert len(days) == 1, days  # the demo's current scan is one day
    judged_on = date.fromisoformat(days.pop())
    assert judged_on < AS_OF
    rep_day = report(store_url, judged_on, capsys)
    assert Counter(_key(r) for r in rows) == Counter(_key(f) for f in report_findings(rep_day))
    for r in rows:  # the status holds over its range, which contains the day it was judged on
        assert r["status_from"] <= r["judged_on"] < r["status_until"]
        assert r["dataset_version"] == rep_day["dataset_version"] and r["rule"] and r["confidence"]
    by_id = {r["finding_id"]: r for r in rows}
    assert {r["finding_id"] for r in dicts(estate, "SELECT finding_id FROM legacyscan_finding_status")} == set(by_id)

    # 3. legacyscan_hosts: one row per host of the report, its OS verdict and worst status that day
    hosts = {(h["site"], h["host_key"]): h for h in dicts(estate, "SELECT * FROM legacyscan_hosts")}
    rep_hosts = {(s["site"], h["host_key"]): h for s in rep_day["sites"] for h in s["hosts"]}
    assert set(hosts) == set(rep_hosts)
    assert Counter(h["source"] for h in hosts.values()) == Counter(
        h.get("source", "inventory") for h in rep_hosts.values()
    )
    assert Counter(h["source"] for h in hosts.values())["discovered"] == 2  # two discovered gave way
    assert Counter(h["source"] for h in hosts.values())["register"] == 1  # one register row gave way
    for key, h in hosts.items():
        want = rep_hosts[key]
        assert h["hostname"] == want["hostname"] and h["collected_at"] == want["collected_at"]
        assert h["source"] == want.get("source", "inventory")
        assert h["worst_status"] == want["worst"]
        assert h["unidentified_packages"] == want["unidentified_packages"]
        assert (h["os_product"], h["os_cycle"], h["os_status"], h["os_eol"]) == (
            (want["os"]["product"], want["os"]["cycle"], want["os"]["status"], want["os"]["eol"])
            if want["os"]
            else (None, None, None, None)
        )
        mine = Counter(r["status"] for r in rows if (r["site"], r["host_key"]) == key)
        assert (
            h["findings_eol"],
            h["findings_extended"],
            h["findings_ending_soon"],
            h["findings_supported"],
            h["findings_unknown"],
        ) == (mine["eol"], mine["extended"], mine["ending-soon"], mine["supported"], mine["unknown"])

    # 4. legacyscan_sites: device counts, scan coverage as the report counts them
    sites = {s["site"]: s for s in dicts(estate, "SELECT * FROM legacyscan_sites")}
    assert set(sites) == {s["site"] for s in rep_day["sites"]}
    for s in rep_day["sites"]:
        mine = sites[s["site"]]
        worst = Counter(h["worst"] for h in s["hosts"])
        assert mine["hosts"] == len(s["hosts"]) == s["kpis"]["devices"]
        assert (
            mine["hosts_eol"],
            mine["hosts_extended"],
            mine["hosts_ending_soon"],
            mine["hosts_supported"],
            mine["hosts_unknown"],
            mine["hosts_not_judged"],
        ) == (worst["eol"], worst["extended"], worst["ending-soon"], worst["supported"], worst["unknown"], 0)
        assert mine["os_eol"] == s["kpis"]["unsupported_os"]
        assert mine["os_extended"] == s["kpis"]["extended_os"]
        assert (mine["targets"], mine["targets_not_reached"]) == (s["kpis"]["targets"], s["kpis"]["not_reached"])
        assert mine["targets_not_reached"] >= 1  # the demo leaves some targets unreached
        assert mine["findings_eol"] == sum(1 for r in rows if r["site"] == s["site"] and r["status"] == "eol")


def test_only_the_latest_inventory_and_the_newest_dataset(store_url: str) -> None:
    """A host's earlier inventory never shows; a re-judgement with a newer dataset replaces the
    verdicts the views show while the older dataset's findings stay in the tables."""
    demo = generate(devices=4, sites=1, seed=3, as_of=AS_OF)
    with open_store(store_url) as store:
        store.save_batch(demo.previous)
        store.save_batch(demo.current)
        latest = {inv.inventory_id for inv in demo.current}
        ids = {r[0] for r in q(store, "SELECT DISTINCT inventory_id FROM legacyscan_findings")}
        assert ids == latest
        assert {r[0] for r in q(store, "SELECT inventory_id FROM legacyscan_hosts")} == latest
        before = q(store, "SELECT COUNT(*), MIN(dataset_version) FROM legacyscan_findings")[0]
        # a newer dataset version (as `eol update` writes one): same rows, re-labelled
        execute(
            store,
            "INSERT INTO judgements (inventory_id, dataset_version, judged_on, unidentified) "
            "SELECT inventory_id, dataset_version || '~newer', judged_on, unidentified FROM judgements",
        )
        contents = (
            "kind, name, version, product, cycle, product_label, group_key, rule, reason, evidence, "
            "confidence, release_label, release_source, eol, extended_until"
        )
        execute(
            store,
            f"INSERT INTO finding_contents (content_id, status, {contents}) "  # noqa: S608
            f"SELECT content_id || 'n', 'eol', {contents} FROM finding_contents",
        )
        columns = "inventory_id, ordinal, host_key, site, hostname, entries, judged_on"
        execute(
            store,
            f"INSERT INTO findings (finding_id, dataset_version, content_id, {columns}) "  # noqa: S608
            f"SELECT finding_id || 'n', dataset_version || '~newer', content_id || 'n', {columns} FROM findings",
        )
        after = q(store, "SELECT COUNT(*), MIN(dataset_version), MIN(status), MAX(status) FROM legacyscan_findings")[0]
        assert after == (before[0], before[1] + "~newer", "eol", "eol")
        assert q(store, "SELECT COUNT(*) FROM findings WHERE dataset_version = ?", (before[1],))[0][0] > 0


def test_old_store_migrates_and_gets_the_views(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        hosts = conn.execute("SELECT COUNT(*) FROM hosts").fetchone()[0]
    with open_store(f"sqlite:///{db}") as store:
        assert store.schema_version() == len(MIGRATIONS) >= 5
        assert q(store, "SELECT version FROM legacyscan_views_version") == [(VIEWS_VERSION,)]
        # before judgement: every host listed, not judged yet
        assert q(store, "SELECT COUNT(*), COUNT(worst_status) FROM legacyscan_hosts") == [(hosts, 0)]
        assert q(store, "SELECT hosts_not_judged FROM legacyscan_sites WHERE hosts > 0")
        store.judge_pending()
        assert q(store, "SELECT COUNT(*), COUNT(worst_status) FROM legacyscan_hosts") == [(hosts, hosts)]
        assert q(store, "SELECT COUNT(DISTINCT host_key) FROM legacyscan_findings")[0][0] == hosts
        assert q(store, "SELECT SUM(hosts), SUM(hosts_not_judged) FROM legacyscan_sites") == [(hosts, 0)]


# -- docs/bi.md ----------------------------------------------------------------------------------


def doc_queries() -> list[str]:
    text = (ROOT / "docs" / "bi.md").read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def test_the_documented_queries_run(estate: Store) -> None:
    queries = doc_queries()
    assert len(queries) >= 6
    returned = 0
    for sql in queries:
        for statement in (s.strip() for s in sql.split(";")):
            if statement:
                rows = dicts(estate, statement)
                returned += bool(rows)
    assert returned >= len(queries) - 2  # the demo estate answers nearly every example


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_documented_grafana_queries_run(estate: Store) -> None:
    """The Grafana panel queries (```pgsql), with the macros as Grafana expands them."""
    text = (ROOT / "docs" / "bi.md").read_text(encoding="utf-8")
    queries = re.findall(r"```pgsql\n(.*?)```", text, flags=re.S)
    assert len(queries) >= 3
    for sql in queries:
        sql = sql.replace("$__timeFrom()", "'2026-11-30T00:00:00Z'").replace("$__timeTo()", "'2027-06-30T23:59:59Z'")
        assert "$" not in sql
        assert dicts(estate, sql), sql  # the demo estate answers every panel


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_documented_types_are_the_postgresql_types(estate: Store) -> None:
    text = (ROOT / "docs" / "bi.md").read_text(encoding="utf-8")
    for view in VIEW_NAMES:
        body = text.split(f"### `{view}`", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        documented = dict(re.findall(r"^\| `(\w+)` \| (\w+) \|", body, flags=re.M))
        actual = dict(
            q(
                estate,
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                (view,),
            )
        )
        assert documented == actual, view


def test_docs_list_every_view_and_column(tmp_path: Path) -> None:
    """docs/bi.md documents each column of each view (name in backticks in its table)."""
    text = (ROOT / "docs" / "bi.md").read_text(encoding="utf-8")
    with open_store(f"sqlite:///{tmp_path / 's.db'}", judge=False) as store:
        for view in VIEW_NAMES:
            section = text.split(f"### `{view}`", 1)
            assert len(section) == 2, f"docs/bi.md has no section for {view}"
            body = section[1].split("\n### ", 1)[0]
            cur = store.conn.execute(f"SELECT * FROM {view} WHERE 1 = 0")  # type: ignore[attr-defined]  # noqa: S608
            for name, *_rest in cur.description:
                assert f"| `{name}` |" in body, f"{view}.{name} is not documented in docs/bi.md"


# -- read-only access ----------------------------------------------------------------------------


def _as(admin: str, user: str, password: str) -> str:
    parts = urlsplit(admin)
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"postgresql://{quote(user)}:{quote(password, safe='')}@{parts.hostname or ''}{port}{parts.path}{query}"


def _check_views_only(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for view in VIEW_NAMES:
            conn.execute(f"SELECT * FROM {view} LIMIT 5").fetchall()  # noqa: S608 - fixed names
        assert conn.execute("SELECT COUNT(*) FROM legacyscan_findings").fetchone()[0] > 0
        tables = ("hosts", "inventories", "findings", "finding_contents", "finding_status", "software", "tokens")
        for table in (*tables, "scan_status"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 - fixed names
        for statement in (
            "DELETE FROM legacyscan_findings",
            "UPDATE legacyscan_hosts SET hostname = 'x'",
            "INSERT INTO legacyscan_sites (site) VALUES ('x')",
            "DELETE FROM hosts",
            "UPDATE tokens SET revoked_at = 'x'",
            "CREATE TABLE planted (x int)",
        ):
            with pytest.raises(psycopg.Error):  # read-only transaction, no privilege, or a view that takes no write
                conn.execute(statement)
        conn.execute("SET default_transaction_read_only = off")  # the role's own setting is not the guard
        for statement in (
            "DELETE FROM findings",
            "UPDATE hosts SET hostname = 'x'",
            "INSERT INTO tokens VALUES ('a','b','c','d','e','f')",
            "CREATE TABLE planted (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def _drop_role(admin_db: str, role: str) -> None:
    with psycopg.connect(admin_db, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_readonly_role_applied_reads_the_views_only(
    estate: Store, store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    role, password = f"bi_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    monkeypatch.setenv("LEGACYSCAN_BI_PASSWORD", password)
    try:
        assert main(["db", "readonly-role", "--name", role, "--apply", "--db", store_url]) == 0
        out = capsys.readouterr()
        assert "password set" in out.out and password not in out.out + out.err
        with psycopg.connect(store_url) as conn:
            stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$") and password not in stored  # hashed on the client
        _check_views_only(_as(store_url, role, password))
        # again, without a password: grants re-applied, the password kept
        monkeypatch.delenv("LEGACYSCAN_BI_PASSWORD")
        assert main(["db", "readonly-role", "--name", role, "--apply", "--db", store_url]) == 0
        assert "password unchanged" in capsys.readouterr().out
        with psycopg.connect(store_url) as conn:
            assert conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0] == stored
    finally:
        _drop_role(store_url, role)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_readonly_role_printed_and_run_by_psql(
    estate: Store, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    psql = shutil.which("psql")
    if psql is None:
        require_or_skip("psql is not installed (apt-get install postgresql-client)")
    assert psql is not None
    role = f"bi_{uuid.uuid4().hex[:8]}"
    capsys.readouterr()
    assert main(["db", "readonly-role", "--name", role, "--db", store_url]) == 0
    script = capsys.readouterr().out
    assert script.count(";") >= len(readonly_role_sql(role)) and "PASSWORD" not in script
    try:
        for _ in range(2):  # idempotent: a DBA may run it again after an upgrade
            run = subprocess.run(
                [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", store_url],
                input=script,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert run.returncode == 0, run.stderr
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {role} PASSWORD 'only-in-this-test'")  # the DBA's \\password
        _check_views_only(_as(store_url, role, "only-in-this-test"))
    finally:
        _drop_role(store_url, role)


def test_readonly_role_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "readonly-role", "--name", "Robert'); DROP", "--db", "sqlite:///x.db"]) == 2
    assert "role name" in capsys.readouterr().err
    assert main(["db", "readonly-role", "--apply", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "mode=ro" in err
    assert not (tmp_path / "x.db").exists()


def test_sqlite_read_only_uri(tmp_path: Path) -> None:
    db = tmp_path / "estate.db"
    demo = generate(devices=6, sites=1, seed=2, as_of=AS_OF)
    with open_store(f"sqlite:///{db}") as store:
        store.save_batch(demo.current)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT COUNT(*) FROM legacyscan_hosts").fetchone()[0] == 6
        assert conn.execute("SELECT COUNT(*) FROM legacyscan_findings").fetchone()[0] > 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM hosts")
    finally:
        conn.close()


def test_db_views_lists_the_contract(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "views", "--db", store_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"legacyscan-views/{VIEWS_VERSION}"
    assert [line.split(":", 1)[0] for line in out[1:]] == list(VIEW_NAMES)
    assert out[1].startswith(
        "legacyscan_findings: site, hostname, host_key, kind, product, cycle, name, version, "
        "status, eol, extended_until, rule, confidence, dataset_version, judged_on"
    )
