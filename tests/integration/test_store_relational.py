"""The relational store (issue #17 item 1), on BOTH backends: normalised software rows, findings
persisted when an inventory is stored with rule, evidence, confidence, dataset version and status
date ranges (the status on any date is a query that agrees with re-matching), and the migration
of a blob store written by the previous release that loses nothing.
"""

# ruff: noqa: S608 - fixed SQL text (table names and the whole-findings query of the code)
from __future__ import annotations

import random
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.cli import main
from scanner.demo import generate
from scanner.judge.match import match_inventory
from scanner.judge.timeline import group_key
from scanner.report.stored import _STEADY_FINDINGS_SQL
from scanner.store.open import default_judge, open_store
from scanner.store.relational import WIDE_FINDINGS, software_id
from scanner.store.schema import migrations
from scanner.store.sqlite import Store
from scanner.store.views import VIEW_NAMES
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "stores" / "release-0.1-schema3.db"

# Every finding whole, its host's part and its contents (``findings`` and ``finding_contents``, schema 8)
FINDINGS = f"({WIDE_FINDINGS})"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as s:
        yield s


def q(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return store._query(sql.replace("?", store.placeholder), params)


def windows_pc(name: str, at: str, apps: list[tuple[str, str, str]]) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"mid-{name}", site="north"),
        os=OsInfo(
            family="windows",
            name="Microsoft Windows 10 Pro",
            version="10.0.19045",
            facts={
                "caption": "Microsoft Windows 10 Pro",
                "product_name": "Windows 10 Pro",
                "version": "10.0.19045",
                "build": "19045",
                "display_version": "22H2",
                "edition_id": "Professional",
                "installation_type": "Client",
                "product_type": "1",
            },
        ),
        software=[Software(name=n, version=v, publisher=p, source="windows-registry") for n, v, p in apps],
        collected_at=at,
    )


APPS = [
    ("Java 8 Update 311", "8.0.3110.11", "Oracle Corporation"),
    ("Adobe Flash Player 32 NPAPI", "32.0.0.465", "Adobe"),
    ("Mozilla Firefox (x64 en-GB)", "115.0", "Mozilla"),
    ("7-Zip 19.00 (x64)", "19.00", "Igor Pavlov"),
]


def test_software_tuples_are_stored_once(store: Store) -> None:
    a = windows_pc("pc-a", "2026-03-01T09:00:00Z", APPS + [APPS[0]])  # Java listed twice on one host
    b = windows_pc("pc-b", "2026-03-01T09:00:00Z", APPS[:2])
    assert store.save_batch([a, b]) == [True, True]
    assert q(store, "SELECT COUNT(*) FROM software")[0][0] == len(APPS)  # four distinct tuples, once each
    java = software_id(*APPS[0][:2], APPS[0][2], "windows-registry")
    rows = dict(q(store, "SELECT inventory_id, entries FROM inventory_software WHERE software_id = ?", (java,)))
    assert rows == {a.inventory_id: 2, b.inventory_id: 1}
    name = q(store, "SELECT name, version, publisher, source FROM software WHERE software_id = ?", (java,))
    assert name == [(APPS[0][0], APPS[0][1], APPS[0][2], "windows-registry")]
    assert store.save_inventory(a) is False  # a duplicate adds no rows
    assert q(store, "SELECT SUM(entries) FROM inventory_software")[0][0] == 5 + 2


def test_findings_are_persisted_with_their_explanation(store: Store) -> None:
    inv = windows_pc("pc-a", "2026-03-01T09:00:00Z", APPS)
    store.save_inventory(inv)
    judge = default_judge()
    expected = match_inventory(inv, judge.ctx, date(2026, 3, 1), judge.policy).findings
    rows = q(
        store,
        "SELECT kind, name, product, cycle, status, rule, evidence, confidence, dataset_version, "
        f"judged_on, eol FROM {FINDINGS} w WHERE inventory_id = ? ORDER BY ordinal",
        (inv.inventory_id,),
    )
    assert len(rows) == len(expected) >= 3  # the OS, Java 8, Flash (7-Zip is not a tracked product)
    import json

    for row, f in zip(rows, expected, strict=True):
        assert row[:5] == (f.kind, f.name, f.product, f.cycle, f.status.value)
        assert row[5] == f.detail.rule and json.loads(row[6]) == f.detail.evidence
        assert row[7] == f.detail.confidence and row[8] == judge.dataset_version
        assert row[9] == "2026-03-01" and row[10] == (f.eol.isoformat() if f.eol else None)
    unidentified = q(store, "SELECT unidentified FROM judgements WHERE inventory_id = ?", (inv.inventory_id,))
    assert unidentified == [(1,)]  # 7-Zip


