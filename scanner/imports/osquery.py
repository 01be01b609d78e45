"""osquery results logs: the filesystem logger's ``osqueryd.results.log`` (differential: event lines
with ``action``/``columns``, or batched ``diffResults``) and ``osqueryd.snapshots.log`` (``action:
snapshot``), one JSON object per line, any number of hosts.

Each line's table is recognised by its columns (query names are the operator's choice; a name
ending in the table's name is taken as a hint first, if its rows carry at least two of the table's
columns): ``os_version``, ``system_info``,
``programs``, ``deb_packages``, ``rpm_packages`` and ``apps``.  Per host and table the rows are
replayed in order - a snapshot replaces the table, ``added``/``removed`` apply the difference - so
the result is the table as osquery last saw it.  Lines of other queries are skipped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents.inventory import Hardware, Host, Inventory, OsInfo, Software
from scanner.imports.base import (
    Head,
    Importer,
    ImportRefused,
    SoftwareRecords,
    Source,
    as_dict,
    as_list,
    derive_id,
    import_collector,
    note,
    text,
)

NAME = "osquery"
# Columns that tell a table's rows apart (all present), chosen among the columns every osquery
# version has written: osquery 2.x wrote deb_packages without maintainer (a real 2.10 log:
# tests/fixtures/imports/PROVENANCE.md) and rpm_packages without epoch.
TABLES: dict[str, frozenset[str]] = {
    "os_version": frozenset({"name", "version", "major", "platform"}),
    "system_info": frozenset({"hostname", "uuid", "cpu_brand"}),
    "programs": frozenset({"name", "version", "publisher", "identifying_number"}),
    "deb_packages": frozenset({"name", "version", "arch", "revision"}),
    "rpm_packages": frozenset({"name", "version", "release", "arch"}),
    "apps": frozenset({"name", "bundle_identifier", "bundle_short_version"}),
}
MAX_ROWS = 200_000  # per host and table


_HOST = re.compile(r'"(hostIdentifier|hostname|host_identifier)"\s*:')
_ROWS = re.compile(r'"(columns|snapshot|diffResults)"\s*:')
_NAME = re.compile(r'"name"\s*:')


def _one_per_line(head: Head) -> bool:
    """osqueryd writes one result object per line; a document pretty-printed over several lines (as
    osquery's own documentation shows them, or ``jq .`` writes) starts with a line that is not one."""
    text = head.text.lstrip("\ufeff \r\n")
    first = text.split("\n", 1)[0].strip()
    # A first line longer than the head is cut: a line, not a pretty-printed document's "{".
    return first.startswith("{") and (first.endswith("}") or ("\n" not in text and len(first) > 1))


_CALENDAR = re.compile(r'^\{"action"\s*:\s*"[a-z]+"\s*,\s*"calendarTime"\s*:')


def detect(head: Head) -> str:
    if head.kind != "json":
        return "not JSON lines"
    text = head.text.lstrip("\ufeff \r\n")
    first = text.split("\n", 1)[0]
    if _HOST.search(first) and _ROWS.search(first) and _NAME.search(first):
        return ""
    if "\n" not in text and _CALENDAR.match(first) and _ROWS.search(first):
        # A first line longer than the head, as osquery 2.x wrote it (keys in alphabetical order:
        # action, calendarTime, columns ... hostIdentifier, name after a column's long value).
        return ""
    if not _one_per_line(head) and _HOST.search(head.text) and _ROWS.search(head.text) and _NAME.search(head.text):
        return ""  # one result, or an array of them, pretty-printed
    return "first line is not an osquery result (name, hostIdentifier, columns/snapshot/diffResults)"


def _entries(source: Source) -> Iterator[tuple[str, Any]]:
    """(where, result object) of a results log: JSON Lines as osqueryd writes them, or one JSON
    document holding a result or an array of results."""
    if _one_per_line(source.head()):
        for number, entry in source.json_lines():
            yield f"line {number}", entry
        return
    data = source.json()
    if isinstance(data, list):
        for i, entry in enumerate(data):
            yield f"[{i}]", entry
    else:
        yield "document", data


def _table(query: str, rows: list[dict[str, Any]]) -> str | None:
    low = query.lower()
    first = set(rows[0]) if rows else None
    for table, needed in TABLES.items():
        if low == table or low.endswith(("_" + table, "/" + table)):
            # The name is the operator's: a query named "system_info" may select processes (Wazuh's
            # documented alert shows one).  Its rows must have at least two of the table's columns.
            if first is None or len(needed & first) >= 2:
                return table
            break
    if first is not None:
        for table, needed in TABLES.items():
            if needed <= first:
                return table
    return None


class _HostState:
    __slots__ = ("decorations", "snapshot_at", "tables", "unix_time")

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[tuple[str, str], ...], dict[str, str]]] = {}
        self.unix_time = 0
        self.decorations: dict[str, str] = {}
        self.snapshot_at: dict[str, str] = {}  # table -> unixTime of the event-format snapshot being read


