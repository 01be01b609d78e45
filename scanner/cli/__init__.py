"""legacyscan command line: the composition root, the only place that wires everything.

Each command lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``;
``COMMANDS`` is the explicit registry.  Results go to stdout (or ``--out``), logs to stderr, so
``legacyscan report --format json | jq`` works.  Exit codes are documented in ``ExitCode``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from scanner.cli.base import (  # noqa: F401 - re-exported: the names every command uses
    DB_HELP,
    CliError,
    ExitCode,
    Parser,
    Subparsers,
    add_common,
    default_db,
    parse_date,
    today,
)

# The registry: (command, loader of its ``add_parser``, one-line help), in the order --help lists
# them.  Only the module of the command being run is imported, so `legacyscan scan --local` does not
# pay for the web server, the HTTP client or the report renderers of other commands; the imports are
# written out (not module-name strings) so mypy and a reader follow every edge.
AddParser = Callable[[Subparsers], None]


def _scan() -> AddParser:
    from scanner.cli import scan

    return scan.add_parser


def _discover() -> AddParser:
    from scanner.cli import discover

    return discover.add_parser


def _import() -> AddParser:
    from scanner.cli import importcmd

    return importcmd.add_parser


def _report() -> AddParser:
    from scanner.cli import report

    return report.add_parser


def _eol() -> AddParser:
    from scanner.cli import eol

    return eol.add_parser


def _serve() -> AddParser:
    from scanner.cli import serve

    return serve.add_parser


def _tokens() -> AddParser:
    from scanner.cli import tokens

    return tokens.add_parser


def _prune() -> AddParser:
    from scanner.cli import prune

    return prune.add_parser


def _export() -> AddParser:
    from scanner.cli import export

    return export.add_parser


def _db() -> AddParser:
    from scanner.cli import db

    return db.add_parser


def _benchmark() -> AddParser:
    from scanner.cli import benchmark

    return benchmark.add_parser


def _capture() -> AddParser:
    from scanner.cli import capture

    return capture.add_parser


def _demo() -> AddParser:
    from scanner.cli import demo

    return demo.add_parser


COMMANDS: list[tuple[str, Callable[[], AddParser], str]] = [
    ("scan", _scan, "scan this machine (--local) or a list of targets (--targets)"),
    ("discover", _discover, "identify devices without credentials (ssh, smb, snmp, http(s), rdp)"),
    ("import", _import, "import inventory JSON files from agents / file drops"),
    ("report", _report, "report support status per site from stored inventories"),
    ("eol", _eol, "the end-of-life dataset: identify, info, show, update"),
    ("serve", _serve, "run the collector service agents upload inventories to"),
    ("tokens", _tokens, "manage per-site enrolment tokens for agents"),
    ("prune", _prune, "delete inventories and findings older than the retention period"),
    ("export", _export, "write an anonymised benchmark file of comparable KPIs per site"),
    ("db", _db, "the SQL views for BI tools and their read-only database role"),
    ("benchmark", _benchmark, "compare trusts' benchmark files side by side, in any report format"),
    ("demo", _demo, "build a labelled demo hospital estate and write every report format"),
    ("capture", _capture, "record a host's raw evidence (its answers to the probe table) as a test fixture"),
]


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
    for name, loader, help_text in COMMANDS:
        if selected is not None and name != selected:
            sub.add_parser(name, help=help_text, add_help=False)  # listed in --help, never run
            continue
        try:
            add_parser = loader()
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("scanner.cli."):
                raise
            continue  # command not part of this build (e.g. the agent-only zipapp)
        add_parser(sub)
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
    level = (
        logging.ERROR
        if getattr(args, "quiet", False)
        else logging.DEBUG
        if getattr(args, "verbose", 0) > 1
        else logging.INFO
        if getattr(args, "verbose", 0) == 1
        else logging.WARNING
    )
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
        from scanner.store.sqlite import StoreError

        if isinstance(exc, StoreError):
            print(f"legacyscan: error: {_printable(exc)}", file=sys.stderr)
            print(
                "hint: check --db (or LEGACYSCAN_DB); the default is sqlite:///legacyscan.db in this folder",
                file=sys.stderr,
            )
            return int(ExitCode.ERROR)
        if getattr(args, "verbose", 0) > 1:
            raise
        print(f"legacyscan: error: {type(exc).__name__}: {_printable(exc)}", file=sys.stderr)
        print("hint: run again with -vv for the full traceback", file=sys.stderr)
        return int(ExitCode.ERROR)


def console() -> NoReturn:
    """The ``legacyscan`` program (console script and ``python -m scanner.cli``)."""
    exit_fast(main())


def exit_fast(code: int) -> NoReturn:
    """Leave the process with ``code`` as ``sys.exit(code)`` would, minus the interpreter's teardown.

    What an exit does that anyone can see still happens: non-daemon threads are waited for (while
    one is alive, the ordinary exit runs instead), ``atexit`` handlers run (logging's flush,
    temporary-directory finalisers, multiprocessing's clean-up, coverage) and stdout/stderr are
    flushed.  What is skipped is freeing every object of the run one by one: after a fleet scan the
    catalogue, the memos and every package record, 40-60 ms of a 50-host scan's ~1.8 s.  Every
    file the commands write is closed before they return (``scanner.files``)."""
    import atexit
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    try:
        atexit._run_exitfuncs()  # runs each handler once and clears them
        for stream in (sys.stdout, sys.stderr):
            if stream is not None and not stream.closed:
                stream.flush()
    except BaseException:  # noqa: BLE001 - a handler or a flush failed: the ordinary exit reports it
        sys.exit(code)
    os._exit(code)


def _printable(text: object) -> str:
    from scanner.terminal import printable

    return printable(text, keep_newlines=True)


if __name__ == "__main__":  # pragma: no cover
    console()
