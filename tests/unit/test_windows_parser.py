"""The pure parser: collection document -> Inventory.

Real hosts first (``tests/fixtures/hosts/windows-*``, built from real machines, see their
provenance.json; registry UBR, ReleaseId and CompositionEditionID come from published RegRipper
output of real disk images), then small documents constructed in the script's exact shape for what
no real capture we hold records (registry EditionID and DisplayVersion, per-user hives, Office MSI
component flags, TPM and Secure Boot).  Constructed values are real Windows values (Office product
codes, the Windows 11 "ProductName says Windows 10" registry quirk), labelled as constructed.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest

from agents.inventory import Inventory
from agents.windows import (
    OS_FACT_KEYS,
    WindowsDocumentError,
    collapse_duplicates,
    extract_document,
    os_facts,
    parse_document,
)
from eol_data.catalog import BUNDLED_DIR, Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Policy, Status
from tests.conftest import FIXTURES

HOSTS = sorted(p.parent.name for p in (FIXTURES / "hosts").glob("windows-*/collect.json"))


def _host(name: str) -> Inventory:
    return parse_document((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))


def _doc(**parts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "legacyscan": "windows-collect/1",
        "collected_at": "2026-11-30T08:00:00Z",
        "host": {"hostname": "WARD-PC-01"},
        "os": {"registry": {}, "wmi": {}, "arch": "AMD64"},
        "hardware": {},
        "software": [],
        "packages": [],
        "problems": [],
    }
    doc.update(parts)
    return doc


def _entry(key: str, name: str, version: str = "", **values: Any) -> dict[str, Any]:
    view = "32" if "WOW6432Node" in key else ("user" if key.startswith("HKU") else "64")
    entry = {
        "key": key,
        "view": view,
        "scope": "user" if view == "user" else "machine",
        "sid": "",
        "DisplayName": name,
        "DisplayVersion": version,
        "Publisher": "Microsoft Corporation",
        "InstallDate": None,
        "SystemComponent": None,
        "ParentKeyName": None,
        "ReleaseType": None,
        "WindowsInstaller": None,
    }
    entry.update(values)
    return entry


UN64 = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
UN32 = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"


# -- real hosts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTS)
def test_every_real_host_yields_the_identify_contract(name: str) -> None:
    inventory = _host(name)
    assert inventory.os.family == "windows"
    assert tuple(inventory.os.facts) == OS_FACT_KEYS
    record = inventory.os.identify_record()
    assert record["kind"] == "os" and record["family"] == "windows"
    provenance = json.loads((FIXTURES / "hosts" / name / "provenance.json").read_text("utf-8"))
    expected_product = provenance["expected"].get("product")
    if expected_product is None:  # the source recorded no OS: nothing may be guessed
        assert not any(inventory.os.facts.values()) and inventory.software
        return
    if not provenance["expected"].get("version_recorded", True):  # a build without the major/minor numbers
        assert record["build"].isdigit() and record["version"] == ""
    elif provenance["expected"].get("build_recorded", True):  # registry tool output may print no build
        assert record["build"].isdigit() and record["version"].endswith(record["build"])
    else:
        assert record["build"] == "" and record["version"] == ""  # nothing derived from BuildLabEx
    if provenance["expected"].get("multi_session"):  # Enterprise multi-session: a client reporting ProductType 3
        assert record["product_type"] == 3 and expected_product == "windows", record
    elif provenance["expected"].get("product_type_recorded", True):  # an excerpt may show no ProductType
        assert (record["product_type"] == 3) == (expected_product == "windows-server"), record
    else:
        assert record["product_type"] is None
    for sw in inventory.software:
        assert sw.source in ("windows-registry", "msix") and sw.name
        identify = sw.identify_record()
        assert identify["kind"] == "software" and identify["source"] == sw.source


def test_xp_registry_export_flags_and_the_dotnet_duplicate() -> None:
    inventory = _host("windows-xp-sp3-professional-x86")
    by_name = {s.name: s for s in inventory.software}
    dotnet = by_name["Microsoft .NET Framework 4 Extended"]
    assert dotnet.system_component is not True  # the visible key was kept...
    assert dotnet.collapsed == [f"same-name-version: {UN64}{{0A0CADCF-78DA-33C4-A350-CD51849B9702}}"]
    hotfix = by_name["Hotfix for Windows XP (KB2158563)"]
    assert hotfix.parent_key_name == "OperatingSystem" and hotfix.release_type == "Hotfix"
    assert inventory.os.facts["csd_version"] == "Service Pack 3"
    assert inventory.os.facts["version"] == "5.1.2600"
    assert all(s.registry_view == "32" for s in inventory.software)  # a 32-bit OS has one view


def test_net_framework_3_5_sp1_on_windows_xp_ends_with_the_os() -> None:
    """The XP SP3 machine's Uninstall keys list .NET Framework 3.5 SP1.  Before Windows 10 1809 and
    Server 2019 it follows the OS it is installed on (endoflife.date/dotnetfx), so on XP it ended with
    XP (2014-04-08), not "supported to 2029-01-09" (its own end from 1809 on)."""
    result = match_inventory(_host("windows-xp-sp3-professional-x86"), IdentifyContext(Catalog()), AS_OF, Policy())
    (framework,) = [f for f in result.findings if (f.product, f.cycle) == ("dotnetfx", "3.5-sp1")]
    assert (framework.status, framework.eol) == (Status.EOL, date(2014, 4, 8))
    assert "a component of Microsoft Windows 5-sp3, serviced with it" in framework.detail.reason


def test_server_2012_collapses_both_registry_views_but_keeps_distinct_versions() -> None:
    inventory = _host("windows-srv2012-standard-aws")
    ec2 = [s for s in inventory.software if s.name == "EC2ConfigService"]
    assert len(ec2) == 1
    assert ec2[0].registry_view == "64"
    assert ec2[0].collapsed == [f"both-registry-views: {UN32}{{d4b755b0-ccd6-4e95-9ea2-7c55fc822715}}"]
    cfn = sorted(s.version for s in inventory.software if s.name == "aws-cfn-bootstrap")
    assert cfn == ["1.3.5", "1.3.6", "1.3.8", "1.4.0"]
    assert inventory.hardware.virtual is True and inventory.hardware.vendor == "Xen"


def test_windows_11_msix_packages_and_release_id_quirk() -> None:
    inventory = _host("windows-win11-23h2-enterprise-eval")
    facts = inventory.os.facts
    assert facts["build"] == "22631" and facts["caption"] == "Microsoft Windows 11 Enterprise Evaluation"
    assert facts["display_version"] == "2009"  # ReleaseId froze at 2009; only DisplayVersion says 23H2
    msix = [s for s in inventory.software if s.source == "msix"]
    assert len(msix) > 100
    vclibs = [s for s in msix if s.name == "Microsoft.VCLibs.140.00.UWPDesktop"]
    assert sorted(s.arch for s in vclibs) == ["x64", "x86"]  # two architectures are two packages
    assert inventory.hardware.tpm_present is None  # the capture did not record it...
    assert {p.probe for p in inventory.problems} >= {"hardware.tpm"}  # ...and says so


def test_physical_laptop_hardware() -> None:
    hw = _host("windows-win81-pro-fr-hp-elitebook").hardware
    assert (hw.vendor, hw.model, hw.chassis, hw.virtual) == ("Hewlett-Packard", "HP EliteBook 2540p", "laptop", False)
    assert hw.cpu_model == "Intel(R) Core(TM) i5 CPU M 540 @ 2.53GHz" and hw.cpu_cores == 2 and hw.cpu_threads == 4
    assert hw.memory_bytes == 3887 * 1024 * 1024 and hw.system_disk_bytes == 115123 * 1024 * 1024
    assert hw.bios_date == "2010-08-24"


REAL = FIXTURES / "hosts" / "sources" / "real"


def _identify(inventory: Inventory) -> tuple[str | None, str | None]:
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    return ident.product, ident.cycle


def _regripper_entries(stem: str) -> list[tuple[str, str, str]]:
    """(view, DisplayName, DisplayVersion) read straight from the published RegRipper output."""
    view, out = "", []
    for line in (REAL / f"{stem}.txt").read_text("utf-8").splitlines():
        if line.endswith("\\CurrentVersion\\Uninstall"):
            view = "32" if line.startswith("Wow6432Node") else "64"
        elif view and line.startswith("  ") and " v." in line:
            name, _, version = line.strip().rpartition(" v.")
            out.append((view, name, version))
    return out


def test_cfreds_windows_7_ultimate_from_regripper_output() -> None:
    """NIST CFReDS Data Leakage PC: RegRipper winver + uninstall of its SOFTWARE hive."""
    inventory = _host("windows-win7-sp1-ultimate-x64-cfreds-leakage")
    facts = inventory.os.facts
    assert (facts["product_name"], facts["csd_version"]) == ("Windows 7 Ultimate", "Service Pack 1")
    assert (facts["build"], facts["ubr"], facts["edition_id"]) == ("", None, "")  # not printed by winver
    assert inventory.os.name == "Windows 7 Ultimate Service Pack 1"
    assert inventory.os.install_date == "2015-03-22T14:34:26Z"  # the InstallDate RegRipper printed
    assert _identify(inventory) == ("windows", "7-sp1")
    published = _regripper_entries("win7-sp1-ultimate-x64-cfreds-leakage_regripper")
    assert len(published) == 35  # + DXM_Runtime and MPlayer2: key names, no DisplayName
    kept = {(s.registry_view, s.name, s.version) for s in inventory.software}
    mojibake = {e for e in published if not e[1].isascii()}
    assert {e for e in published if e not in mojibake} <= kept
    assert (
        "64",
        "Outils de v\u00e9rification linguistique 2013 de Microsoft Office\u00a0- Fran\u00e7ais",
        "15.0.4420.1017",
    ) in kept  # the writeup's cp437 rendering of the UTF-8 name, decoded
    assert not {"DXM_Runtime", "MPlayer2"} & {s.name for s in inventory.software}
    # two keys each for .NET 4 Extended, .NET 4 Client Profile and Office Professional Plus 2013
    assert len(inventory.software) == len(published) - 3
    office = next(s for s in inventory.software if s.name == "Microsoft Office Professional Plus 2013")
    assert [c.split(":")[0] for c in office.collapsed] == ["same-name-version"]
    assert {s.name for s in inventory.software if s.registry_view == "32"} == {
        "Google Drive",
        "Apple Software Update",
        "Apple Application Support",
        "Google Update Helper",
        "Google Chrome",
    }
    assert {p.probe for p in inventory.problems} >= {"os.wmi", "hardware.tpm"}


def test_belkasoft_windows_10_ltsc_2019_ubr_and_composition_edition() -> None:
    """Belkasoft CTF laptop: RegRipper winver of a 32-bit Windows 10 Enterprise LTSC 2019."""
    inventory = _host("windows-win10-ltsc2019-x86-belkasoft-ctf")
    evidence = (REAL / "win10-ltsc2019-x86-belkasoft-ctf_regripper.txt").read_text("utf-8")
    ubr = int(next(line.split()[1] for line in evidence.splitlines() if line.startswith("UBR ")))
    facts = inventory.os.facts
    assert facts["ubr"] == ubr == 1757
    assert facts["display_version"] == "1809"  # ReleaseId (no DisplayVersion before 20H2)
    assert facts["product_name"] == "Windows 10 Enterprise LTSC 2019"
    # CompositionEditionID is not EditionID (Pro machines carry "Enterprise" there): never substituted
    raw = json.loads((FIXTURES / "hosts" / "windows-win10-ltsc2019-x86-belkasoft-ctf" / "collect.json").read_text())
    assert raw["os"]["registry"]["CompositionEditionID"] == "EnterpriseS" and facts["edition_id"] == ""
    assert inventory.os.kernel == ""  # a UBR without a recorded build makes no version
    assert _identify(inventory) == ("windows", "10-1809-e-lts")  # Enterprise LTSC 2019, from ProductName


def _published(stem: str) -> dict[str, str]:
    """Name -> value as printed in a published excerpt (reg query, Format-List or systeminfo lines)."""
    values = {}
    for line in (REAL / f"{stem}_excerpt.txt").read_text("utf-8").splitlines():
        parts = line.split("    REG_SZ    ") if "    REG_" in line else line.split(":", 1)
        if len(parts) == 2 and parts[1].strip():
            values[parts[0].strip()] = parts[1].strip()
    return values


def _expected(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "hosts" / name / "provenance.json").read_text("utf-8"))["expected"]


def test_get_computerinfo_of_a_windows_10_1607_enterprise_machine() -> None:
    """PowerShell PR #2995: the author's machine, Get-ComputerInfo's registry-backed Windows* values."""
    shown = _published("win10-1607-enterprise-powershell-pr2995")
    inventory = _host("windows-win10-1607-enterprise-powershell-pr2995")
    facts = inventory.os.facts
    assert facts["edition_id"] == shown["WindowsEditionId"] == "Enterprise"
    assert facts["ubr"] == int(shown["WindowsUBR"]) == 577
    assert facts["display_version"] == shown["WindowsVersion"] == "1607"  # ReleaseId
    assert facts["installation_type"] == "Client" and facts["product_type"] == 1  # client, from the registry
    assert inventory.os.name == shown["WindowsProductName"]
    assert facts["version"] == "" and inventory.os.kernel == ""  # CurrentVersion 6.3 without a build: no version
    assert _identify(inventory) == ("windows", _expected("windows-win10-1607-enterprise-powershell-pr2995")["cycle"])


