"""``lsb_release -a`` output and /etc/lsb-release as OS evidence, whatever family the record claims.

Why: agents, bug reports and converters hand over ``lsb_release -a`` output under any key
("Distributor ID:\\tDebian" ... "Release:\\t7.8"), sometimes with no family or with the family a
converter defaults to (Windows).  Its Description line is not at the start of the text, so the
release-line rules did not see Debian or Ubuntu there, Pop!_OS had no rule at all, and an
"LSB Version: :core-4.0-amd64" line was read as Windows NT 4.0.  The strings are the parser-test
outputs of stanislav-tkach/os_info (round-5 labelled records, tests/fixtures/extra_labelled).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy

AS_OF = date(2026, 11, 22)

DEBIAN_7 = "\nDistributor ID:\tDebian\nDescription:\tDebian GNU/Linux 7.8 (wheezy)\nRelease:\t7.8\nCodename:\twheezy\n"
UBUNTU_16 = "Distributor ID: Ubuntu\nDescription:    Ubuntu 16.04.5 LTS\nRelease:        16.04\nCodename:       xenial"
POP_20 = (
    "No LSB modules are available.\nDistributor ID: Pop\nDescription: Pop!_OS 20.04 LTS\n"
    "Release: 20.04\nCodename: focal\n"
)
AMAZON_1 = (
    "LSB Version:\t:base-4.0-amd64:base-4.0-noarch:core-4.0-amd64:core-4.0-noarch\nDistributor ID:\tAmazonAMI\n"
    "Description:\tAmazon Linux AMI release 2018.03\nRelease:\t2018.03\nCodename:\tn/a\n"
)
ARCH = "\nLSB Version:\t1.4\nDistributor ID:\tArch\nDescription:\tArch Linux\nRelease:\trolling\nCodename:\tn/a"


def _out(record: dict[str, Any]) -> dict[str, Any]:
    return evaluate({"kind": "os", **record}, IdentifyContext(Catalog()), AS_OF, Policy())


@pytest.mark.parametrize(
    "text, expected",
    [
        (DEBIAN_7, ("debian", "7")),
        (UBUNTU_16, ("ubuntu", "16.04")),
        (POP_20, ("pop-os", "20.04")),  # not Ubuntu 20.04, although its codename is focal
        (AMAZON_1, ("amazon-linux", "2018.03")),
        (ARCH, (None, None)),  # rolling, not tracked: no product, never a guess
    ],
)
@pytest.mark.parametrize("family", ["linux", None, "windows"])
def test_lsb_release_output_names_the_distribution(text: str, expected: tuple[Any, Any], family: str | None) -> None:
    record: dict[str, Any] = {"lsb_release -a": text}
    if family is not None:
        record["family"] = family
    out = _out(record)
    assert (out["product"], out["cycle"]) == expected, out
    if expected[0] is not None:
        assert out["rule"].startswith("linux."), out


def test_lsb_release_file_of_pop_os() -> None:
    """Pop!_OS ships no release file of its own: /etc/lsb-release names it."""
    lsb = 'DISTRIB_ID=Pop\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION="Pop!_OS 22.04 LTS"\n'
    out = _out({"family": "linux", "files": {"/etc/lsb-release": lsb}})
    assert (out["product"], out["cycle"], out["status"]) == ("pop-os", "22.04", "ending-soon"), out


def test_lsb_release_output_as_a_release_file() -> None:
    """The same output filed under ``files`` (a collector that saves command output as a file)."""
    out = _out({"family": "linux", "files": {"lsb_release -a": DEBIAN_7}})
    assert (out["product"], out["cycle"], out["status"]) == ("debian", "7", "eol"), out


def test_an_lsb_release_file_wins_over_the_command_output() -> None:
    """A real /etc/lsb-release is not replaced by a stand-in built from other text."""
    lsb = "DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=20\nDISTRIB_CODENAME=ulyana\n"
    out = _out({"family": "linux", "files": {"/etc/lsb-release": lsb, "lsb_release -a": UBUNTU_16}})
    assert (out["product"], out["cycle"]) == ("linuxmint", "20"), out


def test_a_number_inside_a_token_is_not_an_nt_version() -> None:
    """``core-4.0-amd64`` under a version key is an LSB module name, not Windows NT 4.0."""
    out = _out({"family": "windows", "Version": ":core-4.0-amd64:core-4.0-noarch"})
    assert out["product"] is None and out["rule"] == "windows.no-evidence", out


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"family": "windows", "Version": "6.1"}, "NT 6.1"),  # a bare NT version stays evidence
        ({"family": "windows", "OS Version": "Version 5.1"}, "NT 5.1"),
    ],
)
def test_a_bare_nt_version_still_counts(record: dict[str, Any], expected: str) -> None:
    out = _out(record)
    assert expected in out["reason"], out


def test_windows_evidence_keeps_the_windows_identifier() -> None:
    """The fallback only runs when the claimed family has no evidence at all."""
    out = _out({"family": "windows", "caption": "Microsoft Windows 10 Pro", "version": "10.0.19045", "note": DEBIAN_7})
    assert (out["product"], out["cycle"]) == ("windows", "10-22h2"), out


def test_no_evidence_of_any_family_stays_honest() -> None:
    out = _out({"family": "windows", "comment": "nothing useful here"})
    assert out["product"] is None and out["rule"] == "windows.no-evidence", out


# A family the record's own evidence contradicts (a converter that defaults to one family): the
# evidence decides when the claimed family's identifier saw none of its own or recognised none.
_SYSTEMINFO = {
    "OS Name": "Microsoft Windows 10 Education",
    "OS Version": "10.0.17763 N/A Build 17763",
    "OS Manufacturer": "Microsoft Corporation",
    "System Type": "x64-based PC",
}  # bitsadmin/wesng validation/10_1809_x64_education_en-us_systeminfo.txt (OS lines)
_OS_RELEASE = {
    "/etc/os-release": 'NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nID="sles"\nID_LIKE="suse"\n'
}  # elastic/go-sysinfo providers/linux/testdata/sles15sp5/etc/os-release (first lines)


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"family": "linux", **_SYSTEMINFO}, ("windows", "10-1809-e")),
        (
            {"family": "linux", "caption": "Microsoft Windows Server 2019 Datacenter", "version": "10.0.17763"},
            ("windows-server", "2019"),
        ),
        ({"family": "windows", "files": _OS_RELEASE}, ("sles", "15.5")),
        ({"family": "windows", "product_version": "13.6.1", "build_version": "22G313"}, ("macos", "13")),
        ({"family": "linux", "product_version": "13.6.1", "build_version": "22G313"}, ("macos", "13")),
    ],
)
def test_the_evidence_outweighs_a_wrong_family(record: dict[str, Any], expected: tuple[str, str]) -> None:
    out = _out(record)
    assert (out["product"], out["cycle"]) == expected, out


def test_an_unrecognised_linux_text_naming_nothing_else_stays_unrecognised() -> None:
    out = _out({"family": "linux", "files": {"/etc/issue": "Welcome to SomeUnknownDistro 3\n"}})
    assert out["product"] is None and out["rule"] == "linux.unrecognised", out


_NIXOS = (  # which-distro/os-release nixos/23.05 (round-4 labelled record x4-osrel-nixos-23.05)
    'BUG_REPORT_URL="https://github.com/NixOS/nixpkgs/issues"\nBUILD_ID="23.05.1906.8163a64662b"\n'
    'DOCUMENTATION_URL="https://nixos.org/learn.html"\nHOME_URL="https://nixos.org/"\nID=nixos\n'
    'LOGO="nix-snowflake"\nNAME=NixOS\nPRETTY_NAME="NixOS 23.05 (Stoat)"\nSUPPORT_END="2023-12-31"\n'
    'SUPPORT_URL="https://nixos.org/community.html"\nVARIANT_ID=installer\nVERSION="23.05 (Stoat)"\n'
    'VERSION_CODENAME=stoat\nVERSION_ID="23.05"\n'
)
_FREEBSD = (  # fizzed/jne freebsd13 cat-etcosrelease.txt (labelled record x-jne-freebsd13)
    'NAME=FreeBSD\nVERSION="13.5-RELEASE-p6"\nVERSION_ID="13.5"\nID=freebsd\nANSI_COLOR="0;31"\n'
    'PRETTY_NAME="FreeBSD 13.5-RELEASE-p6"\nCPE_NAME="cpe:/o:freebsd:freebsd:13.5"\n'
)


@pytest.mark.parametrize("text, expected", [(_NIXOS, ("nixos", "23.05")), (_FREEBSD, ("freebsd", "13.5"))])
def test_an_os_release_text_names_its_family(text: str, expected: tuple[str, str]) -> None:
    """An os-release text under a bare key and no family: only Linux and the BSDs write one
    (NixOS's names no family word, so the words alone left the family unknown)."""
    out = _out({"os-release": text})
    assert (out["product"], out["cycle"]) == expected, out
