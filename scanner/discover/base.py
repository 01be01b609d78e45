"""What one probe learned about one service: the ``Observation``, and the bounded socket helpers.

Every probe is a function ``(target, settings) -> Observation``.  It opens at most one TCP
connection (SNMP: one UDP exchange) to the service it was given, reads what the service
announces, and closes.  Nothing here retries, logs in, or writes: a service that does not answer
within the timeout is recorded as such, never asked twice.  ``facts`` holds the service's own
words (banner, header, NTLM fields) so a later, better rule can re-judge them.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents.names import NameLookups, open_connection
from scanner.targets import Target

# A service that keeps talking (a hostile or broken one) is cut off here.
MAX_READ = 64 * 1024


class ProbeError(Exception):
    """The service did not say anything we can use (closed, refused, malformed)."""


def client_context() -> ssl.SSLContext:
    """Read-only TLS client: every version from 1.0, every cipher (old devices), no verification
    (the certificate is data here; nothing is sent that a man in the middle could use)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():  # deliberately offered: old devices speak nothing newer
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):  # a build without the old protocols: offer what it has
        pass
    return ctx


class TlsClient:
    """The TLS client context of one discovery run: made on first use (``client_context``) and
    shared by the run's probes, so a run of many HTTPS services builds it once (an ``SSLContext``
    may be used by many threads).  It belongs to the run's ``ProbeSettings`` (the copies the
    ``Discoverer`` makes with ``replace`` share it), never to a module: two runs, or a test, never
    share one."""

    __slots__ = ("_context", "_lock")

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def context(self) -> ssl.SSLContext:
        made = self._context
        if made is None:
            with self._lock:
                if self._context is None:
                    self._context = client_context()
                made = self._context
        return made


@dataclass(slots=True, frozen=True)
class ProbeSettings:
    """What every probe is allowed: its time budget, the SNMP credentials (from the
    environment or the credentials file, never the command line), and ``gate``: called before any
    connection beyond a probe's first (SMB's SMB2 retry), so that one too waits for its site's
    rate-limit token; False means the run is stopping and the connection must not be made.
    ``tls``: the run's TLS client context (one per settings made; copies share it).
    ``names``: the run's name lookups (bounded by its timeout and concurrency, each name looked up
    once); a probe called on its own looks its name up within its own budget."""

    timeout: float = 5.0
    snmp_community: str = ""
    snmp_v3: dict[str, str] = field(default_factory=dict)  # user, auth_key, auth_protocol, priv_key, priv_protocol
    gate: Callable[[], bool] | None = field(default=None, compare=False, repr=False)
    tls: TlsClient = field(default_factory=TlsClient, compare=False, repr=False)
    names: NameLookups | None = field(default=None, compare=False, repr=False)

    def may_connect_again(self) -> bool:
        return self.gate() if self.gate is not None else True

    def lookup_names(self) -> NameLookups:
        return self.names if self.names is not None else NameLookups(self.timeout)


@dataclass(slots=True)
class Observation:
    """One service on one address, as announced.  ``status``: ok | closed | timeout | error."""

    host: str
    port: int
    service: str  # ssh | smb | snmp | http | https | rdp
    status: str = "ok"
    error: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    connections: int = 0  # TCP connections (or UDP exchanges) the probe made
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "port": self.port,
            "status": self.status,
            "error": self.error,
            "facts": self.facts,
            "connections": self.connections,
        }


Probe = Callable[[Target, ProbeSettings], Observation]


class Deadline:
    """One time budget for a whole probe: connect, every read and write share it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("probe time budget exhausted")
        return remaining


def connect(host: str, port: int, deadline: Deadline, names: NameLookups | None = None) -> socket.socket:
    """One TCP connection within the probe's budget, its name lookup included (a lookup with no
    answer in time raises ``LookupTimeout``, a TimeoutError: the probe's status is "timeout")."""
    lookups = names if names is not None else NameLookups(deadline.left())
    sock = open_connection(lookups.lookup(host, deadline.left()), port, deadline.left)
    sock.settimeout(deadline.left())
    return sock


def recv_exact(sock: socket.socket, n: int, deadline: Deadline) -> bytes:
    """Exactly ``n`` bytes (bounded by MAX_READ and the deadline), or ProbeError on close."""
    if n > MAX_READ:
        raise ProbeError(f"service announced a {n}-byte message (limit {MAX_READ})")
    buf = bytearray()
    while len(buf) < n:
        sock.settimeout(deadline.left())
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProbeError("connection closed by the service")
        buf += chunk
    return bytes(buf)


def recv_line(sock: socket.socket, deadline: Deadline, limit: int = 1024) -> bytes:
    """Bytes up to and including the first LF (at most ``limit``)."""
    buf = bytearray()
    while not buf.endswith(b"\n"):
        if len(buf) >= limit:
            break
        sock.settimeout(deadline.left())
        chunk = sock.recv(1)
        if not chunk:
            if buf:
                break
            raise ProbeError("connection closed by the service")
        buf += chunk
    return bytes(buf)


# What the network (not the device) says when there is no such host: only these make an address
# "unreachable" and spare its other services.  A TLS failure (ssl.SSLError is an OSError too), a
# reset or a broken pipe mean the device answered: "error", and its other services are still probed.
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN})


def classify(exc: BaseException) -> str:
    """The Observation status for a probe failure."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "closed"
    if isinstance(exc, socket.gaierror):
        return "unreachable"  # the name does not resolve: nothing to contact
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and exc.errno in _UNREACHABLE:
        return "unreachable"
    return "error"


def run_probe(
    service: str, target: Target, settings: ProbeSettings, body: Callable[[Deadline, Observation], None]
) -> Observation:
    """Shared wrapper: time budget, status from the exception, never raises."""
    obs = Observation(host=target.host, port=target.port, service=service)
    start = time.monotonic()
    try:
        body(Deadline(settings.timeout), obs)
    except Exception as exc:  # noqa: BLE001 - every failure is data about this service
        obs.status = classify(exc)
        obs.error = f"{type(exc).__name__}: {exc}"[:300]
    obs.seconds = round(time.monotonic() - start, 3)
    return obs


def printable(raw: bytes, limit: int = 512) -> str:
    """Announced bytes as text: ASCII-safe, control characters dropped, bounded."""
    text = raw[:limit].decode("utf-8", "replace")
    return "".join(c for c in text if c.isprintable()).strip()
