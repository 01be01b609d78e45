"""GLPI agent inventories: the JSON of GLPI's published ``inventory_format`` schema, and the older
FusionInventory / GLPI agent XML (``<REQUEST><QUERY>INVENTORY</QUERY><CONTENT>…``) it was converted
from.  Both map through one function (the XML's tags lower-cased are the JSON's keys).

Mapped: ``hardware`` (name, uuid, workgroup), ``operatingsystem`` (Windows: full_name as caption,
kernel_version as version, service_pack: the agent's build.UBR, else a service pack; other systems:
every value kept as the OS record, which the identifiers read leniently), ``softwares`` (name,
version, publisher, arch, install date, GUID; ``from`` gives the package source;
``system_category: system_component`` sets SystemComponent),
``bios``, ``cpus``, ``memory`` and ``vmsystem``.  Network inventories (SNMP, NETDISCOVERY) are not
hosts and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.imports import xmldoc
from scanner.imports.base import (
    MAX_DOCUMENT,
    Head,
    Importer,
    ImportRefused,
    SoftwareRecords,
    Source,
    as_dict,
    as_list,
    derive_id,
    import_collector,
    optional_int,
    text,
)

NAME = "glpi"
_SOURCES = {
    "registry": "windows-registry",
    "rpm": "rpm",
    "deb": "dpkg",
    "dpkg": "dpkg",
    "apk": "apk",
    "pkgtool": "slackware",
    "macosx": "macos-app",
    "mac": "macos-app",
    "appx": "msix",
    "wmi": "wmi",
    "snap": "snap",
    "flatpak": "flatpak",
    "pacman": "pacman",
    "portage": "portage",
    "pkg": "pkg",
}


def detect(head: Head) -> str:
    if head.kind == "json":
        keys = head.json_keys()
        if "content" in keys and (
            "deviceid" in keys
            or "action" in keys
            or "itemtype" in keys
            or keys & {"hardware", "softwares", "operatingsystem", "versionclient", "bios"}
        ):
            return ""
        return "no GLPI inventory keys (content with deviceid/action)"
    if head.kind == "xml":
        if re.search(r"<REQUEST\b", head.text) and re.search(r"<CONTENT\b|<QUERY\b|<DEVICEID\b", head.text):
            return ""
        return "no <REQUEST> with <CONTENT> (FusionInventory/GLPI agent XML)"
    return "neither JSON nor XML"


def _document(source: Source) -> dict[str, Any]:
    if source.head().kind == "xml":
        root = xmldoc.parse(source.read_all(MAX_DOCUMENT))
        if xmldoc.local(root.tag) != "REQUEST":
            raise ImportRefused(f"root element is <{xmldoc.local(root.tag)}>, not <REQUEST>")
        data = xmldoc.to_data(root, lower=True)
        if not isinstance(data, dict):
            raise ImportRefused("<REQUEST> is empty")
        query = str(data.get("query", "INVENTORY")).upper()
        if query != "INVENTORY":
            raise ImportRefused(f"<QUERY>{query[:40]}</QUERY>: a network-device inventory, not a host")
        data["action"] = "inventory"
        return data
    data = source.json()
    if not isinstance(data, dict):
        raise ImportRefused(f"expected a GLPI inventory object, got a JSON {type(data).__name__}")
    return data


def _first(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, list):
        value = value[0] if value else {}
    return as_dict(value, where)


def convert(source: Source) -> Iterator[Inventory]:
    data = _document(source)
    content = _content(data)
    hw = _first(content.get("hardware"), "content.hardware")
    osd = _first(content.get("operatingsystem"), "content.operatingsystem")
    bios = _first(content.get("bios"), "content.bios")
    hostname = text(hw.get("name"), "content.hardware.name")
    uuid = text(hw.get("uuid"), "content.hardware.uuid")
    if not hostname and not uuid:
        raise ImportRefused("content.hardware: neither name nor uuid: the inventory names no host")
    kernel = text(osd.get("kernel_name"), "content.operatingsystem.kernel_name").lower()
    os_name = text(osd.get("name"), "content.operatingsystem.name")
    full = text(osd.get("full_name"), "content.operatingsystem.full_name")
    family = _family(kernel, os_name)
    original = {
        k: text(v, f"content.operatingsystem.{k}")
        for k, v in osd.items()
        if not isinstance(v, dict | list) and k not in ("ssh_key", "hostid")
    }
    facts = _os_facts(family, full, osd, original)
    software = _software(source.records, content, family)
    collected = _collected_at(content)
    domain = text(osd.get("dns_domain") or hw.get("workgroup"), "content.operatingsystem.dns_domain")
    inv = Inventory(
        host=Host(hostname=hostname[:255], machine_id=uuid.lower()[:128], domain=domain[:255]),
        os=OsInfo(
            family=family,
            name=full or os_name,
            version=original.get("version", "") or original.get("kernel_version", ""),
            arch=original.get("arch", ""),
            kernel=_kernel(original.get("kernel_version", ""), facts.get("ubr")),
            install_date=original.get("install_date", ""),
            facts=facts,
        ),
        software=software,
        collected_at=collected,
        collector=import_collector(NAME, text(content.get("versionclient"), "content.versionclient")),
    )
    _hardware(inv, content, hw, bios)
    device = text(data.get("deviceid"), "deviceid") or uuid or hostname
    inv.inventory_id = derive_id(NAME, device, collected or f"content:{source.digest()}")
    yield inv


def _content(data: dict[str, Any]) -> dict[str, Any]:
    """The document's ``content``, refusing a device (network) inventory or an empty one."""
    action = str(data.get("action", "inventory")).lower()
    if action not in ("inventory", ""):
        raise ImportRefused(f"action {action[:40]!r}: not a host inventory (netdiscovery/netinventory are devices)")
    content = as_dict(data.get("content"), "content")
    if not content:
        raise ImportRefused("content: missing or empty")
    return content


