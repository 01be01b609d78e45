"""What acting on a device means, what it clears and what it costs; what staying costs.

Why a module of its own: ``scanner/report/build.py`` assembles the view model, this module holds the planning
rules it applies, each a small pure function with ``as_of`` as a parameter (the configuration they
read is ``scanner.plan.config``, the periods ``scanner.plan.periods``):

* ``device_action``: what acting on a device means (upgrade in place, replace, update apps) and
  what it clears ("replace PC-123: clears Windows 10 22H2 and 6 applications");
* ``esu_line``: ESU year and cost for a device whose OS has a paid extended phase configured;
* ``price_for`` / ``extended_costs``: what the trust *pays* (site catalogue entitlements
  with a ``cost``) to keep each device on its extended phases, per year, so the plan can put the
  cost of staying next to the cost of replacing;
* ``release_name``: a finding's release as people say it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from scanner.model import Finding, Status
from scanner.plan.config import EntitlementPrice, ReportConfig
from scanner.plan.readiness import Readiness


def price_for(f: Finding, cfg: ReportConfig) -> EntitlementPrice | None:
    """The priced entitlement that pays for ``f``'s extended phase: the most specific one
    (product:cycle > product > "*"), first in file order on a tie; None for free or unpriced phases."""
    if f.status is not Status.EXTENDED or not f.product or not cfg.entitlement_prices:
        return None
    if f.product in cfg.free_extended:
        return None
    best: EntitlementPrice | None = None
    rank = 0
    for p in cfg.entitlement_prices:
        r = p.covers(f.product, f.cycle or "")
        if r > rank:
            best, rank = p, r
    return best


@dataclass(slots=True, frozen=True)
class ExtendedCost:
    """What keeping one device on one paid extended phase costs per year, and why that figure."""

    finding: Finding  # the first finding it covers on this device
    release: str  # "Microsoft Windows 10 22H2" (every release it covers on this device, comma-separated)
    entitlement: str  # what was bought ("Windows 10 ESU (commercial)")
    reference: str  # order / agreement reference
    yearly: float  # this device's share per year
    currency: str
    until: date | None  # end of the extended phase (the finding's extended_until)
    basis: str  # "61 GBP per device per year" / "18,500 GBP per year, flat, shared by 4 devices"
    source: str  # "legacyscan-site.toml:199" or "legacyscan.toml [esu] year 2"
    price: EntitlementPrice | None = None  # None when priced from [esu]
    covers: tuple[Finding, ...] = ()  # every finding of the device it pays for (() = just ``finding``)

    def text(self) -> str:
        until = f" until {self.until.isoformat()}" if self.until else ""
        return (
            f"{self.release}: {self.entitlement}, {self.yearly:,.2f} {self.currency}/year{until} "
            f"({self.basis}; {self.source})"
        )


def extended_costs(
    findings: list[Finding],
    cfg: ReportConfig,
    shared_by: Mapping[EntitlementPrice, int],
    esu: EsuLine | None,
    currency: str,
) -> list[ExtendedCost]:
    """The priced extended phases of one device (its entitled ``extended`` findings).

    A site catalogue price wins (it is what the trust pays); otherwise an entitled OS with an
    ``[esu]`` price in ``legacyscan.toml`` is costed at that year's list price.  Findings under an
    accepted exception are still costed: the phase is still paid for.
    """
    by_price: dict[EntitlementPrice, list[Finding]] = {}
    for f in findings:
        price = price_for(f, cfg)
        if price is not None:
            by_price.setdefault(price, []).append(f)
    # one line per entitlement: a device is paid for once
    out = [_priced(price, covered, shared_by, currency) for price, covered in by_price.items()]
    os_costed = any(f.kind == "os" for covered in by_price.values() for f in covered)
    if not os_costed:
        out.extend(_esu_costed(findings, esu, currency))
    return out


def _esu_costed(findings: list[Finding], esu: EsuLine | None, currency: str) -> list[ExtendedCost]:
    """The device's OS costed at the ``[esu]`` list price, when it is entitled and priced there."""
    if esu is None or not esu.entitled or esu.cost is None:
        return []
    os_f = next((f for f in findings if f.kind == "os"), None)
    if os_f is None:
        return []
    return [
        ExtendedCost(
            os_f,
            release_name(os_f),
            esu.name,
            "",
            esu.cost,
            currency,
            os_f.extended_until,
            f"{esu.name} year {esu.year} price per device",
            f"legacyscan.toml [esu] year {esu.year}",
        )
    ]


