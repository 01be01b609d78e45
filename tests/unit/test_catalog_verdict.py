"""The bundled catalog and the status rules: dates recomputed for any as_of, booleans kept."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog, Release, phase_over
from scanner.identify.verdict import judge
from scanner.model import Policy, Status


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog()


def test_dataset_identity(cat: Catalog) -> None:
    assert cat.generated_at.startswith("2026-08-22")
    assert "endoflife.date@2026-08-22" in cat.version
    assert len(cat.product_names()) >= 464


def test_flags_are_recomputed_not_read(cat: Catalog) -> None:
    # The snapshot's isEol for Windows Server 2012 R2 ESU (eoes 2026-10-13) was computed on 2026-08-22.
    rel = cat.release("windows-server", "2012-r2")
    assert rel is not None
    assert rel.eoes_over(date(2026, 8, 22)) is False
    assert rel.eoes_over(date(2026, 11, 30)) is True
    # strict comparison: on the end date itself the phase still runs
    assert rel.eoes_date is not None and rel.eoes_over(rel.eoes_date) is False


def test_boolean_phases_keep_their_meaning(cat: Catalog) -> None:
    prod = cat.product("apache-http-server")
    assert prod is not None
    rel = prod.release("2.4")
    assert rel is not None and rel.eol is False  # no end announced
    assert phase_over(rel.eol, date(2099, 1, 1)) is False
    assert phase_over(True, date(2000, 1, 1)) is True
    assert phase_over(None, date(2000, 1, 1)) is None


def test_aliases_resolve(cat: Catalog) -> None:
    assert cat.resolve("windowsserver") == "windows-server"
    assert cat.product("no-such-product") is None
    assert cat.product("../../etc/passwd") is None


def test_debian_12_extended_by_free_lts(cat: Catalog) -> None:
    rel = cat.release("debian", "12")
    assert rel is not None
    v = judge(rel, cat.product("debian"), date(2026, 11, 30), Policy())
    assert v.status is Status.EXTENDED
    assert v.eol == date(2026, 7, 11) and v.extended_until == date(2028, 6, 30)
    assert "Debian LTS" in v.reason


def test_paid_extension_needs_entitlement(cat: Catalog) -> None:
    rel = cat.release("windows", "10-22h2")
    prod = cat.product("windows")
    assert rel is not None
    assert judge(rel, prod, date(2026, 11, 30), Policy()).status is Status.EOL
    entitled = Policy(entitlements=frozenset({"windows:10-22h2"}))
    v = judge(rel, prod, date(2026, 11, 30), entitled)
    assert v.status is Status.EXTENDED and v.extended_until == date(2028, 10, 10)
    assert judge(rel, prod, date(2028, 10, 11), entitled).status is Status.EOL


def test_ending_soon_and_supported() -> None:
    rel = Release(product="x", name="1", label="X 1", eol=date(2027, 1, 31))
    assert judge(rel, None, date(2026, 11, 30), Policy()).status is Status.ENDING_SOON
    assert judge(rel, None, date(2026, 11, 30), Policy(lookahead_days=30)).status is Status.SUPPORTED
    assert judge(Release(product="x", name="2", eol=None), None, date(2026, 1, 1), Policy()).status is Status.UNKNOWN


def test_supplementary_overlay_never_overrides_upstream(cat: Catalog) -> None:
    from eol_data.catalog import Product

    overlay = Product(
        name="debian",
        label="x",
        releases=[
            Release(product="debian", name="12", eol=date(2000, 1, 1)),
            Release(product="debian", name="99", eol=date(2099, 1, 1)),
        ],
    )
    local = Catalog(extra_products=[overlay])
    assert local.release("debian", "12").eol == date(2026, 7, 11)  # type: ignore[union-attr]
    assert local.release("debian", "99") is not None