def _kernel(kernel_version: str, ubr: int | None) -> str:
    """Windows' full servicing build (10.0.19044.5854) when the update revision is known."""
    return f"{kernel_version}.{ubr}" if kernel_version and ubr is not None else kernel_version


def _family(kernel: str, os_name: str) -> str:
    if kernel == "mswin32" or os_name.lower() == "windows":
        return "windows"
    if kernel == "darwin" or "mac" in os_name.lower():
        return "macos"
    if kernel == "linux":
        return "linux"
    if kernel in ("freebsd", "openbsd", "netbsd", "aix"):
        return kernel
    return "solaris" if kernel in ("solaris", "sunos") else "unknown"


def _os_facts(family: str, full: str, osd: dict[str, Any], original: dict[str, str]) -> dict[str, Any]:
    """The OS record the identifiers read: Windows and macOS fields mapped, every GLPI value kept."""
    facts: dict[str, Any] = {}
    if family == "windows":
        _windows_facts(facts, full, osd, original)
    elif family == "macos":
        m = re.match(r"(\d+(?:\.\d+)+)(?:\s*\((\w+)\))?", original.get("version", ""))
        if m:
            facts["product_version"] = m.group(1)
            if m.group(2):
                facts["build_version"] = m.group(2)
    facts["glpi"] = original
    return facts


def _windows_facts(facts: dict[str, Any], full: str, osd: dict[str, Any], original: dict[str, str]) -> None:
    if full:
        facts["caption"] = full
    if osd.get("kernel_version"):
        facts["version"] = original.get("kernel_version", "")
        facts["build"] = facts["version"].rsplit(".", 1)[-1]
    # The GLPI agent writes SERVICE_PACK as "<BuildNumber>.<UBR>" when the registry has UBR (Windows
    # 10 and later) and CIM's CSDVersion otherwise (glpi-agent lib/GLPI/Agent/Task/Inventory/Win32/OS.pm).
    service_pack = original.get("service_pack", "")
    revision = re.fullmatch(r"(\d+)\.(\d+)", service_pack)
    if revision and revision.group(1) == facts.get("build", revision.group(1)):
        facts["build"] = revision.group(1)
        facts["ubr"] = int(revision.group(2))
    elif service_pack:
        facts["csd_version"] = service_pack
    if original.get("version") and re.fullmatch(r"\d{4}|\d{2}H\d", original["version"]):
        facts["display_version"] = original["version"]


