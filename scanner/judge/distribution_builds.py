"""Packages a Linux distribution builds are supported by the distribution, for the life of its release.

Why: a distribution ships one upstream release of a library or runtime and backports security
fixes to it for as long as the distribution release is supported.  Upstream OpenSSL 1.1.1 ended
on 2023-09-11, yet RHEL 8's ``openssl-1.1.1k-12.el8_9`` gets Red Hat's fixes until 2029; Debian 12's
``liblua5.3-0 5.3.6-2`` -- never updated since the release -- is covered by Debian, then Debian
LTS, although upstream Lua 5.3 has ended.  And the other way round: once Debian 11's LTS has
ended nobody patches its apache2 2.4, whatever upstream Apache does.  So (host context only;
``legacyscan eol identify`` judges a bare record by upstream unless told the host's OS):

1. **Who built it** (``build_origin``), from what the package manager records -- never from the
   package being a product:

   * a *third party* when the version carries another repository's marks (NodeSource, PGDG,
     Sury, a distribution or codename spelled in the revision as vendors and PPAs do, backports),
     or the package records an ``Origin`` that is not the distribution, or (dpkg) the package has
     no distribution revision at all and its maintainer is not the distribution's;
   * the *distribution* when its vendor (rpm), ``Origin`` or maintainer's domain is the
     distribution's, or the version carries the distribution's own marks (``+deb12u3``,
     ``1ubuntu2.22``, ``.el8``, Alpine ``-rN``), or (dpkg) the version ends in a plain Debian
     revision (``-2``, ``-1.1``) with no third-party mark: packages never updated since the release
     and ``-defaults`` metapackages look exactly like that -- and so do many vendors' .debs, so
     where a Debian host's apt indexes are readable they decide such a package (the installed
     version in Debian's archive, only in a vendor's index, or a name Debian does not ship);
   * otherwise nobody is proven and the upstream verdict stands.

2. **The distribution's build is judged by the distribution** (``distro_verdict``): the host's
   OS verdict (supported / ending soon / extended with Debian LTS, Ubuntu Pro, ELS / eol), so an
   ended release ends its packages; except where the distribution's own security data says
   otherwise: Debian's ``debian-security-support`` lists (read from the host's copy when the
   package is installed: GPL-2.0 data, not bundled) end a package early (``eol`` from the listed
   date, ``ending-soon`` while that date is ahead within the lookahead) or limit it (the OS
   verdict, with the limitation named).  Products distributions update to each new upstream
   release instead of patching (browsers: ``FOLLOWS_UPSTREAM``) keep the worse of upstream and OS.

3. **A third party's build keeps the upstream verdict** (the vendor's lifecycle decides).

Every re-judged finding names the evidence, the upstream verdict it replaced and the OS release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from agents import linux
from agents.inventory import Software
from eol_data.rules import load_rules
from scanner.judge.distribution_data import (
    MAX_MATCHED_NAME,
    SUPPORTED_COMPONENTS,
    AptEntry,
    AptIndex,
    AptSupport,
    LifecycleEntry,
    add_months,
    host_regex,
    lifecycle_end,
    parse_apt_support,
    parse_lifecycle,
    supported_months,
)
from scanner.model import Policy, Status, Verdict


@dataclass(frozen=True, slots=True)
class Distribution:
    """How builds of one distribution (an endoflife.date OS product) can be recognised."""

    products: tuple[str, ...]  # endoflife.date OS products of the host
    source: str  # package manager: dpkg | rpm | apk
    label: str
    version_marks: re.Pattern[str]  # in the package version (dpkg, apk) or release (rpm)
    vendors: tuple[str, ...] = ()  # rpm VENDOR prefixes (case-insensitive) of the distribution
    domains: tuple[str, ...] = ()  # maintainer e-mail domains of the distribution (and subdomains)
    origins: tuple[str, ...] = ()  # dpkg Origin values of the distribution (lower case)
    plain_revision: bool = False  # dpkg: a bare Debian revision (-2, -1.1) counts as the distribution's
    security_data: str = ""  # which distribution security-support data applies ("debian" or "")


def _distribution(entry: dict[str, Any]) -> Distribution:
    return Distribution(
        tuple(entry["products"]),
        str(entry["source"]),
        str(entry["label"]),
        re.compile(str(entry["version_marks"])),
        vendors=tuple(entry.get("vendors", ())),
        domains=tuple(entry.get("domains", ())),
        origins=tuple(entry.get("origins", ())),
        plain_revision=bool(entry.get("plain_revision", False)),
        security_data=str(entry.get("security_data", "")),
    )


# The distribution-build rules are data (eol_data/rules/distro.toml, checked when it loads).
_RULES = load_rules().table("distro")
# Explicit list: one entry per distribution family legacyscan can recognise builds of.
DISTRIBUTIONS: tuple[Distribution, ...] = tuple(_distribution(e) for e in _RULES["distribution"])

# Marks of repositories other than the distribution's own, a distribution release spelled in the
# revision, and release codenames in a revision: a vendor's build (see distro.toml [third_party]).
THIRD_PARTY = re.compile("|".join(_RULES["third_party"]["marks"]), re.IGNORECASE)
SPELLED_RELEASE = re.compile("|".join(_RULES["third_party"]["spelled_release"]), re.IGNORECASE)
CODENAMES = re.compile(
    "(?<![a-z])(?:" + "|".join(_RULES["third_party"]["codenames"]) + ")(?![a-z])",
    re.IGNORECASE,
)
_MODULE_STREAM = re.compile(r"\.module\+el\d+[.\d]*")  # RHEL 8/9 modular builds: "1.module+el8.3.0+8851+b7b41ca0"
_PLAIN_REVISION = re.compile(r"-\d+(?:\.\d+){0,2}$")
_EMAIL_DOMAIN = re.compile(r"@([A-Za-z0-9.-]+)>?\s*$")

# Products distributions do not freeze (browsers, mail clients): upstream decides, and an ended OS
# release ends them too (distro.toml [follows_upstream]).
FOLLOWS_UPSTREAM: frozenset[str] = frozenset(_RULES["follows_upstream"]["products"])

THIRD, DISTRO = "third-party", "distribution"
# The distribution's archive ships it but the distribution's security team does not support it
# (Ubuntu universe/multiverse without Ubuntu Pro ESM Apps): the upstream verdict applies.
COMMUNITY = "community"


def distribution_for(os_product: str | None, source: str) -> Distribution | None:
    if not os_product:
        return None
    for dist in DISTRIBUTIONS:
        if os_product in dist.products and dist.source == source:
            return dist
    return None


def _revision(version: str) -> str:
    return version.rsplit("-", 1)[1] if "-" in version else ""


def _domain_of(maintainer: str) -> str:
    m = _EMAIL_DOMAIN.search(maintainer)
    return m.group(1).lower().rstrip(".") if m else ""


def _in_domains(domain: str, domains: tuple[str, ...]) -> bool:
    return bool(domain) and any(domain == d or domain.endswith("." + d) for d in domains)


class DistroMemo:
    """What the distribution judgement works out once per run and reuses: who built a package (by
    the fields that decide it) and the host's parsed security-support lists, apt indexes and zypper
    lifecycle data (hosts of one release carry the same texts).  An object its owner keeps
    (``scanner.judge.match.MatchMemo.distro``: one per run); without one every answer is worked out
    afresh.  Each table is bounded (cleared when full)."""

    __slots__ = ("origins", "support", "apt", "lifecycle")

    def __init__(self) -> None:
        self.origins: dict[tuple[str, str, str, str, str], tuple[str, str]] = {}
        self.support: dict[tuple[str, str, str], SecuritySupport] = {}
        self.apt: dict[str, AptSupport] = {}
        self.lifecycle: dict[str, tuple[LifecycleEntry, ...]] = {}


def _signer(sw: Software, signers: Mapping[str, str] | None) -> tuple[str, str]:
    """``(key id, owner)`` of an rpm's signing key: the owner as the host's imported key names it
    ("" when the key is not imported there)."""
    if sw.source != "rpm" or not sw.origin.startswith("key "):
        return "", ""
    key = sw.origin[4:]
    return key, (signers or {}).get(key[-8:], "")


def build_origin(
    dist: Distribution, sw: Software, signers: Mapping[str, str] | None = None, memo: DistroMemo | None = None
) -> tuple[str, str]:
    """``(DISTRO | THIRD | "", evidence)``: who built ``sw``, by what the package manager recorded.
    ``signers``: the host's imported rpm signing keys (short id -> owner); ``memo``: the run's
    answers by the fields that decide them."""
    signer = _signer(sw, signers)
    if memo is None:
        return _build_origin(dist, sw, signer)
    origins = memo.origins
    key = (dist.label, sw.version, sw.publisher, sw.origin, signer[1])
    hit = origins.get(key)
    if hit is None:
        hit = _build_origin(dist, sw, signer)
        if len(origins) > 200_000:
            origins.clear()
        origins[key] = hit
    return hit


def _owned_by(dist: Distribution, who: str) -> bool:
    """An rpm vendor, packager or key owner that names the distribution (vendor prefix or e-mail
    domain)."""
    return who.lower().startswith(dist.vendors) or _in_domains(_domain_of(who), dist.domains)


def _build_origin(dist: Distribution, sw: Software, signer: tuple[str, str] = ("", "")) -> tuple[str, str]:
    version = sw.version
    tail = _revision(version) or version
    m = THIRD_PARTY.search(version) or SPELLED_RELEASE.search(tail) or CODENAMES.search(tail)
    if m:
        return THIRD, f"version {version!r} carries a third-party repository mark {m.group()!r}"
    if dist.source == "rpm":
        return _rpm_origin(dist, sw, signer)
    if sw.origin:
        if sw.origin.lower() in dist.origins:
            return DISTRO, f"origin {sw.origin!r}"
        return THIRD, f"origin {sw.origin!r} is not {dist.label}"
    return _deb_origin(dist, sw)


def _deb_origin(dist: Distribution, sw: Software) -> tuple[str, str]:
    """dpkg/apk without an origin: the distribution's version mark, its maintainers' domain, then
    (where its revisions are plain numbers) the revision itself."""
    version = sw.version
    m = dist.version_marks.search(version)
    if m:
        return DISTRO, f"version mark {m.group()!r}"
    domain = _domain_of(sw.publisher)
    if _in_domains(domain, dist.domains):
        return DISTRO, f"maintainer {sw.publisher!r}"
    if dist.plain_revision:
        m = _PLAIN_REVISION.search(version)
        if m:
            return DISTRO, f"{dist.label} revision {m.group()!r}, no third-party mark"
        if sw.publisher:
            return THIRD, f"no {dist.label} revision and maintainer {sw.publisher!r} is not {dist.label}'s"
    return "", ""


def _rpm_origin(dist: Distribution, sw: Software, signer: tuple[str, str]) -> tuple[str, str]:
    """rpm: the signing key's owner first (anyone can write a Vendor; only the key's holder can
    sign), then the Vendor/Packager, then the distribution's release tag (``.el8``) alone."""
    key, owner = signer
    if owner:
        if _owned_by(dist, owner):
            return DISTRO, f"signed with {owner!r} key {key}"
        return THIRD, f"signed with key {key} of {owner!r}, not {dist.label}'s"
    if sw.publisher:
        if _owned_by(dist, sw.publisher):
            return DISTRO, f"vendor {sw.publisher!r}"
        return THIRD, f"vendor {sw.publisher!r} is not {dist.label}"
    m = dist.version_marks.search(sw.version)
    # a package signed with a key the host has not imported, and no vendor: not proven
    return (DISTRO, f"release tag {m.group()!r}") if m and not key else ("", "")


