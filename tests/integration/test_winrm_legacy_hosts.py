"""Windows hosts the WinRM scan meets in an old estate, answered by real endpoints:

* a listener that speaks only TLS 1.0 (Windows 7 / Server 2008 R2 before TLS 1.2 was enabled):
  a REAL ``openssl s_server`` restricted to TLS 1.0 - the diagnosis is "TLS version", with the fix,
  never "certificate not trusted";
* a host whose WinRM answers but cannot start PowerShell (XP / 2003 with WinRM 1.1 only, Server
  Core without .NET): the suite's WinRS endpoint answers the Command as Windows does, or runs a
  powershell.exe that exits with the CLR-missing code - a per-host status that names what is
  missing, never an empty inventory.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.windows import collect_windows
from agents.winrm import WinRmCredentials, WinRmError, WinRmShell
from scanner.collect.status import POWERSHELL_MISSING, classify
from tests.conftest import require_or_skip

pytestmark = pytest.mark.integration
GOOD = WinRmCredentials("HOSPITAL\\scanner", "Sup3r-Secret!", "test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def tls10_listener(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """openssl s_server that negotiates TLS 1.0 and nothing else (OpenSSL 3 needs SECLEVEL=0 for
    TLS 1.0's SHA-1 signatures; -tls1 disables every other version)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        require_or_skip("openssl not installed")
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            openssl,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(cert),
            "-key",
            str(key),
            "-tls1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
            "-www",
            "-quiet",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, str(cert)
    finally:
        proc.terminate()
        proc.wait(10)


def _handshake(port: int, version: ssl.TLSVersion) -> str:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.0 is deprecated: that is the point of this listener
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = version
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
            return str(tls.version())
    except (ssl.SSLError, OSError) as exc:
        return f"refused: {type(exc).__name__}"


def test_the_listener_really_speaks_only_tls_1_0(tls10_listener: tuple[int, str]) -> None:
    port, _ = tls10_listener
    assert _handshake(port, ssl.TLSVersion.TLSv1) == "TLSv1"
    assert _handshake(port, ssl.TLSVersion.TLSv1_2).startswith("refused")


@pytest.mark.parametrize("trusted", [True, False])
def test_a_tls_1_0_listener_is_a_tls_version_problem_not_a_certificate(
    tls10_listener: tuple[int, str], trusted: bool
) -> None:
    port, cert = tls10_listener
    shell = WinRmShell("127.0.0.1", port, GOOD, transport="ntlm", ca_bundle=cert if trusted else None)
    with pytest.raises(WinRmError) as err:
        collect_windows(shell, timeout=10)
    message = str(err.value)
    assert err.value.kind == "tls-version"
    assert "TLS 1.2" in message and "5985" in message and "TLS 1.0/1.1" in message
    assert "not trusted" not in message and "ca_bundle" not in message


def test_winrm_without_powershell_is_a_status_naming_it() -> None:
    from tests.integration.winrs_server import Behaviour, WinRSServer

    with WinRSServer(Behaviour(missing_programs=("powershell.exe",))) as srv:
        shell = WinRmShell("127.0.0.1", srv.port, GOOD, use_https=False)
        with pytest.raises(WinRmError) as err:
            collect_windows(shell)
        assert srv.stats.shells_created == srv.stats.shells_deleted == 1  # cleaned up
    assert err.value.kind == "powershell"
    assert "PowerShell is not installed" in str(err.value) and "KB968930" in str(err.value)
    assert classify(err.value) == POWERSHELL_MISSING


@pytest.mark.parametrize(
    "exit_code,stderr,expected",
    [
        (-2146232576, b"", ".NET Framework"),  # Server Core without .NET: the CLR cannot load
        (-1073741515, b"", ".NET Framework is not installed"),
    ],
)
def test_a_powershell_that_cannot_run_is_a_scan_status_not_an_empty_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int, stderr: bytes, expected: str
) -> None:
    """Through the fleet scanner, as `legacyscan scan` runs it: HTTPS with the listener's CA,
    credentials from the environment, the per-host status stored."""
    from scanner.collect.config import ScanConfig
    from scanner.collect.engine import FleetScanner
    from scanner.store.open import open_store
    from scanner.targets import Target
    from tests.integration.winrs_server import Behaviour, WinRSServer, make_tls_cert

    cert, key = make_tls_cert(str(tmp_path))
    monkeypatch.setenv("LEGACYSCAN_WINRM_USER", GOOD.user)
    monkeypatch.setenv("LEGACYSCAN_WINRM_PASSWORD", GOOD.password)
    monkeypatch.setenv("LEGACYSCAN_WINRM_CA_BUNDLE", cert)
    behaviour = Behaviour(respond=lambda script: (b"", stderr, exit_code))
    with WinRSServer(behaviour, tls_cert=(cert, key)) as srv, open_store(f"sqlite:///{tmp_path / 'ls.db'}") as store:
        scanner = FleetScanner(store, ScanConfig(concurrency=1, processes=1, timeout=30))
        outcome = scanner.scan_one(Target("127.0.0.1", site="Ward 3", transport="winrm", port=srv.port))
    assert outcome is not None
    assert outcome.status == POWERSHELL_MISSING and outcome.inventory is None
    assert expected in outcome.error and str(exit_code) in outcome.error


def test_a_host_older_than_2008_r2_is_collected_not_read_as_empty() -> None:
    """Before Windows 7 / 2008 R2 a shell in code page 65001 runs nothing and says nothing; the
    probe opens its shells in 437 (its traffic is ASCII), so XP/2003/Vista/2008 hosts answer."""
    from tests.conftest import FIXTURES
    from tests.integration.winrs_server import WinRSServer, document_behaviour

    document = (FIXTURES / "hosts" / "windows-srv2008-sp1-standard-x64" / "collect.json").read_text("ascii")
    with WinRSServer(document_behaviour(document, pre_utf8_host=True)) as srv:
        inventory = collect_windows(WinRmShell("127.0.0.1", srv.port, GOOD, use_https=False))
        assert srv.stats.codepages == ["437"]
    assert inventory.os.family == "windows" and "2008" in inventory.os.facts["caption"]  # as systeminfo printed it


def test_nano_server_gets_its_utf8_shell() -> None:
    from tests.conftest import FIXTURES
    from tests.integration.winrs_server import WinRSServer, document_behaviour

    document = (FIXTURES / "hosts" / "windows-srv2016-datacenter-eval" / "collect.json").read_text("ascii")
    with WinRSServer(document_behaviour(document, utf8_only=True)) as srv:
        shell = WinRmShell("127.0.0.1", srv.port, GOOD, use_https=False)
        first = collect_windows(shell)
        second = collect_windows(shell)  # the code page is remembered: no second refusal
        assert srv.stats.codepages == ["65001", "65001"]
    assert first.os.family == second.os.family == "windows"