def test_windows_11_iot_ltsc_2024_whose_registry_says_windows_10() -> None:
    """TermsrvPatcher issue #35: build 26100 / 24H2 with ProductName "Windows 10 IoT Enterprise LTSC 2024"."""
    shown = _published("win11-ltsc2024-iot-termsrvpatcher-issue35")
    inventory = _host("windows-win11-ltsc2024-iot-termsrvpatcher-issue35")
    facts = inventory.os.facts
    assert facts["product_name"] == shown["ProductName"] == "Windows 10 IoT Enterprise LTSC 2024"  # kept as read
    assert (facts["build"], facts["display_version"]) == (shown["CurrentBuild"], shown["DisplayVersion"])
    assert inventory.os.name == "Windows 11 IoT Enterprise LTSC 2024"  # was shown as Windows 10 without CIM
    assert facts["ubr"] is None and "LCUVer" in shown  # LCUVer is not a value the script reads
    assert _identify(inventory) == ("windows", "11-24h2-iot-lts")
    # a Windows 10 build keeps its name; so does a Windows 11 machine whose CIM Caption is known
    assert parse_document(
        _doc(os={"registry": {"ProductName": "Windows 10 Pro", "CurrentBuild": "19045"}})
    ).os.name == ("Windows 10 Pro")
    caption = {"Caption": "Microsoft Windows 11 Pro"}
    doc = _doc(os={"registry": {"ProductName": "Windows 10 Pro", "CurrentBuild": "22631"}, "wmi": caption})
    assert parse_document(doc).os.name == "Microsoft Windows 11 Pro"


def test_server_2016_datacenter_revision_from_an_issue_thread() -> None:
    """PrivateCloud.DiagnosticInfo issue #114: systeminfo's OS Name/Version and the registry UBR table."""
    text = (REAL / "srv2016-datacenter-privateclouddiag-issue114_excerpt.txt").read_text("utf-8").splitlines()
    major, minor, build, revision = text[-1].split()
    inventory = _host("windows-srv2016-datacenter-privateclouddiag-issue114")
    facts = inventory.os.facts
    assert (facts["version"], facts["build"], facts["ubr"]) == (f"{major}.{minor}.{build}", build, int(revision))
    assert inventory.os.kernel == "10.0.14393.2580"  # the full servicing build, UBR included
    assert inventory.os.name == "Microsoft Windows Server 2016 Datacenter"  # systeminfo OS Name = Caption
    assert facts["product_type"] is None  # OS Configuration was not shown: not guessed
    assert _identify(inventory) == ("windows-server", "2016")


def test_windows_10_1803_education_edition_id_from_reg_query() -> None:
    """drmemory issue #2127: reg query printed "EditionId" (the queried spelling), read as EditionID.
    Two values, no ProductName and no build: identification says so rather than guess; with the
    build the collection script always reads, EditionID Education decides the 1803 channel."""
    shown = _published("win10-1803-education-drmemory-issue2127")
    inventory = _host("windows-win10-1803-education-drmemory-issue2127")
    facts = inventory.os.facts
    assert (facts["edition_id"], facts["display_version"]) == (shown["EditionId"], shown["ReleaseId"])
    assert facts["product_name"] == "" and inventory.os.name == ""
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.rule) == (None, None, "windows.no-evidence")
    assert _expected("windows-win10-1803-education-drmemory-issue2127")["cycle"] is None
    registry = {"EditionID": shown["EditionId"], "ReleaseId": shown["ReleaseId"], "CurrentBuild": "17134"}
    with_build = parse_document(_doc(os={"registry": registry, "wmi": {}}))  # 17134: its ntdll FileVersion
    assert _identify(with_build) == ("windows", "10-1803-e")  # Education: Enterprise/Education servicing
    registry["EditionID"] = "Professional"
    assert _identify(parse_document(_doc(os={"registry": registry, "wmi": {}}))) == ("windows", "10-1803-w")


def _sw(name: str) -> dict[tuple[str, str], Any]:
    return {(s.source, s.name): s for s in _host(name).software}


def _identified(name: str) -> dict[str, tuple[str | None, str | None]]:
    ctx = IdentifyContext(Catalog(BUNDLED_DIR))
    found = {s.name: ctx.identify(s.identify_record()) for s in _host(name).software}
    return {name: (i.product, i.cycle) for name, i in found.items() if i.product}


def test_winget_list_of_a_windows_11_machine_keys_scope_and_msix() -> None:
    """winget-cli issue #4616: ARP\\Machine\\X64 ids are HKLM 64-bit Uninstall keys (machine scope); catalog
    ids show no hive, so their scope stays unknown; MSIX ids are packages, truncated ones without a full name."""
    inventory = _host("windows-winget-cli-issue4616")
    assert not any(inventory.os.facts.values())  # winget list shows no OS value: none guessed
    sw = _sw("windows-winget-cli-issue4616")
    nvidia = sw[("windows-registry", "NVIDIA Graphics Driver 456.71")]
    assert (nvidia.version, nvidia.scope, nvidia.registry_view) == ("456.71", "machine", "64")
    assert nvidia.key == UN64 + "{B2FE1952-0186-46C3-BAEC-A80AA35AC5B8}_Display.Driver"
    health = sw[("windows-registry", "Microsoft Update Health Tools")]
    assert health.key == UN64 + "{C6FD611E-7EFE-488C-A0E0-974C09EF6473}" and health.version == "5.72.0.0"
    onedrive = sw[("windows-registry", "Microsoft OneDrive")]
    assert (onedrive.version, onedrive.scope, onedrive.registry_view) == ("22.012.0117.0003", "", "")  # not "machine"
    assert "24.116.0609.0005" not in {s.version for s in inventory.software}  # Available is the catalog's
    phone = sw[("msix", "Microsoft.YourPhone")]
    assert (phone.version, phone.key) == ("0.24061.93.0", "Microsoft.YourPhone_0.24061.93.0_x64__8wekyb3d8bbwe")
    assert sw[("msix", "MicrosoftWindows.Client.WebExperience")].key == ""  # full name truncated by winget
    assert sw[("msix", "microsoft.windowscommunicationsapps")].version == ""  # "16005.14326.2197…" is not a value
    assert len([s for s in inventory.software if s.source == "msix"]) == 7 and len(inventory.software) == 11
    assert _identified("windows-winget-cli-issue4616") == {"NVIDIA Graphics Driver 456.71": ("nvidia", None)}


def test_winget_list_rows_without_a_header_and_with_truncated_names() -> None:
    """winget-cli issue #1618 (turn 18): rows pasted without the header (columns found from the rows);
    a Name winget cut with an ellipsis is not a DisplayName and is left out, never shortened into one."""
    inventory = _host("windows-winget-cli-issue1618-turn18")
    names = {s.name for s in inventory.software}
    assert not any(n.endswith("\u2026") for n in names)
    assert "Microsoft ASP.NET Core 6.0.27 - Shared Framework" not in " ".join(names)
    sw = _sw("windows-winget-cli-issue1618-turn18")
    localdb = sw[("windows-registry", "Microsoft SQL Server 2016 LocalDB")]
    assert (localdb.version, localdb.scope) == ("13.1.4001.0", "")
    assert localdb.key.startswith("<winget id {9097BF1A-13A0-4A4A-A1F8-473E2A669863}")
    assert sw[("msix", "Microsoft.XboxApp")].version == "48.104.4001.0"  # an MSIX family name
    assert sw[("msix", "Microsoft.Winget.Source")].version == ""  # "2024.304.181…" truncated
    assert len(inventory.software) == 19
    found = _identified("windows-winget-cli-issue1618-turn18")
    assert found["Microsoft SQL Server 2016 LocalDB"] == ("mssqlserver", "13.0-sp1")
    assert found["Teams Machine-Wide Installer"] == ("microsoft-teams-classic", "1")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("windows-winget-cli-issue999", {"Adobe Flash Player 32 NPAPI": ("adobe-flash-player", "32")}),
        (
            "windows-winget-cli-issue4381-turn4",  # under winget's Spanish header (Nombre, Id, Versión, ...)
            {"Python 3.12.3 (64-bit)": ("python", "3.12"), "Visual Studio Community 2022": ("visual-studio", "17.7")},
        ),
        ("windows-unigetui-issue2134", {}),
        ("windows-winget-cli-issue5654", {}),
        ("windows-winget-pkgs-pr15658", {}),
    ],
)
def test_winget_list_hosts_identify_what_is_tracked(name: str, expected: dict[str, Any]) -> None:
    inventory = _host(name)
    assert inventory.software and not any(inventory.os.facts.values())
    assert _identified(name) == expected
    for s in inventory.software:  # "Unknown" and "< x" are winget's words, not versions
        assert s.version not in ("Unknown",) and not s.version.startswith(("<", ">"))
        assert s.scope in ("", "machine") and (s.scope == "machine") == s.key.startswith("HKLM\\") or s.source == "msix"


def test_winget_rows_with_a_cut_id_are_not_guessed_into_a_key_or_a_package() -> None:
    """winget-cli issue #4381: '12030rocksdanister.LivelyWallpaper_97hta…' may be a key name or an MSIX
    family name; the row is left out rather than filed as either."""
    inventory = _host("windows-winget-cli-issue4381-turn4")
    names = {s.name for s in inventory.software}
    assert not {"Lively Wallpaper", "Revolt Chat"} & names
    assert {"Blitz", "Bun", "Battle.net", "Voicemod"} <= names
    assert {s.version for s in inventory.software if s.name in ("Bun", "Battle.net")} == {""}  # "Unknown"
    assert len(inventory.software) == 15


def test_winget_unknown_version_and_bare_key_names() -> None:
    """UniGetUI issue #2134: Steam games' keys with "Unknown" versions; Discord's bare key name."""
    sw = _sw("windows-unigetui-issue2134")
    assert sw[("windows-registry", "Dungeon Siege 2")].version == ""
    assert sw[("windows-registry", "Ubisoft Connect")].version == "150.1.11037"  # not 151.2.0.11050 (Available)
    assert sw[("windows-registry", "Discord")].key.startswith("<winget id a648a36d30b7fa49883db6c85970c974")
    azure = _sw("windows-winget-cli-issue5654")[("windows-registry", "Microsoft Azure Compute Emulator - v2.9.7")]
    assert (azure.registry_view, azure.scope, azure.version) == ("64", "machine", "2.9.8999.43")
    assert azure.key == UN64 + "Microsoft Azure Compute Emulator - v2.9.7"  # a key name with spaces, whole


AS_OF = date(2026, 12, 1)


def _findings(name: str) -> dict[tuple[str, str | None, str | None], str]:
    result = match_inventory(_host(name), IdentifyContext(Catalog()), AS_OF, Policy())
    return {(f.kind, f.product, f.cycle): f.status.value for f in result.findings if f.product}


def test_winget_upgrade_under_user_scope_gives_per_user_entries_and_the_build() -> None:
    """winget-cli issue #4380: 'winget upgrade --scope user' on a non-admin Windows 11 machine lists
    PowerShell and classic Teams: per-user (HKU) entries, SID and key name not shown; winget --info
    gives the build and its revision (UBR), nothing about the edition."""
    name = "windows-win11-22621-wingetcli-issue4380-userscope"
    inventory = _host(name)
    sw = _sw(name)
    for display, version in (("PowerShell", "7.2.6.0"), ("Microsoft Teams", "1.7.00.7956")):
        entry = sw[("windows-registry", display)]
        assert (entry.version, entry.scope, entry.registry_view, entry.sid) == (version, "user", "user", "")
        assert entry.key.startswith("HKU\\<SID not in the source>\\Software\\Microsoft\\Windows\\")
    facts = inventory.os.facts
    assert (facts["build"], facts["ubr"], facts["version"]) == ("22621", 3296, "10.0.22621")
    assert inventory.os.kernel == "10.0.22621.3296"
    assert (facts["edition_id"], facts["product_type"], inventory.os.name) == ("", None, "")  # not shown
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.cycle, ident.rule) == ("11-22h2-e", "windows.build-edition-unknown")  # the latest-ending guess
    assert _findings(name) == {
        ("os", "windows", "11-22h2-e"): "eol",
        ("software", "microsoft-teams-classic", "1"): "eol",  # a per-user install, found as one
    }


def test_a_shared_client_and_server_build_without_a_role_is_not_decided_by_the_parser() -> None:
    """winget-cli issue #5402: build 26100.3775 and nothing else about the OS.  26100 is Windows 11
    24H2 and Server 2025; no product type is invented from winget's device family, and
    identification's documented shared-build rule answers, with low confidence."""
    name = "windows-win11-26100-wingetcli-issue5402"
    inventory = _host(name)
    assert (inventory.os.kernel, inventory.os.facts["product_type"]) == ("10.0.26100.3775", None)
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert [ident.product, ident.cycle, ident.rule] == _expected(name)["identified_as"]
    assert ident.confidence.name == "LOW"
    # Windows 11 24H2 Home/Pro ended 2026-10-13 while Server 2025 is supported: no "supported" guess
    assert _findings(name)[("os", ident.product, ident.cycle)] == "unknown"
    assert {(s.name, s.version) for s in inventory.software} == {
        ("FFmpeg (Shared)", "7.1.1"),
        ("FFmpeg (Shared)", "6.0"),
    }


def _frst_published(stem: str) -> tuple[list[tuple[str, str, str, str, bool]], dict[str, str]]:
    """(hive, DisplayName, key name, DisplayVersion, Hidden) of each published Installed Programs line,
    and the profile path of each account SID, read straight from the FRST text (split, not the builder's regex)."""
    programs, profiles = [], {}
    for line in (REAL / f"{stem}_frst.txt").read_text("utf-8").splitlines():
        if " => " in line and line.count("(S-1-5-21-") == 1:
            sid = line.split("(", 1)[1].split(" - ", 1)[0]
            profiles[sid] = line.rsplit(" => ", 1)[1]
        for hive in ("HKLM\\...\\", "HKLM-x32\\...\\", "HKU\\S-1-"):
            if f" ({hive}" in line:
                name, rest = line.split(f" ({hive}", 1)
                where, _, version_part = rest.partition(") (Version: ")
                key = where.split("\\...\\", 1)[1] if hive.startswith("HKU") else where
                version = version_part.split(" - ", 1)[0]
                hidden = line.endswith(") Hidden")
                programs.append((hive.split("\\")[0], name, key, version, hidden))
    return programs, profiles


