"""The relational rows of one stored inventory (both backends): software, findings, status ranges.

The inventory's document stays in ``inventories.body`` exactly as received (the evidence: every
field, even those no table has a column for); these rows make it queryable.  Software is
normalised twice over: a distinct (name, version, publisher, source) is one ``software`` row
whatever the number of hosts carrying it, and a distinct package *list* (its packages with their
entry counts) is one ``software_sets`` row with its ``software_set_members``; an inventory points
at its list (``inventory_software_sets``).  An estate is a few builds on many hosts: a host of a
build already stored costs one link row, not one row per package (~880 on a Debian host).  The
view ``inventory_software`` gives the per-inventory rows of before (schema 4) for every reader.

Ids are hashes of the values (a package's four texts; a list's package ids and counts), so every
writer (several collectors on one PostgreSQL) computes the same id without a round trip and
inserts race-free with "on conflict do nothing".  A list's members are inserted only by the
transaction that inserted its ``software_sets`` row, in that transaction, so a list that exists
is complete.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.inventory import Inventory
from scanner.judge.builds import BuildMemo
from scanner.store.columns import text_column
from scanner.store.facts import COLUMNS as FACTS_COLUMNS
from scanner.store.facts import facts_row

if TYPE_CHECKING:
    from scanner.judge.timeline import Judge, Judged

# Column counts per table (the INSERT statements are built from these, for both placeholder styles).
TABLE_COLUMNS: dict[str, int] = {
    "software": 5,
    "software_sets": 3,
    "software_set_members": 3,
    "inventory_software_sets": 2,
    "datasets": 2,
    "judgements": 7,
    "finding_contents": 17,
    "findings": 10,
    "finding_status": 6,
    "inventory_facts": len(FACTS_COLUMNS),
}
# Insert order: referenced rows first.  The first three are written only for a package list the
# store does not hold yet (``SoftwareSet``, ``new_set_rows``); a batch's ``Rows`` has the others.
SET_TABLES = ("software", "software_sets", "software_set_members")
TABLE_ORDER = (
    *SET_TABLES,
    "inventory_software_sets",
    "inventory_facts",
    "datasets",
    "judgements",
    "finding_contents",
    "findings",
    "finding_status",
)
_ROW_TABLES = TABLE_ORDER[len(SET_TABLES) :]


def insert_sql(table: str, placeholder: str) -> str:
    """``INSERT ... ON CONFLICT DO NOTHING`` (SQLite >= 3.24 and PostgreSQL alike); a dataset keeps
    the earliest day it judged, in whatever order the inventories are stored."""
    marks = ",".join([placeholder] * TABLE_COLUMNS[table])
    if table == "datasets":
        earliest = "first_judged_on=excluded.first_judged_on WHERE excluded.first_judged_on < datasets.first_judged_on"
        return f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT (dataset_version) DO UPDATE SET {earliest}"  # noqa: S608
    return f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608 - fixed names


def software_id(name: str, version: str, publisher: str, source: str) -> str:
    text = "\x1f".join((name, version, publisher, source))
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def set_id(members: list[tuple[str, int]]) -> str:
    """The id of a package list: a hash of its (software_id, entries) pairs in software-id order.
    32 hex digits; a list migrated from schema 5 has the id ``inv:<inventory id>`` instead."""
    text = "\x1e".join(f"{sid}\x1f{n}" for sid, n in sorted(members))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


# A finding's contents (schema migration 9, ``schema.CONTENT_COLUMNS``): what a judgement says about
# one product, the same on every host carrying that product in that state -- ``finding_contents``,
# one row per distinct contents, named by a hash of its values; a ``findings`` row is the host's
# (inventory, dataset, ordinal, host, the number of entries, the judging day) and the id of its
# contents.  An estate repeats a few hundred or thousand contents over all its hosts' findings.

# Every finding as one row of the columns ``findings`` had before its contents moved out (schema
# 4 to 7), in that order: for SQL that wants a finding whole (tests, ad-hoc queries).
WIDE_FINDINGS = (
    "SELECT f.finding_id, f.inventory_id, f.dataset_version, f.ordinal, f.host_key, f.site, f.hostname, "
    "c.kind, c.name, c.version, c.product, c.cycle, c.product_label, c.group_key, f.entries, c.rule, "
    "c.reason, c.evidence, c.confidence, c.release_label, c.release_source, f.judged_on, c.status, c.eol, "
    "c.extended_until FROM findings f JOIN finding_contents c ON c.content_id = f.content_id"
)


def content_id(contents: tuple[Any, ...]) -> str:
    """The id of a finding's contents (``CONTENT_COLUMNS``' values, as stored): 32 hex digits of a
    hash, NULL told apart from any text.  A contents row migrated from schema 8 is named
    ``f:<finding id>`` instead (no hash function common to both databases)."""
    text = "\x1e".join("\x00" if v is None else f"\x01{v}" for v in contents)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


_CONTENT_IDS_MAX = 200_000
_SOFTWARE_ROWS_MAX = 200_000


class RowMemo:
    """What a store remembers while making relational rows (``Store.row_memo``; the module's
    functions use a fresh one when given none): remembering never changes a row, only its cost.

    ``content_ids``: each distinct finding contents' id (an estate repeats a few thousand contents
    over hundreds of thousands of findings).  ``software_rows``: a distinct package's ``software``
    row (a SHA-256 id, every text neutralised), the same on every host carrying it (made once per
    package, not once per host: it was a fifth of the CPU of storing a fleet scan's inventories).
    ``software_lists``: the whole list's ``SoftwareSet``, per distinct package list
    (``BuildMemo``).  Bounded; safe for a store's threads (a lost race makes a row twice)."""

    __slots__ = ("content_ids", "software_rows", "software_lists")

    def __init__(self) -> None:
        self.content_ids: dict[tuple[Any, ...], str] = {}
        self.software_rows: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}
        self.software_lists = BuildMemo()


