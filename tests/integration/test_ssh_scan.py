"""Fleet scanning against REAL OpenSSH sshd processes on 127.0.0.x, started by this suite.

Each test asserts an outcome an operator relies on: the right per-host status, the stored
inventory matching what the host really has, host keys never silently accepted, failures never
erasing a good inventory, and one slow or broken host never stalling the rest.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.collect import Collector
from agents.shell import CommandResult, LocalShell
from scanner.collect.config import ScanConfig
from scanner.collect.engine import FleetScanner
from scanner.collect.progress import Progress
from scanner.store.sqlite import SqliteStore
from scanner.targets import Target
from tests.conftest import require_or_skip
from tests.integration import sshd

pytestmark = pytest.mark.integration

LINUX = range(0, 5)
MAC, HANG, DROP = 5, 6, 7


@pytest.fixture(scope="module")
def fleet() -> Iterator[sshd.Fleet]:
    why = sshd.available()
    if why:
        require_or_skip(why)
    f = sshd.start_fleet(8, roles={MAC: "macos", HANG: "hang", DROP: "drop"})
    yield f
    f.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "scan.db"))
    yield s
    s.close()


def config(fleet: sshd.Fleet, **kw: object) -> ScanConfig:
    base: dict[str, object] = dict(
        concurrency=8,
        timeout=4.0,
        connect_timeout=3.0,
        ssh_user=sshd.USER,
        ssh_key=str(fleet.client_key),
        known_hosts=str(fleet.known_hosts),
        use_agent=False,
    )
    base.update(kw)
    return ScanConfig(**base)  # type: ignore[arg-type]


def targets(fleet: sshd.Fleet, indexes: range | list[int], site: str = "St Elsewhere") -> list[Target]:
    return [Target(host=fleet.addresses[i], port=fleet.port, site=site, tags=("ward-7",)) for i in indexes]


def test_linux_hosts_with_key_auth_match_a_local_collection(fleet: sshd.Fleet, store: SqliteStore) -> None:
    summary = FleetScanner(store, config(fleet)).run(targets(fleet, LINUX))
    assert summary.by_status == {"ok": len(LINUX)}, [(s.target, s.error) for s in summary.statuses]
    local = Collector(LocalShell()).collect()  # the hosts ARE this machine, reached over SSH
    want = {(s.name, s.version) for s in local.software}
    stored = store.latest_inventories("St Elsewhere")
    # every address shares this machine's machine-id, so the store sees one host, re-scanned
    assert {inv.host.machine_id for inv in stored} == {local.host.machine_id}
    for inv in summary.inventories:
        assert inv.collector.transport == "ssh"
        assert inv.os.family == "linux"
        assert inv.os.facts["files"]["/etc/os-release"] == Path("/etc/os-release").read_text()
        assert {(s.name, s.version) for s in inv.software} == want
        assert inv.host.site == "St Elsewhere" and inv.host.tags == ["ward-7"]
        assert inv.host.address in fleet.addresses
    assert {s.status for s in store.statuses()} == {"ok"}


def test_linux_host_is_answered_in_one_round_trip(fleet: sshd.Fleet) -> None:
    """The whole Linux probe table costs one exec (one remote sh), not one per file."""
    from agents.ssh import KnownHosts, SshCredentials, SshOptions, SshShell
    from scanner.collect.executors import collect_ssh

    calls: list[str] = []

    class Counting(SshShell):
        def exec(self, command: str, timeout: float, **kw: Any) -> CommandResult:
            calls.append(command)
            return super().exec(command, timeout, **kw)

    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with Counting(
        fleet.addresses[0], fleet.port, creds=creds, known_hosts=KnownHosts(fleet.known_hosts), options=SshOptions()
    ) as shell:
        inv = collect_ssh(shell, targets(fleet, [0])[0], 10.0)
    assert len(calls) == 1, calls
    assert inv.os.family == "linux" and len(inv.software) > 50


def test_commands_are_quoted_never_interpreted(fleet: sshd.Fleet) -> None:
    from agents.ssh import KnownHosts, SshCredentials, SshShell

    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with SshShell(fleet.addresses[1], fleet.port, creds=creds, known_hosts=KnownHosts(fleet.known_hosts)) as sh:
        res = sh.run(["echo", "a; touch /tmp/legacyscan-pwned $(id)"], timeout=5)
        assert res.stdout == "a; touch /tmp/legacyscan-pwned $(id)\n"
        assert not Path("/tmp/legacyscan-pwned").exists()
        assert sh.read_text("/etc/hostname") == Path("/etc/hostname").read_text()
        assert sh.read_text("/nonexistent/file") is None
        assert sh.run(["false"], timeout=5).exit_code == 1
        assert sh.run(["no-such-command-xyz"], timeout=5).exit_code == 127


def test_changed_host_key_is_refused_and_last_good_inventory_kept(
    fleet: sshd.Fleet, store: SqliteStore, tmp_path: Path
) -> None:
    one = targets(fleet, [2])
    assert FleetScanner(store, config(fleet)).run(one).by_status == {"ok": 1}
    before = store.count_inventories()
    kh = fleet.write_known_hosts(tmp_path / "kh", wrong={fleet.addresses[2]})
    summary = FleetScanner(store, config(fleet, known_hosts=str(kh), accept_new_host_keys=True)).run(one)
    assert summary.by_status == {"host-key-mismatch": 1}
    status = store.statuses()[0]
    assert status.status == "host-key-mismatch"
    assert "HOST KEY CHANGED" in status.error and "SHA256:" in status.error
    assert status.last_ok_at, "the last good scan time survives the failure"
    assert store.count_inventories() == before
    assert len(store.latest_inventories()) == 1
    # trust on first use never overwrites a changed key
    assert kh.read_text().count(fleet.addresses[2]) == 1


def test_wrong_client_key_is_auth_failed(fleet: sshd.Fleet, store: SqliteStore) -> None:
    summary = FleetScanner(store, config(fleet, ssh_key=str(fleet.other_key))).run(targets(fleet, [3]))
    assert summary.by_status == {"auth-failed": 1}
    assert sshd.USER in summary.statuses[0].error and "publickey" in summary.statuses[0].error
    assert store.count_inventories() == 0


def test_unknown_host_refused_unless_trust_on_first_use(fleet: sshd.Fleet, store: SqliteStore, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    one = targets(fleet, [4])
    assert FleetScanner(store, config(fleet, known_hosts=str(kh))).run(one).by_status == {"host-key-unknown": 1}
    assert kh.read_text() == ""
    assert FleetScanner(store, config(fleet, known_hosts=str(kh), accept_new_host_keys=True)).run(one).by_status == {
        "ok": 1
    }
    assert kh.read_text() == fleet.known_hosts_line(fleet.addresses[4])
    # the recorded key is now required: a plain run (no TOFU) succeeds against it
    assert FleetScanner(store, config(fleet, known_hosts=str(kh))).run(one).by_status == {"ok": 1}


def test_hanging_hosts_time_out_without_stalling_the_rest(fleet: sshd.Fleet, store: SqliteStore) -> None:
    silent = sshd.SilentListener()
    try:
        ts = targets(fleet, [HANG, 0, 1]) + [Target(host=silent.address, port=silent.port, site="St Elsewhere")]
        summary = FleetScanner(store, config(fleet, timeout=2.0, connect_timeout=1.5)).run(ts)
    finally:
        silent.close()
    by_target = {s.target: s for s in summary.statuses}
    assert by_target[ts[0].key].status == "timeout" and "timed out" in by_target[ts[0].key].error
    assert by_target[ts[3].key].status == "timeout" and "handshake" in by_target[ts[3].key].error
    assert by_target[ts[1].key].status == "ok" and by_target[ts[2].key].status == "ok"


def test_host_dropping_mid_command_is_reported_and_stores_nothing(fleet: sshd.Fleet, store: SqliteStore) -> None:
    summary = FleetScanner(store, config(fleet)).run(targets(fleet, [DROP]))
    assert summary.by_status == {"unreachable": 1}
    assert "connection lost" in summary.statuses[0].error
    assert store.count_inventories() == 0


def test_macos_like_host(fleet: sshd.Fleet, store: SqliteStore) -> None:
    capture = json.loads(sshd.MAC_CAPTURE.read_text("utf-8"))
    summary = FleetScanner(store, config(fleet)).run(targets(fleet, [MAC]))
    assert summary.by_status == {"ok": 1}, summary.statuses
    inv = summary.inventories[0]
    assert inv.os.family == "macos"
    assert inv.os.facts == {"product_version": "10.6.8", "build_version": "10K549"}
    assert inv.os.identify_record() == {
        "kind": "os",
        "family": "macos",
        "product_version": "10.6.8",
        "build_version": "10K549",
    }
    want = {(s["name"], s.get("version") or "") for s in capture["software"]}
    assert {(s.name, s.version) for s in inv.software} == want
    assert {s.source for s in inv.software} == {"macos-app"}
    assert inv.hardware.model == "iMac5,1"
    assert inv.host.machine_id == "6F3C2A58-0000-0000-0000-000000000001"


def test_resume_skips_recently_scanned_hosts(fleet: sshd.Fleet, store: SqliteStore) -> None:
    from datetime import timedelta

    ts = targets(fleet, [0, 1, DROP])
    FleetScanner(store, config(fleet)).run(ts)
    again = FleetScanner(store, config(fleet, resume=timedelta(hours=1))).run(ts)
    assert again.skipped == 2 and again.total == 1  # only the failed host is retried
    assert again.by_status == {"unreachable": 1}


def test_progress_json_lines_when_not_a_terminal(fleet: sshd.Fleet, store: SqliteStore) -> None:
    out = io.StringIO()
    progress = Progress(3, out, tty=False)
    FleetScanner(store, config(fleet), progress=progress).run(targets(fleet, [0, 1, 3]))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines and lines[-1]["event"] == "progress"
    assert lines[-1]["done"] == 3 and lines[-1]["failed"] == 0 and lines[-1]["total"] == 3


def test_cli_scan_targets_end_to_end(
    fleet: sshd.Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from scanner.cli import main

    csv = tmp_path / "targets.csv"
    csv.write_text(
        "host,site,transport,port,user,tags\n"
        f"{fleet.addresses[0]},Main Hospital,ssh,{fleet.port},{sshd.USER},pacs;imaging\n"
        f"{fleet.addresses[MAC]},Community,ssh,{fleet.port},{sshd.USER},\n"
        f"{fleet.addresses[DROP]},Community,ssh,{fleet.port},{sshd.USER},\n"
    )
    db = tmp_path / "cli.db"
    out = tmp_path / "report.json"
    code = main(
        [
            "scan",
            "--targets",
            str(csv),
            "--ssh-key",
            str(fleet.client_key),
            "--known-hosts",
            str(fleet.known_hosts),
            "--no-agent",
            "--db",
            f"sqlite:///{db}",
            "--format",
            "json",
            "--out",
            str(out),
            "--as-of",
            "2026-11-30",
            "--timeout",
            "5",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert out.exists() and out.stat().st_size > 0
    assert '"event": "progress"' in err
    assert "unreachable" in caplog.text + err  # the dropped host is reported
    s = SqliteStore(str(db))
    try:
        sites = {inv.host.site: inv for inv in s.latest_inventories()}
        assert set(sites) == {"Main Hospital", "Community"}
        assert sites["Main Hospital"].host.tags == ["imaging", "pacs"]
        assert sites["Community"].os.family == "macos"
        assert {st.status for st in s.statuses()} == {"ok", "unreachable"}
    finally:
        s.close()


def test_cli_bad_targets_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.cli import main

    bad = tmp_path / "t.csv"
    bad.write_text("host,site,transport,port,user,tags\nok-host,A,ssh,22,,\nbad host!,A,ssh,22,,\n")
    db = tmp_path / "x.db"
    assert main(["scan", "--targets", str(bad), "--db", f"sqlite:///{db}"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "bad host!" in err


def test_jump_host(fleet: sshd.Fleet, store: SqliteStore, tmp_path: Path) -> None:
    """A host reached through a jump host (its key is still checked end to end)."""
    jump = f"{sshd.USER}@{fleet.addresses[0]}:{fleet.port}"
    ts = [Target(host=fleet.addresses[i], port=fleet.port, site="Satellite", jump=jump) for i in (1, 2)]
    summary = FleetScanner(store, config(fleet)).run(ts)
    assert summary.by_status == {"ok": 2}, summary.statuses
    assert {inv.host.address for inv in summary.inventories} == {fleet.addresses[1], fleet.addresses[2]}
    # a wrong recorded key for the far host is still refused behind the jump host
    kh = fleet.write_known_hosts(tmp_path / "kh", wrong={fleet.addresses[1]})
    again = FleetScanner(store, config(fleet, known_hosts=str(kh))).run(ts[:1])
    assert again.by_status == {"host-key-mismatch": 1}


def test_interrupt_keeps_what_was_collected(fleet: sshd.Fleet, store: SqliteStore) -> None:
    """Ctrl-C (KeyboardInterrupt in the consumer) stops cleanly: finished hosts are committed, the
    host still hanging records nothing, and the scan returns promptly instead of waiting it out."""

    class InterruptAfterTwo(Progress):
        def update(self, done: int, failed: int, force: bool = False) -> None:
            if done >= 2 and not force:
                raise KeyboardInterrupt

    ts = targets(fleet, [HANG, 0, 1, 3, 4])
    scanner = FleetScanner(
        store,
        config(fleet, concurrency=3, timeout=60.0),
        progress=InterruptAfterTwo(len(ts), io.StringIO(), tty=False),
        batch_size=1,
    )
    summary = scanner.run(ts)
    assert summary.interrupted
    assert summary.seconds < 30, "the hanging host (60 s timeout) was aborted, not waited for"
    recorded = {s.target for s in store.statuses()}
    assert ts[0].key not in recorded
    assert len(recorded) >= 2 and store.count_inventories() == summary.done >= 2


def test_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LEGACYSCAN_SSH_PASSWORD logs in; a wrong one is auth-failed and never echoed anywhere."""
    pw_fleet = sshd.start_fleet(1, first=60, password_user=True)
    try:
        store = SqliteStore(str(tmp_path / "pw.db"))
        t = [Target(host=pw_fleet.addresses[0], port=pw_fleet.port, site="PW", user=sshd.PASSWORD_USER)]
        base = dict(
            concurrency=2, timeout=5.0, connect_timeout=3.0, known_hosts=str(pw_fleet.known_hosts), use_agent=False
        )
        monkeypatch.setenv("LEGACYSCAN_SSH_PASSWORD", sshd.PASSWORD)
        assert FleetScanner(store, ScanConfig(**base)).run(t).by_status == {"ok": 1}  # type: ignore[arg-type]
        monkeypatch.setenv("LEGACYSCAN_SSH_PASSWORD", "wrong-password-123")
        bad = FleetScanner(store, ScanConfig(**base)).run(t)  # type: ignore[arg-type]
        assert bad.by_status == {"auth-failed": 1}
        assert "password" in bad.statuses[0].error
        assert all("wrong-password-123" not in s.error for s in store.statuses())
        store.close()
        assert b"wrong-password-123" not in (tmp_path / "pw.db").read_bytes()
    finally:
        pw_fleet.stop()


