"""Host name lookups bounded in time and in number, for runs that must never hang on a name server.

``socket.getaddrinfo`` cannot be interrupted: it returns when the system resolver does, after the
resolver's own timeout (resolv.conf's ``timeout`` x ``attempts`` x name servers: 10 s by default,
minutes when so configured), whatever budget the caller has.  A dead DNS server on a hospital
network would stall every probe and connection that names its host by name -- and, through the
lookups a run makes before it starts, its neighbours too.

``NameLookups`` asks the same system resolver (``/etc/hosts``, nsswitch and DNS exactly as every
other program on the machine), in a helper thread the caller stops waiting for when its budget is
spent: the lookup is then reported as timed out (``LookupTimeout``, a ``TimeoutError``), and the
helper thread finishes -- or not -- on its own.  It keeps its slot until then, so at most
``concurrency`` lookups are ever outstanding against the name service, whatever it does; a lookup
that finds no free slot within its budget is timed out too, without asking.  Addresses (``10.0.0.1``,
``fe80::1%eth0``) are never looked up.  Each name is looked up once per ``NameLookups`` (one run):
its answer, failure or timeout is kept and given to every later caller, so the exclusion check and
the connection use the same addresses, and an unanswered name costs its budget once.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any, Callable, Iterable, Tuple

AddrInfo = Tuple[Any, ...]  # (family, type, proto, canonname, sockaddr), as getaddrinfo gives it


class LookupTimeout(TimeoutError):
    """A host name lookup that got no answer within its time budget."""


class Lookup:
    """What one name lookup gave: ``infos`` (getaddrinfo's entries, in its order), or ``error``
    (the resolver's own failure), or ``timed_out``."""

    __slots__ = ("name", "infos", "error", "timed_out", "reason")

    def __init__(
        self,
        name: str,
        infos: tuple[AddrInfo, ...] = (),
        error: Exception | None = None,
        timed_out: bool = False,
        reason: str = "",
    ) -> None:
        self.name, self.infos, self.error, self.timed_out, self.reason = name, infos, error, timed_out, reason

    @property
    def addresses(self) -> list[str]:
        """The distinct addresses, sorted ([] when the lookup failed or timed out)."""
        return sorted({str(info[4][0]) for info in self.infos})

    def check(self) -> None:
        """Raise what the lookup ended with: ``LookupTimeout``, or (a copy of) the resolver's error."""
        if self.timed_out:
            raise LookupTimeout(self.reason)
        if self.error is not None:
            try:  # a copy: the same answer may be raised in several threads
                copy = type(self.error)(*self.error.args)
            except TypeError:
                copy = self.error
            raise copy


class _Job:
    __slots__ = ("done", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Lookup | None = None


def _numeric(name: str) -> Lookup | None:
    """An address needs no name service: its entries, computed here (AI_NUMERICHOST never asks)."""
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return None
    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except (OSError, UnicodeError) as exc:
        return Lookup(name, error=exc)
    return Lookup(name, tuple(infos))


class NameLookups:
    """The bounded, remembered name lookups of one run (see the module's docstring)."""

    def __init__(self, timeout: float, concurrency: int = 32) -> None:
        self.timeout = max(0.0, timeout)
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._known: dict[str, Lookup] = {}
        self._running: dict[str, _Job] = {}

    def lookup(self, name: str, budget: float | None = None) -> Lookup:
        """The answer for ``name`` within ``budget`` seconds (default: the run's timeout)."""
        numeric = _numeric(name)
        if numeric is not None:
            return numeric
        seconds = self.timeout if budget is None else max(0.0, min(budget, self.timeout))
        end = time.monotonic() + seconds
        key = name.lower()  # host names are case-blind (DNS, /etc/hosts): PACS-GW is pacs-gw
        with self._lock:
            known = self._known.get(key)
            if known is not None:
                return known
            job = self._running.get(key)
            owner = job is None
            if job is None:
                job = self._running[key] = _Job()
        if owner:
            self._start(name, job, end, seconds)
        if job.done.wait(max(0.0, end - time.monotonic())) and job.result is not None:
            return job.result
        return self._timed_out(name, seconds, "")

    def lookup_all(self, names: Iterable[str]) -> dict[str, Lookup]:
        """Every name's answer, at most ``concurrency`` lookups at once, each within the timeout."""
        todo = sorted(set(names))
        if not todo:
            return {}
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(todo)), thread_name_prefix="lookup") as pool:
            return dict(zip(todo, pool.map(self.lookup, todo)))

    def known(self, name: str) -> Lookup | None:
        """The answer already had for ``name`` (None when it was never looked up, or still is)."""
        with self._lock:
            return self._known.get(name.lower())

    def _start(self, name: str, job: _Job, end: float, seconds: float) -> None:
        """Start the lookup's helper thread once a slot is free; when none is within the budget, the
        lookup is timed out without asking (callers waiting on it get that timeout too)."""
        if not self._slots.acquire(timeout=max(0.0, end - time.monotonic())):
            why = f"no lookup slot free: {self.concurrency} earlier lookups are still unanswered"
            self._finish(name, job, self._timed_out(name, seconds, why))
            return
        try:
            threading.Thread(target=self._resolve, args=(name, job), name="lookup", daemon=True).start()
        except RuntimeError:  # no thread could be started: the name is not looked up now
            self._slots.release()
            self._finish(name, job, Lookup(name, error=OSError("no thread for the name lookup")))

    def _resolve(self, name: str, job: _Job) -> None:
        try:
            result = Lookup(name, tuple(socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)))
        except Exception as exc:  # noqa: BLE001 - the resolver's failure (or IDNA's) is the answer
            result = Lookup(name, error=exc)
        finally:
            self._slots.release()
        self._finish(name, job, result)

    def _finish(self, name: str, job: _Job, result: Lookup) -> None:
        with self._lock:
            self._running.pop(name.lower(), None)
            job.result = self._known.setdefault(name.lower(), result)  # a timeout already given stays given
        job.done.set()

    def _timed_out(self, name: str, seconds: float, why: str) -> Lookup:
        reason = f"name lookup of {name}: no answer within {seconds:.3g}s" + (f" ({why})" if why else "")
        with self._lock:
            return self._known.setdefault(name.lower(), Lookup(name, timed_out=True, reason=reason))


def open_connection(lookup: Lookup, port: int, timeout: Callable[[], float]) -> socket.socket:
    """``socket.create_connection`` to a looked-up name: each address in the resolver's order,
    ``timeout()`` seconds for each attempt (as create_connection: the last error is raised)."""
    lookup.check()
    error: OSError | None = None
    for family, kind, proto, _canonname, sockaddr in lookup.infos:
        sock: socket.socket | None = None
        try:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(timeout())
            sock.connect((sockaddr[0], port, *sockaddr[2:]))
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    raise error if error is not None else OSError("getaddrinfo returns an empty list")
