"""Stored findings judged by another release or other rules (``judgements.judged_by``, schema 11)
are never reused by a report: the host is re-judged, as it would be with no findings stored, and
``legacyscan eol rejudge`` (``Store.rejudge_stale``) replaces them so reports and the BI views read
the fixed verdicts again.  Real SQLite and PostgreSQL, the demo estate.

The "old release" is simulated the way an upgrade looks in the store: the same dataset version,
another fingerprint, and findings whose verdict the new rules no longer give (here: end-of-life
operating systems stored as "supported", contents of their own id, as an older judge's hashes are).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.cli.common import context_and_policy
from scanner.cli.report import build_stored_report, previous_scan, render_report
from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, generate
from scanner.judge import fingerprint
from scanner.judge.timeline import Judge
from scanner.report.formats import ReportFormat
from scanner.report.stored import StoredResults
from scanner.store.open import open_store
from scanner.store.relational import Rows
from scanner.store.schema import CONTENT_COLUMNS, migrations
from scanner.store.sqlite import Store
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.integration.test_report_from_store import _rejudged, _same, report_args, store_url  # noqa: F401
from tests.integration.test_store_relational import JUDGEMENT_COLUMNS_10, _plain, old_store, q

pytestmark = pytest.mark.integration

COLLECTED = date(2026, 11, 30)
OLD, NEW = "0ld0ld0ld0ld0ld0", "4e3e4e3e4e3e4e3e"


def _tamper(store: Store) -> int:
    """The old release's wrong verdict: every end-of-life OS finding stored as "supported" (its
    contents a row of their own id).  Returns how many findings now say so."""
    cols = ", ".join(CONTENT_COLUMNS)
    wrong = ", ".join(
        {"status": "'supported'", "eol": "NULL", "extended_until": "NULL"}.get(c, c) for c in CONTENT_COLUMNS
    )
    eol_os = "SELECT content_id FROM finding_contents WHERE kind = 'os' AND status = 'eol'"
    store._write_rows(
        Rows(),
        [
            (
                f"INSERT INTO finding_contents (content_id, {cols}) SELECT 'old:' || content_id, {wrong} "  # noqa: S608
                "FROM finding_contents WHERE kind = 'os' AND status = 'eol'",
                (),
            ),
            (f"UPDATE findings SET content_id = 'old:' || content_id WHERE content_id IN ({eol_os})", ()),  # noqa: S608
        ],
    )
    return int(q(store, "SELECT COUNT(*) FROM findings WHERE substr(content_id, 1, 4) = 'old:'")[0][0])


@pytest.fixture
def estate(store_url: str, tmp_path: Path) -> Iterator[tuple[Store, Path]]:  # noqa: F811 - the imported fixture
    """The demo estate stored by an older release (fingerprint ``OLD``) that judged end-of-life
    operating systems "supported"."""
    demo = generate(devices=60, sites=2, seed=7, as_of=COLLECTED)
    (tmp_path / "legacyscan.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    (tmp_path / "exceptions.toml").write_text(DEMO_EXCEPTIONS, encoding="utf-8")
    with open_store(store_url, judge=False) as store:
        ctx, policy = context_and_policy(argparse.Namespace(site_catalog=None))
        store.use_judge(Judge(ctx, policy, judged_by=OLD))
        store.save_batch(demo.previous)
        store.save_batch(demo.current)
        store.record_statuses(demo.statuses)
        assert _tamper(store) > 5
        yield store, tmp_path


def _report(store: Store, folder: Path, judged_by: str, as_of: date = COLLECTED) -> tuple[Any, StoredResults]:
    sites = sorted(set(store.sites()) | {s.site for s in store.statuses()})
    args = report_args(folder, as_of)
    reader = StoredResults(store, *context_and_policy(args), judged_by=judged_by)
    return build_stored_report(args, store, store.statuses(), sites, reader=reader), reader


def _hosts(store: Store) -> int:
    latest = store.latest_inventories()
    return len(latest) + len(previous_scan(store, latest, None))


def test_a_report_rejudges_findings_other_rules_judged(estate: tuple[Store, Path]) -> None:
    store, folder = estate
    fresh = _rejudged(store, folder, COLLECTED)
    # the release that judged them reads its own findings back: the wrong verdict (the guard)
    report, reader = _report(store, folder, OLD)
    assert reader.sourcing.stale == 0 and reader.sourcing.stored > 0
    assert render_report(report, ReportFormat.JSON) != render_report(fresh, ReportFormat.JSON)
    # this release never reuses them: every host re-judged, the report a fresh judgement's
    report, reader = _report(store, folder, NEW)
    _same(report, fresh)
    s = reader.sourcing
    assert s.stored == 0 and s.rejudged == s.missing == s.stale == _hosts(store)


def test_rejudge_stale_replaces_the_findings_and_reports_read_them(estate: tuple[Store, Path]) -> None:
    store, folder = estate
    judgements = q(store, "SELECT COUNT(*), COUNT(DISTINCT dataset_version) FROM judgements")[0]
    findings = q(store, "SELECT COUNT(*) FROM findings")[0][0]
    statuses = q(store, "SELECT COUNT(*) FROM finding_status")[0][0]
    assert judgements[1] == 1
    ctx, policy = context_and_policy(argparse.Namespace(site_catalog=None))
    assert store.rejudge_stale(Judge(ctx, policy, judged_by=NEW), batch=7) == judgements[0]
    assert store.rejudge_stale(Judge(ctx, policy, judged_by=NEW)) == 0  # nothing left to refresh
    assert q(store, "SELECT DISTINCT judged_by FROM judgements") == [(NEW,)]
    # each inventory's findings replaced, none added or lost, none naming the wrong contents
    assert q(store, "SELECT COUNT(*) FROM findings")[0][0] == findings
    assert q(store, "SELECT COUNT(*) FROM finding_status")[0][0] == statuses
    assert q(store, "SELECT COUNT(*) FROM findings WHERE substr(content_id, 1, 4) = 'old:'")[0][0] == 0
    for as_of in (COLLECTED, date(2027, 3, 1)):
        report, reader = _report(store, folder, NEW, as_of)
        _same(report, _rejudged(store, folder, as_of))
        s = reader.sourcing
        assert s.stale == 0 and s.stored + s.rejudged == _hosts(store)
        if as_of == COLLECTED:
            assert s.stored == _hosts(store)  # read from the refreshed findings


def test_eol_rejudge_command_and_the_report_hint(
    estate: tuple[Store, Path],
    store_url: str,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, folder = estate
    out = tmp_path / "r.json"
    argv = ["report", "--db", store_url, "--as-of", COLLECTED.isoformat(), "--config", str(folder / "legacyscan.toml")]
    argv += ["--exceptions", str(folder / "exceptions.toml"), "--format", "json", "--out", str(out)]
    want = render_report(_rejudged(store, folder, COLLECTED), ReportFormat.JSON)
    caplog.set_level(logging.INFO, logger="scanner.cli.report")
    assert main(argv) == 0
    assert out.read_text(encoding="utf-8") == want
    assert f"report: {_hosts(store)} stored judgements were made by another legacyscan release" in caplog.text
    assert "legacyscan eol rejudge" in caplog.text
    caplog.clear()
    capsys.readouterr()
    assert main(["eol", "rejudge", "--db", store_url, "--format", "json"]) == 0
    done = json.loads(capsys.readouterr().out)
    total = q(store, "SELECT COUNT(*) FROM judgements")[0][0]
    assert done["judged_by"] == fingerprint.installed() and done["rejudged"] == total and done["judged"] == 0
    assert q(store, "SELECT DISTINCT judged_by FROM judgements") == [(fingerprint.installed(),)]
    assert main(argv) == 0
    assert out.read_text(encoding="utf-8") == want
    assert "another legacyscan release" not in caplog.text
    assert f"report: {_hosts(store)} host results read from stored findings, 0 re-judged" in caplog.text


def test_rejudge_command_without_a_store_creates_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.db"
    assert main(["eol", "rejudge", "--db", f"sqlite:///{path}"]) != 0
    assert not path.exists()
    assert "no stored estate" in capsys.readouterr().err


# -- migration 11 --------------------------------------------------------------------------------------

SCHEMA10_TABLES = (
    "hosts",
    "inventories",
    "inventory_facts",
    "scan_status",
    "software",
    "software_sets",
    "software_set_members",
    "inventory_software_sets",
    "datasets",
    "judgements",
    "finding_contents",
    "findings",
    "finding_status",
)


def _schema10_select(table: str) -> str:
    cols = JUDGEMENT_COLUMNS_10 if table == "judgements" else "*"
    return f"SELECT {cols} FROM {table}"  # noqa: S608 - fixed names


def test_migration_leaves_judged_by_null_and_reports_correct(
    store_url: str,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = generate(devices=30, sites=2, seed=11, as_of=COLLECTED)
    scratch_url = f"sqlite:///{tmp_path / 'scratch.db'}"
    with open_store(scratch_url) as scratch:  # the rows the release before wrote (schema 10)
        scratch.save_batch(demo.previous)
        scratch.save_batch(demo.current)
        scratch.record_statuses(demo.statuses)
        tables = {t: _plain(q(scratch, _schema10_select(t))) for t in SCHEMA10_TABLES}
    assert tables["judgements"] and tables["findings"]

    def report(url: str, name: str) -> bytes:
        out = tmp_path / name
        assert main(["report", "--db", url, "--format", "json", "--as-of", "2027-03-01", "--out", str(out), "-q"]) == 0
        return out.read_bytes()

    want = report(scratch_url, "scratch.json")
    url = old_store(store_url, tmp_path, tables, 10)
    with open_store(url) as store:
        assert store.schema_version() == len(migrations("sqlite")) >= 11  # type: ignore[attr-defined]
        for table, rows in tables.items():  # nothing lost, nothing changed
            assert _plain(q(store, _schema10_select(table))) == rows, table
        assert q(store, "SELECT DISTINCT judged_by FROM judgements") == [(None,)]
        reader = StoredResults(store, *context_and_policy(argparse.Namespace(site_catalog=None)))
        reader.latest(COLLECTED)
        assert reader.sourcing.stored == 0 and reader.sourcing.stale == len(store.latest_inventories())
    assert report(url, "migrated.json") == want  # re-judged: the same report
    assert main(["eol", "rejudge", "--db", url, "-q"]) == 0
    capsys.readouterr()
    with open_store(url) as store:
        assert q(store, "SELECT DISTINCT judged_by FROM judgements") == [(fingerprint.installed(),)]
        assert len(q(store, "SELECT * FROM findings")) == len(tables["findings"])
        reader = StoredResults(store, *context_and_policy(argparse.Namespace(site_catalog=None)))
        reader.latest(COLLECTED)
        assert reader.sourcing.stale == 0 and reader.sourcing.stored == len(store.latest_inventories())
    assert report(url, "refreshed.json") == want
