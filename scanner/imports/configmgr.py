"""Microsoft Configuration Manager (MECM/SCCM): CSV exports of the site database's standard views.

Two shapes are read, both keyed by ``ResourceID``:

* one CSV per view (``SELECT * FROM v_R_System`` … saved from SQL Server Management Studio, or
  ``Invoke-Sqlcmd | Export-Csv``): the view is recognised from its columns, and every file of the
  run is joined on ``ResourceID`` (so ``v_R_System.csv v_GS_OPERATING_SYSTEM.csv
  v_GS_ADD_REMOVE_PROGRAMS.csv`` make whole hosts);
* the one joined export ``docs/imports.md`` gives the query for: view-prefixed column aliases
  (``SYS_``, ``OS_``, ``CS_``, ``CPU_``, ``BIOS_``, ``TPM_``, ``FW_``, ``ARP_``), one row per
  installed program with the device's columns repeated.

Mapping: ``v_GS_OPERATING_SYSTEM`` (Caption, Version, BuildNumber, CSDVersion, ProductType,
OperatingSystemSKU) becomes the Windows identification record, with ``v_R_System.Build01``
(``10.0.19045.3803``) giving the update revision; ``v_GS_ADD_REMOVE_PROGRAMS`` (the 32-bit view)
and ``_64`` become ``windows-registry`` software with their registry view, exactly as our own
Windows collection reports Add/Remove Programs.  The original column values of the OS are kept in
``os.facts["configmgr"]``.  ConfigMgr's hardware inventory does not export ``SystemComponent`` or
``ParentKeyName``, so updates and components it lists cannot be told from products (see the docs).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass

from agents.inventory import Hardware, Host, Inventory, OsInfo, Software
from scanner.imports.base import (
    Head,
    Importer,
    ImportRefused,
    SoftwareRecords,
    Source,
    derive_id,
    import_collector,
    text,
)

NAME = "configmgr"

# Logical fields and the columns that carry them, per view (lower-case; ConfigMgr appends 0 to
# every inventoried property).  The joined export uses the same names with a view prefix.
_VIEWS: dict[str, dict[str, str]] = {
    "v_R_System": {
        "netbios_name0": "hostname",
        "name0": "hostname_fallback",
        "resource_domain_or_workgr0": "domain",
        "full_domain_name0": "fqdn_domain",
        "smbios_guid0": "uuid",
        "build01": "build_full",
        "operating_system_name_and0": "os_name_and",
        "osbranch01": "os_branch",
        "client_version0": "client_version",
        "is_virtual_machine0": "virtual",
        "hardware_id0": "hardware_id",
    },
    "v_GS_OPERATING_SYSTEM": {
        "caption0": "caption",
        "version0": "version",
        "buildnumber0": "build",
        "csdversion0": "csd_version",
        "osarchitecture0": "arch",
        "producttype0": "product_type",
        "operatingsystemsku0": "sku",
        "installdate0": "install_date",
        "lastbootuptime0": "boot_time",
    },
    "v_GS_COMPUTER_SYSTEM": {
        "manufacturer0": "vendor",
        "model0": "model",
        "systemtype0": "system_type",
        "domain0": "domain",
        "name0": "hostname_fallback",
    },
    "v_GS_PROCESSOR": {
        "name0": "cpu_model",
        "numberofcores0": "cpu_cores",
        "numberoflogicalprocessors0": "cpu_threads",
    },
    "v_GS_PC_BIOS": {
        "serialnumber0": "serial",
        "manufacturer0": "bios_vendor",
        "smbiosbiosversion0": "bios_version",
        "releasedate0": "bios_date",
    },
    "v_GS_X86_PC_MEMORY": {"totalphysicalmemory0": "memory_kb"},
    "v_GS_TPM": {"specversion0": "tpm_spec", "isactivated_initialvalue0": "tpm_activated"},
    "v_GS_FIRMWARE": {"uefi0": "uefi", "secureboot0": "secure_boot"},
    "v_GS_WORKSTATION_STATUS": {"lasthwscan": "last_hw_scan"},
    "v_GS_ADD_REMOVE_PROGRAMS": {
        "displayname0": "sw_name",
        "version0": "sw_version",
        "publisher0": "sw_publisher",
        "installdate0": "sw_install_date",
        "prodid0": "sw_key",
    },
}
_VIEWS["v_GS_ADD_REMOVE_PROGRAMS_64"] = _VIEWS["v_GS_ADD_REMOVE_PROGRAMS"]
# Columns that tell a view's export apart (all must be present).
_SIGNATURES: list[tuple[str, tuple[str, ...]]] = [
    ("v_GS_ADD_REMOVE_PROGRAMS", ("displayname0", "prodid0")),
    ("v_GS_ADD_REMOVE_PROGRAMS", ("displayname0", "version0", "publisher0")),
    ("v_GS_OPERATING_SYSTEM", ("caption0", "buildnumber0")),
    ("v_R_System", ("netbios_name0",)),
    ("v_GS_PC_BIOS", ("smbiosbiosversion0",)),
    ("v_GS_PROCESSOR", ("numberofcores0",)),
    ("v_GS_PROCESSOR", ("maxclockspeed0", "name0")),
    ("v_GS_COMPUTER_SYSTEM", ("model0", "systemtype0")),
    ("v_GS_TPM", ("specversion0",)),
    ("v_GS_FIRMWARE", ("uefi0",)),
    ("v_GS_X86_PC_MEMORY", ("totalphysicalmemory0",)),
    ("v_GS_WORKSTATION_STATUS", ("lasthwscan",)),
]
# The joined export: prefix -> view.
_PREFIXES = {
    "sys_": "v_R_System",
    "os_": "v_GS_OPERATING_SYSTEM",
    "cs_": "v_GS_COMPUTER_SYSTEM",
    "cpu_": "v_GS_PROCESSOR",
    "bios_": "v_GS_PC_BIOS",
    "mem_": "v_GS_X86_PC_MEMORY",
    "tpm_": "v_GS_TPM",
    "fw_": "v_GS_FIRMWARE",
    "ws_": "v_GS_WORKSTATION_STATUS",
    "arp_": "v_GS_ADD_REMOVE_PROGRAMS",
    "arp64_": "v_GS_ADD_REMOVE_PROGRAMS_64",
}
_OS_FIELDS = (
    "caption",
    "version",
    "build",
    "csd_version",
    "product_type",
    "sku",
    "arch",
    "build_full",
    "os_name_and",
    "os_branch",
)
_KEY_COLUMNS = ("resourceid", "machineid", "sys_resourceid", "resource_id")


def _normal(column: str) -> str:
    return column.strip().strip('"').strip().lower().replace(" ", "_")


@dataclass(slots=True)
class _Plan:
    """How one file's columns map: (column index, logical field) pairs, and where the key is."""

    key: int
    fields: list[tuple[int, str]]
    software: tuple[int, int, int, int, int, int] | None  # name, version, publisher, date, key, view column
    view: str  # the registry view of software rows when no column says it ("64" | "32" | "")
    views: list[str]


