"""What a collector process sends the storing process, and how it is read back: ``pack`` (whole
inventories, packages as rows), ``pack_observed`` (the stored form, judged in the child, and the
observer's note) and ``unpack``."""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from itertools import starmap
from typing import Any

from agents.inventory import Inventory, Software
from scanner.collect.results import InventoryObserver, Outcome
from scanner.store.relational import ReceivedSets, SentSets
from scanner.store.sqlite import BodyEncoder, EncodedInventory, Store, encode_body

log = logging.getLogger(__name__)

# A package crosses from a collector process as the tuple of its fields (read by one C call, loaded
# by pickle's C code) and is rebuilt with one constructor call: the default pickling of a slots
# dataclass costs several times more on both sides, for hundreds of packages a host.  A record the
# scan's parsers share between hosts (``agents.inventory.FrozenSoftware``) sends its ``collapsed``
# list as the one empty list nobody can change: written once per message, rebuilt as that.
_SOFTWARE_ROW = operator.attrgetter(*(f.name for f in dataclass_fields(Software)))


Packed = tuple[Outcome, bytes, list[tuple[Any, ...]], bool]


def pack(outcome: Outcome, encoder: BodyEncoder | None = None) -> Packed:
    """(outcome without its package list, the stored body, the packages as rows, whether the body
    stands for the inventory exactly).  In the child; ``encoder``: the store's (``Store.encoder``:
    a package list met before is encoded once), else a fresh one."""
    inv = outcome.inventory
    if not isinstance(inv, Inventory):
        return outcome, b"", [], False
    body, exact = (encoder or BodyEncoder()).encode_checked(inv)
    rows = list(map(_SOFTWARE_ROW, inv.software))
    inv.software = []  # this process is done with it; the rows carry the packages
    return outcome, body, rows, exact


def pack_observed(observer: InventoryObserver | None, store: Store | None = None) -> Callable[[Outcome], Packed]:
    """``pack`` for a scan that keeps no inventories: the child observes the inventory (matching
    runs here, on this process's core) and sends only its stored form, its relational rows
    (``Store.encode_and_judge``: judged here, with the store's judge this process inherited, and its
    memo of builds hits for every host of a build this process scanned) and the observer's note --
    no package objects cross, and the storing process only inserts.  Should making the rows fail
    for one host, that host goes without them and the storing process makes them as it always did."""

    encode_and_judge = store.encode_and_judge if store is not None else None
    # An observer that can read its note off the judgement (``StreamingTally.observe_judged``: the
    # status ranges on its date) is spared matching the host once more.
    from_judged: Callable[[Any, Any], Any] | None = getattr(observer, "observe_judged", None)
    judge_of = store.current_judge if store is not None else None
    sent = SentSets()  # a package list goes in full once, then by id (``unpack`` puts it back)

    def pack_one(outcome: Outcome) -> Packed:
        inv = outcome.inventory
        if not isinstance(inv, Inventory):
            return outcome, b"", [], False
        encoded: EncodedInventory | None = None
        judged: Any = None
        if encode_and_judge is not None:
            try:
                encoded, judged = encode_and_judge(inv)
            except Exception:  # noqa: BLE001 - the storing process judges it (and reports what fails)
                log.debug("judging %s in the collector process failed", outcome.target.key, exc_info=True)
            if encoded is not None and encoded.rows is not None:
                sent.strip(encoded.rows)
        if observer is not None:
            note = None
            if judged is not None and from_judged is not None and judge_of is not None:
                note = from_judged(judged, judge_of())
            outcome.note = note if note is not None else observer.observe(inv)
        if encoded is None:
            encoded = EncodedInventory(
                inventory_id=inv.inventory_id,
                host=inv.host,
                os=inv.os,
                collector=inv.collector,
                collected_at=inv.collected_at,
                software_count=len(inv.software),
                body=encode_body(inv),
            )
        outcome.inventory = encoded
        return outcome, b"", [], False

    return pack_one


def unpack(item: Packed, received: ReceivedSets | None = None, encoder: BodyEncoder | None = None) -> Outcome:
    """The parent's half of ``pack``: packages rebuilt (every field, as the child had them), the
    body and its exactness handed to the store's ``encoder`` (``BodyEncoder.hand_over``; without
    one the store encodes the inventory again).  ``received``: the package lists this scan's
    collector processes sent in full (``ChildReader`` keeps them, one per scan), which hosts sent
    later name by id; without it, a list named by id is left for the store to settle."""
    outcome, body, rows, exact = item
    inv = outcome.inventory
    if isinstance(inv, Inventory):
        inv.software = list(starmap(Software, rows))
        if body and encoder is not None:
            encoder.hand_over(inv, body, exact)
    elif isinstance(inv, EncodedInventory) and inv.rows is not None:
        (received if received is not None else ReceivedSets()).resolve(inv.rows)  # the store settles the rest
    return outcome
