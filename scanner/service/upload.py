"""An agent's upload, from request body to a validated inventory in its stored form.

``accept_upload`` is the collector service's one validator.  The document's header (host, OS,
hardware, collector, problems: a handful of objects) goes through ``Inventory.from_dict``, while the
package records - 300 to 1,500 per workstation, nearly all plain strings - are checked as the
parsed JSON they are and written back as JSON, never built as ``Software`` objects.  Building and
re-encoding them was about two thirds of the service's CPU per upload.  Any record that is not
plain (a number where a string belongs, a null, an unknown key, a ``collapsed`` list...) goes
through the same ``_build`` as ``from_dict``, so its acceptance, its error message and its stored
form are the model's.

The tests hold it to the model's own reading of the whole document (``tests/upload_reference.py``:
``Inventory.from_dict`` builds every object): ``tests/unit/test_upload_paths.py`` (real captures,
every odd shape of a package record, hostile documents) and the fuzz tests.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable
from dataclasses import fields
from itertools import chain, repeat
from typing import Any

from agents.inventory import MAX_SOFTWARE, MAX_STRING, Inventory, InventoryError, Software, _build
from agents.wire import _compact
from scanner.privacy import KEEP, Privacy
from scanner.service.raw_documents import RawDocumentError, parse_raw, schema_of
from scanner.store.enrolment import TokenInfo
from scanner.store.sqlite import EncodedInventory, encode_with_software

try:  # several times faster than json on both sides; it refuses lone surrogates, NaN and huge ints
    import orjson

    def _loads(body: bytes) -> Any:
        return orjson.loads(body)

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - orjson is a declared dependency; json is the fallback

    def _loads(body: bytes) -> Any:
        return json.loads(body)

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Refused(Exception):
    """A request refused with an HTTP status and a reason for the agent's log."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


# Package fields by JSON type, from the dataclass itself (a new field of another type simply takes
# the reference path).
_STR_FIELDS = frozenset(f.name for f in fields(Software) if str(f.type) == "str")
_BOOL_FIELDS = frozenset(f.name for f in fields(Software) if str(f.type) == "bool | None")
_PLAIN_FIELDS = _STR_FIELDS | _BOOL_FIELDS
_REQUIRED = "name"  # the one field without a default (the compact form always writes it)
_has_name: Callable[[dict[str, Any], str], bool] = operator.contains


# Work per upload is bounded before the document is parsed: every JSON value or key but the first
# follows one of these bytes, so their count bounds the objects a parser would build (an
# overestimate when strings contain them, never an underestimate).  A real workstation's
# document has 10-100 thousand; 30 KiB of gzip can otherwise inflate to ten million empty
# objects (1.6 GB of Python objects, a 38 s stall).
MAX_JSON_NODES = 600_000
_NODE_BYTES = (b",", b":", b"[", b"{")


def check_size(body: bytes) -> None:
    """Refuse (413, naming the limit) a document that would build more than MAX_JSON_NODES values."""
    if len(body) < MAX_JSON_NODES:  # each counted byte is one byte of the body: nothing to count
        return
    nodes = 1 + sum(map(body.count, _NODE_BYTES))
    if nodes > MAX_JSON_NODES:
        raise Refused(
            413, f"document has up to {nodes} JSON values and keys, over the limit of {MAX_JSON_NODES} per upload"
        )


def check_collected_at(value: str, now: dt.datetime, max_skew: dt.timedelta) -> None:
    """Refuse (422) an upload whose ``collected_at`` is not an ISO 8601 UTC time no later than the
    service's ``now`` plus ``max_skew``.

    Why: the latest inventory of a host is the one collected last, so a far-future time would stay
    "latest" for ever and no genuine upload could replace it.  ``now`` is the caller's (the
    service's clock, injected at its composition root).
    """
    if not value:
        raise Refused(422, "collected_at: required for uploads (ISO 8601 UTC, e.g. 2026-11-30T08:00:00Z)")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or "T" not in text.upper() or moment.utcoffset() != dt.timedelta(0):
        raise Refused(422, f"collected_at: {value[:40]!r} is not an ISO 8601 UTC time (e.g. 2026-11-30T08:00:00Z)")
    if moment > now + max_skew:
        raise Refused(
            422,
            f"collected_at: {value[:40]!r} is later than the collector's clock "
            f"({now.strftime('%Y-%m-%dT%H:%M:%SZ')}) by more than {int(max_skew.total_seconds())} s; "
            "check this machine's clock",
        )


