"""Issue #19, the collector service's findings, each against the real thing: ``legacyscan serve`` (uvicorn)
over TLS with a test CA, real PostgreSQL and SQLite, real sockets, a real full filesystem.

Every test here failed on the code before its fix (the closing note names the failure seen).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.inventory import Inventory
from scanner.store.open import open_store
from scanner.store.sqlite import HostStatus
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.integration.test_server_agent import Serve, cli, count, create_token, fake_inventory, post
from tests.integration.tls import Pki, make_pki

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    return str(request.getfixturevalue("pg_url"))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> dt.datetime:
    """The test's clock (the service reads the same machine clock through its composition root)."""
    return dt.datetime.now(dt.UTC)


# -- 1: cross-site takeover --------------------------------------------------------------------


def test_a_token_cannot_take_over_another_sites_host(db_url: str, pki: Pki) -> None:
    serve = Serve(db_url, pki).start()
    try:
        ward_a, _ = create_token(db_url, "Ward A")
        ward_b, _ = create_token(db_url, "Ward B")
        genuine = fake_inventory("theatre-pc", 20)
        genuine.collected_at = iso(now() - dt.timedelta(hours=2))
        assert post(serve, ward_a, genuine.to_json().encode()).status_code == 201

        # Site B's token claims the same machine id with a far-future collection time.
        for future in ("2099-01-01T00:00:00Z", iso(now() + dt.timedelta(days=1))):
            hostile = fake_inventory("theatre-pc", 1)
            hostile.collected_at = future
            resp = post(serve, ward_b, hostile.to_json().encode())
            assert resp.status_code == 422, resp.text
            assert "collected_at" in resp.json()["error"]
        for odd in ("", "yesterday", "2026-11-30T09:00:00"):  # missing, not a time, no time zone
            hostile = fake_inventory("theatre-pc", 1)
            hostile.collected_at = odd
            resp = post(serve, ward_b, hostile.to_json().encode())
            assert resp.status_code == 422 and "collected_at" in resp.json()["error"], (odd, resp.text)

        # A plausible time: the claim is filed under site B only; site A keeps its host.
        claim = fake_inventory("theatre-pc", 1)
        claim.collected_at = iso(now() - dt.timedelta(hours=1))
        assert post(serve, ward_b, claim.to_json().encode()).status_code == 201
        with open_store(db_url) as s:
            assert [i.inventory_id for i in s.latest_inventories("Ward A")] == [genuine.inventory_id]
            assert [i.inventory_id for i in s.latest_inventories("Ward B")] == [claim.inventory_id]

        # Later genuine uploads of site A still replace its latest inventory.
        later = fake_inventory("theatre-pc", 25)
        later.collected_at = iso(now() - dt.timedelta(minutes=30))
        assert post(serve, ward_a, later.to_json().encode()).status_code == 201
    finally:
        serve.stop()
    with open_store(db_url) as s:
        [latest_a] = s.latest_inventories("Ward A")
        assert latest_a.inventory_id == later.inventory_id and len(latest_a.software) == 25
        assert [i.inventory_id for i in s.latest_inventories("Ward B")] == [claim.inventory_id]
        assert s.count_inventories() == 3


# -- 2: NUL bytes ------------------------------------------------------------------------------


def _with_nul(host: str) -> Inventory:
    inv = fake_inventory(host, 3)
    inv.host.hostname = host + "\x00evil"
    inv.os.name = "Debian\x00"
    inv.host.tags = ["ward\x00"]
    inv.software[0].name = "pkg\x00-0"
    inv.os.facts = {"files": {"/etc/os-release": "ID=debian\x00\n"}}
    inv.collected_at = iso(now() - dt.timedelta(minutes=5))
    return inv


def test_nul_bytes_never_fail_innocent_uploads_in_a_batch(db_url: str, pki: Pki) -> None:
    serve = Serve(db_url, pki).start()
    try:
        token, _ = create_token(db_url, "Ward N")
        innocent = [fake_inventory(f"pc-{i}", 30) for i in range(150)]
        hostile = [_with_nul(f"nul-{i}") for i in range(8)]
        for inv in innocent:
            inv.collected_at = iso(now() - dt.timedelta(minutes=5))
        bodies = [inv.to_json().encode() for inv in innocent + hostile]
        order = list(range(len(bodies)))
        order = order[::2] + order[1::2]  # NUL uploads spread among the others: same batches
        with ThreadPoolExecutor(24) as pool:
            answers = dict(zip(order, pool.map(lambda i: post(serve, token, bodies[i]), order), strict=True))
    finally:
        serve.stop()
    innocent_codes = [answers[i].status_code for i in range(150)]
    assert innocent_codes.count(201) == 150, sorted(set(innocent_codes))
    assert [answers[150 + i].status_code for i in range(8)] == [201] * 8  # neutralised, not refused
    with open_store(db_url) as s:
        assert s.count_inventories() == 158
        by_id = {inv.inventory_id: inv for inv in s.latest_inventories("Ward N")}
    back = by_id[hostile[0].inventory_id]
    # The same neutral form on both backends: every NUL became U+FFFD, nothing else changed.
    assert back.host.hostname == "nul-0\ufffdevil"
    assert back.os.name == "Debian\ufffd" and back.host.tags == ["ward\ufffd"]
    assert back.software[0].name == "pkg\ufffd-0"
    assert back.os.facts == {"files": {"/etc/os-release": "ID=debian\ufffd\n"}}


