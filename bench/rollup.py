"""Regional roll-up benchmark: two trusts, two collectors, one PostgreSQL, ingest plus report.

The layout docs/region.md recommends: ONE PostgreSQL server, one database per trust, each trust's
own ``legacyscan serve`` writing its database.  ``--devices`` simulated workstations (default
100,000) are split between the two trusts; each is a generated demo PC (``scanner.demo``: real
OS records and software strings, consistent hardware) uploaded as its agent does - a new TLS
connection per upload verifying the run's CA, one gzip HTTP/1.1 POST, under its site's enrolment
token - by ``--agents`` load-generator processes, to both collectors at once.  Then, per trust,
the real report path users run: ``legacyscan report --format json`` and ``legacyscan export
--benchmark``; and at the region ``legacyscan benchmark`` of the two files.

Peer measured in the same run, same server: the ingest floor, ``Store.save_batch`` of the same
inventories straight into a third database on the same PostgreSQL (no HTTP, no TLS, one process,
batches as the collector commits them) - what the store and database alone do.

Prints ONE JSON line.  With 2 shared cores 100,000 uploads take a while: ``--devices 4000`` for a
quick look.

    python bench/rollup.py [--devices 100000] [--agents 6] [--workers 1] [--as-of 2026-11-30]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import pickle
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._measure import measure  # noqa: E402

TRUSTS = (("trust_a", 3, 101), ("trust_b", 4, 202))  # database, sites, demo seed


def cli(*args: str, db: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", *args, "--db", db],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    ).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_status(sock: ssl.SSLSocket) -> int:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed before the response headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")[1:]
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed in the response body")
        body += chunk
    return int(head.split(b" ", 2)[1])


def agent_process(jobs_file: str, ca: str, start: Any, results: Any) -> None:
    """Uploads its share: per upload a new TCP connection, a verified TLS handshake, one POST."""
    with open(jobs_file, "rb") as fh:
        jobs: list[tuple[str, str, str, bytes]] = pickle.load(fh)  # noqa: S301 - our own file
    context = ssl.create_default_context(cafile=ca)
    start.wait()
    out = []
    for url, token, inventory_id, body in jobs:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 443
        head = (
            f"POST /v1/inventories HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Encoding: gzip\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        status = 0
        for _ in range(5):  # a 503 (database busy) is retried as the agent does
            try:
                with socket.create_connection((host, port), timeout=120) as raw:
                    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with context.wrap_socket(raw, server_hostname=host) as sock:
                        sock.sendall(head + body)
                        status = read_status(sock)
            except (OSError, ValueError, IndexError):
                status = 0
            if status in (200, 201):
                break
            time.sleep(1)
        out.append((inventory_id, status))
    results.put(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000, help="simulated devices, both trusts together")
    parser.add_argument("--agents", type=int, default=6, help="load-generator processes")
    parser.add_argument("--workers", type=int, default=1, help="worker processes per collector")
    parser.add_argument("--as-of", default="2026-11-30", help="report date (the demo's collections end here)")
    args = parser.parse_args()

    from agents.wire import compact_json
    from scanner.demo import generate
    from scanner.store.open import open_store
    from tests.integration.postgres import Cluster, _bindir, database_url
    from tests.integration.tls import make_pki

    as_of = date.fromisoformat(args.as_of)
    bindir = _bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = Cluster(bindir)
    cluster.start()
    servers: list[subprocess.Popen[bytes]] = []
    result: dict[str, Any] = {
        "bench": "rollup",
        "devices": args.devices,
        "collectors": 2,
        "agents": args.agents,
        "workers_per_collector": args.workers,
        "as_of": args.as_of,
    }
    try:
        import psycopg

        with psycopg.connect(cluster.url, autocommit=True) as conn:
            for name in ("trust_a", "trust_b", "floor"):
                conn.execute(f'CREATE DATABASE "{name}"')
        tmp = Path(tempfile.mkdtemp(prefix="legacyscan-rollup-"))
        pki = make_pki(tmp / "pki")
        jobs: list[tuple[str, str, str, bytes]] = []
        floor_invs = []
        urls = {}
        t_gen = time.perf_counter()
        for db_name, sites, seed in TRUSTS:
            db = database_url(cluster.url, db_name)
            estate = generate(devices=args.devices // 2, sites=sites, seed=seed, as_of=as_of)
            tokens = {site: cli("tokens", "create", "--site", site, db=db).strip() for site in estate.sites}
            port = free_port()
            urls[db_name] = (db, f"https://127.0.0.1:{port}")
            env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
            servers.append(
                subprocess.Popen(
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
                        db,
                        "--workers",
                        str(args.workers),
                        "--rate-limit",
                        "100000",
                        "--rate-burst",
                        "1000000",
                        "--max-clock-skew",
                        "31536000000",
                    ],
                    cwd=ROOT,
                    env=env,
                    stderr=subprocess.DEVNULL,
                )
            )
            for inv in estate.current:
                inv.collector.transport = "agent"
                body = gzip.compress(compact_json(inv).encode("utf-8"), 6)
                jobs.append((urls[db_name][1], tokens[inv.host.site], inv.inventory_id, body))
            if db_name == "trust_a":
                floor_invs = [inv for inv in estate.current]
        result["generate_s"] = round(time.perf_counter() - t_gen, 1)
        result["packages_per_device_mean"] = round(sum(len(i.software) for i in floor_invs) / max(1, len(floor_invs)))
        import httpx

        for _db, url in urls.values():
            for _ in range(600):
                try:
                    if httpx.get(url + "/healthz", verify=pki.context(), timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        jobs.sort(key=lambda j: j[2])  # interleave the two trusts (ids are random)
        ctx = mp.get_context("spawn")
        start, results = ctx.Event(), ctx.Queue()
        procs = []
        for i in range(args.agents):
            path = tmp / f"jobs-{i}.pickle"
            with open(path, "wb") as fh:
                pickle.dump(jobs[i :: args.agents], fh)
            procs.append(ctx.Process(target=agent_process, args=(str(path), str(pki.ca_cert), start, results)))
        for p in procs:
            p.start()
        time.sleep(2)  # agents load their jobs
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        start.set()
        rows = [r for _ in procs for r in results.get(timeout=36_000)]
        ingest_s = time.perf_counter() - t0
        for p in procs:
            p.join()
        for s in servers:
            s.terminate()
            s.wait(60)
        statuses = sorted({status for _, status in rows})
        stored = 0
        for db, _url in urls.values():
            with open_store(db) as store:
                stored += store.count_inventories()
        result.update(
            {
                "uploads": len(rows),
                "accepted": sum(1 for _, s in rows if s == 201),
                "statuses": statuses,
                "stored": stored,
                "ingest_s": round(ingest_s, 1),
                "ingest_per_s": round(len(rows) / ingest_s, 1),
                "load_average_1m_at_start": round(load0, 2),
                "load_average_1m_after_ingest": round(os.getloadavg()[0], 2),
            }
        )
        # the floor: the same trust-A inventories straight into the store, batches of 64, one process
        floor_db = database_url(cluster.url, "floor")
        t0 = time.perf_counter()
        with open_store(floor_db) as store:
            for i in range(0, len(floor_invs), 64):
                store.save_batch(floor_invs[i : i + 64])
        floor_s = time.perf_counter() - t0
        result["floor_store_per_s"] = round(len(floor_invs) / floor_s, 1)
        result["ingest_vs_floor"] = round(result["ingest_per_s"] / result["floor_store_per_s"], 3)
        # reports: each trust's real report path, then the region's comparison
        files = []
        for db_name, (db, _url) in urls.items():
            env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
            base = [sys.executable, "-m", "scanner.cli"]
            rep = measure(
                [
                    *base,
                    "report",
                    "--format",
                    "json",
                    "--as-of",
                    args.as_of,
                    "--out",
                    str(tmp / f"{db_name}.report.json"),
                    "--db",
                    db,
                ],
                runs=1,
                env=env,
                cwd=str(ROOT),
            )
            out = tmp / f"{db_name}.benchmark.json"
            exp = measure(
                [*base, "export", "--benchmark", "--as-of", args.as_of, "--out", str(out), "--db", db],
                runs=1,
                env=env,
                cwd=str(ROOT),
            )
            result[f"{db_name}_report_json"] = rep
            result[f"{db_name}_export_benchmark"] = exp
            result[f"{db_name}_benchmark_file_bytes"] = out.stat().st_size
            files.append(str(out))
        cmp = measure(
            [
                sys.executable,
                "-m",
                "scanner.cli",
                "benchmark",
                *files,
                "--format",
                "html",
                "--out",
                str(tmp / "region.html"),
            ],
            runs=1,
            cwd=str(ROOT),
        )
        result["region_benchmark_html"] = cmp
        result["report_s_total"] = round(
            sum(result[f"{t}_report_json"]["wall_s"] + result[f"{t}_export_benchmark"]["wall_s"] for t in urls)
            + cmp["wall_s"],
            1,
        )
        result["ingest_plus_report_s"] = round(result["ingest_s"] + result["report_s_total"], 1)
        result["zero_lost"] = stored == len(rows) == args.devices // 2 * 2
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
        result["cpus"] = os.cpu_count()
        result["run_id"] = uuid.uuid4().hex[:8]
    finally:
        for s in servers:
            if s.poll() is None:
                s.kill()
        cluster.stop()
    print(json.dumps(result), flush=True)
    return 0 if result.get("zero_lost") else 1


if __name__ == "__main__":
    sys.exit(main())
