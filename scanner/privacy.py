"""Privacy by design at ingest: hash or drop hardware serial numbers and per-user SIDs.

Why at ingest and not in reports: UK GDPR's data-minimisation and storage-limitation principles
are about what is *kept*.  A serial number can be tied to the person a laptop is issued to, and a
per-user SID (the hive a per-user application was found in) identifies a Windows account, so a
trust may decide not to store either.  The setting lives in ``legacyscan.toml``::

    [privacy]
    serials = "keep" | "hash" | "drop"     # hardware.serial
    user_sids = "keep" | "hash" | "drop"   # software[].sid and the SID inside software[].key
    hash_key_file = "/etc/legacyscan/privacy.key"   # required by "hash"

and is applied on every ingest path before anything is stored: agent uploads (``legacyscan serve``,
both the fast and the reference path), ``legacyscan import`` and ``legacyscan scan`` (local and
fleet; in the collector process, before the stored form is made).

"hash" is a keyed hash (HMAC-SHA-256 with a secret the trust keeps outside the database): the same
serial or SID gives the same pseudonym on every ingest (so "this device moved site", "this user
profile has 3 per-user apps" still work), but without the key nobody can test a guessed serial
against it, as they could against a plain SHA-256 of a vendor serial.  The ICO treats keyed hashing
as pseudonymisation: the output is still personal data while the key exists, which docs/privacy.md
says.  "drop" stores nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.inventory import Inventory, Software
from scanner.files import FileRefused, read_regular_bytes

MODES = ("keep", "hash", "drop")
KEYS = {"serials", "user_sids", "hash_key_file"}
MIN_KEY_BYTES = 32
MAX_KEY_BYTES = 4096
HASH_PREFIX = "hmac-sha256:"
HASH_HEX = 32  # 128 bits of the MAC: collisions are not a concern at estate sizes
DROPPED_SID = "user"  # what a dropped SID leaves inside a registry key path (HKU\user\Software\...)

# A Windows account SID (domain or local user S-1-5-21-..., Entra ID S-1-12-1-...): the only SIDs
# the Windows collector records (agents/windows_collect.ps1 reads those hives only).
SID = re.compile(r"S-1-(?:5-21|12-1)(?:-\d+)+", re.IGNORECASE)
_HASHED = re.compile(r"hmac-sha256:[0-9a-f]{32}\Z")  # already a pseudonym (a re-import): kept as is


class PrivacyConfigError(ValueError):
    """The [privacy] table is wrong; the message names the file and the key."""


@dataclass(slots=True, frozen=True)
class Privacy:
    """What to do with serials and user SIDs; ``key`` is the HMAC secret ("hash" only).

    ``repr`` never shows the key (it may end up in a log line or a traceback)."""

    serials: str = "keep"
    user_sids: str = "keep"
    key: bytes = b""
    source: str = ""  # the config file it came from ("" = defaults)

    def __repr__(self) -> str:
        return f"Privacy(serials={self.serials!r}, user_sids={self.user_sids!r}, source={self.source!r})"

    @property
    def active(self) -> bool:
        return self.serials != "keep" or self.user_sids != "keep"

    def settings(self) -> dict[str, str]:
        """The modes, for the evidence and the collector's environment (never the key)."""
        return {"serials": self.serials, "user_sids": self.user_sids}

    # -- the transforms ------------------------------------------------------------------------

    def pseudonym(self, kind: str, value: str) -> str:
        """``hmac-sha256:<32 hex>`` of ``value``, domain-separated by ``kind`` (a serial and a SID
        with the same text never share a pseudonym)."""
        mac = hmac.new(self.key, f"{kind}\x00{value}".encode("utf-8", "surrogatepass"), hashlib.sha256)
        return HASH_PREFIX + mac.hexdigest()[:HASH_HEX]

    def serial(self, value: str) -> str:
        if not value or self.serials == "keep" or _HASHED.match(value):
            return value
        return "" if self.serials == "drop" else self.pseudonym("serial", value)

    def sid(self, value: str) -> str:
        if not value or self.user_sids == "keep" or _HASHED.match(value):
            return value
        return "" if self.user_sids == "drop" else self.pseudonym("sid", value.upper())

    def key_path(self, value: str) -> str:
        """A registry key path with any user SID in it replaced (``HKU\\S-1-5-21-...\\Software``)."""
        if self.user_sids == "keep" or "S-1-" not in value.upper():
            return value
        if self.user_sids == "drop":
            return SID.sub(DROPPED_SID, value)
        return SID.sub(lambda m: self.pseudonym("sid", m.group(0).upper()), value)

    def apply(self, inv: Inventory) -> Inventory:
        """``inv`` with its serial and user SIDs treated, in place (and returned).  Package records
        may be shared between inventories (``agents.linux.shared``: they cannot change), so a
        changed record is replaced by a copy, never edited."""
        if not self.active:
            return inv
        inv.hardware.serial = self.serial(inv.hardware.serial)
        if self.user_sids != "keep" and inv.software:
            inv.software = [self._software(sw) for sw in inv.software]
        return inv

    def _software(self, sw: Software) -> Software:
        if not sw.sid and "S-1-" not in sw.key.upper():
            return sw
        sid, key = self.sid(sw.sid), self.key_path(sw.key)
        if sid == sw.sid and key == sw.key:
            return sw
        return replace(sw, sid=sid, key=key)

    def apply_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The same for package records as parsed JSON (the collector's fast upload path): changed
        records are copied, the list is new only when something changed."""
        if self.user_sids == "keep":
            return records
        out: list[dict[str, Any]] | None = None
        for i, rec in enumerate(records):
            sid, key = rec.get("sid"), rec.get("key")
            if not (isinstance(sid, str) and sid) and not (isinstance(key, str) and "S-1-" in key.upper()):
                continue
            new = dict(rec)
            if isinstance(sid, str) and sid:
                new["sid"] = self.sid(sid)
                if not new["sid"]:
                    del new["sid"]  # the compact form leaves defaults out
            if isinstance(key, str):
                new["key"] = self.key_path(key)
            if out is None:
                out = list(records)
            out[i] = new
        return records if out is None else out


KEEP = Privacy()


def from_table(table: Any, source: str = "config", base: Path | None = None) -> Privacy:
    """The ``[privacy]`` table of ``legacyscan.toml`` (already parsed), validated."""
    if table is None:
        return Privacy(source=source)
    if not isinstance(table, Mapping):
        raise PrivacyConfigError(f"{source}: [privacy] must be a table")
    unknown = set(table) - KEYS
    if unknown:
        raise PrivacyConfigError(
            f"{source}: [privacy] unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            f"known: {', '.join(sorted(KEYS))}"
        )
    modes: dict[str, str] = {}
    for name in ("serials", "user_sids"):
        value = table.get(name, "keep")
        if value not in MODES:
            raise PrivacyConfigError(f"{source}: [privacy] {name}: expected one of {', '.join(MODES)}, got {value!r}")
        modes[name] = value
    key = b""
    key_file = table.get("hash_key_file")
    if "hash" in modes.values():
        if not isinstance(key_file, str) or not key_file:
            raise PrivacyConfigError(
                f"{source}: [privacy] hash_key_file: required when serials or user_sids is "
                '"hash" (a file of at least 32 random bytes, e.g. '
                "`head -c 32 /dev/urandom > privacy.key; chmod 600 privacy.key`)"
            )
        key = read_key(Path(base, key_file) if base is not None else Path(key_file), source)
    elif key_file is not None and not isinstance(key_file, str):
        raise PrivacyConfigError(f"{source}: [privacy] hash_key_file: expected a path")
    return Privacy(serials=modes["serials"], user_sids=modes["user_sids"], key=key, source=source)


def read_key(path: Path, source: str) -> bytes:
    """The HMAC key: a regular file of ``MIN_KEY_BYTES``..``MAX_KEY_BYTES`` (its bytes, as they are)."""
    try:
        data = read_regular_bytes(path, limit=MAX_KEY_BYTES, what="privacy key file")
    except FileRefused as exc:
        raise PrivacyConfigError(f"{source}: [privacy] hash_key_file: {exc}") from exc
    if len(data) < MIN_KEY_BYTES:
        raise PrivacyConfigError(
            f"{source}: [privacy] hash_key_file: {path} holds {len(data)} bytes; at least "
            f"{MIN_KEY_BYTES} random bytes are needed"
        )
    return data


def load(path: str | Path | None) -> Privacy:
    """The ``[privacy]`` table of ``path`` (``None``: ``legacyscan.toml`` here when present).

    A relative ``hash_key_file`` is relative to the config file's folder."""
    from scanner.files import loads_toml, read_regular_text
    from scanner.plan.config import DEFAULT_CONFIG_NAME

    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return KEEP
        path = default
    p = Path(path)
    try:
        data = loads_toml(read_regular_text(p, what="config file"))
    except FileRefused as exc:
        raise PrivacyConfigError(str(exc)) from exc
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise PrivacyConfigError(f"{p}: not valid TOML: {exc}") from exc
    return from_table(data.get("privacy"), str(p), p.parent)