def _plan(header: list[str], name: str) -> _Plan | str:
    cols = [_normal(c) for c in header]
    key = next((i for i, c in enumerate(cols) if c in _KEY_COLUMNS), -1)
    if key < 0:
        return "no ResourceID column"
    prefixed = any(c.startswith(p) for c in cols for p in _PREFIXES if c != "sys_resourceid")
    mapped = _prefixed_columns(cols) if prefixed else _view_columns(cols, name)
    if isinstance(mapped, str):
        return mapped
    fields, sw, views, arp_view = mapped
    software = None
    if "sw_name" in sw:
        software = (
            sw["sw_name"],
            sw.get("sw_version", -1),
            sw.get("sw_publisher", -1),
            sw.get("sw_install_date", -1),
            sw.get("sw_key", -1),
            arp_view,
        )
    view64 = "64" if "v_GS_ADD_REMOVE_PROGRAMS_64" in views else "32" if software is not None and not prefixed else ""
    return _Plan(key, fields, software, view64, views)


# (fields, software columns by logical name, views seen, registry-view column or -1)
_Columns = tuple[list[tuple[int, str]], dict[str, int], list[str], int]


def _prefixed_columns(cols: list[str]) -> _Columns | str:
    """The joined export: each column names its view by a prefix (``SYS_``, ``OS_``, ``ARP_`` ...)."""
    fields: list[tuple[int, str]] = []
    sw: dict[str, int] = {}
    views: list[str] = []
    prefixes = sorted(_PREFIXES.items(), key=lambda kv: -len(kv[0]))
    for i, col in enumerate(cols):
        prefix, view = next(((p, v) for p, v in prefixes if col.startswith(p)), ("", ""))
        logical = _VIEWS[view].get(col[len(prefix) :]) if view else None
        if not logical:
            continue
        if view not in views:
            views.append(view)
        if logical.startswith("sw_"):
            sw[logical] = i
        else:
            fields.append((i, logical))
    if not fields and not sw:
        return "no ConfigMgr view column (SYS_, OS_, ARP_ ...) recognised"
    arp_view = next((i for i, c in enumerate(cols) if c in ("arp_view", "arp_registryview")), -1)
    return fields, sw, views, arp_view


