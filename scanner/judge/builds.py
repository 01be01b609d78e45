"""Answers derived from a package list alone, made once per distinct list (an estate is a few builds
on many hosts).  Below the store, the relational rows and the judge, which all use it."""

from __future__ import annotations

from typing import Any

from agents.inventory import Software
from agents.linux import shared as shared_record


class BuildMemo:
    """What is derived from an inventory's package list alone, made once per distinct list.

    An estate is a few builds on many hosts, and a fleet scan's package parsers hand every host with
    the same package line the same record (``agents.linux.shared``: a ``FrozenSoftware``, which
    cannot change).  So the
    tuple of the records' identities names the list: equal tuples are the very same records in the
    same order.  An entry is made only when every record is such a shared one (a host's own
    record could be edited later) and keeps the records alive, so no identity in a key can be
    reused while the entry exists.  Safe for concurrent callers: a lost race is a miss."""

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int = 256) -> None:
        self._entries: dict[tuple[int, ...], tuple[tuple[Software, ...], Any]] = {}
        self._size = size

    @staticmethod
    def key(software: list[Software]) -> tuple[int, ...]:
        return tuple(map(id, software))

    def get(self, key: tuple[int, ...]) -> Any:
        entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def put(self, key: tuple[int, ...], software: list[Software], value: Any) -> None:
        if not software or not all(map(shared_record, software)):
            return
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = (tuple(software), value)
