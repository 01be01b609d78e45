"""Benchmark: ``legacyscan eol identify`` end to end, as a pipe, against a bare JSON Lines round trip.

Why this shape: other tools call ``eol identify`` as a filter over very large inputs, so what they
pay is process start + reading + parsing + identifying + writing.  The named peer is the floor any
Python JSON Lines filter pays: a child that only ``json.loads`` and ``json.dumps`` each line.  The
input is drawn from the labelled Windows software corpus with estate-like repetition (Zipf-like:
a few very common applications, a long tail) plus some version variety.

Prints ONE JSON line: records, distinct lines, wall/CPU seconds and peak RSS for both, records/s,
and the ratio to the peer.  Usage: ``python bench/eol_identify_cli.py [--records N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shlex
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._measure import measure  # noqa: E402

PEER = "import sys,json\nw=sys.stdout.write\nfor l in sys.stdin:\n    w(json.dumps(json.loads(l))+'\\n')\n"


def records(n: int, seed: int) -> Iterator[str]:
    base: list[dict[str, str]] = []
    for line in (ROOT / "tests" / "fixtures" / "corpus" / "windows_software.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)["raw"]
        base.append(
            {
                "kind": "software",
                "source": "windows-registry",
                "name": str(raw.get("DisplayName") or raw.get("Name") or ""),
                "version": str(raw.get("DisplayVersion") or raw.get("Version") or ""),
                "publisher": str(raw.get("Publisher") or ""),
            }
        )
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) for rank in range(len(base))]
    cumulative = list(itertools.accumulate(weights))
    for i in range(n):
        rec = rng.choices(base, cum_weights=cumulative, k=1)[0]
        if i % 100 == 0:  # some version variety: the long tail of builds
            rec = {**rec, "version": f"{rec['version']}.{rng.randrange(2000)}"}
        yield json.dumps(rec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    seen: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "records.jsonl"
        with open(data, "w", encoding="utf-8") as fh:  # streamed: a forked child starts as a copy of us
            for line in records(args.records, args.seed):
                seen.add(line)
                fh.write(line + "\n")
        distinct = len(seen)
        seen.clear()
        peer_py = Path(tmp) / "peer.py"
        peer_py.write_text(PEER, "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
        env["PYTHONPATH"] = str(ROOT)
        env["XDG_DATA_HOME"] = str(Path(tmp) / "xdg")  # the bundled snapshot, no site catalogue
        py = shlex.quote(sys.executable)
        ours = measure(
            ["sh", "-c", f"{py} -m scanner.cli eol identify --as-of 2026-11-22 < {data}"],
            runs=args.runs,
            env=env,
            cwd=tmp,
        )
        peer = measure(["sh", "-c", f"{py} {peer_py} < {data}"], runs=args.runs, env=env, cwd=tmp)
    print(
        json.dumps(
            {
                "benchmark": "eol_identify_cli",
                "records": args.records,
                "distinct_lines": distinct,
                "legacyscan": {**ours, "records_per_s": round(args.records / ours["wall_s"])},
                "peer": {
                    "name": "python json.loads+json.dumps per line",
                    **peer,
                    "records_per_s": round(args.records / peer["wall_s"]),
                },
                "wall_ratio_vs_peer": round(ours["wall_s"] / peer["wall_s"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
