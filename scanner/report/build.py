"""Findings -> the report view model (per site, ``scanner.report.model``), which every renderer in ``reports`` takes.

Everything the report decides is decided here, once: per site, the devices ranked by priority with
the action that clears them, and for the estate the product roll-ups, the roadmap by quarter and
NHS financial year, the KPIs (with the change since the previous scan), coverage, the exception
register and the DSPT / CAF evidence summary.  The types it fills are in ``scanner.report.model``.

Exceptions (``scanner.plan.risk_register``): a finding covered by an *active* exception leaves the action
list (it scores zero and triggers no ``--fail-on``) but stays visible, marked "accepted"; one
covered by an *expired* exception comes back, marked "exception expired".
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from scanner.judge.match import HostResult, worst_status
from scanner.model import Finding, Status
from scanner.plan.actions import (
    Action,
    EsuLine,
    ExtendedCost,
    device_action,
    esu_line,
    extended_costs,
    planned_action,
    price_for,
    release_name,
)
from scanner.plan.config import EntitlementPrice, ReportConfig
from scanner.plan.periods import (
    add_quarters,
    financial_year,
    financial_year_start,
    median,
    next_financial_year,
    quarter,
    quarter_start,
)
from scanner.plan.priority import Score, score_device, score_finding
from scanner.plan.readiness import Readiness, assess, cpu_rules, is_windows_10
from scanner.plan.risk_register import Register, RiskException
from scanner.report.model import (
    ACCEPTED,
    EXPIRED,
    KPI_NAMES,
    NOT_YET,
    EstateReport,
    Evidence,
    EvidenceCoverage,
    EvidenceScope,
    ExtendedSupportRow,
    FindingRow,
    HostRow,
    KpiChange,
    KpiName,
    Kpis,
    PlanRow,
    ProductRollup,
    RegisterRow,
    RoadmapRow,
    SiteReport,
    UnsupportedItem,
    round4,
)
from scanner.store.sqlite import HostStatus

if TYPE_CHECKING:
    from agents.inventory import Inventory

SERVER_TAGS = {"server"}


# ------------------------------------------------------------------------------------------------


def _exception_state(entry: RiskException, as_of: date) -> str:
    if as_of > entry.expires:
        return EXPIRED
    if as_of < entry.approved_on:
        return NOT_YET
    return ACCEPTED


def _is_server(res: HostResult, os_f: Finding | None) -> bool:
    tags = {t.lower() for t in res.inventory.host.tags}
    product_type = res.inventory.os.facts.get("product_type") if isinstance(res.inventory.os.facts, dict) else None
    return (
        bool(tags & SERVER_TAGS)
        or (os_f is not None and os_f.product == "windows-server")
        or product_type in (2, 3, "2", "3")
    )


def _age_days(collected_at: str, as_of: date) -> int | None:
    try:
        return (as_of - date.fromisoformat(collected_at[:10])).days
    except ValueError:
        return None


# How a host that no agent or probe inventoried is marked wherever its name is shown (DSPT 8.1/8.2.1:
# "discovered, not inventoried").
SOURCE_MARKS = {"discovered": " (discovered, not inventoried)", "register": " (device register, not inventoried)"}


def host_source(inv: Any) -> str:
    """inventory | discovered | register: where a host's evidence came from."""
    collector = inv.collector
    if collector.transport == "discovery":
        return "discovered"
    if getattr(collector, "source", "") == "register":
        return "register"
    return "inventory"


def open_end(f: Finding) -> date | None:
    """When an open finding stops being acceptable: its end of support, or for an ``extended``
    finding the end of the extended phase covering it (None when no date is known)."""
    if f.status is Status.EXTENDED:
        return f.extended_until
    return f.eol


def _binding(open_rows: list[FindingRow], as_of: date) -> tuple[Finding | None, date | None]:
    """The open finding whose end comes first, and that end (a finding without a date binds now)."""
    best: tuple[date, int, Finding] | None = None
    for r in open_rows:
        end = open_end(r.finding) or as_of
        key = (end, r.finding.kind != "os", r.finding)
        if best is None or key[:2] < best[:2]:
            best = (end, key[1], r.finding)
    return (best[2], best[0]) if best else (None, None)


def phase_name(f: Finding, cfg: ReportConfig) -> str:
    """The extended phase covering an ``extended`` finding, by name: the priced entitlement's name,
    "<product> LTS (free)" for a free phase, else "paid extended support (site catalogue)"."""
    price = price_for(f, cfg)
    if price is not None:
        return price.name
    if (f.product or "") in cfg.free_extended:
        return f"{f.product_label or f.product} LTS (free)"
    _, marker, distro = f.detail.rule.rpartition("+distro.")
    if marker and distro:  # a distribution build follows its OS release's phase
        if distro in cfg.free_extended:
            return f"{distro.capitalize()} LTS (free), with the OS release"
        return "the OS release's extended support (site catalogue)"
    return "paid extended support (site catalogue)"


class _Exceptions:
    """``Register.match`` for the findings of one report: entries are tried only for findings of
    a product some entry names (or when an entry names no product), in file order as before."""

    def __init__(self, register: Register | None) -> None:
        self.register = register
        entries = register.entries if register is not None else []
        self.any_product = any(not e.product for e in entries)
        self.products = {e.product for e in entries if e.product}

    def match(self, f: Finding) -> RiskException | None:
        if self.register is None:
            return None
        if not self.any_product and (f.product or "") not in self.products:
            return None
        return self.register.match(f)


