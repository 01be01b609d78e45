"""Inventory + catalog + as_of -> findings, each explaining itself.

The OS always yields a finding (``unknown`` if it could not be identified: an unidentified OS is
itself something an estate owner must see).  Software yields a finding only when it was
identified as a tracked product; unidentified packages are counted, not listed, because a Linux
host has hundreds of packages that are simply not products with a lifecycle of their own.
Components of one product (Office MUI, SQL shared components) collapse into one finding.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from operator import attrgetter
from typing import Any

from agents.inventory import Inventory, OsInfo
from agents.linux import shared as shared_record
from scanner.identify.registry import (
    IdentifyContext,
    OsComponents,
    os_component_verdict,
    os_components,
    verdict_for,
)
from scanner.judge.builds import BuildMemo
from scanner.judge.distribution_builds import (
    COMMUNITY,
    DISTRO,
    DistroMemo,
    HostOs,
    apt_support,
    distro_verdict,
    rejudge_announced,
    security_support,
    suse_lifecycle,
)
from scanner.model import Finding, Identification, MatchDetail, Policy, Status
from scanner.store.columns import host_key

DISTRO_SOURCES = frozenset({"dpkg", "rpm", "apk"})


@dataclass(slots=True)
class HostResult:
    """All findings for one host, plus what could not be judged."""

    inventory: Inventory
    findings: list[Finding] = field(default_factory=list)
    unidentified: int = 0  # packages that are not tracked products

    @property
    def os_finding(self) -> Finding | None:
        return next((f for f in self.findings if f.kind == "os"), None)


def _detail(ident: Identification, ctx: IdentifyContext, verdict_reason: str, policy: Policy) -> MatchDetail:
    release_label = ""
    source = "endoflife.date"
    if ident.product and ident.cycle:
        rel = ctx.catalog.release(ident.product, ident.cycle)
        if rel is not None:
            release_label, source = rel.label, rel.source
    # An unidentified product's verdict reason is the identification's own reason: said once.
    reason = f"{ident.reason}; {verdict_reason}" if verdict_reason and verdict_reason != ident.reason else ident.reason
    return MatchDetail(
        rule=ident.rule,
        reason=reason,
        evidence=dict(ident.evidence),
        dataset_version=policy.dataset_version(ctx.catalog.version),
        confidence=ident.confidence.value,
        release_label=release_label,
        source=source,
    )


def _label(ctx: IdentifyContext, product: str | None) -> str:
    if not product:
        return ""
    prod = ctx.catalog.product(product)
    return prod.label if prod else product


class MatchMemo:
    """Per-run memo (one ``match_estate`` call: same context, date and policy).

    An estate repeats the same package strings on thousands of hosts, so identification is keyed
    on the record's identifying fields (as a tuple: cheaper than building the record), and the
    verdict, match detail and label on the identification itself.  Values keep a reference to
    their key objects, so an ``id()`` is never reused while the memo lives.  The identification
    key must list every field ``Software.identify_record`` sends (keep the two in step).  ``distro``
    holds the distribution judgement's answers (``distribution_builds.DistroMemo``: build origins,
    parsed host lists), which depend on neither the date nor the policy.

    A caller that matches one inventory at a time (a fleet scan judging each host as it is stored,
    a report, a dataset comparison) keeps one memo for its run and passes it to every
    ``match_inventory``: without it every host pays full identification for the same package
    strings.
    """

    __slots__ = ("ctx", "as_of", "policy", "known", "distro", "_judged", "_shared")

    def __init__(self, ctx: IdentifyContext, as_of: date, policy: Policy) -> None:
        self.ctx, self.as_of, self.policy = ctx, as_of, policy
        self.known: dict[tuple[Any, ...], Identification] = {}
        self.distro = DistroMemo()
        self._judged: dict[int, tuple[Identification, Any, MatchDetail, str]] = {}
        # Per host OS: records shared between hosts (``agents.linux.shared``) by identity -> answer.
        self._shared: dict[tuple[Any, ...], dict[int, tuple[Any, Identification]]] = {}

    def shared_for(self, os_key: tuple[Any, ...]) -> dict[int, tuple[Any, Identification]]:
        """The by-identity answers for hosts on this OS (``match_inventory``'s fast path)."""
        table = self._shared.get(os_key)
        if table is None:
            table = self._shared[os_key] = {}
        return table

    def identify(self, sw: Any, host_os: dict[str, Any], os_key: tuple[Any, ...]) -> Identification:
        key = (
            sw.source,
            sw.name,
            sw.version,
            sw.publisher,
            sw.system_component,
            sw.parent_key_name,
            sw.release_type,
            os_key,
        )
        hit = self.known.get(key)
        if hit is None:
            record = sw.identify_record()
            record.update(host_os)
            hit = self.ctx.identify(record)
            if len(self.known) < 1_000_000:
                self.known[key] = hit
        return hit

    def lookup(
        self,
        sw: Any,
        host_os: dict[str, Any],
        os_key: tuple[Any, ...],
        by_object: dict[int, tuple[Any, Identification]],
    ) -> Identification:
        """``sw``'s identification on a host with this OS (not found by identity in ``by_object``;
        remembered there when the record is shared between hosts)."""
        hit = self.known.get(
            (
                sw.source,
                sw.name,
                sw.version,
                sw.publisher,
                sw.system_component,
                sw.parent_key_name,
                sw.release_type,
                os_key,
            )
        )  # inlined: the hot loop
        ident = hit if hit is not None else self.identify(sw, host_os, os_key)
        if shared_record(sw) and len(by_object) < 1_000_000:
            by_object[id(sw)] = (sw, ident)
        return ident

    def judge(self, ident: Identification) -> tuple[Any, MatchDetail, str]:
        hit = self._judged.get(id(ident))
        if hit is None or hit[0] is not ident:
            verdict = verdict_for(ident, self.ctx, self.as_of, self.policy)
            hit = (
                ident,
                verdict,
                _detail(ident, self.ctx, verdict.reason, self.policy),
                _label(self.ctx, ident.product),
            )
            self._judged[id(ident)] = hit
        return hit[1], hit[2], hit[3]


def match_inventory(
    inv: Inventory, ctx: IdentifyContext, as_of: date, policy: Policy, memo: MatchMemo | None = None
) -> HostResult:
    """``inv``'s findings on ``as_of``.  ``memo``: the caller's run memo (``MatchMemo`` for this
    context, date and policy); without one a fresh memo serves this inventory alone."""
    if memo is None:
        memo = MatchMemo(ctx, as_of, policy)
    result = HostResult(inventory=inv)
    base: dict[str, Any] = {
        "host_key": host_key(inv),
        "hostname": inv.host.hostname,
        "site": inv.host.site,
        "tags": list(inv.host.tags),
    }
    os_ident = ctx.identify(inv.os.identify_record())
    os_finding, host = _os_finding(inv, os_ident, ctx, as_of, policy, base, memo.distro)
    result.findings.append(os_finding)
    components = os_components(ctx.rules)
    judge = _HostJudge(host, os_ident, ctx, as_of, policy, components, memo.distro)
    grouped: dict[str, Finding] = {}
    hidden: set[str] = set()  # groups represented by an entry Programs and Features hides
    # Some applications' support channel depends on the host (IE 11 on a client, server or LTSC
    # build), so the identifier is told which OS it sits on.
    host_os = _host_os_fields(os_ident)
    os_key = (os_ident.product, os_ident.cycle)
    by_object = memo.shared_for(os_key)
    for sw in inv.software:
        seen = by_object.get(id(sw))
        if seen is not None and seen[0] is sw:  # a record shared between hosts: the hot loop
            ident = seen[1]
        else:
            ident = memo.lookup(sw, host_os, os_key, by_object)
        if ident.product is None:
            result.unidentified += 1
            continue
        # One finding per product release: its packages are judged one by one and the worst
        # justified verdict decides (a vendor's build beside the distribution's is not hidden by
        # whichever package name sorts first).
        verdict, detail, label = memo.judge(ident)
        if sw.source in HOST_SOURCES or (ident.product, ident.cycle) in components:
            verdict, detail = judge.on_host(sw, ident, verdict, detail)
        _group(grouped, hidden, ctx, sw, ident, verdict, detail, label, base)
    result.findings.extend(sorted(grouped.values(), key=lambda f: (-f.status.severity, f.product or "", f.name)))
    return result


def _host_os_fields(os_ident: Identification) -> dict[str, Any]:
    """What a package's identification is told of its host's OS (nothing when it is unknown)."""
    return {"host_os_product": os_ident.product, "host_os_cycle": os_ident.cycle} if os_ident.product else {}


def _os_finding(
    inv: Inventory,
    os_ident: Identification,
    ctx: IdentifyContext,
    as_of: date,
    policy: Policy,
    base: dict[str, Any],
    distro: DistroMemo | None = None,
) -> tuple[Finding, HostOs]:
    """The host's OS finding, and what its packages are judged against (``distribution_builds.HostOs``)."""
    verdict = verdict_for(os_ident, ctx, as_of, policy)
    facts = inv.os.facts if isinstance(inv.os.facts, dict) else {}
    supplier_end = _supplier_end(inv)
    if supplier_end:  # device register: the supplier's date decides
        verdict = _supplier(supplier_end, inv, as_of, policy, verdict)
    os_label = f"{_label(ctx, os_ident.product)} {os_ident.cycle}" if os_ident.cycle else _label(ctx, os_ident.product)
    os_detail = _detail(os_ident, ctx, verdict.reason, policy)
    if supplier_end and verdict.phase_label == "supplier support":
        os_detail = _supplier_detail(os_detail, supplier_end, inv)
    finding = Finding(
        kind="os",
        name=inv.os.name or inv.os.family,
        version=inv.os.version,
        product=os_ident.product,
        cycle=os_ident.cycle,
        status=verdict.status,
        eol=verdict.eol,
        extended_until=verdict.extended_until,
        detail=os_detail,
        product_label=_label(ctx, os_ident.product),
        **base,
    )
    return finding, _host_os(os_ident, os_label, verdict, facts, ctx, distro)


def _supplier_end(inv: Inventory) -> str:
    """The device register's supplier end-of-support date for this host, as given ("" if none)."""
    end = inv.os.facts.get("supplier_support_end") if inv.os.facts else None
    return end if isinstance(end, str) else ""


def _supplier_detail(detail: MatchDetail, supplier_end: str, inv: Inventory) -> MatchDetail:
    return replace(
        detail,
        rule=f"register.supplier-end-date+{detail.rule}",
        evidence={
            **detail.evidence,
            "supplier_support_end": supplier_end,
            **({"mds2": str(inv.os.facts["mds2"])} if inv.os.facts.get("mds2") else {}),
        },
    )


def _host_os(
    os_ident: Identification,
    os_label: str,
    verdict: Any,
    facts: dict[str, Any],
    ctx: IdentifyContext,
    distro: DistroMemo | None = None,
) -> HostOs:
    support_files = facts.get("security_support")
    rpm_keys = facts.get("rpm_keys")
    release = ctx.catalog.release(os_ident.product, os_ident.cycle) if os_ident.product and os_ident.cycle else None
    return HostOs(
        os_ident.product,
        os_label,
        verdict,
        security_support(
            os_ident.product, os_ident.cycle, support_files if isinstance(support_files, dict) else None, distro
        ),
        rpm_keys if isinstance(rpm_keys, dict) else None,
        apt=apt_support(os_ident.product, facts.get("apt_support"), distro),
        lifecycle=suse_lifecycle(os_ident.product, facts.get("suse_lifecycle"), distro),
        release_date=release.release_date if release is not None else None,
    )


# Package sources whose verdict may depend on the host they sit on (``_HostJudge.on_host``).
HOST_SOURCES = DISTRO_SOURCES | {"banner"}


@dataclass(slots=True)
class _HostJudge:
    """Re-judges a package whose lifecycle depends on the host: a distribution's own build, an OS
    component, a banner on a distribution host."""

    host: HostOs
    os_ident: Identification
    ctx: IdentifyContext
    as_of: date
    policy: Policy
    components: OsComponents
    distro: DistroMemo | None = None  # the run's distribution answers (``MatchMemo.distro``)

    def on_host(self, sw: Any, ident: Identification, verdict: Any, detail: MatchDetail) -> tuple[Any, MatchDetail]:
        if sw.source in DISTRO_SOURCES:
            return self._distro(sw, ident, verdict, detail)
        os_product = self.os_ident.product
        if (ident.product, ident.cycle) in self.components:
            # IE 11 on Windows Server/LTSC/Embedded, .NET Framework 4.6.2-4.8.1: serviced with the OS they are part of
            by_os = os_component_verdict(
                ident, verdict, os_product, self.os_ident.cycle, self.ctx, self.as_of, self.policy
            )
            if by_os is verdict:  # the OS does not decide: the release's own verdict and detail stand
                return verdict, detail
            return by_os, replace(detail, reason=f"{ident.reason}; {by_os.reason}")
        if sw.source == "banner" and verdict.status in (Status.EOL, Status.ENDING_SOON):
            # A banner (`legacyscan discover`) on a distribution host: distribution_builds.rejudge_announced.
            host = self.host
            announced = rejudge_announced(sw, ident.product, verdict, os_product, host.label, host.verdict)
            if announced is not None:
                verdict, evidence = announced
                detail = replace(
                    detail,
                    rule=f"{detail.rule}+distro.{os_product}",
                    reason=f"{ident.reason}; {verdict.reason}",
                    evidence={**detail.evidence, "distribution_build": evidence},
                )
        return verdict, detail

    def _distro(self, sw: Any, ident: Identification, verdict: Any, detail: MatchDetail) -> tuple[Any, MatchDetail]:
        # Who built it decides whose lifecycle applies (scanner.judge.distribution_builds): the distribution's own
        # build lives and dies with the OS release that ships it, a vendor's follows upstream.
        again = distro_verdict(sw, ident.product, verdict, self.host, self.as_of, self.policy, self.distro)
        if again is None:
            return verdict, detail
        new_verdict, kind, evidence = again
        os_product = self.os_ident.product
        if kind == DISTRO:
            detail = replace(
                detail,
                rule=f"{detail.rule}+distro.{os_product}",
                reason=f"{ident.reason}; {new_verdict.reason}",
                evidence={**detail.evidence, "distribution_build": evidence},
            )
        elif kind == COMMUNITY:
            detail = replace(
                detail,
                rule=f"{detail.rule}+distro.{os_product}.community",
                reason=f"{detail.reason}; {evidence}: the upstream lifecycle applies",
                evidence={**detail.evidence, "community_build": evidence},
            )
        else:
            detail = replace(
                detail,
                reason=f"{detail.reason}; a third party's build ({evidence}): the upstream lifecycle applies",
                evidence={**detail.evidence, "third_party_build": evidence},
            )
        return new_verdict, detail


def _group(
    grouped: dict[str, Finding],
    hidden: set[str],
    ctx: IdentifyContext,
    sw: Any,
    ident: Identification,
    verdict: Any,
    detail: MatchDetail,
    label: str,
    base: dict[str, Any],
) -> None:
    """Count ``sw`` in its product release's finding; it represents the group when it is the first,
    the newest release, (same release) judged worse, or (same release and verdict) shown in Programs
    and Features where the current representative is a hidden component: a runtime's MSI parts
    (SystemComponent=1) carry internal versions ("Microsoft .NET Host - 6.0.16" is 48.67.58427).
    Uninstall entries from a source that does not say what is hidden (Specify, winget, Wazuh, the
    imports: the flag is unknown) get the same choice from the versions: an entry whose DisplayVersion
    is the version its name states displaces one whose DisplayVersion contradicts it
    (``_contradicts``).  Packages of other sources are untouched (a kernel package's name carries its
    ABI, not its version)."""
    group_key = ident.group or f"{ident.product}:{ident.cycle}:{sw.name}"
    existing = grouped.get(group_key)
    flag = getattr(sw, "system_component", None)
    is_hidden = flag is True
    if existing is not None:
        existing.count += 1
        if ident.cycle == existing.cycle:
            if verdict.status.severity < existing.status.severity:
                return
            if (
                verdict.status.severity == existing.status.severity
                and (is_hidden or group_key not in hidden)
                and not (
                    flag is None
                    and sw.source == "windows-registry"
                    and _contradicts(existing.name, existing.version)
                    and not _contradicts(sw.name, sw.version)
                )
            ):
                return
        elif not _newer(ctx, ident, existing):
            return
        # A component still on an older build (SQL shared components keep the RTM build) must
        # not decide the verdict for the product: the newest member represents the group.
        count = existing.count
    else:
        count = 1
    if is_hidden:
        hidden.add(group_key)
    else:
        hidden.discard(group_key)
    grouped[group_key] = Finding(
        kind="software",
        name=sw.name,
        version=sw.version,
        product=ident.product,
        cycle=ident.cycle,
        status=verdict.status,
        eol=verdict.eol,
        extended_until=verdict.extended_until,
        detail=detail,
        product_label=label,
        group=ident.group,
        count=count,
        **base,
    )


# A version written in a program's name: "Microsoft .NET Host - 6.0.16 (x64)", "... - x86 9.0.30729.17".
_NAMED_VERSION = re.compile(r"(?<![\w.])\d+(?:\.\d+)+(?![\w.])")


def _contradicts(name: str, version: str | None) -> bool:
    """The name states a version and the DisplayVersion is none of them (nor a longer or shorter form
    of one): an installer part's internal version ("Microsoft .NET Host - 6.0.16 (x64)" = 48.67.58427),
    not the product's."""
    stated = _NAMED_VERSION.findall(name)
    if not stated:
        return False
    shown = (version or "").strip()
    return not any(shown == v or shown.startswith(f"{v}.") or (shown and v.startswith(f"{shown}.")) for v in stated)


def _supplier(end_text: str, inv: Inventory, as_of: date, policy: Policy, upstream: Any) -> Any:
    from datetime import date as _date

    from scanner.identify.verdict import supplier_verdict

    try:
        end = _date.fromisoformat(end_text)
    except ValueError:
        return upstream
    ref = str(inv.os.facts.get("mds2") or "")
    return supplier_verdict(end, as_of, policy, upstream, f"MDS2 {ref}" if ref else "")


def _newer(ctx: IdentifyContext, ident: Identification, current: Finding) -> bool:
    """Does ``ident`` name a newer release of the same product than ``current``?  (Later end of
    support = newer; an unknown cycle never displaces a known one.)"""
    if ident.product is None or ident.cycle is None or ident.cycle == current.cycle or ident.product != current.product:
        return False
    if current.cycle is None:
        return True
    new = ctx.catalog.release(ident.product, ident.cycle)
    old = ctx.catalog.release(ident.product, current.cycle)
    if new is None or old is None:
        return False

    def end(rel: object) -> tuple[int, str]:
        eol = getattr(rel, "eol", None)
        if eol is False:  # no end announced: newest of all
            return (2, "")
        if isinstance(eol, bool) or eol is None:
            return (0, "")
        return (1, eol.isoformat())

    return end(new) > end(old)


def match_estate(inventories: list[Inventory], ctx: IdentifyContext, as_of: date, policy: Policy) -> list[HostResult]:
    """Every inventory matched on ``as_of``.  An estate is a few builds on many hosts: an inventory
    with the very package list of one matched before (``scanner.judge.builds.BuildMemo``: the same shared
    records) and an equal OS gets that result's findings under its own host's names
    (``result_for_host``); ``match_inventory`` reads nothing else of an inventory."""
    memo = MatchMemo(ctx, as_of, policy)
    builds = BuildMemo()
    results: list[HostResult] = []
    for inv in inventories:
        key = builds.key(inv.software)
        seen: list[tuple[OsInfo, HostResult]] | None = builds.get(key)
        hit = next((r for os_seen, r in seen if os_seen == inv.os), None) if seen is not None else None
        if hit is not None:
            results.append(result_for_host(hit, inv))
            continue
        result = match_inventory(inv, ctx, as_of, policy, memo)
        results.append(result)
        entry = (
            copy.deepcopy(inv.os),
            HostResult(inventory=inv, findings=[replace(f) for f in result.findings], unidentified=result.unidentified),
        )
        if seen is None:
            builds.put(key, inv.software, [entry])
        elif len(seen) < 16:
            seen.append(entry)
    return results


def result_for_host(template: HostResult, inv: Inventory) -> HostResult:
    """``template`` (another host's result for the same packages and OS on the same date) as
    ``inv``'s own: every finding with ``inv``'s host key, name, site and tags."""
    key, hostname, site, tags = host_key(inv), inv.host.hostname, inv.host.site, list(inv.host.tags)
    findings = []
    for f in template.findings:  # ``replace(f, host_key=..., hostname=..., site=..., tags=...)``, faster
        values: tuple[Any, ...] = (key, hostname, site, *_FINDING_VALUES(f)[3:-1], tags)
        findings.append(Finding(*values))
    return HostResult(inventory=inv, unidentified=template.unidentified, findings=findings)


# Every field of a Finding in order (all set by ``__init__``): the host's four are the first three
# and the last, which ``result_for_host`` relies on (checked here, when the module loads).
_FINDING_NAMES = tuple(f.name for f in fields(Finding))
if (
    _FINDING_NAMES[:3] != ("host_key", "hostname", "site")
    or _FINDING_NAMES[-1] != "tags"
    or not all(f.init for f in fields(Finding))
):  # pragma: no cover - a change to Finding must change result_for_host too
    raise ImportError("scanner.judge.match.result_for_host: Finding's fields are not where it expects them")
_FINDING_VALUES = attrgetter(*_FINDING_NAMES)


def worst_status(findings: list[Finding]) -> Status:
    return max((f.status for f in findings), key=lambda s: s.severity, default=Status.UNKNOWN)
