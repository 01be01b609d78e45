"""``legacyscan import`` of the raw document a Windows PC drops (legacyscan-agent.ps1 -Output, or
windows_collect.ps1's output saved by hand): stored as the host it describes, parsed by the same
parser as the WinRM scan; run through the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.windows import parse_document
from scanner.store.open import open_store
from tests.conftest import FIXTURES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_a_dropped_raw_windows_document_imports_as_its_host(tmp_path: Path) -> None:
    name = "windows-srv2022-standard-eval"
    text = (FIXTURES / "hosts" / name / "collect.json").read_text("ascii").rstrip()
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "WARDPC01-20261122090000.json").write_text(text[:-1] + ',"inventory_id":"ps1-drop-1"}', "ascii")
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    env = {k: v for k, v in os.environ.items() if k != "LEGACYSCAN_DB"}
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "import", str(drop), "--db", db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    with open_store(db) as store:
        [inv] = store.latest_inventories()
    expected = parse_document(text)
    assert inv.inventory_id == "ps1-drop-1"
    assert inv.os.family == "windows" and inv.os.facts == expected.os.facts
    assert inv.os.facts["caption"].startswith("Microsoft Windows Server 2022")
    assert sorted(s.name for s in inv.software) == sorted(s.name for s in expected.software)
