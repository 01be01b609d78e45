"""A session that dies under a command is always reported as a lost connection, with a message.

paramiko raises ``EOFError()`` or ``SSHException('')`` with no text when the server ends the
session while we are still reading; the fleet scan once stored the status as "127.0.0.17: " (the
race shows under load with real sshd, tests/integration/test_ssh_scan.py).  These tests drive
``SshShell.exec`` with a channel that fails the way paramiko's does, at each step.
"""

from __future__ import annotations

import threading

import paramiko
import pytest

from agents import ssh


class _Chan:
    def __init__(self, fail_at: str, exc: BaseException) -> None:
        self.fail_at, self.exc = fail_at, exc
        self.status_event = threading.Event()
        self.exit_status = -1

    def _maybe(self, step: str) -> None:
        if self.fail_at == step:
            self.status_event.set()  # paramiko's _set_closed: a closed channel wakes status waiters
            raise self.exc

    def update_environment(self, env: object) -> None: ...
    def exec_command(self, command: str) -> None:
        self._maybe("exec")

    def sendall(self, data: bytes) -> None:
        self._maybe("send")

    def shutdown_write(self) -> None: ...
    def settimeout(self, t: float) -> None: ...
    def recv(self, n: int) -> bytes:
        self._maybe("recv")
        return b""

    def recv_stderr(self, n: int) -> bytes:
        return b""

    def exit_status_ready(self) -> bool:
        return False

    def close(self) -> None: ...


class _Transport:
    def __init__(self, chan: _Chan) -> None:
        self.chan = chan

    def open_session(self, timeout: float | None = None) -> _Chan:
        return self.chan


def _shell(chan: _Chan) -> ssh.SshShell:
    shell = ssh.SshShell.__new__(ssh.SshShell)
    shell.host, shell.port, shell.options = "10.0.0.9", 22, ssh.SshOptions()
    shell._sessions = threading.BoundedSemaphore(1)
    shell.truncated, shell.lost = [], False
    shell.transport = _Transport(chan)  # type: ignore[assignment]
    return shell


# What paramiko raises at each step once the server has ended the session.
@pytest.mark.parametrize(
    ("step", "exc"),
    [
        ("exec", paramiko.SSHException("")),
        ("exec", EOFError()),
        ("send", OSError("Socket is closed")),  # Channel._send on a closed channel
        ("recv", EOFError()),
        ("recv", paramiko.SSHException("")),
    ],
)
def test_lost_session_is_named(step: str, exc: BaseException) -> None:
    shell = _shell(_Chan(step, exc))
    with pytest.raises(ssh.ConnectionLost) as info:
        shell.exec("/bin/sh", 5.0, stdin=b"echo hi\n")
    assert "connection lost mid-command" in str(info.value)
    assert str(info.value).startswith("10.0.0.9: ")
    assert shell.lost
