"""macOS collection: sw_vers, installed applications, a few hardware facts.

Pure parsers over the text of fixed, read-only commands; ``collect`` only sequences them through
the Shell seam, so the same code runs locally, over SSH and against canned outputs in tests.

Applications come from ``system_profiler -xml SPApplicationsDataType`` (what About This Mac
shows).  When that is missing or fails (old or stripped-down systems, or it is very slow), a fixed
script reads each bundle's Info.plist under /Applications and /System/Applications with
``defaults read``.  Neither records application *paths*: a path under /Users names a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agents.compat import removeprefix, removesuffix
from agents.inventory import Hardware, Host, Inventory, OsInfo, Problem, Software

SW_VERS = ["sw_vers"]
SYSTEM_PROFILER_APPS = ["system_profiler", "-xml", "-detailLevel", "mini", "SPApplicationsDataType"]
SYSCTL_HW = ["sysctl", "-n", "hw.model", "hw.memsize", "hw.ncpu"]
IOREG_PLATFORM = ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"]
UNAME = ["uname", "-srm"]
HOSTNAME = ["uname", "-n"]
# Fallback: one fixed script (no host-supplied text is ever quoted into it), one line, no "!".
INFO_PLIST_SCRIPT = (
    "for p in /Applications/*.app /Applications/*/*.app /System/Applications/*.app "
    "/System/Applications/Utilities/*.app; do "
    '[ -f "$p/Contents/Info.plist" ] || continue; '
    'i="$p/Contents/Info"; '
    'printf \'%s\\t%s\\t%s\\t%s\\n\' "$(defaults read "$i" CFBundleName 2>/dev/null)" '
    '"$(defaults read "$i" CFBundleShortVersionString 2>/dev/null)" '
    '"$(defaults read "$i" CFBundleIdentifier 2>/dev/null)" "${p##*/}"; done'
)
INFO_PLIST = ["/bin/sh", "-c", INFO_PLIST_SCRIPT]


def parse_sw_vers(text: str) -> dict[str, str]:
    """``ProductName: macOS`` / ``ProductVersion: 14.4.1`` / ``BuildVersion: 23E224`` -> dict."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


_DEV_ID = re.compile(
    r"^(?:Developer ID Application|Apple Mac OS Application Signing|Apple iPhone OS Application "
    r"Signing|3rd Party Mac Developer Application|Mac App Store):\s*(.+?)(?:\s*\([A-Z0-9]{10}\))?$"
)


def _publisher(signed_by: Any, obtained_from: str) -> str:
    if isinstance(signed_by, list) and signed_by:
        m = _DEV_ID.match(str(signed_by[0]))
        if m:
            return m.group(1).strip()
        if str(signed_by[0]).startswith("Software Signing"):
            return "Apple Inc."
    return "Apple Inc." if obtained_from == "apple" else ""


def parse_system_profiler_apps(text: str) -> list[Software]:
    """``system_profiler SPApplicationsDataType`` output: ``-xml`` (plist) or the plain-text form."""
    stripped = text.lstrip()
    if stripped.startswith("<?xml") or stripped.startswith("<plist"):
        return _parse_apps_xml(stripped.encode("utf-8", "replace"))  # a lone surrogate is not fatal
    return _parse_apps_text(text)


def _parse_apps_xml(data: bytes) -> list[Software]:
    import plistlib  # here, not at the top: a Linux or Unix scan never pays for it (agents.probes imports us)
    from xml.parsers.expat import ExpatError

    try:
        doc = plistlib.loads(data)
    except (
        plistlib.InvalidFileException,
        ValueError,
        TypeError,
        ExpatError,
        IndexError,
        KeyError,
        AttributeError,
        RecursionError,
        OverflowError,
    ):  # plistlib's parser raises several of these on malformed XML (tests/fuzz)
        return []
    sections = doc if isinstance(doc, list) else [doc]
    out: list[Software] = []
    for section in sections:
        if not isinstance(section, dict):
            continue
        items = section.get("_items")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not item.get("_name"):
                continue
            obtained = str(item.get("obtained_from", ""))
            out.append(
                Software(
                    name=str(item["_name"]),
                    version=str(item.get("version", "")),
                    source="macos-app",
                    publisher=_publisher(item.get("signed_by"), obtained),
                    arch=removeprefix(str(item.get("arch_kind", "")), "arch_"),
                    install_date=_iso_date(item.get("lastModified")),
                )
            )
    return out


