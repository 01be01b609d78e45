"""Configuration Manager CSV exports: per-view files joined on ResourceID, the joined query saved by
SQL Server Management Studio as Unicode (UTF-16), and hostile variants.

The fixtures are ConfigMgr view exports in the documented column layout holding the values of four
real Windows hosts (tests/fixtures/imports/configmgr/PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

CM = IMPORTS / "configmgr"
VIEWS = sorted(CM.glob("v_*.csv"))


def test_per_view_files_join_into_hosts_judged_like_scanned_ones(tmp_path: Path, capsys) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, *VIEWS) == 0
    assert f"imported 4, duplicates 0, refused 0 (of {len(VIEWS)} files)" in capsys.readouterr().err
    hosts = stored(db)
    assert sorted(hosts) == ["PC-W11-EVAL-01", "PC-W7-ENT-01", "SRV-2008R2-01", "SRV-2012-01"]
    w7 = hosts["PC-W7-ENT-01"]
    assert w7.collector.source == "configmgr" and w7.collector.transport == "import"
    assert w7.os.family == "windows" and w7.os.facts["csd_version"] == "Service Pack 1"
    assert w7.os.facts["configmgr"]["caption"] == "Microsoft Windows 7 Enterprise "  # the original value, kept
    assert w7.collected_at == "2019-03-05T21:30:00Z"
    assert verdicts(w7)[("os", "windows", "7-sp1")] == "eol"
    srv = hosts["SRV-2008R2-01"]
    views = {s.name: s.registry_view for s in srv.software}
    assert views["Mozilla Firefox 53.0.2 (x86 fr)"] == "32" and views["Internet Explorer (64bit)"] == "64"
    assert all(s.source == "windows-registry" for s in srv.software)
    judged = verdicts(srv)
    assert judged[("os", "windows-server", "2008-r2-sp1")] == "eol"
    assert judged[("software", "internet-explorer", "8")] == "eol"
    assert srv.hardware.cpu_model.startswith("Intel(R) Core(TM) i7-3740QM")
    rows = sum(
        line.startswith("16777219,")
        for f in CM.glob("v_GS_ADD_REMOVE_PROGRAMS*.csv")
        for line in f.read_text(encoding="utf-8-sig").splitlines()
    )
    assert len(hosts["SRV-2012-01"].software) == rows == 23


def test_joined_unicode_export_gives_the_same_hosts(tmp_path: Path) -> None:
    per_view = tmp_path / "a.sqlite"
    joined = tmp_path / "b.sqlite"
    assert run_import(per_view, *VIEWS) == 0
    assert run_import(joined, CM / "joined-query-ssms-unicode.csv") == 0
    a, b = stored(per_view), stored(joined)
    assert sorted(a) == sorted(b)
    for name in a:
        assert sorted((s.name, s.version, s.registry_view) for s in a[name].software) == sorted(
            (s.name, s.version, s.registry_view) for s in b[name].software
        )
        assert a[name].os.facts["caption"] == b[name].os.facts["caption"]
        assert a[name].collected_at == b[name].collected_at


def test_importing_the_export_again_stores_nothing_twice(tmp_path: Path, capsys) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, *VIEWS) == 0
    capsys.readouterr()
    assert run_import(db, CM) == 0  # the folder: per-view files and the joined export
    assert "imported 0, duplicates 4," in capsys.readouterr().err


def _copy(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


HEADER = "ResourceID,GroupID,RevisionID,AgentID,TimeStamp,DisplayName0,InstallDate0,ProdID0,Publisher0,Version0\r\n"


def test_formula_injection_and_nul_in_names_are_kept_as_text_and_neutralised_in_reports(tmp_path: Path, capsys) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    _copy(
        drop,
        "v_R_System.csv",
        'ResourceID,Netbios_Name0,Build01\r\n16777217,"=HYPERLINK(""http://x"",""y"")",6.1.7601\r\n',
    )
    _copy(drop, "v_GS_OPERATING_SYSTEM.csv", (CM / "v_GS_OPERATING_SYSTEM.csv").read_text(encoding="utf-8-sig"))
    _copy(
        drop,
        "v_GS_ADD_REMOVE_PROGRAMS.csv",
        HEADER + '16777217,1,1,0,2019-03-05,"Adobe\x00Reader",NULL,{2}," @SUM(1)",9.0\r\n',
    )
    db = tmp_path / "db.sqlite"
    assert run_import(db, drop) == 0
    host = stored(db)['=HYPERLINK("http://x","y")']
    assert [s.name for s in host.software] == ["Adobe\ufffdReader"]
    assert host.software[0].publisher == "@SUM(1)"
    out = tmp_path / "report.csv"
    from scanner.cli import main

    assert main(
        ["report", "--db", f"sqlite:///{db}", "--format", "csv", "--out", str(out), "--as-of", "2026-12-01"]
    ) in (0, 3)
    import csv

    rows = [r for r in csv.DictReader(out.open()) if "HYPERLINK" in r["host"]]
    assert rows and all(r["host"].startswith("'=") for r in rows)


def test_a_short_row_refuses_the_file_naming_the_line_and_stores_nothing_of_it(tmp_path: Path, capsys) -> None:
    bad = _copy(
        tmp_path,
        "v_GS_ADD_REMOVE_PROGRAMS.csv",
        HEADER + "16777217,1,1,0,2019,Good,NULL,{1},P,1.0\r\n16777217,1,1,0\r\n",
    )
    db = tmp_path / "db.sqlite"
    assert run_import(db, bad, CM / "v_R_System.csv") == 1
    err = capsys.readouterr().err
    assert "v_GS_ADD_REMOVE_PROGRAMS.csv: refused: line 3: 4 fields where the header has 10 (read as configmgr)" in err
    assert all(not inv.software for inv in stored(db).values())


def test_windows_1252_semicolon_export_and_sqlcmd_trailer(tmp_path: Path) -> None:
    path = tmp_path / "arp.csv"
    path.write_bytes(
        (
            HEADER.replace(",", ";")
            + "16777217;1;1;0;2019;Micros\xf6ft Office Prof\xe9ssional 2010;NULL;{9};Microsoft;"
            + "14.0.4763.1000\r\n"
            + "\r\n(1 rows affected)\r\n"
        ).encode("cp1252")
    )
    db = tmp_path / "db.sqlite"
    assert run_import(db, path, CM / "v_R_System.csv", CM / "v_GS_OPERATING_SYSTEM.csv") == 0
    [office] = stored(db)["PC-W7-ENT-01"].software
    assert office.name == "Micros\xf6ft Office Prof\xe9ssional 2010" and office.registry_view == "32"


def test_an_oversized_field_and_an_unknown_csv_are_refused_by_name(tmp_path: Path, capsys) -> None:
    huge = _copy(tmp_path, "huge.csv", HEADER + "1,1,1,0,2019," + "A" * 2_000_000 + ",NULL,{1},P,1\r\n")
    other = _copy(tmp_path, "people.csv", "Name,Email\r\nA,b@c\r\n")
    db = tmp_path / "db.sqlite"
    assert run_import(db, huge, other) == 1
    err = capsys.readouterr().err
    assert "huge.csv: refused: line 2" in err and "people.csv: refused: not a format legacyscan imports" in err
    assert "configmgr: columns match no ConfigMgr view" in err or "configmgr: no ResourceID column" in err


def test_a_configmgr_windows_7_host_gets_os_and_application_findings_in_the_report(tmp_path: Path) -> None:
    """End to end through the real CLI: ConfigMgr export -> import -> JSON report.  The program rows
    are real Add/Remove Programs strings (scanner/demo_data/windows_software_strings.jsonl, each with
    its source) placed on the Windows 7 host."""
    import json

    from scanner.cli import main

    arp = _copy(
        tmp_path,
        "v_GS_ADD_REMOVE_PROGRAMS.csv",
        HEADER + "16777217,1,1,0,2019,Adobe Flash Player 32 ActiveX,20190305,{F1},Adobe Systems Incorporated,"
        "32.0.0.114\r\n" + "16777217,1,1,0,2019,Java(TM) 6 Update 31,20190305,{26A24AE4},Oracle,6.0.310\r\n",
    )
    db = tmp_path / "db.sqlite"
    assert run_import(db, CM / "v_R_System.csv", CM / "v_GS_OPERATING_SYSTEM.csv", arp) == 0
    out = tmp_path / "report.json"
    assert main(
        ["report", "--db", f"sqlite:///{db}", "--format", "json", "--out", str(out), "--as-of", "2026-12-01"]
    ) in (0, 3)
    report = json.loads(out.read_text())
    host = next(h for s in report["sites"] for h in s["hosts"] if h["hostname"] == "PC-W7-ENT-01")
    assert host["os"]["product"] == "windows" and host["os"]["cycle"] == "7-sp1" and host["os"]["status"] == "eol"
    text = json.dumps(host)
    assert "Adobe Flash Player 32 ActiveX" in text and "Java(TM) 6 Update 31" in text
    judged = verdicts(stored(db)["PC-W7-ENT-01"])
    assert [k for k, v in judged.items() if k[0] == "software" and v == "eol"], judged
