"""Fleet scanning: many targets, bounded concurrency, per-host status, progress, clean interruption.

Shape: worker threads connect and collect (the work is network-bound; paramiko releases the GIL
while waiting), and ONE consumer -- the calling thread -- stores results in batches, records each
host's status and reports progress.  One writer keeps SQLite (and a PostgreSQL connection) simple
and makes Ctrl-C safe: whatever reached the consumer is committed, nothing half-written.

Rules this engine keeps (from real sshd behaviour and from what operators of hospital estates ask):

* at most ``HOST_SESSIONS`` connections to one SSH server (address and port) at a time (sshd's MaxStartups drops
  connections past 10 unauthenticated ones), however the target list repeats it;
* a failed scan never replaces a host's last good inventory: failures only record a status
  (ok / partial / unreachable / auth-failed / host-key-mismatch / host-key-unknown /
  negotiation-failed / timeout / powershell-missing / error)
  with the error text; an interrupted host records nothing;
* ``resume``: targets whose last status is ok/partial newer than the given age are skipped;
* ``window``: new hosts are only started inside the scan window (e.g. 19:00-07:00, outside
  clinical hours); when it closes, in-flight hosts finish and the rest waits for ``--resume``;
* ``site_rate``: at most N new connections per second per site (a slow WAN link to a satellite
  site is not flooded).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import operator
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from itertools import starmap
from typing import IO, TYPE_CHECKING, Any, Protocol

from agents.collect import Collector, iso
from agents.inventory import Inventory, Software
from agents.shell import ShellError, ShellTimeout
from scanner.privacy import KEEP, Privacy
from scanner.relational import ReceivedSets, SentSets
from scanner.store import (
    EncodedInventory,
    HostStatus,
    Storable,
    Store,
    encode_body,
    encode_checked,
    host_key,
    pre_encoded,
)
from scanner.targets import Target

if TYPE_CHECKING:  # paramiko is imported only when an SSH target is scanned
    from agents.ssh import SshShell

log = logging.getLogger(__name__)

HOST_SESSIONS = 4
STATUS_OK, STATUS_PARTIAL = "ok", "partial"
POWERSHELL_MISSING = "powershell-missing"  # a Windows host reached by WinRM that cannot run PowerShell

# One round trip answers a Unix host completely: ``Collector.collect`` has the SSH shell preload the
# batched rows of the probe table (agents/probes.py).  Over SSH the dpkg database is read through a
# filter (its ``grep``: ~77 KB of its ~750 KB) and dpkg-query only runs where that database is
# unreadable (its ``unless_readable``): the same facts for a sixth of dpkg-query's CPU on the host.


def default_concurrency() -> int:
    """Sized for the machine: the SSH client is CPU-bound at about one core per process (GIL), and
    measured throughput peaks at 64 threads (32 per core); more only adds latency.  Capped by open files."""
    cpus = os.cpu_count() or 2
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        fd_cap = max(4, (soft - 64) // 2) if soft > 0 else 256
    except (ImportError, ValueError, OSError):
        fd_cap = 256
    return max(4, min(64, 32 * cpus, fd_cap))


# Below this many targets one process is enough (a fork costs more than it saves), and a scan stays
# in one process whenever a feature needs state shared by every connection (see ``_process_count``).
PROCESS_MIN_TARGETS = 200
GC_YOUNG_THRESHOLD = 50_000  # allocations between young-generation collections during a scan


def default_processes(targets: int) -> int:
    """One collector process per core for a large fleet: the SSH client (key exchange, ciphers,
    paramiko's packet loop) costs ~4 ms CPU per host and holds the GIL for it, so one process tops
    out at about one core; each extra process adds a core's worth of hosts per second."""
    forced = os.environ.get("LEGACYSCAN_SCAN_PROCESSES", "").strip()
    if forced.isdecimal() and int(forced) > 0:  # an operator's (or a test run's) explicit choice
        return int(forced)
    cpus = os.cpu_count() or 1
    return cpus if cpus > 1 and targets >= PROCESS_MIN_TARGETS else 1


# -- configuration -------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ScanWindow:
    """A daily window in local time, e.g. 19:00-07:00 (may wrap past midnight)."""

    start: dtime
    end: dtime

    @classmethod
    def parse(cls, text: str) -> ScanWindow:
        try:
            a, b = text.split("-", 1)
            return cls(dtime.fromisoformat(a.strip()), dtime.fromisoformat(b.strip()))
        except ValueError as exc:
            raise ValueError(f"scan window {text!r} is not HH:MM-HH:MM (e.g. 19:00-07:00)") from exc

    def contains(self, moment: datetime) -> bool:
        t = moment.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(slots=True)
class ScanConfig:
    concurrency: int = field(default_factory=default_concurrency)
    timeout: float = 120.0  # per command
    connect_timeout: float = 10.0
    ssh_user: str = ""
    ssh_key: str | None = None
    known_hosts: str | None = None
    accept_new_host_keys: bool = False
    ssh_legacy: bool = False  # --ssh-legacy: SHA-1 kex, ssh-rsa/ssh-dss, CBC, hmac-sha1 for every SSH target
    credentials: str | None = None  # TOML credentials file (mode 0600) for WinRM targets
    use_agent: bool = True
    resume: timedelta | None = None
    window: ScanWindow | None = None
    site_rate: float | None = None  # new connections per second per site
    max_sessions: int = 3  # channels per connection
    processes: int = 0  # collector processes: 0 = sized for the machine and the fleet, 1 = threads only
    privacy: Privacy = KEEP  # [privacy]: serials and user SIDs hashed or dropped where collected
    ssh_key_loaded: Any = None  # ``ssh_key`` as the CLI already loaded and checked it: loaded once per scan


@dataclass(slots=True)
class Outcome:
    """One target's result.  ``inventory`` is an ``EncodedInventory`` (stored form only) when it
    crossed from a collector process that was told nobody needs the objects; ``note`` is then what
    the scan's observer made of it there."""

    target: Target
    status: str
    error: str = ""
    inventory: Storable | None = None
    seconds: float = 0.0
    note: Any = None


class InventoryObserver(Protocol):
    """Looks at every collected inventory (e.g. matches it and keeps counts) without the scan having
    to hold the inventories.

    ``observe`` runs where the inventory was collected -- in a collector process during a large
    scan, so that work is spread over the cores -- and returns a small picklable note;
    ``merge`` runs in the storing process, once per stored inventory, in storing order."""

    def observe(self, inv: Inventory) -> Any: ...

    def merge(self, note: Any) -> None: ...


@dataclass(slots=True)
class ScanSummary:
    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    window_closed: bool = False
    seconds: float = 0.0
    inventories: list[Inventory] = field(default_factory=list)
    statuses: list[HostStatus] = field(default_factory=list)


# -- transports --------------------------------------------------------------------------------


class SshConnector:
    """Everything shared by all SSH connections of one scan: credentials, host keys, jump hosts."""

    def __init__(self, config: ScanConfig) -> None:
        from agents.ssh import JumpHosts, KnownHosts, SshCredentials, SshOptions

        # paramiko logs a traceback for every expected failure (a hung host, a refused key); each
        # one is already reported as that host's status, so only its critical messages stay.
        if not log.isEnabledFor(logging.DEBUG):
            logging.getLogger("paramiko").setLevel(logging.CRITICAL)

        default_kh = os.path.expanduser("~/.ssh/known_hosts")
        self.known_hosts = KnownHosts(config.known_hosts or default_kh)
        self.creds = SshCredentials.load(
            config.ssh_user or _local_user(),
            config.ssh_key,
            use_agent=config.use_agent,
            loaded=config.ssh_key_loaded,
        )
        self.options = SshOptions(
            connect_timeout=config.connect_timeout,
            auth_timeout=config.connect_timeout,
            command_timeout=config.timeout,
            max_sessions=config.max_sessions,
            accept_new=config.accept_new_host_keys,
            legacy=config.ssh_legacy,
        )
        self.jumps = JumpHosts(self.creds, self.known_hosts, self.options)

    def open(self, target: Target) -> SshShell:
        from dataclasses import replace as dc_replace

        from agents.ssh import SshShell

        creds = (
            self.creds
            if not target.user or target.user == self.creds.user
            else dc_replace(self.creds, user=target.user)
        )
        via = None
        if target.jump:
            user, host, port = _split_jump(target.jump)
            via = self.jumps.get(host, port, user or creds.user)
        return SshShell(
            target.host,
            target.port,
            creds=creds,
            known_hosts=self.known_hosts,
            options=self.options
            if not target.ssh_legacy or self.options.legacy
            else dc_replace(self.options, legacy=True),
            jump=via,
        )

    def close(self) -> None:
        self.jumps.close()


def _split_jump(spec: str) -> tuple[str, str, int]:
    """``[user@]host[:port]`` (``[v6]:port`` too) -> (user, host, port)."""
    user, _, host = spec.rpartition("@")
    if host.startswith("["):
        h, _, rest = host[1:].partition("]")
        return user, h, int(rest.lstrip(":") or 22)
    if host.count(":") == 1:
        h, _, p = host.partition(":")
        return user, h, int(p)
    return user, host, 22


def _local_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "root"


def collect_ssh(shell: SshShell, target: Target, timeout: float) -> Inventory:
    """The shared Collector over the SSH session (it preloads the probe table in one round trip)."""
    return Collector(
        shell,
        site=target.site,
        tags=list(target.tags),
        address=target.host,
        command_timeout=timeout,
        endpoint=ssh_endpoint(shell, target),
    ).collect()


def ssh_endpoint(shell: SshShell, target: Target) -> str:
    """The SSH host key fingerprint the session verified (the machine's own identity), else the
    port: used only for hosts without a machine-id (agents.collect.fallback_machine_id)."""
    try:
        key = shell.transport.get_remote_server_key()
    except Exception:  # noqa: BLE001 -- a transport without a key: the port still separates
        key = None
    if key is not None:
        from agents.ssh import fingerprint

        return f"{key.get_name()} {fingerprint(key)}"
    return f"port {target.port}"


def collect_winrm(target: Target, config: ScanConfig) -> Inventory:
    """WinRM targets: the WinRM transport and the Windows collector live in their own modules,
    imported only when a WinRM target is scanned (an SSH-only install need not carry pywinrm)."""
    import importlib

    try:
        winrm = importlib.import_module("agents.winrm")
        windows = importlib.import_module("agents.windows")
    except ImportError as exc:
        raise ShellError(f"WinRM scanning is not available in this build: {exc}") from exc
    shell = winrm.open_winrm_shell(
        target.host, target.port, target.user or None, timeout=config.timeout, credentials_file=config.credentials
    )
    try:
        inv: Inventory = windows.collect_windows(shell, timeout=config.timeout)
    finally:
        close = getattr(shell, "close", None)
        if callable(close):
            close()
    inv.host.site = target.site or inv.host.site
    inv.host.tags = sorted(set(inv.host.tags) | set(target.tags))
    inv.host.address = target.host
    return inv


def classify(exc: BaseException) -> str:
    """Exception -> per-host status."""
    from agents import ssh

    if isinstance(exc, ssh.HostKeyMismatch):
        return "host-key-mismatch"
    if isinstance(exc, ssh.HostKeyUnknown):
        return "host-key-unknown"
    if isinstance(exc, ssh.AuthFailed):
        return "auth-failed"
    if isinstance(exc, ssh.NegotiationFailed):
        return "negotiation-failed"
    if isinstance(exc, ShellTimeout):
        return "timeout"
    if isinstance(exc, ssh.Unreachable | ssh.ConnectionLost):
        return "unreachable"
    kind = str(getattr(exc, "kind", ""))  # WinRM errors say what failed
    if kind in ("auth", "kerberos"):
        return "auth-failed"
    if kind == "listener":
        return "unreachable"
    if kind == "powershell":  # WinRM answers but cannot start PowerShell (XP/2003 WinRM 1.1, Core w/o .NET)
        return POWERSHELL_MISSING
    name = type(exc).__name__.lower()
    if "credential" in name or "auth" in name:
        return "auth-failed"
    if "timeout" in name:
        return "timeout"
    if isinstance(exc, ConnectionError | OSError):
        return "unreachable"
    return "error"


def judge_inventory(inv: Inventory) -> tuple[str, str]:
    """ok, or partial with the failed probes, for a collected inventory."""
    serious = [p for p in inv.problems if p.kind in ("error", "timeout", "denied", "truncated")]
    if serious:
        return STATUS_PARTIAL, "; ".join(f"{p.probe}: {p.message}" for p in serious)[:1000]
    return STATUS_OK, ""


# -- rate limiting -------------------------------------------------------------------------------


class SiteRateLimiter:
    """At most ``rate`` new connections per second per site (token bucket, burst 1)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.clock = clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, site: str, stop: threading.Event) -> bool:
        if not self.interval:
            return True
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(site, now))
            self._next[site] = slot + self.interval
        delay = slot - now
        return not (delay > 0 and stop.wait(delay))


# -- progress ------------------------------------------------------------------------------------


class Progress:
    """A bar on a terminal; JSON lines (at most one a second, plus the last) otherwise."""

    def __init__(
        self,
        total: int,
        stream: IO[str] | None = None,
        *,
        tty: bool | None = None,
        interval: float = 1.0,
        enabled: bool = True,
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval if not self.tty else 0.1
        self.enabled = enabled
        self.started = time.monotonic()
        self._last = 0.0
        self.done = self.failed = 0

    def update(self, done: int, failed: int, force: bool = False) -> None:
        self.done, self.failed = done, failed
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.interval):
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        if self.tty:
            width = 30
            filled = int(width * done / self.total) if self.total else width
            eta_s = f"{int(eta // 60)}:{int(eta % 60):02d}" if eta is not None else "--:--"
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} done, "
                f"{failed} failed, {rate:.1f}/s, ETA {eta_s} "
            )
        else:
            self.stream.write(
                json.dumps(
                    {
                        "event": "progress",
                        "done": done,
                        "failed": failed,
                        "total": self.total,
                        "rate": round(rate, 2),
                        "eta_s": round(eta, 1) if eta is not None else None,
                        "elapsed_s": round(elapsed, 1),
                    }
                )
                + "\n"
            )
        self.stream.flush()

    def finish(self) -> None:
        self.update(self.done, self.failed, force=True)
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


# -- the engine ----------------------------------------------------------------------------------


class FleetScanner:
    """Scan targets into a store.  ``now`` is injectable (status times, --resume, the window)."""

    def __init__(
        self,
        store: Store,
        config: ScanConfig | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        local_now: Callable[[], datetime] = datetime.now,
        progress: Progress | None = None,
        observer: InventoryObserver | None = None,
        keep_inventories: bool = True,
        batch_size: int = 50,
    ) -> None:
        self.store = store
        self.config = config or ScanConfig()
        self.now = now
        self.local_now = local_now
        self.progress = progress
        self.observer = observer
        self.keep_inventories = keep_inventories
        self.batch_size = batch_size
        self.stop = threading.Event()
        self._host_locks: dict[str, threading.BoundedSemaphore] = {}
        self._host_locks_lock = threading.Lock()
        self._active: set[Any] = set()
        self._active_lock = threading.Lock()
        self._ssh: SshConnector | None = None
        self._ssh_lock = threading.Lock()
        self.rate = SiteRateLimiter(self.config.site_rate)

    # -- selection -----------------------------------------------------------------------------

    def select(self, targets: Iterable[Target]) -> tuple[list[Target], int]:
        """Apply --resume: drop targets with a recent ok/partial status.  Returns (todo, skipped)."""
        todo = list(targets)
        if not self.config.resume:
            return todo, 0
        cutoff = iso(self.now() - self.config.resume)
        statuses: Callable[[], list[HostStatus]] = getattr(self.store, "statuses", list)
        recent = {(s.target, s.site) for s in statuses() if s.status in (STATUS_OK, STATUS_PARTIAL) and s.at >= cutoff}
        kept = [t for t in todo if (t.key, t.site) not in recent]
        return kept, len(todo) - len(kept)

    # -- per host ------------------------------------------------------------------------------

    def _host_slot(self, server: str) -> threading.BoundedSemaphore:
        """One semaphore per ``host:port``: different ports are different sshd instances (NAT, containers)."""
        with self._host_locks_lock:
            sem = self._host_locks.get(server)
            if sem is None:
                sem = self._host_locks[server] = threading.BoundedSemaphore(HOST_SESSIONS)
            return sem

    def _connector(self) -> SshConnector:
        with self._ssh_lock:
            if self._ssh is None:
                self._ssh = SshConnector(self.config)
            return self._ssh

    def scan_one(self, target: Target) -> Outcome | None:
        """Collect one target.  None when the scan was interrupted before or during it."""
        if self.stop.is_set() or not self.rate.wait(target.site, self.stop):
            return None
        started = time.monotonic()
        with self._host_slot(f"{target.host}:{target.port}"):
            if self.stop.is_set():
                return None
            shell: SshShell | None = None
            try:
                if target.transport == "winrm":
                    inv = collect_winrm(target, self.config)
                else:
                    shell = self._connector().open(target)
                    with self._active_lock:
                        self._active.add(shell)
                    if self.stop.is_set():
                        return None
                    inv = collect_ssh(shell, target, self.config.timeout)
                    if shell.lost:
                        raise ShellError(f"{target.host}: connection lost during collection")
            except ShellError as exc:
                if self.stop.is_set():
                    return None
                return Outcome(target, classify(exc), str(exc), None, time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - one broken host must not stop the fleet
                if self.stop.is_set():
                    return None
                log.debug("unexpected error scanning %s", target.key, exc_info=True)
                return Outcome(target, classify(exc), f"{type(exc).__name__}: {exc}", None, time.monotonic() - started)
            finally:
                if shell is not None:
                    with self._active_lock:
                        self._active.discard(shell)
                    shell.close()
        if inv.os.family == "unknown" and not inv.software:
            msg = "; ".join(f"{p.probe}: {p.message}" for p in inv.problems) or "nothing could be collected"
            status = POWERSHELL_MISSING if any(p.probe == "windows.powershell" for p in inv.problems) else "error"
            return Outcome(target, status, msg, None, time.monotonic() - started)
        status, error = judge_inventory(inv)
        return Outcome(target, status, error, self.config.privacy.apply(inv), time.monotonic() - started)

    # -- the loop --------------------------------------------------------------------------------

    def run(self, targets: Iterable[Target]) -> ScanSummary:
        todo, skipped = self.select(targets)
        summary = ScanSummary(total=len(todo), skipped=skipped)
        started = time.monotonic()
        window = self.config.window
        if window is not None and not window.contains(self.local_now()):
            summary.window_closed = True
            return summary
        processes = self._process_count(todo)
        # A scan allocates millions of short-lived, acyclic objects (package records, strings,
        # packets); with the default thresholds the cyclic GC runs every 700 allocations and
        # re-walks the young heap each time, which measured at half the cost of parsing and
        # loading a host's packages.  Freezing what is loaded (modules, the catalog) and
        # collecting less often keeps cycles (paramiko's transports) collected, just in bigger steps.
        gc_threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(gc_threshold[0], GC_YOUNG_THRESHOLD), max(gc_threshold[1], 20), gc_threshold[2])
        try:
            if processes > 1:
                self._run_processes(todo, summary, processes)
            else:
                self._run_threads(todo, summary)
        finally:
            gc.set_threshold(*gc_threshold)
            gc.unfreeze()
            if self._ssh is not None:
                self._ssh.close()
        summary.seconds = time.monotonic() - started
        return summary

    def _process_count(self, todo: list[Target]) -> int:
        """How many collector processes.  One whenever something must be shared by every connection
        of the scan: a jump host (one connection shared by the targets behind it), WinRM targets,
        a per-site rate limit, an injected clock for the window (tests).  An observer is fine: it runs
        in the collector processes and only its notes come back."""
        wanted = self.config.processes or default_processes(len(todo))
        if wanted <= 1 or len(todo) < 2:
            return 1
        if self.config.site_rate or (self.config.window is not None and self.local_now is not datetime.now):
            return 1
        if any(t.transport != "ssh" or t.jump for t in todo):
            return 1
        import multiprocessing

        if "fork" not in multiprocessing.get_all_start_methods():
            return 1  # children must inherit the loaded modules and configuration cheaply
        return min(wanted, len(todo))

    def _start_threads(
        self, todo: list[Target], emit: Callable[[Outcome | None], None], window_closed: Callable[[], None]
    ) -> int:
        """Start the worker threads (at most ``concurrency``); each calls ``emit(None)`` when done."""
        pending: queue.Queue[Target] = queue.Queue()
        for t in todo:
            pending.put(t)
        workers = max(1, min(self.config.concurrency, len(todo)))
        window = self.config.window

        def worker() -> None:
            while not self.stop.is_set():
                if window is not None and not window.contains(self.local_now()):
                    window_closed()
                    break
                try:
                    target = pending.get_nowait()
                except queue.Empty:
                    break
                try:
                    outcome = self.scan_one(target)
                except BaseException as exc:  # noqa: BLE001 - reported as a status, never lost
                    outcome = Outcome(target, "error", f"{type(exc).__name__}: {exc}")
                if outcome is not None:
                    emit(outcome)
            emit(None)

        for i in range(workers):
            threading.Thread(target=worker, name=f"scan-{i}", daemon=True).start()
        return workers

    def _run_threads(self, todo: list[Target], summary: ScanSummary) -> None:
        results: queue.Queue[Outcome | None] = queue.Queue()

        def closed() -> None:
            summary.window_closed = True

        workers = self._start_threads(todo, results.put, closed)

        def get(timeout: float) -> list[Outcome] | None:
            item = results.get(timeout=timeout)
            return None if item is None else [item]

        def drain() -> list[Outcome]:
            self.interrupt()
            out: list[Outcome] = []
            while True:
                try:
                    item = results.get_nowait()
                except queue.Empty:
                    return out
                if item is not None:
                    out.append(item)

        self._consume(get, workers, drain, summary)

    def _run_processes(self, todo: list[Target], summary: ScanSummary, processes: int) -> None:
        """Collect in ``processes`` forked children (each with its own threads and connections),
        store and match here.  Targets are split by ``host:port`` so each server's connection limit
        stays in one process.  Children pre-encode each inventory's stored body and send compact
        batches; Ctrl-C reaches them too (they ignore it): this process tells them to stop, keeps
        every outcome they already finished, and waits for nothing else."""
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        shards: list[list[Target]] = [[] for _ in range(processes)]
        slot: dict[str, int] = {}
        for t in todo:
            server = f"{t.host}:{t.port}"
            n = slot.setdefault(server, len(slot) % processes)
            shards[n].append(t)
        shards = [sh for sh in shards if sh]
        threads_each = max(1, -(-self.config.concurrency // len(shards)))
        if not self.keep_inventories:
            # The children judge what they collect (``_pack_observed``): the store's judge (its
            # dataset loaded once, here) is made before they fork, so each starts with it.
            current_judge = getattr(self.store, "current_judge", None)
            if callable(current_judge):
                current_judge()
        _import_before_fork()
        results: Any = ctx.Queue()
        stop = ctx.Event()
        # The children inherit this process's store connection and never touch it (nor close it:
        # a forked child leaves through os._exit, so no finaliser runs on the copy).
        children = [
            ctx.Process(
                target=_collector_process,
                args=(self, i, shard, threads_each, results, stop, os.getpid()),
                name=f"scan-proc-{i}",
                daemon=True,
            )
            for i, shard in enumerate(shards)
        ]
        for child in children:
            child.start()
        # Longer than any host can legitimately take between two finished hosts of a process.
        stall_after = max(120.0, 4 * (self.config.connect_timeout + self.config.timeout))
        reader = _ChildReader(results, summary, children, stall_after)

        def drain() -> list[Outcome]:
            stop.set()
            return reader.drain_after_stop(len(children) - reader.finished, deadline=time.monotonic() + 15.0)

        try:
            self._consume(reader.get, len(children), drain, summary)
        finally:
            stop.set()
            for child in children:
                child.join(timeout=2.0)
                if child.is_alive():
                    child.terminate()
                    child.join(timeout=2.0)
            results.close()

    def _consume(
        self,
        get: Callable[[float], list[Outcome] | None],
        producers: int,
        drain: Callable[[], list[Outcome]],
        summary: ScanSummary,
    ) -> None:
        """The one consumer: store outcomes in batches, record statuses, report progress.
        ``get`` returns a list of outcomes, or None when one producer has finished.

        A batch is stored as soon as nothing else is waiting (not only when it is full): storing
        (encoding, judging, writing) then runs while the other hosts are still being collected,
        instead of all of it after the last host; a busy scan still gets full batches."""
        progress = self.progress
        finished = 0
        batch: list[Outcome] = []
        try:
            while finished < producers:
                try:
                    items = get(0.0 if batch else 0.5)
                except queue.Empty:
                    if batch:
                        self._flush(batch, summary)
                        batch = []
                    if progress:
                        progress.update(summary.done + summary.failed, summary.failed)
                    continue
                if items is None:
                    finished += 1
                    continue
                batch.extend(items)
                if len(batch) >= self.batch_size:
                    self._flush(batch, summary)
                    batch = []
                if progress:
                    progress.update(summary.done + summary.failed, summary.failed)
        except KeyboardInterrupt:
            summary.interrupted = True
            batch.extend(drain())  # what already finished is kept
        finally:
            if batch:
                self._flush(batch, summary)
            if progress:
                progress.done, progress.failed = summary.done + summary.failed, summary.failed
                progress.finish()

    def interrupt(self) -> None:
        """Stop starting hosts and abort the ones in flight (they record nothing)."""
        self.stop.set()
        with self._active_lock:
            active = list(self._active)
        for shell in active:
            try:
                shell.close()
            except Exception:  # noqa: BLE001, S110 - best effort while shutting down
                pass

    def _save(self, batch: list[Outcome]) -> None:
        """Store the batch's inventories in one transaction; when that fails for any reason but the
        database itself (down, locked, full: the scan stops, as nothing can be stored), each on its
        own, and a host whose inventory cannot be stored is an "error" naming why -- one bad record
        never costs its neighbours their inventories and statuses (#19 item 2)."""
        invs = [o.inventory for o in batch if o.inventory is not None]
        if not invs:
            return
        try:
            self.store.save_batch(invs)  # one transaction; takes whole or already-encoded inventories
            return
        except Exception as exc:
            if getattr(exc, "unavailable", False):
                raise
            log.warning("a batch of %d inventories was not stored (%s); storing them one by one", len(invs), exc)
        for o in batch:
            if o.inventory is None:
                continue
            try:
                self.store.save_batch([o.inventory])
            except Exception as exc:
                if getattr(exc, "unavailable", False):
                    raise
                log.debug("inventory of %s not stored", o.target.key, exc_info=True)
                o.status, o.error, o.inventory = "error", f"inventory not stored: {type(exc).__name__}: {exc}", None

    def _flush(self, batch: list[Outcome], summary: ScanSummary) -> None:
        self._save(batch)
        at = iso(self.now())
        statuses = [
            HostStatus(
                target=o.target.key,
                site=o.target.site,
                status=o.status,
                error=o.error,
                at=at,
                host_key=host_key(o.inventory) if o.inventory is not None else "",
            )
            for o in batch
        ]
        record_many = getattr(self.store, "record_statuses", None)
        record = getattr(self.store, "record_status", None)
        if callable(record_many):
            record_many(statuses)  # one transaction for the batch
        elif record is not None:
            for st in statuses:
                record(st)
        summary.statuses.extend(statuses)
        by_status = summary.by_status
        for o in batch:
            by_status[o.status] = by_status.get(o.status, 0) + 1
            if o.inventory is not None:
                summary.done += 1
                if self.observer is not None:
                    inv = o.inventory
                    self.observer.merge(
                        o.note if o.note is not None or not isinstance(inv, Inventory) else self.observer.observe(inv)
                    )
                if self.keep_inventories and isinstance(o.inventory, Inventory):
                    summary.inventories.append(o.inventory)
            else:
                summary.failed += 1
            if o.status != STATUS_OK:
                log.info("%s (%s): %s %s", o.target.key, o.target.site or "-", o.status, o.error)


# -- collector processes -------------------------------------------------------------------------

_EMPTY = object()
CHILD_BATCH = 16  # outcomes per message from a collector process
CHILD_LINGER = 0.2  # seconds a finished outcome may wait for its batch to fill


# A package crosses from a collector process as the tuple of its fields (read by one C call, loaded
# by pickle's C code) and is rebuilt with one constructor call: the default pickling of a slots
# dataclass costs several times more on both sides, for hundreds of packages a host.
_SOFTWARE_ROW = operator.attrgetter(*(f.name for f in dataclass_fields(Software)))


Packed = tuple[Outcome, bytes, list[tuple[Any, ...]], bool]


def _pack(outcome: Outcome) -> Packed:
    """(outcome without its package list, the stored body, the packages as rows, whether the body
    stands for the inventory exactly).  In the child."""
    inv = outcome.inventory
    if not isinstance(inv, Inventory):
        return outcome, b"", [], False
    body, exact = encode_checked(inv)
    rows = list(map(_SOFTWARE_ROW, inv.software))
    inv.software = []  # this process is done with it; the rows carry the packages
    return outcome, body, rows, exact


def _pack_observed(observer: InventoryObserver | None, store: Any = None) -> Callable[[Outcome], Packed]:
    """``_pack`` for a scan that keeps no inventories: the child observes the inventory (matching
    runs here, on this process's core) and sends only its stored form, its relational rows
    (``Store.encode_and_judge``: judged here, with the store's judge this process inherited, and its
    memo of builds hits for every host of a build this process scanned) and the observer's note --
    no package objects cross, and the storing process only inserts.  Should making the rows fail
    for one host, that host goes without them and the storing process makes them as it always did."""

    encode_and_judge: Callable[[Inventory], tuple[EncodedInventory, Any]] | None = getattr(
        store, "encode_and_judge", None
    )
    # An observer that can read its note off the judgement (``StreamingTally.observe_judged``: the
    # status ranges on its date) is spared matching the host once more.
    from_judged: Callable[[Any, Any], Any] | None = getattr(observer, "observe_judged", None)
    judge_of: Callable[[], Any] | None = getattr(store, "current_judge", None)
    sent = SentSets()  # a package list goes in full once, then by id (``_unpack`` puts it back)

    def pack(outcome: Outcome) -> Packed:
        inv = outcome.inventory
        if not isinstance(inv, Inventory):
            return outcome, b"", [], False
        encoded: EncodedInventory | None = None
        judged: Any = None
        if encode_and_judge is not None:
            try:
                encoded, judged = encode_and_judge(inv)
            except Exception:  # noqa: BLE001 - the storing process judges it (and reports what fails)
                log.debug("judging %s in the collector process failed", outcome.target.key, exc_info=True)
            if encoded is not None and encoded.rows is not None:
                sent.strip(encoded.rows)
        if observer is not None:
            note = None
            if judged is not None and from_judged is not None and judge_of is not None:
                note = from_judged(judged, judge_of())
            outcome.note = note if note is not None else observer.observe(inv)
        if encoded is None:
            encoded = EncodedInventory(
                inventory_id=inv.inventory_id,
                host=inv.host,
                os=inv.os,
                collector=inv.collector,
                collected_at=inv.collected_at,
                software_count=len(inv.software),
                body=encode_body(inv),
            )
        outcome.inventory = encoded
        return outcome, b"", [], False

    return pack


def _unpack(item: Packed) -> Outcome:
    """The parent's half of ``_pack``: packages rebuilt (every field, as the child had them), the
    body and its exactness handed to the store."""
    outcome, body, rows, exact = item
    inv = outcome.inventory
    if isinstance(inv, Inventory):
        inv.software = list(starmap(Software, rows))
        if body:
            pre_encoded(inv, body, exact)
    elif isinstance(inv, EncodedInventory) and inv.rows is not None:
        _RECEIVED_SETS.resolve(inv.rows)  # what is no longer here the store settles
    return outcome


# The package lists the collector processes sent (``_pack_observed``), for the hosts they name by id.
_RECEIVED_SETS = ReceivedSets()


def _die_with_parent(parent_pid: int) -> None:
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


def _import_before_fork() -> None:
    """Import here, on the thread that forks, what a collector process would otherwise import
    lazily.  A fork copies the module locks of imports other threads have in flight; the child
    then waits for ever on its first import of such a module (reproduced: a thread importing the
    report modules while the scan forked left paramiko half-imported in the child).  A module
    already imported is never locked again, so the child's collection needs no import lock."""
    import ctypes  # noqa: F401 - _die_with_parent
    import faulthandler  # noqa: F401 - _stacks_on_request
    import getpass  # noqa: F401 - _local_user
    from dataclasses import replace  # noqa: F401

    from agents import hardware, macos, ssh, ssh_legacy, unix  # noqa: F401 - collectors' lazy imports


STACKS_SIGNAL = "SIGUSR1"  # a collector process writes every thread's stack to stderr on it


def _stacks_on_request() -> None:
    """Every host step has a timeout, so a collector process that sends nothing for long is stuck
    somewhere no timeout reaches (a library wait, a lock inherited across ``fork``).  The storing
    process then asks it for its threads' stacks (``_ChildReader``): they go to stderr, where an
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


def _collector_process(
    parent: FleetScanner, index: int, targets: list[Target], threads: int, results: Any, stop: Any, parent_pid: int = 0
) -> None:
    """A forked child: collect ``targets`` with ``threads`` workers and send back batches of
    ``(outcome, stored body)``.  Encoding the body here keeps that CPU off the storing process."""
    import signal
    from dataclasses import replace as dc_replace

    parent_pid = parent_pid or os.getppid()
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    _stacks_on_request()
    scanner = FleetScanner(parent.store, dc_replace(parent.config, concurrency=threads, processes=1))
    local: queue.Queue[Outcome | None] = queue.Queue()
    closed: list[bool] = [False]
    workers = scanner._start_threads(targets, local.put, lambda: closed.__setitem__(0, True))
    finished = 0
    buf: list[Packed] = []
    first = 0.0
    pack = _pack if parent.keep_inventories else _pack_observed(parent.observer, parent.store)

    try:
        while finished < workers:
            if os.getppid() != parent_pid:  # the scan was killed: nobody will read what we send
                os._exit(1)
            if stop.is_set():
                scanner.interrupt()
                while True:  # hosts that finished before the stop are kept
                    try:
                        item = local.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        buf.append(pack(item))
                break
            try:
                got: Any = local.get(timeout=0.1)
            except queue.Empty:
                got = _EMPTY
            if got is None:
                finished += 1
            elif got is not _EMPTY:
                if not buf:
                    first = time.monotonic()
                buf.append(pack(got))
            if buf and (len(buf) >= CHILD_BATCH or finished == workers or time.monotonic() - first > CHILD_LINGER):
                results.put(("batch", buf))
                buf = []
        if buf:
            results.put(("batch", buf))
    finally:
        results.put(("end", (index, closed[0])))
        scanner.stop.set()
        if scanner._ssh is not None:
            scanner._ssh.close()
        results.close()
        results.join_thread()


class _ChildReader:
    """The parent's end of the collector processes' queue."""

    def __init__(self, results: Any, summary: ScanSummary, children: list[Any], stall_after: float = 600.0) -> None:
        self.results = results
        self.summary = summary
        self.children = children
        self.ended: set[int] = set()
        self.finished = 0
        self.stall_after = stall_after
        self._last = time.monotonic()
        self._asked = False

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
        return list(map(_unpack, payload))

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
        process write its threads' stacks to stderr (``_stacks_on_request``)."""
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


def parse_duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``3600`` (seconds)."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        if text and text[-1] in units:
            return timedelta(seconds=float(text[:-1]) * units[text[-1]])
        return timedelta(seconds=float(text))
    except ValueError as exc:
        raise ValueError(f"duration {text!r} is not like 90m, 24h or 7d") from exc
