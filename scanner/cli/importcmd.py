"""``legacyscan import [--format NAME] PATH...``: bring in inventories from files.

Our own agent outputs and file drops, raw collection documents, and what trusts already run
(Configuration Manager, Intune, Defender for Endpoint, GLPI, osquery, CycloneDX and SPDX SBOMs):
``scanner.imports.IMPORTERS`` is the registry.  Each file's format is detected from its head (or
given with ``--format``) and the file is converted whole before anything of it is stored, so a
file is either imported or refused, never half; a refusal names the file, every format tried and
why each did not fit, and the run goes on with the next file.  Source files are only read, never
moved or deleted.  Inventory ids are stable (derived from the source, the device and the time of
its data), so importing the same export again stores nothing twice.

Exit codes: 0 every file imported (or already stored), 1 one or more files refused (the others
were imported), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agents.inventory import Inventory, Software
from agents.wire import _compact
from scanner.cli.base import CliError, ExitCode, Subparsers, add_common
from scanner.cli.common import LazyStore
from scanner.imports import IMPORTERS, by_name, names
from scanner.imports.base import Importer, ImportRefused, SoftwareRecords, Source, find_unencodable, merge
from scanner.store.sqlite import EncodedInventory, Store, StoreError, encode_checked, encode_with_software_checked
from scanner.terminal import printable  # the one terminal-safety helper (#19 item 10)

if TYPE_CHECKING:
    from scanner.privacy import Privacy

log = logging.getLogger(__name__)

# What a directory walk picks up (a named file is always tried, whatever its name).
SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ".xml", ".log", ".xlsx")
BATCH = 500


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "import",
        help="import inventories: agent files, ConfigMgr, Intune, Defender, GLPI, osquery, SBOMs",
        description="Import inventory files.  Each file's format is detected (or given with --format): "
        + ", ".join(names())
        + ".  Directories are searched recursively for "
        + ", ".join(SUFFIXES)
        + " (and .gz) files.  A file is imported whole or refused "
        "with the reason; importing the same files again stores nothing twice.  "
        "See docs/imports.md for how to export each source.",
        epilog="Exit codes: 0 every file imported, 1 some files refused (the others were imported), 2 usage.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="file or directory to import")
    p.add_argument(
        "--format",
        choices=names(),
        metavar="NAME",
        help="read every file as this format instead of detecting it: " + ", ".join(names()),
    )
    p.add_argument("--list-formats", action="store_true", help="list the formats legacyscan imports and exit")
    p.add_argument("--site", default="", help="file every imported host under this site (default: as recorded)")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="legacyscan.toml whose [privacy] table hashes or drops serial "
        "numbers and user SIDs before storing (default: "
        "legacyscan.toml here if present; docs/privacy.md)",
    )
    add_common(p)
    p.set_defaults(func=run)


def iter_files(paths: Sequence[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if not p.is_dir()
                and not p.name.startswith(".")
                and p.name.lower().removesuffix(".gz").endswith(SUFFIXES)
            )
            yield from found
        else:
            yield path


class Refused(Exception):
    """A file no importer could read; ``tried`` pairs each format with its reason."""

    def __init__(self, tried: list[tuple[str, str]], recognised: Sequence[str] = ()) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in tried))
        self.tried = tried
        self.recognised = list(recognised)  # the formats whose detection matched (their conversion failed)


def convert_file(
    path: Path, forced: Importer | None = None, records: SoftwareRecords | None = None
) -> tuple[Importer, list[Inventory]]:
    """The importer that reads ``path`` and everything it yields, or ``Refused``.  ``records``: the
    run's software records (a file read on its own gets its own)."""
    try:
        source = Source(path, records)
    except ImportRefused as exc:
        raise Refused([("file", str(exc))]) from exc
    except OSError as exc:
        raise Refused([("file", exc.strerror or str(exc))]) from exc
    head = source.head()
    tried: list[tuple[str, str]] = []
    recognised: list[str] = []
    for importer in [forced] if forced else IMPORTERS:
        if forced is None:
            why = importer.detect(head)
            if why:
                tried.append((importer.name, why))
                continue
        recognised.append(importer.name)
        try:
            invs = list(importer.convert(source))
        except ImportRefused as exc:
            tried.append((importer.name, str(exc)))
            continue
        except OSError as exc:
            tried.append((importer.name, f"cannot read: {exc}"))
            continue
        except RecursionError:
            tried.append((importer.name, "nested too deeply"))
            continue
        except Exception as exc:  # noqa: BLE001 - one hostile file must never abort a folder import
            log.debug("importer %s failed on %s", importer.name, path, exc_info=True)
            tried.append((importer.name, f"unexpected {type(exc).__name__}: {exc} (please report this file's shape)"))
            continue
        if not invs:
            tried.append((importer.name, "the file holds no device or host"))
            continue
        return importer, invs
    raise Refused(tried, recognised)