def test_nul_bytes_in_import_and_in_a_fleet_scans_batch(db_url: str, tmp_path: Path) -> None:
    """``legacyscan import`` of a folder with one such file, and the store calls a fleet scan makes
    (one ``save_batch`` and one ``record_statuses`` per batch), store everything else."""
    drop = tmp_path / "drop"
    drop.mkdir()
    good = [fake_inventory(f"imp-{i}", 5) for i in range(6)]
    for inv in good:
        (drop / f"{inv.host.hostname}.json").write_text(inv.to_json())
    (drop / "nul.json").write_text(_with_nul("imp-nul").to_json())
    proc = cli("import", str(drop), db=db_url, check=False)
    assert "imported 7, duplicates 0, refused 0" in proc.stderr, proc.stderr
    with open_store(db_url) as s:
        assert s.count_inventories() == 7
        names = sorted(i.host.hostname for i in s.latest_inventories())
        assert names == sorted([f"imp-{i}" for i in range(6)] + ["imp-nul\ufffdevil"])

        scanned = [fake_inventory(f"scan-{i}", 5, site="north") for i in range(5)] + [_with_nul("scan-nul")]
        s.save_batch(scanned)
        s.record_statuses(
            [HostStatus(target=f"10.0.0.{i}", site="north", status="ok", error="", at=iso(now())) for i in range(5)]
            + [
                HostStatus(
                    target="10.0.0.9\x00",
                    site="north",
                    status="error",
                    error="dpkg printed \x00 garbage",
                    at=iso(now()),
                    host_key="mid\x00",
                )
            ]
        )
        assert s.count_inventories() == 13
        statuses = {st.target: st for st in s.statuses("north")}
    assert len(statuses) == 6
    assert statuses["10.0.0.9\ufffd"].error == "dpkg printed \ufffd garbage"
    assert statuses["10.0.0.9\ufffd"].host_key == "mid\ufffd"


# -- 4: bounded work per upload, off the event loop ---------------------------------------------


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def test_a_tiny_upload_of_many_records_is_bounded_and_holds_up_nobody(tmp_path: Path, pki: Pki) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    serve = Serve(db, pki).start()
    assert serve.proc is not None
    try:
        token, _ = create_token(db, "Ward Q")
        collected = iso(now() - dt.timedelta(minutes=1))
        head = json.dumps({"inventory_id": "many-records", "collected_at": collected}).encode()[:-1]
        hostile = gzip.compress(head + b',"hardware":{"disks":[' + b"{}," * 10_000_000 + b"{}]}}", 9)
        assert len(hostile) < 40 * 1024  # the red team's 30 KiB body
        result: list[httpx.Response] = []
        sent = threading.Event()

        def attack() -> None:
            sent.set()
            result.append(post(serve, token, hostile, **{"Content-Encoding": "gzip"}))

        attacker = threading.Thread(target=attack)
        attacker.start()
        sent.wait(10)
        innocent = [fake_inventory(f"pc-{i}", 300) for i in range(3)]
        for inv in innocent:
            inv.collected_at = collected
        answers = [post(serve, token, inv.to_json().encode()) for inv in innocent]
        attacker.join(120)
        assert [a.status_code for a in answers] == [201, 201, 201]
        [refused] = result
        assert refused.status_code == 413, refused.text
        assert "limit of 600000" in refused.json()["error"]

        # Within the node limit, each list is bounded, with a 422 naming the field and the limit.
        for field, doc in (
            ("hardware.disks", {"hardware": {"disks": [{}] * 300}}),
            ("host.tags", {"host": {"hostname": "t", "tags": ["x"] * 1000}}),
            ("software[0].collapsed", {"software": [{"name": "a", "collapsed": ["r"] * 1000}]}),
        ):
            body = json.dumps({"inventory_id": f"list-{field}", "collected_at": collected, **doc}).encode()
            resp = post(serve, token, body)
            assert resp.status_code == 422 and field in resp.json()["error"] and "limit" in resp.json()["error"], (
                resp.text
            )
        peak = _peak_rss_mib(serve.proc.pid)
    finally:
        serve.stop()
    assert peak < 400, f"the service grew to {peak:.0f} MiB"
    assert count(db) == 3