def test_frst_logs_of_a_windows_11_pro_machine_with_per_user_programs_and_their_sid() -> None:
    """NamelessWeb/test: FRST.txt and Addition.txt of one Windows 11 Pro 24H2 desktop.  FRST prints the
    OS name, release and build.UBR, every Uninstall entry of HKLM (both views) and of the loaded user
    hive under the user's SID, and the accounts with their profiles; no EditionID or product type."""
    name = "windows-win11-24h2-pro-namelessweb"
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["caption"], facts["display_version"], facts["build"], facts["ubr"]) == (
        "Microsoft Windows 11 Pro",
        "24H2",
        "26100",
        3194,
    )
    assert (facts["edition_id"], facts["product_name"], facts["product_type"], facts["version"]) == ("", "", None, "")
    assert inventory.os.name == "Microsoft Windows 11 Pro" and inventory.os.arch == "x64"
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.rule) == ("windows", "11-24h2-w", "windows.build+edition")
    assert ident.confidence.name == "HIGH"  # the caption's "Windows 11 ... Pro" decides client and edition

    published, profiles = _frst_published("win11-24h2-pro-namelessweb")
    assert len(published) == 138
    assert {hive: sum(1 for p in published if p[0] == hive) for hive in ("HKLM", "HKLM-x32", "HKU")} == {
        "HKLM": 66,
        "HKLM-x32": 63,
        "HKU": 9,
    }
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert len(raw["software"]) == len(published)  # one document entry per published line, none invented
    views = {"HKLM": "64", "HKLM-x32": "32", "HKU": "user"}
    by_key = {s["key"].rsplit("\\", 1)[1]: s for s in raw["software"]}
    for hive, display, key, version, _hidden in published:
        entry = by_key[key.rsplit("\\", 1)[-1]]
        assert (entry["view"], entry["DisplayName"], entry["DisplayVersion"]) == (views[hive], display, version or None)
        assert entry["SystemComponent"] is None  # FRST's "Hidden" does not say which value hides it
    assert sum(1 for p in published if p[4]) == 60

    # per-user entries: the SID FRST prints, the one account whose profile is C:\Users\<user> and loaded
    user = [s for s in inventory.software if s.scope == "user"]
    (sid,) = {s.sid for s in user}
    assert profiles[sid].startswith("C:\\Users\\") and sid.startswith("S-1-5-21-") and sid.endswith("-1000")
    assert {s.name for s in user} >= {"Discord", "Spotify", "Vivaldi", "Microsoft Visual Studio Code (User)"}
    code = next(s for s in user if s.name == "Microsoft Visual Studio Code (User)")
    assert (code.version, code.registry_view) == ("1.96.4", "user")
    assert code.key == f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\" + (
        "{771FD6B0-FA20-440A-A002-3B3BAC16DC50}_is1"
    )
    assert raw["profiles"] == [{"sid": s, "loaded": p == "C:\\Users\\Thomas"} for s, p in profiles.items()]
    (unloaded,) = [p for p in inventory.problems if p.probe == "software.user"]
    assert unloaded.message.startswith("1 user profile(s) not loaded")  # the second profile's hive was not read

    sw = _sw(name)
    assert sw[("windows-registry", "7-Zip 24.09 (x64)")].key == UN64 + "7-Zip"
    assert (sw[("windows-registry", "Steam")].registry_view, sw[("windows-registry", "Steam")].key) == (
        "32",
        UN32 + "Steam",
    )
    assert sw[("windows-registry", "Riot Vanguard")].version == ""  # "(Version:  - ...)": not shown
    ryzen = sw[("windows-registry", "AMD Ryzen Master")]  # the same product under two keys of one view
    assert ryzen.collapsed == [f"same-name-version: {UN64}{{02247819-03CD-414E-AC8D-FD518BFBA445}}"]
    msix = sorted((s.name, s.version, s.arch) for s in inventory.software if s.source == "msix")
    assert msix[0] == ("28017CharlesMilette.TranslucentTB", "2024.3.0.0", "x64") and len(msix) == 5
    assert len(inventory.software) == 138 + 5 - 15  # 15 duplicates collapsed (same view, or both views)
    assert _findings(name) == {
        ("os", "windows", "11-24h2-w"): "eol",  # Home/Pro 24H2 ended 2026-10-13
        ("software", "dotnet", "6"): "eol",
        ("software", "dotnet", "8"): "eol",
        ("software", "notepad-plus-plus", "8.7"): "eol",
        ("software", "visual-cpp-redistributable", "2010"): "eol",
        ("software", "visual-cpp-redistributable", "2012"): "eol",
        ("software", "visual-cpp-redistributable", "2013"): "eol",
    }


def _frst_check_published(name: str, stem: str) -> list[dict[str, Any]]:
    """Every published Installed Programs line is one document entry (view, name, version as printed),
    nothing invented; returns the document's per-user entries."""
    published, _profiles = _frst_published(stem)
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert len(raw["software"]) == len(published)
    views = {"HKLM": "64", "HKLM-x32": "32", "HKU": "user"}
    by_key = {s["key"].rsplit("\\", 1)[1]: s for s in raw["software"]}
    for hive, display, key, version, _hidden in published:
        entry = by_key[key.rsplit("\\", 1)[-1]]
        assert (entry["view"], entry["DisplayName"], entry["DisplayVersion"]) == (views[hive], display, version or None)
        assert entry["SystemComponent"] is None and entry["InstallDate"] is None
    return [s for s in raw["software"] if s["scope"] == "user"]


def test_frst_logs_pasted_in_an_issue_of_a_windows_7_home_premium_pc_with_a_per_user_program() -> None:
    """dragokas/hijackthis#62: FRST.txt and Addition.txt of one Windows 7 Home Premium SP1 x64 PC, pasted
    inline (parts of them).  FRST of 2019 prints the OS name in the registry ProductName's form and the
    service pack, no build; the Addition lists a program installed in the administrator's profile under
    its SID, and the second profile's hive was not loaded."""
    name = "windows-win7-sp1-home-premium-x64-hijackthis-issue62"
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["product_name"], facts["csd_version"], facts["caption"]) == (
        "Windows 7 Home Premium",
        "Service Pack 1",
        "",
    )
    assert (facts["build"], facts["ubr"], facts["version"], facts["edition_id"], facts["product_type"]) == (
        "",
        None,
        "",
        "",
        None,
    )
    assert inventory.os.arch == "x64"
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle) == ("windows", "7-sp1")

    user = _frst_check_published(name, "win7-sp1-home-premium-x64-hijackthis-issue62")
    _published, profiles = _frst_published("win7-sp1-home-premium-x64-hijackthis-issue62")
    sid = "S-1-5-21-334533737-317225951-1012837674-1003"
    assert [(u["DisplayName"], u["DisplayVersion"], u["sid"]) for u in user] == [("QikKids Web - 1 ", "1.0.0.46", sid)]
    assert user[0]["key"] == f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\dbc34b76b420c8d5"
    assert profiles[sid] == "C:\\Users\\USER1"  # the account FRST ran as, the only loaded profile
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert raw["profiles"] == [{"sid": sid, "loaded": True}, {"sid": sid[:-4] + "1001", "loaded": False}]
    (unloaded,) = [p for p in inventory.problems if p.probe == "software.user"]
    assert unloaded.message.startswith("1 user profile(s) not loaded")
    qik = next(s for s in inventory.software if s.scope == "user")
    assert (qik.name, qik.version, qik.sid, qik.registry_view) == ("QikKids Web - 1", "1.0.0.46", sid, "user")
    assert len(inventory.software) == 30
    assert _findings(name) == {
        ("os", "windows", "7-sp1"): "eol",
        ("software", "adobe-acrobat", "11"): "eol",
        ("software", "adobe-flash-player", "32"): "eol",
        ("software", "office", "2013"): "eol",
        ("software", "visual-cpp-redistributable", "2005"): "eol",
    }


def test_frst_addition_pasted_in_an_issue_of_a_windows_10_1809_pc_with_per_user_teams() -> None:
    """dragokas/hijackthis#92: Addition.txt of one Windows 10 Pro 1809 PC (parts of it): FRST of 2020
    prints 'Windows 10 Pro Version 1809 17763.1158' and lists OneDrive, classic Teams and Amazon Music
    under the administrator's SID.  FRST.txt's 'Loaded Profiles' is not in the source, so no profile
    is claimed loaded or not."""
    name = "windows-win10-1809-pro-hijackthis-issue92"
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["product_name"], facts["build"], facts["ubr"], facts["display_version"]) == (
        "Windows 10 Pro",
        "17763",
        1158,
        "1809",
    )
    assert (facts["caption"], facts["edition_id"], facts["product_type"], facts["version"]) == ("", "", None, "")
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.rule) == ("windows", "10-1809-w", "windows.build+edition")
    assert ident.confidence.name == "HIGH"

    user = _frst_check_published(name, "win10-1809-pro-hijackthis-issue92")
    _published, profiles = _frst_published("win10-1809-pro-hijackthis-issue92")
    sid = "S-1-5-21-914762255-1940287929-4287671751-1001"
    assert sorted((u["DisplayName"], u["DisplayVersion"]) for u in user) == [
        ("Amazon Music", "7.10.1.2195"),
        ("Microsoft OneDrive", "20.052.0311.0011"),
        ("Microsoft Teams", "1.3.00.362"),
    ]
    assert {u["sid"] for u in user} == {sid} and profiles[sid] == "C:\\Users\\USER1"
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert raw["profiles"] == []  # which hives were loaded is not in the source
    assert not [p for p in inventory.problems if p.probe == "software.user"]
    teams = next(s for s in inventory.software if s.name == "Microsoft Teams")
    assert (teams.scope, teams.key) == (
        "user",
        f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Teams",
    )
    assert _identified(name)["Microsoft Teams"] == ("microsoft-teams-classic", "1")
    assert _findings(name) == {
        ("os", "windows", "10-1809-w"): "eol",
        ("software", "microsoft-teams-classic", "1"): "eol",  # the per-user classic Teams
        ("software", "oracle-jdk", "8"): "eol",
        ("software", "libreoffice", None): "unknown",  # 5.1 predates the dataset's cycles (7.3 on)
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("Home Premium Service Pack 1 (X64) Language", "Home Premium Service Pack 1 (IA64) Language"),
            "platform line",
        ),
        (
            ("Windows 7 Home Premium Service Pack 1 (X64) (2017", "Windows 7 Professional Service Pack 1 (X64) (2017"),
            "name different systems",
        ),
        (("Boot Mode: Normal\n<<< excerpt 2", "Ran by USER1 on PC\n<<< excerpt 2"), "header line"),
        (
            ("Pac-Manic Worlds ver 1.0 (HKLM-x32\\...\\", "Pac-Manic Worlds ver 1.0 (HKCR\\...\\"),
            "Installed Programs line",
        ),
        (("Guest (S-1-5-21-", "Guest (SID "), "Accounts line"),
    ],
)
def test_the_frst_reader_refuses_what_it_cannot_place(edit: tuple[str, str], message: str) -> None:
    """A platform text in no known form, FRST.txt and Addition.txt naming different systems, a header
    line, program line or account line the reader does not know are refused, never guessed."""
    from tests.fixtures.hosts.build_windows_fixtures import from_frst

    text = (REAL / "win7-sp1-home-premium-x64-hijackthis-issue62_frst.txt").read_text("utf-8")
    assert from_frst(text)[0]["os"]["registry"]["CSDVersion"] == "Service Pack 1"
    old, new = edit
    assert old in text
    with pytest.raises(ValueError, match=message):
        from_frst(text.replace(old, new, 1))


def _wazuh_rows(stem: str) -> dict[str, list[list[str]]]:
    """The cells of each published ``select * from <table>;`` block, split at '|' and nothing else."""
    rows: dict[str, list[list[str]]] = {}
    table = ""
    for line in (REAL / f"{stem}_wazuh.txt").read_text("utf-8").splitlines():
        if line.startswith("sqlite> select * from "):
            table = line.removeprefix("sqlite> select * from ").rstrip(";")
        elif line.startswith("~~~"):
            table = ""
        elif table:
            rows.setdefault(table, []).append(line.split("|"))
    return rows


def test_wazuh_agent_rows_of_a_windows_server_2003_sp1_test_machine() -> None:
    """wazuh-qa issue #176: a Wazuh 3.11 agent's database rows of a 32-bit Windows Server 2003 SP1
    VM (sys_osinfo, sys_hwinfo, sys_programs as sqlite3 printed them).  The agent composes the 5.x
    name from the version numbers and reads the service pack as a DWORD ("sp1"); the edition is not
    recorded; programs carry name, version, vendor, install date and the registry view (i686)."""
    name = "windows-srv2003-sp1-wazuhqa-issue176"
    rows = _wazuh_rows("srv2003-sp1-wazuhqa-issue176")
    ((*_, os_name, os_version, _codename, major, minor, build, _p, _s, _r, _v, release),) = rows["sys_osinfo"]
    assert (os_name, os_version, release) == ("Microsoft Windows Server 2003", "5.2.3790", "sp1")
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["product_name"], facts["version"], facts["build"]) == (os_name, f"{major}.{minor}.{build}", build)
    assert facts["csd_version"] == "Service Pack 1"  # the Control\Windows CSDVersion DWORD the agent printed as sp1
    assert (facts["caption"], facts["edition_id"], facts["product_type"], facts["ubr"]) == ("", "", None, None)
    assert inventory.os.name == "Microsoft Windows Server 2003 Service Pack 1" and inventory.os.arch == "x86"
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == ("windows-server", "2003-sp1", "HIGH")

    published = rows["sys_programs"]
    assert len(published) == 2 and {r[10] for r in published} == {"i686"}  # the 32-bit OS's only view
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert [(e["DisplayName"], e["DisplayVersion"], e["Publisher"], e["InstallDate"]) for e in raw["software"]] == [
        (r[3], r[9], r[7], r[8] or None) for r in published
    ]
    for entry in raw["software"]:  # what the agent did not keep stays unknown, never made up
        assert entry["key"].endswith(": key name not in the source>") and entry["view"] == "32"
        assert {entry[f] for f in ("SystemComponent", "ParentKeyName", "ReleaseType", "WindowsInstaller")} == {None}
    sw = _sw(name)
    assert sw[("windows-registry", "Wazuh Agent")].install_date == "2019-10-08"
    assert sw[("windows-registry", "Oracle VM VirtualBox Guest Additions 5.2.32")].version == "5.2.32.0"
    ((*_, cpu, _cores, _mhz, _total, _free, _usage),) = rows["sys_hwinfo"]
    assert inventory.hardware.cpu_model == cpu and inventory.hardware.memory_bytes is None  # the unit is not shown
    assert _findings(name) == {
        ("os", "windows-server", "2003-sp1"): "eol",
        ("software", "virtualbox", "5.2"): "eol",
    }


