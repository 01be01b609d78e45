"""Intune: Graph managedDevices and detectedApps JSON and the admin centre's CSV exports, joined on
the Intune device id (tests/fixtures/imports/PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

INTUNE = IMPORTS / "intune"


@pytest.mark.parametrize(
    "files",
    [
        ("graph-managedDevices.json", "graph-detectedApps-expand-managedDevices.json"),
        ("admin-centre-devices-export.csv", "AppInvRawData.csv"),
    ],
)
def test_devices_and_their_apps_join_into_judged_hosts(tmp_path: Path, capsys, files: tuple[str, str]) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, *(INTUNE / f for f in files)) == 0
    assert "imported 3, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    w11 = hosts["WORKSTATION1"]
    assert w11.collector.source == "intune" and w11.os.facts["build"] == "22631"
    assert w11.os.facts["edition_id"] == "Enterprise" and w11.collected_at == "2025-03-26T02:00:00Z"
    assert verdicts(w11)[("os", "windows", "11-23h2-e")] == "eol"  # the edition decides the cycle
    assert len(w11.software) == 11 and {s.source for s in w11.software} == {"windows-registry"}
    assert ("software", "virtualbox", "7.0") in verdicts(w11)
    w10 = verdicts(hosts["PC-W10-ENT-01"])
    assert [k for k in w10 if k[0] == "os"] == [("os", "windows", "10-22h2")]
    mac = hosts["iMac-de-Marie"]
    assert mac.collected_at == "2018-06-22T03:49:53Z"  # -07:00 converted to UTC
    assert verdicts(mac)[("os", "macos", "10.13")] == "eol"


def test_json_and_csv_of_the_same_tenant_are_one_host_each_without_doubled_apps(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    exports = (
        "AppInvRawData.csv",
        "admin-centre-devices-export.csv",
        "graph-managedDevices.json",
        "graph-detectedApps-expand-managedDevices.json",
    )
    assert run_import(db, *(INTUNE / f for f in exports)) == 0
    hosts = stored(db)
    assert sorted(hosts) == ["PC-W10-ENT-01", "WORKSTATION1", "iMac-de-Marie"]
    assert len(hosts["WORKSTATION1"].software) == 11


def test_detected_apps_without_devices_say_how_to_export_them(tmp_path: Path, capsys) -> None:
    assert run_import(tmp_path / "db.sqlite", INTUNE / "graph-docs-detectedApp-list-example.json") == 1
    assert "$expand=managedDevices" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"value": [{"deviceName": "x", "operatingSystem": "Windows", "osVersion": "10.0.19045"}]}, "no device id"),
        (
            {"value": [{"id": "1", "deviceName": ["x"], "operatingSystem": "Windows", "osVersion": "1"}]},
            "value[0].devicename: expected text, got list",
        ),
        (
            {"value": {"id": "1"}, "@odata.context": "x/$metadata#deviceManagement/managedDevices"},
            "value: expected a list, got dict",
        ),
    ],
)
def test_hostile_graph_pages_are_refused(tmp_path: Path, capsys, body: object, expected: str) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps(body))
    assert run_import(tmp_path / "db.sqlite", path) == 1
    err = capsys.readouterr().err
    assert "page.json: refused: " in err and expected in err, err
