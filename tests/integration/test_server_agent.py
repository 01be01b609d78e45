"""The agent against a REAL running ``legacyscan serve`` over HTTPS with a test CA, and the faults
an estate produces: servers down or killed mid-request, duplicate and hostile uploads, wrong and
revoked tokens, and two collectors writing to one PostgreSQL at once.

Everything here runs real processes: ``legacyscan serve`` and ``legacyscan tokens``/``import`` as
subprocesses of the CLI, the agent as a subprocess (real collection) or in-process (``main()``
with an injected inventory, so fault tests are fast and deterministic).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from agents import agent
from agents.inventory import Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.store.open import open_store
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.integration.tls import Pki, make_pki

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, db: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli", *args, "--db", db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"legacyscan {' '.join(args)} failed: {proc.stderr}")
    return proc


def create_token(db: str, site: str) -> tuple[str, str]:
    """(token, token id) via the real CLI."""
    proc = cli("tokens", "create", "--site", site, db=db)
    token = proc.stdout.strip()
    return token, token.split("_")[1]


class Serve:
    """A ``legacyscan serve`` subprocess."""

    def __init__(self, db: str, pki: Pki, *extra: str, port: int | None = None) -> None:
        self.db = db
        self.pki = pki
        self.extra = extra
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> Serve:
        env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scanner.cli",
                "serve",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--tls-cert",
                str(self.pki.server_cert),
                "--tls-key",
                str(self.pki.server_key),
                "--db",
                self.db,
                *self.extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                if httpx.get(self.url + "/healthz", verify=self.pki.context(), timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve did not become healthy")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()


class Proxy:
    """A TCP proxy in front of the server (TLS passes through untouched) that can misbehave.

    ``drop_after``: once the agent has sent this many bytes (about the whole request), nothing more
    from the server is relayed (its answer: the server has committed) - a response lost on the
    way back; the agent times out.
    ``throttle``: forward the request slowly and set ``half_sent`` half way, so a test can kill the
    server while the request is in flight.
    """

    def __init__(self, upstream_port: int, *, drop_after: int = 0, throttle: bool = False) -> None:
        self.upstream_port = upstream_port
        self.drop_after = drop_after
        self.client_sent = 0
        self.throttle = throttle
        self.half_sent = threading.Event()
        self.answered = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return

        def up() -> None:
            sent = 0
            try:
                while True:
                    data = client.recv(4096 if self.throttle else 65536)
                    if not data:
                        break
                    upstream.sendall(data)
                    sent += len(data)
                    self.client_sent = sent
                    if self.throttle:
                        if sent > 20_000:
                            self.half_sent.set()
                        time.sleep(0.05)
            except OSError:
                pass
            finally:
                try:
                    upstream.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=up, daemon=True).start()
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if self.drop_after and self.client_sent >= self.drop_after:  # the HTTP answer
                    self.answered.set()
                    continue  # swallowed
                client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the other direction's blocked recv
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def fake_inventory(host: str = "ward-pc-7", packages: int = 400, site: str = "Claimed-In-Payload") -> Inventory:
    return Inventory(
        host=Host(hostname=host, machine_id=f"mid-{host}", site=site),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 12 (bookworm)",
            version="12",
            facts={"files": {"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'}},
        ),
        software=[Software(name=f"pkg-{i}", version=f"1.{i}-1", source="dpkg") for i in range(packages)],
        collected_at="2026-11-30T09:00:00Z",
    )


def run_agent(
    server: str,
    token: str,
    spool: Path,
    inv: Inventory | None = None,
    *extra: str,
    ca: Path | None = None,
    retries: int = 0,
) -> int:
    """The agent in-process: real spool, real HTTPS upload; collection replaced by ``inv``."""
    argv = [
        "--server",
        server,
        "--token",
        token,
        "--spool",
        str(spool),
        "--retries",
        str(retries),
        "--retry-base",
        "0.01",
        "--no-lower-priority",
        "--timeout",
        "10",
        *extra,
    ]
    if ca is not None:
        argv += ["--ca-bundle", str(ca)]
    document = inv or fake_inventory()
    return agent.main(argv, collect_fn=lambda site, tags: document, sleep=lambda s: None)


def post(server: Serve, token: str, body: bytes, **headers: str) -> httpx.Response:
    hdrs = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
    return httpx.post(
        server.url + "/v1/inventories", content=body, headers=hdrs, verify=server.pki.context(), timeout=30
    )


def stored(db: str) -> list[Inventory]:
    with open_store(db) as s:
        return s.latest_inventories()


def count(db: str) -> int:
    with open_store(db) as s:
        return s.count_inventories()


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'central.db'}"


@pytest.fixture
def server(db: str, pki: Pki) -> Iterator[Serve]:
    s = Serve(db, pki, "--max-body", "2000000").start()
    try:
        yield s
    finally:
        s.stop()


# -- the happy path, end to end ----------------------------------------------------------------


def test_real_agent_uploads_over_https_and_the_site_comes_from_the_token(
    server: Serve, db: str, tmp_path: Path
) -> None:
    token, _ = create_token(db, "Ward A")
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agents.agent",
            "--server",
            server.url,
            "--token-file",
            str(token_file),
            "--ca-bundle",
            str(server.pki.ca_cert),
            "--spool",
            str(tmp_path / "spool"),
            "--site",
            "Somewhere Else",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    [inv] = stored(db)
    assert inv.host.site == "Ward A"
    assert inv.collector.transport == "agent"
    assert inv.os.family == "linux" and len(inv.software) > 10
    assert list((tmp_path / "spool").glob("*.json.gz")) == []


def test_server_certificate_is_verified(server: Serve, db: str, tmp_path: Path) -> None:
    token, _ = create_token(db, "Ward A")
    other = make_pki(tmp_path / "other-ca")
    spool = tmp_path / "spool"
    inv = fake_inventory()
    assert run_agent(server.url, token, spool, inv, ca=other.ca_cert) == agent.EXIT_SPOOLED  # wrong CA
    assert run_agent(server.url, token, spool, inv) == agent.EXIT_SPOOLED  # OS trust store: not our test CA
    assert count(db) == 0
    assert len(list(spool.glob("*.json.gz"))) == 1  # the same inventory id, spooled once
    assert run_agent(server.url, token, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_OK
    assert count(db) == 1


def test_healthz(server: Serve) -> None:
    resp = httpx.get(server.url + "/healthz", verify=server.pki.context())
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


# -- faults ------------------------------------------------------------------------------------


def test_server_down_spools_then_delivers_each_inventory_exactly_once(db: str, pki: Pki, tmp_path: Path) -> None:
    serve = Serve(db, pki)
    token, _ = create_token(db, "Ward B")
    spool = tmp_path / "spool"
    first, second = fake_inventory("pc-1"), fake_inventory("pc-1")
    second.collected_at = "2026-11-30T10:00:00Z"
    assert run_agent(serve.url, token, spool, first, ca=pki.ca_cert, retries=2) == agent.EXIT_SPOOLED
    assert run_agent(serve.url, token, spool, second, ca=pki.ca_cert) == agent.EXIT_SPOOLED
    assert len(list(spool.glob("*.json.gz"))) == 2
    serve.start()
    try:
        third = fake_inventory("pc-1")
        third.collected_at = "2026-11-30T11:00:00Z"
        assert run_agent(serve.url, token, spool, third, ca=pki.ca_cert) == agent.EXIT_OK
        assert list(spool.glob("*.json.gz")) == []
        with open_store(db) as s:
            assert s.count_inventories() == 3
            ids = {first.inventory_id, second.inventory_id, third.inventory_id}
            assert all(s.get_inventory(i) is not None for i in ids)
            [latest] = s.latest_inventories()
            assert latest.inventory_id == third.inventory_id  # the spooled older ones did not win
        # Delivering the same spool again changes nothing.
        assert run_agent(serve.url, token, spool, third, ca=pki.ca_cert) == agent.EXIT_OK
        assert count(db) == 3
    finally:
        serve.stop()


def test_response_lost_after_commit_is_retried_and_counted_once(server: Serve, db: str, tmp_path: Path) -> None:
    token, _ = create_token(db, "Ward C")
    spool = tmp_path / "spool"
    inv = fake_inventory(packages=2000)
    proxy = Proxy(server.port, drop_after=len(gzip.compress(compact_json(inv).encode(), 6)))
    try:
        rc = run_agent(f"https://127.0.0.1:{proxy.port}", token, spool, inv, "--timeout", "3", ca=server.pki.ca_cert)
    finally:
        proxy.close()
    assert proxy.answered.is_set()
    assert rc == agent.EXIT_SPOOLED  # the agent never heard back: it must keep the inventory
    assert count(db) == 1  # ...but the server had committed it
    assert run_agent(server.url, token, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_OK
    assert count(db) == 1  # the re-send was a duplicate, not a second copy
    assert list(spool.glob("*.json.gz")) == []


def test_server_killed_mid_request(db: str, pki: Pki, tmp_path: Path) -> None:
    serve = Serve(db, pki).start()
    token, _ = create_token(db, "Ward D")
    proxy = Proxy(serve.port, throttle=True)
    spool = tmp_path / "spool"
    inv = fake_inventory(packages=3000)
    for pkg in inv.software:  # incompressible names: a body big enough to be mid-stream when the server dies
        pkg.name = f"pkg-{uuid.uuid4().hex}"
    result: list[int] = []
    uploader = threading.Thread(
        target=lambda: result.append(run_agent(f"https://127.0.0.1:{proxy.port}", token, spool, inv, ca=pki.ca_cert))
    )
    uploader.start()
    try:
        assert proxy.half_sent.wait(30)
        serve.kill()  # SIGKILL while the request body is still arriving
        uploader.join(60)
    finally:
        proxy.close()
        serve.stop()
    assert result == [agent.EXIT_SPOOLED]
    assert count(db) == 0  # nothing half-stored
    restarted = Serve(db, pki, port=serve.port).start()
    try:
        assert run_agent(restarted.url, token, spool, inv, ca=pki.ca_cert) == agent.EXIT_OK
        assert count(db) == 1
    finally:
        restarted.stop()


def test_duplicate_upload_is_acknowledged_not_stored_twice(server: Serve, db: str) -> None:
    token, _ = create_token(db, "Ward E")
    body = fake_inventory().to_json().encode()
    first = post(server, token, body)
    again = post(server, token, gzip.compress(body), **{"Content-Encoding": "gzip"})
    assert (first.status_code, first.json()["status"]) == (201, "created")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert count(db) == 1


def test_site_in_payload_is_ignored(server: Serve, db: str) -> None:
    token, _ = create_token(db, "Ward F")
    resp = post(server, token, fake_inventory(site="Ward Z").to_json().encode())
    assert resp.status_code == 201 and resp.json()["site"] == "Ward F"
    assert [i.host.site for i in stored(db)] == ["Ward F"]


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


HOSTILE: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("not json", b"{not json", {}, 400, "not valid JSON"),
    ("array", b"[1,2,3]", {}, 422, "JSON object"),
    ("wrong type", json.dumps({"inventory_id": "x1", "software": "everything"}).encode(), {}, 422, "software"),
    ("no id", json.dumps({"host": {"hostname": "pc"}}).encode(), {}, 422, "inventory_id"),
    (
        "bad field",
        json.dumps({"inventory_id": "x2", "software": [{"name": 5.5j if False else ["a"]}]}).encode(),
        {},
        422,
        "software[0].name",
    ),
    ("deep nesting", json.dumps({"inventory_id": "x3", "os": {"facts": _nested(50)}}).encode(), {}, 422, "nested"),
    (
        "huge string",
        json.dumps({"inventory_id": "x4", "host": {"hostname": "h" * 100_000}}).encode(),
        {},
        422,
        "host.hostname",
    ),
    ("future schema", json.dumps({"inventory_id": "x5", "schema_version": 99}).encode(), {}, 422, "schema_version"),
    ("json bomb", b"[" * 100_000 + b"]" * 100_000, {}, 400, "JSON"),
    ("bad gzip", b"\x1f\x8b not really gzip", {"Content-Encoding": "gzip"}, 400, "gzip"),
    (
        "gzip trailer",
        gzip.compress(b'{"inventory_id": "t"}') + gzip.compress(b"{}"),
        {"Content-Encoding": "gzip"},
        400,
        "after the end",
    ),
    ("unknown encoding", b"{}", {"Content-Encoding": "br"}, 415, "Content-Encoding"),
    ("not json type", b"<xml/>", {"Content-Type": "application/xml"}, 415, "Content-Type"),
]


@pytest.mark.parametrize(("name", "body", "headers", "status", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_malformed_and_hostile_payloads_are_refused_with_a_reason(
    server: Serve, db: str, name: str, body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    token, _ = create_token(db, "Ward G")
    resp = post(server, token, body, **headers)
    assert resp.status_code == status, resp.text
    assert reason in resp.json()["error"]
    assert count(db) == 0


def test_oversized_bodies_and_gzip_bombs_are_refused(server: Serve, db: str) -> None:
    token, _ = create_token(db, "Ward H")  # this server's --max-body is 2,000,000
    big = fake_inventory(packages=20_000).to_json().encode()
    assert len(big) > 2_000_000
    resp = post(server, token, big)
    assert resp.status_code == 413 and "limit" in resp.json()["error"]
    bomb = gzip.compress(b'{"inventory_id": "b", "pad": "' + b" " * 50_000_000 + b'"}', 9)
    assert len(bomb) < 2_000_000
    resp = post(server, token, bomb, **{"Content-Encoding": "gzip"})
    assert resp.status_code == 413 and "decompressed" in resp.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold on the stream too
        for _ in range(40):
            yield b" " * 100_000

    resp = httpx.post(
        server.url + "/v1/inventories",
        content=chunks(),
        verify=server.pki.context(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert resp.status_code == 413
    assert count(db) == 0


def test_agent_moves_a_refused_inventory_aside(server: Serve, db: str, tmp_path: Path) -> None:
    token, _ = create_token(db, "Ward I")
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "20260101T000000Z-broken.json.gz").write_bytes(gzip.compress(b'{"inventory_id": "z", "software": 1}'))
    assert run_agent(server.url, token, spool, ca=server.pki.ca_cert) == agent.EXIT_OK
    assert count(db) == 1  # the good one went through
    rejected = spool / "rejected"
    assert [p.name for p in rejected.glob("*.json.gz")] == ["20260101T000000Z-broken.json.gz"]
    assert "software" in (rejected / "20260101T000000Z-broken.json.gz.reason.txt").read_text()


def test_wrong_and_revoked_tokens(server: Serve, db: str, tmp_path: Path) -> None:
    token, token_id = create_token(db, "Ward J")
    body = fake_inventory().to_json().encode()
    assert post(server, "lsk_000000000000_" + "A" * 43, body).status_code == 401
    assert post(server, "garbage", body).status_code == 401
    no_auth = httpx.post(server.url + "/v1/inventories", content=body, verify=server.pki.context())
    assert no_auth.status_code == 401 and no_auth.headers["www-authenticate"] == "Bearer"
    cli("tokens", "revoke", token_id, db=db)
    assert "revoked" in cli("tokens", "list", db=db).stdout
    spool = tmp_path / "spool"
    inv = fake_inventory()
    assert run_agent(server.url, token, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_ERROR
    assert len(list(spool.glob("*.json.gz"))) == 1  # kept for when a valid token is configured
    assert count(db) == 0
    fresh, _ = create_token(db, "Ward J")
    assert run_agent(server.url, fresh, spool, inv, ca=server.pki.ca_cert) == agent.EXIT_OK
    assert count(db) == 1


def test_rate_limit_per_token(db: str, pki: Pki) -> None:
    serve = Serve(db, pki, "--rate-limit", "0.01", "--rate-burst", "2").start()
    try:
        token, _ = create_token(db, "Ward K")
        other, _ = create_token(db, "Ward L")
        codes = [post(serve, token, fake_inventory(f"pc{i}", 5).to_json().encode()).status_code for i in range(3)]
        assert codes == [201, 201, 429]
        limited = post(serve, token, fake_inventory("pcx", 5).to_json().encode())
        assert int(limited.headers["retry-after"]) >= 1
        assert post(serve, other, fake_inventory("pcy", 5).to_json().encode()).status_code == 201  # per token
    finally:
        serve.stop()
    assert count(db) == 3


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_collectors_write_to_one_database_at_once(
    backend: str, request: pytest.FixtureRequest, db: str, pki: Pki
) -> None:
    """Two ``serve`` processes (two sites' collectors, or --workers 2) on one PostgreSQL - and on one
    SQLite file, which WAL and the store's transactions must keep consistent too."""
    url = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else db
    first = Serve(url, pki).start()
    second = Serve(url, pki, "--workers", "2").start()
    try:
        token, _ = create_token(url, "Ward M")
        invs = [fake_inventory(f"pc-{i % 25}", 300) for i in range(80)]
        for i, inv in enumerate(invs):
            inv.collected_at = f"2026-11-30T09:{i % 60:02d}:{i // 60:02d}Z"
        bodies = [inv.to_json().encode() for inv in invs]
        # Every inventory is sent to BOTH collectors at the same time (a retry that went two ways).
        jobs = [(srv, body) for body in bodies for srv in (first, second)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda job: post(job[0], token, job[1]), jobs))
    finally:
        first.stop()
        second.stop()
    assert all(a.status_code in (200, 201) for a in answers), {a.status_code for a in answers}
    assert sum(a.status_code == 201 for a in answers) == 80  # each created exactly once overall
    with open_store(url) as s:
        assert s.count_inventories() == 80
        latest = {i.host.hostname: i.collected_at for i in s.latest_inventories()}
    expected: dict[str, str] = {}
    for inv in invs:
        expected[inv.host.hostname] = max(expected.get(inv.host.hostname, ""), inv.collected_at)
    assert latest == expected