def _decode(body: bytes) -> dict[str, Any]:
    check_size(body)
    try:
        data: Any = _loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, f"body is not valid JSON: {str(exc)[:200]}") from exc
    except RecursionError as exc:
        raise Refused(400, "body is not acceptable JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        try:  # the stdlib parser's verdict: orjson also accepts nesting json refuses (a "JSON bomb")
            json.loads(body)
        except RecursionError as exc:
            raise Refused(400, "body is not acceptable JSON: nested too deeply") from exc
        except (ValueError, UnicodeDecodeError):
            pass
        raise Refused(422, "inventory must be a JSON object")
    if schema_of(data) is not None:
        return data  # a raw collection document (scanner.service.raw_documents): its id may be derived
    inventory_id = data.get("inventory_id")
    if not isinstance(inventory_id, str) or not inventory_id.strip():
        raise Refused(422, "inventory_id: required for uploads (it makes retries idempotent)")
    return data


def _from_token(inv: Inventory, token: TokenInfo) -> None:
    inv.host.site = token.site  # the token decides the site, never the payload
    inv.host.address = ""
    inv.collector.transport = "agent"


def _raw(data: dict[str, Any], body: bytes) -> Inventory:
    """A raw collection document (``windows-collect/1``...) parsed by its registered parser, then
    validated as any upload is (the round trip applies every Inventory limit)."""
    try:
        return Inventory.from_dict(parse_raw(data, body=body).to_dict())
    except (RawDocumentError, InventoryError) as exc:
        raise Refused(422, str(exc)[:500]) from exc
    except RecursionError as exc:
        raise Refused(422, "document nested too deeply") from exc


def _plain_string_values(records: list[Any]) -> list[str] | None:
    """Every value of every record when all records are objects of known string fields with a
    name and every value is a string within the length limit (the usual upload: Linux and macOS
    packages); None otherwise.  C-level passes over the whole list instead of a Python loop per
    value (``dict.values`` refuses a record that is not an object, ``str.join`` a value that is
    not a string)."""
    try:
        values = list(chain.from_iterable(map(dict.values, records)))
        "".join(values)
    except TypeError:
        return None
    if not set().union(*records) <= _STR_FIELDS or not all(map(_has_name, records, repeat(_REQUIRED))):
        return None
    if max(map(len, values), default=0) > MAX_STRING:
        return None
    return values


def _without_defaults(record: dict[str, Any]) -> dict[str, Any]:
    """The compact form of a plain record: empty strings are defaults (the name is always kept)."""
    if "" not in record.values():
        return record
    return {k: v for k, v in record.items() if v != "" or k == _REQUIRED}


def _record(raw: Any, index: int) -> dict[str, Any]:
    """One package record in the compact form, or InventoryError exactly as ``from_dict`` says it."""
    if raw.__class__ is dict and raw.keys() <= _PLAIN_FIELDS and _REQUIRED in raw:
        for key, value in raw.items():
            kind = value.__class__
            if kind is str:
                if len(value) > MAX_STRING or key in _BOOL_FIELDS:
                    break
            elif kind is not bool or key not in _BOOL_FIELDS:
                break
        else:
            return _without_defaults(raw)
    return _compact(_build(Software, raw, f"software[{index}]"))


def _software(raw: Any) -> list[dict[str, Any]]:
    values = _plain_string_values(raw)
    if values is not None:
        return [_without_defaults(r) for r in raw] if "" in values else raw
    return [_record(r, i) for i, r in enumerate(raw)]


def _header(data: dict[str, Any], records: Any) -> Inventory:
    """The document without its package records, as the model reads it.  A refusal names the
    error the model's reading of the whole document meets first: it reads the package records
    before ``collected_at``, ``collector`` and ``problems``, so when the header is refused the
    whole document is read again (refusals only) to say the same first error."""
    try:
        return Inventory.from_dict({**data, "software": None})
    except InventoryError:
        if records:
            Inventory.from_dict(data)  # raises the model's first error (a package record's, or the same)
        raise


def accept_upload(body: bytes, token: TokenInfo, privacy: Privacy = KEEP) -> EncodedInventory:
    """Validate an upload into its stored form filed under the token's site, or raise Refused (4xx);
    ``privacy`` (the [privacy] setting) hashes or drops its serial and user SIDs.  The package
    records are checked as parsed JSON, never built as objects (see the module's docstring)."""
    data = _decode(body)
    if schema_of(data) is not None:  # raw documents are rare (Windows PCs without Python): reference path
        raw = _raw(data, body)
        data = raw.to_dict()
    records = data.get("software")
    try:
        if records is not None and (records.__class__ is not list or len(records) > MAX_SOFTWARE):
            Inventory.from_dict(data)  # raises the reference's error for the list itself
            raise InventoryError("software: not acceptable")  # pragma: no cover - from_dict raised
        header = _header(data, records)
        software = _software(records) if records else []
    except InventoryError as exc:
        raise Refused(422, str(exc)[:500]) from exc
    except RecursionError as exc:
        raise Refused(422, "document nested too deeply") from exc
    _from_token(header, token)
    if privacy.active:
        privacy.apply(header)
        software = privacy.apply_records(software)
    try:
        stored = encode_with_software(header, _dumps(software))
    except (TypeError, ValueError) as exc:  # json fallback: a lone surrogate cannot be stored as UTF-8
        raise Refused(400, f"body is not acceptable JSON: {str(exc)[:200]}") from exc
    return EncodedInventory(
        header.inventory_id, header.host, header.os, header.collector, header.collected_at, len(software), stored
    )
