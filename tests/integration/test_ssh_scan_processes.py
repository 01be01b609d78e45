"""The SSH scan tests again, forced through the multi-process collector path.

Large fleets (200+ targets on a multi-core machine) are collected by forked child processes;
the ordinary suite scans fewer targets and stays in one process, so this module re-runs every
SSH integration test with ``LEGACYSCAN_SCAN_PROCESSES=2`` (statuses, host keys, hanging and
dropping hosts, interrupts, resume, the per-server connection cap).
"""

from __future__ import annotations

import pytest

from tests.integration.test_ssh_scan import *  # noqa: F403 - re-collect the same tests here


@pytest.fixture(autouse=True)
def _two_collector_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGACYSCAN_SCAN_PROCESSES", "2")
