"""Windows OS identification: one small input per trap (eol-data.md section 4, corpus README).

Uses the bundled snapshot without supplementary rows so each expectation is the endoflife.date
answer; the supplementary path is tested separately with an explicit overlay.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eol_data.catalog import BUNDLED_DIR, Catalog, Product, Release
from scanner.identify import windows_os
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Confidence, Policy

REF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog(BUNDLED_DIR, supplementary_dir=None))


def win(**fields: Any) -> dict[str, Any]:
    return {"kind": "os", "family": "windows", **fields}


CASES: list[tuple[str, dict[str, Any], tuple[str | None, str | None]]] = [
    # Windows 11 whose registry ProductName still says "Windows 10": the build decides.
    (
        "win11-productname-lies",
        win(product_name="Windows 10 Pro", build="22631", edition_id="Professional"),
        ("windows", "11-23h2-w"),
    ),
    (
        "win11-caption-beats-productname",
        win(product_name="Windows 10 Enterprise", caption="Microsoft Windows 11 Enterprise", display_version="22H2"),
        ("windows", "11-22h2-e"),
    ),
    # Frozen registry CurrentVersion "6.3" on Windows 10/11 is not Windows 8.1.
    (
        "currentversion-6.3-frozen",
        win(ProductName="Windows 10 Pro", CurrentVersion="6.3", CurrentBuild="22631", EditionID="Professional"),
        ("windows", "11-23h2-w"),
    ),
    # ReleaseId is frozen at 2009 from 20H2 on: the build wins.
    (
        "releaseid-2009",
        win(caption="Microsoft Windows 10 Home", version="10.0.19045", release_id="2009"),
        ("windows", "10-22h2"),
    ),
    # Shared builds: client / LTSC / server / embedded.
    (
        "14393-server",
        win(caption="Microsoft Windows Server 2016 Datacenter", version="10.0.14393"),
        ("windows-server", "2016"),
    ),
    (
        "14393-ltsb",
        win(caption="Microsoft Windows 10 Enterprise 2016 LTSB", version="10.0.14393"),
        ("windows", "10-1607-e-lts"),
    ),
    ("14393-pro", win(caption="Microsoft Windows 10 Pro", version="10.0.14393"), ("windows", "10-1607-w")),
    (
        "17763-server-2019",
        win(version="10.0.17763", product_type=3, caption="Microsoft Windows Server 2019 Standard"),
        ("windows-server", "2019"),
    ),
    # Yearless caption on 17763: LTSC 2019 Server Core or SAC 1809 (nine years apart): unknown.
    (
        "17763-yearless",
        win(caption="Microsoft Windows Server Datacenter", version="10.0.17763"),
        ("windows-server", None),
    ),
    (
        "17763-ltsc-editionid",
        win(edition_id="EnterpriseS", build="17763", installation_type="Client"),
        ("windows", "10-1809-e-lts"),
    ),
    (
        "17763-education",
        win(caption="Microsoft Windows 10 Education", version="10.0.17763 N/D Compilación 17763"),
        ("windows", "10-1809-e"),
    ),
    ("26100-server", win(version="10.0.26100", installation_type="Server"), ("windows-server", "2025")),
    (
        "26100-ltsc",
        win(caption="Microsoft Windows 11 Enterprise LTSC", version="10.0.26100"),
        ("windows", "11-24h2-e-lts"),
    ),
    (
        "26100-iot-ltsc",
        win(caption="Microsoft Windows 11 IoT Enterprise LTSC", version="10.0.26100"),
        ("windows", "11-24h2-iot-lts"),
    ),
    (
        "26100-pro",
        win(caption="Microsoft Windows 11 Pro", version="10.0.26100.2894", product_type=1),
        ("windows", "11-24h2-w"),
    ),
    ("19044-iot-ltsc-editionid", win(edition_id="IoTEnterpriseS", build="19044"), ("windows", "10-21h2-iot-lts")),
    ("17763-iot-ltsc-has-no-own-cycle", win(edition_id="IoTEnterpriseS", build="17763"), ("windows", "10-1809-e-lts")),
    (
        "7601-client",
        win(caption="Microsoft Windows 7 Enterprise ", version="6.1.7601 Service Pack 1 Build 7601"),
        ("windows", "7-sp1"),
    ),
    (
        "7601-server",
        win(caption="Microsoft Windows Server 2008 R2 Standard ", version="6.1.7601"),
        ("windows-server", "2008-r2-sp1"),
    ),
    (
        "7601-embedded",
        win(caption="Microsoft Windows Embedded Standard ", version="6.1.7601 Service Pack 1 Build 7601"),
        ("windows-embedded", "standard-7-sp1"),
    ),
    (
        "7601-posready",
        win(caption="Microsoft Windows Embedded POSReady 7", version="6.1.7601"),
        ("windows-embedded", "posready-7"),
    ),
    ("9600-client", win(caption="Microsoft Windows 8.1 Professionnel", version="6.3.9600"), ("windows", "8.1")),
    ("9600-server", win(version="6.3.9600", product_type=3), ("windows-server", "2012-r2")),
    (
        "9600-embedded-industry",
        win(caption="Microsoft Windows Embedded 8.1 Industry Pro", version="6.3.9600"),
        ("windows-embedded", "8.1-industry"),
    ),
    (
        "3790-server-sp2",
        win(
            caption="Microsoft(R) Windows(R) Server 2003, Standard Edition",
            version="5.2.3790 Service Pack 2 Build 3790",
        ),
        ("windows-server", "2003-sp2"),
    ),
    (
        "3790-server-sp1",
        win(
            caption="Microsoft(R) Windows(R) Server 2003, Standard Edition",
            version="5.2.3790 Service Pack 1 Build 3790",
        ),
        ("windows-server", "2003-sp1"),
    ),
    (
        "3790-server-rtm",
        win(caption="Microsoft Windows Server 2003 Enterprise Edition", version="5.2.3790", csd_version=""),
        ("windows-server", "2003-sp2"),
    ),
    (
        "3790-xp-x64",
        win(
            caption="Microsoft(R) Windows(R) XP Professional x64 Edition", version="5.2.3790 Service Pack 2 Build 3790"
        ),
        ("windows", "5-sp3"),
    ),
    # W / E families and the unsplit releases.
    ("22h2-unsplit", win(caption="Microsoft Windows 10 Enterprise", version="10.0.19045"), ("windows", "10-22h2")),
    ("21h1-unsplit", win(caption="Microsoft Windows 10 Pro", version="10.0.19043"), ("windows", "10-21h1")),
    ("21h2-w", win(caption="Microsoft Windows 10 Pro", version="10.0.19044"), ("windows", "10-21h2-w")),
    ("21h2-e", win(edition_id="Education", build="19044"), ("windows", "10-21h2-e")),
    (
        "pro-education-is-w",
        win(caption="Microsoft Windows 10 Pro Education", version="10.0.18363"),
        ("windows", "10-1909-w"),
    ),
    (
        "workstations-is-w",
        win(caption="Microsoft Windows 10 Pro for Workstations", version="10.0.19042"),
        ("windows", "10-20h2-w"),
    ),
    (
        "home-single-language",
        win(caption="Microsoft Windows 11 Home Single Language", version="10.0.22621"),
        ("windows", "11-22h2-w"),
    ),
    (
        "multi-session-is-client",
        win(
            caption="Microsoft Windows 10 Enterprise multi-session",
            edition_id="ServerRdsh",
            version="10.0.19044",
            product_type=3,
        ),
        ("windows", "10-21h2-e"),
    ),
    (
        "sku-number",
        win(caption="Microsoft Windows 11", version="10.0.22631", OperatingSystemSKU="48"),
        ("windows", "11-23h2-w"),
    ),
    # Localized captions (systeminfo / WMI in the machine's language).
    (
        "fr-entreprise",
        win(
            **{
                "Nom du système d'exploitation": "Microsoft Windows 10 Entreprise",
                "Version du système": "10.0.18363 N/A version 18363",
            }
        ),
        ("windows", "10-1909-e"),
    ),
    ("fr-famille", win(caption="Microsoft Windows 10 Famille", version="10.0.17134"), ("windows", "10-1803-w")),
    (
        "ru-corporate",
        win(caption="Майкрософт Windows 10 Корпоративная", version="10.0.18363"),
        ("windows", "10-1909-e"),
    ),
    (
        "ru-pro-education",
        win(caption="Microsoft Windows 10 Pro для образовательных учреждений", version="10.0.18363"),
        ("windows", "10-1909-w"),
    ),
    ("zh-pro", win(caption="Microsoft Windows 10 专业版", version="10.0.19042"), ("windows", "10-20h2-w")),
    ("zh-enterprise", win(caption="Microsoft Windows 10 企业版", version="10.0.19042"), ("windows", "10-20h2-e")),
    (
        "es-labels",
        win(
            **{
                "Nombre del sistema operativo": "Microsoft Windows 10 Education",
                "Versión del sistema operativo": "10.0.17763 N/D Compilación 17763",
                "Configuración del sistema operativo": "Estación de trabajo independiente",
            }
        ),
        ("windows", "10-1809-e"),
    ),
    # XP, Vista, 2000, 2003 and service-pack levels.
    (
        "xp-sp3",
        win(caption="Microsoft Windows XP Professional", version="5.1.2600 Service Pack 3 Build 2600"),
        ("windows", "5-sp3"),
    ),
    (
        "xp-sp2",
        win(caption="Microsoft Windows XP Professional", version="5.1.2600", csd_version="Service Pack 2"),
        ("windows", "5-sp3"),
    ),
    (
        "vista-mangled",
        win(caption="Microsoftr Windows VistaT Enterprise ", version="6.0.6001 Service Pack 1 Build 6001"),
        ("windows", "6-sp2"),
    ),
    (
        "server-2008-rtm",
        win(caption="Microsoftr Windows Serverr 2008 Standard ", version="6.0.6001 Service Pack 1 Build 6001"),
        ("windows-server", "2008-sp2"),
    ),
    ("server-2000", win(caption="Microsoft Windows 2000 Server", version="5.0.2195"), ("windows-server", "2000")),
    (
        "win2000-pro-not-in-dataset",
        win(caption="Microsoft Windows 2000 Professional", version="5.0.2195"),
        ("windows", None),
    ),
    (
        "server-2012-r2-caption-only",
        win(caption="Microsoft Windows Server 2012 R2 Datacenter"),
        ("windows-server", "2012-r2"),
    ),
    (
        "r2-2008-rtm",
        win(caption="Microsoft Windows Server 2008 R2 Standard ", version="6.1.7600"),
        ("windows-server", "2008-r2-sp1"),
    ),
    # Server Core installations have Windows Server's lifecycle (windows-server-core is the container image).
    (
        "server-core",
        win(version="10.0.20348", installation_type="Server Core", edition_id="ServerStandard"),
        ("windows-server", "2022"),
    ),
    ("server-core-sac", win(version="10.0.18363", installation_type="Server Core"), ("windows-server", "1909-sac")),
    # Agent strings: trust the build over the label.
    ("meterpreter-2016-label", win(OS="Windows 2016 (Build 17763)."), ("windows-server", "2019")),
    ("meterpreter-10240", win(OS="Windows 10 (10.0 Build 10240)."), ("windows", "10-1507")),
    ("free-text-ltsc", win(title="Windows 10 LTSC Enterprise 2019 10.0.17763.7919"), ("windows", "10-1809-e-lts")),
    (
        "hijackthis",
        win(Platform="x64 Windows 10 (Home), 10.0.19045.4717 (ReleaseId: 2009, 22H2), Service Pack: 0"),
        ("windows", "10-22h2"),
    ),
    (
        "runner-build-is-ubr",
        win(title="# Windows 11 Enterprise", **{"OS Version": "10.0.26200 Build 8875"}),
        ("windows", "11-25h2-e"),
    ),
    (
        "systeminfo-blob",
        win(
            raw="OS Name: Microsoft Windows 10 Enterprise\nOS Version: 10.0.19044 N/A Build 19044\n"
            "OS Configuration: Member Workstation\nWindows Directory: C:\\Windows"
        ),
        ("windows", "10-21h2-e"),
    ),
    (
        "fusion-nested",
        win(
            OPERATINGSYSTEM={
                "FULL_NAME": "Microsoft Windows Server 2022 Standard Evaluation",
                "KERNEL_VERSION": "10.0.20348",
                "VERSION": "2009",
            }
        ),
        ("windows-server", "2022"),
    ),
]


@pytest.mark.parametrize("name, record, expected", CASES, ids=[c[0] for c in CASES])
def test_windows_traps(
    ctx: IdentifyContext, name: str, record: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    ident = windows_os.identify(record, ctx)
    assert (ident.product, ident.cycle) == expected, ident
    assert ident.rule and ident.reason


def test_build_only_unsplit_is_confident(ctx: IdentifyContext) -> None:
    ident = windows_os.identify(win(build="19045"), ctx)
    assert (ident.product, ident.cycle, ident.confidence) == ("windows", "10-22h2", Confidence.HIGH)


@pytest.mark.parametrize("record", [win(version="10.0.14393"), win(version="10.0.17763"), win(build="26100")])
def test_shared_build_without_role_is_low_confidence_and_never_the_earlier_end(
    ctx: IdentifyContext, record: dict[str, Any]
) -> None:
    """Client or server unknown: the later-ending candidate, flagged low, naming the alternative."""
    ident = windows_os.identify(record, ctx)
    assert ident.confidence is Confidence.LOW
    assert ident.product == "windows-server"
    assert "Windows Server" in ident.reason and "Windows" in ident.reason


def test_edition_unknown_picks_later_ending_family(ctx: IdentifyContext) -> None:
    ident = windows_os.identify(win(build="22631"), ctx)
    assert (ident.cycle, ident.confidence) == ("11-23h2-e", Confidence.LOW)
    assert "11-23h2-w" in ident.reason
    # 11 23H2 (E) ended 2026-11-10 and (W) earlier: eol either way on the reference date.
    assert evaluate(win(build="22631"), ctx, REF, Policy())["status"] == "eol"


def test_shared_build_verdict_is_unknown_while_client_and_server_differ(ctx: IdentifyContext) -> None:
    """Build 26100 alone: Windows 11 24H2 (Home/Pro ended 2026-10-13, Enterprise 2027-10-12) or
    Server 2025 (2034).  The later-ending server is named, but calling the machine "supported"
    after 2026-10-13 is only true if it is a server: the verdict says unknown and why."""
    record = win(build="26100")
    before = evaluate(record, ctx, date(2025, 12, 1), Policy())  # every candidate supported then
    assert before["status"] == "supported"
    after = evaluate(record, ctx, date(2026, 12, 6), Policy())
    assert after["status"] == "unknown", after
    assert "windows 11-24h2-w: eol" in after["reason"] and "windows-server" == after["product"]
    late = evaluate(record, ctx, date(2030, 1, 1), Policy())  # clients all ended, the server not
    assert late["status"] == "unknown"


def test_edition_unknown_verdict_is_unknown_while_the_editions_differ(ctx: IdentifyContext) -> None:
    """Windows 11 24H2 without an edition: Home/Pro ended 2026-10-13, Enterprise/Education end
    2027-10-12.  Unknown in between, eol once both ended."""
    record = win(build="26100", installation_type="Client")
    assert evaluate(record, ctx, date(2026, 12, 6), Policy())["status"] == "unknown"
    assert evaluate(record, ctx, date(2027, 12, 1), Policy())["status"] == "eol"
    named = win(build="26100", installation_type="Client", caption="Microsoft Windows 11 Pro")
    assert evaluate(named, ctx, date(2026, 12, 6), Policy())["status"] == "eol"  # the edition decides


def test_caption_only_windows_10_is_unknown_not_guessed(ctx: IdentifyContext) -> None:
    ident = windows_os.identify(win(caption="Microsoft Windows 10 Pro"), ctx)
    assert ident.product == "windows" and ident.cycle is None and ident.confidence is Confidence.LOW


def test_ltsc_word_on_a_build_without_ltsc_is_unknown(ctx: IdentifyContext) -> None:
    ident = windows_os.identify(win(caption="Microsoft Windows 10 Enterprise LTSC", version="10.0.19045"), ctx)
    assert ident.cycle is None and "contradicts" in ident.reason


def test_unreleased_and_newer_builds(ctx: IdentifyContext) -> None:
    insider = windows_os.identify(win(caption="Microsoft Windows 11 Pro", version="10.0.27000"), ctx)
    assert insider.cycle is None and not insider.newer_than_known
    newer = windows_os.identify(win(caption="Microsoft Windows 11 Pro", version="10.0.29000"), ctx)
    assert newer.cycle is None and newer.newer_than_known
    assert (
        evaluate(win(caption="Microsoft Windows 11 Pro", version="10.0.29000"), ctx, REF, Policy())["status"]
        == "unknown"
    )


def test_an_insider_preview_build_is_not_named_by_its_display_version(ctx: IdentifyContext) -> None:
    """Windows writes the newest release's name into DisplayVersion on Insider builds: a real
    Specify report of 10.0.25252 says "22H2" (tests/fixtures/hosts/windows-win11-insider-25252-pro-
    specify-test13).  The build is the machine's own there, not a typo to drop beside the name."""
    record = win(
        caption="Microsoft Windows 11 Pro Insider Preview", version="10.0.25252", build="25252", display_version="22H2"
    )
    ident = windows_os.identify(record, ctx)
    assert (ident.product, ident.cycle, ident.rule) == ("windows", None, "windows.build-unknown")
    assert ident.confidence is Confidence.LOW and not any(k == "build-ignored" for k, _ in ident.evidence)
    assert evaluate(record, ctx, REF, Policy())["status"] == "unknown"
    # Without the Insider caption the unknown build beside a release name is still taken for a typo.
    typed = windows_os.identify(
        win(caption="Microsoft Windows 11 Pro", version="10.0.25252", display_version="22H2"), ctx
    )
    assert typed.cycle == "11-22h2-w" and ("build-ignored", "25252") in typed.evidence


