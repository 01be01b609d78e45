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
    ("demo", "scanner.cli.demo", "build a labelled demo hospital estate and write every report format"),
]


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every command takes."""
    parser.add_argument("--db", default=os.environ.get("LEGACYSCAN_DB", DEFAULT_URL), metavar="URL",
                        help="database URL: sqlite:///PATH (default: %(default)s; env LEGACYSCAN_DB) "
                             "or postgresql://…")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")


def today() -> date:
    """The one place the CLI reads the clock: the default for --as-of.  Logic never does."""
    return date.today()


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the command named in it gets its full sub-parser."""
    from scanner import __version__

    parser = argparse.ArgumentParser(
        prog="legacyscan",
        description="Find unsupported (end-of-life) operating systems and software across an estate and "
                    "plan their replacement per site.",
        epilog="Exit codes: 0 ok, 1 error, 2 usage, 3 findings at or above --fail-on. "
               "Start with: legacyscan scan --local",
    )
    parser.add_argument("--version", action="version", version=f"legacyscan {__version__}")
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
    for word in argv:
        if not word.startswith("-"):
            return word
    return ""


def setup_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if getattr(args, "quiet", False) else \
        logging.DEBUG if getattr(args, "verbose", 0) > 1 else \
        logging.INFO if getattr(args, "verbose", 0) == 1 else logging.WARNING
    logging.basicConfig(level=level, format="legacyscan: %(levelname)s: %(message)s", stream=sys.stderr)
    from scanner.terminal import SafeFormatter

    for handler in logging.getLogger().handlers:  # escape sequences from hosts/files never reach the terminal
        if type(handler) is logging.StreamHandler and handler.formatter is not None:
            handler.setFormatter(SafeFormatter(handler.formatter._fmt))


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
