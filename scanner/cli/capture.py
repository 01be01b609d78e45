"""``legacyscan capture``: record a host's raw evidence (its answers to the probe table) as a fixture.

For contributors: a host legacyscan reads wrongly can be captured (this machine with ``--local``,
another over SSH with ``--ssh HOST``) and added under ``tests/fixtures/hosts/``, where
``agents.shell.ReplayShell`` replays it through the same Collector and parsers as a live scan.
Nothing is stored in the database; the fixture's layout is described in ``agents/capture.py``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.cli.base import CliError, ExitCode, Subparsers, parse_seconds
from scanner.cli.ssh_options import add_ssh_options, ssh_config_fields

if TYPE_CHECKING:
    from agents.probes import Evidence

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "capture",
        help="record a host's raw evidence (its answers to the probe table) as a test fixture",
        description="Ask a host every probe of legacyscan's probe table that concerns its platform "
        "(read-only, as a scan does) and write the raw answers to a folder that the test suite replays "
        "through the same parsers: capture.json (provenance), commands.json and files/. Hostname, "
        "machine-id, serial number and platform UUID are left out unless --keep-identifiers. "
        "Review the folder before sharing it: files such as os-release are copied as they are.",
        epilog="Example: legacyscan capture --local --out tests/fixtures/hosts/debian12-mine --note 'Debian 12 "
        "desktop'. Unix hosts only (Windows is collected by one PowerShell script).",
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", action="store_true", help="capture this machine")
    mode.add_argument("--ssh", metavar="HOST", help="capture HOST over SSH (host keys verified as by scan)")
    p.add_argument("--out", required=True, metavar="DIR", help="fixture folder to create (must not exist, or be empty)")
    p.add_argument("--note", default="", help="what the host is, recorded in capture.json")
    p.add_argument(
        "--keep-identifiers",
        action="store_true",
        help="also record the probes that identify the machine (hostname, machine-id, serial number, "
        "platform UUID) and the SSH target's name",
    )
    p.add_argument(
        "--timeout", type=parse_seconds, default=120.0, metavar="SEC", help="per-command timeout (default 120)"
    )
    g = p.add_argument_group("SSH (--ssh)")
    g.add_argument("--port", type=int, default=22, help="SSH port (default 22)")
    add_ssh_options(g)
    p.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="accepted like every command's, but unused: a capture is written to --out, not the database",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agents.capture import CaptureError, provenance, write_fixture
    from agents.collect import AGENT_VERSION, utc_now
    from agents.probes import PLATFORM_NAMES, capture
    from agents.shell import LocalShell, ShellError

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CliError(f"--out {out} already exists and is not an empty folder", code=ExitCode.USAGE)
    if args.ssh and not 0 < args.port < 65536:
        raise CliError(f"--port {args.port}: not a TCP port", code=ExitCode.USAGE)
    captured_at = utc_now()  # provenance: when the evidence was read (the Collector's clock; no logic uses it)
    evidence: Evidence
    try:
        if args.local:
            evidence = capture(LocalShell(), timeout=args.timeout, keep_identifiers=args.keep_identifiers)
        else:
            evidence = _capture_ssh(args)
    except ShellError as exc:
        raise CliError(f"cannot capture {args.ssh or 'this machine'}: {exc}") from exc
    if evidence.platform not in PLATFORM_NAMES:
        raise CliError(
            f"platform {evidence.platform or 'unknown'!r}: the probe table covers Linux, macOS, AIX, Solaris and "
            "the BSDs (Windows hosts are collected by one PowerShell script)"
        )
    meta = provenance(
        evidence,
        captured_at=captured_at,
        version=AGENT_VERSION,
        transport="local" if args.local else "ssh",
        target=args.ssh if args.ssh and args.keep_identifiers else "",
        note=args.note,
    )
    try:
        write_fixture(out, evidence, meta)
    except (CaptureError, OSError) as exc:
        raise CliError(f"cannot write the fixture: {exc}") from exc
    for problem in evidence.problems:
        log.warning("probe %s", problem)
    log.info(
        "captured %s: %d commands, %d files (left out: %s) in %s",
        evidence.platform,
        len(evidence.commands),
        len(evidence.files),
        ", ".join(evidence.left_out) or "nothing",
        out,
    )
    return int(ExitCode.ERROR if evidence.problems else ExitCode.OK)


def _capture_ssh(args: argparse.Namespace) -> Evidence:
    """The host's answers over one SSH session, host key verified as by ``scan`` (one round trip for
    the batched rows, as a scan)."""
    from agents.probes import capture
    from scanner.collect.config import ScanConfig
    from scanner.collect.executors import SshConnector
    from scanner.targets import Target

    config = ScanConfig(**ssh_config_fields(args))
    connector = SshConnector(config)
    try:
        with connector.open(Target(host=args.ssh, port=args.port)) as shell:
            return capture(shell, timeout=args.timeout, keep_identifiers=args.keep_identifiers)
    finally:
        connector.close()
