"""The demo estate: a realistic, clearly labelled hospital estate built from real host captures.

Why: a newcomer should see the whole product — priorities, Windows 11 readiness, the exception
register, the roadmap, the evidence pack — in one command, before any probe reaches a real host.
Every OS record and software string comes from the 47 real captures bundled in
``scanner/demo_data/captures`` (with provenance) and the corpus strings in
``scanner/demo_data/windows_software_strings.jsonl``; the generator only multiplies them into
devices, invents host names, sites, tags and hardware facts (TPM, Secure Boot, RAM, disk — the
captures have none), and keeps a "previous scan" three months earlier so trends show.

Everything is labelled: sites are named "DEMO …", hosts carry the tag ``demo``, reports print a
banner.  Deterministic for a given seed and date.  Memory: software entries are shared objects
across devices (inventories are never mutated after generation), which is what lets
``bench/report.py`` hold 20,000 devices and six million software rows in memory.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from agents.inventory import Collector, Hardware, Host, Inventory, OsInfo, Software
from scanner import demo_era
from scanner.store.sqlite import HostStatus

DATA_DIR = Path(__file__).resolve().parent / "demo_data"
CAPTURES = DATA_DIR / "captures"
STRINGS = DATA_DIR / "windows_software_strings.jsonl"

DEMO_ORGANISATION = "DEMO Hospitals NHS Foundation Trust (generated)"
SITE_NAMES = [
    "DEMO Royal Infirmary",
    "DEMO General Hospital",
    "DEMO Community Clinics",
    "DEMO Children's Hospital",
    "DEMO Mental Health Unit",
    "DEMO Rehabilitation Centre",
    "DEMO Eye Hospital",
    "DEMO Dental Institute",
]
SITE_CODES = ["RI", "GH", "CC", "CH", "MH", "RC", "EH", "DI"]
SITE_WEIGHTS = [0.5, 0.32, 0.18, 0.25, 0.2, 0.15, 0.1, 0.1]


@dataclass(slots=True)
class Template:
    """One capture turned into what a collector would have sent."""

    key: str  # capture file stem
    platform: str  # windows | linux | macos
    os: OsInfo
    software: list[Software]
    cpu: str = ""
    memory_bytes: int | None = None
    vendor: str = ""
    model: str = ""
    server: bool = False
    provenance: str = ""


@dataclass(slots=True)
class DemoEstate:
    current: list[Inventory]
    previous: list[Inventory]
    statuses: list[HostStatus]
    sites: list[str]
    as_of: date
    seed: int
    templates: dict[str, str] = field(default_factory=dict)  # template key -> provenance

    @property
    def software_rows(self) -> int:
        return sum(len(i.software) for i in self.current)


# -- captures -> templates -------------------------------------------------------------------------

_VER = re.compile(r"\b(\d+\.\d+\.\d+)\b")


def _windows_os(raw: dict[str, Any]) -> OsInfo:
    if "OPERATINGSYSTEM" in raw:
        return _windows_os_glpi(raw["OPERATINGSYSTEM"])
    # systeminfo: labels may be localized; the caption is the value that starts with "Microsoft"
    # and the version the first value with an NT version number in it.
    caption = next(
        (str(v) for v in raw.values() if isinstance(v, str) and v.startswith("Microsoft") and "Windows" in v), ""
    )
    version = _nt_version(raw)
    csd = "Service Pack " + m2.group(1) if (m2 := re.search(r"Service Pack (\d)", str(raw))) else ""
    facts = {"caption": caption, "version": version, "build": version.split(".")[-1] if version else ""}
    if csd:
        facts["csd_version"] = csd
    return OsInfo(family="windows", name=caption, version=version, facts=facts)


def _windows_os_glpi(o: dict[str, Any]) -> OsInfo:
    version = str(o.get("KERNEL_VERSION") or "")
    facts: dict[str, Any] = {
        "caption": o.get("FULL_NAME", ""),
        "version": version,
        "build": version.split(".")[-1] if version else "",
    }
    if o.get("SERVICE_PACK"):
        facts["csd_version"] = o["SERVICE_PACK"]
    return OsInfo(family="windows", name=str(o.get("FULL_NAME", "")), version=version, facts=facts)


def _nt_version(raw: dict[str, Any]) -> str:
    """The first value with an NT version number (5.x, 6.x, 10.x) in it."""
    for v in raw.values():
        m = _VER.search(str(v))
        if m and m.group(1).startswith(("5.", "6.", "10.")):
            return m.group(1)
    return ""


_ID = {
    "debian": "debian",
    "ubuntu": "ubuntu",
    "raspbian": "raspbian",
    "centos": "centos",
    "almalinux": "almalinux",
    "rocky": "rocky",
    "fedora": "fedora",
    "sles": "sles",
    "suse": "sles",
    "slackware": "slackware",
}


def _linux_os(raw: dict[str, Any]) -> OsInfo:
    if "os-release" in raw:
        return _linux_os_release(raw)
    full, version, name = _inventory_os_fields(raw)
    files: dict[str, str] = {}
    if "release" in full and any(k in full for k in ("CentOS", "AlmaLinux", "Rocky", "Fedora", "Red Hat")):
        files["/etc/redhat-release"] = full + "\n"
    slug = next((v for k, v in _ID.items() if k in (name + " " + full).lower()), name.lower().split(" ")[0])
    vid = _version_id(slug, version, full)
    if slug in ("debian", "raspbian"):
        files["/etc/debian_version"] = version + "\n"
    files["/etc/os-release"] = f'NAME="{name}"\nID={slug}\nVERSION_ID="{vid}"\nPRETTY_NAME="{full}"\n'
    return OsInfo(family="linux", name=full, version=version, facts={"files": files})


def _inventory_os_fields(raw: dict[str, Any]) -> tuple[str, str, str]:
    """An inventory agent's OPERATINGSYSTEM section (either case): full name, version, name."""
    o = raw.get("OPERATINGSYSTEM") or raw.get("operatingsystem") or {}
    full = str(o.get("FULL_NAME") or o.get("full_name") or "")
    version = str(o.get("VERSION") or o.get("version") or "")
    name = str(o.get("NAME") or o.get("name") or "")
    return full, version, name


