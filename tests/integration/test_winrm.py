"""Unmodified pywinrm over real HTTP against the suite's WinRS endpoint.

Every real Windows host we hold (XP to Server 2025, ``tests/fixtures/hosts/windows-*``) is
replayed through WinRmShell with NTLM and WinRM message encryption, and must come out as the same
Inventory the pure parser makes from the document.  Then the bad paths: wrong password, a fault
in the middle of a command, a host that stops answering, garbage, non-UTF-8 and very long names.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import socket
from pathlib import Path

import pytest

from agents.inventory import Inventory
from agents.windows import collect_windows, load_script, parse_document
from agents.winrm import WinRmCredentials, WinRmError, WinRmShell, WinRmTimeout, open_winrm_shell
from tests.conftest import FIXTURES, require_or_skip

pytestmark = pytest.mark.integration

try:
    import spnego  # noqa: F401
    import winrm  # noqa: F401

    from tests.integration.winrs_server import Behaviour, WinRSServer, document_behaviour, make_tls_cert
except ImportError as exc:  # pragma: no cover - depends on the environment
    _MISSING: str | None = f"pywinrm/pyspnego not installed: {exc}"
else:
    _MISSING = None

HOSTS = sorted(p.parent.name for p in (FIXTURES / "hosts").glob("windows-*/collect.json"))
USER, PASSWORD = "HOSPITAL\\scanner", "Sup3r-Secret!"
GOOD = WinRmCredentials(USER, PASSWORD, "test")


@pytest.fixture(autouse=True)
def _needs_winrm() -> None:
    if _MISSING:
        require_or_skip(_MISSING)


def _doc(name: str) -> str:
    return (FIXTURES / "hosts" / name / "collect.json").read_text("ascii")


def _shell(srv: WinRSServer, creds: WinRmCredentials = GOOD, **kw: object) -> WinRmShell:
    return WinRmShell("127.0.0.1", srv.port, creds, use_https=False, **kw)  # type: ignore[arg-type]


def _comparable(inv: Inventory) -> dict[str, object]:
    data = inv.to_dict()
    data.pop("inventory_id")
    data.pop("collector")
    return data


def test_fixture_set_covers_every_generation() -> None:
    names = " ".join(HOSTS)
    for generation in (
        "xp-",
        "vista",
        "win7",
        "win81",
        "win10",
        "win11",
        "srv2003",
        "srv2008",
        "srv2012",
        "srv2016",
        "srv2022",
        "srv2025",
    ):
        assert generation in names, generation
    assert len(HOSTS) >= 30
    for name in HOSTS:
        provenance = json.loads((FIXTURES / "hosts" / name / "provenance.json").read_text("utf-8"))
        assert provenance["upstream"]["source"] and provenance["upstream"]["license"]


@pytest.mark.parametrize("name", HOSTS)
def test_real_host_replays_through_ntlm_encrypted_winrm(name: str) -> None:
    document = _doc(name)
    with WinRSServer(document_behaviour(document, chunk_size=4096)) as srv:
        inventory = collect_windows(_shell(srv))
        # the script arrived intact (compressed in the loader, sealed), and the shell was cleaned up
        assert srv.stats.scripts == [load_script()]
        assert srv.stats.shells_created == srv.stats.shells_deleted == 1
        assert srv.stats.signals == 1
        assert srv.stats.plain_refused == 0
    expected = parse_document(document)
    assert _comparable(inventory) == _comparable(expected)
    assert inventory.collector.transport == "winrm"
    assert inventory.os.family == "windows"
    wmi, registry = json.loads(document)["os"]["wmi"], json.loads(document)["os"]["registry"]
    assert inventory.os.facts["caption"] == wmi.get("Caption", "").strip()
    # the parser's order: CurrentBuild, CurrentBuildNumber (the only one a 5.x source may give), CIM's
    build = registry.get("CurrentBuild") or registry.get("CurrentBuildNumber") or wmi.get("BuildNumber", "")
    assert inventory.os.facts["build"] == build
    told = "ProductType" in wmi or "InstallationType" in registry  # CIM's, or the registry's client/server
    assert inventory.os.facts["product_type"] in ((1, 2, 3) if told else (None,))
    # the document survives the Inventory's own validation (what the store and server accept)
    assert _comparable(Inventory.from_json(inventory.to_json())) == _comparable(inventory)


def test_software_lists_survive_several_receives() -> None:
    document = _doc("windows-win11-23h2-enterprise-eval")
    with WinRSServer(document_behaviour(document, chunk_size=1024, timed_out_receives=2)) as srv:
        inventory = collect_windows(_shell(srv))
        assert srv.stats.receives > 10  # 2 w:TimedOut faults, then many Running chunks, then Done
    names = {s.name for s in inventory.software}
    assert "Vim 9.1 (x64)" in names and "osquery" in names
    assert any(s.source == "msix" for s in inventory.software)


def test_basic_auth_over_https_validates_the_certificate(tmp_path: Path) -> None:
    cert, key = make_tls_cert(str(tmp_path))
    document = _doc("windows-srv2022-standard-eval")
    with WinRSServer(document_behaviour(document), auth="basic", user="scanner", tls_cert=(cert, key)) as srv:
        creds = WinRmCredentials("scanner", PASSWORD, "test")
        # default: validation on, our self-signed listener is not trusted -> a TLS diagnosis
        untrusted = WinRmShell("127.0.0.1", srv.port, creds, transport="basic")
        with pytest.raises(WinRmError) as err:
            collect_windows(untrusted)
        assert err.value.kind == "tls" and "ca_bundle" in str(err.value)
        # with the listener's CA: collected
        trusted = WinRmShell("127.0.0.1", srv.port, creds, transport="basic", ca_bundle=cert)
        inventory = collect_windows(trusted)
        # and a wrong Basic password is a 401 that suggests checking the listener's Basic setting
        wrong = WinRmShell(
            "127.0.0.1", srv.port, WinRmCredentials("scanner", "nope", "test"), transport="basic", ca_bundle=cert
        )
        with pytest.raises(WinRmError) as bad:
            collect_windows(wrong)
    assert inventory.os.facts["caption"].startswith("Microsoft Windows Server 2022")
    assert bad.value.kind == "auth" and "Basic" in str(bad.value) and "nope" not in str(bad.value)


def test_unknown_shell_is_a_wsman_fault_as_windows_sends_it() -> None:
    from winrm.exceptions import WSManFaultError
    from winrm.protocol import Protocol

    from agents.winrm import diagnose

    with WinRSServer(document_behaviour(_doc("windows-win10-22h2-enterprise"))) as srv:
        proto = Protocol(
            srv.endpoint,
            transport="ntlm",
            username=USER,
            password=PASSWORD,
            message_encryption="always",
            ca_trust_path=None,
            proxy=None,
        )  # type: ignore[arg-type]
        with pytest.raises(WSManFaultError) as err:
            proto.close_shell("11111111-1111-1111-1111-111111111111")
    assert err.value.wsman_fault_code == 2150858843
    assert err.value.fault_subcode == "w:InvalidSelectors"
    diagnosis = diagnose(err.value, host="127.0.0.1", port=srv.port, scheme="http", transport="ntlm")
    assert diagnosis.kind == "fault" and "2150858843" in str(diagnosis)


def test_wrong_password_is_a_401_diagnosis_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = WinRmCredentials(USER, "not-the-password-123", "test")
    with WinRSServer(document_behaviour(_doc("windows-win10-22h2-enterprise"))) as srv:
        with pytest.raises(WinRmError) as err:
            collect_windows(_shell(srv, wrong))
        assert srv.stats.auth_failures >= 1
        assert srv.stats.shells_created == 0
    message = str(err.value)
    assert err.value.kind == "auth"
    assert "401" in message and "Fix:" in message and "LocalAccountTokenFilterPolicy" in message
    assert "not-the-password-123" not in message
    assert "not-the-password-123" not in caplog.text
    assert "not-the-password-123" not in repr(wrong)


def test_basic_over_plain_http_is_refused_before_connecting() -> None:
    with pytest.raises(WinRmError) as err:
        WinRmShell("127.0.0.1", 5985, GOOD, transport="basic", use_https=False)
    assert err.value.kind == "config" and "5986" in str(err.value)


def test_fault_in_the_middle_of_a_command_is_reported_and_the_shell_deleted() -> None:
    behaviour = document_behaviour(_doc("windows-srv2025-datacenter-eval"), chunk_size=2048, fault_on_receive=2)
    with WinRSServer(behaviour) as srv:
        with pytest.raises(WinRmError) as err:
            collect_windows(_shell(srv))
        assert srv.stats.shells_deleted == srv.stats.shells_created == 1
    assert err.value.kind == "fault"
    assert "995" in str(err.value) and "I/O operation has been aborted" in str(err.value)


def test_a_command_that_never_finishes_hits_the_deadline() -> None:
    behaviour = document_behaviour(_doc("windows-win7-sp1-enterprise-x64"), timed_out_receives=10**9)
    with WinRSServer(behaviour) as srv:
        with pytest.raises(WinRmTimeout) as err:
            _shell(srv).run_powershell(load_script(), timeout=1.5)
        assert srv.stats.shells_deleted == 1  # terminated and cleaned up
    assert "did not finish within 1.5s" in str(err.value)


def test_a_hanging_endpoint_times_out() -> None:
    behaviour = document_behaviour(_doc("windows-win7-sp1-enterprise-x64"), hang_on_receive=6.0)
    with WinRSServer(behaviour) as srv:
        with pytest.raises(WinRmTimeout) as err:
            _shell(srv).run_powershell(load_script(), timeout=1)
    assert err.value.kind == "timeout" and "firewall" in str(err.value)


def test_no_listener_names_quickconfig() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(WinRmError) as err:
        WinRmShell("127.0.0.1", free_port, GOOD, use_https=False).run_powershell("exit 0", 5)
    assert err.value.kind == "listener" and "winrm quickconfig" in str(err.value)


def test_wrong_path_is_a_404_listener_diagnosis() -> None:
    with WinRSServer(document_behaviour(_doc("windows-win10-22h2-enterprise"))) as srv:
        shell = WinRmShell("127.0.0.1", srv.port, GOOD, use_https=False, path="/wsman-nope")
        with pytest.raises(WinRmError) as err:
            shell.run_powershell(load_script(), 5)
    assert err.value.kind == "listener" and "404" in str(err.value)


def test_garbage_output_becomes_a_parse_problem() -> None:
    behaviour = document_behaviour(
        b"\x1b[2JPS C:\\> oops: Get-Thing : access denied\r\n", exit_code=1, stderr=b"something broke\r\n"
    )
    with WinRSServer(behaviour) as srv:
        inventory = collect_windows(_shell(srv))
    assert inventory.os.family == "unknown"  # the scan engine records such a host as failed
    assert inventory.software == []
    (problem,) = inventory.problems
    assert problem.kind == "parse" and problem.probe == "windows.script"
    assert "no collection document" in problem.message and "exit code 1" in problem.message
    assert "something broke" in problem.message


def test_non_utf8_bytes_do_not_lose_the_rest_of_the_document() -> None:
    document = json.loads(_doc("windows-xp-sp3-professional-x86"))
    target = next(e for e in document["software"] if e["DisplayName"] == "Identity Finder")
    target["DisplayName"] = "Caf\u00e9 Pro"
    raw = json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    # an old PowerShell writing the OEM code page: the escaped é arrives as a raw cp437 byte
    raw = raw.replace(b"Caf\\u00e9", b"Caf\x82")
    with WinRSServer(document_behaviour(raw)) as srv:
        inventory = collect_windows(_shell(srv))
    names = [s.name for s in inventory.software]
    assert "Caf\ufffd Pro" in names
    assert len(inventory.software) == len(parse_document(_doc("windows-xp-sp3-professional-x86")).software)


def test_very_long_names_are_truncated_and_reported() -> None:
    document = json.loads(_doc("windows-srv2012-standard-aws"))
    document["software"][0]["DisplayName"] = "N" * 100_000
    document["software"][1]["Publisher"] = "\u4e2d" * 5000
    raw = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    with WinRSServer(document_behaviour(raw)) as srv:
        inventory = collect_windows(_shell(srv))
    longest = max(inventory.software, key=lambda s: len(s.name))
    assert len(longest.name) == 4096
    assert any(p.kind == "parse" and "truncated" in p.message for p in inventory.problems)
    Inventory.from_json(inventory.to_json())  # within every limit the store enforces


def test_a_script_too_big_for_a_command_line_goes_over_stdin_in_several_sends() -> None:
    big = load_script() + "\n# " + base64.b64encode(random.Random(0).randbytes(150_000)).decode() + "\n"
    document = _doc("windows-win10-1809-education-es")
    seen: list[str] = []

    def respond(script: str) -> tuple[bytes, bytes, int]:
        seen.append(script)
        return document.encode("ascii"), b"", 0

    with WinRSServer(Behaviour(respond=respond)) as srv:
        result = _shell(srv).run_powershell(big, timeout=30)
        assert srv.stats.shells_deleted == 1
    assert seen == [big]  # reassembled from several Send messages (48 KB each)
    assert parse_document(result.stdout).os.facts["caption"] == "Microsoft Windows 10 Education"


def test_run_ps_through_cmd_exe_cannot_carry_the_script() -> None:
    """Why WinRmShell does not use run_ps: cmd.exe's 8,191-character limit."""
    with WinRSServer(document_behaviour(_doc("windows-win10-22h2-enterprise"))) as srv:
        session = winrm.Session(
            srv.endpoint,
            auth=(USER, PASSWORD),
            transport="ntlm",
            message_encryption="always",
            ca_trust_path=None,
            proxy=None,
        )
        result = session.run_ps(load_script())
        assert result.status_code == 1 and b"command line is too long" in result.std_err
        inventory = collect_windows(_shell(srv))
    assert inventory.os.facts["build"] == "19045"


