"""What ``legacyscan eol info`` and ``eol show`` say, as data: the dataset and where it came from,
a product's cycles with their status on a date, and the explanation of one record's verdict.  The
CLI (``scanner/cli/eol.py``) parses the arguments and prints these; nothing here prints."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from eol_data.catalog import BUNDLED_DIR, SUPPLEMENTARY_DIR, Catalog, PhaseEnd, Product, Release
from eol_data.site import SiteCatalog
from scanner.identify.verdict import judge
from scanner.model import Identification, Policy


def _loaded_from(directory: Path) -> str:
    if os.environ.get("LEGACYSCAN_EOL_DIR"):
        return "LEGACYSCAN_EOL_DIR"
    if directory.resolve() == BUNDLED_DIR.resolve():
        return "bundled snapshot"
    return "refreshed by `legacyscan eol update`"


def _supplementary_counts() -> tuple[int, int, str]:
    path = SUPPLEMENTARY_DIR / "supplementary.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return 0, 0, ""
    products = [p for p in data.get("products") or [] if isinstance(p, dict)]
    return len(products), sum(len(p.get("releases") or []) for p in products), str(data.get("version") or "")


def dataset_info(cat: Catalog, policy: Policy, site: SiteCatalog | None) -> dict[str, Any]:
    """What ``eol info --format json`` prints: the dataset, where it came from, the site's policy."""
    index = cat.index()
    sup_products, sup_releases, sup_version = _supplementary_counts()
    meta = cat.metadata
    return {
        "dataset_version": policy.dataset_version(cat.version),
        "generated_at": cat.generated_at,
        "flags_as_of": str(meta.get("flags_as_of") or ""),
        "source": str(meta.get("source") or "snapshot"),
        "source_url": str(meta.get("source_url") or ""),
        "fetched_at": str(meta.get("fetched_at") or ""),
        "loaded_from": str(cat.snapshot_dir),
        "loaded_from_kind": _loaded_from(cat.snapshot_dir),
        "products": len(index),
        "releases": sum(int(e.get("releaseCount") or 0) for e in index),
        "supplementary": {"products": sup_products, "releases": sup_releases, "version": sup_version},
        "site_catalogue": site.summary() if site else None,
        "policy": {
            "lookahead_days": policy.lookahead_days,
            "entitlements": sorted(policy.entitlements),
            "free_extended": sorted(policy.free_extended),
        },
    }


def phase_json(value: PhaseEnd) -> str | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return value.isoformat()


def release_row(rel: Release, prod: Product, as_of: date, policy: Policy) -> dict[str, Any]:
    """One cycle of ``eol show``: its dates and the status it has on ``as_of`` under the policy."""
    verdict = judge(rel, prod, as_of, policy)
    return {
        "name": rel.name,
        "label": rel.label,
        "release_date": rel.release_date.isoformat() if rel.release_date else None,
        "eoas": phase_json(rel.eoas),
        "eol": phase_json(rel.eol),
        "eoes": phase_json(rel.eoes),
        "discontinued": phase_json(rel.discontinued),
        "lts": rel.lts,
        "latest": rel.latest or None,
        "source": rel.source,
        "status": verdict.status.value,
        "extended_until": verdict.extended_until.isoformat() if verdict.extended_until else None,
        "reason": verdict.reason,
        "notes": rel.notes or None,
    }


def explanation(
    out: dict[str, Any], ident: Identification, prod: Product | None, release: Release | None, as_of: date, dataset: str
) -> dict[str, Any]:
    """The ``eol identify`` answer with what explains it: confidence, evidence, labels, dates."""
    explanation = dict(out)
    explanation.update(
        {
            "as_of": as_of.isoformat(),
            "confidence": ident.confidence.value,
            "evidence": {k: v for k, v in ident.evidence},
            "product_label": prod.label if prod else None,
            "release_label": release.label if release else None,
            "release_source": release.source if release else None,
            "tier_labels": _tier_labels(prod),
            "dates": _release_dates(release),
            "dataset_version": dataset,
            "newer_than_known": ident.newer_than_known,
        }
    )
    return explanation


def _tier_labels(prod: Product | None) -> dict[str, Any]:
    return {k: v for k, v in prod.labels.items() if v} if prod else {}


def _release_dates(release: Release | None) -> dict[str, Any]:
    return {k: phase_json(getattr(release, k)) for k in ("eoas", "eol", "eoes")} if release else {}
