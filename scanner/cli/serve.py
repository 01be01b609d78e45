"""``legacyscan serve``: run the collector service agents upload to (uvicorn + Starlette)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys

from scanner.cli.base import CliError, ExitCode, Subparsers, add_common
from scanner.service.server import CONFIG_ENV, ServerConfig, tls_context

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "serve",
        help="run the collector service agents upload inventories to",
        description="Accept agent uploads on POST /v1/inventories (per-site enrolment tokens; "
        "create them with `legacyscan tokens create --site S`).",
    )
    p.add_argument(
        "--listen", default="127.0.0.1:8443", metavar="HOST:PORT", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--tls-cert", metavar="FILE", help="TLS certificate chain (PEM)")
    p.add_argument("--tls-key", metavar="FILE", help="TLS private key (PEM)")
    p.add_argument(
        "--allow-http",
        action="store_true",
        help="serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)",
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    p.add_argument(
        "--max-body",
        type=int,
        default=8 * 1024 * 1024,
        metavar="BYTES",
        help="largest accepted request body (default: %(default)s)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=2.0,
        metavar="PER_SECOND",
        help="sustained uploads per token and worker (default: %(default)s)",
    )
    p.add_argument(
        "--rate-burst",
        type=int,
        default=600,
        metavar="N",
        help="uploads a token may make in a burst (default: %(default)s)",
    )
    p.add_argument(
        "--max-clock-skew",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="how far an upload's collected_at may be ahead of this server's clock (default: %(default)s)",
    )
    p.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time for a request's headers to arrive (default: %(default)s)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time for a request's body to arrive (default: %(default)s)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=1000,
        metavar="N",
        help="open connections per worker before requests are answered 503 (default: %(default)s)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="legacyscan.toml whose [privacy] table hashes or drops serial numbers and user SIDs of "
        "every upload before it is stored (default: legacyscan.toml here if present)",
    )
    p.add_argument("--http", choices=("httptools", "h11"), default=None, help=argparse.SUPPRESS)  # tests: both
    add_common(p)
    p.set_defaults(func=run)


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"--listen must be HOST:PORT, not {value!r}", code=ExitCode.USAGE)
    return host.strip("[]") or "127.0.0.1", int(port)


def store_url_for_humans(url: str) -> str:
    from scanner.store.postgres import redact

    return redact(url)


def check_port_free(host: str, port: int) -> None:
    """Fail before saying "listening" when the address is taken (another collector, another
    service): a clear error and exit code 1, not a traceback or uvicorn's own exit code."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc}", hint="check the host in --listen") from exc
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(addr)
        except OSError as exc:
            raise CliError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="another process holds this port (`ss -ltnp`); stop it or choose another --listen port",
            ) from exc


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_tls(args: argparse.Namespace, host: str) -> None:
    """Certificate and key together and readable; plain HTTP only on loopback or with --allow-http."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("--tls-cert and --tls-key go together", code=ExitCode.USAGE)
    for path in (args.tls_cert, args.tls_key):
        if path and not os.path.isfile(path):
            raise CliError(f"cannot read {path}", hint="give the PEM files of the server certificate and key")
    if not args.tls_cert and not _loopback(host) and not args.allow_http:
        raise CliError(
            f"refusing to serve plain HTTP on {host}: agents' tokens would cross the network in clear",
            hint="give --tls-cert/--tls-key, or --allow-http behind a TLS-terminating proxy",
            code=ExitCode.USAGE,
        )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from scanner.service.protocol import DEFAULT_PROTOCOL, PROTOCOLS

    host, port = parse_listen(args.listen)
    _check_tls(args, host)
    if args.workers < 1:
        raise CliError("--workers must be at least 1", code=ExitCode.USAGE)
    config = ServerConfig(
        db_url=args.db,
        max_body=args.max_body,
        max_decoded=max(4 * args.max_body, args.max_body),
        rate_per_second=args.rate_limit,
        rate_burst=args.rate_burst,
        max_clock_skew=args.max_clock_skew,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_connections=args.max_connections,
    )
    from scanner.cli.common import privacy_from

    privacy = privacy_from(args)  # a bad [privacy] table or key file fails now, not in a worker
    if privacy.source:
        config.config_file = os.path.abspath(privacy.source)
    check_port_free(host, port)  # before the store: a collector that cannot listen creates no database
    # Open (and migrate) once here, so a bad --db fails now with a clear message, not in a worker.
    from scanner.cli.common import store_from

    store_from(args).close()
    os.environ[CONFIG_ENV] = config.to_env()
    print(
        f"legacyscan: collector listening on {'https' if args.tls_cert else 'http'}://{host}:{port} "
        f"(database {store_url_for_humans(args.db)}; {args.workers} worker(s))",
        file=sys.stderr,
    )
    try:
        uvicorn.run(
            "scanner.service.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            ssl_certfile=args.tls_cert,
            ssl_keyfile=args.tls_key,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=10,
            http=PROTOCOLS[args.http or DEFAULT_PROTOCOL],
            limit_concurrency=config.max_connections,
            ssl_context_factory=tls_context if args.tls_cert else None,
        )
    except SystemExit as exc:  # uvicorn exits on a start-up failure: never the findings code (3)
        if exc.code not in (0, None):
            raise CliError(
                f"the collector could not start on {host}:{port} (uvicorn exit code {exc.code})",
                hint="see the messages above; check --listen, the TLS files and --db",
            ) from None
    return int(ExitCode.OK)
