"""The agent on a Windows workstation: the same collection script, run locally.

Same script, same parser, same Inventory as the WinRM probe: only the transport differs.
PowerShell runs ``-EncodedCommand`` with a fixed loader carrying the script gzip-compressed (the
plain encoded script is longer than a Windows command line may be, 32,767), or a fixed bootstrap
reading the script from stdin when even that would not fit (see ``agents.windows``).
A 32-bit Python on 64-bit Windows is redirected to the 32-bit PowerShell by WOW64 and would see
only the 32-bit registry view, so the 64-bit PowerShell is reached through ``Sysnative``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agents.inventory import Inventory
from agents.shell import MAX_OUTPUT, CommandResult, LocalShell, ShellTimeout, decode
from agents.windows import DEFAULT_TIMEOUT, collect_windows, powershell_invocation

CREATE_NO_WINDOW = 0x08000000  # no console window flashes up on a ward PC


def find_powershell(environ: dict[str, str] | None = None, exists: type[Path] = Path) -> str:
    """The native (64-bit on 64-bit Windows) Windows PowerShell, falling back to PATH lookup."""
    env = os.environ if environ is None else environ
    root = env.get("SystemRoot") or env.get("SYSTEMROOT") or env.get("windir") or "C:\\Windows"
    wow64 = bool(env.get("PROCESSOR_ARCHITEW6432"))  # set only in a 32-bit process on 64-bit Windows
    folder = "Sysnative" if wow64 else "System32"
    candidate = f"{root}\\{folder}\\WindowsPowerShell\\v1.0\\powershell.exe"
    return candidate if exists(candidate).exists() else "powershell.exe"


def build_command(powershell: str, script: str) -> tuple[list[str], bytes | None]:
    """argv (and stdin, if the script does not fit one command line) of the local run."""
    args, stdin = powershell_invocation(script, powershell)
    return [powershell, *args], stdin


class WindowsLocalShell(LocalShell):
    """LocalShell plus ``run_powershell``; ``name`` is recorded as the inventory's transport."""

    name = "agent"

    def __init__(self, powershell: str | None = None, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env if env is not None else dict(os.environ))
        self.powershell = powershell or find_powershell()

    def run_powershell(self, script: str, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        argv, stdin = build_command(self.powershell, script)
        flags = CREATE_NO_WINDOW if os.name == "nt" else 0
        try:
            proc = subprocess.run(argv, input=stdin or b"", capture_output=True, timeout=timeout,
                                  env=self._env, check=False, creationflags=flags)
        except FileNotFoundError:
            return CommandResult(127, "", f"{self.powershell}: not found")
        except subprocess.TimeoutExpired as exc:
            raise ShellTimeout(f"PowerShell collection timed out after {timeout:g}s") from exc
        return CommandResult(proc.returncode, decode(proc.stdout[:MAX_OUTPUT]), decode(proc.stderr[:65536]))


def collect_local(*, timeout: float = DEFAULT_TIMEOUT, collected_at: str | None = None,
                  shell: WindowsLocalShell | None = None) -> Inventory:
    """This Windows machine's Inventory (the agent's Windows collection)."""
    return collect_windows(shell or WindowsLocalShell(), timeout=timeout, collected_at=collected_at)
