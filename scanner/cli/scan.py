"""``legacyscan scan``: collect inventories (this machine, or a fleet) and store them."""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import TYPE_CHECKING, Any

from agents.inventory import Inventory
from scanner.cli.base import CliError, ExitCode, Subparsers, add_common, parse_rate, parse_seconds
from scanner.cli.common import privacy_from, store_from
from scanner.cli.report import add_report_options, render_and_write
from scanner.cli.ssh_options import add_ssh_options, ssh_config_fields

if TYPE_CHECKING:
    from scanner.judge.timeline import Judge, Judged
    from scanner.store.sqlite import HostStatus
    from scanner.targets import Target

log = logging.getLogger(__name__)


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "scan",
        help="scan this machine (--local) or a list of targets (--targets)",
        description="Collect OS and installed-software inventories read-only, store them, "
        "and print the report for what was scanned.",
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", action="store_true", help="scan this machine")
    mode.add_argument("--targets", metavar="FILE", help="targets file: CSV, TOML, Ansible INI or CIDR list")
    p.add_argument("--site", default="", help="site name recorded with the host(s)")
    p.add_argument("--tag", action="append", default=[], dest="tags", help="tag recorded with the host (repeatable)")
    p.add_argument("--no-report", action="store_true", help="store only; print no report")
    add_fleet_options(p)
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

    privacy = privacy_from(args)  # before collecting: a bad [privacy] table fails first
    inv = privacy.apply(Collector(LocalShell(), site=args.site, tags=args.tags).collect())
    for problem in inv.problems:
        log.warning("probe %s: %s", problem.probe, problem.message)
    with store_from(args) as store:
        store.save_inventory(inv)
    log.info("stored inventory %s for %s (%d packages)", inv.inventory_id, inv.host.hostname, len(inv.software))
    if args.no_report:
        return int(ExitCode.OK)
    return render_and_write(args, [inv], [])


# -- fleet scanning (--targets) ------------------------------------------------------------------

# Above this many targets the scan matches as it goes and prints a summary instead of holding every
# inventory in memory for an inline report (`legacyscan report` renders the full one from the store).
INLINE_REPORT_MAX = 2000


def add_fleet_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("fleet scanning (--targets)")
    g.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="hosts scanned at once (default: sized for this "
        "machine, at most 64); never more than 4 connections to one host",
    )
    g.add_argument(
        "--timeout", type=parse_seconds, default=120.0, metavar="SEC", help="per-command timeout (default 120)"
    )
    add_ssh_options(g)
    g.add_argument(
        "--credentials",
        metavar="FILE",
        help="TOML credentials file for WinRM targets ([winrm] user/password, per-host "
        "[winrm.hosts.NAME]); refused unless readable by its owner only (chmod 600)",
    )
    g.add_argument(
        "--resume",
        nargs="?",
        const="24h",
        metavar="AGE",
        help="skip targets scanned successfully within AGE (default 24h; e.g. 90m, 7d)",
    )
    g.add_argument(
        "--window",
        metavar="HH:MM-HH:MM",
        help="only start hosts inside this daily window, local "
        "time (e.g. 19:00-07:00, outside clinical hours); resume later with --resume",
    )
    g.add_argument("--site-rate", type=parse_rate, metavar="N", help="at most N new connections per second per site")
    g.add_argument(
        "--groups-as",
        choices=["site", "tag"],
        default="site",
        help="Ansible inventory groups become sites (default) or tags",
    )
    g.add_argument(
        "--progress",
        choices=["auto", "bar", "json", "none"],
        default="auto",
        help="progress on stderr: a bar on a terminal, JSON lines otherwise (auto)",
    )


