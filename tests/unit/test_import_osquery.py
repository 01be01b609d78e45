"""osquery results logs (event, batched and snapshot formats) through ``legacyscan import``.

The log is osquery's documented format carrying the values of four real hosts, and the head of a
real results log from elastic/integrations (tests/fixtures/imports/PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

LOG = IMPORTS / "osquery" / "osqueryd.results.log"
OTHER = IMPORTS / "osquery" / "elastic-integrations-test-osquery-first-lines.log"


def test_results_log_replays_every_host_and_judges_it(tmp_path: Path, capsys) -> None:
    db = tmp_path / "db.sqlite"
    assert run_import(db, LOG) == 0
    assert "imported 4, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    assert sorted(hosts) == ["WORKSTATION1", "iMac-de-Marie.local", "prod-www-01", "ubuntu20"]
    ubuntu = hosts["ubuntu20"]
    assert ubuntu.collector.source == "osquery" and ubuntu.os.facts["osquery"]["codename"] == "focal"
    assert len(ubuntu.software) == 565 and {s.source for s in ubuntu.software} == {"dpkg"}
    judged = verdicts(ubuntu)
    assert judged[("os", "ubuntu", "20.04")] == "eol"
    assert judged[("software", "python", "2.7")] == "eol"
    centos = hosts["prod-www-01"]
    names = {s.name for s in centos.software}
    assert "grub2-common" not in names and len(centos.software) == 349  # removed by a later differential line
    assert any(s.version == "1.0.2k-12.el7" and s.name == "openssl-libs" for s in centos.software)
    assert verdicts(centos)[("os", "centos", "7")] == "eol"
    assert centos.collected_at == "2019-08-27T18:30:00Z"  # the last line's unixTime
    win = hosts["WORKSTATION1"]
    assert win.os.family == "windows" and {s.source for s in win.software} == {"windows-registry"}
    assert verdicts(win)[("os", "windows", "11-23h2-e")] == "eol"
    mac = hosts["iMac-de-Marie.local"]
    assert mac.os.facts["product_version"] == "10.13.5" and verdicts(mac)[("os", "macos", "10.13")] == "eol"
    assert run_import(db, LOG) == 0
    assert "imported 0, duplicates 4" in capsys.readouterr().err


def test_a_log_of_other_queries_is_refused_saying_so(tmp_path: Path, capsys) -> None:
    assert run_import(tmp_path / "db.sqlite", OTHER) == 1
    err = capsys.readouterr().err
    assert "refused: no os_version, system_info, programs, deb_packages, rpm_packages or apps rows" in err
    assert "(2 lines of other queries)" in err


def _line(**fields: object) -> str:
    base: dict[str, object] = {
        "name": "os_version",
        "hostIdentifier": "h",
        "unixTime": "1",
        "action": "added",
        "columns": {"name": "Ubuntu", "version": "22.04", "major": "22", "platform": "ubuntu"},
    }
    base.update(fields)
    return json.dumps(base)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_line() + "\n{not json\n", "line 2: not valid JSON"),
        (_line() + "\n" + _line(columns=["x"]) + "\n", "line 2.columns: expected an object, got list"),
        (_line(unixTime="soon") + "\n", "line 1.unixTime: not a number"),
        (_line(action="renamed") + "\n", "line 1.action: 'renamed' is neither added, removed nor snapshot"),
        (
            _line() + "\n" + _line(columns={"name": "\\ud800"}).replace("\\\\ud800", "\\ud800") + "\n",
            "line 2: columns.name: a lone surrogate escape",
        ),
        (_line(snapshot="all", action="snapshot") + "\n", "line 1.snapshot: expected a list, got str"),
    ],
)
def test_hostile_lines_refuse_the_file_naming_the_line(tmp_path: Path, capsys, body: str, expected: str) -> None:
    path = tmp_path / "osqueryd.results.log"
    path.write_text(body)
    db = tmp_path / "db.sqlite"
    assert run_import(db, path, LOG) == 1
    err = capsys.readouterr().err
    assert "osqueryd.results.log: refused: " in err and expected in err, err
    assert len(stored(db)) == 4  # the good log still imports


def test_event_format_snapshots_replace_the_earlier_snapshot(tmp_path: Path) -> None:
    """--logger_snapshot_event_type writes a snapshot as one line per row (Fleet's recorded "All USB
    devices" lines): a row missing from a later snapshot is gone, not kept as if added."""

    def row(package: str, when: int) -> str:
        return json.dumps(
            {
                "name": "deb_packages",
                "hostIdentifier": "h",
                "unixTime": when,
                "action": "snapshot",
                "columns": {
                    "name": package,
                    "version": "1.0",
                    "arch": "amd64",
                    "maintainer": "m",
                    "status": "install ok installed",
                },
            }
        )

    path = tmp_path / "osqueryd.snapshots.log"
    path.write_text("\n".join([_line(), row("openssl", 100), row("python2.7", 100), row("openssl", 200)]) + "\n")
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0
    [inv] = stored(db).values()
    assert [s.name for s in inv.software] == ["openssl"]


def test_a_query_named_like_an_inventory_table_must_carry_its_columns(tmp_path: Path, capsys) -> None:
    """Fleet's recorded ``encrypted`` line renamed ``pack/SomePack/apps``: its ``name`` column is a disk,
    not an application, and must not become software (only the name used to decide the table)."""
    fleet = IMPORTS / "osquery" / "fleet-osquery_test-validLogResults.log"
    lines = [json.loads(line) for line in fleet.read_text("utf-8").splitlines()]
    disk = next(line for line in lines if line["name"].endswith("/encrypted"))
    renamed = dict(disk, name="pack/SomePack/apps")
    path = tmp_path / "osqueryd.results.log"
    path.write_text(json.dumps(renamed) + "\n" + _line() + "\n")
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0
    hosts = stored(db)
    assert sorted(hosts) == ["h"]  # the disk's host has no inventory rows: not a host
    assert "1 lines of other queries in the log were not used" in [p.message for p in hosts["h"].problems]
