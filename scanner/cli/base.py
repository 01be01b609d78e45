"""What every command module shares: exit codes, the user-facing error, common options, the clock.

Under ``scanner.cli`` (which re-exports these names) and every command module, so the command
modules never import the package that lists them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from enum import IntEnum
from typing import NoReturn, TypeAlias

from scanner.store.sqlite import DEFAULT_URL


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


# --as-of dates a report can be judged on: the plan's quarters and years, the look-ahead and the
# retention period are counted from it, and year 1 or 9999 would overflow ``date`` there.
EARLIEST_AS_OF = date(1900, 1, 1)
LATEST_AS_OF = date(9000, 12, 31)


def parse_date(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc
    if not EARLIEST_AS_OF <= day <= LATEST_AS_OF:
        raise argparse.ArgumentTypeError(f"{value} is outside {EARLIEST_AS_OF}..{LATEST_AS_OF}")
    return day


MAX_SECONDS = 86_400.0  # a day: longer than any per-command or connect timeout can mean
MIN_RATE, MAX_RATE = 0.001, 1_000_000.0  # --site-rate: one connection in 1,000 s .. no real limit


def parse_seconds(value: str) -> float:
    """A timeout option: a finite number of seconds above 0 (NaN, infinity, 0 and negative values
    failed every host later, one by one, as "ValueError: Invalid value NaN")."""
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value[:40]!r}") from exc
    if not 0 < number <= MAX_SECONDS:  # False for NaN too
        raise argparse.ArgumentTypeError(f"{value[:40]} is not between 0 and {MAX_SECONDS:.0f} seconds")
    return number


def parse_rate(value: str) -> float:
    """``--site-rate``: new connections per second, finite and above 0 (1e-300 overflowed the
    scheduler's clock)."""
    try:
        number = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {value[:40]!r}") from exc
    if not MIN_RATE <= number <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"{value[:40]} is not between {MIN_RATE} and {MAX_RATE:.0f} per second")
    return number


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


class Parser(argparse.ArgumentParser):
    """argparse with "did you mean" for a misspelt option or command, and the ``--db`` default."""

    fills_db = False

    def parse_known_args(  # type: ignore[override]  # one signature for argparse's three overloads
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.fills_db:
            self._argv = list(sys.argv[1:] if args is None else args)
        ns, rest = super().parse_known_args(args, namespace)
        if self.fills_db and getattr(ns, "db", None) is None:
            ns.db = default_db()
        return ns, rest

    def _command(self) -> Parser:
        """The (sub-)parser of the command the command line names (``eol info``: eol's info), for
        an error about an option that command does not take."""
        parser, skip = self, False
        for word in getattr(self, "_argv", []):
            if skip or word.startswith("-"):
                skip = word == "--db"
                continue
            subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            chosen = subs[0].choices.get(word) if subs else None
            if not isinstance(chosen, Parser):
                break
            parser = chosen
        return parser

    def _option_strings(self) -> list[str]:
        out = [o for a in self._actions for o in a.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    if isinstance(sub, Parser):
                        out += sub._option_strings()
        return out

    def error(self, message: str) -> NoReturn:
        import difflib

        hint = ""
        usage: argparse.ArgumentParser = self
        if message.startswith("unrecognized arguments: "):
            usage = self._command()
            words = [w.split("=", 1)[0] for w in message.split(": ", 1)[1].split() if w.startswith("-")]
            hint = "; ".join(filter(None, (self._option_hint(w, usage) for w in words)))
        elif "invalid choice: " in message:
            bad = message.split("invalid choice: ", 1)[1].split(" ", 1)[0].strip("'\"")
            choices = [c for a in self._actions if a.choices for c in a.choices]
            m = difflib.get_close_matches(bad, [str(c) for c in choices], n=1, cutoff=0.5)
            hint = f"did you mean {m[0]!r}?" if m else ""
        usage.print_usage(sys.stderr)
        text = f"{self.prog}: error: {message}\n" + (f"hint: {hint}\n" if hint else "")
        self.exit(2, text)

    def _option_hint(self, word: str, command: Parser) -> str:
        """The hint for an option ``command`` does not take: one that exists, only not here, is
        said to be another command's (never "--as-of: did you mean --as-of?"); otherwise "did you
        mean" among the command's own options, then among every command's."""
        import difflib

        if word in self._option_strings() and command is not self:
            return f"{word} is not an option of `{command.prog}` (see `{command.prog} --help`)"
        own = sorted(set(command._option_strings()) - {word})
        near = difflib.get_close_matches(word, own, n=1, cutoff=0.6)
        if near:
            return f"{word}: did you mean {near[0]}?"
        near = difflib.get_close_matches(word, sorted(set(self._option_strings()) - {word}), n=1, cutoff=0.6)
        return f"{word}: did you mean {near[0]}?" if near else ""


# What every command module's ``add_parser`` is given: the top-level parser's sub-parsers.
# (A string: argparse's class is generic only to the type checker.)
Subparsers: TypeAlias = "argparse._SubParsersAction[Parser]"
