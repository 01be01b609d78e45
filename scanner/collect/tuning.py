"""The fleet scan's one process-level performance setting: the cyclic garbage collector's pace.

A scan allocates millions of short-lived, acyclic objects (package records, strings, packets);
with the default thresholds the cyclic GC runs every 700 allocations and re-walks the young heap
each time, which measured at half the cost of parsing and loading a host's packages.  Freezing
what is loaded (modules, the catalog) and collecting less often keeps cycles (paramiko's
transports) collected, just in bigger steps.  The engine runs a scan inside
:func:`fewer_collections`; nothing else in the scan touches ``gc``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_YOUNG_THRESHOLD = 50_000  # allocations between young-generation collections during a scan


@contextmanager
def fewer_collections(young: int = GC_YOUNG_THRESHOLD) -> Iterator[None]:
    """Inside: what was allocated before is frozen out of collections, and the young generation is
    collected every ``young`` allocations (never more often than the process's own setting).
    The process's thresholds and its frozen objects are restored on the way out."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], young), max(threshold[1], 20), threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
