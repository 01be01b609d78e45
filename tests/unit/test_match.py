"""The matcher: OS always judged, components collapse into their product with the newest member
representing it, host context reaches identifiers, every finding explains itself."""

from __future__ import annotations

from datetime import date

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import HostResult, match_inventory
from scanner.model import Finding, Policy, Status

AS_OF = date(2026, 11, 30)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def server_2019(*software: Software) -> Inventory:
    return Inventory(
        host=Host(hostname="srv-1", machine_id="m1", site="A"),
        os=OsInfo(
            family="windows",
            name="Windows Server 2019 Standard",
            facts={
                "caption": "Microsoft Windows Server 2019 Standard",
                "version": "10.0.17763",
                "build": "17763",
                "product_type": 3,
            },
        ),
        software=list(software),
    )


def sw(name: str, version: str) -> Software:
    return Software(name=name, version=version, source="windows-registry", publisher="Microsoft Corporation")


def test_sql_components_collapse_and_newest_build_decides(ctx: IdentifyContext) -> None:
    inv = server_2019(
        sw("SQL Server 2014 Common Files", "12.0.2000.8"),  # shared component keeps RTM build
        sw("Microsoft SQL Server 2014 (64-bit)", "12.0.6024.0"),
        sw("SQL Server 2014 Database Engine Services", "12.3.6024.0"),
    )
    entitled = Policy(entitlements=frozenset({"mssqlserver:12.0-sp3"}))
    res = match_inventory(inv, ctx, AS_OF, entitled)
    sql = [f for f in res.findings if f.product == "mssqlserver"]
    assert len(sql) == 1, [(f.name, f.cycle) for f in sql]
    assert sql[0].cycle == "12.0-sp3" and sql[0].count == 3
    assert sql[0].status is Status.EXTENDED  # ESU declared; the RTM component must not make it "eol"


def test_ie_channel_comes_from_the_host(ctx: IdentifyContext) -> None:
    res = match_inventory(server_2019(sw("Internet Explorer 11", "11.0.17763.0")), ctx, AS_OF, Policy())
    ie = next(f for f in res.findings if f.product == "internet-explorer")
    assert ie.cycle == "11-server" and ie.status is Status.SUPPORTED


def test_os_finding_always_present_and_explained(ctx: IdentifyContext) -> None:
    res = match_inventory(server_2019(sw("7-Zip 23.01 (x64)", "23.01")), ctx, AS_OF, Policy())
    os_f = res.os_finding
    assert os_f is not None and (os_f.product, os_f.cycle) == ("windows-server", "2019")
    assert os_f.detail.rule and os_f.detail.dataset_version.startswith("endoflife.date@")
    assert os_f.detail.evidence, "the evidence the rule looked at is kept"
    assert res.unidentified == 1  # 7-Zip is not a tracked product: counted, not listed


def test_unidentified_os_is_an_unknown_finding(ctx: IdentifyContext) -> None:
    inv = Inventory(host=Host(hostname="x", machine_id="x"), os=OsInfo(family="linux", facts={"files": {}}))
    res = match_inventory(inv, ctx, AS_OF, Policy())
    assert res.os_finding is not None and res.os_finding.status is Status.UNKNOWN


def windows_host(caption: str, version: str, *software: Software) -> Inventory:
    return Inventory(
        host=Host(hostname="pc-1", machine_id="p1", site="A"),
        os=OsInfo(
            family="windows",
            name=caption.removeprefix("Microsoft "),
            facts={"caption": caption, "version": version, "build": version.rsplit(".", 1)[1], "product_type": 1},
        ),
        software=list(software),
    )


def _dotnetfx(res: HostResult) -> Finding:
    (framework,) = [f for f in res.findings if f.product == "dotnetfx"]
    return framework


