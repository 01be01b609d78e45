"""The one place legacyscan sets the cyclic garbage collector: a process-level performance setting,
kept out of the code that scans, reads and reports (#18: performance behind seams).

* :func:`fewer_collections` -- the fleet scan.  A scan allocates millions of short-lived, acyclic
  objects (package records, strings, packets); with the default thresholds the cyclic GC runs every
  700 allocations and re-walks the young heap each time, which measured at half the cost of parsing
  and loading a host's packages.  Freezing what is loaded (modules, the catalog) and collecting less
  often keeps cycles (paramiko's transports) collected, just in bigger steps.
* :func:`gc_paused` -- ``legacyscan report``.  A report from the store makes hundreds of thousands
  of objects that live until it is written (findings, host rows, the view model) and no reference
  cycles worth collecting: every full pass walks all of them again and frees nothing (20,000-device
  demo, json: 17 full passes, 0 objects collected) -- a quarter of the report's CPU (9.4 s -> 6.9 s
  in one process), for the same peak RSS.  Memory freed by reference counting is freed as before.
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cycle collector off while a report is read, built and written (back as it was after)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