def test_default_maxstartups_is_never_tripped(tmp_path: Path) -> None:
    """sshd's default MaxStartups 10:30:100 randomly drops unauthenticated connections past 10; the
    engine opens at most 4 to one server however many targets point at it."""
    one = sshd.start_fleet(1, first=70, max_startups="10:30:100")
    try:
        store = SqliteStore(str(tmp_path / "ms.db"))
        ts = [Target(host=one.addresses[0], port=one.port, site=f"Site {i:02d}") for i in range(40)]
        summary = FleetScanner(store, config(one, concurrency=40)).run(ts)
        assert summary.by_status == {"ok": 40}, {s.error for s in summary.statuses}
        store.close()
    finally:
        one.stop()


def test_cli_large_scan_matches_where_collected_and_counts_every_finding(
    fleet: sshd.Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the inline-report size the scan keeps no inventories: each is matched where it was
    collected (a collector process when run with several) and only counts come back.  The counts
    must equal matching the stored inventories afterwards, and --fail-on must see them."""
    from scanner.cli import build_parser, main
    from scanner.cli import scan as scan_cli
    from scanner.cli.common import context_and_policy
    from scanner.judge.match import match_inventory

    monkeypatch.setattr(scan_cli, "INLINE_REPORT_MAX", 1)
    hosts = [*LINUX, MAC]
    csv = tmp_path / "targets.csv"
    csv.write_text(
        "host,site,transport,port,user,tags\n"
        + "".join(f"{fleet.addresses[i]},Main,ssh,{fleet.port},{sshd.USER},\n" for i in hosts)
    )
    db = tmp_path / "large.db"
    argv = [
        "scan",
        "--targets",
        str(csv),
        "--ssh-key",
        str(fleet.client_key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--db",
        f"sqlite:///{db}",
        "--as-of",
        "2026-11-30",
        "--timeout",
        "10",
        "--progress",
        "none",
    ]
    code = main(argv)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and summary["hosts"] == len(hosts) and summary["failed"] == 0
    s = SqliteStore(str(db))
    try:  # every stored inventory (the Linux addresses are all this machine: one host key)
        ids = [row[0] for row in s.conn.execute("SELECT inventory_id FROM inventories")]
        stored = [inv for inv in map(s.get_inventory, ids) if inv is not None]
    finally:
        s.close()
    assert len(stored) == len(hosts)
    args = build_parser().parse_args(["report", "--db", f"sqlite:///{db}", "--as-of", "2026-11-30"])
    ctx, policy = context_and_policy(args)
    expected: dict[str, int] = {}
    worst = 0
    for inv in stored:
        for f in match_inventory(inv, ctx, args.as_of, policy).findings:
            expected[f.status.value] = expected.get(f.status.value, 0) + 1
            worst = max(worst, f.status.severity)
    assert summary["findings_by_status"] == expected and sum(expected.values()) > len(hosts)
    from scanner.model import Status

    failing = [st.value for st in Status if 0 < st.severity <= worst]
    assert failing, "the scanned hosts should have at least one finding worse than supported"
    assert main([*argv, "--fail-on", failing[0]]) == 3


def test_cli_resume_report_includes_the_skipped_hosts(
    fleet: sshd.Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """`scan --resume` skips hosts scanned recently, but its report is the report of the whole
    targets file: the skipped host's stored inventory and status are in it (not "Devices 1")."""
    from scanner.cli import main

    db = tmp_path / "resume.db"
    common = [
        "--ssh-key",
        str(fleet.client_key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--db",
        f"sqlite:///{db}",
        "--as-of",
        "2026-11-30",
        "--timeout",
        "10",
        "--progress",
        "none",
        "--format",
        "json",
    ]
    first = tmp_path / "first.csv"
    first.write_text(f"host,site,transport,port,user,tags\n{fleet.addresses[0]},Main,ssh,{fleet.port},{sshd.USER},\n")
    assert main(["scan", "--targets", str(first), *common]) == 0
    capsys.readouterr()
    both = tmp_path / "both.csv"
    both.write_text(
        f"host,site,transport,port,user,tags\n{fleet.addresses[0]},Main,ssh,{fleet.port},{sshd.USER},\n"
        f"{fleet.addresses[MAC]},Main,ssh,{fleet.port},{sshd.USER},\n"
    )
    assert main(["scan", "--targets", str(both), "--resume", "1h", *common]) == 0
    out = capsys.readouterr()
    assert "1 skipped (--resume)" in caplog.text
    report = json.loads(out.out)
    assert report["kpis"]["devices"] == 2  # the Linux host (skipped, from the store) and the Mac (scanned now)
    assert report["kpis"]["targets"] == 2 and report["kpis"]["coverage"] == 1.0
    families = {h["os"]["product"] for s in report["sites"] for h in s["hosts"] if h["os"]}
    assert "macos" in families and len(families) == 2


def test_commands_over_ssh_run_at_the_lowest_cpu_and_io_priority(fleet: sshd.Fleet) -> None:
    """The probe bundle and any command or file asked for outside it run under renice 19 and the
    idle I/O class on the host (real sshd: the remote processes' own /proc entries say so)."""
    from agents.ssh import KnownHosts, SshCredentials, SshShell

    def nice_of(stat: str) -> int:
        return int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of /proc/PID/stat

    creds = SshCredentials.load(sshd.USER, str(fleet.client_key), use_agent=False, env={})
    with SshShell(fleet.addresses[1], fleet.port, creds=creds, known_hosts=KnownHosts(fleet.known_hosts)) as sh:
        sh.preload([["cat", "/proc/self/stat"], ["ionice"]], [])
        assert nice_of(sh.run(["cat", "/proc/self/stat"]).stdout) == 19
        assert sh.run(["ionice"]).stdout.strip() == "idle"
        # asked for outside the bundle (not preloaded): sent the same way, at the same priority
        assert nice_of(sh.run(["head", "-1", "/proc/self/stat"], timeout=10).stdout) == 19
        assert sh.run(["ionice", "-p", "0"], timeout=10).stdout.strip() == "idle"  # pid 0: itself
        status = sh.read_text("/proc/self/status")
        assert status is not None and "Name:" in status


def test_a_dead_name_server_costs_a_named_host_its_connect_timeout_not_the_scan(
    fleet: sshd.Fleet, tmp_path: Path
) -> None:
    """``scan`` with a name server that answers one name and never answers another (the resolver
    alone would wait a quarter of an hour for it): the scan ends, the unanswered name is a
    "timeout" naming its lookup, and the answered name and the host listed by address are
    collected as usual.  The command runs in a mount namespace whose /etc/resolv.conf names the
    loopback name server (tests/integration/dnsd.py)."""
    import os

    from tests.integration import dnsd

    why = dnsd.available()
    if why:
        require_or_skip(why)
    dns = dnsd.DnsServer({"ward7-pc1.ward7.test": fleet.addresses[1]}, {"ward7-pc9.ward7.test"})
    try:
        known = tmp_path / "known_hosts"
        known.write_text(fleet.known_hosts.read_text() + f"[ward7-pc1.ward7.test]:{fleet.port} {fleet.host_pubkey}\n")
        csv = tmp_path / "targets.csv"
        csv.write_text(
            "host,site,transport,port,user,tags\n"
            f"ward7-pc9.ward7.test,Main Hospital,ssh,{fleet.port},{sshd.USER},\n"
            f"ward7-pc1.ward7.test,Main Hospital,ssh,{fleet.port},{sshd.USER},\n"
            f"{fleet.addresses[0]},Main Hospital,ssh,{fleet.port},{sshd.USER},\n"
        )
        db = tmp_path / "scan.db"
        argv = ["scan", "--targets", str(csv), "--ssh-key", str(fleet.client_key), "--known-hosts", str(known)]
        argv += ["--no-agent", "--connect-timeout", "2", "--timeout", "10", "--db", f"sqlite:///{db}", "--no-report"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
        done = dnsd.run_cli(dns, tmp_path, argv, env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert dns.queries["ward7-pc9.ward7.test"] >= 1 and dns.queries["ward7-pc1.ward7.test"] >= 1
    finally:
        dns.stop()
    s = SqliteStore(str(db))
    try:
        status = {st.target: st for st in s.statuses()}
        dead = status[f"ssh://ward7-pc9.ward7.test:{fleet.port}"]
        assert dead.status == "timeout" and "name lookup of ward7-pc9.ward7.test: no answer" in dead.error, dead
        for host in ("ward7-pc1.ward7.test", fleet.addresses[0]):
            assert status[f"ssh://{host}:{fleet.port}"].status == "ok", status[f"ssh://{host}:{fleet.port}"]
        assert s.latest_inventories()  # stored (both are this machine: one host in the store)
    finally:
        s.close()
