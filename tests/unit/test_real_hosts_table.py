"""tools/real_hosts_table.py: the table of the real Windows test hosts (#11 item 3), from the fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.conftest import FIXTURES

TOOL = Path(__file__).resolve().parents[2] / "tools" / "real_hosts_table.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("real_hosts_table", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_row_per_real_host_with_its_per_user_entries_and_sid() -> None:
    tool = _tool()
    rows = tool.rows()
    hosts = sorted(p.parent.name for p in (FIXTURES / "hosts").glob("windows-*/collect.json"))
    assert [f"windows-{r['host']}" for r in rows] == hosts
    frst = next(r for r in rows if r["host"] == "win11-24h2-pro-namelessweb")
    assert (frst["software"], frst["ubr"], frst["edition_id"], frst["hku"], frst["hku_sid"]) == (143, 3194, "", 9, 9)
    assert frst["views"] == ["32", "64", "user"] and frst["source"].startswith("NamelessWeb/test@86003ed4")
    assert frst["os"] == "Microsoft Windows 11 Pro 24H2 build 26100"
    xp = next(r for r in rows if r["host"] == "xp-sp3-professional-x86")
    assert xp["os"] == "Microsoft Windows XP Professional Service Pack 3 build 2600" and xp["hku"] == 0
    insider = next(r for r in rows if r["host"] == "win11-insider-25252-pro-specify-test13")
    assert (insider["firmware"], insider["tpm"], frst["firmware"], frst["tpm"]) == (True, True, False, False)


def test_totals_and_markdown_agree_with_the_rows() -> None:
    tool = _tool()
    rows = tool.rows()
    totals = tool.totals(rows)
    assert totals["hosts"] == len(rows)
    assert totals["with HKU entries and the SID"] == sum(1 for r in rows if r["hku_sid"]) >= 1
    assert totals["with EditionID and software"] == sum(1 for r in rows if r["edition_id"] and r["software"])
    assert totals["with the TPM"] == sum(1 for r in rows if r["tpm"]) >= 1
    lines = tool.markdown(rows).splitlines()
    assert len(lines) == 2 + len(rows) and all(line.count("|") == 8 for line in lines)
    assert "| win11-24h2-pro-namelessweb | Microsoft Windows 11 Pro 24H2 build 26100 | 143 (32, 64, user) | 3194 |" in (
        tool.markdown(rows)
    )