def built_by(dist: Distribution, sw: Software) -> str:
    """The evidence that ``sw`` is the distribution's own build ("" when it is not proven)."""
    kind, evidence = build_origin(dist, sw)
    return evidence if kind == DISTRO else ""


# -- the distribution's own security data ------------------------------------------------------

DEBIAN_SECURITY_SUPPORT = linux.DEBIAN_SECURITY_SUPPORT  # the host's copy (agents.linux reads it)


@dataclass(frozen=True, slots=True)
class SupportEntry:
    pattern: re.Pattern[str]
    raw: str
    version: str = ""
    ended: date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class SecuritySupport:
    """Debian's security-support lists for one release: packages whose support ended early (or
    ends on a listed date) and packages with limited support.  Matched on the SOURCE package name
    (a Perl-style regular expression matching the whole name, as ``check-support-status`` does)."""

    ended: tuple[SupportEntry, ...] = ()
    limited: tuple[SupportEntry, ...] = ()
    origin: str = ""  # where the lists came from (the host's files)
    supported: tuple[SupportEntry, ...] = ()  # explicitly fully supported (exceptions to a pattern)
    _memo: dict[str, tuple[SupportEntry | None, SupportEntry | None]] = field(
        default_factory=dict, compare=False, hash=False
    )

    def lookup(self, source: str) -> tuple[SupportEntry | None, SupportEntry | None]:
        if len(source) > MAX_MATCHED_NAME:
            return None, None  # no package's name: never run against the host's patterns
        hit = self._memo.get(source)
        if hit is None and any(e.pattern.fullmatch(source) for e in self.supported):
            hit = self._memo[source] = (None, None)
        if hit is None:
            hit = (
                next((e for e in self.ended if e.pattern.fullmatch(source)), None),
                next((e for e in self.limited if e.pattern.fullmatch(source)), None),
            )
            self._memo[source] = hit
        return hit


