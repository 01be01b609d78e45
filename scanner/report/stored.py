"""A report's findings read from the database instead of re-judging every stored inventory.

Every inventory is judged when it is stored (``scanner.judge.timeline``): its findings, with their rule,
evidence and dataset version, and the date ranges of their statuses.  ``legacyscan report`` reads
them back here, per host, with the status on the report date taken from ``finding_status`` (a
range lookup), and with each host's own facts (tags, OS product type, hardware, collector) from
its row of ``inventory_facts`` (``scanner.store.facts``; an inventory without one: from the stored
document *without its package list*, ``scanner.store.sqlite.decode_header``): nothing is decoded
or identified package by package, which was nearly all of a report's time on a large estate.

When is a stored finding the finding a re-judgement on the report date would make?  The findings
of an inventory were judged on the day it was collected; each one's state (status, end of support,
end of the extended phase) on the report date is its range's.  When every finding of the host has
the same state on both days, the re-judgement makes the same findings, in the same order, with the
same rule, evidence and reason, except for the one date-dependent phrase of a reason, "ends D
(N days after <day>)", which is rewritten for the report date exactly as ``scanner.identify.verdict`` writes
it.  A host any of whose findings changed state between the two days, or whose inventory has no
findings of the report's dataset (stored before findings were persisted, judged by another site
catalogue, or a dataset ``eol update`` has not re-judged into yet), or whose findings were judged
by another legacyscan release or other rules files (``judgements.judged_by`` is not the installed
``scanner.judge.fingerprint``, or NULL: judged before schema 11; a release that fixes a wrong
verdict changes no dataset version, and its fix must not wait for the host's next scan), is
decoded and re-judged in full instead, exactly as before: the report stays read-only and always correct, and only its
speed depends on the findings being there.  ``tests/integration/test_report_from_store.py``
checks both paths give the same report in every format.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from agents.inventory import Inventory
from scanner.identify.registry import IdentifyContext
from scanner.identify.verdict import judge as judge_release
from scanner.judge import fingerprint
from scanner.judge.match import HostResult, MatchMemo, match_inventory
from scanner.model import Finding, MatchDetail, Policy, Status
from scanner.plan.config import ReportConfig
from scanner.plan.risk_register import Register
from scanner.report.build import PreviousKpis, previous_kpis
from scanner.store import facts
from scanner.store.sqlite import Store, decode_body, decode_header, host_key

log = logging.getLogger(__name__)

# Hosts per round trip: their documents and findings are read together.
CHUNK = 500

# The one date-dependent phrase of a reason (scanner.identify.verdict.judge, "ending soon").
_DAYS_AFTER = re.compile(r"ends (\d{4}-\d{2}-\d{2}) \((-?\d+) days after (\d{4}-\d{2}-\d{2})\)")

# A host's findings are rows of ``findings`` naming their contents (``finding_contents``, schema
# migration 8): the rows of a chunk of hosts are read first, then the contents not read yet (each
# distinct contents once per report, its objects made once: ``_Content``).
_FINDINGS_SQL = (
    "SELECT f.inventory_id, f.content_id, f.entries, s.status, s.eol, s.extended_until "
    "FROM findings f LEFT JOIN finding_status s ON s.finding_id = f.finding_id "
    "AND s.valid_from <= {p} AND s.valid_to > {p} "
    "WHERE f.dataset_version = {p} AND f.inventory_id IN ({marks}) ORDER BY f.inventory_id, f.ordinal"
)
# The same rows for a judgement whose steady range holds the report date (schema migration 7):
# every finding is in its judged state on that date, so its contents' state is the state on the
# date, with no status-range lookup per finding.
_STEADY_FINDINGS_SQL = (
    "SELECT f.inventory_id, f.content_id, f.entries FROM findings f "
    "WHERE f.dataset_version = {p} AND f.inventory_id IN ({marks}) ORDER BY f.inventory_id, f.ordinal"
)
_CONTENTS_SQL = (
    "SELECT content_id, kind, name, version, product, cycle, product_label, group_key, rule, reason, "
    "evidence, confidence, release_label, release_source, status, eol, extended_until "
    "FROM finding_contents WHERE content_id IN ({marks})"
)
_ACTIONABLE_VALUES = (Status.EOL.value, Status.EXTENDED.value, Status.ENDING_SOON.value)


@dataclass(slots=True)
class Sourcing:
    """How a report's host results were made: read from stored findings, or re-judged."""

    stored: int = 0
    rejudged: int = 0
    missing: int = 0  # of ``rejudged``: no findings of the dataset stored for the inventory
    changed: int = 0  # of ``rejudged``: a finding's state differs between collection day and report date
    # of ``missing``: findings stored, but judged by another release or rules (``judgements.judged_by``)
    stale: int = 0


