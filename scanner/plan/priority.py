"""Priority per finding and per device: a documented, configurable sum whose parts are all shown.

Why a transparent sum and not a clever formula: DSPT 8.2 asks the trust to show that "analysis
has been done and informed decisions were made".  A score nobody can explain cannot be defended
in front of a SIRO, so every score here is a list of ``Part`` (name, points, why) that renderers
print next to the total.  The weights live in ``PriorityConfig`` and can be overridden from the
``[priority]`` table of ``legacyscan.toml`` (see ``docs/reports.md``).

Finding score = status points (eol > extended > ending-soon)
              + days past end of support (capped)
              + product class (OS > browser / runtime / internet-facing > server software > other)
              + device role and tags (clinical, medical-device, server, internet-facing)
              + how many devices carry the same product/cycle (log scale, capped).
Device score  = its highest finding score + a bonus per further actionable finding (capped):
              a PC with one EOL OS and six EOL applications outranks one with the OS alone.

Pure functions: ``as_of`` is a parameter; nothing reads the clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypedDict

from scanner.model import Finding, Status


class PriorityConfigError(ValueError):
    """A ``[priority]`` setting is wrong; the message names the key."""


class PartJson(TypedDict):
    name: str
    points: float  # 2 decimals
    why: str


class ScoreJson(TypedDict):
    """A score as JSON (``SCORE`` of docs/report-json.md): the parts add up to the total."""

    total: float  # 1 decimal
    parts: list[PartJson]


@dataclass(slots=True, frozen=True)
class Part:
    """One component of a score: shown to the reader as ``name +points (why)``."""

    name: str
    points: float
    why: str

    def to_dict(self) -> PartJson:
        return {"name": self.name, "points": round(self.points, 2), "why": self.why}


@dataclass(slots=True, frozen=True)
class Score:
    total: float
    parts: tuple[Part, ...]

    def explain(self, nested: bool = False) -> str:
        """``eol +50; days past end +13.7; class os +20`` — one line for tables and CSV.

        ``nested``: a device score also spells out the parts of its worst finding
        (``worst finding +105 (eol +50; …); further findings +6``)."""
        return "; ".join(
            f"{p.name} {round(p.points, 1):+g}" + (f" ({p.why})" if nested and p.name == WORST else "")
            for p in self.parts
            if p.points
        )

    def to_dict(self) -> ScoreJson:
        return {"total": round(self.total, 1), "parts": [p.to_dict() for p in self.parts]}


ZERO = Score(0.0, ())
WORST = "worst finding"

PRODUCT_CLASSES = ("os", "browser", "runtime", "internet-facing", "server", "other")


@dataclass(slots=True, frozen=True)
class PriorityConfig:
    """The weights.  Defaults are a reasonable starting point; a trust tunes them in TOML."""

    # The defaults are calibrated so that "critical" needs an unsupported OS (or browser) *and* two
    # aggravating facts — long past its end, and a clinical, medical-device or internet-facing
    # role — and so stays a short list a board can act on this quarter (docs/reports.md, "Priority
    # model", gives the reasoning and the worked examples).
    status_points: Mapping[str, float] = field(
        default_factory=lambda: {Status.EOL.value: 40.0, Status.EXTENDED.value: 10.0, Status.ENDING_SOON.value: 5.0}
    )
    points_per_30_days_past: float = 1.0  # only while unsupported (eol): an extended phase is patched
    max_days_points: float = 24.0  # two years
    class_points: Mapping[str, float] = field(
        default_factory=lambda: {
            "os": 25.0,
            "browser": 15.0,
            "runtime": 10.0,
            "internet-facing": 15.0,
            "server": 5.0,
            "other": 0.0,
        }
    )
    # product slug -> class; anything not listed (and not an OS finding) is "other"
    product_classes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PRODUCT_CLASSES))
    tag_points: Mapping[str, float] = field(
        default_factory=lambda: {"internet-facing": 25.0, "medical-device": 15.0, "clinical": 10.0, "server": 5.0}
    )
    points_per_doubling_devices: float = 1.0  # log2(devices carrying the product/cycle) * this
    max_devices_points: float = 5.0
    device_bonus_per_finding: float = 1.0  # per further actionable finding on the same device
    max_device_bonus: float = 10.0
    bands: Mapping[str, float] = field(default_factory=lambda: {"critical": 110.0, "high": 80.0, "medium": 50.0})
    # A device whose OS is supported (or covered, or accepted) is never "critical" for its
    # applications alone unless it carries one of these tags: an old Java runtime on a supported
    # admin PC is work for the desktop team, not an item for the board.
    app_only_critical_tags: frozenset[str] = frozenset({"clinical", "internet-facing", "medical-device"})

    def product_class(self, finding: Finding) -> str:
        if finding.kind == "os":
            return "os"
        return self.product_classes.get(finding.product or "", "other")

    def band(self, total: float) -> str:
        for name, threshold in sorted(self.bands.items(), key=lambda kv: -kv[1]):
            if total >= threshold:
                return name
        return "low"

    def device_band(self, total: float, os_open: bool, tags: Iterable[str]) -> str:
        """The band of a device: ``band(total)``, except that a device with no open OS finding is
        at most the band below the top one unless a tag in ``app_only_critical_tags`` applies."""
        if not total:
            return "none"
        name = self.band(total)
        ordered = [n for n, _ in sorted(self.bands.items(), key=lambda kv: -kv[1])]
        if os_open or not ordered or name != ordered[0]:
            return name
        if {t.lower() for t in tags} & self.app_only_critical_tags:
            return name
        return ordered[1] if len(ordered) > 1 else "low"


DEFAULT_PRODUCT_CLASSES: dict[str, str] = {
    # browsers: the first thing an attacker reaches from e-mail or the web
    "chrome": "browser",
    "firefox": "browser",
    "internet-explorer": "browser",
    "microsoft-edge": "browser",
    "safari": "browser",
    "opera": "browser",
    # runtimes and plug-ins: run untrusted content
    "oracle-jdk": "runtime",
    "openjdk-builds-from-oracle": "runtime",
    "eclipse-temurin": "runtime",
    "microsoft-build-of-openjdk": "runtime",
    "redhat-build-of-openjdk": "runtime",
    "amazon-corretto": "runtime",
    "azul-zulu": "runtime",
    "dotnet": "runtime",
    "dotnetfx": "runtime",
    "python": "runtime",
    "nodejs": "runtime",
    "php": "runtime",
    "adobe-flash-player": "runtime",
    "silverlight": "runtime",
    "perl": "runtime",
    "ruby": "runtime",
    "powershell": "runtime",
    "adobe-reader": "runtime",
    "acrobat-reader": "runtime",
    # internet-facing services and the libraries they terminate TLS with
    "apache-http-server": "internet-facing",
    "nginx": "internet-facing",
    "tomcat": "internet-facing",
    "openssl": "internet-facing",
    "openssh": "internet-facing",
    "msexchange": "internet-facing",
    "iis": "internet-facing",
    "citrix-vad": "internet-facing",
    # server software
    "mssqlserver": "server",
    "postgresql": "server",
    "mysql": "server",
    "mariadb": "server",
    "oracle-database": "server",
    "mongodb": "server",
    "redis": "server",
    "esxi": "server",
    "sqlite": "server",
}


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PriorityConfigError(f"[priority] {where}: expected a number, got {value!r}")
    if value < 0:
        raise PriorityConfigError(f"[priority] {where}: must not be negative")
    return float(value)


_SCALAR_KEYS = frozenset(
    {
        "points_per_30_days_past",
        "max_days_points",
        "points_per_doubling_devices",
        "max_devices_points",
        "device_bonus_per_finding",
        "max_device_bonus",
    }
)


def config_from_toml(table: Mapping[str, Any] | None) -> PriorityConfig:
    """Overlay the ``[priority]`` table of ``legacyscan.toml`` on the defaults; unknown keys are errors."""
    cfg = PriorityConfig()
    if not table:
        return cfg
    if not isinstance(table, Mapping):
        raise PriorityConfigError("[priority] must be a table")
    known = _SCALAR_KEYS | {"status", "class", "products", "tags", "bands", "app_only_critical_tags"}
    unknown = set(table) - known
    if unknown:
        raise PriorityConfigError(
            f"[priority] unknown key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    changes: dict[str, Any] = {k: _num(table[k], k) for k in _SCALAR_KEYS if k in table}
    changes["status_points"] = _merged(
        table, "status", cfg.status_points, [Status.EOL.value, Status.EXTENDED.value, Status.ENDING_SOON.value]
    )
    changes["class_points"] = _merged(table, "class", cfg.class_points, PRODUCT_CLASSES)
    changes["tag_points"] = _merged(table, "tags", cfg.tag_points)
    changes["bands"] = _merged(table, "bands", cfg.bands)
    changes["product_classes"] = _product_classes(table.get("products", {}), cfg.product_classes)
    if "app_only_critical_tags" in table:
        changes["app_only_critical_tags"] = _critical_tags(table["app_only_critical_tags"])
    return replace(cfg, **changes)


def _merged(
    table: Mapping[str, Any], key: str, base: Mapping[str, float], allowed: Iterable[str] | None = None
) -> dict[str, float]:
    """``[priority.<key>]`` over the defaults: numbers only, names from ``allowed`` when given."""
    raw = table.get(key, {})
    if not isinstance(raw, Mapping):
        raise PriorityConfigError(f"[priority.{key}] must be a table")
    out = dict(base)
    for name, value in raw.items():
        if allowed is not None and name not in allowed:
            raise PriorityConfigError(f"[priority.{key}] unknown name {name!r}; expected one of {', '.join(allowed)}")
        out[str(name)] = _num(value, f"{key}.{name}")
    return out


def _product_classes(products: Any, base: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(products, Mapping):
        raise PriorityConfigError("[priority.products] must be a table of product = class")
    classes = dict(base)
    for slug, cls in products.items():
        if cls not in PRODUCT_CLASSES:
            raise PriorityConfigError(
                f"[priority.products] {slug} = {cls!r}: class must be one of {', '.join(PRODUCT_CLASSES)}"
            )
        classes[str(slug)] = str(cls)
    return classes


def _critical_tags(tags: Any) -> frozenset[str]:
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise PriorityConfigError("[priority] app_only_critical_tags: expected a list of tag names")
    return frozenset(t.lower() for t in tags)


def days_past_end(finding: Finding, as_of: date) -> int:
    """Days since security support ended, while nothing covers it (0 when it has not ended, the date
    is unknown, or an extended phase still delivers fixes)."""
    if finding.eol is None or finding.status is not Status.EOL:
        return 0
    return max(0, (as_of - finding.eol).days)


def score_finding(
    finding: Finding, as_of: date, cfg: PriorityConfig, devices_affected: int = 1, host_tags: Iterable[str] = ()
) -> Score:
    """The score of one actionable finding; non-actionable findings score zero (nothing to do)."""
    if not finding.actionable:
        return ZERO
    parts: list[Part] = []
    status_pts = cfg.status_points.get(finding.status.value, 0.0)
    parts.append(Part(finding.status.value, status_pts, f"status {finding.status.value}"))
    days = days_past_end(finding, as_of)
    if days:
        pts = min(cfg.max_days_points, days / 30.0 * cfg.points_per_30_days_past)
        parts.append(Part("days past end", pts, f"{days} days past end of support (cap {cfg.max_days_points:g})"))
    cls = cfg.product_class(finding)
    parts.append(Part(f"class {cls}", cfg.class_points.get(cls, 0.0), f"product class {cls}"))
    for tag in sorted(set(host_tags) | set(finding.tags)):
        tag_pts = cfg.tag_points.get(tag.lower())
        if tag_pts:
            parts.append(Part(f"tag {tag.lower()}", tag_pts, f"device tagged {tag.lower()}"))
    if devices_affected > 1:
        pts = min(cfg.max_devices_points, math.log2(devices_affected) * cfg.points_per_doubling_devices)
        parts.append(Part("devices affected", pts, f"{devices_affected} devices carry this product/cycle"))
    return Score(sum(p.points for p in parts), tuple(parts))


def score_device(finding_scores: Iterable[Score], cfg: PriorityConfig) -> Score:
    """Highest finding score plus a capped bonus for every further actionable finding it clears."""
    scores = sorted((s for s in finding_scores if s.total > 0), key=lambda s: -s.total)
    if not scores:
        return ZERO
    top = scores[0]
    parts = [Part(WORST, top.total, top.explain())]  # its own parts are listed with the finding
    if len(scores) > 1:
        bonus = min(cfg.max_device_bonus, (len(scores) - 1) * cfg.device_bonus_per_finding)
        parts.append(Part("further findings", bonus, f"{len(scores) - 1} more actionable finding(s) cleared"))
    return Score(sum(p.points for p in parts), tuple(parts))
