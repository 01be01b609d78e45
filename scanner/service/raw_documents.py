"""Raw collection documents: what an agent that does no parsing of its own sends or drops.

Why a registry: the PowerShell-only Windows agent (``agents/legacyscan-agent.ps1``) and the POSIX
sh agent upload exactly what their collection scripts printed, and the collector and
``legacyscan import`` turn it into an :class:`~agents.inventory.Inventory` with the same tested
Python parser the WinRM and SSH paths use.  Each format is one entry in :data:`FORMATS` (an
explicit list, not import strings): the schema id the document carries in its ``"legacyscan"``
field, and a function from the decoded JSON object to an Inventory.

A document whose ``"legacyscan"`` field names no registered format is refused with an error that
names the field and the formats this build knows, never stored as an empty host.

Adding a format: write ``parse(data: dict) -> Inventory`` (raise :class:`RawDocumentError` naming
the field that is wrong), and append one :class:`RawFormat` line to :data:`FORMATS`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.inventory import Inventory

SCHEMA_FIELD = "legacyscan"
# An upload's retries must be recognised as one inventory: a raw document without an
# ``inventory_id`` gets one derived from its bytes (the same document always gets the same id).
_ID_NAMESPACE = uuid.UUID("5b0cbb0e-11a4-4a2e-9c55-6e2b3f2ad011")


class RawDocumentError(ValueError):
    """A raw document that cannot become an inventory; the message names the field."""


@dataclass(frozen=True)
class RawFormat:
    schema: str  # the value of the document's "legacyscan" field, e.g. "windows-collect/1"
    description: str  # what produces it, for error messages and `--help`
    parse: Callable[[dict[str, Any]], Inventory]


def _windows_collect(data: dict[str, Any]) -> Inventory:
    from agents.windows import WindowsDocumentError, parse_document

    if not isinstance(data.get("os"), dict):
        raise RawDocumentError(
            "windows-collect/1: field 'os' is missing or not an object (the collection script always writes it)"
        )
    try:
        inventory = parse_document(data)
    except WindowsDocumentError as exc:
        raise RawDocumentError(f"windows-collect/1: {exc}") from exc
    inventory.collector.transport = "agent"
    return inventory


def _unix_bundle(data: dict[str, Any]) -> Inventory:
    from agents.bundle import BundleDocumentError, collect_document

    try:
        inventory: Inventory = collect_document(data)
    except BundleDocumentError as exc:
        raise RawDocumentError(str(exc)) from exc
    return inventory


FORMATS: list[RawFormat] = [
    RawFormat(
        "windows-collect/1", "agents/windows_collect.ps1 (WinRM probe or legacyscan-agent.ps1)", _windows_collect
    ),
    RawFormat("unix-bundle/1", "agents/legacyscan-agent.sh (the SSH probe's bundle, run on the host)", _unix_bundle),
]


def known_schemas() -> list[str]:
    return [f.schema for f in FORMATS]


def schema_of(data: Any) -> str | None:
    """The raw format a decoded JSON value claims to be (its ``"legacyscan"`` field), else None.

    None means "not a raw document" (an Inventory, or something else entirely); a claimed but
    unknown schema is still returned so that :func:`parse_raw` can refuse it by name.
    """
    if isinstance(data, dict):
        value = data.get(SCHEMA_FIELD)
        if isinstance(value, str):
            return value
    return None


def find_format(schema: str) -> RawFormat | None:
    for fmt in FORMATS:
        if fmt.schema == schema:
            return fmt
    return None


def derived_inventory_id(body: bytes) -> str:
    """A stable inventory id for a raw document that carries none (idempotent retries)."""
    return str(uuid.uuid5(_ID_NAMESPACE, hashlib.sha256(body).hexdigest()))


def parse_raw(data: dict[str, Any], *, body: bytes | None = None) -> Inventory:
    """A raw collection document -> Inventory, through its registered parser.

    ``body`` (the document's bytes) gives a stable ``inventory_id`` when the document has none;
    an ``inventory_id`` in the document (the agent writes one per collection) wins.
    """
    schema = schema_of(data)
    if schema is None:
        raise RawDocumentError(
            f"field {SCHEMA_FIELD!r}: missing or not a string (expected one of {', '.join(known_schemas())})"
        )
    fmt = find_format(schema)
    if fmt is None:
        raise RawDocumentError(
            f"field {SCHEMA_FIELD!r}: unknown raw document format {schema[:80]!r} "
            f"(this build reads {', '.join(known_schemas())})"
        )
    inventory = fmt.parse(data)
    given = data.get("inventory_id")
    if given is not None and not (isinstance(given, str) and given.strip()):
        raise RawDocumentError("field 'inventory_id': must be a non-empty string when present")
    if isinstance(given, str):
        inventory.inventory_id = given.strip()[:128]
    elif body is not None:
        inventory.inventory_id = derived_inventory_id(body)
    return inventory
