"""``legacyscan demo`` and ``legacyscan report`` end to end through a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scanner.cli import main
from scanner.demo import generate
from scanner.plan.config import load_config
from scanner.plan.risk_register import load as load_exceptions
from scanner.store.open import open_store
from tests.unit import report_estate as est

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def test_generator_is_deterministic_and_labelled() -> None:
    a = generate(devices=120, sites=3, seed=5, as_of=date(2026, 11, 30))
    b = generate(devices=120, sites=3, seed=5, as_of=date(2026, 11, 30))
    c = generate(devices=120, sites=3, seed=6, as_of=date(2026, 11, 30))
    key = [(i.host.hostname, i.host.site, i.os.name, len(i.software), i.hardware.cpu_model) for i in a.current]
    assert key == [(i.host.hostname, i.host.site, i.os.name, len(i.software), i.hardware.cpu_model) for i in b.current]
    assert key != [(i.host.hostname, i.host.site, i.os.name, len(i.software), i.hardware.cpu_model) for i in c.current]
    assert all(i.host.site.startswith("DEMO ") and "demo" in i.host.tags for i in a.current)
    assert len({i.host.site for i in a.current}) == 3 and len(a.previous) == 120
    assert a.templates and all("@" in prov for prov in a.templates.values())  # capture provenance


def test_demo_command_writes_every_format_with_a_banner(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--devices", "90", "--seed", "3", "--as-of", "2026-11-30"]) == 0
    assert "DEMO estate: 90 devices on 3 sites" in capsys.readouterr().out
    for name in (
        "demo.db",
        "exceptions.toml",
        "legacyscan.toml",
        "report.txt",
        "report.csv",
        "report.json",
        "report.xlsx",
        "report.html",
    ):
        assert (out / name).stat().st_size > 0, name
    assert "DEMO DATA" in (out / "report.txt").read_text(encoding="utf-8").splitlines()[1]
    assert 'class="banner"' in (out / "report.html").read_text(encoding="utf-8")
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["demo"].startswith("DEMO DATA") and data["previous_as_of"] and data["register"]
    raw = (out / "report.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a UTF-8 BOM: Excel decodes "—" right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "data" and all(r[0].startswith("DEMO DATA") for r in rows[1:])
    wb = load_workbook(out / "report.xlsx", read_only=True)
    assert all(str(next(ws.iter_rows(values_only=True))[0]).startswith("DEMO DATA") for ws in wb.worksheets)
    with open_store(f"sqlite:///{out / 'demo.db'}") as store:
        assert store.count_inventories() == 180  # current + previous scan


def test_examples_parse() -> None:
    assert len(load_exceptions(EXAMPLES / "exceptions.toml").entries) == 2
    assert len(load_exceptions(EXAMPLES / "exceptions.csv").entries) == 2
    cfg = load_config(EXAMPLES / "legacyscan.toml")
    assert cfg.costs["replace_device"] == 850 and "windows:10-22h2" in cfg.esu


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'estate.db'}"
    with open_store(url) as store:
        store.save_batch(est.previous_inventories())
        store.save_batch(est.inventories())
        for st in est.statuses():
            store.record_status(st)
    return url


def test_report_command_formats_fail_on_and_previous_scan(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = tmp_path / "ex.toml"
    ex.write_text(est.EXCEPTIONS_TOML, encoding="utf-8")
    base = ["report", "--db", db, "--as-of", "2026-11-30", "--exceptions", str(ex)]
    assert main(base + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["previous_as_of"] == "2026-08-30" and data["kpi_change"]["devices"] == 1
    assert {h["hostname"] for s in data["sites"] for h in s["hosts"]} >= {"PC-001", "MRI-CONSOLE"}
    assert main(base + ["--fail-on", "eol", "--format", "csv", "--out", str(tmp_path / "r.csv")]) == 3
    assert main(base + ["--format", "xlsx"]) == 2  # binary format needs --out
    assert "add --out report.xlsx" in capsys.readouterr().err
    assert main(base + ["--format", "xlsx", "--out", str(tmp_path / "r.xlsx")]) == 0
    assert main(base + ["--format", "html", "--out", str(tmp_path / "r.html")]) == 0
    assert main(base + ["--site", "South Community", "--format", "table"]) == 0
    text = capsys.readouterr().out
    assert "South Community" in text and "North General" not in text
    bad = tmp_path / "bad.toml"
    bad.write_text("[costs]\nreplace_device = -5\n", encoding="utf-8")
    assert main(base + ["--config", str(bad)]) == 1
    assert "[costs] replace_device: expected a non-negative number" in capsys.readouterr().err


def test_report_builds_and_writes_with_the_cycle_collector_paused_and_restores_it(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from scanner.cli import report as report_cli
    from scanner.gc_tuning import gc_paused

    seen: list[bool] = []
    for name in ("build_stored_report", "write_report"):
        real = getattr(report_cli, name)

        def spy(*args: object, _real: object = real, **kwargs: object) -> object:
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(report_cli, name, spy)
    assert gc.isenabled()
    out = tmp_path / "r.json"
    assert main(["report", "--db", db, "--as-of", "2026-11-30", "--format", "json", "--out", str(out)]) == 0
    assert seen == [False, False] and gc.isenabled()  # paused for the report, back on after
    assert json.loads(out.read_text(encoding="utf-8"))["sites"]
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("a failed report")
    assert gc.isenabled()
