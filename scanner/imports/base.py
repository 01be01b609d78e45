"""What every importer shares: the file being read, its head, the refusal, and building inventories.

An importer is three things (``Importer``): a name (the ``--format`` value), a cheap detection on
the file's head (its first 64 KiB, decompressed and decoded), and a conversion of the whole file
into ``Inventory`` objects.  The command (``scanner.cli.importcmd``) tries the detections in the
registry's order, converts with the one that recognises the file, and stores nothing of a file
whose conversion failed.

Why the file is wrapped (``Source``): every format needs the same defences - regular files only,
bounded sizes (whole-document formats are parsed in memory, line formats are streamed), gzip,
byte-order marks (SQL Server Management Studio and PowerShell 5.1 write UTF-16), legacy
Windows-1252 exports, NUL bytes and lone surrogate escapes - and writing them once keeps each
importer a small, pure mapping from the source's fields to ours.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from agents.inventory import MAX_STRING, Collector, Inventory, Problem, Software
from scanner.files import open_regular

log = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
# Whole-document formats (JSON, XML) are parsed in memory: bounded so a hostile or mistaken file
# cannot exhaust it.  The largest real documents (a Graph managedDevices page set of a 20,000-PC
# estate, an SBOM of a large image) are a fraction of this.
MAX_DOCUMENT = 256 * 1024 * 1024
# Line formats (CSV, JSON Lines) are streamed; the bound only stops an endless source.
MAX_STREAM = 16 * 1024 * 1024 * 1024


class ImportRefused(ValueError):
    """A file cannot be imported by one importer; the message names the line or field and why."""


@dataclass(frozen=True, slots=True)
class Head:
    """The beginning of a file, for cheap format detection."""

    name: str  # the file's name (no directory), e.g. "v_R_System.csv"
    raw: bytes  # first HEAD_BYTES bytes, decompressed when the file is gzip
    text: str  # ``raw`` decoded (byte-order mark honoured; otherwise UTF-8, else Windows-1252)
    kind: str  # json | xml | text | binary | empty

    def json_keys(self) -> set[str]:
        """Object keys visible in the head (a cheap look: no parse of the whole document)."""
        return set(_KEY.findall(self.text))


_KEY = re.compile(r'"([A-Za-z_@][A-Za-z0-9_.@:-]{0,80})"\s*:')
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(raw: bytes) -> str | None:
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    # UTF-16 without a mark (bcp, some SSMS saves): every other byte of ASCII text is NUL.
    sample = raw[:512]
    if len(sample) >= 8 and sample[1::2].count(0) > len(sample) // 2 * 0.9 and sample[0::2].count(0) == 0:
        return "utf-16-le"
    return None


def decode_head(raw: bytes) -> str:
    enc = bom_encoding(raw)
    if enc:
        return raw.decode(enc, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:  # a character cut by the head's end
            return raw[: exc.start].decode("utf-8", errors="replace")
        return raw.decode("cp1252", errors="replace")


_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 13))


def _mostly_binary(sample: bytes) -> bool:
    """More than 10 % control bytes: an image, an archive, a database file - not an export.  A few
    NUL bytes inside names (registry data copied as-is) still leave a text file text."""
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls * 10 > len(sample)


class _Bounded(io.RawIOBase):
    """A reader that refuses to deliver more than ``limit`` bytes (gzip bombs, growing files)."""

    def __init__(self, inner: gzip.GzipFile, limit: int, what: str) -> None:
        self.inner = inner
        self.left = limit
        self.limit = limit
        self.what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        n = self.inner.readinto(view)
        self.left -= n
        if self.left < 0:
            raise ImportRefused(f"{self.what} exceeds the limit of {self.limit} bytes")
        return n


class Source:
    """One file being imported: opened safely, read bounded, decoded once.

    ``records`` is where its converter takes its software records from: the import run's
    ``SoftwareRecords``, shared by every file of the run (so equal records of two exports of one
    device are one object, see ``merge``); a file read on its own gets a memo of its own."""

    def __init__(self, path: Path, records: SoftwareRecords | None = None) -> None:
        self.path = path
        self.records = records if records is not None else SoftwareRecords()
        with open_regular(path, MAX_STREAM) as fh:
            start = fh.read(HEAD_BYTES)
            self.size = fh.seek(0, io.SEEK_END)
        self.gzip = start[:2] == b"\x1f\x8b"
        if self.gzip:
            try:
                with self.open_binary(HEAD_BYTES * 16) as gz:
                    start = gz.read(HEAD_BYTES)
            except ImportRefused:
                raise
            except (OSError, EOFError, zlib.error) as exc:
                raise ImportRefused(f"not valid gzip: {exc}") from exc
        self._head_raw = start
        self._json: Any = None
        self._json_loaded = False
        self._digest: str | None = None
        self._has_nul = True

    # -- reading -------------------------------------------------------------------------------

    def open_binary(self, limit: int = MAX_STREAM) -> BinaryIO:
        """The content (decompressed), bounded to ``limit`` bytes."""
        fh = open_regular(self.path, MAX_STREAM)
        if not self.gzip:
            if self.size > limit:
                fh.close()
                raise ImportRefused(f"file of {self.size} bytes exceeds the limit of {limit} bytes for this format")
            return fh
        gz = gzip.GzipFile(fileobj=fh, mode="rb")
        return io.BufferedReader(_Bounded(gz, limit, "decompressed content"), 1024 * 1024)

    def read_all(self, limit: int = MAX_DOCUMENT) -> bytes:
        with self.open_binary(limit) as fh:
            try:
                data = fh.read(limit + 1)
            except (OSError, EOFError, zlib.error) as exc:
                raise ImportRefused(f"not valid gzip: {exc}") from exc
        if len(data) > limit:
            raise ImportRefused(f"content exceeds the limit of {limit} bytes for this format")
        return data

    def head(self) -> Head:
        raw = self._head_raw
        text = decode_head(raw)
        stripped = text.lstrip("\ufeff \t\r\n")
        if not stripped:
            kind = "empty"
        elif stripped[0] in "{[":
            kind = "json"
        elif stripped[0] == "<":
            kind = "xml"
        elif bom_encoding(raw) is None and _mostly_binary(raw[:4096]):
            kind = "binary"
        else:
            kind = "text"
        return Head(self.path.name, raw, text, kind)

    def digest(self) -> str:
        """SHA-256 of the content (decompressed): ids for records that carry no time of their own."""
        if self._digest is None:
            h = hashlib.sha256()
            with self.open_binary() as fh:
                for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                    h.update(chunk)
            self._digest = h.hexdigest()
        return self._digest

    def text(self, limit: int = MAX_DOCUMENT) -> str:
        """The whole content as text (byte-order mark honoured, else UTF-8)."""
        data = self.read_all(limit)
        enc = bom_encoding(data[:HEAD_BYTES]) or "utf-8"
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            raise ImportRefused(f"not valid {enc} text at byte {exc.start}: save the file as UTF-8") from exc

    def json(self) -> Any:
        """The whole content parsed as one JSON document (cached; lone surrogates refused)."""
        if not self._json_loaded:
            self._json = parse_json(self.text(), "")
            self._json_loaded = True
        return self._json

    def json_lines(self) -> Iterator[tuple[int, Any]]:
        """(line number, value) for each non-empty line of a JSON Lines file, streamed."""
        for number, line in enumerate(self.text_lines(), start=1):
            if line.strip():
                yield number, parse_json(line, f"line {number}")

    def text_encoding(self) -> str:
        """The encoding of a line format: the byte-order mark's; else UTF-8 if every byte of the
        file decodes as UTF-8; else Windows-1252 (what "ANSI" exports from SQL Server tools and
        PowerShell 5.1 on an English Windows write).  The same pass notes whether any NUL byte
        occurs, so a clean file is read without a per-line check."""
        enc = bom_encoding(self._head_raw)
        self._has_nul = True
        if enc:
            return enc
        decoder = codecs.getincrementaldecoder("utf-8")()
        nul = False
        valid = True
        with self.open_binary() as fh:
            for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
                nul = nul or b"\x00" in chunk
                if valid:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        valid = False
            if valid:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    valid = False
        self._has_nul = nul
        return "utf-8" if valid else "cp1252"

    def _text_stream(self, enc: str, fh: BinaryIO) -> Iterator[str]:
        wrapper = io.TextIOWrapper(fh, encoding=enc, errors="strict", newline="")
        wrapper._CHUNK_SIZE = 1024 * 1024  # type: ignore[attr-defined]
        if not self._has_nul:
            return wrapper
        return (line.replace("\x00", "\ufffd") if "\x00" in line else line for line in wrapper)

    def text_lines(self) -> Iterator[str]:
        """Lines of text (newlines kept, as ``csv`` wants them), streamed; NUL bytes become U+FFFD."""
        enc = self.text_encoding()
        with self.open_binary() as fh:
            try:
                yield from self._text_stream(enc, fh)
            except UnicodeDecodeError as exc:
                raise ImportRefused(f"not valid {enc} text: {exc.reason}: save the file as UTF-8") from exc
            except (OSError, EOFError, zlib.error) as exc:
                raise ImportRefused(f"not valid gzip: {exc}") from exc

    def csv_rows(self, *, delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
        """(line number, row) of a CSV file, streamed.  The delimiter is sniffed from the header
        (comma, semicolon as European Excel writes, or tab) unless given."""
        enc = self.text_encoding()
        with self.open_binary() as fh:
            try:
                lines = iter(self._text_stream(enc, fh))
                first = next(lines, "")
                if delimiter is None:
                    header = first.lstrip("\ufeff")
                    counts = {d: header.count(d) for d in (",", ";", "\t")}
                    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
                first = first.lstrip("\ufeff")
                reader = csv.reader(
                    itertools.chain((first,) if first else (), lines), delimiter=delimiter, strict=False
                )
                # A field longer than csv's own limit (131,072 characters) raises csv.Error: refused
                # with the line.  Checking each field here would double the cost of a large export.
                previous = 0
                for row in reader:
                    previous = reader.line_num
                    if not row or len(row) == 1 and not row[0]:
                        continue
                    yield previous, row
            except csv.Error as exc:
                raise ImportRefused(f"line {previous + 1}: not valid CSV: {exc}") from exc
            except UnicodeDecodeError as exc:
                raise ImportRefused(f"not valid {enc} text: {exc.reason}: save the file as UTF-8") from exc
            except (OSError, EOFError, zlib.error) as exc:
                raise ImportRefused(f"not valid gzip: {exc}") from exc


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_json(text: str, where: str) -> Any:
    """``json.loads`` with the refusals named: syntax (with line and column), nesting, and lone
    surrogate escapes (``"\\ud800"`` decodes to a string nothing can store or print).  ``where``
    prefixes the messages (e.g. "line 12"); empty for a whole document."""
    prefix = f"{where}: " if where else ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(f"{prefix}not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise ImportRefused(f"{prefix}JSON nested too deeply") from exc
    except ValueError as exc:
        raise ImportRefused(f"{prefix}not valid JSON: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text):
        bad = find_unencodable(value, "")
        if bad is not None:
            raise ImportRefused(
                f"{prefix}{bad or 'a value'}: a lone surrogate escape (e.g. \\ud800) "
                f"is not text; fix or remove the value"
            )
    return value


def find_unencodable(value: Any, where: str) -> str | None:
    """The path of the first string (key or value) that cannot be written as UTF-8, or None."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return path
        elif isinstance(item, dict):
            for k, v in item.items():
                sub = f"{path}.{k}" if path else str(k)
                if isinstance(k, str) and not _encodable(k):
                    return (path + "." if path else "") + "<key>"
                stack.append((v, sub))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- building inventories ------------------------------------------------------------------------