# -- 7: a full disk ----------------------------------------------------------------------------


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MiB tmpfs mounted for the test (needs root, as CI runs)."""
    from tests.conftest import require_or_skip

    mount = tmp_path / "tiny"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        require_or_skip(f"cannot mount a small tmpfs (root needed): {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Fill the filesystem to the last block."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\xa5" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_answers_503_with_retry_after_and_loses_nothing(tiny_fs: Path, pki: Pki) -> None:
    db = f"sqlite:///{tiny_fs / 'central.db'}"
    serve = Serve(db, pki).start()
    try:
        token, _ = create_token(db, "Ward D")
        first = fake_inventory("pc-first", 50)
        first.collected_at = iso(now() - dt.timedelta(minutes=10))
        assert post(serve, token, first.to_json().encode()).status_code == 201
        filler = _fill(tiny_fs)
        big = fake_inventory("pc-big", 3000)
        for i, pkg in enumerate(big.software):  # incompressible: the database must grow
            pkg.name = f"pkg-{os.urandom(16).hex()}-{i}"
        big.collected_at = iso(now() - dt.timedelta(minutes=5))
        body = big.to_json().encode()
        answers = [post(serve, token, body) for _ in range(2)]
        for resp in answers:
            assert resp.status_code == 503, resp.text
            assert int(resp.headers["retry-after"]) >= 1
            assert "space" in resp.json()["error"] or "disk" in resp.json()["error"]
        filler.unlink()
        again = post(serve, token, body)
        assert again.status_code == 201, again.text
    finally:
        serve.stop()
    with open_store(db) as s:
        assert s.count_inventories() == 2
        back = s.get_inventory(big.inventory_id)
        assert back is not None and len(back.software) == 3000
        assert s.get_inventory(first.inventory_id) is not None


# -- 9: slow clients ---------------------------------------------------------------------------


def _tls_socket(serve: Serve) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", serve.port), timeout=10)
    return serve.pki.context().wrap_socket(raw, server_hostname="127.0.0.1")


def _closed(sock: ssl.SSLSocket) -> bool:
    """True once the server has closed the connection (read without waiting)."""
    sock.settimeout(0.0)
    try:
        return sock.recv(4096) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(10)


def _trickle(sock: ssl.SSLSocket, data: bytes, *, for_seconds: float) -> bool:
    """Send ``data`` a byte at a time, 5 bytes a second; True when the server closed the
    connection before ``for_seconds`` of trickling (bounded: the test never hangs)."""
    stop = time.monotonic() + for_seconds
    for byte in data * 1000:
        if time.monotonic() > stop:
            return False
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return True
        time.sleep(0.2)
        if _closed(sock):
            return True
    return False


@pytest.mark.parametrize("http", ["httptools", "h11"])  # uvicorn's two HTTP/1.1 implementations
def test_slowly_sent_headers_and_bodies_time_out(tmp_path: Path, pki: Pki, http: str) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    serve = Serve(db, pki, "--header-timeout", "2", "--body-timeout", "2", "--http", http).start()
    try:
        token, _ = create_token(db, "Ward S")
        # A request head that never ends (each byte arrives in time for an idle timer).
        with _tls_socket(serve) as sock:
            sock.sendall(b"POST /v1/inventories HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert _trickle(sock, b"X-Slow: yes\r\n", for_seconds=25), "headers trickled for 25 s were accepted"
        # A body that never ends: 408, naming the limit.
        with _tls_socket(serve) as sock:
            sock.sendall(
                b"POST /v1/inventories HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 100000\r\n\r\n{"
            )
            assert _trickle(sock, b" ", for_seconds=25), "a body trickled for 25 s was accepted"
            sock.settimeout(10)
            answer = b""
            try:
                while chunk := sock.recv(4096):
                    answer += chunk
            except OSError:
                pass
        if answer:  # the 408 may be lost when the server closes while bytes are still arriving
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b"not received within 2 s" in answer
        # Meanwhile and afterwards, ordinary uploads are served.
        inv = fake_inventory("pc-s", 10)
        inv.collected_at = iso(now() - dt.timedelta(minutes=1))
        assert post(serve, token, inv.to_json().encode()).status_code == 201
    finally:
        serve.stop()


def test_connection_limit(tmp_path: Path, pki: Pki) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    serve = Serve(db, pki, "--max-connections", "4", "--header-timeout", "60").start()
    try:
        token, _ = create_token(db, "Ward T")
        inv = fake_inventory("pc-t", 10)
        inv.collected_at = iso(now() - dt.timedelta(minutes=1))
        idle = [_tls_socket(serve) for _ in range(4)]  # connections that never send a request
        try:
            time.sleep(0.5)  # bounded wait for the server to register them (not a timing assertion)
            busy = post(serve, token, inv.to_json().encode())
            assert busy.status_code == 503, busy.text
        finally:
            for sock in idle:
                sock.close()
        for _ in range(50):  # the server notices the closed connections
            resp = post(serve, token, inv.to_json().encode())
            if resp.status_code != 503:
                break
            time.sleep(0.1)
        assert resp.status_code == 201, resp.text
    finally:
        serve.stop()
    assert count(db) == 1


def test_long_indexed_values_never_fail_a_batch(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL refuses an index entry over ~2.7 KB (SQLite has no such limit): a 4,096-character
    machine id, site or collection time from a file or a host must not fail the batch that holds it,
    and both backends keep the same result."""
    drop = tmp_path / "drop"
    drop.mkdir()
    noise = os.urandom(2048).hex()  # incompressible: PostgreSQL cannot squeeze it under the limit
    good = [fake_inventory(f"long-{i}", 5) for i in range(5)]
    odd = [fake_inventory("long-mid", 5), fake_inventory("long-site", 5), fake_inventory("long-at", 5)]
    odd[0].host.machine_id = noise
    odd[1].host.site = noise
    odd[2].collected_at = noise
    for inv in good + odd:
        (drop / f"{inv.host.hostname}.json").write_text(inv.to_json())
    proc = cli("import", str(drop), db=db_url, check=False)
    assert "imported 8, duplicates 0, refused 0" in proc.stderr, proc.stderr
    with open_store(db_url) as s:
        assert s.count_inventories() == 8
        back = {i.host.hostname: i for i in s.latest_inventories()}
        s.record_statuses([HostStatus(target=noise, site=noise, status="error", error="x", at=iso(now()))])
        assert [st.status for st in s.statuses()] == ["error"]
    assert set(back) == {inv.host.hostname for inv in good + odd}
    assert back["long-mid"].host.machine_id == noise  # the document keeps every character
    assert back["long-site"].host.site == noise


