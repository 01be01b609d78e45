"""The per-site rate limit of new connections (``--site-rate``): a slow WAN link to a satellite
site is not flooded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


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
