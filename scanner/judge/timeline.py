"""Findings as stored rows: an inventory judged once per dataset, with its status on every date.

Why persist: a report that re-matches every stored inventory with whatever dataset is installed
now can neither be reproduced (the verdicts of last year's DSPT submission are gone once the
dataset moves) nor read by a BI tool.  So each inventory is judged when it is stored (and again
when the dataset changes) and the findings are written with the rule, evidence, confidence and
dataset version that decided them, plus the **date ranges of their statuses**: "what was the
status on D" is then a range lookup, not a re-match.

How the ranges are made exact: a finding's verdict on a date is ``scanner.judge.match.match_inventory``
itself (never a second copy of the phase rules), evaluated on the finding's own package records
and the host's OS only (what decides it), at every date where the answer can change: the phase
ends of its release and of the host OS release, the supplier's end date, each minus the
"ending soon" lookahead and plus one day (phases end *after* their last day).  Each range is then
checked at its last day; a change the candidate dates missed (a date from the host's own Debian
security-support lists) is found by bisection.  Ranges are memoised per (the host's OS release and
judged facts, records), so an estate of thousands of hosts costs one computation per distinct
package release and OS release (``_host_signature``); the OS finding's own ranges per OS record.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from agents.inventory import Inventory, OsInfo, Software
from scanner.identify.registry import IdentifyContext
from scanner.judge import fingerprint
from scanner.judge.builds import BuildMemo
from scanner.judge.match import HOST_SOURCES, HostResult, MatchMemo, match_inventory, result_for_host
from scanner.model import Finding, Identification, Policy, Status
from scanner.store.columns import indexed  # the site is an indexed column (PostgreSQL's limit)
from scanner.store.schema import FIRST_DAY, OPEN_END

# (status, eol, extended_until) on one date: what a range holds.
State = tuple[Status, date | None, date | None]
# One status range: first day, day after the last (OPEN_END: open), and the state.
Segment = tuple[str, str, Status, date | None, date | None]

# What ``Judge.judge`` keeps per build, OS and day: the findings, unidentified count, and ranges.
_Template = tuple[list[Finding], int, list[list[Segment]]]

_FIRST = date(1, 1, 2)
_LAST = date(9999, 12, 30)


def finding_id(inventory_id: str, dataset_version: str, ordinal: int) -> str:
    """Stable id of one stored finding (32 hex digits: within every index-entry limit)."""
    text = f"{inventory_id}\x1f{dataset_version}\x1f{ordinal}"
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def group_key(f: Finding) -> str:
    """The key ``match_inventory`` groups a software finding's packages under."""
    return f.group or f"{f.product}:{f.cycle}:{f.name}"


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


@dataclass(slots=True)
class Judged:
    """One inventory judged with one dataset: the rows ``findings``/``finding_status`` take."""

    inventory_id: str
    dataset_version: str
    judged_on: str
    unidentified: int
    result: HostResult
    segments: list[list[Segment]] = field(default_factory=list)  # per finding, in order
    # the judge's fingerprint (``scanner.judge.fingerprint``): which release and rules judged it
    judged_by: str | None = None

    def finding_rows(self, stored_id: str) -> list[tuple[Any, ...]]:
        rows = []
        for ordinal, f in enumerate(self.result.findings):
            d = f.detail
            rows.append(
                (
                    finding_id(stored_id, self.dataset_version, ordinal),
                    stored_id,
                    self.dataset_version,
                    ordinal,
                    f.host_key,
                    indexed(f.site),
                    f.hostname,
                    f.kind,
                    f.name,
                    f.version,
                    f.product,
                    f.cycle,
                    f.product_label,
                    f.group,
                    f.count,
                    d.rule,
                    d.reason,
                    json.dumps(d.evidence, ensure_ascii=False),
                    d.confidence,
                    d.release_label,
                    d.source,
                    self.judged_on,
                    f.status.value,
                    _iso(f.eol),
                    _iso(f.extended_until),
                )
            )
        return rows

    def steady(self) -> tuple[str | None, str | None]:
        """The dates ``[from, to)`` on which every finding is in the state it was judged in: each
        one's status range around the judging day, intersected (``judgements.steady_from`` and
        ``steady_to``, schema migration 7, which fills stored judgements the same way).  (None,
        None) for no findings, or when a finding's range around the day holds another state."""
        day, lo, hi = self.judged_on, "", ""
        if len(self.segments) != len(self.result.findings):
            return None, None
        for f, segs in zip(self.result.findings, self.segments, strict=True):
            for start, end, status, eol, ext in segs:
                if start <= day < end:
                    if (status, eol, ext) != (f.status, f.eol, f.extended_until):
                        return None, None
                    lo, hi = max(lo, start), min(hi, end) if hi else end
                    break
            else:
                return None, None
        return (lo, hi) if lo else (None, None)

    def status_rows(self, stored_id: str, ids: list[str] | None = None) -> list[tuple[Any, ...]]:
        """``ids``: the findings' ids as ``finding_rows(stored_id)`` made them (else made here)."""
        rows = []
        for ordinal, segs in enumerate(self.segments):
            fid = ids[ordinal] if ids is not None else finding_id(stored_id, self.dataset_version, ordinal)
            for start, end, status, eol, ext in segs:
                rows.append((fid, start, end, status.value, _iso(eol), _iso(ext)))
        return rows