def _status_on(store: Store, inventory_id: str, day: date) -> dict[str, str]:
    rows = q(
        store,
        f"SELECT f.kind, f.group_key, f.product, f.cycle, f.name, s.status FROM {FINDINGS} f "
        "JOIN finding_status s ON s.finding_id = f.finding_id "
        "WHERE f.inventory_id = ? AND s.valid_from <= ? AND ? < s.valid_to",
        (inventory_id, day.isoformat(), day.isoformat()),
    )
    out = {}
    for kind, group, product, cycle, name, status in rows:
        out["os" if kind == "os" else (group or f"{product}:{cycle}:{name}")] = status
    return out


def test_status_on_any_date_is_a_query_that_agrees_with_rematching(store: Store) -> None:
    """Ranges cover every date exactly once, and on random dates (and each range's edges) agree
    with ``match_inventory`` on that date: the query is the re-match, stored."""
    inv = windows_pc("pc-a", "2026-03-01T09:00:00Z", APPS)
    debian = Inventory(
        host=Host(hostname="srv", machine_id="mid-srv", site="north"),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 10 (buster)",
            version="10",
            facts={"files": {"/etc/os-release": 'ID=debian\nVERSION_ID="10"\n'}},
        ),
        software=[
            Software(name="openssl", version="1.1.1n-0+deb10u6", source="dpkg"),
            Software(name="postgresql-11", version="11.22-0+deb10u1", source="dpkg"),
        ],
        collected_at="2024-01-10T00:00:00Z",
    )
    store.save_batch([inv, debian])
    judge = default_judge()
    rng = random.Random(17)
    for one in (inv, debian):
        ranges = q(
            store,
            "SELECT f.finding_id, s.valid_from, s.valid_to FROM findings f JOIN finding_status s "
            "ON s.finding_id = f.finding_id WHERE f.inventory_id = ? ORDER BY 1, 2",
            (one.inventory_id,),
        )
        by_finding: dict[str, list[tuple[str, str]]] = {}
        for fid, start, end in ranges:
            by_finding.setdefault(fid, []).append((start, end))
        for spans in by_finding.values():  # contiguous, from the first day to the open end
            assert spans[0][0] == "0001-01-01" and spans[-1][1] == "9999-12-31"
            assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        edges = {date.fromisoformat(s) for _, s, _ in ranges if s != "0001-01-01"}
        days = sorted(
            edges
            | {e - timedelta(days=1) for e in edges}
            | {date(2000, 1, 1) + timedelta(days=rng.randrange(15000)) for _ in range(40)}
        )
        ((start, end),) = q(
            store, "SELECT steady_from, steady_to FROM judgements WHERE inventory_id = ?", (one.inventory_id,)
        )
        judged = q(
            store,
            f"SELECT f.finding_id, f.status, f.eol, f.extended_until FROM {FINDINGS} f WHERE f.inventory_id = ?",
            (one.inventory_id,),
        )
        inside = 0
        for day in days:
            fresh = match_inventory(one, judge.ctx, day, judge.policy).findings
            expect = {("os" if f.kind == "os" else group_key(f)): f.status.value for f in fresh}
            assert _status_on(store, one.inventory_id, day) == expect, day
            # the steady range: exactly the days on which every finding is in its judged state
            states = q(
                store,
                "SELECT f.finding_id, s.status, s.eol, s.extended_until FROM findings f JOIN finding_status s "
                "ON s.finding_id = f.finding_id AND s.valid_from <= ? AND s.valid_to > ? WHERE f.inventory_id = ?",
                (day.isoformat(), day.isoformat(), one.inventory_id),
            )
            inside += start <= day.isoformat() < end
            assert (start <= day.isoformat() < end) == (sorted(states) == sorted(judged)), day
        assert 0 < inside < len(days)


# -- migration of a store written by the previous release ----------------------------------------


def _sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608 - fixed names


