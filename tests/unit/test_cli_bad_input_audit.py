"""Bad input as a trust's IT administrator meets it on the command line (haudit's audit): each
defect the audit found gets an error naming the file, field or database, never a traceback or
an "unexpected" Python exception name, and the documented exit code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scanner.cli import main


def _refusing_tokens_db(tmp_path: Path) -> str:
    """A store whose tokens table refuses every write, as a read-only file, a read-only folder or
    a full disk does (the test runs as root, for whom a chmod 444 file is still writable)."""
    db = tmp_path / "store.db"
    assert main(["tokens", "list", "--db", f"sqlite:///{db}", "-q"]) == 0
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO tokens VALUES ('abc123def456', 'h', 'Site', '', '2026-01-01T00:00:00Z', '')")
    for event in ("INSERT", "UPDATE"):
        conn.execute(
            f"CREATE TRIGGER no_{event.lower()} BEFORE {event} ON tokens "
            "BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END"
        )
    conn.commit()
    conn.close()
    return f"sqlite:///{db}"


def test_tokens_on_a_store_that_refuses_writes_name_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _refusing_tokens_db(tmp_path)
    capsys.readouterr()
    assert main(["tokens", "create", "--site", "Main", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "cannot save the token in" in err and "store.db" in err and "readonly" in err
    assert "OperationalError" not in err and "IntegrityError" not in err and "-vv" not in err
    assert main(["tokens", "revoke", "abc123def456", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "cannot revoke the token in" in err and "store.db" in err
    assert "Error:" not in err and "-vv" not in err