class Judge:
    """Judges inventories with one context and policy (one dataset version), memoised per run."""

    def __init__(
        self, ctx: IdentifyContext, policy: Policy, fallback_day: date | None = None, judged_by: str | None = None
    ) -> None:
        self.ctx, self.policy = ctx, policy
        self.dataset_version = policy.dataset_version(ctx.catalog.version)
        # written with every judgement (``judgements.judged_by``): the installed release's by default
        self.judged_by = judged_by if judged_by is not None else fingerprint.installed()
        # judged_on of an inventory whose collection date is unreadable (the store never reads the
        # clock): its status ranges are complete whatever the day; only the column says so.
        self.fallback_day = fallback_day or _FIRST
        self._base = MatchMemo(ctx, self.fallback_day, policy)
        self._memos: dict[date, MatchMemo] = {}
        self._timelines: dict[tuple[Any, ...], list[Segment]] = {}
        self._lookahead = timedelta(days=policy.lookahead_days)
        self._builds = BuildMemo()
        # An inventory's OS release (its status ranges' candidate dates), by identity while it lives.
        self._os_releases: dict[int, tuple[Inventory, tuple[str | None, str | None]]] = {}

    # -- memo per date, sharing the (date-independent) identifications --------------------------

    def _memo(self, on: date) -> MatchMemo:
        memo = self._memos.get(on)
        if memo is None:
            memo = MatchMemo(self.ctx, on, self.policy)
            memo.known = self._base.known
            memo._shared = self._base._shared
            memo.distro = self._base.distro
            if len(self._memos) > 4096:
                self._memos.clear()
            self._memos[on] = memo
        return memo

    def judged_on(self, inv: Inventory) -> date:
        try:
            return date.fromisoformat(inv.collected_at[:10])
        except ValueError:
            return self.fallback_day

    def judge(self, inv: Inventory, on: date | None = None, build: tuple[int, ...] | None = None) -> Judged:
        """``inv`` judged on ``on`` (default: the day it was collected) with every status range.

        An estate stores the same build again and again: an inventory with the very package list
        (``BuildMemo``), the same OS (every field, facts included) and the same day as one judged
        before gets that judgement's findings and ranges with its own host's names.  Nothing else of
        the inventory is read by ``match_inventory``, so the rows are those it would make.
        ``build``: ``BuildMemo.key(inv.software)`` when the caller has made it."""
        day = on or self.judged_on(inv)
        if build is None:
            build = self._builds.key(inv.software)
        variants: list[tuple[OsInfo, date, _Template]] | None = self._builds.get(build)
        if variants is not None:
            for os_seen, day_seen, template in variants:
                if day_seen == day and os_seen == inv.os:
                    return self._again(inv, day, template)
        judged = self._judge(inv, day)
        template = ([replace(f) for f in judged.result.findings], judged.unidentified, list(judged.segments))
        entry = (copy.deepcopy(inv.os), day, template)
        if variants is None:
            self._builds.put(build, inv.software, [entry])
        elif len(variants) < 16:
            variants.append(entry)
        return judged

    def _again(self, inv: Inventory, day: date, template: _Template) -> Judged:
        """A judgement made for another host with the same build, OS and day, as ``inv``'s own."""
        findings, unidentified, segments = template
        result = result_for_host(HostResult(inventory=inv, findings=findings, unidentified=unidentified), inv)
        return Judged(
            inv.inventory_id,
            self.dataset_version,
            day.isoformat(),
            unidentified,
            result,
            list(segments),
            self.judged_by,
        )

    def _judge(self, inv: Inventory, day: date) -> Judged:
        result = match_inventory(inv, self.ctx, day, self.policy, self._memo(day))
        judged = Judged(
            inv.inventory_id, self.dataset_version, day.isoformat(), result.unidentified, result, [], self.judged_by
        )
        members = self._members(inv, result)
        host_sig: str | None = None
        for f in result.findings:
            if f.kind == "os":
                recs: list[Software] = []
                key: tuple[Any, ...] = (_os_signature(inv), "os")
            else:
                if host_sig is None:
                    host_sig = _host_signature(inv, self.ctx)
                pairs = members.get(group_key(f), [])
                recs = [sw for sw, _ in pairs]
                key = (host_sig, group_key(f), tuple(_member_key(sw, ident) for sw, ident in pairs))
            segs = self._timelines.get(key)
            if segs is not None and _state_on(segs, day) != (f.status, f.eol, f.extended_until):
                segs = None  # a memo that does not reproduce this host's own finding is not used
            if segs is None:
                segs, alone = self._timeline(inv, f, recs, day)
                if alone:  # ranges that read other packages of this host are this host's only
                    if len(self._timelines) > 200_000:
                        self._timelines.clear()
                    self._timelines[key] = segs
            judged.segments.append(segs)
        return judged

    # -- the records behind each finding ------------------------------------------------------

    def _members(self, inv: Inventory, result: HostResult) -> dict[str, list[tuple[Software, Identification]]]:
        """Each software finding's package records and their identifications, grouped exactly as
        ``match_inventory`` does."""
        os_f = result.os_finding
        os_product = os_f.product if os_f else None
        os_cycle = os_f.cycle if os_f else None
        host_os = {"host_os_product": os_product, "host_os_cycle": os_cycle} if os_product else {}
        os_key = (os_product, os_cycle)
        groups: dict[str, list[tuple[Software, Identification]]] = {}
        for sw in inv.software:
            ident = self._base.identify(sw, host_os, os_key)
            if ident.product is None:
                continue
            groups.setdefault(ident.group or f"{ident.product}:{ident.cycle}:{sw.name}", []).append((sw, ident))
        return groups

    # -- the status ranges --------------------------------------------------------------------

    def _timeline(self, inv: Inventory, f: Finding, recs: list[Software], day: date) -> tuple[list[Segment], bool]:
        """``f``'s status ranges, and whether its own records and the host's OS alone decided them
        (else the whole host was judged: the ranges may depend on its other packages)."""
        reduced = Inventory(
            host=inv.host, os=inv.os, software=list(recs), collected_at=inv.collected_at, inventory_id=inv.inventory_id
        )
        want = "os" if f.kind == "os" else group_key(f)

        def state_of(subject: Inventory) -> Callable[[date], State]:
            def state(on: date) -> State:
                hit = _pick(match_inventory(subject, self.ctx, on, self.policy, self._memo(on)), want)
                return (hit.status, hit.eol, hit.extended_until) if hit else (Status.UNKNOWN, None, None)

            return state

        known: State = (f.status, f.eol, f.extended_until)
        state = state_of(reduced)
        alone = state(day) == known
        if not alone:  # the records alone do not reproduce the finding: judge the whole host
            state = state_of(inv)
        return timeline(state, self._candidates(inv, f), known, day), alone

    def _candidates(self, inv: Inventory, f: Finding) -> set[date]:
        dates: set[date] = set()
        catalog = self.ctx.catalog
        os_f_product = os_f_cycle = None
        if f.kind != "os":
            os_f_product, os_f_cycle = _os_release(inv, self.ctx, self._os_releases)
        for product, cycle in ((f.product, f.cycle), (os_f_product, os_f_cycle)):
            if product and cycle:
                rel = catalog.release(product, cycle)
                if rel is not None:
                    for value in (rel.eol, rel.eoes, rel.eoas):
                        if isinstance(value, date) and not isinstance(value, bool):
                            dates.add(value)
        for value in (f.eol, f.extended_until):
            if value is not None:
                dates.add(value)
        supplier = inv.os.facts.get("supplier_support_end") if isinstance(inv.os.facts, dict) else None
        if isinstance(supplier, str):
            try:
                dates.add(date.fromisoformat(supplier))
            except ValueError:
                pass
        out: set[date] = set()
        for d in dates:
            for delta in (-self._lookahead, timedelta(0), timedelta(days=1)):
                try:
                    out.add(d + delta)
                except OverflowError:
                    continue
        return {d for d in out if _FIRST <= d <= _LAST}


