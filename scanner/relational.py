"""The relational rows of one stored inventory (both backends): software, findings, status ranges.

The inventory's document stays in ``inventories.body`` exactly as received (the evidence: every
field, even those no table has a column for); these rows make it queryable.  Software is
normalised: a distinct (name, version, publisher, source) is one ``software`` row whatever the
number of hosts carrying it; its id is a hash of the four values, so every writer (several
collectors on one PostgreSQL) computes the same id without a round trip and inserts race-free
with "on conflict do nothing".
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.inventory import Inventory
from scanner.builds import BuildMemo
from scanner.store_columns import text_column

if TYPE_CHECKING:
    from scanner.judge import Judge, Judged

# Column counts per table (the INSERT statements are built from these, for both placeholder styles).
TABLE_COLUMNS: dict[str, int] = {
    "software": 5,
    "inventory_software": 3,
    "datasets": 2,
    "judgements": 4,
    "findings": 25,
    "finding_status": 6,
}
# Insert order: referenced rows first.
TABLE_ORDER = ("software", "inventory_software", "datasets", "judgements", "findings", "finding_status")


def insert_sql(table: str, placeholder: str) -> str:
    """``INSERT ... ON CONFLICT DO NOTHING`` (SQLite >= 3.24 and PostgreSQL alike)."""
    marks = ",".join([placeholder] * TABLE_COLUMNS[table])
    return f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608 - fixed names


def software_id(name: str, version: str, publisher: str, source: str) -> str:
    text = "\x1f".join((name, version, publisher, source))
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _clean(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(text_column(v) if isinstance(v, str) else v for v in row)


@dataclass(slots=True)
class Rows:
    """Rows per table, accumulated over a batch."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLE_ORDER})
    software_ids: set[str] = field(default_factory=set)  # ``software`` rows already here (by id)

    def extend(self, other: Rows) -> None:
        for table, rows in other.tables.items():
            if table == "software":  # a package on many hosts of a batch is inserted once, not per host
                seen = self.software_ids
                rows = [r for r in rows if r[0] not in seen]
                seen.update(r[0] for r in rows)
            self.tables[table].extend(rows)

    def __bool__(self) -> bool:
        return any(self.tables.values())


# A distinct package's ``software`` row (a SHA-256 id, every text neutralised) is the same on every
# host carrying it, and an estate repeats the same few thousand packages: each row is made once per
# process, not once per host (it was a fifth of the CPU of storing a fleet scan's inventories).
_SOFTWARE_ROWS: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}
_SOFTWARE_ROWS_MAX = 200_000


# The whole list's rows, per distinct package list (``BuildMemo``): its ``software`` rows and
# (software_id, entries) per link.
_SOFTWARE_LISTS = BuildMemo()


def software_rows(inv: Inventory, stored_id: str) -> Rows:
    rows = Rows()
    build = _SOFTWARE_LISTS.key(inv.software)
    made_list = _SOFTWARE_LISTS.get(build)
    if made_list is None:
        software: list[tuple[Any, ...]] = []
        entries: list[tuple[str, int]] = []
        counts: Counter[tuple[str, str, str, str]] = Counter(
            (sw.name, sw.version, sw.publisher, sw.source) for sw in inv.software
        )
        made = _SOFTWARE_ROWS
        for key, n in counts.items():
            row = made.get(key)
            if row is None:
                row = _clean((software_id(*key), *key))
                if len(made) >= _SOFTWARE_ROWS_MAX:
                    made.clear()
                made[key] = row
            software.append(row)
            entries.append((row[0], n))
        made_list = (software, entries)
        _SOFTWARE_LISTS.put(build, inv.software, made_list)
    software, entries = made_list
    rows.tables["software"] = list(software)
    rows.tables["inventory_software"] = [(stored_id, sid, n) for sid, n in entries]
    return rows


def judged_rows(judged: Judged, stored_id: str) -> Rows:
    rows = Rows()
    rows.tables["datasets"].append(_clean((judged.dataset_version, judged.judged_on)))
    rows.tables["judgements"].append(_clean((stored_id, judged.dataset_version, judged.judged_on, judged.unidentified)))
    rows.tables["findings"].extend(_clean(r) for r in judged.finding_rows(stored_id))
    rows.tables["finding_status"].extend(judged.status_rows(stored_id))
    return rows


def rows_for(inv: Inventory, stored_id: str, judge: Judge | None, *, with_software: bool = True) -> Rows:
    """Every relational row of ``inv`` (stored under ``stored_id``); findings only with a judge."""
    rows = software_rows(inv, stored_id) if with_software else Rows()
    if judge is not None:
        rows.extend(judged_rows(judge.judge(inv), stored_id))
    return rows