def _row(value: Any, where: str) -> dict[str, str]:
    row = as_dict(value, where)
    return {str(k): text(v, f"{where}.{k}") for k, v in row.items()}


def _key(row: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(row.items()))


def _diff_rows(diff: dict[str, Any], side: str, where: str) -> list[dict[str, str]]:
    value = diff.get(side)
    if value == "":  # osquery writes an empty side of a batched differential as "" (Fleet's recorded logs)
        return []
    return [
        _row(r, f"{where}.diffResults.{side}[{i}]") for i, r in enumerate(as_list(value, f"{where}.diffResults.{side}"))
    ]


def convert(source: Source) -> Iterator[Inventory]:
    hosts: dict[str, _HostState] = {}
    skipped = 0
    for where, entry in _entries(source):
        if not isinstance(entry, dict):
            raise ImportRefused(f"{where}: expected a JSON object, got {type(entry).__name__}")
        host = text(
            entry.get("hostIdentifier") or entry.get("hostname") or entry.get("host_identifier"),
            f"{where}.hostIdentifier",
        )
        if not host:
            raise ImportRefused(f"{where}: no hostIdentifier")
        query = text(entry.get("name"), f"{where}.name")
        action = text(entry.get("action"), f"{where}.action")
        change = _change(entry, action, where)
        table = _table(query, change.added or change.removed)
        if table is None:
            skipped += 1
            continue
        _apply(hosts.setdefault(host, _HostState()), table, change, entry, where, host)
    if not hosts:
        raise ImportRefused(
            f"no os_version, system_info, programs, deb_packages, rpm_packages or apps rows "
            f"({skipped} {'lines' if skipped != 1 else 'line'} of other queries)"
        )
    for identifier, state in hosts.items():
        yield _inventory(source.records, identifier, state, skipped)


@dataclass(slots=True)
class _Change:
    """One log line's rows: added, removed, and whether they replace the table (a snapshot)."""

    added: list[dict[str, str]] = field(default_factory=list)
    removed: list[dict[str, str]] = field(default_factory=list)
    replace: bool = False
    event_snapshot: bool = False  # one row of a snapshot logged as events (all rows share its unixTime)


def _change(entry: dict[str, Any], action: str, where: str) -> _Change:
    """The rows of a snapshot, a batched differential or a single event line."""
    if "snapshot" in entry:
        return _Change(
            added=[
                _row(r, f"{where}.snapshot[{i}]") for i, r in enumerate(as_list(entry["snapshot"], f"{where}.snapshot"))
            ],
            replace=True,
        )
    if "diffResults" in entry:
        diff = as_dict(entry["diffResults"], f"{where}.diffResults")
        return _Change(added=_diff_rows(diff, "added", where), removed=_diff_rows(diff, "removed", where))
    if "columns" in entry:
        row = _row(entry["columns"], f"{where}.columns")
        if action == "removed":
            return _Change(removed=[row])
        if action in ("added", "snapshot", ""):
            # --logger_snapshot_event_type: a snapshot as one line per row, all with its unixTime
            return _Change(added=[row], event_snapshot=action == "snapshot")
        raise ImportRefused(f"{where}.action: {action[:40]!r} is neither added, removed nor snapshot")
    raise ImportRefused(f"{where}: neither columns, snapshot nor diffResults")


