"""The EOL catalog: the bundled endoflife.date snapshot plus our supplementary entries.

Why this module exists: the snapshot's ``is*`` flags are frozen at the day it was built
(2026-08-22).  Every consumer must recompute phases for its own ``as_of`` date from the ``*From``
dates, and handle the date-or-boolean fields.  That is done here, once, so the rest of the code
sees typed ``Release`` objects with ``date | bool | None`` phase ends.

Products are loaded lazily (one JSON file each) because a scan touches a few dozen of the 464
products, and loading all of them costs more than the whole local scan is allowed to take.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "endoflife"
SUPPLEMENTARY_DIR = PACKAGE_DIR / "supplementary"

PhaseEnd = date | bool | None
"""A phase end: a date; True = ended, date unknown; False = no end announced; None = no such phase."""


class CatalogError(Exception):
    """The dataset is missing or malformed; the message names the file."""


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def strict_date(value: Any) -> date | None:
    """A calendar date from a TOML/JSON value a person wrote (TOML date or datetime, or an ISO
    ``YYYY-MM-DD`` string); None when it is not one.  Stricter than ``parse_date``: hand-edited
    files (site catalogue, exception register) must not have a typo silently truncated."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _phase(release: dict[str, Any], key: str) -> PhaseEnd:
    """API v1 gives ``isX``/``xFrom``; the date wins, else the boolean, else None (absent)."""
    frm = release.get(f"{key}From")
    if frm:
        parsed = parse_date(frm)
        if parsed is not None:
            return parsed
    flag = release.get(f"is{key[0].upper()}{key[1:]}")
    if isinstance(flag, bool):
        return flag
    return None


def phase_over(end: PhaseEnd, as_of: date) -> bool | None:
    """Is a phase over on ``as_of``?  Strict: on the end date itself it still runs (as upstream)."""
    if end is None:
        return None
    if isinstance(end, bool):
        return end
    return as_of > end


@dataclass(slots=True)
class Release:
    """One release cycle of a product."""

    product: str
    name: str
    label: str = ""
    codename: str = ""
    release_date: date | None = None
    eoas: PhaseEnd = None  # end of active / mainstream support
    eol: PhaseEnd = None  # end of security support: the main EOL
    eoes: PhaseEnd = None  # end of extended support (paid ESU / ELS / LTSS / community LTS)
    discontinued: PhaseEnd = None
    lts: bool = False
    latest: str = ""
    latest_date: date | None = None
    source: str = "endoflife.date"  # or "supplementary" / "site"
    notes: str = ""
    sources: list[str] = field(default_factory=list)

    def eol_over(self, as_of: date) -> bool | None:
        return phase_over(self.eol, as_of)

    def eoes_over(self, as_of: date) -> bool | None:
        return phase_over(self.eoes, as_of)

    @property
    def eol_date(self) -> date | None:
        return self.eol if isinstance(self.eol, date) and not isinstance(self.eol, bool) else None

    @property
    def eoes_date(self) -> date | None:
        return self.eoes if isinstance(self.eoes, date) and not isinstance(self.eoes, bool) else None


@dataclass(slots=True)
class Product:
    name: str
    label: str
    category: str = ""
    aliases: list[str] = field(default_factory=list)
    labels: dict[str, str | None] = field(default_factory=dict)  # what each tier means for this product
    releases: list[Release] = field(default_factory=list)
    html: str = ""
    source: str = "endoflife.date"

    def release(self, name: str) -> Release | None:
        for rel in self.releases:
            if rel.name == name:
                return rel
        return None


def _latest(raw: dict[str, Any]) -> tuple[str, date | None]:
    """The API's ``latest`` (an object with name and date, or a bare version): name and date."""
    latest = raw.get("latest") or {}
    if isinstance(latest, dict):
        return str(latest.get("name") or ""), parse_date(latest.get("date"))
    return str(latest or ""), None


def _text(raw: dict[str, Any], key: str, default: str = "") -> str:
    return str(raw.get(key) or default)


