"""``legacyscan benchmark FILES...``: compare organisations' benchmark files side by side.

Each file is read strictly (``scanner.report.benchmark_file``); a malformed or hostile file is refused
with its name and the field, and nothing is written.  The comparison is rendered by
``reports.benchmark`` in every report format.

Exit codes: 0 written, 1 a file refused (nothing written), 2 usage.
"""

from __future__ import annotations

import argparse
import logging

from scanner.cli.base import CliError, ExitCode, Subparsers
from scanner.report.formats import CHOICES, ReportFormat

log = logging.getLogger(__name__)

MAX_FILES = 500


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "benchmark",
        help="compare trusts' benchmark files side by side, in any report format",
        description="Compare the anonymised benchmark files of several organisations "
        "(`legacyscan export --benchmark`): key figures side by side and every site.",
        epilog="Exit codes: 0 written, 1 a file refused (nothing written), 2 usage. "
        "Format of the files: docs/benchmark.md.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="benchmark files (legacyscan-benchmark/1)")
    p.add_argument("--format", choices=CHOICES, default=ReportFormat.TABLE.value, help="output format (default: table)")
    p.add_argument("--out", metavar="PATH", help="write here instead of stdout (required for xlsx)")
    p.add_argument(
        "--bom",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CSV: start with a UTF-8 byte order mark for Excel (default: on for --out *.csv)",
    )
    p.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="accepted like every command's, but unused: benchmark files are compared, not the database",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reports.benchmark import compare, render
    from scanner.cli.report import with_bom, write_rendered
    from scanner.report.benchmark_file import BenchmarkFileError, load

    if len(args.files) > MAX_FILES:
        raise CliError(f"{len(args.files)} files: at most {MAX_FILES} at once", code=ExitCode.USAGE)
    files = []
    for path in args.files:
        try:
            files.append(load(path))
        except BenchmarkFileError as exc:
            raise CliError(
                str(exc),
                hint="benchmark files are written by `legacyscan export --benchmark` "
                "(format: docs/benchmark.md); ask the sender for a new one",
            ) from exc
    comparison = compare(files)
    for warning in comparison.warnings:
        log.warning("%s", warning)
    rendered = with_bom(render(comparison, ReportFormat(args.format)), args.format, args.out, args.bom)
    write_rendered(rendered, args.out, args.format)
    return int(ExitCode.OK)
