"""A macOS release's marketing name without a version ("macOS Ventura", "OS X El Capitan", "Mac OS X
Snow Leopard") names its cycle through the dataset's own codenames.  Why: issue reports and
inventories often give only the name; such records were "no macOS product version, build or Darwin
version" (hlab5 round 5, macOS probe).  A version or build, when present, still decides."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


def _answer(record: dict[str, str]) -> tuple[str | None, str | None]:
    out = evaluate(
        {"kind": "os", "family": "macos", **record}, IdentifyContext(Catalog()), date(2026, 11, 22), Policy()
    )
    return out["product"], out["cycle"]


@pytest.mark.parametrize(
    "text, cycle",
    [
        ("macOS Ventura", "13"),
        ("macOS Big Sur", "11"),
        ("OS X El Capitan", "10.11"),
        ("macOS High Sierra", "10.13"),
        ("macOS Sierra", "10.12"),
        ("Mac OS X Snow Leopard", "10.6"),
        ("OS X Mountain Lion", "10.8"),
        ("Mac OS X Lion", "10.7"),
        ("macOS Server Monterey", "12"),
    ],
)
def test_release_name_alone_names_the_cycle(text: str, cycle: str) -> None:
    assert _answer({"os": text}) == ("macos", cycle)


def test_a_version_still_decides() -> None:
    assert _answer({"os": "macOS Sonoma 13.6.1"}) == ("macos", "13")


def test_no_name_no_answer() -> None:
    assert _answer({"os": "macOS"}) == (None, None)


@pytest.mark.parametrize(
    "text, cycle",
    [
        # a release name with a version of that release, anywhere in the text
        ("Mac OS issue with Monterey 12.0.1", "12"),
        # macOS numbered 15 then 26: an "OS version" 16-25 is the Darwin release (Node's os.release())
        ("Unsupported Mac OS version 20.0.0", "11"),
        ("Mac OS version 22.6.0", "13"),
        # real product versions are untouched
        ("macOS 26.1", "26"),
        ("macOS version 15.1", "15"),
    ],
)
def test_name_with_version_and_darwin_written_as_version(text: str, cycle: str) -> None:
    assert _answer({"os": text}) == ("macos", cycle)


def test_a_version_above_the_darwin_gap_is_not_read_as_darwin() -> None:
    assert _answer({"os": "macOS 27.0"})[1] is None
