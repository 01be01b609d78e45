"""tools/ident_differential.py: the identification differential records every answer and finds a change.

The tool is a developer's (it reads only the paths it is given); this test feeds it two records of
the bundled corpus fixture and one host fixture, then checks that the API and CLI answers it stores
agree, and that ``compare`` reports a changed answer with the record's label and exit status 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "ident_differential.py"
FIXTURES = ROOT / "tests" / "fixtures"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, env=env, check=False)


def test_records_every_variant_and_reports_a_changed_answer(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = (FIXTURES / "corpus" / "os_records.jsonl").read_text("utf-8").splitlines()
    systeminfo = next(ln for ln in lines if '"OS Name"' in ln and "Windows 10" in ln)
    (corpus / "os.jsonl").write_text(systeminfo + "\n", "utf-8")
    host = tmp_path / "hosts" / "windows-win10-22h2-enterprise"
    host.mkdir(parents=True)
    source = FIXTURES / "hosts" / "windows-win10-22h2-enterprise" / "collect.json"
    (host / "collect.json").write_bytes(source.read_bytes())

    base = tmp_path / "base.jsonl"
    done = _run("record", str(base), str(corpus), str(tmp_path / "hosts"))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(ln) for ln in base.read_text("utf-8").splitlines()]
    labels = [r["label"] for r in rows]
    for variant in (":contract", ":raw-family", ":raw", ":text", ":line:OS Name", ":without:caption"):
        assert any(label.endswith(variant) or variant + ":" in label for label in labels), variant
    assert any(label.startswith("windows-win10-22h2-enterprise:raw-os-document") for label in labels)
    assert all(r["cli"] == r["api"]["evaluate"] for r in rows)  # the CLI and the API agree
    contract = next(r for r in rows if r["label"].endswith(":contract") and r["label"].startswith("os.jsonl"))
    assert contract["api"]["product"] == "windows" and contract["api"]["evidence"]

    same = _run("compare", str(base), str(base))
    assert same.returncode == 0 and same.stdout.strip().endswith(f"{len(rows)} new records, 0 differences")

    changed = tmp_path / "changed.jsonl"
    contract["api"]["cycle"] = "10-1507"
    changed.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    diff = _run("compare", str(base), str(changed))
    assert diff.returncode == 1
    assert f"{contract['label']} [api]" in diff.stdout and diff.stdout.strip().endswith("1 differences")
