"""``legacyscan eol``: the EOL knowledge commands -- identify, info, show, update.

``eol identify`` is a contract other tools depend on (ARCHITECTURE.md): JSON Lines in, exactly one
JSON line out per input line, in order, flushed as soon as the input that is available has been
answered, so it works both as a bulk filter and as a pipe co-process.  Bad lines are answered
with ``{"error": "..."}`` and the run goes on.  An empty (or whitespace-only) line is malformed
input and is answered with an error line too: a caller that counts lines must never drift.

``eol show`` lists a product's cycles with their dates, the tier labels (what "eol" *means* for
that product) and the status computed for ``--as-of``; ``--explain RECORD`` explains one verdict.
``eol update`` is the only online path (``eol_data/update.py``) and reports what changed,
including the verdicts that would flip for the stored estate.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date
from typing import Any

from eol_data import update as eol_update
from eol_data.catalog import (
    BUNDLED_DIR,
    Catalog,
    CatalogError,
    PhaseEnd,
    Product,
    Release,
    default_snapshot_dir,
    load_default,
)
from eol_data.site import SiteCatalog, SiteCatalogError, find_site_catalog, load_site_catalog
from scanner.cli.base import CliError, ExitCode, add_common, parse_date, today
from scanner.identify.explain import dataset_info, explanation, release_row
from scanner.model import Identification, Policy
from scanner.terminal import printable


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eol",
        help="EOL dataset: identify records, show products, refresh the data",
        description="End-of-life knowledge: identify inventory records (JSON Lines), show what the dataset "
        "says about a product, and refresh the dataset from endoflife.date or a site mirror.",
    )
    sub = parser.add_subparsers(dest="eol_command", metavar="SUBCOMMAND")
    sub.required = True

    p = sub.add_parser(
        "identify",
        help="JSON Lines records on stdin -> one verdict line each on stdout",
        description="Read JSON Lines records (kind os|software) on stdin and write exactly one JSON "
        "line per input line, in order: {product, cycle, status, eol, rule, reason}. "
        'A malformed or empty line yields {"error": ...} and the run goes on.',
    )
    _add_as_of(p)
    _add_site(p)
    add_common(p)
    p.set_defaults(func=run_identify)

    p = sub.add_parser("info", help="which dataset is loaded, from where, how big")
    _add_site(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_common(p)
    p.set_defaults(func=run_info)

    p = sub.add_parser(
        "show",
        help="every cycle of a product with dates and status; or --explain a record",
        description="Show a product's cycles with their dates, what each tier means for it, and the "
        "status on --as-of.  With --explain RECORD (a JSON record as given to "
        "`eol identify`, or - for stdin) explain that record's verdict instead.",
    )
    p.add_argument("product", nargs="?", metavar="PRODUCT", help="product slug or alias, e.g. windows-server")
    p.add_argument("--explain", metavar="RECORD", help="explain the verdict for this JSON record ('-' = stdin)")
    _add_as_of(p)
    _add_site(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_common(p)
    p.set_defaults(func=run_show)

    p = sub.add_parser(
        "update",
        help="refresh the dataset from endoflife.date (or a mirror) and show what changed",
        description="Download the endoflife.date API v1 full product list, validate it, replace the "
        "local snapshot atomically (the previous one is kept if anything fails) and "
        "report what changed, including verdicts that would flip for the stored estate.",
    )
    p.add_argument(
        "--source",
        default=os.environ.get(eol_update.ENV_SOURCE, eol_update.DEFAULT_SOURCE),
        metavar="URL",
        help="API v1 base URL or file:// directory of a site mirror "
        f"(default: %(default)s; env {eol_update.ENV_SOURCE})",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=eol_update.DEFAULT_TIMEOUT,
        metavar="SEC",
        help="per network operation (connect, each read); default %(default)s",
    )
    p.add_argument("--max-bytes", type=int, default=eol_update.MAX_BYTES, help=argparse.SUPPRESS)
    p.add_argument(
        "--max-time",
        type=_positive_float,
        default=eol_update.MAX_TOTAL_TIME,
        metavar="SEC",
        help="give up when the whole download (retries included) takes longer (default %(default)g)",
    )
    p.add_argument("--force", action="store_true", help="ignore the stored ETag and download in full")
    p.add_argument(
        "--keep",
        type=int,
        default=3,
        metavar="N",
        help="previous snapshots to keep for `report --dataset VERSION` (default: %(default)s; 0 keeps none)",
    )
    _add_as_of(p, "date for the verdicts-that-would-flip comparison (default: today)")
    _add_site(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_common(p)
    p.set_defaults(func=run_update)

    p = sub.add_parser(
        "rejudge",
        help="judge the stored inventories again with this release's rules and the live dataset",
        description="Refresh the findings stored for the live dataset: judge every stored inventory the "
        "dataset has not judged, and judge again (replacing its findings of that dataset, other datasets' "
        "stay) every one judged by another legacyscan release or other rules files -- after an upgrade "
        "that fixes a verdict, so the BI views and every report read the fixed findings. Offline; "
        "`eol update` does the same after a new dataset.",
    )
    _add_site(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_common(p)
    p.set_defaults(func=run_rejudge)


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatch happens through set_defaults
    return int(args.func(args))


def _add_as_of(p: argparse.ArgumentParser, text: str = "judge support status on this date (default: today)") -> None:
    p.add_argument("--as-of", type=parse_date, default=None, metavar="YYYY-MM-DD", help=text)


def _add_site(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--site-catalog",
        metavar="FILE",
        default=None,
        help="site catalogue TOML (default: $LEGACYSCAN_SITE_CATALOG, else ./legacyscan-site.toml if present)",
    )


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from exc
    if not 0 < number <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return number


# -- wiring --------------------------------------------------------------------------------------


def _site(args: argparse.Namespace) -> SiteCatalog | None:
    try:
        path = find_site_catalog(getattr(args, "site_catalog", None))
        return load_site_catalog(path) if path else None
    except SiteCatalogError as exc:
        raise CliError(str(exc), hint="fix the site catalogue (see docs/site-catalogue.md)") from exc


def _context(args: argparse.Namespace, cat: Catalog | None = None) -> tuple[Any, Policy, SiteCatalog | None]:
    """IdentifyContext + Policy, with the site catalogue installed when there is one."""
    from scanner.identify import site_rules
    from scanner.identify.registry import IdentifyContext

    site = _site(args)
    try:
        if cat is None:
            # Site products are added to the catalog as an overlay: give them a private catalog so
            # the process-wide default never carries one command's site data into another.
            cat = Catalog() if site is not None else load_default()
    except CatalogError as exc:
        raise CliError(str(exc), hint="reinstall legacyscan, or run `legacyscan eol update`") from exc
    ctx = IdentifyContext(cat)
    policy = Policy()
    if site is not None:
        try:
            policy = site_rules.install(ctx, site)
        except SiteCatalogError as exc:
            raise CliError(str(exc), hint="fix the site catalogue (see docs/site-catalogue.md)") from exc
    return ctx, policy, site


# -- identify ------------------------------------------------------------------------------------


def run_identify(args: argparse.Namespace) -> int:
    from scanner.identify.answers import Evaluation, Remembered, identify_stream

    ctx, policy, _site_cat = _context(args)
    answers = Remembered(Evaluation(ctx, args.as_of or today(), policy))
    identify_stream(sys.stdin.buffer, sys.stdout.buffer, answers.answer)
    return int(ExitCode.OK)


# -- info ----------------------------------------------------------------------------------------


def run_info(args: argparse.Namespace) -> int:
    ctx, policy, site = _context(args)
    info = dataset_info(ctx.catalog, policy, site)
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return int(ExitCode.OK)
    rows = _info_rows(info) + [_site_row(site), _policy_row(policy)]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        _say(f"{key + ':':<{width + 1}} {value}")
    return int(ExitCode.OK)


def _info_rows(info: dict[str, Any]) -> list[tuple[str, str]]:
    sup = info["supplementary"]
    return [
        ("Dataset", info["dataset_version"]),
        ("Generated", info["generated_at"]),
        ("Flags as of", f"{info['flags_as_of']} (legacyscan recomputes status for every --as-of)"),
        (
            "Source",
            info["source"]
            + (f" {info['source_url']}" if info["source_url"] else "")
            + (f" (fetched {info['fetched_at']})" if info["fetched_at"] else ""),
        ),
        ("Loaded from", f"{info['loaded_from']} ({info['loaded_from_kind']})"),
        ("Products", f"{info['products']} ({info['releases']} release cycles)"),
        (
            "Supplementary",
            f"{sup['products']} products, {sup['releases']} release cycles"
            + (f" (version {sup['version']})" if sup["version"] else ""),
        ),
    ]


def _site_row(site: SiteCatalog | None) -> tuple[str, str]:
    if site is None:
        return "Site catalogue", "none (see docs/site-catalogue.md)"
    summary = site.summary()
    return (
        "Site catalogue",
        f"{summary['path']}: {summary['products']} products, {summary['rules']} "
        f"rules, {len(site.entitlements)} entitlements"
        + (f"; {summary['example_dates']} EXAMPLE dates still to replace" if summary["example_dates"] else ""),
    )


def _policy_row(policy: Policy) -> tuple[str, str]:
    return (
        "Policy",
        f"lookahead {policy.lookahead_days} days; entitlements: "
        f"{', '.join(sorted(policy.entitlements)) or 'none'}; free extended phases: "
        f"{', '.join(sorted(policy.free_extended)) or 'none'}",
    )


# -- show ----------------------------------------------------------------------------------------


def _phase(value: PhaseEnd) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "ended" if value else "no end"
    return value.isoformat()


def _resolve_product(cat: Catalog, name: str) -> Product:
    import difflib

    prod = cat.product(name.strip().lower())
    if prod is None:
        names = cat.product_names()
        close = difflib.get_close_matches(name.lower(), names, n=5, cutoff=0.6)
        close += [n for n in names if name.lower() in n and n not in close][:5]
        raise CliError(
            f"no product {name!r} in the dataset ({cat.version})",
            hint=f"did you mean: {', '.join(close[:8])}"
            if close
            else "product names are endoflife.date slugs, e.g. windows, windows-server, rhel, oracle-jdk",
        )
    return prod


def run_show(args: argparse.Namespace) -> int:
    ctx, policy, _site_cat = _context(args)
    as_of: date = args.as_of or today()
    if args.explain is not None:
        return _explain(args, ctx, policy, as_of)
    if not args.product:
        raise CliError(
            "give a PRODUCT (e.g. `legacyscan eol show windows-server`) or --explain RECORD",
            code=ExitCode.USAGE,
        )
    prod = _resolve_product(ctx.catalog, args.product)
    releases = [release_row(rel, prod, as_of, policy) for rel in prod.releases]
    dataset = policy.dataset_version(ctx.catalog.version)
    if args.format == "json":
        _say(
            json.dumps(
                {
                    "product": prod.name,
                    "label": prod.label,
                    "category": prod.category,
                    "source": prod.source,
                    "link": prod.html or None,
                    "labels": prod.labels,
                    "as_of": as_of.isoformat(),
                    "dataset_version": dataset,
                    "lookahead_days": policy.lookahead_days,
                    "entitlements": sorted(policy.entitlements),
                    "releases": releases,
                },
                indent=2,
            )
        )
    else:
        _say_product(prod, releases, as_of, policy, dataset)
    return int(ExitCode.OK)


def _say_product(prod: Product, releases: list[dict[str, Any]], as_of: date, policy: Policy, dataset: str) -> None:
    from tabulate import tabulate

    labels = {k: v for k, v in prod.labels.items() if v}
    _say_product_head(prod, labels, as_of, policy, dataset)
    columns = ["cycle", "label", "released"] + [k for k in ("eoas", "eol", "eoes", "discontinued") if k in labels]
    rows = [_table_row(rel, r, columns[3:]) for rel, r in zip(prod.releases, releases, strict=True)]
    _say(tabulate(rows, headers=columns + ["latest", "status", "source"], tablefmt="simple", disable_numparse=True))
    for r in releases:
        if r["notes"]:
            _say(f"note {r['name']}: {r['notes']}")


def _say_product_head(prod: Product, labels: dict[str, Any], as_of: date, policy: Policy, dataset: str) -> None:
    _say(f"{prod.label} ({prod.name})" + (f"  {prod.html}" if prod.html else ""))
    tiers = "; ".join(f"{k} = {labels[k]}" for k in ("eoas", "eol", "eoes", "discontinued") if k in labels)
    _say(f"Tiers: {tiers or 'eol = end of support'}")
    _say(
        f"Status as of {as_of.isoformat()} (ending-soon within {policy.lookahead_days} days; entitlements: "
        f"{', '.join(sorted(policy.entitlements)) or 'none'}); dataset {dataset}"
    )


def _table_row(rel: Release, r: dict[str, Any], tiers: list[str]) -> list[Any]:
    status = str(r["status"]) + (f" to {r['extended_until']}" if r["extended_until"] else "")
    row: list[Any] = [rel.name, rel.label if rel.label != rel.name else "", r["release_date"] or "-"]
    row += [_phase(getattr(rel, k)) for k in tiers]
    row += [rel.latest, status, rel.source]
    return row


def _explain(args: argparse.Namespace, ctx: Any, policy: Policy, as_of: date) -> int:
    from scanner.identify.registry import evaluate

    record = _explain_record(args.explain)
    out = evaluate(record, ctx, as_of, policy)
    if "error" in out:
        raise CliError(f"--explain: {out['error']}", code=ExitCode.USAGE)
    ident = ctx.identify(record)
    release = ctx.catalog.release(ident.product, ident.cycle) if ident.product and ident.cycle else None
    prod = ctx.catalog.product(ident.product) if ident.product else None
    dataset = policy.dataset_version(ctx.catalog.version)
    if args.format == "json":
        print(json.dumps(explanation(out, ident, prod, release, as_of, dataset), indent=2))
    else:
        _say_explanation(out, ident, prod, release, as_of, dataset)
    return int(ExitCode.OK)


def _explain_record(arg: str) -> Any:
    """The record given to ``--explain`` (``-`` reads stdin), parsed."""
    text = sys.stdin.read() if arg == "-" else arg
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(
            f"--explain: not valid JSON: {exc}",
            hint='quote the record, e.g. --explain \'{"kind":"software","name":"Java 8 Update 202",'
            '"version":"8.0.2020.8"}\'',
            code=ExitCode.USAGE,
        ) from exc


def _say_explanation(
    out: dict[str, Any], ident: Identification, prod: Product | None, release: Release | None, as_of: date, dataset: str
) -> None:
    _say_identity(out, prod, release, as_of)
    if release is not None and prod is not None:
        _say_tiers(prod, release)
    _say(f"Rule:        {out['rule']}")
    _say(f"Reason:      {out['reason']}")
    _say(f"Confidence:  {ident.confidence.value}")
    for key, value in ident.evidence:
        _say(f"Evidence:    {key} = {value!r}")
    _say(f"Dataset:     {dataset}" + (f"; release from {release.source}" if release else ""))


def _say_identity(out: dict[str, Any], prod: Product | None, release: Release | None, as_of: date) -> None:
    """The status, product and cycle lines of an explanation."""
    _say(f"Status:      {out['status']} on {as_of.isoformat()}" + (f" (eol {out['eol']})" if out["eol"] else ""))
    _say(f"Product:     {out['product'] or '-'}" + (f" ({prod.label})" if prod else ""))
    _say(
        f"Cycle:       {out['cycle'] or '-'}"
        + (f" ({release.label})" if release and release.label != release.name else "")
    )


def _say_tiers(prod: Product, release: Release) -> None:
    for key in ("eoas", "eol", "eoes"):
        label = prod.labels.get(key)
        value = getattr(release, key)
        if label or value is not None:
            _say(f"  {key:<9}  {_phase(value):<12} {label or ''}")


# -- update --------------------------------------------------------------------------------------


def _say(text: str = "") -> None:
    """Print human-readable text; values from the dataset or a server never carry terminal
    control sequences to the operator (#19 item 10)."""
    print(printable(text, keep_newlines=True))


def run_update(args: argparse.Namespace) -> int:
    from scanner.store import dataset_change

    as_of: date = args.as_of or today()

    def context_for(catalog: Catalog) -> tuple[Any, Policy]:
        ctx, policy, _site_cat = _context(args, catalog)
        return ctx, policy

    _site(args)  # a broken site catalogue is reported before any download
    if args.source.lower().startswith("http://"):
        logging.getLogger("legacyscan.eol").warning(
            "%s is plain HTTP: the EOL data is not protected in transit; prefer an https:// mirror", args.source
        )
    try:
        target = eol_update.target_dir()
        current = default_snapshot_dir()
        meta = eol_update.read_metadata(target)
        etag = ""
        if not args.force and current.resolve() == target.resolve() and meta.get("source_url") == args.source:
            etag = str(meta.get("etag") or "")
        staged = eol_update.stage(
            args.source,
            target=target,
            current=current,
            fetched_at=today().isoformat(),
            timeout=args.timeout,
            etag=etag,
            max_bytes=args.max_bytes,
            max_time=args.max_time,
        )
    except eol_update.UpdateError as exc:
        raise CliError(
            f"update failed: {exc}",
            hint=f"the previous dataset is unchanged ({default_snapshot_dir()}); --source can point at a site mirror",
        ) from exc
    if isinstance(staged, eol_update.Fetched):
        msg = {
            "updated": False,
            "not_modified": True,
            "source": staged.url,
            "etag": staged.etag,
            "dataset": str(current),
        }
        if args.format == "json":
            print(json.dumps(msg, indent=2))
        else:
            _say(f"The EOL dataset is up to date (HTTP 304 Not Modified, ETag {staged.etag}); nothing changed.")
        return int(ExitCode.OK)
    try:
        flips, flips_note = dataset_change.estate_flips(
            args.db, current, staged.directory, as_of, context_for, plain_errors=(CliError,)
        )
        from scanner.datasets import retain

        try:
            retain(current, target, max(0, getattr(args, "keep", 3)))  # findings of it stay reproducible
        except OSError as exc:
            logging.getLogger("legacyscan.eol").warning("could not keep the previous snapshot: %s", exc)
        live = eol_update.commit(staged)
    except eol_update.UpdateError as exc:
        raise CliError(f"update failed: {exc}", hint="the previous dataset is unchanged") from exc
    finally:
        eol_update.discard(staged)
    rejudged_note = dataset_change.rejudge(args.db, live, context_for)
    diff = staged.diff
    report = {
        "updated": True,
        "source": staged.fetched.url,
        "dataset": str(live),
        "etag": staged.fetched.etag,
        **diff.to_dict(),
        "verdict_changes": flips,
        "verdict_changes_note": flips_note,
        "rejudged": rejudged_note,
    }
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return int(ExitCode.OK)
    _print_update(report, diff.empty, current == BUNDLED_DIR)
    return int(ExitCode.OK)


def run_rejudge(args: argparse.Namespace) -> int:
    from scanner.store import dataset_change
    from scanner.store.sqlite import StoreError

    def context_for(catalog: Catalog) -> tuple[Any, Policy]:
        ctx, policy, _site_cat = _context(args, catalog)
        return ctx, policy

    _site(args)  # a broken site catalogue is reported before the store is read
    path = dataset_change.sqlite_path(args.db)
    if path is not None and not path.exists():  # never create an empty database as a side effect
        raise CliError(f"no stored estate at {args.db}", hint="--db names the store to refresh")
    try:
        done = dataset_change.refresh(args.db, default_snapshot_dir(), context_for)
    except (CatalogError, StoreError) as exc:
        raise CliError(
            f"stored inventories not re-judged: {exc}",
            hint="each batch is one transaction: inventories not re-judged keep their findings; run it again to finish",
        ) from exc
    if args.format == "json":
        doc = {
            "dataset_version": done.dataset_version,
            "judged_by": done.judged_by,
            "judged": done.judged,
            "rejudged": done.replaced,
        }
        print(json.dumps(doc, indent=2))
    else:
        _say(done.note() + ".")
    return int(ExitCode.OK)


def _listing(title: str, items: list[str], limit: int = 40, note: str = "") -> None:
    if not items:
        return
    _say(f"{title} ({len(items)}{'; ' + note if note else ''}):")
    for item in items[:limit]:
        _say(f"  {item}")
    if len(items) > limit:
        _say(f"  ... and {len(items) - limit} more (use --format json for all)")


def _print_update(report: dict[str, Any], empty: bool, from_bundled: bool) -> None:
    _say(f"Updated the EOL dataset: {report['old_version'] or '?'} -> {report['new_version']}")
    _say(f"  from {report['source']}")
    _say(f"  into {report['dataset']}" + (" (the bundled snapshot is kept as the fallback)" if from_bundled else ""))
    if empty:
        _say("No product, cycle or date changed.")
    _listing("Products added", report["products_added"])
    _listing("Products removed", report["products_removed"])
    _listing("Cycles added", [f"{c['product']} {c['cycle']}" for c in report["cycles_added"]])
    _listing("Cycles removed", [f"{c['product']} {c['cycle']}" for c in report["cycles_removed"]])
    _listing(
        "Dates moved",
        [f"{m['product']} {m['cycle']} {m['phase']}: {m['old']} -> {m['new']}" for m in report["dates_moved"]],
    )
    flips = report["verdict_changes"]
    if flips:
        _listing(
            "Verdicts that change for the stored estate",
            [
                f"{f['site'] or '-'}/{f['host']}: {f['name']} {f['version']} ({f['product']} {f['cycle']}): "
                f"{f['old_status']} -> {f['new_status']}" + (f" (eol {f['new_eol']})" if f["new_eol"] else "")
                for f in flips
            ],
            note=report["verdict_changes_note"],
        )
    else:
        _say(f"No verdict changes for the stored estate ({report['verdict_changes_note']}).")
