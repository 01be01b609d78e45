"""Keeping forked collector processes safe and visible: they die with the scan
(``die_with_parent``), find every module already imported (``import_before_fork``), write their
threads' stacks when asked (``stacks_on_request``), and the storing process reads their queue
(``ChildReader``), noticing a child that died or went silent."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import time
from typing import Any

from scanner.collect.results import Outcome, ScanSummary
from scanner.collect.wire import unpack
from scanner.store.relational import ReceivedSets
from scanner.store.sqlite import BodyEncoder

log = logging.getLogger(__name__)


def die_with_parent(parent_pid: int) -> None:
    """This forked child must not outlive the scan that started it (#19 item 8: after ``kill -9``
    of the scan its collectors used to hang for ever, holding SSH connections).  On Linux the
    kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); the check after it closes the
    race where the parent died first.  Elsewhere the child's loop watches ``os.getppid()``."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def import_before_fork() -> None:
    """Import here, on the thread that forks, what a collector process would otherwise import
    lazily.  A fork copies the module locks of imports other threads have in flight; the child
    then waits for ever on its first import of such a module (reproduced: a thread importing the
    report modules while the scan forked left paramiko half-imported in the child).  A module
    already imported is never locked again, so the child's collection needs no import lock."""
    import ctypes  # noqa: F401 - die_with_parent
    import faulthandler  # noqa: F401 - stacks_on_request
    import getpass  # noqa: F401 - executors._local_user
    from dataclasses import replace  # noqa: F401

    from agents import hardware, macos, ssh, ssh_legacy, unix  # noqa: F401 - collectors' lazy imports


STACKS_SIGNAL = "SIGUSR1"  # a collector process writes every thread's stack to stderr on it


def stacks_on_request() -> None:
    """Every host step has a timeout, so a collector process that sends nothing for long is stuck
    somewhere no timeout reaches (a library wait, a lock inherited across ``fork``).  The storing
    process then asks it for its threads' stacks (``ChildReader``): they go to stderr, where an
    operator or a CI log keeps them, instead of a silent hang.  stderr's descriptor, not
    ``sys.stderr`` (which may be a wrapper without one)."""
    import faulthandler
    import signal

    sig = getattr(signal, STACKS_SIGNAL, None)
    if sig is not None:
        try:
            faulthandler.register(sig, file=2, all_threads=True)
        except (OSError, ValueError, RuntimeError):
            pass


class ChildReader:
    """The parent's end of the collector processes' queue."""

    def __init__(
        self,
        results: Any,
        summary: ScanSummary,
        children: list[Any],
        stall_after: float = 600.0,
        encoder: BodyEncoder | None = None,
    ) -> None:
        self.results = results
        self.encoder = encoder  # the storing store's: the bodies the children encoded are handed to it
        self.summary = summary
        self.children = children
        self.ended: set[int] = set()
        self.finished = 0
        self.stall_after = stall_after
        self._last = time.monotonic()
        self._asked = False
        self.received = ReceivedSets()  # package lists the children sent in full, for hosts naming them by id

    def get(self, timeout: float) -> list[Outcome] | None:
        try:
            kind, payload = self.results.get(timeout=timeout)
        except queue.Empty:
            if self._lost_child():
                return None
            self._ask_for_stacks_if_stalled()
            raise
        self._last, self._asked = time.monotonic(), False
        if kind == "end":
            index, window_closed = payload
            self.ended.add(index)
            self.finished += 1
            if window_closed:
                self.summary.window_closed = True
            return None
        return [unpack(item, self.received, self.encoder) for item in payload]

    def _lost_child(self) -> bool:
        """A child that died without saying "end" (killed, out of memory) counts as finished, so
        the scan ends; its unfinished targets have no status and a ``--resume`` run picks them up."""
        for i, child in enumerate(self.children):
            if i not in self.ended and not child.is_alive():
                self.ended.add(i)
                self.finished += 1
                log.warning(
                    "collector process %d exited unexpectedly (exit code %s): its remaining targets "
                    "were not scanned; run again with --resume",
                    i,
                    child.exitcode,
                )
                return True
        return False

    def _ask_for_stacks_if_stalled(self) -> None:
        """Once per silence longer than ``stall_after``: warn, and have each running collector
        process write its threads' stacks to stderr (``stacks_on_request``)."""
        silent = time.monotonic() - self._last
        if self._asked or silent < self.stall_after:
            return
        self._asked = True
        import signal

        sig = getattr(signal, STACKS_SIGNAL, None)
        for i, child in enumerate(self.children):
            if i in self.ended or not child.is_alive() or child.pid is None:
                continue
            log.warning(
                "collector process %d has sent nothing for %.0f s although every host step has a timeout: "
                "it may be stuck; its threads' stacks follow on stderr (please report them)",
                i,
                silent,
            )
            if sig is not None:
                with contextlib.suppress(OSError):
                    os.kill(child.pid, sig)

    def drain_after_stop(self, remaining: int, deadline: float) -> list[Outcome]:
        """After ``stop``: every child sends what it finished, then "end"."""
        out: list[Outcome] = []
        while remaining > 0 and time.monotonic() < deadline:
            try:
                got = self.get(max(0.01, min(0.5, deadline - time.monotonic())))
            except queue.Empty:
                continue
            except Exception:  # noqa: BLE001 - a message cut by the interrupt: keep what we have
                log.debug("collector queue unreadable after the interrupt", exc_info=True)
                break
            if got is None:
                remaining -= 1
            else:
                out.extend(got)
        return out
