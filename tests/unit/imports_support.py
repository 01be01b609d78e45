"""Shared plumbing of the importer tests: run the real CLI in-process, read back the store, and judge
an imported inventory with the same matcher a scanned host goes through."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from agents.inventory import Inventory
from eol_data.catalog import Catalog
from scanner.cli import main
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Policy
from scanner.store.open import open_store

IMPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
AS_OF = date(2026, 12, 1)


def run_import(db: Path, *args: str | Path) -> int:
    return main(["import", *(str(a) for a in args), "--db", f"sqlite:///{db}"])


def stored(db: Path) -> dict[str, Inventory]:
    """The latest inventory of every stored host, by host name."""
    with open_store(f"sqlite:///{db}") as store:
        return {inv.host.hostname: inv for inv in store.latest_inventories()}


@cache
def _ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def verdicts(inv: Inventory) -> dict[tuple[str, str | None, str | None], str]:
    """(kind, product, cycle) -> status for every identified finding of ``inv`` as of AS_OF."""
    result = match_inventory(inv, _ctx(), AS_OF, Policy())
    return {(f.kind, f.product, f.cycle): f.status.value for f in result.findings if f.product}