def _pick(result: HostResult, want: str) -> Finding | None:
    if want == "os":
        return result.os_finding
    return next((f for f in result.findings if f.kind != "os" and group_key(f) == want), None)


def _os_release(
    inv: Inventory, ctx: IdentifyContext, seen: dict[int, tuple[Inventory, tuple[str | None, str | None]]]
) -> tuple[str | None, str | None]:
    """``inv``'s OS product and cycle; ``seen``: the owner's answers by inventory identity (each
    entry holds its inventory, so an ``id()`` is never reused while it is kept; bounded)."""
    hit = seen.get(id(inv))
    if hit is not None and hit[0] is inv:
        return hit[1]
    ident = ctx.identify(inv.os.identify_record())
    value = (ident.product, ident.cycle)
    if len(seen) > 64:
        seen.clear()
    seen[id(inv)] = (inv, value)
    return value


# The OS facts ``match_inventory`` reads (the supplier's date, the MDS2 reference, the security-support,
# signing-key, apt and SUSE lifecycle evidence); tests/unit/test_timeline_memo.py checks that
# scanner/judge reads no other, so the signatures below hold everything of a host that decides a verdict.
JUDGED_FACTS = ("supplier_support_end", "mds2", "security_support", "rpm_keys", "apt_support", "suse_lifecycle")