def _pattern(raw: str) -> re.Pattern[str] | None:
    return host_regex(raw)  # None for a pattern we do not run (invalid, or unsafe to run)


def parse_ended(text: str) -> tuple[SupportEntry, ...]:
    """``security-support-ended.debN``: ``source version date note`` per line, ``#`` comments."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 3)
        pattern = _pattern(parts[0])
        if pattern is None:
            continue
        ended = None
        if len(parts) > 2:
            try:
                ended = date.fromisoformat(parts[2])
            except ValueError:
                ended = None
        out.append(
            SupportEntry(
                pattern, parts[0], parts[1] if len(parts) > 1 else "", ended, parts[3].strip() if len(parts) > 3 else ""
            )
        )
    return tuple(out)


def parse_limited(text: str) -> tuple[SupportEntry, ...]:
    """``security-support-limited``: ``source note`` per line."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 1)
        pattern = _pattern(parts[0])
        if pattern is not None:
            out.append(SupportEntry(pattern, parts[0], note=parts[1].strip() if len(parts) > 1 else ""))
    return tuple(out)


def _list_line(line: str) -> list[str]:
    """A list line's ``source status rest`` fields (none for a blank or comment line)."""
    if not line.strip() or line.lstrip().startswith("#"):
        return []
    return line.split(None, 2)


