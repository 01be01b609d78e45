"""Issue 14, item 8: every generated demo device is consistent — its Windows release, its
processor, model and memory, and the applications installed on it (scanner.demo_era's rules,
checked here against facts stated independently of them)."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import load_default
from scanner.demo import generate
from scanner.demo_era import OS_CPU_GENERATIONS, era_of, generation, runs_on
from scanner.identify import IdentifyContext

# stated independently of the generator: the newest processor family each old Windows ran on
OLD_CPUS = ("Pentium(R) 4", "Core(TM)2")
WIN11_READY = ("i5-8", "i5-9", "i5-10", "i7-11", "12th Gen", "13th Gen", "Ryzen 5 PRO 4")


@pytest.fixture(scope="module")
def pcs() -> list:  # type: ignore[type-arg]
    estate = generate(devices=2000, sites=3, seed=7, as_of=date(2026, 12, 6))
    return [i for i in estate.current + estate.previous
            if i.os.family == "windows" and "server" not in i.os.name.lower()]


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


@pytest.mark.parametrize(("product", "cycle", "version", "era", "ok"), [
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
])
def test_install_rules(product: str, cycle: str, version: str, era: str, ok: bool) -> None:
    assert runs_on(product, cycle, version, era) is ok
