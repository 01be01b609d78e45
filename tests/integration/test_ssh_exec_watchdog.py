"""A server that opens a session but never answers the exec request must not hold the scan.

paramiko's ``Channel.exec_command`` waits for that answer with no timeout; ``SshShell.exec`` puts a
deadline on every command (``agents.watchdog``).  The peer here is paramiko's own SSH *server*
implementation on loopback, speaking the real protocol (key exchange, public-key authentication,
channel open), which simply never replies to ``exec``: what a wedged sshd or an embedded SSH server
does.  Before the deadline existed this test hung until pytest-timeout killed it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import paramiko
import pytest

from agents.shell import ShellTimeout
from agents.ssh import KnownHosts, SshCredentials, SshOptions, SshShell
from agents.watchdog import WATCHDOG

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class _NeverAnswers(paramiko.ServerInterface):
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        self.release.wait(300)  # the server's transport thread sits here: no reply is ever sent
        return False


class Server:
    def __init__(self) -> None:
        self.host_key = paramiko.ECDSAKey.generate()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.release = threading.Event()
        self.transports: list[paramiko.Transport] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = paramiko.Transport(conn)
            t.add_server_key(self.host_key)
            t.start_server(server=_NeverAnswers(self.release))
            self.transports.append(t)

    def close(self) -> None:
        self.release.set()
        self.sock.close()
        for t in self.transports:
            t.close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def test_exec_that_is_never_answered_times_out(server: Server) -> None:
    known = KnownHosts(None)
    known.add("127.0.0.1", server.port, server.host_key)
    creds = SshCredentials(user="scanner", keys=[paramiko.ECDSAKey.generate()], use_agent=False)
    shell = SshShell(
        "127.0.0.1",
        server.port,
        creds=creds,
        known_hosts=known,
        options=SshOptions(connect_timeout=5.0, auth_timeout=5.0, command_timeout=2.0),
    )
    try:
        with pytest.raises(ShellTimeout, match="never answered"):  # the deadline ended it, not pytest's timeout
            shell.exec("uname -s", 2.0)
    finally:
        shell.close()
    assert shell.lost  # the fleet scan does not reuse a connection that stopped answering
    assert WATCHDOG.pending() == 0  # nothing left scheduled for this command
