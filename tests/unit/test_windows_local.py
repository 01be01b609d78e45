"""The Windows agent's command construction, and a real subprocess run through a stand-in.

powershell.exe cannot run here, so a small executable plays it: it checks the exact argv
(-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <loader>), unpacks the script
from the loader (or reads it from stdin after the bootstrap), and prints a real host's document.
"""

from __future__ import annotations

import base64
import gzip
import random
import re
import sys
from pathlib import Path

from agents.windows import BOOTSTRAP, LOADER, load_script, parse_document
from agents.windows_local import WindowsLocalShell, build_command, collect_local, find_powershell
from tests.conftest import FIXTURES

FAKE_POWERSHELL = r"""#!{python}
import base64, gzip, re, sys
args = sys.argv[1:]
assert args[:5] == ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"], args
assert len(args) == 6, args
command = base64.b64decode(args[5]).decode("utf-16-le")
packed = re.search(r"FromBase64String\('([A-Za-z0-9+/=]+)'\)", command)
if packed:  # the loader: the script is inside, gzip-compressed
    assert "GZipStream" in command and "[ScriptBlock]::Create" in command, command
    script = gzip.decompress(base64.b64decode(packed.group(1))).decode("utf-8")
else:  # the stdin bootstrap
    assert "$input" in command and "[ScriptBlock]::Create" in command, command
    script = sys.stdin.buffer.read().decode("ascii")
if "legacyscan Windows collection script" not in script:
    sys.stderr.write("unexpected script\n")
    sys.exit(2)
sys.stdout.write(open({doc!r}, encoding="ascii").read())
"""


class _Exists:
    """Path stand-in: which PowerShell paths exist on the pretend machine."""

    present: set[str] = set()

    def __init__(self, path: str) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path in self.present


def test_command_carries_the_compressed_script_in_one_command_line() -> None:
    program = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    argv, stdin = build_command(program, load_script())
    assert stdin is None
    assert argv[1:6] == ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"]
    loader = base64.b64decode(argv[6]).decode("utf-16-le")
    payload = re.search(r"FromBase64String\('([A-Za-z0-9+/=]+)'\)", loader)
    assert payload and gzip.decompress(base64.b64decode(payload.group(1))).decode("utf-8") == load_script()
    assert loader.replace(payload.group(1), "{payload}") == LOADER  # nothing else varies
    assert len(" ".join(argv)) < 32_767  # CreateProcess's limit


def test_a_script_too_big_for_any_command_line_goes_over_stdin() -> None:
    big = load_script() + "\n# " + base64.b64encode(random.Random(0).randbytes(60_000)).decode()
    argv, stdin = build_command("powershell.exe", big)
    assert stdin == big.encode("utf-8")
    assert base64.b64decode(argv[6]).decode("utf-16-le") == BOOTSTRAP
    assert len(" ".join(argv)) < 8191


def test_64_bit_powershell_is_used_from_a_32_bit_agent() -> None:
    _Exists.present = {
        "C:\\Windows\\Sysnative\\WindowsPowerShell\\v1.0\\powershell.exe",
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    }
    wow64 = {"SystemRoot": "C:\\Windows", "PROCESSOR_ARCHITEW6432": "AMD64"}
    native = {"SystemRoot": "C:\\Windows", "PROCESSOR_ARCHITECTURE": "AMD64"}
    assert find_powershell(wow64, _Exists) == "C:\\Windows\\Sysnative\\WindowsPowerShell\\v1.0\\powershell.exe"  # type: ignore[arg-type]
    assert find_powershell(native, _Exists) == "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"  # type: ignore[arg-type]
    _Exists.present = set()
    assert find_powershell(native, _Exists) == "powershell.exe"  # type: ignore[arg-type]


def test_agent_runs_the_script_through_a_real_process_and_gets_the_same_inventory(tmp_path: Path) -> None:
    doc = FIXTURES / "hosts" / "windows-srv2016-datacenter-eval" / "collect.json"
    fake = tmp_path / "powershell.exe"
    fake.write_text(FAKE_POWERSHELL.format(python=sys.executable, doc=str(doc)))
    fake.chmod(0o700)
    inventory = collect_local(shell=WindowsLocalShell(powershell=str(fake)), timeout=30)
    expected = parse_document(doc.read_text("ascii"))
    assert inventory.collector.transport == "agent"
    assert inventory.problems == expected.problems
    assert [s.name for s in inventory.software] == [s.name for s in expected.software]
    assert inventory.os.facts == expected.os.facts
    assert inventory.os.facts["caption"] == "Microsoft Windows Server 2016 Datacenter Evaluation"


def test_missing_powershell_is_a_parse_problem_not_a_crash(tmp_path: Path) -> None:
    shell = WindowsLocalShell(powershell=str(tmp_path / "nope.exe"))
    result = shell.run_powershell(load_script(), 5)
    assert result.exit_code == 127
    inventory = collect_local(shell=shell)
    assert inventory.problems[0].kind == "parse" and "exit code 127" in inventory.problems[0].message


def test_a_plain_local_shell_is_given_the_windows_runner() -> None:
    """The Collector's --local path on Windows hands collect_windows a LocalShell."""
    from agents.shell import LocalShell
    from agents.windows import collect_windows

    inventory = collect_windows(LocalShell(), timeout=5)  # type: ignore[arg-type]
    assert inventory.collector.transport == "agent"
    if sys.platform != "win32":  # no powershell.exe here: recorded, not raised
        assert "exit code 127" in inventory.problems[0].message
