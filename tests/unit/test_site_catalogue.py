"""The site catalogue: a trust's own products, rules and entitlements, as one TOML file.

Uses a test-only catalogue (written per test into tmp_path) and the bundled snapshot; the shipped
example (examples/legacyscan-site.toml) must load too, since trusts start by copying it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from eol_data.catalog import Catalog
from eol_data.site import SiteCatalogError, find_site_catalog, load_site_catalog, parse_site_catalog
from scanner.identify import site_rules
from scanner.identify.registry import IdentifyContext, evaluate, verdict_for
from scanner.model import Identification, Policy, Status

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "legacyscan-site.toml"

CATALOGUE = """\
version = 1

[site]
name = "Test Trust"

[policy]
lookahead_days = 90

[[products]]
name = "ward-obs-client"
label = "WardObs observations client"
source = "test fixture"
labels = { eol = "Supplier support", eoes = "Extended support (paid)" }

  [[products.releases]]
  name = "4.2"
  release_date = 2025-01-01
  eol = 2027-06-30

  [[products.releases]]
  name = "3.9"
  release_date = 2021-01-01
  eol = 2025-12-31
  eoes = 2027-12-31

  [[products.releases]]
  name = "2.0"
  eol = true

[[rules]]
id = "wardobs"
product = "ward-obs-client"
name = '^WardObs( Client)?$'
publisher = 'Ward Systems'
version = '^(?P<cycle>\\d+\\.\\d+)'

[[rules]]
id = "wardobs-legacy"
product = "ward-obs-client"
name = '^WardObs Classic'
cycle = "2.0"

[[rules]]
id = "kiosk"
product = "none"
name = 'Trust Kiosk Shell'

