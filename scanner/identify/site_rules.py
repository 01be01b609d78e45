"""Site rules: the trust's own identification rules, consulted before the bundled identifiers.

Why first: a trust that writes a rule for its PACS viewer knows better than our generic tables
what that DisplayName is; and a rule that says ``product = "none"`` must be able to silence an
in-house tool that a bundled rule would otherwise mis-identify.

``install`` wires a parsed ``eol_data.site.SiteCatalog`` into an ``Knowledge``: products go
into the catalog overlay (source ``site``), rules into ``Rules.extend("site_apps", ...)``, and the
entitlements / lookahead become the ``Policy``.  References are checked here, where the catalog
is at hand: a rule or entitlement naming a product nobody knows is an error naming its key.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

from eol_data.catalog import Product
from eol_data.site import Entitlement, SiteCatalog, SiteCatalogError, find_site_catalog, load_site_catalog
from scanner.identify.context import Knowledge
from scanner.identify.versions import pick_cycle
from scanner.model import Confidence, Identification, Policy

RULES_TABLE = "site_apps"

_CONFIDENCE = {"high": Confidence.HIGH, "medium": Confidence.MEDIUM, "low": Confidence.LOW}


def identify(record: dict[str, Any], ctx: Knowledge, entries: list[dict[str, Any]]) -> Identification | None:
    """The first site rule matching a software record, or None to fall through to the bundled ones."""
    name = str(record.get("name") or "")
    if not name:
        return None
    source = str(record.get("source") or "windows-registry").lower()
    publisher = str(record.get("publisher") or "")
    version = str(record.get("version") or "").strip()
    for entry in entries:
        if _matches(entry, source, name, publisher):
            return _resolve(entry, ctx, name, version, publisher)
    return None


def _matches(entry: dict[str, Any], source: str, name: str, publisher: str) -> bool:
    """The entry's sources, name, not_name and publisher conditions."""
    sources = entry["sources"]
    if sources is not None and source not in sources:
        return False
    if not entry["name"].search(name):
        return False
    not_name = entry["not_name"]
    if not_name is not None and not_name.search(name):
        return False
    pub = entry["publisher"]
    return pub is None or pub.search(publisher) is not None


def _resolve(entry: dict[str, Any], ctx: Knowledge, name: str, version: str, publisher: str) -> Identification:
    rule_id = str(entry["id"])
    confidence = _CONFIDENCE.get(str(entry["confidence"]), Confidence.HIGH)
    evidence: tuple[tuple[str, str], ...] = (("name", name), ("version", version))
    if publisher:
        evidence += (("publisher", publisher),)
    product_name = str(entry["product"])
    if product_name == "none":
        why = f"site rule {rule_id}: {name!r} is not a tracked product"
        return Identification(None, None, rule_id, why, confidence, evidence)
    product = ctx.catalog.product(product_name)
    if product is None:  # install() checks this; a catalog swapped underneath would land here
        why = f"site rule {rule_id}: product {product_name!r} not in the dataset"
        return Identification(None, None, rule_id, why, Confidence.LOW, evidence)
    cycle, how, newer = _cycle(entry, product, version)
    why = f"site rule {rule_id}: {name!r} -> {product.name}" + (f" {cycle} ({how})" if cycle else f"; {how}")
    release = product.release(cycle) if cycle else None
    if release is not None and release.notes.startswith("EXAMPLE"):
        why += " [EXAMPLE dates in the site catalogue: replace with the supplier's]"
    return Identification(product.name, cycle, rule_id, why, confidence, evidence, newer_than_known=newer)


def _cycle(entry: dict[str, Any], product: Product, version: str) -> tuple[str | None, str, bool]:
    """(cycle or None, how it was chosen / why not, newer-than-known)."""
    fixed = entry["cycle"]
    if fixed:
        if product.release(fixed) is None:
            return None, f"fixed cycle {fixed!r} is not a release of {product.name}", False
        return fixed, "fixed by the rule", False
    candidate = _candidate(entry["version"], version)
    if candidate is None:
        return None, f"version {version!r} does not match the rule's version pattern", False
    mapped = entry["cycle_map"].get(candidate)
    if mapped is not None:
        if product.release(mapped) is None:
            return None, f"cycle_map gives {mapped!r}, which is not a release", False
        return mapped, f"version {version} via cycle_map", False
    return _cycle_of_version(product, candidate, version)


