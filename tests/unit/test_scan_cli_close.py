"""``legacyscan scan --targets`` closes its store on a thread of its own while the report is made
(closing SQLite checkpoints the write-ahead log: disk writes and an fsync) and waits for it before
returning: a failed close is still the command's error, never lost."""

from __future__ import annotations

import threading

import pytest

from scanner.cli.scan import BackgroundClose
from scanner.store.sqlite import StoreError


class _Store:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.closed_on: str | None = None
        self.release = threading.Event()

    def close(self) -> None:
        self.release.wait(5)
        self.closed_on = threading.current_thread().name
        if self.error is not None:
            raise self.error


def test_the_store_closes_beside_the_caller_and_wait_joins_it() -> None:
    store = _Store()
    closing = BackgroundClose(store)
    assert store.closed_on is None  # still closing: the caller goes on meanwhile
    store.release.set()
    closing.wait()
    assert store.closed_on == "close-store"


def test_a_failed_close_is_raised_by_wait_unless_another_error_is_on_its_way() -> None:
    store = _Store(StoreError("cannot save inventory: disk I/O error", unavailable=True))
    store.release.set()
    closing = BackgroundClose(store)
    with pytest.raises(StoreError, match="disk I/O error"):
        closing.wait()
    closing.wait(quiet=True)  # the report's own error is the one to see
