"""agents.watchdog: deadlines fire once, cancelled ones never, and a forked process gets its own thread."""

from __future__ import annotations

import os
import threading

from agents.watchdog import Watchdog


def test_deadline_fires_in_order_and_cancelled_ones_never() -> None:
    dog = Watchdog()
    fired: list[str] = []
    done = threading.Event()
    late = dog.schedule(0.2, lambda: (fired.append("late"), done.set()))
    dog.schedule(0.05, lambda: fired.append("early"))
    dropped = dog.schedule(0.1, lambda: fired.append("cancelled"))
    dog.cancel(dropped)
    assert done.wait(10)
    assert fired == ["early", "late"]
    dog.cancel(late)  # cancelling a fired deadline is harmless
    assert dog.pending() == 0


def test_a_failing_callback_does_not_stop_later_deadlines() -> None:
    dog = Watchdog()
    done = threading.Event()
    dog.schedule(0.01, lambda: 1 / 0)  # type: ignore[func-returns-value]
    dog.schedule(0.05, done.set)
    assert done.wait(10)


def test_a_forked_child_starts_its_own_thread() -> None:
    dog = Watchdog()
    first = threading.Event()
    dog.schedule(0.01, first.set)
    assert first.wait(10)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's watchdog thread does not exist here
        ok = threading.Event()
        dog.schedule(0.01, ok.set)
        os.write(write, b"1" if ok.wait(10) else b"0")
        os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 1) == b"1"
    finally:
        os.close(read)
        os.waitpid(pid, 0)