def _row_order(r: FindingRow) -> tuple[float, int, bool, str, str]:
    f = r.finding
    return (-r.score.total, -f.status.severity, f.kind != "os", f.product or "", f.name)


class _HostRanker:
    """Everything ``build_host_rows`` decides for one host, with the memos the estate shares:
    scores, Windows 11 readiness and device scores depend on few inputs thousands of hosts share."""

    def __init__(self, results: list[HostResult], as_of: date, cfg: ReportConfig, register: Register | None) -> None:
        self.as_of, self.cfg, self.pcfg = as_of, cfg, cfg.priority
        self.exceptions = _Exceptions(register)
        self.horizon = add_quarters(quarter_start(as_of), cfg.roadmap_quarters)
        self.devices_by_release = _devices_by_release(results)
        # A flat-fee entitlement is shared by every device it covers: count them once, estate-wide.
        self.shared_by = _shared_entitlements(results, cfg)
        self.costs_extended = bool(cfg.entitlement_prices)
        self.score_memo: dict[tuple[object, ...], tuple[Score, str]] = {}
        self.readiness_memo: dict[tuple[object, ...], Readiness] = {}  # an estate repeats a few hardware models
        self.device_memo: dict[tuple[int, ...], Score] = {}

    def rows(self, res: HostResult, score_tags: list[str]) -> list[FindingRow]:
        """The host's findings with their exception and score, highest first."""
        as_of, match, score = self.as_of, self.exceptions.match, self._score
        host_tags = tuple(score_tags)
        tag_keys: dict[int, tuple[str, ...]] = {}  # a host's findings usually share one tags list
        rows: list[FindingRow] = []
        for f in res.findings:
            row = FindingRow(f)
            if f.actionable:
                entry = match(f)
                if entry is not None:
                    row.exception, row.exception_state = entry, _exception_state(entry, as_of)
                if row.exception_state != ACCEPTED:
                    tags = tag_keys.get(id(f.tags))
                    if tags is None:
                        tags = tag_keys[id(f.tags)] = tuple(f.tags)
                    row.score, row.band = score(f, score_tags, host_tags, tags)
            rows.append(row)
        rows.sort(key=_row_order)
        return rows

    def _score(
        self, f: Finding, score_tags: list[str], host_tags: tuple[str, ...], tags: tuple[str, ...]
    ) -> tuple[Score, str]:
        """``score_finding`` and its band; ``host_tags``/``tags``: ``score_tags``/``f.tags`` as tuples."""
        n = self.devices_by_release[(f.product or "", f.cycle or "")]
        skey = (f.kind, f.product, f.cycle, f.status, f.eol, n, host_tags, tags)
        hit = self.score_memo.get(skey)
        if hit is None:
            sc = score_finding(f, self.as_of, self.pcfg, n, score_tags)
            hit = self.score_memo[skey] = (sc, self.pcfg.band(sc.total))
        return hit

    def readiness(self, os_f: Finding | None, inv: Inventory) -> Readiness | None:
        if os_f is None or not is_windows_10(os_f.product, os_f.cycle):
            return None
        hw = inv.hardware
        rkey = (
            hw.tpm_present,
            hw.tpm_version,
            hw.firmware_type,
            hw.secure_boot,
            hw.memory_bytes,
            hw.system_disk_bytes,
            hw.cpu_model,
        )  # every fact ``assess`` reads
        readiness = self.readiness_memo.get(rkey)
        if readiness is None:
            readiness = self.readiness_memo[rkey] = assess(hw)
        return readiness

    def action(
        self,
        os_f: Finding | None,
        rows: list[FindingRow],
        open_rows: list[FindingRow],
        readiness: Readiness | None,
        server: bool,
    ) -> tuple[Action, Finding | None, date | None, Finding | None]:
        """The device's action, its binding finding and due date, and its open OS finding."""
        os_open = next((r.finding for r in open_rows if r.finding.kind == "os"), None)
        apps_open = [r.finding for r in open_rows if r.finding.kind != "os"]
        action = device_action(os_open, apps_open, readiness, self.cfg, server)
        binding, due = _binding(open_rows, self.as_of)
        if (
            binding is None
            and os_f is not None
            and os_f.status is Status.SUPPORTED
            and os_f.eol is not None
            and self.as_of <= os_f.eol < self.horizon
            and not any(r.accepted for r in rows if r.finding is os_f)
        ):
            action, binding, due = planned_action(os_f, self.cfg), os_f, os_f.eol
        return action, binding, due, os_open

    def extended(self, rows: list[FindingRow], esu: EsuLine | None) -> tuple[list[ExtendedCost], float | None]:
        """The device's paid extended phases and their yearly total in the report's currency."""
        cfg = self.cfg
        if not (self.costs_extended or esu is not None):
            return [], None
        ext = [r.finding for r in rows if r.finding.status is Status.EXTENDED]
        extended = extended_costs(ext, cfg, self.shared_by, esu, cfg.currency)
        same = [x.yearly for x in extended if x.currency == cfg.currency]
        return extended, (sum(same) if same else None)

    def device_score(self, open_rows: list[FindingRow]) -> Score:
        key = tuple(id(r.score) for r in open_rows)
        hit = self.device_memo.get(key)
        if hit is None:
            hit = self.device_memo[key] = score_device((r.score for r in open_rows), self.pcfg)
        return hit

    def host(self, res: HostResult, scored: bool = True) -> HostRow:
        """One ``HostRow``; ``scored`` False: only what the KPIs read (``compute_kpis``)."""
        inv = res.inventory
        tags = list(inv.host.tags)
        os_f = res.os_finding
        server = _is_server(res, os_f)
        # the device's role counts like a tag: a Windows Server is a server even if nobody tagged it
        score_tags = tags + ["server"] if server and "server" not in {t.lower() for t in tags} else tags
        rows = self.rows(res, score_tags)
        readiness = self.readiness(os_f, inv)
        open_rows = [r for r in rows if r.finding.actionable and r.exception_state != ACCEPTED]
        action, binding, due, os_open = self.action(os_f, rows, open_rows, readiness, server)
        esu = esu_line(os_open, self.cfg, self.as_of)
        extended, extended_cost = self.extended(rows, esu)
        age = _age_days(inv.collected_at, self.as_of)
        source = host_source(inv)
        h = HostRow(
            hostname=inv.host.hostname + SOURCE_MARKS.get(source, ""),
            name=inv.host.hostname,
            source=source,
            host_key=res.findings[0].host_key if res.findings else "",
            site=inv.host.site or "(no site)",
            os=os_f,
            rows=rows,
            worst=Status.UNKNOWN,
            collected_at=inv.collected_at,
            unidentified=res.unidentified,
            tags=tags,
            action=action,
            readiness=readiness,
            binding=binding,
            due=due,
            esu=esu,
            extended=extended,
            extended_cost=extended_cost,
            stale=age is not None and age > self.cfg.stale_days,
            open_rows=open_rows,
        )
        if scored:
            hw = inv.hardware
            h.worst = worst_status(res.findings)
            h.score = score = self.device_score(open_rows)
            h.band = self.pcfg.device_band(score.total, os_open is not None, score_tags)
            h.hardware = " ".join(x for x in (hw.vendor, hw.model) if x)
            h.cpu = hw.cpu_model
            h.accepted_rows = [r for r in rows if r.exception_state == ACCEPTED]
        return h