def _non_supported(pattern: re.Pattern[str], source: str, rest: str) -> SupportEntry:
    """A ``non-supported`` line's ``[version date] note``."""
    fields = rest.split(None, 2)
    when = None
    if len(fields) > 1:
        try:
            when = date.fromisoformat(fields[1])
        except ValueError:
            when = None
    return SupportEntry(
        pattern, source, fields[0] if fields else "", when, fields[2].strip() if len(fields) > 2 else ""
    )


def parse_combined(text: str) -> SecuritySupport:
    """``security-support.debN`` (one list per release): ``source status [version date] note`` with
    status ``non-supported`` (ended on the date), ``limited`` or ``supported`` (an exception)."""
    ended, limited, supported = [], [], []
    for line in text.splitlines():
        parts = _list_line(line)
        pattern = _pattern(parts[0]) if len(parts) >= 2 else None
        if pattern is None:
            continue
        rest = parts[2] if len(parts) > 2 else ""
        if parts[1] == "non-supported":
            ended.append(_non_supported(pattern, parts[0], rest))
        elif parts[1] == "limited":
            limited.append(SupportEntry(pattern, parts[0], note=rest.strip()))
        elif parts[1] == "supported":
            supported.append(SupportEntry(pattern, parts[0], note=rest.strip()))
    return SecuritySupport(tuple(ended), tuple(limited), "the host's debian-security-support list", tuple(supported))


def _parse_support(combined: str | None, ended_text: str | None, limited_text: str | None) -> SecuritySupport:
    if combined is not None:
        return parse_combined(combined)
    return SecuritySupport(
        parse_ended(ended_text or ""),
        parse_limited(limited_text or ""),
        origin="the host's debian-security-support lists",
    )


def security_support(
    os_product: str | None, os_cycle: str | None, files: Mapping[str, str] | None, memo: DistroMemo | None = None
) -> SecuritySupport | None:
    """The host's copy of its distribution's security-support lists for its release, or None."""
    if os_product != "debian" or not os_cycle or not files:
        return None
    major = os_cycle.split(".")[0]
    combined = files.get(f"{DEBIAN_SECURITY_SUPPORT}/security-support.deb{major}")
    ended_text = files.get(f"{DEBIAN_SECURITY_SUPPORT}/security-support-ended.deb{major}")
    limited_text = files.get(f"{DEBIAN_SECURITY_SUPPORT}/security-support-limited")
    if combined is None and ended_text is None and limited_text is None:
        return None
    if memo is None:
        return _parse_support(combined, ended_text, limited_text)
    return _memo_support(memo.support, major, combined, ended_text, limited_text)


def _memo_support(
    parsed: dict[tuple[str, str, str], SecuritySupport],
    major: str,
    combined: str | None,
    ended_text: str | None,
    limited_text: str | None,
) -> SecuritySupport:
    """Parsed once per distinct set of lists (hosts of one release carry the same files)."""
    key = (major, combined if combined is not None else "\0", (ended_text or "") + "\0" + (limited_text or ""))
    hit = parsed.get(key)
    if hit is None:
        hit = _parse_support(combined, ended_text, limited_text)
        if len(parsed) > 64:
            parsed.clear()
        parsed[key] = hit
    return hit


# -- the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostOs:
    """What the distribution judgment needs to know about the host's OS (one per host)."""

    product: str | None
    label: str
    verdict: Verdict
    support: SecuritySupport | None = None
    signers: Mapping[str, str] | None = None  # rpm signing keys imported on the host: short id -> owner
    apt: AptSupport | None = None  # Ubuntu: what the host's apt indexes say of its installed packages
    lifecycle: tuple[LifecycleEntry, ...] = ()  # SUSE: the host's zypper lifecycle data
    release_date: date | None = None  # the OS release's date (Ubuntu's ``Supported:`` counts from it)


def _worse(a: Verdict, b: Verdict) -> Verdict:
    return b if b.status.severity > a.status.severity else a