class SoftwareJson:
    """Compact JSON of each distinct software record, made once per import run: an export's program
    rows are a few thousand distinct records repeated across thousands of devices, and the run's
    ``SoftwareRecords`` makes each one object.  Keyed by identity, each entry holding its record (so
    an ``id()`` is never reused while it is kept); bounded.  Owned by the run (``ImportRun``)."""

    def __init__(self, limit: int = 500_000) -> None:
        self._by_id: dict[int, tuple[Software, bytes]] = {}
        self._limit = limit

    def array(self, software: list[Software]) -> bytes:
        """``software`` as a compact JSON array (the bytes ``encode_body`` would write for it)."""
        by_id = self._by_id
        parts = []
        for sw in software:
            hit = by_id.get(id(sw))
            if hit is None or hit[0] is not sw:
                if len(by_id) >= self._limit:
                    by_id.clear()
                hit = by_id[id(sw)] = (
                    sw,
                    json.dumps(sw, default=_compact, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                )
            parts.append(hit[1])
        return b"[" + b",".join(parts) + b"]"


@dataclass(slots=True)
class ImportRun:
    """What one ``legacyscan import`` keeps across its files, and nothing outlives it: the software
    records every importer takes its records from (equal records of two exports of one device are
    one object, which ``merge`` relies on) and the JSON made of each."""

    records: SoftwareRecords = field(default_factory=SoftwareRecords)
    fragments: SoftwareJson = field(default_factory=SoftwareJson)


def encode(inv: Inventory, fragments: SoftwareJson | None = None) -> EncodedInventory:
    """The stored form, made now so a value nothing can store (a lone surrogate) refuses its file
    here, naming the field, instead of failing a batch of other files in the store.  ``fragments``:
    the run's (a fresh one without)."""
    if fragments is None:
        fragments = SoftwareJson()
    try:
        if inv.software:
            body, exact = encode_with_software_checked(inv, fragments.array(inv.software))
        else:
            body, exact = encode_checked(inv)
    except UnicodeEncodeError as exc:
        where = find_unencodable(inv.to_dict(), "") or "a value"
        raise ImportRefused(f"{where}: not storable text (a lone surrogate?)") from exc
    return EncodedInventory(
        inv.inventory_id,
        inv.host,
        inv.os,
        inv.collector,
        inv.collected_at,
        len(inv.software),
        body,
        source=inv if exact else None,  # judged as it is, not decoded back
    )


class Saver:
    """Stores encoded inventories in batches through the store's batch path; a batch the store
    refuses is retried one by one, so one bad record never fails its neighbours."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[tuple[str, EncodedInventory]] = []
        self.created = self.duplicates = self.failed = 0

    def add(self, label: str, item: EncodedInventory) -> None:
        self.pending.append((label, item))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        outcomes: list[bool | None]
        try:
            outcomes = list(self.store.save_batch([item for _, item in batch]))
        except Exception as exc:  # noqa: BLE001 - one bad record never fails its neighbours (#19 item 2)
            if isinstance(exc, CliError) or (isinstance(exc, StoreError) and exc.unavailable):
                # The store itself cannot be opened or written (read-only, newer schema, down):
                # every record would fail the same way, one error line (and one wait) each.
                raise CliError(
                    f"{exc}; stopped after importing {self.created}, duplicates {self.duplicates}",
                    hint="check --db (or LEGACYSCAN_DB); what was imported stays stored, "
                    "and importing the same files again stores nothing twice",
                ) from exc
            outcomes = []
            for label, item in batch:
                try:
                    outcomes.extend(self.store.save_batch([item]))
                except Exception as one:  # noqa: BLE001 - named and counted as refused
                    why = str(one) if isinstance(one, StoreError) else f"unexpected {type(one).__name__}: {one}"
                    outcomes.append(None)
                    print(f"legacyscan: {printable(label)}: not stored: {printable(why)}", file=sys.stderr)
        for (label, item), new in zip(batch, outcomes, strict=True):
            if new is not None:
                log.info("%s: %s %s", printable(label), "imported" if new else "duplicate of stored", item.inventory_id)
        self.created += outcomes.count(True)
        self.duplicates += outcomes.count(False)
        self.failed += outcomes.count(None)


def _refuse(path: Path, tried: list[tuple[str, str]], recognised: Sequence[str] = ()) -> None:
    """One refusal on stderr: why the file could not be opened; or, for each format that recognised
    it, why reading it failed; or, when none did, every format tried and why it did not fit."""
    shown = printable(str(path))
    if len(tried) == 1 and tried[0][0] == "file":
        print(f"legacyscan: {shown}: refused: {printable(tried[0][1])}", file=sys.stderr)
        return
    failed = [(name, why) for name, why in tried if name in recognised]
    if failed:
        for name, why in failed:
            print(f"legacyscan: {shown}: refused: {printable(why)} (read as {name})", file=sys.stderr)
        return
    lines = [f"legacyscan: {shown}: refused: not a format legacyscan imports; tried:"]
    lines += [f"  {name}: {printable(why)}" for name, why in tried]
    print("\n".join(lines), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.list_formats:
        for importer in IMPORTERS:
            print(f"{importer.name:12} {importer.title}")
        return int(ExitCode.OK)
    files = _files(args)
    forced = by_name(args.format) if args.format else None
    from scanner.cli.common import privacy_from

    privacy = privacy_from(args)
    refused = 0
    joined: _Joined = {}
    memo = ImportRun()
    with LazyStore(args) as store:  # nothing stored, no database file created
        saver = Saver(store)  # type: ignore[arg-type]
        for path in files:
            if not _import_file(path, forced, args.site, privacy, joined, saver, memo):
                refused += 1
        refused += _store_joined(joined, privacy, saver, memo)
        saver.flush()
    print(
        f"imported {saver.created}, duplicates {saver.duplicates}, refused {refused} (of {len(files)} files)",
        file=sys.stderr,
    )
    return int(ExitCode.ERROR if refused or saver.failed else ExitCode.OK)


# Formats whose files each hold part of a device (ConfigMgr's per-view exports): importer name ->
# (importer, devices by inventory id), merged across files and stored at the end.
_Joined = dict[str, tuple[Importer, dict[str, Inventory]]]


def _files(args: argparse.Namespace) -> list[Path]:
    if not args.paths:
        raise CliError(
            "no PATH given",
            hint="legacyscan import FILE-OR-DIRECTORY... (--list-formats shows formats)",
            code=ExitCode.USAGE,
        )
    files = list(iter_files(args.paths))
    if not files:
        raise CliError(
            "no inventory files found", hint=f"give files, or directories holding {', '.join(SUFFIXES)} files"
        )
    return files


def _import_file(
    path: Path,
    forced: Importer | None,
    site: str | None,
    privacy: Privacy,
    joined: _Joined,
    saver: Saver,
    memo: ImportRun,
) -> bool:
    """Read one file: store its hosts, or keep a joining format's parts; False when it was refused."""
    try:
        importer, invs = convert_file(path, forced, memo.records)
        if site:
            for inv in invs:
                inv.host.site = site
        if importer.joins:
            _join(joined, importer, invs)
            log.info("%s: read as %s (%d devices)", printable(str(path)), importer.name, len(invs))
            return True
        encoded = [encode(privacy.apply(inv), memo.fragments) for inv in invs]
    except Refused as exc:
        _refuse(path, exc.tried, exc.recognised)
        return False
    except ImportRefused as exc:
        _refuse(path, [(importer.name, str(exc))], [importer.name])
        return False
    label = str(path)
    for item in encoded:
        saver.add(label if len(encoded) == 1 else f"{label} ({item.host.hostname})", item)
    return True


def _join(joined: _Joined, importer: Importer, invs: list[Inventory]) -> None:
    _, parts = joined.setdefault(importer.name, (importer, {}))
    for inv in invs:
        known = parts.get(inv.inventory_id)
        if known is None:
            parts[inv.inventory_id] = inv
        else:
            merge(known, inv)


def _store_joined(joined: _Joined, privacy: Privacy, saver: Saver, memo: ImportRun) -> int:
    """Finish and store the joined devices; the number refused."""
    refused = 0
    for importer, parts in joined.values():
        for inv in parts.values():
            if importer.finish is not None:
                importer.finish(inv)
            try:
                item = encode(privacy.apply(inv), memo.fragments)
            except ImportRefused as exc:
                refused += 1
                print(
                    f"legacyscan: {importer.name} device {printable(inv.host.hostname)}: refused: "
                    f"{printable(str(exc))}",
                    file=sys.stderr,
                )
                continue
            saver.add(f"{importer.name} {inv.host.hostname}", item)
    return refused