def _devices_by_release(results: list[HostResult]) -> Counter[tuple[str, str]]:
    """Devices with an actionable finding of each (product, cycle)."""
    counts: Counter[tuple[str, str]] = Counter()
    for res in results:
        counts.update({(f.product or "", f.cycle or "") for f in res.findings if f.actionable})
    return counts


def _shared_entitlements(results: list[HostResult], cfg: ReportConfig) -> Counter[EntitlementPrice]:
    """Devices covered by each priced entitlement (a flat fee is shared by them)."""
    shared_by: Counter[EntitlementPrice] = Counter()
    if cfg.entitlement_prices:
        for res in results:
            shared_by.update({p for f in res.findings if (p := price_for(f, cfg)) is not None})
    return shared_by


def build_host_rows(
    results: list[HostResult], as_of: date, cfg: ReportConfig, register: Register | None
) -> list[HostRow]:
    """Score every finding, apply exceptions, decide actions; one ``HostRow`` per host."""
    ranker = _HostRanker(results, as_of, cfg, register)
    return [ranker.host(res) for res in results]


_OS_KPI = {
    Status.EOL: "unsupported_os",
    Status.EXTENDED: "extended_os",
    Status.ENDING_SOON: "ending_soon_os",
    Status.UNKNOWN: "unknown_os",
}
_WIN11_KPI = {"ready": "win11_ready", "not-ready": "win11_not_ready"}


def _finding_counts(k: Kpis, rows: list[FindingRow]) -> None:
    """Open, accepted and expired-exception findings of one device (``FindingRow.open``/``accepted``)."""
    for r in rows:
        state = r.exception_state
        if state == ACCEPTED:
            k.accepted_findings += 1
            continue
        if r.finding.actionable:
            k.open_findings += 1
        if state == EXPIRED:
            k.expired_exceptions_hit += 1


def _add(total: float | None, value: float | None) -> float | None:
    return total if value is None else (total or 0.0) + value


def compute_kpis(hosts: list[HostRow], statuses: list[HostStatus], as_of: date) -> Kpis:
    k = Kpis(
        devices=len(hosts),
        targets=len(statuses),
        not_reached=sum(1 for s in statuses if s.status not in ("ok", "partial")),
    )
    days: list[float] = []
    counts: Counter[str] = Counter()
    for h in hosts:
        os_f = h.os
        if os_f is not None:
            counts[_OS_KPI.get(os_f.status, "")] += 1
            if os_f.status is Status.EOL and os_f.eol is not None:
                days.append(float(max(0, (as_of - os_f.eol).days)))
        if h.readiness is not None:
            counts["windows10"] += 1
            counts[_WIN11_KPI.get(h.readiness.verdict, "win11_unknown")] += 1
        _finding_counts(k, h.rows)
        k.stale += h.stale
        k.estimated_cost = _add(k.estimated_cost, h.action.cost)
        k.esu_cost_this_year = _add(k.esu_cost_this_year, h.extended_cost)
        if h.esu is not None and not h.esu.entitled:
            k.esu_quote_this_year = _add(k.esu_quote_this_year, h.esu.cost)
    counts.pop("", None)
    for name, n in counts.items():
        setattr(k, name, n)
    k.median_days_past_end = median(days)
    return k


SCAN_ONLY_KPIS: frozenset[KpiName] = frozenset({"targets", "not_reached", "coverage"})


