"""Pure parsers for macOS and AIX/Solaris/BSD outputs, and their collectors over a ReplayShell.

Inputs follow the real tools' documented output formats; the application list is built from a
real captured Mac (Mac OS X 10.6.8 iMac, glpi-project/inventory_format, MIT; see the capture's
provenance), rendered the way ``system_profiler -xml`` prints it.
"""

from __future__ import annotations

import json
import plistlib
from datetime import datetime
from pathlib import Path

from agents import macos, unix
from agents.collect import Collector
from agents.inventory import Problem
from agents.shell import ReplayShell

CAPTURE = (
    Path(__file__).resolve().parents[2]
    / "scanner/demo_data/captures/macos/macos-10.6.8-imac5.1_glpi-inventory-format.json"
)


def test_sw_vers_and_os_facts_follow_the_identify_contract() -> None:
    sw = macos.parse_sw_vers("ProductName:\tmacOS\nProductVersion:\t14.4.1\nBuildVersion:\t23E224\n")
    assert sw == {"ProductName": "macOS", "ProductVersion": "14.4.1", "BuildVersion": "23E224"}
    os_info = macos.os_info(sw, "Darwin 23.4.0 arm64")
    assert os_info.identify_record() == {
        "kind": "os",
        "family": "macos",
        "product_version": "14.4.1",
        "build_version": "23E224",
    }
    assert os_info.name == "macOS 14.4.1" and os_info.arch == "arm64" and os_info.kernel == "23.4.0"
    old = macos.parse_sw_vers("ProductName:    Mac OS X\nProductVersion: 10.6.8\nBuildVersion:   10K549\n")
    assert macos.os_info(old).name == "Mac OS X 10.6.8"


def _profiler_xml() -> tuple[str, list[dict[str, str]]]:
    capture = json.loads(CAPTURE.read_text("utf-8"))
    items = [
        {
            "_name": s["name"],
            "version": s.get("version") or "",
            "obtained_from": "identified_developer",
            "path": f"/Applications/{s['name']}.app",
            "lastModified": datetime(2011, 6, 1, 12, 0),
        }
        for s in capture["software"]
    ]
    items.append(
        {
            "_name": "Google Chrome",
            "version": "120.0.6099.109",
            "obtained_from": "identified_developer",
            "signed_by": [
                "Developer ID Application: Google LLC (EQHXZ8M8AV)",
                "Developer ID Certification Authority",
                "Apple Root CA",
            ],
            "arch_kind": "arch_arm_i64",
        }
    )
    return plistlib.dumps([{"_dataType": "SPApplicationsDataType", "_items": items}]).decode(), capture["software"]


def test_system_profiler_xml() -> None:
    xml, captured = _profiler_xml()
    apps = macos.parse_system_profiler_apps(xml)
    assert len(apps) == len(captured) + 1
    assert {(a.name, a.version) for a in apps[:-1]} == {(s["name"], s.get("version") or "") for s in captured}
    chrome = apps[-1]
    assert (chrome.name, chrome.version, chrome.publisher, chrome.source) == (
        "Google Chrome",
        "120.0.6099.109",
        "Google LLC",
        "macos-app",
    )
    assert chrome.arch == "arm_i64"
    assert apps[0].install_date == "2011-06-01"
    assert all(not a.key.startswith("/") for a in apps), "no paths: /Users/<name> would be personal data"
    assert macos.parse_system_profiler_apps("<?xml version='1.0'?><plist><broken") == []


def test_system_profiler_text() -> None:
    text = """Applications:

    Safari:

      Version: 5.1.10
      Obtained from: Apple
      Last Modified: 16/09/2013, 22:53
      Kind: Intel
      64-Bit (Intel): Yes
      Signed by: Software Signing, Apple Code Signing Certification Authority, Apple Root CA
      Location: /Applications/Safari.app

    Microsoft Word:

      Version: 14.3.9
      Obtained from: Identified Developer
      Kind: Intel
      Location: /Applications/Microsoft Office 2011/Microsoft Word.app
"""
    apps = macos.parse_system_profiler_apps(text)
    assert [(a.name, a.version, a.publisher) for a in apps] == [
        ("Safari", "5.1.10", "Apple Inc."),
        ("Microsoft Word", "14.3.9", ""),
    ]


