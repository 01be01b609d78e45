"""Hostile variants of the real samples (issue #16 item 3) for the importers whose own test files
cover only wrong types: Intune (Graph JSON, a single managedDevice and the admin centre CSV),
osquery (ours and a recorded osqueryd 2.10 log), Defender's machines page and 2021 software
inventory page, the device register, GLPI and CycloneDX.  Each variant is made here from the published sample
(tests/fixtures/imports/PROVENANCE.md) and imported next to an untouched neighbour:

* CSV formula injection in names is stored as the text it is, and neutralised in the CSV report;
* a huge value is kept, cut to the inventory's string limit, and never fails its file;
* nesting deep enough to exhaust a recursive parser refuses the file by name, and the neighbour
  is still imported.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from agents.inventory import MAX_STRING
from scanner.cli import main
from tests.unit.imports_support import IMPORTS, run_import, stored

FORMULA = '=HYPERLINK("http://evil.example/x","open")'
AT_FORMULA = "@SUM(1+1)*cmd|' /C calc'!A0"
HUGE = "A" * 100_000  # under the CSV module's field limit (a longer CSV field refuses its file naming the line)
DEEP = "[" * 100_000 + "]" * 100_000
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _intune_json(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "intune" / "graph-managedDevices.json").read_text())
    data["value"][0]["deviceName"] = FORMULA
    data["value"][0]["model"] = HUGE
    out = tmp / "managedDevices.json"
    out.write_text(json.dumps(data))
    return out, FORMULA


def _intune_csv(tmp: Path) -> tuple[Path, str]:
    text = (IMPORTS / "intune" / "admin-centre-devices-export.csv").read_text("utf-8-sig")
    lines = text.splitlines()
    lines[1] = lines[1].replace("PC-W10-ENT-01,", f'"{FORMULA.replace(chr(34), chr(34) * 2)}",', 1)
    lines[1] = lines[1].replace("OptiPlex SX280", HUGE, 1)
    out = tmp / "DevicesWithInventory.csv"
    out.write_text("\n".join(lines) + "\n", "utf-8-sig")
    return out, FORMULA


def _osquery(tmp: Path) -> tuple[Path, str]:
    lines = (IMPORTS / "osquery" / "osqueryd.results.log").read_text().splitlines()
    out_lines = []
    for line in lines:
        rec = json.loads(line)
        if rec.get("hostIdentifier") == "ubuntu20":
            rec["hostIdentifier"] = AT_FORMULA
            cols = rec.get("columns")
            if isinstance(cols, dict) and "hostname" in cols:
                cols["hostname"] = AT_FORMULA
            if isinstance(cols, dict) and rec["name"].endswith("deb_packages") and cols.get("name"):
                cols["name"] = HUGE
        out_lines.append(json.dumps(rec))
    out = tmp / "osqueryd.results.log"
    out.write_text("\n".join(out_lines) + "\n")
    return out, AT_FORMULA


def _defender(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "defender" / "defender-docs-machines-example-fixed.json").read_text())
    data["value"][0]["computerDnsName"] = FORMULA
    data["value"][0]["aadDeviceId"] = HUGE
    out = tmp / "machines.json"
    out.write_text(json.dumps(data))
    return out, FORMULA


def _register(tmp: Path) -> tuple[Path, str]:
    text = (EXAMPLES / "device-register.csv").read_text("utf-8-sig")
    text = text.replace("CT-CONSOLE-1,", f'"{FORMULA.replace(chr(34), chr(34) * 2)}",', 1)
    text = text.replace("Radiology CT1", HUGE, 1)
    out = tmp / "register.csv"
    out.write_text(text)
    return out, FORMULA


def _intune_rapid7(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "intune" / "rapid7-insightconnect-get_devices.json").read_text())
    data["value"][1]["deviceName"] = AT_FORMULA
    data["value"][1]["serialNumber"] = HUGE
    out = tmp / "rapid7-managedDevices.json"
    out.write_text(json.dumps(data))
    return out, AT_FORMULA


def _defender_rapid7(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "defender" / "rapid7-insightconnect-search_machines.json").read_text())
    data["value"][0]["computerDnsName"] = FORMULA
    data["value"][0]["machineTags"] = [HUGE]
    data["value"][1]["osProcessor"] = HUGE
    out = tmp / "rapid7-machines.json"
    out.write_text(json.dumps(data))
    return out, FORMULA


def _glpi(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "glpi" / "computer_1.json").read_text())
    data["content"]["hardware"]["name"] = FORMULA
    data["content"]["softwares"][0]["name"] = HUGE
    out = tmp / "glpi.json"
    out.write_text(json.dumps(data))
    return out, FORMULA


def _cyclonedx(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "sbom" / "trivy-centos-7-cyclonedx.json").read_text())
    data["metadata"]["component"]["name"] = AT_FORMULA
    data["components"][0]["name"] = HUGE
    out = tmp / "bom.cdx.json"
    out.write_text(json.dumps(data))
    return out, AT_FORMULA


def _osquery_2_10(tmp: Path) -> tuple[Path, str]:
    """Elastic's recorded osqueryd 2.10 lines: the host identifier and a package name as formulas, the
    CPU brand of the first line as a huge value (so that line, in osquery 2.x's key order, is longer
    than the head read for detection: its host and query name come after the huge value)."""
    lines = (IMPORTS / "osquery" / "elastic-integrations-test-osquery-ubuntu-xenial.log").read_text().splitlines()
    out_lines = []
    for i, line in enumerate(lines):
        rec = json.loads(line)
        rec["hostIdentifier"] = FORMULA
        if i == 0:  # system_info: its hostname names the host
            rec["columns"] |= {"cpu_brand": HUGE, "hostname": FORMULA}
        if i == 3:  # the first deb_packages row (after system_info and two os_version lines)
            rec["columns"]["name"] = AT_FORMULA
        out_lines.append(json.dumps(rec))
    out = tmp / "osqueryd-2.10.results.log"
    out.write_text("\n".join(out_lines) + "\n")
    return out, FORMULA


def _defender_2021(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "defender" / "defender-docs-SoftwareInventoryByMachine-example-2021.json").read_text())
    for row in data["value"][:3]:  # one deviceId: its rows
        row["deviceName"] = FORMULA
    data["value"][1]["softwareName"] = AT_FORMULA
    data["value"][2]["registryPaths"] = [HUGE]
    out = tmp / "SoftwareInventoryByMachine.json"
    out.write_text(json.dumps(data))
    return out, FORMULA


def _intune_entity(tmp: Path) -> tuple[Path, str]:
    data = json.loads((IMPORTS / "intune" / "rapid7-insightconnect-get_device.json").read_text())
    data["deviceName"] = AT_FORMULA
    data["model"] = HUGE
    out = tmp / "managedDevice.json"
    out.write_text(json.dumps(data))
    return out, AT_FORMULA


VARIANTS = {
    "osquery-2.10": _osquery_2_10,
    "defender-2021": _defender_2021,
    "intune-entity": _intune_entity,
    "intune-json": _intune_json,
    "intune-csv": _intune_csv,
    "osquery": _osquery,
    "defender": _defender,
    "register": _register,
    "intune-rapid7": _intune_rapid7,
    "defender-rapid7": _defender_rapid7,
    "glpi": _glpi,
    "cyclonedx": _cyclonedx,
}


def _values(inv: object) -> list[str]:
    out: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(inv.to_dict())  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_formula_names_and_huge_values_are_stored_as_text_and_neutralised_in_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path, name = VARIANTS[kind](tmp_path)
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0, capsys.readouterr().err
    hosts = stored(db)
    assert any(h == name or h.startswith(name) for h in hosts), sorted(hosts)
    values = [v for inv in hosts.values() for v in _values(inv)]
    assert HUGE not in values  # never stored whole ...
    cut = [v for v in values if v.startswith("A" * 1000)]
    assert cut and all(len(v) <= MAX_STRING for v in cut)  # ... but kept, cut to the string limit
    capsys.readouterr()
    assert main(["report", "--db", f"sqlite:///{db}", "--format", "csv", "--as-of", "2026-12-01"]) in (0, 3)
    cells = [c for row in csv.reader(io.StringIO(capsys.readouterr().out)) for c in row]
    assert not any(c.startswith(("=", "@", "+", "-")) and c.lstrip("=@+-")[:1].isalpha() for c in cells)
    assert any(name in c and c.startswith("'") for c in cells)  # shown, neutralised


def _deep_variant(kind: str, tmp: Path) -> Path:
    if kind in ("osquery", "osquery-2.10"):
        name = "osqueryd.results.log" if kind == "osquery" else "elastic-integrations-test-osquery-ubuntu-xenial.log"
        good = (IMPORTS / "osquery" / name).read_text().splitlines()
        rec = json.loads(good[0])
        out = tmp / "deep.results.log"
        body = json.dumps(rec)[:-1] + ', "decorations": ' + DEEP + "}"
        out.write_text("\n".join([good[0], body, *good[1:]]) + "\n")
        return out
    src, anchor = {  # the deep value goes before this key (after what detection reads)
        "intune-json": (IMPORTS / "intune" / "graph-managedDevices.json", '"value"'),
        "intune-rapid7": (IMPORTS / "intune" / "rapid7-insightconnect-get_devices.json", '"deviceActionResults"'),
        "defender": (IMPORTS / "defender" / "defender-docs-machines-example-fixed.json", '"value"'),
        "defender-rapid7": (IMPORTS / "defender" / "rapid7-insightconnect-search_machines.json", '"machineTags"'),
        "defender-2021": (
            IMPORTS / "defender" / "defender-docs-SoftwareInventoryByMachine-example-2021.json",
            '"value"',
        ),
        "intune-entity": (IMPORTS / "intune" / "rapid7-insightconnect-get_device.json", '"deviceActionResults"'),
        "glpi": (IMPORTS / "glpi" / "computer_1.json", '"softwares"'),
        "cyclonedx": (IMPORTS / "sbom" / "trivy-centos-7-cyclonedx.json", '"components"'),
    }[kind]
    text = src.read_text()
    assert anchor in text
    out = tmp / f"deep-{src.name}"
    out.write_text(text.replace(anchor, '"deep": ' + DEEP + ", " + anchor, 1))
    return out


@pytest.mark.parametrize(
    "kind",
    [
        "intune-json",
        "intune-rapid7",
        "intune-entity",
        "osquery",
        "osquery-2.10",
        "defender",
        "defender-rapid7",
        "defender-2021",
        "glpi",
        "cyclonedx",
    ],
)
def test_deep_nesting_refuses_the_file_by_name_and_its_neighbour_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    deep = _deep_variant(kind, tmp_path)
    neighbour = tmp_path / "neighbour"
    neighbour.mkdir()
    good = shutil.copy(IMPORTS / "glpi" / "computer_1.json", neighbour / "computer_1.json")
    db = tmp_path / "db.sqlite"
    assert run_import(db, deep, good) == 1
    err = capsys.readouterr().err
    assert f"{deep.name}: refused: " in err and "nested too deeply" in err, err
    assert "refused 1 (of 2 files)" in err
    hosts = stored(db)
    assert len(hosts) == 1 and all(inv.collector.source == "glpi" for inv in hosts.values())
