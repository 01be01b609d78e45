"""Pinned datasets: previous EOL snapshots kept (a bounded number) so any report can be reproduced.

Why: a DSPT submission made last year must be reproducible after the dataset has moved on.  The
findings stored then name their dataset version (``findings.dataset_version``); this module keeps
the snapshot each version came from beside the live one, in ``<live>.history/<version>/``, and finds
a snapshot by its version for ``legacyscan report --dataset VERSION``.  Only the newest ``keep``
previous snapshots are kept (``legacyscan eol update --keep N``): each is a few MB.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from eol_data.catalog import BUNDLED_DIR, Catalog, CatalogError, default_snapshot_dir

DEFAULT_KEEP = 3


def history_dir(live: Path | None = None) -> Path:
    """Where previous snapshots are kept (``live`` is accepted for callers that name it; unused)."""
    override = os.environ.get("LEGACYSCAN_DATASETS_DIR")
    if override:
        return Path(override)
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "legacyscan-datasets"


def _folder_name(version: str) -> str:
    """A folder name for a version (versions hold ':' and '+'; the hash keeps distinct ones apart)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in version)[:80]
    return f"{safe}-{hashlib.sha256(version.encode()).hexdigest()[:8]}"


def snapshot_version(directory: Path) -> str | None:
    try:
        return Catalog(directory).version
    except (CatalogError, OSError):
        return None


def retain(previous: Path, live: Path, keep: int = DEFAULT_KEEP) -> Path | None:
    """Copy the snapshot about to be replaced (``previous``) into ``live``'s history and prune the
    history to the ``keep`` newest.  Returns the kept copy (None when ``keep`` is 0 or it is unreadable)."""
    history = history_dir(live)
    version = snapshot_version(previous)
    kept = None
    if keep > 0 and version is not None:
        history.mkdir(parents=True, exist_ok=True)
        kept = history / _folder_name(version)
        if not kept.exists():
            tmp = history / f".{kept.name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(previous, tmp)
            tmp.rename(kept)
        kept.touch()  # newest first when pruning
    if history.is_dir():
        entries = sorted(
            (p for p in history.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in entries[keep:]:
            shutil.rmtree(old, ignore_errors=True)
    return kept


def find(version: str) -> Path | None:
    """The snapshot whose catalog version is ``version`` (a findings' dataset version, with or without
    its ``+site:`` part): the live one, a kept previous one, or the bundled one."""
    wanted = version.split("+site:")[0]
    live = default_snapshot_dir()
    candidates = [live, BUNDLED_DIR]
    history = history_dir(live)
    if history.is_dir():
        candidates[1:1] = sorted(p for p in history.iterdir() if p.is_dir() and not p.name.startswith("."))
    for directory in candidates:
        if snapshot_version(directory) == wanted:
            return directory
    return None


def known_versions() -> list[str]:
    live = default_snapshot_dir()
    dirs = [live, BUNDLED_DIR]
    history = history_dir(live)
    if history.is_dir():
        dirs += sorted(p for p in history.iterdir() if p.is_dir() and not p.name.startswith("."))
    return sorted({v for d in dirs if (v := snapshot_version(d)) is not None})
