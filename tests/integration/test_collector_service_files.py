"""The collector's service files, against the real things (issue 14, first hour).

* ``examples/postgresql/bootstrap.sql`` run by the real ``psql`` on a real PostgreSQL: the owner
  role can create the schema and store inventories (``legacyscan import``), the read-only role can
  report but not write, and neither can touch another database.
* ``examples/systemd/legacyscan-serve.service`` passes ``systemd-analyze verify`` with its
  ``ExecStart`` pointed at this installation's ``legacyscan``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from scanner.cli import main
from tests.conftest import require_or_skip
from tests.integration.postgres import pg_server  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _url(admin: str, user: str, password: str, db: str) -> str:
    parts = urlsplit(admin)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"postgresql://{quote(user)}:{quote(password, safe='')}@{host}{port}/{db}{query}"


def test_postgresql_bootstrap_gives_an_owner_and_a_read_only_reader(
    pg_server: str,  # noqa: F811 - the fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    psql = shutil.which("psql")
    if psql is None:
        require_or_skip("psql is not installed (apt-get install postgresql-client)")
    suffix = uuid.uuid4().hex[:8]
    db, owner, reader = f"ls_boot_{suffix}", f"ls_owner_{suffix}", f"ls_reader_{suffix}"
    owner_pw, reader_pw = uuid.uuid4().hex, uuid.uuid4().hex
    run = subprocess.run(
        [
            psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"db={db}",
            "-v",
            f"owner={owner}",
            "-v",
            f"reader={reader}",
            "-v",
            f"owner_password={owner_pw}",
            "-v",
            f"reader_password={reader_pw}",
            "-f",
            str(ROOT / "examples/postgresql/bootstrap.sql"),
            pg_server,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        assert run.returncode == 0, run.stderr
        owner_url = _url(pg_server, owner, owner_pw, db)
        reader_url = _url(pg_server, reader, reader_pw, db)
        from tests.unit import report_estate as est

        inventories = []
        for inv in est.inventories()[:3]:  # agent inventory JSON, as an agent's file drop holds it
            path = tmp_path / f"{inv.host.hostname}.json"
            path.write_text(inv.to_json(), encoding="utf-8")
            inventories.append(path)
        assert main(["import", *map(str, inventories), "--db", owner_url]) == 0
        capsys.readouterr()
        assert main(["report", "--db", reader_url, "--format", "json", "--as-of", "2026-11-30"]) == 0
        assert json.loads(capsys.readouterr().out)["kpis"]["devices"] >= 1
        import psycopg

        with psycopg.connect(reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM inventories")
        with psycopg.connect(reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE planted (x int)")
        other = _url(pg_server, owner, owner_pw, "postgres")
        with pytest.raises(psycopg.Error):  # the owner owns its database only: it cannot create elsewhere
            with psycopg.connect(other) as conn:
                conn.execute("CREATE TABLE planted (x int)")
    finally:
        import psycopg

        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{owner}"')
            conn.execute(f'DROP ROLE IF EXISTS "{reader}"')


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        require_or_skip("systemd-analyze is not installed (apt-get install systemd)")
    exe = Path(sys.executable).with_name("legacyscan")
    if not exe.exists():
        pytest.fail(f"{exe} missing: install legacyscan into this interpreter's environment")
    unit = (ROOT / "examples/systemd/legacyscan-serve.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/legacyscan/.venv/bin/legacyscan serve" in unit
    local = tmp_path / "legacyscan-serve.service"
    local.write_text(unit.replace("/opt/legacyscan/.venv/bin/legacyscan", str(exe)), encoding="utf-8")
    res = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [
        line
        for line in (res.stdout + res.stderr).splitlines()
        if "legacyscan-serve.service" in line or "Unknown" in line
    ]
    assert res.returncode == 0 and not problems, res.stdout + res.stderr
