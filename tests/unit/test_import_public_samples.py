"""Published samples, copied as published (tests/fixtures/imports/PROVENANCE.md), through the real
``legacyscan import``: each yields the hosts, OS and values it visibly holds - read here from the
sample itself - or, where the published text cannot be an export (invalid JSON, an excerpt, a list
without devices, a query that is not inventory), is refused saying why, storing nothing of it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

INTUNE = IMPORTS / "intune"
DEFENDER = IMPORTS / "defender"
OSQUERY = IMPORTS / "osquery"
# Windows 10 feature updates by build, as Microsoft's release information publishes them.
WINDOWS_10_RELEASES = {"19044": "21h2", "19045": "22h2"}


def _utc(value: str) -> str:
    """An ISO 8601 time with any offset as the inventory stores it (UTC, whole seconds)."""
    head, _, rest = value.partition(".")
    offset = rest.lstrip("0123456789") if rest else ""
    when = datetime.fromisoformat(head + (offset if offset not in ("", "Z") else "+00:00"))
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text("utf-8"))["value"]


def test_graph_managed_devices_page_of_a_test_tenant(tmp_path: Path, capsys) -> None:
    """rapid7/insightconnect-plugins' recorded Graph response: two Windows 10 21H2 devices."""
    sample = INTUNE / "rapid7-insightconnect-get_devices.json"
    devices = _page(sample)
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 0
    assert f"imported {len(devices)}, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    assert sorted(hosts) == sorted(d["deviceName"] for d in devices)
    for device in devices:
        inv = hosts[device["deviceName"]]
        assert inv.collector.source == "intune" and inv.os.family == "windows"
        major, minor, build, ubr = device["osVersion"].split(".")
        assert inv.os.facts["version"] == f"{major}.{minor}.{build}" and inv.os.facts["build"] == build
        assert inv.os.facts["ubr"] == int(ubr)
        assert inv.os.facts["intune"]["azureaddeviceid"] == device["azureADDeviceId"]  # kept as evidence
        assert inv.collected_at == _utc(device["lastSyncDateTime"])
        assert (inv.hardware.vendor, inv.hardware.model, inv.hardware.serial) == (
            device["manufacturer"],
            device["model"],
            device["serialNumber"],
        )
        assert inv.hardware.memory_bytes is None  # physicalMemoryInBytes 0: Graph's "not reported"
        # No edition in Graph: the later-ending (Enterprise) cycle of the release is assumed.
        release = WINDOWS_10_RELEASES[build]
        [os_cycle] = [cycle for kind, product, cycle in verdicts(inv) if kind == "os" and product == "windows"]
        assert os_cycle and os_cycle.startswith(f"10-{release}")


def test_graph_docs_list_example_keeps_its_placeholders_as_an_unidentified_device(tmp_path: Path) -> None:
    """Microsoft's reference example: every value is a placeholder ("Os Version value")."""
    sample = INTUNE / "graph-docs-managedDevice-list-example.json"
    [device] = _page(sample)
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 0
    [inv] = stored(db).values()
    assert inv.host.hostname == device["deviceName"]
    assert inv.os.family == "unknown" and not [k for k in verdicts(inv) if k[0] == "os"]
    assert inv.os.facts["intune"]["operatingsystem"] == device["operatingSystem"]
    assert inv.os.facts["intune"]["osversion"] == device["osVersion"]
    assert inv.collected_at == _utc(device["lastSyncDateTime"])  # -08:00 converted to UTC
    assert inv.hardware.memory_bytes == device["physicalMemoryInBytes"]
    assert inv.hardware.serial == device["serialNumber"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lastSyncDateTime", "exchangeLastSuccessfulSyncDateTime"),  # "0001-01-01T00:00:00Z": never
        ("lastSyncDateTime", "complianceGracePeriodExpirationDateTime"),  # "9999-12-31T23:59:59.9999999Z"
        ("lastSyncDateTime", "0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
    ],
)
def test_graph_minimum_and_maximum_dates_are_no_time(tmp_path: Path, field: str, value: str) -> None:
    """The sample's own sentinel dates (.NET DateTime.MinValue/MaxValue) as a device's last sync: the
    device is imported without a time; before, year 1 was stored as "1-01-01T00:00:00Z" and an offset
    on it refused the whole file with OverflowError."""
    data = json.loads((INTUNE / "rapid7-insightconnect-get_devices.json").read_text("utf-8"))
    device = data["value"][0]
    device[field] = device.get(value, value)
    path = tmp_path / "managedDevices.json"
    path.write_text(json.dumps(data))
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0
    hosts = stored(db)
    assert hosts[device["deviceName"]].collected_at == ""
    other = data["value"][1]
    assert hosts[other["deviceName"]].collected_at == _utc(other["lastSyncDateTime"])


