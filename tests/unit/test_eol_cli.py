"""``legacyscan eol identify | info | show``, run as the real CLI (a subprocess, like its users run it).

The identify contract (ARCHITECTURE.md) is what other tools build on: one JSON line out per line
in, in order, errors as lines, never a crash, answers flushed while stdin is still open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {"product", "cycle", "status", "eol", "rule", "reason"}

DEBIAN_12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n'
    'SUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n'
)
DEBIAN_RECORD = {"kind": "os", "family": "linux", "files": {"/etc/os-release": DEBIAN_12}}

SITE = """\
[policy]
lookahead_days = 30

[[products]]
name = "theatre-board"
label = "TheatreBoard client"
  [[products.releases]]
  name = "7"
  eol = 2026-09-30
  [[products.releases]]
  name = "8"
  eol = 2029-09-30

[[rules]]
id = "theatre"
product = "theatre-board"
name = '^TheatreBoard'
version = '^(\\d+)\\.'

[[entitlements]]
product = "windows-server"
cycles = ["2012-r2"]
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")  # no refreshed snapshot: the bundled one is used
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _cli(tmp_path: Path, *args: str, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        timeout=120,
        check=False,
    )


def _identify(tmp_path: Path, lines: list[bytes], *args: str, **env: str) -> list[dict[str, Any]]:
    proc = _cli(tmp_path, "eol", "identify", *args, stdin=b"".join(lines), **env)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode().splitlines()
    return [json.loads(line) for line in out]


def _line(record: Any) -> bytes:
    return json.dumps(record).encode() + b"\n"


def test_one_line_out_per_line_in_order_with_errors_as_lines(tmp_path: Path) -> None:
    lines = [
        _line(DEBIAN_RECORD),
        b"\n",  # empty line: malformed input, answered with an error line
        b"{not json\n",
        b"[1, 2]\n",  # valid JSON, not an object
        _line({"kind": "printer"}),
        b'{"kind": "software", "name": "\xff\xfe"}\n',  # not UTF-8
        b"x" * (1024 * 1024 + 10) + b"\n",  # absurdly long line
        b"   \r\n",
        _line({"kind": "software", "source": "windows-registry", "name": "Unheard Of Tool", "version": "1.0"}),
        _line(DEBIAN_RECORD).rstrip(b"\n") + b"\r\n",  # CRLF
        _line(DEBIAN_RECORD).rstrip(b"\n"),  # last line without a newline still counts
    ]
    out = _identify(tmp_path, lines, "--as-of", "2026-11-30")
    assert len(out) == len(lines)
    errors = [i for i, o in enumerate(out) if "error" in o]
    assert errors == [1, 2, 3, 4, 5, 6, 7]
    for i in errors:
        assert set(out[i]) == {"error"}
        assert out[i]["error"].startswith(f"line {i + 1}: ")
    assert "empty line" in out[1]["error"]
    assert "not valid JSON" in out[2]["error"]
    assert "JSON object" in out[3]["error"]
    assert "'kind'" in out[4]["error"]
    assert "longer than" in out[6]["error"]
    for i in (0, 8, 9, 10):
        assert set(out[i]) == CONTRACT_KEYS
    assert out[8]["product"] is None and out[8]["status"] == "unknown"
    assert [(out[i]["product"], out[i]["cycle"]) for i in (0, 9, 10)] == [("debian", "12")] * 3


def test_as_of_changes_the_status(tmp_path: Path) -> None:
    eol = Catalog().release("debian", "12")
    assert eol is not None and eol.eol_date is not None
    dates = ["2025-06-01", eol.eol_date.isoformat(), "2026-11-30"]
    results = {d: _identify(tmp_path, [_line(DEBIAN_RECORD)], "--as-of", d)[0] for d in dates}
    assert results["2025-06-01"]["status"] == "supported"
    assert results[eol.eol_date.isoformat()]["status"] == "ending-soon"  # still supported on the end date itself
    after = results["2026-11-30"]
    assert (after["product"], after["cycle"], after["status"]) == ("debian", "12", "extended")  # free Debian LTS
    assert after["eol"] == eol.eol_date.isoformat()


