"""The fleet engine: many targets, bounded concurrency, per-host status, progress, clean interruption.

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

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agents.collect import iso
from agents.inventory import Inventory
from agents.linux import PackageMemo
from agents.shell import ShellError
from scanner.collect.children import ChildReader, die_with_parent, import_before_fork, stacks_on_request
from scanner.collect.config import ScanConfig, default_processes
from scanner.collect.executors import SshConnector, collect_ssh, collect_winrm
from scanner.collect.progress import Progress
from scanner.collect.ratelimit import SiteRateLimiter
from scanner.collect.results import InventoryObserver, Outcome, ScanSummary
from scanner.collect.status import POWERSHELL_MISSING, STATUS_OK, STATUS_PARTIAL, classify, judge_inventory
from scanner.collect.wire import Packed, pack, pack_observed
from scanner.gc_tuning import fewer_collections
from scanner.store.sqlite import HostStatus, Store, host_key
from scanner.targets import Target

if TYPE_CHECKING:  # paramiko is imported only when an SSH target is scanned
    from agents.ssh import SshShell

log = logging.getLogger(__name__)

HOST_SESSIONS = 4


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
        # The package parsers' memory for this scan's hosts (agents.linux.PackageMemo): one per
        # scanner, so each collector process has its own.
        self.packages = PackageMemo()

    # -- selection -----------------------------------------------------------------------------

    def select(self, targets: Iterable[Target]) -> tuple[list[Target], int]:
        """Apply --resume: drop targets with a recent ok/partial status.  Returns (todo, skipped)."""
        todo = list(targets)
        if not self.config.resume:
            return todo, 0
        cutoff = iso(self.now() - self.config.resume)
        recent = {
            (s.target, s.site)
            for s in self.store.statuses()
            if s.status in (STATUS_OK, STATUS_PARTIAL) and s.at >= cutoff
        }
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
                    inv = collect_ssh(shell, target, self.config.timeout, self.packages)
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
        try:
            with fewer_collections():  # scanner.gc_tuning: the GC's pace during a scan
                if processes > 1:
                    self._run_processes(todo, summary, processes)
                else:
                    self._run_threads(todo, summary)
        finally:
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
            # The children judge what they collect (``pack_observed``): the store's judge (its
            # dataset loaded once, here) is made before they fork, so each starts with it.
            self.store.current_judge()
        import_before_fork()
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
        reader = ChildReader(results, summary, children, stall_after, self.store.encoder)

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
        self.store.record_statuses(statuses)  # one transaction for the batch
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


def _collector_process(
    parent: FleetScanner, index: int, targets: list[Target], threads: int, results: Any, stop: Any, parent_pid: int = 0
) -> None:
    """A forked child: collect ``targets`` with ``threads`` workers and send back batches of
    ``(outcome, stored body)``.  Encoding the body here keeps that CPU off the storing process."""
    import signal
    from dataclasses import replace as dc_replace

    parent_pid = parent_pid or os.getppid()
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    stacks_on_request()
    scanner = FleetScanner(parent.store, dc_replace(parent.config, concurrency=threads, processes=1))
    local: queue.Queue[Outcome | None] = queue.Queue()
    closed: list[bool] = [False]
    workers = scanner._start_threads(targets, local.put, lambda: closed.__setitem__(0, True))
    finished = 0
    buf: list[Packed] = []
    first = 0.0
    encoder = parent.store.encoder  # this process's copy of the store's
    pack_outcome = (
        (lambda outcome: pack(outcome, encoder))
        if parent.keep_inventories
        else pack_observed(parent.observer, parent.store)
    )

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
                        buf.append(pack_outcome(item))
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
                buf.append(pack_outcome(got))
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
