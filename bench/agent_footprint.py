"""Agent footprint: wall time, CPU time and peak RSS of one ``legacyscan-agent`` run on this machine
(collect + write the inventory to a folder, as a file-drop deployment does), compared in the same
run with the peer doing the same job - ``fusioninventory-agent --local DIR`` (Debian package
``fusioninventory-agent``, the GLPI/FusionInventory agent) - and with the floor
``python3 -c "import psutil, httpx"`` (the interpreter plus the agent's two dependencies).

Prints ONE JSON line.  Each command runs ``--repeat`` times (default 5); medians are reported.
CPU time and peak RSS come from ``wait4`` (the process and the children it waited for), so a
busy machine changes wall time but hardly the CPU and memory figures the targets are about.
Targets: agent CPU <= 0.5 x peer CPU, agent peak RSS <= 0.6 x peer peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_CPU = 0.5
TARGET_RSS = 0.6


def measure(argv: list[str], cwd: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err[-500:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}


def run_case(argv: list[str], repeat: int, cwd: Path, out: Path) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        runs.append(measure(argv, cwd))
        if not any(out.iterdir()) and "-c" not in argv:
            raise SystemExit(f"{argv} wrote nothing to {out}")
    return median_of(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    peer = shutil.which("fusioninventory-agent")
    if peer is None:
        raise SystemExit("fusioninventory-agent is not installed (apt-get install fusioninventory-agent)")
    with tempfile.TemporaryDirectory(prefix="legacyscan-footprint-") as tmp_name:
        tmp = Path(tmp_name)
        out = tmp / "out"
        ours = run_case([sys.executable, "-m", "agents.agent", "--output", str(out)], args.repeat, ROOT, out)
        theirs = run_case([peer, "--local", str(out)], args.repeat, tmp, out)
        floor = run_case([sys.executable, "-c", "import psutil, httpx"], args.repeat, tmp, out)
    result: dict[str, Any] = {
        "bench": "agent_footprint",
        "repeat": args.repeat,
        "agent": ours,
        "fusioninventory_agent": theirs,
        "floor_import_psutil_httpx": floor,
        "cpu_ratio": round(ours["cpu_s"] / theirs["cpu_s"], 3),
        "rss_ratio": round(ours["peak_rss_mb"] / theirs["peak_rss_mb"], 3),
        "targets": {"max_cpu_ratio": TARGET_CPU, "max_rss_ratio": TARGET_RSS},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    result["meets_targets"] = result["cpu_ratio"] <= TARGET_CPU and result["rss_ratio"] <= TARGET_RSS
    print(json.dumps(result))
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
