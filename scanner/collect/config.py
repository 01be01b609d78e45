"""How a fleet scan is configured: ``ScanConfig`` (what the CLI's flags set), the scan window, and
the defaults sized for the machine and the fleet (threads, collector processes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any

from scanner.privacy import KEEP, Privacy


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
# in one process whenever a feature needs state shared by every connection (see
# ``FleetScanner._process_count``).
PROCESS_MIN_TARGETS = 200


def default_processes(targets: int) -> int:
    """One collector process per core for a large fleet: the SSH client (key exchange, ciphers,
    paramiko's packet loop) costs ~4 ms CPU per host and holds the GIL for it, so one process tops
    out at about one core; each extra process adds a core's worth of hosts per second."""
    forced = os.environ.get("LEGACYSCAN_SCAN_PROCESSES", "").strip()
    if forced.isdecimal() and int(forced) > 0:  # an operator's (or a test run's) explicit choice
        return int(forced)
    cpus = os.cpu_count() or 1
    return cpus if cpus > 1 and targets >= PROCESS_MIN_TARGETS else 1


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


def parse_duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``3600`` (seconds)."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        if text and text[-1] in units:
            span = timedelta(seconds=float(text[:-1]) * units[text[-1]])
        else:
            span = timedelta(seconds=float(text))
    except (ValueError, OverflowError) as exc:  # 99999999999d overflows timedelta
        raise ValueError(f"duration {text[:40]!r} is not like 90m, 24h or 7d") from exc
    if span < timedelta(0):
        raise ValueError(f"duration {text[:40]!r} is negative; give one like 90m, 24h or 7d")
    return span
