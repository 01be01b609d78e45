"""``legacyscan discover`` against real services on loopback (tests/integration/discover_lab.py):
Debian's smbd with SMB1 on and with SMB2 only, snmpd with a v2c community and a v3 user, OpenSSH
sshd, dropbear and nginx with a TLS certificate."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.discover.base import ProbeSettings
from scanner.discover.engine import DiscoverConfig, Discoverer
from scanner.discover.exclusions import Exclusions
from scanner.discover.registry import PROBES
from scanner.targets import Target
from tests.conftest import require_or_skip
from tests.integration import discover_lab as lab_mod
from tests.integration import dnsd

pytestmark = pytest.mark.integration

# Every probe's budget here: generous (smbd forks a child, xrdp and FreeRDP do a TLS handshake, all on
# a machine shared with other test runs), bounded, and never asserted on.
BUDGET = 20.0


@pytest.fixture(scope="module")
def lab() -> Iterator[lab_mod.Lab]:
    why = lab_mod.available()
    if why:
        require_or_skip(why)
    lab = lab_mod.start()
    try:
        yield lab
    finally:
        lab.stop()


def _probe(lab: lab_mod.Lab, kind: str, transport: str, settings: ProbeSettings | None = None) -> Any:
    target = Target(lab_mod.ADDRESSES[kind], transport=transport, port=lab.ports[kind])
    return PROBES[transport](target, settings or ProbeSettings(timeout=BUDGET))


def test_samba_smb1_and_smb2_are_told_apart_and_never_windows(lab: lab_mod.Lab) -> None:
    one = _probe(lab, "smb1", "smb")
    assert one.status == "ok" and one.connections == 1
    assert one.facts["smb1"] is True and one.facts["native_lanman"].startswith("Samba 4.")
    assert one.facts["ntlm_version"].startswith("6.1.")  # the Windows-like version Samba claims
    two = _probe(lab, "smb2", "smb")
    assert two.status == "ok" and two.facts["smb1"] is False and two.facts["smb2_dialect"] in ("3.0.2", "3.0", "2.1")
    assert two.connections == 2  # SMB1 refused on the first, SMB2 on the second: never more
    assert two.facts["netbios_name"] == "SMB2"


# Generous but bounded budgets: the lab shares a busy machine, and no assertion here is about time.
# An answer that comes is read whatever the load; a wrong community gets no answer at all, so its
# probe ends by its budget, which proves only that it asked once and gave up.
SNMP_BUDGET = 30.0
SILENT_BUDGET = 2.0


def test_snmp_v2c_and_v3_read_the_system_group(lab: lab_mod.Lab) -> None:
    v2 = _probe(lab, "snmp", "snmp", ProbeSettings(timeout=SNMP_BUDGET, snmp_community=lab_mod.SNMP_COMMUNITY))
    assert v2.status == "ok" and v2.facts["sys_name"] == "ward7-switch"
    assert v2.facts["sys_object_id"].startswith("1.3.6.1.4.1.8072.")  # net-snmp's enterprise
    assert v2.facts["sys_descr"].startswith("Linux ")
    v3 = _probe(
        lab,
        "snmp",
        "snmp",
        ProbeSettings(
            timeout=SNMP_BUDGET,
            snmp_v3={"user": lab_mod.SNMP_USER, "auth_key": lab_mod.SNMP_AUTH, "priv_key": lab_mod.SNMP_PRIV},
        ),
    )
    assert v3.status == "ok" and v3.facts["snmp_version"] == "3" and v3.facts["sys_name"] == "ward7-switch"
    wrong = _probe(lab, "snmp", "snmp", ProbeSettings(timeout=SILENT_BUDGET, snmp_community="not-the-community"))
    assert wrong.status == "timeout" and wrong.connections == 1  # one request, no retries
    assert "sys_descr" not in wrong.facts
    none = _probe(lab, "snmp", "snmp", ProbeSettings(timeout=SILENT_BUDGET))
    assert none.status == "no-credentials" and none.connections == 0  # no guessed "public"


def test_ssh_banners_and_https_certificate(lab: lab_mod.Lab) -> None:
    ssh = _probe(lab, "sshd", "ssh")
    assert ssh.facts["software"] == "OpenSSH" and ssh.connections == 1
    drop = _probe(lab, "dropbear", "ssh")
    assert drop.facts["software"] == "dropbear"
    https = _probe(lab, "https", "https")
    cert = https.facts["certificate"]
    assert https.facts["server"].startswith("nginx/") and https.facts["tls_version"].startswith("TLSv1.")
    assert cert["self_signed"] is True and cert["dns_names"] == ["pacs-web.ward7.example"]
    assert cert["not_after"] < datetime.now(UTC).date().isoformat()  # the lab's certificate has expired


def test_rdp_negotiation_and_certificate_from_a_real_rdp_server(lab: lab_mod.Lab) -> None:
    tls = _probe(lab, "rdp", "rdp")
    assert tls.status == "ok" and tls.connections == 1
    assert tls.facts["rdp_security"] == "tls" and tls.facts["certificate"]["self_signed"] is True
    assert "ntlm_version" not in tls.facts  # xrdp offers no CredSSP: nothing beyond TLS is sent
    std = _probe(lab, "rdp-std", "rdp")
    assert std.status == "ok" and std.facts["rdp_security"] == "rdp"


def test_rdp_nla_gives_its_ntlm_challenge_and_winpr_is_never_windows(lab: lab_mod.Lab) -> None:
    from scanner.discover import fingerprint

    nla = _probe(lab, "rdp-nla", "rdp")
    assert nla.status == "ok" and nla.connections == 1 and nla.facts["rdp_security"] == "credssp"
    # a real CredSSP exchange up to the server's NTLM CHALLENGE (no AUTHENTICATE is ever sent)
    assert nla.facts["ntlm_version"].startswith("6.1.") and nla.facts["netbios_name"]
    inv = fingerprint.inventory(
        Target(lab_mod.ADDRESSES["rdp-nla"], transport="rdp", port=lab.ports["rdp-nla"]), [nla], datetime.now(UTC)
    )
    assert inv.os.family != "windows"  # WinPR claims NT 6.1.7601 but speaks TLS 1.3: not Windows
    assert any(s.name.startswith("FreeRDP") for s in inv.software)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_discover_command_end_to_end(
    lab: lab_mod.Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = tmp_path / "targets.csv"
    # the lab, a silent address, and a medical device that must never be touched
    targets.write_text(
        lab.targets_csv() + f"127.0.0.16,RXX01,any,,\n127.0.0.17,RXX01,ssh,{lab.ports['sshd']},medical-device\n"
    )
    creds = tmp_path / "creds.toml"
    creds.write_text(f'[snmp]\ncommunity = "{lab_mod.SNMP_COMMUNITY}"\n')
    os.chmod(creds, stat.S_IRUSR | stat.S_IWUSR)
    monkeypatch.delenv("LEGACYSCAN_SNMP_COMMUNITY", raising=False)
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    code, out, err = _run(
        [
            "discover",
            "--targets",
            str(targets),
            "--db",
            db,
            "--credentials",
            str(creds),
            "--format",
            "json",
            "--as-of",
            "2026-12-06",
            "--timeout",
            str(BUDGET),
        ],
        capsys,
    )
    assert code == 0, err
    assert "lab-secret" not in err and lab_mod.SNMP_COMMUNITY not in out + err  # never echoed
    report = json.loads(out)
    hosts = {h["hostname"]: h for s in report["sites"] for h in s["hosts"]}
    debian = next(h for h in hosts.values() if h["os"] and h["os"]["product"] == "debian")
    assert debian["os"]["cycle"] == "12" and debian["os"]["match"]["confidence"] == "medium"
    assert debian["os"]["match"]["evidence"]["announced_by"] == "ssh-banner"
    assert any(f["product"] == "nginx" for f in debian["findings"])
    assert hosts["SMB1"]["os"]["product"] is None and hosts["SMB2"]["os"]["product"] is None  # Samba: not Windows
    assert "ward7-switch" in hosts
    assert all(h.get("discovered") is True for h in hosts.values())
    statuses = {c["target"]: c["status"] for s in report["sites"] for c in s.get("coverage", [])}
    assert statuses.get("discover://127.0.0.17") == "excluded"
    assert statuses.get("discover://127.0.0.16") in ("unreachable", "timeout")
    # `report` later shows the same discovered hosts from the store
    code, out, err = _run(["report", "--db", db, "--format", "csv", "--as-of", "2026-12-06"], capsys)
    assert code == 0 and "SMB1" in out and "discovered" in out


def test_excluded_targets_get_no_connection(lab: lab_mod.Lab) -> None:
    port = lab.ports["sshd"]
    addr = lab_mod.ADDRESSES["sshd"]
    calls: list[tuple[str, float]] = []

    def counting(target: Target, settings: ProbeSettings) -> Any:
        calls.append((target.host, datetime.now(UTC).timestamp()))
        return PROBES["ssh"](target, settings)

    targets = [
        Target(addr, site="A", transport="ssh", port=port),
        Target("127.0.0.14", site="A", transport="ssh", port=port, tags=("medical-device",)),
        Target("127.0.0.18", site="A", transport="ssh", port=port),
    ]
    summary = Discoverer(
        None,
        ProbeSettings(timeout=BUDGET),
        DiscoverConfig(concurrency=1, site_rate=1000.0),
        {"ssh": counting},
        Exclusions(),
    ).run(targets)
    # 127.0.0.14 appears twice: tagged medical-device on one line, so the address is never probed
    assert summary.excluded == 1
    assert all(host != "127.0.0.14" for host, _ in calls)
    assert len(calls) == 1 and calls[0][0] == "127.0.0.18"


def test_rdp_certificate_names_the_device_when_nothing_else_does(lab: lab_mod.Lab) -> None:
    from scanner.discover import fingerprint

    target = Target(lab_mod.ADDRESSES["rdp"], transport="rdp", port=lab.ports["rdp"])
    inv = fingerprint.inventory(target, [PROBES["rdp"](target, ProbeSettings(timeout=BUDGET))], datetime.now(UTC))
    assert inv.host.hostname == "pacs-web.ward7.example"  # the lab's certificate CN
    assert inv.os.facts["services"][f"rdp:{lab.ports['rdp']}"]["rdp_security"] == "tls"


def test_every_service_s_words_reach_the_report_evidence(lab: lab_mod.Lab) -> None:
    from scanner.discover import fingerprint

    addr = lab_mod.ADDRESSES["sshd"]
    targets = [Target(addr, transport=t, port=lab.ports[k]) for k, t in (("sshd", "ssh"), ("https", "https"))]
    inv = fingerprint.inventory(
        targets[0], [PROBES[t.transport](t, ProbeSettings(timeout=BUDGET)) for t in targets], datetime.now(UTC)
    )
    said = inv.os.facts["announced"]["services"]
    assert "SSH-2.0-OpenSSH_" in said and "Server: nginx/" in said
    assert "issued by itself" in said and "pacs-web.ward7.example" in said


def test_samba_s_smb2_connection_takes_its_own_rate_limit_token(lab: lab_mod.Lab) -> None:
    from scanner.collect.ratelimit import SiteRateLimiter

    class Counting(SiteRateLimiter):
        def __init__(self) -> None:
            super().__init__(None)
            self.tokens = 0

        def wait(self, site: str, stop: object) -> bool:  # type: ignore[override]
            self.tokens += 1
            return True

    limiter = Counting()
    target = Target(lab_mod.ADDRESSES["smb2"], site="A", transport="smb", port=lab.ports["smb2"])
    summary = Discoverer(
        None, ProbeSettings(timeout=BUDGET), DiscoverConfig(concurrency=1), PROBES, Exclusions(), limiter=limiter
    ).run([target])
    # Samba with SMB1 off: SMB1 refused on the first connection, SMB2 on a second -- each one a token
    assert summary.identified == 1 and summary.connections == 2 and limiter.tokens == 2


@pytest.fixture
def dns(tmp_path: Path) -> Iterator[dnsd.DnsServer]:
    why = dnsd.available()
    if why:
        require_or_skip(why)
    server = dnsd.DnsServer(
        answers={"sshd.ward7.test": lab_mod.ADDRESSES["sshd"]},
        dead={"pacs-gw.ward7.test", "snmp-gw.ward7.test", "mri-console.ward7.test"},
    )
    try:
        yield server
    finally:
        server.stop()


def test_a_dead_name_server_costs_each_name_its_timeout_not_the_sweep(
    lab: lab_mod.Lab, dns: dnsd.DnsServer, tmp_path: Path
) -> None:
    """The run's name server answers one name and never answers three (the resolver itself would
    wait a quarter of an hour for each: resolv.conf's 30 s x 5 attempts): the sweep ends, each
    unanswered name is reported as a lookup that timed out (its other service never tried), the
    answered name is identified as by its address, and the neighbour listed by address is untouched
    by it all.  Run as the command, in a mount namespace whose /etc/resolv.conf names that server."""
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "host,site,transport,port,tags\n"
        f"sshd.ward7.test,RXX01,ssh,{lab.ports['sshd']},\n"
        f"pacs-gw.ward7.test,RXX01,ssh,{lab.ports['sshd']},\n"
        f"pacs-gw.ward7.test,RXX01,https,{lab.ports['https']},\n"
        f"snmp-gw.ward7.test,RXX01,snmp,{lab.ports['snmp']},\n"
        f"{lab_mod.ADDRESSES['dropbear']},RXX01,ssh,{lab.ports['dropbear']},\n"
    )
    excluded = tmp_path / "exclude.txt"
    excluded.write_text("mri-console.ward7.test\n192.0.2.0/24\n")  # a range: names are checked by address
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
    env["LEGACYSCAN_SNMP_COMMUNITY"] = lab_mod.SNMP_COMMUNITY
    argv = ["discover", "--targets", str(targets), "--exclude", str(excluded), "--timeout", "2"]
    argv += ["--db", f"sqlite:///{tmp_path / 'ls.db'}", "--format", "json", "--as-of", "2026-12-06"]
    done = dnsd.run_cli(dns, tmp_path, argv, env)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    coverage = {c["target"]: c for s in report["sites"] for c in s["coverage"]}
    for name in ("pacs-gw.ward7.test", "snmp-gw.ward7.test"):
        assert dns.queries[name] >= 1  # the resolver did ask the dead server
        line = coverage[f"discover://{name}"]
        assert line["status"] == "timeout" and line["error"].startswith(f"name lookup of {name}: no answer"), line
    assert "https" not in coverage["discover://pacs-gw.ward7.test"]["error"]  # its next service: not tried
    assert "excluded host name mri-console.ward7.test did not resolve within --timeout" in done.stderr
    assert dns.queries["mri-console.ward7.test"] >= 1
    # the answered name and the neighbour listed by address: identified as without the dead names
    assert coverage["discover://sshd.ward7.test"]["status"] == "ok" and dns.queries["sshd.ward7.test"] >= 1
    assert coverage[f"discover://{lab_mod.ADDRESSES['dropbear']}"]["status"] == "ok"
    hosts = {h["hostname"]: h for s in report["sites"] for h in s["hosts"]}
    named = next(h for h in hosts.values() if h["os"] and h["os"]["product"] == "debian")
    assert named["os"]["cycle"] == "12" and named["os"]["match"]["evidence"]["announced_by"] == "ssh-banner"
    assert set(coverage) == {
        "discover://sshd.ward7.test",
        "discover://pacs-gw.ward7.test",
        "discover://snmp-gw.ward7.test",
        f"discover://{lab_mod.ADDRESSES['dropbear']}",
    }
