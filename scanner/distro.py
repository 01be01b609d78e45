"""Packages a Linux distribution maintains for the life of its release.

Why: a distribution ships one upstream release of a library or runtime and backports security
fixes to it for as long as the distribution release is supported.  Upstream OpenSSL 1.1.1 ended
on 2023-09-11, yet RHEL 8's ``openssl-1.1.1k-12.el8_9`` gets Red Hat's fixes until 2029; Debian 12's
``perl 5.36.0-7+deb12u3`` is patched by Debian (then Debian LTS) although upstream Perl 5.36 has
ended.  Calling those "end-of-life" would bury a trust's real findings under every Linux host's
base system, and a wrong "end-of-life" is the worst answer legacyscan can give.

The rule (host context only; ``legacyscan eol identify`` judges a bare record by upstream):
a package whose upstream release has ended (or ends soon) is judged by its *distribution
release* instead -- the host's OS finding: supported, ending soon, extended (Debian LTS, an
entitled ESM/ELS) or end-of-life together with it -- when there is positive evidence that the
build came from the host's own distribution, and the product is one distributions freeze (not a
browser, which they update to each new upstream release: ``FOLLOWS_UPSTREAM``):

* rpm: the package vendor is that distribution's (EPEL's "Fedora Project" on RHEL is not), or,
  when no vendor was recorded, the release carries the distribution's tag (``.el8``, ``.amzn2``);
* dpkg: the version carries the distribution's own revision marks (``+deb12u3``, ``~deb12u1``,
  ``1ubuntu2.22``, ``build1``, binNMU ``+b1``) and no third-party repository's (nodesource, pgdg,
  sury, MariaDB, PPAs, backports...);
* apk: an Alpine ``-rN`` revision on an Alpine host.

Without such evidence the upstream verdict stands: a package installed from a vendor's own
repository follows that vendor's lifecycle.  The finding keeps the upstream end date in its
explanation and names the distribution release that decided it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.inventory import Software
from scanner.model import Status, Verdict


@dataclass(frozen=True, slots=True)
class Distribution:
    """How builds of one distribution (an endoflife.date OS product) can be recognised."""

    products: tuple[str, ...]  # endoflife.date OS products of the host
    source: str  # package manager: dpkg | rpm | apk
    label: str
    version_marks: re.Pattern[str]  # in the package version (dpkg, apk) or release (rpm)
    vendors: tuple[str, ...] = ()  # rpm VENDOR prefixes (case-insensitive) of the distribution


# Explicit list: one entry per distribution family legacyscan can recognise builds of.
DISTRIBUTIONS: tuple[Distribution, ...] = (
    Distribution(("debian",), "dpkg", "Debian", re.compile(r"[+~]deb\d+u\d+|\+b\d+$")),
    Distribution(("ubuntu", "linuxmint"), "dpkg", "Ubuntu", re.compile(r"\dubuntu\d|\dbuild\d")),
    Distribution(("rhel",), "rpm", "Red Hat", re.compile(r"\.el\d+"), ("red hat",)),
    Distribution(("centos",), "rpm", "CentOS", re.compile(r"\.el\d+"), ("centos",)),
    Distribution(("rocky-linux",), "rpm", "Rocky Linux", re.compile(r"\.el\d+"), ("rocky",)),
    Distribution(("almalinux",), "rpm", "AlmaLinux", re.compile(r"\.el\d+"), ("almalinux",)),
    Distribution(("oracle-linux",), "rpm", "Oracle Linux", re.compile(r"\.el\d+"), ("oracle america",)),
    Distribution(("amazon-linux",), "rpm", "Amazon Linux", re.compile(r"\.amzn\d+"), ("amazon",)),
    Distribution(("fedora",), "rpm", "Fedora", re.compile(r"\.fc\d+"), ("fedora project",)),
    Distribution(("sles", "opensuse"), "rpm", "SUSE", re.compile(r"(?!)"), ("suse", "opensuse")),
    Distribution(("alpine-linux",), "apk", "Alpine", re.compile(r"-r\d+$")),
)

# Marks of repositories other than the distribution's own, found in package versions.
THIRD_PARTY = re.compile(
    r"nodesource|nodistro|pgdg|sury|maria|mysql|percona|docker|~bpo|ppa|remi|ius|epel|zabbix|elastic|mongodb",
    re.IGNORECASE,
)


# Products distributions do not freeze: they ship each new upstream release as an update (browsers,
# mail clients), so an installed old release is out of date whoever built it -- upstream decides.
FOLLOWS_UPSTREAM: frozenset[str] = frozenset({"firefox", "thunderbird", "chrome", "chromium", "electron"})


def distribution_for(os_product: str | None, source: str) -> Distribution | None:
    if not os_product:
        return None
    for dist in DISTRIBUTIONS:
        if os_product in dist.products and dist.source == source:
            return dist
    return None


def built_by(dist: Distribution, sw: Software) -> str:
    """The evidence that ``sw`` is the distribution's own build ("" when there is none)."""
    if THIRD_PARTY.search(sw.version) or THIRD_PARTY.search(sw.publisher):
        return ""
    if dist.source == "rpm" and sw.publisher:
        vendor = sw.publisher.lower()
        return f"vendor {sw.publisher!r}" if vendor.startswith(dist.vendors) else ""
    m = dist.version_marks.search(sw.version)
    return f"version mark {m.group()!r}" if m else ""


