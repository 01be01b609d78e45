"""Identification rules as data: one TOML file per kind of record.

Why data and not code: a trust (or we, in a point release) can add a product mapping without
touching the matcher, and the rules can be reviewed by someone who does not read Python.  Each
identifier in ``scanner/ident`` reads its own table through ``Rules.table(name)``; a site
catalogue may add entries in front of the bundled ones (``Rules.extend``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent


class RulesError(Exception):
    """A rules file is malformed; the message names the file."""


class Rules:
    def __init__(self, directory: Path = RULES_DIR) -> None:
        self.directory = Path(directory)
        self._tables: dict[str, dict[str, Any]] = {}
        self._extra: dict[str, list[dict[str, Any]]] = {}

    def table(self, name: str) -> dict[str, Any]:
        """The parsed ``<name>.toml`` (cached).  Missing file -> empty table."""
        tab = self._tables.get(name)
        if tab is None:
            path = self.directory / f"{name}.toml"
            try:
                with open(path, "rb") as fh:
                    tab = tomllib.load(fh)
            except FileNotFoundError:
                tab = {}
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise RulesError(f"{path}: {exc}") from exc
            self._tables[name] = tab
        return tab

    def extend(self, name: str, entries: list[dict[str, Any]]) -> None:
        """Add site rules for ``name``; they are consulted before the bundled ones."""
        self._extra.setdefault(name, []).extend(entries)

    def extra(self, name: str) -> list[dict[str, Any]]:
        return self._extra.get(name, [])


def load_rules() -> Rules:
    return Rules()