def _software(records: SoftwareRecords, content: dict[str, Any], family: str) -> list[Software]:
    raws = (
        as_list(content.get("softwares"), "content.softwares")
        if not isinstance(content.get("softwares"), dict)
        else [content["softwares"]]
    )
    return [record for i, raw in enumerate(raws) if (record := _software_row(records, i, raw, family)) is not None]


def _software_row(records: SoftwareRecords, i: int, raw: Any, family: str) -> Software | None:
    where = f"content.softwares[{i}]"
    sw = as_dict(raw, where)
    name = text(sw.get("name"), f"{where}.name")
    if not name:
        return None
    origin = text(sw.get("from"), f"{where}.from").lower()
    source_name = _SOURCES.get(origin, origin or ("windows-registry" if family == "windows" else ""))
    record = records.get(
        name,
        version=text(sw.get("version"), f"{where}.version"),
        source=source_name,
        publisher=text(sw.get("publisher"), f"{where}.publisher"),
        arch=text(sw.get("arch"), f"{where}.arch"),
        install_date=text(sw.get("install_date"), f"{where}.install_date"),
        key=text(sw.get("guid"), f"{where}.guid"),
        registry_view=_registry_view(sw) if source_name == "windows-registry" else "",
    )
    category = text(sw.get("system_category"), f"{where}.system_category").lower()
    if category == "system_component" or text(sw.get("release_type"), where):
        # Per-record facts that must not leak into the shared record of another host.
        record = replace(
            record,
            system_component=True if category == "system_component" else None,
            release_type=text(sw.get("release_type"), f"{where}.release_type"),
        )
    return record


def _registry_view(sw: dict[str, Any]) -> str:
    return "64" if sw.get("arch") == "x86_64" else "32" if sw.get("arch") == "i586" else ""


def _collected_at(content: dict[str, Any]) -> str:
    logdate = _first(content.get("accesslog"), "content.accesslog").get("logdate")
    when = text(logdate, "content.accesslog.logdate")
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})", when)
    return f"{m.group(1)}T{m.group(2)}Z" if m else ""


def _hardware(inv: Inventory, content: dict[str, Any], hw: dict[str, Any], bios: dict[str, Any]) -> None:
    h = inv.hardware
    h.vendor = text(bios.get("smanufacturer"), "content.bios.smanufacturer")
    h.model = text(bios.get("smodel"), "content.bios.smodel")
    h.serial = text(bios.get("ssn"), "content.bios.ssn")
    h.bios_vendor = text(bios.get("bmanufacturer"), "content.bios.bmanufacturer")
    h.bios_version = text(bios.get("bversion"), "content.bios.bversion")
    h.bios_date = text(bios.get("bdate"), "content.bios.bdate")
    h.chassis = text(hw.get("chassis_type"), "content.hardware.chassis_type")
    cpu = _first(content.get("cpus"), "content.cpus")
    h.cpu_model = text(cpu.get("name"), "content.cpus[0].name")
    h.cpu_cores = optional_int(cpu.get("core"), "content.cpus[0].core")
    memory = optional_int(hw.get("memory"), "content.hardware.memory")
    h.memory_bytes = memory * 1024 * 1024 if memory else None
    vm = text(hw.get("vmsystem"), "content.hardware.vmsystem")
    h.virtual = None if not vm else vm.lower() != "physical"


IMPORTER = Importer(
    NAME, "GLPI agent inventory JSON (inventory_format) and FusionInventory/GLPI agent XML", detect, convert
)