def release_from_api(product: str, raw: dict[str, Any], source: str = "endoflife.date") -> Release:
    latest, latest_date = _latest(raw)
    return Release(
        product=product,
        name=str(raw["name"]),
        label=_text(raw, "label", raw["name"]),
        codename=_text(raw, "codename"),
        release_date=parse_date(raw.get("releaseDate")),
        eoas=_phase(raw, "eoas"),
        eol=_phase(raw, "eol"),
        eoes=_phase(raw, "eoes"),
        discontinued=_phase(raw, "discontinued"),
        lts=bool(raw.get("isLts")) or bool(raw.get("ltsFrom")),
        latest=latest,
        latest_date=latest_date,
        source=source,
        notes=_text(raw, "notes"),
        sources=[str(s) for s in _list(raw, "sources")],
    )


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    return list(raw.get(key) or [])


def product_from_api(result: dict[str, Any], source: str = "endoflife.date") -> Product:
    name = str(result["name"])
    return Product(
        name=name,
        label=_text(result, "label", name),
        category=_text(result, "category"),
        aliases=[str(a) for a in _list(result, "aliases")],
        labels=dict(result.get("labels") or {}),
        releases=[release_from_api(name, r, source) for r in _list(result, "releases")],
        html=_text(result.get("links") or {}, "html"),
        source=source,
    )


