"""Windows names run together as identifiers, and a version that starts with a released build.

Why: cloud inventories hand over an Azure image reference instead of a caption ("Publisher:
MicrosoftWindowsServer", "Offer: WindowsServer", "Sku: 2022-Datacenter", "ExactVersion:
20348.1249.221105" = build . update revision . image date; actions/runner-images #6545, round-5
labelled strings).  "WindowsServer" was no Windows name we knew and the version no NT version, so the
answer was unknown for a supported Server 2022.  Only builds the table knows are read, so another
product's five-digit version stays what it is."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.identify.windows_os import normalise_caption
from scanner.model import Policy


def _answer(record: dict[str, Any]) -> tuple[str | None, str | None, str]:
    full = {"kind": "os", "family": "windows", **record}
    out = evaluate(full, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    return out["product"], out["cycle"], out["status"]


def test_azure_image_reference() -> None:
    record = {
        "Publisher": "MicrosoftWindowsServer",
        "Offer": "WindowsServer",
        "Sku": "2022-Datacenter",
        "Version": "latest",
        "ExactVersion": "20348.1249.221105",
    }
    assert _answer(record) == ("windows-server", "2022", "supported")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("MicrosoftWindowsServer", "microsoft windows server"),
        ("WindowsServer 2022-Datacenter", "windows server 2022-datacenter"),
        ("WindowsServer2019Datacenter", "windows server 2019datacenter"),
        ("Microsoft Windows 10 Pro", "microsoft windows 10 pro"),  # unchanged
    ],
)
def test_run_together_names_come_apart(text: str, expected: str) -> None:
    assert normalise_caption(text) == expected


def test_caption_run_together_with_a_year() -> None:
    assert _answer({"caption": "WindowsServer 2022-Datacenter"}) == ("windows-server", "2022", "supported")


@pytest.mark.parametrize(
    "record, expected",
    [
        # a released build with its update revision under a version key
        ({"caption": "Windows Server", "ImageVersion": "17763.4010"}, ("windows-server", "2019", "supported")),
        # not a Windows build: a product version that happens to have five digits
        ({"caption": "Windows Server", "ProductVersion": "12345.6789"}, (None, None, "unknown")),
    ],
)
def test_version_starting_with_a_released_build(record: dict[str, Any], expected: tuple[Any, Any, str]) -> None:
    assert _answer(record) == expected
