"""Windows 11 readiness of each Windows 10 device, from the hardware facts the collector read.

Why: Windows 10 left support on 2025-10-14; for every Windows 10 PC the plan must say "upgrade
in place" (the hardware qualifies), "replace the hardware", or "pay ESU while we decide".  The
checks follow Microsoft's minimum requirements: TPM 2.0, UEFI with Secure Boot, 4 GB RAM, 64 GB
storage and a processor on Microsoft's supported list.  The processor list is kept as versioned
data (``eol_data/win11_cpus.json``, family-level rules with their source), so a correction is a
data change.

A fact the collector could not read is ``unknown`` — never a guess: a device with an unknown
TPM is "unknown", not "ready".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from agents.inventory import Hardware
from agents.packaged import Packaged

CPU_DATA = Path(__file__).resolve().parents[2] / "eol_data" / "win11_cpus.json"
MIN_RAM_BYTES = 4 * 1024**3
MIN_DISK_BYTES = 64 * 1000**3  # Microsoft: "64 GB or larger storage device" (decimal, as disks are sold)

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


class CheckJson(TypedDict):
    name: str
    result: str
    detail: str


class ReadinessJson(TypedDict):
    """Windows 11 readiness as JSON (``win11_readiness`` of a device in docs/report-json.md)."""

    verdict: str
    action: str
    summary: str
    checks: list[CheckJson]


@dataclass(slots=True, frozen=True)
class Check:
    name: str  # tpm | secure-boot | ram | disk | cpu
    result: str  # pass | fail | unknown
    detail: str

    def to_dict(self) -> CheckJson:
        return {"name": self.name, "result": self.result, "detail": self.detail}


@dataclass(slots=True, frozen=True)
class Readiness:
    verdict: str  # ready | not-ready | unknown
    action: str  # what to do
    checks: tuple[Check, ...]

    @property
    def blockers(self) -> list[str]:
        return [c.name for c in self.checks if c.result == FAIL]

    @property
    def unknowns(self) -> list[str]:
        return [c.name for c in self.checks if c.result == UNKNOWN]

    def summary(self) -> str:
        if self.verdict == "ready":
            return "ready"
        if self.verdict == "not-ready":
            return "not ready: " + ", ".join(self.blockers)
        return "unknown: " + ", ".join(self.unknowns)

    def to_dict(self) -> ReadinessJson:
        return {
            "verdict": self.verdict,
            "action": self.action,
            "summary": self.summary(),
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(slots=True, frozen=True)
class CpuRules:
    version: str
    source_version: str
    sources: tuple[str, ...]
    rules: tuple[tuple[dict[str, Any], re.Pattern[str]], ...]


def cpu_rules(path: Path | None = None) -> CpuRules:
    """The CPU lists: the bundled file's (read once: an ``agents.packaged.Packaged`` value), or the
    file at ``path`` (read now)."""
    return _BUNDLED_CPU_RULES.get() if path is None else _read_cpu_rules(path)


def _read_cpu_rules(path: Path) -> CpuRules:
    data = json.loads(path.read_text(encoding="utf-8"))
    compiled = tuple((r, re.compile(r["pattern"], re.IGNORECASE)) for r in data["rules"])
    return CpuRules(
        version=str(data["version"]),
        source_version=str(data.get("source_version", "")),
        sources=tuple(data.get("sources", [])),
        rules=compiled,
    )


_BUNDLED_CPU_RULES = Packaged(lambda: _read_cpu_rules(CPU_DATA))


def _intel_generation(model: str, suffix: str) -> int:
    """Core i-series model number -> generation: 8250U -> 8, 10700 -> 10, 1165G7 -> 11, 1365U -> 13.

    No 4-digit i-series model starts with 1 before the 10th generation (mobile 10th-14th gen
    parts are 10xx-14xx), so a leading 1 always means a two-digit generation.
    """
    del suffix  # kept in the signature: the G/U/H suffix does not change the generation
    if len(model) == 5 or model.startswith("1"):
        return int(model[:2])
    return int(model[0])


def _result(ok: bool) -> str:
    return PASS if ok else FAIL


def _rule_check(rule: dict[str, Any], m: re.Match[str], why: str) -> Check | None:
    """The verdict of a CPU rule whose pattern matched (None: the rule states no test; go on)."""
    if "supported" in rule:
        return Check("cpu", _result(bool(rule["supported"])), why)
    model = m.groupdict().get("model") or ""
    if "min_generation" in rule:
        gen = _intel_generation(model, m.groupdict().get("suffix") or "")
        return Check("cpu", _result(gen >= rule["min_generation"]), f"generation {gen}: {why}")
    if "min_number" in rule:
        return Check("cpu", _result(int(model) >= rule["min_number"]), why)
    if "min_digit2" in rule:
        return Check("cpu", _result(int(model[1]) >= rule["min_digit2"]), why)
    if "min_model" in rule:
        return Check("cpu", _result(int(model) >= rule["min_model"]), why)
    if rule.get("epyc"):
        return Check("cpu", _result(model[-1] != "1"), why)
    return None


def cpu_check(cpu_model: str, rules: CpuRules | None = None) -> Check:
    """Is this processor string on the supported list?  Unrecognised -> unknown."""
    text = " ".join(cpu_model.split())
    if not text:
        return Check("cpu", UNKNOWN, "processor not reported")
    rules = rules or cpu_rules()
    for rule, pattern in rules.rules:
        m = pattern.search(text)
        if not m:
            continue
        check = _rule_check(rule, m, f"{rule['why']} (rule {rule['id']}, data {rules.version})")
        if check is not None:
            return check
    return Check("cpu", UNKNOWN, f"processor {text[:80]!r} not recognised by the rules (data {rules.version})")


def _gb(n: int, base: int) -> str:
    return f"{n / base**3:.0f} GB"


def _tpm_check(hw: Hardware) -> Check:
    if hw.tpm_present is None:
        return Check("tpm", UNKNOWN, "TPM not reported")
    if not hw.tpm_present:
        return Check("tpm", FAIL, "no TPM")
    if not hw.tpm_version:
        return Check("tpm", UNKNOWN, "TPM present, version not reported")
    ok = hw.tpm_version.strip().split(",")[0].strip().startswith("2")
    return Check("tpm", PASS if ok else FAIL, f"TPM {hw.tpm_version}")


def _secure_boot_check(hw: Hardware) -> Check:
    fw = hw.firmware_type.lower()
    if fw == "bios":
        return Check("secure-boot", FAIL, "legacy BIOS firmware (UEFI required)")
    if hw.secure_boot is True:
        return Check("secure-boot", PASS, "UEFI with Secure Boot on")
    if hw.secure_boot is False and fw == "uefi":
        return Check("secure-boot", PASS, "UEFI, Secure Boot capable but off (turn it on)")
    if hw.secure_boot is False:
        return Check("secure-boot", FAIL, "Secure Boot off and firmware type not reported")
    return Check("secure-boot", UNKNOWN, "Secure Boot / firmware type not reported")


def _ram_check(hw: Hardware) -> Check:
    if hw.memory_bytes is None:
        return Check("ram", UNKNOWN, "memory not reported")
    return Check(
        "ram",
        PASS if hw.memory_bytes >= MIN_RAM_BYTES * 0.95 else FAIL,
        f"{_gb(hw.memory_bytes, 1024)} RAM (4 GB needed)",
    )


def _disk_check(hw: Hardware) -> Check:
    disk = hw.system_disk_bytes
    if disk is None:
        return Check("disk", UNKNOWN, "system disk size not reported")
    return Check(
        "disk", PASS if disk >= MIN_DISK_BYTES * 0.95 else FAIL, f"{_gb(disk, 1000)} system disk (64 GB needed)"
    )


def assess(hw: Hardware, rules: CpuRules | None = None) -> Readiness:
    checks = (_tpm_check(hw), _secure_boot_check(hw), _ram_check(hw), _disk_check(hw), cpu_check(hw.cpu_model, rules))
    results = {c.name: c.result for c in checks}
    if FAIL in results.values():
        return Readiness("not-ready", _not_ready_action(results), checks)
    if UNKNOWN in results.values():
        return Readiness(
            "unknown",
            "collect hardware facts (" + ", ".join(n for n, r in results.items() if r == UNKNOWN) + ") to decide",
            checks,
        )
    return Readiness("ready", "upgrade in place to Windows 11", checks)


def _not_ready_action(results: dict[str, str]) -> str:
    hard = [n for n in ("cpu", "tpm", "secure-boot") if results[n] == FAIL]
    if hard:
        return "replace hardware (" + ", ".join(hard) + " not supported)"
    return (
        "upgrade "
        + " and ".join(n.upper() if n == "ram" else n for n in ("ram", "disk") if results[n] == FAIL)
        + ", then upgrade to Windows 11"
    )


def is_windows_10(product: str | None, cycle: str | None) -> bool:
    return product == "windows" and bool(cycle) and str(cycle).startswith("10")