class Catalog:
    """Lazy view over one snapshot directory plus supplementary (and optional site) products.

    ``version`` identifies the dataset in every report and finding, so a verdict can always be
    traced to the data that produced it.
    """

    def __init__(
        self,
        snapshot_dir: Path | None = None,
        supplementary_dir: Path | None = SUPPLEMENTARY_DIR,
        extra_products: list[Product] | None = None,
    ) -> None:
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir else default_snapshot_dir()
        try:
            self.metadata: dict[str, Any] = json.loads((self.snapshot_dir / "metadata.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CatalogError(f"cannot read dataset metadata in {self.snapshot_dir}: {exc}") from exc
        expected = self.metadata.get("index_sha256") if isinstance(self.metadata, dict) else None
        if expected:  # written by `eol update`: verify the snapshot is the one it wrote (#19 item 14)
            self._verify_index(str(expected))
        self._products: dict[str, Product | None] = {}
        self._index: list[dict[str, Any]] | None = None
        self._aliases: dict[str, str] | None = None
        self._overlay: dict[str, Product] = {}
        self.supplementary_version = ""
        if supplementary_dir is not None:
            self._load_supplementary(Path(supplementary_dir))
        for prod in extra_products or []:
            self.add_overlay(prod)

    # -- identity ------------------------------------------------------------------------------

    @property
    def generated_at(self) -> str:
        return str(self.metadata.get("generated_at", ""))

    @property
    def version(self) -> str:
        """e.g. ``endoflife.date@2026-08-22T18:58:02+00:00+supplementary@2026-11-30``."""
        base = f"endoflife.date@{self.generated_at}"
        source = self.metadata.get("source")
        if source and source != "snapshot":
            base += f"({source})"
        if self.supplementary_version:
            base += f"+supplementary@{self.supplementary_version}"
        return base

    # -- products ------------------------------------------------------------------------------

    def index(self) -> list[dict[str, Any]]:
        if self._index is None:
            try:
                data = json.loads((self.snapshot_dir / "index.json").read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise CatalogError(f"cannot read {self.snapshot_dir / 'index.json'}: {exc}") from exc
            self._index = list(data.get("result") or [])
        return self._index

    def product_names(self) -> list[str]:
        names = {str(p["name"]) for p in self.index()} | set(self._overlay)
        return sorted(names)

    def resolve(self, name: str) -> str:
        """Canonical product name for a name or alias (as the live API's 301s do)."""
        if name in self._overlay:
            return name
        if self._aliases is None:
            self._aliases = {}
            for entry in self.index():
                for alias in entry.get("aliases") or []:
                    self._aliases[str(alias)] = str(entry["name"])
        return self._aliases.get(name, name)

    def product(self, name: str) -> Product | None:
        name = self.resolve(name)
        if name in self._products:
            return self._products[name]
        prod = self._load_product(name)
        overlay = self._overlay.get(name)
        if overlay is not None:
            if prod is None:
                prod = overlay
            else:
                # Supplementary / site rows add cycles to an existing product; upstream wins on a clash.
                known = {r.name for r in prod.releases}
                prod.releases.extend(r for r in overlay.releases if r.name not in known)
        self._products[name] = prod
        return prod

    def release(self, product: str, cycle: str) -> Release | None:
        prod = self.product(product)
        return prod.release(cycle) if prod else None

    def add_overlay(self, prod: Product) -> None:
        existing = self._overlay.get(prod.name)
        if existing is None:
            self._overlay[prod.name] = prod
        else:
            known = {r.name for r in existing.releases}
            existing.releases.extend(r for r in prod.releases if r.name not in known)
        self._products.pop(prod.name, None)

    def _load_product(self, name: str) -> Product | None:
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self.snapshot_dir / "products" / f"{name}.json"
        try:
            raw = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CatalogError(f"cannot read {path}: {exc}") from exc
        try:
            return product_from_api(raw["result"])
        except (KeyError, TypeError) as exc:
            raise CatalogError(f"{path}: unexpected shape ({exc})") from exc

    def _verify_index(self, expected: str) -> None:
        try:
            actual = hashlib.sha256((self.snapshot_dir / "index.json").read_bytes()).hexdigest()
        except OSError as exc:
            raise CatalogError(f"EOL dataset in {self.snapshot_dir} is incomplete: {exc}") from exc
        if actual != expected:
            raise CatalogError(
                f"EOL dataset in {self.snapshot_dir} is damaged (index.json does not match "
                "metadata.json); run `legacyscan eol update --force`, or remove the folder "
                "to use the bundled snapshot"
            )

    def _load_supplementary(self, directory: Path) -> None:
        path = directory / "supplementary.json"
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CatalogError(f"cannot read {path}: {exc}") from exc
        self.supplementary_version = str(data.get("version") or "")
        for raw in data.get("products") or []:
            self.add_overlay(_supplementary_product(raw))


def _supplementary_product(raw: dict[str, Any]) -> Product:
    """A supplementary.json product (``extends`` an endoflife.date product, or one of its own)."""
    target = _text(raw, "extends", raw["name"])
    prod = Product(
        name=target,
        label=_text(raw, "label", target),
        category=_text(raw, "category"),
        labels=dict(raw.get("labels") or {"eol": "Security Support"}),
        source="supplementary",
    )
    prod.releases = [release_from_api(target, r, "supplementary") for r in _list(raw, "releases")]
    return prod


def _set_aside(refreshed: Path) -> list[Path]:
    """Refreshed snapshots an interrupted update left aside (``.endoflife.old-*``), newest first."""
    if not refreshed.parent.is_dir():
        return []
    return sorted(
        (p for p in refreshed.parent.glob(f".{refreshed.name}.old-*") if (p / "metadata.json").is_file()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )


def default_snapshot_dir() -> Path:
    """The refreshed snapshot if ``legacyscan eol update`` wrote one, else the bundled one.

    ``LEGACYSCAN_EOL_DIR`` overrides both (air-gapped mirrors, tests).
    """
    override = os.environ.get("LEGACYSCAN_EOL_DIR")
    if override:
        return Path(override)
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    refreshed = data_home / "legacyscan" / "endoflife"
    if (refreshed / "metadata.json").exists():
        return refreshed
    # An update killed between its two renames (systems without an atomic exchange) leaves the
    # previous refreshed snapshot aside: use it, and say so, rather than silently going back to
    # the older bundled data (#19 item 14).
    aside = _set_aside(refreshed)
    if aside:
        logging.getLogger("legacyscan.eol").warning(
            "the last `eol update` was interrupted; using the previous refreshed EOL dataset in %s "
            "(run `legacyscan eol update` again)",
            aside[0],
        )
        return aside[0]
    if refreshed.is_dir() and any(refreshed.iterdir()):
        logging.getLogger("legacyscan.eol").warning(
            "the refreshed EOL dataset in %s is incomplete (no metadata.json); using the BUNDLED snapshot "
            "instead -- run `legacyscan eol update`",
            refreshed,
        )
    return BUNDLED_DIR


_DEFAULT: Catalog | None = None


def load_default() -> Catalog:
    """The process-wide default catalog (loaded once; products still load lazily)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Catalog()
    return _DEFAULT
