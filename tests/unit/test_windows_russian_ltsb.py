"""A Russian or Chinese LTSB caption: "Майкрософт Windows 10 Корпоративная 2016 с долгосрочным обслуживанием"
(Win32_OperatingSystem.Caption / Win32_Process.OSName of a Russian Windows 10 Enterprise 2016 LTSB)
spells the long-term servicing branch out instead of writing "LTSB" (Chinese: "Windows 10 企业版 2016
长期服务版", "long-term servicing edition").  It was read as plain
Enterprise ("корпоративная") on build 14393: Windows 10 1607 (E), ended 2019-04-09 -- a false
end-of-life for a machine supported until 2026-10-13.  Found in round 5 (hlab5) while probing localized
captions; the caption is quoted in a public code comment as an observed OSName value."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


def _answer(caption: str, version: str, when: date) -> tuple[str | None, str | None, str]:
    record = {"kind": "os", "family": "windows", "caption": caption, "version": version}
    out = evaluate(record, IdentifyContext(Catalog()), when, Policy())
    return out["product"], out["cycle"], out["status"]


@pytest.mark.parametrize(
    "caption, version, cycle",
    [
        ("Майкрософт Windows 10 Корпоративная 2016 с долгосрочным обслуживанием", "10.0.14393", "10-1607-e-lts"),
        ("Майкрософт Windows 10 Корпоративная 2015 с долгосрочным обслуживанием", "10.0.10240", "10-1507-e-lts"),
        ("Microsoft Windows 10 企业版 2016 长期服务版", "10.0.14393", "10-1607-e-lts"),
        # Win32_Process.OSName carries the caption followed by the Windows directory and boot partition
        (
            "Майкрософт Windows 10 Корпоративная 2016 с долгосрочным обслуживанием|C:\\Windows|"
            "\\Device\\Harddisk0\\Partition2",
            "10.0.14393",
            "10-1607-e-lts",
        ),
    ],
)
def test_russian_long_term_servicing_caption_is_ltsb(caption: str, version: str, cycle: str) -> None:
    product, got, status = _answer(caption, version, date(2024, 6, 1))
    assert (product, got) == ("windows", cycle)
    assert status != "eol"  # both LTSB releases were supported on that day


def test_plain_russian_enterprise_stays_general_availability() -> None:
    # no long-term words: the general-availability Enterprise cycle, as before
    assert _answer("Майкрософт Windows 10 Корпоративная", "10.0.14393", date(2024, 6, 1))[:2] == (
        "windows",
        "10-1607-e",
    )
