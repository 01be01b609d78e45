"""A Windows 11 LTSC name without a year: Windows 11 has had one long-term release only (LTSC 2024,
24H2), so "Windows 11 IoT Enterprise LTSC" names it.  Why: issue titles and agents often drop the year
(valinet/ExplorerPatcher #3500, round-5 labelled strings); the answer was "release unknown" although
no other Windows 11 LTSC exists.  Windows 10 had four LTSB/LTSC releases: its bare "LTSC" stays
unknown, and an LTSC year the tables do not know is never taken for 2024."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


def _answer(caption: str) -> tuple[str | None, str | None, str]:
    record = {"kind": "os", "family": "windows", "caption": caption}
    out = evaluate(record, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    return out["product"], out["cycle"], out["status"]


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("Windows 11 IoT Enterprise LTSC not compatible", ("windows", "11-24h2-iot-lts", "supported")),
        ("Microsoft Windows 11 Enterprise LTSC", ("windows", "11-24h2-e-lts", "supported")),
        ("Microsoft Windows 11 IoT Enterprise LTSC 2024", ("windows", "11-24h2-iot-lts", "supported")),
        # not shortcuts: Windows 10 had four long-term releases; an unknown year is not 2024
        ("Microsoft Windows 10 Enterprise LTSC", ("windows", None, "unknown")),
        ("Microsoft Windows 11 Enterprise LTSC 2027", ("windows", None, "unknown")),
        ("Microsoft Windows 11 Pro", ("windows", None, "unknown")),
    ],
)
def test_windows11_ltsc_name_without_year(caption: str, expected: tuple[str | None, str | None, str]) -> None:
    assert _answer(caption) == expected
