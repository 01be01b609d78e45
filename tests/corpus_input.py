"""Convert labelled corpus records and whole-host captures into ``eol identify`` input records.

Why a converter and not hand-written inputs: the acceptance measurements must feed the identifier
what a collector would send (the contract shapes in ARCHITECTURE.md), starting from the raw strings
exactly as the public sources printed them.  The converter only *routes* raw values to contract
fields (and keeps every raw key beside them); all interpretation (mangled captions, "N/A Build",
localized labels, Windows 11 calling itself 10) stays in the identifiers, because the held-out
acceptance set is converted by a converter we cannot see.

Sections: OS (this part) and software (appended by the software identification work).
"""

from __future__ import annotations

import re
from typing import Any

# ============================================================================ OS records ============

# systeminfo / WMI / registry labels (any language seen in the sources) -> contract field.
_WINDOWS_LABELS: tuple[tuple[str, str], ...] = (
    ("win32_operatingsystem.caption", "caption"),
    ("caption", "caption"),
    ("os name", "caption"),
    ("nom du système d'exploitation", "caption"),
    ("nombre del sistema operativo", "caption"),
    ("os 名称", "caption"),
    ("название ос", "caption"),
    ("betriebssystemname", "caption"),
    ("registry productname", "product_name"),
    ("productname", "product_name"),
    ("os version", "version"),
    ("version du système", "version"),
    ("versión del sistema operativo", "version"),
    ("os 版本", "version"),
    ("версия ос", "version"),
    ("betriebssystemversion", "version"),
    ("currentbuildnumber", "build"),
    ("currentbuild", "build"),
    ("ubr", "ubr"),
    ("editionid", "edition_id"),
    ("displayversion", "display_version"),
    ("releaseid", "release_id"),
    ("installationtype", "installation_type"),
    ("producttype", "product_type"),
    ("csdversion", "csd_version"),
)


def _files_family(files: dict[str, str]) -> str:
    """Release files of a non-Linux Unix (Solaris ``/etc/release``, FreeBSD os-release) or linux."""
    release = files.get("/etc/release", "")
    if re.search(r"\bSolaris\b|SmartOS|OpenIndiana|illumos|OmniOS", release):
        return "solaris"
    osrel = files.get("/etc/os-release", "") or files.get("/usr/lib/os-release", "")
    m = re.search(r"^ID=\"?([\w.-]+)", osrel, re.MULTILINE)
    if m and m.group(1).lower() in ("freebsd", "openbsd", "netbsd", "dragonfly"):
        return m.group(1).lower()
    return "linux"


def os_record_from_corpus(raw: dict[str, Any], raw_format: str) -> dict[str, Any]:
    """One corpus ``raw`` block (as found in the source) -> an ``eol identify`` OS record."""
    fmt = raw_format.lower()
    keys = list(raw)
    if keys and all(k.startswith("/") for k in keys):
        files = {k: str(v) for k, v in raw.items()}
        return {"kind": "os", "family": _files_family(files), "files": files}
    text = "\n".join(f"{k}: {v}" for k, v in raw.items())
    if "sw_vers" in raw or "sw_vers" in fmt:
        rec: dict[str, Any] = {"kind": "os", "family": "macos"}
        body = str(raw.get("sw_vers", text))
        pv = re.search(r"ProductVersion:\s*(\S+)", body)
        bv = re.search(r"BuildVersion:\s*(\S+)", body)
        if pv:
            rec["product_version"] = pv.group(1)
        if bv:
            rec["build_version"] = bv.group(1)
        rec.update({k: v for k, v in raw.items() if k != "sw_vers"})
        return rec
    if re.search(r"mac ?os|os x|darwin", text, re.IGNORECASE) and "windows" not in text.lower():
        rec = {"kind": "os", "family": "macos"}
        for value in raw.values():
            m = re.search(r"(?:macOS|Mac OS X|OS X)\s+(\d+(?:\.\d+)*)\s*\((\w+)\)", str(value))
            if m:
                rec["product_version"], rec["build_version"] = m.group(1), m.group(2)
                break
        rec.update(raw)
        return rec
    if "uname" in fmt or "oslevel" in fmt or any(k.startswith("uname") for k in keys):
        first = str(next(iter(raw.values()), "")).split()
        family = first[0].lower() if first else "unknown"
        family = {"sunos": "solaris"}.get(family, family)
        rec = {"kind": "os", "family": family}
        for key, value in raw.items():
            if key.startswith("uname"):
                rec["uname"] = value
            elif key.startswith("oslevel"):
                rec["oslevel"] = value
        rec.update(raw)
        return rec
    return windows_record_from_labels(raw)


