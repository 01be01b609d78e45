"""Guard the distribution: every Python package directory is declared, and its data ships.

A package missing from pyproject's explicit list installs fine in editable mode (so the tests
pass) but breaks a user's `pip install .` — exactly the README's first command.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("agents", "eol_data", "scanner", "reports")


def test_every_package_directory_is_declared() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    declared = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ROOTS
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= declared, f"add to [tool.setuptools] packages: {sorted(found - declared)}"


def test_console_scripts_point_at_real_functions() -> None:
    import importlib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    for target in config["project"]["scripts"].values():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func))
