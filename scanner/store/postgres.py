"""PostgreSQL backend of the Store: the central database a trust's sites report to.

Same contract as ``SqliteStore`` (the contract suite runs against both).  Why PostgreSQL at all:
one SQLite file cannot be written by several collector processes on several machines, and a
trust with many sites scales out by running one ``legacyscan serve`` per site or per load
balancer slot, all writing here.  Safety under concurrent writers comes from the database, not
from us: the inventory id is the primary key (``ON CONFLICT DO NOTHING`` makes an upload counted
exactly once even when two collectors receive the same retry), the host row is an upsert guarded
by ``last_seen`` (a late spool never wins over a newer inventory), batches touch host rows in a
fixed order (no deadlocks between collectors), and migrations run under an advisory lock (two
processes starting at once do not both migrate).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from agents.inventory import Inventory
from scanner.store.enrolment import TokenInfo, check_site, new_token, parse_token, token_hash
from scanner.store.facts import backfill as backfill_facts
from scanner.store.relational import Rows, insert_plan, insert_sql
from scanner.store.schema import FACTS_MIGRATION, migrations
from scanner.store.sqlite import (
    HostStatus,
    Statement,
    Storable,
    Store,
    StoreError,
    decode_body,
    decode_header,
    host_row,
    inventory_row,
    row_key,
    status_row,
)

# An arbitrary constant: the advisory lock that serialises migrations across processes.
_MIGRATION_LOCK = 0x6C656761  # "lega"
_INSERT_CHUNK = 5_000  # rows of 9 values per INSERT: 45,000 parameters, under the 65,535 cap

# The one schema definition (scanner.store.schema), rendered for PostgreSQL.
MIGRATIONS: list[list[str]] = migrations("postgresql")

# Only a newer collection becomes "latest" (a late upload of an old spool must not win); first seen
# is the earliest collection, in whatever order they come.
_HOST_COLUMNS_OF_THE_LATEST = ("hostname", "site", "tags", "address", "last_seen", "last_inventory_id")
_UPSERT_HOST = "".join(
    (
        "INSERT INTO hosts VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (host_key) DO UPDATE SET ",
        *(
            f"{c}=CASE WHEN hosts.last_seen <= excluded.last_seen THEN excluded.{c} ELSE hosts.{c} END, "
            for c in _HOST_COLUMNS_OF_THE_LATEST
        ),
        "first_seen=LEAST(hosts.first_seen, excluded.first_seen)",
    )
)
_STATUS_UPSERT = (
    "INSERT INTO scan_status VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (target, site) DO UPDATE SET "
    "status=excluded.status, error=excluded.error, at=excluded.at, "
    "host_key=CASE WHEN excluded.host_key <> '' THEN excluded.host_key ELSE scan_status.host_key END, "
    "last_ok_at=CASE WHEN excluded.last_ok_at <> '' THEN excluded.last_ok_at ELSE scan_status.last_ok_at END"
)
_TOKEN_COLUMNS = "token_id, site, created_at, revoked_at, label"  # noqa: S105 - column list


def redact(url: str) -> str:
    """The URL without its password, for messages and ``Store.url``."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


