"""Retention: delete inventories, findings and scan attempts older than the trust keeps them.

Why: UK GDPR's storage-limitation principle (Article 5(1)(e)) - hostnames, addresses, serials and
per-user SIDs are kept "no longer than is necessary".  A trust decides how long (DSPT evidence is
usually compared year on year, so 400 days is a common choice) and sets it once::

    [retention]
    keep_days = 400          # legacyscan.toml; `legacyscan prune --keep-days N` overrides it

``prune`` never reads the clock: the cutoff is ``as_of - keep_days`` (``--as-of``, the CLI's date).
What goes, in one transaction:

* every inventory collected before the cutoff that is not its host's latest (the history);
* hosts whose latest inventory is itself before the cutoff (not seen for ``keep_days``), with that
  inventory - unless ``keep_latest``, which keeps every host's latest inventory whatever its age;
* rows of every other table tied to a deleted inventory (``inventory_id``) or to a finding of one
  (``finding_id``): findings, their status ranges, package links, judgements - found by column,
  so tables a later schema adds are covered without a change here;
* a finding's contents (``finding_contents``, shared by the hosts carrying them) that no finding
  names any more;
* scan attempts (``scan_status``: target addresses and error text) last made before the cutoff.

On SQLite ``secure_delete`` is switched on for the deletion, so the deleted rows' bytes are
overwritten in the file, not only unlinked.  Normalised package tuples (name, version, publisher,
source) are not personal data and stay.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from scanner.store.sqlite import Store, StoreError

KEYS = {"keep_days"}
MAX_DAYS = 36_500


class RetentionConfigError(ValueError):
    """The [retention] table is wrong; the message names the file and the key."""


@dataclass(slots=True)
class PruneResult:
    cutoff: str
    inventories: int = 0
    hosts: int = 0
    scan_status: int = 0
    related: dict[str, int] = field(default_factory=dict)  # other table -> rows deleted
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff,
            "dry_run": self.dry_run,
            "inventories": self.inventories,
            "hosts": self.hosts,
            "scan_status": self.scan_status,
            "related": dict(sorted(self.related.items())),
        }


def keep_days_from(table: Any, source: str = "config") -> int | None:
    """``[retention] keep_days`` (None when not set), validated."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise RetentionConfigError(f"{source}: [retention] must be a table")
    unknown = set(table) - KEYS
    if unknown:
        raise RetentionConfigError(
            f"{source}: [retention] unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: keep_days"
        )
    if "keep_days" not in table:
        return None
    return check_days(table["keep_days"], f"{source}: [retention] keep_days")


def check_days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise RetentionConfigError(f"{where}: expected a whole number of days 1-{MAX_DAYS}, got {value!r}")
    return value


def load_keep_days(path: str | Path | None) -> int | None:
    """``[retention] keep_days`` of ``path`` (``None``: ``legacyscan.toml`` here when present)."""
    from scanner.files import FileRefused, loads_toml, read_regular_text
    from scanner.plan.config import DEFAULT_CONFIG_NAME

    if path is None:
        if not Path(DEFAULT_CONFIG_NAME).is_file():
            return None
        path = DEFAULT_CONFIG_NAME
    try:
        data = loads_toml(read_regular_text(path, what="config file"))
    except FileRefused as exc:
        raise RetentionConfigError(str(exc)) from exc
    except ValueError as exc:
        raise RetentionConfigError(f"{path}: not valid TOML: {exc}") from exc
    return keep_days_from(data.get("retention"), str(path))


def cutoff_for(as_of: date, keep_days: int) -> str:
    """The first day kept: data collected on ``as_of - keep_days`` or later stays."""
    return (as_of - timedelta(days=keep_days)).isoformat()


# -- the deletion ----------------------------------------------------------------------------------

Exec = Callable[[str, tuple[Any, ...]], int]
Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


