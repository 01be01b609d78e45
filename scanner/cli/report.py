"""``legacyscan report``: judge the latest inventory of every host and render the result.

The composition of the report pipeline lives here (and only here): store -> match -> ``scanner.report.build``
(with the exception register and ``legacyscan.toml``) -> the renderer of a ``ReportFormat``.
``--fail-on`` exits 3 when an *open* finding (not covered by an active exception) is at or above
the threshold: a risk the SIRO accepted should not break a pipeline, an expired one should.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from datetime import date
from typing import IO, TYPE_CHECKING, Any, assert_never

from scanner import __version__
from scanner.cli.base import CliError, ExitCode, Subparsers, add_common, parse_date, today
from scanner.model import Status
from scanner.report.formats import CHOICES, ReportFormat

if TYPE_CHECKING:
    from agents.inventory import Inventory
    from scanner.judge.match import HostResult
    from scanner.plan.config import ReportConfig
    from scanner.plan.risk_register import Register
    from scanner.report.build import PreviousKpis
    from scanner.report.model import EstateReport
    from scanner.report.stored import StoredResults
    from scanner.store.sqlite import HostStatus, Store

log = logging.getLogger(__name__)

Renderer = Callable[["EstateReport"], "str | bytes"]


Writer = Callable[["EstateReport", IO[str]], None]


def renderer(fmt: ReportFormat) -> Renderer:
    """``render(report) -> str | bytes`` of the module in ``reports`` that draws ``fmt``, imported
    when that format is asked for (openpyxl only for xlsx); the imports are written out so mypy and
    a reader follow every edge, and the match is exhaustive (a new format is a mypy error here)."""
    match fmt:
        case ReportFormat.TABLE:
            from reports import table

            return table.render
        case ReportFormat.CSV:
            from reports import csv

            return csv.render
        case ReportFormat.JSON:
            from reports import json

            return json.render
        case ReportFormat.XLSX:
            from reports import xlsx

            return xlsx.render
        case ReportFormat.HTML:
            from reports import html

            return html.render
        case _:
            assert_never(fmt)


def writer(fmt: ReportFormat) -> Writer | None:
    """Text formats whose renderer also writes to a stream (``write(report, fh)``, the same text as
    ``render``): a large estate's report is never one string in memory.  None: render whole."""
    match fmt:
        case ReportFormat.CSV:
            from reports import csv

            return csv.write
        case ReportFormat.JSON:
            from reports import json

            return json.write
        case ReportFormat.TABLE | ReportFormat.XLSX | ReportFormat.HTML:
            return None
        case _:
            assert_never(fmt)


def warm_pipeline(fmt: str) -> None:
    """Import the report pipeline and the renderer for ``fmt`` ahead of use (idempotent): ``scan``
    calls this on a side thread while its first connections are in flight, so the modules are not
    imported when the parser is built."""
    from scanner.cli import common  # noqa: F401 - imported for their load time
    from scanner.judge import match  # noqa: F401
    from scanner.plan import actions, risk_register  # noqa: F401
    from scanner.report import build  # noqa: F401

    try:
        wanted = ReportFormat(fmt)
    except ValueError:
        wanted = ReportFormat.TABLE
    renderer(wanted)


DEMO_SITE_PREFIX = "DEMO "
DEMO_BANNER = "DEMO DATA — a generated hospital estate for evaluation (legacyscan demo); not a real organisation"


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=CHOICES, default=ReportFormat.TABLE.value, help="output format (default: table)"
    )
    parser.add_argument("--out", metavar="PATH", help="write the report here instead of stdout")
    parser.add_argument(
        "--as-of", type=parse_date, metavar="YYYY-MM-DD", help="judge support status on this date (default: today)"
    )
    parser.add_argument(
        "--fail-on",
        choices=[Status.EOL.value, Status.EXTENDED.value, Status.ENDING_SOON.value],
        help="exit with code 3 when any open finding (not covered by an active exception) is at or above this status",
    )
    parser.add_argument(
        "--site-catalog",
        metavar="FILE",
        help="site catalogue TOML (clinical apps, own rules, entitlements); default legacyscan-site.toml if present",
    )
    parser.add_argument(
        "--exceptions", metavar="FILE", help="exception / risk-acceptance register (.toml or .csv); see docs/reports.md"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="report configuration TOML: priority weights, unit costs, ESU prices; default legacyscan.toml if present",
    )
    parser.add_argument(
        "--dataset",
        metavar="VERSION",
        help="judge with this EOL dataset version (as findings and reports name it; kept by "
        "`legacyscan eol update --keep`) to reproduce an earlier report; "
        "default: the installed one",
    )
    parser.add_argument(
        "--bom",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CSV: start with a UTF-8 byte order mark so Excel reads the encoding right "
        "(default: on when --out names a .csv file, off on stdout)",
    )


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "report",
        help="report support status per site from stored inventories",
        description="Judge the latest inventory of every host on a date and write a "
        "prioritised replacement plan (table, csv, json, xlsx or html).",
    )
    p.add_argument("--site", help="only this site")
    add_report_options(p)
    add_common(p)
    p.set_defaults(func=run)