def distro_verdict(
    sw: Software,
    product: str | None,
    upstream: Verdict,
    host: HostOs,
    as_of: date,
    policy: Policy,
    memo: DistroMemo | None = None,
) -> tuple[Verdict, str, str] | None:
    """``(verdict, origin kind, evidence)`` for a Linux package on its host, or None when the
    upstream verdict stands without comment (no distribution known, OS not judged, no evidence).
    ``memo``: the run's build origins (``DistroMemo``)."""
    dist = _judging_distribution(product, sw, host)
    if dist is None:
        return None
    kind, evidence, entries = _origin(dist, sw, host, memo)
    if kind == THIRD:
        return upstream, THIRD, evidence
    if kind != DISTRO:
        return None
    build = _DistroBuild(sw, upstream, host, as_of, policy, dist, evidence)
    return build.follows_upstream() if product in FOLLOWS_UPSTREAM else build.judged(entries)


def _judging_distribution(product: str | None, sw: Software, host: HostOs) -> Distribution | None:
    """The distribution whose data judges this package (None: a product unknown, the OS unjudged)."""
    if product is None or host.verdict.status is Status.UNKNOWN:
        return None
    return distribution_for(host.product, sw.source)


def _origin(
    dist: Distribution, sw: Software, host: HostOs, memo: DistroMemo | None = None
) -> tuple[str, str, tuple[AptEntry, ...]]:
    """Who built the package (kind, evidence), and an Ubuntu host's apt entries for it."""
    kind, evidence = build_origin(dist, sw, host.signers, memo)
    entries: tuple[AptEntry, ...] = ()
    if host.apt is not None and dist.label == "Ubuntu" and kind != THIRD:
        entries = host.apt.entries(sw.name)
        kind, evidence = _apt_origin(entries, kind, evidence, host.product)
        if kind == DISTRO and _by_revision_alone(dist, sw):
            own = [i for i in host.apt.indexes if _own_ubuntu_index(i, host.product)]
            unshipped = _unshipped(dist, own, [e for e in entries if _own_index(e, host.product)])
            kind, evidence = (THIRD, unshipped) if unshipped else (kind, evidence)
    elif host.apt is not None and dist.label == "Debian" and _by_revision_alone(dist, sw):
        kind, evidence = _debian_index_origin(dist, host.apt, sw.name, kind, evidence)
    return kind, evidence, entries


def _unshipped(dist: Distribution, own: list[AptIndex], own_entries: list[AptEntry]) -> str:
    """Why a package is not the distribution's to support ("" when it may be): the host reads the
    distribution's archive indexes and none carries the package's name, in any version."""
    if not own or own_entries:
        return ""
    return f"in none of the host's {len(own)} {dist.label} archive indexes ({own[0].path}...)"


def _by_revision_alone(dist: Distribution, sw: Software) -> bool:
    """Nothing but the shape of the version speaks for or against the distribution: no recorded
    Origin, no mark of the distribution or of another repository, no maintainer of the
    distribution's.  A plain ``-1`` revision is what Debian's never-updated packages have, and what
    many vendors' .debs have too (Microsoft's, Docker's containerd.io): only the apt index can tell."""
    version = sw.version
    tail = _revision(version) or version
    return not (
        sw.origin
        or dist.version_marks.search(version)
        or THIRD_PARTY.search(version)
        or SPELLED_RELEASE.search(tail)
        or CODENAMES.search(tail)
        or _in_domains(_domain_of(sw.publisher), dist.domains)
    )


def _debian_index_origin(dist: Distribution, apt: AptSupport, name: str, kind: str, evidence: str) -> tuple[str, str]:
    """A Debian host's apt indexes (their Release ``Origin``) on a package its version cannot place:
    the installed version in Debian's archive is Debian's build; only in another repository's index,
    that vendor's; a name no Debian index of the host carries at all is not a package Debian ships
    for this release, so Debian's support cannot apply (the upstream verdict does).  Otherwise (the
    archive holds another version: an update not installed yet) the version's evidence stands."""
    own = [i for i in apt.indexes if i.origin.lower() in dist.origins]
    if not own:
        return kind, evidence  # no Debian index readable: nothing to check against
    entries = apt.entries(name)
    have = [e for e in entries if e.installed_version]
    ours = [e for e in have if e.index.origin.lower() in dist.origins]
    if ours:
        index = ours[0].index
        return DISTRO, f"installed version in {index.path} (Origin {index.origin}, {index.suite})"
    if have:
        index = have[0].index
        return (
            THIRD,
            f"installed version in {index.path} (Origin {index.origin or 'not stated'}), not in Debian's archive",
        )
    unshipped = _unshipped(dist, own, [e for e in entries if e.index.origin.lower() in dist.origins])
    return (THIRD, unshipped) if unshipped else (kind, evidence)


