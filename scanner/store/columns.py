"""What every value goes through at the store boundary, for both backends and for their callers:
a host's identity key, text a column can hold, and the length an indexed column can hold.

Below ``scanner.store.sqlite`` (which re-exports these names): judging and matching need a host's key and
an indexed column's form without depending on the store that holds them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from agents.inventory import Host


class HasHost(Protocol):
    """What ``host_key`` reads: an Inventory, or an upload already encoded (``EncodedInventory``)."""

    @property
    def host(self) -> Host: ...


def host_key(inv: HasHost) -> str:
    """Stable identity of a host across scans: its machine id (hostname as a last resort)."""
    return inv.host.machine_id or f"name:{inv.host.hostname.lower()}"


# -- text at the store boundary ------------------------------------------------------------------
#
# PostgreSQL refuses a NUL in any text value (SQLite keeps it), and a lone surrogate (undecodable
# host output) cannot be encoded as UTF-8 at all.  Both are neutralised here, where every path
# (uploads, imports, scans) meets the store, identically for both backends: each NUL becomes
# U+FFFD and each lone surrogate "?" - in the indexed columns and in the stored document itself.
# One odd string from one host must never fail the batch that holds it.

NUL_REPLACEMENT = "\ufffd"


def text_column(value: str) -> str:
    """``value`` as both backends can store it in a text column (NUL and lone surrogates replaced)."""
    if "\x00" in value:
        value = value.replace("\x00", NUL_REPLACEMENT)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


# PostgreSQL refuses a B-tree index entry over 2,704 bytes (SQLite has no such limit): a value in an
# indexed column is kept to INDEXED_MAX characters (4 bytes each at most in UTF-8; two such columns
# share an index), a longer one cut with a hash of the whole so distinct values stay distinct.  Only
# absurd values (a 4,096-character machine id or site from a file) are affected; the stored document
# keeps every character.
INDEXED_MAX = 250
COLLECTED_AT_MAX = 64


def indexed(value: str, limit: int = INDEXED_MAX) -> str:
    """``text_column(value)`` within ``limit`` characters, for the indexed columns of both backends."""
    value = text_column(value)
    if len(value) <= limit:
        return value
    if limit < 2 * 65:  # too short to carry a hash (collected_at): cut
        return value[:limit]
    return value[: limit - 65] + "#" + hashlib.sha256(value.encode("utf-8")).hexdigest()
