"""The Store: every inventory kept; "latest per host" is a query.

Why keep every inventory: DSPT evidence is about change over time (what was unsupported last
year, what was fixed), a failed or partial scan must never erase a host's last good inventory,
and a re-judgement with a newer dataset needs the original evidence.

One interface, two backends: SQLite (embedded default, WAL) and PostgreSQL (central, many sites).
The schema is versioned; ``MIGRATIONS`` is an explicit, append-only list.
"""

from __future__ import annotations

import json
import operator
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.inventory import Collector, Host, Inventory, InventoryError, OsInfo, Software
from agents.linux import shared as shared_record
from agents.wire import _compact, compact_json
from scanner.judge.builds import BuildMemo
from scanner.store.columns import COLLECTED_AT_MAX as COLLECTED_AT_MAX  # re-exported: `as` makes it explicit
from scanner.store.columns import INDEXED_MAX as INDEXED_MAX
from scanner.store.columns import NUL_REPLACEMENT as NUL_REPLACEMENT
from scanner.store.columns import host_key as host_key
from scanner.store.columns import indexed as indexed
from scanner.store.columns import text_column as text_column
from scanner.store.enrolment import TokenInfo, check_site, new_token, parse_token, token_hash
from scanner.store.facts import backfill as backfill_facts
from scanner.store.relational import RowMemo, Rows, SoftwareSet, insert_plan, insert_sql, rows_for, settle_refs
from scanner.store.schema import FACTS_MIGRATION, migrations

if TYPE_CHECKING:
    from scanner.judge.timeline import Judge, Judged

DEFAULT_URL = "sqlite:///legacyscan.db"


class StoreError(Exception):
    """The database cannot be opened or used; the message names it (never its password).

    ``unavailable``: the database itself failed (down, locked, disk full), as opposed to refusing
    this data; retrying the same rows one by one would only wait again.
    """

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.unavailable = unavailable


@dataclass(slots=True)
class HostStatus:
    """The outcome of the last attempt to reach a target (scan coverage)."""

    target: str
    site: str
    status: str  # ok | unreachable | auth-failed | host-key-mismatch | timeout | partial | error
    error: str
    at: str
    host_key: str = ""
    last_ok_at: str = ""


# The one schema definition (scanner.store.schema), rendered for SQLite.
MIGRATIONS: list[list[str]] = migrations("sqlite")


@dataclass(slots=True)
class EncodedInventory:
    """An inventory already validated and in its stored form, with the fields the store indexes.

    The collector service builds one straight from an upload's JSON (``scanner.service.upload``): making
    500+ ``Software`` objects per upload only to encode them again was most of its cost.
    ``decode_body(body)`` is the Inventory it stands for.
    """

    inventory_id: str
    host: Host
    os: OsInfo
    collector: Collector
    collected_at: str
    software_count: int
    body: bytes  # exactly what ``encode_body`` would store for the inventory
    # Its relational rows already made by the storing store's judge (``Store.encode_judged``, in a
    # fleet scan's collector process); None: the store makes them from ``body`` when it saves.
    rows: Rows | None = None
    # The inventory ``body`` stands for exactly (no value replaced on the way: no NUL, no lone
    # surrogate), when its maker has it (``legacyscan import``): the store judges it as it is
    # instead of decoding the body back into the same inventory.  None: decoded.
    source: Inventory | None = None


# What the stores' ``save_batch`` take: full inventories, or uploads already encoded.
Storable = Inventory | EncodedInventory


def row_key(inv: Storable) -> str:
    """The key of the host's rows in the store: ``host_key`` within the inventory's site.

    Identity is scoped by site, so an upload through one site's token (whose site the collector
    imposes) can only ever create or update hosts of that site, whatever machine id it claims: it
    cannot move another site's host out of that site's report.  Moving a host between sites is an
    operator's act (a scan or import filed under the new site), never a side effect of an upload.
    """
    return f"{indexed(inv.host.site)}\x1f{indexed(host_key(inv))}"


# -- text at the store boundary (scanner.store.columns) -----------------------------------------

# ``\u0000`` escapes in JSON text, but not an escaped backslash followed by "u0000".
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def storable_json(text: str | bytes) -> bytes:
    """JSON text as stored: UTF-8, with every NUL (the ``\\u0000`` escape) replaced by U+FFFD."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    if b"\\u0000" in data:
        data = _NUL_ESCAPE.sub(rb"\1\\ufffd", data)
    return data


def software_count(inv: Storable) -> int:
    return inv.software_count if isinstance(inv, EncodedInventory) else len(inv.software)


def encode_body(inv: Storable) -> bytes:
    """The stored body: the compact JSON form (defaults left out; ``decode_body`` restores them),
    which is several times cheaper to write and to read back than the full form.  Remembers
    nothing (a store encodes through its own ``BodyEncoder``: the same bytes, made once per
    distinct package list)."""
    return BodyEncoder().encode_checked(inv)[0]


def encode_checked(inv: Storable, build: tuple[int, ...] | None = None) -> tuple[bytes, bool]:
    """``encode_body(inv)`` and whether the body stands for ``inv`` exactly (``BodyEncoder.encode_checked``,
    remembering nothing)."""
    return BodyEncoder().encode_checked(inv, build)


def fast_compact_json(inv: Inventory) -> str:
    """Exactly ``agents.wire.compact_json(inv)`` (``BodyEncoder.fast_compact_json``, remembering nothing)."""
    return BodyEncoder().fast_compact_json(inv)


def _spliced_body(inv: Inventory, build: tuple[int, ...] | None = None) -> bytes | None:
    """``BodyEncoder.spliced_body``, remembering nothing."""
    return BodyEncoder().spliced_body(inv, build)


# Package records repeat across an estate (the same few thousand name/version pairs on thousands of
# hosts), so each distinct record's compact JSON is made once: encoding every package afresh was the
# largest CPU cost of storing a fleet scan.  Keyed on every field but ``collapsed`` (a list: records
# that carry one are encoded directly).
_SW_KEY = operator.attrgetter(*(f.name for f in dataclass_fields(Software) if f.name != "collapsed"))
_SW_FRAGMENTS_MAX = 200_000


def _json(obj: Any) -> str:
    return json.dumps(obj, default=_compact, ensure_ascii=False, separators=(",", ":"))


def _with_software_place(inv: Inventory) -> dict[str, Any]:
    """``inv``'s compact form with a place for its package list (the list itself is encoded apart)."""
    top = _compact(inv)
    top["software"] = None
    return top