def rejudge(sw: Software, product: str | None, upstream: Verdict, os_product: str | None, os_label: str,
            os_verdict: Verdict) -> tuple[Verdict, str] | None:
    """The verdict of a distribution's own build of ``product``'s upstream release that has ended
    (or ends soon), and the evidence; None when the upstream verdict stands."""
    if upstream.status not in (Status.EOL, Status.ENDING_SOON) or os_verdict.status is Status.UNKNOWN:
        return None
    if product in FOLLOWS_UPSTREAM:
        return None
    dist = distribution_for(os_product, sw.source)
    if dist is None:
        return None
    evidence = built_by(dist, sw)
    if not evidence:
        return None
    upstream_end = f"upstream {upstream.reason}" if upstream.reason else "upstream support has ended"
    os_state = os_verdict.reason or os_verdict.status.value
    verdict = Verdict(os_verdict.status, eol=os_verdict.eol, extended_until=os_verdict.extended_until,
                      phase_label=f"{dist.label} maintenance",
                      reason=f"{upstream_end}; this is {dist.label}'s build ({evidence}), maintained with "
                             f"{os_label}: {os_state}")
    return verdict, evidence


def rejudge_announced(sw: Software, product: str | None, upstream: Verdict, os_product: str | None,
                      os_label: str, os_verdict: Verdict) -> tuple[Verdict, str] | None:
    """A product version read from a banner (``legacyscan discover``, ``source = "banner"``) on a host
    whose distribution was identified.  A banner that names the distribution as the builder
    ("Apache/2.4.57 (Debian)", "OpenSSH_9.2p1 Debian-2+deb12u3": ``sw.publisher``) is that
    distribution's build, judged with its release as above.  One that names no builder ("nginx/1.22.1")
    may be the distribution's maintained build or a vendor's, which a banner cannot show: the answer
    is "unknown" with the upstream end named, never a possibly wrong "end-of-life"."""
    if upstream.status not in (Status.EOL, Status.ENDING_SOON) or product in FOLLOWS_UPSTREAM or not os_product:
        return None
    dist = next((d for d in DISTRIBUTIONS if os_product in d.products), None)
    if dist is None:
        return None
    upstream_end = f"upstream {upstream.reason}" if upstream.reason else "upstream support has ended"
    if sw.publisher and sw.publisher.lower() == dist.label.lower() and os_verdict.status is not Status.UNKNOWN:
        evidence = f"the banner names a {dist.label} build"
        os_state = os_verdict.reason or os_verdict.status.value
        return Verdict(os_verdict.status, eol=os_verdict.eol, extended_until=os_verdict.extended_until,
                       phase_label=f"{dist.label} maintenance",
                       reason=f"{upstream_end}; {evidence}, maintained with {os_label}: {os_state}"), evidence
    evidence = f"announced by a {dist.label} host; the builder is not announced"
    return Verdict(Status.UNKNOWN, reason=f"{upstream_end}; on this {os_label} host it may be {dist.label}'s own "
                                          "maintained build, which a banner cannot show"), evidence
