"""``agents.packaged.Packaged``: the one module-level memo, for what the installed package ships."""

from __future__ import annotations

import threading
from pathlib import Path

from agents.packaged import Packaged
from agents.windows import SCRIPT_PATH, load_script
from eol_data.rules import RULES_DIR
from scanner import __version__
from scanner.judge.fingerprint import fingerprint, installed
from scanner.plan.readiness import CPU_DATA, cpu_rules


def test_read_once_whatever_the_threads() -> None:
    calls: list[int] = []
    started = threading.Barrier(8)

    def read() -> tuple[str, ...]:
        calls.append(1)
        return ("rules",)

    value = Packaged(read)
    got: list[tuple[str, ...]] = []

    def ask() -> None:
        started.wait()
        got.append(value.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and len(got) == 8 and all(g is got[0] for g in got)
    assert value.get() is got[0] and calls == [1]


def test_a_failed_read_is_tried_again() -> None:
    attempts: list[int] = []

    def read() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("not there yet")
        return "ok"

    value = Packaged(read)
    try:
        value.get()
    except OSError:
        pass
    assert value.get() == "ok" and len(attempts) == 2


def test_the_packaged_values_are_what_reading_the_files_gives(tmp_path: Path) -> None:
    assert load_script() == SCRIPT_PATH.read_text("utf-8") and load_script() is load_script()
    assert installed() == fingerprint(__version__, RULES_DIR) and installed() is installed()
    bundled = cpu_rules()
    assert cpu_rules() is bundled and cpu_rules(CPU_DATA) == bundled and cpu_rules(CPU_DATA) is not bundled
    other = tmp_path / "cpus.json"
    other.write_text('{"version": "test", "rules": [{"pattern": "^Intel"}]}', encoding="utf-8")
    assert cpu_rules(other).version == "test" and cpu_rules().version == bundled.version  # a path is read now