def test_net_framework_is_a_component_of_an_end_of_life_windows(ctx: IdentifyContext) -> None:
    """.NET Framework 4.5.2 and later is a component of Windows, supported with its parent OS: 4.7.2
    on Windows 7 SP1 ended with it (the dataset's "no end announced" would say supported)."""
    inv = windows_host(
        "Microsoft Windows 7 Professional",
        "6.1.7601",
        sw("Microsoft .NET Framework 4.7.2", "4.7.03062"),
    )
    res = match_inventory(inv, ctx, AS_OF, Policy())
    framework, os_f = _dotnetfx(res), res.os_finding
    assert os_f is not None and (os_f.product, os_f.cycle, os_f.status) == ("windows", "7-sp1", Status.EOL)
    assert (framework.cycle, framework.status, framework.eol) == ("4.7.2", Status.EOL, date(2020, 1, 14))
    assert "a component of Microsoft Windows 7-sp1, serviced with it" in framework.detail.reason


def test_net_framework_on_a_supported_windows_11_stays_supported(ctx: IdentifyContext) -> None:
    """4.8.1 on Windows 11 24H2 Enterprise (supported to 2027-10-12): supported, to the OS's end; 4.6.2
    keeps its own earlier end (2027-01-12), which comes first."""
    inv = windows_host(
        "Microsoft Windows 11 Enterprise",
        "10.0.26100",
        sw("Microsoft .NET Framework 4.8.1", "4.8.09032"),
    )
    res = match_inventory(inv, ctx, AS_OF, Policy())
    framework = _dotnetfx(res)
    assert res.os_finding is not None and res.os_finding.cycle == "11-24h2-e"
    assert (framework.cycle, framework.status, framework.eol) == ("4.8.1", Status.SUPPORTED, date(2027, 10, 12))
    assert "a component of Microsoft Windows 11-24h2-e" in framework.detail.reason
    old = windows_host(
        "Microsoft Windows 11 Enterprise", "10.0.26100", sw("Microsoft .NET Framework 4.6.2", "4.6.01590")
    )
    framework = _dotnetfx(match_inventory(old, ctx, AS_OF, Policy()))
    assert (framework.cycle, framework.status, framework.eol) == ("4.6.2", Status.ENDING_SOON, date(2027, 1, 12))
    assert "component" not in framework.detail.reason


def test_net_framework_on_a_windows_in_extended_support_is_extended_to_its_end(ctx: IdentifyContext) -> None:
    """Server 2012 R2 with its Extended Security Updates declared, before they end (2026-10-13): .NET
    Framework 4.8 is serviced with the OS, so it is in extended support too, to the same date."""
    inv = windows_host(
        "Microsoft Windows Server 2012 R2 Standard", "6.3.9600", sw("Microsoft .NET Framework 4.8", "4.8.04084")
    )
    inv.os.facts["product_type"] = 3
    esu = Policy(entitlements=frozenset({"windows-server:2012-r2"}))
    framework = _dotnetfx(match_inventory(inv, ctx, date(2026, 6, 1), esu))
    assert (framework.status, framework.eol, framework.extended_until) == (
        Status.EXTENDED,
        date(2023, 10, 10),
        date(2026, 10, 13),
    )
    after = _dotnetfx(match_inventory(inv, ctx, AS_OF, esu))
    assert (after.status, after.eol) == (Status.EOL, date(2026, 10, 13))


def test_net_framework_3_5_sp1_follows_the_os_only_before_windows_10_1809_and_server_2019(
    ctx: IdentifyContext,
) -> None:
    """3.5 SP1 is a component of Windows 7 (ended with it) but a product of its own on Server 2019 and
    Windows 11: its own end, 2029-01-09, even on a Windows 11 23H2 (W) past its end (2025-11-11)."""
    fx35 = sw("Microsoft .NET Framework 3.5 SP1", "3.5.30729")
    on_7 = _dotnetfx(
        match_inventory(windows_host("Microsoft Windows 7 Professional", "6.1.7601", fx35), ctx, AS_OF, Policy())
    )
    assert (on_7.cycle, on_7.status, on_7.eol) == ("3.5-sp1", Status.EOL, date(2020, 1, 14))
    assert "a component of Microsoft Windows 7-sp1" in on_7.detail.reason
    on_2019 = _dotnetfx(match_inventory(server_2019(fx35), ctx, AS_OF, Policy()))
    assert (on_2019.cycle, on_2019.status, on_2019.eol) == ("3.5-sp1", Status.SUPPORTED, date(2029, 1, 9))
    assert "component" not in on_2019.detail.reason
    on_11 = windows_host("Microsoft Windows 11 Pro", "10.0.22631", fx35)  # 23H2 (W): ended 2025-11-11
    res = match_inventory(on_11, ctx, AS_OF, Policy())
    assert res.os_finding is not None and (res.os_finding.cycle, res.os_finding.status) == ("11-23h2-w", Status.EOL)
    alone = _dotnetfx(res)
    assert (alone.status, alone.eol) == (Status.SUPPORTED, date(2029, 1, 9))


