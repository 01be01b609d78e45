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
    assert "imported 6, duplicates 0, refused 0" in capsys.readouterr().err
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
    assert "imported 0, duplicates 6" in capsys.readouterr().err


def test_glpi_agent_service_pack_of_windows_10_is_the_build_and_update_revision(tmp_path: Path) -> None:
    """GLPI's own test inventory (glpi-project/glpi tests/fixtures): a GLPI-Agent 1.9 Windows 10 IoT
    Enterprise LTSC 21H2.  The agent writes SERVICE_PACK as BuildNumber.UBR where UBR exists
    ("19044.5854"), CSDVersion otherwise: the revision is the UBR, not a service pack."""
    db = tmp_path / "db.sqlite"
    sample = GLPI / "glpi-tests-01_computer_full_inventory_soft_and_os.json"
    published = json.loads(sample.read_text("utf-8"))["content"]["operatingsystem"]
    assert published["service_pack"] == "19044.5854" and published["kernel_version"] == "10.0.19044"
    assert run_import(db, sample) == 0
    (host,) = stored(db).values()
    facts = host.os.facts
    assert (facts["build"], facts["ubr"], facts["display_version"]) == ("19044", 5854, "21H2")
    assert "csd_version" not in facts and facts["glpi"]["service_pack"] == "19044.5854"  # the original kept
    assert host.os.kernel == "10.0.19044.5854" and host.os.name == "Microsoft Windows 10 IoT Enterprise LTSC"
    assert verdicts(host)[("os", "windows", "10-21h2-iot-lts")] == "supported"
    (software,) = host.software  # the test inventory's one registry entry
    assert (software.name, software.version, software.registry_view) == (
        "Teclib Software Software",
        "2.20.4853.2486",
        "64",
    )


@pytest.mark.parametrize(
    ("service_pack", "expected"),
    [
        ("Service Pack 1", {"csd_version": "Service Pack 1"}),  # CIM's CSDVersion (no UBR before Windows 10)
        ("7601.1", {"csd_version": "7601.1"}),  # not this build: not read as an update revision
        ("19044.5854", {"ubr": 5854}),
    ],
)
def test_glpi_service_pack_is_a_revision_only_for_the_same_build(
    tmp_path: Path, service_pack: str, expected: dict[str, object]
) -> None:
    body = json.loads((GLPI / "glpi-tests-01_computer_full_inventory_soft_and_os.json").read_text("utf-8"))
    body["content"]["operatingsystem"]["service_pack"] = service_pack
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(body), "utf-8")
    assert run_import(tmp_path / "db.sqlite", path) == 0
    (host,) = stored(tmp_path / "db.sqlite").values()
    assert {k: host.os.facts[k] for k in ("csd_version", "ubr") if k in host.os.facts} == expected


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