def load_inputs(args: argparse.Namespace) -> tuple[ReportConfig, Register | None]:
    """The configuration and the register, with user-facing errors that name the file and row."""
    from scanner.plan.config import ConfigError, load_config
    from scanner.plan.risk_register import ExceptionFileError
    from scanner.plan.risk_register import load as load_exceptions

    try:
        cfg = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        raise CliError(str(exc), hint="see docs/reports.md (configuration) and examples/legacyscan.toml") from exc
    register = None
    path = getattr(args, "exceptions", None)
    if path:
        try:
            register = load_exceptions(path)
        except ExceptionFileError as exc:
            raise CliError(
                str(exc), hint="see docs/reports.md (exception register) and examples/exceptions.toml"
            ) from exc
    return cfg, register


def demo_banner(sites: list[str]) -> str:
    return DEMO_BANNER if sites and all(s.startswith(DEMO_SITE_PREFIX) for s in sites) else ""


def render_report(report: EstateReport, fmt: ReportFormat) -> str | bytes:
    try:
        render = renderer(fmt)
    except ImportError as exc:
        raise CliError(f"report format {fmt.value!r} is not available: {exc}") from exc
    return render(report)


BOM = "\ufeff"


def _streaming_writer(fmt: ReportFormat) -> Writer | None:
    """The renderer's ``write(report, fh)`` when it has one (``writer``): the report is written
    piece by piece (device by device) instead of being held whole in memory as one string first."""
    try:
        return writer(fmt)
    except ImportError as exc:
        raise CliError(f"report format {fmt.value!r} is not available: {exc}") from exc


def with_bom(rendered: str | bytes, fmt: str, out: str | None, bom: bool | None) -> str | bytes:
    """CSV for Excel: a UTF-8 byte order mark, or Excel reads the file as the local code page and
    shows "—" as "â€”".  Default: on for ``--out *.csv``, off for stdout (pipes want plain UTF-8)."""
    if fmt != ReportFormat.CSV or not isinstance(rendered, str):
        return rendered
    if bom is None:
        bom = bool(out) and out != "-" and str(out).lower().endswith(".csv")
    return BOM + rendered if bom and not rendered.startswith(BOM) else rendered


def write_rendered(rendered: str | bytes, out: str | None, fmt: str) -> None:
    if isinstance(rendered, bytes):
        if not out or out == "-":
            raise CliError(f"--format {fmt} writes a binary file", hint=f"add --out report.{fmt}", code=ExitCode.USAGE)
        from scanner.cli.common import write_file

        write_file(out, rendered)
        return
    from scanner.cli.common import output

    with output(out) as fh:
        fh.write(rendered)


def fail_on_hit(report: EstateReport, threshold: str | None) -> bool:
    if not threshold:
        return False
    level = Status(threshold).severity
    return any(f.status.severity >= level for f in report.open_findings())


def check_register_scope(
    register: Register,
    products: list[str],
    sites: list[str] | None,
    cycles: Callable[[str], list[str]] | None = None,
) -> None:
    """Refuse an exception whose product, cycle or site names nothing this tool or database knows:
    a misspelt scope would load as "active" and silently cover nothing (the risk stays unaccepted
    while the register says otherwise).  ``sites`` None: not checked (a scan sees only its sites);
    ``cycles``: a product's release ids (findings carry these), None: not checked."""
    import difflib

    known = set(products)
    for e in register.entries:
        where = f"{register.path}: exception #{e.row}" + (f" (id {e.id})" if e.id else "")
        if e.product and e.product not in known:
            near = difflib.get_close_matches(e.product, products, n=1, cutoff=0.6)
            raise CliError(
                f"{where}: field 'product': unknown product {e.product!r}",
                hint=(f"did you mean {near[0]!r}? " if near else "")
                + "product ids as `legacyscan eol identify` prints them (`legacyscan eol info` lists them)",
            )
        releases = cycles(e.product) if cycles is not None and e.product and e.cycle else []
        if releases and e.cycle not in releases:
            near = difflib.get_close_matches(e.cycle, releases, n=1, cutoff=0.5)
            raise CliError(
                f"{where}: field 'cycle': {e.product} has no release {e.cycle!r}",
                hint=(f"did you mean {near[0]!r}? " if near else "")
                + f"release ids as findings and `legacyscan eol show {e.product}` name them",
            )
        if sites is not None and e.site and e.site not in sites:
            raise CliError(f"{where}: field 'site': no site {e.site!r} in the database", hint=site_hint(sites, e.site))


