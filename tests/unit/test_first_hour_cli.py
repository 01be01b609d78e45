"""Issue 14, "first hour": the command line a new user meets.

``--db`` before or after the command, "did you mean" for misspelt options, commands and sites,
``serve`` on a busy port, exceptions whose scope names nothing, unknown keys in TOML targets, an
``import`` that stores nothing leaves no database behind, "report written" is not a warning, the
agent's ``--version``, CSV with a BOM for Excel, and the shipped example files parse.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.targets import TargetError, load_targets, parse_toml

ROOT = Path(__file__).resolve().parents[2]
SITE = "DEMO General Hospital"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--devices", "40", "--seed", "5", "--as-of", "2026-11-30", "-q"]) == 0
    return f"sqlite:///{out / 'demo.db'}"


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_db_is_accepted_before_and_after_the_command(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", demo_db, "report", "--format", "json", "--as-of", "2026-11-30"]) == 0
    before = _json(capsys)
    assert main(["report", "--db", demo_db, "--format", "json", "--as-of", "2026-11-30"]) == 0
    after = _json(capsys)
    assert before["kpis"]["devices"] == after["kpis"]["devices"] == 40
    assert main(["--db", demo_db, "tokens", "list"]) == 0
    assert main(["--db", demo_db, "eol", "info"]) == 0
    capsys.readouterr()


def test_a_misspelt_option_or_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--fromat", "json"])
    assert exc.value.code == 2
    assert "did you mean --format?" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["reprot"])
    assert exc.value.code == 2 and "did you mean 'report'?" in capsys.readouterr().err


def test_every_command_takes_db_after_it() -> None:
    """The README: "Every command takes --db URL" (benchmark refused it after the command)."""
    import argparse

    from scanner.cli import build_parser

    def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [path] if "--db" not in {o for a in parser._actions for o in a.option_strings} else []
        return [miss for name, sub in subs[0].choices.items() for miss in leaves(sub, (*path, name))]

    assert not leaves(build_parser(), ()), "commands without --db"


def test_an_option_of_another_command_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    """Never "--as-of: did you mean --as-of?": the option exists, only not for this command, and
    the usage shown is that command's."""
    with pytest.raises(SystemExit) as exc:
        main(["eol", "info", "--as-of", "2026-01-01"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "hint: --as-of is not an option of `legacyscan eol info`" in err and "did you mean --as-of" not in err
    assert err.startswith("usage: legacyscan eol info ")
    with pytest.raises(SystemExit):
        main(["--db", "sqlite:///x.db", "report", "--as-off", "2026-01-01"])
    err = capsys.readouterr().err
    assert "hint: --as-off: did you mean --as-of?" in err and err.startswith("usage: legacyscan report ")


def test_a_misspelt_site_gets_a_suggestion(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", demo_db, "--site", "DEMO Generel Hospital", "--as-of", "2026-11-30"]) == 1
    err = capsys.readouterr().err
    assert "no inventories stored for site 'DEMO Generel Hospital'" in err
    assert f"did you mean '{SITE}'?" in err


def test_serve_on_a_busy_port_fails_clearly_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["serve", "--listen", f"127.0.0.1:{port}", "--db", f"sqlite:///{tmp_path / 'c.db'}"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err and "listening" not in err.replace("cannot listen", "")
    assert not (tmp_path / "c.db").exists()  # like a failed import, a collector that never listened stores nothing


def _register(tmp_path: Path, **scope: str) -> Path:
    lines = [
        "[[exception]]",
        'id = "EX-T1"',
        'category = "risk-accepted"',
        'justification = "test"',
        'owner = "IT"',
        'approver = "SIRO"',
        "approved_on = 2026-01-01",
        "expires = 2027-01-01",
    ]
    lines += [f'{k} = "{v}"' for k, v in scope.items()]
    path = tmp_path / "exceptions.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_exceptions_naming_an_unknown_product_or_site_are_refused(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base = ["report", "--db", demo_db, "--as-of", "2026-11-30", "--format", "json", "--exceptions"]
    assert main([*base, str(_register(tmp_path, product="windows-servr"))]) == 1
    err = capsys.readouterr().err
    assert "exception #1 (id EX-T1): field 'product': unknown product 'windows-servr'" in err
    assert "did you mean 'windows-server'?" in err
    assert main([*base, str(_register(tmp_path, site="DEMO Generl Hospital"))]) == 1
    err = capsys.readouterr().err
    assert "field 'site': no site 'DEMO Generl Hospital'" in err and f"did you mean '{SITE}'?" in err
    # correctly spelt: accepted; a product the site catalogue defines is known too
    assert main([*base, str(_register(tmp_path, product="windows-server", site=SITE))]) == 0
    capsys.readouterr()
    catalogue = ROOT / "examples" / "legacyscan-site.toml"
    assert main([*base, str(_register(tmp_path, product="systmone-client")), "--site-catalog", str(catalogue)]) == 0
    capsys.readouterr()


def test_exceptions_naming_a_release_the_product_does_not_have_are_refused(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt cycle ("7-sp9", "7sp1") loaded as active and covered nothing, like a misspelt product."""
    monkeypatch.chdir(tmp_path)
    base = ["report", "--db", demo_db, "--as-of", "2026-11-30", "--format", "json", "--exceptions"]
    assert main([*base, str(_register(tmp_path, product="windows", cycle="7sp1"))]) == 1
    err = capsys.readouterr().err
    assert "exception #1 (id EX-T1): field 'cycle': windows has no release '7sp1'" in err
    assert "did you mean '7-sp1'?" in err
    assert main([*base, str(_register(tmp_path, product="windows", cycle="7-sp1"))]) == 0
    capsys.readouterr()


def test_unknown_keys_in_toml_targets_are_refused_by_name() -> None:
    with pytest.raises(TargetError, match=r"\[\[target\]\] #1: unknown key 'prot' \(did you mean 'port'\?\)"):
        parse_toml('[[target]]\nhost = "pc1.example"\nprot = 2222\n', "t.toml")
    with pytest.raises(TargetError, match=r"\[defaults\]: unknown key 'usr'"):
        parse_toml('[defaults]\nusr = "scan"\n[[target]]\nhost = "pc1.example"\n', "t.toml")
    with pytest.raises(TargetError, match=r"\[\[site\]\] #1: unknown key 'host'"):
        parse_toml('[[site]]\nname = "Main"\nhost = ["pc1.example"]\n', "t.toml")


def test_the_example_targets_files_parse_and_agree() -> None:
    csv_targets = load_targets(str(ROOT / "examples" / "targets.csv"))
    toml_targets = load_targets(str(ROOT / "examples" / "targets.toml"))
    assert len(csv_targets) >= 4 and len(toml_targets) >= 4
    assert {t.transport for t in csv_targets} >= {"ssh", "winrm"}
    assert {t.site for t in csv_targets} == {t.site for t in toml_targets}


def test_a_failed_import_creates_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEGACYSCAN_DB", raising=False)
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "an inventory"}', encoding="utf-8")
    assert main(["import", str(bad)]) == 1
    assert "refused" in capsys.readouterr().err
    assert not (tmp_path / "legacyscan.db").exists()
    good = ROOT / "tests" / "fixtures" / "golden"  # no inventories there either: still nothing created
    assert main(["import", str(good / "report.json")]) == 1
    assert not (tmp_path / "legacyscan.db").exists()
    capsys.readouterr()


def test_report_written_is_information_not_a_warning(
    demo_db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "r.json"
    with caplog.at_level(logging.INFO):
        assert main(["report", "--db", demo_db, "--format", "json", "--out", str(out), "--as-of", "2026-11-30"]) == 0
    written = [r for r in caplog.records if r.getMessage().startswith("report written")]
    assert written and all(r.levelno == logging.INFO for r in written)


def test_csv_has_a_bom_for_excel_when_written_to_a_csv_file(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["report", "--db", demo_db, "--format", "csv", "--as-of", "2026-11-30"]
    assert main([*base, "--out", str(tmp_path / "a.csv")]) == 0
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert main([*base, "--out", str(tmp_path / "b.csv"), "--no-bom"]) == 0
    assert not (tmp_path / "b.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert main(base) == 0
    assert not capsys.readouterr().out.startswith("\ufeff")  # pipes get plain UTF-8
    assert main([*base, "--bom"]) == 0
    assert capsys.readouterr().out.startswith("\ufeff")


def test_the_agent_prints_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    from agents import agent

    with pytest.raises(SystemExit) as exc:
        agent.build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("legacyscan-agent 0.")