def _priced(
    price: EntitlementPrice, covered: list[Finding], shared_by: Mapping[EntitlementPrice, int], currency: str
) -> ExtendedCost:
    n = max(1, shared_by.get(price, 1))
    yearly = price.yearly if price.per_device else price.yearly / n
    ends = [f.extended_until for f in covered if f.extended_until is not None]
    return ExtendedCost(
        covered[0],
        ", ".join(release_name(f) for f in covered),
        price.name,
        price.reference,
        yearly,
        price.currency or currency,
        min(ends) if ends else None,
        price.basis(n),
        price.source,
        price,
        tuple(covered),
    )


# -- actions ------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Action:
    kind: str  # replace-device | upgrade-os | upgrade-hardware | migrate-server | assess-device |
    #            update-applications | none
    text: str  # "replace device", "upgrade to Windows 11 in place" ...
    clears: str  # "clears Windows 10 22H2 and 6 applications"
    cost: float | None


# endoflife.date marks Windows editions with a letter people do not read: spell it out.
_EDITION_MARKS = ((" (E)", " (Enterprise/Education)"), (" (W)", " (Home/Pro)"), (" (IoT)", " (IoT Enterprise)"))


# Windows long-term servicing releases by the name Microsoft sells them under (the dataset says
# "11 24H2 (E) (LTS)" for Windows 11 Enterprise LTSC 2024).
_WINDOWS_LTS = re.compile(r"^(10|11) (\w+) (\(E\)|IoT) \(LTS\)$")
_LTS_NAMES = {"1507": "LTSB 2015", "1607": "LTSB 2016", "1809": "LTSC 2019", "21H2": "LTSC 2021", "24H2": "LTSC 2024"}
# Windows Server before 2016 had no servicing channels: "(LTSC)" on 2003 or 2012 R2 is anachronistic.
_SERVER_OLD_LTSC = re.compile(r"^(Windows Server (?:19|20)(?:0\d|1[0-5])\b.*) \(LTSC\)$")
_SERVER_CHANNELS = ((" SAC", " (Semi-Annual Channel)"), (" AC", " (Annual Channel)"))


def _spoken_server(label: str) -> str | None:
    """No "(LTSC)" on servers older than the channels; SAC/AC spelled out."""
    old_server = _SERVER_OLD_LTSC.match(label)
    if old_server:
        return old_server.group(1)
    for mark, words in _SERVER_CHANNELS:
        if label.startswith("Windows Server ") and label.endswith(mark):
            return label[: -len(mark)] + words
    return None


def spoken_release(label: str) -> str:
    """A release label as people say it: the dataset's edition letters spelled out, Windows LTSC
    releases by their product name ("Windows 11 Enterprise LTSC 2024"), Windows Server channels
    spelled out and no "(LTSC)" on servers older than the channels."""
    lts = _WINDOWS_LTS.match(label)
    if lts:
        major, version, edition = lts.groups()
        name = _LTS_NAMES.get(version, f"{version} LTSC")
        return f"{major} {'IoT ' if edition == 'IoT' else ''}Enterprise {name}"
    server = _spoken_server(label)
    if server is not None:
        return server
    for mark, words in _EDITION_MARKS:
        if label.endswith(mark) or f"{mark} " in label:
            label = label.replace(mark, words)
    return label


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())


def product_release_name(product_label: str, release_label: str) -> str:
    """Join a product's label and a release label without saying the product twice.

    The dataset's release labels often repeat the product ("Windows Server 2016 (LTSC)" for
    "Microsoft Windows Server", "macOS 10.13 (High Sierra)" or "Mac OS X 10.6" for "Apple macOS"):
    when the label starts with a word of the product label (compared without spaces and case), only
    the vendor words before it are kept, so the reader sees "Microsoft Windows Server 2016 (LTSC)",
    never "Microsoft Windows Server Windows Server 2016".  Pure, and remembers nothing (a few
    microseconds a call).
    """
    label = spoken_release(release_label.strip())
    base = product_label.strip()
    if not label:
        return base
    flat = _squash(label)
    if not base or flat.startswith(_squash(base)):
        return label
    words = base.split()
    for i, word in enumerate(words):
        squashed = _squash(word)
        if len(squashed) > 1 and flat.startswith(squashed):
            return " ".join(words[:i] + [label])
    return _without_repeats(words, label)