def kpi_change(now: Kpis, before: Kpis | None) -> KpiChange:
    if before is None:
        return {}
    a, b = now.numbers(), before.numbers()
    out: KpiChange = {}
    for key in KPI_NAMES:
        if key in SCAN_ONLY_KPIS:  # scan attempts are not kept per scan: no honest "before"
            out[key] = None
            continue
        value, prev = a[key], b[key]
        out[key] = None if value is None or prev is None else round(float(value) - float(prev), 4)
    return out


_MAJOR_MINOR = re.compile(r"(?:\d+:)?(\d+)\.(\d+)")


def group_name(f: Finding, versions: set[str]) -> str:
    """A release's name for a table row; a finding the dataset has no release for (its distribution
    build of a release the dataset does not list: Perl 5.24 on Debian 9) is named by the upstream
    versions its devices run, "Perl 5.10 / 5.24 (release not in the dataset)", never by the
    product alone."""
    if f.cycle or not f.product:
        return release_name(f)
    found = {(int(m.group(1)), int(m.group(2))) for v in versions if (m := _MAJOR_MINOR.match(v))}
    if not found:
        return release_name(f)
    listed = " / ".join(f"{a}.{b}" for a, b in sorted(found))
    return f"{release_name(f)} {listed} (release not in the dataset)"


@dataclass(slots=True)
class _ReleaseTally:
    """One release and status across the estate while the product roll-ups are counted."""

    finding: Finding  # the first finding seen: names the row
    hosts: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)  # devices whose finding is under an active exception
    top: float = 0.0  # the highest finding score
    ends: set[date] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)

    def add(self, row: FindingRow, host: str, site: str) -> None:
        f = row.finding
        self.versions.add(f.version)
        self.hosts.add(host)
        self.sites.add(site)
        if row.accepted:
            self.accepted.add(host)
        self.top = max(self.top, row.score.total)
        if f.eol is not None:
            self.ends.add(f.eol)


def _product_rollups(hosts: list[HostRow], cfg: ReportConfig) -> list[ProductRollup]:
    """Releases with actionable findings, one row per release and status: a release some of whose
    devices are covered by an extended phase (Debian 12's SQLite 3 in LTS) and some not (an ended
    Ubuntu's) is an eol row and an extended row, so covered devices are never shown as unsupported."""
    groups: dict[tuple[str, str, str], _ReleaseTally] = {}
    for h in hosts:
        for r in h.rows:
            f = r.finding
            if not f.actionable or not f.product:
                continue
            key = (f.product, f.cycle or "", f.status.value)
            g = groups.get(key)
            if g is None:
                g = groups[key] = _ReleaseTally(f)
            g.add(r, h.host_key or h.hostname, h.site)
    out = []
    for (p, c, _status), g in groups.items():
        f = g.finding
        ends = sorted(g.ends)
        ext = f.status is Status.EXTENDED
        out.append(
            ProductRollup(
                product=p,
                cycle=c,
                name=group_name(f, g.versions),
                kind=f.kind,
                status=f.status,
                eol=ends[0] if ends else f.eol,
                devices=len(g.hosts),
                sites=sorted(g.sites),
                accepted_devices=len(g.accepted),
                top_score=g.top,
                extended_until=f.extended_until if ext else None,
                phase=phase_name(f, cfg) if ext else "",
                eol_latest=ends[-1] if len(ends) > 1 else None,
            )
        )
    out.sort(key=lambda r: (-r.status.severity, -r.devices, r.name))
    return out


LATER = "extended, ends later"


def _roadmap_period(f: Finding, as_of: date, horizon: date) -> str | None:
    """Where a finding sits on the roadmap: "overdue" only when nothing covers it; an extended
    finding sits in the quarter its extended phase ends; None when beyond the horizon."""
    if f.status is Status.EXTENDED:
        end = f.extended_until
        if end is None or end >= horizon:
            return LATER
        return quarter(max(end, as_of))
    if f.eol is None:
        return "overdue" if f.status is Status.EOL else None
    if f.eol < as_of:
        return "overdue" if f.status is Status.EOL else quarter(as_of)
    return quarter(f.eol) if f.eol < horizon else None


@dataclass(slots=True)
class _PeriodTally:
    """One release in one roadmap period while the roadmap is counted."""

    finding: Finding  # the first finding seen: names the row
    hosts: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)
    cost: float | None = None  # actions this row drives (None: none of them costed)
    actions: int = 0  # devices whose binding end is on this row
    costed: int = 0
    versions: set[str] = field(default_factory=set)

    def add(self, h: HostRow, f: Finding) -> None:
        """Count ``f`` of device ``h`` (its action, when ``f`` is the device's binding finding)."""
        self.versions.add(f.version)
        self.hosts.add(h.host_key or h.hostname)
        self.sites.add(h.site)
        if h.binding is f:
            self.actions += 1
            if h.action.cost is not None:
                self.cost = (self.cost or 0.0) + h.action.cost
                self.costed += 1


def _row_period(h: HostRow, r: FindingRow, as_of: date, horizon: date) -> str | None:
    """The roadmap period of one finding of a device (None: not on the roadmap).  The device's
    binding finding is always on it (in its due quarter when its end is beyond the horizon);
    another only when it names a product, is not accepted and its status is known."""
    f = r.finding
    bound = h.binding is f
    if not bound and (not f.product or r.accepted or f.status is Status.UNKNOWN):
        return None
    period = _roadmap_period(f, as_of, horizon)
    if period is None and bound:
        period = quarter(max(h.due or as_of, as_of))
    return period


