"""Device register import (clinical engineering / asset register, CSV and XLSX): hosts with
``source: register``, judged like any other evidence, the supplier's end date deciding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scanner.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "device-register.csv"


def _report(db: str, capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert main(["report", "--db", db, "--format", "json", "--as-of", "2026-12-06"]) == 0
    report = json.loads(capsys.readouterr().out)
    return {h["hostname"]: h for s in report["sites"] for h in s["hosts"]} | {"__evidence__": report["evidence"]}


def test_register_csv_imports_as_register_hosts_with_supplier_dates_deciding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    assert main(["import", str(EXAMPLE), "--db", db]) == 0
    hosts = _report(db, capsys)
    ct, us, lab, gw = hosts["CT-CONSOLE-1"], hosts["US-CART-7"], hosts["LAB-ANALYSER-2"], hosts["CE-01311"]
    assert all(h["source"] == "register" and "discovered" not in h for h in (ct, us, lab, gw))
    # Windows 10 LTSC 2019 (dataset: supported to 2029) but the supplier supports the scanner to 2031
    assert ct["os"]["status"] == "supported" and ct["os"]["eol"] == "2031-03-31"
    assert ct["os"]["match"]["rule"].startswith("register.supplier-end-date+windows")
    assert ct["os"]["match"]["evidence"]["mds2"] == "MDS2-SH-2019-044"
    # the supplier's end date (2024-12-31) decides even where the OS's own dataset date differs
    assert us["os"]["status"] == "eol" and us["os"]["eol"] == "2024-12-31"
    assert "per the device register" in us["os"]["match"]["reason"]
    # no supplier date: the recorded OS is judged like any other evidence
    assert lab["os"]["product"] == "windows" and lab["os"]["status"] == "eol"
    # an unreadable date is ignored with a problem; the row and its neighbours are kept
    assert gw["os"]["product"] == "windows-server"
    evidence = hosts["__evidence__"]
    assert evidence["scope"]["register_not_inventoried"] == 4


def test_register_xlsx_and_a_later_inventory_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Device", "Site", "Ward", "Make", "Model", "OS and version", "End of support", "MDS2", "Hostname"])
    from datetime import date

    ws.append(
        [
            "Infusion gateway",
            "RXX01",
            "ICU",
            "B. Braun",
            "SpaceOnline",
            "Windows XP Embedded SP3",
            date(2019, 6, 30),
            "MDS2-BB-0007",
            "icu-gw-01",
        ]
    )
    ws.append([None, "RXX01", "ICU", "Philips", "IntelliVue", "Windows 7 Professional", None, None, None])
    path = tmp_path / "Medical Devices.xlsx"
    wb.save(path)
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    assert main(["import", str(path), "--db", db]) == 0
    hosts = _report(db, capsys)
    gw = hosts["icu-gw-01"]
    assert gw["source"] == "register" and gw["os"]["status"] == "eol" and gw["os"]["eol"] == "2019-06-30"
    assert any(n.startswith("register-line-") for n in hosts)  # a row without a device name is kept
    # an agent later inventories icu-gw-01: the inventory wins, the register record leaves the report
    from agents.inventory import Collector, Host, Inventory, OsInfo

    inv = Inventory(
        host=Host(hostname="icu-gw-01.example.nhs.uk", machine_id="0f1e", site="RXX01"),
        os=OsInfo(
            family="windows",
            name="Windows 10 Enterprise LTSC 2021",
            facts={"caption": "Microsoft Windows 10 Enterprise LTSC", "version": "10.0.19044", "build": "19044"},
        ),
        collected_at="2026-12-01T10:00:00Z",
        collector=Collector(transport="agent"),
    )
    agent_file = tmp_path / "icu-gw-01.json"
    agent_file.write_text(inv.to_json())
    assert main(["import", str(agent_file), "--db", db]) == 0
    hosts = _report(db, capsys)
    assert "icu-gw-01" not in hosts and "icu-gw-01.example.nhs.uk" in hosts


def test_a_file_that_is_not_a_register_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "staff.csv"
    bad.write_text("name,ward,phone\nA,B,C\n")
    assert main(["import", str(bad), "--db", f"sqlite:///{tmp_path / 'ls.db'}", "--format", "register"]) == 1
    assert "register" in capsys.readouterr().err
    shutil.rmtree(tmp_path, ignore_errors=True)


def _register_xlsx(path: Path, damage: str = "") -> Path:
    """The example register as a real XLSX workbook (openpyxl), optionally damaged the way a
    half-copied or hand-edited file is: a sheet's XML cut short, a cell reference no spreadsheet
    has, no worksheet at all, or sharedStrings inflating to 300 MiB (honest sizes, deflate)."""
    import csv
    import io
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    with EXAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/worksheets/sheet1.xml":
                if damage == "cut":
                    data = data[: len(data) // 2]
                elif damage == "cell-ref":
                    data = data.replace(b'<c r="A2"', b'<c r="ZZZZZZZ2"', 1)
                elif damage == "no-sheet":
                    continue
            dst.writestr(name, data)
        if damage == "bomb":
            dst.writestr("xl/sharedStrings.xml", b" " * (300 * 2**20))
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("damage", ["cut", "cell-ref", "no-sheet", "bomb"])
def test_a_damaged_register_workbook_is_refused_by_name_and_its_neighbour_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """#19 (0 unexpected exceptions; item 3: one bad file never costs its neighbours): what openpyxl
    and the XML/zip layers raise on a damaged workbook -- ParseError, IndexError, ValueError, also
    while the rows are read -- is a refusal naming the file, not an "unexpected ..." crash report."""
    bad = _register_xlsx(tmp_path / "damaged.xlsx", damage)
    good = _register_xlsx(tmp_path / "good.xlsx")
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    capsys.readouterr()
    assert main(["import", str(bad), str(good), "--db", db]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: refused: not a readable XLSX workbook" in err, err
    assert "unexpected" not in err, err
    if damage == "bomb":
        assert "over the limit of" in err, err
    assert "imported 4, duplicates 0, refused 1 (of 2 files)" in err, err


def test_a_register_workbook_in_an_import_folder_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clinical engineering register saved as XLSX into the drop folder beside the CSV/JSON
    exports is read like the files around it (it was skipped: the folder search knew no .xlsx), and
    a workbook that is no register is refused by name while its neighbours import."""
    drop = tmp_path / "drop"
    (drop / "registers").mkdir(parents=True)
    _register_xlsx(drop / "registers" / "Medical Devices.xlsx")
    from openpyxl import Workbook

    other = Workbook()
    other.active.append(["name", "ward", "phone"])
    other.save(drop / "rota.xlsx")
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    capsys.readouterr()
    assert main(["import", str(drop), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "rota.xlsx: refused" in err, err
    assert "imported 4, duplicates 0, refused 1 (of 2 files)" in err, err
    hosts = _report(db, capsys)
    assert sum(1 for name, h in hosts.items() if name != "__evidence__" and h.get("source") == "register") == 4
