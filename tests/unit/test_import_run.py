"""What an import run remembers is the run's (``ImportRun``: its ``SoftwareRecords`` and the JSON
made of each record), handed to each file explicitly; nothing is kept in a module between runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from agents.inventory import Inventory, Software
from agents.wire import _compact
from scanner.cli.importcmd import ImportRun, SoftwareJson, convert_file, encode
from scanner.imports.base import SoftwareRecords, dedupe_loosely, merge
from tests.unit.imports_support import IMPORTS

INTUNE = IMPORTS / "intune"


def _plain(software: list[Software]) -> bytes:
    return json.dumps(software, default=_compact, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_the_files_of_one_run_share_their_records_and_other_runs_do_not() -> None:
    run, other = ImportRun(), ImportRun()
    _, from_json = convert_file(INTUNE / "graph-detectedApps-expand-managedDevices.json", records=run.records)
    _, from_csv = convert_file(INTUNE / "AppInvRawData.csv", records=run.records)
    _, elsewhere = convert_file(INTUNE / "AppInvRawData.csv", records=other.records)
    _, alone = convert_file(INTUNE / "AppInvRawData.csv")  # a file read on its own: a memo of its own
    in_json = {id(sw) for inv in from_json for sw in inv.software}
    in_csv = [sw for inv in from_csv for sw in inv.software]
    assert in_csv and any(id(sw) in in_json for sw in in_csv)  # equal records of two files: one object
    for found in (elsewhere, alone):
        records = [sw for inv in found for sw in inv.software]
        assert records == in_csv  # the same records...
        assert not {id(sw) for sw in records} & {id(sw) for sw in in_csv}  # ...but none of the first run's


def test_merging_the_two_exports_of_a_run_does_not_double_a_devices_software() -> None:
    run = ImportRun()
    _, first = convert_file(INTUNE / "graph-detectedApps-expand-managedDevices.json", records=run.records)
    _, second = convert_file(INTUNE / "graph-detectedApps-expand-managedDevices.json", records=run.records)
    into = {inv.inventory_id: inv for inv in first}
    counts = {key: len(inv.software) for key, inv in into.items()}
    for inv in second:
        merge(into[inv.inventory_id], inv)
    assert counts and {key: len(inv.software) for key, inv in into.items()} == counts


def test_records_are_one_object_per_distinct_record_and_bounded() -> None:
    records = SoftwareRecords(limit=2)
    a = records.get("7-Zip", version="23.01", publisher="Igor Pavlov")
    assert records.get("7-Zip", version="23.01", publisher="Igor Pavlov") is a
    assert records.get("7-Zip", version="23.01") is not a  # another field value, another record
    records.get("Notepad++", version="8.6")  # full: forgets what it kept
    again = records.get("7-Zip", version="23.01", publisher="Igor Pavlov")
    assert again == a and again is not a


def test_dedupe_loosely_is_a_function_of_the_records() -> None:
    """Two exports spelling the evidence differently: the record without it is the same software."""
    records = SoftwareRecords()
    with_path = records.get("7-Zip", version="23.01", source="defender", publisher="igor_pavlov", key="C:\\7-Zip")
    without = records.get("7-Zip", version="23.01", source="defender", publisher="igor_pavlov")
    other = records.get("7-Zip", version="22.01", source="defender", publisher="igor_pavlov")
    for _ in range(2):  # the same answer every time (nothing remembered between calls)
        inv = Inventory(software=[with_path, other, without, Software(**dataclasses.asdict(with_path))])
        dedupe_loosely(inv)
        assert [(sw.version, sw.key) for sw in inv.software] == [("23.01", "C:\\7-Zip"), ("22.01", "")]


def test_the_runs_json_of_a_record_is_the_json_of_that_record() -> None:
    records = SoftwareRecords()
    one = records.get("Mozilla Firefox", version="115.0", publisher="Mozilla", source="windows-registry")
    two = records.get("Zoom", version="5.17", source="windows-registry", arch="x64")
    fragments = SoftwareJson()
    assert fragments.array([one, two, one]) == _plain([one, two, one])
    assert fragments.array([two, one]) == _plain([two, one])  # warm == fresh
    assert fragments.array([]) == b"[]"
    small = SoftwareJson(limit=1)
    assert [small.array([sw]) for sw in (one, two, one)] == [_plain([one]), _plain([two]), _plain([one])]


def test_a_runs_json_is_not_another_records() -> None:
    """An entry is kept with its record: a new record at a reused address is encoded anew."""
    fragments = SoftwareJson()
    for version in ("1.0", "2.0", "3.0"):
        sw = Software(name="App", version=version, source="windows-registry")
        assert fragments.array([sw]) == _plain([sw])
        del sw


def test_stored_bodies_are_the_same_with_the_runs_json_warm_or_fresh(tmp_path: Path) -> None:
    run = ImportRun()
    _, invs = convert_file(INTUNE / "AppInvRawData.csv", records=run.records)
    warm = [encode(inv, run.fragments).body for inv in invs]
    assert [encode(inv, run.fragments).body for inv in invs] == warm
    assert [encode(inv).body for inv in invs] == warm
