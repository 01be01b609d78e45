"""Bad input as a trust's IT administrator meets it on the command line (haudit's audit): each
defect the audit found gets an error naming the file, field or database, never a traceback or
an "unexpected" Python exception name, and the documented exit code."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
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


def _discover(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``legacyscan discover`` in a child with a deadline: a FIFO given as a file must not hang it."""
    targets = tmp_path / "targets.txt"
    targets.write_text("192.0.2.1\n")  # TEST-NET-1: never probed, the credentials are refused first
    argv = ["discover", "--targets", str(targets), "--db", f"sqlite:///{tmp_path / 'd.db'}", "--as-of", "2026-12-01"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_SNMP")}
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", *argv, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.parametrize("kind", ["fifo", "directory", "deep", "huge"])
def test_discover_credentials_file_that_is_not_a_small_toml_file_is_refused_by_name(tmp_path: Path, kind: str) -> None:
    creds = tmp_path / "creds.toml"
    if kind == "fifo":
        os.mkfifo(creds, 0o600)  # was: open() waited for a writer forever
    elif kind == "directory":
        creds.mkdir(0o700)  # was: "is not valid TOML"
    elif kind == "deep":
        creds.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")  # was: RecursionError
    else:
        creds.write_bytes(b"#" * (2 * 2**20) + b"\n")  # was: read whole, then "is not valid TOML"
    if kind != "directory":
        creds.chmod(0o600)
    proc = _discover(tmp_path, "--credentials", str(creds))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    assert str(creds) in proc.stderr
    expected = {"fifo": "FIFO", "directory": "directory", "deep": "not valid TOML", "huge": "larger than"}[kind]
    assert expected in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--devices", "12", "--seed", "3", "--as-of", "2026-12-01", "-q"]) == 0
    return f"sqlite:///{out / 'demo.db'}"


@pytest.mark.parametrize("day", ["9999-12-31", "9998-01-01", "0001-01-01", "0099-12-31"])
@pytest.mark.parametrize(
    "command",
    [["report", "--format", "json"], ["prune", "--keep-days", "30", "--dry-run"], ["export", "--benchmark"], ["demo"]],
)
def test_an_as_of_date_the_plan_cannot_count_from_is_a_usage_error(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], day: str
) -> None:
    """Was: report/export/demo at 9998+ said "ValueError: year 10001 is out of range", prune and
    demo in year 1 "OverflowError: date value out of range", exit 1 with a -vv hint."""
    db = demo_db if command[0] != "demo" else f"sqlite:///{tmp_path / 'd.db'}"
    extra = ["--out", str(tmp_path / "out")] if command[0] in ("export", "demo") else []
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--db", db, "--as-of", day, *extra])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --as-of: {day} is outside 1900-01-01..9000-12-31" in err, err


def test_the_widest_as_of_dates_still_report(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    for day in ("1900-01-01", "9000-12-31"):
        assert main(["report", "--db", demo_db, "--as-of", day, "--format", "json", "-q"]) == 0
        assert f'"as_of": "{day}"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hosts.txt", "{" * 600_000 + "\n"),  # a JSON file given as a host list
        ("hosts.txt", "\0" * 5_000 + "\n"),
        ("targets.csv", "host,site,transport,port,user,tags\n127.0.0.1,S,ssh,22," + "u" * 100_000 + ",\n"),
        ("targets.csv", "host,site,transport,port,user,tags\n127.0.0.1,S," + "t" * 100_000 + ",22,u,\n"),
        ("inventory.ini", "[" + "x" * 500_000 + "\n"),
    ],
)
def test_a_huge_bad_value_in_a_targets_file_is_named_not_echoed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    """Was: the whole offending line (600 KB here, up to the 16 MiB file limit) was repeated in
    the error message on the terminal."""
    targets = tmp_path / name
    targets.write_text(text)
    assert (
        main(["scan", "--targets", str(targets), "--db", f"sqlite:///{tmp_path / 's.db'}", "--as-of", "2026-12-01"])
        == 1
    )
    err = capsys.readouterr().err
    assert f"{targets}:" in err and "characters)" in err, err[:500]
    assert len(err) < 2_000


def test_a_huge_bad_line_in_an_exclusion_list_is_named_not_echoed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text("192.0.2.1\n")
    exclude = tmp_path / "exclude.txt"
    exclude.write_text("!" * 300_000 + "\n")
    db = f"sqlite:///{tmp_path / 'd.db'}"
    assert (
        main(["discover", "--targets", str(targets), "--exclude", str(exclude), "--db", db, "--as-of", "2026-12-01"])
        == 1
    )
    err = capsys.readouterr().err
    assert f"{exclude}:1:" in err and "(300000 characters) is not a valid host name" in err
    assert len(err) < 2_000


