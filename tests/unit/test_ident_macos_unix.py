"""macOS and other-Unix OS identification: one small input per trap."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eol_data.catalog import BUNDLED_DIR, Catalog
from scanner.identify import macos, unix_os
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Confidence, Policy

REF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog(BUNDLED_DIR, supplementary_dir=None))


def mac(**fields: Any) -> dict[str, Any]:
    return {"kind": "os", "family": "macos", **fields}


def unix(family: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "os", "family": family, **fields}


MAC_CASES: list[tuple[str, dict[str, Any], tuple[str | None, str | None]]] = [
    ("contract", mac(product_version="13.6.1", build_version="22G313"), ("macos", "13")),
    ("ten-dot-minor", mac(product_version="10.15.7", build_version="19H2026"), ("macos", "10.15")),
    ("snow-leopard", mac(product_version="10.6.8"), ("macos", "10.6")),
    ("system-profiler-line", mac(**{"System Version": "macOS 13.6.1 (22G313)"}), ("macos", "13")),
    ("system-profiler-old-name", mac(**{"System Version": "Mac OS X 10.6.8 (10K549)"}), ("macos", "10.6")),
    (
        "sw_vers-text",
        mac(sw_vers="ProductName:\t\tmacOS\nProductVersion:\t\t15.7.1\nBuildVersion:\t\t24G231\n"),
        ("macos", "15"),
    ),
    ("sysctl", mac(**{"kern.osproductversion": "14.4.1", "kern.osversion": "23E224"}), ("macos", "14")),
    # SYSTEM_VERSION_COMPAT: macOS 11+ says 10.16; the build names the release.
    ("compat-10.16", mac(product_version="10.16", build_version="20G95"), ("macos", "11")),
    (
        "darwin-only",
        mac(uname="Darwin mac.local 22.6.0 Darwin Kernel Version 22.6.0: Wed Jul  5 22:22:05 PDT 2023"),
        ("macos", "13"),
    ),
    ("codename-in-name", mac(name="macOS Ventura 13.6"), ("macos", "13")),
    ("messy-product-version", mac(product_version="Mac OS X 10.4.11", build_version="8S165"), ("macos", "10.4")),
    ("tahoe", mac(product_version="26.1"), ("macos", "26")),
]


@pytest.mark.parametrize("name, record, expected", MAC_CASES, ids=[c[0] for c in MAC_CASES])
def test_macos(ctx: IdentifyContext, name: str, record: dict[str, Any], expected: tuple[str, str]) -> None:
    ident = macos.identify(record, ctx)
    assert (ident.product, ident.cycle) == expected, ident


def test_macos_compat_version_alone_is_unknown(ctx: IdentifyContext) -> None:
    ident = macos.identify(mac(product_version="10.16"), ctx)
    assert ident.product == "macos" and ident.cycle is None and "compatibility" in ident.reason


def test_macos_newer_than_dataset_is_unknown_not_eol(ctx: IdentifyContext) -> None:
    record = mac(product_version="27.1", build_version="26B50")
    ident = macos.identify(record, ctx)
    assert ident.cycle is None and ident.newer_than_known
    assert evaluate(record, ctx, REF, Policy())["status"] == "unknown"


def test_macos_version_and_build_disagree_lowers_confidence(ctx: IdentifyContext) -> None:
    ident = macos.identify(mac(product_version="13.6", build_version="23A344"), ctx)
    assert ident.cycle == "13" and ident.confidence is Confidence.MEDIUM and "23A344" in ident.reason


def test_macos_current_major_has_no_announced_end(ctx: IdentifyContext) -> None:
    out = evaluate(mac(product_version="15.7.1"), ctx, REF, Policy())
    assert out["status"] == "supported" and out["eol"] is None


UNIX_CASES: list[tuple[str, dict[str, Any], tuple[str | None, str | None]]] = [
    ("freebsd-uname-rs", unix("freebsd", uname="FreeBSD 11.1-RELEASE"), ("freebsd", "11.1")),
    (
        "freebsd-uname-a-patch",
        unix("freebsd", uname="FreeBSD h 13.2-RELEASE-p4 FreeBSD 13.2-RELEASE-p4 GENERIC amd64"),
        ("freebsd", "13.2"),
    ),
    ("freebsd-stable-branch", unix("freebsd", uname="FreeBSD 14.1-STABLE"), ("freebsd", "14")),
    ("freebsd-raw-key", unix("freebsd", **{"uname -rs": "FreeBSD 12.4-RELEASE-p9"}), ("freebsd", "12.4")),
    (
        "freebsd-os-release",
        unix(
            "freebsd", files={"/etc/os-release": "NAME=FreeBSD\nVERSION=12.2-PRERELEASE\nVERSION_ID=12.2\nID=freebsd\n"}
        ),
        ("freebsd", "12.2"),
    ),
    ("openbsd", unix("openbsd", uname="OpenBSD 6.2"), ("openbsd", "6.2")),
    ("openbsd-uname-a", unix("openbsd", uname="OpenBSD host.example.org 7.5 GENERIC.MP#82 amd64"), ("openbsd", "7.5")),
    ("netbsd-major", unix("netbsd", uname="NetBSD 9.3"), ("netbsd", "9")),
    ("aix-oslevel-s", unix("aix", uname="AIX", oslevel="7200-05-03-2148"), ("ibm-aix", "7.2.5")),
    ("aix-oslevel-r", unix("aix", oslevel="7300-02"), ("ibm-aix", "7.3.2")),
    ("aix-61", unix("aix", oslevel="6100-09-12-1838"), ("ibm-aix", "6.1.9")),
    (
        "solaris-10-uname",
        unix("solaris", uname="SunOS host 5.10 Generic_150400-59 sun4v sparc sun4v"),
        ("oracle-solaris", "10"),
    ),
    (
        "solaris-11.4-uname",
        unix("solaris", uname="SunOS host 5.11 11.4.42.111.0 i86pc i386 i86pc"),
        ("oracle-solaris", "11.4"),
    ),
    ("solaris-11.3-uname", unix("sunos", uname="SunOS host 5.11 11.3 sun4v sparc"), ("oracle-solaris", "11.3")),
    (
        "solaris-release-file",
        unix("solaris", files={"/etc/release": "  Oracle Solaris 10 1/13 s10x_u11wos_24a X86\n"}),
        ("oracle-solaris", "10"),
    ),
    (
        "solaris-11-11/11",
        unix("solaris", files={"/etc/release": "  Oracle Solaris 11 11/11 X86\n"}),
        ("oracle-solaris", "11"),
    ),
    (
        "smartos-is-not-solaris",
        unix("solaris", uname="SunOS host 5.11 joyent_20141002T182809Z i86pc i386 i86pc"),
        (None, None),
    ),
    (
        "smartos-release-file",
        unix("solaris", files={"/etc/release": "  SmartOS x86_64\n  Copyright 2010 Sun"}),
        (None, None),
    ),
    ("hp-ux-untracked", unix("hp-ux", uname="HP-UX host B.11.31 U ia64"), (None, None)),
]


@pytest.mark.parametrize("name, record, expected", UNIX_CASES, ids=[c[0] for c in UNIX_CASES])
def test_unix(ctx: IdentifyContext, name: str, record: dict[str, Any], expected: tuple[str | None, str | None]) -> None:
    ident = unix_os.identify(record, ctx)
    assert (ident.product, ident.cycle) == expected, ident
    assert ident.reason


@pytest.mark.parametrize(
    "uname",
    [
        "OSF1 host V5.1 2650 alpha",  # Tru64 UNIX prints its old name
        "Tru64 host V5.1 2650 alpha",  # as some inventories record it
        "SCO_SV scosysv 3.2 5.0.7 i386",  # SCO OpenServer 5
        "UnixWare host 5 7.1.4 i386",
        "OpenUNIX host 5 8.0.0 i386",
        "MidnightBSD host 3.2.3 MidnightBSD 3.2.3 #0 amd64",
    ],
)
def test_untracked_systems_are_named_not_unknown(ctx: IdentifyContext, uname: str) -> None:
    """A system endoflife.date does not track is known by name ("untracked": no product, high
    confidence), not an unknown system: every [untracked] name that uname prints is a system name."""
    ident = unix_os.identify(unix("unix", uname=uname), ctx)
    assert (ident.product, ident.rule, ident.confidence) == (None, "unix.untracked", Confidence.HIGH), ident


def test_aix_without_technology_level_is_low_confidence(ctx: IdentifyContext) -> None:
    ident = unix_os.identify(unix("aix", uname="AIX host1 2 7 00F84C0C4C00"), ctx)
    assert (ident.product, ident.cycle, ident.confidence) == ("ibm-aix", "7.2.5", Confidence.LOW)
    assert "technology level unknown" in ident.reason


def test_sunos_511_without_update_is_low_confidence(ctx: IdentifyContext) -> None:
    ident = unix_os.identify(unix("solaris", uname="SunOS 5.11"), ctx)
    assert ident.confidence is Confidence.LOW and ident.cycle == "11.4"


def test_unix_not_in_dataset_or_newer(ctx: IdentifyContext) -> None:
    old = unix_os.identify(unix("aix", oslevel="5300-12-04-1119"), ctx)
    assert old.product == "ibm-aix" and old.cycle is None and not old.newer_than_known
    new = unix_os.identify(unix("freebsd", uname="FreeBSD 16.0-RELEASE"), ctx)
    assert new.cycle is None and new.newer_than_known
    cur = unix_os.identify(unix("freebsd", uname="FreeBSD 15.0-CURRENT"), ctx)
    assert cur.cycle is None


def test_release_files_hook_for_the_linux_identifier(ctx: IdentifyContext) -> None:
    hit = unix_os.identify_release_files({"/etc/release": "  Oracle Solaris 11.4 SPARC\n"}, ctx)
    assert hit is not None and (hit.product, hit.cycle) == ("oracle-solaris", "11.4")
    assert unix_os.identify_release_files({"/etc/os-release": "ID=debian\nVERSION_ID=12\n"}, ctx) is None


def test_contract_dispatch(ctx: IdentifyContext) -> None:
    """Through the registry, as ``legacyscan eol identify`` calls it."""
    out = evaluate(unix("solaris", uname="SunOS 5.10"), ctx, REF, Policy())
    assert (out["product"], out["cycle"], out["status"]) == ("oracle-solaris", "10", "eol")
    out = evaluate(unix("aix", oslevel="7300-04-00-0000"), ctx, REF, Policy())
    assert (out["product"], out["cycle"], out["status"]) == ("ibm-aix", "7.3.4", "supported")


@pytest.mark.parametrize(
    "record, expected",
    [
        # FusionInventory / GLPI inventory nests the OS section; VERSION carries "x.y.z (build)".
        (
            mac(
                OPERATINGSYSTEM={
                    "FULL_NAME": "macOS",
                    "KERNEL_VERSION": "17.6.0",
                    "NAME": "MacOSX",
                    "VERSION": "10.13.5 (17F77)",
                }
            ),
            ("macos", "10.13"),
        ),
        (
            mac(operatingsystem={"full_name": "Mac OS X", "kernel_version": "10.8.0", "version": "10.6.8 (10K549)"}),
            ("macos", "10.6"),
        ),
        (mac(**{"sw_vers -productVersion": "13.6.1", "sw_vers -buildVersion": "22G313"}), ("macos", "13")),
        (mac(**{"kern.osrelease": "21.6.0"}), ("macos", "12")),
        (mac(version="10.16", **{"kern.osversion": "20G95"}), ("macos", "11")),
    ],
)
def test_macos_input_shapes(ctx: IdentifyContext, record: dict[str, Any], expected: tuple[str, str]) -> None:
    ident = macos.identify(record, ctx)
    assert (ident.product, ident.cycle) == expected, ident
