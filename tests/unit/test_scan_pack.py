"""What a collector process sends the storing process (``scanner.collect.wire.pack``/``unpack``): the
body and whether it stands for the inventory exactly.  Exact: the store judges the rebuilt
inventory and never decodes the body back; not exact (a NUL a host sent, replaced in the body): it
judges what was stored, as before.  Either way the rows are those of the decoded body."""

from __future__ import annotations

import copy
import pickle
import sqlite3
from pathlib import Path

import pytest

import scanner.store.sqlite as store_module
from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.collect.results import Outcome
from scanner.collect.wire import Packed, pack, unpack
from scanner.store.open import open_store
from scanner.store.sqlite import encode_checked
from scanner.targets import Target

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\n'


def _inv(name: str, package: str) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"m-{name}", site="Main"),
        os=OsInfo(
            family="linux", name="Debian GNU/Linux 11", version="11", facts={"files": {"/etc/os-release": OS_RELEASE}}
        ),
        software=[
            Software(name="openssl", version="1.1.1n-0+deb11u5", source="dpkg", publisher="Debian"),
            Software(name=package, version="2.0", source="dpkg"),
        ],
        collected_at="2026-11-28T09:00:00Z",
        inventory_id=f"inv-{name}",
    )


def _through_the_queue(inv: Inventory, *, exact: bool | None = None) -> tuple[Packed, bool]:
    outcome = Outcome(Target(host=inv.host.hostname, site="Main"), "ok", "", copy.deepcopy(inv), 0.0)
    packed = pickle.dumps(pack(outcome))
    item = pickle.loads(packed)  # noqa: S301 - the bytes this test just made, as the queue carries them
    sent = item[3]
    if exact is not None:
        item = (item[0], item[1], item[2], exact)
    return item, sent


def _rows(path: Path, item: Packed) -> dict[str, list]:
    """``item`` unpacked by the storing process (its body handed to the store's encoder) and saved."""
    s = open_store(f"sqlite:///{path}")
    inv = unpack(item, encoder=s.encoder).inventory
    assert isinstance(inv, Inventory) and inv.software
    assert s.encoder.handed[id(inv)][1] == item[1]  # the body the child made, handed over
    s.save_batch([inv])
    assert id(inv) not in s.encoder.handed  # taken by the save
    s.close()
    conn = sqlite3.connect(path)
    return {
        t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall())  # noqa: S608 - fixed names
        for t in ("software", "inventory_software", "findings", "finding_status", "inventories")
    }


def test_an_exact_body_is_not_decoded_and_rows_equal_the_decoded_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = _inv("pc1", "clinical-viewer")
    decoded, _ = _through_the_queue(inv, exact=False)
    want = _rows(tmp_path / "decoded.db", decoded)
    rebuilt, sent = _through_the_queue(inv)
    assert sent is True

    def refuse(body: bytes) -> Inventory:
        raise AssertionError("an exact body was decoded back")

    monkeypatch.setattr(store_module, "decode_body", refuse)
    assert _rows(tmp_path / "exact.db", rebuilt) == want


def test_a_body_that_replaced_a_nul_is_judged_as_stored(tmp_path: Path) -> None:
    inv = _inv("pc2", "bad\x00name")
    rebuilt, sent = _through_the_queue(inv)
    assert sent is False
    rows = _rows(tmp_path / "nul.db", rebuilt)
    names = [r[1] for r in rows["software"]]
    assert "bad\x00name" not in names and any(n.startswith("bad") for n in names)


def test_without_the_stores_encoder_the_body_is_made_again(tmp_path: Path) -> None:
    """``unpack`` without an encoder hands the body to nobody: the store encodes the inventory
    itself (the same rows), and nothing is left behind in a module."""
    inv = _inv("pc3", "clinical-viewer")
    item, _ = _through_the_queue(inv)
    got = unpack(item).inventory
    assert isinstance(got, Inventory)
    s = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        assert not s.encoder.handed
        assert s.encoder.encode_checked(got) == encode_checked(copy.deepcopy(got))
    finally:
        s.close()