def render_and_write(
    args: argparse.Namespace,
    inventories: list[Inventory],
    statuses: list[HostStatus],
    previous: list[Inventory] | None = None,
    known_sites: list[str] | None = None,
) -> int:
    """Shared by ``report`` and ``scan`` (which prints the report of what it just scanned)."""
    return write_report(args, build_estate_report(args, inventories, statuses, previous, known_sites))


def write_report(args: argparse.Namespace, report: EstateReport) -> int:
    """Render ``report`` in ``--format`` to ``--out`` (or stdout); the exit code ``--fail-on`` asks for."""
    fmt = ReportFormat(args.format)
    if report.dataset_warning:
        log.warning("%s", report.dataset_warning)
    stream = _streaming_writer(fmt)
    if stream is not None:
        from scanner.cli.common import output

        with output(args.out) as fh:
            if with_bom("", fmt, args.out, getattr(args, "bom", None)):
                fh.write(BOM)
            stream(report, fh)
    else:
        write_rendered(with_bom(render_report(report, fmt), fmt, args.out, getattr(args, "bom", None)), args.out, fmt)
    if args.out:
        log.info("report written to %s", args.out)
    if fail_on_hit(report, args.fail_on):
        return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)


def build_estate_report(
    args: argparse.Namespace,
    inventories: list[Inventory],
    statuses: list[HostStatus],
    previous: list[Inventory] | None = None,
    known_sites: list[str] | None = None,
) -> EstateReport:
    """The report's view model (``report``, ``scan`` and ``export --benchmark`` share it): every
    inventory judged now (``report`` reads stored findings instead: ``build_stored_report``)."""
    from scanner.discover.link import supersede
    from scanner.judge.match import match_estate

    as_of = args.as_of or today()
    prepared = _prepare(args, known_sites)
    ctx, policy = prepared[2], prepared[3]
    inventories, _linked = supersede(inventories)  # a discovered host gives way to its real inventory
    results = match_estate(inventories, ctx, as_of, policy)
    prev_results: list[HostResult] | None = None
    prev_as_of: date | None = None
    if previous:
        prev_as_of = max(_day(i.collected_at) or as_of for i in previous)
        prev_results = match_estate(previous, ctx, prev_as_of, policy)
    return _assemble(prepared, as_of, results, statuses, prev_results, prev_as_of)


def build_stored_report(
    args: argparse.Namespace,
    store: Store,
    statuses: list[HostStatus],
    known_sites: list[str] | None = None,
    reader: StoredResults | None = None,
) -> EstateReport:
    """``build_estate_report`` of the store's latest inventories (and the scan before them), from
    the findings persisted when they were stored (``scanner.report.stored``): the same report, without
    decoding and re-judging every package of the estate.  ``reader``: one made with this command's
    context and policy (its ``sourcing`` then says how each host result was made)."""
    from scanner.report import stored

    as_of = args.as_of or today()
    prepared = _prepare(args, known_sites)
    cfg, register, ctx, policy = prepared
    if reader is None:
        reader = stored.StoredResults(store, ctx, policy)
    # The previous scan (each host's latest inventory before the last collection day): its KPIs,
    # in a second process on a large estate while this one reads the latest.
    last = stored.latest_day(store, args.site)
    background: stored.Background | None = None
    previous: stored.PreviousOutcome | None = None
    if last is not None:
        work = (store, ctx, policy, cfg, register, last.isoformat(), as_of, args.site, reader.judged_by)
        url = getattr(args, "db", None)
        if url and stored.host_count(store, args.site) >= stored.BACKGROUND_MIN_HOSTS:
            background = stored.Background(url, *work)
        else:
            previous = stored.previous_figures(*work)
    results = _superseded(reader.latest(as_of, args.site))

    def previous_later() -> tuple[PreviousKpis | None, date | None]:
        """The previous scan's KPIs and date, asked for once the rest of the report is built
        (the background process works on them meanwhile)."""
        done = background.result() if background is not None else previous
        figures, prev_as_of = None, None
        s = reader.sourcing
        if done is not None:
            found, before = done
            if found is not None:
                figures, prev_as_of = found
            s = reader.sourcing = stored.Sourcing(
                s.stored + before.stored,
                s.rejudged + before.rejudged,
                s.missing + before.missing,
                s.changed + before.changed,
                s.stale + before.stale,
            )
        log.info(
            "report: %d host results read from stored findings, %d re-judged (%d without findings of dataset "
            "%s, %d whose status changed since collection)",
            s.stored,
            s.rejudged,
            s.missing,
            reader.dataset_version,
            s.changed,
        )
        if s.stale:
            log.warning(
                "report: %d stored judgements were made by another legacyscan release or other rules files "
                "than this one (%s) and were re-judged for this report; `legacyscan eol rejudge` refreshes "
                "the stored findings (and the BI views) so reports read them again",
                s.stale,
                reader.judged_by,
            )
        return figures, prev_as_of

    return _assemble(prepared, as_of, results, statuses, None, None, previous_later=previous_later)


