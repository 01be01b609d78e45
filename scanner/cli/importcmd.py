"""``legacyscan import PATH...``: ingest inventory files written by agents (``--output``, file drops).

Same validation as the collector service and the same idempotency (the inventory id), so a share
can be imported again and again: files already stored count as duplicates, never twice.  Source
files are only read, never moved or deleted, so nothing is lost when a file is refused; each
refused file is named with the reason.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from agents.inventory import Inventory, InventoryError
from scanner.cli import CliError, ExitCode, add_common
from scanner.cli.common import store_from

log = logging.getLogger(__name__)

MAX_FILE = 64 * 1024 * 1024
SUFFIXES = (".json", ".json.gz")
BATCH = 200


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import inventory JSON files from agents / file drops",
                       description="Import agent inventory files (*.json, *.json.gz; directories are searched "
                                   "recursively).  Already-imported inventories are skipped as duplicates.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="inventory file or directory")
    p.add_argument("--site", default="", help="file every imported host under this site (default: as recorded)")
    add_common(p)
    p.set_defaults(func=run)


def iter_files(paths: list[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)
                           and not p.name.startswith("."))
            yield from found
        else:
            yield path


def read_inventory(path: Path) -> Inventory:
    """One file -> a validated Inventory, or InventoryError/OSError naming what is wrong."""
    size = path.stat().st_size
    if size > MAX_FILE:
        raise InventoryError(f"file of {size} bytes exceeds the limit of {MAX_FILE}")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                data = fh.read(MAX_FILE * 4 + 1)
        except (OSError, EOFError) as exc:
            raise InventoryError(f"not valid gzip: {exc}") from exc
        if len(data) > MAX_FILE * 4:
            raise InventoryError("decompressed file is too large")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InventoryError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InventoryError("not acceptable JSON: nested too deeply") from exc
    if isinstance(raw, dict) and not raw.get("inventory_id"):
        # A file without an id gets one derived from its content, so importing it again is a duplicate.
        raw["inventory_id"] = "file-sha256-" + hashlib.sha256(data).hexdigest()[:40]
    try:
        return Inventory.from_dict(raw)
    except RecursionError as exc:
        raise InventoryError("document nested too deeply") from exc


def run(args: argparse.Namespace) -> int:
    files = list(iter_files(args.paths))
    if not files:
        raise CliError("no inventory files found", hint=f"give files or directories holding {' or '.join(SUFFIXES)}")
    created = duplicates = refused = 0
    pending: list[tuple[Path, Inventory]] = []

    def flush() -> None:
        nonlocal created, duplicates
        results = store.save_batch([inv for _, inv in pending])
        for (path, inv), new in zip(pending, results, strict=True):
            log.info("%s: %s %s", path, "imported" if new else "duplicate of stored", inv.inventory_id)
        created += sum(results)
        duplicates += len(results) - sum(results)
        pending.clear()

    with store_from(args) as store:
        for path in files:
            try:
                inv = read_inventory(path)
            except (InventoryError, OSError) as exc:
                refused += 1
                print(f"legacyscan: {path}: refused: {exc}", file=sys.stderr)
                continue
            if args.site:
                inv.host.site = args.site
            pending.append((path, inv))
            if len(pending) >= BATCH:
                flush()
        if pending:
            flush()
    print(f"imported {created}, duplicates {duplicates}, refused {refused} (of {len(files)} files)",
          file=sys.stderr)
    return int(ExitCode.ERROR if refused else ExitCode.OK)