def _linux_os_release(raw: dict[str, Any]) -> OsInfo:
    release_files = {"/etc/os-release": raw["os-release"]}
    if raw.get("alpine-release"):
        release_files["/etc/alpine-release"] = raw["alpine-release"]
    pretty = re.search(r'PRETTY_NAME="?([^"\n]+)', raw["os-release"])
    return OsInfo(family="linux", name=pretty.group(1) if pretty else "", facts={"files": release_files})


def _version_id(slug: str, version: str, full: str) -> str:
    """os-release's VERSION_ID for an inventory's version text (Debian: the major; SLES: 15.4)."""
    vid = version.split(" ")[0]
    if slug in ("debian", "raspbian"):
        return vid.split(".")[0]
    if slug == "sles":
        m = re.search(r"(\d+)(?:\s*SP(\d+))?", full)
        return f"{m.group(1)}.{m.group(2)}" if m and m.group(2) else (m.group(1) if m else vid)
    return vid


def _macos_os(raw: dict[str, Any]) -> OsInfo:
    if "kern.osproductversion" in raw:
        pv, bv = raw["kern.osproductversion"], raw.get("kern.osversion", "")
    elif "OPERATINGSYSTEM" in raw:
        m = re.match(r"([\d.]+)\s*\((\w+)\)", str(raw["OPERATINGSYSTEM"].get("VERSION", "")))
        pv, bv = (m.group(1), m.group(2)) if m else ("", "")
    else:
        text = json.dumps(raw)
        m = re.search(r"(?:Mac OS X|macOS) ([\d.]+) \((\w+)\)", text)
        pv, bv = (m.group(1), m.group(2)) if m else ("", "")
    return OsInfo(family="macos", name=f"macOS {pv}", version=pv, facts={"product_version": pv, "build_version": bv})


def _software(platform: str, entries: list[dict[str, Any]]) -> list[Software]:
    if platform == "windows":
        return [sw for sw in map(_windows_entry, entries) if sw is not None]
    return [(_linux_entry if platform == "linux" else _macos_entry)(e) for e in entries]


def _linux_entry(e: dict[str, Any]) -> Software:
    return Software(
        name=str(e.get("name", "")),
        version=str(e.get("version") or ""),
        source=str(e.get("source") or ""),
        arch=str(e.get("arch") or ""),
    )