def _without_repeats(words: list[str], label: str) -> str:
    """The product's words, then the release label, saying nothing twice: a label that ends with the
    product label's last words loses them ("Apple QuickTime for Windows" + "7.x for Windows" is
    "Apple QuickTime for Windows 7.x"); a label that has the product label's last word inside it
    keeps it there ("Microsoft Windows Embedded" + "XP Embedded SP3" is "Microsoft Windows XP
    Embedded SP3", as Microsoft sold it; a parenthesis is a remark, not the name)."""
    said = label.split()
    for k in range(len(words) - 1, 1, -1):  # "for Windows": two or more trailing words
        if len(said) > k and [w.lower() for w in said[-k:]] == [w.lower() for w in words[-k:]]:
            return " ".join(words + said[:-k])
    last = words[-1]
    named = label.split("(", 1)[0].split()
    if len(words) > 1 and len(last) > 3 and last.isalpha() and last.lower() in (w.lower() for w in named[1:]):
        return " ".join(words[:-1] + said)
    return " ".join(words + said)


def release_name(f: Finding) -> str:
    """``Microsoft Windows 10 22H2``-style name of a finding's release, for sentences and tables.

    Every renderer names releases through this function, so no table shows a raw cycle id
    ("5-sp3") where the dataset has a label ("XP SP3")."""
    base = f.product_label or f.product or f.name
    if not f.product:
        return base
    return product_release_name(base, f.detail.release_label or f.cycle or "")


def _apps(n: int) -> str:
    return f"{n} application{'s' if n != 1 else ''}"


def product_cost(f: Finding, cfg: ReportConfig) -> float | None:
    """``[costs.products]`` price for dealing with this release on one device (product:cycle, then
    product), e.g. a PACS workstation that costs far more to replace than a desktop."""
    if not cfg.product_costs or not f.product:
        return None
    hit = cfg.product_costs.get(f"{f.product}:{f.cycle or ''}")
    return hit if hit is not None else cfg.product_costs.get(f.product)


def _unit(key: str, f: Finding, cfg: ReportConfig) -> float | None:
    special = product_cost(f, cfg)
    return special if special is not None else cfg.cost(key)


def _apps_cost(apps: list[Finding], cfg: ReportConfig) -> float | None:
    """Updating these applications: each at its ``[costs.products]`` price or ``update_application``
    (None when none of them is costed)."""
    costs = [c for c in (_unit("update_application", a, cfg) for a in apps) if c is not None]
    return sum(costs) if costs else None


@dataclass(slots=True, frozen=True)
class _OsAction:
    """The wording and application cost shared by every action that clears a device's OS."""

    finding: Finding
    name: str  # release_name(finding)
    also: str  # " and 3 applications" (cleared by the same action)
    rest: str  # "; then update 3 applications" (left after it)
    apps_cost: float

    @classmethod
    def of(cls, os_finding: Finding, app_findings: list[Finding], cfg: ReportConfig) -> _OsAction:
        # The distribution's own builds (scanner.judge.distribution_builds: rule "...+distro.<os>") end with the OS
        # release and are cleared by upgrading it: they are not separate application updates.
        own_apps = [f for f in app_findings if "+distro." not in f.detail.rule]
        n_apps = len(own_apps)
        return cls(
            os_finding,
            release_name(os_finding),
            f" and {_apps(n_apps)}" if n_apps else "",
            f"; then update {_apps(n_apps)}" if n_apps else "",
            _apps_cost(own_apps, cfg) or 0.0,
        )

    def plus_apps(self, unit: float | None) -> float | None:
        return unit + self.apps_cost if unit is not None else None

    def migrate_server(self, cfg: ReportConfig) -> Action:
        return Action(
            "migrate-server",
            "migrate to a supported server OS",
            f"clears {self.name}{self.also}",
            self.plus_apps(_unit("migrate_server", self.finding, cfg)),
        )

    def replace_device(self, cfg: ReportConfig) -> Action:
        return Action(
            "replace-device",
            "replace device",
            f"clears {self.name}{self.also}",
            _unit("replace_device", self.finding, cfg),
        )

    def upgrade_os(self, description: str, unit: float | None) -> Action:
        return Action("upgrade-os", description, f"clears {self.name}{self.rest}", self.plus_apps(unit))


