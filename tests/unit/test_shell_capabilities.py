"""The Shell seam declares every capability its callers use (#18): each transport offers what it
says, the Collector asks by ``isinstance`` on the declared protocols, and nothing in ``agents/``
probes a shell with hasattr/getattr any more."""

from __future__ import annotations

import ast
from pathlib import Path

from agents.collect import Collector
from agents.inventory import Problem
from agents.powershell import WindowsLocalShell, powershell_runner
from agents.shell import (
    BatchingShell,
    Closable,
    CommandResult,
    LocalShell,
    NotesTruncation,
    PowerShellRunner,
    ReplayShell,
    Shell,
)
from agents.winrm import WinRmCredentials, WinRmShell

ROOT = Path(__file__).resolve().parents[2]


class FakePowerShell:
    """A PowerShell runner that is nothing else (no run, no read_text)."""

    name = "fake-ps"

    def run_powershell(self, script: str, timeout: float) -> CommandResult:
        return CommandResult(0, "")


class CuttingShell(ReplayShell):
    """A replayed host whose transport cut two answers at its read limit."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, commands={"uname -s": {"stdout": "Linux\n"}})
        self.truncated = ["dpkg-query: 70 MiB cut at 64 MiB", "/etc/os-release: cut"]


def test_transports_offer_the_capabilities_they_declare() -> None:
    winrm = WinRmShell("192.0.2.1", 5986, WinRmCredentials("u", "p"))
    assert isinstance(winrm, Shell) and isinstance(winrm, PowerShellRunner) and isinstance(winrm, Closable)
    assert isinstance(WindowsLocalShell(powershell="powershell.exe"), PowerShellRunner)
    local = LocalShell()
    assert isinstance(local, Shell)
    assert not isinstance(local, PowerShellRunner)
    assert not isinstance(local, NotesTruncation)
    assert not isinstance(local, BatchingShell)


def test_the_collector_recognises_a_powershell_runner_by_its_capability() -> None:
    problems: list[Problem] = []
    assert Collector(FakePowerShell()).platform(problems) == "windows"  # type: ignore[arg-type]
    assert problems == []


def test_a_plain_local_shell_gets_this_machines_runner_and_a_shell_without_one_is_refused() -> None:
    fake = FakePowerShell()
    assert powershell_runner(fake) is fake
    assert isinstance(powershell_runner(LocalShell()), WindowsLocalShell)
    replay = ReplayShell(ROOT, commands={})
    try:
        powershell_runner(replay)
    except TypeError as exc:
        assert "ReplayShell cannot run PowerShell" in str(exc)
    else:
        raise AssertionError("a replayed host cannot run PowerShell")


def test_notes_of_a_cut_answer_become_truncated_problems(tmp_path: Path) -> None:
    (tmp_path / "files" / "etc").mkdir(parents=True)
    (tmp_path / "files" / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n', encoding="utf-8")
    shell = CuttingShell(tmp_path)
    assert isinstance(shell, NotesTruncation)
    inventory = Collector(shell).collect()
    cut = [p for p in inventory.problems if p.kind == "truncated"]
    assert [(p.probe, p.message) for p in cut] == [("output", note) for note in shell.truncated]
    assert inventory.os.family == "linux"


def test_no_shell_is_probed_with_hasattr_or_getattr_in_agents() -> None:
    probes = []
    for path in sorted((ROOT / "agents").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("hasattr", "getattr")
                and node.args
                and "shell" in ast.unparse(node.args[0]).lower()
            ):
                probes.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert probes == []