def _apply(state: _HostState, table: str, change: _Change, entry: dict[str, Any], where: str, host: str) -> None:
    """One line's change to its host's table, time and decorations."""
    rows = state.tables.setdefault(table, {})
    unix = entry.get("unixTime") or entry.get("unix_time")
    replace = change.replace
    if change.event_snapshot and state.snapshot_at.get(table) != str(unix):
        replace = True  # the first row of a newer snapshot: the earlier one's rows are gone
        state.snapshot_at[table] = str(unix)
    if replace:
        rows.clear()
    for row in change.removed:
        rows.pop(_key(row), None)
    for row in change.added:
        rows[_key(row)] = row
    if len(rows) > MAX_ROWS:
        raise ImportRefused(f"{where}: more than {MAX_ROWS} rows of {table} for host {host[:80]!r}")
    try:
        state.unix_time = max(state.unix_time, int(str(unix)))
    except ValueError:
        raise ImportRefused(f"{where}.unixTime: not a number: {str(unix)[:40]!r}") from None
    decorations = entry.get("decorations")
    if isinstance(decorations, dict):
        state.decorations.update(
            {str(k): text(v, f"{where}.decorations.{k}") for k, v in decorations.items() if isinstance(v, str | int)}
        )


def _os(rows: list[dict[str, str]]) -> tuple[str, str, str, dict[str, Any]]:
    if not rows:
        return "unknown", "", "", {}
    row = rows[0]
    platform = row.get("platform", "").lower()
    facts: dict[str, Any] = {"osquery": dict(row)}
    name = row.get("name", "")
    version = row.get("version", "")
    if platform == "windows" or "windows" in name.lower():
        _windows_facts(facts, row, name, version)
        return "windows", name, version, facts
    if platform == "darwin":
        facts["product_version"] = version
        if row.get("build"):
            facts["build_version"] = row["build"]
        return "macos", name, version, facts
    if platform:
        facts["os_release_fields"] = _os_release_fields(row, platform, name, version)
    family = "linux" if platform not in ("freebsd", "openbsd", "netbsd") else platform
    return family, name, version, facts


def _windows_facts(facts: dict[str, Any], row: dict[str, str], name: str, version: str) -> None:
    facts["caption"] = name
    if re.match(r"^\d+\.\d+\.\d+", version):
        facts["version"] = version
    if row.get("build"):
        facts["build"] = row["build"]
    if row.get("revision", "").isdigit():
        facts["ubr"] = int(row["revision"])


def _os_release_fields(row: dict[str, str], platform: str, name: str, version: str) -> str:
    """os_version's columns in /etc/os-release's vocabulary, for the Linux and BSD identifiers."""
    numbers = re.search(r"\d+(?:\.\d+)*", version)
    version_id = numbers.group(0) if numbers else ".".join(x for x in (row.get("major"), row.get("minor")) if x)
    lines = [f"ID={platform}", f"VERSION_ID={version_id}", f"NAME={name}"]
    if row.get("platform_like"):
        lines.append(f"ID_LIKE={row['platform_like']}")
    if row.get("codename"):
        lines.append(f"VERSION_CODENAME={row['codename']}")
    return "\n".join(lines) + "\n"


