"""Microsoft Intune: devices and the apps Intune discovered on them.

Read, in any combination (joined on the Intune device id):

* Graph ``GET /deviceManagement/managedDevices`` pages (``{"value": [...]}``), or the same objects
  as a JSON array (``Get-MgDeviceManagementManagedDevice | ConvertTo-Json``, PascalCase keys), with
  ``detectedApps`` when expanded;
* Graph ``GET /deviceManagement/detectedApps?$expand=managedDevices`` (each app with its devices);
* the admin centre's CSV exports: **Devices > All devices > Export** (the ``DevicesWithInventory``
  report: ``Device ID, Device name, OS, OS version, Last check-in, Serial number, ...``) and the
  discovered-apps raw data report (``AppInvRawData`` / ``DiscoveredAppsRawData``:
  ``ApplicationName, ApplicationVersion, ApplicationPublisher, DeviceId, DeviceName, ...``).

Intune exports no SMBIOS UUID, so a host is identified by its device name (as a scanned host
without a machine id is); the Entra (Azure AD) device id is kept with the OS evidence.  Windows
devices become Windows identification records from ``osVersion`` (``10.0.19045.3803``: build and
update revision); Intune reports no edition caption, so editions that differ in support
(Enterprise/Education vs Pro) stay unknown unless ``skuFamily`` names the EditionID.  Discovered
apps on Windows are what Intune reads from Add/Remove Programs, so they are ``windows-registry``
records; on macOS, applications.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from agents.inventory import Host, Inventory
from scanner.imports.base import (
    Head,
    Importer,
    ImportRefused,
    SoftwareRecords,
    Source,
    as_list,
    csv_header,
    dedupe_loosely,
    derive_id,
    import_collector,
    iso_utc,
    optional_int,
    pick,
    records,
    squash,
    windows_facts,
)

NAME = "intune"
_DEVICE_JSON = {"devicename", "operatingsystem", "osversion"}
_DEVICE_CSV = {"deviceid", "devicename", "osversion"}
_APPS_CSV = {"applicationname", "deviceid"}
_EDITIONS = {
    "Enterprise",
    "Education",
    "Professional",
    "EnterpriseS",
    "IoTEnterprise",
    "IoTEnterpriseS",
    "ProfessionalEducation",
    "ProfessionalWorkstation",
    "Core",
    "EnterpriseG",
}


def detect(head: Head) -> str:
    if head.kind == "json":
        context = re.search(
            r'"@odata\.context"\s*:\s*"[^"]*(managedDevices|detectedApps)'
            r'|"@odata\.type"\s*:\s*"#microsoft\.graph\.(managedDevice|detectedApp)"',
            head.text,
        )
        keys = {squash(k) for k in head.json_keys()}
        if context or _DEVICE_JSON <= keys or {"displayname", "devicecount", "manageddevices"} <= keys:
            return ""
        return "no Graph managedDevices/detectedApps shape"
    header = csv_header(head)
    if (
        _DEVICE_CSV <= header
        and ({"lastcheckin", "enrollmentdate", "os", "lastcontact"} & header)
        or _APPS_CSV <= header
        and "applicationversion" in header
    ):
        return ""
    return "not an Intune devices or discovered-apps export (Device ID, Device name, OS version ...)"


def _platform(value: str) -> str:
    low = value.lower()
    if low.startswith("windows"):
        return "windows"
    if low in ("macos", "mac os", "macmdm", "mac"):
        return "macos"
    if low == "linux":
        return "linux"
    return "unknown"


class _Parts:
    def __init__(self, records: SoftwareRecords) -> None:
        self.devices: dict[str, Inventory] = {}
        self.records = records

    def device(self, key: str, name: str) -> Inventory:
        inv = self.devices.get(key)
        if inv is None:
            inv = self.devices[key] = Inventory(
                host=Host(hostname=name[:255]), collector=import_collector(NAME), inventory_id=f"{NAME}:{key}"
            )
        elif name and not inv.host.hostname:
            inv.host.hostname = name[:255]
        return inv

    def app(self, inv: Inventory, name: str, version: str, publisher: str, platform: str) -> None:
        if not name:
            return
        family = _platform(platform) if platform else inv.os.family
        source = "windows-registry" if family in ("windows", "unknown") else "macos-app" if family == "macos" else ""
        inv.software.append(self.records.get(name, version=version, source=source, publisher=publisher))


def _device_row(parts: _Parts, row: dict[str, Any], where: str) -> None:
    key = pick(row, where, "id", "deviceid", "intunedeviceid")
    if not key:
        raise ImportRefused(f"{where}: no device id (id / Device ID)")
    inv = parts.device(key, pick(row, where, "devicename", "manageddevicename", "managementname"))
    platform = pick(row, where, "operatingsystem", "os", "devicetype", "platform")
    version = pick(row, where, "osversion")
    sku = pick(row, where, "skufamily")
    original = {
        k: pick(row, where, k)
        for k in (
            "operatingsystem",
            "os",
            "osversion",
            "skufamily",
            "processorarchitecture",
            "osdescription",
            "azureaddeviceid",
            "referenceid",
        )
        if row.get(k)
    }
    family = _platform(platform)
    inv.os.family = family
    inv.os.version = version
    inv.os.name = pick(row, where, "osdescription") or " ".join(x for x in (platform, version) if x)
    if family == "windows":
        inv.os.facts = windows_facts("", version, original, NAME, edition_id=sku if sku in _EDITIONS else "")
    elif family == "macos":
        inv.os.facts = {NAME: original, "product_version": version}
    else:
        inv.os.facts = {NAME: original}
    hw = inv.hardware
    hw.serial = pick(row, where, "serialnumber")
    hw.vendor = pick(row, where, "manufacturer")
    hw.model = pick(row, where, "model")
    hw.memory_bytes = optional_int(row.get("physicalmemoryinbytes"), f"{where}.physicalMemoryInBytes") or None
    inv.os.arch = pick(row, where, "processorarchitecture")
    inv.collected_at = iso_utc(pick(row, where, "lastsyncdatetime", "lastcheckin", "lastcontact"))
    for i, app in enumerate(as_list(row.get("detectedapps"), f"{where}.detectedApps")):
        app_row = {squash(str(k)): v for k, v in (app.items() if isinstance(app, dict) else [])}
        parts.app(
            inv,
            pick(app_row, f"{where}.detectedApps[{i}]", "displayname"),
            pick(app_row, f"{where}.detectedApps[{i}]", "version"),
            pick(app_row, f"{where}.detectedApps[{i}]", "publisher"),
            platform,
        )


def convert(source: Source) -> Iterator[Inventory]:
    parts = _Parts(source.records)
    kind = source.head().kind
    apps_without_devices = 0
    for where, row in records(source, kind):
        if "applicationname" in row:  # discovered-apps raw data: one row per app per device
            key = pick(row, where, "deviceid")
            if not key:
                raise ImportRefused(f"{where}: no DeviceId")
            inv = parts.device(key, pick(row, where, "devicename"))
            parts.app(
                inv,
                pick(row, where, "applicationname"),
                pick(row, where, "applicationversion", "applicationshortversion"),
                pick(row, where, "applicationpublisher"),
                pick(row, where, "platform", "osdescription"),
            )
        elif "manageddevices" in row or "devicecount" in row:  # detectedApps (with managedDevices expanded)
            devices = as_list(row.get("manageddevices"), f"{where}.managedDevices")
            apps_without_devices += not devices
            for i, dev in enumerate(devices):
                dev_row = {squash(str(k)): v for k, v in (dev.items() if isinstance(dev, dict) else [])}
                key = pick(dev_row, f"{where}.managedDevices[{i}]", "id")
                if not key:
                    raise ImportRefused(f"{where}.managedDevices[{i}]: no id")
                inv = parts.device(key, pick(dev_row, f"{where}.managedDevices[{i}]", "devicename"))
                parts.app(
                    inv,
                    pick(row, where, "displayname"),
                    pick(row, where, "version"),
                    pick(row, where, "publisher"),
                    pick(row, where, "platform"),
                )
        else:
            _device_row(parts, row, where)
    if not parts.devices and apps_without_devices:
        raise ImportRefused(
            f"{apps_without_devices} detected apps without their devices: export them with "
            "GET /deviceManagement/detectedApps?$expand=managedDevices (see docs/imports.md)"
        )
    yield from parts.devices.values()


def finish(inv: Inventory) -> None:
    dedupe_loosely(inv)
    key = inv.inventory_id.split(":", 1)[1]
    inv.inventory_id = derive_id(NAME, key, inv.collected_at or f"apps:{len(inv.software)}:{inv.os.version}")
    if not inv.host.hostname:  # identity by name, like a scanned host: the same PC from ConfigMgr is one host
        inv.host.hostname = f"intune-device-{key}"[:255]
        inv.host.machine_id = f"intune:{key}"[:128]


IMPORTER = Importer(
    NAME,
    "Intune: Graph managedDevices / detectedApps JSON, admin centre device and discovered-apps CSV exports",
    detect,
    convert,
    joins=True,
    finish=finish,
)
