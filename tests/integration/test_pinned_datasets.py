"""Pinned datasets (issue #17 item 2): ``eol update`` keeps a bounded number of previous snapshots
and judges the stored inventories into new findings while the old dataset's findings stay; a report
is reproduced with ``report --dataset VERSION``.  Real CLI processes against a local HTTP API."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_eol_update import Api, _cli, _store_debian_host
from tests.integration.test_eol_update import api as api  # noqa: F401 - fixture
from tests.integration.test_eol_update import full_body as full_body  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def _os_status(report: dict[str, object]) -> tuple[int, str]:
    """(devices whose OS is on extended support, the dataset version the report names)."""
    kpis = report["kpis"]
    assert isinstance(kpis, dict) and kpis["devices"] == 1
    return int(kpis["extended_os"]), str(report["dataset_version"])


def _findings(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return sorted(
            conn.execute(
                "SELECT f.dataset_version, c.kind, s.status FROM findings f JOIN finding_contents c "
                "ON c.content_id = f.content_id JOIN finding_status s "
                "ON s.finding_id = f.finding_id WHERE s.valid_from <= '2026-11-30' AND '2026-11-30' < s.valid_to"
            )
        )


def test_update_keeps_previous_findings_and_reports_reproduce(api: tuple[Api, str], tmp_path: Path) -> None:
    _server, base = api
    db = tmp_path / "estate.db"
    _store_debian_host(db)  # judged at ingest with the bundled dataset
    ((old_version, kind, old_status),) = _findings(db)
    assert kind == "os" and old_status == "extended"
    url = f"sqlite:///{db}"
    proc = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1", "--db", url, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "1 stored inventories judged" in json.loads(proc.stdout)["rejudged"]
    rows = _findings(db)
    assert len(rows) == 2 and (old_version, "os", "extended") in rows  # the old findings stay
    new_version = next(v for v, _, _ in rows if v != old_version)
    assert (new_version, "os", "supported") in rows  # the update moved Debian 12's end of support

    def report(*extra: str) -> dict[str, object]:
        out = _cli(tmp_path, "report", "--db", url, "--as-of", "2026-11-30", "--format", "json", *extra)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    assert _os_status(report()) == (0, new_version)
    assert _os_status(report("--dataset", old_version)) == (1, old_version)  # the earlier report, reproduced
    history = tmp_path / "xdg" / "legacyscan-datasets"
    assert len([p for p in history.iterdir() if not p.name.startswith(".")]) == 1

    # a bounded history: keep 1 -> the refreshed snapshot replaces the bundled copy
    again = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1", "--db", url, "--force", "--keep", "1")
    assert again.returncode == 0, again.stderr
    kept = [p for p in history.iterdir() if not p.name.startswith(".")]
    assert len(kept) == 1
    missing = _cli(tmp_path, "report", "--db", url, "--dataset", "no-such-version")
    assert missing.returncode != 0 and "no kept EOL snapshot" in missing.stderr and "kept versions" in missing.stderr
