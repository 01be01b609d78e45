"""scanner/store/dataset_change.py: what `eol update` says of the stored estate, and never fails on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import BUNDLED_DIR, Catalog
from scanner.identify.registry import IdentifyContext
from scanner.model import Policy
from scanner.store.dataset_change import estate_flips, rejudge, sqlite_path
from scanner.store.open import open_store

AS_OF = date(2026, 11, 30)


class SiteSaid(Exception):
    """An error whose message is the whole story (the CLI's own, with its hint)."""


def _context(catalog: Catalog) -> tuple[IdentifyContext, Policy]:
    return IdentifyContext(catalog), Policy()


def test_the_notes_say_why_the_estate_was_not_compared_or_judged(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'estate.db'}"
    assert sqlite_path("sqlite:///rel.db") == Path("rel.db") and sqlite_path("postgresql://x/y") is None
    assert estate_flips(db, BUNDLED_DIR, BUNDLED_DIR, AS_OF, _context) == ([], f"no stored estate at {db}")
    assert rejudge(db, BUNDLED_DIR, _context) == f"no stored estate at {db}"
    assert not (tmp_path / "estate.db").exists()  # no empty database made as a side effect
    with open_store(db) as store:
        assert estate_flips(db, BUNDLED_DIR, BUNDLED_DIR, AS_OF, _context)[1] == "the store holds no inventories"
        store.save_inventory(
            Inventory(
                host=Host(hostname="pc1", machine_id="m1"),
                os=OsInfo(family="windows", name="Microsoft Windows 7 Professional", version="6.1.7601"),
                software=[Software(name="Java 8 Update 202", version="8.0.2020.8", source="windows-registry")],
                collected_at="2026-11-28T09:00:00Z",
            )
        )

    def site_refuses(catalog: Catalog) -> tuple[IdentifyContext, Policy]:
        raise SiteSaid("the site catalogue entitles windows 7, which the new dataset lacks")

    def breaks(catalog: Catalog) -> tuple[IdentifyContext, Policy]:
        raise ValueError("boom")

    said = estate_flips(db, BUNDLED_DIR, BUNDLED_DIR, AS_OF, site_refuses, plain_errors=(SiteSaid,))
    assert said == (
        [],
        "could not compare the stored estate: the site catalogue entitles windows 7, which the new dataset lacks",
    )
    assert estate_flips(db, BUNDLED_DIR, BUNDLED_DIR, AS_OF, breaks, plain_errors=(SiteSaid,)) == (
        [],
        "could not compare the stored estate: ValueError: boom",
    )
    assert rejudge(db, BUNDLED_DIR, site_refuses).startswith("stored inventories not re-judged: SiteSaid: the site")
    assert estate_flips(db, BUNDLED_DIR, BUNDLED_DIR, AS_OF, _context) == ([], "1 hosts compared as of 2026-11-30")
    assert rejudge(db, BUNDLED_DIR, _context).endswith(
        f"judged with {IdentifyContext(Catalog(BUNDLED_DIR)).catalog.version}"
    )
