"""``legacyscan.toml``: the report's configuration, validated with errors that name the key.

* ``ReportConfig`` / ``load_config`` / ``config_from_dict``: ``[priority]`` (``scanner.plan.priority``),
  ``[costs]``, ``[esu]``, ``[report]`` and ``[plan]``; ``[privacy]`` and ``[retention]`` are read by
  ``scanner.privacy`` and ``scanner.store.retention``;
* ``with_site_catalog``: the site catalogue's priced entitlements (``EntitlementPrice``) and its
  identity added to a configuration.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eol_data.site import Entitlement, SiteCatalog
from scanner.files import MAX_CONFIG_BYTES, FileRefused, loads_toml, read_regular_text
from scanner.plan.priority import PriorityConfig, PriorityConfigError, config_from_toml

DEFAULT_CONFIG_NAME = "legacyscan.toml"
COST_KEYS = (
    "replace_device",
    "upgrade_os",
    "upgrade_hardware",
    "update_application",
    "migrate_server",
    "assess_device",
)


class ConfigError(ValueError):
    """``legacyscan.toml`` is wrong; the message names the file and key."""


@dataclass(slots=True, frozen=True)
class EsuPlan:
    """A paid extended phase with per-device yearly prices (year 1, 2, 3 ...)."""

    key: str  # product:cycle, e.g. windows:10-22h2
    year_costs: tuple[float, ...]
    name: str = "ESU"


@dataclass(slots=True, frozen=True)
class EntitlementPrice:
    """A site catalogue entitlement with a ``cost``: what the trust pays to stay on an extended phase.

    ``yearly`` is the price per year (``month`` units times 12), per covered device when
    ``per_device`` else a flat fee shared by the devices it covers.
    """

    keys: frozenset[str]  # product, product:cycle or "*" (as Policy.entitlements)
    name: str
    cost: float  # as written in the catalogue
    unit: str  # device/year | device/month | year | month
    yearly: float
    per_device: bool
    currency: str  # "" = the report's currency
    reference: str = ""
    source: str = ""  # "legacyscan-site.toml:199": where the price was declared

    def covers(self, product: str, cycle: str) -> int:
        """How specifically this entitlement covers a release: 3 product:cycle, 2 product, 1 "*", 0 not."""
        if f"{product}:{cycle}" in self.keys:
            return 3
        if product in self.keys:
            return 2
        return 1 if "*" in self.keys else 0

    def basis(self, devices: int) -> str:
        """How a device's yearly share was worked out, in words."""
        price = f"{self.cost:,.2f}".rstrip("0").rstrip(".")
        cur = f" {self.currency}" if self.currency else ""
        if self.per_device:
            return f"{price}{cur} per device per {self.unit.split('/')[1]}"
        return f"{price}{cur} per {self.unit}, flat, shared by {devices} device{'s' if devices != 1 else ''}"


@dataclass(slots=True)
class ReportConfig:
    priority: PriorityConfig = field(default_factory=PriorityConfig)
    currency: str = "GBP"
    costs: dict[str, float] = field(default_factory=dict)  # COST_KEYS -> unit cost per device
    product_costs: dict[str, float] = field(default_factory=dict)  # product or product:cycle -> unit cost
    esu: dict[str, EsuPlan] = field(default_factory=dict)
    # Priced entitlements from the site catalogue (``with_site_catalog``), in file order.
    entitlement_prices: tuple[EntitlementPrice, ...] = ()
    free_extended: frozenset[str] = frozenset({"debian"})  # free phases are never priced
    site_catalog: str = ""  # path of the site catalogue in use ("" = none), for the evidence
    site_catalog_sha256: str = ""
    stale_days: int = 30  # a host whose latest inventory is older than this is flagged
    roadmap_quarters: int = 8  # how far ahead the roadmap looks
    dataset_max_age_days: int = 60  # warn when the EOL dataset is older than this on the report date
    # [plan] devices_per_year: how many devices the trust can replace / upgrade / migrate in one
    # financial year (None = no limit: every device lands in the year it is due)
    devices_per_year: int | None = None
    organisation: str = ""  # the trust's name (site catalogue [site] name), shown in every header
    source: str = ""  # the file it came from ("" = defaults)

    def cost(self, key: str) -> float | None:
        return self.costs.get(key)


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def config_from_dict(data: Mapping[str, Any], source: str = "") -> ReportConfig:
    where = source or "config"
    # [privacy] and [retention] are read by scanner.privacy and scanner.store.retention (ingest, prune)
    unknown = set(data) - {"priority", "costs", "esu", "report", "plan", "privacy", "retention"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown table(s) {', '.join(sorted(unknown))}; "
            "expected [priority], [costs], [esu], [report], [plan], [privacy], [retention]"
        )
    try:
        priority = config_from_toml(data.get("priority"))
    except PriorityConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    cfg = ReportConfig(priority=priority, source=source)
    _read_costs(cfg, _table(data, "costs", f"{where}: [costs] must be a table"), where)
    _read_esu(cfg, _table(data, "esu", f'{where}: [esu] must be a table of "product:cycle" tables'), where)
    _read_report(cfg, _table(data, "report", f"{where}: [report] must be a table"), where)
    _read_plan(cfg, _table(data, "plan", f"{where}: [plan] must be a table"), where)
    return cfg


