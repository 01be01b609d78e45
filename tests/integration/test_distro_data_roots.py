"""Ubuntu's own archive data judged end to end: local scan, the sh agent and an SSH scan of one root.

The constructed Ubuntu 24.04 and 18.04 roots under tests/fixtures/hosts (real excerpts of Ubuntu's
archive indexes, see their PROVENANCE.md) are bind-mounted over this machine's ``/etc/os-release``,
``/usr/lib/os-release``, ``/var/lib/dpkg/status`` and ``/var/lib/apt/lists`` in a private mount
namespace (``unshare``), and the host is then collected the three ways a site collects it:

* ``legacyscan scan --local`` (the Python collector, ``agents.shell.LocalShell``);
* the POSIX sh agent (``agents/legacyscan-agent.sh --output``), imported with ``legacyscan import``;
* an SSH scan of a real sshd started inside that namespace (the probe bundle, one round trip).

Each path must give the same findings, judged by Ubuntu's data: main packages with the release,
universe packages by upstream (no Ubuntu Pro ESM Apps index), 18.04's ``Supported: 3y`` ending a
package on the release date + 3 years.  Needs root (mount namespaces, sshd).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import load_default
from scanner.collect.config import ScanConfig
from scanner.collect.engine import FleetScanner
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Policy
from scanner.store.sqlite import SqliteStore
from scanner.targets import Target
from tests.conftest import require_or_skip
from tests.integration import sshd

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HOSTS = REPO / "tests" / "fixtures" / "hosts"
MOUNTED = ("etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status", "var/lib/apt/lists")
LISTS = "/var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_"
AS_OF = "2026-12-06"
# What Ubuntu's data says, read from the excerpts (see tests/unit/test_distro_data.py for the rules)
EXPECTED = {
    "ubuntu2404-apt": {
        "openssl": ("supported", "+distro.ubuntu", f"{LISTS}noble-updates_main_binary-amd64_Packages"),
        "nginx-core": ("supported", "+distro.ubuntu", f"{LISTS}noble_main_binary-amd64_Packages"),
        "python3.12": ("supported", "+distro.ubuntu", f"{LISTS}noble_main_binary-amd64_Packages"),
        "nodejs": ("eol", "+distro.ubuntu.community", f"{LISTS}noble_universe_binary-amd64_Packages"),
        "redis-server": ("eol", "+distro.ubuntu.community", f"{LISTS}noble_universe_binary-amd64_Packages"),
        "golang-1.21-go": ("eol", "+distro.ubuntu.community", f"{LISTS}noble_universe_binary-amd64_Packages"),
        "tomcat10": ("supported", "+distro.ubuntu.community", f"{LISTS}noble_universe_binary-amd64_Packages"),
    },
    "ubuntu1804-apt": {  # 18.04's standard support ended 2023-05-31: its packages end with it
        "openssl": ("eol", "+distro.ubuntu", f"Ubuntu Supported: 5y from {LISTS}bionic_main_binary-amd64_Packages"),
        "python3.6": ("eol", "+distro.ubuntu", f"Ubuntu Supported: 5y from {LISTS}bionic_main_binary-amd64_Packages"),
        "nodejs": ("eol", "+distro.ubuntu", f"Ubuntu Supported: 3y from {LISTS}bionic_universe_binary-amd64_Packages"),
        "tomcat8": ("eol", "+distro.ubuntu.community", f"{LISTS}bionic_universe_binary-amd64_Packages"),
    },
}


def available() -> str | None:
    if os.geteuid() != 0:
        return "mount namespaces need root"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, check=False)
    return None if probe.returncode == 0 else f"unshare --mount refused: {probe.stderr.decode()[:200]}"


def in_root(name: str) -> list[str]:
    """A command prefix: a private mount namespace where ``name``'s files replace this machine's."""
    root = HOSTS / name / "files"
    mounts = " && ".join(f"mount --bind {root / p} /{p}" for p in MOUNTED)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{mounts} && exec "$@"', "sh"]


def cli(*args: str, db: str, wrap: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*(wrap or []), sys.executable, "-m", "scanner.cli", *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def reported(db: str) -> dict[str, dict[str, Any]]:
    data = json.loads(cli("report", "--format", "json", "--as-of", AS_OF, db=db).stdout)
    [host] = [h for site in data["sites"] for h in site["hosts"]]
    return {f["name"]: f for f in host["findings"] if f["kind"] == "software"}


def check(name: str, findings: dict[str, dict[str, Any]]) -> None:
    for package, (status, rule, evidence) in EXPECTED[name].items():
        f = findings[package]
        assert f["status"] == status, (name, package, f["status"], f["match"]["reason"])
        assert f["match"]["rule"].endswith(rule), (name, package, f["match"]["rule"])
        assert evidence in json.dumps(f["match"]["evidence"]) + f["match"]["reason"], (name, package, f["match"])


@pytest.fixture(scope="module", autouse=True)
def _requirements() -> None:
    why = available()
    if why:
        require_or_skip(why)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_local_scan_of_a_constructed_ubuntu_root(name: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'local.db'}"
    cli("scan", "--local", "--as-of", AS_OF, db=db, wrap=in_root(name))
    check(name, reported(db))


def test_the_sh_agent_in_the_root_then_import(tmp_path: Path) -> None:
    name = "ubuntu2404-apt"
    drop = tmp_path / "drop"
    done = subprocess.run(
        [*in_root(name), "/bin/sh", str(REPO / "agents/legacyscan-agent.sh"), "--output", str(drop)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(drop.glob("*.json"))) == 1
    db = f"sqlite:///{tmp_path / 'agent.db'}"
    cli("import", str(drop), "--site", "Ward", db=db)
    check(name, reported(db))


def test_ssh_scan_of_a_constructed_ubuntu_root(tmp_path: Path) -> None:
    why = sshd.available()
    if why:
        require_or_skip(why)
    name = "ubuntu1804-apt"
    fleet = sshd.start_fleet(1, first=81, wrap=in_root(name))
    try:
        store = SqliteStore(str(tmp_path / "ssh.db"))
        config = ScanConfig(
            concurrency=1,
            timeout=30.0,
            connect_timeout=10.0,
            ssh_user=sshd.USER,
            ssh_key=str(fleet.client_key),
            known_hosts=str(fleet.known_hosts),
            use_agent=False,
        )
        summary = FleetScanner(store, config).run([Target(host=fleet.addresses[0], port=fleet.port, site="Ward")])
        store.close()
    finally:
        fleet.stop()
    assert summary.by_status == {"ok": 1}, [(s.target, s.error) for s in summary.statuses]
    [inv] = summary.inventories
    assert inv.os.version.startswith("18.04") or "18.04" in inv.os.name
    assert "bionic_universe_binary-amd64_Packages" in inv.os.facts["apt_support"]
    result = match_inventory(inv, IdentifyContext(load_default()), date.fromisoformat(AS_OF), Policy())
    got = {
        f.name: {
            "status": f.status.value,
            "match": {"rule": f.detail.rule, "reason": f.detail.reason, "evidence": f.detail.evidence},
        }
        for f in result.findings
        if f.kind == "software"
    }
    check(name, got)