def test_no_evidence(ctx: IdentifyContext) -> None:
    ident = windows_os.identify(win(), ctx)
    assert ident.product is None and ident.rule == "windows.no-evidence"
    ident = windows_os.identify(
        win(**{"Windows Directory": "C:\\Windows", "OS Manufacturer": "Microsoft Corporation"}), ctx
    )
    assert ident.product is None


def test_evidence_pairs_name_the_fields(ctx: IdentifyContext) -> None:
    ident = windows_os.identify(win(caption="Microsoft Windows 10 Pro", version="10.0.19044", product_type=1), ctx)
    fields = dict(ident.evidence)
    assert fields["caption"] == "Microsoft Windows 10 Pro"
    assert fields["version"] == "10.0.19044"
    assert "19044" in ident.reason and "pro" in ident.reason.lower()


def test_supplementary_cycles_are_used_when_present() -> None:
    """Releases endoflife.date lacks (Windows 2000 Professional, POSReady 2009) resolve when a
    supplementary row adds the cycle."""
    extra = [
        Product("windows", "Microsoft Windows", releases=[Release("windows", "2000", eol=date(2010, 7, 13))]),
        Product(
            "windows-embedded",
            "Windows Embedded",
            releases=[Release("windows-embedded", "posready-2009", eol=date(2019, 4, 9))],
        ),
    ]
    ctx = IdentifyContext(Catalog(BUNDLED_DIR, supplementary_dir=None, extra_products=extra))
    pro = windows_os.identify(win(caption="Microsoft Windows 2000 Professional", version="5.0.2195"), ctx)
    assert (pro.product, pro.cycle) == ("windows", "2000")
    pos = windows_os.identify(win(caption="Windows Embedded POSReady 2009", version="5.1.2600"), ctx)
    assert (pos.product, pos.cycle) == ("windows-embedded", "posready-2009")
    assert (
        evaluate(win(caption="Windows Embedded POSReady 2009", version="5.1.2600"), ctx, REF, Policy())["status"]
        == "eol"
    )


