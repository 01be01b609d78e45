"""Identification rules as data: one TOML file per kind of record.

Why data and not code: a trust (or we, in a point release) can add a product mapping without
touching the matcher, and the rules can be reviewed by someone who does not read Python.  Each
identifier in ``scanner/identify`` reads its own table through ``Rules.table(name)``; a site
catalogue may add entries in front of the bundled ones (``Rules.extend``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from eol_data.rules.schema import problems
from eol_data.toml_lines import KeyPath, fmt_path, line_index

RULES_DIR = Path(__file__).resolve().parent
T = TypeVar("T")
_MISSING = object()


class RulesError(Exception):
    """A rules file is malformed; the message names the file."""


class Rules:
    def __init__(self, directory: Path = RULES_DIR) -> None:
        self.directory = Path(directory)
        self._tables: dict[str, dict[str, Any]] = {}
        self._extra: dict[str, list[dict[str, Any]]] = {}
        self._derived: dict[str, Any] = {}

    def derived(self, key: str, build: Callable[[Rules], T]) -> T:
        """What ``build`` makes of these rules (compiled patterns, lookup tables), made once and kept
        *with* this object: it lives and dies with the rules it was made from, so it can never be
        handed to another Rules object (a cache keyed by ``id(rules)`` can, once the first object is
        freed and its id reused).  Site rules added by ``extend`` drop what was made before."""
        hit = self._derived.get(key, _MISSING)
        if hit is _MISSING:
            hit = build(self)
            self._derived[key] = hit
        return cast(T, hit)

    def table(self, name: str) -> dict[str, Any]:
        """The parsed ``<name>.toml`` (cached), checked against its schema when it loads
        (``eol_data.rules.schema``): a bad rule names its file and line.  Missing file -> empty table."""
        tab = self._tables.get(name)
        if tab is None:
            tab = _load(self.directory / f"{name}.toml", name)
            self._tables[name] = tab
        return tab

    def extend(self, name: str, entries: list[dict[str, Any]]) -> None:
        """Add site rules for ``name``; they are consulted before the bundled ones."""
        self._extra.setdefault(name, []).extend(entries)
        self._derived.clear()

    def extra(self, name: str) -> list[dict[str, Any]]:
        return self._extra.get(name, [])


def _load(path: Path, name: str) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: {exc}") from exc
    try:
        tab = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: {exc}") from exc
    found = problems(name, tab)
    if found:
        raise RulesError(_message(path, text, tab, found))
    return tab


def _message(path: Path, text: str, tab: dict[str, Any], found: list[tuple[KeyPath, str]]) -> str:
    """``file:line: key.path: problem`` for the first problem, with the rule's id where it has one
    (and how many more problems there are)."""
    lines = line_index(text)
    key, problem = found[0]
    probe, line = key, 0
    while probe and not line:
        line = lines.get(probe, 0)
        probe = probe[:-1]
    where = f"{path}:{line}" if line else str(path)
    rule_id = _entry_id(tab, key)
    named = f" (rule {rule_id!r})" if rule_id else ""
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"{where}: {fmt_path(key)}: {problem}{named}{more}"


def _entry_id(tab: dict[str, Any], key: KeyPath) -> str:
    """The ``id`` of the array entry a key path points into (else its ``name``, for entries named
    by what they stand for, like a family), if it has one."""
    if len(key) < 2 or not isinstance(key[1], int):
        return ""
    entries = tab.get(str(key[0]))
    entry = entries[key[1]] if isinstance(entries, list) and key[1] < len(entries) else None
    if not isinstance(entry, dict):
        return ""
    named = entry.get("id") or entry.get("name")
    return named if isinstance(named, str) else ""


def load_rules() -> Rules:
    return Rules()