# -- file drops --------------------------------------------------------------------------------


def test_file_drop_then_import_is_idempotent_and_names_bad_files(db: str, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "agents.agent", "--output", str(share), "--site", "Ward N", "--no-lower-priority"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    [written] = list(share.glob("*.json"))
    assert not list(share.glob(".*"))  # no temp file left behind
    (share / "truncated.json").write_text(written.read_text()[:500])
    (share / "wrong.json").write_text(json.dumps({"inventory_id": "w", "hardware": {"cpu_cores": "many"}}))
    first = cli("import", str(share), db=db, check=False)
    assert first.returncode == 1
    assert "truncated.json: refused: not valid JSON" in first.stderr
    assert "wrong.json: refused: hardware.cpu_cores" in first.stderr
    assert "imported 1, duplicates 0, refused 2" in first.stderr
    again = cli("import", str(written), db=db)
    assert "imported 0, duplicates 1, refused 0" in again.stderr
    # A spool file (compact JSON, gzip) copied off a machine imports too.
    spool = agent.Spool(tmp_path / "spool")
    spooled = spool.add(fake_inventory("spooled-pc"))
    third = cli("import", str(spooled), str(written), db=db)
    assert "imported 1, duplicates 1, refused 0" in third.stderr
    by_host = {i.host.hostname: i for i in stored(db)}
    [agent_inv] = [i for name, i in by_host.items() if name != "spooled-pc"]
    assert agent_inv.host.site == "Ward N" and len(agent_inv.software) > 10
    assert len(by_host["spooled-pc"].software) == 400
    assert written.exists() and spooled.exists()  # sources are never deleted


def test_zipapp_agent_uploads_without_any_installed_package(server: Serve, db: str, tmp_path: Path) -> None:
    """The deployable single file, run with ``python -S`` (no site-packages at all: no legacyscan,
    no httpx, no psutil installed), still collects and uploads over verified HTTPS, with hardware
    facts from the psutil it carries (unpacked into the agent's cache, agents/native.py)."""
    from agents.build_zipapp import build

    pyz = build(tmp_path / "legacyscan-agent.pyz")
    token, _ = create_token(db, "Ward Z")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LEGACYSCAN_DB")}
    env[agent.TOKEN_ENV] = token
    env["LEGACYSCAN_AGENT_CACHE"] = str(tmp_path / "cache")
    proc = subprocess.run(
        [
            sys.executable,
            "-S",
            str(pyz),
            "--server",
            server.url,
            "--ca-bundle",
            str(server.pki.ca_cert),
            "--spool",
            str(tmp_path / "spool"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    [inv] = stored(db)
    assert inv.host.site == "Ward Z" and len(inv.software) > 10
    assert not any(p.probe == "hardware.psutil" for p in inv.problems) and inv.hardware.cpu_threads
    assert list((tmp_path / "cache").glob("native-*/psutil/__init__.py"))  # from the zipapp, not site-packages
