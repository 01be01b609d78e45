"""Benchmark: ``eol identify`` throughput for installed-software records.

Why this shape: an estate has far fewer distinct strings than records (every ward PC carries the
same Chrome, Java and Office builds), so ``eol identify`` remembers its answers by the whole
normalised record (``Remembered``) and the per-record cost is that lookup.  The benchmark draws
1,000,000 records from the labelled corpus and the bundled host captures with a Zipf-like
repetition (a few very common entries, a long tail), runs each through
``Remembered(Evaluation(...)).answer`` (the contract path, as ``eol identify`` runs it), and
prints ONE JSON line: records/s, distinct records, peak RSS, and the cold (first-sight,
un-memoised) rate for the same distinct records as the reference figure.

Usage: ``python bench/identify.py [--records N] [--seed S]``.  Target: >= 200,000 records/s.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eol_data.catalog import Catalog  # noqa: E402
from scanner.identify.answers import Evaluation, Remembered  # noqa: E402
from scanner.identify.registry import IdentifyContext, evaluate  # noqa: E402
from scanner.model import Policy  # noqa: E402
from tests.corpus_input import software_record_from_capture, software_record_from_corpus  # noqa: E402

AS_OF = date(2026, 11, 22)
TARGET = 200_000


def pool() -> list[dict[str, Any]]:
    """Distinct software records: the Windows software corpus plus every Windows/macOS capture entry."""
    records: list[dict[str, Any]] = []
    corpus = ROOT / "tests" / "fixtures" / "corpus" / "windows_software.jsonl"
    for line in corpus.read_text("utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            records.append(software_record_from_corpus(raw["raw"], raw["raw_format"]))
    for path in sorted((ROOT / "scanner" / "demo_data" / "captures").glob("*/*.json")):
        capture = json.loads(path.read_text("utf-8"))
        platform = str(capture.get("platform") or "")
        if platform not in ("windows", "macos"):
            continue
        for entry in capture.get("software") or []:
            records.append(software_record_from_capture(entry, platform))
    return records


def stream(records: list[dict[str, Any]], n: int, seed: int) -> Iterator[dict[str, Any]]:
    """``n`` records with Zipf(1.1)-like repetition; a fresh dict per record, as a JSON-lines parser
    would yield (built lazily, so peak RSS measures the identifier, not a million prepared inputs)."""
    rng = random.Random(seed)
    shuffled = records[:]
    rng.shuffle(shuffled)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(shuffled))]
    picks = rng.choices(range(len(shuffled)), weights=weights, k=n)
    return (dict(shuffled[i]) for i in picks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args(argv)

    catalog = Catalog()
    distinct = pool()
    work = stream(distinct, args.records, args.seed)
    policy = Policy()

    cold_ctx = IdentifyContext(catalog)
    t0 = time.perf_counter()
    for rec in distinct:
        evaluate(rec, cold_ctx, AS_OF, policy)
    cold_s = time.perf_counter() - t0

    answers = Remembered(Evaluation(IdentifyContext(catalog), AS_OF, policy))
    statuses: dict[str, int] = {}
    t0 = time.perf_counter()
    for rec in work:
        out = answers.answer(rec)
        st = out["status"]
        statuses[st] = statuses.get(st, 0) + 1
    elapsed = time.perf_counter() - t0

    rate = args.records / elapsed
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "bench": "identify",
                "records": args.records,
                "distinct_records": len({json.dumps(r, sort_keys=True) for r in distinct}),
                "seconds": round(elapsed, 3),
                "records_per_s": round(rate),
                "cold_records_per_s": round(len(distinct) / cold_s) if cold_s else None,
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "target_records_per_s": TARGET,
                "meets_target": rate >= TARGET,
                "statuses": dict(sorted(statuses.items())),
            }
        )
    )
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
