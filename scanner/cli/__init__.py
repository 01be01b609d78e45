"""legacyscan command line: the composition root, the only place that wires everything.

Each command lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``;
``COMMANDS`` is the explicit registry.  Results go to stdout (or ``--out``), logs to stderr, so
``legacyscan report --format json | jq`` works.  Exit codes are documented in ``ExitCode``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from enum import IntEnum
from typing import NoReturn

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


# The registry: (command, module, one-line help), in the order --help lists them.  Only the module
# of the command being run is imported, so `legacyscan scan --local` does not pay for the web
# server, the HTTP client or the report renderers of other commands.
COMMANDS: list[tuple[str, str, str]] = [
    ("scan", "scanner.cli.scan", "scan this machine (--local) or a list of targets (--targets)"),
    ("discover", "scanner.cli.discover", "identify devices without credentials (ssh, smb, snmp, http(s), rdp)"),
    ("import", "scanner.cli.importcmd", "import inventory JSON files from agents / file drops"),
    ("report", "scanner.cli.report", "report support status per site from stored inventories"),
    ("eol", "scanner.cli.eol", "the end-of-life dataset: identify, info, show, update"),
    ("serve", "scanner.cli.serve", "run the collector service agents upload inventories to"),
    ("tokens", "scanner.cli.tokens", "manage per-site enrolment tokens for agents"),
    ("prune", "scanner.cli.prune", "delete inventories and findings older than the retention period"),
    ("export", "scanner.cli.export", "write an anonymised benchmark file of comparable KPIs per site"),
    ("db", "scanner.cli.db", "the SQL views for BI tools and their read-only database role"),
    ("benchmark", "scanner.cli.benchmark", "compare trusts' benchmark files side by side, in any report format"),
    ("demo", "scanner.cli.demo", "build a labelled demo hospital estate and write every report format"),
]


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


class Parser(argparse.ArgumentParser):
    """argparse with "did you mean" for a misspelt option or command, and the ``--db`` default."""

    fills_db = False

    def parse_known_args(self, args=None, namespace=None):
        ns, rest = super().parse_known_args(args, namespace)
        if self.fills_db and getattr(ns, "db", None) is None:
            ns.db = default_db()
        return ns, rest

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
        if message.startswith("unrecognized arguments: "):
            words = [w.split("=", 1)[0] for w in message.split(": ", 1)[1].split() if w.startswith("-")]
            options = sorted(set(self._option_strings()))
            near = [(w, difflib.get_close_matches(w, options, n=1, cutoff=0.6)) for w in words]
            hint = "; ".join(f"{w}: did you mean {m[0]}?" for w, m in near if m)
        elif "invalid choice: " in message:
            bad = message.split("invalid choice: ", 1)[1].split(" ", 1)[0].strip("'\"")
            choices = [c for a in self._actions if a.choices for c in a.choices]
            m = difflib.get_close_matches(bad, [str(c) for c in choices], n=1, cutoff=0.5)
            hint = f"did you mean {m[0]!r}?" if m else ""
        self.print_usage(sys.stderr)
        text = f"{self.prog}: error: {message}\n" + (f"hint: {hint}\n" if hint else "")
        self.exit(2, text)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the command named in it gets its full sub-parser."""
    from scanner import __version__

    parser = Parser(
        prog="legacyscan",
        description="Find unsupported (end-of-life) operating systems and software across an estate and "
                    "plan their replacement per site.",
        epilog="Exit codes: 0 ok, 1 error, 2 usage, 3 findings at or above --fail-on. "
               "Start with: legacyscan scan --local",
    )
    parser.fills_db = True
    parser.add_argument("--version", action="version", version=f"legacyscan {__version__}")
    parser.add_argument("--db", default=None, metavar="URL", help=DB_HELP + " (before or after the command)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    selected = _selected_command(argv)
    for name, module_name, help_text in COMMANDS:
        if selected is not None and name != selected:
            sub.add_parser(name, help=help_text, add_help=False)  # listed in --help, never run
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # command not part of this build (e.g. the agent-only zipapp)
        module.add_parser(sub)
    return parser


def _selected_command(argv: Sequence[str] | None) -> str | None:
    """The command the user named (first non-option word); None (no argv) loads them all; "" when
    argv names none (top-level --help, a typo): every command is then only listed."""
    if argv is None:
        return None
    skip = False
    for word in argv:
        if skip:  # the value of a top-level option (--db URL)
            skip = False
            continue
        if word == "--db":
            skip = True
            continue
        if not word.startswith("-"):
            return word
    return ""


def setup_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if getattr(args, "quiet", False) else \
        logging.DEBUG if getattr(args, "verbose", 0) > 1 else \
        logging.INFO if getattr(args, "verbose", 0) == 1 else logging.WARNING
    logging.basicConfig(level=level, format="legacyscan: %(levelname)s: %(message)s", stream=sys.stderr)
    from scanner.terminal import install_safe_logging

    install_safe_logging()  # escape sequences from hosts/files never reach the terminal


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    setup_logging(args)
    try:
        return int(args.func(args))
    except CliError as exc:
        from scanner.terminal import printable

        print(f"legacyscan: error: {printable(exc, keep_newlines=True)}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {printable(exc.hint, keep_newlines=True)}", file=sys.stderr)
        return int(exc.code)
    except KeyboardInterrupt:
        print("legacyscan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `legacyscan report | head`: the reader went away; not an error worth a traceback.
        sys.stderr.close()
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - last-resort friendly error; details with -vv
        from scanner.store import StoreError

        if isinstance(exc, StoreError):
            print(f"legacyscan: error: {_printable(exc)}", file=sys.stderr)
            print("hint: check --db (or LEGACYSCAN_DB); the default is sqlite:///legacyscan.db in this folder",
                  file=sys.stderr)
            return int(ExitCode.ERROR)
        if getattr(args, "verbose", 0) > 1:
            raise
        print(f"legacyscan: error: {type(exc).__name__}: {_printable(exc)}", file=sys.stderr)
        print("hint: run again with -vv for the full traceback", file=sys.stderr)
        return int(ExitCode.ERROR)


def _printable(text: object) -> str:
    from scanner.terminal import printable

    return printable(text, keep_newlines=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