def test_wazuh_agent_local_db_of_a_windows_server_2022_with_ubr_and_programs() -> None:
    """wazuh-agent pull request #208: a developer's Windows Server 2022 Standard Evaluation VM, its
    local.db printed by sqlite3 in column mode, in four excerpts as the issues index gives them (the
    system row, cut after os_platform; three parts of the packages table, whose 60-character name
    column wraps long names onto the next line).  The agent reads ProductName (putting "Microsoft "
    in front), CurrentMajor/MinorVersionNumber, CurrentBuildNumber and UBR; packages are the
    Uninstall keys of both views.  The first published host of Server 2012 R2-2022 with its UBR and
    its programs."""
    name = "windows-srv2022-std-eval-wazuhagent-pr208"
    text = (REAL / "srv2022-std-eval-wazuhagent-pr208_wazuhagent.txt").read_text("utf-8")
    lines = text.splitlines()
    header, dashes, row = lines[lines.index("sqlite> select * from system;") + 1 :][:3]
    cells = {header[m.start() : m.end()].strip(): row[m.start() : m.end()].strip() for m in re.finditer("-+", dashes)}
    assert cells["os_version"] == "10.0.20348.2849" and cells["os_build"] == "20348.2849"
    assert len(row) < dashes.index("-  ----------  ------------------  --------")  # os_release... not published
    facts = _host(name).os.facts
    assert facts["product_name"] == cells["os_name"].removeprefix("Microsoft ")
    assert (facts["version"], facts["build"], facts["ubr"]) == ("10.0.20348", "20348", 2849)
    unrecorded = (facts["edition_id"], facts["display_version"], facts["caption"], facts["product_type"])
    assert unrecorded == ("", "", "", None)
    inventory = _host(name)
    assert inventory.os.kernel == cells["os_version"] and inventory.os.arch == ""  # x86_64: AMD64, IA64 or ARM64
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == ("windows-server", "2022", "HIGH")

    # The published package rows, read here on their own: cells apart by two or more spaces, a
    # line of one cell right under a row is the rest of its name; edges of the excerpts left out.
    published: list[list[str]] = []
    for i, line in enumerate(lines):
        cells_ = re.split(r" {2,}", line)
        if len(cells_) == 9 and cells_[6] == "win":
            published.append(cells_)
        elif len(cells_) == 1 and line and published and lines[i - 1].split("  ")[0] == published[-1][0]:
            published[-1][0] += line
    assert len(published) == 9
    assert "Microsoft Windows Communication Foundation Diagnostic Pack for x86" in {r[0] for r in published}
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert [(e["DisplayName"], e["DisplayVersion"], e["Publisher"], e["view"]) for e in raw["software"]] == [
        (r[0], r[1], r[2], {"i686": "32", "x86_64": "64"}[r[4]]) for r in published
    ]
    for entry in raw["software"]:  # what the agent printed differently or not at all stays unknown
        assert entry["InstallDate"] is None and entry["key"].endswith(": key name not in the source>")
        assert {entry[f] for f in ("SystemComponent", "ParentKeyName", "ReleaseType", "WindowsInstaller")} == {None}
        assert entry["key"].startswith("HKLM\\SOFTWARE\\WOW6432Node\\") == (entry["view"] == "32")
    sw = _sw(name)
    redist = sw[("windows-registry", "Microsoft Visual C++ 2015-2022 Redistributable (x86) - 14.42.34433")]
    assert (redist.version, redist.registry_view, redist.install_date) == ("14.42.34433.0", "32", "")
    assert sw[("windows-registry", "Microsoft Web Deploy 4.0")].registry_view == "64"
    assert _findings(name) == {("os", "windows-server", "2022"): "supported"}


def test_wazuh_api_answers_of_a_windows_10_pro_22h2_with_office_2013() -> None:
    """wazuh/wazuh issue #28720: a Wazuh 4.x manager's API answers for a community user's Windows 10
    Pro workstation (agent 007): the whole OS answer (ProductName with the agent's "Microsoft ",
    build.UBR, ReleaseId, DisplayVersion) and one part of its packages answer (an Office 2013
    language part and a Visio 2013 update, both of the 32-bit view).  The update is a patch entry by
    its name, the Office part is Office 2013: past its end of support, as Windows 10 22H2 is."""
    name = "windows-win10-22h2-pro-wazuh-issue28720"
    text = (REAL / "win10-22h2-pro-wazuh-issue28720_wazuhapi.txt").read_text("utf-8")
    first, second = text.split("<<< excerpt 2 >>>\n")
    ((item,),) = [json.loads(first[first.index("{") :])["data"]["affected_items"]]
    published = [json.loads(o) for o in re.findall(r'\{\s*"scan": \{[^{}]*\},[^{}]*\}', second)]
    assert len(published) == 2 and second.rstrip().endswith('"architecture": "i686",')  # a third, cut short
    inventory = _host(name)
    facts = inventory.os.facts
    assert facts["product_name"] == item["os"]["name"].removeprefix("Microsoft ") == "Windows 10 Pro"
    assert (facts["build"], facts["ubr"], facts["display_version"]) == ("19045", 5608, item["os"]["display_version"])
    assert inventory.os.kernel == item["os"]["version"] == "10.0.19045.5608"
    assert (facts["edition_id"], facts["caption"], facts["product_type"]) == ("", "", None)  # not recorded
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert raw["os"]["registry"]["ReleaseId"] == item["os_release"] == "2009"
    assert [(e["DisplayName"], e["DisplayVersion"], e["Publisher"], e["view"]) for e in raw["software"]] == [
        (p["name"], p["version"].strip() or None, p["vendor"], "32") for p in published
    ]
    assert {e["InstallDate"] for e in raw["software"]} == {None}  # the manager's timestamps, not InstallDate
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == ("windows", "10-22h2", "HIGH")
    assert _findings(name) == {("os", "windows", "10-22h2"): "eol", ("software", "office", "2013"): "eol"}


def _specify_published(stem: str) -> dict[str, Any]:
    """The members the published excerpts of a Specify report hold (each excerpt: whole members)."""
    members: dict[str, Any] = {}
    text = (REAL / f"{stem}_specify.txt").read_text("utf-8")
    for part in re.split(r"^<<< excerpt \d+: .* >>>\n", text, flags=re.MULTILINE)[1:]:
        members |= json.loads("{" + part.strip().removeprefix("{").rstrip(",") + "}")
    return members


def test_specify_report_of_a_windows_11_insider_preview_with_uefi_secure_boot_and_tpm() -> None:
    """Spec-ify/specified test13.json: a contributor's desktop on Windows 11 Pro Insider Preview
    10.0.25252, whose registry DisplayVersion says 22H2 (Windows writes the newest release's name
    there on Insider builds).  The first real host with the firmware type, Secure Boot and the TPM:
    UEFI, Secure Boot off, TPM 2.0.  The release is unknown, never 22H2's end of support."""
    name = "windows-win11-insider-25252-pro-specify-test13"
    published = _specify_published("win11-insider-25252-pro-specify-test13")
    basic, security = published["BasicInfo"], published["Security"]
    inventory = _host(name)
    facts = inventory.os.facts
    assert facts["caption"] == basic["Edition"] == "Microsoft Windows 11 Pro Insider Preview"
    assert (facts["version"], facts["build"]) == (basic["Version"], "25252")
    assert facts["display_version"] == basic["FriendlyVersion"] == "22H2"
    assert inventory.os.install_date == "2022-12-06T12:17:22Z"  # 14:17:22 at +02:00
    assert (facts["product_type"], facts["edition_id"], facts["ubr"], facts["product_name"]) == (None, "", None, "")
    hw = inventory.hardware
    assert (basic["BootMode"], security["SecureBootEnabled"], security["Tpm"]["SpecVersion"]) == (
        "UEFI",
        False,
        "2.0, 0, 1.38",
    )
    assert (hw.firmware_type, hw.secure_boot, hw.tpm_present, hw.tpm_version) == ("uefi", False, True, "2.0")
    assert not {p.probe for p in inventory.problems} & {"hardware.tpm", "hardware.firmware", "os.wmi"}
    assert inventory.software == []  # the report's program list was left out (provenance.json says why)
    raw = (FIXTURES / "hosts" / name / "collect.json").read_text("ascii")
    assert "DESKTOP-6FRAE6U" not in raw and "strol" not in raw  # the dropped host and user names
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.rule) == ("windows", _expected(name)["cycle"], "windows.build-unknown")
    assert _findings(name) == {("os", "windows", None): "unknown"}  # not 22H2 (whose verdict is "eol")


def test_specify_report_of_a_windows_11_education_22h2_desktop_with_241_programs_and_a_tpm() -> None:
    """Spec-ify/specified test15.json: a developer's Windows 11 Education 22H2 desktop, UEFI with
    Secure Boot off and a TPM 2.0, and its 241 Uninstall entries (HKCU, HKLM and WOW6432Node in one
    list, the hive not printed).  Values the real machine wrote badly stay as written."""
    name = "windows-win11-22h2-education-specify-test15"
    published = _specify_published("win11-22h2-education-specify-test15")
    apps = published["InstalledApps"]
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert [(e["DisplayName"], e["DisplayVersion"], e["InstallDate"]) for e in raw["software"]] == [
        (a["Name"], a["Version"], a["InstallDate"]) for a in apps
    ]
    assert len(apps) == 241 and {(e["view"], e["scope"], e["sid"]) for e in raw["software"]} == {("", "", "")}
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["caption"], facts["build"], facts["display_version"]) == (
        published["BasicInfo"]["Edition"],
        "22621",
        "22H2",
    )
    assert inventory.os.install_date == "2022-09-22T18:25:01Z"  # 11:25:01 at -07:00
    hw = inventory.hardware
    assert published["Security"]["Tpm"]["SpecVersion"] == "2.0, 0, 1.16"
    assert (hw.firmware_type, hw.secure_boot, hw.tpm_present, hw.tpm_version) == ("uefi", False, True, "2.0")
    sw = {s.name: s for s in inventory.software}
    assert len(inventory.software) == 240  # darktable 4.0.1 is listed twice (two keys): one program
    assert [c.split(":")[0] for c in sw["darktable"].collapsed] == ["same-name-version"]
    assert {s.scope for s in inventory.software} == {""}  # the hive is not in the report: unknown
    # An InstallDate that is no date (Discord writes the month 24; Citra a ctime string) stays as written.
    assert (sw["Discord"].install_date, sw["Citra"].install_date) == ("20222409", "Thu Nov 10 13:26:33 2022")
    assert sw["Wireshark"].install_date == "2022-09-22"
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == ("windows", _expected(name)["cycle"], "HIGH")
    findings = _findings(name)
    assert {
        ("os", "windows", "11-22h2-e"): "eol",
        ("software", "dotnet", "6"): "eol",
        ("software", "dotnet", "7"): "eol",
        ("software", "openvpn", "2.5"): "eol",
        ("software", "libreoffice", "7.4"): "eol",
        ("software", "visual-cpp-redistributable", "2008"): "eol",
        ("software", "eclipse-temurin", "19"): "eol",
        ("software", "eclipse-temurin", "17"): "supported",
    }.items() <= findings.items()


def test_specify_report_of_a_windows_11_home_22h2_laptop_with_keys_that_have_no_display_name() -> None:
    """Spec-ify/specified test14.json: a Windows 11 Home 22H2 laptop, UEFI with Secure Boot off and
    a TPM 2.0; its report predates Specify's filter of keys without a DisplayName, so 50 of its 227
    Uninstall keys are listed with Name null (some with an InstallDate), as the collection script
    lists them too.  The parser drops them, as Programs and Features does: 177 named entries."""
    name = "windows-win11-22h2-home-specify-test14"
    published = _specify_published("win11-22h2-home-specify-test14")
    apps = published["InstalledApps"]
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert [(e["DisplayName"], e["DisplayVersion"], e["InstallDate"]) for e in raw["software"]] == [
        (a["Name"], a["Version"], a["InstallDate"]) for a in apps
    ]
    nameless = [a for a in apps if a["Name"] is None]
    assert (len(apps), len(nameless)) == (227, 50) and {a["InstallDate"] for a in nameless} == {None, "10/19/2022"}
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["caption"], facts["build"], facts["display_version"]) == (
        published["BasicInfo"]["Edition"],
        "22621",
        "22H2",
    )
    assert inventory.os.install_date == "2022-09-20T22:18:40Z"  # 00:18:40 at +02:00, the day before
    hw = inventory.hardware
    assert published["Security"]["Tpm"]["SpecVersion"] == "2.0, 0, 1.38"
    assert (hw.firmware_type, hw.secure_boot, hw.tpm_present, hw.tpm_version) == ("uefi", False, True, "2.0")
    assert all(s.name for s in inventory.software)
    names = [s.name for s in inventory.software]
    assert len(names) == 176 and names.count("EA app") == 1  # listed twice, same version: one program
    sw = {s.name: s for s in inventory.software}
    assert sw["Discord"].install_date == "20221418"  # no date (month 14): kept as written
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == ("windows", _expected(name)["cycle"], "HIGH")
    findings = _findings(name)
    assert {
        ("os", "windows", "11-22h2-w"): "eol",
        ("software", "dotnet", "5"): "eol",
        ("software", "dotnet", "6"): "eol",
        ("software", "virtualbox", "7.0"): "eol",
        ("software", "chrome", "108"): "eol",
        ("software", "microsoft-teams-classic", "1"): "eol",
        ("software", "visual-cpp-redistributable", "2005"): "eol",
        ("software", "visual-cpp-redistributable", "2013"): "eol",
        # Redis on Windows 3.0.504 (the archived Microsoft port): older than the dataset's oldest
        # Redis cycle (5.0), so its cycle is not known and the finding says so.
        ("software", "redis", None): "unknown",
    }.items() <= findings.items()


