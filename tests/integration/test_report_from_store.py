"""``legacyscan report`` from persisted findings (issue #17 item 4) says exactly what re-judging
every stored inventory says, in every format, on both backends and on dates before, at and after
the collection day (where findings change status, and where a phase ends without changing one),
with inventories stored without findings mixed in.  This is what proves the faster path changed
nothing: the re-judging path is the one every report took before.
"""

from __future__ import annotations

import argparse
import io
import logging
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import scanner.report.stored as stored
from scanner.cli import main
from scanner.cli.common import context_and_policy
from scanner.cli.report import build_estate_report, build_stored_report, previous_scan, render_report
from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, generate
from scanner.judge.timeline import Judge
from scanner.report.formats import ReportFormat
from scanner.report.stored import StoredResults, redate_reason
from scanner.store.open import open_store
from scanner.store.sqlite import Store
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.unit import report_estate as est
from tests.unit.test_reports_golden import xlsx_snapshot

pytestmark = pytest.mark.integration

COLLECTED = date(2026, 11, 30)  # the demo's collection days are just before this
DATES = [date(2026, 11, 30), date(2025, 1, 1), date(2026, 6, 1), date(2027, 3, 1)]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def estate(store_url: str, tmp_path: Path) -> Iterator[tuple[Store, Path, int]]:
    """A demo estate stored with its findings (as ``demo`` and every ingest store it), and the
    report-test estate stored without any (an older store, or one never judged), on one store."""
    demo = generate(devices=160, sites=3, seed=7, as_of=COLLECTED)
    (tmp_path / "legacyscan.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    (tmp_path / "exceptions.toml").write_text(DEMO_EXCEPTIONS, encoding="utf-8")
    with open_store(store_url, judge=False) as bare:
        bare.save_batch(est.previous_inventories())
        bare.save_batch(est.inventories())
    unjudged = len({i.host.machine_id or i.host.hostname for i in est.inventories()})
    with open_store(store_url, judge=False) as store:
        ctx, policy = context_and_policy(argparse.Namespace(site_catalog=None))
        store.use_judge(Judge(ctx, policy))
        store.save_batch(demo.previous)
        store.save_batch(demo.current)
        for status in [*demo.statuses, *est.statuses()]:
            store.record_status(status)
        yield store, tmp_path, unjudged


def report_args(folder: Path, as_of: date, site: str | None = None, db: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(
        as_of=as_of,
        site=site,
        db=db,
        config=str(folder / "legacyscan.toml"),
        exceptions=str(folder / "exceptions.toml"),
        site_catalog=None,
        dataset=None,
        format="json",
        out=None,
        fail_on=None,
        bom=None,
    )


def _rejudged(store: Store, folder: Path, as_of: date, site: str | None = None) -> Any:
    """The report as every report was made before: decode every inventory, judge it on the date."""
    inventories = store.latest_inventories(site)
    statuses = store.statuses(site)
    sites = sorted(set(store.sites()) | {s.site for s in store.statuses()})
    return build_estate_report(
        report_args(folder, as_of, site), inventories, statuses, previous_scan(store, inventories, site), sites
    )


def _stored(
    store: Store, folder: Path, as_of: date, site: str | None = None, db: str | None = None
) -> tuple[Any, StoredResults]:
    sites = sorted(set(store.sites()) | {s.site for s in store.statuses()})
    args = report_args(folder, as_of, site, db)
    reader = StoredResults(store, *context_and_policy(args))
    return build_stored_report(args, store, store.statuses(site), sites, reader=reader), reader


def _same(a: Any, b: Any) -> None:
    for fmt in ReportFormat:
        left, right = render_report(a, fmt), render_report(b, fmt)
        if fmt == "xlsx":
            assert isinstance(left, bytes) and isinstance(right, bytes)
            assert xlsx_snapshot(left) == xlsx_snapshot(right)
            za, zb = zipfile.ZipFile(io.BytesIO(left)), zipfile.ZipFile(io.BytesIO(right))
            assert za.namelist() == zb.namelist()
            for name in za.namelist():
                if name != "docProps/core.xml":  # its creation time is the clock's
                    assert za.read(name) == zb.read(name), name
        else:
            assert left == right, fmt


@pytest.mark.parametrize("as_of", DATES, ids=[d.isoformat() for d in DATES])
def test_report_from_stored_findings_equals_rejudging(estate: tuple[Store, Path, int], as_of: date) -> None:
    store, folder, unjudged = estate
    report, reader = _stored(store, folder, as_of)
    _same(report, _rejudged(store, folder, as_of))
    s = reader.sourcing
    latest = store.latest_inventories()
    hosts = len(latest)
    # the latest scan and the scan before it; the report-test estate has no findings stored
    assert s.stored + s.rejudged == hosts + len(previous_scan(store, latest, None))
    assert s.missing >= unjudged
    assert s.stored > hosts  # most of it really came from the stored findings
    if as_of.year == 2025:  # a year before collection: statuses differ, those hosts are re-judged
        assert s.changed > 0
    assert report.kpi_change and report.previous_as_of is not None


def test_one_site_from_stored_findings(estate: tuple[Store, Path, int]) -> None:
    store, folder, _ = estate
    site = sorted(store.sites())[1]
    report, reader = _stored(store, folder, date(2026, 11, 30), site)
    assert [s.site for s in report.sites] == [site]
    _same(report, _rejudged(store, folder, date(2026, 11, 30), site))


@pytest.mark.parametrize("child", ["works", "fails"])
def test_previous_scan_in_a_second_process(
    estate: tuple[Store, Path, int], store_url: str, child: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a large estate the previous scan's figures come from a forked process; if it fails, the
    report is made here all the same."""
    store, folder, _ = estate
    monkeypatch.setattr(stored, "BACKGROUND_MIN_HOSTS", 0)
    if child == "fails":

        def broken(send: Any, *args: Any) -> None:
            raise RuntimeError("simulated crash")

        monkeypatch.setattr(stored, "_previous_in_child", broken)
    made: list[stored.Background] = []
    real = stored.Background

    class Seen(real):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(stored, "Background", Seen)
    on = date(2026, 6, 1)
    report, reader = _stored(store, folder, on, db=store_url)
    assert made and made[0]._proc is not None  # the previous scan really was read elsewhere
    assert report.previous_as_of is not None and report.kpi_change
    _same(report, _rejudged(store, folder, on))


def test_report_command_reads_stored_findings(
    estate: tuple[Store, Path, int], store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, folder, _ = estate
    out = tmp_path / "r.json"
    argv = [
        "report",
        "--db",
        store_url,
        "--as-of",
        "2026-11-30",
        "--config",
        str(folder / "legacyscan.toml"),
        "--exceptions",
        str(folder / "exceptions.toml"),
        "--format",
        "json",
        "--out",
        str(out),
        "-v",
    ]
    caplog.set_level(logging.INFO, logger="scanner.cli.report")
    assert main(argv) == 0
    assert "host results read from stored findings" in caplog.text
    expected = render_report(_rejudged(store, folder, date(2026, 11, 30)), ReportFormat.JSON)
    assert out.read_text(encoding="utf-8") == expected


def test_redate_reason_rewrites_only_the_judging_day() -> None:
    text = "Security Support ends 2027-01-10 (43 days after 2026-11-28); Foo ends 2027-01-10 (1 days after 2027-01-09)"
    assert redate_reason(text, "2026-11-28", date(2026, 11, 30)) == (
        "Security Support ends 2027-01-10 (41 days after 2026-11-30); Foo ends 2027-01-10 (1 days after 2027-01-09)"
    )
    assert (
        redate_reason("Security Support ended 2025-10-14", "2026-11-28", date(2026, 11, 30))
        == "Security Support ended 2025-10-14"
    )