def run_targets(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from scanner.collect.config import ScanConfig, ScanWindow, default_concurrency, default_processes, parse_duration
    from scanner.collect.engine import FleetScanner
    from scanner.collect.progress import Progress
    from scanner.targets import TargetError, load_targets

    try:
        targets = load_targets(args.targets, site=args.site, groups_as=args.groups_as)
    except TargetError as exc:
        raise CliError(
            str(exc),
            hint="targets: CSV with header host,site,transport,port,user,tags; TOML; an "
            "Ansible INI inventory; or one host / CIDR range per line",
        ) from exc
    if args.tags:
        targets = [replace(t, tags=tuple(sorted(set(t.tags) | set(args.tags)))) for t in targets]
    if not targets:
        raise CliError(f"{args.targets}: no targets in the file")
    try:
        config = ScanConfig(
            concurrency=args.concurrency or default_concurrency(),
            credentials=args.credentials,
            resume=parse_duration(args.resume) if args.resume else None,
            window=ScanWindow.parse(args.window) if args.window else None,
            site_rate=args.site_rate,
            privacy=privacy_from(args),
            **ssh_config_fields(args),
        )
    except ValueError as exc:
        raise CliError(str(exc), code=ExitCode.USAGE) from exc
    if config.concurrency < 1:
        raise CliError("--concurrency must be at least 1", code=ExitCode.USAGE)
    if args.ssh_key:  # a bad key is reported before anything is scanned; the scan then uses this copy
        from agents.shell import ShellError
        from agents.ssh import load_private_key

        try:
            config.ssh_key_loaded = load_private_key(args.ssh_key, os.environ.get("LEGACYSCAN_SSH_KEY_PASSPHRASE"))
        except ShellError as exc:
            raise CliError(str(exc)) from exc
    inline = not args.no_report and len(targets) <= INLINE_REPORT_MAX
    tally = StreamingTally(args) if not inline and not args.no_report else None
    mode = args.progress
    if args.quiet:
        mode = "none"
    progress = Progress(len(targets), tty=None if mode == "auto" else mode == "bar", enabled=mode != "none")
    # The report's modules load on a side thread while the first connections are in flight -- but
    # never beside a scan that forks collector processes: a fork while that thread holds a module's
    # import lock leaves the lock held for ever in the child, which then hangs on its first import
    # of that module.
    if inline and (config.processes or default_processes(len(targets))) <= 1:
        import threading

        from scanner.cli.report import warm_pipeline

        threading.Thread(target=warm_pipeline, args=(args.format,), name="warm-report", daemon=True).start()
    store = store_from(args)
    try:
        scanner = FleetScanner(store, config, progress=progress, observer=tally, keep_inventories=inline)
        progress.total = len(scanner.select(targets)[0])
        summary = scanner.run(targets)
        statuses = summary.statuses
        inventories = summary.inventories
        if inline and summary.skipped:
            inventories, statuses = with_skipped(store, targets, inventories, statuses)
    except BaseException:
        store.close()
        raise
    closing = BackgroundClose(store)  # while the summary and the report are made
    try:
        code = _finish(args, config, summary, statuses, inventories, inline, tally)
    except BaseException:
        closing.wait(quiet=True)  # the report's own error is the one to see
        raise
    closing.wait()
    return code


class BackgroundClose:
    """Close the store on a thread of its own; ``wait`` joins it and raises what closing raised.

    Closing a SQLite store checkpoints its write-ahead log into the database: disk writes and an
    fsync, tens of milliseconds after a fleet scan, with the GIL released.  Nothing reads the store
    after the scan (the report is made from the inventories in memory), so the report is made
    meanwhile instead of after it."""

    def __init__(self, store: Any) -> None:
        import threading

        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._close, args=(store,), name="close-store")
        self._thread.start()

    def _close(self, store: Any) -> None:
        try:
            store.close()
        except BaseException as exc:  # noqa: BLE001 - raised again by wait(), on the command's thread
            self.error = exc

    def wait(self, *, quiet: bool = False) -> None:
        self._thread.join()
        if self.error is not None and not quiet:
            raise self.error