def _stated_period(ours: list[AptEntry]) -> AptEntry | None:
    """The first entry whose index states a ``Supported:`` period."""
    return next((e for e in ours if e.supported and supported_months(e.supported)), None)


@dataclass(slots=True)
class _DistroBuild:
    """One package built by the host's distribution, judged by what the distribution's data says
    of it (each step None when it says nothing)."""

    sw: Software
    upstream: Verdict
    host: HostOs
    as_of: date
    policy: Policy
    dist: Distribution
    evidence: str
    upstream_state: str = ""
    os_state: str = ""
    base: str = ""

    def __post_init__(self) -> None:
        upstream, host = self.upstream, self.host
        self.upstream_state = f"upstream {upstream.reason}" if upstream.reason else f"upstream: {upstream.status.value}"
        self.os_state = host.verdict.reason or host.verdict.status.value
        self.base = f"this is {self.dist.label}'s build ({self.evidence})"

    def _judged(self, verdict: Verdict) -> tuple[Verdict, str, str]:
        return verdict, DISTRO, self.evidence

    def _maintained(self, tail: str) -> Verdict:
        """The OS verdict: the build is maintained with the host's release (``tail`` says more)."""
        return _with(
            self.host.verdict,
            f"{self.upstream_state}; {self.base}, maintained with {self.host.label}: {self.os_state}{tail}",
            self.dist,
        )

    def _ends_early(self, end: date, where: str) -> Verdict | None:
        return _ends_early(
            end, where, self.base, self.upstream_state, self.os_state, self.host, self.as_of, self.policy, self.dist
        )

    def judged(self, entries: tuple[AptEntry, ...]) -> tuple[Verdict, str, str]:
        """The first of the distribution's data that speaks of the package, else the OS verdict."""
        return self.security_tracker() or self.ubuntu(entries) or self.suse() or self.maintained()

    def follows_upstream(self) -> tuple[Verdict, str, str] | None:
        """A product the distribution follows upstream for: the worse of upstream and the OS."""
        host = self.host
        if _worse(self.upstream, host.verdict) is self.upstream:
            return None
        reason = f"{self.upstream_state}; {self.base}, and {host.label} is no longer maintained: {self.os_state}"
        return self._judged(_with(host.verdict, reason, self.dist))

    def security_tracker(self) -> tuple[Verdict, str, str] | None:
        """Debian's security tracker data on the host: support ended early, or limited."""
        support = self.host.support if self.dist.security_data == "debian" else None
        if support is None:
            return None
        ended, limited = support.lookup(self.sw.source_package or self.sw.name)
        early = self._tracker_ended(support.origin, ended)
        if early is not None:
            return self._judged(early)
        if limited is None:
            return None
        note = f": {limited.note}" if limited.note else ""
        return self._judged(
            self._maintained(f"; {self.dist.label} limits its security support [{support.origin}: {limited.raw}{note}]")
        )

    def _tracker_ended(self, origin: str, ended: SupportEntry | None) -> Verdict | None:
        if ended is None or ended.ended is None:
            return None
        note = f" ({ended.note})" if ended.note else ""
        return self._ends_early(ended.ended, f"{origin}: {ended.raw} {ended.version}{note}")

    def ubuntu(self, entries: tuple[AptEntry, ...]) -> tuple[Verdict, str, str] | None:
        """Ubuntu's support of one of its packages, from the host's apt indexes: the ``Supported:``
        period from the release date where the index states one (18.04 and older), else the
        component (main/restricted: with the release; universe/multiverse: only with Ubuntu Pro ESM
        Apps, else nobody at Canonical patches it and the upstream verdict applies).  None: no Ubuntu
        index carries the package (the verdict stays the OS's, as without the data)."""
        host = self.host
        ours = sorted((e for e in entries if _own_index(e, host.product)), key=lambda e: not e.installed_version)
        if not ours:
            return None
        stated = _stated_period(ours)
        # main/restricted: Canonical's security support; Linux Mint's own archive: Mint's, with its release
        covered = any(e.index.component in SUPPORTED_COMPONENTS or not e.index.ubuntu for e in ours)
        if stated is not None and host.release_date is not None:
            verdict, kind, where = self._ubuntu_stated(stated, host.release_date, covered)
        else:
            verdict, kind, where = self._ubuntu_component(ours[0].index, covered)
        return verdict, kind, f"{self.evidence}; {where}"

    def _ubuntu_stated(self, stated: AptEntry, released: date, covered: bool) -> tuple[Verdict, str, str]:
        """The index's ``Supported:`` period, counted from the release date."""
        host = self.host
        end = add_months(released, supported_months(stated.supported) or 0)
        where = f"Ubuntu Supported: {stated.supported} from {stated.index.path}"
        os_end = host.verdict.eol
        if os_end is not None and end >= os_end - timedelta(days=62):  # the release's own period
            return self._maintained(f" [{where}]"), DISTRO, where
        if end <= self.as_of and host.verdict.status is Status.EXTENDED and covered:
            # Ubuntu Pro ESM Infra covers main/restricted of an entitled host past the stated period
            tail = f"; its Supported period ended on {end.isoformat()} and Ubuntu Pro covers main [{where}]"
            return self._maintained(tail), DISTRO, where
        early = self._ends_early(end, f"{where}, released {released.isoformat()}")
        if early is not None:
            return early, DISTRO, where
        return self._maintained(f" until {end.isoformat()} [{where}]"), DISTRO, where

    def _ubuntu_component(self, index: AptIndex, covered: bool) -> tuple[Verdict, str, str]:
        """The archive component: main/restricted with the release, the rest only with ESM Apps."""
        if covered:
            where = f"Ubuntu {index.component} from {index.path}"
            return self._maintained(f" [{where}]"), DISTRO, where
        esm = self.host.apt.esm_apps if self.host.apt is not None else None
        if esm is not None:
            where = f"Ubuntu {index.component}, covered by Ubuntu Pro ESM Apps ({esm.path})"
            return self._maintained(f" [{where}]"), DISTRO, where
        why = (
            f"Ubuntu {index.component or 'community'} package ({index.path}): community-maintained, no Canonical "
            "security support without Ubuntu Pro ESM Apps, which this host's apt does not use"
        )
        host = self.host
        if _worse(self.upstream, host.verdict) is not self.upstream:
            # Still the release's archive: once the release has ended (or ends sooner than upstream),
            # nobody rebuilds its community packages either -- at best the OS's status.
            reason = f"{self.upstream_state}; {self.base}, {why}; it is rebuilt only with {host.label}: {self.os_state}"
            return _with(host.verdict, reason, self.dist), DISTRO, why
        return self.upstream, COMMUNITY, why

    def suse(self) -> tuple[Verdict, str, str] | None:
        """SUSE's lifecycle data on the host: the package's end, early or within the OS's."""
        if not (self.host.lifecycle and self.dist.label == "SUSE"):
            return None
        entry = lifecycle_end(self.host.lifecycle, self.sw.name, self.sw.version)
        if entry is None or entry.ended is None:
            return None
        where = f"SUSE lifecycle data {entry.path}: {entry.raw!r}"
        early = self._ends_early(entry.ended, where)
        if early is not None:
            return self._judged(early)
        return self._judged(self._maintained(f" until {entry.ended.isoformat()} [{where}]"))

    def maintained(self) -> tuple[Verdict, str, str]:
        """The OS verdict stands; an RHEL module stream build says what it cannot know."""
        module = _MODULE_STREAM.search(self.sw.version) if self.dist.source == "rpm" else None
        tail = ""
        if module:
            # RHEL 8/9 Application Streams: the stream's own lifecycle may end before the OS, but the
            # host's module metadata carries no end date (Red Hat publishes it on its lifecycle page
            # only), so the OS verdict stands and the reason says what it cannot know.
            tail = (
                f"; a module stream build ({module.group()!r}): Red Hat's Application Streams "
                "lifecycle, not recorded on the host, may end it earlier"
            )
        return self._judged(self._maintained(tail))


