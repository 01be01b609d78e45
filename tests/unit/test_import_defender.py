"""Defender for Endpoint: machines and software-inventory API pages, the gzip JSON Lines export files
and an advanced-hunting CSV, from Microsoft's documented examples (tests/fixtures/imports/PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

DEFENDER = IMPORTS / "defender"
DOC_EXAMPLE = DEFENDER / "defender-docs-SoftwareInventoryByMachine-example.json"


@pytest.mark.parametrize(
    "name",
    [
        "defender-docs-SoftwareInventoryByMachine-example-fixed.json",
        "defender-docs-SoftwareInventoryByMachine-example-2021.json",
        "SoftwareInventoryExport-part-00000.json.gz",
        "advanced-hunting-DeviceTvmSoftwareInventory.csv",
    ],
)
def test_software_inventory_in_every_shape_gives_the_same_devices(tmp_path: Path, capsys, name: str) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, DEFENDER / name) == 0
    assert "imported 3, duplicates 0, refused 0" in capsys.readouterr().err
    invs = stored(db)
    assert len(invs) == 3
    [with_os] = [inv for inv in invs.values() if inv.os.facts.get("ubr") == 1637]
    assert with_os.os.facts["build"] == "17763" and len(with_os.software) == 2
    for inv in invs.values():
        assert inv.collector.source == "defender" and inv.os.family == "windows"
        assert all(s.source == "defender" and s.publisher == "microsoft" for s in inv.software)


def test_the_os_row_of_the_software_inventory_identifies_windows(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, DEFENDER / "defender-docs-SoftwareInventoryByMachine-example-fixed.json") == 0
    [inv] = [i for i in stored(db).values() if i.os.facts.get("build") == "17763"]
    assert inv.os.facts["ubr"] == 1637 and inv.os.facts["defender"]["softwareName"] == "windows_10"
    # Edition unknown: the later-ending cycle is assumed; its end, 2021-05-11, is the date Defender's
    # own endOfSupportDate gives for this row.
    assert verdicts(inv)[("os", "windows", "10-1809-e")] == "eol"
    assert ".net_framework" in {s.name for s in inv.software}


def test_machines_page_gives_build_release_and_tags(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, DEFENDER / "defender-docs-machines-example-fixed.json") == 0
    [inv] = stored(db).values()
    assert inv.host.hostname == "mymachine1.contoso.com" and inv.host.tags == ["test tag 1", "test tag 2"]
    assert inv.os.facts["build"] == "18209" and inv.os.facts["display_version"] == "1709"
    assert inv.collected_at == "2018-08-02T14:55:03Z"


def test_the_documentation_example_as_published_is_refused_naming_line_and_column(tmp_path: Path, capsys) -> None:
    """Microsoft's page shows ``"osPlatform": "Windows10" "Windows11"`` - not JSON."""
    assert run_import(tmp_path / "db.sqlite", DOC_EXAMPLE) == 1
    err = capsys.readouterr().err
    assert "refused: not valid JSON: Expecting ',' delimiter at line 8 column 39 (read as defender)" in err


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "types.json",
            '{"@odata.context": "x/$metadata#Machines", "value": [{"id": ["1"], "osPlatform": "Windows10"}]}',
            "value[0].id: expected text, got list",
        ),
        (
            "paths.json",
            '{"value": [{"deviceId": "d", "softwareVendor": "v", "softwareName": "n", "registryPaths": 5}]}',
            "value[0].registryPaths: expected a list, got int",
        ),
        (
            "short.csv",
            "DeviceId,DeviceName,SoftwareVendor,SoftwareName,SoftwareVersion\r\nd1,pc,v\r\n",
            "line 2: 3 fields where the header has 5",
        ),
    ],
)
def test_hostile_defender_exports_are_refused_by_name(
    tmp_path: Path, capsys, name: str, body: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(body)
    assert run_import(tmp_path / "db.sqlite", path) == 1
    err = capsys.readouterr().err
    assert f"{name}: refused: " in err and expected in err, err


def test_formula_and_nul_in_defender_csv_are_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "ah.csv"
    path.write_text(
        "DeviceId,DeviceName,OSPlatform,SoftwareVendor,SoftwareName,SoftwareVersion\r\n"
        'd1,"=cmd|\' /C calc\'!A0",Windows10,ev\x00il,"@SUM(1)",1.0\r\n'
    )
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0
    [inv] = stored(db).values()
    assert inv.host.hostname == "=cmd|' /C calc'!A0"
    assert [(s.name, s.publisher) for s in inv.software] == [("@SUM(1)", "ev\ufffdil")]
