"""The README's first command, run as written with the system Python (issue 14, first hour).

Debian 12 and Ubuntu 24.04 refuse ``pip install`` into the system Python (PEP 668,
"externally-managed-environment"). The README's first command must work there anyway, in one
command line: this test runs it, word for word, with ``/usr/bin/python3`` first on PATH in a copy
of the checkout, after checking that this system Python does refuse a plain ``pip install .`` (so
the test proves what the README claims). It installs (not editable), scans this machine read-only
and prints the report. The Python versions the README states agree with the package metadata.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```", 2)[1]
    return [line for line in block.splitlines()[1:] if line.strip()]


def _system_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = "/usr/bin:/bin"
    env.pop("LEGACYSCAN_DB", None)
    return env


def _checkout_copy(dest: Path) -> Path:
    """The files git knows (what a fresh clone has), without this checkout's venvs and builds."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def test_the_readme_states_the_python_versions_the_metadata_requires() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    required = meta["project"]["requires-python"]
    assert required == ">=3.11"
    assert "**Needs Python ≥ 3.11**" in readme
    assert "runs on **Python ≥ 3.8**" in readme  # the agent: tests/integration/test_agent_py38.py
    first = _readme_commands()[0]
    assert first.startswith("python3 -m venv ") and " -m pip install . " in first, first
    assert "--break-system-packages" not in readme


def test_the_readme_first_command_works_where_the_system_python_refuses_pip(tmp_path: Path) -> None:
    if not SYSTEM_PYTHON.exists():
        require_or_skip("no /usr/bin/python3")
    stdlib = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
        require_or_skip(f"{SYSTEM_PYTHON} is not externally managed (PEP 668): not a Debian 12 / Ubuntu 24.04 Python")
    has_pip = subprocess.run([str(SYSTEM_PYTHON), "-m", "pip", "--version"], capture_output=True, timeout=60)
    if has_pip.returncode != 0:
        require_or_skip("the system Python has no pip (apt-get install python3-pip)")
    work = _checkout_copy(tmp_path / "clone")
    env = _system_env()

    refused = subprocess.run(
        [str(SYSTEM_PYTHON), "-m", "pip", "install", "--dry-run", "--no-deps", "."],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr[-2000:]

    first = _readme_commands()[0]
    run = subprocess.run(
        ["bash", "-c", first],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    assert "== Estate" in run.stdout and re.search(r"^Devices\s+1\b", run.stdout, flags=re.M), run.stdout[-3000:]
    assert (work / "legacyscan.db").is_file()  # stored where the README says
    cfg = (work / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    assert re.search(r"^home = /usr/bin$", cfg, flags=re.M), cfg  # a venv of the system Python
    venv_python = work / ".venv" / "bin" / "python"
    installed = subprocess.run(
        [str(venv_python), "-c", "import scanner; print(scanner.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert "/.venv/lib/" in installed, installed  # installed into the venv (not editable, not the system)
