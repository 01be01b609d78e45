"""``legacyscan demo``: a labelled demo estate in its own database, and every report format.

A newcomer runs one command and opens ``DIR/report.html``.  The demo never touches the user's
database (it writes ``DIR/demo.db``, replacing an earlier demo database there) and every output
says it is demo data.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from scanner import __version__
from scanner.cli.base import CliError, ExitCode, Subparsers, default_db, parse_date, today
from scanner.cli.common import context_and_policy, write_file
from scanner.cli.report import demo_banner, previous_scan, render_report, with_bom, write_rendered
from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, DEMO_ORGANISATION, generate
from scanner.judge.match import match_estate
from scanner.judge.timeline import Judge
from scanner.plan.config import load_config
from scanner.plan.risk_register import load as load_exceptions
from scanner.report.build import build_report
from scanner.report.formats import ReportFormat
from scanner.store.sqlite import SqliteStore

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "demo",
        help="build a labelled demo hospital estate and write every report format",
        description="Generate a realistic, clearly labelled demo estate (about 2,000 devices on "
        "three sites) from the bundled real host captures, store it in DIR/demo.db "
        "and write the report in every format into DIR.",
    )
    p.add_argument("--out", default="legacyscan-demo", metavar="DIR", help="output folder (default: %(default)s)")
    p.add_argument("--devices", type=int, default=2000, metavar="N", help="number of devices (default: 2000)")
    p.add_argument("--sites", type=int, default=3, metavar="N", help="number of sites, 1-8 (default: 3)")
    p.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default: 7)")
    p.add_argument("--as-of", type=parse_date, metavar="YYYY-MM-DD", help="report date (default: today)")
    p.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="accepted like every command's, but the demo never touches your database: it always writes DIR/demo.db",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if getattr(args, "db", None) not in (None, default_db()):
        log.warning("the demo writes its own database %s; --db %s is not used", out / "demo.db", args.db)
    as_of = args.as_of or today()
    if not 1 <= args.devices <= 100_000:
        raise CliError("--devices must be between 1 and 100000", code=ExitCode.USAGE)
    try:
        estate = generate(devices=args.devices, sites=args.sites, seed=args.seed, as_of=as_of)
    except ValueError as exc:
        raise CliError(str(exc), code=ExitCode.USAGE) from exc
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{db}{suffix}")
        if old.exists():
            old.unlink()
    exceptions_path, config_path = out / "exceptions.toml", out / "legacyscan.toml"
    write_file(exceptions_path, DEMO_EXCEPTIONS)  # atomic, never through a planted link
    write_file(config_path, DEMO_CONFIG)
    ctx, policy = context_and_policy(argparse.Namespace(site_catalog=None))
    store = SqliteStore(str(db))
    store.use_judge(Judge(ctx, policy))  # findings persisted as the estate is stored
    try:
        store.save_batch(estate.previous)
        store.save_batch(estate.current)
        for status in estate.statuses:
            store.record_status(status)
        inventories = store.latest_inventories()
        statuses = store.statuses()
        previous = previous_scan(store, inventories, None)
    finally:
        store.close()
    cfg = load_config(config_path)
    cfg.organisation = DEMO_ORGANISATION  # a real trust's name comes from its site catalogue
    register = load_exceptions(exceptions_path)
    results = match_estate(inventories, ctx, as_of, policy)
    prev_as_of = max(i.collected_at for i in previous)[:10] if previous else None
    from datetime import date

    prev_date = date.fromisoformat(prev_as_of) if prev_as_of else None
    prev_results = match_estate(previous, ctx, prev_date, policy) if prev_date else None
    report = build_report(
        results,
        statuses,
        as_of,
        policy.dataset_version(ctx.catalog.version),
        __version__,
        config=cfg,
        register=register,
        previous=prev_results,
        previous_as_of=prev_date,
        demo=demo_banner(estate.sites),
    )
    written = []
    for fmt in ReportFormat:
        path = out / f"report.{fmt.extension}"
        write_rendered(with_bom(render_report(report, fmt), fmt, str(path), None), str(path), fmt)
        written.append(path)
    if not args.quiet:
        print(
            f"DEMO estate: {len(inventories)} devices on {len(estate.sites)} sites "
            f"({estate.software_rows:,} software entries), seed {args.seed}, as of {as_of.isoformat()}"
        )
        print(f"  database:   {db}")
        print(f"  exceptions: {exceptions_path}\n  config:     {config_path}")
        for path in written:
            print(f"  report:     {path}")
        print(
            f"Open {out / 'report.html'} in a browser.  To re-render: legacyscan report "
            f"--db sqlite:///{db} --exceptions {exceptions_path} --config {config_path} --format html "
            f"--out report.html"
        )
    return int(ExitCode.OK)