class PostgresStore(Store):
    placeholder = "%s"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8) -> None:
        self.url = redact(url)
        self._stored_sets = set()
        conninfo = "" if url in ("postgresql://", "postgres://") else url
        try:
            # One direct attempt first: a wrong host or password fails now with libpq's reason,
            # instead of the pool retrying quietly until its timeout.
            psycopg.connect(conninfo, connect_timeout=10).close()
            self.pool = ConnectionPool(
                conninfo, min_size=min_size, max_size=max_size, open=False, kwargs={"autocommit": True}
            )  # writes use explicit transactions
            self.pool.open(wait=True, timeout=15.0)
        except (psycopg.Error, Exception) as exc:  # noqa: BLE001 - pool raises PoolTimeout on refusal
            raise StoreError(f"cannot connect to PostgreSQL {self.url}: {exc}") from exc
        try:
            self.migrate()
        except psycopg.Error as exc:
            self.pool.close()
            raise StoreError(f"cannot migrate PostgreSQL {self.url}: {exc}") from exc

    # -- schema --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self.pool.connection() as conn:
            return self._version(conn)

    @staticmethod
    def _version(conn: psycopg.Connection[Any]) -> int:
        # created only when missing: a read-only reporting role (examples/postgresql/bootstrap.sql)
        # may read an up-to-date database but not run CREATE, even "IF NOT EXISTS"
        exists = conn.execute("SELECT to_regclass('legacyscan_schema') IS NOT NULL").fetchone()
        if not (exists and exists[0]):
            conn.execute("CREATE TABLE IF NOT EXISTS legacyscan_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM legacyscan_schema").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def migrate(self) -> None:
        with self.pool.connection() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                current = self._version(conn)
                if current > len(MIGRATIONS):
                    raise StoreError(
                        f"{self.url} has schema version {current}, newer than this legacyscan "
                        f"({len(MIGRATIONS)}); upgrade legacyscan"
                    )
                for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    for statement in script:
                        conn.execute(statement)
                    if number == FACTS_MIGRATION:
                        with conn.cursor() as cur:
                            backfill_facts(cur, "%s", decode_header)
                    conn.execute("INSERT INTO legacyscan_schema VALUES (%s)", (number,))

    # -- inventories ---------------------------------------------------------------------------

    def save_inventory(self, inv: Inventory) -> bool:
        return self.save_batch([inv])[0]

    def save_many(self, invs: list[Inventory]) -> int:
        return sum(self.save_batch(invs))

    def save_batch(self, invs: Sequence[Storable]) -> list[bool]:
        """One transaction; per inventory True when new.

        Two round trips per batch, whatever its size: one multi-row ``INSERT ... ON CONFLICT DO
        NOTHING RETURNING`` says which ids are new, then the host upserts for those go as one
        pipelined ``executemany``.  Host rows are upserted in host-key order so two collectors
        saving overlapping hosts lock them in the same order and never deadlock (likewise the
        inventory rows, inserted in id order).
        """
        if not invs:
            return []
        keyed = [(inv, row_key(inv)) for inv in invs]
        encoded = [self.encoder.encode_checked(inv) for inv in invs]
        rows = [(inv, key, inventory_row(inv, key, body)) for (inv, key), (body, _) in zip(keyed, encoded, strict=True)]
        relational = self._relational(invs, encoded)
        # Inserted in id order: two collectors inserting overlapping ids wait in the same order.
        ordered = [row for _, _, row in sorted(rows, key=lambda r: r[2][0])]
        results: list[bool] = []
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                new_ids: set[str] = set()
                # PostgreSQL's protocol caps one statement at 65,535 parameters: a batch larger than
                # _INSERT_CHUNK rows (a 20,000-device demo or import) goes as several statements,
                # still in one transaction.
                for start in range(0, len(ordered), _INSERT_CHUNK):
                    chunk = ordered[start : start + _INSERT_CHUNK]
                    values = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s,%s)"] * len(chunk))
                    params: list[Any] = [value for row in chunk for value in row]
                    cur.execute(
                        f"INSERT INTO inventories VALUES {values} "  # noqa: S608 - placeholders only
                        "ON CONFLICT (inventory_id) DO NOTHING RETURNING inventory_id",
                        params,
                    )
                    new_ids.update(row[0] for row in cur.fetchall())
                seen: set[str] = set()
                upserts = []
                new = Rows()
                for (inv, key, row), rel in zip(rows, relational, strict=True):
                    inventory_id = row[0]  # as stored (neutralised)
                    created = inventory_id in new_ids and inventory_id not in seen
                    seen.add(inventory_id)
                    results.append(created)
                    if created:
                        upserts.append(host_row(inv, key))
                        new.extend(rel)
                upserts.sort(key=lambda r: (r[0], r[6]))
                if upserts:
                    cur.executemany(_UPSERT_HOST, upserts)
                self._insert_rows(cur, new)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot save inventory: {exc}", unavailable=isinstance(exc, psycopg.OperationalError)
            ) from exc
        self._committed_sets(new)
        return results

    def latest_inventories(self, site: str | None = None) -> list[Inventory]:
        return list(self.iter_latest(site))

    def iter_latest(self, site: str | None = None) -> Iterator[Inventory]:
        sql = "SELECT i.body FROM hosts h JOIN inventories i ON i.inventory_id = h.last_inventory_id"
        params: tuple[Any, ...] = ()
        if site:
            sql += " WHERE h.site = %s"
            params = (site,)
        sql += " ORDER BY h.site, h.hostname, h.host_key"
        for (body,) in self._all(sql, params):
            yield decode_body(bytes(body))

    def inventories_as_of(self, before: str, site: str | None = None) -> list[Inventory]:
        sql = (
            "SELECT body FROM inventories i WHERE collected_at = (SELECT MAX(collected_at) FROM inventories j "
            "WHERE j.host_key = i.host_key AND j.collected_at < %s)"
        )
        params: list[Any] = [before]
        if site:
            sql += " AND site = %s"
            params.append(site)
        return [decode_body(bytes(b)) for (b,) in self._all(sql, tuple(params))]

    def get_inventory(self, inventory_id: str) -> Inventory | None:
        rows = self._all("SELECT body FROM inventories WHERE inventory_id=%s", (inventory_id,))
        return decode_body(bytes(rows[0][0])) if rows else None

    def count_inventories(self) -> int:
        return int(self._all("SELECT COUNT(*) FROM inventories", ())[0][0])

    def sites(self) -> list[str]:
        return [r[0] for r in self._all("SELECT DISTINCT site FROM hosts ORDER BY site", ())]

    # -- scan status ---------------------------------------------------------------------------

    def record_statuses(self, statuses: list[HostStatus]) -> None:
        """Record many attempts in one transaction; ``last_ok_at`` survives failures."""
        rows = sorted((status_row(st) for st in statuses), key=lambda row: (row[0], row[1]))
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                cur.executemany(_STATUS_UPSERT, rows)
        except psycopg.Error as exc:
            raise StoreError(f"cannot record scan status: {exc}") from exc

    def statuses(self, site: str | None = None) -> list[HostStatus]:
        sql = "SELECT target, site, status, error, at, host_key, last_ok_at FROM scan_status"
        params: tuple[Any, ...] = ()
        if site:
            sql += " WHERE site=%s"
            params = (site,)
        return [HostStatus(*row) for row in self._all(sql + " ORDER BY site, target", params)]

    # -- enrolment tokens ----------------------------------------------------------------------

    def create_token(self, site: str, created_at: str, label: str = "") -> tuple[TokenInfo, str]:
        token_id, token = new_token()
        info = TokenInfo(token_id, check_site(site), created_at, "", label[:200])
        self._write(
            "INSERT INTO tokens VALUES (%s,%s,%s,%s,%s,%s)",
            (token_id, token_hash(token), info.site, info.label, created_at, ""),
        )
        return info, token

    def list_tokens(self) -> list[TokenInfo]:
        rows = self._all(f"SELECT {_TOKEN_COLUMNS} FROM tokens ORDER BY site, created_at, token_id", ())  # noqa: S608
        return [TokenInfo(*row) for row in rows]

    def revoke_token(self, token_id: str, revoked_at: str) -> bool:
        return (
            self._write("UPDATE tokens SET revoked_at=%s WHERE token_id=%s AND revoked_at=''", (revoked_at, token_id))
            == 1
        )

    def authenticate(self, token: str) -> TokenInfo | None:
        if parse_token(token) is None:
            return None
        rows = self._all(
            f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE token_hash=%s AND revoked_at=''",  # noqa: S608
            (token_hash(token),),
        )
        return TokenInfo(*rows[0]) if rows else None

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def _insert_rows(cur: psycopg.Cursor[Any], rows: Rows) -> None:
        """Sorted per table: two collectors inserting the same rows lock them in one order (package
        lists first, in id order, each on its own to learn whether it is new)."""
        insert_set = insert_sql("software_sets", "%s")

        def new_set(row: tuple[str, int, int]) -> int:
            cur.execute(insert_set, row)
            return cur.rowcount

        for table, table_rows in insert_plan(rows, new_set):
            ordered: list[tuple[Any, ...]] = sorted(table_rows, key=lambda r: (r[0], r[1]))
            cur.executemany(insert_sql(table, "%s"), ordered)

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._all(sql, tuple(params))

    def _write_rows(self, rows: Rows, first: Sequence[Statement] = ()) -> None:
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                for sql, params in first:
                    cur.execute(sql, tuple(params))
                self._insert_rows(cur, rows)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot save findings: {exc}", unavailable=isinstance(exc, psycopg.OperationalError)
            ) from exc

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            with self.pool.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL query failed: {exc}") from exc

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        try:
            with self.pool.connection() as conn:
                return conn.execute(sql, params).rowcount
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL write failed: {exc}") from exc

    def close(self) -> None:
        self.pool.close()
