"""Fuzz: every parser of host output (agents/linux, macos, unix, windows, hardware) and the whole
Collector over a host whose every answer is odd (#19 item 19).

Host output is data from machines we do not control.  The parsers are total: whatever a host
prints, they return (possibly empty) results and never raise.  The Windows document parser may
refuse a document, only with ``WindowsDocumentError``.  The Collector turns anything odd into a
probe problem and keeps the rest of the inventory: it never raises.
"""

from __future__ import annotations

import copy
import json
import plistlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agents import hardware, linux, macos, unix, windows
from agents.collect import Collector
from agents.inventory import Inventory
from agents.shell import CommandResult
from tests.fuzz.strategies import hostile_text, inputs, json_values

pytestmark = pytest.mark.timeout(120)

OS_RELEASE = [
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nID=debian\nHOME_URL="https://www.debian.org/"\n',
    'NAME=\'Rocky Linux\'\nVERSION_ID="8.4"\nID=rocky\nID_LIKE="rhel centos fedora"\n',
]
DPKG_STATUS = [
    "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n"
    "Maintainer: Matthias Klose <doko@debian.org>\n\nPackage: old\nStatus: deinstall ok config-files\n"
    "Version: 1.0\n\nPackage: openssl\nStatus: hold ok installed\nSource: openssl (3.0.11-1)\n"
    "Version: 3.0.11-1~deb12u2\nOrigin: Debian\n"
]
DPKG_QUERY = ["bash\t5.2.15-2+b2\tamd64\tii \tMatthias Klose\tbash\t\nzlib1g\t1:1.2.13\tamd64\tii \t\t\t\n"]
RPM_QA = [
    "bash\t(none):5.1.8-6.el9\tx86_64\tRocky Enterprise Software Foundation\n"
    "kernel\t0:5.14.0-362.el9\tx86_64\tRed Hat, Inc.\n"
]
APK = ["P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r5\n"]
SW_VERS = [
    "ProductName:\tmacOS\nProductVersion:\t14.4.1\nBuildVersion:\t23E224\n",
    "ProductName:\tMac OS X\nProductVersion:\t10.6.8\nBuildVersion:\t10K549\n",
]
PLIST = [
    plistlib.dumps(
        [
            {
                "_dataType": "SPApplicationsDataType",
                "_items": [
                    {
                        "_name": "Safari",
                        "version": "17.4",
                        "obtained_from": "apple",
                        "lastModified": datetime(2024, 3, 1),
                        "signed_by": ["Software Signing", "Apple Code Signing Certification Authority"],
                    },
                    {
                        "_name": "Zoom",
                        "version": "5.17",
                        "obtained_from": "identified_developer",
                        "signed_by": ["Developer ID Application: Zoom Video Communications, Inc. (BJ4HAAB9B3)"],
                    },
                ],
            }
        ]
    ).decode(),
    "Applications:\n\n    Safari:\n\n      Version: 17.4\n      Obtained from: Apple\n\n",
]
INFO_PLIST = ["/Applications/Foo.app\tcom.foo\t1.2.3\tFoo Inc.\n/Applications/Bar.app\t\t\t\n"]
IOREG = ['  "IOPlatformUUID" = "6F3C2A58-0000-0000-0000-000000000001"\n  "model" = <"iMac5,1">\n']
LSLPP = ["#Package Name:Fileset:Level:State\nbos.rte:bos.rte:7.2.5.0: : :C: :Base OS Runtime\n"]
PKG_LIST = ["entire  0.5.11-0.175.3.1.0.5.0  i--\nweb/curl  7.40.0-0.175.3.0.0.30.0  i--\n"]
PKGINFO = [
    "   PKGINST:  SUNWcsr\n      NAME:  Core Solaris\n   VERSION:  11.10.0,REV=2005.01.21\n"
    "    VENDOR:  Oracle\n      ARCH:  i386\n\n   PKGINST:  SUNWzlib\n   VERSION:  1.2.3\n"
]
PKG_QUERY = ["bash\t5.2.15\tFreeBSD\nopenssl\t3.0.12,1\tFreeBSD\n"]
PKG_INFO = ["bash-5.2.15p0        GNU Bourne Again Shell\nopenssl-3.0.12      TLS toolkit\n"]
CPUINFO = ["processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz\n\nprocessor\t: 1\n"]
MEMINFO = ["MemTotal:       16318480 kB\nMemFree:         1234567 kB\n"]
SOLARIS_RELEASE = ["                   Oracle Solaris 11.4 X86\n  Copyright (c) 1983, 2018, Oracle.\n"]


