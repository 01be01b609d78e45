"""Where one agent upload's CPU goes: the pieces of ``bench/ingest.py``'s path, measured one by one.

``bench/ingest.py`` measures the whole (service CPU and load-generator CPU per upload, under
concurrency); this measures each step in one process, one after another, on the same documents:

* TLS: a full TLS 1.3 handshake with the test PKI (ECDSA P-256 certificate, X25519, no session
  tickets - what ``legacyscan serve`` runs), client side and server side separately, plus the
  record encryption of one gzip body;
* the service's work on the body: gunzip, JSON parse (orjson), validation of the package records,
  encoding of the stored form (JSON + zlib), and the SQLite commit (WAL, synchronous=NORMAL, batches
  of 16 like the group writer's under load);
* the floor's own cost for the same inventory: a bare bulk insert of its package rows.

* the same uploads (8 agent processes, ``--workers 2``, same TLS context) against a *null*
  endpoint run by uvicorn that reads the body and answers 201: the CPU that the HTTP server, TLS,
  the event loop, the sockets and the kernel take per upload before the service does anything.

It also prints the CPU budget per upload that the issue's target implies on this machine:
``cpus / (0.5 x floor rows/s / packages per inventory)``.  What the whole path costs beyond the
pieces (HTTP parsing, the ASGI server and event loop, sockets and the kernel's loopback TCP) is
``bench/ingest.py``'s measured total minus the pieces.

    python bench/ingest_cost.py [--uploads 300]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import ssl
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import build_bodies  # noqa: E402
from scanner.service.server import tls_context  # noqa: E402
from scanner.service.upload import _decode, _dumps, _loads, _software, accept_upload  # noqa: E402
from scanner.store.enrolment import TokenInfo  # noqa: E402
from scanner.store.open import open_store  # noqa: E402
from tests.integration.tls import make_pki  # noqa: E402

TOKEN = TokenInfo("t1", "bench", "2026-01-01")


def per_item(fn: Callable[[], Any], count: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs of ``fn`` (which handles ``count`` items), in CPU ms per item."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best / count * 1000


def tls_costs(folder: Path, count: int, body: bytes) -> dict[str, float]:
    """CPU ms per connection: client handshake, server handshake, and the body's record layer."""
    pki = make_pki(folder)

    def default() -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        return context

    server_ctx = tls_context(None, default)
    client_ctx = ssl.create_default_context(cafile=pki.ca_cert)
    best = {"client": float("inf"), "server": float("inf"), "records": float("inf")}
    for _ in range(3):
        spent = {"client": 0.0, "server": 0.0, "records": 0.0}
        for _ in range(count):
            c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
            t0 = time.process_time()
            client = client_ctx.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
            t1 = time.process_time()
            server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
            spent["client"] += t1 - t0
            spent["server"] += time.process_time() - t1
            done = {"client": False, "server": False}
            while not all(done.values()):
                for side, obj, out, peer_in in (("client", client, c_out, s_in), ("server", server, s_out, c_in)):
                    t0 = time.process_time()
                    if not done[side]:
                        try:
                            obj.do_handshake()
                            done[side] = True
                        except ssl.SSLWantReadError:
                            pass
                    peer_in.write(out.read())
                    spent[side] += time.process_time() - t0
            t0 = time.process_time()
            client.write(body)
            s_in.write(c_out.read())
            received = b""
            while len(received) < len(body):
                received += server.read(len(body))
            spent["records"] += time.process_time() - t0
        for key, value in spent.items():
            best[key] = min(best[key], value / count * 1000)
    return best


async def null_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An upload endpoint that does nothing: reads the body, answers 201."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    body = b'{"status":"created"}'
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


