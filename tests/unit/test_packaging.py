"""Guard the distribution: every Python package directory is declared, and its data ships.

A package missing from pyproject's explicit list installs fine in editable mode (so the tests
pass) but breaks a user's `pip install .` — exactly the README's first command.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

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


def test_zipapp_vendoring_needs_no_packaging_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain ``pip install .`` has no ``packaging``: requirements whose marker excluded them on
    this Python (exceptiongroup, an old anyio's sniffio) are not installed and must be skipped,
    not fail the build ("cannot vendor sniffio")."""
    import importlib.util
    import sys

    from agents.build_zipapp import vendored_modules

    with_packaging = vendored_modules()
    monkeypatch.setitem(sys.modules, "packaging.requirements", None)
    without = vendored_modules()
    assert "httpx" in without and "httpcore" in without
    assert all(importlib.util.find_spec(m) is not None for m in without), without
    assert set(with_packaging) <= set(without) | {"typing_extensions"}