def _macos_entry(e: dict[str, Any]) -> Software:
    return Software(name=str(e.get("name", "")), version=str(e.get("version") or ""), source="macos-app")


def _windows_entry(e: dict[str, Any]) -> Software | None:
    origin = e.get("origin", "")
    if origin == "wmi-quickfixengineering" or not e.get("DisplayName"):
        return None
    return Software(
        name=str(e["DisplayName"]),
        version=str(e.get("DisplayVersion") or ""),
        publisher=str(e.get("Publisher") or ""),
        source="msix" if origin == "appx-msix" else "windows-registry",
        release_type=str(e.get("ReleaseType") or ""),
        registry_view=str(e.get("registry_view") or ""),
        scope="machine",
    )


def _hardware_facts(platform: str, hw: dict[str, Any]) -> tuple[str, int | None, str, str]:
    cpu, mem = _cpu(hw), None
    hard = hw.get("HARDWARE") or {}
    if isinstance(hard, dict) and str(hard.get("MEMORY", "")).isdecimal():
        mem = int(hard["MEMORY"]) * 1024 * 1024
    vendor, model = _vendor_model(hw)
    return cpu, mem, vendor, model


def _cpu(hw: dict[str, Any]) -> str:
    if "Processor(s)" in hw:
        return str(hw["Processor(s)"]).split("]: ")[-1]
    cpus = hw.get("CPUS") or hw.get("cpus")
    if isinstance(cpus, list) and cpus:
        return str(cpus[0].get("NAME") or cpus[0].get("name") or "")
    return ""


def _vendor_model(hw: dict[str, Any]) -> tuple[str, str]:
    if "System Manufacturer" in hw:
        return str(hw["System Manufacturer"]), str(hw.get("System Model", ""))
    bios = hw.get("BIOS") or {}
    if isinstance(bios, dict):
        return str(bios.get("SMANUFACTURER") or ""), str(bios.get("SMODEL") or "")
    return "", ""


def _template_os(platform: str, raw_os: dict[str, Any]) -> OsInfo:
    if platform == "windows":
        return _windows_os(raw_os)
    if platform == "linux":
        return _linux_os(raw_os)
    return _macos_os(raw_os)


