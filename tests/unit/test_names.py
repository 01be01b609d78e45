"""``agents.names``: host name lookups bounded by the run's timeout and concurrency.

The resolver here is ``socket.getaddrinfo`` held on an event, so that "the name server never
answers" is exact (tests/integration/test_discover.py asks a real dead name server).  Nothing is
asserted on time: each test releases the held lookups at its end."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agents.names import Lookup, LookupTimeout, NameLookups, open_connection
from scanner.discover.base import Observation, ProbeSettings
from scanner.discover.engine import DiscoverConfig, Discoverer
from scanner.discover.exclusions import parse
from scanner.targets import Target


class HeldResolver:
    """getaddrinfo that answers ``answered`` names at once and holds every other until released."""

    def __init__(self, answered: dict[str, str]) -> None:
        self.answered = answered
        self.release = threading.Event()
        self.calls: list[str] = []
        self.outstanding = 0
        self.most_outstanding = 0
        self._lock = threading.Lock()

    def __call__(self, host: str, port: Any, family: int = 0, type: int = 0, *rest: Any) -> list[Any]:  # noqa: A002
        with self._lock:
            self.calls.append(host)
            self.outstanding += 1
            self.most_outstanding = max(self.most_outstanding, self.outstanding)
        try:
            if host not in self.answered:
                self.release.wait()
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.answered[host], 0))]
        finally:
            with self._lock:
                self.outstanding -= 1


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldResolver]:
    resolver = HeldResolver({"answered.example": "127.0.0.1"})
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any) -> list[Any]:
        try:  # addresses are still the real function's (they never reach a name service)
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.split("%")[0])
        except OSError:
            return resolver(host, port, *args)
        return real(host, port, *args)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield resolver
    finally:
        resolver.release.set()


def test_an_unanswered_lookup_times_out_once_and_is_remembered(held: HeldResolver) -> None:
    names = NameLookups(timeout=0.2, concurrency=4)
    first = names.lookup("dead.example")
    assert first.timed_out and first.addresses == [] and "no answer within 0.2s" in first.reason
    assert names.lookup("DEAD.example") is first and held.calls == ["dead.example"]  # asked once, any case
    with pytest.raises(LookupTimeout):
        first.check()
    held.release.set()  # the late failure changes nothing already given
    assert names.lookup("dead.example") is first


def test_lookups_in_flight_never_exceed_the_concurrency_even_when_abandoned(held: HeldResolver) -> None:
    names = NameLookups(timeout=0.2, concurrency=2)
    got = names.lookup_all([f"dead{i}.example" for i in range(6)])
    assert all(lookup.timed_out for lookup in got.values())
    # two lookups asked (and still held); the other four found no free slot and asked nothing
    assert held.most_outstanding == 2 and len(held.calls) == 2
    assert sum("no lookup slot free" in lookup.reason for lookup in got.values()) == 4
    assert names.lookup("answered.example").timed_out  # slots still held: no answer in time either
    held.release.set()
    later = NameLookups(timeout=5, concurrency=2)
    assert later.lookup("answered.example").addresses == ["127.0.0.1"]


def test_addresses_are_never_looked_up_and_answers_are_as_the_resolver_gives(held: HeldResolver) -> None:
    names = NameLookups(timeout=0.2, concurrency=1)
    assert names.lookup("10.1.2.3").addresses == ["10.1.2.3"] and held.calls == []
    assert names.lookup("fe80::1%1").infos[0][4][3] == 1  # the scope id is kept
    answered = names.lookup("answered.example")
    assert answered.addresses == ["127.0.0.1"] and not answered.timed_out and answered.error is None


def test_a_failed_lookup_raises_the_resolver_s_own_error() -> None:
    lookup = NameLookups(timeout=5).lookup("no-such-host.invalid")
    assert not lookup.timed_out and isinstance(lookup.error, socket.gaierror)
    with pytest.raises(socket.gaierror) as raised:
        open_connection(lookup, 22, lambda: 1.0)
    assert str(raised.value) == str(lookup.error)


def test_open_connection_tries_each_address_and_raises_the_last_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
        closed.close()
        infos = tuple(socket.getaddrinfo("127.0.0.1", None, 0, socket.SOCK_STREAM))
        with open_connection(Lookup("h", infos), port, lambda: 2.0) as sock:
            assert sock.getpeername() == ("127.0.0.1", port)
        with pytest.raises(ConnectionRefusedError):
            open_connection(Lookup("h", infos), dead_port, lambda: 2.0)


def test_discovery_reports_a_timed_out_name_per_host_and_probes_its_neighbours(held: HeldResolver) -> None:
    """The dead name's address ends as "timeout" naming the lookup, its second service is never
    tried, and the answered name and the address beside it are probed as without it (each is
    refused by a closed port here: "closed", so "unreachable" in coverage, not "timeout")."""
    from scanner.discover.base import connect, run_probe

    probed: list[tuple[str, str]] = []

    def probe(target: Target, settings: ProbeSettings) -> Observation:
        def body(deadline: Any, obs: Observation) -> None:
            probed.append((target.host, target.transport))
            obs.connections += 1
            connect(target.host, target.port, deadline, settings.names).close()

        return run_probe(target.transport, target, settings, body)

    held.answered["answered.example"] = "127.0.0.2"
    with socket.socket() as bound:  # a port that refuses: bound, not listening
        bound.bind(("0.0.0.0", 0))  # noqa: S104 - loopback addresses 127.0.0.1 and .2 both reach it
        port = bound.getsockname()[1]
        targets = [
            Target("dead.example", site="A", transport="ssh", port=port),
            Target("dead.example", site="A", transport="http", port=port),
            Target("answered.example", site="A", transport="ssh", port=port),
            Target("127.0.0.1", site="A", transport="ssh", port=port),
        ]
        summary = Discoverer(
            None, ProbeSettings(timeout=0.3), DiscoverConfig(concurrency=4), {"ssh": probe, "http": probe}, parse("")
        ).run(targets)
    status = {s.target: s for s in summary.statuses}
    dead = status["discover://dead.example"]
    assert dead.status == "timeout" and dead.error.startswith("name lookup of dead.example: no answer"), dead.error
    assert ("dead.example", "http") not in probed and held.calls.count("dead.example") == 1
    for host in ("answered.example", "127.0.0.1"):
        assert (status[f"discover://{host}"].status, status[f"discover://{host}"].error) == (
            "unreachable",
            f"ssh:{port} closed",
        )
    assert held.calls.count("answered.example") == 1  # looked up once: aliases, then the probe's connect
