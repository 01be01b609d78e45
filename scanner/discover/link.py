"""Discovered (and register) hosts give way to a real inventory of the same machine.

A device first seen by ``legacyscan discover`` (or listed in the device register) and later
inventoried by an agent or a probe is one machine, not two: the inventory -- collected from the
inside, with every package -- wins, and the discovered record leaves the report.  The link is the
address the discovery reached, or the host name (full or short, case-insensitive), because a
discovered host has no machine id of its own.
"""

from __future__ import annotations

from agents.inventory import Inventory


def is_discovered(inv: Inventory) -> bool:
    return inv.collector.transport == "discovery"


def is_register(inv: Inventory) -> bool:
    return getattr(inv.collector, "source", "") == "register"


def _secondary(inv: Inventory) -> bool:
    return is_discovered(inv) or is_register(inv)


def _names(inv: Inventory) -> set[str]:
    out: set[str] = set()
    for value in (inv.host.hostname, inv.host.address):
        v = value.strip().lower()
        if v:
            out.add(v)
            if not v.replace(".", "").isdigit() and ":" not in v:
                out.add(v.split(".", 1)[0])
    return out


def supersede(inventories: list[Inventory]) -> tuple[list[Inventory], dict[str, str]]:
    """The inventories to report, and {superseded host key: winning host name}."""
    from scanner.store import host_key

    primary: dict[str, Inventory] = {}
    for inv in inventories:
        if not _secondary(inv):
            for name in _names(inv):
                primary.setdefault(name, inv)
    kept: list[Inventory] = []
    linked: dict[str, str] = {}
    for inv in inventories:
        if _secondary(inv):
            winner = next((primary[n] for n in sorted(_names(inv)) if n in primary), None)
            if winner is not None:
                linked[host_key(inv)] = winner.host.hostname
                continue
        kept.append(inv)
    return kept, linked
