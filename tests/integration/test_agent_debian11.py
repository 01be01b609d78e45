"""The agent's zipapp on a real Debian 11 root (debootstrap, its own python3 3.9), run in a chroot.

What a Unix administrator with old systems relies on: the one-file agent built here (Python 3.11)
runs under the old system's own interpreter, reports that system - its OS release and exactly the
packages its dpkg database has - with hardware facts from the psutil the zipapp carries, and
uploads over verified TLS to a real collector although the vendored httpx needs Python 3.10.
The root is the shared cached one (tests/integration/debroot.py); the test writes only into an
overlay of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.store.sqlite import SqliteStore
from tests.conftest import require_or_skip
from tests.integration import debroot
from tests.integration.test_server_agent import Serve, create_token
from tests.integration.tls import make_pki

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zipapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zipapp") / "legacyscan-agent.pyz"
    proc = subprocess.run(
        [sys.executable, "-m", "agents.build_zipapp", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "carrying psutil for linux-" in proc.stderr
    return out


@pytest.fixture(scope="module")
def bullseye() -> Path:
    why = debroot.available()
    if why:
        require_or_skip(why)
    return debroot.debian_root("bullseye")


@contextlib.contextmanager
def chroot_with(root: Path, zipapp: Path) -> Iterator[Path]:
    """An overlay of the cached root with the zipapp in /opt and /proc mounted."""
    with debroot.overlay(root) as merged:
        (merged / "opt").mkdir(exist_ok=True)
        shutil.copy2(zipapp, merged / "opt" / zipapp.name)
        (merged / "proc").mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "proc", "proc", str(merged / "proc")], check=True, capture_output=True)
        try:
            yield merged
        finally:
            subprocess.run(["umount", "-l", str(merged / "proc")], check=False, capture_output=True)


def run_in(merged: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    return subprocess.run(
        ["chroot", str(merged), *argv], capture_output=True, text=True, timeout=300, check=False, env=env
    )


def test_zipapp_runs_on_debian_11_python_39_and_reports_the_root(bullseye: Path, zipapp: Path) -> None:
    with chroot_with(bullseye, zipapp) as merged:
        version = run_in(merged, "/usr/bin/python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
        assert version.stdout.strip() == "3.9", version.stderr
        assert run_in(merged, "/usr/bin/python3", "-c", "import psutil").returncode != 0  # not in the root
        proc = run_in(merged, "/usr/bin/python3", "/opt/legacyscan-agent.pyz", "--output", "/tmp/inv.json")
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        inv = json.loads((merged / "tmp/inv.json").read_text())
    assert inv["os"]["family"] == "linux" and inv["os"]["version"] == "11"
    assert "Debian GNU/Linux 11" in inv["os"]["name"]
    packages = {(s["name"], s["version"]) for s in inv["software"] if s.get("source", "dpkg").startswith("dpkg")}
    assert packages == set(debroot.installed_packages(bullseye).items())
    hw = inv["hardware"]  # from the psutil the zipapp carries (unpacked in the root's /root/.cache)
    assert hw["cpu_threads"] == os.cpu_count() and hw["memory_bytes"] > 0
    assert not [p for p in inv.get("problems", []) if p["probe"].startswith("hardware.psutil")]


def test_zipapp_uploads_over_verified_tls_from_python_39(bullseye: Path, zipapp: Path, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    server = Serve(db, pki, "--max-body", "4000000").start()
    try:
        token, _ = create_token(db, "Old Ward")
        with chroot_with(bullseye, zipapp) as merged:
            (merged / "etc/legacyscan").mkdir(parents=True, exist_ok=True)
            (merged / "etc/legacyscan/token").write_text(token + "\n")
            shutil.copy2(pki.ca_cert, merged / "etc/legacyscan/ca.pem")
            base = [
                "/usr/bin/python3",
                "/opt/legacyscan-agent.pyz",
                "--server",
                server.url,
                "--token-file",
                "/etc/legacyscan/token",
                "--spool",
                "/var/spool/legacyscan-agent",
            ]
            untrusted = run_in(merged, *base)  # the test CA is not in the root's trust store
            assert untrusted.returncode != 0 and "certificate" in untrusted.stderr.lower(), untrusted.stderr
            proc = run_in(merged, *base, "--ca-bundle", "/etc/legacyscan/ca.pem")
            assert proc.returncode == 0, proc.stderr
            assert list((merged / "var/spool/legacyscan-agent").glob("*.json.gz")) == []
    finally:
        server.stop()
    store = SqliteStore(str(tmp_path / "central.db"))
    try:
        [inv] = store.latest_inventories()
    finally:
        store.close()
    assert inv.host.site == "Old Ward" and inv.os.version == "11" and inv.collector.transport == "agent"


def test_without_a_psutil_for_the_target_the_inventory_says_what_is_missing(bullseye: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.pyz"
    subprocess.run(
        [sys.executable, "-m", "agents.build_zipapp", "--no-vendor", "--out", str(bare)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    with chroot_with(bullseye, bare) as merged:
        proc = run_in(merged, "/usr/bin/python3", "/opt/bare.pyz", "--output", "/tmp/inv.json")
        assert proc.returncode == 0, proc.stderr
        inv = json.loads((merged / "tmp/inv.json").read_text())
    [problem] = [p for p in inv["problems"] if p["probe"] == "hardware.psutil"]
    assert "psutil is not installed" in problem["message"] and "linux-x86_64-cp39" in problem["message"]
    assert "missing: CPU cores and threads, memory, boot time, disks" in problem["message"]
    assert not inv["hardware"].get("cpu_threads") and len(inv["software"]) > 50  # the rest is collected
