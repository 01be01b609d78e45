"""Benchmark: ``legacyscan scan --local`` (collect + match + store + report) on this machine.

Compared in the same run with the peer a Linux admin already has, the GLPI inventory agent
(``fusioninventory-agent --local DIR``, Debian package), and with the floor (``dpkg-query -W``
plus reading os-release).  Target: legacyscan within 2x the peer's wall time and below its peak
RSS.  Prints one JSON line.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure  # noqa: E402


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    legacyscan = shutil.which("legacyscan") or sys.exit("legacyscan is not installed (pip install .)")
    ours = measure([legacyscan, "scan", "--local", "--db", f"sqlite:///{tmp / 'bench.db'}"], runs=runs)
    result: dict[str, object] = {"bench": "local_scan", "legacyscan": ours}
    peer = shutil.which("fusioninventory-agent")
    if peer:
        out = tmp / "fusion"
        out.mkdir()
        result["fusioninventory_agent"] = measure([peer, "--local", str(out), "--no-category=printer"], runs=runs)
    else:
        result["fusioninventory_agent"] = None
        result["note"] = "peer missing: apt-get install fusioninventory-agent"
    result["floor"] = measure(["sh", "-c", "dpkg-query -W >/dev/null; cat /etc/os-release >/dev/null"], runs=runs)
    with open("/var/lib/dpkg/status", "rb") as fh:
        result["packages"] = fh.read().count(b"\nPackage: ") + 1
    if isinstance(result["fusioninventory_agent"], dict):
        p = result["fusioninventory_agent"]
        result["wall_ratio_vs_peer"] = round(ours["wall_s"] / p["wall_s"], 2)
        result["rss_ratio_vs_peer"] = round(ours["peak_rss_mb"] / p["peak_rss_mb"], 2)
        result["target_met"] = ours["wall_s"] <= 2 * p["wall_s"] and ours["peak_rss_mb"] < p["peak_rss_mb"]
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    return 0 if result.get("target_met", False) else 1


if __name__ == "__main__":
    sys.exit(main())
