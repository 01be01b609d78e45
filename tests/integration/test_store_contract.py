"""The Store contract, run against BOTH backends: SQLite (a temp file) and a real PostgreSQL.

Whatever the CLI, the report and the collector service rely on is asserted here once, so the two
backends cannot drift apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.store.enrolment import token_hash
from scanner.store.open import open_store
from scanner.store.sqlite import HostStatus, Store, StoreError
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as s:
        yield s


def make(host: str, at: str, *, site: str = "north", packages: int = 3, machine_id: str | None = None) -> Inventory:
    return Inventory(
        host=Host(
            hostname=host,
            machine_id=machine_id if machine_id is not None else f"mid-{host}",
            site=site,
            tags=["b", "a"],
        ),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 12 (bookworm)",
            version="12",
            facts={"files": {"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'}},
        ),
        software=[Software(name=f"pkg{i}", version=f"1.{i}", source="dpkg") for i in range(packages)],
        collected_at=at,
    )


def test_round_trip_keeps_every_field(store: Store) -> None:
    inv = make("ward-pc-1", "2026-01-05T09:00:00Z", packages=50)
    assert store.save_inventory(inv) is True
    back = store.get_inventory(inv.inventory_id)
    assert back is not None
    assert back.to_dict() == inv.to_dict()
    assert store.get_inventory("no-such-id") is None


def test_save_is_idempotent_on_inventory_id(store: Store) -> None:
    inv = make("ward-pc-1", "2026-01-05T09:00:00Z")
    assert store.save_inventory(inv) is True
    assert store.save_inventory(inv) is False
    assert store.save_batch([inv, make("ward-pc-2", "2026-01-05T09:00:00Z")]) == [False, True]
    assert store.count_inventories() == 2


def test_duplicates_inside_one_batch_count_once(store: Store) -> None:
    inv = make("ward-pc-1", "2026-01-05T09:00:00Z")
    assert store.save_batch([inv, inv, inv]) == [True, False, False]
    assert store.count_inventories() == 1


def test_a_batch_beyond_postgresqls_parameter_cap_is_stored_whole(store: Store) -> None:
    # 7,300 inventories of 9 columns is 65,700 parameters: one multi-row INSERT exceeds the
    # protocol's 65,535 and PostgreSQL refused the whole batch (a 20,000-device demo or import).
    invs = [make(f"pc-{i:05d}", "2026-01-05T09:00:00Z", packages=1) for i in range(7_300)]
    invs.insert(3_000, invs[10])  # a duplicate across the statement boundary still counts once
    created = store.save_batch(invs)
    assert created.count(True) == 7_300 and created[3_000] is False
    assert store.count_inventories() == 7_300
    assert {inv.host.hostname for inv in store.iter_latest()} == {f"pc-{i:05d}" for i in range(7_300)}


def test_latest_per_host_and_a_late_old_spool_does_not_win(store: Store) -> None:
    old = make("pc", "2026-01-01T09:00:00Z", packages=1)
    new = make("pc", "2026-02-01T09:00:00Z", packages=2)
    store.save_inventory(new)
    store.save_inventory(old)  # an agent's spool delivered late
    latest = store.latest_inventories()
    assert [i.inventory_id for i in latest] == [new.inventory_id]
    assert store.count_inventories() == 2  # every inventory is kept


def test_first_seen_and_a_datasets_first_day_are_the_earliest_whatever_the_order(store: Store) -> None:
    """A late old spool (or a fleet scan's hosts finishing in another order) moves a host's first
    seen back, never its latest; a dataset's first judged day likewise."""
    old = make("pc", "2026-01-01T09:00:00Z", packages=1)
    new = make("pc", "2026-02-01T09:00:00Z", packages=2)
    store.save_inventory(new)
    store.save_inventory(old)
    store.save_batch([make("pc2", "2026-03-01T09:00:00Z"), make("pc2", "2026-01-15T09:00:00Z")])
    hosts = sorted(store._query("SELECT hostname, first_seen, last_seen, last_inventory_id FROM hosts", []))
    assert [tuple(h[:3]) for h in hosts] == [
        ("pc", "2026-01-01T09:00:00Z", "2026-02-01T09:00:00Z"),
        ("pc2", "2026-01-15T09:00:00Z", "2026-03-01T09:00:00Z"),
    ]
    assert hosts[0][3] == new.inventory_id
    days = store._query("SELECT first_judged_on FROM datasets", [])
    assert [str(d[0]) for d in days] == ["2026-01-01"]


def test_latest_filters_by_site_and_lists_sites(store: Store) -> None:
    a = make("a1", "2026-01-01T09:00:00Z", site="north")
    b = make("b1", "2026-01-01T09:00:00Z", site="south")
    store.save_many(  # type: ignore[attr-defined]
        [a, b]
    )
    assert [i.host.hostname for i in store.latest_inventories("south")] == ["b1"]
    assert {i.host.hostname for i in store.latest_inventories()} == {"a1", "b1"}
    assert store.sites() == ["north", "south"]  # type: ignore[attr-defined]


def test_inventories_as_of(store: Store) -> None:
    jan = make("pc", "2026-01-01T09:00:00Z")
    feb = make("pc", "2026-02-01T09:00:00Z")
    store.save_many(  # type: ignore[attr-defined]
        [jan, feb]
    )
    before = store.inventories_as_of("2026-01-15T00:00:00Z")  # type: ignore[attr-defined]
    assert [i.inventory_id for i in before] == [jan.inventory_id]


def test_scan_status_keeps_last_ok_through_failures(store: Store) -> None:
    store.record_status(HostStatus("10.0.0.5", "north", "ok", "", "2026-01-01T09:00:00Z"))  # type: ignore[attr-defined]
    store.record_status(
        HostStatus(
            "10.0.0.5",
            "north",
            "unreachable",
            "timed out",  # type: ignore[attr-defined]
            "2026-01-02T09:00:00Z",
        )
    )
    [status] = store.statuses("north")  # type: ignore[attr-defined]
    assert (status.status, status.error, status.last_ok_at) == ("unreachable", "timed out", "2026-01-01T09:00:00Z")


def test_scan_statuses_in_one_batch(store: Store) -> None:
    if not hasattr(store, "record_statuses"):
        pytest.skip("this backend has no batch status recording yet")
    store.record_statuses([HostStatus(f"10.0.0.{i}", "north", "ok", "", "2026-01-01T09:00:00Z") for i in range(5)])
    store.record_statuses([HostStatus("10.0.0.1", "north", "timeout", "no answer", "2026-01-02T09:00:00Z")])
    got = {s.target: (s.status, s.last_ok_at) for s in store.statuses("north")}  # type: ignore[attr-defined]
    assert len(got) == 5
    assert got["10.0.0.1"] == ("timeout", "2026-01-01T09:00:00Z")


def test_tokens_create_authenticate_revoke(store: Store, store_url: str) -> None:
    info, token = store.create_token("Ward 7", "2026-01-01T00:00:00Z", "pilot")
    assert store.authenticate(token) == info
    assert store.authenticate(token + "x") is None
    assert store.authenticate("garbage") is None
    assert [t.token_id for t in store.list_tokens()] == [info.token_id]
    assert store.revoke_token(info.token_id, "2026-01-02T00:00:00Z") is True
    assert store.revoke_token(info.token_id, "2026-01-03T00:00:00Z") is False  # already revoked
    assert store.authenticate(token) is None
    [listed] = store.list_tokens()
    assert listed.revoked_at == "2026-01-02T00:00:00Z"
    # Only a hash is stored: the token text appears nowhere in the tokens table.
    rows = _raw_rows(store, "SELECT * FROM tokens")
    flat = " ".join(str(v) for row in rows for v in row)
    assert token not in flat and token_hash(token) in flat


def test_reopen_does_not_migrate_twice(store_url: str) -> None:
    with open_store(store_url) as first:
        inv = make("pc", "2026-01-01T09:00:00Z")
        first.save_inventory(inv)
    with open_store(store_url) as second:
        assert second.count_inventories() == 1
        assert second.schema_version() >= 2  # type: ignore[attr-defined]


def test_concurrent_writers_store_each_inventory_exactly_once(store_url: str) -> None:
    """Several stores (as several collector processes would) saving overlapping batches at once."""
    invs = [make(f"pc{i % 7}", f"2026-01-01T09:{i % 60:02d}:00Z") for i in range(60)]
    results: list[list[bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(offset: int) -> None:
        try:
            with open_store(store_url) as s:
                mine = invs[offset:] + invs[:offset]  # same inventories, different order
                for start in range(0, len(mine), 10):
                    got = s.save_batch(mine[start : start + 10])
                    with lock:
                        results.append(got)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 13,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(sum(r) for r in results) == 60  # each counted "new" exactly once across writers
    with open_store(store_url) as s:
        assert s.count_inventories() == 60
        latest = {i.host.hostname: i.collected_at for i in s.latest_inventories()}
        expected: dict[str, str] = {}
        for inv in invs:
            expected[inv.host.hostname] = max(expected.get(inv.host.hostname, ""), inv.collected_at)
        assert latest == expected


def test_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported database URL"):
        open_store("mysql://x/y")
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=1")


def _raw_rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    conn = getattr(store, "conn", None)
    if conn is not None:
        return list(conn.execute(sql).fetchall())
    pool = store.pool  # type: ignore[attr-defined]
    with pool.connection() as pg:
        return list(pg.execute(sql).fetchall())


_: Callable[..., object] = pg_server  # keep the fixture import visible to linters