def _copy_to_postgres(url: str, source: Path) -> None:
    """A PostgreSQL store at schema 3 holding the fixture's rows (as the previous release wrote them)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE legacyscan_schema (version INTEGER NOT NULL)")
        for script in migrations("postgresql")[:3]:
            for statement in script:
                conn.execute(statement)
        conn.execute("INSERT INTO legacyscan_schema VALUES (3)")
        for table in ("hosts", "inventories", "scan_status", "tokens"):
            rows = _sqlite_rows(source, table)
            if rows:
                marks = ",".join(["%s"] * len(rows[0]))
                with conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608


def test_migration_from_the_blob_store_loses_nothing(store_url: str, tmp_path: Path) -> None:
    before = {t: _sqlite_rows(FIXTURE, t) for t in ("hosts", "inventories", "scan_status", "tokens")}
    assert len(before["inventories"]) == 80 and before["tokens"]
    if store_url.startswith("sqlite"):
        path = tmp_path / "store.db"
        shutil.copy(FIXTURE, path)
        store_url = f"sqlite:///{path}"
    else:
        _copy_to_postgres(store_url, FIXTURE)
    with open_store(store_url) as store:
        assert store.schema_version() == len(migrations("sqlite"))  # type: ignore[attr-defined]
        # nothing written by the previous release changed
        for table, rows in before.items():
            sql = f"SELECT * FROM {table}"  # noqa: S608 - fixed names
            after = sorted(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in q(store, sql))
            assert after == rows, table
        assert q(store, "SELECT COUNT(*) FROM findings")[0][0] == 0  # not judged yet
        done = store.judge_pending()
        assert done == 80
        assert store.judge_pending() == 0  # idempotent
        judge = default_judge()
        for inventory_id, *_ in before["inventories"]:
            inv = store.get_inventory(inventory_id)
            assert inv is not None
            stored = Counter(
                {
                    sid: n
                    for sid, n in q(
                        store,
                        "SELECT software_id, entries FROM inventory_software WHERE inventory_id = ?",
                        (inventory_id,),
                    )
                }
            )
            assert stored == Counter(software_id(s.name, s.version, s.publisher, s.source) for s in inv.software)
            day = date.fromisoformat(inv.collected_at[:10])
            fresh = match_inventory(inv, judge.ctx, day, judge.policy)
            rows = q(
                store,
                f"SELECT kind, name, version, status FROM {FINDINGS} w WHERE inventory_id = ? "
                "AND dataset_version = ? ORDER BY ordinal",
                (inventory_id, judge.dataset_version),
            )
            assert rows == [(f.kind, f.name, f.version, f.status.value) for f in fresh.findings]
            assert q(
                store, "SELECT unidentified, judged_on FROM judgements WHERE inventory_id = ?", (inventory_id,)
            ) == [(fresh.unidentified, day.isoformat())]
        assert store.latest_inventories()  # the old API reads the migrated store as before


# -- migration 6: package lists stored once per distinct list ----------------------------------------

# What schema 5 held, table by table (``inventory_software`` was a table then, a view now).
SCHEMA5_TABLES = (
    "hosts",
    "inventories",
    "scan_status",
    "software",
    "inventory_software",
    "datasets",
    "judgements",
    "findings",
    "finding_status",
)


# Columns of schema 5 where a later migration added some (7: each judgement's steady range).
SCHEMA5_COLUMNS = {"judgements": "inventory_id, dataset_version, judged_on, unidentified"}


def _schema5_select(table: str) -> str:
    if table == "findings":  # its contents in ``finding_contents`` since schema 8
        return WIDE_FINDINGS
    return f"SELECT {SCHEMA5_COLUMNS.get(table, '*')} FROM {table}"  # noqa: S608 - fixed names


def _plain(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as SQLite gives them (PostgreSQL: bytes for a memoryview, text for a date), sorted."""

    def value(v: Any) -> Any:
        return bytes(v) if isinstance(v, memoryview) else v.isoformat() if isinstance(v, date) else v

    return sorted((tuple(map(value, r)) for r in rows), key=repr)


def _schema5_store(url: str, tmp_path: Path, tables: dict[str, list[tuple[Any, ...]]]) -> str:
    """A store at schema 5 (migrations 1-5 only) holding ``tables``, as the release before wrote them."""
    return old_store(url, tmp_path, tables, 5)


def old_store(url: str, tmp_path: Path, tables: dict[str, list[tuple[Any, ...]]], version: int) -> str:
    """A store at schema ``version`` (migrations 1 to ``version`` only) holding ``tables``."""
    if url.startswith("sqlite"):
        path = tmp_path / f"schema{version}.db"
        with sqlite3.connect(path) as lite:
            for script in migrations("sqlite")[:version]:
                for statement in script:
                    lite.execute(statement)
            lite.execute(f"PRAGMA user_version={version}")
            for table, rows in tables.items():
                if rows:
                    marks = ",".join(["?"] * len(rows[0]))
                    lite.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
        return f"sqlite:///{path}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE legacyscan_schema (version INTEGER NOT NULL)")
        for script in migrations("postgresql")[:version]:
            for statement in script:
                conn.execute(statement)
        conn.execute("INSERT INTO legacyscan_schema VALUES (%s)", (version,))
        for table, rows in tables.items():
            if rows:
                marks = ",".join(["%s"] * len(rows[0]))
                with conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
    return url


