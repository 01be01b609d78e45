"""What every command module shares: exit codes, the user-facing error, common options, the clock.

Under ``scanner.cli`` (which re-exports these names) and every command module, so the command
modules never import the package that lists them.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from enum import IntEnum

from scanner.store import DEFAULT_URL


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # something failed; the message says what and how to fix it
    USAGE = 2  # bad command line
    FINDINGS = 3  # findings at or above --fail-on


class CliError(Exception):
    """A user-facing error: printed as ``legacyscan: error: <message>`` plus an optional hint."""

    def __init__(self, message: str, hint: str = "", code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.hint = hint
        self.code = code


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def default_db() -> str:
    return os.environ.get("LEGACYSCAN_DB", DEFAULT_URL)


DB_HELP = "database URL: sqlite:///PATH (default: sqlite:///legacyscan.db; env LEGACYSCAN_DB) or postgresql://…"


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every command takes.  ``--db`` is also accepted before the command
    (``legacyscan --db URL report``): here it has no default of its own, so a value given before the
    command is kept, and the top-level parser fills in the default when neither gave one."""
    parser.add_argument("--db", default=argparse.SUPPRESS, metavar="URL", help=DB_HELP)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")


def today() -> date:
    """The one place the CLI reads the clock: the default for --as-of.  Logic never does."""
    return date.today()