def test_site_lookahead_makes_debian_12_supported_on_2026_06_01(tmp_path: Path) -> None:
    (tmp_path / "legacyscan-site.toml").write_text(SITE, "utf-8")  # found in the working directory
    default = _identify(
        tmp_path,
        [_line(DEBIAN_RECORD)],
        "--as-of",
        "2026-06-01",
        "--site-catalog",
        str(ROOT / "examples" / "legacyscan-site.toml"),
    )[0]
    assert default["status"] == "ending-soon"  # the example's 270-day lookahead
    site = _identify(tmp_path, [_line(DEBIAN_RECORD)], "--as-of", "2026-06-01")[0]
    assert (site["product"], site["cycle"], site["status"]) == ("debian", "12", "supported")  # 30 days


def test_site_catalogue_rules_apply_in_identify(tmp_path: Path) -> None:
    site = tmp_path / "trust.toml"
    site.write_text(SITE, "utf-8")
    rec = {"kind": "software", "source": "windows-registry", "name": "TheatreBoard Client", "version": "7.3.1"}
    for out in (
        _identify(tmp_path, [_line(rec)], "--as-of", "2026-11-30", "--site-catalog", str(site))[0],
        _identify(tmp_path, [_line(rec)], "--as-of", "2026-11-30", LEGACYSCAN_SITE_CATALOG=str(site))[0],
    ):
        assert out == {
            **out,
            "product": "theatre-board",
            "cycle": "7",
            "status": "eol",
            "eol": "2026-09-30",
            "rule": "site.theatre",
        }


def test_broken_site_catalogue_is_a_clear_error(tmp_path: Path) -> None:
    site = tmp_path / "trust.toml"
    site.write_text(SITE.replace("eol = 2026-09-30", 'eol = "30/09/2026"'), "utf-8")
    proc = _cli(tmp_path, "eol", "identify", "--site-catalog", str(site), stdin=_line(DEBIAN_RECORD))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "trust.toml:9: products[0].releases[0].eol: expected a date (YYYY-MM-DD)" in err
    assert proc.stdout == b""
    site.write_text(SITE.replace("eol = 2026-09-30", "eol = 2026-09-31"), "utf-8")  # TOML itself rejects it
    err = _cli(tmp_path, "eol", "info", "--site-catalog", str(site)).stderr.decode()
    assert "trust.toml: not valid TOML" in err and "line 9" in err


