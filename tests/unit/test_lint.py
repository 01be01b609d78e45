"""The project's own static checks run with the tests, so CI refuses a change that breaks them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_clean() -> None:
    # Through the running interpreter: the README runs the suite as `.venv/bin/python -m pytest`
    # without activating the venv, so the venv's `ruff` script is not on PATH.
    res = _run([sys.executable, "-m", "ruff", "check", "."])
    if "No module named ruff" in res.stderr:
        require_or_skip("ruff is not installed (pip install -e '.[test]')")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format_clean() -> None:
    # The tree was formatted once with `ruff format` (#18); keeping it so keeps diffs review-sized.
    res = _run([sys.executable, "-m", "ruff", "format", "--check", "."])
    if "No module named ruff" in res.stderr:
        require_or_skip("ruff is not installed (pip install -e '.[test]')")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_clean() -> None:
    res = _run([sys.executable, "-m", "mypy"])
    if "No module named mypy" in res.stderr:
        require_or_skip("mypy is not installed (pip install -e '.[test]')")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict_on_the_product() -> None:
    # agents/, scanner/ and eol_data/ type-check with --strict (#18); reports/ and tests stay on the
    # project's ordinary settings.
    res = _run([sys.executable, "-m", "mypy", "--strict", "-p", "agents", "-p", "scanner", "-p", "eol_data"])
    if "No module named mypy" in res.stderr:
        require_or_skip("mypy is not installed (pip install -e '.[test]')")
    assert res.returncode == 0, res.stdout + res.stderr
