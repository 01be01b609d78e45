"""``legacyscan discover``: identify what each address runs without credentials, store it, report it.

Targets are read by ``scanner.targets`` with the discovery transports (ssh, smb, snmp, http,
https, rdp, or ``any`` = all of them on their default ports, the default for a line that names
none).  SNMP credentials come from the environment or the ``--credentials`` file only.
"""

from __future__ import annotations

import argparse
import logging

from scanner.cli.base import CliError, ExitCode, Subparsers, add_common, parse_rate
from scanner.cli.report import add_report_options, render_and_write

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "discover",
        help="identify devices without credentials (ssh, smb, snmp, http(s), rdp)",
        description="Identify what each address runs from what its services announce, without "
        "logging in: one connection per service, no vulnerability probes, no writes "
        "(docs/discovery.md lists every byte sent).  Discovered hosts are stored and "
        "reported like inventoried ones, marked as discovered.",
    )
    p.add_argument(
        "--targets",
        metavar="FILE",
        required=True,
        help="targets: CSV (host,site,transport,port,tags; transport ssh|smb|snmp|http|https|rdp|any), "
        "TOML, or one host / CIDR range per line",
    )
    p.add_argument("--site", default="", help="site for targets whose file names none")
    p.add_argument("--tag", action="append", default=[], dest="tags", help="tag recorded with the hosts (repeatable)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=32,
        metavar="N",
        help="addresses probed at once (default 32); one address's services are probed one at a time",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SEC",
        help="time budget of one probe: name lookup, connect, send, read (default 5); a host name's "
        "lookup never waits longer either",
    )
    p.add_argument("--window", metavar="HH:MM-HH:MM", help="only start addresses inside this daily window, local time")
    p.add_argument("--site-rate", type=parse_rate, metavar="N", help="at most N new connections per second per site")
    p.add_argument(
        "--exclude",
        metavar="FILE",
        help="addresses, CIDR ranges, host names or tag:NAME lines never "
        "probed (targets tagged medical-device or do-not-probe are always excluded)",
    )
    p.add_argument("--exclude-tag", action="append", default=[], metavar="TAG", help="another tag never probed")
    p.add_argument(
        "--credentials",
        metavar="FILE",
        help="TOML credentials file (mode 0600): [snmp] community, [snmp.v3] user/auth_key/priv_key; "
        "or set LEGACYSCAN_SNMP_COMMUNITY",
    )
    p.add_argument("--no-report", action="store_true", help="store only; print no report")
    add_report_options(p)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from agents.names import NameLookups
    from scanner.cli.common import store_from
    from scanner.collect.config import ScanWindow
    from scanner.discover import exclusions as excl
    from scanner.discover.base import ProbeSettings
    from scanner.discover.engine import DiscoverConfig, Discoverer
    from scanner.discover.registry import PROBES
    from scanner.discover.snmp import SnmpCredentialError, load_credentials
    from scanner.targets import DISCOVERY_KINDS, TargetError, load_targets

    if args.concurrency < 1:
        raise CliError("--concurrency must be at least 1", code=ExitCode.USAGE)
    if not 0 < args.timeout <= 120:
        raise CliError("--timeout must be between 0 and 120 seconds", code=ExitCode.USAGE)
    if args.site_rate is not None and args.site_rate <= 0:
        raise CliError("--site-rate must be positive", code=ExitCode.USAGE)
    try:
        targets = load_targets(args.targets, site=args.site, kinds=DISCOVERY_KINDS)
        exclusions = excl.load(args.exclude, args.exclude_tag)
    except TargetError as exc:
        raise CliError(
            str(exc),
            hint="targets: CSV with header host,site,transport,port,tags (transport one of "
            "ssh, smb, snmp, http, https, rdp, any); TOML; or one host / CIDR range per line",
        ) from exc
    # Every name lookup of the run (excluded names here, target names in the Discoverer) is bounded
    # by --timeout and --concurrency, and each name is looked up once.
    names = NameLookups(args.timeout, args.concurrency)
    names.lookup_all(exclusions.names)
    for name in exclusions.resolve_names(lambda n: names.lookup(n).addresses):
        lookup = names.known(name)
        timed_out = lookup is not None and lookup.timed_out
        log.warning(
            "excluded host name %s %s: it is excluded by name only, and an address of it in "
            "a target range would be probed; list its address too",
            name,
            f"did not resolve within --timeout ({lookup.reason})" if lookup and timed_out else "does not resolve",
        )
    if args.tags:
        targets = [replace(t, tags=tuple(sorted(set(t.tags) | set(args.tags)))) for t in targets]
    if not targets:
        raise CliError(f"{args.targets}: no targets in the file")
    try:
        window = ScanWindow.parse(args.window) if args.window else None
    except ValueError as exc:
        raise CliError(str(exc), code=ExitCode.USAGE) from exc
    try:
        community, v3 = load_credentials(args.credentials)
    except SnmpCredentialError as exc:
        raise CliError(str(exc), hint="chmod 600 the credentials file; see docs/discovery.md") from exc
    if any(t.transport == "snmp" for t in targets) and not (community or v3):
        log.warning(
            "SNMP targets listed but no SNMP credentials: they are skipped (set LEGACYSCAN_SNMP_COMMUNITY "
            "or [snmp] in --credentials)"
        )
    settings = ProbeSettings(timeout=args.timeout, snmp_community=community, snmp_v3=v3)
    config = DiscoverConfig(concurrency=args.concurrency, window=window, site_rate=args.site_rate)
    with store_from(args) as store:
        summary = Discoverer(store, settings, config, PROBES, exclusions, names=names).run(targets)
    log.warning(
        "discovered %d of %d addresses in %.1fs (%d silent, %d excluded, %d connections)",
        summary.identified,
        summary.addresses,
        summary.seconds,
        summary.silent,
        summary.excluded,
        summary.connections,
    )
    if summary.window_closed:
        log.warning("scan window %s closed: remaining addresses not started; run again inside the window", window)
    if summary.interrupted:
        return 130
    if args.no_report:
        return int(ExitCode.OK)
    return render_and_write(args, summary.inventories, summary.statuses)