def _inventory(records: SoftwareRecords, identifier: str, state: _HostState, skipped: int) -> Inventory:
    tables = {name: list(rows.values()) for name, rows in state.tables.items()}
    software = [s for s in _software(records, tables) if s.name]
    family, name, version, facts = _os(tables.get("os_version", []))
    info = (tables.get("system_info") or [{}])[0]
    uuid = info.get("uuid", "") or state.decorations.get("host_uuid", "")
    hostname = info.get("hostname", "") or identifier
    when = datetime.fromtimestamp(state.unix_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if state.unix_time else ""
    inv = Inventory(
        host=Host(hostname=hostname[:255], machine_id=uuid.lower()[:128]),
        os=OsInfo(family=family, name=name, version=version, arch=info.get("cpu_type", ""), facts=facts),
        software=software,
        collected_at=when,
        collector=import_collector(NAME),
    )
    _hardware(inv.hardware, info)
    missing = [t for t in ("os_version", "system_info") if t not in tables]
    if missing:
        note(inv, f"the log holds no {' or '.join(missing)} rows for this host")
    if skipped:
        note(inv, f"{skipped} lines of other queries in the log were not used")
    inv.inventory_id = derive_id(NAME, uuid or identifier, f"{state.unix_time}:{len(software)}:{name}:{version}")
    return inv


def _software(records: SoftwareRecords, tables: dict[str, list[dict[str, str]]]) -> list[Software]:
    """Programs, then Debian, RPM and macOS application rows, as records (unnamed ones included)."""
    return (
        [_program(records, row) for row in tables.get("programs", [])]
        + [_deb(records, row) for row in tables.get("deb_packages", []) if _deb_installed(row)]
        + [_rpm(records, row) for row in tables.get("rpm_packages", [])]
        + [_app(records, row) for row in tables.get("apps", [])]
    )


def _program(records: SoftwareRecords, row: dict[str, str]) -> Software:
    return records.get(
        row.get("name", ""),
        version=row.get("version", ""),
        source="windows-registry",
        publisher=row.get("publisher", ""),
        install_date=row.get("install_date", ""),
        key=row.get("identifying_number", ""),
        scope="machine",
    )


def _deb_installed(row: dict[str, str]) -> bool:
    """Not removed, config files only or half-installed."""
    status = row.get("status", "install ok installed")
    return not status or status.endswith(" installed")


def _deb(records: SoftwareRecords, row: dict[str, str]) -> Software:
    # "source" is dpkg's Source field (empty when it is the package's own name), as our own dpkg
    # collection records it: the distribution's support data is kept per source package.
    return records.get(
        row.get("name", ""),
        version=row.get("version", ""),
        source="dpkg",
        arch=row.get("arch", ""),
        publisher=row.get("maintainer", ""),
        source_package=row.get("source", "").split("(", 1)[0].strip(),
    )


def _rpm(records: SoftwareRecords, row: dict[str, str]) -> Software:
    version = "-".join(x for x in (row.get("version", ""), row.get("release", "")) if x)
    if row.get("epoch", "") not in ("", "0"):
        version = f"{row['epoch']}:{version}"
    return records.get(
        row.get("name", ""), version=version, source="rpm", arch=row.get("arch", ""), publisher=row.get("vendor", "")
    )


def _app(records: SoftwareRecords, row: dict[str, str]) -> Software:
    return records.get(
        row.get("name", ""),
        version=row.get("bundle_short_version", "") or row.get("bundle_version", ""),
        source="macos-app",
        key=row.get("bundle_identifier", ""),
    )


def _hardware(hw: Hardware, info: dict[str, str]) -> None:
    hw.vendor = info.get("hardware_vendor", "")
    hw.model = info.get("hardware_model", "")
    hw.serial = info.get("hardware_serial", "")
    hw.cpu_model = info.get("cpu_brand", "")
    for attr, column in (
        ("cpu_cores", "cpu_physical_cores"),
        ("cpu_threads", "cpu_logical_cores"),
        ("memory_bytes", "physical_memory"),
    ):
        if info.get(column, "").isdigit():
            setattr(hw, attr, int(info[column]))


IMPORTER = Importer(
    NAME,
    "osquery results/snapshots logs (filesystem logger; os_version, system_info, programs, "
    "deb_packages, rpm_packages, apps)",
    detect,
    convert,
)