def _roadmap(hosts: list[HostRow], as_of: date, cfg: ReportConfig) -> list[RoadmapRow]:
    """What goes out of support per NHS financial-year quarter; only unsupported items are "overdue".

    Each device's action cost is counted once, on the row of its binding (earliest open) end."""
    horizon = add_quarters(quarter_start(as_of), cfg.roadmap_quarters)
    groups: dict[tuple[str, str, str], _PeriodTally] = {}
    for h in hosts:
        for r in h.rows:
            period = _row_period(h, r, as_of, horizon)
            if period is None:
                continue
            f = r.finding
            key = (period, f.product or "", f.cycle or "")
            g = groups.get(key)
            if g is None:
                g = groups[key] = _PeriodTally(f)
            g.add(h, f)
    rows = [_roadmap_row(key, g, cfg) for key, g in groups.items()]
    order = {"overdue": 0, LATER: 2}
    rows.sort(key=lambda r: (order.get(r.period, 1), r.period, -r.devices, r.name))
    return rows


def _roadmap_row(key: tuple[str, str, str], g: _PeriodTally, cfg: ReportConfig) -> RoadmapRow:
    period, product, cycle = key
    first = g.finding
    ext = first.status is Status.EXTENDED
    return RoadmapRow(
        period=period,
        financial_year="" if period in ("overdue", LATER) else period.split(" ")[0],
        product=product,
        cycle=cycle,
        name=group_name(first, g.versions),
        eol=first.eol,
        devices=len(g.hosts),
        sites=sorted(g.sites),
        cost=g.cost,
        status=first.status,
        extended_until=first.extended_until if ext else None,
        phase=phase_name(first, cfg) if ext else "",
        action_devices=g.actions,
        costed_devices=g.costed,
    )


def _capacity_this_year(as_of: date, per_year: int) -> int:
    """The current financial year's capacity, pro rata for the months left in it (the report
    month counts as left)."""
    start = financial_year_start(as_of)
    months_gone = (as_of.year - start.year) * 12 + as_of.month - start.month
    return max(1, round(per_year * (12 - months_gone) / 12))


def schedule(hosts: list[HostRow], as_of: date, per_year: int | None) -> None:
    """Put every device with an action in an NHS financial year (``HostRow.scheduled``).

    A device is due in the year of its binding end (this year when already past).  Without a
    capacity it is scheduled in that year; with one, devices are taken in due order, highest
    priority first, and a year that is full (this year pro rata) pushes the rest to the next.
    Application-only updates are pushed centrally and take no device capacity.
    """
    this_fy = financial_year(as_of)
    todo = [h for h in hosts if h.due is not None and h.action.kind != "none"]
    todo.sort(key=lambda h: (max(h.due or as_of, as_of), -h.score.total, h.site, h.hostname))
    used: dict[str, int] = {}
    for h in todo:
        due_fy = financial_year(max(h.due or as_of, as_of))
        if per_year is None or h.action.kind == "update-applications":
            h.scheduled = due_fy
            continue
        fy = due_fy
        for _ in range(200):
            cap = _capacity_this_year(as_of, per_year) if fy == this_fy else per_year
            if used.get(fy, 0) < cap:
                break
            fy = next_financial_year(fy)
        used[fy] = used.get(fy, 0) + 1
        h.scheduled = fy


def _plan(sites: list[SiteReport], as_of: date) -> list[PlanRow]:
    """Per site and scheduled financial year: devices (each once), their actions and cost."""
    out: list[PlanRow] = []
    for site in sites:
        buckets: dict[str, PlanRow] = {}
        for h in site.hosts:
            if not h.scheduled:
                continue
            row = buckets.setdefault(h.scheduled, PlanRow(site.site, h.scheduled, 0, {}, None, 0))
            row.devices += 1
            row.actions[h.action.kind] = row.actions.get(h.action.kind, 0) + 1
            if h.due is not None and h.due < as_of:
                row.overdue += 1
            if h.due is not None and financial_year(max(h.due, as_of)) != h.scheduled:
                row.deferred += 1
            if h.action.cost is not None:
                row.cost = (row.cost or 0.0) + h.action.cost
                row.costed_devices += 1
            if h.extended_cost is not None:
                row.extended_per_year += h.extended_cost
                row.extended_devices += 1
        out += [buckets[k] for k in sorted(buckets)]
    return out


@dataclass(slots=True)
class _EntitlementTally:
    """One paid extended phase (entitlement, source, currency) at one site while it is counted."""

    first: ExtendedCost  # the first device's line: names the reference
    releases: set[str] = field(default_factory=set)
    devices: int = 0
    per_year: float = 0.0
    until: date | None = None  # the earliest end of the covered phases
    action: float = 0.0  # the planned actions of the same devices, once each
    costed: int = 0
    bases: set[str] = field(default_factory=set)


