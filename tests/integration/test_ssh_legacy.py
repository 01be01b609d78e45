"""Old SSH servers: real OpenSSH restricted to RHEL 5/6-era and DSA-only offers, and real dropbear.

What an operator relies on: without ``--ssh-legacy`` such a host is ``negotiation-failed`` naming
what it offered and the fix (never "unreachable ... firewall"); with it (or ``ssh_legacy = true``
on the target) the host is scanned - its key still checked against known_hosts - and its
inventory is what the host really has; a modern host never gets a weaker algorithm.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.collect import Collector
from agents.shell import LocalShell
from agents.ssh import KnownHosts, SshCredentials, SshOptions, SshShell
from scanner.collect.config import ScanConfig
from scanner.collect.engine import FleetScanner
from scanner.store.sqlite import SqliteStore
from scanner.targets import Target, parse_toml
from tests.conftest import require_or_skip
from tests.integration import legacy_servers, sshd

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, sshd.Fleet]]:
    why = legacy_servers.dropbear_available()
    if why:
        require_or_skip(why)
    started: dict[str, sshd.Fleet] = {}
    try:
        for i, profile in enumerate(legacy_servers.PROFILES):
            started[profile] = legacy_servers.start_profile(profile, first=100 + 2 * i)
        started["dropbear"] = legacy_servers.start_dropbear(first=140)
        # (a DSA-only dropbear 2022.83 still advertises rsa-sha2-256/ssh-rsa host keys it has none of
        # and aborts - "Failed assertion (rsa.c:164)" - so the ssh-dss-only server is OpenSSH's)
        started["dropbear-rsa"] = legacy_servers.start_dropbear(first=142, key_type="rsa")
        yield started
    finally:
        for fleet in started.values():
            fleet.stop()


@pytest.fixture(scope="module")
def local_software() -> set[tuple[str, str]]:
    return {(s.name, s.version) for s in Collector(LocalShell()).collect().software}


def _scan(
    fleet: sshd.Fleet,
    tmp_path: Path,
    *,
    legacy: bool = False,
    target_legacy: bool = False,
    password: bool = False,
    known_hosts: Path | None = None,
    accept_new: bool = False,
) -> tuple:
    store = SqliteStore(str(tmp_path / "scan.db"))
    cfg = ScanConfig(
        concurrency=2,
        timeout=20.0,
        connect_timeout=8.0,
        ssh_user=sshd.PASSWORD_USER if password else sshd.USER,
        ssh_key=None if password else str(fleet.client_key),
        known_hosts=str(known_hosts or fleet.known_hosts),
        accept_new_host_keys=accept_new,
        use_agent=False,
        ssh_legacy=legacy,
    )
    targets = [Target(host=a, port=fleet.port, site="Old Wing", ssh_legacy=target_legacy) for a in fleet.addresses]
    summary = FleetScanner(store, cfg).run(targets)
    invs = list(summary.inventories)
    store.close()
    return summary, invs


OPENSSH_LEGACY = ["rhel5", "group1", "gex-sha1", "rhel6", "dss"]


@pytest.mark.parametrize("profile", OPENSSH_LEGACY)
def test_old_openssh_without_the_opt_in_is_negotiation_failed_naming_the_offer(
    servers: dict[str, sshd.Fleet], profile: str, tmp_path: Path
) -> None:
    summary, _ = _scan(servers[profile], tmp_path)
    assert summary.by_status == {"negotiation-failed": 1}, [s.error for s in summary.statuses]
    error = summary.statuses[0].error
    assert "--ssh-legacy" in error and "unreachable" not in error.lower() and "firewall" not in error
    offered = legacy_servers.PROFILES[profile][1]
    # the server's own offer is named (kex and host key algorithms from its sshd_config)
    kex = offered.split("KexAlgorithms ")[1].split("\n")[0]
    hostkeys = offered.split("HostKeyAlgorithms ")[1].split("\n")[0]
    assert f"kex {kex}" in error and f"host keys {hostkeys}" in error, error


@pytest.mark.parametrize("profile", OPENSSH_LEGACY)
def test_old_openssh_with_ssh_legacy_is_scanned_like_a_modern_host(
    servers: dict[str, sshd.Fleet], profile: str, tmp_path: Path, local_software: set[tuple[str, str]]
) -> None:
    summary, invs = _scan(servers[profile], tmp_path, legacy=True)
    assert summary.by_status == {"ok": 1}, [s.error for s in summary.statuses]
    inv = invs[0]
    assert inv.collector.transport == "ssh" and inv.os.family == "linux"
    assert {(s.name, s.version) for s in inv.software} == local_software


def test_negotiated_algorithms_are_the_old_ones(servers: dict[str, sshd.Fleet]) -> None:
    """What was agreed is exactly what the restricted server allows (not a stronger fallback)."""
    agreed = {}
    for profile in ("group1", "gex-sha1", "dss"):
        fleet = servers[profile]
        creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
        with SshShell(
            fleet.addresses[0],
            fleet.port,
            creds=creds,
            known_hosts=KnownHosts(fleet.known_hosts),
            options=SshOptions(connect_timeout=8, legacy=True),
        ) as shell:
            t = shell.transport
            agreed[profile] = (
                t.agreed_kex,
                t.host_key_type,
                t.local_cipher,
                t.local_mac,
                shell.run(["uname", "-s"]).stdout.strip(),
            )
    assert agreed["group1"][:2] == ("diffie-hellman-group1-sha1", "ssh-rsa")
    assert agreed["gex-sha1"][:2] == ("diffie-hellman-group-exchange-sha1", "ssh-rsa")
    assert agreed["dss"][:4] == ("diffie-hellman-group14-sha1", "ssh-dss", "aes128-cbc", "hmac-sha1")
    assert {a[4] for a in agreed.values()} == {"Linux"}


@pytest.mark.parametrize(
    ("profile", "what", "offered", "agreed"),
    [
        ("cbc", "no acceptable ciphers", "ciphers aes256-cbc,3des-cbc", ("aes256-cbc", "hmac-sha2-256")),
        ("hmac-sha1", "no acceptable macs", "MACs hmac-sha1", ("aes128-ctr", "hmac-sha1")),
    ],
)
def test_cbc_ciphers_and_sha1_macs_only_with_the_opt_in(
    servers: dict[str, sshd.Fleet], tmp_path: Path, profile: str, what: str, offered: str, agreed: tuple[str, str]
) -> None:
    """paramiko 5 would offer CBC and hmac-sha1 by default; legacyscan only with --ssh-legacy (a server
    with a modern kex and host key but only those is negotiation-failed without it, named)."""
    fleet = servers[profile]
    summary, _ = _scan(fleet, tmp_path)
    assert summary.by_status == {"negotiation-failed": 1}, [s.error for s in summary.statuses]
    error = summary.statuses[0].error
    assert what in error and offered in error and "--ssh-legacy" in error, error
    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with SshShell(
        fleet.addresses[0],
        fleet.port,
        creds=creds,
        known_hosts=KnownHosts(fleet.known_hosts),
        options=SshOptions(connect_timeout=8, legacy=True),
    ) as shell:
        t = shell.transport
        assert (t.local_cipher, t.local_mac) == agreed and (t.remote_cipher, t.remote_mac) == agreed
        assert t.agreed_kex == "curve25519-sha256@libssh.org" and t.host_key_type == "ssh-ed25519"
        assert shell.run(["uname", "-s"]).stdout.strip() == "Linux"


def test_per_target_ssh_legacy_in_toml(servers: dict[str, sshd.Fleet], tmp_path: Path) -> None:
    fleet = servers["rhel5"]
    toml = (
        f'[[target]]\nhost = "{fleet.addresses[0]}"\nport = {fleet.port}\nssh_legacy = true\n'
        f'[[target]]\nhost = "{servers["rhel6"].addresses[0]}"\nport = {servers["rhel6"].port}\n'
    )
    parsed = parse_toml(toml, "old.toml")
    assert [t.ssh_legacy for t in parsed] == [True, False]
    summary, _ = _scan(fleet, tmp_path, target_legacy=True)
    assert summary.by_status == {"ok": 1}, [s.error for s in summary.statuses]
    with pytest.raises(ValueError, match="old.toml .*ssh_legacy must be true or false"):
        parse_toml('[[target]]\nhost = "a"\nssh_legacy = "yes"\n', "old.toml")


def test_legacy_host_keys_are_still_verified(servers: dict[str, sshd.Fleet], tmp_path: Path) -> None:
    """--ssh-legacy weakens no host-key check: an unknown DSA/RSA host is refused, a changed one too,
    and trust on first use records the real ssh-dss key only when asked."""
    fleet = servers["dss"]
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    summary, _ = _scan(fleet, tmp_path, legacy=True, known_hosts=empty)
    assert summary.by_status == {"host-key-unknown": 1}
    assert "ssh-dss" in summary.statuses[0].error
    wrong = fleet.write_known_hosts(tmp_path / "wrong", wrong=set(fleet.addresses))
    summary, _ = _scan(fleet, tmp_path, legacy=True, known_hosts=wrong)
    assert summary.by_status == {"host-key-mismatch": 1}
    summary, _ = _scan(fleet, tmp_path, legacy=True, known_hosts=empty, accept_new=True)
    assert summary.by_status == {"ok": 1}
    assert empty.read_text().split()[1:3] == fleet.host_pubkey.split()


def test_modern_host_gets_no_weaker_algorithm_with_the_opt_in(tmp_path: Path) -> None:
    modern = sshd.start_fleet(1, first=150)
    try:
        creds = SshCredentials.load(sshd.USER, str(modern.client_key), use_agent=False, env={})
        with SshShell(
            modern.addresses[0],
            modern.port,
            creds=creds,
            known_hosts=KnownHosts(modern.known_hosts),
            options=SshOptions(connect_timeout=8, legacy=True),
        ) as shell:
            t = shell.transport
            assert "sha1" not in t.agreed_kex and t.host_key_type == "ssh-ed25519"
            assert t.local_cipher.endswith(("ctr", "gcm@openssh.com"))
    finally:
        modern.stop()


def test_dropbear_is_scanned_with_a_password(
    servers: dict[str, sshd.Fleet],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_software: set[tuple[str, str]],
) -> None:
    monkeypatch.setenv("LEGACYSCAN_SSH_PASSWORD", sshd.PASSWORD)
    summary, invs = _scan(servers["dropbear"], tmp_path, password=True)
    assert summary.by_status == {"ok": 1}, [s.error for s in summary.statuses]
    assert {(s.name, s.version) for s in invs[0].software} == local_software


def test_rsa_dropbear_with_ssh_legacy_still_gets_sha2(servers: dict[str, sshd.Fleet]) -> None:
    """An appliance's dropbear with an RSA key: --ssh-legacy changes nothing it negotiates (rsa-sha2-256,
    not ssh-rsa), and the bundle runs under dropbear's exec as under sshd's."""
    fleet = servers["dropbear-rsa"]
    creds = SshCredentials.load(
        sshd.PASSWORD_USER, None, use_agent=False, env={"LEGACYSCAN_SSH_PASSWORD": sshd.PASSWORD}
    )
    with SshShell(
        fleet.addresses[0],
        fleet.port,
        creds=creds,
        known_hosts=KnownHosts(fleet.known_hosts),
        options=SshOptions(connect_timeout=8, legacy=True),
    ) as shell:
        assert shell.transport.host_key_type == "rsa-sha2-256"
        assert "sha1" not in shell.transport.agreed_kex
        shell.preload([["uname", "-s"], ["no-such-tool-xyz"]], ["/etc/os-release"])
        assert shell.run(["uname", "-s"]).stdout.strip() == "Linux"
        assert shell.run(["no-such-tool-xyz"]).exit_code == 127
        assert shell.read_text("/etc/os-release") == Path("/etc/os-release").read_text()


def test_cli_reports_negotiation_failed_with_the_fix(
    servers: dict[str, sshd.Fleet], tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from scanner.cli import main

    fleet = servers["rhel6"]
    targets = tmp_path / "t.csv"
    targets.write_text(
        f"host,site,transport,port,user,tags\n{fleet.addresses[0]},Old Wing,ssh,{fleet.port},{sshd.USER},\n"
    )
    db = tmp_path / "cli.db"
    base = [
        "scan",
        "--targets",
        str(targets),
        "--db",
        f"sqlite:///{db}",
        "--ssh-key",
        str(fleet.client_key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--progress",
        "none",
        "--format",
        "json",
        "--out",
        str(tmp_path / "r.json"),
        "--as-of",
        "2026-11-30",
    ]
    assert main(base) == 1  # no host scanned
    text = caplog.text + capsys.readouterr().err
    assert "negotiation-failed" in text and "--ssh-legacy" in text and "host keys ssh-rsa" in text
    caplog.clear()
    assert main([*base, "--ssh-legacy"]) == 0
    s = SqliteStore(str(db))
    try:
        assert [st.status for st in s.statuses()] == ["ok"]
        assert [inv.host.site for inv in s.latest_inventories()] == ["Old Wing"]
    finally:
        s.close()


def test_a_solaris_10_like_host_is_one_round_trip_and_ok(tmp_path: Path) -> None:
    """Over real sshd, a host whose tools say SunOS 5.10 (uname, pkginfo; no IPS `pkg`, no dpkg or
    rpm): one exec answers everything, the missing tools are data (status ok, not partial), and
    the inventory is the Solaris one."""
    import shutil
    import tempfile
    from typing import Any

    from agents.shell import CommandResult
    from scanner.collect.executors import collect_ssh
    from scanner.collect.status import judge_inventory

    root = Path(tempfile.mkdtemp(prefix="legacyscan-solbin-"))  # pytest's tmp dirs are root-only (0700)
    root.chmod(0o755)
    bindir = root / "bin"
    bindir.mkdir()
    (bindir / "uname").write_text(
        '#!/bin/sh\ncase "$1" in -s) echo SunOS;; -n) echo sol10-pacs;; '
        "-srm) echo 'SunOS 5.10 i86pc';; *) echo 'SunOS 5.10 Generic_150401-59 i86pc';; "
        "esac\n"
    )
    (bindir / "pkginfo").write_text(
        "#!/bin/sh\nprintf '   PKGINST:  SUNWbash\\n      NAME:  GNU Bourne-Again shell (bash)\\n"
        "   VERSION:  11.10.0,REV=2005.01.08.01.09\\n    VENDOR:  Sun Microsystems, Inc.\\n\\n"
        "   PKGINST:  SUNWopensslr\\n   VERSION:  11.10.0,REV=2005.01.21.16.34\\n'\n"
    )
    for f in bindir.iterdir():
        f.chmod(0o755)
    bindir.chmod(0o755)
    fleet = sshd.start_fleet(1, first=152, extra={0: f"SetEnv PATH={bindir}:/usr/bin:/bin"})
    calls: list[str] = []

    class Counting(SshShell):
        def exec(self, command: str, timeout: float, **kw: Any) -> CommandResult:
            calls.append(command)
            return super().exec(command, timeout, **kw)

    try:
        creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
        with Counting(
            fleet.addresses[0],
            fleet.port,
            creds=creds,
            known_hosts=KnownHosts(fleet.known_hosts),
            options=SshOptions(connect_timeout=8),
        ) as shell:
            inv = collect_ssh(shell, Target(host=fleet.addresses[0], port=fleet.port), 20.0)
    finally:
        fleet.stop()
        shutil.rmtree(root, ignore_errors=True)
    assert len(calls) == 1, calls
    assert inv.os.family == "solaris" and inv.os.facts["oslevel"] == "Generic_150401-59"
    assert [s.name for s in inv.software] == ["SUNWbash", "SUNWopensslr"]
    assert inv.host.hostname == "sol10-pacs"
    assert judge_inventory(inv)[0] == "ok", inv.problems
