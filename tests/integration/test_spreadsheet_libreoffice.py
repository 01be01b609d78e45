"""#19 items 21-22: CSV and XLSX reports checked by a REAL spreadsheet application.

LibreOffice Calc (headless, ``libreoffice-calc-nogui``) opens the reports and saves them as flat
ODS (XML), in which a formula is a ``table:formula`` attribute: so we see exactly what the
application made of every cell and every sheet name.  The CSV is imported the way a careful
operator might: "Trim spaces" and "Evaluate formulas" on -- with the former neutralisation a
DisplayName of `` =1+1`` became a live formula there.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import reports.csv
import reports.xlsx
from scanner.report.model import EstateReport
from tests.conftest import require_or_skip
from tests.unit import test_reports_hostile

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# Leading blanks a spreadsheet may trim, before characters it may take for a formula.
SNEAKY = [
    " =1+1",
    "  =SUM(1;2)",
    "\u00a0=1+2",
    "\u3000=1+3",
    "\u200b=1+4",
    "\ufeff=1+5",
    " \t=1+6",
    "\n=1+7",
    "\r\n=1+8",
    " +1+9",
    " -1+10",
    " @SUM(1;11)",
    "\uff1d1+12",
]
# Site names that make sheet names: a newline, other controls, reserved characters, apostrophes.
SITES = ["Ward\n7", "Ward\r\n8\t", "'quoted'", "A:B/C?D*[E]", "x" * 40, "bidi\u202eevil", "History"]
# LibreOffice's CSV filter options: comma, double quote, UTF-8, from line 1, default column formats,
# language 0, quoted field as text off, detect special numbers on, (export-only x2), trim spaces on,
# (export sheets), evaluate formulas on.
CSV_IMPORT = "44,34,76,1,,0,false,true,false,false,true,,true"


def _soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    require_or_skip("LibreOffice (apt-get install libreoffice-calc-nogui) is not installed")
    raise AssertionError  # unreachable


@pytest.fixture(scope="module")
def lo_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="legacyscan-lo-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _to_fods(src: Path, home: Path, infilter: str | None = None) -> str:
    args = [_soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{home}"]
    if infilter:
        args.append(f"--infilter={infilter}")
    args += ["--convert-to", "fods", "--outdir", str(src.parent), str(src)]
    subprocess.run(args, check=True, capture_output=True, timeout=240, env={**os.environ, "HOME": str(home)})
    out = src.with_suffix(".fods")
    assert out.is_file(), f"LibreOffice did not convert {src.name}"
    return out.read_text("utf-8")


@pytest.fixture(scope="module")
def report() -> EstateReport:
    mp = pytest.MonkeyPatch()
    mp.setattr(test_reports_hostile, "HOSTILE", test_reports_hostile.HOSTILE + SNEAKY + SITES)
    try:
        return test_reports_hostile._estate()
    finally:
        mp.undo()


def _formulas(fods: str) -> list[str]:
    return re.findall(r'table:formula="([^"]*)"', fods)


def test_csv_report_creates_no_formula_in_libreoffice(report: EstateReport, lo_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(reports.csv.render(report), "utf-8", newline="")
    fods = _to_fods(path, lo_home, f"CSV:{CSV_IMPORT}")
    assert "1+1" in fods and "SUM(1;2)" in fods  # the hostile cells are there, as text
    assert _formulas(fods) == []


def test_csv_import_options_really_evaluate_formulas(lo_home: Path, tmp_path: Path) -> None:
    """The control: the same import makes live formulas of un-neutralised cells (else the test
    above could pass for the wrong reason)."""
    path = tmp_path / "control.csv"
    path.write_text("a,b\r\n =1+1,=2+2\r\n", "utf-8", newline="")
    assert sorted(_formulas(_to_fods(path, lo_home, f"CSV:{CSV_IMPORT}"))) == ["of:=1+1", "of:=2+2"]


def test_xlsx_report_sheet_names_and_cells_are_valid_in_libreoffice(
    report: EstateReport, lo_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(reports.xlsx.render(report))
    fods = _to_fods(path, lo_home)
    assert _formulas(fods) == []
    names = [html.unescape(n) for n in re.findall(r'<table:table table:name="([^"]*)"', fods)]
    assert len(names) > len(SITES)
    for name in names:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\"), name
        assert not name.startswith("'") and not name.endswith("'"), name
        assert name.lower() != "history"
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e]", name), repr(name)
    assert any(n.endswith("Ward 7") for n in names), names  # the newline became a space
