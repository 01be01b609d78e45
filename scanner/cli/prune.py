"""``legacyscan prune``: apply the retention period to the store (docs/privacy.md).

Exit codes: 0 pruned (or nothing to prune), 1 error, 2 usage (no retention period given).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from scanner.cli.base import CliError, ExitCode, Subparsers, add_common, parse_date, today

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "prune",
        help="delete inventories, findings and scan attempts older than the retention period",
        description="Delete what was collected more than --keep-days (or [retention] keep_days in "
        "legacyscan.toml) before --as-of: older inventories of every host, hosts not "
        "seen since (unless --keep-latest), their findings and old scan attempts.  "
        "UK GDPR storage limitation: see docs/privacy.md.",
        epilog="Example (cron, daily): legacyscan prune --keep-days 400 --as-of $(date +%%F)",
    )
    p.add_argument(
        "--keep-days", type=int, metavar="N", help="keep N days of history (default: [retention] keep_days of --config)"
    )
    p.add_argument(
        "--as-of",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="the day the period is counted back from (default: today)",
    )
    p.add_argument(
        "--keep-latest",
        action="store_true",
        help="keep every host's latest inventory, however old (only history is pruned)",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="legacyscan.toml with [retention] keep_days (default: legacyscan.toml here if present)",
    )
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scanner.cli.common import store_from
    from scanner.store.retention import RetentionConfigError, check_days, cutoff_for, load_keep_days, prune

    try:
        if args.keep_days is not None:
            days = check_days(args.keep_days, "--keep-days")
        else:
            loaded = load_keep_days(args.config)
            if loaded is None:
                raise CliError(
                    "no retention period: give --keep-days N or set [retention] keep_days in legacyscan.toml",
                    hint="e.g. legacyscan prune --keep-days 400 (docs/privacy.md)",
                    code=ExitCode.USAGE,
                )
            days = loaded
    except RetentionConfigError as exc:
        raise CliError(str(exc), hint="see docs/privacy.md (retention)", code=ExitCode.USAGE) from exc
    cutoff = cutoff_for(args.as_of or today(), days)
    with store_from(args) as store:
        result = prune(store, cutoff, keep_latest=args.keep_latest, dry_run=args.dry_run)
    if args.format == "json":
        print(json.dumps(result.to_dict()))
    else:
        verb = "would delete" if result.dry_run else "deleted"
        related = ", ".join(f"{n} {t}" for t, n in sorted(result.related.items()))
        print(
            f"{verb} {result.inventories} inventories, {result.hosts} hosts not seen since {cutoff}, "
            f"{result.scan_status} scan attempts"
            + (f" and related rows ({related})" if related else "")
            + f" collected before {cutoff}",
            file=sys.stdout,
        )
    return int(ExitCode.OK)
