"""RDP: the security negotiation (X.224, MS-RDPBCGR 2.2.1.1) and, where the server offers
Network Level Authentication, the NTLMSSP CHALLENGE inside CredSSP (MS-CSSP 2.2.1).

What it sends, on one connection (port 3389 by default):

1. an X.224 Connection Request with an RDP_NEG_REQ asking for TLS or CredSSP (no cookie, no
   user name).  The answer says which security the server chose; a server that answers without
   negotiation data speaks only "standard RDP security" (Windows XP / Server 2003 era, or
   negotiation disabled).
2. if it chose TLS or CredSSP: a TLS handshake (its certificate usually names the host).
3. if it chose CredSSP: one TSRequest carrying an NTLMSSP NEGOTIATE (no user, no domain, no
   password).  The server answers with its CHALLENGE (version, build, names) and we close: the
   AUTHENTICATE message is never sent, so there is no logon attempt and no failed-logon event.
"""

from __future__ import annotations

import ssl
import struct
from typing import Any

from scanner.discover.base import Deadline, Observation, ProbeError, ProbeSettings, connect, recv_exact, run_probe
from scanner.discover.http import cert_facts
from scanner.discover.ntlm import NEGOTIATE, parse_challenge
from scanner.discover.smb import _der
from scanner.targets import Target

PROTOCOLS = {0: "rdp", 1: "tls", 2: "credssp", 4: "rdstls", 8: "credssp-early-user-auth"}
# TPKT + X.224 CR (no cookie) + RDP_NEG_REQ(requestedProtocols = TLS | CredSSP)
CONNECTION_REQUEST = bytes.fromhex("030000130ee000000000000100080003000000")


def parse_connection_confirm(data: bytes) -> dict[str, Any]:
    """Facts from the X.224 Connection Confirm (pure)."""
    if len(data) < 11 or data[0] != 3 or (data[5] & 0xF0) != 0xD0:
        raise ProbeError("not an X.224 Connection Confirm (not an RDP server?)")
    neg = data[11:]
    if len(neg) < 8:
        return {"rdp_security": "rdp", "rdp_negotiation": False}
    kind, _flags, _length, value = struct.unpack_from("<BBHI", neg)
    if kind == 0x02:
        return {"rdp_security": PROTOCOLS.get(value, f"{value:#x}"), "rdp_negotiation": True}
    if kind == 0x03:
        return {"rdp_security": "refused", "rdp_negotiation": True, "rdp_failure_code": value}
    raise ProbeError(f"unexpected RDP negotiation type {kind:#x}")


def ts_request(token: bytes = NEGOTIATE) -> bytes:
    """TSRequest { version 6, negoTokens { { negoToken NTLMSSP NEGOTIATE } } } (MS-CSSP 2.2.1)."""
    nego = _der(0x30, _der(0x30, _der(0xA0, _der(0x04, token))))
    return _der(0x30, _der(0xA0, _der(0x02, b"\x06")) + _der(0xA1, nego))


def _read_der(sock: ssl.SSLSocket, deadline: Deadline) -> bytes:
    head = recv_exact(sock, 2, deadline)
    if head[0] != 0x30:
        raise ProbeError("the CredSSP reply is not a TSRequest")
    if head[1] & 0x80:
        extra = recv_exact(sock, head[1] & 0x7F, deadline)
        length = int.from_bytes(extra, "big")
        head += extra
    else:
        length = head[1]
    return head + recv_exact(sock, length, deadline)


def probe(target: Target, settings: ProbeSettings) -> Observation:
    def body(deadline: Deadline, obs: Observation) -> None:
        obs.connections += 1
        with connect(target.host, target.port, deadline, settings.names) as raw:
            raw.sendall(CONNECTION_REQUEST)
            head = recv_exact(raw, 4, deadline)
            if head[0] != 3:
                raise ProbeError("not a TPKT reply (not an RDP server?)")
            length = struct.unpack(">H", head[2:4])[0]
            facts = parse_connection_confirm(head + recv_exact(raw, max(0, length - 4), deadline))
            obs.facts.update(facts)
            if facts["rdp_security"] not in ("tls", "credssp", "credssp-early-user-auth"):
                return
            sock = settings.tls.context().wrap_socket(raw, server_hostname=None, do_handshake_on_connect=False)
            sock.settimeout(deadline.left())
            sock.do_handshake()
            obs.facts["tls_version"] = sock.version() or ""
            der = sock.getpeercert(binary_form=True)
            if der:
                try:
                    obs.facts["certificate"] = cert_facts(der)
                except ValueError as exc:
                    obs.facts["certificate_error"] = str(exc)[:200]
            if facts["rdp_security"] == "tls":
                return
            sock.sendall(ts_request())
            obs.facts.update(parse_challenge(_read_der(sock, deadline)))

    return run_probe("rdp", target, settings, body)