def _ohai_published(stem: str) -> dict[str, dict[str, Any]]:
    """The members each excerpt of a published Ohai dump holds, by the object the marker names."""
    text = (REAL / f"{stem}_ohai.txt").read_text("utf-8")
    parts = re.split(r"^<<< excerpt \d+: lines [0-9, -]+ of (.+?)(?: \(.*\))? >>>\n", text, flags=re.MULTILINE)[1:]
    return {
        name: json.loads("{" + body.strip().rstrip(",") + "}")
        for name, body in zip(parts[::2], parts[1::2], strict=True)
    }


@pytest.mark.parametrize(
    ("name", "caption", "build", "csd", "programs", "cycle"),
    [
        ("win7-sp1-enterprise-n-fauxhai", "Microsoft Windows 7 Enterprise N", "7601", "Service Pack 1", 46, "7-sp1"),
        ("win81-enterprise-n-fauxhai", "Microsoft Windows 8.1 Enterprise N", "9600", "", 1, "8.1"),
    ],
)
def test_ohai_dumps_of_windows_7_and_8_1_test_machines_with_their_programs(
    name: str, caption: str, build: str, csd: str, programs: int, cycle: str
) -> None:
    """chefspec/fauxhai: Ohai dumps of two Hyper-V test machines of Chef's (2019-01-30), the
    Win32_OperatingSystem values and the HKLM Uninstall entries Ohai lists by DisplayName."""
    published = _ohai_published(name)
    os_info, packages = published["kernel.os_info"], published["the top level"]["packages"]
    inventory = _host(f"windows-{name}")
    facts = inventory.os.facts
    assert facts["caption"] == os_info["caption"].strip() == caption  # WMI's trailing space on Windows 7
    assert (facts["build"], facts["version"], facts["csd_version"]) == (build, os_info["version"], csd)
    assert (facts["product_type"], facts["edition_id"], facts["ubr"]) == (1, "", None)
    assert (
        inventory.os.install_date
        == f"2019-01-30T{os_info['install_date'][8:10]}:{os_info['install_date'][10:12]}:"
        + (f"{os_info['install_date'][12:14]}Z")
    )
    hw = inventory.hardware
    assert (hw.vendor, hw.model, hw.virtual) == ("Microsoft Corporation", "Virtual Machine", True)
    raw = json.loads((FIXTURES / "hosts" / f"windows-{name}" / "collect.json").read_text("ascii"))
    assert [(e["DisplayName"], e["DisplayVersion"], e["Publisher"], e["InstallDate"]) for e in raw["software"]] == [
        (n, p.get("version"), p.get("publisher"), p.get("installdate")) for n, p in packages.items()
    ]
    assert len(packages) == programs and {(e["view"], e["scope"]) for e in raw["software"]} == {("", "machine")}
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (
        (ident.product, ident.cycle, ident.confidence.name)
        == ("windows", cycle, "HIGH")
        == (
            "windows",
            _expected(f"windows-{name}")["cycle"],
            "HIGH",
        )
    )
    findings = _findings(f"windows-{name}")
    assert findings[("os", "windows", cycle)] == "eol"
    assert findings[("software", "chef-infra-client", "14")] == "eol"  # Chef Client 14.10.9
    assert not any(product == "dotnet" for _, product, _ in findings)  # no modern .NET on these machines
    if name.startswith("win7"):
        # .NET Framework 4.7.2 is a component of Windows 7, serviced with it: it ended with the OS
        assert findings[("software", "dotnetfx", "4.7.2")] == "eol"


@pytest.mark.parametrize(
    ("name", "caption", "install_date", "hardware", "findings"),
    [
        (
            "win10-1703-enterprise-eval-fauxhai",
            "Microsoft Windows 10 Enterprise Evaluation",
            "2017-05-12T18:47:23Z",  # 19:47:23 at UTC+60 minutes
            ("innotek GmbH", "VirtualBox"),
            {
                ("os", "windows", "10-1703-e"): "eol",
                ("software", "virtualbox", "5.1"): "eol",  # the Guest Additions 5.1.22
                ("software", "chef-infra-client", "13"): "eol",
            },
        ),
        (
            "srv2022-datacenter-ec2-fauxhai",
            "Microsoft Windows Server 2022 Datacenter",
            "2023-11-08T21:34:13Z",  # 16:34:13 at UTC-300 minutes
            ("Amazon EC2", "t3.medium"),
            {("os", "windows-server", "2022"): "supported", ("software", "chef-infra-client", "17"): "eol"},
        ),
        (
            "srv2008r2-sp1-datacenter-ec2-fauxhai",
            "Microsoft Windows Server 2008 R2 Datacenter",
            "2019-01-30T18:29:02Z",
            ("Amazon EC2", "t3.large"),
            {
                ("os", "windows-server", "2008-r2-sp1"): "eol",
                ("software", "chef-infra-client", "14"): "eol",
                # .NET Framework 4.7.2 is a component of Windows, serviced with it: it ended with 2008 R2
                ("software", "dotnetfx", "4.7.2"): "eol",
                ("software", "visual-cpp-redistributable", "2008"): "eol",
            },
        ),
    ],
)
def test_ohai_dumps_of_a_windows_10_1703_desktop_and_two_ec2_servers_with_their_programs(
    name: str, caption: str, install_date: str, hardware: tuple[str, str], findings: dict[tuple[str, str, str], str]
) -> None:
    """chefspec/fauxhai: a Windows 10 1703 Vagrant VirtualBox machine (2017), a Server 2008 R2
    Datacenter SP1 and a Server 2022 Datacenter EC2 instance (2019, 2023) with their HKLM programs.
    The install dates carry WMI's minute offsets (+060, -300): the document holds them in UTC."""
    published = _ohai_published(name)
    os_info, packages = published["kernel.os_info"], published["the top level"]["packages"]
    inventory = _host(f"windows-{name}")
    facts = inventory.os.facts
    assert facts["caption"] == os_info["caption"].strip() == caption
    assert (facts["build"], facts["version"]) == (os_info["build_number"], os_info["version"])
    assert facts["csd_version"] == (os_info["csd_version"] or "")
    assert (facts["product_type"], facts["edition_id"], facts["ubr"]) == (os_info["product_type"], "", None)
    assert inventory.os.install_date == install_date
    hw = inventory.hardware
    assert (hw.vendor, hw.model, hw.virtual) == (*hardware, True)
    raw = json.loads((FIXTURES / "hosts" / f"windows-{name}" / "collect.json").read_text("ascii"))
    assert [(e["DisplayName"], e["DisplayVersion"], e["Publisher"], e["InstallDate"]) for e in raw["software"]] == [
        (n, p.get("version"), p.get("publisher"), p.get("installdate")) for n, p in packages.items()
    ]
    assert {(e["view"], e["scope"]) for e in raw["software"]} == {("", "machine")}
    assert "TESTCLUSTER" not in json.dumps(raw).upper()  # the host name (and its domain) are not taken
    expected = _expected(f"windows-{name}")
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == (expected["product"], expected["cycle"], "HIGH")
    assert {k: v for k, v in _findings(f"windows-{name}").items() if k in findings} == findings
    assert len(_findings(f"windows-{name}")) == len(findings)  # AWS agents, Edge, VC++ v14, drivers: no finding


def _facter_published(stem: str) -> dict[str, Any]:
    """The members each excerpt of a published Facter factset holds, by the object the marker names."""
    text = (REAL / f"{stem}_facter.txt").read_text("utf-8")
    parts = re.split(r"^<<< excerpt \d+: lines [0-9, -]+ of (.+?) >>>\n", text, flags=re.MULTILINE)[1:]
    return {
        name: json.loads("{" + body.strip().rstrip(",") + "}")
        for name, body in zip(parts[::2], parts[1::2], strict=True)
    }


@pytest.mark.parametrize(
    ("name", "os_name", "product_type", "bios", "status"),
    [
        ("win11-22h2-pro-azure-facterdb", "Windows 11 Pro", 1, "Microsoft Corporation", "eol"),
        ("win11-24h2-enterprise-eval-facterdb", "Windows 11 Enterprise Evaluation", 1, "innotek GmbH", "supported"),
        ("srv2025-std-eval-core-facterdb", "Windows Server 2025 Standard Evaluation", 3, "innotek GmbH", "supported"),
        (
            "srv2016-datacenter-core-azure-facterdb",
            "Windows Server 2016 Datacenter",
            3,
            "American Megatrends Inc.",
            "ending-soon",
        ),
        (
            "srv2012r2-datacenter-azure-facterdb",
            "Windows Server 2012 R2 Datacenter",
            3,
            "American Megatrends Inc.",
            "eol",
        ),
        ("srv2012-datacenter-azure-facterdb", "Windows Server 2012 Datacenter", 3, "American Megatrends Inc.", "eol"),
    ],
)
def test_facter_factsets_give_the_edition_id_of_windows_11_and_server_machines(
    name: str, os_name: str, product_type: int, bios: str, status: str
) -> None:
    """voxpupuli/facterdb: Facter's os.windows values (EditionID, InstallationType, ProductName,
    DisplayVersion, from the CurrentVersion key) and kernelversion of six Puppet test machines.
    The two Windows 11 machines' ProductName says "Windows 10" (as on every Windows 11): kept as
    read, the build names the OS; "Server Core" makes a server without Win32_OperatingSystem."""
    published = _facter_published(name)
    windows, kernel = published["os.windows"], published["the top level"]["kernelversion"]
    inventory = _host(f"windows-{name}")
    facts = inventory.os.facts
    assert (facts["edition_id"], facts["installation_type"]) == (windows["edition_id"], windows["installation_type"])
    assert facts["product_name"] == windows["product_name"]
    assert (facts["version"], facts["build"], facts["ubr"]) == (kernel, kernel.split(".")[2], None)
    # release_id is DisplayVersion when Windows has that value; ReleaseId (1607) otherwise
    assert facts["display_version"] == windows.get("display_version", windows.get("release_id", ""))  # none on 6.x
    assert (inventory.os.name, facts["product_type"]) == (os_name, product_type)
    if product_type == 1:
        assert windows["product_name"].startswith("Windows 10 ") and os_name.startswith("Windows 11 ")
    hw = inventory.hardware
    assert (hw.model, hw.virtual) == (published["dmi.product"]["name"], True)
    assert bios == published["dmi"]["manufacturer"]
    raw = json.loads((FIXTURES / "hosts" / f"windows-{name}" / "collect.json").read_text("ascii"))
    assert raw["wmi"]["Win32_BIOS"] == [{"Manufacturer": bios}] and raw["os"]["wmi"] == {} and raw["software"] == []
    assert "foo" not in json.dumps(raw)  # facterdb's renamed host is not taken
    expected = _expected(f"windows-{name}")
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.confidence.name) == (expected["product"], expected["cycle"], "HIGH")
    assert _findings(f"windows-{name}") == {("os", expected["product"], expected["cycle"]): status}


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (("of os.windows", "of os.release"), ValueError),  # an object the reader does not place
        (('"release_id": "22H2"', '"release_id": "2009"'), ValueError),  # not the DisplayVersion Facter copies
        (('"10.0.22621"', '"10.0"'), ValueError),  # kernelversion not major.minor.build
        (('"edition_id"', '"system32"'), KeyError),  # a value the collection script does not read
    ],
)
def test_the_facter_reader_refuses_what_it_cannot_place(edit: tuple[str, str], error: type[Exception]) -> None:
    from tests.fixtures.hosts.build_windows_fixtures import from_facter

    text = (REAL / "win11-22h2-pro-azure-facterdb_facter.txt").read_text("utf-8")
    assert from_facter(text)[0]["os"]["registry"]["EditionID"] == "Professional"
    old, new = edit
    assert old in text
    with pytest.raises(error):
        from_facter(text.replace(old, new, 1))