def _view_columns(cols: list[str], name: str) -> _Columns | str:
    """One view's export, recognised by its columns (the 64-bit programs view by its file name)."""
    present = set(cols)
    view = next((v for v, sig in _SIGNATURES if all(c in present for c in sig)), "")
    if not view:
        return "columns match no ConfigMgr view (v_R_System, v_GS_OPERATING_SYSTEM, v_GS_ADD_REMOVE_PROGRAMS ...)"
    if view == "v_GS_ADD_REMOVE_PROGRAMS" and "_64" in name.lower():
        view = "v_GS_ADD_REMOVE_PROGRAMS_64"
    fields: list[tuple[int, str]] = []
    sw: dict[str, int] = {}
    for i, col in enumerate(cols):
        logical = _VIEWS[view].get(col)
        if logical and logical.startswith("sw_"):
            sw[logical] = i
        elif logical:
            fields.append((i, logical))
    return fields, sw, [view], -1


def detect(head: Head) -> str:
    if head.kind != "text":
        return "not CSV text"
    first = head.text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    header = [c for c in first.rstrip("\r").split(delimiter)]
    plan = _plan(header, head.name)
    return plan if isinstance(plan, str) else ""


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _when(value: str) -> str:
    """ConfigMgr writes datetimes as SQL Server prints them (``2024-03-01 09:15:22.000``) or as the
    console does (``01/03/2024 09:15``); only the unambiguous ISO form is turned into ours."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})", value.strip())
    return f"{m.group(1)}T{m.group(2)}Z" if m else ""


class _Device:
    __slots__ = ("software", "values")

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.software: list[Software] = []


def convert(source: Source) -> Iterator[Inventory]:
    rows = source.csv_rows()
    first = next(rows, None)
    if first is None:
        raise ImportRefused("empty file: no header row")
    _, header = first
    plan = _plan(header, source.path.name)
    if isinstance(plan, str):
        raise ImportRefused(f"line 1: {plan}")
    devices: dict[str, _Device] = {}
    width = len(header)
    programs = _Programs(source.records, plan.software, plan.view, width) if plan.software is not None else None
    for line, row in rows:
        if not _fit_row(line, row, width):
            continue
        key = row[plan.key].strip()
        if not key:
            raise ImportRefused(f"line {line}: empty ResourceID")
        device = devices.get(key)
        if device is None:
            device = devices[key] = _Device()
        _keep_values(device.values, row, plan.fields)
        if programs is not None:
            record = programs.record(row, line)
            if record is not None:
                device.software.append(record)
    for key, device in devices.items():
        yield _inventory(key, device, source)


def _fit_row(line: int, row: list[str], width: int) -> bool:
    """False for sqlcmd's "(N rows affected)" trailer; a short row is refused, a long one cut to
    the header (a trailing delimiter some exporters write)."""
    if len(row) == width:
        return True
    if len(row) == 1 and row[0].startswith("(") and "rows affected" in row[0]:
        return False
    if len(row) < width:
        raise ImportRefused(f"line {line}: {len(row)} fields where the header has {width}")
    del row[width:]
    return True


def _keep_values(values: dict[str, str], row: list[str], fields: list[tuple[int, str]]) -> None:
    """A device's first non-empty value of each field, as exported: the evidence is kept unedited."""
    for index, logical in fields:
        value = row[index]
        if value and value != "NULL" and logical not in values:
            values[logical] = value