_STATUS = {s.value: s for s in Status}
_ACTIONABLE = frozenset(_ACTIONABLE_VALUES)  # Finding.actionable


class _Dates(dict[str | None, date | None]):
    """ISO date text -> date, each distinct text parsed once (a dict hit is all a finding costs)."""

    def __missing__(self, text: str | None) -> date | None:
        value = self[text] = date.fromisoformat(text) if text else None
        return value


class _Details:
    """Thousands of findings share one explanation: one ``MatchDetail`` per distinct one."""

    def __init__(self, dataset_version: str) -> None:
        self.dataset_version = dataset_version
        self.seen: dict[tuple[Any, ...], MatchDetail] = {}
        self.evidence: dict[str, dict[str, str]] = {}

    def get(
        self, rule: str, reason: str, evidence: str, confidence: str, release_label: str, source: str
    ) -> MatchDetail:
        key = (rule, reason, evidence, confidence, release_label, source)
        hit = self.seen.get(key)
        if hit is None:
            ev = self.evidence.get(evidence)
            if ev is None:
                ev = self.evidence[evidence] = json.loads(evidence)
            hit = self.seen[key] = MatchDetail(
                rule=rule,
                reason=reason,
                evidence=dict(ev),
                dataset_version=self.dataset_version,
                confidence=confidence,
                release_label=release_label,
                source=source,
            )
        return hit


# ``Finding``'s positional fields from ``kind`` to ``group``: what every finding of one contents shares.
_Args = tuple[str, str, str, str | None, str | None, Status, date | None, date | None, MatchDetail, str, str | None]


class _Content:
    """One distinct finding contents (a ``finding_contents`` row) and what every finding carrying
    it is made of: ``args``, ``Finding``'s positional fields from ``kind`` to ``group``."""

    __slots__ = ("args", "kpi", "product", "cycle", "reason", "state", "words")

    def __init__(self, row: tuple[Any, ...], details: _Details, dates: _Dates) -> None:
        (_, kind, name, version, product, cycle, label, group, rule, reason, evidence, confidence,
         release_label, source, status, eol, ext) = row  # fmt: skip
        self.product, self.cycle, self.reason = product, cycle, reason
        self.state = (status, eol, ext)  # as stored: compared with a status range's
        self.words = (rule, evidence, confidence, release_label, source)
        # what a KPI of the previous scan counts (the OS, and actionable findings)
        self.kpi = kind == "os" or status in _ACTIONABLE
        detail = details.get(rule, reason, evidence, confidence, release_label, source)
        self.args: _Args = (
            kind, name, version, product, cycle, _STATUS[status], dates[eol], dates[ext], detail, label, group,
        )  # fmt: skip

    def redated(self, judged_on: str, as_of: date, details: _Details) -> _Args:
        """``args`` with the reason a judgement on ``as_of`` words ("N days after")."""
        reason = redate_reason(self.reason, judged_on, as_of)
        if reason == self.reason:
            return self.args
        rule, evidence, confidence, release_label, source = self.words
        return (*self.args[:8], details.get(rule, reason, evidence, confidence, release_label, source), *self.args[9:])


def redate_reason(reason: str, judged_on: str, as_of: date) -> str:
    """``reason`` as a judgement on ``as_of`` words it (the "N days after" of an ending-soon phase)."""
    if "days after" not in reason:
        return reason

    def sub(m: re.Match[str]) -> str:
        if m.group(3) != judged_on:
            return m.group(0)
        end = date.fromisoformat(m.group(1))
        return f"ends {m.group(1)} ({(end - as_of).days} days after {as_of.isoformat()})"

    return _DAYS_AFTER.sub(sub, reason)