def _part(name: str, version: str, hidden: bool | None, source: str = "windows-registry") -> Software:
    return Software(
        name=name,
        version=version,
        source=source,
        publisher="Microsoft Corporation",
        system_component=hidden,
    )


@pytest.mark.parametrize(
    ("hidden", "shown"),
    [
        # the flag unknown (Specify, winget, Wazuh, imports): the entry whose version its name states
        ((None, None, None), ("Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323")),
        # the collection script's flags: the part is hidden, the bundle shown (as before)
        ((True, True, False), ("Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323")),
        # both shown by the flags: the first stays (as before); the versions decide only without flags
        ((False, False, False), ("Microsoft .NET Host - 6.0.16 (x64)", "48.67.58427")),
    ],
)
def test_the_entry_a_net_finding_shows(
    ctx: IdentifyContext, hidden: tuple[bool | None, ...], shown: tuple[str, str]
) -> None:
    inv = server_2019(
        _part("Microsoft .NET Host - 6.0.16 (x64)", "48.67.58427", hidden[0]),
        _part("Microsoft .NET Runtime - 6.0.16 (x64)", "48.67.58427", hidden[1]),
        _part("Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323", hidden[2]),
    )
    (dotnet,) = [f for f in match_inventory(inv, ctx, AS_OF, Policy()).findings if f.product == "dotnet"]
    assert ((dotnet.name, dotnet.version), dotnet.cycle, dotnet.count) == (shown, "6", 3)


def test_only_uninstall_entries_are_chosen_by_the_version_their_name_states(ctx: IdentifyContext) -> None:
    """Another source's package names are not Programs and Features entries (a kernel package's name
    carries its ABI, not its version): the first member still represents the group."""
    inv = server_2019(
        _part("Microsoft .NET Host - 6.0.16 (x64)", "48.67.58427", None, "sbom"),
        _part("Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323", None, "sbom"),
    )
    (dotnet,) = [f for f in match_inventory(inv, ctx, AS_OF, Policy()).findings if f.product == "dotnet"]
    assert (dotnet.name, dotnet.version, dotnet.count) == ("Microsoft .NET Host - 6.0.16 (x64)", "48.67.58427", 2)


@pytest.mark.parametrize(
    ("name", "version", "contradicts"),
    [
        ("Microsoft .NET Host - 6.0.16 (x64)", "48.67.58427", True),  # an MSI part's internal version
        ("Microsoft .NET Runtime - 6.0.16 (x64)", "6.0.16.32323", False),  # the version and its build
        ("Microsoft Visual C++ 2008 Redistributable - x86 9.0.30729.17", "9.0.30729", False),  # shorter form
        ("Microsoft Visual C++ 2005 Redistributable (x64)", "8.0.61000", False),  # no version in the name
        ("Microsoft .NET SDK 7.0.101 (x64)", "7.1.122.57904", True),
        ("Mozilla Firefox 115.3.0 ESR (x64 en-US)", "115.3.0", False),
        ("Notepad++ 8.5.3", "", True),  # nothing shown for the version the name states
    ],
)
def test_a_name_that_states_another_version(name: str, version: str, contradicts: bool) -> None:
    from scanner.judge.match import _contradicts

    assert _contradicts(name, version) is contradicts
