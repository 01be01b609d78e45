"""Application identification (scanner/identify/windows_apps.py + eol_data/rules/windows_apps.toml).

The strings are real Add/Remove Programs, Amcache, MSIX and macOS values of the kinds a hospital
estate carries (named in issue 3); each case asserts the exact product and cycle, or that the
record is deliberately NOT a product.  Verdicts are judged on 2026-11-22, the corpus date.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from eol_data.rules import RULES_DIR, Rules
from scanner.identify import windows_apps
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def sw(name: str, version: str | None = None, publisher: str | None = None, **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"kind": "software", "source": "windows-registry", "name": name}
    if version is not None:
        rec["version"] = version
    if publisher is not None:
        rec["publisher"] = publisher
    rec.update(extra)
    return rec


IDENTIFIED = [
    # Oracle Java in every naming, including the 8.0.NNN0.x registry versions
    (sw("Java 8 Update 451 (64-bit)", "8.0.4510.9", "Oracle Corporation"), "oracle-jdk", "8"),
    (sw("Java(TM) 6 Update 31", "6.0.310", "Oracle"), "oracle-jdk", "6"),
    (sw("Java(TM) 7 Update 80 (64-bit)", "7.0.800", "Oracle"), "oracle-jdk", "7"),
    (sw("Java SE Development Kit 8 Update 144", "8.0.1440.1", "Oracle Corporation"), "oracle-jdk", "8"),
    (sw("Java(TM) SE Development Kit 25 (64-bit)", "25.0.2.0", "Oracle Corporation"), "oracle-jdk", "25"),
    (sw("Java SE Development Kit 17.0.2 (64-bit)", "17.0.2.0", "Oracle Corporation"), "oracle-jdk", "17"),
    (sw("Java 8 Update 311"), "oracle-jdk", "8"),
    (sw("J2SE Runtime Environment 5.0 Update 22", "1.5.0.220", "Sun Microsystems, Inc."), "oracle-jdk", "5"),
    (sw("Java 2 Runtime Environment, SE v1.4.2_03", "1.4.2_03", "Sun Microsystems, Inc."), "oracle-jdk", "1.4"),
    # OpenJDK distributions
    (
        sw("Eclipse Temurin JDK with Hotspot 11.0.20.1+1 (x64)", "11.0.20.101", "Eclipse Adoptium"),
        "eclipse-temurin",
        "11",
    ),
    (sw("Eclipse Temurin JRE with Hotspot 8u392-b08 (x64)", "8.0.392.8", "Eclipse Adoptium"), "eclipse-temurin", "8"),
    (sw("Amazon Corretto 8 (x64)", "8.392.08.1", "Amazon"), "amazon-corretto", "8"),
    (sw("Amazon Corretto 17.0.9.8.1 (x64)", "17.0.9.8", "Amazon"), "amazon-corretto", "17"),
    (sw("Zulu 8.21.0.1 (64-bit)", "8.21.0.1", "Azul Systems, Inc."), "azul-zulu", "8"),
    (sw("Azul Zulu JDK 17.46.19 (17.0.9), 64-bit", "17.46.19", "Azul Systems, Inc."), "azul-zulu", "17"),
    # the feature release spelled in the name alone (winget entries without a DisplayVersion)
    (sw("Zulu 11.2 (64-bit)", None, None), "azul-zulu", "11"),
    (sw("Liberica JDK 11 Full (64-bit)", None, None), "bellsoft-liberica", "11"),
    (sw("Liberica JDK 17 Full (AArch64)", None, None), "bellsoft-liberica", "17"),
    # the Shining Light OpenSSL installer: the release is in the name, DisplayVersion may be the
    # installer's own 1.0.0 (winget ShiningLight.OpenSSL.Light 1.1.1w)
    (sw("OpenSSL Light 1.1.1w (64-bit)", "1.0.0", "Shining Light Productions"), "openssl", "1.1.1"),
    (sw("OpenSSL 3.4.0 for ARM (64-bit)", None, "Shining Light Productions"), "openssl", "3.4"),
    (
        sw("Microsoft Build of OpenJDK with Hotspot 21.0.5+11 (x64)", "21.0.5.11", "Microsoft"),
        "microsoft-build-of-openjdk",
        "21",
    ),
    # Office, Visio, Project: the year decides, 16.0 is shared
    (sw("Microsoft Office Professional Plus 2016", "16.0.4266.1001", "Microsoft Corporation"), "office", "2016"),
    (
        sw("Microsoft Office Professional Plus 2019 - en-us", "16.0.10417.20012", "Microsoft Corporation"),
        "office",
        "2019",
    ),
    (
        sw("Microsoft Office LTSC Professional Plus 2021 - en-us", "16.0.14332.20400", "Microsoft Corporation"),
        "office",
        "2021",
    ),
    (
        sw("Microsoft Office LTSC Standard 2024 - en-us", "16.0.17932.20130", "Microsoft Corporation"),
        "office",
        "2024-ltsc",
    ),
    (
        sw("Microsoft Office Home and Business 2024 - en-us", "16.0.17932.20130", "Microsoft Corporation"),
        "office",
        "2024",
    ),
    (sw("Microsoft Office Standard 2013", "15.0.4569.1506", "Microsoft Corporation"), "office", "2013"),
    (sw("Microsoft Office Enterprise 2007", "12.0.6612.1000", "Microsoft Corporation"), "office", "2007"),
    (
        sw("Microsoft Office Famille et Petite Entreprise 2010", "14.0.7015.1000", "Microsoft Corporation"),
        "office",
        "2010",
    ),
    (sw("Microsoft Visio Professional 2016", "16.0.4266.1001", "Microsoft Corporation"), "office", "2016"),
    (sw("Microsoft Project Professional 2019 - en-us", "16.0.10417.20012", "Microsoft Corporation"), "office", "2019"),
    # SQL Server: build -> service-pack cycle
    (sw("SQL Server 2014 Database Engine Services", "12.3.6024.0", "Microsoft Corporation"), "mssqlserver", "12.0-sp3"),
    (sw("SQL Server 2016 Database Engine Services", "13.3.6300.2", "Microsoft Corporation"), "mssqlserver", "13.0-sp3"),
    (sw("SQL Server 2016 Database Engine Services", "13.2.5026.0", "Microsoft Corporation"), "mssqlserver", "13.0-sp2"),
    (
        sw("Microsoft SQL Server 2008 R2 Setup (English)", "10.53.6000.34", "Microsoft Corporation"),
        "mssqlserver",
        "10.50-sp3",
    ),
    (sw("SQL Server 2019 Database Engine Services", "15.0.2000.5", "Microsoft Corporation"), "mssqlserver", "15.0"),
    (
        sw("Service Pack 3 für SQL Server 2014 (KB4022619) (64-bit)", "12.3.6024.0", "Microsoft Corporation"),
        "mssqlserver",
        "12.0-sp3",
    ),
    # .NET Framework and .NET
    (sw("Microsoft .NET Framework 4.8", "4.8.09032", "Microsoft Corporation"), "dotnetfx", "4.8"),
    (sw("Microsoft .NET Framework 4.5.2", "4.5.51209", "Microsoft Corporation"), "dotnetfx", "4.5.2"),
    (sw("Microsoft .NET Framework 4 Client Profile", "4.0.30319", "Microsoft Corporation"), "dotnetfx", "4.0"),
    (sw("Microsoft .NET Framework 3.5 SP1", "3.5.30729", "Microsoft Corporation"), "dotnetfx", "3.5-sp1"),
    # the Hungarian language pack of a real Windows 7 (tests/fixtures/hosts/windows-win7-sp1-enterprise-n-fauxhai):
    # the framework named in Hungarian, not a modern .NET "4.7"
    (sw("Microsoft .NET-keretrendszer 4.7.2 (magyar)", "4.7.03062", "Microsoft Corporation"), "dotnetfx", "4.7.2"),
    (sw("Microsoft .NET Runtime - 8.0.11 (x64)", "64.44.23191", "Microsoft Corporation"), "dotnet", "8"),
    (sw("Microsoft Windows Desktop Runtime - 6.0.36 (x64)", "6.0.36.34217", "Microsoft Corporation"), "dotnet", "6"),
    (
        sw("Microsoft ASP.NET Core 8.0.11 - Shared Framework (x64)", "8.0.11.24521", "Microsoft Corporation"),
        "dotnet",
        "8",
    ),
    (sw("Microsoft .NET Core Runtime - 3.1.32 (x64)", "24.128.31219", "Microsoft Corporation"), "dotnet", "3.1"),
    (sw("Microsoft .NET SDK 9.0.101 (x64)", "9.1.124.60805", "Microsoft Corporation"), "dotnet", "9"),
    # PowerShell 7, browsers
    (sw("PowerShell 7-x64", "7.4.6.0", "Microsoft Corporation"), "powershell", "7.4"),
    (sw("Mozilla Firefox (x64 en-US)", "103.0", "Mozilla"), "firefox", "103"),
    (sw("Mozilla Firefox 115.3.1 ESR (x64 en-GB)", "115.3.1", "Mozilla"), "firefox", "115"),
    (sw("Google Chrome", "120.0.6099.130", "Google LLC"), "chrome", "120"),
    (sw("Internet Explorer", "8.0.7600.16385", "Microsoft Corporation"), "internet-explorer", "8"),
    (sw("Internet Explorer (64bit)", "9.10.9200.16863", "Microsoft Corporation"), "internet-explorer", "10"),
    (sw("Internet Explorer", "11.1.20348.0", "Microsoft Corporation"), "internet-explorer", "11-server"),
    (sw("Internet Explorer", "11.1.22621.0", "Microsoft Corporation"), "internet-explorer", "11"),
    (
        sw(
            "Internet Explorer",
            "11.1.17763.0",
            "Microsoft Corporation",
            host_os_product="windows",
            host_os_cycle="10-1809-e-lts",
        ),
        "internet-explorer",
        "11-ltsc",
    ),
    # Runtimes and databases
    (sw("Python 3.10.4 (64-bit)", "3.10.4150.0", "Python Software Foundation"), "python", "3.10"),
    (sw("Python 3.12.1 Core Interpreter (64-bit)", "3.12.1150.0", "Python Software Foundation"), "python", "3.12"),
    (sw("Node.js", "20.11.0", "Node.js Foundation"), "nodejs", "20"),
    (sw("PostgreSQL 13 ", "13.4-1", "PostgreSQL Global Development Group"), "postgresql", "13"),
    (sw("MySQL Server 5.7", "5.7.44", "Oracle Corporation"), "mysql", "5.7"),
    (sw("MariaDB 10.6 (x64)", "10.6.16.0", "MariaDB Corporation Ab"), "mariadb", "10.6"),
    # Desktop apps
    (sw("Notepad++ (64-bit x64)", "8.6.2", "Notepad++ Team"), "notepad-plus-plus", "8.6"),
    (sw("Oracle VM VirtualBox 6.1.50", "6.1.50", "Oracle Corporation"), "virtualbox", "6.1"),
    (
        sw("Oracle VM VirtualBox Guest Additions 7.0.20", "7.0.20.163906", "Oracle and/or its affiliates"),
        "virtualbox",
        "7.0",
    ),
    (sw("NVIDIA Graphics Driver 537.13", "537.13", "NVIDIA Corporation"), "nvidia", "r535-windows"),
    (sw("Microsoft VSS Writer for SQL Server 2019", "15.0.2000.5", "Microsoft Corporation"), "mssqlserver", "15.0"),
    (
        sw("Microsoft Exchange Server 2016 Cumulative Update 23", "15.1.2507.6", "Microsoft Corporation"),
        "msexchange",
        "2016",
    ),
    (sw("Citrix Virtual Delivery Agent 2203", "2203.0.4000.4111", "Citrix Systems, Inc."), "citrix-vad", "2203"),
    (sw("Apache Tomcat 9.0 Tomcat9 (remove only)", "9.0.83", "The Apache Software Foundation"), "tomcat", "9.0"),
    (sw("Java(TM) Platform SE binary", "8.0.3110.11", "Oracle Corporation"), "oracle-jdk", "8"),
    # Supplementary catalogue (not in endoflife.date)
    (sw("Adobe Flash Player 32 ActiveX", "32.0.0.465", "Adobe"), "adobe-flash-player", "32"),
    (sw("Microsoft Silverlight", "5.1.50918.0", "Microsoft Corporation"), "microsoft-silverlight", "5"),
    (sw("Adobe Reader XI (11.0.23)", "11.0.23", "Adobe Systems Incorporated"), "adobe-acrobat", "11"),
    (sw("Adobe Acrobat Reader 2017 MUI", "17.011.30207", "Adobe Systems Incorporated"), "adobe-acrobat", "2017"),
    (sw("Adobe Acrobat 2020", "20.005.30636", "Adobe"), "adobe-acrobat", "2020"),
    (
        sw("Microsoft Visual C++ 2010  x64 Redistributable - 10.0.40219", "10.0.40219", "Microsoft Corporation"),
        "visual-cpp-redistributable",
        "2010",
    ),
    (
        sw(
            "Microsoft Visual C++ 2013 x64 Minimum Runtime - 12.0.40664",
            "12.0.40664",
            "Microsoft Corporation",
            system_component=True,
        ),
        "visual-cpp-redistributable",
        "2013",
    ),
    (sw("QuickTime 7", "7.79.80.95", "Apple Inc."), "apple-quicktime-windows", "7"),
    (sw("Teams Machine-Wide Installer", "1.5.0.30767", "Microsoft Corporation"), "microsoft-teams-classic", "1"),
    (sw("Microsoft Teams", "1.6.00.4472", "Microsoft Corporation"), "microsoft-teams-classic", "1"),
    (sw("Skype for Business 2016 - en-us", "16.0.4266.1001", "Microsoft Corporation"), "skype-for-business", "2016"),
    (
        {"kind": "software", "source": "msix", "name": "Microsoft.MicrosoftEdge", "version": "44.19041.1266.0"},
        "microsoft-edge-legacy",
        "44",
    ),
    # macOS application bundles (agent duplicate suffix stripped)
    ({"kind": "software", "source": "macos-app", "name": "Build Applet", "version": "2.6.0"}, "python", "2.6"),
    (
        {"kind": "software", "source": "macos-app", "name": "Microsoft Word", "version": "14.7.7"},
        "office",
        "2011-for-mac",
    ),
]


@pytest.mark.parametrize(("record", "product", "cycle"), IDENTIFIED, ids=[r[0]["name"] for r in IDENTIFIED])
def test_identifies_product_and_cycle(ctx: IdentifyContext, record: dict[str, Any], product: str, cycle: str) -> None:
    ident = ctx.identify(record)
    assert (ident.product, ident.cycle) == (product, cycle), ident.reason
    assert ident.rule.startswith("windows_apps.")
    assert ("name", windows_apps.clean_record(record).name) in ident.evidence


NOT_PRODUCTS = [
    (sw("Java Auto Updater", "2.8.451.9", "Oracle Corporation"), "java.auto-updater"),
    (
        sw("Microsoft 365 Apps for enterprise - en-us", "16.0.17928.20156", "Microsoft Corporation"),
        "office.click-to-run",
    ),
    (
        sw("Microsoft SQL Server 2012 Native Client", "11.4.7001.0", "Microsoft Corporation"),
        "sqlserver.redistributables",
    ),
    (sw("Microsoft ODBC Driver 17 for SQL Server", "17.10.5.1", "Microsoft Corporation"), "sqlserver.redistributables"),
    (
        sw("Microsoft SQL Server Compact 4.0 SP1 x64 ENU", "4.0.8876.1", "Microsoft Corporation"),
        "sqlserver.redistributables",
    ),
    (
        sw("Microsoft SQL Server Management Studio - 19.3", "19.3.4.0", "Microsoft Corporation"),
        "sqlserver.redistributables",
    ),
    (sw("VMware Tools", "10.1.6.5214329", "VMware, Inc."), "vmware.guest-and-desktop"),
    (sw("VMware Workstation", "17.5.0", "VMware, Inc."), "vmware.guest-and-desktop"),
    (sw("Citrix Workspace 2203", "22.3.500.50", "Citrix Systems, Inc."), "citrix.client"),
    (sw("Citrix Receiver 4.12", "14.12.0.18020", "Citrix Systems, Inc."), "citrix.client"),
    (sw("IronPython 2.7.3"), "python.ironpython"),
    # bdist_wininst packages register "Python X.Y name-version" (pywin32 did until build 300)
    (sw("Python 3.4 pyreadline-2.1"), "python.package-installer"),
    (sw("Python 2.7 pywin32-227", None, None), "python.package-installer"),
    (sw("Microsoft Edge", "131.0.2903.86", "Microsoft Corporation"), "edge.chromium"),
    (sw("Microsoft Edge WebView2 Runtime", "131.0.2903.86", "Microsoft Corporation"), "edge.chromium"),
    (
        sw(
            "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.40.33810",
            "14.40.33810.0",
            "Microsoft Corporation",
        ),
        "vcredist",
    ),
    (sw("Adobe Acrobat Reader DC", "19.010.20069", "Adobe Systems Incorporated"), "acrobat"),
    (sw("Microsoft Visual Studio Code", "1.36.1", "Microsoft Corporation"), "vscode"),
    (sw("MySQL Workbench 8.0 CE", "8.0.15", "Oracle Corporation"), "mysql.tools"),
    (sw("Docker Desktop", "4.26.1", "Docker Inc."), "docker.desktop"),
    (sw("Microsoft Teams", "24295.605.3225.8804", "Microsoft"), "teams.new"),
    (sw("Microsoft .NET Framework 4.8 Targeting Pack", "4.8.03761", "Microsoft Corporation"), "dotnetfx.dev-packs"),
    # installed by .NET Core 3.x+ SDKs; .NET Standard 2.1 is an API contract, not .NET Core 2.1
    (
        sw("Microsoft .NET Standard Targeting Pack - 2.1.0 (x64)", "24.0.28113", "Microsoft Corporation"),
        "dotnet.standard-pack",
    ),
    (sw("Microsoft ASP.NET Core Module V2", "18.0.24201.0", "Microsoft Corporation"), "dotnet.aspnet-classic"),
    (sw("Redgate SQL Server Compare 14", "14.0.1"), "no-rule"),
    (sw("OpenVPN Connect", "3.4.4.3412", "OpenVPN Inc."), "no-rule"),
    (sw("Microsoft Teams Meeting Add-in for Microsoft Office", "1.23.33413", "Microsoft"), "no-rule"),
    # Patch entries: KB names, ParentKeyName, ReleaseType
    (
        sw(
            "Security Update for Windows Internet Explorer 8 (KB2183461)",
            "1",
            "Microsoft Corporation",
            parent_key_name="ie8Hotfix",
            release_type="Security Update",
        ),
        "patch-entry",
    ),
    (sw("Update for Microsoft Office 2010 (KB2553140) 64-Bit Edition", None, "Microsoft"), "patch-entry"),
    (sw("Hotfix for Windows XP (KB2158563)", "1", "Microsoft Corporation"), "patch-entry"),
    (sw("Windows Media Player 10", parent_key_name="OperatingSystem"), "patch-entry"),
    (
        sw(
            "Microsoft Office 2007 Service Pack 3 (SP3)",
            "12.0.6607.1000",
            "Microsoft Corporation",
            release_type="Service Pack",
        ),
        "patch-entry",
    ),
    (
        sw(
            "XML Paper Specification Shared Components Pack 1.0",
            None,
            "Microsoft Corporation",
            system_component="dword:00000001",
        ),
        "system-component",
    ),
    # Nothing known: honest no-rule, never a neighbour
    (sw("7-Zip 19.00 (x64 edition)", "19.00.00.0", "Igor Pavlov"), "no-rule"),
    (sw("Mozilla Thunderbird (2.0.0.23)", "2.0.0.23 (en-US)", "Mozilla"), "no-rule"),
]


@pytest.mark.parametrize(("record", "rule"), NOT_PRODUCTS, ids=[r[0]["name"] for r in NOT_PRODUCTS])
def test_not_a_product(ctx: IdentifyContext, record: dict[str, Any], rule: str) -> None:
    ident = ctx.identify(record)
    assert ident.product is None, (ident.product, ident.cycle, ident.reason)
    assert ident.rule == f"windows_apps.{rule}"
    assert ident.reason


def test_office_16_without_a_year_is_not_guessed(ctx: IdentifyContext) -> None:
    ident = ctx.identify(sw("Microsoft Office Professional Plus", "16.0.4266.1001", "Microsoft Corporation"))
    assert ident.product is None or ident.cycle is None


def test_ie11_on_shared_build_without_host_is_unknown(ctx: IdentifyContext) -> None:
    # 14393 is Windows 10 1607, LTSB 2016 and Server 2016: the channel decides the verdict
    ident = ctx.identify(sw("Internet Explorer", "11.953.14393.0", "Microsoft Corporation"))
    assert (ident.product, ident.cycle) == ("internet-explorer", None)
    served = ctx.identify(
        sw(
            "Internet Explorer",
            "11.953.14393.0",
            "Microsoft Corporation",
            host_os_product="windows-server",
            host_os_cycle="2016",
        )
    )
    assert served.cycle == "11-server"


def test_newer_than_dataset_is_unknown_never_eol(ctx: IdentifyContext) -> None:
    for record in (
        sw("Google Chrome", "160.0.7000.1", "Google LLC"),
        sw("Java(TM) SE Development Kit 31 (64-bit)", "31.0.1.0", "Oracle Corporation"),
        sw("Microsoft .NET Runtime - 14.0.1 (x64)", "14.0.1.0", "Microsoft Corporation"),
    ):
        ident = ctx.identify(record)
        assert ident.product is not None and ident.cycle is None and ident.newer_than_known, ident.reason
        out = evaluate(record, ctx, AS_OF, Policy())
        assert out["status"] == "unknown"


def test_predating_release_is_product_without_cycle(ctx: IdentifyContext) -> None:
    ident = ctx.identify(sw("Mozilla Firefox 10.0.2 (x86 en-US)", "10.0.2", "Mozilla"))
    assert (ident.product, ident.cycle, ident.newer_than_known) == ("firefox", None, False)


def test_components_group_under_their_product(ctx: IdentifyContext) -> None:
    suite = ctx.identify(
        sw(
            "Microsoft Office Professional Plus 2010",
            "14.0.6029.1000",
            "Microsoft Corporation",
            system_component="dword:00000001",
        )
    )
    mui = ctx.identify(
        sw(
            "Microsoft Office PowerPoint MUI (English) 2010",
            "14.0.6029.1000",
            "Microsoft Corporation",
            system_component="dword:00000001",
        )
    )
    proof = ctx.identify(sw("Microsoft Office Proof (French) 2010", "14.0.7015.1000", "Microsoft Corporation"))
    assert suite.group == mui.group == proof.group == "office:2010"
    assert "SystemComponent=1" in mui.reason
    engine = ctx.identify(sw("SQL Server 2016 Database Engine Services", "13.3.6300.2", "Microsoft Corporation"))
    shared = ctx.identify(sw("SQL Server 2016 Common Files", "13.0.1601.5", "Microsoft Corporation"))
    assert engine.group == shared.group == "mssqlserver:13.0"


def test_sql_server_without_build_uses_newest_level(ctx: IdentifyContext) -> None:
    ident = ctx.identify(sw("Microsoft SQL Server 2014 (64-bit)", None, "Microsoft Corporation"))
    assert ident.cycle == "12.0-sp3"
    assert ident.confidence.value == "medium"


def test_verdicts_on_the_corpus_date(ctx: IdentifyContext) -> None:
    flash = evaluate(sw("Adobe Flash Player 11 Plugin", "11.1.102.62", "Adobe"), ctx, AS_OF, Policy())
    assert (flash["status"], flash["eol"]) == ("eol", "2020-12-31")
    temurin = evaluate(sw("Eclipse Temurin JDK with Hotspot 11.0.17+8 (x86)", "11.0.17.8"), ctx, AS_OF, Policy())
    assert temurin["status"] in ("supported", "ending-soon")
    sql = evaluate(
        sw("SQL Server 2014 Database Engine Services", "12.3.6024.0", "Microsoft Corporation"), ctx, AS_OF, Policy()
    )
    assert sql["status"] == "eol"
    esu = evaluate(
        sw("SQL Server 2014 Database Engine Services", "12.3.6024.0", "Microsoft Corporation"),
        ctx,
        AS_OF,
        Policy(entitlements=frozenset({"mssqlserver"})),
    )
    assert esu["status"] == "extended"


def test_every_rule_product_exists_in_the_catalog() -> None:
    catalog = Catalog()
    with open(RULES_DIR / "windows_apps.toml", "rb") as fh:
        table = tomllib.load(fh)
    products = {r["product"] for r in table["rule"] if r["product"]}
    missing = sorted(p for p in products if catalog.product(p) is None)
    assert not missing
    for rule in table["rule"]:
        if rule.get("scheme") == "fixed":
            assert catalog.release(rule["product"], rule["cycle"]) is not None, rule["id"]


def test_site_rules_come_first(tmp_path: Path) -> None:
    rules = Rules()
    rules.extend(
        "windows_apps",
        [
            {"id": "site.pacs", "name": "^Acme PACS Viewer", "product": "", "reason": "trust-managed PACS viewer"},
            {"id": "site.java-silence", "name": "^Java 8 Update", "product": "", "reason": "site says so"},
        ],
    )
    ctx = IdentifyContext(Catalog(), rules)
    assert ctx.identify(sw("Acme PACS Viewer 3.2", "3.2")).rule == "windows_apps.site.pacs"
    assert ctx.identify(sw("Java 8 Update 451 (64-bit)", "8.0.4510.9")).product is None


def test_malformed_rule_names_the_rule(tmp_path: Path) -> None:
    (tmp_path / "windows_apps.toml").write_text('[[rule]]\nid = "broken"\nname = "(unclosed"\nproduct = "x"\n')
    with pytest.raises(windows_apps.WindowsAppsRulesError, match="broken"):
        IdentifyContext(Catalog(), Rules(tmp_path)).identify(sw("anything", "1"))
    (tmp_path / "windows_apps.toml").write_text('[[rule]]\nid = "odd"\nname = "x"\nproduct = "x"\nscheme = "nope"\n')
    with pytest.raises(windows_apps.WindowsAppsRulesError, match="unknown scheme"):
        IdentifyContext(Catalog(), Rules(tmp_path)).identify(sw("x", "1"))


def test_supplementary_reporting_can_be_switched_off(tmp_path: Path) -> None:
    text = (RULES_DIR / "windows_apps.toml").read_text("utf-8").replace("report = true", "report = false", 1)
    (tmp_path / "windows_apps.toml").write_text(text, "utf-8")
    ctx = IdentifyContext(Catalog(), Rules(tmp_path))
    ident = ctx.identify(sw("Adobe Flash Player 32 ActiveX", "32.0.0.465", "Adobe"))
    assert ident.product is None
    assert "adobe-flash-player" in ident.reason
    assert ctx.identify(sw("Java 8 Update 451 (64-bit)", "8.0.4510.9")).product == "oracle-jdk"


def test_record_without_name_is_not_a_product(ctx: IdentifyContext) -> None:
    assert ctx.identify({"kind": "software", "source": "windows-registry", "version": "1.0"}).product is None


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("Microsoft DCF MUI (German) 2013", "2013"),
        ("Microsoft Office OSM UX MUI (French) 2016", "2016"),
        ("Microsoft Groove MUI (English) 2010", "2010"),
    ],
)
def test_office_mui_components_take_the_office_year(ctx: IdentifyContext, name: str, year: str) -> None:
    """MSI Office registers each part's language resources as "Microsoft <part> MUI (<lang>) <year>";
    parts outside the application list are still that Office year's components."""
    ident = ctx.identify(sw(name, None, "Microsoft Corporation"))
    assert (ident.product, ident.cycle, ident.group) == ("office", year, f"office:{year}")


def test_non_office_mui_is_not_office(ctx: IdentifyContext) -> None:
    ident = ctx.identify(
        sw("Microsoft Visual Studio 2010 Tools for Office Runtime MUI (English) 2010", None, "Microsoft Corporation")
    )
    assert ident.product != "office"


def test_chrome_msi_encoded_version_is_not_a_release(ctx: IdentifyContext) -> None:
    """The Chrome enterprise MSI's ProductVersion (major.N.build with N != 0) is an encoding, not the
    browser release: the product is Chrome, the cycle unknown; a real version still gives its cycle."""
    encoded = evaluate(sw("Google Chrome", "70.166.47744", "Google LLC"), ctx, AS_OF, Policy())
    assert (encoded["product"], encoded["cycle"], encoded["status"]) == ("chrome", None, "unknown")
    real = ctx.identify(sw("Google Chrome", "120.0.6099.110", "Google LLC"))
    assert (real.product, real.cycle) == ("chrome", "120")
