"""Shared test plumbing.

``require_or_skip``: tests that need a real service (sshd, PostgreSQL, Chromium, ...) skip on a
developer machine that lacks it, but FAIL in CI, where ``LEGACYSCAN_REQUIRE_INTEGRATION=1`` is set,
so a missing install step can never turn into a silently green run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REQUIRE_INTEGRATION = os.environ.get("LEGACYSCAN_REQUIRE_INTEGRATION") == "1"


def require_or_skip(reason: str) -> None:
    """Skip (developer machine) or fail (CI) because a real dependency is missing."""
    if REQUIRE_INTEGRATION:
        pytest.fail(f"integration requirement missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
