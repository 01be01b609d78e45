"""The store's memory of encoded bodies is an object the store owns (``Store.encoder``, a
``BodyEncoder``), not module state: remembering never changes a byte of a body, and two stores
(or a store and the module's one-off functions) share nothing."""

from __future__ import annotations

import copy
import zlib
from pathlib import Path

from agents import linux
from agents.inventory import Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.store.open import open_store
from scanner.store.sqlite import BodyEncoder, encode_body, encode_checked, fast_compact_json
from tests.unit.test_stateless_parsers import state_kept

ROOT = Path(__file__).resolve().parents[2]
DPKG_STATUS = ROOT / "tests" / "fixtures" / "hosts" / "debian12-workplace" / "files" / "var" / "lib" / "dpkg" / "status"


def _host(name: str, software: list[Software]) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"mid-{name}", site="Main"),
        os=OsInfo(family="linux", name="Debian GNU/Linux 12 (bookworm)", version="12"),
        software=software,
        collected_at="2026-11-28T09:00:00Z",
        inventory_id=f"inv-{name}",
    )


def test_bodies_made_with_a_warm_memory_are_the_bytes_of_a_fresh_one() -> None:
    build = linux.PackageMemo().dpkg_status(DPKG_STATUS.read_text("utf-8"))  # shared, as a fleet scan's
    own = [Software(name="clinical-viewer", version="4.2", source="dpkg"), *build[:50]]
    encoder = BodyEncoder()
    hosts = [_host(f"h{i}", build) for i in range(3)] + [_host("own", own), _host("empty", [])]
    for _ in range(2):  # the second round is answered from the memory
        for inv in hosts:
            body, exact = encoder.encode_checked(inv)
            assert (body, exact) == encode_checked(copy.deepcopy(inv)) == BodyEncoder().encode_checked(inv)
            assert zlib.decompress(body) == compact_json(inv).encode("utf-8") and exact
            assert encoder.fast_compact_json(inv) == fast_compact_json(inv) == compact_json(inv)
    assert encoder.arrays.get(encoder.arrays.key(build)) is not None  # the build's array, remembered
    assert len(encoder.by_object) >= len(build) and encoder.fragments


def test_two_stores_remember_apart(tmp_path: Path) -> None:
    build = linux.PackageMemo().dpkg_status(DPKG_STATUS.read_text("utf-8"))
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as a, open_store(f"sqlite:///{tmp_path / 'b.db'}") as b:
        assert a.encoder is a.encoder and a.encoder is not b.encoder
        a.save_batch([_host("h1", build)])
        assert a.encoder.deflated.get(a.encoder.deflated.key(build)) is not None and a.encoder.fragments
        assert b.encoder.deflated.get(b.encoder.deflated.key(build)) is None and not b.encoder.fragments
        # the module's one-off functions remember nothing anywhere
        encode_body(_host("h2", build))
        assert not b.encoder.fragments and not b.encoder.by_object


def test_a_handed_over_body_is_used_once_and_only_for_that_inventory() -> None:
    encoder = BodyEncoder()
    inv = _host("h1", [Software(name="bash", version="5.2", source="dpkg")])
    twin = copy.deepcopy(inv)
    encoder.hand_over(inv, b"made elsewhere", True)
    assert encoder.encode_checked(twin) == encode_checked(twin)  # an equal inventory is not the one
    assert encoder.encode_checked(inv) == (b"made elsewhere", True)
    assert encoder.encode_checked(inv) == encode_checked(inv)  # taken: encoded here from now on


def test_the_store_modules_keep_no_memo() -> None:
    """Every memo of the store is an object its owner keeps (``Store.encoder``, ``Store.row_memo``,
    a report reader's ``facts.Texts``), never module state."""
    paths = [*sorted((ROOT / "scanner" / "store").glob("*.py")), ROOT / "scanner" / "collect" / "wire.py"]
    kept = {path.relative_to(ROOT).as_posix(): state_kept(path.read_text("utf-8")) for path in paths}
    assert len(kept) > 10 and {path: found for path, found in kept.items() if found} == {}


def test_rows_made_with_the_stores_memory_equal_fresh_ones(tmp_path: Path) -> None:
    from datetime import date

    from eol_data.catalog import Catalog
    from scanner.identify.registry import IdentifyContext
    from scanner.judge.timeline import Judge
    from scanner.model import Policy
    from scanner.store.relational import RowMemo, rows_for

    build = linux.PackageMemo().dpkg_status(DPKG_STATUS.read_text("utf-8"))
    judge = Judge(IdentifyContext(Catalog()), Policy(), date(2026, 11, 30))
    memo = RowMemo()
    for _ in range(2):  # the second round is answered from the memory
        for inv in (_host("h1", build), _host("h2", build), _host("own", build[:40])):
            warm = rows_for(inv, inv.inventory_id, judge, memo=memo).tables
            assert warm == rows_for(copy.deepcopy(inv), inv.inventory_id, judge).tables
            assert warm["findings"] and warm["inventory_software_sets"]
    assert memo.content_ids and memo.software_rows and memo.software_lists.get(memo.software_lists.key(build))
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as a, open_store(f"sqlite:///{tmp_path / 'b.db'}") as b:
        a.save_batch([_host("h1", build)])
        assert a.row_memo.software_rows and not b.row_memo.software_rows and a.row_memo is not b.row_memo
