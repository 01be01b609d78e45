"""Version helpers shared by identifiers: split, compare, and pick a cycle by prefix.

endoflife.date's version -> cycle rule is "the cycle name followed by a non-digit", which works
for most products; products where it fails get their own normaliser in their identifier.
"""

from __future__ import annotations

import re

from eol_data.catalog import Product, Release

_NUM = re.compile(r"\d+")


def numeric_parts(version: str) -> tuple[int, ...]:
    """``"8.0.4510.9"`` -> ``(8, 0, 4510, 9)``; stops at the first non-numeric dotted part."""
    parts: list[int] = []
    for piece in re.split(r"[.]", version.strip()):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
        if m.end() != len(piece):
            break
    return tuple(parts)


def cycle_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in _NUM.findall(name))


def pick_cycle(product: Product, version: str) -> tuple[Release | None, bool]:
    """The release whose name is the longest prefix of ``version`` at a component boundary.

    Returns ``(release, newer_than_known)``.  When no cycle matches but the version is newer than
    every known numeric cycle, ``newer_than_known`` is True: "unknown, probably current" (the
    snapshot predates it), never EOL.
    """
    v = version.strip().lower()
    best = _longest_prefix(product, v)
    if best is not None:
        return best, False
    return None, _newer_than_every_cycle(product, v)


def _longest_prefix(product: Product, v: str) -> Release | None:
    """The release whose name is the longest prefix of ``v`` at a component boundary."""
    best: Release | None = None
    for rel in product.releases:
        name = rel.name.lower()
        if v == name or (v.startswith(name) and not v[len(name)].isdigit()):
            if best is None or len(name) > len(best.name):
                best = rel
    return best


def _newer_than_every_cycle(product: Product, v: str) -> bool:
    vk = numeric_parts(v)
    if not vk:
        return False
    keys = [cycle_key(r.name) for r in product.releases if re.fullmatch(r"[\d.]+", r.name)]
    return bool(keys) and all(vk[: len(k)] > k for k in keys if k)


def release_by_key(product: Product, key: tuple[int, ...]) -> Release | None:
    """Exact numeric match of a cycle name, e.g. ``(3, 11)`` -> cycle ``3.11``."""
    for rel in product.releases:
        if cycle_key(rel.name) == key and re.fullmatch(r"[\d.]+", rel.name):
            return rel
    return None