def _candidate(pattern: re.Pattern[str] | None, version: str) -> str | None:
    """The cycle candidate the rule's version pattern takes from ``version`` (its "cycle" group,
    else its first group, else the whole match); None when the pattern does not match."""
    if pattern is None:
        return version
    m = pattern.search(version)
    if m is None:
        return None
    if "cycle" in pattern.groupindex:
        return m.group("cycle") or ""
    if pattern.groups:
        return m.group(1) or ""
    return m.group(0)


def _cycle_of_version(product: Product, candidate: str, version: str) -> tuple[str | None, str, bool]:
    if not candidate:
        return None, "no version reported", False
    if product.release(candidate) is not None:
        return candidate, f"version {version}", False
    release, newer = pick_cycle(product, candidate)
    if release is not None:
        return release.name, f"version {version}", False
    return None, f"version {version!r} matches no listed release", newer


# -- installing a catalogue -----------------------------------------------------------------------


def _known(ctx: Knowledge, site: SiteCatalog, product: str) -> bool:
    if any(p.name == product for p in site.products):
        return True
    return ctx.catalog.product(product) is not None


def _unknown_product(ctx: Knowledge, site: SiteCatalog, where: str, line: int, product: str) -> SiteCatalogError:
    names = sorted(set(ctx.catalog.product_names()) | {p.name for p in site.products})
    close = difflib.get_close_matches(product, names, n=3)
    hint = (
        f"; did you mean {', '.join(close)}?"
        if close
        else "; define it under [[products]] or see `legacyscan eol show PRODUCT`"
    )
    loc = f"{site.path}:{line}" if line else str(site.path)
    return SiteCatalogError(
        f"{loc}: {where}: product {product!r} is neither in the EOL dataset nor in this catalogue{hint}"
    )


def _check_entitlement(ctx: Knowledge, site: SiteCatalog, i: int, ent: Entitlement) -> None:
    """An entitlement names a known product and cycles it has (the error names file and line)."""
    if not _known(ctx, site, ent.product):
        raise _unknown_product(ctx, site, f"entitlements[{i}].product", ent.line, ent.product)
    for cycle in ent.cycles:
        if ctx.catalog.release(ent.product, cycle) is None:
            known = ctx.catalog.product(ent.product)
            cycles = ", ".join(r.name for r in known.releases[:12]) if known else ""
            loc = f"{site.path}:{ent.line}" if ent.line else str(site.path)
            raise SiteCatalogError(
                f"{loc}: entitlements[{i}].cycles: {ent.product} has no cycle {cycle!r} (cycles include: {cycles})"
            )


def install(ctx: Knowledge, site: SiteCatalog, base: Policy | None = None) -> Policy:
    """Add the catalogue's products and rules to ``ctx``; return the site's ``Policy``."""
    for prod in site.products:
        ctx.catalog.add_overlay(prod)
    for i, rule in enumerate(site.rules):
        if rule.product != "none" and not _known(ctx, site, rule.product):
            raise _unknown_product(ctx, site, f"rules[{i}].product (rule {rule.id})", rule.line, rule.product)
    for i, ent in enumerate(site.entitlements):
        if ent.product != "*":
            _check_entitlement(ctx, site, i, ent)
    ctx.rules.extend(RULES_TABLE, [r.to_entry() for r in site.rules])
    return _site_policy(site, base or Policy())


def _site_policy(site: SiteCatalog, base: Policy) -> Policy:
    return Policy(
        lookahead_days=site.lookahead_days if site.lookahead_days is not None else base.lookahead_days,
        entitlements=base.entitlements | site.entitlement_keys(),
        free_extended=site.free_extended if site.free_extended is not None else base.free_extended,
        site_catalog=site.version_tag,
    )


def apply_site_catalog(
    ctx: Knowledge, path: str | os.PathLike[str] | None = None, cwd: Path | None = None
) -> Policy | None:
    """Find (``--site-catalog`` / env / ./legacyscan-site.toml), load and install; None if there is none."""
    applied = apply_site_catalog_with_source(ctx, path, cwd)
    return applied[0] if applied is not None else None


def apply_site_catalog_with_source(
    ctx: Knowledge, path: str | os.PathLike[str] | None = None, cwd: Path | None = None
) -> tuple[Policy, SiteCatalog] | None:
    """As ``apply_site_catalog``, also returning the catalogue: reports price its entitlements and
    name the file (and its digest) in their evidence."""
    located = find_site_catalog(path, cwd)
    if located is None:
        return None
    site = load_site_catalog(located)
    return install(ctx, site), site
