"""Running PowerShell: the invocation (encoded, compressed, or over stdin), the runner capability
and this machine's runner.

The layer under ``agents.windows`` (the collection script and its parser), ``agents.winrm`` (the
remote transport) and ``agents.windows_local`` (the agent on a workstation): each of them needs to
build the same invocation, and ``collect_windows`` needs this machine's runner when the Collector's
``--local`` path hands it a plain ``LocalShell``.  A 32-bit Python on 64-bit Windows is redirected
to the 32-bit PowerShell by WOW64 and would see only the 32-bit registry view, so the 64-bit
PowerShell is reached through ``Sysnative``.
"""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
from pathlib import Path

from agents.shell import MAX_OUTPUT, CommandResult, LocalShell, PowerShellRunner, Shell, ShellTimeout, decode

DEFAULT_TIMEOUT = 600.0
# How the script reaches PowerShell.  Encoded, it is longer than a Windows command line allows
# (cmd.exe cuts at 8,191 characters, CreateProcess at 32,767), so by default it travels gzip-
# compressed inside a small fixed loader (one command, about a quarter of the bytes); a script too
# big even for that goes over stdin to a fixed bootstrap instead (``$input`` works under
# -EncodedCommand on PowerShell 2.0 to 7).  Nothing from a target or a host is ever interpolated:
# the only variable part is base64 of our own script.
BOOTSTRAP = (
    "$ErrorActionPreference = 'Stop'; "
    "$s = [string]::Join([Environment]::NewLine, [string[]]@($input)); "
    "& ([ScriptBlock]::Create($s))"
)
LOADER = (
    "$ErrorActionPreference = 'Stop'; $b = [Convert]::FromBase64String('{payload}'); "
    "$m = New-Object IO.MemoryStream(,$b); "
    "$z = New-Object IO.Compression.GZipStream($m, [IO.Compression.CompressionMode]::Decompress); "
    "$r = New-Object IO.StreamReader($z, [Text.Encoding]::UTF8); $s = $r.ReadToEnd(); $r.Close(); "
    "& ([ScriptBlock]::Create($s))"
)
CREATEPROCESS_LIMIT = 32_767
POWERSHELL_ARGS = ("-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand")


def encode_powershell(script: str) -> str:
    """``-EncodedCommand`` text: base64 of UTF-16-LE, as powershell.exe expects."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def powershell_argv(script: str | None = None) -> list[str]:
    """powershell.exe arguments running ``script`` (default: the stdin bootstrap)."""
    return [*POWERSHELL_ARGS, encode_powershell(BOOTSTRAP if script is None else script)]


def compressed_loader(script: str) -> str:
    """The fixed loader carrying ``script`` gzip-compressed (deterministic: mtime 0)."""
    payload = base64.b64encode(gzip.compress(script.encode("utf-8"), mtime=0)).decode("ascii")
    return LOADER.replace("{payload}", payload)


def powershell_invocation(script: str, program: str = "powershell.exe") -> tuple[list[str], bytes | None]:
    """(arguments, stdin) that run ``script``: one compressed command when it fits, else stdin.
    Pure, and remembers nothing: compressing the collection script costs about 0.6 ms, against a
    WinRM host's handshake and collection."""
    inline = powershell_argv(compressed_loader(script))
    if len(program) + 1 + len(" ".join(inline)) < CREATEPROCESS_LIMIT - 256:
        return inline, None
    return powershell_argv(), script.encode("utf-8")


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
            proc = subprocess.run(
                argv,
                input=stdin or b"",
                capture_output=True,
                timeout=timeout,
                env=self._env,
                check=False,
                creationflags=flags,
            )
        except FileNotFoundError:
            return CommandResult(127, "", f"{self.powershell}: not found")
        except subprocess.TimeoutExpired as exc:
            raise ShellTimeout(f"PowerShell collection timed out after {timeout:g}s") from exc
        return CommandResult(proc.returncode, decode(proc.stdout[:MAX_OUTPUT]), decode(proc.stderr[:65536]))


def powershell_runner(shell: Shell | PowerShellRunner) -> PowerShellRunner:
    """The shell itself, or, for this machine's plain LocalShell (the Collector's ``--local`` on
    Windows), the Windows agent's local PowerShell runner."""
    if isinstance(shell, PowerShellRunner):
        return shell
    if shell.name == "local":
        return WindowsLocalShell()
    raise TypeError(f"{type(shell).__name__} cannot run PowerShell (it needs run_powershell(script, timeout))")