def test_rules_are_data(ctx: IdentifyContext) -> None:
    """Every NT 10 build row names cycles that exist in the bundled dataset (catches typos)."""
    table = ctx.rules.table("windows_os")
    for build, row in table["nt10"].items():
        if row.get("server"):
            assert ctx.catalog.release("windows-server", row["server"]) is not None, build
        if row.get("major"):
            prefix = f"{row['major']}-{row['version']}"
            names = {r.name for r in ctx.catalog.product("windows").releases}  # type: ignore[union-attr]
            assert any(n == prefix or n.startswith(prefix + "-") for n in names), build


def test_normalise_caption() -> None:
    assert (
        windows_os.normalise_caption("Microsoftr Windows Serverr 2008 Standard ")
        == "microsoft windows server 2008 standard"
    )
    assert windows_os.normalise_caption("Microsoft® Windows Vista™ Business") == "microsoft windows vista business"
    assert windows_os.normalise_caption("Microsoft(R) Windows(R) XP") == "microsoft windows xp"


def test_frozen_releaseid_without_build_is_unknown(ctx: IdentifyContext) -> None:
    """ReleaseId 2009 + ProductName "Windows 10" is also what Windows 11 shows: no guess."""
    ident = windows_os.identify(
        win(
            raw="ProductName               Windows 10 Pro\nReleaseID                 2009\n"
            "BuildLab                  19041.vb_release.191206-1406\n"
            "CompositionEditionID      Professional"
        ),
        ctx,
    )
    assert ident.product == "windows" and ident.cycle is None


