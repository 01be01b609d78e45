"""Issue 14, item 8: every generated demo device is consistent — its Windows release, its
processor, model and memory, and the applications installed on it (scanner.demo_era's rules,
checked here against facts stated independently of them)."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import load_default
from scanner.demo import generate
from scanner.demo_era import OS_CPU_GENERATIONS, component_fits, era_of, generation, runs_on
from scanner.identify.registry import IdentifyContext

# stated independently of the generator: the newest processor family each old Windows ran on
OLD_CPUS = ("Pentium(R) 4", "Core(TM)2")
WIN11_READY = ("i5-8", "i5-9", "i5-10", "i7-11", "12th Gen", "13th Gen", "Ryzen 5 PRO 4")


@pytest.fixture(scope="module")
def pcs() -> list:  # type: ignore[type-arg]
    estate = generate(devices=2000, sites=3, seed=7, as_of=date(2026, 12, 6))
    return [
        i for i in estate.current + estate.previous if i.os.family == "windows" and "server" not in i.os.name.lower()
    ]


def test_old_windows_runs_on_old_hardware_and_windows_11_on_supported(pcs: list) -> None:  # type: ignore[type-arg]
    eras = {era_of(i.os.version) for i in pcs}
    assert {"xp", "7", "10", "11"} <= eras
    for inv in pcs:
        era, cpu, hw = era_of(inv.os.version), inv.hardware.cpu_model, inv.hardware
        if era in ("xp", "vista"):
            assert any(old in cpu for old in OLD_CPUS), (inv.host.hostname, era, cpu)
            assert hw.memory_bytes is None or hw.memory_bytes <= 4 * 1024**3, inv.host.hostname
            assert hw.firmware_type in ("bios", "") and not hw.tpm_version
        if era == "11":
            assert any(ok in cpu for ok in WIN11_READY), (inv.host.hostname, cpu)
            assert hw.tpm_version == "2.0" and hw.firmware_type == "uefi" and hw.secure_boot
        if era == "10":
            assert not any(old in cpu for old in OLD_CPUS), (inv.host.hostname, cpu)
        assert generation(cpu) in OS_CPU_GENERATIONS[era]
        if hw.model:  # a Core 2 sits in a Core 2-era model, never in an OptiPlex 7070
            modern_model = hw.model.startswith(("OptiPlex 70", "EliteDesk 800 G4", "EliteDesk 800 G9", "ThinkPad T14"))
            assert not (modern_model and era in ("xp", "vista")), (inv.host.hostname, hw.model)
            assert hw.vendor in ("Dell Inc.", "HP", "Lenovo"), hw.vendor


def test_no_application_on_a_windows_it_cannot_run_on(pcs: list) -> None:  # type: ignore[type-arg]
    ctx = IdentifyContext(load_default())
    seen: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    checked = 0
    for inv in pcs:
        era = era_of(inv.os.version)
        for sw in inv.software:
            key = (sw.name, sw.version)
            if key not in seen:
                ident = ctx.identify(sw.identify_record())
                seen[key] = (ident.product, ident.cycle)
            product, cycle = seen[key]
            if not product:
                continue
            checked += 1
            # the issue's own examples, stated directly
            if era in ("xp", "vista"):
                assert not (product == "internet-explorer" and cycle in ("10", "11")), (inv.host.hostname, sw.name)
                assert product != "microsoft-edge-legacy", (inv.host.hostname, sw.name)
            if era != "10":
                assert product != "microsoft-edge-legacy", (inv.host.hostname, era, sw.name)
            assert runs_on(product, cycle or "", sw.version, era), (inv.host.hostname, era, sw.name, sw.version)
    assert checked > 5000


@pytest.mark.parametrize(
    ("product", "cycle", "version", "era", "ok"),
    [
        ("internet-explorer", "11", "11.0.9600", "xp", False),
        ("internet-explorer", "11", "11.0.9600", "7", True),
        ("internet-explorer", "8", "8.0.6001", "xp", True),
        ("microsoft-edge-legacy", "44", "44.19041", "10", True),
        ("microsoft-edge-legacy", "44", "44.19041", "11", False),
        ("firefox", "115", "115.3.0", "7", True),
        ("firefox", "128", "128.0", "7", False),
        ("firefox", "52", "52.9.0", "xp", True),
        ("dotnetfx", "4.8", "4.8.04084", "vista", False),
        ("python", "3.8", "3.8.10", "vista", False),
        ("python", "3.6", "3.6.8", "vista", True),
    ],
)
def test_install_rules(product: str, cycle: str, version: str, era: str, ok: bool) -> None:
    assert runs_on(product, cycle, version, era) is ok


# Stated independently of scanner.demo_era: Internet Explorer is part of Windows, so its version's
# build is the build of the Windows it runs on (Windows 10/11 components report their servicing
# base: 19041 for 19042-19045, 22621 for 22631, 26100 for 26200), or for Windows 7 and older one
# of the IE releases that installed there (IE 8: 6001/7600/7601, IE 9: 8112, IE 10: 9200, IE 11: 9600).
IE_ON_OLD_WINDOWS = {
    "5.1.2600": {"2900", "5730", "6001"},
    "6.0.6001": {"6001", "8112"},
    "6.0.6002": {"6002", "8112"},
    "6.1.7601": {"7600", "7601", "8112", "9200", "9600"},
    "6.3.9600": {"9600"},
}
SERVICING_BASE = {"19042": "19041", "19043": "19041", "19044": "19041", "19045": "19041", "22631": "22621"}


def test_internet_explorer_carries_the_build_of_its_windows(pcs: list) -> None:  # type: ignore[type-arg]
    seen = 0
    for inv in pcs:
        os_build = inv.os.version.split(".")[2]
        for sw in inv.software:
            if sw.name not in ("Internet Explorer", "Internet Explorer (64bit)"):
                continue
            seen += 1
            ie_build = sw.version.split(".")[2]
            if inv.os.version in IE_ON_OLD_WINDOWS:
                assert ie_build in IE_ON_OLD_WINDOWS[inv.os.version], (inv.host.hostname, inv.os.version, sw.version)
            else:
                assert ie_build == SERVICING_BASE.get(os_build, os_build), (
                    inv.host.hostname,
                    inv.os.version,
                    sw.version,
                )
    assert seen > 50  # the demo still shows IE where a real capture of that Windows had it


def test_no_entry_from_a_newer_windows_on_an_older_one(pcs: list) -> None:  # type: ignore[type-arg]
    """Unidentified entries are era-bound too: Edge (Chromium) never ran on XP or Vista and stopped
    at 109 on Windows 7/8.1; an XP hotfix is on XP only; Windows 11's inbox apps on Windows 11."""
    for inv in pcs:
        era = era_of(inv.os.version)
        for sw in inv.software:
            major = sw.version.split(".", 1)[0]
            if sw.name.startswith("Microsoft Edge") and sw.name != "Microsoft Edge WebView2 Runtime":
                assert era not in ("xp", "vista"), (inv.host.hostname, era, sw.name, sw.version)
                if sw.name == "Microsoft Edge" and major.isdigit():
                    assert era in ("10", "11") or int(major) <= 109, (inv.host.hostname, era, sw.version)
            if "Windows XP" in sw.name:
                assert era == "xp", (inv.host.hostname, era, sw.name)
            if "DevToolsClient" in sw.name or "Edge DevTools" in sw.name:
                assert era == "11", (inv.host.hostname, era, sw.name)


def test_component_fits_rules() -> None:
    assert component_fits("internet-explorer", "11.1.22621.0", "10.0.22631")
    assert not component_fits("internet-explorer", "11.1.20348.0", "10.0.19045")  # Server 2022's IE
    assert not component_fits("internet-explorer", "11.1882.26100.0", "6.1.7601")
    assert component_fits("internet-explorer", "9.10.9200.16863", "6.1.7601")
    assert not component_fits("internet-explorer", "8.0.7600.16385", "5.1.2600")
    assert component_fits("firefox", "140.0", "10.0.19045")  # not an OS component