def null_endpoint(folder: Path, uploads: int, agents: int = 8, workers: int = 2) -> dict[str, float]:
    """Per upload: CPU of a uvicorn serving ``null_app`` over TLS, and of the agent processes."""
    import multiprocessing as mp
    import socket
    import subprocess

    from bench.ingest import agent_process, gather, server_cpu

    pki = make_pki(folder)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    code = (
        "import uvicorn\nfrom scanner.service.server import tls_context\n"
        f"uvicorn.run('bench.ingest_cost:null_app', host='127.0.0.1', port={port}, workers={workers}, "
        f"ssl_certfile={str(pki.server_cert)!r}, ssl_keyfile={str(pki.server_key)!r}, log_level='warning', "
        "access_log=False, server_header=False, ssl_context_factory=tls_context)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # every worker up
        per_agent = uploads // agents
        ctx = mp.get_context("spawn")
        start, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
        procs = [
            ctx.Process(
                target=agent_process,
                args=(
                    f"https://127.0.0.1:{port}",
                    str(pki.ca_cert),
                    "lsk_none",
                    per_agent,
                    i * per_agent,
                    ready,
                    start,
                    results,
                ),
            )
            for i in range(agents)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=600)
        cpu0 = server_cpu(server.pid)
        t0 = time.perf_counter()
        start.set()
        rows, agents_cpu = gather(results, len(procs))
        elapsed = max(r[4] for r in rows) - t0
        used = server_cpu(server.pid) - cpu0
        for p in procs:
            p.join()
    finally:
        server.terminate()
        server.wait(30)
    ok = sum(1 for r in rows if r[1] == 201)
    return {
        "uploads": len(rows),
        "answered_201": ok,
        "uploads_per_s": round(len(rows) / elapsed, 1),
        "server_cpu_ms_per_upload": round(used / len(rows) * 1000, 3),
        "agent_cpu_ms_per_upload": round(agents_cpu / len(rows) * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--null-uploads", type=int, default=3000, help="uploads against the null endpoint (0: skip)")
    args = parser.parse_args()
    bodies = build_bodies(args.uploads, 0)
    n = len(bodies)
    packages = sum(p for _, _, p in bodies) / n
    raw = [gzip.decompress(b) for _, b, _ in bodies]
    datas = [_decode(r) for r in raw]
    figures: dict[str, Any] = {
        "bench": "ingest_cost",
        "uploads": n,
        "packages_per_inventory_mean": round(packages),
        "gzip_body_bytes_mean": round(sum(len(b) for _, b, _ in bodies) / n),
        "json_bytes_mean": round(sum(map(len, raw)) / n),
    }
    with tempfile.TemporaryDirectory(prefix="legacyscan-ingest-cost-") as tmp_name:
        tmp = Path(tmp_name)
        tls = tls_costs(tmp / "pki", min(n, 200), bodies[0][1])

        def gunzip() -> None:
            for _, body, _ in bodies:
                zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body)

        def parse() -> None:
            for r in raw:
                _loads(r)

        def validate() -> None:
            for d in datas:
                _software(d["software"])

        stored_json = [_dumps(_software(d["software"])) for d in datas]

        def encode() -> None:
            for d, text in zip(datas, stored_json, strict=True):
                _dumps(_software(d["software"]))
                zlib.compress(text, 3)

        def accept() -> None:
            for r in raw:
                accept_upload(r, TOKEN)

        validate_ms = per_item(validate, n)
        components = {
            "agent_tls_handshake": tls["client"],
            "server_tls_handshake": tls["server"],
            "tls_records_of_the_body": tls["records"],
            "server_gunzip": per_item(gunzip, n),
            "server_json_parse": per_item(parse, n),
            "server_validate_packages": validate_ms,
            "server_encode_stored_form": per_item(encode, n) - validate_ms,
            "server_accept_upload_total": per_item(accept, n),
        }
        db = tmp / "cost.db"
        rounds = []
        for attempt in range(3):
            encoded = []
            for r in raw:
                inv = accept_upload(r, TOKEN)
                inv.inventory_id = f"{inv.inventory_id}-{attempt}"
                encoded.append(inv)
            rounds.append(encoded)
        store = open_store(f"sqlite:///{db}")
        try:
            best = float("inf")
            for encoded in rounds:
                t0 = time.process_time()
                for start in range(0, n, 16):
                    store.save_batch(encoded[start : start + 16])
                best = min(best, time.process_time() - t0)
            components["server_sqlite_commit"] = best / n * 1000
            conn = store.conn  # type: ignore[attr-defined]
            rows = [(iid, f"p{i}", "1.0", "dpkg", "amd64") for iid, _, p in bodies for i in range(p)]
            conn.execute(
                "CREATE TABLE floor_packages (inventory_id TEXT, name TEXT, version TEXT, source TEXT, arch TEXT)"
            )
            t0, w0 = time.process_time(), time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO floor_packages VALUES (?,?,?,?,?)", rows)
            conn.execute("COMMIT")
            floor_cpu, floor_wall = time.process_time() - t0, time.perf_counter() - w0
        finally:
            store.close()
        if args.null_uploads:
            figures["null_endpoint"] = null_endpoint(tmp / "pki-null", args.null_uploads)
    figures["cpu_ms_per_upload"] = {k: round(v, 3) for k, v in components.items()}
    floor_rows_per_s = len(rows) / floor_wall
    figures["floor_cpu_ms_per_inventory"] = round(floor_cpu / n * 1000, 3)
    figures["floor_rows_per_s"] = round(floor_rows_per_s)
    # The target: 0.5 x the floor's rows/s, in inventories/s, and the CPU that leaves per upload
    # for everything (agents and service) on this machine's cores.
    target_per_s = 0.5 * floor_rows_per_s / packages
    figures["target_inventories_per_s"] = round(target_per_s, 1)
    figures["cpu_budget_ms_per_upload"] = round((os.cpu_count() or 1) / target_per_s * 1000, 3)
    if "null_endpoint" in figures:
        # The least the whole path can cost: the null endpoint (both sides, measured under the same
        # concurrency) plus the service's own work measured alone (warm, no contention).
        service_work = (
            components["server_gunzip"] + components["server_accept_upload_total"] + components["server_sqlite_commit"]
        )
        null = figures["null_endpoint"]
        figures["service_work_ms_per_upload"] = round(service_work, 3)
        figures["least_total_ms_per_upload"] = round(
            null["server_cpu_ms_per_upload"] + null["agent_cpu_ms_per_upload"] + service_work, 3
        )
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
