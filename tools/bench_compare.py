"""The benchmarks in ``bench/`` of two commits, side by side in one run (#18: "within 10 % of their
figures before the change ... or better").

    python tools/bench_compare.py OLD NEW [--bench NAME ...] [--rounds N] [--args NAME='...'] [--work DIR]

Both commits are extracted with ``git archive`` into snapshot folders (``--work``, kept between
runs) and byte-compiled once.  Each benchmark's script runs from each snapshot - the old script with
the old code, the new one with the new code (``PYTHONPATH`` and a ``legacyscan`` on ``PATH`` point
at the snapshot; checked before the first run) - alternating old/new, then new/old, for
``--rounds`` rounds, all of one benchmark's rounds under ``flock /tmp/legacyscan-bench.lock``,
with the load average read before and after every run.

``report`` is the exception: its script at the old commit measured another path (an in-memory
estate, not ``legacyscan report`` from a store), so the NEW script runs with ``--baseline OLD``,
which times both versions' ``legacyscan report`` itself, format by format in the same run.

Only figures of legacyscan's own code are compared (never the peer's or the floor's); CPU time
and peak RSS where a script reports them, otherwise rates and walls.  A figure is worse when the
new median is more than 10 % above the old one (lower is better) or more than 10 % below it
(higher is better).  ``judged: false`` figures (wall times beside a CPU figure, on a shared
machine) are shown but not counted.

Prints one JSON line per benchmark line (a script may print several: one per backend or
scenario) and exits 1 when a judged figure is worse, 2 when a benchmark printed nothing.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path("/tmp/legacyscan-bench.lock")  # noqa: S108 - the lock every helper benchmarks under
TOLERANCE = 0.10
PACKAGES = ("agents", "scanner", "eol_data", "reports", "bench", "tests")
SIDE = "{side}"  # in a paired benchmark's figure path: "baseline" (old) or "current" (new)


@dataclass(frozen=True)
class Figure:
    """One figure of a benchmark's JSON line: a dotted path (``*`` = every key at that level, a
    number = that list item), whether lower is better, and whether the 10 % rule counts it."""

    path: str
    lower_is_better: bool = True
    judged: bool = True


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...]
    figures: tuple[Figure, ...]
    paired: bool = False  # the new script times both sides (report.py --baseline OLD)
    stand_in_peer: bool = False  # the peer is not installed: a stand-in lets the script time ours
    note: str = ""


def _own(prefix: str, wall: bool = True) -> tuple[Figure, ...]:
    """CPU and peak RSS judged, wall shown, for a ``bench/_measure.py`` block at ``prefix``."""
    own = (Figure(f"{prefix}.cpu_s"), Figure(f"{prefix}.peak_rss_mb"))
    return (*own, Figure(f"{prefix}.wall_s", judged=False)) if wall else own


BENCHES: tuple[Bench, ...] = (
    Bench(
        "agent_footprint",
        "agent_footprint.py",
        ("--repeat", "3"),
        _own("agent"),
        stand_in_peer=True,
        note="fusioninventory-agent missing here: a stand-in peer lets the script run; only the agent's figures count",
    ),
    Bench(
        "discover",
        "discover.py",
        ("--repeat", "1"),
        (
            Figure("legacyscan_wall_s"),
            Figure("runs.0.legacyscan.services_with_verdict", lower_is_better=False),
        ),
        note="needs root; nmap (the peer) dominates the run's time",
    ),
    Bench(
        "eol_identify_cli",
        "eol_identify_cli.py",
        ("--records", "200000", "--runs", "3"),
        (*_own("legacyscan"), Figure("legacyscan.records_per_s", lower_is_better=False, judged=False)),
    ),
    Bench(
        "identify",
        "identify.py",
        ("--records", "300000"),
        (
            Figure("records_per_s", lower_is_better=False),
            Figure("cold_records_per_s", lower_is_better=False),
            Figure("peak_rss_mb"),
        ),
    ),
    Bench("import", "import.py", ("--devices", "4000", "--rows", "600000", "--runs", "1"), _own("import")),
    Bench(
        "ingest",
        "ingest.py",
        ("--backend", "both", "--uploads", "800"),
        (
            Figure("server_cpu_ms_per_inventory"),
            Figure("db_cpu_ms_per_inventory"),
            Figure("inventories_per_s", lower_is_better=False, judged=False),
            Figure("p95_latency_ms", judged=False),
        ),
    ),
    Bench(
        "ingest_cost",
        "ingest_cost.py",
        ("--uploads", "200", "--null-uploads", "0"),
        tuple(
            Figure(f"cpu_ms_per_upload.server_{piece}")
            for piece in (
                "json_parse",
                "validate_packages",
                "encode_stored_form",
                "accept_upload_total",
                "sqlite_commit",
            )
        ),
    ),
    Bench("local_scan", "local_scan.py", ("3",), _own("legacyscan")),
    Bench(
        "report",
        "report.py",
        ("--runs", "1"),
        (*_own(f"formats.*.{SIDE}"),),
        paired=True,
        note="paired: the new script's --baseline OLD; stores cached in WORK/report-cache",
    ),
    Bench(
        "rollup",
        "rollup.py",
        ("--devices", "2000", "--agents", "4"),
        (
            Figure("ingest_per_s", lower_is_better=False),
            *_own("trust_a_report_json"),
            *_own("trust_a_export_benchmark"),
            *_own("region_benchmark_html"),
        ),
    ),
    Bench(
        "ssh_scan_fleet",
        "ssh_scan.py",
        ("--scenario", "fleet", "--fleet-hosts", "1000"),
        (
            Figure("legacyscan.cpu_s"),
            Figure("legacyscan.wall_s", judged=False),
            Figure("legacyscan.hosts_per_s", lower_is_better=False, judged=False),
        ),
        note="needs root",
    ),
    Bench(
        "ssh_scan_legacy",
        "ssh_scan.py",
        ("--scenario", "legacy", "--repeat", "1"),
        (
            Figure("all.legacyscan_cpu_s"),
            Figure("all.legacyscan_wall_s", judged=False),
            Figure("breakdown.legacyscan_fixed_cpu_s"),
            Figure("breakdown.legacyscan_cpu_ms_per_further_host"),
            Figure("breakdown.ingest_cpu_ms_per_further_inventory"),
        ),
        note="needs root, sshd and dropbear",
    ),
    Bench(
        "winrm_scan",
        "winrm_scan.py",
        ("100",),
        (
            Figure("legacyscan_c1.client_cpu_ms_per_probe"),
            Figure("legacyscan_c16.client_cpu_ms_per_probe"),
            Figure("legacyscan_c1.probes_per_s", lower_is_better=False, judged=False),
            Figure("legacyscan_c16.probes_per_s", lower_is_better=False, judged=False),
        ),
    ),
)
NOT_BENCHMARKS = {"ssh_fleet": "the simulated fleet ssh_scan_fleet starts (no figures of its own)", "_measure": ""}


# -- pure parts ------------------------------------------------------------------------------------


def line_key(line: dict[str, Any]) -> str:
    """A benchmark line's name: its ``bench`` (or ``benchmark``), and its backend or scenario."""
    name = str(line.get("bench") or line.get("benchmark") or "?")
    for part in ("backend", "scenario"):
        if part in line:
            name += f"/{line[part]}"
    return name