def _extended_support(sites: list[SiteReport]) -> list[ExtendedSupportRow]:
    """Per site and entitlement: the devices kept on it, its yearly cost, their actions' cost once."""
    out: list[ExtendedSupportRow] = []
    for site in sites:
        groups: dict[tuple[str, str, str], _EntitlementTally] = {}
        for h in site.hosts:
            seen: set[tuple[str, str, str]] = set()
            for x in h.extended:
                key = (x.entitlement, x.source, x.currency)
                g = groups.get(key)
                if g is None:
                    g = groups[key] = _EntitlementTally(x)
                g.releases.add(x.release)
                g.per_year += x.yearly
                g.bases.add(x.basis)
                if x.until is not None and (g.until is None or x.until < g.until):
                    g.until = x.until
                if key not in seen:  # a device counts once per entitlement, its action cost once too
                    seen.add(key)
                    g.devices += 1
                    if h.action.cost is not None:
                        g.action += h.action.cost
                        g.costed += 1
        for (name, source, currency), g in groups.items():
            x = g.first
            bases = sorted(g.bases)
            # a flat fee's share differs per device count only; name it once
            basis = bases[0] if len(bases) == 1 else "; ".join(bases)
            out.append(
                ExtendedSupportRow(
                    site=site.site,
                    entitlement=name,
                    reference=x.reference,
                    releases=sorted(g.releases),
                    devices=g.devices,
                    basis=basis,
                    source=source,
                    currency=currency,
                    per_year=round(g.per_year, 2),
                    until=g.until,
                    action_cost=round(g.action, 2),
                    action_costed=g.costed,
                )
            )
    out.sort(key=lambda r: (r.site, -r.per_year, r.entitlement))
    return out


@dataclass(slots=True)
class _ExceptionTally:
    """What one exception of the register covers on this run, while it is counted."""

    findings: int = 0
    hosts: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)


def _register_rows(register: Register | None, hosts: list[HostRow], as_of: date) -> list[RegisterRow]:
    if register is None:
        return []
    usage = {e.id: _ExceptionTally() for e in register.entries}
    for h in hosts:
        for r in h.rows:
            if r.exception is not None:
                u = usage[r.exception.id]
                u.findings += 1
                u.hosts.add(h.host_key or h.hostname)
                u.sites.add(h.site)
    states = {ACCEPTED: "active", EXPIRED: "expired", NOT_YET: "not yet in force"}
    return [
        RegisterRow(
            exception=e,
            state=states[_exception_state(e, as_of)],
            findings=usage[e.id].findings,
            devices=len(usage[e.id].hosts),
            sites=sorted(usage[e.id].sites),
        )
        for e in register.entries
    ]


@dataclass(slots=True)
class _UnsupportedTally:
    """One unsupported (eol / extended) release and status at one site: a DSPT register line in the making."""

    finding: Finding  # the first finding seen: names the item
    hosts: set[str] = field(default_factory=set)
    rows: list[FindingRow] = field(default_factory=list)
    secondary: set[str] = field(default_factory=set)  # devices known only from discovery or the register
    discovered: set[str] = field(default_factory=set)  # of those, from discovery

    def add(self, host: str, source: str, row: FindingRow) -> None:
        self.hosts.add(host)
        if source != "inventory":
            self.secondary.add(host)
        if source == "discovered":
            self.discovered.add(host)
        self.rows.append(row)


def _unsupported_groups(site: SiteReport) -> dict[tuple[str, str, str], _UnsupportedTally]:
    """A site's unsupported (eol / extended) findings by product/cycle and status: the first
    finding, the devices (and those known only from discovery or the register) and every row.
    One release can be both at a site (SQLite 3 from an ended Ubuntu and from Debian 12 in LTS):
    the covered devices are an extended item of their own, never counted in the unsupported one."""
    groups: dict[tuple[str, str, str], _UnsupportedTally] = {}
    for h in site.hosts:
        key = h.host_key or h.hostname
        for r in h.rows:
            f = r.finding
            if f.status not in (Status.EOL, Status.EXTENDED) or not f.product:
                continue
            group = (f.product, f.cycle or "", f.status.value)
            g = groups.get(group)
            if g is None:
                g = groups[group] = _UnsupportedTally(f)
            g.add(key, h.source, r)
    return groups


def _decision(rows: list[FindingRow], accepted: list[FindingRow]) -> str:
    if accepted and len(accepted) == len(rows):
        return "accepted"
    if any(r.exception_state == EXPIRED for r in rows):
        return "exception expired"
    return "partly accepted" if accepted else "no decision"


def _decision_texts(f: Finding, exceptions: list[RiskException]) -> tuple[str, str, str, str]:
    """Reason for continued use, mitigation, approval and the trust's risk statement."""
    if not exceptions:
        mitigation = "planned: " + ("replace or upgrade" if f.kind == "os" else "update or remove")
        return "no decision recorded", mitigation, "not approved", ""
    reason = " | ".join(f"[{e.id}] {e.category_label}: {e.justification}" for e in exceptions)
    mitigation = "; ".join(c for e in exceptions for c in e.compensating_controls) or "none recorded"
    approval = " | ".join(
        f"[{e.id}] {e.approver} {e.approved_on.isoformat()}, expires {e.expires.isoformat()}" for e in exceptions
    )
    return reason, mitigation, approval, " | ".join(e.risk for e in exceptions if e.risk)


def _unsupported_item(site: str, product: str, cycle: str, g: _UnsupportedTally, cfg: ReportConfig) -> UnsupportedItem:
    rows = g.rows
    f = g.finding
    exceptions = {r.exception.id: r.exception for r in rows if r.exception is not None}
    accepted = [r for r in rows if r.accepted]
    top = max((r.score.total for r in rows), default=0.0)
    reason, mitigation, approval, risk_text = _decision_texts(f, list(exceptions.values()))
    phase, mitigation = _phase_and_mitigation(f, mitigation, cfg)
    band = _item_band(top, bool(accepted), cfg)
    return UnsupportedItem(
        site=site,
        product=product,
        cycle=cycle,
        name=group_name(f, {r.finding.version for r in rows}),
        status=f.status,
        eol=_earliest_end(rows, f.eol),
        devices=len(g.hosts),
        risk=band + (f" — {risk_text}" if risk_text else ""),
        risk_score=top,
        reason=reason,
        mitigation=mitigation,
        approval=approval,
        exception_ids=sorted(exceptions),
        decision=_decision(rows, accepted),
        not_inventoried=len(g.secondary),
        discovered=len(g.discovered),
        extended_until=f.extended_until if phase else None,
        phase=phase,
    )