class _Programs:
    """Program rows repeat across an estate: the raw cells map to one shared record, built once."""

    __slots__ = ("by_raw", "cells", "records", "view")

    def __init__(self, records: SoftwareRecords, columns: tuple[int, ...], view: str, width: int) -> None:
        self.records = records
        self.cells = operator.itemgetter(*(width if i < 0 else i for i in columns))
        self.view = view
        self.by_raw: dict[tuple[str, ...], Software | None] = {}

    def record(self, row: list[str], line: int) -> Software | None:
        row.append("")  # the cell of a column the export lacks
        raw = self.cells(row)
        record = self.by_raw.get(raw)
        if record is None:
            record = self.by_raw[raw] = _record(self.records, raw, self.view, line)
            if len(self.by_raw) > 500_000:
                self.by_raw.clear()
        return record


def _record(records: SoftwareRecords, raw: tuple[str, ...], default_view: str, line: int) -> Software | None:
    """A program row's cells (name, version, publisher, install date, product id, view) -> record."""
    name, version, publisher, installed, prod_id, view = (
        "" if v.strip() == "NULL" else text(v.strip(), f"line {line}") for v in raw
    )
    if not name:
        return None
    view = view or default_view
    return records.get(
        name,
        version=version,
        source="windows-registry",
        publisher=publisher,
        install_date=installed,
        key=prod_id,
        registry_view=view if view in ("64", "32") else "",
        scope="machine",
    )


def _inventory(key: str, device: _Device, source: Source) -> Inventory:
    v = device.values
    v = {k: value if k in _OS_FIELDS else value.strip() for k, value in v.items()}
    hostname = text(v.get("hostname") or v.get("hostname_fallback", ""), "Netbios_Name0")
    uuid = _uuid(v.get("uuid", ""))
    domain = v.get("fqdn_domain") or v.get("domain", "")
    facts = _os_facts(v) if any(f in v for f in _OS_FIELDS) else {}
    family = "windows" if facts or "windows" in v.get("os_name_and", "").lower() else "unknown"
    inv = Inventory(
        host=Host(hostname=hostname[:255], machine_id=uuid.lower()[:128], domain=text(domain, "domain")[:255]),
        os=OsInfo(
            family=family,
            name=text(v.get("caption", "") or v.get("os_name_and", ""), "Caption0").strip(),
            version=text(v.get("version", "").strip(), "Version0"),
            arch=text(v.get("arch", "").strip(), "OSArchitecture0"),
            install_date=_when(v.get("install_date", "")),
            facts=facts,
        ),
        software=device.software,
        collected_at=_when(v.get("last_hw_scan", "")),
        collector=import_collector(NAME, text(v.get("client_version", ""), "Client_Version0")),
        inventory_id=f"{NAME}:{key}",
    )
    _hardware(inv.hardware, v)
    return inv


