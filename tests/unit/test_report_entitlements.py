"""`legacyscan report` honours the site catalogue's entitlements (ESU turns eol into extended)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.inventory import Host, Inventory, OsInfo
from scanner.cli import main
from scanner.store import open_store

WIN10_22H2 = {"caption": "Microsoft Windows 10 Enterprise", "product_name": "Windows 10 Enterprise",
              "version": "10.0.19045", "build": "19045", "ubr": 6456, "edition_id": "Enterprise",
              "display_version": "22H2", "installation_type": "Client", "product_type": 1}


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with open_store(url) as store:
        store.save_inventory(Inventory(host=Host(hostname="PC-123", machine_id="pc123", site="North"),
                                       os=OsInfo(family="windows", name="Windows 10 Enterprise", facts=WIN10_22H2),
                                       collected_at="2026-11-29T09:00:00Z"))
    return url


def _os_status(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    return str(data["sites"][0]["hosts"][0]["os"]["status"])


def test_esu_entitlement_changes_the_verdict(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./legacyscan-site.toml here
    base = ["report", "--db", db, "--format", "json", "--as-of", "2026-11-30"]
    assert _os_status(capsys, base) == "eol"
    catalogue = tmp_path / "site.toml"
    catalogue.write_text('[[entitlements]]\nproduct = "windows"\ncycles = ["10-22h2"]\nname = "Windows 10 ESU"\n')
    assert _os_status(capsys, [*base, "--site-catalog", str(catalogue)]) == "extended"


def test_broken_site_catalogue_is_a_clear_error(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[entitlements]]\nproduct = "windows"\ncycles = "not-a-list"\n')
    rc = main(["report", "--db", db, "--site-catalog", str(bad)])
    err = capsys.readouterr().err
    assert rc == 1 and "bad.toml" in err and "hint:" in err
