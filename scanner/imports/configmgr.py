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

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.imports.base import (
    RECORDS,
    Head,
    Importer,
    ImportRefused,
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
        "netbios_name0": "hostname", "name0": "hostname_fallback", "resource_domain_or_workgr0": "domain",
        "full_domain_name0": "fqdn_domain", "smbios_guid0": "uuid", "build01": "build_full",
        "operating_system_name_and0": "os_name_and", "osbranch01": "os_branch", "client_version0": "client_version",
        "is_virtual_machine0": "virtual", "hardware_id0": "hardware_id",
    },
    "v_GS_OPERATING_SYSTEM": {
        "caption0": "caption", "version0": "version", "buildnumber0": "build", "csdversion0": "csd_version",
        "osarchitecture0": "arch", "producttype0": "product_type", "operatingsystemsku0": "sku",
        "installdate0": "install_date", "lastbootuptime0": "boot_time",
    },
    "v_GS_COMPUTER_SYSTEM": {
        "manufacturer0": "vendor", "model0": "model", "systemtype0": "system_type", "domain0": "domain",
        "name0": "hostname_fallback",
    },
    "v_GS_PROCESSOR": {
        "name0": "cpu_model", "numberofcores0": "cpu_cores", "numberoflogicalprocessors0": "cpu_threads",
    },
    "v_GS_PC_BIOS": {
        "serialnumber0": "serial", "manufacturer0": "bios_vendor", "smbiosbiosversion0": "bios_version",
        "releasedate0": "bios_date",
    },
    "v_GS_X86_PC_MEMORY": {"totalphysicalmemory0": "memory_kb"},
    "v_GS_TPM": {"specversion0": "tpm_spec", "isactivated_initialvalue0": "tpm_activated"},
    "v_GS_FIRMWARE": {"uefi0": "uefi", "secureboot0": "secure_boot"},
    "v_GS_WORKSTATION_STATUS": {"lasthwscan": "last_hw_scan"},
    "v_GS_ADD_REMOVE_PROGRAMS": {
        "displayname0": "sw_name", "version0": "sw_version", "publisher0": "sw_publisher",
        "installdate0": "sw_install_date", "prodid0": "sw_key",
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
_PREFIXES = {"sys_": "v_R_System", "os_": "v_GS_OPERATING_SYSTEM", "cs_": "v_GS_COMPUTER_SYSTEM",
             "cpu_": "v_GS_PROCESSOR", "bios_": "v_GS_PC_BIOS", "mem_": "v_GS_X86_PC_MEMORY", "tpm_": "v_GS_TPM",
             "fw_": "v_GS_FIRMWARE", "ws_": "v_GS_WORKSTATION_STATUS", "arp_": "v_GS_ADD_REMOVE_PROGRAMS",
             "arp64_": "v_GS_ADD_REMOVE_PROGRAMS_64"}
_OS_FIELDS = ("caption", "version", "build", "csd_version", "product_type", "sku", "arch", "build_full",
              "os_name_and", "os_branch")
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
    fields: list[tuple[int, str]] = []
    sw: dict[str, int] = {}
    views: list[str] = []
    prefixed = any(c.startswith(p) for c in cols for p in _PREFIXES if c != "sys_resourceid")
    if prefixed:
        for i, col in enumerate(cols):
            for prefix, view in sorted(_PREFIXES.items(), key=lambda kv: -len(kv[0])):
                if col.startswith(prefix):
                    logical = _VIEWS[view].get(col[len(prefix):])
                    if logical:
                        if view not in views:
                            views.append(view)
                        if logical.startswith("sw_"):
                            sw[logical] = i
                        else:
                            fields.append((i, logical))
                    break
        arp_view = next((i for i, c in enumerate(cols) if c in ("arp_view", "arp_registryview")), -1)
        if not fields and not sw:
            return "no ConfigMgr view column (SYS_, OS_, ARP_ ...) recognised"
    else:
        present = set(cols)
        view = next((v for v, sig in _SIGNATURES if all(c in present for c in sig)), "")
        if not view:
            return "columns match no ConfigMgr view (v_R_System, v_GS_OPERATING_SYSTEM, v_GS_ADD_REMOVE_PROGRAMS ...)"
        if view == "v_GS_ADD_REMOVE_PROGRAMS" and "_64" in name.lower():
            view = "v_GS_ADD_REMOVE_PROGRAMS_64"
        views.append(view)
        for i, col in enumerate(cols):
            logical = _VIEWS[view].get(col)
            if logical and logical.startswith("sw_"):
                sw[logical] = i
            elif logical:
                fields.append((i, logical))
        arp_view = -1
    software = None
    if "sw_name" in sw:
        software = (sw["sw_name"], sw.get("sw_version", -1), sw.get("sw_publisher", -1),
                    sw.get("sw_install_date", -1), sw.get("sw_key", -1), arp_view)
    view64 = "64" if "v_GS_ADD_REMOVE_PROGRAMS_64" in views else "32" if software is not None and not prefixed else ""
    return _Plan(key, fields, software, view64, views)


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
    key_at = plan.key
    fields = plan.fields
    sw = plan.software
    width = len(header)
    # Program rows repeat across an estate: the raw cells map to one shared record, built once.
    cells = operator.itemgetter(*(width if i < 0 else i for i in sw)) if sw is not None else None
    by_raw: dict[tuple[str, ...], Software | None] = {}
    for line, row in rows:
        if len(row) != width:
            if len(row) == 1 and row[0].startswith("(") and "rows affected" in row[0]:
                continue  # sqlcmd's trailer
            if len(row) < width:
                raise ImportRefused(f"line {line}: {len(row)} fields where the header has {width}")
            del row[width:]  # a trailing delimiter some exporters write
        key = row[key_at].strip()
        if not key:
            raise ImportRefused(f"line {line}: empty ResourceID")
        device = devices.get(key)
        if device is None:
            device = devices[key] = _Device()
        values = device.values
        for index, logical in fields:
            value = row[index]
            if value and value != "NULL" and logical not in values:
                values[logical] = value  # as exported: the evidence is kept unedited
        if cells is not None:
            row.append("")  # the cell of a column the export lacks
            raw = cells(row)
            record = by_raw.get(raw)
            if record is None:
                record = by_raw[raw] = _record(raw, plan.view, line)
                if len(by_raw) > 500_000:
                    by_raw.clear()
            if record is not None:
                device.software.append(record)
    for key, device in devices.items():
        yield _inventory(key, device, source)


def _record(raw: tuple[str, ...], default_view: str, line: int) -> Software | None:
    """A program row's cells (name, version, publisher, install date, product id, view) -> record."""
    name, version, publisher, installed, prod_id, view = (
        "" if v.strip() == "NULL" else text(v.strip(), f"line {line}") for v in raw)
    if not name:
        return None
    view = view or default_view
    return RECORDS.get(name, version=version, source="windows-registry", publisher=publisher,
                       install_date=installed, key=prod_id, registry_view=view if view in ("64", "32") else "",
                       scope="machine")


def _inventory(key: str, device: _Device, source: Source) -> Inventory:
    v = device.values
    v = {k: value if k in _OS_FIELDS else value.strip() for k, value in v.items()}
    hostname = text(v.get("hostname") or v.get("hostname_fallback", ""), "Netbios_Name0")
    uuid = v.get("uuid", "")
    if not _GUID.match(uuid) or set(uuid.replace("-", "")) <= {"0"} or set(uuid.replace("-", "").upper()) <= {"F"}:
        uuid = ""
    domain = v.get("fqdn_domain") or v.get("domain", "")
    facts: dict[str, object] = {}
    if any(f in v for f in _OS_FIELDS):
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
    family = "windows" if facts or "windows" in v.get("os_name_and", "").lower() else "unknown"
    inv = Inventory(
        host=Host(hostname=hostname[:255], machine_id=uuid.lower()[:128],
                  domain=text(domain, "domain")[:255]),
        os=OsInfo(family=family, name=text(v.get("caption", "") or v.get("os_name_and", ""), "Caption0").strip(),
                  version=text(v.get("version", "").strip(), "Version0"),
                  arch=text(v.get("arch", "").strip(), "OSArchitecture0"),
                  install_date=_when(v.get("install_date", "")), facts=facts),
        software=device.software,
        collected_at=_when(v.get("last_hw_scan", "")),
        collector=import_collector(NAME, text(v.get("client_version", ""), "Client_Version0")),
        inventory_id=f"{NAME}:{key}",
    )
    hw = inv.hardware
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
    return inv


def finish(inv: Inventory) -> None:
    """The merged device gets its stable id: ResourceID and the time of its hardware inventory
    (or, without LastHWScan, its content)."""
    key = inv.inventory_id.split(":", 1)[1]
    when = inv.collected_at
    if not when:
        digest = f"{len(inv.software)}:{inv.os.name}:{inv.host.hostname}:" + ",".join(
            f"{s.name}/{s.version}" for s in inv.software[:2000])
        when = "content:" + digest
    inv.inventory_id = derive_id(NAME, key, when)
    if not inv.host.hostname and not inv.host.machine_id:
        inv.host.machine_id = f"configmgr:{key}"[:128]
        inv.host.hostname = f"configmgr-resource-{key}"[:255]


IMPORTER = Importer(NAME, "Configuration Manager CSV exports: per-view files (v_R_System, v_GS_OPERATING_SYSTEM, "
                          "v_GS_ADD_REMOVE_PROGRAMS(_64), ...) or the joined query of docs/imports.md",
                    detect, convert, joins=True, finish=finish)
