"""Each stored inventory's host facts as columns (``inventory_facts``): what a report reads of a
host besides its findings, without decoding the stored document.

A report from persisted findings (``scanner.report.stored``) still needs each host's own facts: its name,
site, tags and address (device rows, the link of a discovered host to its inventory), the
Windows product type (server detection), the hardware facts Windows 11 readiness and the device
rows read, and the collector's transport and source (inventory, discovered, register).  They were
read from the stored document (``decode_header``: decompress, cut out the package list, parse,
build): a quarter of a report's time on a large estate.  Here they are one row per inventory,
written at ingest from the inventory *as stored* (the document decoded back wherever the store
does not hold the object it encoded exactly), so ``header`` gives back exactly the values
``decode_header`` would: text as the store neutralised it, tags in their order, the product type
as the JSON value it was.  An inventory whose facts cannot be kept exactly (an integer beyond
64 bits) has no row, and the report decodes its document as before; so has an inventory stored
before this table (schema 8 back-fills them from their documents, ``backfill``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from agents.inventory import Collector, Hardware, Host, Inventory, OsInfo

# The columns, in table order (schema migration 8 creates them; ``relational`` inserts them).
COLUMNS = (
    "inventory_id",
    "hostname",
    "machine_id",
    "site",
    "address",
    "tags",  # JSON array, in the document's order
    "collected_at",
    "transport",
    "collector_source",
    "product_type",  # os.facts["product_type"] as JSON text; NULL when the document has none
    "hw_vendor",
    "hw_model",
    "cpu_model",
    "memory_bytes",
    "system_disk_bytes",
    "tpm_present",  # 0/1, NULL unknown
    "tpm_version",
    "firmware_type",
    "secure_boot",  # 0/1, NULL unknown
)

# What both databases hold in a BIGINT (SQLite's INTEGER is the same 64 bits).
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _int_ok(value: int | None) -> bool:
    return value is None or _INT_MIN <= value <= _INT_MAX


def _text_ok(texts: tuple[str, ...]) -> bool:
    """Every text as both databases keep it, unchanged: no NUL (PostgreSQL refuses one), no lone
    surrogate (not UTF-8)."""
    joined = "".join(texts)
    if joined.isascii():
        return "\x00" not in joined
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in joined


def facts_row(inv: Inventory, stored_id: str) -> tuple[Any, ...] | None:
    """The ``inventory_facts`` row of ``inv`` (stored under ``stored_id``), or None when a value
    cannot be kept exactly (the report then decodes the document).  ``inv`` must be the inventory
    as stored: the store's text neutralisation already applied (``Store._relational``'s ``full``).
    The JSON columns are ASCII (every other character escaped): always storable, read back exactly."""
    host, hw, collector = inv.host, inv.hardware, inv.collector
    if not (_int_ok(hw.memory_bytes) and _int_ok(hw.system_disk_bytes)):
        return None
    texts = (
        host.hostname,
        host.machine_id,
        host.site,
        host.address,
        inv.collected_at,
        collector.transport,
        collector.source,
        hw.vendor,
        hw.model,
        hw.cpu_model,
        hw.tpm_version,
        hw.firmware_type,
    )
    if not _text_ok(texts):
        return None
    facts = inv.os.facts
    product_type = None
    if isinstance(facts, dict) and "product_type" in facts:
        try:
            product_type = json.dumps(facts["product_type"], separators=(",", ":"))
        except (TypeError, ValueError):
            return None
    return (
        stored_id,
        *texts[:4],
        json.dumps(host.tags, separators=(",", ":")),
        *texts[4:7],
        product_type,
        hw.vendor,
        hw.model,
        hw.cpu_model,
        hw.memory_bytes,
        hw.system_disk_bytes,
        _flag(hw.tpm_present),
        hw.tpm_version,
        hw.firmware_type,
        _flag(hw.secure_boot),
    )


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


class Texts(dict[str, Any]):
    """JSON text -> value, each distinct text parsed once (an estate repeats a few tag lists): what a
    reader of many facts rows keeps (``scanner.report.stored.StoredResults``) and hands to ``header``."""

    def __missing__(self, text: str) -> Any:
        value = self[text] = json.loads(text)
        return value


_PARSED_MAX = 100_000


def header(row: Sequence[Any], parsed: Texts | None = None) -> Inventory:
    """The inventory as ``decode_header`` gives it for what a report reads (host, the product type
    among the OS facts, the hardware facts, collector, collection time), from its facts row
    (``COLUMNS`` order).  Every other field has its default: nothing in a report reads them.
    ``parsed``: the caller's ``Texts`` (its JSON columns parsed once per distinct text)."""
    (
        inventory_id,
        hostname,
        machine_id,
        site,
        address,
        tags,
        collected_at,
        transport,
        source,
        product_type,
        vendor,
        model,
        cpu_model,
        memory_bytes,
        system_disk_bytes,
        tpm_present,
        tpm_version,
        firmware_type,
        secure_boot,
    ) = row
    if parsed is None:
        parsed = Texts()
    elif len(parsed) > _PARSED_MAX:
        parsed.clear()
    return Inventory(
        host=Host(hostname, machine_id, site, list(parsed[tags]), "", address),
        os=OsInfo(facts={} if product_type is None else {"product_type": parsed[product_type]}),
        hardware=Hardware(
            vendor=vendor,
            model=model,
            cpu_model=cpu_model,
            memory_bytes=memory_bytes,
            system_disk_bytes=system_disk_bytes,
            tpm_present=_bool(tpm_present),
            tpm_version=tpm_version,
            firmware_type=firmware_type,
            secure_boot=_bool(secure_boot),
        ),
        collected_at=collected_at,
        collector=Collector(transport=transport, source=source),
        inventory_id=inventory_id,
    )


def select_sql(alias: str = "x") -> str:
    """The facts columns of ``inventory_facts AS alias``, in ``COLUMNS`` order, for a SELECT."""
    return ", ".join(f"{alias}.{c}" for c in COLUMNS)


class _Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any: ...


def backfill(cur: _Cursor, placeholder: str, decode: Callable[[bytes], Inventory], chunk: int = 500) -> int:
    """Give every stored inventory without one its facts row, from its stored document (schema
    migration 8, inside its transaction; ``decode``: ``decode_header``).  A document that cannot
    be decoded gets no row (a report decodes it itself, and says why, as before).  Returns the
    rows written."""
    cur.execute(
        "SELECT inventory_id FROM inventories i WHERE NOT EXISTS "
        "(SELECT 1 FROM inventory_facts x WHERE x.inventory_id = i.inventory_id) ORDER BY inventory_id"
    )
    pending = [r[0] for r in cur.fetchall()]
    insert = f"INSERT INTO inventory_facts VALUES ({','.join([placeholder] * len(COLUMNS))})"  # noqa: S608
    written = 0
    for start in range(0, len(pending), chunk):
        ids = pending[start : start + chunk]
        marks = ",".join([placeholder] * len(ids))
        cur.execute(f"SELECT inventory_id, body FROM inventories WHERE inventory_id IN ({marks})", ids)  # noqa: S608
        rows = []
        for stored_id, body in cur.fetchall():
            try:
                inv = decode(bytes(body))
            except (ValueError, TypeError, RecursionError, zlib.error):  # InventoryError is a ValueError
                continue
            row = facts_row(inv, stored_id)
            if row is not None:
                rows.append(row)
        if rows:
            cur.executemany(insert, rows)
            written += len(rows)
    return written
