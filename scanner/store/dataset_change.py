"""What a new EOL dataset changes for the stored estate (``legacyscan eol update``): the verdicts
that flip between the old and the new dataset, and every stored inventory judged again with the
new one.  Neither ever fails the update: each returns a note saying what happened, or why not.
Above ``open`` (it opens the store) and the judge, as ``open`` is; the CLI prints its answers.

The caller gives the judging context for a dataset (``context_for``: the catalogue with the site's
rules and policy, as the CLI builds it) and which of its errors speak for themselves
(``plain_errors``: said as they are, without their type; e.g. a site catalogue that entitles a
cycle the new dataset dropped)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from agents.inventory import Inventory
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import MatchMemo, match_inventory
from scanner.judge.timeline import Judge
from scanner.model import Finding, Policy
from scanner.store.open import open_store

ContextFor = Callable[[Catalog], tuple[IdentifyContext, Policy]]
_FindingKey = tuple[str, str, str, str]  # host key, kind, name, version


def sqlite_path(url: str) -> Path | None:
    """The SQLite file a --db URL names (as ``open_store`` reads it), or None for other backends."""
    if url.startswith("sqlite:"):
        path = unquote(urlparse(url).path)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = path.lstrip("/")
        return Path(path or "legacyscan.db")
    return None if "://" in url else Path(url)


def estate_flips(
    db: str,
    old_dir: Path,
    new_dir: Path,
    as_of: date,
    context_for: ContextFor,
    plain_errors: tuple[type[Exception], ...] = (),
) -> tuple[list[dict[str, Any]], str]:
    """Verdicts on the stored estate that differ between the old and the new dataset.

    Returns (flips, note).  Never raises: the dataset update must not fail because the estate
    cannot be read; the note says why the comparison was skipped.
    """
    path = sqlite_path(db)
    if path is not None and not path.exists():  # do not create an empty database as a side effect
        return [], f"no stored estate at {db}"
    try:
        with open_store(db) as store:
            inventories = store.latest_inventories()
        if not inventories:
            return [], "the store holds no inventories"
        old, new = (_verdicts(context_for(Catalog(directory)), inventories, as_of) for directory in (old_dir, new_dir))
    except plain_errors as exc:
        return [], f"could not compare the stored estate: {exc}"
    except Exception as exc:  # noqa: BLE001 - report, do not fail the update
        return [], f"could not compare the stored estate: {type(exc).__name__}: {exc}"
    flips = [flip for key in sorted(set(old) | set(new)) if (flip := _flip(old.get(key), new.get(key))) is not None]
    return flips, f"{len(inventories)} hosts compared as of {as_of.isoformat()}"


def _verdicts(
    context: tuple[IdentifyContext, Policy], inventories: list[Inventory], as_of: date
) -> dict[_FindingKey, Finding]:
    """Every stored inventory's findings judged with one dataset, by what was found where."""
    ctx, policy = context
    verdicts: dict[_FindingKey, Finding] = {}
    memo = MatchMemo(ctx, as_of, policy)
    for inv in inventories:
        for f in match_inventory(inv, ctx, as_of, policy, memo).findings:
            verdicts[(f.host_key, f.kind, f.name, f.version)] = f
    return verdicts


def _flip(before: Finding | None, after: Finding | None) -> dict[str, Any] | None:
    """One finding whose status or end date changed with the dataset, or None."""
    b_status = before.status.value if before else "unknown"
    a_status = after.status.value if after else "unknown"
    if b_status == a_status and (before.eol if before else None) == (after.eol if after else None):
        return None
    ref = after or before
    assert ref is not None  # a key comes from one side at least
    return {
        "host": ref.hostname,
        "site": ref.site,
        "kind": ref.kind,
        "name": ref.name,
        "version": ref.version,
        "product": ref.product,
        "cycle": ref.cycle,
        "old_status": b_status,
        "new_status": a_status,
        "old_eol": before.eol.isoformat() if before and before.eol else None,
        "new_eol": after.eol.isoformat() if after and after.eol else None,
    }


def rejudge(db: str, live: Path, context_for: ContextFor) -> str:
    """Judge every stored inventory with the new dataset into new findings (the old dataset's stay,
    queryable by their version), and again those of it another release or other rules judged
    (``refresh``).  Never fails the update: the note says what happened."""
    path = sqlite_path(db)
    if path is not None and not path.exists():
        return f"no stored estate at {db}"
    try:
        return refresh(db, live, context_for).note()
    except Exception as exc:  # noqa: BLE001 - report, do not fail the update
        return f"stored inventories not re-judged: {type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What ``refresh`` did: inventories judged with the dataset for the first time (``judged``),
    and again because another release or other rules had judged them (``replaced``)."""

    dataset_version: str
    judged_by: str
    judged: int
    replaced: int

    def note(self) -> str:
        text = f"{self.judged} stored inventories judged with {self.dataset_version}"
        if self.replaced:
            text += (
                f"; {self.replaced} judged again (their findings of it were judged by another legacyscan"
                f" release or other rules than {self.judged_by})"
            )
        return text


def refresh(
    db: str, live: Path, context_for: ContextFor, *, progress: Callable[[int, int], None] | None = None
) -> Refreshed:
    """Every stored inventory's findings of the ``live`` dataset made by this release and rules:
    judged where the dataset has not judged it (``Store.judge_pending``), judged again, replacing
    its findings of that dataset, where another release or other rules did
    (``Store.rejudge_stale``; the findings of other datasets stay).  Raises what the store raises."""
    ctx, policy = context_for(Catalog(live))
    judge = Judge(ctx, policy)
    with open_store(db, judge=False) as store:
        judged = store.judge_pending(judge, progress=progress)
        replaced = store.rejudge_stale(judge, progress=progress)
    return Refreshed(judge.dataset_version, judge.judged_by, judged, replaced)
