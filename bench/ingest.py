"""Ingest benchmark: N concurrent agents posting realistic inventories to ``legacyscan serve``.

Prints ONE JSON line per backend (SQLite, PostgreSQL) with inventories/s accepted, p95 latency and
rows/s (software rows carried), the counted losses and duplicates, and - in the same run, into the
same database - the floor: a bare bulk insert of the same rows (bodies already encoded, one
transaction), which is what the database alone can do.

Inventories are built from the real host captures in ``scanner/demo_data/captures`` (those with
300-1,500 packages), one per simulated workstation (fresh inventory id and host name each).
Each simulated agent behaves like ``legacyscan-agent`` on the wire: a new TCP connection per
upload (TCP_NODELAY, as httpx sets it), a full TLS handshake verifying the server certificate
against a CA made for the run, one HTTP/1.1 POST of the gzip body, the response read to its end.
The agents write that HTTP/1.1 request over the stdlib ``ssl`` socket themselves rather than
through httpx: they share the machine's CPUs with the service, so a lighter client leaves the
service more of them; the server receives the same request either way.

Besides the targets' figures the line carries ``server_cpu_ms_per_inventory`` (all the service's
processes) and ``agent_cpu_ms_per_upload`` (the load generator's own cost): with 2 cores, their
sum bounds the rate.  ``bench/ingest_cost.py`` breaks an upload's CPU down by component.

    python bench/ingest.py [--agents 8] [--uploads 3000] [--workers-sqlite 2] [--workers-postgresql 3]
                           [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.inventory import Host, Inventory, OsInfo, Software  # noqa: E402
from agents.wire import compact_json  # noqa: E402

CAPTURES = ROOT / "scanner" / "demo_data" / "captures"
MIN_PACKAGES, MAX_PACKAGES = 300, 1500
TARGET_PER_S = 200.0
TARGET_VS_FLOOR = 0.5


def capture_templates() -> list[Inventory]:
    """Real captures with 300-1,500 packages, as Inventory documents (OS evidence kept raw)."""
    out: list[Inventory] = []
    for path in sorted(CAPTURES.glob("*/*.json")):
        data = json.loads(path.read_text("utf-8"))
        software = data.get("software") or []
        if not MIN_PACKAGES <= len(software) <= MAX_PACKAGES:
            continue
        pkgs = [
            Software(
                name=str(s.get("name") or s.get("DisplayName") or ""),
                version=str(s.get("version") or s.get("DisplayVersion") or ""),
                source=str(s.get("source") or "windows-registry"),
                arch=str(s.get("arch") or ""),
                publisher=str(s.get("Publisher") or ""),
            )
            for s in software
        ]
        os_raw = data.get("os") or {}
        name = ""
        if isinstance(os_raw.get("OPERATINGSYSTEM"), dict):
            name = str(os_raw["OPERATINGSYSTEM"].get("FULL_NAME") or "")
        out.append(
            Inventory(
                host=Host(hostname=path.stem[:40]),
                os=OsInfo(family=data.get("platform", "linux"), name=name),
                software=pkgs,
            )
        )
    return out


def build_bodies(count: int, offset: int) -> list[tuple[str, bytes, int]]:
    """(inventory id, gzip body, package count) for workstations offset..offset+count."""
    templates = capture_templates()
    bodies = []
    for n in range(offset, offset + count):
        tpl = templates[n % len(templates)]
        inv = Inventory(
            host=Host(hostname=f"ws-{n:06d}", machine_id=f"bench-{n:06d}"),
            os=tpl.os,
            software=tpl.software,
            collected_at=f"2026-11-30T09:{(n // 60) % 60:02d}:{n % 60:02d}Z",
            inventory_id=str(uuid.uuid4()),
        )
        inv.collector.transport = "agent"
        bodies.append((inv.inventory_id, gzip.compress(compact_json(inv).encode(), 6), len(inv.software)))
    return bodies


def _read_response(sock: ssl.SSLSocket) -> int:
    """The status of one HTTP/1.1 response, its body read to the end (Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed before the response headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed in the response body")
        body += chunk
    return status


def agent_process(url: str, ca: str, token: str, count: int, offset: int, ready: Any, start: Any, results: Any) -> None:
    """One simulated agent process: per upload, what one agent run does on the wire - a new TCP
    connection, a full TLS handshake verifying the server certificate (chain and host name)
    against the run's CA, one HTTP/1.1 POST of the gzip body, the response read to its end.

    It writes HTTP/1.1 over the stdlib ``ssl`` socket itself instead of using httpx (the agent's
    client) or http.client: the load generator shares this machine's two CPUs with the service,
    and every millisecond it spends is one the service cannot use.  The server sees the same bytes
    it would from ``legacyscan-agent``; the client-side HTTP library is the only thing left out."""
    bodies = build_bodies(count, offset)
    context = ssl.create_default_context(cafile=ca)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    head = (
        f"POST /v1/inventories HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: legacyscan-bench\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        "Connection: close\r\nContent-Length: "
    ).encode("ascii")
    ready.put(1)
    start.wait()
    cpu0 = time.process_time()
    out = []
    for inventory_id, body, packages in bodies:
        t0 = time.perf_counter()
        try:
            with socket.create_connection((host, port), timeout=60) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as httpx (the agent's client) does
                with context.wrap_socket(raw, server_hostname=host) as sock:
                    sock.sendall(head + str(len(body)).encode("ascii") + b"\r\n\r\n" + body)
                    status = _read_response(sock)
        except (OSError, ValueError, IndexError):
            status = 0
        out.append((inventory_id, status, time.perf_counter() - t0, packages, time.perf_counter()))
    results.put((out, time.process_time() - cpu0))


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes (load-independent cost)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def db_cpu(cluster: Any) -> float:
    """CPU seconds used so far by the PostgreSQL cluster this benchmark started (0 otherwise)."""
    if cluster is None:
        return 0.0
    pid_file = cluster.data / "postmaster.pid"
    if not pid_file.exists():
        return 0.0
    return server_cpu(int(pid_file.read_text().split()[0]))


def start_pg(tmp: Path) -> tuple[str, Any]:
    from tests.integration.postgres import Cluster, _bindir, _env_url

    url = _env_url()
    if url:
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return url.rsplit("/", 1)[0] + "/" + name, None
    bindir = _bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = Cluster(bindir)
    cluster.start()
    return cluster.url, cluster


def floor(db_url: str, bodies: list[tuple[str, bytes, int]]) -> dict[str, float]:
    """Bare bulk inserts of the same data into the same database, one transaction each, rows built
    beforehand: (1) the inventory rows the service writes (bodies already encoded), (2) the
    software rows the uploads carried (one row per package: what ``rows/s`` counts)."""
    from scanner.store.open import open_store
    from scanner.store.sqlite import encode_body

    inventory_rows = []
    package_rows: list[tuple[str, str, str, str, str]] = []
    for inventory_id, body, packages in bodies:
        inv = Inventory.from_json(gzip.decompress(body))
        inventory_rows.append(
            (
                f"floor-{inventory_id}",
                inv.host.machine_id,
                "bench",
                inv.collected_at,
                "agent",
                inv.os.family,
                inv.os.name,
                packages,
                encode_body(inv),
            )
        )
        package_rows.extend((inventory_id, s.name, s.version, s.source, s.arch) for s in inv.software)
    store = open_store(db_url)
    timings: dict[str, float] = {"inventory_rows": len(inventory_rows), "package_rows": len(package_rows)}
    try:
        conn = getattr(store, "conn", None)
        if conn is not None:
            conn.execute("CREATE TABLE floor_inventories AS SELECT * FROM inventories WHERE 0")
            conn.execute(
                "CREATE TABLE floor_packages (inventory_id TEXT, name TEXT, version TEXT, source TEXT, arch TEXT)"
            )
            for table, rows, marks in (
                ("floor_inventories", inventory_rows, "?,?,?,?,?,?,?,?,?"),
                ("floor_packages", package_rows, "?,?,?,?,?"),
            ):
                t0 = time.perf_counter()
                conn.execute("BEGIN")
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608 - fixed names
                conn.execute("COMMIT")
                timings[table] = time.perf_counter() - t0
            return timings
        with store.pool.connection() as pg:  # type: ignore[attr-defined]
            pg.execute("CREATE TABLE floor_inventories (LIKE inventories INCLUDING ALL)")
            pg.execute(
                "CREATE TABLE floor_packages (inventory_id TEXT, name TEXT, version TEXT, source TEXT, arch TEXT)"
            )
            pg.commit()
            for table, rows, width in (("floor_inventories", inventory_rows, 9), ("floor_packages", package_rows, 5)):
                t0 = time.perf_counter()
                with pg.cursor() as cur:
                    marks = ",".join(["%s"] * width)
                    cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608 - fixed names
                pg.commit()
                timings[table] = time.perf_counter() - t0
            return timings
    finally:
        store.close()


def gather(results: Any, agents: int) -> tuple[list[tuple[str, int, float, int, float]], float]:
    """Every agent's rows (id, status, latency, packages, finished at) and their CPU seconds."""
    rows: list[tuple[str, int, float, int, float]] = []
    cpu = 0.0
    for _ in range(agents):
        agent_rows, agent_cpu = results.get(timeout=600)
        rows.extend(agent_rows)
        cpu += agent_cpu
    return rows, cpu


def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    import httpx

    from scanner.store.open import open_store
    from tests.integration.tls import make_pki

    cluster = None
    workers = args.workers_sqlite if backend == "sqlite" else args.workers_postgresql
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        db_url, cluster = start_pg(tmp)
    pki = make_pki(tmp / f"pki-{backend}")
    env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
    token = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "tokens", "create", "--site", "bench", "--db", db_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    ).stdout.strip()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"https://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scanner.cli",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--tls-cert",
            str(pki.server_cert),
            "--tls-key",
            str(pki.server_key),
            "--db",
            db_url,
            "--workers",
            str(workers),
            "--rate-limit",
            "100000",
            "--rate-burst",
            "100000",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", verify=context, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        per_agent = args.uploads // args.agents
        ctx = mp.get_context("spawn")
        start = ctx.Event()
        ready = ctx.Queue()
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=agent_process,
                args=(url, str(pki.ca_cert), token, per_agent, i * per_agent, ready, start, results),
            )
            for i in range(args.agents)
        ]
        for p in procs:
            p.start()
        for _ in procs:  # every agent has built its documents before the clock starts
            ready.get(timeout=600)
        cpu0 = server_cpu(server.pid)
        db0 = db_cpu(cluster)
        t0 = time.perf_counter()
        start.set()
        rows, agents_cpu = gather(results, len(procs))
        elapsed = max(r[4] for r in rows) - t0
        cpu_used = server_cpu(server.pid) - cpu0
        db_used = db_cpu(cluster) - db0
        for p in procs:
            p.join()
    finally:
        server.terminate()
        server.wait(30)
    sent_ids = [r[0] for r in rows]
    accepted = [r for r in rows if r[1] == 201]
    latencies = sorted(r[2] for r in rows)
    with open_store(db_url) as store:
        stored = store.count_inventories()
        missing = sum(1 for i in set(sent_ids) if store.get_inventory(i) is None)
    bodies = build_bodies(len(rows), 0)
    floors = floor(db_url, bodies)
    if cluster is not None:
        cluster.stop()
    per_s = len(accepted) / elapsed
    packages = sum(r[3] for r in accepted)
    rows_per_s = packages / elapsed
    floor_rows_per_s = floors["package_rows"] / floors["floor_packages"]
    floor_per_s = floors["inventory_rows"] / floors["floor_inventories"]
    return {
        "bench": "ingest",
        "backend": backend,
        "agents": args.agents,
        "server_workers": workers,
        "uploads": len(rows),
        "packages_per_inventory_mean": round(packages / max(1, len(accepted))),
        "accepted": len(accepted),
        "other_status": sorted({r[1] for r in rows if r[1] != 201}),
        "stored": stored,
        "lost": missing,
        "duplicated": stored - (len(set(sent_ids)) - missing),
        "inventories_per_s": round(per_s, 1),
        "p95_latency_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "p50_latency_ms": round(statistics.median(latencies) * 1000, 1),
        "rows_per_s": round(rows_per_s),
        "floor_rows_per_s": round(floor_rows_per_s),
        "vs_floor": round(rows_per_s / floor_rows_per_s, 3),
        "floor_inventory_rows_per_s": round(floor_per_s, 1),
        "vs_inventory_row_floor": round(per_s / floor_per_s, 4),
        "server_cpu_ms_per_inventory": round(cpu_used / max(1, len(rows)) * 1000, 2),
        # The load generator's own cost per upload (it shares the CPUs with the service).
        "agent_cpu_ms_per_upload": round(agents_cpu / max(1, len(rows)) * 1000, 2),
        # What one free core of the service can accept, independent of the machine's other load.
        "server_capacity_per_core_per_s": round(len(rows) / cpu_used, 1) if cpu_used else None,
        "db_cpu_ms_per_inventory": round(db_used / max(1, len(rows)) * 1000, 2) if cluster is not None else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "targets": {"min_inventories_per_s": TARGET_PER_S, "min_vs_floor": TARGET_VS_FLOOR},
        "meets_rate": per_s >= TARGET_PER_S,
        "meets_floor": rows_per_s >= TARGET_VS_FLOOR * floor_rows_per_s,
        "zero_lost_or_duplicated": missing == 0 and stored == len(set(sent_ids)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=8)
    # Long enough that start-up and the machine's other load weigh less on the rate.
    parser.add_argument("--uploads", type=int, default=3000)
    # SQLite serialises writers, so more processes only contend; PostgreSQL overlaps their waits.
    parser.add_argument("--workers-sqlite", type=int, default=2)
    parser.add_argument("--workers-postgresql", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    ok = True
    with tempfile.TemporaryDirectory(prefix="legacyscan-ingest-") as tmp:
        for backend in backends:
            result = run_backend(backend, args, Path(tmp))
            print(json.dumps(result), flush=True)
            ok = ok and result["meets_rate"] and result["meets_floor"] and result["zero_lost_or_duplicated"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