def text(value: Any, where: str) -> str:
    """A source value as our text: strings as they are, numbers spelt out, null as empty; any other
    JSON type is a wrong type and refused naming the field.  NUL becomes U+FFFD and an overlong
    value is cut (kept, marked with an ellipsis) rather than failing its host."""
    if value is None:
        return ""
    if isinstance(value, str):
        out = value
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, int | float):
        out = str(value)
    else:
        raise ImportRefused(f"{where}: expected text, got {type(value).__name__}")
    if "\x00" in out:
        out = out.replace("\x00", "\ufffd")
    if len(out) > MAX_STRING:
        out = out[: MAX_STRING - 1] + "\u2026"
    return out


def optional_int(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ImportRefused(f"{where}: expected a number, got true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                raise ImportRefused(f"{where}: expected a number, got {value[:40]!r}") from None
            if number.is_integer():
                return int(number)
    raise ImportRefused(f"{where}: expected a number, got {type(value).__name__}")


def as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportRefused(f"{where}: expected a list, got {type(value).__name__}")
    return value


def as_dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportRefused(f"{where}: expected an object, got {type(value).__name__}")
    return value


class SoftwareRecords:
    """One ``Software`` object per distinct record: an estate's program rows repeat (the same few
    thousand name/version pairs on thousands of PCs), and sharing the record keeps a 3-million-row
    export in memory as pointers.  Records handed out are never edited.

    Owned by whoever runs the import (``legacyscan import`` keeps one for all the files of its run
    and hands it to each file's ``Source``); never a module global that a second run, a test or
    another thread would share."""

    def __init__(self, limit: int = 500_000) -> None:
        self._memo: dict[tuple[str, ...], Software] = {}
        self._limit = limit

    def get(
        self,
        name: str,
        version: str = "",
        source: str = "",
        publisher: str = "",
        arch: str = "",
        install_date: str = "",
        key: str = "",
        registry_view: str = "",
        scope: str = "",
        source_package: str = "",
    ) -> Software:
        memo_key = (name, version, source, publisher, arch, install_date, key, registry_view, scope, source_package)
        found = self._memo.get(memo_key)
        if found is None:
            if len(self._memo) >= self._limit:
                self._memo.clear()
            found = Software(
                name=name,
                version=version,
                source=source,
                publisher=publisher,
                arch=arch,
                install_date=install_date,
                key=key,
                registry_view=registry_view,
                scope=scope,
                source_package=source_package,
            )
            self._memo[memo_key] = found
        return found


def import_collector(source: str, version: str = "") -> Collector:
    """How an imported inventory says where it came from: the foreign system in ``source`` (and
    ``name``), the transport ``import``."""
    return Collector(name=source, version=version, transport="import", source=source)


def derive_id(source: str, key: str, when: str) -> str:
    """A stable inventory id: the same device, from the same system, observed at the same time is
    the same inventory, so importing an export again stores nothing twice."""
    digest = hashlib.sha256(f"{source}\x00{key}\x00{when}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{source}-{digest[:40]}"


def merge(into: Inventory, part: Inventory) -> None:
    """Fold ``part`` (another view of the same device) into ``into``: empty fields are filled,
    software and problems are appended, OS facts are united.  Neither side's values are lost:
    where both have one, the first seen is kept."""
    for section in ("host", "os", "hardware"):
        _fill(getattr(into, section), getattr(part, section))
    if into.software and part.software:
        # Two exports of the same data (Graph JSON and the portal CSV, per-view files and the joined
        # query, the API and an advanced-hunting CSV) must not double a device's software.
        # Equal records are one object (the run's ``SoftwareRecords``), so identity is a cheap first check.
        seen = set(map(id, into.software))
        into.software.extend(sw for sw in part.software if id(sw) not in seen)
    else:
        into.software.extend(part.software)
    into.problems.extend(part.problems)
    if part.collected_at > into.collected_at:
        into.collected_at = part.collected_at


def _fill(target: Any, other: Any) -> None:
    """One section (host, os, hardware): dicts united, lists extended, empty fields filled."""
    for name in type(target).__dataclass_fields__:
        mine = getattr(target, name)
        theirs = getattr(other, name)
        if isinstance(mine, dict):
            for k, v in theirs.items():
                mine.setdefault(k, v)
        elif isinstance(mine, list):
            mine.extend(v for v in theirs if v not in mine)
        elif mine in ("", None, "unknown") and theirs not in ("", None):
            setattr(target, name, theirs)


def _same(sw: Software) -> tuple[str, ...]:
    """What makes two records the same installed software, whatever export they came from (the
    evidence key - a registry path one export gives and another omits - is left out).  Pure: the
    tuple costs no more to build than a memo of it by record identity cost to look up."""
    return (sw.name, sw.version, sw.source, sw.publisher, sw.arch, sw.registry_view)


def dedupe_loosely(inv: Inventory) -> None:
    """Drop records that ``_same`` calls equal (two exports of one device that spell the evidence
    differently, e.g. Defender's API with registry paths and a CSV without)."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for sw in inv.software:
        key = _same(sw)
        if key not in seen:
            seen.add(key)
            kept.append(sw)
    inv.software = kept


def note(inv: Inventory, message: str) -> None:
    """Record something the import could not carry over as a problem of the host (kind "parse")."""
    inv.problems.append(Problem(probe="import", message=message, kind="parse"))


@dataclass(frozen=True, slots=True)
class Importer:
    """One foreign (or our own) format legacyscan imports.

    ``detect(head)`` returns "" when the head has this format's shape, else one short reason why
    not (it is shown when no format recognises a file).  ``convert(source)`` yields the file's
    inventories, raising ``ImportRefused`` for anything it cannot read.  With ``joins``, the
    inventories are parts of devices (one export per view or table) with the device's key as
    ``inventory_id``: parts of the same key from every file of the run are merged, then given their
    final id by ``finish``.
    """

    name: str
    title: str
    detect: Callable[[Head], str]
    convert: Callable[[Source], Iterable[Inventory]]
    joins: bool = False
    finish: Callable[[Inventory], None] | None = None
    suffixes: tuple[str, ...] = field(default=())


def squash(key: str) -> str:
    """A column or key name compared loosely: ``Device name``, ``deviceName``, ``DeviceName`` and
    ``device_name`` are the same field (portal CSVs, Graph JSON and PowerShell objects spell them so)."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


def records(source: Source, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row with squashed keys) of a tabular export, whatever its shape: a Graph/REST page
    (``{"value": [...]}``), a JSON array (PowerShell ``ConvertTo-Json``), JSON Lines (export files), or
    CSV (portal exports).  ``kind`` is the head's kind."""
    if kind == "json":
        return _json_records(source)
    return _csv_records(source)


def _json_records(source: Source) -> Iterator[tuple[str, dict[str, Any]]]:
    text_head = source.head().text.lstrip("\ufeff \r\n")
    first_line = text_head.split("\n", 1)[0].strip()
    if first_line.startswith("{") and first_line.endswith("}") and "\n{" in text_head:
        for number, item in source.json_lines():
            yield f"line {number}", {squash(str(k)): v for k, v in as_dict(item, f"line {number}").items()}
        return
    data = source.json()
    if isinstance(data, dict):
        if data.get("@odata.nextLink") is not None:
            # One page of a paged Graph/Defender answer: what its other pages hold is not in this file.
            log.warning(
                "%s: one page of a paged answer (@odata.nextLink): the rows of its other pages are not in "
                "this file; save every page (follow @odata.nextLink) and import them all in the same run",
                source.path,
            )
        values = data.get("value", data.get("Value"))
        items = as_list(values, "value") if values is not None else [data]
    else:
        items = as_list(data, "document")
    for i, item in enumerate(items):
        yield f"value[{i}]", {squash(str(k)): v for k, v in as_dict(item, f"value[{i}]").items()}


def _csv_records(source: Source) -> Iterator[tuple[str, dict[str, Any]]]:
    rows = source.csv_rows()
    first = next(rows, None)
    if first is None:
        return
    header = [squash(h) for h in first[1]]
    width = len(header)
    for line, row in rows:
        if len(row) != width:
            raise ImportRefused(f"line {line}: {len(row)} fields where the header has {width}")
        yield f"line {line}", dict(zip(header, row, strict=True))


def csv_header(head: Head) -> set[str]:
    """The squashed column names of a CSV head (empty when the head is not text)."""
    if head.kind != "text":
        return set()
    first = head.text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    delimiter = max((",", ";", "\t"), key=first.count)
    return {squash(c.strip().strip('"')) for c in first.split(delimiter)}


def pick(row: dict[str, Any], where: str, *names: str) -> str:
    """The first non-empty of ``names`` (squashed) in ``row``, as text."""
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return text(value, f"{where}.{name}")
    return ""


_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$", re.I)


def iso_utc(value: str) -> str:
    """An ISO 8601 / SQL Server timestamp as ours (UTC, ``Z``); a time without an offset is taken as
    UTC (Graph, Defender and ConfigMgr write UTC); anything else (locale formats such as
    ``3/1/2024 9:15 AM``), an impossible date and .NET's minimum and maximum dates are not guessed
    and give ""."""
    m = _ISO.match(value.strip())
    if not m:
        return ""
    from datetime import datetime, timedelta

    try:
        when = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
    except ValueError:  # 2024-02-30, hour 25
        return ""
    if when.year in (1, 9999):
        # .NET's DateTime.MinValue / MaxValue: Graph writes "0001-01-01T00:00:00Z" for "never"
        # (exchangeLastSuccessfulSyncDateTime) and 9999-12-31 for "no end"; neither is a time.
        return ""
    offset = (m.group(3) or "Z").upper()
    if offset not in ("Z", "UTC"):
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = int(offset[1:3]), int(offset[-2:])
        when -= sign * timedelta(hours=hours, minutes=minutes)
    return f"{when.year:04d}-{when:%m-%dT%H:%M:%S}Z"


def windows_facts(
    caption: str, version: str, original: dict[str, Any], source: str, display_version: str = "", edition_id: str = ""
) -> dict[str, Any]:
    """The Windows identification record from a caption and an NT version (``10.0.19045`` or
    ``10.0.19045.3803``, whose last part is the update revision)."""
    facts: dict[str, Any] = {source: original}
    if caption:
        facts["caption"] = caption
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?", version.strip())
    if m:
        facts["version"] = f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
        facts["build"] = m.group(3)
        if m.group(4):
            facts["ubr"] = int(m.group(4))
    if display_version:
        facts["display_version"] = display_version
    if edition_id:
        facts["edition_id"] = edition_id
    return facts
