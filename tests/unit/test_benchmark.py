"""``legacyscan export --benchmark`` and ``legacyscan benchmark``: an anonymised file of comparable
figures per site, and organisations compared side by side in every report format.

The export runs the real CLI over a stored demo estate; the comparison reads real exported files
(tests/fixtures/benchmark, provenance there).  Malformed and hostile files are refused naming the
file and the field, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.cli import main
from scanner.demo import generate
from scanner.report.benchmark_file import BenchmarkFileError, load, parse
from scanner.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "benchmark"
A, B = FIXTURES / "demo-a.json", FIXTURES / "demo-b.json"
SCHEMA = json.loads((ROOT / "docs" / "benchmark-schema-v1.json").read_text(encoding="utf-8"))
HOSTILE = '=HYPERLINK("http://x") <script>alert(1)</script>\u202e\x1b[31m'


@pytest.fixture(scope="module")
def estate_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    folder = tmp_path_factory.mktemp("estate")
    from datetime import date

    estate = generate(devices=150, sites=3, seed=5, as_of=date(2026, 11, 30))
    store = SqliteStore(str(folder / "estate.db"))
    store.save_batch(estate.current)
    for st in estate.statuses:
        store.record_status(st)
    store.close()
    return f"sqlite:///{folder / 'estate.db'}", estate


def export(db: str, out: Path, *extra: str) -> dict[str, Any]:
    assert main(["export", "--benchmark", "--as-of", "2026-11-30", "--db", db, "--out", str(out), *extra]) == 0
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return doc


def test_export_writes_the_documented_schema_and_nothing_about_devices(
    estate_db: tuple[str, Any], tmp_path: Path
) -> None:
    db, estate = estate_db
    site_cat = tmp_path / "site.toml"
    site_cat.write_text('[site]\nname = "St Elsewhere NHS FT"\nods_code = "R0A"\n', encoding="utf-8")
    doc = export(db, tmp_path / "b.json", "--site-catalog", str(site_cat))
    jsonschema.validate(doc, SCHEMA)
    assert doc["organisation"] == {"name": "St Elsewhere NHS FT", "ods_code": "R0A"}
    assert doc["totals"]["devices"] == len(estate.current) == sum(s["kpis"]["devices"] for s in doc["sites"])
    assert doc["as_of"] == "2026-11-30" and doc["dataset_version"].startswith("endoflife.date@")
    assert "+site:" in doc["dataset_version"]
    assert 0 < doc["totals"]["unsupported_os"] < doc["totals"]["devices"]
    assert doc["totals"]["median_days_past_end"] > 0 and doc["totals"]["windows10"] > 0
    assert doc["totals"]["targets"] == len(estate.statuses)
    text = (tmp_path / "b.json").read_text(encoding="utf-8")
    secrets = (
        {i.host.hostname for i in estate.current}
        | {i.host.machine_id for i in estate.current}
        | {i.host.address for i in estate.current if i.host.address}
        | {i.hardware.serial for i in estate.current if i.hardware.serial}
        | {s.target for s in estate.statuses}
    )
    assert len(secrets) > 300 and not [s for s in secrets if s in text]
    assert '"tags"' not in text and '"hostname"' not in text
    assert len(text) < 64 * 1024  # small: a few KB per site
    load(tmp_path / "b.json")  # the reader accepts what the writer wrote


def test_anonymised_sites_and_a_wrong_ods_code(
    estate_db: tuple[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, estate = estate_db
    doc = export(db, tmp_path / "b.json", "--anonymise-sites")
    assert [s["site"] for s in doc["sites"]] == ["Site 1", "Site 2", "Site 3"]
    assert not any(i.host.site in (tmp_path / "b.json").read_text() for i in estate.current)
    assert doc["organisation"]["ods_code"] is None
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nname = "X"\nods_code = "rx 1"\n', encoding="utf-8")
    assert (
        main(["export", "--benchmark", "--db", db, "--site-catalog", str(bad), "--out", str(tmp_path / "c.json")]) == 1
    )
    err = capsys.readouterr().err
    assert f"{bad}:3: site.ods_code: expected an NHS ODS code" in err and not (tmp_path / "c.json").exists()


def test_export_needs_what_to_export_and_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert main(["export", "--benchmark", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 1
    assert "no inventories stored yet" in capsys.readouterr().err


# -- comparison ------------------------------------------------------------------------------------


def compare(tmp_path: Path, fmt: str, *files: Path) -> Path:
    out = tmp_path / f"cmp.{fmt}"
    assert main(["benchmark", *map(str, files), "--format", fmt, "--out", str(out)]) == 0
    return out


def hostile_copy(tmp_path: Path) -> Path:
    doc = json.loads(B.read_text(encoding="utf-8"))
    doc["organisation"]["name"] = HOSTILE.replace("\u202e", "").replace("\x1b", "")  # printable hostility
    doc["sites"][0]["site"] = "@SUM(A1:A9) & <b>bold</b>"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_every_format_compares_the_organisations_side_by_side(tmp_path: Path) -> None:
    a, b = load(A), load(B)
    table = compare(tmp_path, "table", A, B).read_text(encoding="utf-8")
    assert "DEMO Second Trust (generated)" in table and "demo-a.json" in table
    devices_line = next(line for line in table.splitlines() if line.startswith("Devices "))
    assert devices_line.split()[1:] == [str(a.totals["devices"]), str(b.totals["devices"])]
    rows = list(csv.DictReader(io.StringIO(compare(tmp_path, "csv", A, B).read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2 + len(a.sites) + len(b.sites)
    total_b = next(r for r in rows if r["ods_code"] == "R0B" and r["site"] == "(all sites)")
    assert int(total_b["unsupported_os"]) == b.totals["unsupported_os"]
    doc = json.loads(compare(tmp_path, "json", A, B).read_text(encoding="utf-8"))
    assert doc["schema"] == "legacyscan-benchmark-comparison/1"
    figures = {f["key"]: f["values"] for f in doc["figures"]}
    assert figures["win11_ready"] == [a.totals["win11_ready"], b.totals["win11_ready"]]
    from openpyxl import load_workbook

    wb = load_workbook(compare(tmp_path, "xlsx", A, B))
    assert wb.sheetnames == ["Compared", "Sites", "Organisations"]
    compared = {r[0]: r[1:] for r in wb["Compared"].iter_rows(min_row=3, values_only=True)}
    assert compared["Devices"] == (a.totals["devices"], b.totals["devices"])
    assert compared["Share on an unsupported OS (%)"][1] == pytest.approx(b.totals["unsupported_os_share"] * 100)
    html = compare(tmp_path, "html", A, B).read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "DEMO Second Trust (generated)" in html
    assert f"{b.totals['unsupported_os_share'] * 100:.1f}%" in html


def test_hostile_names_are_escaped_by_every_writer(tmp_path: Path) -> None:
    hostile = hostile_copy(tmp_path)
    html = compare(tmp_path, "html", A, hostile).read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>bold</b>" not in html and "&lt;script&gt;" in html
    rows = list(csv.reader(io.StringIO(compare(tmp_path, "csv", A, hostile).read_text(encoding="utf-8-sig"))))
    assert any(r[0].startswith("'=HYPERLINK") for r in rows) and any(r[2].startswith("'@SUM") for r in rows)
    assert not any(c.startswith(("=", "@")) for r in rows for c in r)
    from openpyxl import load_workbook

    wb = load_workbook(compare(tmp_path, "xlsx", A, hostile))
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not any(c.startswith(("=", "@")) for c in cells) and any(c.startswith("'=HYPERLINK") for c in cells)


def test_different_dates_and_datasets_are_warned_about_in_every_format(tmp_path: Path) -> None:
    doc = json.loads(B.read_text(encoding="utf-8"))
    doc["as_of"] = "2026-06-30"
    doc["dataset_version"] = "endoflife.date@2025-01-01T00:00:00+00:00"
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc), encoding="utf-8")
    for fmt in ("table", "csv", "json", "html"):
        text = compare(tmp_path, fmt, A, older).read_text(encoding="utf-8-sig")
        if fmt == "csv":
            assert "2026-06-30" in text  # a flat table: the date is a column
        else:
            assert "different dates (2026-06-30, 2026-11-30)" in text and "different end-of-life datasets" in text


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("schema", _set(["schema"], "legacyscan-report/1"), "schema: expected 'legacyscan-benchmark/1'"),
    ("newer", _set(["schema"], "legacyscan-benchmark/2"), "schema: 'legacyscan-benchmark/2' is a version"),
    ("unknown key", _set(["totals", "devices_total"], 3), "totals.devices_total: unknown key"),
    ("missing key", _set(["sites", 0, "kpis", "stale"], KeyError), "sites[0].kpis: missing key 'stale'"),
    ("negative", _set(["sites", 1, "kpis", "stale"], -1), "sites[1].kpis.stale: expected a whole number 0-"),
    ("bool count", _set(["totals", "targets"], True), "totals.targets: expected a whole number >= 0, got a boolean"),
    ("float count", _set(["totals", "targets"], 3.5), "totals.targets: expected a whole number >= 0"),
    ("share range", _set(["totals", "coverage"], 1.5), "totals.coverage: expected a number 0-1, got 1.5"),
    (
        "share mismatch",
        _set(["sites", 0, "kpis", "win11_ready_share"], 0.01),
        "sites[0].kpis.win11_ready_share: 0.01 does not match win11_ready / windows10",
    ),
    ("readiness sum", _set(["totals", "win11_ready"], 0), "totals.windows10: "),
    ("site sum", _set(["sites", 0, "site"], "DEMO Royal Infirmary\x00"), "sites[0].site: control or invisible"),
    ("ods", _set(["organisation", "ods_code"], "r0b"), "organisation.ods_code: expected an NHS ODS code"),
    ("as_of", _set(["as_of"], "2026-13-01"), "as_of: expected a date YYYY-MM-DD"),
    ("demo", _set(["demo"], "yes"), "demo: expected true or false"),
    ("sites type", _set(["sites"], {}), "sites: expected a list, got an object"),
    ("long text", _set(["organisation", "name"], "x" * 5000), "organisation.name: longer than 200 characters"),
    (
        "release",
        _set(["totals", "unsupported_os_releases", 0, "product"], "Win dows"),
        "totals.unsupported_os_releases[0].product: not a product id",
    ),
]


@pytest.mark.parametrize("name,edit,message", BAD, ids=[b[0] for b in BAD])
def test_malformed_files_are_refused_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = json.loads(B.read_text(encoding="utf-8"))
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "cmp.html"
    assert main(["benchmark", str(A), str(bad), "--format", "html", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"legacyscan: error: {bad}: {message}" in err, err
    assert "hint:" in err and not out.exists()


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "line 1, column 1: not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"schema": "legacyscan-benchmark/1", "schema": "x"}', "duplicate key 'schema'"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"[" * 100_000, "nested too deeply"),
        (b"[]", "expected a JSON object, got a list"),
    ],
)
def test_broken_json_is_refused_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(BenchmarkFileError) as info:
        parse(data, "trust.json")
    assert str(info.value).startswith("trust.json: ") and message in str(info.value)


def test_a_directory_or_missing_file_is_refused(tmp_path: Path) -> None:
    for path, message in ((tmp_path, "is a directory"), (tmp_path / "none.json", "no such benchmark file")):
        with pytest.raises(BenchmarkFileError) as info:
            load(path)
        assert str(path) in str(info.value) and message in str(info.value)
