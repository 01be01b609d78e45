"""The report formats: one enum, matched exhaustively wherever a format decides something.

``legacyscan report``, ``scan``, ``discover``, ``demo`` and ``benchmark`` write the same five
formats; their ``--format`` choices are this enum's values, in this order.  Which renderer in
``reports`` draws a format is decided in the composition root (``scanner.cli.report``) and in
``reports.benchmark``, each by a ``match`` ending in ``assert_never``: a format added here and
forgotten there is a mypy error, not a ``KeyError`` at run time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"
    HTML = "html"

    @property
    def binary(self) -> bool:
        """Written as bytes to a file (never to a terminal)."""
        match self:
            case ReportFormat.XLSX:
                return True
            case ReportFormat.TABLE | ReportFormat.CSV | ReportFormat.JSON | ReportFormat.HTML:
                return False
            case _:
                assert_never(self)

    @property
    def extension(self) -> str:
        """The file name extension of a written report (``report.txt`` for the table)."""
        match self:
            case ReportFormat.TABLE:
                return "txt"
            case ReportFormat.CSV | ReportFormat.JSON | ReportFormat.XLSX | ReportFormat.HTML:
                return self.value
            case _:
                assert_never(self)


CHOICES: tuple[str, ...] = tuple(f.value for f in ReportFormat)  # argparse's --format choices, in order