def test_get_itemproperty_of_a_per_user_uninstall_key_keeps_the_users_sid() -> None:
    """kyoiron/PSScripts CheckLINE.ps1: the author pasted his script's Get-ItemProperty result, LINE
    installed for one domain user only: HKEY_USERS\\<SID>\\Software\\...\\Uninstall\\LINE.  The entry
    is per-user with that SID and key name; nothing about the OS is in the source."""
    lines = (REAL / "user-line-kyoiron-psscripts_itemproperty.txt").read_text("utf-8").splitlines()
    shown = {name.strip(): value for name, value in (line.split(" : ", 1) for line in lines)}
    sid = shown["PSPath"].split("HKEY_USERS\\")[1].split("\\")[0]
    assert sid.startswith("S-1-5-21-") and sid.endswith("-18762")
    inventory = _host("windows-user-line-kyoiron-psscripts")
    (entry,) = inventory.software
    assert (entry.name, entry.version, entry.publisher) == (
        shown["DisplayName"].strip(),
        shown["DisplayVersion"].strip(),
        shown["Publisher"].strip(),
    )
    assert (entry.scope, entry.registry_view, entry.sid) == ("user", "user", sid)
    assert entry.key == f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\LINE"
    assert inventory.os.facts["build"] == "" and not _findings("windows-user-line-kyoiron-psscripts")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("HKEY_USERS\\", "HKEY_CURRENT_USER\\"), "no PSPath"),  # HKCU: whose hive it is is not known
        (("\\Uninstall\\LINE", "\\Run"), "no PSPath"),  # not an Uninstall subkey
        (("PSPath          : ", "PSPath          = "), "not a 'Name : value' line"),
    ],
)
def test_the_itemproperty_reader_refuses_what_it_cannot_place(edit: tuple[str, str], message: str) -> None:
    from tests.fixtures.hosts.build_windows_fixtures import from_itemproperty

    text = (REAL / "user-line-kyoiron-psscripts_itemproperty.txt").read_text("utf-8")
    machine = text.replace(
        "HKEY_USERS\\S-1-5-21-348651901-4118955271-3989848957-18762\\Software",
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node",
    )
    assert [(e["view"], e["scope"], e["sid"]) for e in from_itemproperty(machine)[0]["software"]] == [
        ("32", "machine", "")
    ]
    old, new = edit
    assert old in text
    with pytest.raises(ValueError, match=message):
        from_itemproperty(text.replace(old, new, 1))


def test_glpi_agent_inventory_and_a_user_hive_export_of_one_windows_11_machine() -> None:
    """glpi-agent #963, one comment (ssentici, 2025-06-26): the GLPI agent's inventory of a French
    Windows 11 Pro laptop and the regedit export of Discord, installed in the Azure AD user's profile
    (the program that inventory missed). A host with software, the UBR and a per-user (HKU) entry at once:
    the Caption is French ("Professionnel") and still names the Home/Pro cycle; the SID the author
    replaced by "xxx" stays unknown; Discord's InstallDate "20254410" (month 44, as its installer wrote
    it) is kept as published, not mended into a date."""
    name = "windows-win11-26100-pro-fr-glpiagent-issue963"
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["caption"], facts["build"], facts["ubr"]) == ("Microsoft Windows 11 Professionnel", "26100", 4351)
    assert inventory.os.kernel == "10.0.26100.4351"
    assert (facts["edition_id"], facts["display_version"], facts["product_type"]) == ("", "", None)  # cut by the index
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.rule) == ("windows", "11-24h2-w", "windows.build+edition")
    assert ident.cycle == _expected(name)["cycle"]
    (discord,) = inventory.software
    assert (discord.name, discord.version, discord.publisher, discord.install_date) == (
        "Discord",
        "1.0.9195",
        "Discord Inc.",
        "20254410",
    )
    assert (discord.scope, discord.registry_view, discord.sid) == ("user", "user", "")
    assert (
        discord.key == "HKU\\<SID not in the source>\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Discord"
    )
    # Windows 11 24H2 Home/Pro ended on 2026-10-13
    assert _findings(name) == {("os", "windows", "11-24h2-w"): "eol"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('"service_pack": "26100.4351"', '"service_pack": "22631.4351"'), "not the build 26100"),
        (('"kernel_version": "10.0.26100"', '"kernel_version": "10.0"'), "not major.minor.build"),
        (('"name": "Windows",', '"version": "24H2",'), "does not map"),  # DisplayVersion or ReleaseId
        (("[HKEY_USERS\\xxx\\Software", "[HKEY_LOCAL_MACHINE\\SOFTWARE"), "no known place"),
        (('"DisplayName"="Discord"', "DisplayName=Discord"), "no known place"),
    ],
)
def test_the_glpi_json_reader_refuses_what_it_cannot_place(edit: tuple[str, str], message: str) -> None:
    from tests.fixtures.hosts.build_windows_fixtures import from_glpi_json

    text = (REAL / "win11-26100-pro-fr-glpiagent-issue963_glpijson.txt").read_text("utf-8")
    sid = text.replace("[HKEY_USERS\\xxx\\", "[HKEY_USERS\\S-1-12-1-1-2-3-4\\")
    assert [e["sid"] for e in from_glpi_json(sid)[0]["software"]] == ["S-1-12-1-1-2-3-4"]  # a printed SID is kept
    old, new = edit
    assert old in text
    with pytest.raises(ValueError, match=message):
        from_glpi_json(text.replace(old, new, 1))


def test_fusioninventory_inventory_of_a_windows_embedded_81_industry_kiosk() -> None:
    """fusioninventory-for-glpi #1893 (mohierf, 2016): the agent's inventory of a 32-bit Windows Embedded
    8.1 Industry Pro kiosk VM -- the first real embedded host. The Caption names the embedded product (not
    Windows 8.1), identified by its own rule and found ended (Embedded 8.1 Industry: July 2023); its i586
    Uninstall entry is in the only view a 32-bit Windows has, not a WOW6432Node that does not exist there."""
    name = "windows-emb81-industry-pro-x86-kiosk-fusioninv-issue1893"
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["caption"], facts["version"], facts["build"], facts["ubr"]) == (
        "Microsoft Windows Embedded 8.1 Industry Pro",
        "6.3.9600",
        "9600",
        None,
    )
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle, ident.rule) == ("windows-embedded", "8.1-industry", "windows-embedded.caption")
    assert ident.cycle == _expected(name)["cycle"]
    (rsync,) = inventory.software
    assert (rsync.name, rsync.version, rsync.scope, rsync.registry_view) == (
        "cwRsync (remove only)",
        "",
        "machine",
        "32",
    )
    assert rsync.key == "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\cwRsync"
    assert _findings(name) == {("os", "windows-embedded", "8.1-industry"): "eol"}


def test_the_fusion_xml_reader_refuses_what_it_cannot_place() -> None:
    import xml.etree.ElementTree as ET

    from tests.fixtures.hosts.build_windows_fixtures import from_fusion_xml

    text = (REAL / "emb81-industry-pro-x86-kiosk-fusioninv-issue1893_fusionxml.txt").read_text("utf-8")
    printers = text + "    <PRINTERS>\n      <NAME>Printer Document</NAME>\n    </PRINTERS>\n"
    with pytest.raises(ValueError, match="sections this reader does not map"):
        from_fusion_xml(printers)
    with pytest.raises(ET.ParseError):  # an element the excerpt cuts
        from_fusion_xml(text.replace("    </SOFTWARES>\n", "", 1))
    # the same entry on a 64-bit Windows is in the WOW6432Node view
    sixty_four = from_fusion_xml(text.replace("<ARCH>32-bit</ARCH>", "<ARCH>64-bit</ARCH>", 1))[0]
    assert sixty_four["software"][0]["key"].startswith("HKLM\\SOFTWARE\\WOW6432Node\\")


def test_enterprise_multi_session_reports_a_server_product_type_and_stays_a_client_release() -> None:
    """Chocolatey-packages #56 (schnerring, 2021-05-29): Win32_OperatingSystem of a Windows 10 Enterprise
    multi-session (Azure Virtual Desktop) image -- ProductType 3, the server product type, as Microsoft
    documents for multi-session, and OperatingSystemSKU 175. The Caption and build name the client
    release (Windows 10 21H1, ended), not a Windows Server."""
    name = "windows-win10-21h1-enterprise-multisession-chocolatey-issue56"
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["caption"], facts["build"], facts["product_type"]) == (
        "Microsoft Windows 10 Enterprise for Virtual Desktops",
        "19043",
        3,
    )
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(inventory.os.identify_record())
    assert (ident.product, ident.cycle) == ("windows", "10-21h1") == ("windows", _expected(name)["cycle"])
    assert not inventory.software
    assert _findings(name) == {("os", "windows", "10-21h1"): "eol"}


def test_driver_packages_with_a_date_before_the_version_stay_as_written() -> None:
    """The 2008 R2 EC2 dump lists two Amazon NVMe driver packages whose DisplayVersion begins with
    the driver's date ("01/11/2018 1.0.0.146"), as Windows writes for driver packages: both kept as
    written, neither identified as a product."""
    inventory = _host("windows-srv2008r2-sp1-datacenter-ec2-fauxhai")
    drivers = [s for s in inventory.software if s.name.startswith("Windows Driver Package - Amazon Inc.")]
    assert sorted(s.version for s in drivers) == ["01/11/2018 1.0.0.146", "11/16/2017 1.0.0.105"]
    for driver in drivers:
        assert IdentifyContext(Catalog(BUNDLED_DIR)).identify(driver.identify_record()).product is None


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (("of kernel.cs_info", "of kernel.bios_info"), ValueError),  # an object the reader does not place
        (('"csd_version": null,', '"organization": "Microsoft",'), KeyError),  # a value the script does not read
    ],
)
def test_the_ohai_reader_refuses_what_it_cannot_place(edit: tuple[str, str], error: type[Exception]) -> None:
    from tests.fixtures.hosts.build_windows_fixtures import from_ohai

    text = (REAL / "win81-enterprise-n-fauxhai_ohai.txt").read_text("utf-8")
    assert from_ohai(text)[0]["os"]["wmi"]["OperatingSystemSKU"] == 27
    old, new = edit
    assert old in text
    with pytest.raises(error):
        from_ohai(text.replace(old, new, 1))


def test_a_hungarian_net_framework_language_pack_is_net_framework() -> None:
    """The Windows 7 dump lists .NET Framework 4.7.2 with 36 language packs; the Hungarian one is
    named "Microsoft .NET-keretrendszer 4.7.2 (magyar)".  It was taken for modern .NET ("release 4.7
    is not in the dataset": a finding of unknown status); it is .NET Framework 4.7.2."""
    name = "windows-win7-sp1-enterprise-n-fauxhai"
    (magyar,) = [s for s in _host(name).software if "keretrendszer" in s.name]
    ident = IdentifyContext(Catalog(BUNDLED_DIR)).identify(magyar.identify_record())
    assert (ident.product, ident.cycle) == ("dotnetfx", "4.7.2")
    result = match_inventory(_host(name), IdentifyContext(Catalog()), AS_OF, Policy())
    (framework,) = [f for f in result.findings if f.product == "dotnetfx"]
    assert framework.cycle == "4.7.2" and framework.count == 37  # the runtime and its 36 language packs
    # A component of Windows 7 SP1, serviced with it: its verdict and dates are the OS's (the dataset
    # gives Windows 7 no extended-support date; the 2008 R2 test below carries one over)
    os_finding = result.os_finding
    assert os_finding is not None
    assert (framework.status, framework.eol, framework.extended_until) == (
        os_finding.status,
        os_finding.eol,
        os_finding.extended_until,
    )
    assert (framework.status, framework.eol) == (Status.EOL, date(2020, 1, 14))
    assert "a component of Microsoft Windows 7-sp1, serviced with it" in framework.detail.reason


def test_net_framework_on_server_2008_r2_ends_with_the_os_and_its_extended_support() -> None:
    """The 2008 R2 EC2 dump has .NET Framework 4.7.2 and its updates: a component of Windows, supported
    with its parent OS (Microsoft's lifecycle policy since 4.5.2), so it ended with Server 2008 R2 SP1
    (2020-01-14; 2023-01-10 for a site that declares its Extended Security Updates), not "supported" as
    the dataset's own "no end announced" would say."""
    inventory = _host("windows-srv2008r2-sp1-datacenter-ec2-fauxhai")
    for policy, end in (
        (Policy(), date(2020, 1, 14)),
        (Policy(entitlements=frozenset({"windows-server:2008-r2-sp1"})), date(2023, 1, 10)),
    ):
        result = match_inventory(inventory, IdentifyContext(Catalog()), AS_OF, policy)
        (framework,) = [f for f in result.findings if f.product == "dotnetfx"]
        os_finding = result.os_finding
        assert os_finding is not None and (os_finding.status, os_finding.eol) == (Status.EOL, end)
        assert (framework.cycle, framework.status, framework.eol, framework.extended_until) == (
            "4.7.2",
            Status.EOL,
            end,
            os_finding.extended_until,
        )
        assert "a component of Microsoft Windows Server 2008-r2-sp1, serviced with it" in framework.detail.reason


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('"Version": "10.0.25252"', '"Version": "10.0"'), "is not Win32_OperatingSystem's major.minor.build"),
        (("<<< excerpt 2: lines", "<<< part 2: lines"), "is not '<<< excerpt N: ... >>>'"),
        (('"BootMode": "UEFI"', '"BootMode": "EFI"'), "EFI"),
    ],
)
def test_the_specify_reader_refuses_what_it_cannot_place(edit: tuple[str, str], message: str) -> None:
    """A version that is not major.minor.build, an unmarked excerpt and a boot mode Windows does not
    set (%firmware_type% is UEFI or Legacy) are refused, never guessed."""
    from tests.fixtures.hosts.build_windows_fixtures import from_specify

    text = (REAL / "win11-insider-25252-pro-specify-test13_specify.txt").read_text("utf-8")
    assert from_specify(text)[0]["firmware"] == {"PEFirmwareType": 2, "UEFISecureBootEnabled": 0}
    old, new = edit
    assert old in text
    with pytest.raises((ValueError, KeyError), match=message):
        from_specify(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("20348.2849  windows", "20348.2850  windows"), "is not major.minor.build.UBR"),
        (("  i686  ", "  arm64  "), "not a local.db row the reader knows"),
        (("\n\nMicros\n", "\n\nMicros\nMore\n"), "not a local.db row the reader knows"),
    ],
)
def test_the_wazuh_agent_reader_refuses_what_it_cannot_place(edit: tuple[str, str], message: str) -> None:
    """A system row whose os_version is not major.minor.build.UBR, a package row of another shape,
    and a part-row that is not at an excerpt's edge are refused, never guessed."""
    from tests.fixtures.hosts.build_windows_fixtures import from_wazuh_agent

    text = (REAL / "srv2022-std-eval-wazuhagent-pr208_wazuhagent.txt").read_text("utf-8")
    assert from_wazuh_agent(text)[0]["os"]["registry"]["UBR"] == 2849
    old, new = edit
    assert old in text
    with pytest.raises(ValueError, match=message):
        from_wazuh_agent(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "windows-win11-24h2-pro-namelessweb",
            "PEFirmwareType not present on build 26100 (not readable, or not collected); firmware type unknown",
        ),
        (
            "windows-xp-sp3-professional-x86",
            "PEFirmwareType does not exist before Windows 8 (build 2600); firmware type unknown",
        ),
        (  # an NTUSER.DAT hive alone: no build, so both reasons stay open
            "windows-ntuser-zoom-regipy-testhive",
            "PEFirmwareType not present (Windows before 8, or not readable); firmware type unknown",
        ),
    ],
)
def test_an_unknown_firmware_type_says_why_as_far_as_the_build_tells(name: str, message: str) -> None:
    """Real hosts without the firmware value: a Windows 11 build cannot be 'Windows before 8'."""
    (problem,) = [p for p in _host(name).problems if p.probe == "hardware.firmware"]
    assert (problem.kind, problem.message) == ("missing", message)


