"""The TLS client context of a discovery run is the run's (``ProbeSettings.tls``), made once on first
use and shared by every HTTPS and RDP probe of that run: never a module global two runs share."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from scanner.discover.base import ProbeSettings, TlsClient
from scanner.discover.engine import DiscoverConfig, Discoverer
from scanner.discover.exclusions import Exclusions
from scanner.discover.registry import PROBES
from scanner.targets import Target
from tests.integration.tls import make_pki


class CountingTls(TlsClient):
    """The run's TLS client, counting the probes that asked it for the context."""

    __slots__ = ("asked", "counting")

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0
        self.counting = threading.Lock()

    def context(self) -> ssl.SSLContext:
        with self.counting:
            self.asked += 1
        return super().context()


@pytest.fixture
def https_ports(tmp_path: Path) -> Iterator[list[int]]:
    """Three real TLS servers on loopback (127.0.0.1-3: three devices) answering a HEAD request."""
    pki = make_pki(tmp_path / "pki")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.server_cert, pki.server_key)
    listeners = []
    for i in range(3):
        srv = socket.socket()
        srv.bind((f"127.0.0.{i + 1}", 0))
        srv.listen(8)
        listeners.append(srv)

        def loop(srv: socket.socket = srv) -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                try:
                    with server.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(4096)
                        tls.sendall(b"HTTP/1.1 200 OK\r\nServer: Apache/2.2.15 (CentOS)\r\n\r\n")
                except OSError:
                    pass

        threading.Thread(target=loop, daemon=True).start()
    try:
        yield [srv.getsockname()[1] for srv in listeners]
    finally:
        for srv in listeners:
            srv.close()


def test_one_context_per_client_made_on_first_use() -> None:
    tls = TlsClient()
    first = tls.context()
    assert tls.context() is first and first.verify_mode == ssl.CERT_NONE and not first.check_hostname
    assert TlsClient().context() is not first  # another run, another context


def test_copies_of_a_runs_settings_share_its_tls_client_and_other_settings_do_not() -> None:
    settings = ProbeSettings(timeout=3)
    gated = replace(settings, gate=lambda: True)  # what the Discoverer hands each probe
    assert gated.tls is settings.tls and gated == settings
    assert ProbeSettings(timeout=3).tls is not settings.tls and ProbeSettings(timeout=3) == settings


def test_a_discovery_run_makes_one_tls_context_for_all_its_https_probes(https_ports: list[int]) -> None:
    targets = [Target(f"127.0.0.{i + 1}", transport="https", port=port) for i, port in enumerate(https_ports)]
    runs = []
    for _ in range(2):
        tls = CountingTls()
        settings = ProbeSettings(timeout=5, tls=tls)
        summary = Discoverer(None, settings, DiscoverConfig(concurrency=3), PROBES, Exclusions()).run(targets)
        assert summary.identified == 3 and [s.status for s in summary.statuses] == ["ok"] * 3
        for inv in summary.inventories:
            (facts,) = inv.os.facts["services"].values()
            assert facts["server"] == "Apache/2.2.15 (CentOS)" and facts["cert_issuer"] == "CN=legacyscan test CA"
            assert [(sw.name, sw.version) for sw in inv.software] == [("Apache", "2.2.15")]
        assert tls.asked == 3  # each probe asked the run's client...
        runs.append(tls.context())  # ...which made one context
    assert runs[0] is not runs[1]  # the second run did not use the first's


def test_a_probe_called_alone_gets_its_facts_with_settings_of_its_own(https_ports: list[int]) -> None:
    settings = ProbeSettings(timeout=5)
    obs = PROBES["https"](Target("127.0.0.1", transport="https", port=https_ports[0]), settings)
    assert obs.status == "ok", obs.error
    assert obs.facts["server"] == "Apache/2.2.15 (CentOS)" and obs.facts["tls_version"].startswith("TLS")
    assert obs.facts["certificate"]["subject"] == "CN=localhost" and not obs.facts["certificate"]["self_signed"]
