"""The Shell seam: the only place collection code touches a host.

Parsers are pure functions over text; everything that reads a host goes through a ``Shell``.  The
same ``Collector`` therefore runs on this machine (``LocalShell``), over SSH (``agents.ssh``),
over WinRM (``agents.winrm``) and in tests over a captured host directory (``ReplayShell``).

Commands are argument vectors built from fixed strings in the probe tables; nothing read from a
target file or from a host is ever interpolated into a command line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from agents.compat import SLOTS

# Bound every read so a hostile or broken host cannot make us buffer gigabytes.
MAX_OUTPUT = 64 * 1024 * 1024
MAX_FILE = 4 * 1024 * 1024


class ShellError(Exception):
    """The transport failed (not the command): connection lost, timeout, auth..."""


class ShellTimeout(ShellError):
    pass


@dataclass(**SLOTS)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@runtime_checkable
class Shell(Protocol):
    """What a transport must offer.  ``name`` is recorded as the inventory's transport."""

    name: str

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        """Run a fixed, read-only command.  Exit code 127 means "command not found"."""
        ...

    def read_text(self, path: str) -> str | None:
        """Return the file's text, or None when it does not exist or cannot be read."""
        ...


# -- capabilities beyond run/read_text -------------------------------------------------------------
#
# Declared here, each as its own small protocol, so a caller asks ``isinstance(shell, Capability)``
# (and mypy then knows the members) instead of probing with hasattr/getattr.  A transport offers
# a capability simply by having the members (structural typing): test fakes need no base class.


@runtime_checkable
class PowerShellRunner(Protocol):
    """A shell that can run a PowerShell script (WinRmShell, WindowsLocalShell, test fakes)."""

    name: str

    def run_powershell(self, script: str, timeout: float) -> CommandResult: ...


@runtime_checkable
class NotesTruncation(Protocol):
    """A transport whose reads are bounded: it notes each answer it cut at its read limit, and the
    Collector turns every note into a ``truncated`` probe problem, so a cut answer is never silent."""

    truncated: list[str]


@runtime_checkable
class Closable(Protocol):
    """A transport holding a connection (SshShell, WinRmShell): ``close`` releases it."""

    def close(self) -> None: ...


@runtime_checkable
class BatchingShell(Shell, NotesTruncation, Closable, Protocol):
    """A remote session that answers a probe table from one round trip (``agents.ssh.SshShell``).

    ``preload`` runs the commands and reads the files in one exec; later ``run``/``read_text``
    calls are answered from it.  ``remember`` answers a command with a result derived from another
    (``uname -s`` from ``uname -srm``).  ``lost`` is set when the connection dropped during
    collection: what was read may be partial, and the host is recorded as unreachable.
    """

    lost: bool

    def preload(
        self,
        commands: Sequence[list[str]] = (),
        files: Sequence[str] = (),
        timeout: float | None = None,
        *,
        filters: Mapping[str, str] | None = None,
        unless_readable: Mapping[str, str] | None = None,
        platforms: Mapping[str, str] | None = None,
    ) -> None: ...

    def remember(self, argv: list[str], result: CommandResult) -> None: ...


def decode(data: bytes) -> str:
    """Decode command output: UTF-8, falling back to Latin-1 so no byte is ever fatal."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


class LocalShell:
    """This machine.  Used by ``legacyscan scan --local`` and by the agent."""

    name = "local"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        # A fixed, minimal environment: C locale so tools print parseable English, and no
        # inherited variables that could change what a tool does.
        base = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C", "LANG": "C"}
        if os.name == "nt":
            base.update({k: v for k, v in os.environ.items() if k.upper() in {"SYSTEMROOT", "WINDIR", "COMSPEC"}})
        self._env = env if env is not None else base

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        try:
            proc = subprocess.run(  # noqa: S603 - argv is a fixed list from a probe table
                argv, capture_output=True, timeout=timeout, env=self._env, stdin=subprocess.DEVNULL, check=False
            )
        except FileNotFoundError:
            return CommandResult(127, "", f"{argv[0]}: command not found")
        except PermissionError as exc:
            return CommandResult(126, "", str(exc))
        except subprocess.TimeoutExpired as exc:
            raise ShellTimeout(f"{argv[0]} timed out after {timeout:g}s") from exc
        return CommandResult(proc.returncode, decode(proc.stdout[:MAX_OUTPUT]), decode(proc.stderr[:65536]))

    def read_text(self, path: str) -> str | None:
        try:
            with open(path, "rb") as fh:
                return decode(fh.read(MAX_FILE))
        except OSError:
            return None


class ReplayShell:
    """A captured host directory, replayed through the real Collector in tests and the demo.

    Layout: ``files/<absolute path>`` for files and ``commands.json`` mapping the command line
    (``" ".join(argv)``) to ``{"exit_code", "stdout", "stderr"}``.  A command not in the capture
    answers 127, as a host without that tool would.
    """

    name = "replay"

    def __init__(self, root: str | Path, *, commands: dict[str, dict[str, object]] | None = None) -> None:
        self.root = Path(root)
        if commands is None:
            cmd_file = self.root / "commands.json"
            import json

            commands = json.loads(cmd_file.read_text("utf-8")) if cmd_file.exists() else {}
        self._commands: dict[str, dict[str, object]] = commands

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        entry = self._commands.get(" ".join(argv))
        if entry is None:
            return CommandResult(127, "", f"{argv[0]}: command not found")
        return CommandResult(
            int(entry.get("exit_code", 0)),  # type: ignore[call-overload]
            str(entry.get("stdout", "")),
            str(entry.get("stderr", "")),
        )

    def read_text(self, path: str) -> str | None:
        target = self.root / "files" / path.lstrip("/")
        try:
            return decode(target.read_bytes()[:MAX_FILE])
        except OSError:
            return None
