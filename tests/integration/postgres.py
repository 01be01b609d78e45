"""A real PostgreSQL for the suite.

In CI ``.ci/run`` wraps pytest in Debian's ``pg_virtualenv``, which exports ``PGHOST``/``PGPORT``/
``PGUSER``/``PGPASSWORD``/``PGDATABASE``; we use that server.  On a developer machine without
those variables we start a throwaway cluster ourselves with Debian's binaries (``initdb`` refuses
to run as root, so as root it runs as the ``postgres`` user), on a free loopback port in a temp
dir, and drop it at the end of the session.  Each test gets a fresh database, so tests never see
each other's rows.  When PostgreSQL is not installed at all the tests skip (fail in CI).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import require_or_skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _as_user(argv: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


class Cluster:
    """A throwaway PostgreSQL cluster (trust auth, loopback only, fsync off: test data only)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = "postgres" if os.geteuid() == 0 else None
        self.tmp = Path(tempfile.mkdtemp(prefix="legacyscan-pg-"))
        self.data = self.tmp / "data"
        self.port = _free_port()
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        self.superuser = self.user or pwd.getpwuid(os.geteuid()).pw_name

    def start(self) -> None:
        subprocess.run(
            _as_user(
                [str(self.bindir / "initdb"), "--no-sync", "-A", "trust", "-U", self.superuser, "-D", str(self.data)],
                self.user,
            ),
            check=True,
            capture_output=True,
        )
        opts = f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_user(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(self.tmp / "log"),
                    "-w",
                    "start",
                ],
                self.user,
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], self.user),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://{quote(self.superuser)}@127.0.0.1:{self.port}/postgres"


def _env_url() -> str | None:
    """A URL for the server pg_virtualenv (or the developer) points the PG* variables at."""
    if not os.environ.get("PGHOST"):
        return None
    user = quote(os.environ.get("PGUSER", "postgres"))
    password = os.environ.get("PGPASSWORD")
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    host = os.environ["PGHOST"]
    host_part = "" if host.startswith("/") else host
    port = os.environ.get("PGPORT", "5432")
    url = f"postgresql://{auth}{host_part}:{port}/{os.environ.get('PGDATABASE', 'postgres')}"
    if host.startswith("/"):
        url += f"?host={quote(host, safe='')}"
    return url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of a running PostgreSQL server."""
    url = _env_url()
    if url:
        yield url
        return
    bindir = _bindir()
    if bindir is None:
        require_or_skip("PostgreSQL is not installed (apt-get install postgresql) and PGHOST is not set")
    assert bindir is not None
    cluster = Cluster(bindir)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.stop()
        require_or_skip(f"cannot start a throwaway PostgreSQL: {exc.stderr!r}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return base + (f"?{query}" if query else "")


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the server, dropped after the test."""
    import psycopg

    name = f"ls_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(pg_server, name)
    finally:
        for _ in range(20):
            try:
                with psycopg.connect(pg_server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except psycopg.Error:
                time.sleep(0.2)