def test_info_plist_listing_and_ioreg() -> None:
    listing = "Firefox\t115.6.0\torg.mozilla.firefox\tFirefox.app\n\t\t\tOdd.app\nshort line\n"
    apps = macos.parse_info_plist_listing(listing)
    assert [(a.name, a.version, a.key) for a in apps] == [
        ("Firefox", "115.6.0", "org.mozilla.firefox"),
        ("Odd", "", ""),
    ]
    ioreg = (
        '+-o MacBookPro18,1  <class IOPlatformExpertDevice>\n    "IOPlatformSerialNumber" = "C02XL0GHJGH5"\n'
        '    "IOPlatformUUID" = "3B6F4B5E-1234-5678-9ABC-DEF012345678"\n'
    )
    assert macos.parse_ioreg_platform(ioreg) == {
        "IOPlatformSerialNumber": "C02XL0GHJGH5",
        "IOPlatformUUID": "3B6F4B5E-1234-5678-9ABC-DEF012345678",
    }


def _replay(commands: dict[str, tuple[int, str]], tmp: Path, files: dict[str, str] | None = None) -> ReplayShell:
    for path, text in (files or {}).items():
        target = tmp / "files" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return ReplayShell(tmp, commands={k: {"exit_code": c, "stdout": o} for k, (c, o) in commands.items()})


def test_macos_collect_falls_back_to_info_plist(tmp_path: Path) -> None:
    shell = _replay(
        {
            "uname -s": (0, "Darwin\n"),
            "uname -srm": (0, "Darwin 22.6.0 x86_64\n"),
            "uname -n": (0, "lab-mac\n"),
            "sw_vers": (0, "ProductName:\tmacOS\nProductVersion:\t13.6.1\nBuildVersion:\t22G313\n"),
            "system_profiler -xml -detailLevel mini SPApplicationsDataType": (1, ""),
            " ".join(macos.INFO_PLIST): (0, "Safari\t17.1\tcom.apple.Safari\tSafari.app\n"),
            "sysctl -n hw.model hw.memsize hw.ncpu": (0, "MacBookPro16,1\n17179869184\n12\n"),
        },
        tmp_path,
    )
    inv = Collector(shell).collect()
    assert inv.os.family == "macos" and inv.os.facts == {"product_version": "13.6.1", "build_version": "22G313"}
    assert [(s.name, s.version, s.publisher) for s in inv.software] == [("Safari", "17.1", "Apple Inc.")]
    assert inv.hardware.model == "MacBookPro16,1" and inv.hardware.memory_bytes == 17179869184
    assert inv.host.hostname == "lab-mac"
    assert Problem("system_profiler", "exit code 1") in inv.problems


LSLPP = """#Package Name:Fileset:Level:State:PTF Id:Fix State:Type:Description:Destination Dir.:Uninstaller:Message Catalog:Message Set:Message Number:Parent:Automatic:EFIX Locked:Install Path:Build Date
bos:bos.rte:7.2.5.0: : :C: :Base Operating System Runtime: : : : : : :0:0:/:2045
openssl.base:openssl.base:1.0.2.2001: : :C:F:Open Secure Socket Layer: : : : : : :0:0:/:
"""  # noqa: E501 - lslpp prints one long header line


def test_aix_collect(tmp_path: Path) -> None:
    shell = _replay(
        {
            "uname -s": (0, "AIX\n"),
            "uname -srvm": (0, "AIX 2 7 00F9C1964C00\n"),
            "uname -n": (0, "lab-aix\n"),
            "oslevel -s": (0, "7200-05-03-2148\n"),
            "lslpp -Lc": (0, LSLPP),
        },
        tmp_path,
    )
    inv = Collector(shell).collect()
    assert inv.os.family == "aix"
    assert inv.os.identify_record() == {
        "kind": "os",
        "family": "aix",
        "uname": "AIX 2 7 00F9C1964C00",
        "oslevel": "7200-05-03-2148",
    }
    assert [(s.name, s.version, s.source) for s in inv.software] == [
        ("bos.rte", "7.2.5.0", "lslpp"),
        ("openssl.base", "1.0.2.2001", "lslpp"),
    ]
    assert inv.host.hostname == "lab-aix" and inv.os.name == "AIX 7.2"


