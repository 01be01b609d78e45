"""The agent's zipapp under a real CPython 3.8 (the last Python for Windows 7; RHEL 8's python38).

``tests/unit/test_py38.py`` checks ``agents/`` statically (vermin) and the Debian 11 root test runs
it on 3.9; this runs the same one-file agent under a real 3.8 interpreter (pyenv's build on this
machine kind), isolated from every site-packages (``-I -S``): it reports this host - exactly the
packages a local collection finds, hardware from the psutil it carries - and uploads over verified
TLS with the standard library (the vendored httpx needs 3.10) to a real collector.
"""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agents.collect import Collector
from agents.shell import LocalShell
from scanner.store.sqlite import SqliteStore
from tests.conftest import require_or_skip
from tests.integration.test_server_agent import Serve, create_token
from tests.integration.tls import make_pki

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def python38() -> str:
    found = sorted(glob.glob("/root/.pyenv/versions/3.8.*/bin/python"))
    if not found:
        require_or_skip("no CPython 3.8 (pyenv install 3.8)")
    version = subprocess.run(
        [found[-1], "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert version == "(3, 8)", version
    return found[-1]


@pytest.fixture(scope="module")
def zipapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zipapp38") / "legacyscan-agent.pyz"
    proc = subprocess.run(
        [sys.executable, "-m", "agents.build_zipapp", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def _agent(python: str, zipapp: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-I", "-S", str(zipapp), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"},
    )


def test_zipapp_on_python_38_reports_this_host(python38: str, zipapp: Path, tmp_path: Path) -> None:
    proc = _agent(python38, zipapp, "--output", str(tmp_path / "inv.json"), cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    inv = json.loads((tmp_path / "inv.json").read_text())
    local = {(s.name, s.version) for s in Collector(LocalShell()).collect().software}
    assert {(s["name"], s["version"]) for s in inv["software"]} == local
    assert inv["hardware"]["cpu_threads"] > 0 and inv["hardware"]["memory_bytes"] > 0
    assert not [p for p in inv.get("problems", []) if p["probe"].startswith("hardware.psutil")]


def test_zipapp_on_python_38_uploads_over_verified_tls(python38: str, zipapp: Path, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    server = Serve(db, pki).start()
    try:
        token, _ = create_token(db, "Old Ward")
        (tmp_path / "token").write_text(token + "\n")
        base = ["--server", server.url, "--token-file", str(tmp_path / "token"), "--spool", str(tmp_path / "spool")]
        untrusted = _agent(python38, zipapp, *base, cwd=tmp_path)  # the test CA is not trusted by default
        assert untrusted.returncode != 0 and "certificate" in untrusted.stderr.lower(), untrusted.stderr
        ok = _agent(python38, zipapp, *base, "--ca-bundle", str(pki.ca_cert), cwd=tmp_path)
        assert ok.returncode == 0, ok.stderr
        assert list((tmp_path / "spool").glob("*.json.gz")) == []
    finally:
        server.stop()
    store = SqliteStore(str(tmp_path / "central.db"))
    try:
        [inv] = store.latest_inventories()
    finally:
        store.close()
    assert inv.host.site == "Old Ward" and inv.collector.transport == "agent"
