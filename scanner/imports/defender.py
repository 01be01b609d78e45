"""Microsoft Defender for Endpoint (Defender Vulnerability Management): devices and their software.

Read, in any combination (joined on Defender's device id):

* ``GET /api/machines`` pages (``computerDnsName``, ``osPlatform``, ``version``, ``osBuild``, ``lastSeen``);
* the software inventory export per device: ``GET /api/machines/SoftwareInventoryByMachine`` pages,
  or the ``SoftwareInventoryExport`` files (gzip JSON Lines, the same fields);
* CSV exports with the same columns: the portal's device inventory export and advanced hunting
  results of ``DeviceInfo`` / ``DeviceTvmSoftwareInventory`` (``DeviceId, DeviceName, OSPlatform,
  OSVersion, SoftwareVendor, SoftwareName, SoftwareVersion`` ...).

Defender names software by its CPE product (``windows_10``, ``.net_framework``, ``chrome``) with the
vendor apart; those rows become ``defender`` software records.  Defender lists the operating system
itself as software (``microsoft`` / ``windows_10`` / ``10.0.17763.1637``): where no device export
gives the OS, that row does, build and revision included.  Defender's own end-of-support columns
are kept out of the verdict (legacyscan judges with its own dataset); see docs/imports.md.
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
    pick,
    records,
    squash,
    text,
    windows_facts,
)

NAME = "defender"
_LINUX_IDS = {
    "ubuntu": "ubuntu",
    "debian": "debian",
    "centos": "centos",
    "redhatenterpriselinux": "rhel",
    "rhel": "rhel",
    "oraclelinux": "ol",
    "amazonlinux": "amzn",
    "suse": "sles",
    "sles": "sles",
    "opensuse": "opensuse-leap",
    "fedora": "fedora",
    "rockylinux": "rocky",
    "almalinux": "almalinux",
}


def detect(head: Head) -> str:
    if head.kind == "json":
        if re.search(
            r'"@odata\.context"\s*:\s*"[^"]*(windowsDefenderATP|\$metadata#Machines|AssetSoftware'
            r'|\$metadata#Software")',
            head.text,
        ):
            return ""
        keys = {squash(k) for k in head.json_keys()}
        if {"deviceid", "softwarename", "softwarevendor"} <= keys or {"computerdnsname", "osplatform"} <= keys:
            return ""
        return "no Defender machines or software-inventory shape"
    header = csv_header(head)
    if "deviceid" in header and (
        {"softwarename", "softwarevendor"} <= header or {"osplatform", "devicename"} <= header
    ):
        return ""
    return "not a Defender device or software-inventory export (DeviceId, OSPlatform, SoftwareName ...)"


def _spaced(platform: str) -> str:
    """``WindowsServer2012R2`` -> ``Windows Server 2012 R2``; ``windows_server_2012_r2`` likewise."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Z])", " ", platform.replace("_", " ")).split()
    return " ".join(
        w.capitalize() if w.islower() and not w[0].isdigit() else w.upper() if re.fullmatch(r"r\d", w) else w
        for w in words
    )


def _set_os(inv: Inventory, platform: str, version: str, build: str, original: dict[str, Any]) -> None:
    low = squash(platform)
    if low.startswith("windows"):
        _set_windows(inv, platform, version, build, original)
        return
    if low in ("macos", "mac", "osx"):
        inv.os.family = "macos"
        inv.os.name = "macOS"
        inv.os.version = version
        inv.os.facts = {NAME: original, "product_version": version}
        return
    inv.os.name = _spaced(platform)
    inv.os.version = version
    facts: dict[str, Any] = {NAME: original}
    if low in _LINUX_IDS or low == "linux":
        inv.os.family = "linux"
        if low in _LINUX_IDS and version:
            facts["os_release_fields"] = f"ID={_LINUX_IDS[low]}\nVERSION_ID={version}\nNAME={inv.os.name}\n"
    inv.os.facts = facts


def _set_windows(inv: Inventory, platform: str, version: str, build: str, original: dict[str, Any]) -> None:
    """OSPlatform as the caption; an NT version from OSVersion, else built from OSBuild."""
    caption = _spaced(platform)
    release = version if re.fullmatch(r"\d{4}|\d{2}H\d", version) else ""
    nt = version if re.match(r"^\d+\.\d+\.\d+", version) else ""
    if not nt and build.isdigit():
        nt = f"{'10.0' if caption.startswith(('Windows 1', 'Windows Server 20')) else ''}.{build}".lstrip(".")
        nt = nt if nt.count(".") >= 2 else ""
    inv.os.family = "windows"
    inv.os.name = caption
    inv.os.version = nt or version
    inv.os.facts = windows_facts(caption, nt, original, NAME, display_version=release)
    if build.isdigit() and "build" not in inv.os.facts:
        inv.os.facts["build"] = build


