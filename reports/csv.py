"""CSV: one row per finding worth listing, with the device's priority and action beside it.

One flat table is what people pivot in a spreadsheet.  Every cell is neutralised against formula
injection (``reports.common.neutralise``): a hostile DisplayName such as ``=HYPERLINK(..)`` or
``+cmd|' /C calc'!A0`` is written with a leading apostrophe and never evaluated.  A demo estate
carries a ``data`` column saying so on every row; with a site catalogue naming the trust, an
``organisation`` column names it on every row.  ``legacyscan report --out x.csv`` adds a UTF-8 byte
order mark (``--bom``) so Excel decodes "—" and accents correctly.
"""

from __future__ import annotations

import csv
import io
from typing import IO

from reports.common import DEMO_DEFAULT, FINDING_HEADERS, Value, finding_rows, neutralise
from scanner.report.model import EstateReport


def _cell(value: Value) -> Value:
    if isinstance(value, str):
        return neutralise(value.replace("\x00", "") if "\x00" in value else value)
    return value


def render(report: EstateReport) -> str:
    buf = io.StringIO()
    write(report, buf)
    return buf.getvalue()


def write(report: EstateReport, fh: IO[str]) -> None:
    """``render(report)`` written row by row to ``fh``."""
    writer = csv.writer(fh, lineterminator="\r\n")
    demo = report.demo
    org = report.organisation
    headers = (["data"] if demo else []) + (["organisation"] if org else []) + FINDING_HEADERS
    writer.writerow(headers)
    prefix = ([neutralise(demo or DEMO_DEFAULT)] if demo else []) + ([_cell(org)] if org else [])
    writer.writerows(prefix + row for row in finding_rows(report, _cell))
