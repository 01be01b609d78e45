"""``legacyscan import`` hands the store each device with the inventory its body stands for
(``EncodedInventory.source``), so the store judges it as it is instead of decoding the body it has
just been given back into the same inventory (15 % of importing a large ConfigMgr export).  Only a
body that is exact may carry it: one with a NUL or a lone surrogate replaced on the way is judged
from the body, as the report will read it back.  Real GLPI agent inventories (the fixtures')."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from agents.inventory import Inventory, Software
from scanner.cli.importcmd import convert_file, encode
from scanner.store.open import open_store
from scanner.store.sqlite import decode_body

ROOT = Path(__file__).resolve().parents[2]
GLPI = ROOT / "tests" / "fixtures" / "imports" / "glpi"


def _devices() -> list[Inventory]:
    invs = []
    for name in ("computer_1.json", "computer_3.json", "1.xml", "2.xml", "4.xml"):
        invs += convert_file(GLPI / name)[1]
    assert len(invs) >= 3 and any(inv.software for inv in invs)
    return invs


def test_an_exact_body_carries_its_inventory_and_decodes_to_it() -> None:
    for inv in _devices():
        item = encode(inv)
        assert item.source is inv, inv.host.hostname
        assert decode_body(item.body).to_dict() == inv.to_dict(), inv.host.hostname


def test_a_body_with_a_value_replaced_does_not_carry_its_inventory() -> None:
    inv = next(inv for inv in _devices() if inv.software)
    nul = replace(inv, software=[*inv.software, Software(name="Viewer\x00x", version="1.0", source="windows-registry")])
    assert encode(nul).source is None
    header = replace(inv, host=replace(inv.host, hostname="ward\ud800pc"))  # a lone surrogate: replaced, stored
    assert encode(header).source is None
    empty = replace(inv, software=[], host=replace(inv.host, hostname="ward\x00pc"))
    assert encode(empty).source is None and encode(replace(inv, software=[])).source is not None


def test_the_store_makes_the_same_rows_from_the_inventory_as_from_the_body(tmp_path: Path) -> None:
    items = [encode(inv) for inv in _devices()]
    tables = []
    for name, batch in (("source", items), ("body", [replace(item, source=None) for item in items])):
        store = open_store(f"sqlite:///{tmp_path / name}.db")  # judging, as the import's
        try:
            assert store.save_batch(batch) == [True] * len(batch)
            conn = store.conn  # type: ignore[attr-defined]
            tables.append(
                {
                    table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608 - fixed names
                    for table in ("findings", "finding_status", "finding_contents", "judgements", "software")
                }
            )
        finally:
            store.close()
    assert tables[0]["findings"] and tables[0] == tables[1]
