"""AIX, Solaris and BSD basics: OS level and installed packages through fixed, read-only commands.

These estates are small in hospitals (a lab system on AIX, an old Solaris PACS archive, a FreeBSD
appliance) but they are exactly the machines that fall out of support unnoticed.  ``os.facts``
carries ``uname`` (``uname -srvm``: no node name) and ``oslevel`` (the most precise release string
the platform offers) for the ``eol identify`` contract.  Parsers are pure functions over text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.inventory import Host, Inventory, OsInfo, Software

UNAME = ["uname", "-srvm"]
HOSTNAME = ["uname", "-n"]
AIX_OSLEVEL = ["oslevel", "-s"]
AIX_LSLPP = ["lslpp", "-Lc"]
SOLARIS_RELEASE = "/etc/release"
SOLARIS_PKG = ["pkg", "list", "-H"]
SOLARIS_PKGINFO = ["pkginfo", "-l"]
FREEBSD_VERSION = ["freebsd-version", "-u"]
FREEBSD_PKG = ["pkg", "query", "%n %v"]
BSD_PKG_INFO = ["pkg_info"]

# uname -s (lower-cased) -> OS family recorded in the inventory
FAMILIES: dict[str, str] = {
    "aix": "aix",
    "sunos": "solaris",
    "freebsd": "freebsd",
    "openbsd": "openbsd",
    "netbsd": "netbsd",
    "dragonfly": "dragonfly",
}


def parse_lslpp(text: str) -> list[Software]:
    """``lslpp -Lc``: colon-separated ``package:fileset:level:state:...:description``."""
    out: list[Software] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) < 3 or not parts[1]:
            continue
        out.append(
            Software(
                name=parts[1],
                version=parts[2],
                source="lslpp",
                publisher="IBM" if parts[1].startswith(("bos.", "devices.", "rsct.")) else "",
            )
        )
    return out


def parse_pkg_list(text: str) -> list[Software]:
    """Solaris 11 ``pkg list -H``: ``name  version  flags`` (version is ``component-branch``)."""
    out: list[Software] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out.append(Software(name=parts[0], version=parts[1], source="solaris-pkg"))
    return out


def parse_pkginfo_l(text: str) -> list[Software]:
    """Solaris 10 ``pkginfo -l``: blocks of ``PKGINST: ...`` / ``VERSION: ...`` / ``VENDOR: ...``."""
    out: list[Software] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        if fields.get("PKGINST"):
            out.append(
                Software(
                    name=fields["PKGINST"],
                    version=fields.get("VERSION", ""),
                    source="solaris-pkg",
                    publisher=fields.get("VENDOR", ""),
                    arch=fields.get("ARCH", ""),
                )
            )
        fields.clear()

    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if not sep:
            if not line.strip():
                flush()
            continue
        key = key.strip()
        if key == "PKGINST" and fields.get("PKGINST"):
            flush()
        fields.setdefault(key, value.strip())
    flush()
    return out


def parse_pkg_query(text: str) -> list[Software]:
    """FreeBSD/DragonFly ``pkg query '%n %v'``."""
    out: list[Software] = []
    for line in text.splitlines():
        name, _, version = line.strip().partition(" ")
        if name:
            out.append(Software(name=name, version=version.strip(), source="freebsd-pkg"))
    return out


_PKG_NAME_VERSION = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^\s]*)$")


def parse_pkg_info(text: str) -> list[Software]:
    """OpenBSD/NetBSD ``pkg_info``: ``name-version  comment``; version from the first ``-<digit>``."""
    out: list[Software] = []
    for line in text.splitlines():
        stem = line.split(None, 1)[0] if line.strip() else ""
        m = _PKG_NAME_VERSION.match(stem)
        if m:
            out.append(Software(name=m.group("name"), version=m.group("version"), source="bsd-pkg"))
    return out


def solaris_oslevel(release_text: str | None, uname_v: str) -> str:
    """First line of /etc/release (``Oracle Solaris 11.4 X86``), else ``uname -v``."""
    if release_text:
        for line in release_text.splitlines():
            if line.strip():
                return line.strip()
    return uname_v


def collect(output: Callable[[str], str | None], read: Callable[[str], str | None], platform: str) -> Inventory:
    """Collect an AIX, Solaris or BSD host from ``output`` (a probe id of the table, agents/probes.py ->
    its answer, None when it gave none: ``probes.Asker`` records why) and ``read`` (a file row -> its
    text)."""
    family = FAMILIES.get(platform, platform)

    uname = (output("unix-uname") or "").strip()
    bits = uname.split()
    release = bits[1] if len(bits) > 1 else ""
    version = bits[2] if len(bits) > 2 else ""
    arch = bits[3] if len(bits) > 3 else ""
    oslevel = ""
    software: list[Software] = []
    name = ""

    def packages(probe_id: str, parser: Callable[[str], list[Software]]) -> bool:
        text = output(probe_id)
        if text is None:
            return False
        software.extend(parser(text))
        return True

    if family == "aix":
        oslevel = (output("oslevel") or "").strip()
        name = f"AIX {version}.{release}" if version else "AIX"
        packages("lslpp", parse_lslpp)
    elif family == "solaris":
        oslevel = solaris_oslevel(read("solaris-release"), version)
        name = oslevel or f"SunOS {release}"
        if not packages("pkg-list", parse_pkg_list):
            packages("pkginfo", parse_pkginfo_l)
    elif family in ("freebsd", "dragonfly"):
        oslevel = (output("freebsd-version") or "").strip() or release
        name = f"{bits[0] if bits else family} {oslevel}"
        packages("pkg-query", parse_pkg_query)
    else:  # openbsd, netbsd
        oslevel = release
        name = f"{bits[0] if bits else family} {release}"
        packages("pkg_info", parse_pkg_info)
    hostname = (output("hostname") or "").strip()
    return Inventory(
        host=Host(hostname=hostname),
        os=OsInfo(
            family=family,
            name=name.strip(),
            version=oslevel or release,
            arch=arch,
            kernel=release,
            facts={"uname": uname, "oslevel": oslevel},
        ),
        software=software,
    )