@contextmanager
def _transaction(store: Store) -> Iterator[tuple[Exec, Query, str, Callable[[], list[tuple[str, str]]]]]:
    """(execute -> rowcount, query -> rows, placeholder, table columns) inside one transaction that
    commits on success, rolls back on error (or when the caller raises ``_Rollback``)."""
    conn = getattr(store, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        lock = getattr(store, "_lock", None)
        if lock is not None:
            lock.acquire()
        try:

            def ex(sql: str, params: tuple[Any, ...] = ()) -> int:
                return conn.execute(sql, params).rowcount

            def q(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
                return conn.execute(sql, params).fetchall()

            def columns() -> list[tuple[str, str]]:
                tables = [r[0] for r in q("SELECT name FROM sqlite_master WHERE type='table'")]
                return [(t, r[1]) for t in tables for r in q(f"PRAGMA table_info('{t}')")]  # noqa: S608

            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield ex, q, "?", columns
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot prune: {exc}") from exc
        finally:
            if lock is not None:
                lock.release()
        return
    pool = getattr(store, "pool", None)
    if pool is None:
        raise StoreError(f"pruning is not supported on {type(store).__name__}")
    import psycopg

    try:
        with pool.connection() as pg, pg.transaction():

            def pex(sql: str, params: tuple[Any, ...] = ()) -> int:
                return int(pg.execute(sql, params).rowcount)

            def pq(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
                return list(pg.execute(sql, params).fetchall())

            def pcolumns() -> list[tuple[str, str]]:
                return pq(
                    "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                    "JOIN information_schema.tables t ON t.table_name = c.table_name "
                    "AND t.table_schema = c.table_schema "
                    "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
                )

            yield pex, pq, "%s", pcolumns
    except psycopg.Error as exc:
        raise StoreError(f"cannot prune: {exc}") from exc


class _Rollback(Exception):
    """Raised inside the transaction for a dry run: everything counted, nothing kept."""


def prune(store: Store, cutoff: str, *, keep_latest: bool = False, dry_run: bool = False) -> PruneResult:
    """Delete what was collected before ``cutoff`` (``YYYY-MM-DD``); see the module docstring."""
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    try:
        with _transaction(store) as (ex, q, p, columns):
            by_table: dict[str, set[str]] = {}
            for table, column in columns():
                by_table.setdefault(str(table), set()).add(str(column))
            ex("CREATE TEMP TABLE prune_doomed (inventory_id TEXT PRIMARY KEY)", ())
            # history: old inventories that are not their host's latest
            ex(
                f"INSERT INTO prune_doomed SELECT inventory_id FROM inventories WHERE collected_at < {p} "  # noqa: S608
                "AND inventory_id NOT IN (SELECT last_inventory_id FROM hosts)",
                (cutoff,),
            )
            gone_hosts: list[tuple[Any, ...]] = []
            if not keep_latest:
                gone_hosts = q(
                    f"SELECT host_key, last_inventory_id FROM hosts WHERE last_seen < {p}",  # noqa: S608
                    (cutoff,),
                )
                ex(
                    f"INSERT INTO prune_doomed SELECT last_inventory_id FROM hosts WHERE last_seen < {p} "  # noqa: S608
                    "AND last_inventory_id NOT IN (SELECT inventory_id FROM prune_doomed)",
                    (cutoff,),
                )
                # every other inventory of those hosts (a late upload of an older spool)
                ex(
                    f"INSERT INTO prune_doomed SELECT inventory_id FROM inventories WHERE host_key IN "  # noqa: S608
                    f"(SELECT host_key FROM hosts WHERE last_seen < {p}) "
                    "AND inventory_id NOT IN (SELECT inventory_id FROM prune_doomed)",
                    (cutoff,),
                )
            doomed = "SELECT inventory_id FROM prune_doomed"
            findings_by_inventory = (
                "findings" in by_table
                and "inventory_id" in by_table["findings"]
                and "finding_id" in by_table["findings"]
            )
            for table in sorted(by_table):
                cols = by_table[table]
                if table in ("findings", "inventories", "hosts", "prune_doomed") or table.startswith("sqlite_"):
                    continue
                if "finding_id" in cols and findings_by_inventory and "inventory_id" not in cols:
                    n = ex(
                        f'DELETE FROM "{table}" WHERE finding_id IN (SELECT finding_id FROM findings '  # noqa: S608
                        f"WHERE inventory_id IN ({doomed}))",
                        (),
                    )
                    result.related[table] = result.related.get(table, 0) + n
            # a finding's contents are shared by the hosts carrying them (schema 9): those only
            # deleted findings named go with them
            contents = "finding_contents" in by_table and "content_id" in by_table.get("findings", set())
            if contents:
                ex(
                    "CREATE TEMP TABLE prune_contents AS SELECT DISTINCT content_id FROM findings "  # noqa: S608
                    f"WHERE inventory_id IN ({doomed})",
                    (),
                )
            for table in sorted(by_table):
                cols = by_table[table]
                if table in ("inventories", "hosts", "prune_doomed") or table.startswith("sqlite_"):
                    continue
                if "inventory_id" in cols:
                    n = ex(f'DELETE FROM "{table}" WHERE inventory_id IN ({doomed})', ())  # noqa: S608
                    result.related[table] = result.related.get(table, 0) + n
            if contents:
                if p == "%s":
                    # PostgreSQL: a collector storing a finding of a contents it found stored (its
                    # insert did nothing) holds this table's ROW EXCLUSIVE lock until it commits, so
                    # this waits for its findings to be visible; one storing after this re-inserts
                    # the contents deleted here.  (SQLite: this transaction is the only writer.)
                    ex("LOCK TABLE finding_contents IN SHARE ROW EXCLUSIVE MODE", ())
                result.related["finding_contents"] = ex(
                    "DELETE FROM finding_contents WHERE content_id IN "
                    "(SELECT content_id FROM prune_contents EXCEPT SELECT content_id FROM findings)",
                    (),
                )
                ex("DROP TABLE prune_contents", ())
            result.inventories = ex(f"DELETE FROM inventories WHERE inventory_id IN ({doomed})", ())  # noqa: S608
            if gone_hosts:
                result.hosts = ex(f"DELETE FROM hosts WHERE last_seen < {p}", (cutoff,))  # noqa: S608
            if "scan_status" in by_table:
                result.scan_status = ex(f"DELETE FROM scan_status WHERE at < {p}", (cutoff,))  # noqa: S608
            ex("DROP TABLE prune_doomed", ())
            result.related = {k: v for k, v in result.related.items() if v}
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return result
