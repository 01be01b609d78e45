"""Raw collection documents through ``legacyscan import`` (issue #11 item 5): a ``windows-collect/1``
document imports as the host it describes, judged like a scanned one; an unknown schema is refused
by name.  The documents are the WinRS test endpoint's, made from real hosts (see each
``tests/fixtures/hosts/windows-*/provenance.json``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.imports_support import run_import, stored, verdicts

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"


def test_windows_collect_documents_import_as_their_hosts(tmp_path: Path, capsys) -> None:
    files = [
        HOSTS / "windows-win7-sp1-enterprise-n-x64-fr" / "collect.json",
        HOSTS / "windows-srv2012-standard-aws" / "collect.json",
    ]
    db = tmp_path / "db.sqlite"
    assert run_import(db, *files) == 0
    assert "imported 2, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    win7 = next(inv for inv in hosts.values() if "7601" in json.dumps(inv.os.facts))
    assert win7.os.family == "windows" and win7.collector.transport == "agent"
    assert verdicts(win7)[("os", "windows", "7-sp1")] == "eol"
    assert run_import(db, *files) == 0
    assert "imported 0, duplicates 2" in capsys.readouterr().err


def test_unknown_raw_schema_is_refused_naming_it(tmp_path: Path, capsys) -> None:
    doc = tmp_path / "future.json"
    doc.write_text(json.dumps({"legacyscan": "amiga-collect/9", "host": {"hostname": "a500"}}))
    db = tmp_path / "db.sqlite"
    assert run_import(db, doc) == 1
    err = capsys.readouterr().err
    assert "future.json: refused: field 'legacyscan': unknown raw document format 'amiga-collect/9'" in err
    assert "(read as raw)" in err
    assert stored(db) == {}