def test_open_winrm_shell_picks_http_on_5985_and_reads_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGACYSCAN_WINRM_USER", USER)
    monkeypatch.setenv("LEGACYSCAN_WINRM_PASSWORD", PASSWORD)
    shell = open_winrm_shell("ward-pc-01.hospital.nhs.uk", 5985, None)
    assert shell.endpoint == "http://ward-pc-01.hospital.nhs.uk:5985/wsman"
    https = open_winrm_shell("ward-pc-01.hospital.nhs.uk", 5986, None)
    assert https.endpoint.startswith("https://")
    with WinRSServer(document_behaviour(_doc("windows-win81-pro-fr-hp-elitebook"))) as srv:
        real = open_winrm_shell("127.0.0.1", srv.port, None)
        # any port other than 5985 means HTTPS; the test server is plain HTTP, so build it explicitly
        assert real.scheme == "https"
        inventory = collect_windows(_shell(srv))
    assert inventory.hardware.model == "HP EliteBook 2540p"


def test_scan_engine_collects_a_winrm_target_over_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The contract with scanner/collect/executors.py: a winrm target on a non-5985 port is HTTPS + NTLM, with
    credentials from the environment and the site CA from LEGACYSCAN_WINRM_CA_BUNDLE."""
    from scanner.collect.config import ScanConfig
    from scanner.collect.executors import collect_winrm
    from scanner.targets import Target

    cert, key = make_tls_cert(str(tmp_path))
    monkeypatch.setenv("LEGACYSCAN_WINRM_USER", USER)
    monkeypatch.setenv("LEGACYSCAN_WINRM_PASSWORD", PASSWORD)
    monkeypatch.setenv("LEGACYSCAN_WINRM_CA_BUNDLE", cert)
    with WinRSServer(document_behaviour(_doc("windows-srv2008r2-standard-rtm")), tls_cert=(cert, key)) as srv:
        target = Target(host="127.0.0.1", site="royal-infirmary", transport="winrm", port=srv.port, tags=("ward-7",))
        inventory = collect_winrm(target, ScanConfig(timeout=30))
        assert srv.stats.shells_deleted == 1
    assert inventory.os.facts["caption"] == "Microsoft Windows Server 2008 R2 Standard"
    assert (inventory.host.site, inventory.host.address, inventory.host.tags) == (
        "royal-infirmary",
        "127.0.0.1",
        ["ward-7"],
    )
    assert inventory.collector.transport == "winrm"


def test_a_dead_name_server_costs_a_winrm_target_its_budget_not_the_scan(tmp_path: Path) -> None:
    """``scan`` of two WinRM targets by name, with a name server that answers one and never the
    other (the resolver alone would wait a quarter of an hour; requests' timeouts do not cover a
    lookup): the unanswered one is a "timeout" naming its lookup, the answered one is collected
    over HTTPS + NTLM as by address.  The command runs in a mount namespace whose
    /etc/resolv.conf names the loopback name server (tests/integration/dnsd.py)."""
    import os

    from scanner.store.sqlite import SqliteStore
    from tests.integration import dnsd

    why = dnsd.available()
    if why:
        require_or_skip(why)
    cert, key = make_tls_cert(str(tmp_path), name="ward-pc-01.ward7.test")
    dns = dnsd.DnsServer({"ward-pc-01.ward7.test": "127.0.0.1"}, {"ward-pc-09.ward7.test"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
    env.update(LEGACYSCAN_WINRM_USER=USER, LEGACYSCAN_WINRM_PASSWORD=PASSWORD, LEGACYSCAN_WINRM_CA_BUNDLE=cert)
    db = tmp_path / "scan.db"
    try:
        with WinRSServer(document_behaviour(_doc("windows-srv2008r2-standard-rtm")), tls_cert=(cert, key)) as srv:
            csv = tmp_path / "targets.csv"
            csv.write_text(
                "host,site,transport,port,user,tags\n"
                f"ward-pc-09.ward7.test,royal-infirmary,winrm,{srv.port},,\n"
                f"ward-pc-01.ward7.test,royal-infirmary,winrm,{srv.port},,\n"
            )
            argv = ["scan", "--targets", str(csv), "--timeout", "30", "--connect-timeout", "2"]
            argv += ["--db", f"sqlite:///{db}", "--no-report"]
            done = dnsd.run_cli(dns, tmp_path, argv, env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert dns.queries["ward-pc-09.ward7.test"] >= 1 and dns.queries["ward-pc-01.ward7.test"] >= 1
    finally:
        dns.stop()
    store = SqliteStore(str(db))
    try:
        status = {st.target: st for st in store.statuses()}
        dead = status[f"winrm://ward-pc-09.ward7.test:{srv.port}"]
        assert dead.status == "timeout" and "name lookup of ward-pc-09.ward7.test: no answer" in dead.error, dead
        assert status[f"winrm://ward-pc-01.ward7.test:{srv.port}"].status == "ok"
        [inventory] = store.latest_inventories()
        assert inventory.os.facts["caption"] == "Microsoft Windows Server 2008 R2 Standard"
    finally:
        store.close()
