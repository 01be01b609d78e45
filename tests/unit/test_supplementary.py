"""The supplementary EOL catalogue (eol_data/supplementary/): shape, sources, and how it loads.

Why these checks: a wrong date here turns straight into a wrong "eol" for a ward PC, and nobody
re-reads JSON by eye.  Every release must say where its date comes from; dates must be real and
ordered; an ``extends`` entry may add cycles to an endoflife.date product but never shadow one;
and the catalog must serve the rows with ``source = "supplementary"``.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import SUPPLEMENTARY_DIR, Catalog, CatalogError

DATA = json.loads((SUPPLEMENTARY_DIR / "supplementary.json").read_text("utf-8"))
SOURCES_MD = (SUPPLEMENTARY_DIR / "SOURCES.md").read_text("utf-8")
RELEASES = [(p, r) for p in DATA["products"] for r in p["releases"]]
AS_OF = date(2026, 11, 22)


def test_header() -> None:
    assert date.fromisoformat(DATA["version"])
    assert DATA["products"]


@pytest.mark.parametrize(("product", "release"), RELEASES, ids=[f"{p['name']}:{r['name']}" for p, r in RELEASES])
def test_release_is_sourced_and_dated(product: dict[str, Any], release: dict[str, Any]) -> None:
    assert re.fullmatch(r"[a-z0-9.\-+_]+", release["name"])
    assert release["confidence"] in ("high", "medium", "low")
    if release.get("eolFrom"):
        eol = date.fromisoformat(release["eolFrom"])
        assert release["sources"], "a dated end needs a source"
        assert all(s.startswith(("http://", "https://")) for s in release["sources"])
        for key in ("releaseDate", "eoasFrom"):
            if release.get(key):
                assert date.fromisoformat(release[key]) <= eol, key
    elif release.get("eolFrom") is False:  # no end of its own: the notes say who decides
        assert release.get("notes") and "decide" in release["notes"]
    else:
        assert release.get("isEol") is True, "undated rows must be 'ended, date unknown'"
        assert release.get("notes"), "an undated end must say why"


@pytest.mark.parametrize("product", DATA["products"], ids=[p["name"] for p in DATA["products"]])
def test_product_documented_and_loaded(product: dict[str, Any]) -> None:
    assert f"`{product['name']}`" in SOURCES_MD
    catalog = Catalog()
    target = product.get("extends") or product["name"]
    loaded = catalog.product(target)
    assert loaded is not None
    for rel in product["releases"]:
        got = loaded.release(rel["name"])
        assert got is not None and got.source == "supplementary", rel["name"]


def test_extends_never_shadows_an_upstream_cycle() -> None:
    bare = Catalog(supplementary_dir=None)
    for product in DATA["products"]:
        if product.get("extends"):
            upstream = bare.product(product["extends"])
            assert upstream is not None
            names = {r.name for r in upstream.releases}
            assert not names & {r["name"] for r in product["releases"]}, product["name"]
        else:
            assert bare.product(product["name"]) is None, f"{product['name']} exists upstream: use extends"


def test_verdicts_from_supplementary_rows() -> None:
    catalog = Catalog()
    flash = catalog.release("adobe-flash-player", "32")
    assert flash is not None and flash.eol_over(AS_OF) is True
    vc2013 = catalog.release("visual-cpp-redistributable", "2013")
    assert vc2013 is not None and vc2013.eol_date == date(2024, 4, 9) and vc2013.eol_over(date(2024, 4, 9)) is False
    reader2017 = catalog.release("adobe-acrobat", "2017")
    assert reader2017 is not None and reader2017.eol is True and reader2017.eol_date is None
    assert "supplementary@" in catalog.version


def test_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "supplementary.json").write_text("{not json", "utf-8")
    with pytest.raises(CatalogError, match="supplementary.json"):
        Catalog(supplementary_dir=tmp_path)