def _table(data: Mapping[str, Any], name: str, refusal: str) -> Mapping[str, Any]:
    """``data[name]`` (empty when absent); ``refusal`` when it is not a table."""
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(refusal)
    return table


def _read_costs(cfg: ReportConfig, costs: Mapping[str, Any], where: str) -> None:
    for key, value in costs.items():
        if key == "currency":
            cfg.currency = _currency(value, where)
        elif key == "products":
            if not isinstance(value, Mapping):
                raise ConfigError(f'{where}: [costs.products] must be a table of "product[:cycle]" = cost')
            cfg.product_costs = {str(k): _num(v, f"{where}: [costs.products] {k}") for k, v in value.items()}
        elif key in COST_KEYS:
            cfg.costs[key] = _num(value, f"{where}: [costs] {key}")
        else:
            raise ConfigError(
                f"{where}: [costs] unknown key {key!r}; known: currency, products, {', '.join(COST_KEYS)}"
            )


def _currency(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 8:
        raise ConfigError(f'{where}: [costs] currency: expected a short code such as "GBP"')
    return value.strip()


def _read_esu(cfg: ReportConfig, esu: Mapping[str, Any], where: str) -> None:
    for key, value in esu.items():
        if not isinstance(value, Mapping) or ":" not in key:
            raise ConfigError(f'{where}: [esu."{key}"] must be a table keyed "product:cycle" with year_costs = [..]')
        costs_list = value.get("year_costs")
        if not isinstance(costs_list, list) or not costs_list:
            raise ConfigError(f'{where}: [esu."{key}"] year_costs: expected a list of yearly prices')
        extra = set(value) - {"year_costs", "name"}
        if extra:
            raise ConfigError(f'{where}: [esu."{key}"] unknown key(s) {", ".join(sorted(extra))}')
        cfg.esu[key] = EsuPlan(
            key=key,
            year_costs=tuple(_num(c, f'{where}: [esu."{key}"] year_costs') for c in costs_list),
            name=str(value.get("name", "ESU")),
        )


def _whole(value: Any, low: int, high: int) -> bool:
    """A whole number (not a bool) in ``low..high``."""
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _read_report(cfg: ReportConfig, report: Mapping[str, Any], where: str) -> None:
    report_keys = ("stale_days", "roadmap_quarters", "dataset_max_age_days")
    for key, value in report.items():
        if key not in report_keys:
            raise ConfigError(f"{where}: [report] unknown key {key!r}; known: {', '.join(report_keys)}")
        if not _whole(value, 1, 3650):
            raise ConfigError(f"{where}: [report] {key}: expected a whole number 1..3650")
        setattr(cfg, key, value)


def _read_plan(cfg: ReportConfig, plan: Mapping[str, Any], where: str) -> None:
    for key, value in plan.items():
        if key != "devices_per_year":
            raise ConfigError(f"{where}: [plan] unknown key {key!r}; known: devices_per_year")
        if not _whole(value, 1, 10_000_000):
            raise ConfigError(f"{where}: [plan] devices_per_year: expected a whole number of devices, at least 1")
        cfg.devices_per_year = value


def load_config(path: str | Path | None) -> ReportConfig:
    """Read ``legacyscan.toml``; ``None`` = ``legacyscan.toml`` in the working directory if present."""
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return ReportConfig()
        path = default
    p = Path(path)
    try:  # regular files only: /dev/zero or a FIFO is refused, never read for ever
        text = read_regular_text(p, limit=MAX_CONFIG_BYTES, what="config file")
    except FileRefused as exc:
        raise ConfigError(str(exc)) from exc
    try:
        data = loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    return config_from_dict(data, str(p))


def _entitlement_price(e: Entitlement, cost: float, site: SiteCatalog) -> EntitlementPrice:
    return EntitlementPrice(
        keys=frozenset(e.keys()),
        name=e.name or ", ".join(e.keys()),
        cost=cost,
        unit=e.unit,
        yearly=e.yearly_cost or 0.0,
        per_device=e.per_device,
        currency=e.currency,
        reference=e.reference,
        source=f"{site.path.name}:{e.line}" if e.line else site.path.name,
    )


def with_site_catalog(
    cfg: ReportConfig, site: SiteCatalog | None, free_extended: frozenset[str] | None = None
) -> ReportConfig:
    """``cfg`` plus the site catalogue's priced entitlements and its identity (for the evidence).

    Entitlements without a ``cost`` still decide verdicts (``Policy``) but price nothing.
    """
    if site is None:
        return cfg
    prices = tuple(_entitlement_price(e, e.cost, site) for e in site.entitlements if e.cost is not None)
    return replace(
        cfg,
        entitlement_prices=prices,
        site_catalog=str(site.path),
        site_catalog_sha256=site.sha256,
        organisation=cfg.organisation or site.name,
        free_extended=free_extended
        if free_extended is not None
        else (site.free_extended if site.free_extended is not None else cfg.free_extended),
    )
