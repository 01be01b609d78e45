"""AIX, Solaris and BSD basics: OS level and installed packages through fixed, read-only commands.

These estates are small in hospitals (a lab system on AIX, an old Solaris PACS archive, a FreeBSD
appliance) but they are exactly the machines that fall out of support unnoticed.  ``os.facts``
carries ``uname`` (``uname -srvm``: no node name) and ``oslevel`` (the most precise release string
the platform offers) for the ``eol identify`` contract.  Parsers are pure functions over text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.inventory import Host, Inventory, OsInfo, Problem, Software
from agents.shell import Shell, ShellError

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


def collect(shell: Shell, platform: str, problems: list[Problem], *, timeout: float = 120.0) -> Inventory:
    family = FAMILIES.get(platform, platform)

    def run(probe: str, argv: list[str], missing_ok: bool = False) -> str | None:
        try:
            res = shell.run(argv, timeout=timeout)
        except ShellError as exc:
            problems.append(Problem(probe, str(exc), "timeout" if "timed out" in str(exc) else "error"))
            return None
        if res.exit_code == 127:
            if not missing_ok:
                problems.append(Problem(probe, f"{argv[0]} not found", "missing"))
            return None
        if not res.ok:
            problems.append(Problem(probe, (res.stderr or f"exit code {res.exit_code}").strip()[:500]))
            return None
        return res.stdout

    uname = (run("uname", UNAME) or "").strip()
    bits = uname.split()
    release = bits[1] if len(bits) > 1 else ""
    version = bits[2] if len(bits) > 2 else ""
    arch = bits[3] if len(bits) > 3 else ""
    oslevel = ""
    software: list[Software] = []
    name = ""

    def packages(
        probe: str, argv: list[str], parser: Callable[[str], list[Software]], missing_ok: bool = False
    ) -> bool:
        text = run(probe, argv, missing_ok)
        if text is None:
            return False
        software.extend(parser(text))
        return True

    if family == "aix":
        oslevel = (run("oslevel", AIX_OSLEVEL) or "").strip()
        name = f"AIX {version}.{release}" if version else "AIX"
        packages("lslpp", AIX_LSLPP, parse_lslpp)
    elif family == "solaris":
        oslevel = solaris_oslevel(shell.read_text(SOLARIS_RELEASE), version)
        name = oslevel or f"SunOS {release}"
        if not packages("pkg", SOLARIS_PKG, parse_pkg_list, missing_ok=True):
            packages("pkginfo", SOLARIS_PKGINFO, parse_pkginfo_l)
    elif family in ("freebsd", "dragonfly"):
        oslevel = (run("freebsd-version", FREEBSD_VERSION, missing_ok=True) or "").strip() or release
        name = f"{bits[0] if bits else family} {oslevel}"
        packages("pkg", FREEBSD_PKG, parse_pkg_query, missing_ok=True)
    else:  # openbsd, netbsd
        oslevel = release
        name = f"{bits[0] if bits else family} {release}"
        packages("pkg_info", BSD_PKG_INFO, parse_pkg_info, missing_ok=True)
    hostname = (run("hostname", HOSTNAME) or "").strip()
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