@pytest.mark.parametrize("command", [["report"], ["export", "--benchmark"]])
def test_a_mistyped_db_is_named_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Was: "no inventories stored yet" (no database named), after creating the mistyped file and
    its folders."""
    typo = tmp_path / "lgeacyscan" / "legacyscan.db"
    assert main([*command, "--db", f"sqlite:///{typo}", "--as-of", "2026-12-01"]) == 1
    err = capsys.readouterr().err
    assert f"no inventories stored yet: no database at {typo}" in err and "check --db" in err
    assert not typo.parent.exists()
    empty = tmp_path / "empty.db"
    assert main(["tokens", "list", "--db", f"sqlite:///{empty}"]) == 0  # an existing store, nothing in it
    capsys.readouterr()
    assert main([*command, "--db", f"sqlite:///{empty}", "--as-of", "2026-12-01"]) == 1
    assert f"no inventories stored yet in {empty}" in capsys.readouterr().err


def _register(path: Path, rows: int) -> Path:
    lines = ["Asset Tag,Device Name,Site,Manufacturer,Model,Operating System,Supplier Support End Date"]
    lines += [f"CE-{i},PC-{i},Main,Roche,cobas,Windows XP Professional SP3,2024-12-31" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("store", ["under-a-file", "newer-schema"])
def test_import_into_a_store_that_cannot_be_opened_stops_with_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str
) -> None:
    """Was: one "not stored: unexpected CliError: cannot open SQLite database ..." line per device
    (2,000 for a ConfigMgr export), each after opening the store again."""
    register = _register(tmp_path / "register.csv", 40)
    if store == "under-a-file":
        (tmp_path / "notadir").write_text("x")
        db = tmp_path / "notadir" / "x.db"
        expected = "cannot open SQLite database"
    else:
        db = tmp_path / "newer.db"
        assert main(["tokens", "list", "--db", f"sqlite:///{db}"]) == 0
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA user_version=999")
        expected = "has schema version 999, newer than this legacyscan"
    capsys.readouterr()
    assert main(["import", "--db", f"sqlite:///{db}", str(register)]) == 1
    err = capsys.readouterr().err
    assert expected in err and "stopped after importing 0, duplicates 0" in err, err[:600]
    assert err.count("legacyscan: error:") == 1 and "not stored" not in err and "unexpected" not in err


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("scan", "--connect-timeout", "nan"),  # was: every host "error: ValueError: Invalid value NaN"
        ("scan", "--connect-timeout", "-1"),  # was: every host "error: ValueError: Timeout value out of range"
        ("scan", "--connect-timeout", "inf"),  # was: every host "error: OverflowError: timestamp out of range"
        ("scan", "--connect-timeout", "0"),  # was: every host "unreachable: Operation now in progress"
        ("scan", "--timeout", "nan"),
        ("scan", "--timeout", "-5"),
        ("scan", "--site-rate", "1e-300"),  # was: a host "error: OverflowError: timestamp out of range"
        ("scan", "--site-rate", "nan"),
        ("discover", "--site-rate", "1e-300"),  # was: "error: OverflowError ..." + -vv hint
        ("discover", "--site-rate", "inf"),
        ("capture", "--timeout", "nan"),
        ("capture", "--connect-timeout", "-1"),
    ],
)
def test_timeouts_and_rates_that_are_no_positive_finite_number_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    targets = tmp_path / "targets.csv"
    targets.write_text("host,site,transport,port\n192.0.2.1,S,ssh,22\n")
    where = (
        ["--ssh", "192.0.2.1", "--out", str(tmp_path / "cap")] if command == "capture" else ["--targets", str(targets)]
    )
    with pytest.raises(SystemExit) as exit_:
        main([command, *where, "--db", f"sqlite:///{tmp_path / 's.db'}", f"{option}={value}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {value} is not between" in err, err[-300:]
    assert not (tmp_path / "s.db").exists()  # nothing scanned, nothing stored


@pytest.mark.parametrize(("value", "why"), [("99999999999d", "is not like 90m"), ("-5m", "is negative")])
def test_a_resume_age_that_is_no_duration_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, why: str
) -> None:
    """Was: 99999999999d "error: OverflowError: Python int too large to convert to C int" (exit 1);
    -5m resumed nothing without a word."""
    targets = tmp_path / "targets.csv"
    targets.write_text("host,site,transport,port\n192.0.2.1,S,ssh,22\n")
    code = main(["scan", "--targets", str(targets), "--db", f"sqlite:///{tmp_path / 's.db'}", f"--resume={value}"])
    assert code == 2
    assert f"duration {value!r} {why}" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--ssh-key", "--known-hosts"])
@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_ssh_key_or_known_hosts_that_is_no_regular_file_is_refused_before_scanning(
    tmp_path: Path, option: str, kind: str
) -> None:
    """Was: a FIFO hung `scan` (the key read at start, known_hosts when the scan began); a
    directory as known_hosts made every host "unreachable: IsADirectoryError"."""
    path = tmp_path / "thing"
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    else:
        path.mkdir()
    targets = tmp_path / "targets.csv"
    targets.write_text("host,site,transport,port\n192.0.2.1,S,ssh,22\n")
    argv = ["scan", "--targets", str(targets), "--db", f"sqlite:///{tmp_path / 's.db'}", option, str(path)]
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli", *argv, "--connect-timeout", "1", "--progress", "none"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert f"{path}: " in proc.stderr and ("FIFO" if kind == "fifo" else "directory") in proc.stderr
    assert "only regular files are read" in proc.stderr and "unreachable" not in proc.stderr