def _superseded(results: list[HostResult]) -> list[HostResult]:
    """``supersede`` over host results: a discovered host gives way to its real inventory."""
    from scanner.discover.link import supersede

    kept, _linked = supersede([r.inventory for r in results])
    if len(kept) == len(results):
        return results
    ids = {id(inv) for inv in kept}
    return [r for r in results if id(r.inventory) in ids]


def _prepare(args: argparse.Namespace, known_sites: list[str] | None) -> tuple[Any, ...]:
    from scanner.cli.common import site_context
    from scanner.plan.config import with_site_catalog

    cfg, register = load_inputs(args)
    ctx, policy, site = site_context(args)
    if register is not None:
        catalog = ctx.catalog

        def cycles(product: str) -> list[str]:
            found = catalog.product(product)
            return [r.name for r in found.releases] if found else []

        check_register_scope(register, catalog.product_names(), known_sites, cycles)
    cfg = with_site_catalog(cfg, site, policy.free_extended)
    return cfg, register, ctx, policy


def _assemble(
    prepared: tuple[Any, ...],
    as_of: date,
    results: list[HostResult],
    statuses: list[HostStatus],
    prev_results: list[HostResult] | None,
    prev_as_of: date | None,
    prev_figures: PreviousKpis | None = None,
    previous_later: Callable[[], tuple[PreviousKpis | None, date | None]] | None = None,
) -> EstateReport:
    from scanner.report.build import build_report

    cfg, register, ctx, policy = prepared
    sites = sorted({r.inventory.host.site for r in results} | {s.site for s in statuses})
    return build_report(
        results,
        statuses,
        as_of,
        policy.dataset_version(ctx.catalog.version),
        __version__,
        config=cfg,
        register=register,
        previous=prev_results,
        previous_as_of=prev_as_of,
        demo=demo_banner(sites),
        previous_figures=prev_figures,
        previous_later=previous_later,
    )


def _day(stamp: str) -> date | None:
    try:
        return date.fromisoformat(stamp[:10])
    except ValueError:
        return None


def previous_scan(store: object, inventories: list[Inventory], site: str | None) -> list[Inventory]:
    """Each host's latest inventory from before the day of the most recent collection."""
    fetch = getattr(store, "inventories_as_of", None)
    days = [d for d in (_day(i.collected_at) for i in inventories) if d is not None]
    if fetch is None or not days:
        return []
    result: list[Inventory] = fetch(max(days).isoformat(), site)
    return result


def site_hint(known: list[str], wanted: str) -> str:
    """ "Did you mean" for a site name, from the sites the store knows (case and near-misses)."""
    import difflib

    if not known:
        return "the database has no sites yet"
    folded = {k.lower(): k for k in known}
    match = folded.get(wanted.lower()) or next(iter(difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)), None)
    if match:
        return f"did you mean {match!r}? (site names are exact)"
    return "sites in this database: " + ", ".join(known[:20]) + (" …" if len(known) > 20 else "")


_NOTHING_STORED_HINT = (
    "run `legacyscan scan --local`, `legacyscan scan --targets FILE` or `legacyscan import PATH`; check --db"
)


def run(args: argparse.Namespace) -> int:
    from scanner.cli.common import no_inventories, read_store_from
    from scanner.gc_tuning import gc_paused
    from scanner.report.stored import host_count

    load_inputs(args)  # a bad register or config is reported before anything else is done
    with gc_paused():  # a quarter of the CPU otherwise, for nothing collected (scanner.gc_tuning)
        with read_store_from(args, _NOTHING_STORED_HINT) as store:
            statuses = store.statuses(args.site) if hasattr(store, "statuses") else []
            lister = getattr(store, "sites", None)
            store_sites: list[str] = sorted(set(lister()) | {s.site for s in statuses}) if lister is not None else []
            if not statuses and host_count(store, args.site) == 0:
                if args.site:
                    raise CliError(
                        f"no inventories stored for site {args.site!r}", hint=site_hint(store_sites, args.site)
                    )
                raise no_inventories(args, _NOTHING_STORED_HINT)
            report = build_stored_report(args, store, statuses, known_sites=store_sites or None)
        return write_report(args, report)