def _item_band(top: float, accepted: bool, cfg: ReportConfig) -> str:
    """The band of an item's highest score; an item without one is "accepted" or "low"."""
    if top:
        return cfg.priority.band(top)
    return "accepted" if accepted else "low"


def _phase_and_mitigation(f: Finding, mitigation: str, cfg: ReportConfig) -> tuple[str, str]:
    """An extended item's phase, and its mitigation saying that phase covers it until when."""
    if f.status is not Status.EXTENDED:
        return "", mitigation
    phase = phase_name(f, cfg)
    until = f.extended_until.isoformat() if f.extended_until else "(date not published)"
    return phase, f"{mitigation}; covered by {phase} until {until}"


def _earliest_end(rows: list[FindingRow], default: date | None) -> date | None:
    """The earliest end among the rows' findings (distribution builds of a release end with their
    distributions)."""
    return min((r.finding.eol for r in rows if r.finding.eol), default=default)


def _unsupported_items(sites: list[SiteReport], cfg: ReportConfig) -> list[UnsupportedItem]:
    """The DSPT 8.2.1 register: every unsupported (eol / extended) product/cycle per site."""
    items = [
        _unsupported_item(site.site, product, cycle, g, cfg)
        for site in sites
        for (product, cycle, _status), g in _unsupported_groups(site).items()
    ]
    items.sort(key=lambda i: (i.site, -i.risk_score, -i.devices, i.name, i.status.value))
    return items


def b4d_statement(items: list[UnsupportedItem], sites: int, devices: int, targets: int, not_reached: int) -> str:
    """The CAF B4.d sentence: unsupported items (and their decisions) apart from items covered by an
    extended phase, and what was *not* surveyed, so an unreached estate never reads as clean."""
    if devices == 0:
        return _nothing_surveyed(targets, not_reached)
    unsupported = [i for i in items if i.status is not Status.EXTENDED]
    covered = [i for i in items if i.status is Status.EXTENDED]
    text = _unsupported_sentence(unsupported, sites) + _covered_sentence(covered)
    if not_reached:
        text += (
            f" {not_reached} of {targets} scan target(s) were not reached: their status is unknown and "
            "not counted above."
        )
    return text


def _nothing_surveyed(targets: int, not_reached: int) -> str:
    if targets:
        return (
            f"No device was surveyed: {not_reached} of {targets} scan target(s) could not be reached, so "
            "nothing can be said about unsupported items there."
        )
    return "No device was surveyed, so nothing can be said about unsupported items."


def _unsupported_sentence(unsupported: list[UnsupportedItem], sites: int) -> str:
    """How many unsupported items, and how many have which decision."""
    with_decision = sum(1 for i in unsupported if i.decision in ("accepted", "partly accepted"))
    planned = sum(1 for i in unsupported if i.decision == "no decision")
    expired = sum(1 for i in unsupported if i.decision == "exception expired")
    return (
        f"{len(unsupported)} unsupported item(s) across {sites} site(s): {with_decision} with a recorded, "
        f"approved temporary mitigation; {planned} on the replacement plan without a recorded exception; "
        f"{expired} whose exception has expired and needs review."
    )


def _covered_sentence(covered: list[UnsupportedItem]) -> str:
    """The items an extended phase covers, with each phase's end ("" when none)."""
    if not covered:
        return ""
    phases = sorted(
        {
            f"{i.phase} until " + (i.extended_until.isoformat() if i.extended_until else "an unpublished date")
            for i in covered
        }
    )
    return (
        f" {len(covered)} further item(s) are past mainstream support but covered by an extended "
        f"support phase ({'; '.join(phases)}): supported, not unsupported."
    )


def _evidence(report: EstateReport, cfg: ReportConfig, register: Register | None) -> Evidence:
    hosts = report.all_hosts()
    families = Counter((h.os.product or "unidentified") if h.os else "unidentified" for h in hosts)
    items = _unsupported_items(report.sites, cfg)
    k = report.kpis
    statement = b4d_statement(items, len(report.sites), len(hosts), k.targets, k.not_reached)
    sources = Counter(h.source for h in hosts)
    scope = EvidenceScope(
        sites=[s.site for s in report.sites],
        devices=len(hosts),
        os_products=dict(sorted(families.items())),
        as_of=report.as_of.isoformat(),
    )
    # DSPT 8.1: devices known only from credential-free discovery or the device register
    if sources["discovered"]:
        scope["discovered_not_inventoried"] = sources["discovered"]
    if sources["register"]:
        scope["register_not_inventoried"] = sources["register"]
    ev = Evidence(
        scope=scope,
        coverage=EvidenceCoverage(
            targets=k.targets,
            not_reached=k.not_reached,
            coverage=round4(k.coverage),
            stale_inventories=k.stale,
            stale_days=cfg.stale_days,
        ),
        tool_version=report.tool_version,
        dataset_version=report.dataset_version,
        readiness_data_version=cpu_rules().version,
        exceptions_file=register.path if register else "",
        config_file=cfg.source,
        items=items,
        b4d_statement=statement,
        site_catalog_file=cfg.site_catalog,
        site_catalog_sha256=cfg.site_catalog_sha256,
    )
    ev.digest = hashlib.sha256(ev.canonical().encode("utf-8")).hexdigest()
    return ev