@given(inputs(OS_RELEASE))
def test_os_release_and_os_name(text: str) -> None:
    parsed = linux.parse_os_release(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())
    name, version = linux.os_name({"/etc/os-release": text})
    assert isinstance(name, str) and isinstance(version, str)


@pytest.mark.parametrize(
    ("parser", "seeds"),
    [
        (linux.parse_dpkg_status, DPKG_STATUS),
        (linux.parse_dpkg_query, DPKG_QUERY),
        (linux.parse_rpm_qa, RPM_QA),
        (linux.parse_apk_installed, APK),
        (macos.parse_system_profiler_apps, PLIST),
        (macos.parse_info_plist_listing, INFO_PLIST),
        (unix.parse_lslpp, LSLPP),
        (unix.parse_pkg_list, PKG_LIST),
        (unix.parse_pkginfo_l, PKGINFO),
        (unix.parse_pkg_query, PKG_QUERY),
        (unix.parse_pkg_info, PKG_INFO),
    ],
    ids=lambda v: getattr(v, "__name__", "seeds"),
)
@given(data=st.data())
def test_package_parsers_are_total(parser: Any, seeds: list[str], data: st.DataObject) -> None:
    text = data.draw(inputs(seeds))
    for sw in parser(text):
        assert isinstance(sw.name, str) and isinstance(sw.version, str)


@given(inputs(SW_VERS), inputs(IOREG), inputs(CPUINFO), hostile_text, inputs(SOLARIS_RELEASE))
def test_small_parsers_are_total(sw_vers: str, ioreg: str, cpuinfo: str, uname: str, release: str) -> None:
    info = macos.os_info(macos.parse_sw_vers(sw_vers), uname)
    assert isinstance(info.name, str)
    assert isinstance(macos.parse_ioreg_platform(ioreg), dict)
    assert isinstance(hardware.parse_cpuinfo_model(cpuinfo), str)
    assert isinstance(unix.solaris_oslevel(release, uname), str)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
WINDOWS_DOCS = [
    json.loads((FIXTURES / name / "collect.json").read_text("utf-8"))
    for name in (
        "windows-srv2016-datacenter-eval",
        "windows-win11-24h2-enterprise-ltsc",
        "windows-srv2003r2-sp2-standard-x86",
    )
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:20]):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def odd_document(draw: st.DrawFn) -> dict[str, Any]:
    """A real collection document with a few of its values (anywhere) replaced by odd ones."""
    doc = copy.deepcopy(draw(st.sampled_from(WINDOWS_DOCS)))
    paths = _paths(doc)[1:]
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@given(odd_document())
@example({**WINDOWS_DOCS[0], "os": {"wmi": {"BuildNumber": "\u00b2", "InstallDate": "99999999999999"}}})
def test_windows_document_parser_refuses_only_with_its_error(doc: dict[str, Any]) -> None:
    try:
        inv = windows.parse_document(doc)
    except windows.WindowsDocumentError:
        return
    assert isinstance(inv, Inventory)
    Inventory.from_dict(inv.to_dict())  # what the parser built is a valid inventory


@given(inputs([json.dumps(d) for d in WINDOWS_DOCS[:1]] + ["noise\n" + json.dumps(WINDOWS_DOCS[2]) + "\ntrailer"]))
def test_windows_stdout_extraction_refuses_only_with_its_error(stdout: str) -> None:
    try:
        windows.parse_document(stdout)
    except windows.WindowsDocumentError:
        pass


# -- the Collector over a whole odd host (item 19) ------------------------------------------------


