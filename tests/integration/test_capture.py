"""``legacyscan capture``: a host's raw answers to the probe table, written as a fixture and replayed.

Against this machine and against REAL sshd on loopback (a Linux host and a macOS host served by
fake macOS tools): the replayed fixture, parsed by the real Collector, gives the inventory a live
scan gives; identifying probes are left out unless asked for; the SSH capture costs one round trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents import probes
from agents.capture import SCHEMA, read_provenance
from agents.collect import Collector
from agents.inventory import Inventory
from agents.shell import CommandResult, LocalShell, ReplayShell
from scanner.cli import main
from scanner.targets import Target
from tests.conftest import require_or_skip
from tests.integration import sshd

pytestmark = pytest.mark.integration

LINUX, MAC = 0, 1


@pytest.fixture(scope="module")
def fleet() -> Iterator[sshd.Fleet]:
    why = sshd.available()
    if why:
        require_or_skip(why)
    f = sshd.start_fleet(2, roles={MAC: "macos"}, first=60)
    yield f
    f.stop()


def _ssh_args(fleet: sshd.Fleet, index: int) -> list[str]:
    return [
        "--ssh",
        fleet.addresses[index],
        "--port",
        str(fleet.port),
        "--ssh-user",
        sshd.USER,
        "--ssh-key",
        str(fleet.client_key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--timeout",
        "30",
    ]


def _os(inv: Inventory) -> tuple[Any, ...]:
    o = inv.os
    return (o.family, o.name, o.version, o.arch, o.kernel, json.dumps(o.facts, sort_keys=True))


def _software(inv: Inventory) -> list[tuple[str, ...]]:
    return [(s.name, s.version, s.arch, s.source, s.publisher, s.source_package, s.origin) for s in inv.software]


def _replayed(root: Path) -> Inventory:
    return Collector(ReplayShell(root)).collect()


def test_local_capture_replays_to_this_machines_inventory(tmp_path: Path) -> None:
    out = tmp_path / "here"
    assert main(["capture", "--local", "--out", str(out), "--keep-identifiers", "--note", "CI machine"]) == 0
    meta = read_provenance(out)
    assert meta["schema"] == SCHEMA and meta["transport"] == "local" and meta["platform"] == "Linux"
    assert meta["note"] == "CI machine" and meta["left_out"] == [] and meta["problems"] == []
    assert "target" not in meta  # no SSH target
    assert meta["probes"][0] == "uname" and "os-release" in meta["probes"] and "sw_vers" not in meta["probes"]
    live = Collector(LocalShell()).collect()
    replayed = _replayed(out)
    assert _os(replayed) == _os(live)
    assert _software(replayed) == _software(live) and len(live.software) > 50
    assert replayed.host.machine_id == live.host.machine_id != ""
    assert (out / "files/etc/os-release").read_text() == Path("/etc/os-release").read_text()
    assert replayed.hardware.cpu_model == live.hardware.cpu_model


def test_identifiers_are_left_out_by_default(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    assert main(["capture", "--local", "--out", str(out)]) == 0
    meta = read_provenance(out)
    assert set(meta["left_out"]) == {"hostname", "machine-id", "etc-hostname", "dmi-product_serial"}
    commands = json.loads((out / "commands.json").read_text())
    assert "uname -n" not in commands and "uname -srm" in commands
    assert not (out / "files/etc/machine-id").exists() and not (out / "files/etc/hostname").exists()
    replayed = _replayed(out)
    assert replayed.host.hostname == "" and replayed.host.machine_id.startswith("derived-")
    assert _software(replayed) == _software(Collector(LocalShell()).collect())


def test_an_existing_folder_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["capture", "--local", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_ssh_capture_replays_to_the_ssh_scans_inventory(fleet: sshd.Fleet, tmp_path: Path) -> None:
    from agents.ssh import KnownHosts, SshCredentials, SshShell
    from scanner.collect.executors import collect_ssh

    out = tmp_path / "linux"
    assert main(["capture", *_ssh_args(fleet, LINUX), "--out", str(out), "--keep-identifiers"]) == 0
    meta = read_provenance(out)
    assert meta["transport"] == "ssh" and meta["platform"] == "Linux" and meta["target"] == fleet.addresses[LINUX]
    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with SshShell(fleet.addresses[LINUX], fleet.port, creds=creds, known_hosts=KnownHosts(fleet.known_hosts)) as sh:
        live = collect_ssh(sh, Target(host=fleet.addresses[LINUX], port=fleet.port), 30.0)
    replayed = _replayed(out)
    assert _os(replayed) == _os(live)
    assert _software(replayed) == _software(live) and len(live.software) > 50
    assert (replayed.host.hostname, replayed.host.machine_id) == (live.host.hostname, live.host.machine_id)
    assert replayed.hardware == live.hardware
    # over SSH the dpkg database travels filtered (the row's grep): the fixture holds what was sent
    status = (out / "files/var/lib/dpkg/status").read_text()
    assert status and all(line.split(":", 1)[0] in linux_fields() for line in status.splitlines())


def linux_fields() -> set[str]:
    from agents.linux import DPKG_STATUS_FIELDS

    return set(DPKG_STATUS_FIELDS.strip("^():").split("|"))


def test_ssh_capture_of_a_mac_without_identifiers(fleet: sshd.Fleet, tmp_path: Path) -> None:
    from agents.ssh import KnownHosts, SshCredentials, SshShell
    from scanner.collect.executors import collect_ssh

    out = tmp_path / "mac"
    assert main(["capture", *_ssh_args(fleet, MAC), "--out", str(out)]) == 0
    meta = read_provenance(out)
    assert meta["platform"] == "Darwin" and "target" not in meta
    assert set(meta["left_out"]) == {"hostname", "ioreg"}
    assert "sw_vers" in meta["probes"] and "dpkg-query" not in meta["probes"]
    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with SshShell(fleet.addresses[MAC], fleet.port, creds=creds, known_hosts=KnownHosts(fleet.known_hosts)) as sh:
        live = collect_ssh(sh, Target(host=fleet.addresses[MAC], port=fleet.port), 30.0)
    replayed = _replayed(out)
    assert live.os.family == "macos" and _os(replayed) == _os(live)
    assert _software(replayed) == _software(live) and live.software
    assert live.host.hostname == "lab-imac" and replayed.host.hostname == ""  # left out


def test_an_ssh_capture_is_one_round_trip(fleet: sshd.Fleet) -> None:
    from agents.ssh import KnownHosts, SshCredentials, SshShell

    calls: list[str] = []

    class Counting(SshShell):
        def exec(self, command: str, timeout: float, **kw: Any) -> CommandResult:
            calls.append(command)
            return super().exec(command, timeout, **kw)

    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with Counting(fleet.addresses[LINUX], fleet.port, creds=creds, known_hosts=KnownHosts(fleet.known_hosts)) as sh:
        evidence = probes.capture(sh, timeout=30.0, keep_identifiers=True)
    assert len(calls) == 1, calls
    assert evidence.platform == "Linux" and evidence.commands["uname -s"]["stdout"] == "Linux\n"
