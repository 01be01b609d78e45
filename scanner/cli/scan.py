"""``legacyscan scan``: collect inventories (this machine, or a fleet) and store them."""

from __future__ import annotations

import argparse
import logging

from scanner.cli import CliError, ExitCode, add_common
from scanner.cli.common import store_from
from scanner.cli.report import add_report_options, render_and_write

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="scan this machine (--local) or a list of targets (--targets)",
                       description="Collect OS and installed-software inventories read-only, store them, "
                                   "and print the report for what was scanned.")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", action="store_true", help="scan this machine")
    mode.add_argument("--targets", metavar="FILE", help="targets file: CSV, TOML, Ansible INI or CIDR list")
    p.add_argument("--site", default="", help="site name recorded with the host(s)")
    p.add_argument("--tag", action="append", default=[], dest="tags", help="tag recorded with the host (repeatable)")
    p.add_argument("--no-report", action="store_true", help="store only; print no report")
    add_report_options(p)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.local:
        return run_local(args)
    return run_targets(args)


def run_local(args: argparse.Namespace) -> int:
    from agents.collect import Collector
    from agents.shell import LocalShell

    inv = Collector(LocalShell(), site=args.site, tags=args.tags).collect()
    for problem in inv.problems:
        log.warning("probe %s: %s", problem.probe, problem.message)
    with store_from(args) as store:
        store.save_inventory(inv)
    log.info("stored inventory %s for %s (%d packages)", inv.inventory_id, inv.host.hostname, len(inv.software))
    if args.no_report:
        return int(ExitCode.OK)
    return render_and_write(args, [inv], [])


def run_targets(args: argparse.Namespace) -> int:
    raise CliError("fleet scanning (--targets) is not available in this build", hint="use --local")
