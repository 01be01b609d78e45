"""Builds written in a Windows caption: the NT version with its build, and a second, later build of the
same servicing line.

Why: an agent's or a bug report's one-line OS string lands in the caption field ("Windows 11 Pro
10.0.22631.7309"); its build was read from other fields but not from the caption itself, so the
release was unknown.  And rdpwrap users write the OS build beside termsrv.dll's version ("Windows 11
pro build 26200.7623 ver 10.0.26100.7309", stascorp/rdpwrap #4076, round-5 labelled strings):
25H2 ships as an enablement package on 24H2's build, so termsrv, ntoskrnl and BuildLab keep saying
26100 -- read alone, it made a supported 25H2 Pro an ended 24H2 Pro (a wrong "end-of-life")."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


def _answer(caption: str) -> tuple[str | None, str | None, str]:
    record = {"kind": "os", "family": "windows", "caption": caption}
    out = evaluate(record, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    return out["product"], out["cycle"], out["status"]


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("Windows 11 pro build 26200.7623 ver 10.0.26100.7309", ("windows", "11-25h2-w", "supported")),
        ("Windows 11 Enterprise 26200.1 termsrv 10.0.26100.1", ("windows", "11-25h2-e", "supported")),
        ("Windows 11 Pro 10.0.22631.7309", ("windows", "11-23h2-w", "eol")),
        ("Windows 10 Pro 10.0.19045.3803", ("windows", "10-22h2", "eol")),
        ("Microsoft Windows Server 2012 R2 Standard 6.3.9600", ("windows-server", "2012-r2", "eol")),
        # not a sibling: Windows 11 23H2's build beside Windows 10 22H2's is a different major
        ("Windows 10 Pro 10.0.19045.3803 build 22631", ("windows", "10-22h2", "eol")),
    ],
)
def test_builds_in_the_caption(caption: str, expected: tuple[str, str, str]) -> None:
    assert _answer(caption) == expected


def test_os_build_beside_termsrv_version_in_an_issue_title() -> None:
    """The labelled record's shape: the title under its own key (read as free text) and as caption."""
    title = "Windows 11 pro build 26200.7623 ver 10.0.26100.7309"
    record = {"kind": "os", "family": "windows", "caption": title, "issue title": title}
    out = evaluate(record, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    assert (out["product"], out["cycle"], out["status"]) == ("windows", "11-25h2-w", "supported"), out
