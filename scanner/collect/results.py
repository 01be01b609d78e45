"""What a fleet scan hands back: one ``Outcome`` per target, the ``ScanSummary`` of the run, and the
``InventoryObserver`` seam through which a caller sees every collected inventory without the scan
holding them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.inventory import Inventory
from scanner.store.sqlite import HostStatus, Storable
from scanner.targets import Target


@dataclass(slots=True)
class Outcome:
    """One target's result.  ``inventory`` is an ``EncodedInventory`` (stored form only) when it
    crossed from a collector process that was told nobody needs the objects; ``note`` is then what
    the scan's observer made of it there."""

    target: Target
    status: str
    error: str = ""
    inventory: Storable | None = None
    seconds: float = 0.0
    note: Any = None


class InventoryObserver(Protocol):
    """Looks at every collected inventory (e.g. matches it and keeps counts) without the scan having
    to hold the inventories.

    ``observe`` runs where the inventory was collected -- in a collector process during a large
    scan, so that work is spread over the cores -- and returns a small picklable note;
    ``merge`` runs in the storing process, once per stored inventory, in storing order."""

    def observe(self, inv: Inventory) -> Any: ...

    def merge(self, note: Any) -> None: ...


@dataclass(slots=True)
class ScanSummary:
    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    window_closed: bool = False
    seconds: float = 0.0
    inventories: list[Inventory] = field(default_factory=list)
    statuses: list[HostStatus] = field(default_factory=list)
