"""Imports into the real PostgreSQL backend: a ConfigMgr export, a GLPI file and a folder with a bad
file land the same as on SQLite, NUL bytes in values (neutralised at import) never fail a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from scanner.store.open import open_store
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures

IMPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "imports"

pytestmark = pytest.mark.integration


def test_imports_land_in_postgresql(pg_url: str, tmp_path: Path, capsys) -> None:  # noqa: F811
    arp = tmp_path / "v_GS_ADD_REMOVE_PROGRAMS.csv"
    arp.write_text(
        "ResourceID,DisplayName0,Version0,Publisher0,ProdID0\r\n16777217,Nul\x00Name,1.0,Evil\x00Corp,{1}\r\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"inventory_id": "x", "host": {"hostname": "\\ud800"}}')
    files = [
        IMPORTS / "configmgr" / "v_R_System.csv",
        IMPORTS / "configmgr" / "v_GS_OPERATING_SYSTEM.csv",
        arp,
        IMPORTS / "glpi" / "2.xml",
        bad,
    ]
    assert main(["import", *map(str, files), "--db", pg_url]) == 1
    err = capsys.readouterr().err
    assert "bad.json: refused" in err and "imported 5, duplicates 0, refused 1 (of 5 files)" in err
    with open_store(pg_url) as store:
        hosts = {inv.host.hostname: inv for inv in store.latest_inventories()}
    assert sorted(hosts) == ["PC-W11-EVAL-01", "PC-W7-ENT-01", "SRV-2008R2-01", "SRV-2012-01", "pc-arg-23"]
    [sw] = hosts["PC-W7-ENT-01"].software
    assert sw.name == "Nul\ufffdName" and sw.publisher == "Evil\ufffdCorp"
    assert main(["import", *map(str, files[:4]), "--db", pg_url]) == 0
    assert "imported 0, duplicates 5" in capsys.readouterr().err