def windows_record_from_labels(raw: dict[str, Any]) -> dict[str, Any]:
    """Windows systeminfo / WMI / registry / agent lines -> contract fields plus the raw keys."""
    rec: dict[str, Any] = {"kind": "os", "family": "windows"}
    for key, value in raw.items():
        low = key.lower().strip()
        for label, field in _WINDOWS_LABELS:
            if (low == label or low.endswith(label)) and field not in rec:
                rec[field] = value
                break
    if "caption" not in rec and "product_name" not in rec:
        # Free text (issue titles, agent lines, README headers): the caption is the text itself.
        for value in raw.values():
            if "windows" in str(value).lower():
                rec["caption"] = str(value).lstrip("# ").strip()
                break
    for key, value in raw.items():
        rec.setdefault(key, value)
    return rec


def _fusion_linux_files(osys: dict[str, Any]) -> dict[str, str]:
    """Rebuild the release file a FusionInventory agent read its FULL_NAME from.

    The agent reports the distro's release-file line (redhat-release, SuSE-release, ...) or the
    os-release PRETTY_NAME as FULL_NAME; put it back where the Linux identifier looks for it (same
    reconstruction as tests/unit/test_ident_linux.py).
    """
    full = str(osys.get("FULL_NAME") or "").strip()
    version = str(osys.get("VERSION") or "")
    low = full.lower()
    if "debian" in low or "raspbian" in low:
        m = re.search(r"(\d+)(\.\d+)?", full)
        return {"/etc/debian_version": (m.group(0) if m else version) + "\n"}
    if "ubuntu" in low:
        m = re.search(r"(\d+\.\d+)", full)
        return {"/etc/lsb-release": f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={m.group(1) if m else version}\n"}
    if "suse" in low:
        m = re.search(r"(\d+)(?: SP(\d+))?", full)
        sp = re.sub(r"\D", "", str(osys.get("SERVICE_PACK") or (m.group(2) if m and m.group(2) else "0"))) or "0"
        return {"/etc/SuSE-release": f"{full}\nVERSION = {m.group(1) if m else ''}\nPATCHLEVEL = {sp}\n"}
    if "slackware" in low or str(osys.get("NAME") or "").lower() == "slackware":
        return {"/etc/slackware-version": full + "\n"}
    return {"/etc/redhat-release": full + "\n"}


def os_record_from_capture(capture: dict[str, Any]) -> dict[str, Any]:
    """One whole-host capture (``scanner/demo_data/captures/*/*.json``) -> an ``eol identify`` OS record."""
    platform = str(capture.get("platform") or "")
    os_raw: dict[str, Any] = dict(capture.get("os") or {})
    fusion = os_raw.get("OPERATINGSYSTEM") or os_raw.get("operatingsystem")
    if isinstance(fusion, dict):
        f = {str(k).upper(): v for k, v in fusion.items()}
        hw = os_raw.get("HARDWARE") or os_raw.get("hardware") or {}
        hw = {str(k).upper(): v for k, v in hw.items()} if isinstance(hw, dict) else {}
        if platform == "windows":
            rec: dict[str, Any] = {
                "kind": "os",
                "family": "windows",
                "caption": f.get("FULL_NAME") or hw.get("OSNAME") or "",
                "version": f.get("KERNEL_VERSION") or hw.get("OSVERSION") or "",
            }
            if f.get("SERVICE_PACK"):
                rec["csd_version"] = f["SERVICE_PACK"]
            if re.fullmatch(r"\d{4}", str(f.get("VERSION") or "")):
                rec["release_id"] = f["VERSION"]
            return rec
        if platform == "macos":
            rec = {"kind": "os", "family": "macos"}
            m = re.match(r"\s*(\d+(?:\.\d+)*)\s*(?:\((\w+)\))?", str(f.get("VERSION") or hw.get("OSVERSION") or ""))
            if m:
                rec["product_version"] = m.group(1)
                if m.group(2):
                    rec["build_version"] = m.group(2)
            rec["name"] = f.get("FULL_NAME") or ""
            return rec
        return {"kind": "os", "family": "linux", "files": _fusion_linux_files(f)}
    if platform == "linux":
        files: dict[str, str] = {}
        for key, value in os_raw.items():
            path = {
                "os-release": "/etc/os-release",
                "alpine-release": "/etc/alpine-release",
                "issue": "/etc/issue",
            }.get(key, key if key.startswith("/") else f"/etc/{key}")
            files[path] = str(value)
        return {"kind": "os", "family": "linux", "files": files}
    if platform == "macos":
        rec = {"kind": "os", "family": "macos"}
        if "kern.osproductversion" in os_raw:
            rec["product_version"] = os_raw["kern.osproductversion"]
            if os_raw.get("kern.osversion"):
                rec["build_version"] = os_raw["kern.osversion"]
        else:
            m = re.search(r"(\d+(?:\.\d+)+)\s*\((\w+)\)", str(os_raw.get("System Version") or ""))
            if m:
                rec["product_version"], rec["build_version"] = m.group(1), m.group(2)
        rec.update({k: v for k, v in os_raw.items() if isinstance(v, str)})
        return rec
    if platform == "windows":
        return windows_record_from_labels({k: v for k, v in os_raw.items() if isinstance(v, str)})
    return {"kind": "os", "family": platform or "unknown", **os_raw}


# ====================================================================== software records ============

# Raw key spellings of the software sources (ARP/.reg, Amcache, FRST, Wazuh, winget, Salt, GLPI).
_SW_NAME_KEYS = ("DisplayName", "Name", "name", "NAME")
_SW_VERSION_KEYS = ("DisplayVersion", "Version", "version", "VERSION", "winget PackageVersion")
_SW_PUBLISHER_KEYS = ("Publisher", "publisher", "vendor", "PUBLISHER")


def _first(raw: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = raw.get(key)
        if value not in (None, ""):
            return value
    return None


def software_record_from_corpus(raw: dict[str, Any], raw_format: str) -> dict[str, Any]:
    """One corpus ``windows_software`` raw block -> an ``eol identify`` software record.

    Routing only: each source names DisplayName / DisplayVersion / Publisher differently (Amcache
    ``Name``/``Version``, Wazuh ``name``/``version``/``vendor``, winget's package version, a
    HiJackThis ``"Firefox: 129.0.0.2295"`` header line); the values are passed on untouched.
    """
    fmt = raw_format.lower()
    rec: dict[str, Any] = {"kind": "software", "source": "windows-registry"}
    name = _first(raw, _SW_NAME_KEYS)
    version = _first(raw, _SW_VERSION_KEYS)
    if name is None:
        for key, value in raw.items():  # "<browser>: <version>" header lines
            m = re.match(r"\s*([^:]+):\s*(\S+)\s*$", str(value))
            if "header" in key.lower() and m:
                name, version = m.group(1), m.group(2)
                break
    if name is not None:
        rec["name"] = name
    if version is not None:
        rec["version"] = version
    publisher = _first(raw, _SW_PUBLISHER_KEYS)
    if publisher is not None:
        rec["publisher"] = publisher
    if str(raw.get("Source") or "").lower().startswith("appx") or "appx" in fmt or "msix" in fmt:
        rec["source"] = "msix"
    for src, dst in (
        ("SystemComponent", "system_component"),
        ("ParentKeyName", "parent_key_name"),
        ("ReleaseType", "release_type"),
    ):
        if raw.get(src) not in (None, ""):
            rec[dst] = raw[src]
    return rec


def software_record_from_capture(entry: dict[str, Any], platform: str = "windows") -> dict[str, Any]:
    """One ``software`` entry of a whole-host capture -> an ``eol identify`` software record.

    Windows entries come from FusionInventory: ``origin`` tells Uninstall key from AppX/MSIX, and
    ``raw.SYSTEM_CATEGORY == "system_component"`` is how the agent reports SystemComponent=1.
    """
    if platform == "macos" or ("path" in entry and "DisplayName" not in entry):
        rec: dict[str, Any] = {"kind": "software", "source": "macos-app", "name": entry.get("name")}
        if entry.get("version") not in (None, ""):
            rec["version"] = entry["version"]
        return rec
    rec = {
        "kind": "software",
        "source": "msix" if entry.get("origin") == "appx-msix" else "windows-registry",
        "name": entry.get("DisplayName"),
    }
    for src, dst in (
        ("DisplayVersion", "version"),
        ("Publisher", "publisher"),
        ("SystemComponent", "system_component"),
        ("ParentKeyName", "parent_key_name"),
        ("ReleaseType", "release_type"),
    ):
        if entry.get(src) not in (None, ""):
            rec[dst] = entry[src]
    raw = entry.get("raw") or {}
    if "system_component" not in rec and str(raw.get("SYSTEM_CATEGORY") or "") == "system_component":
        rec["system_component"] = True
    return rec
