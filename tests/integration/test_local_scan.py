"""Scan the machine the tests run on, end to end, and assert invariants (osquery style).

CI runs on Debian 12, so this host must come out as debian/12 with its real dates; elsewhere the
Debian-specific assertions skip (or fail in CI, where the machine is known).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.collect import Collector
from agents.shell import LocalShell
from tests.conftest import require_or_skip


def _is_debian_12() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return "ID=debian" in text and 'VERSION_ID="12"' in text


def test_collect_this_machine() -> None:
    if sys.platform != "linux":
        require_or_skip("local collection test runs on Linux")
    inv = Collector(LocalShell()).collect()
    assert inv.os.family == "linux"
    assert inv.os.facts["files"], "some release file must be read"
    assert inv.host.hostname and inv.host.machine_id
    if shutil.which("dpkg") or shutil.which("rpm"):
        assert len(inv.software) > 100
    assert all(s.name and s.version for s in inv.software)
    assert inv.hardware.memory_bytes and inv.hardware.memory_bytes > 0
    assert inv.hardware.cpu_threads and inv.hardware.cpu_threads >= 1
    assert not [p for p in inv.problems if p.kind != "missing"], inv.problems


def test_cli_scan_local_then_report_json(tmp_path: Path) -> None:
    if not _is_debian_12():
        require_or_skip("this host is not Debian 12")
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    run = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "scan", "--local", "--db", db, "--as-of", "2026-11-30"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [line.lower() for line in run.stdout.splitlines()]
    assert any("debian 12" in line and "extended" in line for line in lines), run.stdout
    rep = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "report", "--db", db, "--format", "json", "--as-of", "2026-11-30"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rep.returncode == 0, rep.stderr
    data = json.loads(rep.stdout)
    host = data["sites"][0]["hosts"][0]
    assert host["os"]["product"] == "debian" and host["os"]["cycle"] == "12"
    assert host["os"]["status"] == "extended"
    assert host["os"]["eol"] == "2026-07-11" and host["os"]["extended_until"] == "2028-06-30"
    assert host["findings"], "packages matching endoflife.date products must be listed"
    assert all(f["product"] and f["status"] for f in host["findings"])
    assert data["dataset_version"].startswith("endoflife.date@2026-08-22")
    # Earlier in 2026 Debian 12 was still in regular security support, ending within 180 days.
    early = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "report", "--db", db, "--format", "json", "--as-of", "2026-03-01"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(early.stdout)["sites"][0]["hosts"][0]["os"]["status"] == "ending-soon"


def test_report_fail_on_exit_code(tmp_path: Path) -> None:
    if not _is_debian_12():
        require_or_skip("this host is not Debian 12")
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    subprocess.run(
        [sys.executable, "-m", "scanner.cli", "scan", "--local", "--no-report", "--db", db],
        capture_output=True,
        check=True,
        timeout=120,
    )
    rc = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "report", "--db", db, "--fail-on", "extended", "--as-of", "2026-11-30"],
        capture_output=True,
        timeout=120,
        check=False,
    ).returncode
    assert rc == 3


@pytest.mark.parametrize("argv, code", [(["report", "--format", "nope"], 2), (["frobnicate"], 2)])
def test_usage_errors_exit_2(argv: list[str], code: int) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "scanner.cli", *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == code
    assert "usage" in run.stderr.lower()


def test_empty_store_gives_friendly_error(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "report", "--db", f"sqlite:///{tmp_path / 'e.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert "no inventories stored yet" in run.stderr and "hint:" in run.stderr
