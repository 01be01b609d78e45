"""GLPI agent inventories (inventory_format JSON and the older FusionInventory XML): real samples
from glpi-project/inventory_format (tests/fixtures/imports/PROVENANCE.md), and hostile variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

GLPI = IMPORTS / "glpi"


def test_json_and_xml_inventories_become_judged_hosts(tmp_path: Path, capsys) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, GLPI) == 0
    assert "imported 5, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    win = hosts["pc-arg-23"]  # 2.xml: Windows 8.1 Pro (French), FusionInventory XML
    assert win.collector.source == "glpi" and win.os.family == "windows"
    assert win.os.facts["caption"] == "Microsoft Windows 8.1 Professionnel"
    assert win.os.facts["glpi"]["kernel_version"] == "6.3.9600"
    judged = verdicts(win)
    assert judged[("os", "windows", "8.1")] == "eol"
    assert judged[("software", "office", "2010")] == "eol"
    # 1.xml and computer_3.json are the same Fedora 25 laptop (the JSON was converted from its XML,
    # with the full package list): one host.
    assert verdicts(hosts["LF014"])[("os", "fedora", "25")] == "eol"
    alone = tmp_path / "fedora.sqlite"
    assert run_import(alone, GLPI / "computer_3.json") == 0
    fedora = stored(alone)["LF014"]
    assert len(fedora.software) == 3033 and {s.source for s in fedora.software} == {"rpm"}
    mac = hosts["iMac de Marie"]  # 4.xml
    assert mac.os.family == "macos" and mac.os.facts["product_version"] == "10.13.5"
    assert verdicts(mac)[("os", "macos", "10.13")] == "eol"
    assert run_import(db, GLPI) == 0
    assert "imported 0, duplicates 5" in capsys.readouterr().err


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>&lol3;</NAME></HARDWARE></CONTENT></REQUEST>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>&x;</NAME></HARDWARE></CONTENT></REQUEST>"""


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("bomb.xml", BOMB, "XML refused"),
        ("xxe.xml", XXE, "XML refused"),
        ("deep.xml", "<REQUEST><CONTENT>" + "<A>" * 200 + "</A>" * 200 + "</CONTENT></REQUEST>", "nested deeper"),
        ("snmp.xml", "<REQUEST><QUERY>SNMPQUERY</QUERY><CONTENT><DEVICE/></CONTENT></REQUEST>", "network-device"),
        ("cut.xml", "<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>x", "not valid XML at line 1"),
        (
            "types.json",
            json.dumps({"action": "inventory", "deviceid": "d", "content": {"hardware": {"name": {"nested": 1}}}}),
            "content.hardware.name: expected text, got dict",
        ),
        (
            "softs.json",
            json.dumps(
                {"action": "inventory", "deviceid": "d", "content": {"hardware": {"name": "pc"}, "softwares": "vim"}}
            ),
            "content.softwares: expected a list, got str",
        ),
        ("nohost.json", json.dumps({"action": "inventory", "deviceid": "d", "content": {"bios": {}}}), "names no host"),
    ],
)
def test_hostile_glpi_files_are_refused_by_name(tmp_path: Path, capsys, name: str, body: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(body)
    db = tmp_path / "db.sqlite"
    assert run_import(db, path, GLPI / "2.xml") == 1
    err = capsys.readouterr().err
    assert f"{name}: refused: " in err and expected in err and "(read as glpi)" in err
    assert list(stored(db)) == ["pc-arg-23"]  # the good neighbour is stored


def test_formula_and_nul_in_software_names_survive_as_text(tmp_path: Path) -> None:
    data = json.loads((GLPI / "computer_1.json").read_text())
    data["content"]["softwares"].append({"name": "=cmd|' /C calc'!A0", "version": "1\u0000", "from": "rpm"})
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0
    [inv] = stored(db).values()
    assert any(s.name == "=cmd|' /C calc'!A0" and s.version == "1\ufffd" for s in inv.software)
