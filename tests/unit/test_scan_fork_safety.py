"""``legacyscan scan`` never forks collector processes beside its report-warming thread.

That thread imports the report's modules while the first connections are in flight; a fork while it
holds a module's import lock leaves the lock held for ever in the child, which then hangs on its
first import of that module.  So the thread only runs for scans that stay in one process.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from scanner.cli import main


def _targets(tmp_path: Path, n: int) -> Path:
    csv = tmp_path / "targets.csv"
    # nothing listens on port 1 of loopback: every host is "unreachable" at once, no network needed
    csv.write_text("host,port,site\n" + "".join(f"127.0.0.{i + 1},1,Ward {i}\n" for i in range(n)))
    return csv


@pytest.mark.parametrize(("processes", "warmed"), [("1", True), ("2", False)])
def test_report_warming_thread_only_beside_a_one_process_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], processes: str, warmed: bool
) -> None:
    monkeypatch.setenv("LEGACYSCAN_SCAN_PROCESSES", processes)
    started: list[str] = []
    real_start = threading.Thread.start

    def recording_start(self: threading.Thread) -> None:
        started.append(self.name)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    code = main(
        [
            "scan",
            "--targets",
            str(_targets(tmp_path, 3)),
            "--db",
            f"sqlite:///{tmp_path / 's.db'}",
            "--connect-timeout",
            "2",
            "--progress",
            "none",
            "--known-hosts",
            str(tmp_path / "known_hosts"),
            "--no-agent",
        ]
    )
    captured = capsys.readouterr()
    err = captured.err + captured.out
    assert code == 1, err
    assert "unreachable" in err, err  # the scan ran: every host was tried
    assert ("warm-report" in started) is warmed, started