def device_action(
    os_finding: Finding | None,
    app_findings: list[Finding],
    readiness: Readiness | None,
    cfg: ReportConfig,
    server: bool,
) -> Action:
    """What to do with one device, given its open (not accepted) actionable findings.

    The action's cost is the one figure every total of the report adds up (KPIs, plan by
    financial year, roadmap): each device's action is priced once, here."""
    if os_finding is None or not os_finding.actionable:
        return _apps_action(app_findings, cfg)
    act = _OsAction.of(os_finding, app_findings, cfg)
    product = os_finding.product or ""
    if product == "windows-server":
        return act.migrate_server(cfg)
    if product == "windows":
        return _windows_client_action(act, readiness, server, cfg)
    if product == "macos":
        return act.replace_device(cfg)
    return act.upgrade_os("upgrade the OS to a supported release", _unit("upgrade_os", os_finding, cfg))


def _windows_client_action(act: _OsAction, readiness: Readiness | None, server: bool, cfg: ReportConfig) -> Action:
    """A device running client Windows (a server that does is migrated like Windows Server)."""
    if server:
        return act.migrate_server(cfg)
    if readiness is not None:
        return _windows_action(act, readiness, cfg)
    if str(act.finding.cycle or "").startswith("11"):
        return act.upgrade_os("install a supported Windows 11 feature update", cfg.cost("upgrade_os"))
    return act.replace_device(cfg)


def _apps_action(app_findings: list[Finding], cfg: ReportConfig) -> Action:
    """A device whose OS needs nothing: its applications' updates, if any."""
    n_apps = len(app_findings)
    if not n_apps:
        return Action("none", "no action", "", None)
    return Action(
        "update-applications",
        f"update or remove {_apps(n_apps)}",
        f"clears {_apps(n_apps)}",
        _apps_cost(app_findings, cfg),
    )


def _windows_action(act: _OsAction, readiness: Readiness, cfg: ReportConfig) -> Action:
    """A Windows client's action, by its Windows 11 readiness."""
    if readiness.verdict == "ready":
        return act.upgrade_os("upgrade to Windows 11 in place", cfg.cost("upgrade_os"))
    if readiness.verdict == "not-ready" and set(readiness.blockers) <= {"ram", "disk"}:
        unit_hw, unit_os = cfg.cost("upgrade_hardware"), cfg.cost("upgrade_os")
        cost = unit_hw + unit_os + act.apps_cost if unit_hw is not None and unit_os is not None else None
        return Action("upgrade-hardware", readiness.action, f"clears {act.name}{act.rest}", cost)
    if readiness.verdict == "unknown":
        return Action("assess-device", readiness.action, f"decides {act.name}{act.also}", cfg.cost("assess_device"))
    return act.replace_device(cfg)


PLANNED = "upgrade-os (planned)"


def planned_action(os_finding: Finding, cfg: ReportConfig) -> Action:
    """A device with nothing open whose OS leaves support inside the roadmap horizon: the OS
    upgrade to plan (and budget) before that date."""
    end = os_finding.eol.isoformat() if os_finding.eol else "its end of support"
    return Action(
        PLANNED,
        f"plan the OS upgrade before {end}",
        f"{release_name(os_finding)} ends {end}",
        _unit("upgrade_os", os_finding, cfg),
    )


@dataclass(slots=True, frozen=True)
class EsuLine:
    key: str
    name: str
    year: int  # 1-based year of the paid phase on as_of
    cost: float | None  # this year's per-device price (None: beyond the priced years)
    entitled: bool  # the site declared the entitlement (status extended)

    def text(self, currency: str) -> str:
        price = f"{self.cost:,.0f} {currency}" if self.cost is not None else "no price for this year"
        return f"{self.name} year {self.year}: {price}{' (entitled)' if self.entitled else ' (not bought)'}"


def esu_line(os_finding: Finding | None, cfg: ReportConfig, as_of: date) -> EsuLine | None:
    if os_finding is None or os_finding.eol is None or not cfg.esu:
        return None
    if os_finding.status not in (Status.EOL, Status.EXTENDED, Status.ENDING_SOON):
        return None
    plan = cfg.esu.get(f"{os_finding.product}:{os_finding.cycle}")
    if plan is None:
        return None
    days = (as_of - os_finding.eol).days
    year = max(1, days // 365 + 1) if days > 0 else 1
    cost = plan.year_costs[year - 1] if year <= len(plan.year_costs) else None
    return EsuLine(plan.key, plan.name, year, cost, os_finding.status is Status.EXTENDED)
