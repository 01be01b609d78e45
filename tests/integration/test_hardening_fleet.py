"""#19 item 2 in a real fleet scan: ``legacyscan scan`` over real OpenSSH sshd on loopback, where one
host's package manager prints NUL characters, stores every host's inventory and status - on
PostgreSQL (which refuses NUL in text) exactly as on SQLite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.store.open import open_store
from scanner.store.sqlite import decode_body
from tests.conftest import require_or_skip
from tests.integration import sshd
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
NUL_HOST, NUL_ERROR_HOST = 1, 2


@pytest.fixture(scope="module")
def nulbins() -> Iterator[tuple[Path, Path]]:
    """Fake ``rpm`` programs of a broken RPM database: one prints package lines carrying NUL
    characters, the other fails with NUL in its error message (which becomes the scan status)."""
    folders = []
    for script in (
        "printf 'nul\\000pkg\\t1.0\\t1.el9\\tx86_64\\tVendor\\000Inc\\nplain-pkg\\t2.0\\t1.el9\\tx86_64\\tVendor\\n'\n",
        "printf 'rpmdb: damaged\\000page\\n' >&2\nexit 1\n",
    ):
        root = Path(tempfile.mkdtemp(prefix="legacyscan-nul-"))
        root.chmod(0o755)
        (root / "rpm").write_text("#!/bin/sh\n" + script)
        (root / "rpm").chmod(0o755)
        folders.append(root)
    yield folders[0], folders[1]
    for root in folders:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(nulbins: tuple[Path, Path]) -> Iterator[sshd.Fleet]:
    why = sshd.available()
    if why:
        require_or_skip(why)
    f = sshd.start_fleet(
        3,
        first=90,
        extra={
            NUL_HOST: f"SetEnv PATH={nulbins[0]}:/usr/bin:/bin",
            NUL_ERROR_HOST: f"SetEnv PATH={nulbins[1]}:/usr/bin:/bin",
        },
    )
    yield f
    f.stop()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_fleet_scan_with_a_host_printing_nul_stores_every_host(
    fleet: sshd.Fleet, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else f"sqlite:///{tmp_path / 'f.db'}"
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "host,site,transport,port,user,tags\n"
        + "".join(f"{a},Main,ssh,{fleet.port},{sshd.USER},\n" for a in fleet.addresses)
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_") or k == "LEGACYSCAN_REQUIRE_INTEGRATION"
    }
    env.pop("SSH_AUTH_SOCK", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner.cli",
            "scan",
            "--targets",
            str(targets),
            "--ssh-key",
            str(fleet.client_key),
            "--known-hosts",
            str(fleet.known_hosts),
            "--no-agent",
            "--db",
            db,
            "--no-report",
            "--timeout",
            "60",
            "--progress",
            "none",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert proc.returncode == 0, proc.stderr
    with open_store(db) as s:
        statuses = {a: (st.status, st.error) for st in s.statuses() for a in fleet.addresses if f"{a}:" in st.target}
        # Every inventory (the loopback hosts are one machine: one machine id, so "latest" is one).
        sql = "SELECT body FROM inventories"
        rows = s._all(sql, ()) if backend == "postgresql" else s.conn.execute(sql).fetchall()  # type: ignore[attr-defined]
        invs = {
            a: i
            for i in (decode_body(bytes(b)) for (b,) in rows)
            for a in fleet.addresses
            if i.host.address.startswith(a)
        }
    assert sorted(statuses) == sorted(fleet.addresses), statuses
    assert all(status in ("ok", "partial") and "\x00" not in error for status, error in statuses.values()), statuses
    assert sorted(invs) == sorted(fleet.addresses)
    rpm = {p.name: p for p in invs[fleet.addresses[NUL_HOST]].software if p.source == "rpm"}
    assert "nul\ufffdpkg" in rpm and "plain-pkg" in rpm, sorted(rpm)


# A fault injected into the judge (which runs inside ``save_batch``) for one host only: whatever
# fails while one host's record is stored -- found auditing #19: a host's hostile support-list
# pattern raised RecursionError there -- must not cost the other hosts of its batch anything.
POISON = """
import scanner.judge.timeline as judge
real = judge.Judge.judge
def poisoned(self, inv, *args, **kwargs):
    if inv.host.address.startswith(POISONED):
        raise RecursionError("maximum recursion depth exceeded (injected)")
    return real(self, inv, *args, **kwargs)
judge.Judge.judge = poisoned
from scanner.cli import console
console()
"""


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_fleet_scan_where_one_hosts_record_cannot_be_stored_stores_the_others(
    fleet: sshd.Fleet, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else f"sqlite:///{tmp_path / 'f.db'}"
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "host,site,transport,port,user,tags\n"
        + "".join(f"{a},Main,ssh,{fleet.port},{sshd.USER},\n" for a in fleet.addresses)
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_") or k == "LEGACYSCAN_REQUIRE_INTEGRATION"
    }
    env.pop("SSH_AUTH_SOCK", None)
    poisoned = fleet.addresses[0]
    code = POISON.replace("POISONED", repr(poisoned))
    proc = subprocess.run(
        [sys.executable, "-c", code, "scan", "--targets", str(targets), "--ssh-key", str(fleet.client_key)]
        + ["--known-hosts", str(fleet.known_hosts), "--no-agent", "--db", db, "--no-report"]
        + ["--timeout", "60", "--progress", "none"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    with open_store(db) as s:
        statuses = {a: (st.status, st.error) for st in s.statuses() for a in fleet.addresses if f"{a}:" in st.target}
        sql = "SELECT body FROM inventories"
        rows = s._all(sql, ()) if backend == "postgresql" else s.conn.execute(sql).fetchall()  # type: ignore[attr-defined]
        stored = sorted(
            a for i in (decode_body(bytes(b)) for (b,) in rows) for a in fleet.addresses if i.host.address.startswith(a)
        )
    assert sorted(statuses) == sorted(fleet.addresses), (statuses, proc.stderr)
    assert stored == sorted(a for a in fleet.addresses if a != poisoned), (stored, statuses, proc.stderr[-2000:])
    status, error = statuses[poisoned]
    assert status == "error" and "inventory not stored: RecursionError" in error, statuses
    assert all(statuses[a][0] in ("ok", "partial") for a in fleet.addresses if a != poisoned), statuses