def test_migration_to_package_lists_keeps_every_row_and_every_view(store_url: str, tmp_path: Path) -> None:
    at = "2026-03-01T09:00:00Z"
    old = [
        windows_pc("pc-a", at, APPS + [APPS[0]]),  # Java twice: two entries of one package
        windows_pc("pc-b", at, APPS + [APPS[0]]),  # the same build
        windows_pc("pc-c", at, APPS[:2]),
        windows_pc("pc-d", at, []),  # no packages: no rows
    ]
    # The rows the release before wrote: today's store makes the same rows for every other table,
    # and its ``inventory_software`` view gives that table's rows (checked against the packages below).
    with open_store(f"sqlite:///{tmp_path / 'scratch.db'}") as scratch:
        assert scratch.save_batch(old) == [True] * 4
        tables = {t: _plain(q(scratch, _schema5_select(t))) for t in SCHEMA5_TABLES}
        views = {v: _plain(q(scratch, f"SELECT * FROM {v}")) for v in VIEW_NAMES}  # noqa: S608
        steady = _plain(q(scratch, "SELECT inventory_id, steady_from, steady_to FROM judgements"))
    for inv in old:
        links = Counter({sid: n for i, sid, n in tables["inventory_software"] if i == inv.inventory_id})
        assert links == Counter(software_id(s.name, s.version, s.publisher, s.source) for s in inv.software)
    assert len(tables["inventory_software"]) == 4 + 4 + 2 and tables["findings"]

    with open_store(_schema5_store(store_url, tmp_path, tables)) as store:
        assert store.schema_version() == len(migrations("sqlite"))  # type: ignore[attr-defined]
        for table, rows in tables.items():  # nothing lost, nothing changed (inventory_software: the view)
            assert _plain(q(store, _schema5_select(table))) == rows, table
        # migration 7 gave each judgement the steady range ingest gives it (each has its OS finding)
        assert _plain(q(store, "SELECT inventory_id, steady_from, steady_to FROM judgements")) == steady
        assert sum(1 for _, start, end in steady if start is not None and end is not None) == 4
        for view, rows in views.items():  # the BI views read the migrated store as before
            assert _plain(q(store, f"SELECT * FROM {view}")) == rows, view  # noqa: S608
        lists = _plain(q(store, "SELECT * FROM software_sets"))
        assert lists == sorted(
            (f"inv:{inv.inventory_id}", len({(s.name, s.version) for s in inv.software}), len(inv.software))
            for inv in old[:3]
        )  # one list per inventory that had packages, named after it
        assert store.judge_pending() == 0  # every inventory has its packages and findings already

        # a new host of a migrated build gets the build's content-named list, shared by the next one
        new = [windows_pc("pc-e", "2026-04-01T09:00:00Z", APPS + [APPS[0]]) for _ in range(2)]
        new[1].host.hostname, new[1].host.machine_id = "pc-f", "mid-pc-f"
        assert store.save_batch(new[:1]) == [True] and store.save_batch(new[1:]) == [True]
        (shared,) = {
            r[0] for r in q(store, "SELECT set_id FROM inventory_software_sets") if not r[0].startswith("inv:")
        }
        assert len(shared) == 32 and len(q(store, "SELECT * FROM software_sets")) == 3 + 1
        links = q(store, "SELECT inventory_id, set_id FROM inventory_software_sets WHERE set_id = ?", (shared,))
        assert sorted(links) == sorted((inv.inventory_id, shared) for inv in new)
        for inv in new:  # read through the view, the same rows as the migrated host of that build
            rows = q(
                store, "SELECT software_id, entries FROM inventory_software WHERE inventory_id = ?", (inv.inventory_id,)
            )
            assert sorted(rows) == sorted(
                (s, n) for i, s, n in tables["inventory_software"] if i == old[0].inventory_id
            )
        assert len(q(store, "SELECT * FROM software")) == len(APPS)  # no package stored twice


# -- migration 9: a finding's contents stored once ----------------------------------------------------

# What schema 8 held, table by table (``findings`` whole: its contents moved to ``finding_contents``).
SCHEMA8_TABLES = (
    "hosts",
    "inventories",
    "inventory_facts",
    "scan_status",
    "software",
    "software_sets",
    "software_set_members",
    "inventory_software_sets",
    "datasets",
    "judgements",
    "findings",
    "finding_status",
)


