"""``legacyscan report``: judge the latest inventory of every host and render the result."""

from __future__ import annotations

import argparse
import importlib
import logging

from agents.inventory import Inventory
from scanner import __version__
from scanner.cli import CliError, ExitCode, add_common, parse_date, today
from scanner.cli.common import context_and_policy, output, store_from
from scanner.match import match_estate
from scanner.model import Status
from scanner.rank import EstateReport, build_report
from scanner.store import HostStatus

log = logging.getLogger(__name__)

# Renderers by format name: module in ``reports`` with ``render(report) -> str | bytes``.
FORMATS: dict[str, str] = {
    "table": "reports.table",
    "csv": "reports.csv",
    "json": "reports.json",
    "xlsx": "reports.xlsx",
    "html": "reports.html",
}
BINARY_FORMATS = {"xlsx"}


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=list(FORMATS), default="table", help="output format (default: table)")
    parser.add_argument("--out", metavar="PATH", help="write the report here instead of stdout")
    parser.add_argument("--as-of", type=parse_date, metavar="YYYY-MM-DD",
                        help="judge support status on this date (default: today)")
    parser.add_argument("--fail-on", choices=[Status.EOL.value, Status.EXTENDED.value, Status.ENDING_SOON.value],
                        help="exit with code 3 when any finding is at or above this status")
    parser.add_argument("--site-catalog", metavar="FILE",
                        help="site catalogue TOML (clinical apps, own rules, entitlements); "
                             "default legacyscan-site.toml if present")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="report support status per site from stored inventories",
                       description="Judge the latest inventory of every host on a date and write a "
                                   "prioritised report (table, csv, json, xlsx or html).")
    p.add_argument("--site", help="only this site")
    add_report_options(p)
    add_common(p)
    p.set_defaults(func=run)


def render_and_write(args: argparse.Namespace, inventories: list[Inventory], statuses: list[HostStatus]) -> int:
    """Shared by ``report`` and ``scan`` (which prints the report of what it just scanned)."""
    as_of = args.as_of or today()
    ctx, policy = context_and_policy(args)
    results = match_estate(inventories, ctx, as_of, policy)
    report = build_view(args, results, statuses, as_of, ctx.catalog.version)
    fmt = args.format
    try:
        module = importlib.import_module(FORMATS[fmt])
    except ImportError as exc:
        raise CliError(f"report format {fmt!r} is not available: {exc}") from exc
    rendered = module.render(report)
    if fmt in BINARY_FORMATS:
        if not args.out:
            raise CliError(f"--format {fmt} writes a binary file", hint=f"add --out report.{fmt}",
                           code=ExitCode.USAGE)
        from pathlib import Path

        tmp = Path(args.out).with_name(f".{Path(args.out).name}.tmp")
        tmp.write_bytes(rendered)
        tmp.replace(args.out)
    else:
        with output(args.out) as fh:
            fh.write(rendered)
    if args.out:
        log.warning("report written to %s", args.out)
    if args.fail_on:
        threshold = Status(args.fail_on).severity
        if any(f.status.severity >= threshold for f in report.all_findings()):
            return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)


def build_view(args: argparse.Namespace, results: list, statuses: list[HostStatus],  # type: ignore[type-arg]
               as_of: object, dataset_version: str) -> EstateReport:
    return build_report(results, statuses, as_of, dataset_version, __version__)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    with store_from(args) as store:
        inventories = store.latest_inventories(args.site)
        statuses = store.statuses(args.site) if hasattr(store, "statuses") else []
    if not inventories and not statuses:
        raise CliError("no inventories stored yet" + (f" for site {args.site!r}" if args.site else ""),
                       hint="run `legacyscan scan --local`, `legacyscan scan --targets FILE` or "
                            "`legacyscan import PATH`")
    return render_and_write(args, inventories, statuses)