def test_registry_dumps(ctx: IdentifyContext) -> None:
    reg_query = (
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\n"
        "    ProductName    REG_SZ    Windows 10 Pro\n    CurrentVersion    REG_SZ    6.3\n"
        "    CurrentBuild    REG_SZ    22631\n    UBR    REG_DWORD    0xd1e\n"
        "    EditionID    REG_SZ    Professional\n    InstallationType    REG_SZ    Client"
    )
    ident = windows_os.identify(win(raw=reg_query), ctx)
    assert (ident.cycle, ident.confidence) == ("11-23h2-w", Confidence.HIGH)
    reg_export = (
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n"
        '"ProductName"="Windows 10 Enterprise"\n"EditionID"="EnterpriseS"\n"CurrentBuild"="17763"\n'
        '"UBR"=dword:00001a85'
    )
    assert windows_os.identify(win(raw=reg_export), ctx).cycle == "10-1809-e-lts"


@pytest.mark.parametrize(
    "record, expected",
    [
        # WMI Win32_OperatingSystem.Name carries the boot partition after a "|".
        (
            win(
                Name="Microsoft Windows 10 Pro|C:\\WINDOWS|\\Device\\Harddisk0\\Partition2",
                Version="10.0.19044",
                ProductType="1",
            ),
            ("windows", "10-21h2-w"),
        ),
        # PowerShell Get-ComputerInfo: the HAL version (19041) is not the OS build.
        (
            win(
                OsName="Microsoft Windows 10 Pro",
                OsVersion="10.0.19045",
                OsProductType="WorkStation",
                WindowsVersion="2009",
                OsHardwareAbstractionLayer="10.0.19041.3636",
            ),
            ("windows", "10-22h2"),
        ),
        # Python platform.platform()
        (win(platform="Windows-2008ServerR2-6.1.7601-SP1"), ("windows-server", "2008-r2-sp1")),
        (win(platform="Windows-10-10.0.22631-SP0"), ("windows", "11-23h2-e")),
        # FRST header: build.UBR without "10.0."
        (
            win(text="Platform: Windows 11 Pro Version 23H2 22631.2715 (X64) Language: English (United States)"),
            ("windows", "11-23h2-w"),
        ),
        # A converter that read "Build 8875" (the UBR) as the build number.
        (win(caption="Windows 11 Enterprise", version="10.0.26200", build="8875"), ("windows", "11-25h2-e")),
        # German / Chinese systeminfo labels
        (
            win(
                Betriebssystemname="Microsoft Windows 10 Pro",
                Betriebssystemversion="10.0.19044 Nicht zutreffend Build 19044",
                Betriebssystemkonfiguration="Eigenständige Arbeitsstation",
            ),
            ("windows", "10-21h2-w"),
        ),
        (
            win(
                **{
                    "OS 名称": "Microsoft Windows 10 企业版",
                    "OS 版本": "10.0.19044 暂缺 Build 19044",
                    "OS 配置": "独立工作站",
                }
            ),
            ("windows", "10-21h2-e"),
        ),
    ],
)
def test_lenient_input_shapes(
    ctx: IdentifyContext, record: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    ident = windows_os.identify(record, ctx)
    assert (ident.product, ident.cycle) == expected, ident


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("Windows Embedded Compact 7", ("windows-embedded", "compact-7")),
        ("Windows Embedded Standard 7", ("windows-embedded", "standard-7-sp1")),
        ("Windows CE", (None, None)),
    ],
)
def test_embedded_captions_without_version(
    ctx: IdentifyContext, caption: str, expected: tuple[str | None, str | None]
) -> None:
    ident = windows_os.identify(win(caption=caption), ctx)
    assert (ident.product, ident.cycle) == expected, ident


def test_systeminfo_without_service_pack_means_rtm(ctx: IdentifyContext) -> None:
    """systeminfo omits "Service Pack N" when none is installed: Server 2003 RTM is cycle 2003."""
    rtm = windows_os.identify(
        win(
            **{"OS Name": "Microsoft(R) Windows(R) Server 2003, Standard Edition", "OS Version": "5.2.3790 Build 3790"}
        ),
        ctx,
    )
    assert (rtm.cycle, rtm.confidence) == ("2003", Confidence.HIGH)
    unknown = windows_os.identify(
        win(caption="Microsoft Windows Server 2003, Enterprise Edition", version="5.2.3790"), ctx
    )
    assert (unknown.cycle, unknown.confidence) == ("2003-sp2", Confidence.LOW)
