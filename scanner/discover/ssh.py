"""SSH: the identification string every server sends first (RFC 4253 section 4.2).

What it sends: nothing.  It connects, reads the server's first lines (at most 20 lines / 4 KiB,
the RFC allows text before the ``SSH-`` line), and closes before key exchange: no algorithm
negotiation, no user name, no authentication attempt.  sshd logs at most "Connection closed by
... [preauth]".
"""

from __future__ import annotations

import re
from typing import Any

from scanner.discover.base import (
    Deadline,
    Observation,
    ProbeError,
    ProbeSettings,
    connect,
    printable,
    recv_line,
    run_probe,
)
from scanner.targets import Target

_IDENT = re.compile(r"^SSH-(?P<proto>[\d.]+)-(?P<software>[^\s]+)(?:\s+(?P<comment>.*))?$")
_SOFTWARE = re.compile(
    r"^(?P<name>OpenSSH|dropbear|Cisco|ROSSSH|libssh|RomSShell|FortiSSH|mpSSH|"
    r"SSH_Server|Sun_SSH|lancom|HUAWEI|WeOnlyDo|AsyncSSH|paramiko|Go|"
    r"[A-Za-z][\w.+-]*?)[_-](?P<version>[\w.+-]*\d[\w.+-]*)$"
)


def parse_banner(line: str) -> dict[str, Any]:
    """``SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`` -> protocol, software, version, comment.

    Pure; the distribution the comment names is decided by data rules (``announced.toml``)."""
    m = _IDENT.match(line.strip())
    if not m:
        raise ProbeError(f"not an SSH identification string: {line[:80]!r}")
    facts: dict[str, Any] = {"banner": line.strip(), "protocol": m.group("proto")}
    software = m.group("software")
    facts["software_raw"] = software
    sm = _SOFTWARE.match(software)
    if sm:
        facts["software"] = sm.group("name")
        facts["version"] = sm.group("version")
    else:
        facts["software"] = software
    if m.group("comment"):
        facts["comment"] = m.group("comment").strip()
    return facts


def probe(target: Target, settings: ProbeSettings) -> Observation:
    def body(deadline: Deadline, obs: Observation) -> None:
        obs.connections += 1
        with connect(target.host, target.port, deadline, settings.names) as sock:
            for _ in range(20):
                line = printable(recv_line(sock, deadline, 256), 255)
                if line.startswith("SSH-"):
                    obs.facts.update(parse_banner(line))
                    return
            raise ProbeError("no SSH identification string in the first 20 lines")

    return run_probe("ssh", target, settings, body)