def _uuid(uuid: str) -> str:
    """The SMBIOS GUID, or "" for a malformed one or a placeholder (all zeros, all F)."""
    if not _GUID.match(uuid) or set(uuid.replace("-", "")) <= {"0"} or set(uuid.replace("-", "").upper()) <= {"F"}:
        return ""
    return uuid


def _os_facts(v: dict[str, str]) -> dict[str, object]:
    """The Windows identification record (Build01 gives the update revision), and the columns as exported."""
    facts: dict[str, object] = {}
    for name in ("caption", "version", "build", "csd_version"):
        if v.get(name, "").strip():
            facts[name] = text(v[name] if name == "caption" else v[name].strip(), name)
    if v.get("product_type", "").strip().isdigit():
        facts["product_type"] = int(v["product_type"])
    full = v.get("build_full", "").strip()
    m = re.match(r"^\d+\.\d+\.(\d+)\.(\d+)$", full)
    if m and (not facts.get("build") or facts.get("build") == m.group(1)):
        facts["build"] = m.group(1)
        facts["ubr"] = int(m.group(2))
    facts["configmgr"] = {k: text(v[k], k) for k in _OS_FIELDS if v.get(k)}
    return facts


def _hardware(hw: Hardware, v: dict[str, str]) -> None:
    hw.vendor = text(v.get("vendor", ""), "Manufacturer0")
    hw.model = text(v.get("model", ""), "Model0")
    hw.serial = text(v.get("serial", ""), "SerialNumber0")
    hw.cpu_model = text(v.get("cpu_model", ""), "Name0").strip()
    hw.bios_vendor = text(v.get("bios_vendor", ""), "Manufacturer0")
    hw.bios_version = text(v.get("bios_version", ""), "SMBIOSBIOSVersion0")
    hw.bios_date = _when(v.get("bios_date", ""))[:10]
    for attr, name in (("cpu_cores", "cpu_cores"), ("cpu_threads", "cpu_threads")):
        if v.get(name, "").isdigit():
            setattr(hw, attr, int(v[name]))
    if v.get("memory_kb", "").isdigit():
        hw.memory_bytes = int(v["memory_kb"]) * 1024
    _firmware(hw, v)


def _firmware(hw: Hardware, v: dict[str, str]) -> None:
    """UEFI, Secure Boot, TPM and virtual machine flags ("0"/"1" columns; anything else unknown)."""
    if v.get("uefi") in ("0", "1"):
        hw.firmware_type = "uefi" if v["uefi"] == "1" else "bios"
    if v.get("secure_boot") in ("0", "1"):
        hw.secure_boot = v["secure_boot"] == "1"
    spec = v.get("tpm_spec", "")
    if spec:
        hw.tpm_present = True
        hw.tpm_version = spec.split(",")[0].strip()[:16]
    if v.get("virtual") in ("0", "1"):
        hw.virtual = v["virtual"] == "1"


def finish(inv: Inventory) -> None:
    """The merged device gets its stable id: ResourceID and the time of its hardware inventory
    (or, without LastHWScan, its content)."""
    key = inv.inventory_id.split(":", 1)[1]
    when = inv.collected_at
    if not when:
        digest = f"{len(inv.software)}:{inv.os.name}:{inv.host.hostname}:" + ",".join(
            f"{s.name}/{s.version}" for s in inv.software[:2000]
        )
        when = "content:" + digest
    inv.inventory_id = derive_id(NAME, key, when)
    if not inv.host.hostname and not inv.host.machine_id:
        inv.host.machine_id = f"configmgr:{key}"[:128]
        inv.host.hostname = f"configmgr-resource-{key}"[:255]


IMPORTER = Importer(
    NAME,
    "Configuration Manager CSV exports: per-view files (v_R_System, v_GS_OPERATING_SYSTEM, "
    "v_GS_ADD_REMOVE_PROGRAMS(_64), ...) or the joined query of docs/imports.md",
    detect,
    convert,
    joins=True,
    finish=finish,
)