def _judged_facts(inv: Inventory) -> list[Any]:
    facts = inv.os.facts if isinstance(inv.os.facts, dict) else {}
    return [facts.get(name) for name in JUDGED_FACTS]


def _os_signature(inv: Inventory) -> str:
    """What of the OS decides the OS finding: its identification record and the facts match reads."""
    return json.dumps([inv.os.identify_record(), _judged_facts(inv)], sort_keys=True, default=str)


def _host_signature(inv: Inventory, ctx: IdentifyContext) -> str:
    """What of the host decides a package's verdict: which OS release it is (the identification
    ``match_inventory`` tells the package and judges the host's OS by: product, cycle, the releases
    the evidence also fits) and the facts match reads -- not the OS record itself, so the packages of
    two hosts of one release with other update revisions (a ConfigMgr estate: a UBR per machine)
    share their ranges instead of each host computing its own."""
    ident = ctx.identify(inv.os.identify_record())
    return json.dumps(
        [ident.product, ident.cycle, ident.newer_than_known, ident.spans, ident.alternatives, _judged_facts(inv)],
        sort_keys=True,
        default=str,
    )


def _member_key(sw: Software, ident: Identification) -> tuple[Any, ...]:
    """What of one package decides its finding's state (status, end dates) on a host of a given
    ``_host_signature``: its release as identified -- ``verdict_for`` reads nothing else of it, and
    the grouping picks a representative by release and verdict -- unless its source's verdict also
    reads the record (a distribution's build, a banner: ``match.HOST_SOURCES``).  So one estate's
    thousand version strings of one product release share their ranges."""
    if sw.source in HOST_SOURCES:
        return _record_key(sw)
    return ("release", ident.product, ident.cycle, ident.newer_than_known, ident.spans, ident.alternatives)


def _state_on(segs: list[Segment], day: date) -> State | None:
    """The state ``segs`` give ``day`` (None when no range holds it)."""
    text = day.isoformat()
    for first, last, status, eol, ext in segs:
        if first <= text < last:
            return (status, eol, ext)
    return None


def _record_key(sw: Software) -> tuple[Any, ...]:
    return (
        sw.source,
        sw.name,
        sw.version,
        sw.publisher,
        sw.arch,
        sw.system_component,
        sw.parent_key_name,
        sw.release_type,
        sw.source_package,
        sw.origin,
        sw.windows_installer,
        sw.scope,
        sw.key,
        sw.registry_view,
        tuple(sw.collapsed),
    )


def timeline(state: Callable[[date], State], candidates: set[date], known: State, day: date) -> list[Segment]:
    """The ranges of ``state`` over all dates: evaluated at each candidate date (where it may
    change), each range verified at its last day and split by bisection where it changed unseen.
    ``known`` is the state on ``day`` (already computed by the caller; checked, not trusted)."""
    points = sorted(candidates | {_FIRST, day})
    cache: dict[date, State] = {}

    def at(d: date) -> State:
        hit = cache.get(d)
        if hit is None:
            hit = cache[d] = state(d)
        return hit

    starts: list[date] = []
    for d in points:
        if not starts or at(d) != at(starts[-1]):
            starts.append(d)
    # verify each range at its last day; bisect a change the candidates did not predict
    i = 0
    while i < len(starts):
        lo = starts[i]
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else _LAST
        if end > lo and at(end) != at(lo):
            a, b = lo, end  # at(a) == at(lo), at(b) != at(lo)
            while (b - a).days > 1:
                mid = a + timedelta(days=(b - a).days // 2)
                if at(mid) == at(lo):
                    a = mid
                else:
                    b = mid
            starts.insert(i + 1, b)
            continue  # re-verify the shortened range
        i += 1
    if at(day) != known:  # the ranges are made by the same code that judged the day: never differs
        raise AssertionError(f"status range disagrees with the judgement on {day}: {at(day)} != {known}")
    segs: list[Segment] = []
    for i, start in enumerate(starts):
        st, eol, ext = at(start)
        first = FIRST_DAY if i == 0 else start.isoformat()
        last = starts[i + 1].isoformat() if i + 1 < len(starts) else OPEN_END
        segs.append((first, last, st, eol, ext))
    return segs
