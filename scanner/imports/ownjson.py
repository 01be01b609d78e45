"""legacyscan's own inventory JSON (agent ``--output``, spool files, file drops), plain or gzip.

The same validation as the collector service (``Inventory.from_dict``).  A document is ours only
when it says so (``schema_version``, ``inventory_id``, or our ``host``/``collector`` sections): any
other JSON used to be stored as an empty, unidentified host; now no importer claims it and it is
refused by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from agents.inventory import Inventory, InventoryError
from scanner.imports.base import MAX_DOCUMENT, Head, Importer, ImportRefused, Source

NAME = "legacyscan"
_OURS = ("schema_version", "inventory_id")
_SECTIONS = {"host", "os", "software", "hardware", "collector", "collected_at", "problems"}


def detect(head: Head) -> str:
    if head.kind != "json":
        return "not JSON"
    keys = head.json_keys()
    if "legacyscan" in keys:
        return 'a raw collection document (its "legacyscan" field), not an inventory'
    if any(k in keys for k in _OURS):
        return ""
    if "host" in keys and len(keys & _SECTIONS) >= 2:
        return ""
    return "no inventory_id, schema_version or host/os/software sections"


def convert(source: Source) -> Iterator[Inventory]:
    data = source.read_all(MAX_DOCUMENT)
    raw = source.json()
    if not isinstance(raw, dict):
        raise ImportRefused(f"expected one inventory object, got a JSON {type(raw).__name__}")
    if not raw.get("inventory_id"):
        # A file without an id gets one derived from its content, so importing it again is a duplicate.
        raw["inventory_id"] = "file-sha256-" + hashlib.sha256(data).hexdigest()[:40]
    try:
        inv = Inventory.from_dict(raw)
    except RecursionError as exc:
        raise ImportRefused("document nested too deeply") from exc
    except InventoryError as exc:
        raise ImportRefused(str(exc)) from exc
    if not inv.host.hostname and not inv.host.machine_id:
        raise ImportRefused("host: neither hostname nor machine_id: the inventory names no host")
    yield inv


IMPORTER = Importer(
    NAME, "legacyscan inventory JSON (agent --output, spool and file drops; .json, .json.gz)", detect, convert
)