def _finish(
    args: argparse.Namespace,
    config: Any,
    summary: Any,
    statuses: list[HostStatus],
    inventories: list[Inventory],
    inline: bool,
    tally: StreamingTally | None,
) -> int:
    """After the scan: the summary on stderr, then the report (or the large scan's counts)."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items()))
    log.warning(
        "scanned %d of %d targets in %.1fs (%s)%s",
        summary.done + summary.failed,
        summary.total,
        summary.seconds,
        counts or "nothing",
        f"; {summary.skipped} skipped (--resume)" if summary.skipped else "",
    )
    failures = [st for st in statuses if st.status != "ok"]
    for st in failures[:50]:
        log.warning("%s [%s]: %s: %s", st.target, st.site or "-", st.status, st.error[:300])
    if len(failures) > 50:
        log.warning(
            "... and %d more hosts not fully scanned (all stored with their error: `legacyscan report`)",
            len(failures) - 50,
        )
    if summary.window_closed:
        log.warning(
            "scan window %s is closed: remaining targets not started; run again with --resume inside the window",
            config.window,
        )
    if summary.interrupted:
        log.warning("interrupted: %d hosts stored; run again with --resume to continue", summary.done)
        return 130
    if summary.total and summary.done == 0 and summary.failed:
        if not args.no_report and inline:
            render_and_write(args, [], statuses)
        return int(ExitCode.ERROR)
    if args.no_report:
        return int(ExitCode.OK)
    if inline:
        return render_and_write(args, inventories, statuses)
    findings = tally.counts if tally is not None else {}
    print(json.dumps({"hosts": summary.done, "failed": summary.failed, "findings_by_status": findings}, sort_keys=True))
    log.warning("large scan: full report with `legacyscan report --db %s`", args.db)
    if args.fail_on:
        from scanner.model import Status

        if tally is not None and tally.worst >= Status(args.fail_on).severity:
            return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)


def with_skipped(
    store: object, targets: list[Target], inventories: list[Inventory], statuses: list[HostStatus]
) -> tuple[list[Inventory], list[HostStatus]]:
    """``--resume``: the report of the whole targets file, not only of what this run scanned.  The
    targets skipped as recently scanned bring their stored status and latest inventory (found by
    the host key their status recorded), so the report does not read "Devices 0, Coverage 0 %"."""
    from scanner.store.sqlite import host_key

    wanted = {(t.key, t.site) for t in targets}
    done = {(st.target, st.site) for st in statuses}
    stored = [st for st in getattr(store, "statuses", list)() if (st.target, st.site) in wanted - done]
    keys = {(st.site, st.host_key) for st in stored if st.host_key}
    have = {(i.host.site, host_key(i)) for i in inventories}
    sites = sorted({site for site, _ in keys})
    extra = [
        i
        for site in sites
        for i in store.latest_inventories(site)  # type: ignore[attr-defined]
        if (i.host.site, host_key(i)) in keys - have
    ]
    return inventories + extra, statuses + stored


class StreamingTally:
    """Large scans: match each inventory where it was collected and keep only counts (an
    ``InventoryObserver``).  The catalog and rules are loaded here, before the collector
    processes fork, so each of them starts with them in memory."""

    def __init__(self, args: argparse.Namespace) -> None:
        from scanner.cli.base import today
        from scanner.cli.common import context_and_policy
        from scanner.judge.match import MatchMemo

        self.ctx, self.policy = context_and_policy(args)
        self.as_of = args.as_of or today()
        # the run's memo (each collector process forks with its own copy)
        self.memo = MatchMemo(self.ctx, self.as_of, self.policy)
        self.counts: dict[str, int] = {}
        self.worst = 0

    def observe(self, inv: Inventory) -> tuple[dict[str, int], int]:
        """Findings by status for one inventory, and the worst severity among them."""
        from scanner.judge.match import match_inventory

        counts: dict[str, int] = {}
        worst = 0
        for f in match_inventory(inv, self.ctx, self.as_of, self.policy, self.memo).findings:
            counts[f.status.value] = counts.get(f.status.value, 0) + 1
            worst = max(worst, f.status.severity)
        return counts, worst

    def observe_judged(self, judged: Judged, judge: Judge | None) -> tuple[dict[str, int], int] | None:
        """``observe`` read off the inventory's judgement (the status range of each finding that
        holds ``as_of``) when ``judge`` works with this tally's very context and policy (the
        store's judge of this command: ``site_context`` is made once per command), so its ranges
        are ``match_inventory``'s statuses on every date; None otherwise (then ``observe``)."""
        if judge is None or judge.ctx is not self.ctx or judge.policy is not self.policy:
            return None
        if len(judged.segments) != len(judged.result.findings):
            return None
        day = self.as_of.isoformat()
        counts: dict[str, int] = {}
        worst = 0
        for segments in judged.segments:
            for start, end, status, _eol, _extended in segments:
                if start <= day < end:
                    counts[status.value] = counts.get(status.value, 0) + 1
                    worst = max(worst, status.severity)
                    break
            else:
                return None  # no range holds the day
        return counts, worst

    def merge(self, note: tuple[dict[str, int], int]) -> None:
        counts, worst = note
        for status, n in counts.items():
            self.counts[status] = self.counts.get(status, 0) + n
        self.worst = max(self.worst, worst)