def split_finding(row: tuple[Any, ...], memo: RowMemo | None = None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """A finding row of the wide shape (``WIDE_FINDINGS``' columns, as ``Judged.finding_rows``
    makes them) as its ``findings`` row and its ``finding_contents`` row."""
    contents = (*row[7:14], *row[15:21], *row[22:25])
    ids = memo.content_ids if memo is not None else {}
    cid = ids.get(contents)
    if cid is None:
        cid = content_id(contents)
        if len(ids) >= _CONTENT_IDS_MAX:
            ids.clear()
        ids[contents] = cid
    return (*row[:7], cid, row[14], row[21]), (cid, *contents)


@dataclass(slots=True, frozen=True)
class SoftwareSet:
    """One distinct package list: its ``software`` rows and its members (software_id, entries)."""

    set_id: str
    software: tuple[tuple[Any, ...], ...]
    members: tuple[tuple[str, int], ...]
    entries: int  # the members' entries added up

    def set_row(self) -> tuple[str, int, int]:
        return (self.set_id, len(self.members), self.entries)

    def member_rows(self) -> list[tuple[str, str, int]]:
        return [(self.set_id, sid, n) for sid, n in self.members]


def new_set_rows(sets: list[SoftwareSet]) -> dict[str, list[tuple[Any, ...]]]:
    """The ``software`` and ``software_set_members`` rows of package lists the store has just
    inserted (each package once)."""
    software: dict[str, tuple[Any, ...]] = {}
    members: list[tuple[Any, ...]] = []
    for s in sets:
        for row in s.software:
            software.setdefault(row[0], row)
        members.extend(s.member_rows())
    return {"software": list(software.values()), "software_set_members": members}


def insert_plan(rows: Rows, insert_set: Callable[[tuple[str, int, int]], int]) -> list[tuple[str, list[Any]]]:
    """(table, rows) to insert for ``rows``, in ``TABLE_ORDER``, once ``insert_set`` (which inserts
    one ``software_sets`` row with "on conflict do nothing" and returns the rows it inserted) has
    inserted each of its package lists, in id order: a list already stored costs nothing more, a
    new one brings its members and packages in the same transaction."""
    if rows.set_refs:  # a list named only by id cannot be stored: ``ReceivedSets.resolve`` first
        raise ValueError(f"package lists not resolved: {sorted(rows.set_refs)[:3]}")
    new = [s for _, s in sorted(rows.sets.items()) if insert_set(s.set_row()) == 1]
    plan: list[tuple[str, list[Any]]] = list(new_set_rows(new).items())
    for table in _ROW_TABLES:
        table_rows = rows.tables[table]
        if table == "finding_contents":  # each distinct contents once per batch
            table_rows = list({r[0]: r for r in table_rows}.values())
        plan.append((table, table_rows))
    return [(table, table_rows) for table, table_rows in plan if table_rows]


# -- package lists across the collector processes' queue ----------------------------------------
#
# A fleet scan's collector processes send each host's rows to the storing process, and a host of a
# build carries the build's whole list (~880 packages and members on a Debian host): pickled and
# unpickled for every host, for a list the storing process already has.  Each collector process
# sends a list in full once and then by id; the storing process puts back the lists it received
# most recently (``ReceivedSets``), and the store settles the rest (``Store._relational``): a list
# it has committed needs nothing more (a stored list is never deleted), one another host of the
# batch carries is taken from there, and for any other the host's rows are made again from its
# stored document, as for any inventory sent without rows.


class SentSets:
    """The collector process's half: which lists it has sent in full."""

    __slots__ = ("_ids", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._ids: set[str] = set()
        self._size = size

    def strip(self, rows: Rows) -> None:
        """Name by id only each list of ``rows`` this process sent in full before."""
        for sid in list(rows.sets):
            if sid in self._ids:
                del rows.sets[sid]
                rows.set_refs.append(sid)
            else:
                if len(self._ids) >= self._size:
                    self._ids.clear()
                self._ids.add(sid)


class ReceivedSets:
    """The storing process's half: the lists received most recently (least recently used go)."""

    __slots__ = ("_sets", "_size")

    def __init__(self, size: int = 64) -> None:
        self._sets: OrderedDict[str, SoftwareSet] = OrderedDict()
        self._size = size

    def resolve(self, rows: Rows) -> bool:
        """Remember the lists ``rows`` carries and put back those it names by id that are still
        here; False when some are not (they stay in ``rows.set_refs``, for the store to settle)."""
        known = self._sets
        for sid, software_set in rows.sets.items():
            known[sid] = software_set
            known.move_to_end(sid)
            if len(known) > self._size:
                known.popitem(last=False)
        missing = []
        for sid in rows.set_refs:
            found = known.get(sid)
            if found is None:
                missing.append(sid)
            else:
                known.move_to_end(sid)
                rows.sets[sid] = found
        rows.set_refs[:] = missing
        return not missing


def settle_refs(rows: Rows, batch: dict[str, SoftwareSet], stored: set[str]) -> bool:
    """Settle the lists ``rows`` names by id: one in ``batch`` (carried by another host of the
    batch) is put back, one in ``stored`` (committed by this store) needs nothing; False when one
    is in neither (``rows`` cannot be stored as they are)."""
    for sid in rows.set_refs:
        if sid not in batch and sid not in stored:
            return False
    for sid in rows.set_refs:
        if sid in batch:
            rows.sets[sid] = batch[sid]
    rows.set_refs.clear()
    return True


def _clean(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(text_column(v) if isinstance(v, str) else v for v in row)


@dataclass(slots=True)
class Rows:
    """Rows per table, accumulated over a batch, and the package lists they link to (by id: a list
    on many hosts of a batch is there once)."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in _ROW_TABLES})
    sets: dict[str, SoftwareSet] = field(default_factory=dict)
    # Lists named by id only, on their way from a collector process that sent them in full before
    # (``SentSets``); the storing process puts them back (``ReceivedSets``) before they are stored.
    set_refs: list[str] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        for table, rows in other.tables.items():
            self.tables[table].extend(rows)
        for sid, software_set in other.sets.items():
            self.sets.setdefault(sid, software_set)
        self.set_refs.extend(other.set_refs)

    def __bool__(self) -> bool:
        return bool(self.sets) or any(self.tables.values())

    # Pickled for every host a collector process sends: the tables it has rows for, no empty ones.
    def __getstate__(self) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, SoftwareSet], list[str]]:
        return {t: rows for t, rows in self.tables.items() if rows}, self.sets, self.set_refs

    def __setstate__(self, state: tuple[dict[str, list[tuple[Any, ...]]], dict[str, SoftwareSet], list[str]]) -> None:
        tables, self.sets, self.set_refs = state
        self.tables = {t: tables.get(t, []) for t in _ROW_TABLES}


def software_set(
    inv: Inventory, build: tuple[int, ...] | None = None, memo: RowMemo | None = None
) -> SoftwareSet | None:
    """The package list of ``inv`` (None: it has none); ``build``: its ``BuildMemo`` key, if made;
    ``memo``: the store's (``RowMemo``)."""
    if not inv.software:
        return None
    if memo is None:
        memo = RowMemo()
    if build is None:
        build = memo.software_lists.key(inv.software)
    made_set: SoftwareSet | None = memo.software_lists.get(build)
    if made_set is None:
        software: list[tuple[Any, ...]] = []
        entries: list[tuple[str, int]] = []
        counts: Counter[tuple[str, str, str, str]] = Counter(
            (sw.name, sw.version, sw.publisher, sw.source) for sw in inv.software
        )
        made = memo.software_rows
        for key, n in counts.items():
            row = made.get(key)
            if row is None:
                row = _clean((software_id(*key), *key))
                if len(made) >= _SOFTWARE_ROWS_MAX:
                    made.clear()
                made[key] = row
            software.append(row)
            entries.append((row[0], n))
        made_set = SoftwareSet(set_id(entries), tuple(software), tuple(entries), len(inv.software))
        memo.software_lists.put(build, inv.software, made_set)
    return made_set


def software_rows(
    inv: Inventory, stored_id: str, build: tuple[int, ...] | None = None, memo: RowMemo | None = None
) -> Rows:
    """The link of ``inv`` (stored under ``stored_id``) to its package list, and that list."""
    rows = Rows()
    made_set = software_set(inv, build, memo)
    if made_set is not None:
        rows.sets[made_set.set_id] = made_set
        rows.tables["inventory_software_sets"].append((stored_id, made_set.set_id))
    return rows


def judged_rows(judged: Judged, stored_id: str, memo: RowMemo | None = None) -> Rows:
    rows = Rows()
    rows.tables["datasets"].append(_clean((judged.dataset_version, judged.judged_on)))
    rows.tables["judgements"].append(
        _clean(
            (
                stored_id,
                judged.dataset_version,
                judged.judged_on,
                judged.unidentified,
                *judged.steady(),
                judged.judged_by,
            )
        )
    )
    finding_rows = judged.finding_rows(stored_id)
    findings, contents = rows.tables["findings"], rows.tables["finding_contents"]
    seen: set[str] = set()
    if memo is None:
        memo = RowMemo()
    for wide in finding_rows:
        finding, content = split_finding(_clean(wide), memo)
        findings.append(finding)
        if content[0] not in seen:  # a host's findings of one product share their contents
            seen.add(content[0])
            contents.append(content)
    # each finding's id (its row's first column, a hash) made once for both tables
    rows.tables["finding_status"].extend(judged.status_rows(stored_id, [r[0] for r in finding_rows]))
    return rows


def rows_for(
    inv: Inventory,
    stored_id: str,
    judge: Judge | None,
    *,
    with_software: bool = True,
    with_facts: bool = False,
    judged: list[Judged] | None = None,
    build: tuple[int, ...] | None = None,
    memo: RowMemo | None = None,
) -> Rows:
    """Every relational row of ``inv`` (stored under ``stored_id``); findings only with a judge
    (and its judgement appended to ``judged`` when given); its host facts (``scanner.store.facts``)
    with ``with_facts`` (``inv`` must then be the inventory as stored).  ``build``: ``BuildMemo.key(inv.software)``
    when the caller made it (``Store.encode_and_judge``), so it is made once per host.  ``memo``:
    the store's (``Store.row_memo``)."""
    if memo is None:
        memo = RowMemo()
    rows = software_rows(inv, stored_id, build, memo) if with_software else Rows()
    if with_facts:
        facts = facts_row(inv, stored_id)
        if facts is not None:
            rows.tables["inventory_facts"].append(facts)
    if judge is not None:
        made = judge.judge(inv, build=build)
        if judged is not None:
            judged.append(made)
        rows.extend(judged_rows(made, stored_id, memo))
    return rows
