"""The exception / risk-acceptance register: formats, validation errors naming the row, matching."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.model import Finding, MatchDetail, Status
from scanner.plan.risk_register import ExceptionFileError, load, parse_csv, parse_toml

GOOD = """
[[exception]]
id = "EX-1"
tag = "medical-device"
product = "windows"
cycle = "7-sp1"
category = "alternate-mitigation"
justification = "modality certified on Windows 7 only"
compensating_controls = ["VLAN 120", "no internet"]
medical_device = true
manufacturer_ref = "MDS2 2024-17"
owner = "Clinical engineering"
approver = "SIRO"
approved_on = 2026-01-01
expires = 2026-12-31
"""


def _finding(
    host: str = "US-1", product: str = "windows", cycle: str = "7-sp1", tags: tuple[str, ...] = ("Medical-Device",)
) -> Finding:
    return Finding(
        host_key=f"mid-{host}",
        hostname=host,
        site="North",
        kind="os",
        name="Windows 7",
        version="6.1",
        product=product,
        cycle=cycle,
        status=Status.EOL,
        eol=date(2020, 1, 14),
        extended_until=None,
        detail=MatchDetail("r", "", {}, "d"),
        tags=list(tags),
    )


def test_toml_register_parses_and_matches_by_scope() -> None:
    reg = parse_toml(GOOD, "ex.toml")
    (e,) = reg.entries
    assert e.compensating_controls == ("VLAN 120", "no internet") and e.medical_device
    assert reg.match(_finding()) is e  # tag matched case-insensitively
    assert reg.match(_finding(tags=())) is None
    assert reg.match(_finding(cycle="10-22h2")) is None
    assert e.active(date(2026, 6, 1)) and not e.active(date(2027, 1, 1)) and not e.active(date(2025, 12, 31))


def test_csv_register_same_fields_lists_split_on_semicolon() -> None:
    text = (
        "id,host,product,category,justification,compensating_controls,owner,approver,approved_on,expires\r\n"
        "EX-9,pc-7,windows,planned-remediation,replacement ordered,EDR; ESU year 1,Desktop,SIRO,"
        "2026-01-01,2026-03-31\r\n"
    )
    (e,) = parse_csv(text, "ex.csv").entries
    assert e.compensating_controls == ("EDR", "ESU year 1")
    assert reg_match(e, _finding(host="PC-7", tags=()))  # host names compare case-insensitively


def reg_match(entry, finding) -> bool:  # type: ignore[no-untyped-def]
    return bool(entry.matches(finding))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda t: t.replace('category = "alternate-mitigation"', 'category = "because"'),
            r"exception #1 \(id EX-1\): field 'category': 'because' is not one of",
        ),
        (
            lambda t: t.replace("expires = 2026-12-31", 'expires = "next year"'),
            r"exception #1 \(id EX-1\): field 'expires': not a date",
        ),
        (lambda t: t.replace('approver = "SIRO"\n', ""), r"field 'approver' is required"),
        (lambda t: t.replace('tag = "medical-device"\nproduct = "windows"\ncycle = "7-sp1"\n', ""), r"no scope"),
        (lambda t: t.replace('manufacturer_ref = "MDS2 2024-17"\n', ""), r"needs 'manufacturer_ref'"),
        (lambda t: t.replace("expires = 2026-12-31", "expires = 2025-01-01"), r"is before 'approved_on'"),
        (lambda t: t + t, r"exception #2: id 'EX-1' already used by exception #1"),
        (lambda t: t.replace("owner =", "ownr ="), r"unknown field\(s\) ownr"),
        (lambda t: t.replace('product = "windows"\n', ""), r"'cycle' needs 'product'"),
        (lambda t: t.replace("[[exception]]", "[[exceptions]]"), r"unknown top-level key"),
        (lambda t: t.replace('id = "EX-1"', 'id = "EX-1'), r"not valid TOML"),
    ],
)
def test_bad_register_gives_a_clear_error_naming_the_row(mutate, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ExceptionFileError, match=message):
        parse_toml(mutate(GOOD), "ex.toml")


def test_csv_errors_name_line_and_column() -> None:
    with pytest.raises(ExceptionFileError, match="unknown column"):
        parse_csv("id,colour\r\nEX-1,red\r\n", "ex.csv")
    text = (
        "id,host,category,justification,owner,approver,approved_on,expires\r\n"
        "EX-1,pc-1,risk-accepted,x,o,SIRO,2026-01-01,2026-02-01\r\n"
        "EX-2,pc-2,risk-accepted,x,o,SIRO,2026-13-01,2026-02-01\r\n"
    )
    with pytest.raises(ExceptionFileError, match=r"ex.csv line 3: exception #2 \(id EX-2\): field 'approved_on'"):
        parse_csv(text, "ex.csv")


def test_load_by_extension_and_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "register.toml"
    p.write_text(GOOD, encoding="utf-8")
    assert load(p).entries[0].id == "EX-1"
    with pytest.raises(ExceptionFileError, match="cannot read"):
        load(tmp_path / "missing.toml")


def test_cli_refuses_bad_register_naming_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ex.toml"
    bad.write_text(GOOD.replace("expires = 2026-12-31", 'expires = "soon"'), encoding="utf-8")
    db = tmp_path / "x.db"
    code = main(["report", "--db", f"sqlite:///{db}", "--exceptions", str(bad)])
    err = capsys.readouterr().err
    assert code == 1
    assert "exception #1 (id EX-1): field 'expires'" in err and "hint:" in err