class _Devices:
    def __init__(self, records: SoftwareRecords) -> None:
        self.records = records
        self.devices: dict[str, Inventory] = {}
        self.os_from_device: set[str] = set()

    def get(self, key: str, name: str) -> Inventory:
        inv = self.devices.get(key)
        if inv is None:
            inv = self.devices[key] = Inventory(
                host=Host(hostname=name[:255]), collector=import_collector(NAME), inventory_id=f"{NAME}:{key}"
            )
        elif name and not inv.host.hostname:
            inv.host.hostname = name[:255]
        return inv


def _software_row(devices: _Devices, row: dict[str, Any], where: str) -> None:
    key = pick(row, where, "deviceid", "machineid", "id")
    if not key:
        raise ImportRefused(f"{where}: no deviceId")
    inv = devices.get(key, pick(row, where, "devicename", "computerdnsname"))
    vendor = pick(row, where, "softwarevendor")
    name = pick(row, where, "softwarename")
    version = pick(row, where, "softwareversion")
    if not name:
        return
    evidence = [
        text(p, f"{where}.registryPaths") for p in as_list(row.get("registrypaths"), f"{where}.registryPaths")
    ] + [text(p, f"{where}.diskPaths") for p in as_list(row.get("diskpaths"), f"{where}.diskPaths")]
    if vendor.lower() == "microsoft" and name.lower().startswith("windows_") and key not in devices.os_from_device:
        # The OS as Defender lists it among the software: the most precise build it reports.
        original = {
            "softwareVendor": vendor,
            "softwareName": name,
            "softwareVersion": version,
            "osPlatform": pick(row, where, "osplatform"),
        }
        _set_os(inv, name, version, "", original)
        return
    inv.software.append(
        devices.records.get(name, version=version, source=NAME, publisher=vendor, key=evidence[0] if evidence else "")
    )
    if not inv.os.facts and pick(row, where, "osplatform"):
        _set_os(
            inv,
            pick(row, where, "osplatform"),
            pick(row, where, "osversion"),
            "",
            {"osPlatform": pick(row, where, "osplatform"), "osVersion": pick(row, where, "osversion")},
        )


def _device_row(devices: _Devices, row: dict[str, Any], where: str) -> None:
    key = pick(row, where, "id", "deviceid", "machineid")
    if not key:
        raise ImportRefused(f"{where}: no device id")
    inv = devices.get(key, pick(row, where, "computerdnsname", "devicename"))
    platform = pick(row, where, "osplatform")
    version = pick(row, where, "osversion", "version", "osversioninfo")
    build = pick(row, where, "osbuild")
    original = {
        k: pick(row, where, k)
        for k in (
            "osplatform",
            "version",
            "osversion",
            "osbuild",
            "osprocessor",
            "osarchitecture",
            "osdistribution",
            "aaddeviceid",
        )
        if row.get(k) not in (None, "")
    }
    _set_os(inv, platform, version, build, original)
    devices.os_from_device.add(key)
    inv.os.arch = pick(row, where, "osprocessor", "osarchitecture")
    inv.collected_at = iso_utc(pick(row, where, "lastseen", "lastdeviceupdate", "timestamp"))
    tags = row.get("machinetags")
    if isinstance(tags, list):
        inv.host.tags = [text(t, f"{where}.machineTags")[:128] for t in tags[:50]]


def convert(source: Source) -> Iterator[Inventory]:
    """One pass: a device row always sets the OS; a software row sets it only where no device row
    has (so the order of rows and files does not matter)."""
    devices = _Devices(source.records)
    catalogue = bool(re.search(r'"@odata\.context"\s*:\s*"[^"]*\$metadata#Software"', source.head().text))
    for where, row in records(source, source.head().kind):
        if "exportfiles" in row:
            # GET /api/machines/SoftwareInventoryExport answers with download URLs, not the data.
            raise ImportRefused(
                f"{where}: the list of Defender export files (exportFiles), not their content: "
                "download each .json.gz it names (within the hour its links are valid) and "
                "import those files"
            )
        if catalogue or "softwarename" not in row and {"vendor", "name", "exposedmachines"} <= set(row):
            # GET /api/Software or /api/machines/{id}/software: software entities without the
            # device they are on (the second names the device only in the request's URL).
            raise ImportRefused(
                f"{where}: a Defender software list without device ids ($metadata#Software); "
                "export GET /api/machines/SoftwareInventoryByMachine instead (see docs/imports.md)"
            )
        if "softwarename" in row:
            _software_row(devices, row, where)
        else:
            _device_row(devices, row, where)
    yield from devices.devices.values()


def finish(inv: Inventory) -> None:
    dedupe_loosely(inv)
    key = inv.inventory_id.split(":", 1)[1]
    inv.inventory_id = derive_id(NAME, key, inv.collected_at or f"software:{len(inv.software)}:{inv.os.version}")
    if not inv.host.hostname:
        inv.host.hostname = f"defender-device-{key}"[:255]
        inv.host.machine_id = f"defender:{key}"[:128]


IMPORTER = Importer(
    NAME,
    "Defender for Endpoint: machines and software-inventory API JSON / export files, portal and advanced-hunting CSV",
    detect,
    convert,
    joins=True,
    finish=finish,
)