@contextmanager
def in_process(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn (lifespan on, the collector's HTTP protocol) on a loopback port, in
    a thread of this process; its base URL.  Stopped on exit, as a signal would stop the collector."""
    import uvicorn

    from scanner.service.protocol import DEFAULT_PROTOCOL, PROTOCOLS

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, http=PROTOCOLS[DEFAULT_PROTOCOL])
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        for _ in range(600):  # started, or failed to start (the thread ended)
            if uv.started or not thread.is_alive():
                break
            time.sleep(0.05)
        assert uv.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_large_uploads_are_validated_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 4's second half, which the test above cannot see (its hostile body is refused before
    any parsing): a document too large for the event loop is decoded and validated on a worker
    thread.  The real app (the same ``create_app`` uvicorn serves) runs in-process here so the
    validator can say which thread it ran on: a thread with no running event loop.  It is served by
    uvicorn in this process over loopback HTTP, as ``legacyscan serve`` serves it (not Starlette's
    TestClient, which is moving to another HTTP client package)."""
    import scanner.service.server as server

    db = f"sqlite:///{tmp_path / 'central.db'}"
    token, _ = create_token(db, "Ward E")
    seen: list[tuple[int, bool]] = []
    real = server.accept_upload

    def spy(document: bytes, *args: object, **kwargs: object) -> object:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        seen.append((len(document), on_loop))
        return real(document, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(server, "accept_upload", spy)
    large = fake_inventory("pc-large", 3000)
    small = fake_inventory("pc-small", 20)
    for inv in (large, small):
        inv.collected_at = iso(now() - dt.timedelta(minutes=1))
    bodies = [large.to_json().encode(), gzip.compress(large.to_json().encode()), small.to_json().encode()]
    assert len(bodies[0]) > server.INLINE_DECODED_MAX > len(bodies[2])
    app = server.create_app(server.ServerConfig(db_url=db), clock=now)
    with in_process(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        for i, body in enumerate(bodies):
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            if i == 1:
                headers["Content-Encoding"] = "gzip"
            resp = client.post("/v1/inventories", content=body, headers=headers)
            assert resp.status_code in (200, 201), resp.text
    assert [on_loop for size, on_loop in seen if size > server.INLINE_DECODED_MAX] == [False, False], seen
    assert count(db) == 2
