"""``agents/`` runs on Python 3.8+: a static minimum-version check (vermin) and the version gate.

The agent is deployed to the old systems themselves (Debian 11's 3.9, RHEL 8's 3.8, macOS's
3.9.6, Windows 7's last 3.8), so a newer-only construct in ``agents/`` is a bug the 3.11 suite
cannot see by running.  ``vermin`` reads the source and names every feature newer than the target;
the Debian 11 root test (``tests/integration/test_agent_debian11.py``) runs it for real.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
VERMIN = "import sys; from vermin import main; sys.exit(main())"


def _vermin(*paths: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", VERMIN, "-t=3.8-", "--no-tips", "--violations", *paths]
    res = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    if "No module named 'vermin'" in res.stderr:
        require_or_skip("vermin is not installed (pip install -e '.[test]')")
    return res


def test_agents_need_nothing_newer_than_python_38() -> None:
    res = _vermin("agents/")
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_check_catches_newer_constructs(tmp_path: Path) -> None:
    # The check is only worth having if it fails on what broke the agent before (3.10/3.11 only).
    bad = tmp_path / "newer.py"
    bad.write_text(
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "from datetime import UTC\n"
        "@dataclass(slots=True)\n"
        "class A:\n"
        "    x: int = 0\n"
        "def f(v: object) -> str:\n"
        "    match v:\n"
        "        case 1:\n"
        "            return 'one'\n"
        "    return 'x'.removeprefix('y')\n",
        encoding="utf-8",
    )
    res = _vermin(str(bad))
    assert res.returncode != 0
    for feature in ("slots", "UTC", "match"):
        assert feature in res.stdout, res.stdout


def _gate(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=env)


def test_an_older_interpreter_gets_one_line_not_a_traceback() -> None:
    # sys.version_info is what the gate reads; set it as a 3.7 interpreter would report it.
    res = _gate([sys.executable, "-c", "import sys; sys.version_info = (3, 7, 9, 'final', 0); import agents.agent"])
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "needs Python 3.8 or newer" in lines[0] and "Python 3.7" in lines[0]
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "python",
    sorted(
        p
        for p in glob.glob("/root/.pyenv/versions/*/bin/python") + glob.glob("/usr/bin/python2*")
        if Path(p).parent.parent.name.startswith(("2.", "3.6", "3.7")) or "python2" in p
    ),
)
def test_real_old_interpreters_get_the_one_line_message(python: str) -> None:
    # Where this machine has real old Pythons (pyenv builds), they run the real gate.
    res = _gate([python, "-c", "import agents.agent"])
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "needs Python 3.8 or newer" in res.stderr, res.stderr