def extract(line: Any, path: str) -> dict[str, float]:
    """The numbers at ``path`` in ``line``, by their concrete path (``*`` expanded; missing, null
    and non-numeric values left out)."""

    def walk(node: Any, parts: list[str], done: list[str]) -> Iterator[tuple[str, float]]:
        if not parts:
            if isinstance(node, int | float) and not isinstance(node, bool):
                yield ".".join(done), float(node)
            return
        head, rest = parts[0], parts[1:]
        if isinstance(node, dict):
            keys = sorted(node) if head == "*" else [head] if head in node else []
            for key in keys:
                yield from walk(node[key], rest, [*done, str(key)])
        elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
            yield from walk(node[int(head)], rest, [*done, head])

    return dict(walk(line, path.split("."), []))


def worse(old: float, new: float, lower_is_better: bool, tolerance: float = TOLERANCE) -> bool:
    """More than ``tolerance`` worse: above old x (1 + t) when lower is better, below old x (1 - t)
    when higher is better."""
    if lower_is_better:
        return new > old * (1 + tolerance)
    return new < old * (1 - tolerance)


def compare(old_runs: Sequence[float], new_runs: Sequence[float], figure: Figure) -> dict[str, Any]:
    """Medians of both sides, the ratio new/old and the verdict of the 10 % rule."""
    old, new = statistics.median(old_runs), statistics.median(new_runs)
    return {
        "old": round(old, 4),
        "new": round(new, 4),
        "ratio": round(new / old, 3) if old else None,
        "better": "lower" if figure.lower_is_better else "higher",
        "judged": figure.judged,
        "worse": figure.judged and worse(old, new, figure.lower_is_better),
        "old_runs": list(old_runs),
        "new_runs": list(new_runs),
    }


def side_figures(
    lines: Sequence[dict[str, Any]], figures: Sequence[Figure], side: str = ""
) -> dict[str, dict[str, float]]:
    """Per line key, every figure's concrete paths and values (``{side}`` filled in and then named
    without it, so a paired line's baseline and current figures share their names)."""
    out: dict[str, dict[str, float]] = {}
    for line in lines:
        values = out.setdefault(line_key(line), {})
        for figure in figures:
            path = figure.path.replace(SIDE, side)
            for concrete, value in extract(line, path).items():
                name = concrete.replace(f".{side}.", ".") if side else concrete
                values[name] = value
    return out