def _ends_early(
    end: date,
    where: str,
    base: str,
    upstream_state: str,
    os_state: str,
    host: HostOs,
    as_of: date,
    policy: Policy,
    dist: Distribution,
) -> Verdict | None:
    """The distribution's data ends this package's support on ``end``: ``eol`` from that day,
    ``ending-soon`` while it is ahead within the lookahead (unless the OS is already worse); None
    while it is further ahead."""
    if end <= as_of:
        return Verdict(
            Status.EOL,
            eol=end,
            phase_label=f"{dist.label} security support",
            reason=f"{base}; {dist.label} ended its security support on {end.isoformat()} [{where}]",
        )
    if end - as_of <= timedelta(days=policy.lookahead_days):
        soon = f"{dist.label} ends its security support on {end.isoformat()} [{where}]"
        if host.verdict.status.severity < Status.ENDING_SOON.severity:
            return Verdict(
                Status.ENDING_SOON, eol=end, phase_label=f"{dist.label} security support", reason=f"{base}; {soon}"
            )
        return _with(host.verdict, f"{upstream_state}; {base}, maintained with {host.label}: {os_state}; {soon}", dist)
    return None


def _own_index(entry: AptEntry, product: str | None) -> bool:
    """An index of the host's distribution: Ubuntu's archives, and on Linux Mint Mint's own."""
    return _own_ubuntu_index(entry.index, product)


