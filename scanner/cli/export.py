"""``legacyscan export --benchmark``: the anonymised benchmark file of this organisation.

The same judgement as ``legacyscan report`` (store -> match -> rank, with the site catalogue, the
configuration and the exception register), reduced to comparable aggregates per site
(``scanner.report.benchmark_export``; format in docs/benchmark.md).  Nothing per device leaves.

Exit codes: 0 written, 1 error (no data, unreadable inputs), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging

from scanner.cli.base import CliError, ExitCode, Subparsers, add_common, parse_date, today

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "export",
        help="write an anonymised benchmark file of comparable KPIs per site",
        description="Write this organisation's benchmark file: counts, shares and medians per "
        "site (unsupported OS, days past end, Windows 11 readiness, coverage), the "
        "dataset version and the ODS code ([site] ods_code in the site catalogue). "
        "No hostnames, addresses, serials or users. Compare files with "
        "`legacyscan benchmark FILES...`.",
        epilog="Format: docs/benchmark.md (schema legacyscan-benchmark/1).",
    )
    p.add_argument("--benchmark", action="store_true", help="export the benchmark file (the one export kind)")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--as-of", type=parse_date, metavar="YYYY-MM-DD", help="judge support status on this date (default: today)"
    )
    p.add_argument(
        "--site-catalog",
        metavar="FILE",
        help="site catalogue TOML (entitlements, ods_code); default legacyscan-site.toml if present",
    )
    p.add_argument("--exceptions", metavar="FILE", help="exception register (accepted findings are counted apart)")
    p.add_argument("--config", metavar="FILE", help="report configuration TOML (default legacyscan.toml if present)")
    p.add_argument(
        "--anonymise-sites",
        action="store_true",
        help="name sites 'Site 1', 'Site 2'... instead of their names (e.g. a practice named after a person)",
    )
    add_common(p)
    p.set_defaults(func=run, fail_on=None, format="json", bom=None)


_NOTHING_STORED_HINT = (
    "run `legacyscan scan`, `legacyscan import` or an agent first; `legacyscan demo` makes an example estate"
    "; check --db"
)


def run(args: argparse.Namespace) -> int:
    from scanner.cli.common import no_inventories, read_store_from, site_context, write_file
    from scanner.cli.report import build_estate_report, load_inputs
    from scanner.report.benchmark_export import build

    if not args.benchmark:
        raise CliError("nothing to export", hint="legacyscan export --benchmark [--out FILE]", code=ExitCode.USAGE)
    load_inputs(args)  # a bad register or config is reported before anything else is done
    _ctx, _policy, site = site_context(args)
    args.as_of = args.as_of or today()
    with read_store_from(args, _NOTHING_STORED_HINT) as store:
        inventories = store.latest_inventories()
        statuses = store.statuses() if hasattr(store, "statuses") else []
        lister = getattr(store, "sites", None)
        known = sorted(set(lister()) | {s.site for s in statuses}) if lister is not None else None
    if not inventories and not statuses:
        raise no_inventories(args, _NOTHING_STORED_HINT)
    report = build_estate_report(args, inventories, statuses, None, known)
    doc = build(report, ods_code=site.ods_code if site is not None else "", anonymise_sites=args.anonymise_sites)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if args.out and args.out != "-":
        write_file(args.out, text)
        log.info(
            "benchmark file written to %s (%d sites, %d devices)", args.out, len(doc["sites"]), doc["totals"]["devices"]
        )
    else:
        print(text, end="")
    return int(ExitCode.OK)
