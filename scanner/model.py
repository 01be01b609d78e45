"""Core value types of the scanner: identifications, support status, findings.

A finding is only useful if it can be defended in front of a SIRO or an auditor, so every
``Finding`` carries a ``MatchDetail``: which rule matched which evidence, against which dataset
version, with what confidence.  "Unknown" is an honest answer and is kept as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypedDict


class Status(StrEnum):
    """Support status of one finding on one date, most severe first."""

    EOL = "eol"  # security support ended and no entitlement covers it
    EXTENDED = "extended"  # past eol, inside an extended phase the site is entitled to (or a free one)
    ENDING_SOON = "ending-soon"  # security support ends within the lookahead
    SUPPORTED = "supported"
    UNKNOWN = "unknown"  # not identified, or no data

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @classmethod
    def parse(cls, value: str) -> Status:
        try:
            return cls(value)
        except ValueError as exc:
            raise ValueError(f"unknown status {value!r}; expected one of {', '.join(s.value for s in cls)}") from exc


_SEVERITY = {Status.EOL: 4, Status.EXTENDED: 3, Status.ENDING_SOON: 2, Status.SUPPORTED: 1, Status.UNKNOWN: 0}
_ACTIONABLE = frozenset({Status.EOL, Status.EXTENDED, Status.ENDING_SOON})


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(slots=True, frozen=True)
class Identification:
    """The answer of an identifier: which product and cycle a record is, and why.

    ``product`` None means "not a product we track" (a patch entry, 7-Zip, a driver...).
    ``product`` set with ``cycle`` None means "right product, release not in the dataset".
    """

    product: str | None
    cycle: str | None
    rule: str
    reason: str
    confidence: Confidence = Confidence.HIGH
    evidence: tuple[tuple[str, str], ...] = ()  # (field, value) pairs the rule looked at
    group: str | None = None  # components of one product (Office MUI, SQL shared) group under this key
    newer_than_known: bool = False  # version newer than every known cycle: unknown, probably current
    # The evidence fits each of these cycles (AIX ``oslevel`` without a technology level): a verdict
    # is only given when it is the same for all of them (scanner.identify.registry.verdict_for).
    spans: tuple[str, ...] = ()
    # The same for releases of other products (a shared Windows build that is a client or a
    # server release): (product, cycle) pairs, judged the same way as ``spans``.
    alternatives: tuple[tuple[str, str], ...] = ()

    @property
    def identified(self) -> bool:
        return self.product is not None and self.cycle is not None


NOT_A_PRODUCT = Identification(None, None, "none", "no identification rule matched")


@dataclass(slots=True)
class Verdict:
    """Status of an identification on a date, with the dates that decided it."""

    status: Status
    eol: date | None = None  # end of security support (when known)
    extended_until: date | None = None  # end of the extended phase that covers it (when status=extended)
    phase_label: str = ""  # what the deciding tier means for this product ("Debian LTS", "ESU"...)
    reason: str = ""


class MatchJson(TypedDict):
    """``MatchDetail`` as JSON (``match`` of a finding in the JSON report, docs/report-json.md)."""

    rule: str
    reason: str
    evidence: dict[str, str]
    dataset_version: str
    confidence: str
    release_label: str
    source: str


@dataclass(slots=True)
class MatchDetail:
    rule: str
    reason: str
    evidence: dict[str, str]
    dataset_version: str
    confidence: str = "high"
    release_label: str = ""
    source: str = "endoflife.date"  # endoflife.date | supplementary | site

    def to_dict(self) -> MatchJson:
        return {
            "rule": self.rule,
            "reason": self.reason,
            "evidence": self.evidence,
            "dataset_version": self.dataset_version,
            "confidence": self.confidence,
            "release_label": self.release_label,
            "source": self.source,
        }


class FindingReleaseJson(TypedDict):
    """What a finding says about the release it found, without the host: the part of its JSON that
    every finding of the same build on other hosts shares (the JSON report builds it once)."""

    kind: str
    name: str
    version: str
    product: str | None
    cycle: str | None
    product_label: str
    status: str
    eol: str | None  # ISO date
    extended_until: str | None  # ISO date
    count: int
    match: MatchJson


class FindingHostJson(TypedDict):
    host: str
    host_key: str
    site: str


class FindingJson(FindingHostJson, FindingReleaseJson):
    """A finding as JSON (``FINDING`` of docs/report-json.md, without the report's priority,
    band and exception): host, host_key and site first, then the release's keys in their order."""


@dataclass(slots=True)
class Finding:
    """One product on one host, judged on one date."""

    host_key: str
    hostname: str
    site: str
    kind: str  # os | software
    name: str  # what the host reported (DisplayName, package name, OS name)
    version: str
    product: str | None
    cycle: str | None
    status: Status
    eol: date | None
    extended_until: date | None
    detail: MatchDetail
    product_label: str = ""
    group: str | None = None
    count: int = 1  # entries collapsed into this finding (e.g. Office components)
    tags: list[str] = field(default_factory=list)

    @property
    def actionable(self) -> bool:
        return self.status in _ACTIONABLE

    def to_dict(self) -> FindingJson:
        return {"host": self.hostname, "host_key": self.host_key, "site": self.site, **self.release_dict()}

    def release_dict(self) -> FindingReleaseJson:
        """The release part of ``to_dict`` (its keys after ``site``, in the same order)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "product": self.product,
            "cycle": self.cycle,
            "product_label": self.product_label,
            "status": self.status.value,
            "eol": self.eol.isoformat() if self.eol else None,
            "extended_until": self.extended_until.isoformat() if self.extended_until else None,
            "count": self.count,
            "match": self.detail.to_dict(),
        }


@dataclass(slots=True)
class Policy:
    """What the site is entitled to, and how far ahead "ending soon" looks.

    ``entitlements`` holds ``product`` or ``product:cycle`` keys for paid extended phases
    (Windows 10 ESU, Server ESU, RHEL ELS, Ubuntu Pro); ``"*"`` means every paid phase.
    ``free_extended`` lists products whose extended tier costs nothing (Debian LTS), which count
    without a declaration.
    """

    lookahead_days: int = 180
    entitlements: frozenset[str] = frozenset()
    free_extended: frozenset[str] = frozenset({"debian"})
    # "site:<sha256 prefix>" of the site catalogue this policy (and the context's site rules and
    # products) came from; "" without one.  It joins the dataset version every finding names, so a
    # verdict the trust's own file changed can be traced to that exact file.
    site_catalog: str = ""

    def dataset_version(self, catalog_version: str) -> str:
        """The dataset version findings name: the catalog's, plus ``+site:<digest>`` when a site
        catalogue is in use."""
        return f"{catalog_version}+{self.site_catalog}" if self.site_catalog else catalog_version

    def entitled(self, product: str, cycle: str) -> bool:
        if product in self.free_extended:
            return True
        return "*" in self.entitlements or product in self.entitlements or f"{product}:{cycle}" in self.entitlements
