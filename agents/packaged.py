"""A value made once from what the installed package ships: the one kind of module-level memo that
``agents/`` and ``scanner/`` keep.

A bundled rules file, the collection script, the digest of the bundled rules: files inside the
installed package, which do not change while a process runs.  ``Packaged(read)`` calls ``read``
(no arguments: no input of any run can reach it) the first time its value is asked for, and hands
out that value ever after, so reading once per process answers exactly as reading on every call
would.  The value must be immutable (a string, a frozen dataclass, tuples).

Everything else a run remembers - records, answers about its inputs, encodings, connections - is an
object that run owns and passes along (an import run's ``ImportRun``, a discovery run's
``ProbeSettings.tls``, a fleet scan's ``PackageMemo``, a store's ``BodyEncoder``...):
``tests/unit/test_stateless_parsers.py`` refuses any other module-level memo in these packages.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar, cast

T = TypeVar("T")


class Packaged(Generic[T]):
    """``read()``'s value, read on first use (once, whatever the threads) and kept."""

    __slots__ = ("_lock", "_read", "_read_yet", "_value")

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._read_yet = False
        self._value: object = None

    def get(self) -> T:
        if not self._read_yet:
            with self._lock:
                if not self._read_yet:
                    self._value = self._read()
                    self._read_yet = True
        return cast("T", self._value)
