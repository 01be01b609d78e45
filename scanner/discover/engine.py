"""Discovery runs: targets -> probes (bounded, rate-limited, windowed) -> one Inventory per address.

Shape (as ``scanner.collect.engine``): worker threads probe, the calling thread stores.  One address is
handled by one worker, its services one after another, so a fragile device never sees two of
our connections at once; ``concurrency`` bounds how many addresses are in flight.  The scan
window and the per-site rate limit are the fleet scan's own (``ScanWindow``,
``SiteRateLimiter``): each probe waits for its site's token before it connects.  Excluded
targets are recorded as "excluded" and never contacted.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

from agents.collect import iso
from agents.inventory import Inventory
from agents.names import NameLookups
from scanner.collect.config import ScanWindow
from scanner.collect.ratelimit import SiteRateLimiter
from scanner.discover import fingerprint
from scanner.discover.base import Observation, Probe, ProbeSettings
from scanner.discover.exclusions import Exclusions
from scanner.store.sqlite import HostStatus, Store, host_key
from scanner.targets import Target

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DiscoverConfig:
    concurrency: int = 32
    window: ScanWindow | None = None
    site_rate: float | None = None  # new connections per second per site


@dataclass(slots=True)
class DiscoverSummary:
    addresses: int = 0
    identified: int = 0  # addresses where at least one service answered
    silent: int = 0
    excluded: int = 0
    window_closed: bool = False
    interrupted: bool = False
    connections: int = 0
    seconds: float = 0.0
    inventories: list[Inventory] = field(default_factory=list)
    statuses: list[HostStatus] = field(default_factory=list)


def group_by_address(targets: list[Target], aliases: dict[str, str] | None = None) -> list[tuple[Target, list[Target]]]:
    """(the address's first target, its service targets) in file order.

    One address is one group whatever sites or spellings list it (``10.0.0.1`` under two sites,
    ``PACS-GW`` and ``pacs-gw``, and a name that resolves to an address also listed: ``aliases``,
    lower-cased name -> that address), and each service (transport, port) is in it once: the same
    service listed twice is still probed once, and the address keeps its first line's site.  Tags
    of every line are kept on every service, so an exclusion tag on any line excludes the address.
    """
    aliases = aliases or {}
    groups: dict[str, list[Target]] = {}
    tags: dict[str, set[str]] = {}
    for t in targets:
        key = aliases.get(t.host.lower(), t.host.lower())
        group = groups.setdefault(key, [])
        tags.setdefault(key, set()).update(t.tags)
        if not any((g.transport, g.port) == (t.transport, t.port) for g in group):
            group.append(t)
    out: list[tuple[Target, list[Target]]] = []
    for key, group in groups.items():
        site, all_tags = group[0].site, tuple(sorted(tags[key]))
        services = [replace(t, site=site, tags=all_tags) for t in group]
        out.append((services[0], services))
    return out


class Discoverer:
    def __init__(
        self,
        store: Store | None,
        settings: ProbeSettings,
        config: DiscoverConfig,
        probes: dict[str, Probe],
        exclusions: Exclusions,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: SiteRateLimiter | None = None,
        names: NameLookups | None = None,
    ) -> None:
        self.store, self.settings, self.config = store, settings, config
        self.probes, self.exclusions, self.now = probes, exclusions, now
        # Every host name of the run is looked up here: within --timeout, at most --concurrency at
        # once, each name once (agents.names), so a dead name server costs each name its budget once.
        self.names = names if names is not None else NameLookups(settings.timeout, config.concurrency)
        self.limiter = limiter if limiter is not None else SiteRateLimiter(config.site_rate)
        self.stop = threading.Event()

    def probe_address(self, services: list[Target]) -> list[Observation]:
        excluded = self._excluded_by_address(services[0])
        if excluded is not None:
            return [excluded]
        out: list[Observation] = []
        for t in services:
            if self.stop.is_set() or not self.limiter.wait(t.site, self.stop):
                break
            settings = replace(self.settings, gate=partial(self.limiter.wait, t.site, self.stop), names=self.names)
            obs = self.probes[t.transport](t, settings)
            out.append(obs)
            if obs.status == "unreachable" or self._lookup_timed_out(t.host):
                # The network says there is no such host (no route, host unreachable), or its name
                # got no answer in time: its other services are not tried -- no further packets
                # towards an address that is not there, no further wait for a name server that is.
                break
        return out

    def _lookup_timed_out(self, host: str) -> str:
        """Why ``host``'s name lookup timed out ("" when it answered, failed, or was not made)."""
        known = self.names.known(host)
        return known.reason if known is not None and known.timed_out else ""

    def _aliases(self, targets: list[Target]) -> dict[str, str]:
        """Names in the targets that resolve to an address the targets also list: one device, so
        its services are probed once, not once per spelling (looked up only when the targets mix
        names and addresses)."""
        listed: set[str] = set()
        names: set[str] = set()
        for t in targets:
            try:
                listed.add(str(ipaddress.ip_address(t.host.split("%", 1)[0])))
            except ValueError:
                names.add(t.host.lower())
        if not listed or not names:
            return {}
        out: dict[str, str] = {}
        for name, lookup in self.names.lookup_all(names).items():
            hit = next((a for a in lookup.addresses if a in listed), None)
            if hit is not None:
                out[name] = hit
        return out

    def _excluded_by_address(self, first: Target) -> Observation | None:
        """A target given by name is checked by the addresses it resolves to, before any connection:
        an excluded range must not be reachable by listing its devices by name.  ``None``: probe it."""
        if not self.exclusions.networks and not self.exclusions.name_addresses:
            return None  # no address is excluded: no lookup needed
        try:
            ipaddress.ip_address(first.host.split("%", 1)[0])
            return None  # an address: checked with the other exclusions before it was queued
        except ValueError:
            pass
        # A name whose lookup times out is not excluded here, and cannot be contacted either: its
        # probes get the same (remembered) timeout from the run's lookups, without a connection.
        why = self.exclusions.address_reason(first.host, self.names.lookup(first.host).addresses)
        if not why:
            return None
        return Observation(host=first.host, port=first.port, service=first.transport, status="excluded", error=why)

    def run(self, targets: list[Target]) -> DiscoverSummary:
        import time

        start = time.monotonic()
        summary = DiscoverSummary()
        queue = iter(self._not_excluded(targets, summary))
        pending: dict[Future[list[Observation]], Target] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.config.concurrency), thread_name_prefix="discover") as pool:
            try:
                while True:
                    self._submit(pool, pending, queue, summary)
                    if not pending:
                        break
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        first = pending.pop(fut)
                        self._finish(summary, first, fut.result())
            except KeyboardInterrupt:
                summary.interrupted = True
                self.stop.set()
                for fut in pending:
                    fut.cancel()
        summary.seconds = round(time.monotonic() - start, 3)
        return summary

    def _not_excluded(self, targets: list[Target], summary: DiscoverSummary) -> list[tuple[Target, list[Target]]]:
        """Addresses to probe (first target, its services); an excluded one gets its status now."""
        todo: list[tuple[Target, list[Target]]] = []
        for first, services in group_by_address(targets, self._aliases(targets)):
            summary.addresses += 1
            why = next((r for r in map(self.exclusions.reason, services) if r), "")
            if why:
                summary.excluded += 1
                self._status(summary, first, "excluded", why, None)
                continue
            todo.append((first, services))
        return todo

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        pending: dict[Future[list[Observation]], Target],
        queue: Iterator[tuple[Target, list[Target]]],
        summary: DiscoverSummary,
    ) -> None:
        """Start addresses until ``concurrency`` are in flight, the queue is empty or the window closes."""
        while len(pending) < max(1, self.config.concurrency) and not self.stop.is_set():
            nxt = next(queue, None)
            if nxt is None:
                return
            if self.config.window is not None and not self.config.window.contains(self.now().astimezone()):
                summary.window_closed = True
                self.stop.set()
                return
            pending[pool.submit(self.probe_address, nxt[1])] = nxt[0]

    def _finish(self, summary: DiscoverSummary, first: Target, observations: list[Observation]) -> None:
        if observations and observations[0].status == "excluded":
            summary.excluded += 1
            self._status(summary, first, "excluded", observations[0].error, None)
            return
        summary.connections += sum(o.connections for o in observations)
        if not any(o.status == "ok" for o in observations):
            self._silent(summary, first, observations)
            return
        summary.identified += 1
        inv = fingerprint.inventory(first, observations, self.now())
        if self.store is not None:
            self.store.save_inventory(inv)
        summary.inventories.append(inv)
        partial = [o for o in observations if o.status not in ("ok", "closed")]
        status = "partial" if partial else "ok"
        self._status(
            summary,
            first,
            status,
            "; ".join(f"{o.service}:{o.port} {o.status}: {o.error}" for o in partial)[:1000],
            inv,
        )

    def _silent(self, summary: DiscoverSummary, first: Target, observations: list[Observation]) -> None:
        """No service answered usably: "timeout" when one timed out, "error" when one answered with
        something unusable (a failed TLS handshake, a reset, garbage: the device is there), else
        "unreachable"."""
        summary.silent += 1
        seen = {o.status for o in observations}
        status = "timeout" if "timeout" in seen else "error" if "error" in seen else "unreachable"
        detail = "; ".join(f"{o.service}:{o.port} {o.status}" for o in observations)
        lookup = self._lookup_timed_out(first.host)
        detail = (f"{lookup}; {detail}" if lookup else detail)[:1000]
        self._status(summary, first, status, detail or "not probed", None)

    def _status(self, summary: DiscoverSummary, first: Target, status: str, error: str, inv: Inventory | None) -> None:
        st = HostStatus(
            target=f"discover://{first.host}",
            site=first.site,
            status=status,
            error=error,
            at=iso(self.now()),
            host_key=host_key(inv) if inv is not None else "",
        )
        record = getattr(self.store, "record_status", None)
        if callable(record):
            record(st)
        summary.statuses.append(st)
