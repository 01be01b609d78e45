"""Windows: the read-only collection script and its pure parser.

One PowerShell script (``windows_collect.ps1``, next to this file) runs everywhere Windows does:
over WinRM (``agents.winrm.WinRmShell``) and on the workstation (``agents.windows_local``).  It
prints one JSON document; :func:`parse_document` turns that document into an
:class:`~agents.inventory.Inventory`.  Keeping the host-side code to one script and the judgement
to one pure function means a captured document replays through exactly the code a real host
does.

Duplicates are collapsed here, not in the script, so the raw evidence stays inspectable and every
merge is recorded in ``Software.collapsed`` as ``"<rule>: <merged key>"``.  The rules, in order:

* ``both-registry-views`` / ``same-name-version``: the same product (normalised name, version,
  scope, SID) under several Uninstall keys, in the 64- and 32-bit views or twice in one view
  (an EXE bootstrapper and its MSI).  The visible, 64-bit, publisher-bearing entry is kept.
* ``office-components``: Office MSI component keys (``{…-0000000FF1CE}`` with SystemComponent=1)
  of the same major.minor version as a visible Office product in the same view and scope.
* ``office-language-variants``: Click-to-Run products registered once per language
  (``Microsoft 365 Apps for enterprise - en-us`` / ``- fr-fr``) with the same version.
* ``same-package``: one MSIX package full name listed more than once.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from agents.inventory import MAX_STRING, Collector, Disk, Hardware, Host, Inventory, OsInfo, Problem, Software
from agents.packaged import Packaged
from agents.powershell import (  # noqa: F401 - re-exported: the invocation is part of this module's API
    BOOTSTRAP,
    CREATEPROCESS_LIMIT,
    DEFAULT_TIMEOUT,
    LOADER,
    POWERSHELL_ARGS,
    compressed_loader,
    encode_powershell,
    powershell_argv,
    powershell_invocation,
    powershell_runner,
)
from agents.shell import CommandResult, PowerShellRunner, Shell

SCRIPT_PATH = Path(__file__).resolve().parent / "windows_collect.ps1"
DOC_MARKER = '{"legacyscan":"windows-collect/1"'
# The identify contract's Windows OS fields (docs: ARCHITECTURE.md, "legacyscan eol identify").
OS_FACT_KEYS = (
    "caption",
    "product_name",
    "version",
    "build",
    "ubr",
    "edition_id",
    "display_version",
    "installation_type",
    "product_type",
    "csd_version",
)


class WindowsDocumentError(ValueError):
    """The script's output is not a collection document; the message says what was found."""


_SCRIPT = Packaged(lambda: SCRIPT_PATH.read_text("utf-8"))


def load_script() -> str:
    """The collection script's text (shipped as package data; read once: a ``Packaged`` value)."""
    return _SCRIPT.get()


# -- extracting the document ---------------------------------------------------------------------


def extract_document(stdout: str) -> dict[str, Any]:
    """Find and decode the document in the script's stdout.

    Anything before the marker (a logon banner, a profile's chatter) is ignored; anything that is
    not the document is an error naming what was seen, so garbage never turns into an empty host.
    """
    start = stdout.find(DOC_MARKER)
    if start < 0:
        preview = stdout.strip()[:120].encode("unicode_escape").decode("ascii")
        raise WindowsDocumentError(f"no collection document in the output (got {len(stdout)} characters: {preview!r})")
    try:
        doc, _ = json.JSONDecoder().raw_decode(stdout, start)
    except ValueError as exc:
        raise WindowsDocumentError(f"collection document is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise WindowsDocumentError("collection document is not a JSON object")
    return doc


# -- small value helpers -------------------------------------------------------------------------


def _clean(value: Any) -> str:
    """A string from a JSON value: lone surrogates (from ``\\udXXX`` escapes) replaced, trimmed."""
    if value is None or isinstance(value, (bool, dict)):
        return ""
    if isinstance(value, list):  # REG_MULTI_SZ / a WMI array, printed as a JSON array (flat: never deeper)
        return " ".join(filter(None, (_clean(v) for v in value if not isinstance(v, (list, dict)))))
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "").strip()


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e30 else None  # NaN and infinities are no number
    if not isinstance(value, str):
        return None  # a list or an object is not a number (and never str() of a hostile depth)
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"0x[0-9a-fA-F]+", text):
        return int(text, 16)
    return None