def _own_ubuntu_index(index: AptIndex, product: str | None) -> bool:
    return index.ubuntu or (product == "linuxmint" and index.origin.lower() == "linuxmint")


def _apt_origin(entries: tuple[AptEntry, ...], kind: str, evidence: str, product: str | None) -> tuple[str, str]:
    """Who built an Ubuntu host's package, by the apt index that holds its installed version: an
    index of Ubuntu's archive (Release ``Origin`` Ubuntu/UbuntuESM...) proves Ubuntu's build; the
    installed version only in other indexes (a PPA, a vendor's repository) proves a third party's."""
    have = [e for e in entries if e.installed_version]
    ours = [e for e in have if _own_index(e, product)]
    if ours:
        index = ours[0].index
        return DISTRO, f"installed version in {index.path} (Origin {index.origin}, {index.suite} {index.component})"
    if have:
        index = have[0].index
        return THIRD, (
            f"installed version in {index.path} (Origin {index.origin or 'not stated'}), not in Ubuntu's archive"
        )
    return kind, evidence


def apt_support(os_product: str | None, text: object, memo: DistroMemo | None = None) -> AptSupport | None:
    """The host's apt index data (``agents.linux.APT_SUPPORT`` output) on a Debian or Ubuntu host."""
    dist = distribution_for(os_product, "dpkg")
    if dist is None or dist.label not in ("Ubuntu", "Debian") or not isinstance(text, str) or not text.strip():
        return None
    return parse_apt_support(text) if memo is None else _memo_parse(memo.apt, text, parse_apt_support)


def suse_lifecycle(os_product: str | None, text: object, memo: DistroMemo | None = None) -> tuple[LifecycleEntry, ...]:
    """The host's zypper lifecycle data (``agents.linux.SUSE_LIFECYCLE`` output) on a SUSE host."""
    dist = distribution_for(os_product, "rpm")
    if dist is None or dist.label != "SUSE" or not isinstance(text, str) or not text.strip():
        return ()
    return parse_lifecycle(text) if memo is None else _memo_parse(memo.lifecycle, text, parse_lifecycle)


_T = TypeVar("_T")


def _memo_parse(memo: dict[str, _T], text: str, parse: Callable[[str], _T]) -> _T:
    hit = memo.get(text)
    if hit is None:
        hit = parse(text)
        if len(memo) > 64:
            memo.clear()
        memo[text] = hit
    return hit


def _with(os_verdict: Verdict, reason: str, dist: Distribution) -> Verdict:
    return Verdict(
        os_verdict.status,
        eol=os_verdict.eol,
        extended_until=os_verdict.extended_until,
        phase_label=f"{dist.label} maintenance",
        reason=reason,
    )


def _banner_distribution(product: str | None, upstream: Verdict, os_product: str | None) -> Distribution | None:
    """The host's distribution, when a banner's ended (or ending) upstream verdict is to be re-judged."""
    if upstream.status not in (Status.EOL, Status.ENDING_SOON) or product in FOLLOWS_UPSTREAM or not os_product:
        return None
    return next((d for d in DISTRIBUTIONS if os_product in d.products), None)


def rejudge_announced(
    sw: Software, product: str | None, upstream: Verdict, os_product: str | None, os_label: str, os_verdict: Verdict
) -> tuple[Verdict, str] | None:
    """A product version read from a banner (``legacyscan discover``, ``source = "banner"``) on a host
    whose distribution was identified.  A banner that names the distribution as the builder
    ("Apache/2.4.57 (Debian)", "OpenSSH_9.2p1 Debian-2+deb12u3": ``sw.publisher``) is that
    distribution's build, judged with its release as above.  One that names no builder ("nginx/1.22.1")
    may be the distribution's maintained build or a vendor's, which a banner cannot show: the answer
    is "unknown" with the upstream end named, never a possibly wrong "end-of-life"."""
    dist = _banner_distribution(product, upstream, os_product)
    if dist is None:
        return None
    upstream_end = f"upstream {upstream.reason}" if upstream.reason else "upstream support has ended"
    if sw.publisher and sw.publisher.lower() == dist.label.lower() and os_verdict.status is not Status.UNKNOWN:
        evidence = f"the banner names a {dist.label} build"
        reason = (
            f"{upstream_end}; {evidence}, maintained with {os_label}: {os_verdict.reason or os_verdict.status.value}"
        )
        return _with(os_verdict, reason, dist), evidence
    evidence = f"announced by a {dist.label} host; the builder is not announced"
    return Verdict(
        Status.UNKNOWN,
        reason=f"{upstream_end}; on this {os_label} host it may be {dist.label}'s own "
        "maintained build, which a banner cannot show",
    ), evidence