@pytest.mark.parametrize("hidden_first", [True, False])
def test_a_finding_is_shown_by_the_entry_programs_and_features_shows(hidden_first: bool) -> None:
    """The FRST host lists .NET 6.0.16 twice: an MSI part, hidden, under its internal version
    48.67.58427, and the runtime's visible entry 6.0.16.32323 (keys and values as published).  Were
    the MSI part read with SystemComponent=1, the value Programs and Features hides entries by, it
    represented the finding whenever it came first; the visible entry represents it now, whatever
    the order, and both are still counted."""
    hidden = _entry(
        UN64 + "{1D0AC7F1-2B34-44AF-91F6-88757D768DA7}",
        "Microsoft .NET Host - 6.0.16 (x64)",
        "48.67.58427",
        SystemComponent=1,
    )
    shown = _entry(
        UN32 + "{2a8d0f2b-911b-4b58-8252-46b29e7a4590}", "Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323"
    )
    registry = {"CurrentBuild": "26100", "UBR": 3194, "DisplayVersion": "24H2", "InstallationType": "Client"}
    registry |= {"EditionID": "Professional", "CurrentMajorVersionNumber": 10, "CurrentMinorVersionNumber": 0}
    doc = _doc(
        os={"registry": registry, "wmi": {}, "arch": "AMD64"},
        software=[hidden, shown] if hidden_first else [shown, hidden],
    )
    result = match_inventory(parse_document(doc), IdentifyContext(Catalog()), AS_OF, Policy())
    (dotnet,) = [f for f in result.findings if f.product == "dotnet"]
    assert (dotnet.cycle, dotnet.name, dotnet.version, dotnet.count) == (
        "6",
        "Microsoft .NET Runtime - 6.0.16 (x64)",
        "6.0.16.32323",
        2,
    )
    alone = match_inventory(parse_document(_doc(software=[hidden])), IdentifyContext(Catalog()), AS_OF, Policy())
    assert [(f.name, f.version) for f in alone.findings if f.product == "dotnet"] == [
        ("Microsoft .NET Host - 6.0.16 (x64)", "48.67.58427")  # a hidden entry alone still represents
    ]


def test_a_real_ntuser_hive_uninstall_key_is_per_user_with_its_key_name() -> None:
    """regipy's NTUSER.DAT test hive: a Zoom install under the profile (key ZoomUMX), values as read."""
    (zoom,) = _host("windows-ntuser-zoom-regipy-testhive").software
    assert (zoom.name, zoom.version, zoom.publisher) == ("Zoom", "5.9.3 (3169)", "Zoom Video Communications, Inc.")
    assert (zoom.scope, zoom.registry_view, zoom.sid) == ("user", "user", "")  # an NTUSER.DAT holds no SID
    assert zoom.key.endswith("\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\ZoomUMX")
    assert zoom.install_date == ""  # the key's LastWrite time is not its InstallDate


def test_regipy_software_hive_of_a_windows_7_ultimate_x86_with_edition_id_and_programs() -> None:
    """regipy's SOFTWARE test hive: the winver plugin's CurrentVersion values (EditionID Ultimate,
    InstallationType Client, BuildLabEx x86fre) and the three Uninstall keys its tests print of 67:
    two without a DisplayName (not programs) and VMware Tools, whose version the test does not show."""
    name = "windows-win7-sp1-ultimate-x86-regipy-testhive"
    published = json.loads((REAL / "win7-sp1-ultimate-x86-regipy-testhive_regipy.txt").read_text("utf-8"))
    (winver,) = published["winver"].values()
    inventory = _host(name)
    facts = inventory.os.facts
    assert (facts["edition_id"], facts["installation_type"], facts["product_name"]) == (
        winver["EditionID"],
        winver["InstallationType"],
        winver["ProductName"],
    )
    assert (facts["version"], facts["build"], facts["csd_version"]) == ("6.1.7601", "7601", "Service Pack 1")
    assert (facts["caption"], facts["ubr"], facts["product_type"]) == ("", None, 1)  # Client: a workstation
    assert inventory.os.install_date == winver["InstallDate"].replace(" ", "T") + "Z"  # printed as UTC
    assert inventory.os.arch == "x86"  # from BuildLabEx's x86fre: PROCESSOR_ARCHITECTURE is not in this hive
    assert _identify(inventory) == ("windows", "7-sp1")
    raw = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert [e["key"].rsplit("\\", 1)[1] for e in raw["software"]] == [e["service_name"] for e in published["entries"]]
    assert {e["view"] for e in raw["software"]} == {"32"}  # the only Uninstall view of a 32-bit Windows
    assert raw["software"][1]["SystemComponent"] == 1 and raw["software"][1]["DisplayName"] is None
    (vmware,) = inventory.software  # keys without a DisplayName are not programs
    assert (vmware.name, vmware.version, vmware.publisher) == ("VMware Tools", "", "")  # not printed: unknown
    assert vmware.key == UN64 + "{FE2F6A2C-196E-4210-9C04-2B1BC21F07EF}" and vmware.install_date == ""


def test_get_wingetpackage_scope_user_is_per_user() -> None:
    """winget-cli issue #5159: Get-WinGetPackage -Scope User returned VS Code (installed -Scope User)."""
    (code,) = _host("windows-getwingetpackage-scope-user-wingetcli-issue5159").software
    assert (code.name, code.version, code.scope, code.registry_view) == (
        "Microsoft Visual Studio Code",
        "1.96.4",
        "user",
        "user",
    )
    assert "winget id Microsoft.VisualStudioCode" in code.key


@pytest.mark.parametrize(
    ("name", "build", "ubr", "cycle", "software"),
    [
        ("windows-win10-19045-wingetcli-issue4573", "19045", 4529, "10-22h2", {("k6", "0.50.0")}),
        ("windows-win11-22621-wingetpkgs-issue103085", "22621", 1555, "11-22h2-e", {("WinSCP 5.21.7", "5.21.7")}),
        (
            "windows-win11-22000-wingetcli-issue2528",
            "22000",
            978,
            "11-21h2-e",
            {("Element", "1.11.5"), ("Element", "1.10.1")},
        ),
        ("windows-win11-22631-wingetcli-issue3898", "22631", 2428, "11-23h2-e", {("Git", "2.42.0.2")}),
        (
            "windows-win-insider-25967-wingetcli-issue3785",
            "25967",
            1010,
            None,
            {("Azure DevOps Migration Tools", "14.0.1")},
        ),
        # "< 1.5.0" is winget's range for a package it mismatched, not the program's version
        (
            "windows-win10-19045-wingetcli-issue5922",
            "19045",
            6691,
            "10-22h2",
            {("Microsoft Windows Desktop Runtime 10.0.1 (x64)", "")},
        ),
        # "Unknown": winget found no DisplayVersion (the Available column is the catalog's, not the machine's)
        (
            "windows-win11-22000-wingetpkgs-issue36722",
            "22000",
            348,
            "11-21h2-e",
            {("MEGAsync", ""), ("GOG GALAXY", "")},
        ),
        # the build and UBR from winget's own log line ("[CORE] OS: Windows.Desktop v...") of the listed command
        (
            "windows-win11-22621-wingetcli-issue3780",
            "22621",
            2361,
            "11-22h2-e",
            {("GitHub Desktop", "3.3.4"), ("Atom", "1.60.0")},
        ),
        *(
            (
                name,
                build,
                ubr,
                cycle,
                {(f"Microsoft Visual C++ 2008 Redistributable - {a}", "9.0.30729.4148") for a in ("x86", "x64")},
            )
            for name, build, ubr, cycle in (
                ("windows-win10-19044-wingetcli-issue1823", "19044", 1415, "10-21h2-e"),  # header without dashes
                ("windows-win11-22000-wingetpkgs-issue47041", "22000", 527, "11-21h2-e"),
            )
        ),
    ],
)
def test_winget_info_build_and_revision_with_the_same_machines_programs(
    name: str, build: str, ubr: int, cycle: str | None, software: set[tuple[str, str]]
) -> None:
    inventory = _host(name)
    assert (inventory.os.facts["build"], inventory.os.facts["ubr"]) == (build, ubr)
    assert inventory.os.kernel == f"10.0.{build}.{ubr}"
    assert _identify(inventory) == ("windows", cycle) == ("windows", _expected(name)["cycle"])
    assert {(s.name, s.version) for s in inventory.software} == software  # the Available column is not a version
    assert {s.scope for s in inventory.software} == {""}  # an unfiltered list shows no scope
    assert ("os", "windows", cycle) in _findings(name)


@pytest.mark.parametrize(
    ("name", "cycle"),
    [
        ("windows-win10-19044-wingetcli-issue1823", "10-21h2-e"),
        ("windows-win11-22000-wingetpkgs-issue47041", "11-21h2-e"),
    ],
)
def test_visual_cpp_2008_of_two_real_machines_is_found_end_of_life(name: str, cycle: str) -> None:
    """winget-cli #1823 (Windows 10 21H2 19044.1415) and winget-pkgs #47041 (Windows 11 21H2 22000.527): winget
    upgrade offered 9.0.30729.6161 for both Visual C++ 2008 redistributables; 2008 itself ended in 2018, so
    both machines report it, whatever the patch level, beside their ended Windows release."""
    assert _findings(name) == {
        ("os", "windows", cycle): "eol",
        ("software", "visual-cpp-redistributable", "2008"): "eol",
    }


def test_winget_table_whose_header_lost_its_dash_line() -> None:
    """winget-cli #1823 pasted the winget upgrade output outside a code block: the dash line under the header
    is gone (a blank line in its place). The header still gives the columns: the names stay whole and the
    Available column (9.0.30729.6161, winget's catalog) is not taken for the installed version."""
    sw = _host("windows-win10-19044-wingetcli-issue1823").software
    assert [(s.name, s.version) for s in sw] == [
        ("Microsoft Visual C++ 2008 Redistributable - x86", "9.0.30729.4148"),
        ("Microsoft Visual C++ 2008 Redistributable - x64", "9.0.30729.4148"),
    ]
    assert [s.key for s in sw] == [
        f"<winget id Microsoft.VC++2008Redist-{a}: registry hive and key not in the source>" for a in ("x86", "x64")
    ]
    mapping = json.loads(
        (FIXTURES / "hosts" / "windows-win10-19044-wingetcli-issue1823" / "provenance.json").read_text()
    )
    assert any("without the dash line" in note for note in mapping["mapping"])


def test_an_entry_without_view_or_scope_is_of_unknown_scope() -> None:
    """A source that shows no hive (a winget catalog match) gives no scope: it used to be called machine."""
    entry = _entry("<winget id Git.Git: registry hive and key not in the source>", "Git", "2.50.1")
    entry |= {"view": "", "scope": ""}
    (sw,) = parse_document(_doc(software=[entry])).software
    assert (sw.scope, sw.registry_view, sw.sid) == ("", "", "")
    entry["view"] = "user"
    assert parse_document(_doc(software=[entry])).software[0].scope == "user"
    entry["view"] = "32"
    assert parse_document(_doc(software=[entry])).software[0].scope == "machine"


def test_server_2008_r2_rtm_fusion_inventory_against_its_capture() -> None:
    """A second real 2008 R2 RTM machine (French, VirtualBox): the agent's dd/mm/yyyy InstallDate,
    its i586 entries as the 32-bit view, and the synthesised Internet Explorer rows (no key) left out."""
    capture = json.loads((FIXTURES / "hosts" / "sources" / "srv2008r2-standard-rtm-fr_rudder.json").read_text("utf-8"))
    keyed = {
        (s["DisplayName"], s["DisplayVersion"], s["registry_view"]) for s in capture["software"] if s["raw"].get("GUID")
    }
    inventory = _host("windows-srv2008r2-standard-rtm-fr")
    assert {(s.name, s.version, s.registry_view) for s in inventory.software} == keyed and len(keyed) == 4
    nova = next(s for s in inventory.software if s.name == "CFEngine Nova")
    assert nova.install_date == "2017-05-09"  # the agent's 09/05/2017 is day first
    assert not any("Internet Explorer" in s.name for s in inventory.software)
    assert inventory.os.facts["version"] == "6.1.7600" and inventory.os.facts["csd_version"] == ""
    assert _identify(inventory) == ("windows-server", "2008-r2-sp1")  # the catalog's only 2008 R2 cycle


# -- constructed documents -----------------------------------------------------------------------


