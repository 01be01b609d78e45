"""Shared helper for benchmarks: run a command as a child and measure wall, CPU and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import Any


def measure(
    argv: list[str], *, runs: int = 5, env: dict[str, str] | None = None, cwd: str | None = None
) -> dict[str, Any]:
    """Median wall/CPU and max peak RSS (MB) over ``runs`` runs of ``argv`` (children included)."""
    walls: list[float] = []
    cpus: list[float] = []
    rss: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {proc.returncode}")
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss.append(usage.ru_maxrss / 1024)
    return {
        "wall_s": round(statistics.median(walls), 3),
        "cpu_s": round(statistics.median(cpus), 3),
        "peak_rss_mb": round(max(rss), 1),
        "runs": runs,
    }
