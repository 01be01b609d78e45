"""One deadline thread per process: calls a callback when a deadline passes unless cancelled first.

Why: a few of paramiko's waits have no timeout at all -- ``Channel.exec_command`` waits for the
server's answer to the exec request with ``Event.wait()``, and ``sendall`` waits for window space
for as long as the channel's timeout says (none by default).  A server that accepts the session
but never answers the request (a wedged sshd, an embedded SSH server, a middlebox holding the
connection) would hold that host's worker -- and, with it, the whole scan -- for ever.  Every
command gets a deadline here; when it passes, the callback closes the channel, which releases
every wait on it, and the command reports a timeout.

One thread serves every deadline of the process (a heap), so a fleet scan pays no thread start per
command.  The thread is started lazily and again after a ``fork`` (a forked collector process
inherits the heap but not the thread).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from typing import Callable, Tuple

_Entry = Tuple[float, int, Callable[[], None]]


class Watchdog:
    """Deadlines on the monotonic clock.  ``schedule`` returns a handle for ``cancel``."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._live: set[int] = set()  # scheduled, neither fired nor cancelled
        self._ids = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def schedule(self, seconds: float, callback: Callable[[], None]) -> int:
        """Run ``callback`` (in the watchdog thread) ``seconds`` from now unless cancelled."""
        handle = next(self._ids)
        with self._cv:
            self._ensure_thread()
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, seconds), handle, callback))
            self._live.add(handle)
            self._cv.notify()
        return handle

    def cancel(self, handle: int) -> None:
        """The callback will not run (harmless once it has).  Its heap entry leaves at its deadline."""
        with self._cv:
            self._live.discard(handle)

    def pending(self) -> int:
        """Deadlines neither fired nor cancelled (for tests and diagnostics)."""
        with self._cv:
            return len(self._live)

    def _ensure_thread(self) -> None:
        # Called with the condition held.  After a fork the thread object says "alive" for a thread
        # that does not exist in this process: the pid tells.
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="legacyscan-watchdog", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                while True:
                    while self._heap and self._heap[0][1] not in self._live:
                        heapq.heappop(self._heap)  # cancelled
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, handle, callback = heapq.heappop(self._heap)
                        self._live.discard(handle)
                        break
                    self._cv.wait(None if not self._heap else self._heap[0][0] - now)
            try:
                callback()
            except Exception:  # noqa: BLE001, S110 - a failing callback must not stop the other deadlines
                pass


WATCHDOG = Watchdog()
