"""Issue 14, audit pass: the gaps measured on main's 2,000-device demo, each pinned by a test.

* the workbook's print header names the trust (and the report date) on every sheet, and its end
  of support and coverage timestamps are date cells, not text;
* the HTML's printed pages carry the trust's name in a running header (CSS page-margin boxes, its
  style hash-pinned by the CSP like the main style, the name escaped so it cannot end the style);
* the CSV's "release" column names releases as people say them (no "10 1809 (E)");
* the text report's 8.2.1 register says an extended item's phase and end;
* Windows LTSC/LTSB and Windows Server releases named as Microsoft names them.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

import reports.csv
import reports.html
import reports.table
import reports.xlsx
from scanner.plan.actions import product_release_name
from scanner.report.model import EstateReport
from tests.unit import report_estate as est

ROOT = Path(__file__).resolve().parents[2]
TRUST = "St Elsewhere NHS Foundation Trust (example)"


@pytest.fixture(scope="module")
def named() -> EstateReport:
    return est.report(site_catalog=(ROOT / "examples" / "legacyscan-site.toml").read_text(encoding="utf-8"))


# -- XLSX ----------------------------------------------------------------------------------------------


def test_every_printed_sheet_is_headed_by_the_trust_and_the_date(named: EstateReport) -> None:
    wb = load_workbook(io.BytesIO(reports.xlsx.render(named)))
    assert len(wb.worksheets) >= 10
    for ws in wb.worksheets:
        assert ws.oddHeader.left.text == TRUST, ws.title
        assert ws.oddHeader.center.text == ws.title.replace("&", "&&")
        assert ws.oddHeader.right.text == f"as of {named.as_of.isoformat()}"
        assert ws.oddFooter.center.text == "&P / &N"
        assert ws.print_title_rows, ws.title  # the column headers repeat on every printed page


def test_an_ampersand_in_the_trust_name_is_not_a_header_code() -> None:
    rep = est.report(site_catalog='[site]\nname = "Barts & The London"\n')
    wb = load_workbook(io.BytesIO(reports.xlsx.render(rep)))
    assert wb["Products"].oddHeader.left.text == "Barts && The London"  # "&T" would print the time


def test_end_dates_and_scan_times_are_date_cells(named: EstateReport) -> None:
    wb = load_workbook(io.BytesIO(reports.xlsx.render(named)))
    for sheet in ("Products", "Evidence 8.2.1"):
        rows = list(wb[sheet].iter_rows(min_row=2))
        col = [c.value for c in rows[0]].index("end of support")
        cells = [r[col] for r in rows[1:] if r[col].value not in (None, "")]
        dated = [c for c in cells if isinstance(c.value, datetime)]
        assert dated and all(c.number_format == "yyyy-mm-dd" for c in dated), sheet
        # text only where the cell says more than a date: an extended phase and its end
        assert all(("until" in c.value) for c in cells if isinstance(c.value, str)), sheet
    rows = list(wb["Coverage"].iter_rows(min_row=2))
    header = [c.value for c in rows[0]]
    assert header[4:] == ["last attempt (UTC)", "last ok (UTC)"]
    attempts = [r[4] for r in rows[1:]]
    assert attempts and all(isinstance(c.value, datetime) and c.number_format == "yyyy-mm-dd hh:mm" for c in attempts)
    assert all(isinstance(r[5].value, datetime) or r[5].value == "never" for r in rows[1:])


# -- HTML print header ------------------------------------------------------------------------------


def _styles(page: str) -> list[str]:
    return re.findall(r"<style>(.*?)</style>", page, flags=re.S)


def test_printed_pages_carry_the_trust_and_the_csp_pins_that_style(named: EstateReport) -> None:
    page = reports.html.render(named)
    styles = _styles(page)
    assert len(styles) == 1 and "@page{@top-left{content:" in styles[0]
    csp = re.search(r'Content-Security-Policy" content="([^"]*)"', page)
    assert csp is not None
    for css in styles:  # the style element runs because the policy names its hash
        digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in csp.group(1)
    # the CSS string decodes to the trust's name
    literal = re.search(r'@top-left\{content:("(?:[^"\\]|\\.)*")', styles[0])
    assert literal is not None
    decoded = re.sub(r"\\([0-9a-f]{6}) ", lambda m: chr(int(m.group(1), 16)), literal.group(1)[1:-1])
    assert decoded == TRUST
    assert 'counter(page) " of " counter(pages)' in styles[0]


@pytest.mark.parametrize(
    "hostile",
    ['A "quoted" trust', "Trust</style><script>alert(1)</script>", "Line\nbreak \\ backslash", "Trust \u202e reversed"],
)
def test_the_trust_name_cannot_leave_its_css_string(hostile: str) -> None:
    text = reports.html._css_string(hostile)
    inner = text[1:-1]
    assert text[0] == text[-1] == '"' and '"' not in inner and "<" not in inner and "\n" not in inner
    assert re.sub(r"\\([0-9a-f]{6}) ", lambda m: chr(int(m.group(1), 16)), inner) == hostile


# -- CSV -----------------------------------------------------------------------------------------------


def test_csv_release_column_names_releases_as_people_say_them(named: EstateReport) -> None:
    rows = list(csv.DictReader(io.StringIO(reports.csv.render(named).lstrip("\ufeff"))))
    releases = {r["release"] for r in rows if r["release"]}
    assert releases
    for name in releases:
        assert not re.search(r"\((E|W)\)", name), name
    # the product is part of the name, as in every other format
    windows = {r["release"] for r in rows if r["product"] == "windows"}
    assert windows and all(n.startswith("Microsoft Windows ") for n in windows), windows


# -- text ------------------------------------------------------------------------------------------------


def test_text_register_names_an_extended_items_phase_and_end(named: EstateReport) -> None:
    text = reports.table.render(named)
    register = text.split("== Evidence")[1]
    line = next(ln for ln in register.splitlines() if "Debian 12 (Bookworm)" in ln)
    assert "extended (Debian LTS (free))" in line and "2028-06-30" in line
    eol_line = next(ln for ln in register.splitlines() if "Windows 7" in ln or "Windows XP" in ln)
    assert " eol " in eol_line


def test_text_coverage_section_lists_the_targets_not_reached() -> None:
    rep = est.report()
    text = reports.table.render(rep)
    section = text.split("== Coverage")[1].split("\n== ")[0]
    missing = [st for s in rep.sites for st in s.not_reached]
    assert missing
    for st in missing:
        assert st.target in section and st.status in section


# -- labels -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "label", "want"),
    [
        ("Microsoft Windows", "11 24H2 (E) (LTS)", "Microsoft Windows 11 Enterprise LTSC 2024"),
        ("Microsoft Windows", "10 21H2 (E) (LTS)", "Microsoft Windows 10 Enterprise LTSC 2021"),
        ("Microsoft Windows", "10 1809 (E) (LTS)", "Microsoft Windows 10 Enterprise LTSC 2019"),
        ("Microsoft Windows", "10 1607 (E) (LTS)", "Microsoft Windows 10 Enterprise LTSB 2016"),
        ("Microsoft Windows", "10 1507 (E) (LTS)", "Microsoft Windows 10 Enterprise LTSB 2015"),
        ("Microsoft Windows", "11 24H2 IoT (LTS)", "Microsoft Windows 11 IoT Enterprise LTSC 2024"),
        ("Microsoft Windows", "10 21H2 IoT (LTS)", "Microsoft Windows 10 IoT Enterprise LTSC 2021"),
        ("Microsoft Windows", "11 24H2 (E)", "Microsoft Windows 11 24H2 (Enterprise/Education)"),
        ("Microsoft Windows Server", "Windows Server 2003 SP2 (LTSC)", "Microsoft Windows Server 2003 SP2"),
        ("Microsoft Windows Server", "Windows Server 2012 R2 (LTSC)", "Microsoft Windows Server 2012 R2"),
        ("Microsoft Windows Server", "Windows Server 2016 (LTSC)", "Microsoft Windows Server 2016 (LTSC)"),
        ("Microsoft Windows Server", "Windows Server 1809 SAC", "Microsoft Windows Server 1809 (Semi-Annual Channel)"),
        ("Microsoft Windows Server", "Windows Server 23H2 AC", "Microsoft Windows Server 23H2 (Annual Channel)"),
    ],
)
def test_windows_servicing_channels_named_as_microsoft_names_them(product: str, label: str, want: str) -> None:
    assert product_release_name(product, label) == want
