"""Raw collection documents (``windows-collect/1`` from the Windows script or the PowerShell-only
agent, and every other format in ``scanner.service.raw_documents.FORMATS``): delegated to that registry,
so the collector service and ``legacyscan import`` parse them with the same tested parser."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agents.inventory import Inventory
from scanner.imports.base import Head, Importer, ImportRefused, Source
from scanner.service import raw_documents

NAME = "raw"
_SCHEMA = re.compile(r'"legacyscan"\s*:\s*"([^"\\]{1,80})"')


def detect(head: Head) -> str:
    if head.kind != "json":
        return "not JSON"
    if not _SCHEMA.search(head.text):
        return f'no "legacyscan" schema field (raw documents: {", ".join(raw_documents.known_schemas())})'
    return ""


def convert(source: Source) -> Iterator[Inventory]:
    data = source.json()
    if not isinstance(data, dict):
        raise ImportRefused(f"expected one raw document object, got a JSON {type(data).__name__}")
    try:
        inv = raw_documents.parse_raw(data, body=source.read_all())
    except raw_documents.RawDocumentError as exc:
        raise ImportRefused(str(exc)) from exc
    if not inv.host.hostname and not inv.host.machine_id:
        raise ImportRefused("the document names no host (no host name or machine id)")
    yield inv


IMPORTER = Importer(
    NAME,
    "raw collection documents: "
    + ", ".join(raw_documents.known_schemas())
    + " (agents that send what their script printed)",
    detect,
    convert,
)
