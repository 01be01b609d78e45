"""Credential-free discovery: parsers on real replies, the announced-evidence identifier, safety rules.

Real servers (Samba, OpenSSH, dropbear, snmpd, nginx) are exercised in
tests/integration/test_discover.py; here are the pure parts and the Windows replies we cannot
produce locally (tests/fixtures/discovery/PROVENANCE.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from eol_data.catalog import Catalog
from scanner.discover import fingerprint
from scanner.discover.base import Observation, ProbeError
from scanner.discover.exclusions import Exclusions, parse
from scanner.discover.http import parse_response
from scanner.discover.link import supersede
from scanner.discover.ntlm import parse_challenge
from scanner.discover.rdp import parse_connection_confirm, ts_request
from scanner.discover.smb import parse_smb1_negotiate, parse_smb1_session_setup, parse_smb2_negotiate, spnego_negotiate
from scanner.discover.ssh import parse_banner
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Policy, Status
from scanner.targets import DISCOVERY_KINDS, Target, TargetError, parse_csv, parse_list

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "discovery"
AS_OF = date(2026, 12, 6)
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def _judge(inv, ctx):  # type: ignore[no-untyped-def]
    return match_inventory(inv, ctx, AS_OF, Policy())


def _obs(service: str, facts: dict[str, object], host: str = "10.0.0.5", port: int = 0) -> Observation:
    return Observation(host=host, port=port, service=service, facts=dict(facts))


# -- NTLM: a real Windows CHALLENGE -------------------------------------------------------------


def test_ntlm_challenge_of_a_real_windows_server_gives_version_and_names(ctx: IdentifyContext) -> None:
    blob = bytes.fromhex((FIX / "freerdp-ntlm-challenge-win63-9600.hex").read_text().strip())
    facts = parse_challenge(b"\xa1\x81\x00junk-before" + blob)  # wrapped, as SPNEGO/CredSSP carry it
    assert facts["ntlm_version"] == "6.3.9600"
    assert facts["netbios_name"] == "NEWYEAR" and facts["dns_domain"] == "lab.wayk.local"
    inv = fingerprint.inventory(Target("10.0.0.5", transport="rdp", port=3389), [_obs("rdp", facts)], NOW)
    assert inv.collector.transport == "discovery" and inv.host.hostname == "NEWYEAR"
    result = _judge(inv, ctx)
    os_f = result.os_finding
    assert os_f is not None and os_f.product == "windows-server" and os_f.cycle == "2012-r2"
    assert os_f.status is Status.EOL
    assert os_f.detail.confidence in ("medium", "low")  # announced, never high
    assert os_f.detail.rule.startswith("announced.rdp-credssp+windows.")
    assert os_f.detail.evidence["announced_by"] == "rdp-credssp"


@pytest.mark.parametrize(
    "bad", [b"", b"NTLMSSP\x00\x02\x00\x00\x00", b"NTLMSSP\x00\x02\x00\x00\x00" + b"\xff" * 40, b"no challenge here"]
)
def test_malformed_ntlm_is_a_probe_error_not_a_crash(bad: bytes) -> None:
    with pytest.raises(ProbeError):
        parse_challenge(bad)


@pytest.mark.parametrize("row", json.loads((FIX / "nmap-native-os.json").read_text()))
def test_native_os_strings_of_real_windows_servers_identify_the_release(
    row: dict[str, str], ctx: IdentifyContext
) -> None:
    facts = {"smb1": True, "native_os": row["native_os"], "native_lanman": row["native_lanman"]}
    inv = fingerprint.inventory(Target("10.0.0.6", transport="smb", port=445), [_obs("smb", facts)], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.product == row["product"] and (os_f.cycle or "").startswith(row["cycle_prefix"])
    assert os_f.detail.confidence != "high"
    assert inv.os.facts["services"]["smb:0"]["smb1"] is True


def test_samba_is_never_windows_whatever_its_ntlm_version(ctx: IdentifyContext) -> None:
    # What Samba 4.17 answers (see the integration test): NTLM "6.1.0", NativeOS "Windows 6.1".
    smb1 = {"smb1": True, "ntlm_version": "6.1.0", "native_os": "Windows 6.1", "native_lanman": "Samba 4.17.12-Debian"}
    smb2 = {"smb1": False, "smb2_dialect": "3.0.2", "ntlm_version": "6.1.0", "netbios_name": "FILES"}
    for facts in (smb1, smb2):
        inv = fingerprint.inventory(Target("10.0.0.7", transport="smb", port=445), [_obs("smb", facts)], NOW)
        assert inv.os.family != "windows"
        os_f = _judge(inv, ctx).os_finding
        assert os_f is not None and os_f.product is None and os_f.status is Status.UNKNOWN
        assert any(s.name == "Samba" for s in inv.software)
    inv = fingerprint.inventory(Target("10.0.0.7", transport="smb", port=445), [_obs("smb", smb1)], NOW)
    assert [s.version for s in inv.software if s.name == "Samba"] == ["4.17.12"]


# -- SSH banners ------------------------------------------------------------------------------------


def test_ssh_banner_parts() -> None:
    f = parse_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10")
    assert (f["software"], f["version"], f["comment"]) == ("OpenSSH", "9.2p1", "Debian-2+deb12u10")
    f = parse_banner("SSH-2.0-dropbear_2022.83")
    assert (f["software"], f["version"]) == ("dropbear", "2022.83") and "comment" not in f
    with pytest.raises(ProbeError):
        parse_banner("HTTP/1.1 400 Bad Request")


@pytest.mark.parametrize(
    "banner, product, cycle, confidence",
    [
        ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", "debian", "12", "medium"),
        ("SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7", "debian", "9", "medium"),
        ("SSH-2.0-OpenSSH_5.5p1 Debian-6+squeeze5", "debian", "6", "medium"),
        ("SSH-2.0-OpenSSH_8.4p1 Debian-5", "debian", "11", "low"),
        ("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "ubuntu", "22.04", "low"),
        ("SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1.4", "ubuntu", "12.04", "low"),
    ],
)
def test_ssh_banner_distribution_rules(
    banner: str, product: str, cycle: str, confidence: str, ctx: IdentifyContext
) -> None:
    inv = fingerprint.inventory(Target("10.0.0.8"), [_obs("ssh", parse_banner(banner), port=22)], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and (os_f.product, os_f.cycle) == (product, cycle)
    assert os_f.detail.confidence == confidence
    assert os_f.detail.evidence["announced"] == banner


def test_bare_openssh_banner_names_no_distribution(ctx: IdentifyContext) -> None:
    inv = fingerprint.inventory(Target("10.0.0.9"), [_obs("ssh", parse_banner("SSH-2.0-OpenSSH_7.4"))], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.status is Status.UNKNOWN and os_f.product is None


# -- HTTP -------------------------------------------------------------------------------------------


def test_http_head_parse_and_banner_products(ctx: IdentifyContext) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nDate: x\r\nServer: Apache/2.2.15 (CentOS) OpenSSL/1.0.1e-fips\r\n"
        b"X-Powered-By: PHP/5.3.3\r\n\r\n"
    )
    facts = parse_response(raw)
    assert facts["server"].startswith("Apache/2.2.15") and facts["x-powered-by"] == "PHP/5.3.3"
    inv = fingerprint.inventory(Target("10.0.0.10", transport="http", port=80), [_obs("http", facts, port=80)], NOW)
    found = {f.product: f for f in _judge(inv, ctx).findings if f.kind == "software"}
    assert found["apache-http-server"].cycle == "2.2" and found["apache-http-server"].status is Status.EOL
    assert found["php"].cycle == "5.3" and found["openssl"].cycle == "1.0.1"
    assert all(f.detail.confidence == "low" for f in found.values())
    with pytest.raises(ProbeError):
        parse_response(b"\x16\x03\x01 not http")


def test_iis_names_its_windows_release_with_low_confidence(ctx: IdentifyContext) -> None:
    facts = parse_response(b"HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/6.0\r\n\r\n")
    inv = fingerprint.inventory(Target("10.0.0.11", transport="http", port=80), [_obs("http", facts)], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.product in ("windows", "windows-server") and os_f.status is Status.EOL
    assert os_f.detail.confidence == "low"


# -- SMB / RDP wire formats: hostile replies ---------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"\xffSMB", b"\xffSMBr" + b"\x00" * 10, b"\xfeSMB" + b"\x00" * 100, b"\x00" * 200]
)
def test_short_or_wrong_smb_replies_are_probe_errors(data: bytes) -> None:
    for parser in (parse_smb1_negotiate, parse_smb1_session_setup, parse_smb2_negotiate):
        try:
            parser(data)
        except ProbeError:
            continue
        except Exception as exc:  # noqa: BLE001 - anything else is the bug this test looks for
            pytest.fail(f"{parser.__name__}({data[:8]!r}) raised {type(exc).__name__}: {exc}")


def test_rdp_negotiation_answers() -> None:
    assert parse_connection_confirm(bytes.fromhex("0300000b06d00000123400")) == {
        "rdp_security": "rdp",
        "rdp_negotiation": False,
    }  # XP/2003: no negotiation data
    cc = bytes.fromhex("030000130ed000001234000200080002000000")
    assert parse_connection_confirm(cc)["rdp_security"] == "credssp"
    with pytest.raises(ProbeError):
        parse_connection_confirm(b"HTTP/1.1 400")
    assert ts_request()[0] == 0x30 and b"NTLMSSP\x00\x01" in ts_request()
    assert spnego_negotiate()[:1] == b"\x60" and b"NTLMSSP\x00\x01" in spnego_negotiate()


# -- targets, exclusions, linking ---------------------------------------------------------------------


def test_discovery_targets_accept_discovery_transports_and_any() -> None:
    ts = parse_csv("host,site,transport,port\n10.1.0.5,Main,smb,\n10.1.0.6,Main,,\n", "t.csv", DISCOVERY_KINDS)
    assert [(t.transport, t.port) for t in ts if t.host == "10.1.0.5"] == [("smb", 445)]
    assert sorted(t.transport for t in ts if t.host == "10.1.0.6") == ["http", "https", "rdp", "smb", "snmp", "ssh"]
    assert len(parse_list("10.2.0.0/30 transport=rdp\n", "t.txt", DISCOVERY_KINDS)) == 2
    with pytest.raises(TargetError, match="t.csv:2"):
        parse_csv("host,transport\n10.1.0.5,smb\n", "t.csv")  # `scan` still refuses smb


def test_exclusions_by_address_range_name_and_tag() -> None:
    ex = parse("10.9.0.14\n10.20.30.0/24  # imaging VLAN\npump-07.example.nhs.uk\ntag:infusion\n", "ex.txt")
    assert ex.reason(Target("10.9.0.14"))
    assert ex.reason(Target("10.20.30.200"))
    assert ex.reason(Target("pump-07.example.nhs.uk"))
    assert ex.reason(Target("10.1.1.1", tags=("infusion",)))
    assert ex.reason(Target("10.1.1.1", tags=("medical-device",)))  # always, without a file
    assert not ex.reason(Target("10.20.31.1"))
    assert not Exclusions(tags=set()).reason(Target("10.1.1.1", tags=("medical-device",)))
    with pytest.raises(TargetError, match="ex.txt:1"):
        parse("10.0.0.0/33\n", "ex.txt")


def test_an_inventory_supersedes_the_discovered_record_of_the_same_machine() -> None:
    disc = fingerprint.inventory(
        Target("10.3.0.7", site="Main"),
        [_obs("ssh", parse_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"), host="10.3.0.7")],
        NOW,
    )
    other = fingerprint.inventory(
        Target("10.3.0.8", site="Main"), [_obs("ssh", parse_banner("SSH-2.0-dropbear_2020.81"), host="10.3.0.8")], NOW
    )
    from agents.inventory import Host, Inventory

    real = Inventory(host=Host(hostname="lab-pc.example.nhs.uk", machine_id="abc", address="10.3.0.7"))
    kept, linked = supersede([disc, other, real])
    assert real in kept and other in kept and disc not in kept
    assert linked == {"discovered:10.3.0.7": "lab-pc.example.nhs.uk"}


def test_banner_product_on_a_distribution_host_is_never_a_possibly_wrong_eol(ctx: IdentifyContext) -> None:
    ssh = _obs("ssh", parse_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"), port=22)
    bare = _obs("http", parse_response(b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n"), port=80)
    marked = _obs(
        "https",
        parse_response(b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\nX-Powered-By: PHP/8.2.7\r\n\r\n"),
        port=443,
    )
    inv = fingerprint.inventory(Target("10.0.0.12"), [ssh, bare, marked], NOW)
    found = {f.product: f for f in _judge(inv, ctx).findings if f.kind == "software"}
    # nginx 1.22 has ended upstream, but on a Debian 12 host it may be Debian's maintained build
    assert found["nginx"].status is Status.UNKNOWN and "may be Debian's own" in found["nginx"].detail.reason
    # PHP 8.2 ends upstream on 2026-12-31 (ending soon), but behind "(Debian)" it is Debian's build:
    # judged with Debian 12 (extended: Debian LTS)
    assert found["php"].status is Status.EXTENDED and "Debian build" in found["php"].detail.reason
    assert found["apache-http-server"].status is Status.SUPPORTED
    alone = fingerprint.inventory(Target("10.0.0.13"), [bare], NOW)
    lone = {f.product: f for f in _judge(alone, ctx).findings if f.kind == "software"}
    assert lone["nginx"].status is Status.EOL  # no distribution known: the upstream verdict stands


# -- the engine: windows, rate limits, one address at a time -----------------------------------------


class _Recorder:
    """A probe that records who it was asked to contact (the engine's decisions, not a server)."""

    def __init__(self) -> None:
        self.calls: list[Target] = []

    def __call__(self, target: Target, settings: object) -> Observation:
        self.calls.append(target)
        return Observation(host=target.host, port=target.port, service=target.transport, status="closed", connections=1)


def test_engine_starts_nothing_outside_the_scan_window() -> None:
    from scanner.collect.config import ScanWindow
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    probe = _Recorder()
    noon = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    config = DiscoverConfig(concurrency=2, window=ScanWindow.parse("19:00-07:00"))
    summary = Discoverer(
        None, ProbeSettings(), config, {"ssh": probe}, Exclusions(), now=lambda: noon.astimezone().replace(hour=12)
    ).run([Target("10.0.0.1"), Target("10.0.0.2")])
    assert summary.window_closed and probe.calls == []


def test_engine_takes_a_site_token_before_every_connection_and_probes_an_address_serially() -> None:
    from scanner.collect.ratelimit import SiteRateLimiter
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    class Counting(SiteRateLimiter):
        def __init__(self) -> None:
            super().__init__(None)
            self.sites: list[str] = []

        def wait(self, site: str, stop: object) -> bool:  # type: ignore[override]
            self.sites.append(site)
            return True

    probe = _Recorder()
    limiter = Counting()
    targets = [Target("10.0.0.1", site="A", transport=t, port=p) for t, p in (("ssh", 22), ("smb", 445))]
    targets.append(Target("10.0.0.2", site="B", transport="ssh", port=22))
    summary = Discoverer(
        None,
        ProbeSettings(),
        DiscoverConfig(concurrency=4),
        {"ssh": probe, "smb": probe},
        Exclusions(),
        limiter=limiter,
    ).run(targets)
    assert sorted(limiter.sites) == ["A", "A", "B"]  # one token per connection, per site
    assert [t.transport for t in probe.calls if t.host == "10.0.0.1"] == ["ssh", "smb"]  # file order, serial
    assert summary.silent == 2 and {s.status for s in summary.statuses} == {"unreachable"}


def test_smb1_status_travels_with_the_os_verdict(ctx: IdentifyContext) -> None:
    row = json.loads((FIX / "nmap-native-os.json").read_text())[0]
    facts = {"smb1": True, "native_os": row["native_os"], "native_lanman": row["native_lanman"]}
    inv = fingerprint.inventory(Target("10.0.0.14", transport="smb", port=445), [_obs("smb", facts)], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.detail.evidence["smb1"] == "enabled"


# -- hostile and hanging services (real sockets on loopback) ------------------------------------------


def test_a_hanging_or_garbage_service_costs_one_bounded_probe() -> None:
    import socket
    import threading

    from scanner.discover.base import ProbeSettings
    from scanner.discover.registry import PROBES

    def serve(payload: bytes | None) -> tuple[socket.socket, int]:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)

        def loop() -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                if payload is not None:
                    try:
                        conn.sendall(payload)
                    except OSError:
                        pass
                hold = threading.Timer(20.0, conn.close)  # hold the connection open, silent, far longer
                hold.daemon = True  # than the probe's budget: only the probe's own timeout ends it
                hold.start()

        threading.Thread(target=loop, daemon=True).start()
        return srv, srv.getsockname()[1]

    silent, p1 = serve(None)
    garbage, p2 = serve(b"\x00\xff" * 40000)  # 80 KB of binary noise, no newline, no protocol
    try:
        for transport in ("ssh", "smb", "http", "rdp"):
            o = PROBES[transport](Target("127.0.0.1", transport=transport, port=p1), ProbeSettings(timeout=0.5))
            assert o.status == "timeout" and o.connections >= 1  # ended by its own budget, not the server
            g = PROBES[transport](Target("127.0.0.1", transport=transport, port=p2), ProbeSettings(timeout=0.5))
            assert g.status in ("error", "timeout") and g.facts.get("software") is None
    finally:
        silent.close()
        garbage.close()


def test_snmp_credentials_file_must_be_private_and_errors_never_echo_secrets(tmp_path: Path) -> None:
    import os

    from scanner.discover.snmp import SnmpCredentialError, load_credentials

    creds = tmp_path / "c.toml"
    creds.write_text('[snmp]\ncommunity = "s3cret-ward"\n[snmp.v3]\nuser = "u"\nauth_key = "k3y-value"\n')
    os.chmod(creds, 0o644)
    with pytest.raises(SnmpCredentialError) as info:
        load_credentials(str(creds), env={})
    assert "s3cret" not in str(info.value) and "chmod 600" in str(info.value)
    os.chmod(creds, 0o600)
    community, v3 = load_credentials(str(creds), env={})
    assert community == "s3cret-ward" and v3 == {"user": "u", "auth_key": "k3y-value"}
    assert load_credentials(str(creds), env={"LEGACYSCAN_SNMP_COMMUNITY": "env-wins"})[0] == "env-wins"
    creds.write_text('[snmp\ncommunity = "s3cret-ward"\n')
    with pytest.raises(SnmpCredentialError) as info:
        load_credentials(str(creds), env={})
    assert "s3cret" not in str(info.value)


def test_bare_nt_version_native_os_of_old_windows(ctx: IdentifyContext) -> None:
    # Windows XP answers SMB1 session set-up with NativeOS "Windows 5.1" (and 2000 with "Windows 5.0")
    facts = {"smb1": True, "native_os": "Windows 5.1", "native_lanman": "Windows 2000 LAN Manager"}
    inv = fingerprint.inventory(Target("10.0.0.15", transport="smb", port=445), [_obs("smb", facts)], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.product == "windows" and os_f.cycle == "5-sp3" and os_f.status is Status.EOL


def test_smb2_session_setup_reply_of_a_real_windows_11_host(ctx: IdentifyContext) -> None:
    from scanner.discover.smb import parse_smb2_session_setup

    msg = bytes.fromhex((FIX / "smb-rs-smb2-session-setup-win11-22621.hex").read_text().strip())
    facts = parse_smb2_session_setup(msg)
    assert facts["ntlm_version"] == "10.0.22621" and facts["netbios_name"] == "AVIVVM"
    facts.update(smb1=False, smb2_dialect="3.0.2")
    inv = fingerprint.inventory(Target("10.0.0.16", transport="smb", port=445), [_obs("smb", facts)], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.product == "windows" and (os_f.cycle or "").startswith("11-22h2")
    assert os_f.detail.evidence["smb1"] == "disabled" and os_f.detail.confidence != "high"
    with pytest.raises(ProbeError):  # the same reply cut short is refused, not half-read
        parse_smb2_session_setup(msg[:80])


def test_discovery_toml_targets_default_to_every_service() -> None:
    from scanner.targets import parse_toml

    text = (
        '[defaults]\ntags = ["radiology"]\n[[site]]\nname = "RXX01"\nhosts = ["10.5.0.0/30"]\n'
        '[[target]]\nhost = "pacs-gw.example.nhs.uk"\ntransport = "snmp"\nport = 1161\n'
    )
    ts = parse_toml(text, "t.toml", DISCOVERY_KINDS)
    assert len([t for t in ts if t.host.startswith("10.5.0.")]) == 2 * 6  # two hosts, every transport
    assert [(t.transport, t.port) for t in ts if t.host == "pacs-gw.example.nhs.uk"] == [("snmp", 1161)]
    assert all("radiology" in t.tags for t in ts)


def test_an_unreachable_address_gets_no_further_probes() -> None:
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    calls: list[str] = []

    def unreachable(target: Target, settings: object) -> Observation:
        calls.append(target.transport)
        return Observation(
            host=target.host,
            port=target.port,
            service=target.transport,
            status="unreachable",
            error="OSError: [Errno 113] No route to host",
            connections=1,
        )

    targets = [Target("10.9.9.9", transport=t, port=p) for t, p in (("ssh", 22), ("smb", 445), ("http", 80))]
    summary = Discoverer(
        None,
        ProbeSettings(),
        DiscoverConfig(),
        {"ssh": unreachable, "smb": unreachable, "http": unreachable},
        Exclusions(),
    ).run(targets)
    assert calls == ["ssh"] and summary.silent == 1 and summary.connections == 1


def test_shipped_discovery_examples_parse_and_exclude_what_they_say() -> None:
    from scanner.discover.exclusions import load
    from scanner.targets import load_targets

    root = Path(__file__).resolve().parents[2] / "examples"
    targets = load_targets(root / "discover-targets.csv", kinds=DISCOVERY_KINDS)
    ex = load(root / "discover-exclude.txt")
    excluded = {t.host for t in targets if ex.reason(t)}
    assert excluded == {"10.20.30.14", "10.20.50.7"}
    assert {t.transport for t in targets if t.host == "10.20.40.1"} == {"smb"}


def test_an_address_listed_twice_is_one_device_and_each_service_is_probed_once() -> None:
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    probe = _Recorder()
    targets = [
        Target("10.0.0.1", site="A", transport="ssh", port=22),
        Target("10.0.0.1", site="B", transport="ssh", port=22),  # the same service under another site
        Target("10.0.0.1", site="B", transport="smb", port=445),
        Target("10.0.0.2", site="A", transport="ssh", port=22),
        Target("10.0.0.2", site="A", transport="ssh", port=2222, tags=("do-not-probe",)),
    ]
    summary = Discoverer(
        None, ProbeSettings(), DiscoverConfig(concurrency=4), {"ssh": probe, "smb": probe}, Exclusions()
    ).run(targets)
    assert sorted((t.host, t.transport, t.port) for t in probe.calls) == [
        ("10.0.0.1", "smb", 445),
        ("10.0.0.1", "ssh", 22),
    ]
    assert {t.site for t in probe.calls} == {"A"}  # the address keeps its first line's site
    assert summary.addresses == 2 and summary.excluded == 1  # a do-not-probe tag on any line excludes it


def test_a_probe_s_second_connection_waits_for_its_site_s_token_too() -> None:
    from scanner.collect.ratelimit import SiteRateLimiter
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    class Counting(SiteRateLimiter):
        def __init__(self, allow: int) -> None:
            super().__init__(None)
            self.sites: list[str] = []
            self.allow = allow

        def wait(self, site: str, stop: object) -> bool:  # type: ignore[override]
            self.sites.append(site)
            return len(self.sites) <= self.allow

    def two_connections(target: Target, settings: ProbeSettings) -> Observation:
        obs = Observation(host=target.host, port=target.port, service="smb", connections=1)
        if settings.may_connect_again():  # as the SMB probe does before its SMB2 connection
            obs.connections += 1
        return obs

    limiter = Counting(allow=10)
    summary = Discoverer(
        None, ProbeSettings(), DiscoverConfig(concurrency=1), {"smb": two_connections}, Exclusions(), limiter=limiter
    ).run([Target("10.0.0.7", site="C", transport="smb", port=445)])
    assert limiter.sites == ["C", "C"] and summary.connections == 2  # one token per connection
    stopped = Counting(allow=1)  # the run stops while the probe waits: no second connection
    summary = Discoverer(
        None, ProbeSettings(), DiscoverConfig(concurrency=1), {"smb": two_connections}, Exclusions(), limiter=stopped
    ).run([Target("10.0.0.7", site="C", transport="smb", port=445)])
    assert summary.connections == 1


class _Banner:
    """A probe that answers with OpenSSH's banner and records whom it was asked to contact."""

    def __init__(self) -> None:
        self.calls: list[Target] = []

    def __call__(self, target: Target, settings: object) -> Observation:
        self.calls.append(target)
        return Observation(
            host=target.host,
            port=target.port,
            service="ssh",
            connections=1,
            facts=parse_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
        )


def test_discover_command_passes_site_concurrency_site_rate_window_and_exclusions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scanner.cli import main
    from scanner.discover import engine, registry

    probe = _Banner()
    monkeypatch.setitem(registry.PROBES, "ssh", probe)
    rates: list[float | None] = []
    concurrency: list[int] = []
    real_limiter, real_run = engine.SiteRateLimiter, engine.Discoverer.run

    def limiter(rate: float | None) -> object:
        rates.append(rate)
        return real_limiter(None)  # the rate is recorded; the test does not wait for it

    def run(self: engine.Discoverer, targets: list[Target]) -> engine.DiscoverSummary:
        concurrency.append(self.config.concurrency)
        return real_run(self, targets)

    monkeypatch.setattr(engine, "SiteRateLimiter", limiter)
    monkeypatch.setattr(engine.Discoverer, "run", run)
    targets = tmp_path / "t.csv"
    targets.write_text(
        "host,site,transport,port,tags\n"
        + "".join(f"{h},,ssh,22,\n" for h in ("10.7.0.1", "10.7.0.2", "10.7.1.5", "mri-console", "10.7.0.3"))
    )
    exclude = tmp_path / "ex.txt"
    exclude.write_text("10.7.1.0/24  # imaging VLAN\nmri-console\n")
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    code = main(
        [
            "discover",
            "--targets",
            str(targets),
            "--site",
            "RYY09",
            "--concurrency",
            "3",
            "--site-rate",
            "2.5",
            "--exclude",
            str(exclude),
            "--tag",
            "lab",
            "--exclude-tag",
            "pump",
            "--db",
            db,
            "--format",
            "json",
            "--as-of",
            "2026-12-06",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert rates == [2.5] and concurrency == [3]
    assert sorted(t.host for t in probe.calls) == ["10.7.0.1", "10.7.0.2", "10.7.0.3"]
    assert {t.site for t in probe.calls} == {"RYY09"} and all("lab" in t.tags for t in probe.calls)
    report = json.loads(out)
    assert {s["site"] for s in report["sites"]} == {"RYY09"}
    coverage = {c["target"]: c["status"] for s in report["sites"] for c in s.get("coverage", [])}
    assert coverage["discover://10.7.1.5"] == "excluded" and coverage["discover://mri-console"] == "excluded"
    # --exclude-tag: a target carrying the tag is never contacted
    probe.calls.clear()
    tagged = tmp_path / "tagged.csv"
    tagged.write_text("host,site,transport,port,tags\n10.7.0.9,RYY09,ssh,22,pump\n10.7.0.10,RYY09,ssh,22,\n")
    assert main(["discover", "--targets", str(tagged), "--exclude-tag", "pump", "--db", db, "--no-report"]) == 0
    assert [t.host for t in probe.calls] == ["10.7.0.10"]


def test_discover_window_outside_the_current_time_contacts_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from scanner.cli import main
    from scanner.discover import registry

    probe = _Banner()
    monkeypatch.setitem(registry.PROBES, "ssh", probe)
    now = datetime.now().astimezone()
    start, end = now + timedelta(hours=2), now + timedelta(hours=3)  # a window that is surely closed now
    targets = tmp_path / "t.csv"
    targets.write_text("host,site,transport,port,tags\n10.7.0.1,,ssh,22,\n10.7.0.2,,ssh,22,\n")
    code = main(
        [
            "discover",
            "--targets",
            str(targets),
            "--window",
            f"{start:%H:%M}-{end:%H:%M}",
            "--db",
            f"sqlite:///{tmp_path / 'ls.db'}",
            "--no-report",
        ]
    )
    assert code == 0 and probe.calls == []
    assert any("window" in r.getMessage() and "closed" in r.getMessage() for r in caplog.records)
    assert main(["discover", "--targets", str(targets), "--window", "25:00-07:00", "--no-report"]) == 2


def test_snmp_secrets_have_no_command_line_option(capsys: pytest.CaptureFixture[str]) -> None:
    """SNMP communities and v3 keys come from the environment or the 0600 credentials file only: the
    discover command has no option that could carry one (a command line is visible in ps and logs)."""
    import argparse

    from scanner.cli import build_parser, main

    parser = build_parser(["discover"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = [o for a in sub.choices["discover"]._actions for o in a.option_strings]
    assert "--targets" in options and "--credentials" in options
    assert not [
        o for o in options if any(w in o for w in ("community", "auth", "priv", "password", "secret", "user", "key"))
    ]
    with pytest.raises(SystemExit) as exited:
        main(["discover", "--targets", "t.csv", "--community", "public"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --community" in capsys.readouterr().err


def test_the_chosen_evidence_is_not_listed_again_when_smb1_was_answered() -> None:
    """``announced_also`` is the *other* evidence; with SMB1 facts the chosen one is a copy carrying
    ``smb1``, and it was listed again beside the web server's header."""
    iis = _obs("http", parse_response(b"HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\n\r\n"), port=80)
    for smb1 in (True, False):
        smb = _obs("smb", {"smb1": smb1, "smb2_dialect": "3.1.1", "ntlm_version": "10.0.19045"}, port=445)
        inv = fingerprint.inventory(Target("10.0.0.15", transport="smb", port=445), [smb, iis], NOW)
        also = inv.os.facts["announced_also"]
        assert inv.os.facts["announced"]["by"].startswith("smb")
        assert len(also) == 1 and "IIS" in also[0], also


def test_a_service_that_answers_badly_is_no_reason_to_skip_the_address_s_other_services() -> None:
    """A TLS handshake that fails (ssl.SSLError is an OSError) or a reset connection means the device
    is there: only the network's "no route / host unreachable" stops an address's other probes."""
    import socket
    import threading

    from scanner.discover.base import ProbeSettings, classify
    from scanner.discover.engine import DiscoverConfig, Discoverer
    from scanner.discover.registry import PROBES

    def serve(payload: bytes) -> tuple[socket.socket, int]:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)

        def loop() -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    try:
                        conn.sendall(payload)
                        conn.recv(4096)
                    except OSError:
                        pass

        threading.Thread(target=loop, daemon=True).start()
        return srv, srv.getsockname()[1]

    not_tls, p1 = serve(b"HTTP/1.1 400 Bad Request\r\nServer: not-tls\r\n\r\n")  # plain text on the TLS port
    sshd, p2 = serve(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    try:
        https = PROBES["https"](Target("127.0.0.1", transport="https", port=p1), ProbeSettings(timeout=3))
        assert https.status == "error" and "SSL" in https.error  # the device answered: not "unreachable"
        targets = [Target("127.0.0.1", transport="https", port=p1), Target("127.0.0.1", transport="ssh", port=p2)]
        summary = Discoverer(None, ProbeSettings(timeout=3), DiscoverConfig(), PROBES, Exclusions()).run(targets)
        assert summary.identified == 1 and summary.connections == 2
        assert [s.status for s in summary.statuses] == ["partial"]
        assert summary.inventories[0].os.facts["announced"]["product"] == "debian"
    finally:
        not_tls.close()
        sshd.close()
    assert classify(ConnectionResetError(104, "Connection reset by peer")) == "error"
    assert classify(BrokenPipeError(32, "Broken pipe")) == "error"
    assert classify(OSError(113, "No route to host")) == "unreachable"
    assert classify(OSError(101, "Network is unreachable")) == "unreachable"
    assert classify(socket.gaierror(-2, "Name or service not known")) == "unreachable"


def test_an_address_whose_only_service_answered_badly_is_an_error_in_coverage_not_unreachable() -> None:
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    def failing(status: str, error: str):  # type: ignore[no-untyped-def]
        def probe(target: Target, settings: object) -> Observation:
            return Observation(target.host, target.port, target.transport, status=status, error=error, connections=1)

        return probe

    probes = {
        "https": failing("error", "SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number"),
        "ssh": failing("closed", "ConnectionRefusedError: [Errno 111] Connection refused"),
        "smb": failing("timeout", "TimeoutError: timed out"),
    }
    targets = [
        Target("10.9.0.1", transport="https", port=443),
        Target("10.9.0.1", transport="ssh", port=22),
        Target("10.9.0.2", transport="ssh", port=22),
        Target("10.9.0.3", transport="https", port=443),
        Target("10.9.0.3", transport="smb", port=445),
    ]
    summary = Discoverer(None, ProbeSettings(), DiscoverConfig(), probes, Exclusions()).run(targets)  # type: ignore[arg-type]
    status = {s.target: s.status for s in summary.statuses}
    assert status == {
        "discover://10.9.0.1": "error",  # the device answered (a TLS failure): not "unreachable"
        "discover://10.9.0.2": "unreachable",
        "discover://10.9.0.3": "timeout",
    }
    assert summary.silent == 3 and summary.connections == 5


def test_an_unidentified_os_s_reason_is_said_once(ctx: IdentifyContext) -> None:
    """An OS with no product (a Samba server, a bare Linux sysDescr, a dropbear-only device): the
    verdict's "unknown" reason is the identification's own, and the report says it once."""
    snmp = _obs(
        "snmp",
        {"snmp_version": "2c", "sys_descr": "Linux vm 6.18.44-fc-v1300 #1 SMP x86_64", "sys_name": "bench-switch"},
    )
    inv = fingerprint.inventory(Target("10.0.0.5", transport="snmp", port=161), [snmp], NOW)
    os_f = _judge(inv, ctx).os_finding
    assert os_f is not None and os_f.status is Status.UNKNOWN and os_f.product is None
    reason = os_f.detail.reason
    assert "a Linux kernel that names no distribution" in reason
    assert reason.count("a Linux kernel that names no distribution") == 1, reason


def test_an_excluded_range_or_name_is_never_probed_through_the_other_spelling() -> None:
    """A clinical VLAN excluded by range must stay untouched when the targets name its devices, and
    a device excluded by name must stay untouched when a target range covers its address (names are
    resolved with the system's own resolver; ``localhost`` is 127.0.0.1 in /etc/hosts)."""
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    by_range = parse("127.0.0.0/8\n")
    by_name = parse("localhost\n")
    assert by_name.resolve_names() == [] and by_range.resolve_names() == []
    assert parse("no-such-host.invalid\n").resolve_names() == ["no-such-host.invalid"]
    for exclusions, target in ((by_range, "localhost"), (by_name, "127.0.0.1")):
        probe = _Banner()
        summary = Discoverer(None, ProbeSettings(), DiscoverConfig(), {"ssh": probe}, exclusions, now=lambda: NOW).run(
            [Target(target, site="A", transport="ssh", port=22)]
        )
        assert probe.calls == [] and summary.excluded == 1 and summary.connections == 0, target
        status = summary.statuses[0]
        assert status.status == "excluded" and "127.0.0.1" in status.error, status.error
    probe = _Banner()  # a name outside every excluded range is probed as before
    summary = Discoverer(
        None, ProbeSettings(), DiscoverConfig(), {"ssh": probe}, parse("10.0.0.0/8\n"), now=lambda: NOW
    ).run([Target("localhost", site="A", transport="ssh", port=22)])
    assert [t.host for t in probe.calls] == ["localhost"] and summary.excluded == 0


def test_an_address_or_short_name_links_only_within_a_site_a_full_name_anywhere() -> None:
    """Community sites reuse private ranges and merged trusts reuse NetBIOS names: a legacy device
    discovered at one site must not be hidden by another site's machine of the same address."""
    from agents.inventory import Host, Inventory

    def found(site: str, address: str, name: str = "") -> Inventory:
        inv = fingerprint.inventory(
            Target(address, site=site),
            [_obs("ssh", parse_banner("SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7"), host=address)],
            NOW,
        )
        inv.host.hostname = name or inv.host.hostname
        return inv

    probed = Inventory(
        host=Host(hostname="gp-pc-01.clinic-a.nhs.uk", machine_id="m1", site="Clinic A", address="192.168.1.10")
    )
    agent = Inventory(host=Host(hostname="RECEPTION-1", machine_id="m2", site=""))
    elsewhere = found("Clinic B", "192.168.1.10")  # same private address, another site: kept
    same_site = found("Clinic A", "192.168.1.10")  # the probed machine itself: gives way
    short_elsewhere = found("Clinic B", "192.168.1.20", "GP-PC-01")  # short name, another site: kept
    full_elsewhere = found("Clinic B", "192.168.1.30", "gp-pc-01.clinic-a.nhs.uk")  # a full name: one machine
    no_site = found("Clinic C", "192.168.1.40", "reception-1")  # the agent names no site: linked
    kept, linked = supersede([elsewhere, same_site, short_elsewhere, full_elsewhere, no_site, probed, agent])
    assert elsewhere in kept and short_elsewhere in kept
    assert same_site not in kept and full_elsewhere not in kept and no_site not in kept
    assert set(linked.values()) == {"gp-pc-01.clinic-a.nhs.uk", "RECEPTION-1"}


def test_a_device_listed_by_name_and_by_address_is_one_device_probed_once_per_service() -> None:
    """``localhost`` (127.0.0.1 in /etc/hosts, the system resolver) and ``127.0.0.1`` are one device:
    its SSH is probed once, its other service once, under the first line's spelling and site."""
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer

    probe = _Banner()
    targets = [
        Target("localhost", site="A", transport="ssh", port=22),
        Target("127.0.0.1", site="B", transport="ssh", port=22),
        Target("127.0.0.1", site="B", transport="http", port=80),
        Target("no-such-host.invalid", site="A", transport="ssh", port=22),
    ]
    summary = Discoverer(None, ProbeSettings(), DiscoverConfig(), {"ssh": probe, "http": probe}, Exclusions()).run(
        targets
    )
    calls = [(t.host, t.transport, t.site) for t in probe.calls]
    assert sorted(calls) == sorted(
        [("localhost", "ssh", "A"), ("127.0.0.1", "http", "A"), ("no-such-host.invalid", "ssh", "A")]
    )
    assert summary.addresses == 2 and summary.connections == 3


def test_a_service_that_trickles_bytes_is_cut_by_the_probe_s_whole_budget() -> None:
    """A device that keeps every read alive (one byte every few milliseconds, never silent as
    long as a read's own timeout) must not hold a probe beyond its one budget: each read waits
    only for what is left of it, the TLS handshake included.  The trickle lasts far longer than
    the budget and ends by closing, so a probe bounded per read would end "error", not "timeout"."""
    import socket
    import threading
    import time as _time

    from scanner.discover.base import ProbeSettings
    from scanner.discover.registry import PROBES

    # each starts like its protocol, then never finishes: a line, a header, a record, a frame
    starts = {
        "ssh": b"SSH-2.0-",
        "http": b"HTTP/1.1 200 OK\r\nServer: ",
        "https": bytes.fromhex("1603034000"),  # a TLS handshake record of 16 KiB, never complete
        "rdp": bytes.fromhex("0300ffff"),  # a TPKT of 65535 bytes, never complete
        "smb": bytes.fromhex("0000ffff"),  # a NetBIOS session message of 65535 bytes
    }

    def trickle(conn: socket.socket, start: bytes) -> None:
        with conn:
            try:
                conn.sendall(start)
                end = _time.monotonic() + 20.0  # bounded: the test never leaves a sender behind
                while _time.monotonic() < end:
                    conn.sendall(b"a")
                    _time.sleep(0.01)
            except OSError:
                return  # the probe gave up and closed: what this test wants

    def serve(start: bytes) -> tuple[socket.socket, int]:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)

        def loop() -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                threading.Thread(target=trickle, args=(conn, start), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return srv, srv.getsockname()[1]

    for transport, start in starts.items():
        srv, port = serve(start)
        try:
            obs = PROBES[transport](Target("127.0.0.1", transport=transport, port=port), ProbeSettings(timeout=0.5))
        finally:
            srv.close()
        assert obs.status == "timeout", (transport, obs.status, obs.error)
