"""Scan progress on stderr: a bar on a terminal, JSON lines otherwise."""

from __future__ import annotations

import json
import sys
import time
from typing import IO


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