class OddHost:
    """Every command and file answered from a dict; the rest as missing (exit 127 / None)."""

    def __init__(self, name: str, commands: dict[str, str], files: dict[str, str]) -> None:
        self.name = name
        self.commands = commands
        self.files = files

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        out = self.commands.get(" ".join(argv))
        return CommandResult(127, "", "not found") if out is None else CommandResult(0, out, "")

    def read_text(self, path: str) -> str | None:
        return self.files.get(path)


LINUX_FILES = {
    "/etc/os-release": OS_RELEASE,
    linux.DPKG_STATUS: DPKG_STATUS,
    "/proc/meminfo": MEMINFO,
    "/proc/cpuinfo": CPUINFO,
    "/etc/hostname": ["ward-pc-01\n"],
    "/etc/machine-id": ["0123abcd\n"],
    linux.APK_INSTALLED: APK,
}
LINUX_CMDS = {
    "uname -s": ["Linux\n"],
    " ".join(linux.UNAME): ["Linux 6.1.0-13-amd64 x86_64\n"],
    " ".join(linux.RPM_QA): RPM_QA,
}
MAC_CMDS = {
    "uname -s": ["Darwin\n"],
    " ".join(macos.SW_VERS): SW_VERS,
    " ".join(macos.SYSTEM_PROFILER_APPS): PLIST,
    " ".join(macos.SYSCTL_HW): ["iMac5,1\n2147483648\n2\n", "x\ny\n"],
    " ".join(macos.IOREG_PLATFORM): IOREG,
    " ".join(macos.INFO_PLIST): INFO_PLIST,
    " ".join(macos.UNAME): ["Darwin 23.4.0 arm64\n"],
}
UNIX_CMDS = {
    "uname -s": ["AIX\n", "SunOS\n", "FreeBSD\n", "OpenBSD\n"],
    " ".join(unix.UNAME): ["AIX 2 7 00F\n"],
    "lslpp -Lc": LSLPP,
    "pkg list -H": PKG_LIST,
    "pkginfo -l": PKGINFO,
    "oslevel -s": ["7200-05-03\n"],
}


@st.composite
def odd_host(draw: st.DrawFn) -> OddHost:
    kind = draw(st.sampled_from(["linux", "macos", "unix"]))
    cmds = {"linux": LINUX_CMDS, "macos": MAC_CMDS, "unix": UNIX_CMDS}[kind]
    files = LINUX_FILES if kind == "linux" else {"/etc/release": SOLARIS_RELEASE}
    commands = {k: draw(inputs(v)) if draw(st.booleans()) else v[0] for k, v in cmds.items()}
    if kind != "linux":
        commands["uname -s"] = draw(st.sampled_from(cmds["uname -s"]))
    texts = {k: draw(inputs(v)) if draw(st.booleans()) else v[0] for k, v in files.items()}
    return OddHost("ssh", commands, texts)


MEMINFO_ODD = OddHost(
    "ssh",
    {k: v[0] for k, v in LINUX_CMDS.items()},
    {**{k: v[0] for k, v in LINUX_FILES.items()}, "/proc/meminfo": "MemTotal: 16 GB\n"},
)
MAC_ODD = OddHost(
    "ssh",
    {
        **{k: v[0] for k, v in MAC_CMDS.items()},
        "uname -s": "Darwin\n",
        " ".join(macos.SYSTEM_PROFILER_APPS): plistlib.dumps([{"_items": 5}]).decode(),
        " ".join(macos.SYSCTL_HW): "iMac5,1\n\u00b2\n2\n",
    },
    {},
)


@given(odd_host())
@example(MEMINFO_ODD)
@example(MAC_ODD)
def test_collector_never_fails_a_host_for_odd_output(host: OddHost) -> None:
    inv = Collector(host, address="10.0.0.1", now=lambda: datetime(2026, 11, 30, tzinfo=UTC)).collect()
    assert isinstance(inv, Inventory)
    Inventory.from_dict(json.loads(inv.to_json()))  # the document it made is valid