class StoredResults:
    """Host results with ``ctx``/``policy``'s dataset, from stored findings where they say what a
    re-judgement would (module docstring), else re-judged from the stored document."""

    def __init__(self, store: Store, ctx: IdentifyContext, policy: Policy, judged_by: str | None = None) -> None:
        self.store, self.ctx, self.policy = store, ctx, policy
        self.dataset_version = policy.dataset_version(ctx.catalog.version)
        # only findings judged by this release and rules are reused (default: the installed ones)
        self.judged_by = judged_by if judged_by is not None else fingerprint.installed()
        self.sourcing = Sourcing()
        self._details = _Details(self.dataset_version)
        self._memos: dict[date, MatchMemo] = {}
        self._steady_memo: dict[tuple[Any, ...], bool] = {}
        self._dates = _Dates()
        self._contents: dict[str, _Content] = {}
        # per (judged on, report date): each contents' args as redated, and whether it is steady
        self._redated: dict[tuple[str, date], dict[str, _Args]] = {}
        self._steady_by_day: dict[tuple[str, date], dict[str, bool]] = {}
        self._texts = facts.Texts()  # the facts rows' JSON texts, each parsed once (facts.header)

    # -- which inventories ----------------------------------------------------------------------

    def latest(self, as_of: date, site: str | None = None) -> list[HostResult]:
        """The latest inventory of every host (``Store.iter_latest``'s set and order), on ``as_of``."""
        sql = (
            "SELECT i.inventory_id, j.judged_on, j.unidentified, j.steady_from, j.steady_to, j.judged_by FROM hosts h "
            "JOIN inventories i ON i.inventory_id = h.last_inventory_id "
            "LEFT JOIN judgements j ON j.inventory_id = i.inventory_id AND j.dataset_version = {p}"
        )
        params: list[Any] = [self.dataset_version]
        if site:
            sql += " WHERE h.site = {p}"
            params.append(site)
        sql += " ORDER BY h.site, h.hostname, h.host_key"
        return list(self._results(self._current(self._rows(sql, params)), as_of))

    def before(
        self, day: str, fallback: date, site: str | None = None, kpis_only: bool = False
    ) -> tuple[list[HostResult], date | None]:
        """Each host's latest inventory collected strictly before ``day`` (``Store.inventories_as_of``),
        judged on the last day any of them was collected (``fallback`` for an unreadable collection
        time), and that day (None: there are none).  ``kpis_only``: a host result read from stored
        findings leaves out the application findings no KPI counts (supported, unknown: not
        actionable, so never excepted, scored, costed or on the action list)."""
        sql = (
            "SELECT i.inventory_id, j.judged_on, j.unidentified, j.steady_from, j.steady_to, j.judged_by, "
            "i.collected_at FROM inventories i "
            "LEFT JOIN judgements j ON j.inventory_id = i.inventory_id AND j.dataset_version = {p} "
            "WHERE i.collected_at = (SELECT MAX(k.collected_at) FROM inventories k "
            "WHERE k.host_key = i.host_key AND k.collected_at < {p})"
        )
        params: list[Any] = [self.dataset_version, day]
        if site:
            sql += " AND i.site = {p}"
            params.append(site)
        sql += " ORDER BY i.site, i.host_key, i.inventory_id"
        rows = self._rows(sql, params)
        if not rows:
            return [], None
        on = max(_day(r[6]) or fallback for r in rows)
        return list(self._results(self._current(rows), on, kpis_only)), on

    def _steady(self, product: str | None, cycle: str | None, judged_on: str, as_of: date) -> bool:
        """Does the dataset judge ``product``/``cycle`` itself the same on both days, in the same
        words?  A phase can end without changing a finding's state (an extended phase nobody was
        entitled to leaves "eol" as it was, but its reason no longer offers it), and a finding whose
        state follows something else (a distribution build follows its OS release, a device its
        supplier's date) still quotes its upstream verdict in its reason."""
        if not product or not cycle or judged_on == as_of.isoformat():
            return True
        key = (product, cycle, judged_on, as_of)
        hit = self._steady_memo.get(key)
        if hit is None:
            catalog = self.ctx.catalog
            release = catalog.release(product, cycle)
            if release is None:
                hit = True
            else:
                prod = catalog.product(product)
                try:
                    then = judge_release(release, prod, date.fromisoformat(judged_on), self.policy)
                except ValueError:
                    hit = False
                else:
                    now = judge_release(release, prod, as_of, self.policy)
                    hit = (
                        then.status,
                        then.eol,
                        then.extended_until,
                        redate_reason(then.reason, judged_on, as_of),
                    ) == (now.status, now.eol, now.extended_until, now.reason)
            self._steady_memo[key] = hit
        return hit

    def _current(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Each host row (inventory id, judged on, unidentified, steady from, steady to, judged by,
        ...) as ``_results`` takes it (its first five columns), a judgement by another release or
        rules than ``judged_by`` made no judgement (counted in ``sourcing.stale``): re-judged."""
        out: list[tuple[Any, ...]] = []
        mine = self.judged_by
        for r in rows:
            if r[1] is not None and r[5] != mine:
                self.sourcing.stale += 1
                out.append((r[0], None, None, None, None))
            else:
                out.append(r[:5])
        return out

    # -- reading --------------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.store._query(sql.format(p=self.store.placeholder), params)

    def _results(self, hosts: Sequence[tuple[Any, ...]], as_of: date, kpis_only: bool = False) -> Iterator[HostResult]:
        day = as_of.isoformat()
        for start in range(0, len(hosts), CHUNK):
            chunk = hosts[start : start + CHUNK]
            steady, ranged, moved = _by_range(chunk, day)
            by_inventory = self._findings(steady, ranged, day)
            contents = self._contents
            # Which hosts are read from their findings, which re-judged: decided before anything
            # else is read, so only the documents of those re-judged (or without a facts row) are.
            plan: list[tuple[str, str | None, Any]] = []
            for inventory_id, judged_on, unidentified, _from, _to in chunk:
                rows = by_inventory.get(inventory_id)
                if judged_on is not None and inventory_id in moved:
                    plan.append((inventory_id, "changed", None))
                elif judged_on is None or not rows:
                    plan.append((inventory_id, "missing", None))
                elif not self._usable(rows, str(judged_on), as_of):
                    plan.append((inventory_id, "changed", None))
                else:
                    plan.append((inventory_id, None, (rows, str(judged_on), int(unidentified))))
            headers = self._headers([i for i, why, _ in plan if why is None])
            bodies = self._bodies([i for i, why, _ in plan if why is not None or i not in headers])
            for inventory_id, why, stored in plan:
                if why is not None:
                    if why == "changed":
                        self.sourcing.changed += 1
                    else:
                        self.sourcing.missing += 1
                    yield self._rejudge(bodies[inventory_id], as_of)
                    continue
                rows, judged_on, unidentified = stored
                self.sourcing.stored += 1
                if kpis_only:
                    rows = [r for r in rows if contents[r[1]].kpi]
                inv = headers.get(inventory_id)
                if inv is None:
                    inv = decode_header(bodies[inventory_id])
                yield self._stored(inv, rows, judged_on, unidentified, as_of)

    def _headers(self, ids: list[str]) -> dict[str, Inventory]:
        """The host facts of the inventories ``ids`` that have a facts row (``scanner.store.facts``),
        as the inventories ``decode_header`` would give for what a report reads."""
        if not ids:
            return {}
        marks = ",".join([self.store.placeholder] * len(ids))
        sql = f"SELECT {facts.select_sql('x')} FROM inventory_facts x WHERE x.inventory_id IN ({marks})"  # noqa: S608
        header, texts = facts.header, self._texts
        return {row[0]: header(row, texts) for row in self.store._query(sql, ids)}

    def _bodies(self, ids: list[str]) -> dict[str, bytes]:
        """The stored documents of the inventories ``ids``."""
        if not ids:
            return {}
        marks = ",".join([self.store.placeholder] * len(ids))
        sql = f"SELECT inventory_id, body FROM inventories WHERE inventory_id IN ({marks})"  # noqa: S608
        return {i: bytes(body) for i, body in self.store._query(sql, ids)}

    def _findings(self, steady: list[str], ranged: list[str], day: str) -> dict[str, list[tuple[Any, ...]]]:
        """The finding rows (inventory id, contents id, entries) of ``steady`` inventories and of
        ``ranged`` ones (with their state on ``day`` after those), by inventory, each in its
        findings' order; the contents they name are read (``self._contents``) if not read before."""
        p = self.store.placeholder
        by_inventory: dict[str, list[tuple[Any, ...]]] = {}
        queries: tuple[tuple[str, list[str], list[str]], ...] = (
            (_STEADY_FINDINGS_SQL, steady, []),
            (_FINDINGS_SQL, ranged, [day, day]),
        )
        contents = self._contents
        unread: set[str] = set()
        for query, wanted, first in queries:
            if wanted:
                sql = query.format(p=p, marks=",".join([p] * len(wanted)))
                for row in self.store._query(sql, [*first, self.dataset_version, *wanted]):
                    by_inventory.setdefault(row[0], []).append(row)
                    if row[1] not in contents:
                        unread.add(row[1])
        wanted_ids = sorted(unread)
        for start in range(0, len(wanted_ids), CHUNK):
            part = wanted_ids[start : start + CHUNK]
            sql = _CONTENTS_SQL.format(marks=",".join([p] * len(part)))
            for row in self.store._query(sql, part):
                contents[row[0]] = _Content(row, self._details, self._dates)
        return by_inventory

    def _usable(self, rows: list[tuple[Any, ...]], judged_on: str, as_of: date) -> bool:
        """Every finding has a state on ``as_of``, the state it had when judged, in the same words.
        A row of a steady judgement (three columns) has its judged state on ``as_of``; a row read
        with its status range carries that range's state."""
        contents = self._contents
        if len(rows[0]) > 3:
            for r in rows:
                if r[3] is None or contents[r[1]].state != (r[3], r[4], r[5]):
                    return False
        if judged_on == as_of.isoformat():
            return True
        key = (judged_on, as_of)
        known = self._steady_by_day.get(key)
        if known is None:
            known = self._steady_by_day[key] = {}
        for r in rows:
            cid = r[1]
            hit = known.get(cid)
            if hit is None:
                c = contents[cid]
                hit = known[cid] = self._steady(c.product, c.cycle, judged_on, as_of)
            if not hit:
                return False
        return True

    def _stored(
        self, inv: Inventory, rows: list[tuple[Any, ...]], judged_on: str, unidentified: int, as_of: date
    ) -> HostResult:
        key, hostname, site = host_key(inv), inv.host.hostname, inv.host.site
        tags = list(inv.host.tags)  # one list for the host's findings (read, never changed, by the report)
        contents = self._contents
        findings = []
        if judged_on == as_of.isoformat():
            # positional, in Finding's field order (host_key, hostname, site, then the contents'
            # kind to group, then count, tags): each distinct contents' objects made once
            for r in rows:
                findings.append(Finding(key, hostname, site, *contents[r[1]].args, int(r[2]), tags))
        else:
            redated = self._redated.get((judged_on, as_of))
            if redated is None:
                redated = self._redated[(judged_on, as_of)] = {}
            for r in rows:
                cid = r[1]
                args = redated.get(cid)
                if args is None:
                    args = redated[cid] = contents[cid].redated(judged_on, as_of, self._details)
                findings.append(Finding(key, hostname, site, *args, int(r[2]), tags))
        return HostResult(inventory=inv, findings=findings, unidentified=unidentified)

    def _rejudge(self, body: bytes, as_of: date) -> HostResult:
        self.sourcing.rejudged += 1
        memo = self._memos.get(as_of)
        if memo is None:
            memo = self._memos[as_of] = MatchMemo(self.ctx, as_of, self.policy)
        inv = decode_body(body)
        result = match_inventory(inv, self.ctx, as_of, self.policy, memo)
        inv.software = []  # the report needs the host's facts only; its packages are judged
        return result


def _by_range(hosts: Sequence[tuple[Any, ...]], day: str) -> tuple[list[str], list[str], set[str]]:
    """The judged inventories of ``hosts`` (inventory id, judged on, unidentified, steady from,
    steady to) whose steady range holds ``day``, those without one (their statuses are looked up
    per finding), and those whose range does not hold it (a finding changed state: re-judged)."""
    steady: list[str] = []
    ranged: list[str] = []
    moved: set[str] = set()
    for inventory_id, judged_on, _, start, end in hosts:
        if judged_on is None:
            continue
        if start is None or end is None:
            ranged.append(inventory_id)
        elif start <= day < end:
            steady.append(inventory_id)
        else:
            moved.add(inventory_id)
    return steady, ranged, moved


# From this many hosts on, the previous scan (what "change since" compares with) is read and
# ranked in a forked process while this one reads and ranks the latest: two cores, half the wait.
BACKGROUND_MIN_HOSTS = 2000


def latest_day(store: Store, site: str | None = None) -> date | None:
    """The last day any host's latest inventory was collected (the "previous scan" is before it)."""
    sql = "SELECT i.collected_at FROM hosts h JOIN inventories i ON i.inventory_id = h.last_inventory_id"
    rows = store._query(sql + (f" WHERE h.site = {store.placeholder}" if site else ""), [site] if site else [])
    return max((d for d in (_day(r[0]) for r in rows) if d is not None), default=None)


PreviousOutcome = tuple["tuple[PreviousKpis, date] | None", Sourcing]


def previous_figures(
    store: Store,
    ctx: IdentifyContext,
    policy: Policy,
    cfg: ReportConfig,
    register: Register | None,
    day: str,
    fallback: date,
    site: str | None,
    judged_by: str | None = None,
) -> PreviousOutcome:
    """The previous scan's KPIs (each host's latest inventory before ``day``) and their date, or
    None when there is no previous scan; with how its host results were made.  ``judged_by``: as
    ``StoredResults`` takes it."""
    reader = StoredResults(store, ctx, policy, judged_by)
    found, on = reader.before(day, fallback, site, kpis_only=True)
    if not found or on is None:
        return None, reader.sourcing
    return (previous_kpis(found, on, cfg, register), on), reader.sourcing


def _previous_in_child(send: Any, url: str, *args: Any) -> None:
    from scanner.store.open import open_store

    try:
        with open_store(url, judge=False) as store:  # its own connection: the parent's is not shared
            send.send((True, previous_figures(store, *args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which does the work itself
        try:
            send.send((False, repr(exc)))
        except Exception:  # noqa: BLE001, S110 - the parent sees the pipe close and does the work itself
            pass
    finally:
        send.close()


class Background:
    """``previous_figures`` in a forked process (where ``fork`` exists); ``result()`` waits for it.
    A child that fails for any reason is logged and the work is done here instead: the report
    never depends on the second process, only its speed does."""

    def __init__(self, url: str, store: Store, *args: Any) -> None:
        import multiprocessing

        self._store, self._args = store, args
        self._proc: Any = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        mp = multiprocessing.get_context("fork")
        self._recv, send = mp.Pipe(duplex=False)
        self._proc = mp.Process(target=_previous_in_child, args=(send, url, *args), daemon=True)
        self._proc.start()
        send.close()

    def result(self) -> PreviousOutcome:
        if self._proc is not None:
            try:
                ok, value = self._recv.recv()
            except (EOFError, OSError) as exc:
                ok, value = False, repr(exc)
            finally:
                self._recv.close()
                self._proc.join()
            if ok:
                outcome: PreviousOutcome = value  # what _previous_in_child sent: previous_figures()
                return outcome
            log.info("the previous scan's figures are computed here (the background process failed: %s)", value)
        return previous_figures(self._store, *self._args)


def host_count(store: Store, site: str | None = None) -> int:
    """Hosts with a stored inventory (of ``site``)."""
    sql = "SELECT COUNT(*) FROM hosts" + (f" WHERE site = {store.placeholder}" if site else "")  # noqa: S608
    return int(store._query(sql, [site] if site else [])[0][0])


def _day(stamp: Any) -> date | None:
    try:
        return date.fromisoformat(str(stamp)[:10])
    except ValueError:
        return None
