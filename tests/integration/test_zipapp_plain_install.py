"""The agent zipapp builds from a plain ``pip install .`` (the README's install), not only from the
development install: a fresh venv with no system site-packages and no ``packaging`` library, the
zipapp built from outside the checkout, carrying psutil, and run isolated (``-I -S``) it reports
hardware.  (Issue 12: it once failed with "cannot vendor sniffio" there.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_zipapp_builds_from_a_plain_pip_install(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    python = str(venv / "bin" / "python")
    pip = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-4000:]
    where = subprocess.run(
        [python, "-c", "import agents, importlib.util as u; print(agents.__file__); print(u.find_spec('packaging'))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split("\n")
    assert where[0].startswith(str(venv)) and where[1] == "None", where  # installed copy, no packaging
    out = tmp_path / "legacyscan-agent.pyz"
    build = subprocess.run(
        [python, "-m", "agents.build_zipapp", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    assert "carrying psutil for linux-" in build.stderr
    run = subprocess.run(
        [python, "-I", "-S", str(out), "--output", str(tmp_path / "inv.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    inv = json.loads((tmp_path / "inv.json").read_text())
    assert inv["hardware"]["memory_bytes"] > 0 and len(inv["software"]) > 50
    assert not [p for p in inv.get("problems", []) if p["probe"].startswith("hardware.psutil")]
