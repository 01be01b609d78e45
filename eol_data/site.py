"""The site catalogue: one TOML file a trust edits, without code changes, to teach legacyscan its estate.

Why it exists: endoflife.date knows Windows and Java, not the clinical system clients a hospital
runs (SystmOne, EMIS Web, PACS viewers, LIMS clients), and only the trust knows which paid
extended phases it has bought (Windows 10 ESU, Server ESU, RHEL ELS, Ubuntu Pro).  Both decide
verdicts, so both must be data the trust owns, reviewed like any other change-controlled file.

The file (default ``legacyscan-site.toml`` in the working directory, or ``--site-catalog FILE``,
or ``$LEGACYSCAN_SITE_CATALOG``) holds four things -- see ``docs/site-catalogue.md``:

* ``[[products]]`` with ``[[products.releases]]``: the supplier's supported versions and dates;
* ``[[rules]]``: DisplayName / publisher regex -> product, version -> cycle;
* ``[[entitlements]]``: which extended phases the trust pays for (optional costs);
* ``[policy]``: ``lookahead_days`` (and ``free_extended``).

This module only parses and validates (``eol_data`` imports nothing of the scanner); the scanner
side (``scanner/identify/site_rules.py``) installs the result into an identification context.
Every error names the file, the line when it can be found, and the key path.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from eol_data.catalog import PhaseEnd, Product, Release, strict_date
from eol_data.toml_lines import KeyPath
from eol_data.toml_lines import fmt_path as _fmt_path
from eol_data.toml_lines import line_index as _line_index

DEFAULT_FILE_NAME = "legacyscan-site.toml"
ENV_VAR = "LEGACYSCAN_SITE_CATALOG"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 * 1024 * 1024

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,99}$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CONFIDENCES = ("high", "medium", "low")
SOFTWARE_SOURCES = ("windows-registry", "msix", "appx", "macos-app", "dpkg", "rpm", "apk")

_TOP_KEYS = {"version", "site", "policy", "products", "rules", "entitlements"}
_SITE_KEYS = {"name", "description", "ods_code"}
# NHS Organisation Data Service codes: 3 characters for a trust (RX1), 5 for one of its sites
# (RX1AB), 6 for a GP practice (A81001); letters and digits.
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,8}$")
_POLICY_KEYS = {"lookahead_days", "free_extended"}
_PRODUCT_KEYS = {"name", "label", "category", "supplier", "source", "labels", "releases", "notes"}
_LABEL_KEYS = {"eoas", "eol", "eoes", "discontinued"}
_RELEASE_KEYS = {
    "name",
    "label",
    "codename",
    "release_date",
    "eoas",
    "eol",
    "eoes",
    "discontinued",
    "lts",
    "latest",
    "latest_date",
    "notes",
    "source",
    "example",
}
_RULE_KEYS = {
    "id",
    "product",
    "name",
    "not_name",
    "publisher",
    "sources",
    "version",
    "cycle",
    "cycle_map",
    "confidence",
    "note",
}
_ENTITLEMENT_KEYS = {"product", "cycles", "name", "cost", "currency", "unit", "reference", "note"}
# What an entitlement's ``cost`` is per: per covered device or a flat fee, per year or per month.
# A small closed vocabulary so a plan can annualise every price the same way (and say how).
COST_UNITS: dict[str, tuple[bool, int]] = {  # unit -> (per device, times per year)
    "device/year": (True, 1),
    "device/month": (True, 12),
    "year": (False, 1),
    "month": (False, 12),
}
DEFAULT_COST_UNIT = "device/year"
DIGEST_CHARS = 12  # of the catalogue's SHA-256, in dataset versions ("+site:<12 hex>")


class SiteCatalogError(Exception):
    """The site catalogue is unreadable or wrong; the message names file, line and key."""


@dataclass(slots=True, frozen=True)
class Entitlement:
    """A paid (or otherwise held) extended-support phase.  Empty ``cycles`` = every cycle."""

    product: str
    cycles: tuple[str, ...] = ()
    name: str = ""
    cost: float | None = None
    currency: str = ""
    unit: str = ""
    reference: str = ""
    note: str = ""
    line: int = 0

    @property
    def per_device(self) -> bool:
        """True when ``cost`` is per covered device; False for a flat fee (a site licence)."""
        return COST_UNITS.get(self.unit or DEFAULT_COST_UNIT, (True, 1))[0]

    @property
    def yearly_cost(self) -> float | None:
        """``cost`` as a yearly figure (per device or flat, see ``per_device``); None when unpriced."""
        if self.cost is None:
            return None
        return self.cost * COST_UNITS.get(self.unit or DEFAULT_COST_UNIT, (True, 1))[1]

    def keys(self) -> list[str]:
        """``Policy.entitlements`` keys: ``product`` or ``product:cycle`` (``*`` = everything)."""
        if not self.cycles or self.product == "*":
            return [self.product]
        return [f"{self.product}:{c}" for c in self.cycles]


@dataclass(slots=True, frozen=True)
class SiteRule:
    """One identification rule: regexes are compiled once here, matched by the scanner."""

    id: str
    product: str  # "none" = "not a product" (silence internal tools)
    name: re.Pattern[str]
    not_name: re.Pattern[str] | None = None
    publisher: re.Pattern[str] | None = None
    sources: frozenset[str] | None = None
    version: re.Pattern[str] | None = None
    cycle: str | None = None
    cycle_map: tuple[tuple[str, str], ...] = ()
    confidence: str = "high"
    note: str = ""
    line: int = 0

    def to_entry(self) -> dict[str, Any]:
        """The shape ``Rules.extend("site_apps", ...)`` carries (plain dict, compiled patterns)."""
        return {
            "id": self.id,
            "product": self.product,
            "name": self.name,
            "not_name": self.not_name,
            "publisher": self.publisher,
            "sources": self.sources,
            "version": self.version,
            "cycle": self.cycle,
            "cycle_map": dict(self.cycle_map),
            "confidence": self.confidence,
        }


@dataclass(slots=True)
class SiteCatalog:
    path: Path
    name: str = ""
    description: str = ""
    ods_code: str = ""  # the organisation's NHS ODS code, named in benchmark files (docs/benchmark.md)
    lookahead_days: int | None = None
    free_extended: frozenset[str] | None = None
    products: list[Product] = field(default_factory=list)
    rules: list[SiteRule] = field(default_factory=list)
    entitlements: list[Entitlement] = field(default_factory=list)
    example_dates: int = 0  # releases still marked ``example = true`` (dates to be replaced)
    sha256: str = ""  # of the file's bytes: names this exact catalogue in every verdict it shaped

    @property
    def version_tag(self) -> str:
        """``site:<first 12 hex of the SHA-256>``: appended to the dataset version of each finding."""
        return f"site:{self.sha256[:DIGEST_CHARS]}" if self.sha256 else ""

    def entitlement_keys(self) -> frozenset[str]:
        return frozenset(k for e in self.entitlements for k in e.keys())

    def summary(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "name": self.name,
            "ods_code": self.ods_code,
            "products": len(self.products),
            "releases": sum(len(p.releases) for p in self.products),
            "rules": len(self.rules),
            "entitlements": sorted(self.entitlement_keys()),
            "lookahead_days": self.lookahead_days,
            "example_dates": self.example_dates,
            "sha256": self.sha256,
        }


# -- locating ------------------------------------------------------------------------------------


def find_site_catalog(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path | None:
    """``--site-catalog FILE`` > ``$LEGACYSCAN_SITE_CATALOG`` > ``./legacyscan-site.toml`` > none.

    An explicitly named file that does not exist is an error (a typo must not silently drop the
    trust's entitlements); the default file is optional.
    """
    chosen = str(explicit) if explicit else os.environ.get(ENV_VAR, "")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            origin = "--site-catalog" if explicit else f"${ENV_VAR}"
            raise SiteCatalogError(f"site catalogue {path} (from {origin}) does not exist or is not a file")
        return path
    default = (cwd or Path.cwd()) / DEFAULT_FILE_NAME
    return default if default.is_file() else None


# -- parsing -------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _line_index(text)
        self.examples = 0

    def error(self, path: KeyPath, problem: str) -> SiteCatalogError:
        line = 0
        probe = path
        while probe:
            line = self.lines.get(probe, 0)
            if line:
                break
            probe = probe[:-1]
        where = f"{self.path}:{line}" if line else str(self.path)
        return SiteCatalogError(f"{where}: {_fmt_path(path)}: {problem}")

    def line_of(self, path: KeyPath) -> int:
        return self.lines.get(path, 0)

    # -- typed getters ---------------------------------------------------------------------------

    def table(self, value: Any, path: KeyPath, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a table, got {type(value).__name__}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.error(
                path + (unknown[0],),
                f"unknown key {unknown[0]!r}; expected one of {', '.join(sorted(allowed))}",
            )
        return value

    def tables(self, value: Any, path: KeyPath) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(path, f"expected an array of tables ([[{_fmt_path(path)}]]), got {type(value).__name__}")
        return value

    def string(self, data: dict[str, Any], key: str, path: KeyPath, required: bool = False) -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise self.error(path, f"missing required key {key!r}")
            return ""
        if not isinstance(value, str):
            raise self.error(path + (key,), f"expected a string, got {type(value).__name__} {value!r}")
        if required and not value.strip():
            raise self.error(path + (key,), "must not be empty")
        return value.strip()

    def string_list(self, data: dict[str, Any], key: str, path: KeyPath) -> list[str]:
        value = data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(path + (key,), "expected a list of strings")
        return [v.strip() for v in value]

    def regex(self, data: dict[str, Any], key: str, path: KeyPath, required: bool = False) -> re.Pattern[str] | None:
        text = self.string(data, key, path, required)
        if not text:
            return None
        try:
            return re.compile(text, re.IGNORECASE)
        except re.error as exc:
            raise self.error(path + (key,), f"not a valid regular expression: {exc}") from exc

    def phase(self, data: dict[str, Any], key: str, path: KeyPath) -> PhaseEnd:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        parsed = strict_date(value)
        if parsed is not None:
            return parsed
        raise self.error(
            path + (key,),
            f"expected a date (YYYY-MM-DD), true (ended, date unknown) or false (no end announced), got {value!r}",
        )

    # -- sections --------------------------------------------------------------------------------

    def parse(self, data: dict[str, Any]) -> SiteCatalog:
        self.table(data, (), _TOP_KEYS)
        version = data.get("version", FORMAT_VERSION)
        if type(version) is not int or version != FORMAT_VERSION:  # true == 1 and 1.0 == 1 in Python
            raise self.error(
                ("version",),
                f"unsupported catalogue format version {version!r} (this legacyscan reads version {FORMAT_VERSION})",
            )
        cat = SiteCatalog(path=self.path)
        self.site(cat, data)
        self.policy(cat, data)
        self.products(cat, data)
        self.rules(cat, data)
        for i, raw in enumerate(self.tables(data.get("entitlements", []), ("entitlements",))):
            cat.entitlements.append(self.entitlement(raw, ("entitlements", i)))
        cat.example_dates = self.examples
        return cat

    def site(self, cat: SiteCatalog, data: dict[str, Any]) -> None:
        site = self.table(data.get("site", {}), ("site",), _SITE_KEYS)
        cat.name = self.string(site, "name", ("site",))
        cat.description = self.string(site, "description", ("site",))
        cat.ods_code = self.string(site, "ods_code", ("site",))
        if cat.ods_code and not _ODS_CODE.match(cat.ods_code):
            raise self.error(
                ("site", "ods_code"),
                f'expected an NHS ODS code (3-8 capital letters and digits, e.g. "RX1"), got {cat.ods_code[:40]!r}',
            )

    def policy(self, cat: SiteCatalog, data: dict[str, Any]) -> None:
        policy = self.table(data.get("policy", {}), ("policy",), _POLICY_KEYS)
        if "lookahead_days" in policy:
            days = policy["lookahead_days"]
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
                raise self.error(("policy", "lookahead_days"), f"expected a whole number of days 0-3650, got {days!r}")
            cat.lookahead_days = days
        if "free_extended" in policy:
            cat.free_extended = frozenset(self.string_list(policy, "free_extended", ("policy",)))

    def products(self, cat: SiteCatalog, data: dict[str, Any]) -> None:
        seen: set[str] = set()
        for i, raw in enumerate(self.tables(data.get("products", []), ("products",))):
            prod = self.product(raw, ("products", i))
            if prod.name in seen:
                raise self.error(("products", i, "name"), f"product {prod.name!r} is defined twice")
            seen.add(prod.name)
            cat.products.append(prod)

    def rules(self, cat: SiteCatalog, data: dict[str, Any]) -> None:
        rule_ids: set[str] = set()
        for i, raw in enumerate(self.tables(data.get("rules", []), ("rules",))):
            rule = self.rule(raw, ("rules", i))
            if rule.id in rule_ids:
                raise self.error(("rules", i, "id"), f"rule id {rule.id!r} is used twice")
            rule_ids.add(rule.id)
            cat.rules.append(rule)

    def product(self, raw: Any, path: KeyPath) -> Product:
        data = self.table(raw, path, _PRODUCT_KEYS)
        name = self.string(data, "name", path, required=True)
        if not _SLUG.match(name):
            raise self.error(
                path + ("name",),
                f"product name {name!r} must be a lower-case slug (letters, digits, - . _ +), e.g. 'systmone-client'",
            )
        labels = self.labels(data, path)
        source = self.string(data, "source", path)
        prod = Product(
            name=name,
            label=self.string(data, "label", path) or name,
            category=self.string(data, "category", path) or "app",
            labels=labels,
            source="site",
        )
        releases = self.tables(data.get("releases", []), path + ("releases",))
        if not releases:
            raise self.error(path, f"product {name!r} has no [[products.releases]]; add at least one")
        names: set[str] = set()
        for j, rel_raw in enumerate(releases):
            rel = self.release(name, rel_raw, path + ("releases", j), source)
            if rel.name in names:
                raise self.error(path + ("releases", j, "name"), f"release {rel.name!r} of {name!r} is listed twice")
            names.add(rel.name)
            prod.releases.append(rel)
        return prod

    def labels(self, data: dict[str, Any], path: KeyPath) -> dict[str, str | None]:
        labels_raw = self.table(data.get("labels", {}), path + ("labels",), _LABEL_KEYS)
        labels: dict[str, str | None] = {
            "eoas": None,
            "eol": "Supplier support",
            "eoes": None,
            "discontinued": None,
        }
        for key in _LABEL_KEYS:
            if key in labels_raw:
                labels[key] = self.string(labels_raw, key, path + ("labels",)) or None
        return labels

    def release(self, product: str, raw: Any, path: KeyPath, product_source: str) -> Release:
        data = self.table(raw, path, _RELEASE_KEYS)
        name = self.string(data, "name", path, required=True)
        dates: dict[str, PhaseEnd] = {k: self.phase(data, k, path) for k in ("eoas", "eol", "eoes", "discontinued")}
        release_date = self.phase(data, "release_date", path)
        latest_date = self.phase(data, "latest_date", path)
        self.check_plain_dates(path, release_date, latest_date)
        if dates["eol"] is None:
            raise self.error(
                path,
                f"release {name!r} has no 'eol' (end of supplier support); give a date, "
                "or false if no end is announced, or true if it ended on an unknown date",
            )
        self.check_order(path, release_date, dates)
        notes = self.notes(data, path)
        source = self.string(data, "source", path) or product_source
        return Release(
            product=product,
            name=name,
            label=self.string(data, "label", path) or name,
            codename=self.string(data, "codename", path),
            release_date=release_date if isinstance(release_date, date) else None,
            eoas=dates["eoas"],
            eol=dates["eol"],
            eoes=dates["eoes"],
            discontinued=dates["discontinued"],
            lts=bool(data.get("lts", False)),
            latest=self.string(data, "latest", path),
            latest_date=latest_date if isinstance(latest_date, date) else None,
            source="site",
            notes=notes.strip(),
            sources=[source] if source else [],
        )

    def sources(self, data: dict[str, Any], path: KeyPath) -> list[str]:
        sources = self.string_list(data, "sources", path)
        for s in sources:
            if s not in SOFTWARE_SOURCES:
                raise self.error(
                    path + ("sources",),
                    f"unknown source {s!r}; expected some of {', '.join(SOFTWARE_SOURCES)}",
                )
        return sources

    def confidence(self, data: dict[str, Any], path: KeyPath) -> str:
        confidence = self.string(data, "confidence", path) or "high"
        if confidence not in CONFIDENCES:
            raise self.error(path + ("confidence",), f"expected one of {', '.join(CONFIDENCES)}")
        return confidence

    def cycle_map(self, data: dict[str, Any], path: KeyPath) -> dict[Any, str]:
        cycle_map_raw = data.get("cycle_map", {})
        if not isinstance(cycle_map_raw, dict) or not all(isinstance(v, str) for v in cycle_map_raw.values()):
            raise self.error(path + ("cycle_map",), 'expected an inline table of strings, e.g. { "6.1" = "2025" }')
        return cycle_map_raw

    def check_plain_dates(self, path: KeyPath, release_date: PhaseEnd, latest_date: PhaseEnd) -> None:
        """release_date and latest_date are dates, never true/false."""
        for key, value in (("release_date", release_date), ("latest_date", latest_date)):
            if isinstance(value, bool):
                raise self.error(path + (key,), "expected a date (YYYY-MM-DD)")

    def check_order(self, path: KeyPath, release_date: PhaseEnd, dates: dict[str, PhaseEnd]) -> None:
        """Dates run release_date <= eoas <= eol <= eoes (where given)."""
        order = [
            ("release_date", release_date),
            ("eoas", dates["eoas"]),
            ("eol", dates["eol"]),
            ("eoes", dates["eoes"]),
        ]
        dated = [(k, v) for k, v in order if isinstance(v, date) and not isinstance(v, bool)]
        for (k1, v1), (k2, v2) in zip(dated, dated[1:], strict=False):
            if v2 < v1:
                raise self.error(
                    path + (k2,),
                    f"{k2} {v2} is before {k1} {v1}; dates must run release_date <= eoas <= eol <= eoes",
                )

    def notes(self, data: dict[str, Any], path: KeyPath) -> str:
        """The release's notes; an ``example`` release's say so (and are counted)."""
        example = data.get("example", False)
        if not isinstance(example, bool):
            raise self.error(path + ("example",), "expected true or false")
        notes = self.string(data, "notes", path)
        if example:
            self.examples += 1
            notes = "EXAMPLE dates: replace with the supplier's. " + notes
        return notes

    def rule_id_and_product(self, data: dict[str, Any], path: KeyPath) -> tuple[str, str]:
        rule_id = self.string(data, "id", path, required=True)
        if not _RULE_ID.match(rule_id):
            raise self.error(path + ("id",), f"rule id {rule_id!r}: use letters, digits, '.', '-', '_'")
        product = self.string(data, "product", path, required=True)
        if product != "none" and not _SLUG.match(product):
            raise self.error(path + ("product",), f"{product!r} is not a product slug (or 'none')")
        return rule_id, product

    def rule(self, raw: Any, path: KeyPath) -> SiteRule:
        data = self.table(raw, path, _RULE_KEYS)
        rule_id, product = self.rule_id_and_product(data, path)
        name = self.regex(data, "name", path, required=True)
        assert name is not None
        sources = self.sources(data, path)
        confidence = self.confidence(data, path)
        cycle_map_raw = self.cycle_map(data, path)
        cycle = self.string(data, "cycle", path) or None
        version = self.regex(data, "version", path)
        if cycle and version:
            raise self.error(path + ("cycle",), "give either a fixed 'cycle' or a 'version' pattern, not both")
        return SiteRule(
            id=f"site.{rule_id}",
            product=product,
            name=name,
            not_name=self.regex(data, "not_name", path),
            publisher=self.regex(data, "publisher", path),
            sources=frozenset(sources) if sources else None,
            version=version,
            cycle=cycle,
            cycle_map=tuple((str(k), v) for k, v in cycle_map_raw.items()),
            confidence=confidence,
            note=self.string(data, "note", path),
            line=self.line_of(path + ("product",)) or self.line_of(path),
        )

    def cost(self, data: dict[str, Any], path: KeyPath) -> int | float | None:
        cost = data.get("cost")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0):
            raise self.error(path + ("cost",), f"expected a non-negative number, got {cost!r}")
        return cost

    def unit(self, data: dict[str, Any], path: KeyPath, cost: int | float | None) -> str:
        unit = re.sub(r"\s*/\s*", "/", " ".join(self.string(data, "unit", path).lower().split()))
        if unit and unit not in COST_UNITS:
            raise self.error(
                path + ("unit",),
                f"unknown cost unit {unit!r}; expected one of {', '.join(COST_UNITS)} "
                f"(per covered device, or a flat fee; default {DEFAULT_COST_UNIT})",
            )
        if unit and cost is None:
            raise self.error(path + ("unit",), "a unit without a cost; add cost = <number> or remove unit")
        return unit

    def currency(self, data: dict[str, Any], path: KeyPath) -> str:
        currency = self.string(data, "currency", path)
        if currency and (len(currency) > 8 or not currency.isprintable() or " " in currency):
            raise self.error(path + ("currency",), f'expected a short code such as "GBP", got {currency!r}')
        return currency

    def entitlement(self, raw: Any, path: KeyPath) -> Entitlement:
        data = self.table(raw, path, _ENTITLEMENT_KEYS)
        product = self.string(data, "product", path, required=True)
        if product != "*" and not _SLUG.match(product):
            raise self.error(path + ("product",), f"{product!r} is not a product slug (or '*' for every paid phase)")
        cost = self.cost(data, path)
        unit = self.unit(data, path, cost)
        currency = self.currency(data, path)
        return Entitlement(
            product=product,
            cycles=tuple(self.string_list(data, "cycles", path)),
            name=self.string(data, "name", path),
            cost=float(cost) if cost is not None else None,
            currency=currency,
            unit=unit or (DEFAULT_COST_UNIT if cost is not None else ""),
            reference=self.string(data, "reference", path),
            note=self.string(data, "note", path),
            line=self.line_of(path + ("product",)) or self.line_of(path),
        )


def parse_site_catalog(text: str, path: Path, sha256: str = "") -> SiteCatalog:
    """Parse catalogue text; ``path`` is only used in messages and kept on the result.

    ``sha256`` is the digest of the file's bytes (``load_site_catalog`` passes it); without it the
    digest of the UTF-8 text is used, so a parsed catalogue is always identifiable.
    """
    try:
        from scanner.files import loads_toml

        data = loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteCatalogError(f"{path}: not valid TOML: {exc}") from exc
    cat = _Parser(path, text).parse(data)
    cat.sha256 = sha256 or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return cat


def load_site_catalog(path: str | os.PathLike[str]) -> SiteCatalog:
    p = Path(path)
    from scanner.files import FileRefused, decode_utf8, read_regular_bytes

    try:  # regular files only: /dev/zero or a FIFO is refused, never read for ever
        raw = read_regular_bytes(p, limit=MAX_FILE_BYTES, what="site catalogue")
        text = decode_utf8(raw, p, what="site catalogue")
    except FileRefused as exc:
        raise SiteCatalogError(str(exc)) from exc
    return parse_site_catalog(text, p, hashlib.sha256(raw).hexdigest())