def load_templates(captures: Path = CAPTURES) -> dict[str, Template]:
    out: dict[str, Template] = {}
    for path in sorted(captures.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        platform = data["platform"]
        os_info = _template_os(platform, data.get("os") or {})
        cpu, mem, vendor, model = _hardware_facts(platform, data.get("hardware") or {})
        server = platform == "windows" and "server" in os_info.name.lower() or platform == "linux"
        if platform == "windows":
            os_info.facts["product_type"] = 3 if server else 1
        prov = data.get("provenance", {})
        out[path.stem] = Template(
            key=path.stem,
            platform=platform,
            os=os_info,
            software=_software(platform, data.get("software") or []),
            cpu=cpu,
            memory_bytes=mem,
            vendor=vendor,
            model=model,
            server=server,
            provenance=f"{prov.get('source', '')} ({prov.get('license', '')})",
        )
    return out


def load_strings(path: Path = STRINGS) -> list[Software]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        out.append(
            Software(
                name=r["name"],
                version=r.get("version", ""),
                publisher=r.get("publisher", ""),
                source="windows-registry",
                system_component=r.get("system_component"),
                scope="machine",
            )
        )
    return out


def load_string_eras(path: Path = STRINGS) -> dict[tuple[str, str], frozenset[str]]:
    """(name, version) -> the Windows eras the string may appear on, from where it was captured
    (``scanner.demo_era.string_eras``)."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            key = (r["name"], r.get("version", ""))
            out[key] = out.get(key, frozenset()) | demo_era.string_eras(r.get("source", ""))
    return out


# -- the estate ------------------------------------------------------------------------------------

# (template stem, weight) per role; templates absent from the bundle are skipped.
WORKSTATION_OS = [
    ("win10-22h2-enterprise_wesng", 46),
    ("win11-23h2-enterprise-eval_rudder-8.2", 14),
    ("win11-24h2-enterprise-ltsc_wesng", 16),
    ("win11-22h2-home-single-language_wesng", 2),
    ("win10-21h1-enterprise_wesng", 4),
    ("win10-1809-education-es_wesng", 2),
    ("win10-1507-pro_wesng", 1),
    ("win7-sp1-enterprise-x64_wesng", 6),
    ("win7-sp1-enterprise-n-x64-fr_wesng", 1),
    ("win81-pro-fr-hp-elitebook_glpi-inventory-format", 3),
    ("xp-sp3-professional-x86_wesng", 1),
]
MEDICAL_OS = [
    ("win7-sp1-enterprise-x64_wesng", 5),
    ("xp-sp3-professional-x86_wesng", 2),
    ("xp-sp2-professional-x86_wesng", 1),
    ("win10-1809-education-es_wesng", 1),
    ("win10-22h2-enterprise_wesng", 2),
    ("vista-sp1-enterprise-x64_wesng", 1),
]
WINDOWS_SERVER_OS = [
    ("srv2022-standard-eval_rudder", 6),
    ("srv2016-datacenter-eval_rudder", 5),
    ("srv2016-datacenter_wesng", 2),
    ("srv2012-standard-aws_rudder", 4),
    ("srv2008r2-sp1-standard-x64_wesng", 2),
    ("srv2008r2-standard-rtm_rudder", 1),
    ("srv2025-datacenter-eval_rudder-8.3", 3),
    ("srv2003r2-sp2-standard-x86_wesng", 1),
]
LINUX_OS = [
    ("debian-12-bookworm-2023_rudder", 5),
    ("debian-10-buster_rudder", 3),
    ("debian-9.1-stretch_rudder", 1),
    ("ubuntu-22.04-2022_rudder", 5),
    ("ubuntu-20.04.1_rudder", 4),
    ("ubuntu-18.04.5_rudder", 3),
    ("centos-7.5.1804_rudder", 3),
    ("centos-8.0.1905_rudder", 1),
    ("centos-stream-8_rudder", 1),
    ("rocky-8.4_rudder", 2),
    ("almalinux-8.5_rudder", 2),
    ("sles-15-sp4_rudder", 2),
    ("sles-10-sp3_rudder", 1),
    ("centos-6.0_rudder", 1),
    ("raspbian-9.3-stretch-armhf_rudder", 1),
]
MAC_OS = [
    ("macos-14.4.1-macbookpro18.1-m1pro_ansible", 3),
    ("macos-14.3.1-parallels-vm-intel_ansible", 1),
    ("macos-10.13.5-imac15.1_glpi-inventory-format", 2),
    ("macos-10.6.8-imac5.1_glpi-inventory-format", 1),
]
ROLES = [("pc", 0.80), ("med", 0.04), ("winsrv", 0.06), ("linux", 0.07), ("mac", 0.03)]
MEDICAL_KINDS = ["MRI", "CT", "US", "XRAY", "LAB", "ECG", "PACS"]
WARDS = ["ward-a", "ward-b", "ed", "theatres", "outpatients", "pharmacy", "admin", "radiology", "pathology"]


def _pick(rng: random.Random, options: list[tuple[str, int]], templates: dict[str, Template]) -> Template:
    present = [(k, w) for k, w in options if k in templates]
    keys, weights = zip(*present, strict=True)
    return templates[rng.choices(keys, weights=weights)[0]]


def _sites(n: int) -> tuple[list[str], list[str], list[float]]:
    if n < 1 or n > len(SITE_NAMES):
        raise ValueError(f"--sites must be between 1 and {len(SITE_NAMES)}")
    w = SITE_WEIGHTS[:n]
    total = sum(w)
    return SITE_NAMES[:n], SITE_CODES[:n], [x / total for x in w]


def _workstation_hw(rng: random.Random, era: str) -> Hardware:
    """Hardware a PC of this Windows era really had (``scanner.demo_era``): an XP PC has a Core 2
    or Pentium 4, BIOS, no TPM and at most 4 GB; a Windows 11 PC has a supported processor, TPM 2.0
    and UEFI with Secure Boot; a Windows 10 PC anything from 4th generation on (what readiness
    is about)."""
    cpus, weights = demo_era.cpus_for(era)
    cpu = rng.choices(cpus, weights=weights)[0]
    gen = demo_era.generation(cpu)
    if era not in ("xp", "vista", "11") and rng.random() < 0.06:  # facts the probe could not read
        return Hardware(vendor="", model="", cpu_model=cpu, memory_bytes=8 * 1024**3)
    tpm, fw, secure = _firmware(rng, era, gen)
    sizes, ram_weights = demo_era.RAM_GB[era]
    ram = rng.choices(sizes, weights=ram_weights)[0] * 1024**3
    disks = [40, 80, 160] if gen in ("p4", "core2") else [60, 128, 256, 500]
    disk = rng.choices(disks, weights=[3, 20, 50, 27][: len(disks)])[0] * 1000**3
    vendor, model = demo_era.vendor_model(rng.choice(demo_era.MODELS[gen]))
    return Hardware(
        vendor=vendor,
        model=model,
        cpu_model=cpu,
        memory_bytes=ram,
        system_disk_bytes=disk,
        firmware_type=fw,
        secure_boot=secure if tpm is not None else None,
        tpm_present=None if tpm is None else bool(tpm),
        tpm_version=tpm or "",
    )


def _firmware(rng: random.Random, era: str, gen: str) -> tuple[str | None, str, bool]:
    """TPM version ("" none, None unreadable), firmware type and Secure Boot for a PC."""
    if era == "11":
        return "2.0", "uefi", True
    if gen in ("p4", "core2"):
        return "", "bios", False
    tpm: str | None
    modern = gen not in ("4", "6", "7")
    if modern:
        tpm = "2.0" if rng.random() < 0.94 else "1.2"
    else:
        tpm = rng.choices(["2.0", "1.2", "", None], weights=[35, 35, 15, 15])[0]
    fw = "uefi" if modern or rng.random() < 0.6 else "bios"
    secure = (rng.random() < 0.9) if fw == "uefi" else False
    return tpm, fw, secure


@dataclass(slots=True)
class _Pool:
    """The Windows PC software pool, split once: tracked products per era (only releases that
    install there), everything else per era it was captured on, and each tracked entry's product."""

    tracked: dict[str, list[Software]]
    benign: dict[str, list[Software]]
    product: dict[int, str]
    eras: dict[int, frozenset[str]]
    tracked_ids: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tracked_ids = {era: {id(sw) for sw in pool} for era, pool in self.tracked.items()}

    def fits(self, sw: Software, os_version: str) -> bool:
        """Whether this entry can be on a PC running this Windows build."""
        era = demo_era.era_of(os_version)
        product = self.product.get(id(sw))
        if product is None:
            return era in self.eras.get(id(sw), demo_era.MODERN)
        return id(sw) in self.tracked_ids[era] and demo_era.component_fits(product, sw.version, os_version)


def _split_pool(pool: list[Software], eras: dict[int, frozenset[str]]) -> _Pool:
    """Tracked products (per Windows era: only releases that install there) vs everything else
    (per era it was seen on), by asking the identifiers once per distinct string."""
    from eol_data.catalog import load_default
    from scanner.identify.registry import IdentifyContext

    ctx = IdentifyContext(load_default())
    tracked: dict[str, list[Software]] = {era: [] for era in demo_era.ERAS}
    benign: dict[str, list[Software]] = {era: [] for era in demo_era.ERAS}
    product: dict[int, str] = {}
    for sw in pool:
        ident = ctx.identify(sw.identify_record())
        if not ident.product:
            for era in eras.get(id(sw), demo_era.MODERN):
                benign[era].append(sw)
            continue
        product[id(sw)] = ident.product
        for era in demo_era.ERAS:
            if demo_era.runs_on(ident.product, ident.cycle or "", sw.version, era):
                tracked[era].append(sw)
    return _Pool(tracked=tracked, benign=benign, product=product, eras=eras)


def _sample_many(rng: random.Random, pool: list[Software], k: int) -> list[Software]:
    """``k`` entries from ``pool``: without repeats while the pool lasts (a padded benchmark PC may
    need more entries than there are distinct strings; repeats are then real-looking duplicates)."""
    if k <= 0 or not pool:
        return []
    if k <= len(pool):
        return rng.sample(pool, k)
    return rng.sample(pool, len(pool)) + rng.choices(pool, k=k - len(pool))


def _stamp(day: date, rng: random.Random) -> str:
    t = datetime(day.year, day.month, day.day, 7, 0) + timedelta(minutes=rng.randrange(0, 600))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _pc_pool(tpl: dict[str, Template]) -> _Pool:
    """The Windows PC software pool: the corpus strings and every Windows capture's entries, one per
    (name, version) so sampling does not favour one capture, each with the eras it was seen on."""
    strings = load_strings()
    # where each string was seen: a capture's entries on its Windows era, the corpus strings by source
    seen_on = load_string_eras()
    win_pool: list[Software] = list(strings)
    for t in tpl.values():
        if t.platform == "windows":
            win_pool.extend(t.software)
            for sw in t.software:
                key = (sw.name, sw.version)
                seen_on[key] = seen_on.get(key, frozenset()) | {demo_era.era_of(t.os.version)}
    seen: dict[tuple[str, str], Software] = {}
    for entry in win_pool:
        seen.setdefault((entry.name, entry.version), entry)
    win_pool = list(seen.values())
    return _split_pool(win_pool, {id(sw): seen_on.get((sw.name, sw.version), demo_era.MODERN) for sw in win_pool})


@dataclass(slots=True)
class _Devices:
    """Draws the demo's devices one by one from one random stream (the order of draws is the
    estate: keep it)."""

    rng: random.Random
    tpl: dict[str, Template]
    pool: _Pool
    names: list[str]
    codes: list[str]
    weights: list[float]
    scan_day: date
    apps_per_pc: tuple[int, int]
    tracked_for: dict[str, list[Software]] = field(default_factory=dict)  # a template's tracked entries
    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)  # template key -> provenance

    @property
    def prev_day(self) -> date:
        return self.scan_day - timedelta(days=91)

    def role(self) -> tuple[Template, list[str], str]:
        """A device's template, tags and host-name prefix, by role."""
        role = self.rng.choices([r for r, _ in ROLES], weights=[w for _, w in ROLES])[0]
        if role == "pc":
            return self._pc()
        if role == "med":
            return self._medical()
        if role in ("winsrv", "linux"):
            return self._server(role)
        return _pick(self.rng, MAC_OS, self.tpl), ["demo"], "MAC"

    def _pc(self) -> tuple[Template, list[str], str]:
        rng = self.rng
        t = _pick(rng, WORKSTATION_OS, self.tpl)
        tags = ["demo"]
        if rng.random() < 0.45:
            tags.append("clinical")
        tags.append(rng.choice(WARDS))
        return t, tags, "PC"

    def _medical(self) -> tuple[Template, list[str], str]:
        t = _pick(self.rng, MEDICAL_OS, self.tpl)
        kind = self.rng.choice(MEDICAL_KINDS)
        department = "radiology" if kind in ("MRI", "CT", "US", "XRAY", "PACS") else "pathology"
        return t, ["demo", "medical-device", "clinical", department], f"MD-{kind}"

    def _server(self, role: str) -> tuple[Template, list[str], str]:
        windows = role == "winsrv"
        t = _pick(self.rng, WINDOWS_SERVER_OS if windows else LINUX_OS, self.tpl)
        tags = ["demo", "server"]
        if self.rng.random() < (0.12 if windows else 0.2):
            tags.append("internet-facing")
        return t, tags, "SRV" if windows else "LNX"

    def software(self, t: Template) -> tuple[list[Software], Hardware]:
        """What the device carries, and its hardware."""
        if not (t.platform == "windows" and not t.server):
            hw = Hardware(vendor=t.vendor, model=t.model, cpu_model=t.cpu, memory_bytes=t.memory_bytes)
            return list(t.software), hw
        # a PC carries a handful of tracked products (browsers, Java, Office, Reader...) among
        # many entries that are not products with a lifecycle (drivers, runtimes, updates).
        rng = self.rng
        lo, hi = self.apps_per_pc
        k = rng.randint(lo, hi)
        era = demo_era.era_of(t.os.version)
        if t.key not in self.tracked_for:
            self.tracked_for[t.key] = [sw for sw in self.pool.tracked[era] if self.pool.fits(sw, t.os.version)]
        tracked = self.tracked_for[t.key]
        n_tracked = min(len(tracked), rng.randint(3, 12) if era not in ("xp", "vista") else rng.randint(2, 6), k)
        software = rng.sample(tracked, n_tracked) + _sample_many(rng, self.pool.benign[era], k - n_tracked)
        return software, _workstation_hw(rng, era)

    def device(self) -> tuple[Inventory, Template]:
        rng = self.rng
        s = rng.choices(range(len(self.names)), weights=self.weights)[0]
        site, code = self.names[s], self.codes[s]
        t, tags, prefix = self.role()
        n = self.counters[(code, prefix)] = self.counters.get((code, prefix), 0) + 1
        hostname = f"{code}-{prefix}-{n:04d}"
        self.used[t.key] = t.provenance
        software, hw = self.software(t)
        machine_id = str(uuid.UUID(int=rng.getrandbits(128)))
        host = Host(
            hostname=hostname,
            machine_id=machine_id,
            site=site,
            tags=tags,
            domain="demo.invalid",
            address=f"{hostname.lower()}.demo.invalid",
        )
        inv = Inventory(
            host=host,
            os=t.os,
            software=software,
            hardware=hw,
            collected_at=_stamp(self.scan_day, rng),
            collector=Collector(name="legacyscan-demo", version="demo", transport="import"),
            inventory_id=str(uuid.UUID(int=rng.getrandbits(128))),
        )
        return inv, t

    def before(self, inv: Inventory, t: Template) -> Inventory:
        """The same device at the previous scan, three months earlier."""
        rng = self.rng
        before_os = self._before_os(t, inv.hardware.cpu_model)
        before_sw = inv.software
        if before_os is not t.os and t.platform == "windows":  # what that older Windows could run
            before_sw = [sw for sw in inv.software if self.pool.fits(sw, before_os.version)]
        return replace(
            inv,
            os=before_os,
            software=before_sw,
            collected_at=_stamp(self.prev_day, rng),
            inventory_id=str(uuid.UUID(int=rng.getrandbits(128))),
        )

    def _before_os(self, t: Template, cpu_model: str) -> OsInfo:
        # three months ago some of today's Windows 11 PCs were still on Windows 10, and some
        # Windows 10 PCs still on Windows 7: the trend the KPIs should show.
        rng = self.rng
        win10 = self.tpl.get("win10-22h2-enterprise_wesng")
        win7 = self.tpl.get("win7-sp1-enterprise-x64_wesng")
        if t.key.startswith("win11") and win10 is not None and rng.random() < 0.35:
            return win10.os
        if (
            t.key.startswith("win10-22h2")
            and win7 is not None
            and rng.random() < 0.08
            and demo_era.ran(win7.os.version, cpu_model)
        ):  # Windows 7 only where it could run
            return win7.os
        return t.os

    def unreachable(self, devices: int) -> list[HostStatus]:
        """Targets the scan could not reach (they have no current inventory)."""
        rng = self.rng
        statuses: list[HostStatus] = []
        for i, site in enumerate(self.names):
            for j in range(max(1, devices // 120 // len(self.names))):
                kind = rng.choice(["unreachable", "timeout", "auth-failed"])
                err = {
                    "unreachable": "no route to host",
                    "timeout": "timed out after 60 s",
                    "auth-failed": "WinRM: access denied for the scan account",
                }[kind]
                last = _stamp(self.prev_day, rng) if rng.random() < 0.6 else ""
                statuses.append(
                    HostStatus(
                        target=f"{self.codes[i].lower()}-pc-x{j:03d}.demo.invalid",
                        site=site,
                        status=kind,
                        error=err,
                        at=_stamp(self.scan_day, rng),
                        last_ok_at=last,
                    )
                )
        return statuses


def generate(
    devices: int = 2000,
    sites: int = 3,
    seed: int = 7,
    as_of: date | None = None,
    apps_per_pc: tuple[int, int] = (25, 70),
    previous: bool = True,
    templates: dict[str, Template] | None = None,
) -> DemoEstate:
    """Build the estate.  ``as_of`` is the report date; the current scan ran two days before it."""
    if devices < 1:
        raise ValueError("--devices must be at least 1")
    as_of = as_of or date(2026, 11, 30)
    rng = random.Random(seed)
    tpl = templates or load_templates()
    names, codes, weights = _sites(sites)
    draw = _Devices(rng, tpl, _pc_pool(tpl), names, codes, weights, as_of - timedelta(days=2), apps_per_pc)
    current: list[Inventory] = []
    prev: list[Inventory] = []
    statuses: list[HostStatus] = []
    for _ in range(devices):
        inv, t = draw.device()
        current.append(inv)
        if previous:
            prev.append(draw.before(inv, t))
        statuses.append(
            HostStatus(
                target=inv.host.address,
                site=inv.host.site,
                status="ok",
                error="",
                at=inv.collected_at,
                host_key=inv.host.machine_id,
                last_ok_at=inv.collected_at,
            )
        )
    statuses += draw.unreachable(devices)
    return DemoEstate(
        current=current,
        previous=prev,
        statuses=statuses,
        sites=names,
        as_of=as_of,
        seed=seed,
        templates=dict(sorted(draw.used.items())),
    )


DEMO_EXCEPTIONS = """# DEMO exception / risk-acceptance register (generated by `legacyscan demo`).
# Format: docs/reports.md.  Scope fields (host, site, tag, product, cycle) narrow what an entry covers.

[[exception]]
id = "DEMO-EX-001"
tag = "medical-device"
product = "windows"
cycle = "7-sp1"
category = "alternate-mitigation"
justification = "Imaging and laboratory modalities certified by the manufacturer on Windows 7 only"
compensating_controls = ["segregated medical-device VLAN 120", "no internet access", "USB mass storage disabled",
                         "application allow-listing"]
medical_device = true
manufacturer_ref = "DEMO manufacturer end-of-support notice MDS2-2024-001"
owner = "Head of Clinical Engineering"
approver = "SIRO (DEMO)"
approved_on = 2026-02-01
expires = 2027-03-31
risk = "medium: isolated network, no e-mail or web"

[[exception]]
id = "DEMO-EX-002"
tag = "medical-device"
product = "windows"
cycle = "5-sp3"
category = "third-party-control"
justification = "Analyser control PCs supplied and managed by the laboratory equipment supplier"
compensating_controls = ["supplier remote access via audited jump host only", "segregated VLAN 130"]
medical_device = true
manufacturer_ref = "DEMO supplier contract LAB-2019-44 schedule 3"
owner = "Pathology IT lead"
approver = "SIRO (DEMO)"
approved_on = 2025-06-01
expires = 2026-06-30
risk = "high: unpatchable OS; review overdue"

[[exception]]
id = "DEMO-EX-003"
site = "DEMO General Hospital"
product = "windows"
cycle = "10-22h2"
category = "planned-remediation"
justification = "Windows 11 refresh funded in FY2026/27; devices replaced ward by ward"
compensating_controls = ["Windows 10 ESU year 1 purchased", "EDR on all devices"]
owner = "Desktop services manager"
approver = "SIRO (DEMO)"
approved_on = 2025-10-01
expires = 2027-03-31
risk = "medium"

[[exception]]
id = "DEMO-EX-004"
tag = "server"
product = "windows-server"
cycle = "2008-r2-sp1"
category = "risk-accepted"
justification = "Legacy pharmacy stock system; supplier ceased trading; migration project in flight"
compensating_controls = ["no inbound access except from the pharmacy VLAN"]
owner = "Chief Pharmacist"
approver = "SIRO (DEMO)"
approved_on = 2026-01-10
expires = 2026-12-31
"""

DEMO_CONFIG = """# DEMO report configuration (generated by `legacyscan demo`).  Format: docs/reports.md.
# Unit costs are illustrative, not quotes.

[costs]
currency = "GBP"
replace_device = 850
upgrade_os = 60
upgrade_hardware = 120
update_application = 15
migrate_server = 4000
assess_device = 25

[esu."windows:10-22h2"]
name = "Windows 10 ESU"
year_costs = [50, 100, 200]

[priority.tags]
"medical-device" = 20
clinical = 15

[report]
stale_days = 30
roadmap_quarters = 8

[plan]
# how many devices the desktop and server teams can replace, upgrade or migrate per financial year
devices_per_year = 700
"""
