"""The clinical-engineering / asset register: devices nobody can log in to and discovery cannot see.

A CSV or XLSX export with one device per row.  Columns are recognised by name (case, spaces and
punctuation ignored); the ones that matter:

==========================  =====================================================================
device                      ``device name``, ``device``, ``equipment``, ``asset name``; else ``asset tag``
site / location             ``site``; ``location``, ``ward``, ``department``
manufacturer / model        ``manufacturer``, ``make``, ``vendor``; ``model``
OS as recorded              ``os``, ``operating system``, ``os and version``; optional ``os version``
supplier support end date   ``supplier support end date``, ``support end``, ``end of support``
MDS2 reference              ``mds2``, ``mds2 reference``
optional                    ``hostname``, ``ip address`` (links the row to a later inventory), ``serial``
==========================  =====================================================================

Each row becomes a host with ``collector.source = "register"``: its recorded OS goes through the
same identification as any other evidence, and the supplier's own end date, where the register
gives one, decides the device's verdict (``scanner.identify.verdict.supplier_verdict``) -- the supplier, not
the OS vendor, supports a medical device.  A row with an unreadable date or no device name is still
imported, with a problem naming the line and field; it never fails its neighbours.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from agents.inventory import Collector, Host, Inventory, OsInfo, Problem
from scanner.imports.base import Head, Importer, ImportRefused, Source, derive_id, text

NAME = "register"
SOURCE = "register"

_COLUMNS: dict[str, tuple[str, ...]] = {
    "device": ("devicename", "device", "equipmentname", "equipment", "assetname", "asset", "description"),
    "asset_tag": ("assettag", "assetid", "assetnumber", "assetno", "tag", "inventorynumber"),
    "site": ("site", "sitename", "hospital"),
    "location": ("location", "ward", "department", "room"),
    "manufacturer": ("manufacturer", "make", "vendor", "supplier"),
    "model": ("model", "modelname"),
    "os": ("os", "operatingsystem", "osandversion", "osrecorded", "operatingsystemandversion", "software"),
    "os_version": ("osversion", "operatingsystemversion", "version"),
    "support_end": (
        "suppliersupportenddate",
        "suppliersupportend",
        "supportend",
        "supportenddate",
        "endofsupport",
        "endofsupportdate",
        "eos",
        "eosdate",
        "suppliereos",
    ),
    "mds2": ("mds2", "mds2reference", "mds2ref", "mds2form"),
    "hostname": ("hostname", "host", "networkname", "computername"),
    "address": ("ipaddress", "ip", "address"),
    "serial": ("serial", "serialnumber"),
}
_REQUIRED = ("device", "os")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _plan(header: list[str]) -> dict[str, int] | str:
    keys = [_key(h) for h in header]
    plan: dict[str, int] = {}
    for field, aliases in _COLUMNS.items():
        for alias in aliases:  # the first alias present wins ("Device Name" before "Asset")
            if alias in keys and keys.index(alias) not in plan.values():
                plan[field] = keys.index(alias)
                break
    if "device" not in plan and "asset_tag" in plan:
        plan["device"] = plan["asset_tag"]
    missing = [f for f in _REQUIRED if f not in plan]
    if missing:
        return f"no {' or '.join(missing)} column (a device register names each device and its recorded OS)"
    if not any(f in plan for f in ("support_end", "mds2", "manufacturer", "model")):
        return "no supplier support end, MDS2, manufacturer or model column: not a device register"
    return plan


def detect(head: Head) -> str:
    if head.kind == "binary" and head.raw.startswith(b"PK\x03\x04") and head.name.lower().endswith(".xlsx"):
        return ""  # an XLSX workbook: its header row is checked when it is read
    if head.kind != "text":
        return "not CSV text or an XLSX workbook"
    first = head.text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    delimiter = max((",", ";", "\t"), key=first.count)
    plan = _plan(first.split(delimiter))
    return plan if isinstance(plan, str) else ""


def _rows(source: Source) -> Iterator[tuple[int, list[str]]]:
    if source.head().raw.startswith(b"PK\x03\x04"):
        yield from _xlsx_rows(source)
    else:
        yield from source.csv_rows()


#: What a register workbook may inflate to (declared sizes; zipfile stops every member at its
#: declared size): a real register of thousands of devices is a few MiB of XML.
MAX_XLSX_INFLATED = 256 * 2**20

# What openpyxl and the XML and zip layers under it raise on a damaged or hostile workbook: a
# damaged member (zip, deflate, CRC), XML that is cut or forbidden (expat/lxml ParseError are
# SyntaxError; defusedxml's refusals ValueError), a part or sheet missing (KeyError, IndexError),
# a value of the wrong shape (ValueError, TypeError, AttributeError on a missing element).
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,
    OverflowError,
)


def _xlsx_rows(source: Source) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's non-empty rows; a workbook that cannot be read (damaged, hostile, or
    inflating beyond ``MAX_XLSX_INFLATED``) is refused naming the row it stopped at, never an
    exception of the libraries underneath."""
    from openpyxl import load_workbook

    data = source.read_all(64 * 1024 * 1024)
    number = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except _XLSX_ERRORS as exc:
        raise ImportRefused(f"not a readable XLSX workbook: {type(exc).__name__}: {str(exc)[:200]}") from exc
    if inflated > MAX_XLSX_INFLATED:
        raise ImportRefused(
            f"not a readable XLSX workbook: it inflates to {inflated} bytes, over the limit of {MAX_XLSX_INFLATED}"
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise ImportRefused(f"not a readable XLSX workbook: {type(exc).__name__}: {str(exc)[:200]}") from exc
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [
                ""
                if v is None
                else v.date().isoformat()
                if isinstance(v, datetime)
                else v.isoformat()
                if isinstance(v, date)
                else str(v)
                for v in row
            ]
            if any(c.strip() for c in cells):
                yield number, cells
    except _XLSX_ERRORS as exc:
        where = f"after row {number}" if number else "at its first row"
        raise ImportRefused(
            f"not a readable XLSX workbook: first sheet unreadable {where}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from exc
    finally:
        book.close()


def parse_date(value: str) -> date | None:
    """ISO (2027-03-31), UK day-first (31/03/2027, 31-03-2027, 31.03.2027) or a year-month (2027-03: the
    month's last day is not assumed, the first is -- the earlier, the safer).  None when unreadable."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", v)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", v)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", v)
        if m:
            return date(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        return None
    return None


def convert(source: Source) -> Iterator[Inventory]:
    rows = _rows(source)
    first = next(rows, None)
    if first is None:
        raise ImportRefused("empty file: no header row")
    header_line, header = first
    plan = _plan(header)
    if isinstance(plan, str):
        raise ImportRefused(f"line {header_line}: {plan}")
    digest = source.digest()
    for line, row in rows:
        yield _inventory(line, row, plan, source, digest)


def _cell(row: list[str], plan: dict[str, int], field: str, line: int) -> str:
    i = plan.get(field)
    if i is None or i >= len(row):
        return ""
    return text(row[i], f"line {line}: {field}").strip()


def _inventory(line: int, row: list[str], plan: dict[str, int], source: Source, digest: str) -> Inventory:
    def c(field: str) -> str:
        return _cell(row, plan, field, line)

    problems: list[Problem] = []
    device = c("device") or c("asset_tag")
    if not device:
        device = f"register-line-{line}"
        problems.append(
            Problem(probe="register", message=f"{source.path.name} line {line}: no device name", kind="parse")
        )
    if c("os_version") and c("os_version") not in c("os"):
        recorded = f"{c('os')} {c('os_version')}".strip()
    else:
        recorded = c("os")
    register: dict[str, Any] = {k: c(k) for k in plan if c(k)}
    register["row"] = f"{source.path.name}:{line}"
    facts: dict[str, Any] = {"recorded_os": recorded, "register": register}
    end_text = c("support_end")
    if end_text:
        end = parse_date(end_text)
        if end is None:
            problems.append(
                Problem(
                    probe="register",
                    kind="parse",
                    message=f"{source.path.name} line {line}: supplier support end date "
                    f"{end_text[:40]!r} is not a date (YYYY-MM-DD or DD/MM/YYYY); ignored",
                )
            )
        else:
            facts["supplier_support_end"] = end.isoformat()
    if c("mds2"):
        facts["mds2"] = c("mds2")
    name = c("hostname") or device
    inv = Inventory(
        host=Host(
            hostname=name[:255],
            machine_id=f"register:{digest[:12]}:{line}"[:128] if not c("hostname") else "",
            site=c("site")[:128],
            tags=["device-register"],
            address=c("address")[:255],
        ),
        os=OsInfo(family="unknown", name=recorded[:200], version=c("os_version")[:100], facts=facts),
        collected_at="",
        collector=Collector(name=NAME, transport="import", source=SOURCE),
        problems=problems,
        inventory_id=derive_id(NAME, f"{digest}:{line}", ""),
    )
    inv.hardware.vendor = c("manufacturer")[:200]
    inv.hardware.model = c("model")[:200]
    inv.hardware.serial = c("serial")[:200]
    if c("location"):
        inv.host.tags.append(("location:" + re.sub(r"[^A-Za-z0-9_.:/@+-]+", "-", c("location")))[:64])
    if device != name:
        facts["device"] = device
    return inv


IMPORTER = Importer(
    NAME,
    "clinical-engineering / asset device register (CSV or XLSX: device, site, location, "
    "manufacturer, model, OS, supplier support end date, MDS2 reference)",
    detect,
    convert,
)