def figure_of(figures: Sequence[Figure], name: str) -> Figure:
    """The declared figure a concrete name came from (``*``, list items and ``{side}`` matched)."""
    parts = name.split(".")
    for figure in figures:
        pattern = [p for p in figure.path.split(".") if p != SIDE]
        if len(pattern) == len(parts) and all(p in ("*", q) for p, q in zip(pattern, parts, strict=True)):
            return figure
    raise KeyError(name)


def compare_runs(
    bench: Bench, old_lines: Sequence[Sequence[dict[str, Any]]], new_lines: Sequence[Sequence[dict[str, Any]]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per line key, per figure: the comparison over every round's lines of both sides."""
    old_side, new_side = ("baseline", "current") if bench.paired else ("", "")
    olds = [side_figures(lines, bench.figures, old_side) for lines in old_lines]
    news = [side_figures(lines, bench.figures, new_side) for lines in new_lines]
    keys = sorted({k for run in olds + news for k in run})
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for key in keys:
        names = sorted({n for run in olds + news for n in run.get(key, {})})
        rows: dict[str, dict[str, Any]] = {}
        for name in names:
            old = [run[key][name] for run in olds if name in run.get(key, {})]
            new = [run[key][name] for run in news if name in run.get(key, {})]
            if old and new:
                rows[name] = compare(old, new, figure_of(bench.figures, name))
        out[key] = rows
    return out


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects a benchmark printed, one a line (other output ignored)."""
    out = []
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


# -- running ---------------------------------------------------------------------------------------


@dataclass
class Run:
    side: str
    command: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""
    seconds: float = 0.0
    returncode: int = 0
    error: str = ""


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def snapshot(commit: str, work: Path) -> Path:
    """The commit's tree under ``work`` (``git archive``, extracted once), byte-compiled, with a
    ``.bin`` of ``legacyscan``/``legacyscan-agent`` shims that run it."""
    folder = work / f"snap-{commit[:12]}"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        (folder / ".complete").write_text(commit, "utf-8")
    present = [str(folder / p) for p in PACKAGES if (folder / p).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *present], check=False, stdout=subprocess.DEVNULL)
    shims = folder / ".bin"
    shims.mkdir(exist_ok=True)
    py = shlex.quote(sys.executable)
    for name, module in (("legacyscan", "scanner.cli"), ("legacyscan-agent", "agents.agent")):
        shim = shims / name
        shim.write_text(f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(folder))} exec {py} -m {module} "$@"\n', "utf-8")
        shim.chmod(0o755)
    return folder


def stand_in_peer(work: Path) -> Path:
    """A ``fusioninventory-agent`` that writes one file to ``--local DIR`` and nothing else."""
    folder = work / "stand-in"
    folder.mkdir(parents=True, exist_ok=True)
    peer = folder / "fusioninventory-agent"
    peer.write_text('#!/bin/sh\n[ "$1" = --local ] && echo stand-in > "$2/stand-in.ocs"\nexit 0\n', "utf-8")
    peer.chmod(0o755)
    return folder


def environment(folder: Path, bench: Bench, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(folder)
    path = [str(folder / ".bin"), env.get("PATH", "")]
    if bench.stand_in_peer and shutil.which("fusioninventory-agent") is None:
        path.insert(1, str(stand_in_peer(work)))
    env["PATH"] = os.pathsep.join(path)
    if bench.paired:  # report.py extracts the baseline with git archive from its own (snapshot) root
        env["GIT_DIR"] = git("rev-parse", "--absolute-git-dir")
    return env


def check_imports(folder: Path) -> None:
    """The snapshot's packages are the ones imported (not an installed copy)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(folder)
    code = "import scanner, agents; print(scanner.__file__); print(agents.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True
    )
    for line in out.stdout.split():
        if not Path(line).resolve().is_relative_to(folder.resolve()):
            raise SystemExit(f"{folder}: imports {line}, not the snapshot's code")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text("ascii").split()[:3])


def run_once(side: str, folder: Path, bench: Bench, argv: list[str], work: Path, timeout: float) -> Run:
    """One run of the script from ``folder`` (the caller holds the benchmark lock)."""
    command = [sys.executable, str(folder / "bench" / bench.script), *argv]
    run = Run(side, " ".join(shlex.quote(a) for a in command), load_before=loadavg())
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            command,
            env=environment(folder, bench, work),
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        run.returncode, run.lines = proc.returncode, json_lines(proc.stdout)
        if not run.lines:
            run.error = (proc.stderr or proc.stdout)[-1500:]
    except subprocess.TimeoutExpired:
        run.error = f"timed out after {timeout:.0f} s"
    run.seconds = round(time.perf_counter() - t0, 1)
    run.load_after = loadavg()
    return run


