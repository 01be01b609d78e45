"""Bulk import: a Configuration Manager export of 20,000 devices and 3 million program rows.

The export is the per-view CSV files a site administrator saves from SQL Server Management Studio
(``v_R_System``, ``v_GS_OPERATING_SYSTEM``, ``v_GS_WORKSTATION_STATUS``,
``v_GS_ADD_REMOVE_PROGRAMS`` and ``_64``), written here with the documented columns; the program
names, versions and publishers are drawn from the real Add/Remove Programs strings the demo ships
(``scanner/demo_data/windows_software_strings.jsonl``) with version variants, so an estate of many
distinct records repeats the way a real one does.

Measured in the same run, each as a child process (wall, CPU, peak RSS):

* the floor: read every file of the export with the standard ``csv`` module and insert its rows
  with one ``executemany`` per file into a fresh SQLite database (WAL, synchronous=NORMAL, one
  transaction), the cheapest way to land the same rows in a store;
* ``legacyscan import DIR --db sqlite:///…`` into a fresh database.

Target (issue #16): import wall time at most 3x the floor's.  Prints one JSON line.

    flock /tmp/legacyscan-bench.lock python bench/import.py [--devices 20000] [--rows 3000000] [--runs 1]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._measure import measure  # noqa: E402

STRINGS = ROOT / "scanner" / "demo_data" / "windows_software_strings.jsonl"
META = ["GroupID", "RevisionID", "AgentID", "TimeStamp"]
ARP = ["ResourceID", *META, "DisplayName0", "InstallDate0", "ProdID0", "Publisher0", "Version0"]
CAPTIONS = [
    ("Microsoft Windows 10 Enterprise", "10.0.19045", "19045", "1"),
    ("Microsoft Windows 11 Enterprise", "10.0.22631", "22631", "1"),
    ("Microsoft Windows 7 Enterprise ", "6.1.7601", "7601", "1"),
    ("Microsoft Windows Server 2012 R2 Standard", "6.3.9600", "9600", "3"),
    ("Microsoft Windows Server 2019 Standard", "10.0.17763", "17763", "3"),
]


def catalogue(rng: random.Random, size: int = 3000) -> list[tuple[str, str, str, str]]:
    """(name, version, publisher, product code): the real strings and version variants of them."""
    real = [json.loads(line) for line in STRINGS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(size):
        item = real[i % len(real)]
        version = item.get("version") or "1.0"
        if i >= len(real):
            parts = version.split(".")
            parts[-1] = str(int(parts[-1]) + i // len(real)) if parts[-1].isdigit() else parts[-1] + f".{i}"
            version = ".".join(parts)
        out.append((item["name"], version, item.get("publisher") or "", f"{{{i:08X}-0000-0000-0000-{i:012X}}}"))
    rng.shuffle(out)
    return out


def write_export(directory: Path, devices: int, rows: int, seed: int = 16) -> None:
    rng = random.Random(seed)
    programs = catalogue(rng)
    weights = [1.0 / (k + 1) ** 0.8 for k in range(len(programs))]  # a few programs everywhere, a long tail
    per_device = rows // devices
    with open(directory / "v_R_System.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ResourceID", "Netbios_Name0", "Resource_Domain_OR_Workgr0", "Build01", "Client_Version0"])
        for d in range(devices):
            caption = CAPTIONS[d % len(CAPTIONS)]
            w.writerow([16777216 + d, f"PC{d:06d}", "NHSTRUST", f"{caption[1]}.{d % 5000}", "5.00.9122.1000"])
    with open(directory / "v_GS_OPERATING_SYSTEM.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "ResourceID",
                *META,
                "BuildNumber0",
                "Caption0",
                "CSDVersion0",
                "OSArchitecture0",
                "ProductType0",
                "Version0",
            ]
        )
        for d in range(devices):
            caption = CAPTIONS[d % len(CAPTIONS)]
            w.writerow(
                [
                    16777216 + d,
                    "1",
                    "1",
                    "0",
                    "2026-11-30 08:00:00.000",
                    caption[2],
                    caption[0],
                    "Service Pack 1" if caption[2] == "7601" else "NULL",
                    "64-bit",
                    caption[3],
                    caption[1],
                ]
            )
    with open(directory / "v_GS_WORKSTATION_STATUS.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ResourceID", *META, "LastHWScan"])
        for d in range(devices):
            w.writerow(
                [
                    16777216 + d,
                    "1",
                    "1",
                    "0",
                    "2026-11-30 08:00:00.000",
                    f"2026-11-{1 + d % 29:02d} {d % 24:02d}:15:00.000",
                ]
            )
    with (
        open(directory / "v_GS_ADD_REMOVE_PROGRAMS.csv", "w", newline="", encoding="utf-8") as f32,
        open(directory / "v_GS_ADD_REMOVE_PROGRAMS_64.csv", "w", newline="", encoding="utf-8") as f64,
    ):
        w32, w64 = csv.writer(f32), csv.writer(f64)
        w32.writerow(ARP)
        w64.writerow(ARP)
        for d in range(devices):
            picks = rng.choices(programs, weights=weights, k=per_device)
            for k, (name, version, publisher, code) in enumerate(picks):
                (w64 if k % 3 else w32).writerow(
                    [16777216 + d, "1", "1", "0", "2026-11-30 08:00:00.000", name, "20240101", code, publisher, version]
                )


def floor(directory: Path, db: Path) -> None:
    """Every CSV of the export into SQLite with the stdlib only: one executemany per file."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN")
    for i, path in enumerate(sorted(directory.glob("*.csv"))):
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            cols = ", ".join(f"c{j}" for j in range(len(header)))
            conn.execute(f"CREATE TABLE t{i} ({cols})")
            marks = ", ".join("?" * len(header))
            conn.executemany(f"INSERT INTO t{i} VALUES ({marks})", reader)  # noqa: S608 - our own names
    conn.execute("COMMIT")
    conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--floor-only", nargs=2, metavar=("DIR", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_only:
        floor(Path(args.floor_only[0]), Path(args.floor_only[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="legacyscan-bench-import-") as tmp:
        work = Path(tmp)
        export = work / "export"
        export.mkdir()
        write_export(export, args.devices, args.rows)
        size = sum(p.stat().st_size for p in export.glob("*.csv"))
        floor_db, import_db = work / "floor.sqlite", work / "import.sqlite"

        def fresh(*dbs: Path) -> None:
            for db in dbs:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)

        floor_runs, import_runs = [], []
        for _ in range(args.runs):  # interleaved: both see the same machine load
            fresh(floor_db)
            floor_runs.append(measure([sys.executable, __file__, "--floor-only", str(export), str(floor_db)], runs=1))
            fresh(import_db)
            import_runs.append(
                measure(
                    [
                        sys.executable,
                        "-m",
                        "scanner.cli",
                        "import",
                        str(export),
                        "--db",
                        f"sqlite:///{import_db}",
                        "-q",
                    ],
                    runs=1,
                    cwd=str(ROOT),
                )
            )
        with sqlite3.connect(import_db) as conn:
            stored = conn.execute("SELECT count(*), sum(software_count) FROM inventories").fetchone()
    best_floor = min(floor_runs, key=lambda r: r["wall_s"])
    best_import = min(import_runs, key=lambda r: r["wall_s"])
    ratio = best_import["wall_s"] / best_floor["wall_s"]
    print(
        json.dumps(
            {
                "bench": "import-configmgr",
                "devices": args.devices,
                "program_rows": args.rows,
                "export_mb": round(size / 2**20, 1),
                "stored_inventories": stored[0],
                "stored_software": stored[1],
                "floor": best_floor,
                "import": best_import,
                "floor_runs": [r["wall_s"] for r in floor_runs],
                "import_runs": [r["wall_s"] for r in import_runs],
                "ratio": round(ratio, 2),
                "cpu_ratio": round(best_import["cpu_s"] / best_floor["cpu_s"], 2),
                "target_ratio": 3.0,
                "ok": ratio <= 3.0 and stored[0] == args.devices,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
