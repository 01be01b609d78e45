"""Benchmark: the WinRM probe (WinRmShell + collection + parse) against bare pywinrm ``run_ps``.

200 probes against the suite's WinRS endpoint (``tests/integration/winrs_server.py``, run in its own
process so only the client's CPU is counted here), NTLM with WinRM message encryption, at
concurrency 1 and 16.  Each probe is a fresh connection and NTLM handshake, as one host of a fleet
would be.  Ours: open shell, bootstrap command, script over stdin, chunked Receives, Signal,
Delete, then parse the document into an Inventory.  The floor, in the same run: a bare
``winrm.Session(...).run_ps(script)`` of the same script (the server is told to accept run_ps's
over-long cmd.exe command line, which a real host would refuse).  Target: our throughput at least
0.8x the floor's.  Prints one JSON line; exits 1 if the target is missed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import winrm  # noqa: E402

from agents.windows import collect_windows, load_script  # noqa: E402
from agents.winrm import WinRmCredentials, WinRmShell  # noqa: E402

DOCUMENT = ROOT / "tests" / "fixtures" / "hosts" / "windows-win11-23h2-enterprise-eval" / "collect.json"
USER, PASSWORD = "HOSPITAL\\scanner", "Sup3r-Secret!"
TARGET = 0.8


def _block(probe: Callable[[], bool], probes: int, concurrency: int) -> tuple[float, float, int]:
    """Run ``probes`` probes; return (wall seconds, client CPU seconds, failures)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if concurrency == 1:
        results = [probe() for _ in range(probes)]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(lambda _: probe(), range(probes)))
    return time.perf_counter() - wall0, time.process_time() - cpu0, results.count(False)


def _compare(
    ours: Callable[[], bool], floor: Callable[[], bool], probes: int, concurrency: int, rounds: int = 8
) -> dict[str, dict[str, float | int]]:
    """Interleave blocks of ours and the floor so that a change in background load (two cores,
    shared) hits both alike; figures are totals over all blocks."""
    totals = {"legacyscan": [0.0, 0.0, 0], "floor_run_ps": [0.0, 0.0, 0]}
    per_block = probes // rounds
    for _ in range(rounds):
        for name, fn in (("floor_run_ps", floor), ("legacyscan", ours)):
            wall, cpu, failures = _block(fn, per_block, concurrency)
            totals[name][0] += wall
            totals[name][1] += cpu
            totals[name][2] += failures
    done = per_block * rounds
    return {
        name: {
            "probes_per_s": round(done / wall, 1),
            "client_cpu_ms_per_probe": round(cpu * 1000 / done, 2),
            "failures": int(failures),
        }
        for name, (wall, cpu, failures) in totals.items()
    }


def main() -> int:
    probes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.winrs_server", "--document", str(DOCUMENT), "--no-strict-cmdline"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        endpoint = f"http://127.0.0.1:{port}/wsman"
        script = load_script()
        creds = WinRmCredentials(USER, PASSWORD, "bench")
        caption = json.loads(DOCUMENT.read_text("ascii"))["os"]["wmi"]["Caption"]

        def ours() -> bool:
            shell = WinRmShell("127.0.0.1", port, creds, use_https=False)
            try:
                inventory = collect_windows(shell, timeout=60)
            finally:
                shell.close()
            return inventory.os.facts["caption"] == caption and len(inventory.software) > 100

        def floor() -> bool:
            session = winrm.Session(endpoint, auth=(USER, PASSWORD), transport="ntlm", message_encryption="always")
            result = session.run_ps(script)
            session.protocol.transport.close_session()
            return result.status_code == 0 and result.std_out.startswith(b'{"legacyscan"')

        for fn in (ours, floor):  # warm-up: imports, first handshakes
            for _ in range(5):
                fn()
        figures: dict[str, object] = {
            "bench": "winrm_scan",
            "probes": probes,
            "auth": "ntlm+message-encryption",
            "document_bytes": DOCUMENT.stat().st_size,
            "script_bytes": len(script),
        }
        for concurrency in (1, 16):
            for name, values in _compare(ours, floor, probes, concurrency).items():
                figures[f"{name}_c{concurrency}"] = values
        ok = True
        for concurrency in (1, 16):
            mine = figures[f"legacyscan_c{concurrency}"]
            base = figures[f"floor_run_ps_c{concurrency}"]
            assert isinstance(mine, dict) and isinstance(base, dict)
            ratio = round(mine["probes_per_s"] / base["probes_per_s"], 2)
            figures[f"throughput_ratio_c{concurrency}"] = ratio
            ok = ok and ratio >= TARGET and mine["failures"] == 0 and base["failures"] == 0
        figures["target"] = f">= {TARGET}x floor throughput"
        figures["pass"] = ok
        print(json.dumps(figures))
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