def _iso_date(value: Any) -> str:
    try:
        return value.strftime("%Y-%m-%d") if value is not None else ""
    except AttributeError:
        return ""


def _parse_apps_text(text: str) -> list[Software]:
    """Plain ``system_profiler SPApplicationsDataType``: an app name at one indent, fields deeper."""
    out: list[Software] = []
    current: dict[str, str] | None = None
    name_indent = None

    def flush() -> None:
        if current and current.get("_name"):
            out.append(
                Software(
                    name=current["_name"],
                    version=current.get("Version", ""),
                    source="macos-app",
                    publisher=_publisher(
                        [current["Signed by"].split(",")[0]] if current.get("Signed by") else None,
                        current.get("Obtained from", "").lower(),
                    ),
                    arch=current.get("Kind", ""),
                )
            )

    for line in text.splitlines():
        if not line.strip() or line.strip() == "Applications:":
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.endswith(":") and (name_indent is None or indent <= name_indent):
            flush()
            name_indent = indent
            current = {"_name": body[:-1]}
            continue
        if current is not None:
            key, sep, value = body.partition(":")
            if sep:
                current.setdefault(key.strip(), value.strip())
    flush()
    return out


def parse_info_plist_listing(text: str) -> list[Software]:
    """Output of ``INFO_PLIST``: name, version, bundle id, bundle directory name (tab separated)."""
    out: list[Software] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        name = parts[0].strip() or removesuffix(parts[3], ".app")
        if not name:
            continue
        out.append(
            Software(
                name=name,
                version=parts[1].strip(),
                source="macos-app",
                key=parts[2].strip(),
                publisher="Apple Inc." if parts[2].startswith("com.apple.") else "",
            )
        )
    return out


def parse_ioreg_platform(text: str) -> dict[str, str]:
    """``"IOPlatformUUID" = "..."`` lines of ``ioreg -rd1 -c IOPlatformExpertDevice``."""
    out: dict[str, str] = {}
    for m in re.finditer(r'"(IOPlatformUUID|IOPlatformSerialNumber|model|manufacturer)" = <?"?([^">\n]*)"?>?', text):
        out[m.group(1)] = m.group(2).strip()
    return out


def os_info(sw_vers: dict[str, str], uname: str = "") -> OsInfo:
    product = sw_vers.get("ProductName", "macOS")
    version = sw_vers.get("ProductVersion", "")
    build = sw_vers.get("BuildVersion", "")
    bits = uname.split()
    return OsInfo(
        family="macos",
        name=f"{product} {version}".strip(),
        version=version,
        arch=bits[2] if len(bits) > 2 else "",
        kernel=bits[1] if len(bits) > 1 else "",
        facts={"product_version": version, "build_version": build},
    )


def collect(output: Callable[[str], str | None], problems: list[Problem]) -> Inventory:
    """Collect a Mac from ``output``: a probe id of the table (agents/probes.py) -> its answer, None when
    it gave none (``probes.Asker.output`` records why as a Problem).  OS facts come first."""
    sw = parse_sw_vers(output("sw_vers") or "")
    if not sw.get("ProductVersion"):
        problems.append(Problem("sw_vers", "no ProductVersion in sw_vers output", "parse"))
    inv = Inventory(os=os_info(sw, output("uname") or ""))
    inv.host = Host(hostname=(output("hostname") or "").strip())
    profiler = output("system_profiler")
    apps = parse_system_profiler_apps(profiler) if profiler else []
    if not apps:
        listing = output("info-plist")
        apps = parse_info_plist_listing(listing or "")
    inv.software = apps
    hw = Hardware()
    sysctl = (output("sysctl") or "").split("\n")
    if sysctl and sysctl[0].strip():
        hw.model = sysctl[0].strip()
        hw.vendor = "Apple Inc."
    if len(sysctl) > 1 and sysctl[1].strip().isdecimal() and len(sysctl[1].strip()) < 20:
        hw.memory_bytes = int(sysctl[1].strip())
    if len(sysctl) > 2 and sysctl[2].strip().isdecimal():
        hw.cpu_threads = int(sysctl[2].strip())
    platform = parse_ioreg_platform(output("ioreg") or "")
    hw.serial = platform.get("IOPlatformSerialNumber", "")
    inv.host.machine_id = platform.get("IOPlatformUUID", "")
    hw.virtual = any(v in hw.model.lower() for v in ("vmware", "parallels", "virtual")) or None
    inv.hardware = hw
    return inv