[[entitlements]]
product = "windows-server"
cycles = ["2012-r2"]
name = "Server ESU"
cost = 1200
currency = "GBP"
"""


def _ctx(text: str, tmp_path: Path) -> tuple[IdentifyContext, Policy]:
    path = tmp_path / "legacyscan-site.toml"
    path.write_text(text, "utf-8")
    ctx = IdentifyContext(Catalog())
    policy = site_rules.apply_site_catalog(ctx, str(path))
    assert policy is not None
    return ctx, policy


def _sw(name: str, version: str, publisher: str = "") -> dict[str, object]:
    record: dict[str, object] = {"kind": "software", "source": "windows-registry", "name": name, "version": version}
    if publisher:
        record["publisher"] = publisher
    return record


def test_clinical_app_is_identified_and_judged(tmp_path: Path) -> None:
    ctx, policy = _ctx(CATALOGUE, tmp_path)
    out = evaluate(_sw("WardObs Client", "4.2.17.3", "Ward Systems Ltd"), ctx, date(2026, 11, 30), policy)
    assert out["product"] == "ward-obs-client"
    assert out["cycle"] == "4.2"
    assert out["rule"] == "site.wardobs"
    assert out["status"] == "supported"  # 2027-06-30 is more than 90 days (site lookahead) away
    assert out["eol"] == "2027-06-30"
    # The site's lookahead (90 days), not the default 180, decides "ending-soon".
    assert evaluate(_sw("WardObs", "4.2.1", "Ward Systems"), ctx, date(2027, 5, 1), policy)["status"] == "ending-soon"
    # Past the end, with no extended phase: eol.
    assert evaluate(_sw("WardObs", "4.2.1", "Ward Systems"), ctx, date(2027, 7, 1), policy)["status"] == "eol"


def test_rule_conditions_publisher_fixed_cycle_and_none(tmp_path: Path) -> None:
    ctx, policy = _ctx(CATALOGUE, tmp_path)
    as_of = date(2026, 11, 30)
    # Publisher does not match: the site rule does not apply, the bundled identifiers answer.
    other = evaluate(_sw("WardObs Client", "4.2.1", "Someone Else"), ctx, as_of, policy)
    assert other["rule"] != "site.wardobs"
    fixed = evaluate(_sw("WardObs Classic Viewer", "whatever"), ctx, as_of, policy)
    assert (fixed["product"], fixed["cycle"], fixed["status"]) == ("ward-obs-client", "2.0", "eol")
    silenced = evaluate(_sw("Trust Kiosk Shell", "1.0"), ctx, as_of, policy)
    assert silenced["product"] is None and silenced["rule"] == "site.kiosk"
    unknown = evaluate(_sw("WardObs", "9.9.1", "Ward Systems"), ctx, as_of, policy)
    assert (unknown["product"], unknown["cycle"], unknown["status"]) == ("ward-obs-client", None, "unknown")


def test_entitlement_turns_eol_into_extended(tmp_path: Path) -> None:
    ctx, policy = _ctx(CATALOGUE, tmp_path)
    as_of = date(2026, 6, 1)  # Server 2012 R2: security support ended 2023-10-10, ESU runs to 2026-10-13
    server = Identification("windows-server", "2012-r2", "test", "test")
    assert verdict_for(server, ctx, as_of, Policy()).status is Status.EOL
    covered = verdict_for(server, ctx, as_of, policy)
    assert covered.status is Status.EXTENDED
    assert covered.extended_until == date(2026, 10, 13)
    # The entitlement names one cycle only: 2012 (not R2) stays eol.
    assert verdict_for(Identification("windows-server", "2012", "t", "t"), ctx, as_of, policy).status is Status.EOL
    # After the ESU ends it is eol again, entitlement or not.
    assert verdict_for(server, ctx, date(2026, 10, 14), policy).status is Status.EOL


def test_site_product_extended_phase_needs_entitlement(tmp_path: Path) -> None:
    ctx, policy = _ctx(CATALOGUE, tmp_path)
    rec = _sw("WardObs", "3.9.4", "Ward Systems")
    assert evaluate(rec, ctx, date(2026, 11, 30), policy)["status"] == "eol"
    entitled = CATALOGUE + '\n[[entitlements]]\nproduct = "ward-obs-client"\ncycles = ["3.9"]\n'
    ctx2, policy2 = _ctx(entitled, tmp_path)
    out = evaluate(rec, ctx2, date(2026, 11, 30), policy2)
    assert out["status"] == "extended"
    assert out["eol"] == "2025-12-31"


def test_site_product_shows_with_site_source(tmp_path: Path) -> None:
    ctx, _policy = _ctx(CATALOGUE, tmp_path)
    rel = ctx.catalog.release("ward-obs-client", "3.9")
    assert rel is not None and rel.source == "site" and rel.sources == ["test fixture"]
    assert "ward-obs-client" in ctx.catalog.product_names()


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (("eol = 2027-06-30", 'eol = "2027-13-40"'), r"legacyscan-site.toml:18: products\[0\].releases\[0\].eol: "),
        (("lookahead_days = 90", "lookahead_days = -3"), r":7: policy.lookahead_days: expected a whole number"),
        (("[[entitlements]]", "[[entitlement]]"), r"entitlement.*unknown key 'entitlement'"),
        (("version = '^(?P<cycle>", "version = '^((?P<cycle>"), r":35: rules\[0\].version: not a valid regular"),
        (
            ('product = "windows-server"', 'product = "windows-servre"'),
            r"entitlements\[0\].product: product 'windows-servre'.*did you mean windows-server",
        ),
        (('cycles = ["2012-r2"]', 'cycles = ["2012r2"]'), r"windows-server has no cycle '2012r2'"),
        (("  eol = 2027-06-30\n", "  eol_date = 2027-06-30\n"), r"releases\[0\].eol_date: unknown key"),
        (('name = "Test Trust"', 'name = "Test Trust'), r"not valid TOML: .*line 4"),
        (
            ("  release_date = 2025-01-01\n  eol = 2027-06-30", "  release_date = 2025-01-01\n  eol = 2024-06-30"),
            r"eol 2024-06-30 is before release_date 2025-01-01",
        ),
        (('product = "none"', 'product = "Not A Slug"'), r"rules\[2\].product: 'Not A Slug' is not a product slug"),
    ],
)
def test_bad_catalogue_gives_clear_error_naming_the_key(
    tmp_path: Path, mutation: tuple[str, str], expected: str
) -> None:
    old, new = mutation
    assert old in CATALOGUE
    path = tmp_path / "legacyscan-site.toml"
    path.write_text(CATALOGUE.replace(old, new, 1), "utf-8")
    ctx = IdentifyContext(Catalog())
    with pytest.raises(SiteCatalogError, match=expected):
        site_rules.apply_site_catalog(ctx, str(path))


def test_rule_naming_an_unknown_product_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = CATALOGUE.replace(
        'product = "ward-obs-client"\nname = \'^WardObs Classic',
        'product = "ward-obs-clinet"\nname = \'^WardObs Classic',
    )
    path = tmp_path / "site.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(SiteCatalogError, match=r"site.toml:39: rules\[1\].product.*did you mean ward-obs-client"):
        site_rules.apply_site_catalog(IdentifyContext(Catalog()), str(path))


def test_find_site_catalog_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEGACYSCAN_SITE_CATALOG", raising=False)
    assert find_site_catalog(None, cwd=tmp_path) is None  # no file: no catalogue, not an error
    default = tmp_path / "legacyscan-site.toml"
    default.write_text(CATALOGUE, "utf-8")
    assert find_site_catalog(None, cwd=tmp_path) == default
    other = tmp_path / "other.toml"
    other.write_text(CATALOGUE, "utf-8")
    monkeypatch.setenv("LEGACYSCAN_SITE_CATALOG", str(other))
    assert find_site_catalog(None, cwd=tmp_path) == other
    with pytest.raises(SiteCatalogError, match="missing.toml .*does not exist"):
        find_site_catalog(str(tmp_path / "missing.toml"), cwd=tmp_path)


def test_shipped_example_loads_and_counts_example_dates() -> None:
    site = load_site_catalog(EXAMPLE)
    assert {p.name for p in site.products} >= {"systmone-client", "emis-web-client", "meridian-pacs-workstation"}
    assert site.example_dates > 0  # every invented date is flagged for replacement
    assert "windows:10-22h2" in site.entitlement_keys()
    ctx = IdentifyContext(Catalog())
    policy = site_rules.install(ctx, site)
    assert policy.lookahead_days == 270
    out = evaluate(_sw("Meridian PACS Workstation", "24.2.3"), ctx, date(2026, 11, 30), policy)
    assert (out["product"], out["cycle"]) == ("meridian-pacs-workstation", "12.2")
    assert "EXAMPLE dates" in out["reason"]


def test_parse_accepts_string_dates_and_booleans() -> None:
    text = """
[[products]]
name = "x-app"
  [[products.releases]]
  name = "1"
  eol = "2030-01-01"
  [[products.releases]]
  name = "0"
  eol = false
"""
    site = parse_site_catalog(text, Path("inline.toml"))
    rels = site.products[0].releases
    assert rels[0].eol == date(2030, 1, 1)
    assert rels[1].eol is False
