"""CSV: one row per finding worth listing, with the device's priority and action beside it.

One flat table is what people pivot in a spreadsheet.  Every cell is neutralised against formula
injection (``reports.common.neutralise``): a hostile DisplayName such as ``=HYPERLINK(..)`` or
``+cmd|' /C calc'!A0`` is written with a leading apostrophe and never evaluated.  A demo estate
carries a ``data`` column saying so on every row.
"""

from __future__ import annotations

import csv
import io

from reports.common import DEMO_DEFAULT, FINDING_HEADERS, Value, finding_rows, neutralise
from scanner.rank import EstateReport


def _cell(value: Value) -> Value:
    if isinstance(value, str):
        return neutralise(value.replace("\x00", "") if "\x00" in value else value)
    return value


def render(report: EstateReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    demo = report.demo
    headers = (["data"] if demo else []) + FINDING_HEADERS
    writer.writerow(headers)
    prefix = [neutralise(demo or DEMO_DEFAULT)] if demo else []
    writer.writerows(prefix + row for row in finding_rows(report, _cell))
    return buf.getvalue()
