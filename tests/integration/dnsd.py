"""A small DNS server on loopback for the tests: it answers some names, refuses to know others
(NXDOMAIN) and never answers the names it is told to be dead for -- a name server that has gone
silent, as on a hospital network whose DNS server died.  Real DNS on the wire (RFC 1035 over UDP),
asked by the system resolver (glibc) of a process whose ``/etc/resolv.conf`` names it: see
``resolver_prefix``, a private mount namespace, so nothing else on the machine is affected.

Port 53 is fixed (resolv.conf cannot name another), so the server binds a loopback address of its
own (the first free one of 127.0.53.53-252) and needs root, as the mount namespace does.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

# loopback addresses tried in turn for port 53 (another test run on the machine may hold one)
ADDRESSES = tuple(f"127.0.53.{n}" for n in range(53, 253))


def available() -> str | None:
    if os.geteuid() != 0:
        return "a name server on port 53 and a private /etc/resolv.conf need root"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, check=False)
    return None if probe.returncode == 0 else f"unshare --mount refused: {probe.stderr.decode()[:200]}"


class DnsServer:
    """``answers``: name -> IPv4 address (A record; other types get an empty NOERROR answer);
    ``dead``: names whose queries are read and dropped; any other name is NXDOMAIN.  ``queries``
    counts the queries read per name (lower case, no trailing dot)."""

    def __init__(self, answers: dict[str, str], dead: set[str]) -> None:
        self.answers = {k.lower(): v for k, v in answers.items()}
        self.dead = {d.lower() for d in dead}
        self.queries: Counter[str] = Counter()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for address in ADDRESSES:
            try:
                self._sock.bind((address, 53))
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or address == ADDRESSES[-1]:
                    self._sock.close()
                    raise
        self.address = address
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="dnsd", daemon=True)
        self._thread.start()

    def resolv_conf(self, directory: Path) -> Path:
        """A resolv.conf naming only this server, with the resolver's own patience at its maximum
        (30 s x 5 attempts, doubling: a quarter of an hour per unanswered name)."""
        path = directory / "resolv.conf"
        path.write_text(f"nameserver {self.address}\noptions timeout:30 attempts:5\n")
        return path

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.reply(data)
            if reply is not None:
                self._sock.sendto(reply, peer)

    def reply(self, query: bytes) -> bytes | None:
        """The answer to one query (None: dropped, as a dead server does)."""
        if len(query) < 12:
            return None
        ident, flags, qdcount = struct.unpack(">HHH", query[:6])
        if flags & 0x8000 or qdcount != 1:
            return None
        labels, pos = [], 12
        while pos < len(query) and query[pos]:
            size = query[pos]
            labels.append(query[pos + 1 : pos + 1 + size].decode("ascii", "replace"))
            pos += 1 + size
        if pos + 5 > len(query):
            return None
        qtype = struct.unpack(">H", query[pos + 1 : pos + 3])[0]
        question = query[12 : pos + 5]
        name = ".".join(labels).lower()
        self.queries[name] += 1
        if name in self.dead:
            return None
        answer = b""
        rcode = 0
        if name not in self.answers:
            rcode = 3  # NXDOMAIN
        elif qtype == 1:  # A
            rdata = ipaddress.IPv4Address(self.answers[name]).packed
            answer = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, len(rdata)) + rdata
        # response, opcode copied, authoritative, recursion desired copied, recursion available
        out_flags = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
        header = struct.pack(">HHHHHH", ident, out_flags, 1, 1 if answer else 0, 0, 0)
        return header + question + answer


def resolver_prefix(resolv_conf: Path) -> list[str]:
    """A command prefix: the command runs in a private mount namespace whose /etc/resolv.conf is
    ``resolv_conf`` (the rest of the machine keeps its own)."""
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'mount --bind "{resolv_conf}" /etc/resolv.conf && exec "$@"',
        "sh",
    ]


def run_cli(
    server: DnsServer, directory: Path, argv: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``legacyscan ARGV`` (this checkout's, ``python -m scanner.cli``) with ``server`` as its only
    name server (``resolver_prefix``).  The 240 s bound (under pytest-timeout's 300 s) only keeps a
    broken build from hanging the suite, so a hang fails with the command's output; callers assert
    nothing on time."""
    return subprocess.run(
        [*resolver_prefix(server.resolv_conf(directory)), sys.executable, "-m", "scanner.cli", *argv],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