@contextmanager
def bench_lock() -> Iterator[None]:
    """``flock /tmp/legacyscan-bench.lock`` (every round of one benchmark, both sides, or with
    ``--hold`` every benchmark asked for): the rounds follow each other undisturbed."""
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def run_bench(
    bench: Bench,
    old: tuple[str, Path],
    new: tuple[str, Path],
    rounds: int,
    extra: list[str],
    work: Path,
    timeout: float,
) -> list[Run]:
    """``rounds`` rounds: old then new, new then old, ...; a paired benchmark: the new script only."""
    return _rounds(bench, old, new, rounds, [*bench.args, *extra], work, timeout)


def _rounds(
    bench: Bench, old: tuple[str, Path], new: tuple[str, Path], rounds: int, args: list[str], work: Path, timeout: float
) -> list[Run]:
    if bench.paired:
        args = [*args, "--baseline", old[0], "--cache", str(work / "report-cache")]
        return [run_once("paired", new[1], bench, args, work, timeout) for _ in range(rounds)]
    runs: list[Run] = []
    for n in range(rounds):
        order = [("old", old[1]), ("new", new[1])]
        for side, folder in order if n % 2 == 0 else order[::-1]:
            if (folder / "bench" / bench.script).exists():
                runs.append(run_once(side, folder, bench, args, work, timeout))
            else:
                runs.append(Run(side, "", error=f"bench/{bench.script} does not exist at this commit"))
    return runs


def report(bench: Bench, old: str, new: str, runs: list[Run]) -> list[dict[str, Any]]:
    """The JSON lines printed for one benchmark: one per line key its script printed."""
    olds = [r.lines for r in runs if r.side in ("old", "paired") and r.lines]
    news = [r.lines for r in runs if r.side in ("new", "paired") and r.lines]
    compared = compare_runs(bench, olds, news)
    base = {
        "old": old[:12],
        "new": new[:12],
        "commands": sorted({r.command for r in runs if r.command}),
        "runs": [
            {
                "side": r.side,
                "load_before": r.load_before,
                "load_after": r.load_after,
                "seconds": r.seconds,
                "returncode": r.returncode,
                **({"error": r.error} if r.error else {}),
            }
            for r in runs
        ],
        **({"note": bench.note} if bench.note else {}),
    }
    if not compared:
        return [{"bench": bench.name, "line": None, "figures": {}, "worse": [], "failed": True, **base}]
    return [
        {
            "bench": bench.name,
            "line": key,
            "figures": rows,
            "worse": [name for name, row in rows.items() if row["worse"]],
            **base,
            **({} if rows else {"failed": True}),  # a figure printed by one side only: nothing compared
        }
        for key, rows in compared.items()
    ]


def main(argv: list[str] | None = None) -> int:
    names = [b.name for b in BENCHES]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("old", help="the commit before the change (e.g. 5edb946^)")
    ap.add_argument("new", help="the commit after it (e.g. main)")
    ap.add_argument("--bench", nargs="+", choices=names, default=names, metavar="NAME", help=", ".join(names))
    ap.add_argument("--rounds", type=int, default=2, help="runs per side, alternating (default: %(default)s)")
    ap.add_argument(
        "--args", action="append", default=[], metavar="NAME=ARGS", help="more options for one benchmark's script"
    )
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "legacyscan-bench-compare"))
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per script run")
    ap.add_argument(
        "--hold", action="store_true", help="take the benchmark lock once for every benchmark asked (default: each)"
    )
    args = ap.parse_args(argv)
    extra: dict[str, list[str]] = {}
    for item in args.args:
        name, _, rest = item.partition("=")
        extra.setdefault(name, []).extend(shlex.split(rest))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    old = git("rev-parse", f"{args.old}^{{commit}}")
    new = git("rev-parse", f"{args.new}^{{commit}}")
    old_dir, new_dir = snapshot(old, work), snapshot(new, work)
    check_imports(old_dir)
    check_imports(new_dir)
    status = 0
    by_name = {b.name: b for b in BENCHES}
    held = bench_lock() if args.hold else nullcontext()
    with held:
        for bench in (by_name[name] for name in dict.fromkeys(args.bench)):  # in the order asked
            with nullcontext() if args.hold else bench_lock():
                runs = run_bench(
                    bench, (old, old_dir), (new, new_dir), args.rounds, extra.get(bench.name, []), work, args.timeout
                )
            for line in report(bench, old, new, runs):
                print(json.dumps(line), flush=True)
                if line.get("failed"):
                    status = max(status, 2)
                elif line["worse"]:
                    status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