def test_identify_answers_while_stdin_stays_open(tmp_path: Path) -> None:
    """Co-process use: write one line, read its answer, write the next; stdin is never closed early."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli", "eol", "identify", "--as-of", "2026-11-30"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    assert proc.stdin is not None and proc.stdout is not None
    answers: list[bytes] = []
    try:
        for payload in (_line(DEBIAN_RECORD), b"oops\n", _line({"kind": "os", "family": "plan9"})):
            proc.stdin.write(payload)
            proc.stdin.flush()
            reader = threading.Thread(target=lambda: answers.append(proc.stdout.readline()))  # type: ignore[union-attr]
            reader.start()
            reader.join(60)  # a deadlock guard, not a timing assertion
            assert not reader.is_alive(), "no answer while stdin is open: output is not flushed per burst"
    finally:
        proc.stdin.close()
        proc.wait(60)
    assert json.loads(answers[0])["cycle"] == "12"
    assert "error" in json.loads(answers[1])
    assert json.loads(answers[2])["status"] == "unknown"
    assert proc.returncode == 0


def test_info_json(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "eol", "info", "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    info = json.loads(proc.stdout)
    index = json.loads((ROOT / "eol_data" / "endoflife" / "index.json").read_text("utf-8"))
    assert info["products"] == index["total"]
    assert info["generated_at"] == index["generated_at"]
    assert info["loaded_from_kind"] == "bundled snapshot"
    assert info["dataset_version"].startswith("endoflife.date@")
    assert info["site_catalogue"] is None
    assert info["policy"]["lookahead_days"] == 180


def test_info_text_in_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "trust.toml"
    site.write_text(SITE, "utf-8")
    assert main(["eol", "info", "--site-catalog", str(site)]) == 0
    out = capsys.readouterr().out
    assert "Flags as of:" in out and "Loaded from:" in out
    assert "trust.toml: 1 products, 1 rules, 1 entitlements" in out
    assert "windows-server:2012-r2" in out


def test_show_product_table_and_json(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "eol", "show", "windows-server", "--as-of", "2026-06-01")
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "Extended Security Updates" in text  # the tier labels are shown, not just dates
    assert "2012-r2" in text and "2023-10-10" in text

    site = tmp_path / "trust.toml"
    site.write_text(SITE, "utf-8")
    plain = json.loads(
        _cli(tmp_path, "eol", "show", "windowsserver", "--as-of", "2026-06-01", "--format", "json").stdout
    )  # an alias resolves to the product
    entitled = json.loads(
        _cli(
            tmp_path,
            "eol",
            "show",
            "windows-server",
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
            "--site-catalog",
            str(site),
        ).stdout
    )
    by_cycle = {r["name"]: r for r in plain["releases"]}
    assert plain["product"] == "windows-server"
    assert by_cycle["2012-r2"]["status"] == "eol"
    assert by_cycle["2012-r2"]["eol"] == "2023-10-10" and by_cycle["2012-r2"]["eoes"] == "2026-10-13"
    assert by_cycle["2025"]["status"] == "supported"
    ent = {r["name"]: r for r in entitled["releases"]}
    assert ent["2012-r2"]["status"] == "extended" and ent["2012-r2"]["extended_until"] == "2026-10-13"
    assert ent["2012"]["status"] == "eol"


def test_show_site_product(tmp_path: Path) -> None:
    site = tmp_path / "trust.toml"
    site.write_text(SITE, "utf-8")
    out = json.loads(
        _cli(
            tmp_path,
            "eol",
            "show",
            "theatre-board",
            "--format",
            "json",
            "--as-of",
            "2026-11-30",
            "--site-catalog",
            str(site),
        ).stdout
    )
    assert [(r["name"], r["status"], r["source"]) for r in out["releases"]] == [
        ("7", "eol", "site"),
        ("8", "supported", "site"),
    ]


def test_show_unknown_product_suggests(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "eol", "show", "windos")
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "no product 'windos'" in err and "windows" in err


def test_show_explain(tmp_path: Path) -> None:
    proc = _cli(
        tmp_path, "eol", "show", "--explain", json.dumps(DEBIAN_RECORD), "--as-of", "2026-11-30", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    exp = json.loads(proc.stdout)
    assert (exp["product"], exp["cycle"], exp["status"]) == ("debian", "12", "extended")
    assert exp["rule"] and exp["confidence"] in ("high", "medium", "low")
    assert exp["evidence"]  # which fields the rule looked at
    assert exp["dataset_version"].startswith("endoflife.date@")
    assert exp["tier_labels"]["eoes"] == "Debian LTS"
    text = _cli(
        tmp_path, "eol", "show", "--explain", "-", "--as-of", "2026-11-30", stdin=json.dumps(DEBIAN_RECORD).encode()
    ).stdout.decode()
    assert "Rule:" in text and "Evidence:" in text and "Dataset:" in text
    bad = _cli(tmp_path, "eol", "show", "--explain", "{nope")
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr.decode()


def test_identify_handles_many_lines_and_repeats(tmp_path: Path) -> None:
    """A large input with repetition (as a real estate has) keeps order and count."""
    records = [
        {"kind": "software", "source": "windows-registry", "name": "TheatreBoard", "version": f"{7 + i % 2}.0.{i}"}
        for i in range(2000)
    ]
    site = tmp_path / "trust.toml"
    site.write_text(SITE, "utf-8")
    lines = [_line(r) for r in records] * 5
    out = _identify(tmp_path, lines, "--as-of", date(2026, 11, 30).isoformat(), "--site-catalog", str(site))
    assert len(out) == len(lines)
    assert [o["cycle"] for o in out] == [str(7 + i % 2) for i in range(2000)] * 5


def test_records_read_through_aliases_or_a_host_os_get_their_own_answer_in_one_run(tmp_path: Path) -> None:
    """Found by tools/ident_differential.py: the run's fast cache keyed a software record by its
    contract fields before they were read, so records naming their fields as another tool does
    ("Name") all shared the first one's answer, and IE 11 on Windows Server 2019 got the answer of
    IE 11 on a Windows 10 host met earlier ("eol" instead of the server channel's support)."""
    ie = {"kind": "software", "name": "Internet Explorer 11", "version": "11.0.17763.1", "publisher": "Microsoft"}
    records = [
        {"kind": "software", "Name": "7-Zip 19.00", "Version": "19.00", "Source": "Msi"},
        {"kind": "software", "Name": "Microsoft Visual C++ 2015 x64 Minimum Runtime - 14.0.24215", "Version": "14.0"},
        {**ie, "host_os": {"family": "windows", "caption": "Microsoft Windows 10 Pro", "version": "10.0.19045"}},
        {
            **ie,
            "host_os": {
                "family": "windows",
                "caption": "Microsoft Windows Server 2019 Standard",
                "version": "10.0.17763",
            },
        },
    ]
    together = _identify(tmp_path, [_line(r) for r in records], "--as-of", "2026-11-22")
    alone = [_identify(tmp_path, [_line(r)], "--as-of", "2026-11-22")[0] for r in records]
    assert together == alone
    assert [o["rule"] for o in together[:2]] == ["windows_apps.no-rule", "windows_apps.vcredist"]
    assert [(o["cycle"], o["status"]) for o in together[2:]] == [("11", "eol"), ("11-server", "supported")]


def test_site_catalogue_version_is_named_by_info_show_and_explain(tmp_path: Path) -> None:
    """Like every finding, the EOL commands name the site catalogue that shaped their answers
    (``+site:`` and the first 12 hex digits of the file's SHA-256), and only when one is in use."""
    import hashlib

    site = tmp_path / "trust.toml"
    site.write_text(SITE, "utf-8")
    suffix = "+site:" + hashlib.sha256(site.read_bytes()).hexdigest()[:12]
    with_site = ("--site-catalog", str(site))
    info = json.loads(_cli(tmp_path, "eol", "info", "--format", "json", *with_site).stdout)
    show = json.loads(_cli(tmp_path, "eol", "show", "windows-server", "--format", "json", *with_site).stdout)
    explain = json.loads(
        _cli(tmp_path, "eol", "show", "--explain", json.dumps(DEBIAN_RECORD), "--format", "json", *with_site).stdout
    )
    for answer in (info, show, explain):
        assert answer["dataset_version"].startswith("endoflife.date@")
        assert answer["dataset_version"].endswith(suffix)
    text = _cli(tmp_path, "eol", "show", "--explain", json.dumps(DEBIAN_RECORD), *with_site).stdout.decode()
    assert f"{suffix}" in text
    plain = json.loads(_cli(tmp_path, "eol", "show", "windows-server", "--format", "json").stdout)
    assert "+site:" not in plain["dataset_version"]


def test_server_only_build_with_client_evidence_is_unknown_not_an_internal_error(tmp_path: Path) -> None:
    """10.0.20348 shipped only as Windows Server 2022 (25398 only as Server 23H2): a record whose
    caption, EditionID or product type says client contradicts its build.  The answer is unknown,
    with the disagreement as the reason; never an internal error, never a guessed end date."""
    win = {"kind": "os", "family": "windows"}
    contradictory = [
        {**win, "caption": "Microsoft Windows 10 Pro", "build": "20348"},
        {**win, "caption": "Microsoft Windows 11 Pro", "version": "10.0.25398"},
        {**win, "build": "20348", "product_type": 1},
        {**win, "build": "20348", "edition_id": "Professional"},
    ]
    controls = [
        {**win, "caption": "Microsoft Windows Server 2022 Standard", "build": "20348"},
        {**win, "build": "20348"},  # nothing says client: the build names the server
        {**win, "caption": "Microsoft Windows 10 Pro", "build": "19045"},
    ]
    out = _identify(tmp_path, [_line(r) for r in contradictory + controls], "--as-of", "2026-11-30")
    assert len(out) == len(contradictory) + len(controls)
    for answer in out[: len(contradictory)]:
        assert set(answer) == CONTRACT_KEYS, answer
        assert (answer["product"], answer["cycle"], answer["status"], answer["eol"]) == (
            "windows",
            None,
            "unknown",
            None,
        )
        assert answer["rule"] == "windows.role-mismatch"
        assert "disagree" in answer["reason"] and "only Windows Server" in answer["reason"]
    assert "caption 'microsoft windows 10 pro'" in out[0]["reason"]
    assert "build 10.0.20348 is only Windows Server 2022" in out[0]["reason"]
    assert "build 10.0.25398" in out[1]["reason"]
    assert "product_type=1" in out[2]["reason"]
    assert "EditionID professional" in out[3]["reason"]
    assert [(o["product"], o["cycle"]) for o in out[len(contradictory) :]] == [
        ("windows-server", "2022"),
        ("windows-server", "2022"),
        ("windows", "10-22h2"),
    ]

    explain = _cli(tmp_path, "eol", "show", "--explain", json.dumps(contradictory[0]), "--format", "json")
    assert explain.returncode == 0, explain.stderr.decode()
    doc = json.loads(explain.stdout)
    assert (doc["rule"], doc["status"], doc["confidence"]) == ("windows.role-mismatch", "unknown", "low")