def test_solaris_11_and_10(tmp_path: Path) -> None:
    s11 = _replay(
        {
            "uname -s": (0, "SunOS\n"),
            "uname -srvm": (0, "SunOS 5.11 11.4.42.111.0 i86pc\n"),
            "pkg list -H": (
                0,
                "compress/bzip2        1.0.8-11.4.42.0.0.111.0   i--\n"
                "library/security/openssl  1.0.2.20-11.4.42.0.0.111.0  i--\n",
            ),
        },
        tmp_path / "a",
        files={"/etc/release": "                      Oracle Solaris 11.4 X86\n"},
    )
    inv = Collector(s11).collect()
    assert inv.os.family == "solaris"
    assert inv.os.facts == {"uname": "SunOS 5.11 11.4.42.111.0 i86pc", "oslevel": "Oracle Solaris 11.4 X86"}
    assert inv.software[1].name == "library/security/openssl"
    pkginfo = (
        "   PKGINST:  SUNWbash\n      NAME:  GNU Bourne-Again shell (bash)\n      ARCH:  i386\n"
        "   VERSION:  11.10.0,REV=2005.01.08.01.09\n    VENDOR:  Sun Microsystems, Inc.\n\n"
        "   PKGINST:  SUNWopensslr\n   VERSION:  11.10.0,REV=2005.01.21.16.34\n"
    )
    s10 = _replay(
        {
            "uname -s": (0, "SunOS\n"),
            "uname -srvm": (0, "SunOS 5.10 Generic_150401-59 i86pc\n"),
            "pkginfo -l": (0, pkginfo),
        },
        tmp_path / "b",
    )
    inv10 = Collector(s10).collect()
    assert inv10.os.facts["oslevel"] == "Generic_150401-59"
    assert [(s.name, s.publisher) for s in inv10.software] == [
        ("SUNWbash", "Sun Microsystems, Inc."),
        ("SUNWopensslr", ""),
    ]


def test_bsd_collect(tmp_path: Path) -> None:
    fbsd = _replay(
        {
            "uname -s": (0, "FreeBSD\n"),
            "uname -srvm": (0, "FreeBSD 13.2-RELEASE-p4 GENERIC amd64\n"),
            "freebsd-version -u": (0, "13.2-RELEASE-p9\n"),
            "pkg query %n %v": (0, "openssl 3.0.12,1\npython39 3.9.18\n"),
        },
        tmp_path / "f",
    )
    inv = Collector(fbsd).collect()
    assert inv.os.family == "freebsd" and inv.os.facts["oslevel"] == "13.2-RELEASE-p9"
    assert [(s.name, s.version) for s in inv.software] == [("openssl", "3.0.12,1"), ("python39", "3.9.18")]
    obsd = _replay(
        {
            "uname -s": (0, "OpenBSD\n"),
            "uname -srvm": (0, "OpenBSD 7.4 GENERIC.MP#1397 amd64\n"),
            "pkg_info": (
                0,
                "python-3.10.13p0    interpreted object-oriented programming language\n"
                "vim-9.0.2103-no_x11 vi clone, many additional features\n",
            ),
        },
        tmp_path / "o",
    )
    inv = Collector(obsd).collect()
    assert inv.os.family == "openbsd" and inv.os.facts == {
        "uname": "OpenBSD 7.4 GENERIC.MP#1397 amd64",
        "oslevel": "7.4",
    }
    assert [(s.name, s.version) for s in inv.software] == [("python", "3.10.13p0"), ("vim", "9.0.2103-no_x11")]
    assert unix.parse_pkg_info("") == []
