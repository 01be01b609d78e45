"""Discovered (and register) hosts give way to a real inventory of the same machine.

A device first seen by ``legacyscan discover`` (or listed in the device register) and later
inventoried by an agent or a probe is one machine, not two: the inventory -- collected from the
inside, with every package -- wins, and the discovered record leaves the report.  The link is the
address the discovery reached, or the host name (full or short, case-insensitive), because a
discovered host has no machine id of its own.

A full DNS name is one machine wherever it is seen; an address or a short name is only unique
within a site (community sites behind their own routers reuse the same private ranges, merged
trusts reuse NetBIOS names), so those link only within the same site, or where either record
names no site.  A legacy device at one clinic must never be hidden by another site's machine that
happens to share its 192.168.1.10.
"""

from __future__ import annotations

from agents.inventory import Inventory


def is_discovered(inv: Inventory) -> bool:
    return inv.collector.transport == "discovery"


def is_register(inv: Inventory) -> bool:
    return getattr(inv.collector, "source", "") == "register"


def _secondary(inv: Inventory) -> bool:
    return is_discovered(inv) or is_register(inv)


def _is_address(v: str) -> bool:
    return v.replace(".", "").isdigit() or ":" in v


def _names(inv: Inventory) -> set[str]:
    out: set[str] = set()
    for value in (inv.host.hostname, inv.host.address):
        v = value.strip().lower()
        if v:
            out.add(v)
            if not _is_address(v):
                out.add(v.split(".", 1)[0])
    return out


def site_scoped(name: str) -> bool:
    """An address or a short name: unique only within a site (a full DNS name is unique anywhere)."""
    return _is_address(name) or "." not in name


def _same_place(name: str, a: Inventory, b: Inventory) -> bool:
    sa, sb = a.host.site.strip(), b.host.site.strip()
    return not site_scoped(name) or not sa or not sb or sa == sb


def supersede(inventories: list[Inventory]) -> tuple[list[Inventory], dict[str, str]]:
    """The inventories to report, and {superseded host key: winning host name}."""
    from scanner.store.sqlite import host_key

    primary: dict[str, list[Inventory]] = {}
    for inv in inventories:
        if not _secondary(inv):
            for name in _names(inv):
                primary.setdefault(name, []).append(inv)
    kept: list[Inventory] = []
    linked: dict[str, str] = {}
    for inv in inventories:
        if _secondary(inv):
            winner = next(
                (p for n in sorted(_names(inv)) for p in primary.get(n, ()) if _same_place(n, inv, p)),
                None,
            )
            if winner is not None:
                linked[host_key(inv)] = winner.host.hostname
                continue
        kept.append(inv)
    return kept, linked