def _flag(value: Any) -> bool | None:
    """A registry DWORD flag (1/0; some installers write strings) as a bool, None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    number = _int(value)
    if number is None:
        return None
    return number != 0


def _list(value: Any) -> list[Any]:
    """A JSON array, or empty for anything else (``true`` where a list belongs: tests/fuzz)."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _iso_date(value: Any) -> str:
    """Registry InstallDate (YYYYMMDD), ISO timestamps and epoch seconds -> YYYY-MM-DD (else raw)."""
    text = _clean(value)
    if not text:
        return ""
    if re.fullmatch(r"\d{8}", text):
        try:
            return datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            return text
    match = re.match(r"(\d{4}-\d{2}-\d{2})T", text)
    if match:
        return match.group(1)
    return text


def _epoch_iso(value: Any) -> str:
    number = _int(value)
    if number is None or number <= 0:
        return ""
    return datetime.fromtimestamp(number, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_DMTF = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.\d{6}([+-])(\d{3})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _instant(value: Any) -> str:
    """A WMI DMTF datetime (``20150417150245.000000+120``: local time, offset in minutes) or a
    CIM DateTime printed round-trip (``2015-04-17T15:02:45.0000000+02:00``) as ISO 8601 UTC.
    Anything else is returned as read."""
    text = _clean(value)
    dmtf = _DMTF.match(text)
    try:
        if dmtf:
            year, month, day, hour, minute, second = (int(g) for g in dmtf.groups()[:6])
            offset = int(dmtf.group(8)) * (-1 if dmtf.group(7) == "-" else 1)
            local = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
            return (local - timedelta(minutes=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")
        iso = _ISO.match(text)
        if iso:
            zone = iso.group(7) or "Z"
            if zone == "Z":  # already UTC: only the fraction goes (the common case, no arithmetic)
                return f"{text[:19]}Z"
            year, month, day, hour, minute, second = (int(g) for g in iso.groups()[:6])
            moment = datetime(year, month, day, hour, minute, second)
            sign = -1 if zone[0] == "-" else 1
            moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return text
    return text


def _local_date(value: Any) -> str:
    """A firmware release date.  WMI prints it as DMTF (firmware writes midnight, offset +000): the
    date is its first eight digits.  CIM hands PowerShell a DateTime converted to the host's zone
    (UTC midnight becomes 19:00 the day before in New York), printed round-trip with its offset:
    the UTC date is the firmware's."""
    text = _clean(value)
    dmtf = _DMTF.match(text)
    if dmtf:
        return f"{dmtf.group(1)}-{dmtf.group(2)}-{dmtf.group(3)}"
    iso = _ISO.match(text)
    if iso and iso.group(7):
        return _instant(text)[:10]
    return _iso_date(text)


def classify_problem(error_type: str, message: str) -> str:
    """denied | missing | timeout | error, from an exception's type and message (the script
    reports what happened; deciding what it means is ours)."""
    if error_type in ("System.UnauthorizedAccessException", "System.Security.SecurityException"):
        return "denied"
    if re.search(r"denied|0x80041003|0x80070005", message, re.I):
        return "denied"
    if re.search(r"Invalid namespace|Invalid class|not recognized|0x8004100E|0x80041010|not supported", message, re.I):
        return "missing"
    if re.search(r"timed? ?out", message, re.I) or error_type.endswith("TimeoutException"):
        return "timeout"
    return "error"


@dataclass
class _Limits:
    """Strings longer than the Inventory allows are truncated here and reported, not refused."""

    problems: list[Problem] = field(default_factory=list)

    def cut(self, text: str, where: str) -> str:
        if len(text) <= MAX_STRING:
            return text
        message = f"value of {len(text)} characters truncated to {MAX_STRING}"
        self.problems.append(Problem(where, message, "parse"))
        return text[:MAX_STRING]


# -- OS ------------------------------------------------------------------------------------------

_ARCH = {
    "amd64": "x64",
    "x86": "x86",
    "arm64": "arm64",
    "ia64": "ia64",
    "64-bit": "x64",
    "32-bit": "x86",
    "arm 64-bit processor": "arm64",
    "64 bits": "x64",
    "32 bits": "x86",
}
_SERVER_INSTALL_TYPES = {"server", "server core", "nano server"}


def os_facts(os_doc: dict[str, Any]) -> dict[str, Any]:
    """The ``eol identify`` Windows OS record fields, from the registry and CIM/WMI evidence.

    Registry first for the servicing facts (EditionID, DisplayVersion, UBR exist only there);
    CIM/WMI for Caption and ProductType (the registry ProductName says "Windows 10" on Windows 11).
    """
    reg = _dict(os_doc.get("registry"))
    wmi = _dict(os_doc.get("wmi"))
    build = _clean(reg.get("CurrentBuild")) or _clean(reg.get("CurrentBuildNumber")) or _clean(wmi.get("BuildNumber"))
    version = _clean(wmi.get("Version"))
    if not version and build:
        major, minor = _int(reg.get("CurrentMajorVersionNumber")), _int(reg.get("CurrentMinorVersionNumber"))
        if major is not None and minor is not None:
            version = f"{major}.{minor}.{build}"
        elif _clean(reg.get("CurrentVersion")):
            version = f"{_clean(reg.get('CurrentVersion'))}.{build}"
    product_type = _int(wmi.get("ProductType"))
    installation_type = _clean(reg.get("InstallationType"))
    if product_type is None and installation_type:
        # Without CIM/WMI, the registry still tells client from server (not a domain controller).
        product_type = 3 if installation_type.lower() in _SERVER_INSTALL_TYPES else 1
    return {
        "caption": _clean(wmi.get("Caption")),
        "product_name": _clean(reg.get("ProductName")),
        "version": version,
        "build": build,
        "ubr": _int(reg.get("UBR")),
        "edition_id": _clean(reg.get("EditionID")),
        "display_version": _clean(reg.get("DisplayVersion")) or _clean(reg.get("ReleaseId")),
        "installation_type": installation_type,
        "product_type": product_type,
        "csd_version": _clean(wmi.get("CSDVersion")) or _clean(reg.get("CSDVersion")),
    }


# The first Windows 11 build: Windows 11 (IoT Enterprise LTSC 2024 included) keeps "Windows 10" in the
# registry ProductName, so without CIM's Caption the name shown would be the wrong Windows.
_WINDOWS_11_FIRST_BUILD = 22000


def _display_product_name(product_name: str, build: str) -> str:
    """The registry ProductName as a person would name the OS: "Windows 10 …" on a Windows 11 build
    (22000 or later) is Windows 11 (the raw value stays in ``facts["product_name"]``)."""
    number = _int(build)
    if product_name.startswith("Windows 10 ") and number is not None and number >= _WINDOWS_11_FIRST_BUILD:
        return "Windows 11 " + product_name[len("Windows 10 ") :]
    return product_name


def _os_info(os_doc: dict[str, Any]) -> OsInfo:
    facts = os_facts(os_doc)
    wmi = _dict(os_doc.get("wmi"))
    reg = _dict(os_doc.get("registry"))
    arch_raw = _clean(wmi.get("OSArchitecture")) or _clean(os_doc.get("arch"))
    arch = _ARCH.get(arch_raw.lower(), arch_raw)
    install = _instant(wmi.get("InstallDate")) or _epoch_iso(reg.get("InstallDate"))
    name = facts["caption"] or _display_product_name(facts["product_name"], facts["build"])
    if facts["csd_version"] and facts["csd_version"] not in name:
        name = f"{name} {facts['csd_version']}".strip()
    kernel = facts["version"]
    if facts["ubr"] is not None and kernel:
        kernel = f"{kernel}.{facts['ubr']}"
    return OsInfo(
        family="windows",
        name=name,
        version=facts["version"],
        arch=arch,
        kernel=kernel,
        install_date=install,
        facts=facts,
    )


# -- hardware ------------------------------------------------------------------------------------

# SMBIOS chassis types (DMTF DSP0134 7.4.1), the ones that matter for a replacement plan.
_CHASSIS = {
    3: "desktop",
    4: "desktop",
    5: "desktop",
    6: "desktop",
    7: "desktop",
    8: "laptop",
    9: "laptop",
    10: "laptop",
    11: "handheld",
    13: "all-in-one",
    14: "laptop",
    15: "desktop",
    16: "desktop",
    17: "server",
    23: "server",
    28: "server",
    30: "tablet",
    31: "laptop",
    32: "laptop",
    35: "desktop",
    36: "desktop",
}
_VIRTUAL = re.compile(
    r"vmware|virtualbox|innotek|qemu|bochs|kvm|xen|parallels|hyper-v|virtual machine|"
    r"amazon ec2|google compute",
    re.I,
)


def _hardware(hw: dict[str, Any], limits: _Limits) -> Hardware:
    out = Hardware()
    out.vendor = limits.cut(_clean(hw.get("manufacturer")), "hardware.vendor")
    out.model = limits.cut(_clean(hw.get("model")), "hardware.model")
    out.serial = limits.cut(_clean(hw.get("serial")), "hardware.serial")
    out.cpu_model = limits.cut(_clean(hw.get("cpu_name")), "hardware.cpu")
    out.cpu_cores = _int(hw.get("cpu_cores"))
    out.cpu_threads = _int(hw.get("cpu_threads")) or _int(hw.get("logical_processors"))
    out.memory_bytes = _int(hw.get("memory_bytes"))
    out.system_disk_bytes = _int(hw.get("system_disk_bytes"))
    out.bios_vendor = _clean(hw.get("bios_vendor"))
    out.bios_version = _clean(hw.get("bios_version"))
    out.bios_date = _local_date(hw.get("bios_date"))
    firmware = _int(hw.get("pe_firmware_type"))
    out.firmware_type = {1: "bios", 2: "uefi"}.get(firmware or 0, "")
    out.secure_boot = _flag(hw.get("secure_boot"))
    if out.secure_boot is None and out.firmware_type == "bios":
        out.secure_boot = False  # Secure Boot needs UEFI
    present = hw.get("tpm_present")
    out.tpm_present = present if isinstance(present, bool) else None
    spec = _clean(hw.get("tpm_spec_version"))
    out.tpm_version = spec.split(",")[0].strip() if spec else ""
    chassis_raw = hw.get("chassis_types")
    # The script joins arrays with spaces (PS 2.0 JSON by hand); accept a real list too.
    chassis_items = chassis_raw if isinstance(chassis_raw, list) else re.split(r"[\s,]+", _clean(chassis_raw))
    chassis_numbers = [_int(x) for x in chassis_items] if chassis_raw else []
    for number in chassis_numbers:
        if number in _CHASSIS:
            out.chassis = _CHASSIS[number]
            break
    evidence = f"{out.vendor} {out.model} {out.bios_vendor} {out.bios_version}"
    out.virtual = bool(_VIRTUAL.search(evidence)) if evidence.strip() else None
    disks = hw.get("disks")
    if isinstance(disks, list):
        for disk in disks[:256]:
            d = _dict(disk)
            device = _clean(d.get("device"))[:64]
            out.disks.append(
                Disk(
                    device=device,
                    mountpoint=device,
                    fstype=_clean(d.get("fstype"))[:64],
                    total_bytes=_int(d.get("size")) or 0,
                )
            )
    return out


def _host(host: dict[str, Any]) -> Host:
    uuid = _clean(host.get("uuid"))
    if set(uuid.replace("-", "")) <= {"0"} or set(uuid.replace("-", "").upper()) <= {"F"}:
        uuid = ""  # SMBIOS placeholders identify nothing
    domain = _clean(host.get("domain")) if host.get("part_of_domain") is True else ""
    # DNSHostName keeps the case and length of the real name; COMPUTERNAME is NetBIOS (15, upper).
    hostname = _clean(host.get("dns_hostname")) or _clean(host.get("hostname"))
    return Host(hostname=hostname[:255], machine_id=uuid[:128], domain=domain[:255])


# -- the raw evidence (the script as of the alias fix) -------------------------------------------

_USER_SID = re.compile(r"^S-1-(5-21|12-1)-[0-9-]+$")


def _instances(wmi: dict[str, Any], cls: str) -> list[dict[str, Any]]:
    value = wmi.get(cls)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _sum(values: list[Any]) -> int | None:
    numbers = [n for n in (_int(v) for v in values) if n is not None]
    return sum(numbers) if numbers else None


def raw_views(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Problem]]:
    """(host, os, hardware) in the parser's terms, and the problems the evidence implies.

    The script prints WMI/CIM instances as read (``wmi``: class -> instances), the firmware
    registry values, the environment and the profile list; the sums, choices and "what is missing"
    judgements are made here, where they are tested.  A document from the earlier script, which
    made them itself (``hardware``), is read as it is."""
    os_doc = dict(_dict(doc.get("os")))
    if "wmi" not in doc:
        return _dict(doc.get("host")), os_doc, _dict(doc.get("hardware")), []
    wmi = _dict(doc.get("wmi"))
    env = _dict(doc.get("env"))
    firmware = _dict(doc.get("firmware"))
    cs = (_instances(wmi, "Win32_ComputerSystem") or [{}])[0]
    product = (_instances(wmi, "Win32_ComputerSystemProduct") or [{}])[0]
    host = {
        "hostname": _dict(doc.get("host")).get("hostname"),
        "dns_hostname": cs.get("DNSHostName"),
        "domain": cs.get("Domain"),
        "part_of_domain": cs.get("PartOfDomain"),
        "uuid": product.get("UUID"),
    }
    if not os_doc.get("arch"):
        os_doc["arch"] = env.get("processor_architew6432") or env.get("processor_architecture")
    return host, os_doc, _raw_hardware(wmi, cs, env, firmware), _implied_problems(doc, env, firmware)


def _raw_hardware(
    wmi: dict[str, Any], cs: dict[str, Any], env: dict[str, Any], firmware: dict[str, Any]
) -> dict[str, Any]:
    bios = (_instances(wmi, "Win32_BIOS") or [{}])[0]
    cpus = _instances(wmi, "Win32_Processor")
    hw: dict[str, Any] = {
        "manufacturer": cs.get("Manufacturer"),
        "model": cs.get("Model"),
        "memory_bytes": cs.get("TotalPhysicalMemory"),
        "logical_processors": cs.get("NumberOfLogicalProcessors"),
        "serial": bios.get("SerialNumber"),
        "bios_vendor": bios.get("Manufacturer"),
        "bios_version": bios.get("SMBIOSBIOSVersion"),
        "bios_date": bios.get("ReleaseDate"),
        "cpu_name": _clean(cpus[0].get("Name")) if cpus else None,
        "cpu_cores": _sum([c.get("NumberOfCores") for c in cpus]),
        "cpu_threads": _sum([c.get("NumberOfLogicalProcessors") for c in cpus]),
        "chassis_types": next((e.get("ChassisTypes") for e in _instances(wmi, "Win32_SystemEnclosure")), None),
        "pe_firmware_type": firmware.get("PEFirmwareType"),
        "secure_boot": firmware.get("UEFISecureBootEnabled"),
    }
    disks = [
        {"device": d.get("DeviceID"), "fstype": d.get("FileSystem"), "size": d.get("Size")}
        for d in _instances(wmi, "Win32_LogicalDisk")
    ]
    hw["disks"] = disks
    system_drive = _clean(env.get("system_drive")).upper()
    hw["system_disk_bytes"] = next((d["size"] for d in disks if _clean(d["device"]).upper() == system_drive), None)
    if "Win32_Tpm" in wmi:  # the query ran (absent: it failed, and a problem says why)
        tpms = _instances(wmi, "Win32_Tpm")
        hw["tpm_present"] = bool(tpms)
        if tpms:
            hw["tpm_spec_version"] = _clean(tpms[0].get("SpecVersion"))
    return hw


# Windows 8 and Server 2012 (build 9200) are the first to record the firmware type (PEFirmwareType).
_FIRST_FIRMWARE_TYPE_BUILD = 9200


def _no_firmware_type(os_doc: dict[str, Any]) -> str:
    """Why the firmware type is unknown, as far as the OS build tells: the value does not exist
    before Windows 8; on a later build it was not readable (or not collected)."""
    build = _int(os_facts(os_doc)["build"])
    if build is None:
        return "PEFirmwareType not present (Windows before 8, or not readable); firmware type unknown"
    if build < _FIRST_FIRMWARE_TYPE_BUILD:
        return f"PEFirmwareType does not exist before Windows 8 (build {build}); firmware type unknown"
    return f"PEFirmwareType not present on build {build} (not readable, or not collected); firmware type unknown"


def _implied_problems(doc: dict[str, Any], env: dict[str, Any], firmware: dict[str, Any]) -> list[Problem]:
    """What the evidence says is missing: firmware type, the 64-bit registry view, unloaded profiles."""
    problems: list[Problem] = []
    if firmware.get("PEFirmwareType") is None:
        problems.append(Problem("hardware.firmware", _no_firmware_type(_dict(doc.get("os"))), "missing"))
    if env.get("hklm64_readable") is False:
        problems.append(
            Problem(
                "software.hklm64",
                "32-bit PowerShell on 64-bit Windows without .NET 4: the 64-bit "
                "registry view was not readable; run the 64-bit powershell.exe",
                "missing",
            )
        )
    unloaded = [
        p
        for p in (_dict(x) for x in _list(doc.get("profiles")))
        if _USER_SID.match(_clean(p.get("sid"))) and p.get("loaded") is False
    ]
    if unloaded:
        problems.append(
            Problem(
                "software.user",
                f"{len(unloaded)} user profile(s) not loaded: their per-user "
                "software is not visible until the user logs on",
                "missing",
            )
        )
    return problems


# -- software ------------------------------------------------------------------------------------


def _registry_software(entry: dict[str, Any], limits: _Limits) -> Software | None:
    name = _clean(entry.get("DisplayName"))
    if not name:
        return None  # Programs and Features hides keys without DisplayName; so do we
    key = limits.cut(_clean(entry.get("key")), "software.key")
    view = _clean(entry.get("view"))
    # a key of a known hive says its scope; an entry whose source showed neither (a winget catalog
    # match) stays of unknown scope rather than being called a machine install
    scope = _clean(entry.get("scope")) or {"user": "user", "64": "machine", "32": "machine"}.get(view, "")
    return Software(
        name=limits.cut(name, f"software[{key[-80:]}].name"),
        version=limits.cut(_clean(entry.get("DisplayVersion")), f"software[{key[-80:]}].version"),
        source="windows-registry",
        publisher=limits.cut(_clean(entry.get("Publisher")), f"software[{key[-80:]}].publisher"),
        install_date=_iso_date(entry.get("InstallDate"))[:64],
        system_component=_flag(entry.get("SystemComponent")),
        parent_key_name=limits.cut(_clean(entry.get("ParentKeyName")), "software.parent_key_name"),
        release_type=limits.cut(_clean(entry.get("ReleaseType")), "software.release_type"),
        windows_installer=_flag(entry.get("WindowsInstaller")),
        scope=scope,
        sid=_clean(entry.get("sid"))[:256] if scope == "user" else "",
        key=key,
        registry_view=view,
    )


_FULL_NAME = re.compile(r"^(?P<name>[^_]+)_(?P<version>[^_]*)_(?P<arch>[^_]*)_(?P<res>[^_]*)_(?P<pub>[^_]+)$")


def _msix_software(entry: dict[str, Any], limits: _Limits) -> Software | None:
    full = _clean(entry.get("full_name"))
    name, version, arch, publisher = (_clean(entry.get(k)) for k in ("name", "version", "arch", "publisher"))
    match = _FULL_NAME.match(full)
    if match:
        name = name or match.group("name")
        version = version or match.group("version")
        arch = arch or match.group("arch")
    if not name:
        return None
    signature = _clean(entry.get("signature")).lower()
    return Software(
        name=limits.cut(name, "msix.name"),
        version=limits.cut(version, "msix.version"),
        source="msix",
        publisher=limits.cut(publisher, "msix.publisher"),
        arch=arch.lower()[:32],
        system_component=True if signature == "system" else None,
        scope="machine",
        key=limits.cut(full, "msix.key"),
    )


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _preference(sw: Software) -> tuple[bool, bool, bool, str]:
    return (sw.system_component is True, sw.registry_view not in ("64", "user"), not sw.publisher, sw.key)


_OFFICE_GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-0000000FF1CE\}$", re.I)
_OFFICE_NAME = re.compile(r"^Microsoft (Office|365)|^Microsoft (Project|Visio)\b", re.I)
_LANG_SUFFIX = re.compile(r"^(?P<base>.+?) - [a-z]{2,3}-[a-z0-9]{2,4}(?:-[a-z]{2})?$", re.I)


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def collapse_duplicates(items: list[Software]) -> list[Software]:
    """Merge duplicate entries; each survivor lists ``"<rule>: <merged key>"`` in ``collapsed``."""
    return _merge_language_variants(_merge_office_components(_merge_same_product(items)))


def _merge_same_product(items: list[Software]) -> list[Software]:
    """1. The same product under several keys (both registry views, or bootstrapper + MSI)."""
    groups: dict[tuple[str, ...], list[Software]] = {}
    for sw in items:
        arch = sw.arch if sw.source == "msix" else ""
        groups.setdefault((sw.source, _norm(sw.name), _norm(sw.version), sw.scope, sw.sid, arch), []).append(sw)
    merged: list[Software] = []
    for members in groups.values():  # insertion order: the first entry's place
        keep = min(members, key=_preference)
        keep.collapsed.extend(f"{_duplicate_rule(other, keep)}: {other.key}" for other in members if other is not keep)
        merged.append(keep)
    return merged


def _duplicate_rule(other: Software, keep: Software) -> str:
    if other.source == "msix":
        return "same-package"
    return "both-registry-views" if other.registry_view != keep.registry_view else "same-name-version"


def _merge_office_components(merged: list[Software]) -> list[Software]:
    """2. Office MSI components into their visible suite entry (same view, scope, major.minor)."""
    suites: dict[tuple[str, str, str, str], Software] = {}
    for sw in merged:
        visible = sw.system_component is not True
        if sw.source == "windows-registry" and visible and _OFFICE_NAME.match(sw.name):
            suites.setdefault((sw.registry_view, sw.scope, sw.sid, _major_minor(sw.version)), sw)
    result: list[Software] = []
    for sw in merged:
        suite = None
        if sw.source == "windows-registry" and sw.system_component is True and _OFFICE_GUID.search(sw.key):
            suite = suites.get((sw.registry_view, sw.scope, sw.sid, _major_minor(sw.version)))
        if suite is not None and suite is not sw:
            suite.collapsed.append(f"office-components: {sw.key}")
            suite.collapsed.extend(sw.collapsed)
            continue
        result.append(sw)
    return result


def _merge_language_variants(result: list[Software]) -> list[Software]:
    """3. Click-to-Run products registered once per language."""
    first: dict[tuple[str, str, str, str, str], Software] = {}
    final: list[Software] = []
    for sw in result:
        match = _LANG_SUFFIX.match(sw.name) if sw.source == "windows-registry" else None
        if match and _OFFICE_NAME.match(sw.name):
            ident = (_norm(match.group("base")), _norm(sw.version), sw.registry_view, sw.scope, sw.sid)
            if ident in first:
                first[ident].collapsed.append(f"office-language-variants: {sw.key}")
                first[ident].collapsed.extend(sw.collapsed)
                continue
            first[ident] = sw
        final.append(sw)
    return final


# -- the whole document --------------------------------------------------------------------------


def parse_document(doc: dict[str, Any] | str, *, collected_at: str = "") -> Inventory:
    """Collection document (dict, or the script's raw stdout) -> Inventory.  Pure.

    ``collected_at`` (ISO 8601 UTC) overrides the host clock's reading in the document.
    """
    if isinstance(doc, str):
        doc = extract_document(doc)
    if doc.get("legacyscan") != "windows-collect/1":
        kind = doc.get("legacyscan")
        raise WindowsDocumentError(f"unknown document kind {kind!r} (expected 'windows-collect/1')")
    limits = _Limits()
    host, os_doc, hw, implied = raw_views(doc)
    inventory = Inventory(host=_host(host), os=_os_info(os_doc), hardware=_hardware(hw, limits))
    # The script prints the host clock round-trip (7 fraction digits); stored as ISO 8601 UTC seconds.
    inventory.collected_at = collected_at or _instant(doc.get("collected_at"))[:32]
    software: list[Software] = []
    for entry in _list(doc.get("software")):
        if isinstance(entry, dict):
            sw = _registry_software(entry, limits)
            if sw is not None:
                software.append(sw)
    for entry in _list(doc.get("packages")):
        if isinstance(entry, dict):
            sw = _msix_software(entry, limits)
            if sw is not None:
                software.append(sw)
    inventory.software = collapse_duplicates(software)
    for raw in _list(doc.get("problems")):
        p = _dict(raw)
        message = _clean(p.get("message"))[:2000]
        kind = _clean(p.get("kind")) or classify_problem(_clean(p.get("error_type")), message)
        inventory.problems.append(
            Problem(
                probe=_clean(p.get("probe"))[:200] or "windows",
                message=message,
                kind=kind if kind in {"error", "denied", "missing", "timeout", "parse"} else "error",
            )
        )
    inventory.problems.extend(implied)
    inventory.problems.extend(limits.problems[:100])
    return inventory


# Exit codes of a powershell.exe that could not run at all (as a signed 32-bit value and unsigned).
_CLR_MISSING = {-2146232576, 0x80131700}  # COR_E_NEWER_RUNTIME / no usable .NET Framework
_DLL_MISSING = {-1073741515, 0xC0000135}  # STATUS_DLL_NOT_FOUND: mscoree.dll absent (no .NET at all)


def powershell_failure(result: CommandResult) -> str:
    """What is missing when PowerShell itself could not run (empty when the script ran and failed).

    Seen on Windows XP / Server 2003 with WinRM 1.1 but no PowerShell, and on Server Core without
    the .NET feature: the collection must say so instead of reporting an empty host."""
    code = result.exit_code
    err = result.stderr.lower()
    if code in _CLR_MISSING:
        return (
            "PowerShell could not load the .NET Framework (0x80131700): .NET Framework 2.0/3.5 "
            "(PowerShell 2.0) or 4.5+ (PowerShell 5.1) is missing or broken on this host"
        )
    if code in _DLL_MISSING:
        return "powershell.exe could not start (0xC0000135, a DLL is missing): the .NET Framework is not installed"
    if code == 9009 or "is not recognized as an internal or external command" in err:
        return "powershell.exe was not found: Windows PowerShell is not installed on this host"
    return ""


def collect_windows(
    shell: PowerShellRunner | Shell,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    collected_at: str | None = None,
    collector_version: str = "",
) -> Inventory:
    """Run the collection script through ``shell`` and parse what it printed.

    Transport failures (``agents.shell.ShellError``: auth, timeout, connection) propagate: the
    host was not collected.  Output that is not a document becomes an inventory whose only
    content is a ``parse`` problem naming what was printed (OS family ``unknown``), so the scan
    records the host as failed, and why.
    """
    started = time.monotonic()
    runner = powershell_runner(shell)
    result = runner.run_powershell(load_script(), timeout)
    try:
        inventory = parse_document(result.stdout, collected_at=collected_at or "")
    except WindowsDocumentError as exc:
        # Nothing was learnt: family stays "unknown" so a scan records the host as failed, not empty.
        inventory = Inventory(collected_at=collected_at or "")
        detail = str(exc)
        if result.exit_code != 0:
            detail += f"; exit code {result.exit_code}"
        if result.stderr.strip():
            detail += f"; stderr: {result.stderr.strip()[:300]}"
        missing = powershell_failure(result)
        if missing:
            inventory.problems.append(Problem("windows.powershell", f"{missing} ({detail})", "missing"))
        else:
            inventory.problems.append(Problem("windows.script", detail, "parse"))
    inventory.collector = Collector(
        name="legacyscan",
        version=collector_version,
        transport=runner.name,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return inventory
