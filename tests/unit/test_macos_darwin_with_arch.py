"""Darwin kernel versions written with the CPU architecture between name and number.

Why: VS Code's issue reporter (and anything printing Node's os.type(), os.arch(), os.release())
writes "OS version: Darwin arm64 23.4.0" (microsoft/vsmarketplace #1005, microsoft/vscode #258190,
round-5 labelled strings); the Darwin number was only read right after "Darwin", so these macOS
hosts came back with no evidence at all."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


@pytest.mark.parametrize(
    "text, cycle",
    [
        ("OS version: Darwin arm64 23.4.0", "14"),
        ("OS version: Darwin x64 22.6.0", "13"),
        ("Darwin arm64 24.5.0", "15"),
        ("Darwin Kernel Version 23.1.0: Mon Oct  9 21:27:24 PDT 2023", "14"),  # unchanged
        ("Darwin 21.6.0", "12"),  # unchanged
    ],
)
def test_darwin_version_after_the_architecture(text: str, cycle: str) -> None:
    record = {"kind": "os", "family": "macos", "issue body": text}
    out = evaluate(record, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    assert (out["product"], out["cycle"]) == ("macos", cycle), out


def test_an_architecture_word_alone_is_no_version() -> None:
    record = {"kind": "os", "family": "macos", "issue body": "Darwin arm64"}
    out = evaluate(record, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    assert out["product"] is None and out["rule"] == "macos.no-evidence", out