def test_defender_machines_page_of_a_test_tenant(tmp_path: Path, capsys) -> None:
    """rapid7/insightconnect-plugins' recorded machines response: Windows 10 21H2 and 22H2."""
    sample = DEFENDER / "rapid7-insightconnect-search_machines.json"
    machines = _page(sample)
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 0
    assert f"imported {len(machines)}, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    assert sorted(hosts) == sorted(m["computerDnsName"] for m in machines)
    for machine in machines:
        inv = hosts[machine["computerDnsName"]]
        assert inv.collector.source == "defender" and inv.os.family == "windows"
        assert inv.os.facts["build"] == str(machine["osBuild"])
        assert inv.os.facts["display_version"] == machine["version"]
        assert inv.os.arch == machine["osProcessor"] and inv.host.tags == machine["machineTags"]
        assert inv.collected_at == _utc(machine["lastSeen"])
        [os_cycle] = [cycle for kind, product, cycle in verdicts(inv) if kind == "os" and product == "windows"]
        assert os_cycle and os_cycle.startswith(f"10-{machine['version'].lower()}")


def test_defender_docs_machines_example_as_published_is_refused_naming_line_and_column(tmp_path: Path, capsys) -> None:
    """The page shows ``"osPlatform": "Windows10" "Windows11"`` and a ``...`` line: not JSON."""
    sample = DEFENDER / "defender-docs-machines-example.json"
    lines = sample.read_text("utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if '"Windows10" "Windows11"' in text)
    column = lines[line - 1].index('"Windows11"') + 1
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 1
    err = capsys.readouterr().err
    assert f"refused: not valid JSON: Expecting ',' delimiter at line {line} column {column} (read as defender)" in err
    assert stored(db) == {}


def test_defender_software_list_without_devices_says_which_export_to_use(tmp_path: Path, capsys) -> None:
    """GET /api/machines/{id}/software names the machine only in the request URL: refused with the
    export that carries device ids (before, it was not recognised at all)."""
    sample = DEFENDER / "defender-docs-installed-software-example.json"
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 1
    err = capsys.readouterr().err
    assert "a Defender software list without device ids" in err and "SoftwareInventoryByMachine" in err
    assert "(read as defender)" in err and stored(db) == {}


@pytest.mark.parametrize("name", sorted(p.name for p in OSQUERY.glob("osquery-docs-logging-*.json")))
def test_osquery_docs_results_are_read_and_refused_for_holding_no_inventory_table(
    tmp_path: Path, capsys, name: str
) -> None:
    """osquery's logging documentation: one result each (processes), pretty-printed "for
    readability". They are read as osquery results (before, not recognised at all) and refused
    because a processes query is not inventory."""
    sample = OSQUERY / name
    result = json.loads(sample.read_text("utf-8"))
    assert result["name"] in ("processes", "process_snapshot")
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 1
    err = capsys.readouterr().err
    assert (
        f"{name}: refused: no os_version, system_info, programs, deb_packages, rpm_packages or apps rows "
        "(1 line of other queries) (read as osquery)" in err
    ), err
    assert stored(db) == {}


def test_osquery_docs_snapshot_shape_with_an_inventory_table_imports(tmp_path: Path) -> None:
    """The documented snapshot shape, pretty-printed as the docs print it, carrying an os_version
    row instead of processes: read as a whole document and imported."""
    result = json.loads((OSQUERY / "osquery-docs-logging-snapshot.json").read_text("utf-8"))
    result["name"] = "os_version"
    result["snapshot"] = [
        {
            "name": "Ubuntu",
            "version": "22.04.2 LTS (Jammy Jellyfish)",
            "major": "22",
            "minor": "4",
            "patch": "0",
            "platform": "ubuntu",
            "platform_like": "debian",
            "codename": "jammy",
        }
    ]
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(result, indent=2))
    db = tmp_path / "db.sqlite"
    assert run_import(db, path) == 0
    [inv] = stored(db).values()
    assert inv.host.hostname == result["hostIdentifier"]
    assert inv.collected_at == datetime.fromtimestamp(int(result["unixTime"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ("os", "ubuntu", "22.04") in verdicts(inv)


def test_fleet_recorded_results_log_with_an_empty_differential_side(tmp_path: Path, capsys) -> None:
    """Fleet's recorded result lines (fleetdm/fleet server/service/osquery_test.go): one system_info
    line among other queries, and a batched differential whose empty side osquery wrote as
    ``"added":""`` - which refused the whole log before."""
    sample = OSQUERY / "fleet-osquery_test-validLogResults.log"
    lines = [json.loads(line) for line in sample.read_text("utf-8").splitlines()]
    assert any(line.get("diffResults", {}).get("added") == "" for line in lines)
    info = [line for line in lines if line["name"].endswith("/system_info")]
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 0
    assert f"imported {len(info)}, duplicates 0, refused 0" in capsys.readouterr().err
    hosts = stored(db)
    assert sorted(hosts) == sorted(line["columns"]["hostname"] for line in info)
    for line in info:
        inv = hosts[line["columns"]["hostname"]]
        assert inv.collector.source == "osquery"
        assert inv.hardware.cpu_model == line["columns"]["cpu_brand"]
        assert inv.hardware.memory_bytes == int(line["columns"]["physical_memory"])
        assert inv.host.machine_id == line["decorations"]["host_uuid"].lower()
        assert inv.collected_at == datetime.fromtimestamp(line["unixTime"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        notes = [p.message for p in inv.problems]
        assert "the log holds no os_version rows for this host" in notes
        assert f"{len(lines) - len(info)} lines of other queries in the log were not used" in notes


def test_defender_export_files_response_says_to_import_the_files_it_names(tmp_path: Path, capsys) -> None:
    """GET /api/machines/SoftwareInventoryExport answers with download links (before: refused as
    "no device id")."""
    sample = DEFENDER / "defender-docs-SoftwareInventoryExport-files-example.json"
    assert json.loads(sample.read_text("utf-8"))["exportFiles"]
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 1
    err = capsys.readouterr().err
    assert "the list of Defender export files (exportFiles), not their content" in err and stored(db) == {}


def test_defender_docs_non_cpe_example_with_its_trailing_comma_is_refused_naming_the_line(
    tmp_path: Path, capsys
) -> None:
    """The non-CPE software inventory example as published ends its array with ``},`` then ``],``."""
    sample = DEFENDER / "defender-docs-SoftwareInventoryNoProductCodeByMachine-example.json"
    lines = sample.read_text("utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if text.strip() == "]," and lines[i - 2].strip() == "},")
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 1
    err = capsys.readouterr().err
    assert "refused: not valid JSON: " in err and f" at line {line} column " in err and "(read as defender)" in err
    assert stored(db) == {}


def test_graph_single_managed_device_entity_of_a_test_tenant(tmp_path: Path) -> None:
    """rapid7's recorded ``GET /deviceManagement/managedDevices/{id}``: one ``$entity``, not a page."""
    sample = INTUNE / "rapid7-insightconnect-get_device.json"
    device = json.loads(sample.read_text("utf-8"))
    assert device["@odata.context"].endswith("/$entity") and "value" not in device
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 0
    [inv] = stored(db).values()
    assert inv.host.hostname == device["deviceName"] == "INTUNE-W10-C"
    major, minor, build, ubr = device["osVersion"].split(".")
    assert (inv.os.facts["build"], inv.os.facts["ubr"]) == (build, int(ubr))
    assert inv.collected_at == _utc(device["lastSyncDateTime"])
    assert (inv.hardware.vendor, inv.hardware.serial) == (device["manufacturer"], device["serialNumber"])
    [os_cycle] = [cycle for kind, product, cycle in verdicts(inv) if kind == "os" and product == "windows"]
    assert os_cycle and os_cycle.startswith(f"10-{WINDOWS_10_RELEASES[build]}")


def test_defender_software_inventory_page_as_published_in_2021_is_one_page_of_several(
    tmp_path: Path, capsys, caplog
) -> None:
    """The 2021 version of Microsoft's SoftwareInventoryByMachine example is valid JSON as published
    (the later page doubled two values).  It is one page (``pageSize=5``) with ``@odata.nextLink``:
    imported, with a warning that the other pages' rows are not in the file; one deviceId is listed
    under two device names, and stays one device under the first."""
    sample = DEFENDER / "defender-docs-SoftwareInventoryByMachine-example-2021.json"
    page = json.loads(sample.read_text("utf-8"))
    rows = page["value"]
    db = tmp_path / "db.sqlite"
    with caplog.at_level("WARNING"):
        assert run_import(db, sample) == 0
    assert "imported 3, duplicates 0, refused 0" in capsys.readouterr().err
    [warning] = [r.getMessage() for r in caplog.records if "@odata.nextLink" in r.getMessage()]
    assert warning.startswith(f"{sample}: one page of a paged answer")
    hosts = stored(db)
    first = rows[0]["deviceId"]
    names = {r["deviceName"] for r in rows if r["deviceId"] == first}
    assert len(names) == 2 and rows[0]["deviceName"] in hosts and not names - {rows[0]["deviceName"]} & set(hosts)
    inv = hosts[rows[0]["deviceName"]]
    assert inv.os.facts["ubr"] == 1637 and inv.os.facts["defender"]["softwareName"] == "windows_10"
    assert {(s.name, s.version) for s in inv.software} == {
        (r["softwareName"], r["softwareVersion"])
        for r in rows
        if r["deviceId"] == first and not r["softwareName"].startswith("windows_")
    }


def test_graph_page_with_a_next_link_warns_too(tmp_path: Path, caplog) -> None:
    """Graph pages the same way (its nextLink at the top): the recorded page with one added."""
    data = json.loads((INTUNE / "rapid7-insightconnect-get_devices.json").read_text("utf-8"))
    data = {"@odata.nextLink": "https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$skiptoken=x", **data}
    path = tmp_path / "managedDevices-page1.json"
    path.write_text(json.dumps(data))
    with caplog.at_level("WARNING"):
        assert run_import(tmp_path / "db.sqlite", path) == 0
    assert [r for r in caplog.records if r.getMessage().startswith(f"{path}: one page of a paged answer")]
    assert len(stored(tmp_path / "db.sqlite")) == len(data["value"])
    caplog.clear()
    with caplog.at_level("WARNING"):  # the recorded page itself is the whole answer: no warning
        assert run_import(tmp_path / "whole.sqlite", INTUNE / "rapid7-insightconnect-get_devices.json") == 0
    assert not [r for r in caplog.records if "@odata.nextLink" in r.getMessage()]


def _log_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_elastic_recorded_osquery_2_10_deb_packages_without_maintainer(tmp_path: Path) -> None:
    """Elastic's recorded osqueryd 2.10 results log, one real Ubuntu 16.04 machine: its
    ``system_info`` line (three columns, no uuid), its ``os_version`` row added twice (osqueryd
    restarted) and its last 39 ``deb_packages`` rows as osquery 2.x wrote them (no ``maintainer``,
    no ``status``)."""
    sample = OSQUERY / "elastic-integrations-test-osquery-ubuntu-xenial.log"
    info, os1, os2, *lines = _log_rows(sample)
    assert info["name"] == "system_info" and "uuid" not in info["columns"]
    assert os1["columns"] == os2["columns"] and os1["unixTime"] != os2["unixTime"]
    assert len(lines) == 39 and all("maintainer" not in line["columns"] for line in lines)
    db = tmp_path / "db.sqlite"
    assert run_import(db, sample) == 0
    [inv] = stored(db).values()
    assert inv.host.hostname == lines[0]["hostIdentifier"] == "ubuntu-xenial"
    assert inv.host.machine_id == lines[0]["decorations"]["host_uuid"].lower()
    assert inv.collected_at == "2017-12-07T17:57:33Z"  # unixTime 1512669453
    assert inv.os.family == "linux"
    assert (inv.os.name, inv.os.version) == (os1["columns"]["name"], os1["columns"]["version"])
    assert inv.os.version == "16.04.3 LTS (Xenial Xerus)"
    assert inv.os.facts["osquery"]["codename"] == "xenial"  # the original row kept as evidence
    assert [k for k in verdicts(inv) if k[0] == "os"] == [("os", "ubuntu", "16.04")]
    assert inv.hardware.cpu_model == info["columns"]["cpu_brand"] == "Intel(R) Core(TM) i7-7567U CPU @ 3.50GHz"
    assert inv.hardware.memory_bytes == int(info["columns"]["physical_memory"])
    assert [(s.name, s.version, s.arch, s.source_package) for s in inv.software] == [
        (c["name"], c["version"], c["arch"], c["source"]) for c in (line["columns"] for line in lines)
    ]
    assert {s.source for s in inv.software} == {"dpkg"}
    login = next(s for s in inv.software if s.name == "login")
    assert (login.version, login.source_package) == ("1:4.2-3.1ubuntu5.3", "shadow")  # epoch kept


def test_osquery_2_deb_packages_under_any_query_name(tmp_path: Path) -> None:
    """The same real rows under a query name that does not say deb_packages: recognised by their
    columns (they were refused as 'no ... deb_packages rows' when the signature required the
    maintainer column osquery 2.x did not write); rpm rows without epoch likewise."""
    text = (OSQUERY / "elastic-integrations-test-osquery-ubuntu-xenial.log").read_text("utf-8")
    renamed = tmp_path / "renamed.log"
    renamed.write_text(text.replace('"pack_it-compliance_deb_packages"', '"pack_inventory_software"'))
    rpm = dict(_log_rows(OSQUERY / "elastic-integrations-test-osquery-ubuntu-xenial.log")[3])
    rpm |= {"hostIdentifier": "centos-6", "name": "software", "decorations": {}}  # another machine
    rpm["columns"] = {
        "name": "bash",
        "version": "4.1.2",
        "release": "48.el6",
        "arch": "x86_64",
        "size": "3140",
        "sha1": "",
    }
    old_rpm = tmp_path / "rpm.log"
    old_rpm.write_text(json.dumps(rpm) + "\n")
    db = tmp_path / "db.sqlite"
    assert run_import(db, renamed, old_rpm) == 0
    hosts = stored(db)
    assert len(hosts["ubuntu-xenial"].software) == 39
    [bash] = hosts["centos-6"].software
    assert (bash.name, bash.version, bash.source) == ("bash", "4.1.2-48.el6", "rpm")