def _around(top: dict[str, Any], field: str) -> tuple[str, str]:
    """The text ``_json(top)`` has before and after the value of ``top[field]``: the object's
    members before the field, then its name (``{...,"software":``), and the members after it
    (``,...}``), each run written by ``_json`` itself, so ``head + _json(top[field]) + tail ==
    _json(top)``.  The package list, encoded once per distinct list, goes between."""
    names = list(top)
    at = names.index(field)
    before = _json({name: top[name] for name in names[:at]})[1:-1]
    after = _json({name: top[name] for name in names[at + 1 :]})[1:-1]
    return "{" + before + ("," if before else "") + _json(field) + ":", ("," if after else "") + after + "}"


_ZLIB_HEADER = b"\x78\x5e"  # deflate, 32 KiB window, the level byte ``zlib.compress(..., 3)`` writes
_LEVEL = 3


_ADLER_BASE = 65521


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """The Adler-32 of ``a + b`` from ``adler1`` (of ``a``), ``adler2`` (of ``b``) and ``len(b)``:
    zlib's ``adler32_combine``, which Python's zlib module does not offer."""
    rem = len2 % _ADLER_BASE
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1 + (adler1 >> 16) + (adler2 >> 16) + _ADLER_BASE - rem) % _ADLER_BASE
    sum1 = (sum1 + (adler2 & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    return sum1 | (sum2 << 16)


def _deflate_part(data: bytes, last: bool) -> bytes:
    c = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class BodyEncoder:
    """The stored body of an inventory, and what a store remembers while making bodies: each
    distinct package record's JSON, each distinct package list's JSON array and its compressed
    blocks, and the bodies handed over by the fleet scan's collector processes.  A store owns one
    (``Store.encoder``); the module's ``encode_body``/``encode_checked``/``fast_compact_json`` use a
    fresh one each call.  Remembering never changes a byte of a body, only what it costs.

    ``fragments``: a record's compact JSON by its field values (every field but ``collapsed``; a
    record that carries one is encoded directly).  ``by_object``: the same, by identity, for records
    that cannot change (``agents.linux.shared``: a fleet scan's parsers hand every host with the same
    package line the same record), found without building the key; the value holds the record, so
    its id cannot be reused while the entry exists.  ``arrays`` / ``deflated``: per distinct list of
    such records (``scanner.judge.builds.BuildMemo``).  ``handed``: bodies encoded in another
    process, by the inventory's id, each holding its inventory (``hand_over``).  Bounded; safe for a
    store's threads (a lost race encodes twice)."""

    __slots__ = ("fragments", "by_object", "arrays", "deflated", "handed", "fragments_max")

    def __init__(self, fragments_max: int = _SW_FRAGMENTS_MAX) -> None:
        self.fragments: dict[tuple[Any, ...], str] = {}
        self.by_object: dict[int, tuple[Software, str]] = {}
        self.arrays = BuildMemo()
        self.deflated = BuildMemo()
        self.handed: dict[int, tuple[Inventory, bytes, bool]] = {}
        self.fragments_max = fragments_max

    def hand_over(self, inv: Inventory, body: bytes, exact: bool = False) -> None:
        """Hand over ``encode_checked(inv)`` computed in another process: the next save of ``inv``
        uses it instead of encoding again (1-2 ms a host, on the one process that writes the store).
        ``exact``: the encoding process found the body to stand for the inventory exactly, and
        ``inv`` is a faithful copy of the one it encoded (the fleet scan's collector processes): the
        store then judges ``inv`` itself instead of decoding the body back (a fifth of the storing
        process's CPU)."""
        if len(self.handed) >= _HANDED_MAX:  # never taken (a save that failed): forgotten
            self.handed.clear()
        self.handed[id(inv)] = (inv, body, exact)

    def encode_checked(self, inv: Storable, build: tuple[int, ...] | None = None) -> tuple[bytes, bool]:
        """``encode_body(inv)`` and whether the body stands for ``inv`` exactly: False when a NUL or a
        lone surrogate was replaced, or when the body was made elsewhere (then only decoding it back
        says what was stored).  ``build``: ``BuildMemo.key(inv.software)`` when the caller has it."""
        if isinstance(inv, EncodedInventory):
            return inv.body, False
        hit = self.handed.pop(id(inv), None)
        if hit is not None and hit[0] is inv:
            return hit[1], hit[2]
        spliced = self.spliced_body(inv, build)
        if spliced is not None:
            return spliced, True
        text = self.fast_compact_json(inv)
        try:
            data = text.encode("utf-8")
            exact = b"\\u0000" not in data
        except UnicodeEncodeError:
            data, exact = text.encode("utf-8", "replace"), False
        return zlib.compress(data if exact else storable_json(data), 3), exact  # exact: no NUL escape to replace

    def spliced_body(self, inv: Inventory, build: tuple[int, ...] | None = None) -> bytes | None:
        """``encode_body(inv)`` without compressing its package list again: the document's text
        before and after the list is deflated here, the list's own blocks (made once per distinct
        list) go between, and the zlib trailer is the checksum of the whole text.  Each part is a
        separate run of the compressor ending on a byte boundary (a sync flush), so the stream is one
        valid zlib stream of exactly ``fast_compact_json(inv)``; none refers back into another part.
        Compressing the ~100 KB list of every host of a build was most of the CPU of storing it.
        Only for a list of records shared between hosts (``agents.linux.shared``: a fleet scan's);
        None for any other, and when the body is not exact (a NUL or lone surrogate): the caller then
        encodes it as always (an upload's body is byte for byte what it always was)."""
        if not inv.software:
            return None
        if build is None:
            build = self.deflated.key(inv.software)
        made: tuple[int, int, bytes] | None = self.deflated.get(build)
        if made is None:
            if not all(map(shared_record, inv.software)):  # a list of its own: compressed whole, as always
                return None
            try:
                array = ("[" + ",".join(self.software_fragments(inv.software)) + "]").encode("utf-8")
            except UnicodeEncodeError:
                return None
            if b"\\u0000" in array:
                return None
            made = (len(array), zlib.adler32(array), _deflate_part(array, last=False))
            self.deflated.put(build, inv.software, made)
        array_len, array_check, deflated = made
        try:
            head, tail = (part.encode("utf-8") for part in _around(_with_software_place(inv), "software"))
        except UnicodeEncodeError:
            return None
        if b"\\u0000" in head or b"\\u0000" in tail:
            return None
        # the checksum of head + array + tail, the array's part made once with its blocks
        check = adler32_combine(
            adler32_combine(zlib.adler32(head), array_check, array_len), zlib.adler32(tail), len(tail)
        )
        return b"".join(
            (
                _ZLIB_HEADER,
                _deflate_part(head, last=False),
                deflated,
                _deflate_part(tail, last=True),
                check.to_bytes(4, "big"),
            )
        )

    def fast_compact_json(self, inv: Inventory) -> str:
        """Exactly ``agents.wire.compact_json(inv)``, with package records encoded once per distinct
        value (and a whole package list once per distinct list)."""
        if not inv.software:
            return compact_json(inv)
        build = self.arrays.key(inv.software)
        array: str | None = self.arrays.get(build)
        if array is None:
            array = "[" + ",".join(self.software_fragments(inv.software)) + "]"
            self.arrays.put(build, inv.software, array)
        head, tail = _around(_with_software_place(inv), "software")
        return head + array + tail

    def software_fragments(self, software: list[Software]) -> list[str]:
        """The compact JSON of each record of ``software``."""
        parts: list[str] = []
        memo = self.fragments
        by_object = self.by_object
        for sw in software:
            seen = by_object.get(id(sw))
            if seen is not None and seen[0] is sw:  # a record shared between hosts (agents.linux)
                parts.append(seen[1])
                continue
            if sw.collapsed:
                parts.append(_json(sw))
                continue
            key = _SW_KEY(sw)
            frag = memo.get(key)
            if frag is None:
                frag = _json(sw)
                if len(memo) >= self.fragments_max:
                    memo.clear()
                memo[key] = frag
            if shared_record(sw):
                if len(by_object) >= self.fragments_max:
                    by_object.clear()
                by_object[id(sw)] = (sw, frag)
            parts.append(frag)
        return parts


_HANDED_MAX = 10_000  # bodies handed over and not yet saved (a scan's batches are saved as they come)


_INVENTORY_FIELDS = tuple(f.name for f in dataclass_fields(Inventory))


def encode_with_software(header: Inventory, software_json: bytes) -> bytes:
    """``encode_body`` of ``header`` with its package list given as JSON (UTF-8) instead.

    ``software_json`` is a JSON array of package records in the compact form, already validated
    (the collector service checks an upload's records as parsed JSON and never builds them as
    objects); ``header.software`` is ignored.  The result decodes like any other body.
    """
    return encode_with_software_checked(header, software_json)[0]


def encode_with_software_checked(header: Inventory, software_json: bytes) -> tuple[bytes, bool]:
    """``encode_with_software`` and whether the body stands exactly for ``header`` with that list:
    False when a NUL (its escape) or a lone surrogate was replaced on the way."""
    top = _compact(header)
    empty = software_json.strip() in (b"", b"[]")
    if empty:
        top.pop("software", None)
        head, tail = _json(top), ""
    else:
        top["software"] = None  # its place: the list itself goes between the text before and after it
        ordered = {name: top[name] for name in _INVENTORY_FIELDS if name in top}  # the declaration order
        head, tail = _around(ordered, "software")
    try:
        parts = (head.encode("utf-8"), tail.encode("utf-8"))
        exact = True
    except UnicodeEncodeError:
        parts, exact = (head.encode("utf-8", "replace"), tail.encode("utf-8", "replace")), False
    text = parts[0] if empty else parts[0] + software_json + parts[1]
    exact = exact and b"\\u0000" not in text
    return zlib.compress(storable_json(text), 3), exact


def inventory_row(inv: Storable, key: str, body: bytes) -> tuple[Any, ...]:
    """The ``inventories`` row of ``inv`` (both backends): every text column neutralised."""
    return (
        indexed(inv.inventory_id),
        key,
        indexed(inv.host.site),
        indexed(inv.collected_at, COLLECTED_AT_MAX),
        text_column(inv.collector.transport),
        text_column(inv.os.family),
        text_column(inv.os.name),
        software_count(inv),
        body,
    )


def host_row(inv: Storable, key: str) -> tuple[str, ...]:
    """The ``hosts`` row of ``inv`` (both backends): every text column neutralised."""
    host = inv.host
    collected_at = indexed(inv.collected_at, COLLECTED_AT_MAX)
    return (
        key,
        text_column(host.hostname),
        text_column(host.machine_id),
        indexed(host.site),
        text_column(json.dumps(sorted(host.tags))),
        text_column(host.address),
        collected_at,
        collected_at,
        indexed(inv.inventory_id),
    )


def status_row(st: HostStatus) -> tuple[str, ...]:
    """The ``scan_status`` row (both backends); ``last_ok_at`` survives failures."""
    ok_at = (st.at if st.status in ("ok", "partial") else st.last_ok_at) or ""
    return (
        indexed(st.target),
        indexed(st.site),
        text_column(st.status),
        text_column(st.error[:2000]),
        text_column(st.at),
        text_column(st.host_key),
        text_column(ok_at),
    )


def decode_body(body: bytes) -> Inventory:
    return Inventory.from_dict(json.loads(zlib.decompress(body)))


# -- the document without its package list (a report from persisted findings) -------------------
#
# A report that reads its findings from the database still needs each host's own facts (hardware
# for Windows 11 readiness, OS facts, tags, collector), which only the stored document holds; its
# package list (nine tenths of the bytes) is not needed and is cut out before parsing.  The cut
# is made only where it is unambiguous: the document names ``"software":`` exactly once (so it is
# the top-level list, not a key of some nested object), and the list ends at the first
# ``],"<key>":`` after it for a top-level key no package record has (inside a JSON string a quote
# is always escaped, and no package record has such a key, so that sequence can only be the end
# of the list), or at the document's end.  The parsed result must then have ``software == []``
# at the top.  Anything else is parsed in full.
_fast_loads: Callable[[bytes], Any]
try:  # orjson parses several times faster; the json module is the fallback (and the referee)
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _fast_loads = json.loads
_SOFTWARE_FIELDS = frozenset(f.name for f in dataclass_fields(Software))
_AFTER_SOFTWARE = _INVENTORY_FIELDS[_INVENTORY_FIELDS.index("software") + 1 :]
_SOFTWARE_ENDS = tuple(f'],"{name}":'.encode("ascii") for name in _AFTER_SOFTWARE)
_HEADER_CUT = not (_SOFTWARE_FIELDS & set(_AFTER_SOFTWARE))


def _header_dict(raw: bytes) -> dict[str, Any] | None:
    """The stored document with its package list cut out, parsed (None: not cut; parse in full)."""
    if raw.count(b'"software":') != 1:
        return None
    start = raw.find(b'"software":[')
    if start < 0:
        return None
    start += len(b'"software":[')
    end = raw.find(b'],"', start - 1)
    while end >= 0 and not raw.startswith(_SOFTWARE_ENDS, end):
        end = raw.find(b'],"', end + 1)
    if end < 0:
        if not raw.endswith(b"]}"):
            return None
        end = len(raw) - 2
    data = _fast_loads(raw[:start] + raw[end:])
    if not isinstance(data, dict) or data.get("software") != []:
        return None
    return data


def decode_header(body: bytes) -> Inventory:
    """The stored inventory with an empty package list (host, OS, hardware, collector, dates):
    what a report from persisted findings needs of the document."""
    raw = zlib.decompress(body)
    data: Any = None
    if _HEADER_CUT:
        try:
            data = _header_dict(raw)
        except ValueError:  # orjson is stricter than json (NaN, huge integers): parse in full
            data = None
    if data is not None:
        try:
            return Inventory.from_dict(data)
        except InventoryError:  # orjson reads an integer beyond 64 bits as a float: parse in full
            pass
    data = json.loads(raw)
    if isinstance(data, dict):
        data["software"] = []
    return Inventory.from_dict(data)


_STATUS_UPSERT = (
    "INSERT INTO scan_status VALUES (?,?,?,?,?,?,?) ON CONFLICT(target, site) DO UPDATE SET "
    "status=excluded.status, error=excluded.error, at=excluded.at, "
    "host_key=CASE WHEN excluded.host_key != '' THEN excluded.host_key ELSE scan_status.host_key END, "
    "last_ok_at=CASE WHEN excluded.last_ok_at != '' THEN excluded.last_ok_at ELSE scan_status.last_ok_at END"
)


# A statement and its parameters (``Store._write_rows`` runs some before its inserts).
Statement = tuple[str, Sequence[Any]]

_PENDING_JUDGEMENT = (
    "SELECT inventory_id FROM inventories i WHERE NOT EXISTS (SELECT 1 FROM judgements j "
    "WHERE j.inventory_id = i.inventory_id AND j.dataset_version = ?)"
)


class Store:
    """Backend-neutral operations; subclasses provide the connection and the SQL dialect."""

    url: str
    # True when a read is a local file access that never waits for a writer (SQLite in WAL mode,
    # on its own connection): the collector service then checks tokens without a thread hop.
    local_reads: bool = False
    # The placeholder of the backend's driver ("?" sqlite3, "%s" psycopg).
    placeholder = "?"
    # What judges each stored inventory into findings (scanner.judge.timeline).  ``open_store`` installs the
    # installed dataset without a site catalogue; a command with a site catalogue installs its own
    # (``use_judge``).  None: inventories are stored without findings (``judge_pending`` adds them).
    _judge: Judge | None = None
    _judge_factory: Callable[[], Judge | None] | None = None
    # Ids of the package lists this store has committed (a stored list is never deleted): a host
    # whose rows name one only by id (``scanner.store.relational.SentSets``) needs nothing more.  Set by
    # each backend's constructor.
    _stored_sets: set[str]
    _encoder: BodyEncoder | None = None
    _row_memo: RowMemo | None = None

    @property
    def encoder(self) -> BodyEncoder:
        """What this store remembers while encoding bodies (``BodyEncoder``): made on first use,
        one per store (a forked collector process has its own copy)."""
        encoder = self._encoder
        if encoder is None:
            encoder = self._encoder = BodyEncoder()
        return encoder

    @property
    def row_memo(self) -> RowMemo:
        """What this store remembers while making relational rows (``scanner.store.relational.RowMemo``):
        made on first use, one per store."""
        memo = self._row_memo
        if memo is None:
            memo = self._row_memo = RowMemo()
        return memo

    def _committed_sets(self, rows: Rows) -> None:
        """After a commit: the package lists of ``rows`` are stored."""
        if len(self._stored_sets) > STORED_SETS_MAX:
            self._stored_sets.clear()
        self._stored_sets.update(rows.sets)

    def use_judge(self, judge: Judge | Callable[[], Judge | None] | None) -> None:
        """Judge inventories with ``judge`` from now on (a factory is called on first use)."""
        if judge is None or not callable(judge):
            self._judge, self._judge_factory = judge, None
        else:
            self._judge, self._judge_factory = None, judge

    def current_judge(self) -> Judge | None:
        if self._judge is None and self._judge_factory is not None:
            self._judge = self._judge_factory()
            self._judge_factory = None
        return self._judge

    def _relational(
        self,
        invs: Sequence[Storable],
        encoded: Sequence[tuple[bytes, bool]],
        judged: list[Judged] | None = None,
        build: tuple[int, ...] | None = None,
    ) -> list[Rows]:
        """Per inventory, its relational rows (software, findings): computed before the transaction,
        from the document as stored (a NUL or lone surrogate a host sent is judged as the report
        would read it back: replaced), never from text the store refused.  ``build``: the
        ``BuildMemo`` key of the one inventory of ``invs`` (``encode_and_judge``), used only when
        that inventory itself is judged."""
        judge = self.current_judge()
        out = []
        batch: dict[str, SoftwareSet] = {}  # package lists carried in full by this batch's rows
        for inv in invs:
            if isinstance(inv, EncodedInventory) and inv.rows is not None:
                batch.update(inv.rows.sets)
        for inv, (body, exact) in zip(invs, encoded, strict=True):
            if isinstance(inv, EncodedInventory) and inv.rows is not None:  # made by ``encode_judged``
                rows = inv.rows
                if not rows.set_refs or settle_refs(rows, batch, self._stored_sets):
                    out.append(rows)
                    continue
                # a list named by id that neither this batch nor the store has: made again below
            if isinstance(inv, Inventory) and exact:
                full = inv
            elif isinstance(inv, EncodedInventory) and inv.source is not None:
                full = inv.source
            else:
                full = decode_body(body)
            own = build if full is inv and len(invs) == 1 else None
            out.append(
                rows_for(
                    full,
                    indexed(inv.inventory_id),
                    judge,
                    with_facts=True,
                    judged=judged,
                    build=own,
                    memo=self.row_memo,
                )
            )
        return out

    def encode_judged(self, inv: Inventory) -> EncodedInventory:
        """``inv`` in its stored form with the relational rows ``save_batch`` would make for it
        (software links, findings and status ranges of this store's judge), made here: a fleet
        scan's collector processes (forked, with this store's judge) call it, so the storing
        process only inserts.  The rows are those of ``_relational``: the inventory itself judged
        when the body stands for it exactly, else the body decoded back."""
        return self.encode_and_judge(inv)[0]

    def encode_and_judge(self, inv: Inventory) -> tuple[EncodedInventory, Judged | None]:
        """``encode_judged(inv)`` and the judgement its rows were made from, when that is a
        judgement of ``inv`` itself (this store has a judge and the body stands for ``inv``
        exactly); None otherwise."""
        # The package list's key names it for the body, the rows and the judge alike: made once.
        build = BuildMemo.key(inv.software)
        body, exact = self.encoder.encode_checked(inv, build)
        judged: list[Judged] = []
        rows = self._relational([inv], [(body, exact)], judged, build)[0]
        encoded = EncodedInventory(
            inventory_id=inv.inventory_id,
            host=inv.host,
            os=inv.os,
            collector=inv.collector,
            collected_at=inv.collected_at,
            software_count=len(inv.software),
            body=body,
            rows=rows,
        )
        return encoded, (judged[0] if exact and judged else None)

    # -- relational rows of stored inventories (backfill, re-judgement) --------------------------

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:  # pragma: no cover
        raise NotImplementedError

    def _write_rows(self, rows: Rows, first: Sequence[Statement] = ()) -> None:  # pragma: no cover
        """Insert ``rows`` in one transaction, after running the statements ``first`` in it."""
        raise NotImplementedError

    def judge_pending(
        self, judge: Judge | None = None, *, batch: int = 500, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Give every stored inventory its relational rows: software rows where missing (a store
        written before schema 4) and findings of ``judge``'s dataset (default: the store's judge)
        where that dataset has not judged it yet.  Returns how many inventories were completed.
        Idempotent and resumable: each batch commits on its own."""
        judge = judge or self.current_judge()
        p = self.placeholder
        need_sw = {
            r[0]
            for r in self._query(
                "SELECT inventory_id FROM inventories i WHERE software_count > 0 AND NOT EXISTS "
                "(SELECT 1 FROM inventory_software_sets s WHERE s.inventory_id = i.inventory_id)",
                (),
            )
        }
        need_judge: set[str] = set()
        if judge is not None:
            sql = _PENDING_JUDGEMENT.replace("?", p)
            need_judge = {r[0] for r in self._query(sql, (judge.dataset_version,))}
        pending = sorted(need_sw | need_judge)
        done = 0
        for start in range(0, len(pending), batch):
            chunk = pending[start : start + batch]
            rows = Rows()
            for stored_id, inv in self._decoded(chunk):
                rows.extend(
                    rows_for(
                        inv,
                        stored_id,
                        judge if stored_id in need_judge else None,
                        with_software=stored_id in need_sw,
                        memo=self.row_memo,
                    )
                )
            self._write_rows(rows)
            done += len(chunk)
            if progress is not None:
                progress(done, len(pending))
        return done

    def _decoded(self, ids: list[str]) -> Iterator[tuple[str, Inventory]]:
        """The stored inventories of ``ids`` (one query), decoded: what a backfill or a
        re-judgement works from."""
        marks = ",".join([self.placeholder] * len(ids))
        sql = f"SELECT inventory_id, body FROM inventories WHERE inventory_id IN ({marks})"  # noqa: S608
        for stored_id, body in self._query(sql, ids):
            yield stored_id, decode_body(bytes(body))

    def stale_judgements(self, judge: Judge) -> list[str]:
        """The stored inventories judged with ``judge``'s dataset by another release or other
        rules files than ``judge``'s (``judgements.judged_by``; NULL: before schema 11)."""
        p = self.placeholder
        sql = (
            f"SELECT inventory_id FROM judgements WHERE dataset_version = {p} "  # noqa: S608 - placeholder only
            f"AND (judged_by IS NULL OR judged_by <> {p}) ORDER BY inventory_id"
        )
        return [r[0] for r in self._query(sql, (judge.dataset_version, judge.judged_by))]

    def rejudge_stale(
        self, judge: Judge | None = None, *, batch: int = 500, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Judge again, with ``judge`` (default: the store's), every stored inventory whose findings
        of ``judge``'s dataset another release or other rules judged (``stale_judgements``): its
        judgement, findings and status ranges of that dataset are replaced, per batch in one
        transaction (a batch that fails leaves its inventories' findings as they were; those
        of the batches before it are replaced).  Other datasets' findings are kept.  Returns how
        many inventories were judged again.  Idempotent and resumable."""
        judge = judge or self.current_judge()
        if judge is None:
            return 0
        stale = self.stale_judgements(judge)
        p = self.placeholder
        done = 0
        for start in range(0, len(stale), batch):
            chunk = stale[start : start + batch]
            marks = ",".join([p] * len(chunk))
            rows = Rows()
            for stored_id, inv in self._decoded(chunk):
                rows.extend(rows_for(inv, stored_id, judge, with_software=False, memo=self.row_memo))
            which = f"dataset_version = {p} AND inventory_id IN ({marks})"
            params = (judge.dataset_version, *chunk)
            first: list[Statement] = [
                (
                    f"DELETE FROM finding_status WHERE finding_id IN (SELECT finding_id FROM findings WHERE {which})",  # noqa: S608
                    params,
                ),
                (f"DELETE FROM findings WHERE {which}", params),  # noqa: S608
                (f"DELETE FROM judgements WHERE {which}", params),  # noqa: S608
            ]
            self._write_rows(rows, first)
            done += len(chunk)
            if progress is not None:
                progress(done, len(stale))
        return done

    def save_inventory(self, inv: Inventory) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def latest_inventories(self, site: str | None = None) -> list[Inventory]:  # pragma: no cover
        raise NotImplementedError

    def save_batch(self, invs: Sequence[Storable]) -> list[bool]:  # pragma: no cover
        raise NotImplementedError

    def get_inventory(self, inventory_id: str) -> Inventory | None:  # pragma: no cover
        raise NotImplementedError

    def count_inventories(self) -> int:  # pragma: no cover
        raise NotImplementedError

    def create_token(self, site: str, created_at: str, label: str = "") -> tuple[TokenInfo, str]:  # pragma: no cover
        raise NotImplementedError

    def list_tokens(self) -> list[TokenInfo]:  # pragma: no cover
        raise NotImplementedError

    def revoke_token(self, token_id: str, revoked_at: str) -> bool:  # pragma: no cover
        raise NotImplementedError

    def authenticate(self, token: str) -> TokenInfo | None:  # pragma: no cover
        raise NotImplementedError

    # Scan status (``legacyscan scan`` records every attempt; ``--resume`` and the report read them).
    def record_status(self, status: HostStatus) -> None:
        self.record_statuses([status])

    def record_statuses(self, statuses: list[HostStatus]) -> None:  # pragma: no cover
        raise NotImplementedError

    def statuses(self, site: str | None = None) -> list[HostStatus]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


STORED_SETS_MAX = 1_000_000  # ids of committed package lists a store remembers (~100 MB at most)
CACHE_KIB = 65536  # the writing connection's SQLite page cache, at most


class SqliteStore(Store):
    local_reads = True

    def __init__(self, path: str) -> None:
        self.url = f"sqlite:///{path}"
        self.path = path
        # One connection shared by the service's worker threads: a transaction must not interleave.
        self._lock = threading.RLock()
        self._stored_sets = set()
        # Token checks read on their own connection: in WAL mode they never wait for a writer.
        self._auth_conn: sqlite3.Connection | None = None
        self._auth_lock = threading.Lock()
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
        # Several processes opening a new database at once race to switch it to WAL and migrate
        # it; SQLite answers "locked" at once (not after its busy timeout) for the journal-mode
        # switch, so the opening sequence is retried for a bounded time.
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self.conn.execute("PRAGMA busy_timeout=30000")
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                # 64 MiB of page cache (SQLite's default is 2 MiB; it grows only as pages are
                # used): a fleet scan's batch touches ~900 leaf pages of the package-link index
                # per build, which 2 MiB cannot hold, so every batch read and spilled them again.
                self.conn.execute(f"PRAGMA cache_size={-CACHE_KIB}")
                self.migrate()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    self.conn.close()
                    raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
                time.sleep(0.05)
            except sqlite3.Error as exc:
                self.conn.close()
                raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc

    # -- schema --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        current = self.schema_version()
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this legacyscan "
                f"({len(MIGRATIONS)}); upgrade legacyscan"
            )
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if self.schema_version() >= number:  # another process migrated meanwhile
                    self.conn.execute("COMMIT")
                    continue
                for statement in script:
                    self.conn.execute(statement)
                if number == FACTS_MIGRATION:
                    backfill_facts(self.conn.cursor(), "?", decode_header)
                self.conn.execute(f"PRAGMA user_version={number}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    # -- inventories ---------------------------------------------------------------------------

    def save_inventory(self, inv: Inventory) -> bool:
        """Store one inventory; False when its id was already stored (idempotent uploads)."""
        return self.save_many([inv]) == 1

    def save_many(self, invs: list[Inventory]) -> int:
        """Store several inventories in one transaction; returns how many were new."""
        return sum(self.save_batch(invs))

    def save_batch(self, invs: Sequence[Storable]) -> list[bool]:
        """Store several inventories in one transaction; per inventory, True when it was new.

        The collector service commits concurrent uploads together (one transaction for many
        requests) and still answers each agent "created" or "duplicate".
        """
        encoded = [self.encoder.encode_checked(inv) for inv in invs]
        rows = [(inv, row_key(inv), body) for inv, (body, _) in zip(invs, encoded, strict=True)]
        relational = self._relational(invs, encoded)
        results: list[bool] = []
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                new = Rows()
                for (inv, key, body), rel in zip(rows, relational, strict=True):
                    cur = self.conn.execute(
                        "INSERT OR IGNORE INTO inventories VALUES (?,?,?,?,?,?,?,?,?)", inventory_row(inv, key, body)
                    )
                    results.append(cur.rowcount == 1)
                    if cur.rowcount == 1:
                        self._upsert_host(inv, key)
                        new.extend(rel)
                self._insert_rows(new)
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(
                    f"cannot save inventory: {exc}", unavailable=isinstance(exc, sqlite3.OperationalError)
                ) from exc
            self._committed_sets(new)
        return results

    def _insert_rows(self, rows: Rows) -> None:
        conn = self.conn
        insert_set = insert_sql("software_sets", "?")
        for table, table_rows in insert_plan(rows, lambda row: conn.execute(insert_set, row).rowcount):
            conn.executemany(insert_sql(table, "?"), table_rows)

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def _write_rows(self, rows: Rows, first: Sequence[Statement] = ()) -> None:
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                for sql, params in first:
                    self.conn.execute(sql, tuple(params))
                self._insert_rows(rows)
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(
                    f"cannot save findings: {exc}", unavailable=isinstance(exc, sqlite3.OperationalError)
                ) from exc

    def _rollback(self) -> None:
        """End a failed transaction.  SQLite has often rolled it back itself already (a full disk,
        an I/O error), and then ROLLBACK fails too: that must not hide the original error (a full
        disk would surface as an unexplained crash instead of "try again later")."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _upsert_host(self, inv: Storable, key: str) -> None:
        row = self.conn.execute("SELECT last_seen, first_seen FROM hosts WHERE host_key=?", (key,)).fetchone()
        (key, hostname, machine_id, site, tags, address, collected_at, _, inventory_id) = host_row(inv, key)
        if row is None:
            self.conn.execute(
                "INSERT INTO hosts VALUES (?,?,?,?,?,?,?,?,?)",
                (key, hostname, machine_id, site, tags, address, collected_at, collected_at, inventory_id),
            )
            return
        if collected_at >= row[0]:
            # Only a newer collection becomes "latest": a late upload of an old spool must not win.
            self.conn.execute(
                "UPDATE hosts SET hostname=?, site=?, tags=?, address=?, last_seen=?, last_inventory_id=? "
                "WHERE host_key=?",
                (hostname, site, tags, address, collected_at, inventory_id, key),
            )
        if collected_at < row[1]:  # first seen is the earliest collection, in whatever order they come
            self.conn.execute("UPDATE hosts SET first_seen=? WHERE host_key=?", (collected_at, key))

    def latest_inventories(self, site: str | None = None) -> list[Inventory]:
        return list(self.iter_latest(site))

    def iter_latest(self, site: str | None = None) -> Iterator[Inventory]:
        sql = "SELECT i.body FROM hosts h JOIN inventories i ON i.inventory_id = h.last_inventory_id"
        params: tuple[Any, ...] = ()
        if site:
            sql += " WHERE h.site = ?"
            params = (site,)
        sql += " ORDER BY h.site, h.hostname, h.host_key"
        for (body,) in self.conn.execute(sql, params):
            yield decode_body(body)

    def inventories_as_of(self, before: str, site: str | None = None) -> list[Inventory]:
        """Each host's latest inventory collected strictly before ``before`` (for "change since")."""
        sql = (
            "SELECT body FROM inventories i WHERE collected_at = (SELECT MAX(collected_at) FROM inventories j "
            "WHERE j.host_key = i.host_key AND j.collected_at < ?)"
        )
        params: list[Any] = [before]
        if site:
            sql += " AND site = ?"
            params.append(site)
        return [decode_body(b) for (b,) in self.conn.execute(sql, params)]

    def get_inventory(self, inventory_id: str) -> Inventory | None:
        row = self.conn.execute("SELECT body FROM inventories WHERE inventory_id=?", (inventory_id,)).fetchone()
        return decode_body(row[0]) if row else None

    def count_inventories(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM inventories").fetchone()[0])

    def sites(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT site FROM hosts ORDER BY site")]

    # -- scan status ---------------------------------------------------------------------------

    def record_status(self, status: HostStatus) -> None:
        """Record the latest attempt on a target; ``last_ok_at`` survives failures."""
        with self._lock:
            self.conn.execute(_STATUS_UPSERT, status_row(status))

    def record_statuses(self, statuses: list[HostStatus]) -> None:
        """Record many attempts in one transaction (a fleet scan writes one batch at a time)."""
        rows = [status_row(st) for st in statuses]
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany(_STATUS_UPSERT, rows)
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"cannot record scan status: {exc}") from exc

    def statuses(self, site: str | None = None) -> list[HostStatus]:
        sql = "SELECT target, site, status, error, at, host_key, last_ok_at FROM scan_status"
        params: tuple[Any, ...] = ()
        if site:
            sql += " WHERE site=?"
            params = (site,)
        return [HostStatus(*row) for row in self.conn.execute(sql + " ORDER BY site, target", params)]

    # -- enrolment tokens ----------------------------------------------------------------------

    def create_token(self, site: str, created_at: str, label: str = "") -> tuple[TokenInfo, str]:
        """A new token for ``site``; returns its record and the token (shown once, stored hashed)."""
        token_id, token = new_token()
        info = TokenInfo(token_id, check_site(site), created_at, "", label[:200])
        with self._lock:
            try:
                self.conn.execute(
                    "INSERT INTO tokens VALUES (?,?,?,?,?,?)",
                    (token_id, token_hash(token), info.site, info.label, created_at, ""),
                )
            except sqlite3.Error as exc:  # a read-only file or folder, a full disk, a lock held too long
                raise StoreError(f"cannot save the token in {self.path}: {exc}") from exc
        return info, token

    def list_tokens(self) -> list[TokenInfo]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT token_id, site, created_at, revoked_at, label FROM tokens ORDER BY site, created_at, token_id"
            ).fetchall()
        return [TokenInfo(*row) for row in rows]

    def revoke_token(self, token_id: str, revoked_at: str) -> bool:
        """Revoke; False when no active token has that id."""
        with self._lock:
            try:
                cur = self.conn.execute(
                    "UPDATE tokens SET revoked_at=? WHERE token_id=? AND revoked_at=''", (revoked_at, token_id)
                )
            except sqlite3.Error as exc:
                raise StoreError(f"cannot revoke the token in {self.path}: {exc}") from exc
        return cur.rowcount == 1

    def authenticate(self, token: str) -> TokenInfo | None:
        """The active token record for ``token``, or None (unknown, malformed or revoked)."""
        if parse_token(token) is None:
            return None
        if self.path == ":memory:":  # a second connection would be another database
            with self._lock:
                row = self._token_row(self.conn, token)
        else:
            with self._auth_lock:
                if self._auth_conn is None:
                    try:
                        self._auth_conn = sqlite3.connect(
                            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
                        )
                    except sqlite3.Error as exc:
                        raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
                row = self._token_row(self._auth_conn, token)
        return TokenInfo(*row) if row else None

    @staticmethod
    def _token_row(conn: sqlite3.Connection, token: str) -> tuple[str, str, str, str, str] | None:
        try:
            row = conn.execute(
                "SELECT token_id, site, created_at, revoked_at, label FROM tokens WHERE token_hash=? AND revoked_at=''",
                (token_hash(token),),
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot check enrolment token: {exc}") from exc
        return tuple(row) if row else None

    def close(self) -> None:
        with self._auth_lock:
            if self._auth_conn is not None:
                self._auth_conn.close()
                self._auth_conn = None
        self.conn.close()
