"""Issue #19, the agent's findings (items 12, 13, 15), against real HTTPS servers: the real
``legacyscan serve`` (uvicorn) and, for answers a collector never gives (redirects, odd Retry-After
values, a proxy's error pages), a real stdlib HTTPS server on loopback that gives them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import os
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import agent
from agents.inventory import Inventory
from scanner.store.open import open_store
from tests.integration.test_server_agent import Serve, count, create_token, fake_inventory, run_agent
from tests.integration.tls import Pki, make_pki

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'central.db'}"


@pytest.fixture
def server(db: str, pki: Pki) -> Iterator[Serve]:
    s = Serve(db, pki).start()
    try:
        yield s
    finally:
        s.stop()


def recent(inv: Inventory) -> Inventory:
    inv.collected_at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return inv


class OddServer:
    """A real HTTPS server (stdlib, TLS with the test CA) answering every POST with one fixed
    response: what a proxy, a load balancer or a misconfigured URL gives an agent."""

    def __init__(self, pki: Pki, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        answer = (status, headers, body)
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                owner.requests += 1
                code, hdrs, content = answer
                head = [
                    f"HTTP/1.1 {code} Odd",
                    f"Content-Length: {len(content)}",
                    "Connection: close",
                    *(f"{key}: {value}" for key, value in hdrs.items()),
                ]
                # Written as UTF-8 bytes, not through send_header (latin-1 only): "١٢" reaches the agent.
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + content)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def spooled(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.glob("*.json.gz"))


def rejected(spool: Path) -> list[str]:
    return sorted(p.name for p in (spool / "rejected").glob("*.json.gz")) if (spool / "rejected").exists() else []


# -- 12: links planted in the spool -------------------------------------------------------------


def test_the_agent_never_uploads_what_a_planted_link_points_to(server: Serve, db: str, tmp_path: Path) -> None:
    token, _ = create_token(db, "Ward L")
    spool = tmp_path / "spool"
    spool.mkdir()
    secret_dir = tmp_path / "elsewhere"
    secret_dir.mkdir()
    # Files another user or process owns, shaped like spooled inventories (so an upload would store them).
    secrets = {name: recent(fake_inventory(f"secret-{name}", 2)) for name in ("link", "hardlink", "foreign")}
    for name, inv in secrets.items():
        (secret_dir / f"{name}.json.gz").write_bytes(gzip.compress(inv.to_json().encode()))
    (spool / "20200101T000000Z-link.json.gz").symlink_to(secret_dir / "link.json.gz")
    os.link(secret_dir / "hardlink.json.gz", spool / "20200101T000001Z-hardlink.json.gz")
    foreign = spool / "20200101T000002Z-foreign.json.gz"
    foreign.write_bytes((secret_dir / "foreign.json.gz").read_bytes())
    if os.geteuid() == 0:
        os.chown(foreign, 65534, 65534)  # nobody's
    os.mkfifo(spool / "20200101T000003Z-fifo.json.gz")  # would block a plain open

    assert (
        run_agent(server.url, token, spool, recent(fake_inventory("genuine", 5)), ca=server.pki.ca_cert)
        == agent.EXIT_OK
    )
    with open_store(db) as s:
        assert sorted(i.host.hostname for i in s.latest_inventories()) == ["genuine"]
    assert spooled(spool) == []
    refused = rejected(spool)
    expected = ["20200101T000000Z-link.json.gz", "20200101T000001Z-hardlink.json.gz", "20200101T000003Z-fifo.json.gz"]
    if os.geteuid() == 0:
        expected.append("20200101T000002Z-foreign.json.gz")
    assert refused == sorted(expected)
    reasons = {name: (spool / "rejected" / f"{name}.reason.txt").read_text() for name in refused}
    assert "symbolic link" in reasons["20200101T000000Z-link.json.gz"]
    assert "hard links" in reasons["20200101T000001Z-hardlink.json.gz"]
    assert "regular file" in reasons["20200101T000003Z-fifo.json.gz"]
    if os.geteuid() == 0:
        assert "owned by uid 65534" in reasons["20200101T000002Z-foreign.json.gz"]
    # The link was moved, never its target.
    assert (secret_dir / "link.json.gz").is_file() and (spool / "rejected" / refused[0]).is_symlink()


# -- 13: Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "١٢",
        "3.5",
        "-1",
        "soon",
        "99999999999999999999999",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Sun, 06 Nov 2994 08:49:37 GMT",
        "",
    ],
)
def test_any_retry_after_value_is_parsed_strictly_and_bounded(pki: Pki, tmp_path: Path, value: str) -> None:
    odd = OddServer(pki, 503, {"Retry-After": value, "Content-Type": "text/plain"}, b"busy")
    waits: list[float] = []
    try:
        argv = [
            "--server",
            odd.url,
            "--token",
            "lsk_x",
            "--spool",
            str(tmp_path / "spool"),
            "--retries",
            "2",
            "--no-lower-priority",
            "--timeout",
            "10",
            "--ca-bundle",
            str(pki.ca_cert),
        ]
        rc = agent.main(argv, collect_fn=lambda site, tags: fake_inventory(), sleep=waits.append)
    finally:
        odd.close()
    assert rc == agent.EXIT_SPOOLED
    assert odd.requests == 3 and len(waits) == 2
    assert all(0.0 <= w <= 60.0 for w in waits), waits  # the agent's cap, whatever the server said


def test_retry_after_parser() -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC).timestamp()
    assert agent.parse_retry_after("120", now, 60.0) == 60.0
    assert agent.parse_retry_after(" 7 ", now, 60.0) == 7.0
    assert agent.parse_retry_after("Tue, 01 Dec 2026 12:00:30 GMT", now, 60.0) == 30.0
    assert agent.parse_retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now, 60.0) == 0.0
    for bad in ("²", "١٢", "1e3", "0x10", "", "tomorrow", "\u0660"):
        assert agent.parse_retry_after(bad, now, 60.0) is None, bad


# -- 15: only the collector's own refusal moves an inventory aside ------------------------------


ODD_ANSWERS = [
    (301, {"Location": "https://elsewhere.example/v1/inventories"}, b""),
    (302, {"Location": "/login"}, b"<html>log in</html>"),
    (307, {"Location": "/v2/inventories"}, b""),
    (308, {"Location": "/v2/inventories"}, b""),
    (404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"),
    (400, {"Content-Type": "text/html"}, b"<html>400 Bad Request (proxy)</html>"),
    (413, {"Content-Type": "text/html"}, b"<html>Request Entity Too Large</html>"),
    (422, {"Content-Type": "application/json"}, b'{"message": "not ours"}'),
    (418, {"Content-Type": "application/json"}, b'{"error": "teapot"}'),
]


@pytest.mark.parametrize(
    ("status", "headers", "body"), ODD_ANSWERS, ids=[str(a[0]) + "-" + str(i) for i, a in enumerate(ODD_ANSWERS)]
)
def test_answers_that_are_not_the_collectors_keep_the_inventory(
    pki: Pki, tmp_path: Path, status: int, headers: dict[str, str], body: bytes
) -> None:
    odd = OddServer(pki, status, headers, body)
    spool = tmp_path / "spool"
    try:
        rc = run_agent(odd.url, "lsk_x", spool, fake_inventory(), ca=pki.ca_cert)
    finally:
        odd.close()
    assert rc == agent.EXIT_SPOOLED
    assert len(spooled(spool)) == 1 and rejected(spool) == []


def test_a_wrong_server_path_keeps_the_inventory_until_it_is_fixed(server: Serve, db: str, tmp_path: Path) -> None:
    token, _ = create_token(db, "Ward R")
    spool = tmp_path / "spool"
    inv = recent(fake_inventory("pc-r", 5))
    # The real collector answers 404 (Starlette's own page) for a URL with a wrong prefix.
    assert run_agent(server.url + "/legacyscan", token, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_SPOOLED
    assert len(spooled(spool)) == 1 and rejected(spool) == [] and count(db) == 0
    assert run_agent(server.url, token, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_OK
    assert spooled(spool) == [] and count(db) == 1
    # The collector's own refusal still moves the document aside (with its reason).
    (spool / "20200101T000000Z-broken.json.gz").write_bytes(gzip.compress(b'{"inventory_id": "z", "software": 1}'))
    assert run_agent(server.url, token, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_OK
    assert rejected(spool) == ["20200101T000000Z-broken.json.gz"]
