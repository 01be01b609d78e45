"""The fleet engine without an SSH server: window, refused ports, WinRM dispatch, progress output.

Real sockets on 127.0.0.1 (a closed port refuses at once); the store is a real SQLite file.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.collect.config import ScanConfig, ScanWindow
from scanner.collect.engine import FleetScanner
from scanner.collect.progress import Progress
from scanner.store.sqlite import SqliteStore
from scanner.targets import Target


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: connections are refused


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(str(tmp_path / "s.db"))


def cfg(**kw: object) -> ScanConfig:
    base: dict[str, object] = {
        "concurrency": 4,
        "timeout": 3,
        "connect_timeout": 2,
        "use_agent": False,
        "ssh_user": "nobody",
    }
    base.update(kw)
    return ScanConfig(**base)  # type: ignore[arg-type]


def test_refused_port_is_unreachable_and_stores_no_inventory(store: SqliteStore) -> None:
    t = Target("127.0.0.1", "Clinic", "ssh", closed_port())
    summary = FleetScanner(store, cfg()).run([t])
    assert summary.by_status == {"unreachable": 1} and summary.failed == 1
    st = store.statuses()[0]
    assert (st.target, st.site, st.status) == (t.key, "Clinic", "unreachable")
    assert "Connection refused" in st.error
    assert store.count_inventories() == 0


def test_outside_the_scan_window_nothing_starts(store: SqliteStore) -> None:
    noon = datetime(2026, 11, 30, 12, 0)
    scanner = FleetScanner(store, cfg(window=ScanWindow.parse("19:00-07:00")), local_now=lambda: noon)
    summary = scanner.run([Target("127.0.0.1", port=closed_port())])
    assert summary.window_closed and summary.done == summary.failed == 0
    assert store.statuses() == []


def test_window_closing_mid_scan_stops_starting_hosts(store: SqliteStore) -> None:
    times = iter([datetime(2026, 11, 30, 20, 0)] * 2 + [datetime(2026, 11, 30, 7, 30)] * 100)
    scanner = FleetScanner(
        store, cfg(concurrency=1, window=ScanWindow.parse("19:00-07:00")), local_now=lambda: next(times)
    )
    port = closed_port()
    summary = scanner.run([Target(f"127.0.0.{i}", port=port) for i in range(1, 6)])
    assert summary.window_closed
    assert 1 <= summary.failed < 5, "the first host ran, the rest waits for --resume"


def test_winrm_target_without_credentials_is_reported_not_crashed(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("LEGACYSCAN_WINRM_USER", "LEGACYSCAN_WINRM_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    summary = FleetScanner(store, cfg()).run([Target("127.0.0.1", transport="winrm", port=closed_port())])
    st = summary.statuses[0]
    assert st.status in ("auth-failed", "unreachable", "error") and st.error
    assert store.count_inventories() == 0


def test_status_time_comes_from_the_injected_clock(store: SqliteStore) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    FleetScanner(store, cfg(), now=lambda: at).run([Target("127.0.0.1", port=closed_port())])
    assert store.statuses()[0].at == "2026-01-02T03:04:05Z"


def test_progress_bar_on_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress(10, out, tty=True)
    bar.update(4, 1, force=True)
    bar.finish()
    text = out.getvalue()
    assert "\r[" in text and "4/10 done, 1 failed" in text and "/s, ETA" in text and text.endswith("\n")