# A judgement's columns from schema 7 to 10 (11 adds ``judged_by``).
JUDGEMENT_COLUMNS_10 = "inventory_id, dataset_version, judged_on, unidentified, steady_from, steady_to"


def _schema8_select(table: str) -> str:
    if table == "judgements":
        return f"SELECT {JUDGEMENT_COLUMNS_10} FROM judgements"  # noqa: S608 - fixed names
    return WIDE_FINDINGS if table == "findings" else f"SELECT * FROM {table}"  # noqa: S608 - fixed names


def _report(url: str, as_of: str, fmt: str, out: Path) -> bytes:
    assert main(["report", "--db", url, "--format", fmt, "--as-of", as_of, "--out", str(out), "-q"]) == 0
    return out.read_bytes()


def test_migration_to_finding_contents_keeps_every_finding_every_view_and_the_report(
    store_url: str, tmp_path: Path
) -> None:
    demo = generate(devices=40, sites=2, seed=11, as_of=date(2026, 11, 30))
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    # The rows the release before wrote: today's store makes them (its findings read whole).
    with open_store(scratch_url) as scratch:
        scratch.save_batch(demo.previous)
        scratch.save_batch(demo.current)
        scratch.record_statuses(demo.statuses)
        tables = {t: _plain(q(scratch, _schema8_select(t))) for t in SCHEMA8_TABLES}
        views = {v: _plain(q(scratch, f"SELECT * FROM {v}")) for v in VIEW_NAMES}  # noqa: S608
        hashed = q(scratch, "SELECT COUNT(*) FROM finding_contents")[0][0]
    findings = tables["findings"]
    assert len(findings) > 500 and all(views.values())
    assert {r[22] for r in findings} >= {"eol", "ending-soon", "supported", "unknown"}  # states of contents
    assert any(r[11] is None for r in findings) and any(r[23] is None for r in findings)  # NULLs (cycle, eol)
    assert any(r[13] is not None for r in findings)  # groups
    reports = {
        (day, fmt): _report(scratch_url, day, fmt, tmp_path / f"scratch-{day}.{fmt}")
        for day in ("2026-11-30", "2027-03-01")
        for fmt in ("json", "csv")
    }

    store_url = old_store(store_url, tmp_path, tables, 8)
    with open_store(store_url) as store:
        assert store.schema_version() == len(migrations("sqlite")) >= 9  # type: ignore[attr-defined]
        for table, rows in tables.items():  # nothing lost, nothing changed (findings: read whole)
            assert _plain(q(store, _schema8_select(table))) == rows, table
        for view, rows in views.items():  # the BI views give the same rows
            assert _plain(q(store, f"SELECT * FROM {view}")) == rows, view  # noqa: S608
        # each distinct contents once, named after the first finding carrying it
        contents = q(store, "SELECT content_id FROM finding_contents")
        distinct = {(*r[7:14], *r[15:21], *r[22:25]) for r in findings}
        assert len(contents) == len(distinct) == hashed < len(findings) / 4
        assert all(cid.startswith("f:") for (cid,) in contents)
        if store_url.startswith("sqlite"):  # the report reads a host's findings from the index alone (10)
            sql = "EXPLAIN QUERY PLAN " + _STEADY_FINDINGS_SQL.format(p="?", marks="?,?")
            assert any("COVERING INDEX findings_inventory" in str(r[-1]) for r in q(store, sql, ("d", "a", "b")))
        assert store.judge_pending() == 0  # every inventory has its findings already
    for (day, fmt), want in reports.items():  # the report reads the migrated store as the new one
        assert _report(store_url, day, fmt, tmp_path / f"migrated-{day}.{fmt}") == want, (day, fmt)

    # a host stored after the migration: its contents named by their hash, read back whole
    with open_store(store_url) as store:
        host = windows_pc("pc-new", "2026-11-29T09:00:00Z", APPS)
        assert store.save_batch([host]) == [True]
        rows = q(
            store,
            "SELECT f.content_id, c.kind, c.name FROM findings f "
            "JOIN finding_contents c ON c.content_id = f.content_id WHERE f.inventory_id = ? ORDER BY f.ordinal",
            (host.inventory_id,),
        )
        assert len(rows) >= 3 and all(len(cid) == 32 and not cid.startswith("f:") for cid, _, _ in rows)
        assert rows[0][1] == "os" and APPS[0][0] in {name for _, _, name in rows}