def test_registry_and_cim_facts_exactly() -> None:
    os_doc = {
        "registry": {
            "ProductName": "Windows 10 Enterprise",
            "CurrentBuild": "22631",
            "CurrentBuildNumber": "22631",
            "UBR": 4460,
            "DisplayVersion": "23H2",
            "ReleaseId": "2009",
            "EditionID": "EnterpriseS",
            "InstallationType": "Client",
            "CurrentMajorVersionNumber": 10,
            "CurrentMinorVersionNumber": 0,
            "CurrentVersion": "6.3",
            "InstallDate": 1700000000,
        },
        "wmi": {
            "Caption": "Microsoft Windows 11 Enterprise LTSC",
            "Version": "10.0.22631",
            "BuildNumber": "22631",
            "ProductType": 1,
            "OSArchitecture": "64-bit",
        },
        "arch": "AMD64",
    }
    assert os_facts(os_doc) == {
        "caption": "Microsoft Windows 11 Enterprise LTSC",
        "product_name": "Windows 10 Enterprise",
        "version": "10.0.22631",
        "build": "22631",
        "ubr": 4460,
        "edition_id": "EnterpriseS",
        "display_version": "23H2",
        "installation_type": "Client",
        "product_type": 1,
        "csd_version": "",
    }
    inventory = parse_document(_doc(os=os_doc))
    assert inventory.os.kernel == "10.0.22631.4460" and inventory.os.arch == "x64"
    assert inventory.os.install_date == "2023-11-14T22:13:20Z"


def test_without_cim_the_registry_still_identifies() -> None:
    os_doc = {
        "registry": {
            "ProductName": "Windows Server 2019 Standard",
            "CurrentBuild": "17763",
            "UBR": 6532,
            "EditionID": "ServerStandard",
            "InstallationType": "Server Core",
            "ReleaseId": "1809",
            "CurrentMajorVersionNumber": 10,
            "CurrentMinorVersionNumber": 0,
        },
        "wmi": {},
    }
    doc = _doc(os=os_doc, problems=[{"probe": "os.wmi", "kind": "denied", "message": "Access denied"}])
    inventory = parse_document(doc)
    facts = inventory.os.facts
    assert facts["version"] == "10.0.17763" and facts["product_type"] == 3 and facts["display_version"] == "1809"
    assert facts["caption"] == "" and inventory.os.name == "Windows Server 2019 Standard"
    assert inventory.problems[0].kind == "denied"
    # pre-Windows 10: CurrentVersion + build
    assert os_facts({"registry": {"CurrentVersion": "6.1", "CurrentBuild": "7601"}})["version"] == "6.1.7601"


def test_user_hives_keep_scope_and_sid() -> None:
    sid_a, sid_b = "S-1-5-21-1004336348-1177238915-682003330-1001", "S-1-12-1-1234567890-1234567890-12345-67890"
    key = "\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\GitHubDesktop"
    software = [
        _entry(f"HKU\\{sid}{key}", "GitHub Desktop", "3.4.9", sid=sid, Publisher="GitHub, Inc.")
        for sid in (sid_a, sid_b)
    ]
    inventory = parse_document(_doc(software=software))
    assert [(s.scope, s.sid, s.registry_view) for s in inventory.software] == [
        ("user", sid_a, "user"),
        ("user", sid_b, "user"),
    ]  # two users, two installs: not duplicates


def test_office_msi_components_collapse_into_the_suite() -> None:
    suite = _entry(UN64 + "Office16.PROPLUS", "Microsoft Office Professional Plus 2016", "16.0.4266.1001")
    components = [
        _entry(
            UN64 + "{90160000-0011-0000-1000-0000000FF1CE}",
            "Microsoft Office Professional Plus 2016",
            "16.0.4266.1001",
            SystemComponent=1,
            WindowsInstaller=1,
        ),
        _entry(
            UN64 + "{90160000-0016-0409-1000-0000000FF1CE}",
            "Microsoft Office Excel MUI (English) 2016",
            "16.0.4266.1001",
            SystemComponent=1,
            WindowsInstaller=1,
        ),
        _entry(
            UN64 + "{90160000-001F-0409-1000-0000000FF1CE}",
            "Microsoft Office Proofing Tools 2016 - English",
            "16.0.4266.1001",
            SystemComponent=1,
            WindowsInstaller=1,
        ),
    ]
    older = _entry(
        UN32 + "{90140000-0011-0000-0000-0000000FF1CE}", "Microsoft Office Professional Plus 2010", "14.0.7015.1000"
    )
    inventory = parse_document(_doc(software=[suite, *components, older]))
    names = [s.name for s in inventory.software]
    assert names == ["Microsoft Office Professional Plus 2016", "Microsoft Office Professional Plus 2010"]
    kept = inventory.software[0]
    assert kept.key.endswith("Office16.PROPLUS") and kept.system_component is None
    assert kept.collapsed == [
        f"same-name-version: {UN64}{{90160000-0011-0000-1000-0000000FF1CE}}",
        f"office-components: {UN64}{{90160000-0016-0409-1000-0000000FF1CE}}",
        f"office-components: {UN64}{{90160000-001F-0409-1000-0000000FF1CE}}",
    ]


def test_click_to_run_language_variants_collapse() -> None:
    software = [
        _entry(UN64 + f"O365ProPlusRetail - {lang}", f"Microsoft 365 Apps for enterprise - {lang}", "16.0.17928.20156")
        for lang in ("en-us", "fr-fr", "sr-latn-rs")
    ]
    software.append(_entry(UN64 + "Notepad++", "Notepad++ (64-bit x64)", "8.6.9", Publisher="Notepad++ Team"))
    inventory = parse_document(_doc(software=software))
    assert [s.name for s in inventory.software] == [
        "Microsoft 365 Apps for enterprise - en-us",
        "Notepad++ (64-bit x64)",
    ]
    assert [c.split(":")[0] for c in inventory.software[0].collapsed] == ["office-language-variants"] * 2


def test_keys_without_display_name_are_not_programs() -> None:
    inventory = parse_document(_doc(software=[_entry(UN64 + "Connection Manager", "", SystemComponent=1)]))
    assert inventory.software == []


def test_registry_value_quirks() -> None:
    software = [
        _entry(UN64 + "A", "  Padded Name  ", "1.0", InstallDate="20230115", SystemComponent="1", WindowsInstaller=0),
        _entry(UN64 + "B", "Bad\ud800Surrogate", "2.0", InstallDate="15/01/2023", SystemComponent="yes"),
    ]
    inventory = parse_document(_doc(software=software))
    a, b = inventory.software
    assert (a.name, a.install_date, a.system_component, a.windows_installer) == (
        "Padded Name",
        "2023-01-15",
        True,
        False,
    )
    assert b.name == "Bad\ufffdSurrogate" and b.install_date == "15/01/2023" and b.system_component is None
    Inventory.from_json(inventory.to_json())


def test_msix_from_the_registry_fallback() -> None:
    packages = [
        {"full_name": "Microsoft.WindowsStore_22110.1401.12.0_x64__8wekyb3d8bbwe", "via": "registry"},
        {"full_name": "Microsoft.WindowsStore_22110.1401.12.0_x64__8wekyb3d8bbwe", "via": "registry"},
        {
            "name": "MSTeams",
            "version": "24215.1007.3082.1590",
            "arch": "X64",
            "publisher": "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US",
            "full_name": "MSTeams_24215.1007.3082.1590_x64__8wekyb3d8bbwe",
            "signature": "Store",
        },
    ]
    inventory = parse_document(_doc(packages=packages))
    store, teams = inventory.software
    assert (store.name, store.version, store.arch, store.source) == (
        "Microsoft.WindowsStore",
        "22110.1401.12.0",
        "x64",
        "msix",
    )
    assert store.collapsed == ["same-package: Microsoft.WindowsStore_22110.1401.12.0_x64__8wekyb3d8bbwe"]
    assert teams.publisher.startswith("CN=Microsoft") and teams.arch == "x64"


@pytest.mark.parametrize(
    "hw,expected",
    [
        (
            {"pe_firmware_type": 2, "secure_boot": 1, "tpm_present": True, "tpm_spec_version": "2.0, 0, 1.38"},
            ("uefi", True, True, "2.0"),
        ),
        ({"pe_firmware_type": 1, "tpm_present": False}, ("bios", False, False, "")),
        (
            {"pe_firmware_type": 2, "secure_boot": 0, "tpm_present": True, "tpm_spec_version": "1.2, 2, 3"},
            ("uefi", False, True, "1.2"),
        ),
        ({}, ("", None, None, "")),
    ],
)
def test_windows_11_readiness_facts(hw: dict[str, Any], expected: tuple[Any, ...]) -> None:
    out = parse_document(_doc(hardware=hw)).hardware
    assert (out.firmware_type, out.secure_boot, out.tpm_present, out.tpm_version) == expected


def test_domain_membership_but_no_workgroup_and_no_placeholder_uuid() -> None:
    joined = parse_document(
        _doc(
            host={
                "hostname": "WARD-PC-01",
                "part_of_domain": True,
                "domain": "trust.nhs.uk",
                "uuid": "4C4C4544-0044-3510-8057-B4C04F4A3332",
            }
        )
    ).host
    assert (joined.domain, joined.machine_id) == ("trust.nhs.uk", "4C4C4544-0044-3510-8057-B4C04F4A3332")
    named = parse_document(_doc(host={"hostname": "WARD-PC-0001-LON", "dns_hostname": "ward-pc-0001-london"})).host
    assert named.hostname == "ward-pc-0001-london"
    alone = parse_document(
        _doc(
            host={
                "hostname": "KIOSK",
                "part_of_domain": False,
                "domain": "WORKGROUP",
                "uuid": "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            }
        )
    ).host
    assert (alone.domain, alone.machine_id) == ("", "")


def test_collected_at_is_a_parameter() -> None:
    assert parse_document(_doc()).collected_at == "2026-11-30T08:00:00Z"
    assert parse_document(_doc(), collected_at="2026-12-01T00:00:00Z").collected_at == "2026-12-01T00:00:00Z"


def test_problem_kinds_are_kept_or_normalised() -> None:
    problems = [
        {"probe": "hardware.tpm", "kind": "denied", "message": "Access denied"},
        {"probe": "x", "kind": "weird", "message": "m"},
    ]
    assert [p.kind for p in parse_document(_doc(problems=problems)).problems] == ["denied", "error"]


def test_extract_document_skips_banners_and_names_garbage() -> None:
    text = "Welcome to PowerShell\r\n" + json.dumps(_doc(), separators=(",", ":"))
    assert extract_document(text)["host"]["hostname"] == "WARD-PC-01"
    with pytest.raises(WindowsDocumentError, match="no collection document.*oops"):
        extract_document("oops")
    with pytest.raises(WindowsDocumentError, match="not valid JSON"):
        extract_document('{"legacyscan":"windows-collect/1","os":{')
    with pytest.raises(WindowsDocumentError, match="unknown document kind"):
        parse_document({"legacyscan": "windows-collect/99"})


def test_collapse_keeps_order_and_is_idempotent() -> None:
    inventory = _host("windows-srv2012-standard-aws")
    again = collapse_duplicates(list(inventory.software))
    assert [s.key for s in again] == [s.key for s in inventory.software]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('"agent_id": "007"\n\t      },\n\t      {', '"agent_id": "008"\n\t      },\n\t      {'),
            "package of agent '008'",
        ),
        (('"build": "19045.5608"', '"build": "19045"'), "is not major.minor.build.UBR"),
    ],
)
def test_the_wazuh_api_reader_refuses_another_agents_packages_and_a_build_without_ubr(
    edit: tuple[str, str], message: str
) -> None:
    """Packages of another agent than the OS answer's are refused (they would be another machine's);
    an OS answer whose build is not build.UBR matching its version is refused, never guessed."""
    from tests.fixtures.hosts.build_windows_fixtures import from_wazuh_api

    text = (REAL / "win10-22h2-pro-wazuh-issue28720_wazuhapi.txt").read_text("utf-8")
    assert len(from_wazuh_api(text)[0]["software"]) == 2
    old, new = edit
    assert old in text
    with pytest.raises(ValueError, match=message):
        from_wazuh_api(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (
            "windows-win11-22h2-education-specify-test15",
            {
                "6": ("Microsoft ASP.NET Core 6.0.12 Targeting Pack (x64)", "6.0.12.22571"),
                "7": ("Microsoft ASP.NET Core 7.0.1 Shared Framework (x64)", "7.0.1.22568"),
            },
        ),
        (
            "windows-win11-22h2-home-specify-test14",
            {
                "5": ("Microsoft Windows Desktop Runtime - 5.0.9 (x64)", "5.0.9.30315"),
                "6": ("Microsoft Windows Desktop Runtime - 6.0.11 (x64)", "6.0.11.31823"),
            },
        ),
        (
            "windows-win11-24h2-pro-namelessweb",
            {
                "6": ("Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323"),
                "8": ("Microsoft Windows Desktop Runtime - 8.0.12 (x64)", "8.0.12.34404"),
            },
        ),
    ],
)
def test_a_source_without_the_hidden_flag_shows_the_runtime_not_an_installer_part(
    name: str, shown: dict[str, tuple[str, str]]
) -> None:
    """Specify and FRST do not say which Uninstall entries are SystemComponent=1, so a .NET finding was
    shown as the first of its parts ("Microsoft .NET Host - 6.0.16 (x64)" 48.67.58427: an MSI part's
    internal version).  An entry whose DisplayVersion is the version its name states represents it."""
    inventory = _host(name)
    assert all(s.system_component is None for s in inventory.software)
    result = match_inventory(inventory, IdentifyContext(Catalog()), AS_OF, Policy())
    dotnet = {f.cycle: (f.name, f.version) for f in result.findings if f.product == "dotnet"}
    assert dotnet == shown
