"""A collector process that stops sending is asked for its threads' stacks, not waited on in silence.

Every host step has a timeout, so a silent collector process is stuck where no timeout reaches; the
storing process warns and the child writes every thread's stack to stderr (faulthandler), so the
operator -- or a CI log -- can say where.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import time
from pathlib import Path

import pytest

from scanner.collect.children import ChildReader, stacks_on_request
from scanner.collect.results import ScanSummary


def _stuck_somewhere_deep() -> None:
    time.sleep(60)


def _child(err_path: str) -> None:
    fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    stacks_on_request()
    _stuck_somewhere_deep()


def test_a_silent_collector_is_warned_about_and_dumps_its_stacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[object] = ctx.Queue()
    err = tmp_path / "child-stderr.txt"
    err.write_text("")
    child = ctx.Process(target=_child, args=(str(err),), daemon=True)
    child.start()
    try:
        reader = ChildReader(results, ScanSummary(), [child], stall_after=0.5)
        deadline = time.monotonic() + 30
        with caplog.at_level(logging.WARNING, logger="scanner.collect.children"):
            while time.monotonic() < deadline and "_stuck_somewhere_deep" not in err.read_text(errors="replace"):
                with pytest.raises(queue.Empty):
                    reader.get(0.1)
        dump = err.read_text(errors="replace")
        assert "_stuck_somewhere_deep" in dump, dump  # where the child is stuck
        warnings = [r.getMessage() for r in caplog.records if "has sent nothing" in r.getMessage()]
        assert len(warnings) == 1, warnings  # once per silence, not every poll
        assert child.is_alive()  # asked, not killed: the scan still waits for its hosts
    finally:
        child.kill()
        child.join(5)
        results.close()
