"""The parser's side of "less PowerShell": the collection script prints WMI/CIM instances,
registry values and exceptions as read; agents/windows.py decodes DMTF and round-trip dates, sums
processors, picks the system disk, classifies failures and says what is missing.  The documents are
the real hosts' (tests/fixtures/hosts), edited only where a test needs one fact changed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from agents.windows import _instant, _local_date, classify_problem, parse_document
from tests.conftest import FIXTURES


def _doc(name: str = "windows-srv2012-standard-aws") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    return data


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("20150417150245.000000+120", "2015-04-17T13:02:45Z"),  # WMI: local time, offset in minutes
        ("20150417010245.000000-300", "2015-04-17T06:02:45Z"),
        ("2015-04-17T15:02:45.1234567+02:00", "2015-04-17T13:02:45Z"),  # CIM DateTime, 'o' format
        ("2015-04-17T13:02:45Z", "2015-04-17T13:02:45Z"),
        ("not a date", "not a date"),
    ],
)
def test_instants_are_utc(raw: str, expected: str) -> None:
    assert _instant(raw) == expected


def test_firmware_dates_are_never_shifted() -> None:
    assert _local_date("20100429000000.000000+000") == "2010-04-29"  # WMI: as the firmware wrote it
    assert _local_date("2010-04-28T19:00:00.0000000-05:00") == "2010-04-29"  # CIM in New York
    assert _local_date("2010-04-29T01:00:00.0000000+01:00") == "2010-04-29"  # CIM in London, summer
    assert _local_date("2010-04-29") == "2010-04-29"


@pytest.mark.parametrize(
    "error_type,message,kind",
    [
        ("System.UnauthorizedAccessException", "Attempted to perform an unauthorized operation.", "denied"),
        ("System.Management.ManagementException", "Access denied ", "denied"),
        ("Microsoft.Management.Infrastructure.CimException", "Invalid namespace ", "missing"),
        ("System.Management.ManagementException", "Invalid class ", "missing"),
        ("System.TimeoutException", "The operation has timed out.", "timeout"),
        ("System.IO.IOException", "The device is not ready.", "error"),
    ],
)
def test_failures_are_classified_here(error_type: str, message: str, kind: str) -> None:
    assert classify_problem(error_type, message) == kind
    doc = _doc()
    doc["problems"] = [{"probe": "hardware.tpm", "error_type": error_type, "message": message}]
    inv = parse_document(doc)
    assert any(p.probe == "hardware.tpm" and p.kind == kind for p in inv.problems)


def test_processors_disks_and_firmware_are_decided_by_the_parser() -> None:
    doc = _doc()
    doc["wmi"]["Win32_Processor"] = [
        {"Name": " Intel(R) Xeon(R) CPU E5-2670 ", "NumberOfCores": 8, "NumberOfLogicalProcessors": 16}
    ] * 2
    doc["wmi"]["Win32_LogicalDisk"] = [
        {"DeviceID": "C:", "FileSystem": "NTFS", "Size": 100},
        {"DeviceID": "D:", "FileSystem": "NTFS", "Size": 900},
    ]
    doc["env"]["system_drive"] = "c:"
    doc["firmware"] = {"PEFirmwareType": 2, "UEFISecureBootEnabled": 1}
    doc["wmi"]["Win32_Tpm"] = [{"SpecVersion": "2.0, 0, 1.16", "IsEnabled_InitialValue": True}]
    doc["wmi"]["Win32_SystemEnclosure"] = [{"ChassisTypes": [10]}]
    inv = parse_document(doc)
    hw = inv.hardware
    assert (hw.cpu_cores, hw.cpu_threads, hw.cpu_model) == (16, 32, "Intel(R) Xeon(R) CPU E5-2670")
    assert hw.system_disk_bytes == 100 and hw.firmware_type == "uefi" and hw.secure_boot is True
    assert hw.tpm_present is True and hw.tpm_version == "2.0" and hw.chassis == "laptop"
    assert not any(p.probe == "hardware.firmware" for p in inv.problems)
    # a TPM query that ran and found nothing is "no TPM"; one that failed is unknown
    doc2 = copy.deepcopy(doc)
    doc2["wmi"]["Win32_Tpm"] = []
    assert parse_document(doc2).hardware.tpm_present is False
    del doc2["wmi"]["Win32_Tpm"]
    assert parse_document(doc2).hardware.tpm_present is None


def test_unloaded_profiles_and_the_32_bit_view_are_reported() -> None:
    doc = _doc()
    doc["profiles"] = [
        {"sid": "S-1-5-18", "loaded": False},
        {"sid": "S-1-5-21-1004336348-1177238915-682003330-1001", "loaded": True},
        {"sid": "S-1-5-21-1004336348-1177238915-682003330-1002", "loaded": False},
        {"sid": "S-1-12-1-1778064242-1251273316-772277320-2482684374", "loaded": False},
    ]
    doc["env"]["hklm64_readable"] = False
    inv = parse_document(doc)
    messages = {p.probe: p.message for p in inv.problems}
    assert messages["software.user"].startswith("2 user profile(s) not loaded")
    assert "64-bit powershell.exe" in messages["software.hklm64"]


def test_multi_string_values_arrive_as_lists() -> None:
    doc = _doc()
    entry = dict(doc["software"][0])
    entry["DisplayName"] = ["Contoso Viewer", "", "x64"]
    entry["key"] = entry["key"] + "-multi"
    doc["software"].append(entry)
    names = {s.name for s in parse_document(doc).software}
    assert "Contoso Viewer x64" in names


def test_the_host_clock_is_stored_as_utc_seconds() -> None:
    doc = _doc()
    doc["collected_at"] = "2026-11-22T09:00:00.1234567Z"  # [DateTime]::UtcNow printed round-trip
    assert parse_document(doc).collected_at == "2026-11-22T09:00:00Z"


def test_a_hostile_deeply_nested_value_is_not_a_recursion() -> None:
    doc = _doc()
    nested: list[object] = ["x"]
    for _ in range(5000):
        nested = [nested]
    entry = dict(
        doc["software"][0],
        DisplayName=["Contoso", nested],
        key="HKLM\\X\\deep",
        DisplayVersion={"a": nested},
        SystemComponent=nested,
        InstallDate=[nested],
    )
    doc["software"].append(entry)
    doc["wmi"]["Win32_Processor"] = [
        {"Name": "cpu", "NumberOfCores": nested, "NumberOfLogicalProcessors": float("nan")},
        {"Name": "cpu", "NumberOfCores": float("inf")},
    ]
    assert "Contoso" in {s.name for s in parse_document(doc).software}
