"""Integration plumbing: start building the cached Debian roots as soon as the integration tests
are collected, so on a fresh machine (CI) the download and unpacking overlap the other tests
instead of adding to the run (tests/integration/debroot.py)."""

from __future__ import annotations

from tests.integration import debroot

debroot.prebuild_in_background(tuple(debroot.SUITE_PACKAGES))
