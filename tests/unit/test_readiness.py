"""Windows 11 readiness: processor rules as versioned data, and "unknown" instead of a guess."""

from __future__ import annotations

import json

import pytest

from agents.inventory import Hardware
from scanner.plan.readiness import CPU_DATA, assess, cpu_check, cpu_rules

GB = 1024**3


@pytest.mark.parametrize(
    "cpu, result",
    [
        ("Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", "pass"),
        ("Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz", "fail"),
        ("Intel(R) Core(TM) i5-4690 CPU @ 3.50GHz", "fail"),
        ("Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "pass"),
        ("13th Gen Intel(R) Core(TM) i7-1365U", "pass"),
        ("12th Gen Intel(R) Core(TM) i5-12500", "pass"),
        ("Intel(R) Core(TM) i7 CPU 920 @ 2.67GHz", "fail"),
        ("Intel(R) Core(TM)2 Duo CPU E8400 @ 3.00GHz", "fail"),
        ("Intel(R) Core(TM) Ultra 7 155H", "pass"),
        ("Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz", "pass"),
        ("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", "fail"),
        ("Intel(R) Celeron(R) N4020 CPU @ 1.10GHz", "pass"),
        ("Intel(R) Pentium(R) 4 CPU 3.00GHz", "fail"),
        ("AMD Ryzen 7 PRO 6850U with Radeon Graphics", "pass"),
        ("AMD Ryzen 5 1600 Six-Core Processor", "fail"),
        ("AMD EPYC 7742 64-Core Processor", "pass"),
        ("AMD Phenom(tm) II X4 945 Processor", "fail"),
        # real capture strings the rules cannot decide: unknown, never a guess
        ("Intel64 Family 6 Model 158 Stepping 9 GenuineIntel ~3600 Mhz", "unknown"),
        ("QEMU Virtual CPU version 2.5+", "unknown"),
        ("", "unknown"),
    ],
)
def test_cpu_rules(cpu: str, result: str) -> None:
    assert cpu_check(cpu).result == result


def test_cpu_data_is_versioned_with_sources() -> None:
    data = json.loads(CPU_DATA.read_text(encoding="utf-8"))
    assert data["version"] and data["sources"] and all(s.startswith("https://") for s in data["sources"])
    assert cpu_rules().version == data["version"]
    assert data["version"] in cpu_check("Intel(R) Core(TM) i5-8500").detail


def _hw(**kw: object) -> Hardware:
    base: dict[str, object] = {
        "cpu_model": "Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz",
        "tpm_present": True,
        "tpm_version": "2.0, 0, 1.38",
        "secure_boot": True,
        "firmware_type": "uefi",
        "memory_bytes": 8 * GB,
        "system_disk_bytes": 256 * 1000**3,
    }
    base.update(kw)
    return Hardware(**base)  # type: ignore[arg-type]


def test_ready_device_upgrades_in_place() -> None:
    r = assess(_hw())
    assert r.verdict == "ready" and r.action == "upgrade in place to Windows 11"
    assert {c.name: c.result for c in r.checks} == {
        "tpm": "pass",
        "secure-boot": "pass",
        "ram": "pass",
        "disk": "pass",
        "cpu": "pass",
    }


@pytest.mark.parametrize(
    "kw, blocker, action",
    [
        ({"tpm_version": "1.2"}, "tpm", "replace hardware"),
        ({"tpm_present": False}, "tpm", "replace hardware"),
        ({"firmware_type": "bios", "secure_boot": False}, "secure-boot", "replace hardware"),
        ({"cpu_model": "Intel(R) Core(TM) i5-6500 CPU"}, "cpu", "replace hardware"),
        ({"memory_bytes": 2 * GB}, "ram", "upgrade RAM"),
        ({"system_disk_bytes": 32 * 1000**3}, "disk", "upgrade disk"),
    ],
)
def test_not_ready_names_the_blocker(kw: dict[str, object], blocker: str, action: str) -> None:
    r = assess(_hw(**kw))
    assert r.verdict == "not-ready" and r.blockers == [blocker] and r.action.startswith(action)


def test_missing_facts_are_unknown_not_a_guess() -> None:
    r = assess(Hardware(cpu_model="Intel(R) Core(TM) i5-8500", memory_bytes=8 * GB))
    assert r.verdict == "unknown"
    assert set(r.unknowns) == {"tpm", "secure-boot", "disk"}
    assert r.summary() == "unknown: tpm, secure-boot, disk"
    # a known failure still decides, even with other facts unknown
    assert assess(Hardware(cpu_model="Intel(R) Core(TM)2 Duo CPU E8400")).verdict == "not-ready"
