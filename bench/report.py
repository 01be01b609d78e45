"""Benchmark: ``legacyscan report`` from a stored estate, this version against release 0.1.0.

The real path users run, for BOTH versions in the same run: a 20,000-device, five-site demo
estate (``legacyscan demo --devices 20000 --sites 5``, same seed and date for both) stored by each
version's own ``demo`` in its own store format, then ``legacyscan report --format F`` from that
store, for every format, each a fresh process (``bench/_measure.py``: wall, CPU, peak RSS of the
child).  The two versions alternate format by format, so a busy machine slows both alike.

The baseline is release 0.1.0 (commit e32da10), extracted from this repository with ``git archive``
and run with the same interpreter and dependencies.  Both stores are built once and cached in
``--cache`` (default: a folder in the temporary directory), keyed by devices, sites, seed, date,
and version (the baseline's commit; this version's schema): building them takes minutes and is not
measured.

Targets (issue #17 item 4): every format at least 5x faster than 0.1.0 (wall time, same run) and
under 1 GiB peak RSS.  ``cpu_speedup`` is printed too: on a shared machine wall time includes
waiting for a core.  Prints ONE JSON line; exits 1 when a target is missed.

    python bench/report.py [--devices 20000] [--sites 5] [--seed 7] [--runs 1] [--formats table json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._measure import measure  # noqa: E402

BASELINE = "e32da10"  # release 0.1.0
FORMATS = ("table", "csv", "json", "xlsx", "html")
EXTENSIONS = {"table": "txt"}
TARGET_SPEEDUP = 5.0
TARGET_RSS_MB = 1024.0


def _env(source: Path) -> dict[str, str]:
    """Run ``scanner.cli`` from ``source`` (ahead of any installed copy) with no ambient database."""
    env = {k: v for k, v in os.environ.items() if k not in ("LEGACYSCAN_DB", "PYTHONPATH")}
    env["PYTHONPATH"] = str(source)
    return env


def baseline_source(cache: Path, commit: str) -> Path:
    """Release 0.1.0's source tree, extracted once from this repository."""
    src = cache / f"source-{commit}"
    if not (src / ".complete").exists():
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        (src / ".complete").write_text(commit, encoding="utf-8")
    return src


def current_key() -> str:
    """The current tree's estate is cached per schema and judge fingerprint (legacyscan's version
    and rules files, ``scanner.judge.fingerprint``): a store judged by other rules would make the
    report re-judge every host, and the bench would measure that path instead."""
    from scanner.judge.fingerprint import installed
    from scanner.store.schema import MIGRATIONS

    return f"schema{len(MIGRATIONS)}-judge{installed()}"


def estate(cache: Path, source: Path, version: str, args: argparse.Namespace) -> tuple[Path, float | None]:
    """The demo estate stored by the version in ``source`` (built once; the build time when built now)."""
    folder = cache / f"estate-{version}-d{args.devices}-s{args.sites}-seed{args.seed}-{args.as_of}"
    if (folder / ".complete").exists():
        return folder, None
    shutil.rmtree(folder, ignore_errors=True)
    built = measure(
        [
            sys.executable,
            "-m",
            "scanner.cli",
            "demo",
            "--devices",
            str(args.devices),
            "--sites",
            str(args.sites),
            "--seed",
            str(args.seed),
            "--as-of",
            args.as_of,
            "--out",
            str(folder),
            "-q",
        ],
        runs=1,
        env=_env(source),
        cwd=str(source),
    )
    for name in os.listdir(folder):  # only the store and its inputs are kept, not the demo's own reports
        if name.startswith("report."):
            os.unlink(folder / name)
    (folder / ".complete").write_text(json.dumps(built), encoding="utf-8")
    return folder, float(built["wall_s"])


def report_argv(folder: Path, fmt: str, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scanner.cli",
        "report",
        "--db",
        f"sqlite:///{folder / 'demo.db'}",
        "--config",
        str(folder / "legacyscan.toml"),
        "--exceptions",
        str(folder / "exceptions.toml"),
        "--as-of",
        "{as_of}",
        "--format",
        fmt,
        "--out",
        str(out),
        "-q",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--devices", type=int, default=20_000)
    ap.add_argument("--sites", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2026-11-30")
    ap.add_argument("--runs", type=int, default=1, help="runs per format and version (median wall/CPU)")
    ap.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    ap.add_argument("--baseline", default=BASELINE, help="baseline commit (default: release 0.1.0, %(default)s)")
    ap.add_argument(
        "--cache",
        default=str(Path(tempfile.gettempdir()) / "legacyscan-bench-report"),
        help="where the two stores are kept between runs (default: %(default)s)",
    )
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    base_src = baseline_source(cache, args.baseline)
    base_store, base_built = estate(cache, base_src, args.baseline, args)
    cur_store, cur_built = estate(cache, ROOT, current_key(), args)
    outputs = cache / "out"
    outputs.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    for fmt in args.formats:
        ext = EXTENSIONS.get(fmt, fmt)
        row: dict[str, Any] = {}
        for name, source, folder in (("baseline", base_src, base_store), ("current", ROOT, cur_store)):
            out = outputs / f"{name}.{ext}"
            argv = [a.replace("{as_of}", args.as_of) for a in report_argv(folder, fmt, out)]
            row[name] = {
                **measure(argv, runs=args.runs, env=_env(source), cwd=str(source)),
                "output_bytes": out.stat().st_size,
            }
        b, c = row["baseline"], row["current"]
        row["speedup"] = round(b["wall_s"] / c["wall_s"], 2) if c["wall_s"] else None
        row["cpu_speedup"] = round(b["cpu_s"] / c["cpu_s"], 2) if c["cpu_s"] else None
        results[fmt] = row
    speedups = [r["speedup"] for r in results.values() if r["speedup"] is not None]
    max_rss = max(r["current"]["peak_rss_mb"] for r in results.values())
    ok = bool(speedups) and min(speedups) >= TARGET_SPEEDUP and max_rss < TARGET_RSS_MB
    print(
        json.dumps(
            {
                "bench": "report",
                "path": "store -> legacyscan report, both versions",
                "devices": args.devices,
                "sites": args.sites,
                "seed": args.seed,
                "as_of": args.as_of,
                "baseline": f"0.1.0 ({args.baseline})" if args.baseline == BASELINE else args.baseline,
                "store_build_s": {"baseline": base_built, "current": cur_built},  # None: reused from --cache
                "formats": results,
                "min_speedup": min(speedups) if speedups else None,
                "min_cpu_speedup": min((r["cpu_speedup"] for r in results.values() if r["cpu_speedup"]), default=None),
                "max_rss_mb": max_rss,
                "target_speedup": TARGET_SPEEDUP,
                "target_rss_mb": TARGET_RSS_MB,
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "ok": ok,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