_DATASET_DATE = re.compile(r"@(\d{4}-\d{2}-\d{2})")


def dataset_date(version: str) -> date | None:
    """The date of the end-of-life data a dataset version names (its first ``@YYYY-MM-DD``)."""
    m = _DATASET_DATE.search(version)
    try:
        return date.fromisoformat(m.group(1)) if m else None
    except ValueError:
        return None


# The previous scan's KPIs, per site and for the estate (what "change since" compares with).
PreviousKpis = tuple[dict[str, Kpis], Kpis]


def previous_kpis(
    previous: list[HostResult],
    previous_as_of: date,
    config: ReportConfig | None = None,
    register: Register | None = None,
) -> PreviousKpis:
    """The KPIs of the previous scan on its own date, per site and for the estate."""
    cfg = config or ReportConfig()
    ranker = _HostRanker(previous, previous_as_of, cfg, register)
    prev_hosts = [ranker.host(res, scored=False) for res in previous]
    by_site: dict[str, list[HostRow]] = defaultdict(list)
    for h in prev_hosts:
        by_site[h.site].append(h)
    return (
        {s: compute_kpis(hs, [], previous_as_of) for s, hs in by_site.items()},
        compute_kpis(prev_hosts, [], previous_as_of),
    )


def build_report(
    results: list[HostResult],
    statuses: list[HostStatus],
    as_of: date,
    dataset_version: str,
    tool_version: str,
    config: ReportConfig | None = None,
    register: Register | None = None,
    previous: list[HostResult] | None = None,
    previous_as_of: date | None = None,
    demo: str = "",
    previous_figures: PreviousKpis | None = None,
    previous_later: Callable[[], tuple[PreviousKpis | None, date | None]] | None = None,
) -> EstateReport:
    """The report; "change since" from ``previous`` judged on ``previous_as_of``, or from their
    KPIs already computed (``previous_figures``, with ``previous_as_of``), or from
    ``previous_later()`` (the KPIs and their date), called only once everything else is built: the
    previous scan's KPIs may still be in the making in another process meanwhile."""
    cfg = config or ReportConfig()
    hosts = build_host_rows(results, as_of, cfg, register)
    sites: dict[str, SiteReport] = {}
    for h in hosts:
        sites.setdefault(h.site, SiteReport(h.site)).hosts.append(h)
    for st in statuses:
        sites.setdefault(st.site or "(no site)", SiteReport(st.site or "(no site)")).statuses.append(st)
    for site in sites.values():
        site.hosts.sort(key=lambda h: (-h.score.total, -h.worst.severity, h.hostname))
        site.kpis = compute_kpis(site.hosts, site.statuses, as_of)
    ordered = [sites[k] for k in sorted(sites)]
    report = EstateReport(
        as_of=as_of,
        dataset_version=dataset_version,
        tool_version=tool_version,
        sites=ordered,
        currency=cfg.currency,
        demo=demo,
    )
    report.kpis = compute_kpis(hosts, statuses, as_of)
    report.organisation = cfg.organisation
    report.devices_per_year = cfg.devices_per_year
    report.dataset_date = dataset_date(dataset_version)
    if report.dataset_date is not None:
        age = (as_of - report.dataset_date).days
        if age > cfg.dataset_max_age_days:
            report.dataset_warning = (
                f"The end-of-life dataset is {age} days old on the report date (data of "
                f"{report.dataset_date.isoformat()}; warning after {cfg.dataset_max_age_days} days): newer "
                "end-of-support dates may be missing. Run `legacyscan eol update`."
            )
    schedule(hosts, as_of, cfg.devices_per_year)
    report.products = _product_rollups(hosts, cfg)
    report.roadmap = _roadmap(hosts, as_of, cfg)
    report.plan = _plan(report.sites, as_of)
    report.extended_support = _extended_support(report.sites)
    report.register = _register_rows(register, hosts, as_of)
    report.evidence = _evidence(report, cfg, register)
    p = cfg.priority
    report.priority_weights = {
        "status": dict(p.status_points),
        "points_per_30_days_past": p.points_per_30_days_past,
        "max_days_points": p.max_days_points,
        "class": dict(p.class_points),
        "tags": dict(p.tag_points),
        "points_per_doubling_devices": p.points_per_doubling_devices,
        "max_devices_points": p.max_devices_points,
        "device_bonus_per_finding": p.device_bonus_per_finding,
        "max_device_bonus": p.max_device_bonus,
        "bands": dict(p.bands),
        "app_only_critical_tags": sorted(p.app_only_critical_tags),
    }
    if previous is not None and previous_as_of is not None:
        previous_figures = previous_kpis(previous, previous_as_of, cfg, register)
    if previous_later is not None:
        previous_figures, previous_as_of = previous_later()
    _change_since(report, previous_figures, previous_as_of)
    return report


def _change_since(report: EstateReport, figures: PreviousKpis | None, on: date | None) -> None:
    """Each site's and the estate's KPI change since the previous scan (its KPIs ``figures``, of
    ``on``); nothing when there is none."""
    if figures is None or on is None:
        return
    by_site, total = figures
    for site in report.sites:
        before = by_site.get(site.site)
        site.kpi_change = kpi_change(site.kpis, before) if before else {}
    report.kpi_change = kpi_change(report.kpis, total)
    report.previous_as_of = on
