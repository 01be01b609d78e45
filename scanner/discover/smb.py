"""SMB: the dialect negotiation and the NTLMSSP CHALLENGE of an anonymous session set-up.

What it sends, in order, on one connection (NetBIOS session framing, port 445 by default):

1. an SMB1 NEGOTIATE offering only ``NT LM 0.12``.  A server that accepts it has SMB1 enabled
   (the WannaCry question); it then gets
2. an SMB1 SESSION_SETUP_ANDX carrying SPNEGO + NTLMSSP NEGOTIATE (no user, no domain, no
   password).  The server answers MORE_PROCESSING_REQUIRED with its CHALLENGE (OS version, build,
   names) and, in SMB1, its NativeOS / NativeLanMan strings ("Windows 7 Professional 7601 Service
   Pack 1", "Samba 4.17.12-Debian").  We close; the AUTHENTICATE message is never sent.

A server that refuses SMB1 (closes, or picks no dialect) gets ONE second connection with the
SMB2 equivalent: NEGOTIATE (dialects 2.0.2-3.0.2) and SESSION_SETUP with the same NTLMSSP
NEGOTIATE.  This is the only probe that may use a second connection, always after the first has
closed, because whether SMB1 is enabled cannot be learned on an SMB2 connection.  No tree
connect, no share listing, no named pipes, no writes.

Samba puts a Windows-like version into NTLMSSP (6.1, build 0); it is recognised by its own
signals (NativeLanMan "Samba", the build-0 NTLM version no Windows sends) and never reported as
Windows (``scanner.discover.fingerprint``).
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from scanner.discover.base import Deadline, Observation, ProbeError, ProbeSettings, connect, recv_exact, run_probe
from scanner.discover.ntlm import NEGOTIATE, parse_challenge
from scanner.targets import Target

STATUS_MORE_PROCESSING = 0xC0000016
SMB2_DIALECTS = (0x0202, 0x0210, 0x0300, 0x0302)
_DIALECT_NAMES = {0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2", 0x0311: "3.1.1", 0x02FF: "2.x"}


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + struct.pack(">H", n)
    return bytes([tag]) + length + body


def spnego_negotiate(token: bytes = NEGOTIATE) -> bytes:
    """SPNEGO negTokenInit offering only NTLMSSP, with its NEGOTIATE as the mechToken (RFC 4178)."""
    ntlm_oid = _der(0x06, bytes.fromhex("2b0601040182370202 0a".replace(" ", "")))
    mech_types = _der(0xA0, _der(0x30, ntlm_oid))
    mech_token = _der(0xA2, _der(0x04, token))
    neg_token_init = _der(0xA0, _der(0x30, mech_types + mech_token))
    return _der(0x60, _der(0x06, bytes.fromhex("2b0601050502")) + neg_token_init)


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload) & 0xFFFFFF) + payload


def _read_frame(sock: socket.socket, deadline: Deadline) -> bytes:
    head = recv_exact(sock, 4, deadline)
    if head[0] != 0:
        raise ProbeError(f"not an SMB session message (type {head[0]:#x})")
    return recv_exact(sock, int.from_bytes(head[1:], "big"), deadline)


# -- SMB1 -----------------------------------------------------------------------------------------

_SMB1_FLAGS2 = 0x8000 | 0x4000 | 0x0800 | 0x0001  # unicode, NT status, extended security, long names


def _smb1_header(command: int, mid: int, uid: int = 0) -> bytes:
    return (
        b"\xffSMB"
        + struct.pack("<BIBH12sHHHHH", command, 0, 0x18, _SMB1_FLAGS2, b"\x00" * 12, 0, 0xFEFF, uid, mid, 0)[:28]
    )


def smb1_negotiate() -> bytes:
    dialects = b"\x02NT LM 0.12\x00"
    return _frame(_smb1_header(0x72, 1) + b"\x00" + struct.pack("<H", len(dialects)) + dialects)


def smb1_session_setup(uid: int = 0) -> bytes:
    blob = spnego_negotiate()
    caps = 0x80000000 | 0x00000004 | 0x00000040 | 0x00000010  # ext security, unicode, NT status, NT SMBs
    words = struct.pack("<BBHHHHIHII", 0xFF, 0, 0, 0xFFFF, 2, 1, 0, len(blob), 0, caps)
    # Unicode strings are aligned to 2 bytes from the start of the SMB header.
    native = "\x00".encode("utf-16-le")
    data = blob
    if (32 + 1 + len(words) + 2 + len(data)) % 2:
        data += b"\x00"
    data += native + native
    return _frame(_smb1_header(0x73, 2, uid) + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data)


def parse_smb1_negotiate(msg: bytes) -> dict[str, Any]:
    """Facts from an SMB1 NEGOTIATE response (pure).  ``smb1`` is False when no dialect was chosen."""
    if len(msg) < 37 or msg[:4] != b"\xffSMB" or msg[4] != 0x72:
        raise ProbeError("not an SMB1 NEGOTIATE response")
    status = struct.unpack_from("<I", msg, 5)[0]
    words = msg[32]
    if status != 0 or words == 0:
        return {"smb1": False}
    dialect = struct.unpack_from("<H", msg, 33)[0]
    if dialect == 0xFFFF or words < 17:
        return {"smb1": False}
    if len(msg) < 33 + words * 2:  # the parameter words it announces are not all there (found by tests/fuzz)
        raise ProbeError("truncated SMB1 NEGOTIATE response")
    facts: dict[str, Any] = {"smb1": True, "smb1_dialect": "NT LM 0.12"}
    security_mode = msg[35]
    caps = struct.unpack_from("<I", msg, 33 + 2 + 1 + 2 + 2 + 4 + 4 + 4)[0]
    facts["signing_required"] = bool(security_mode & 0x08)
    facts["extended_security"] = bool(caps & 0x80000000)
    byte_count_at = 33 + words * 2
    if not facts["extended_security"] and len(msg) >= byte_count_at + 2:
        facts.update(_smb1_negotiate_names(msg, byte_count_at))
    return facts


def _smb1_negotiate_names(msg: bytes, byte_count_at: int) -> dict[str, Any]:
    """Pre-extended-security servers name their domain and host after the challenge (Unicode)."""
    key_len = msg[33 + 33]
    data = msg[byte_count_at + 2 + key_len :]
    names = [n for n in data.decode("utf-16-le", "replace").split("\x00") if n]
    facts: dict[str, Any] = {}
    if names:
        facts["netbios_domain"] = names[0][:256]
    if len(names) > 1:
        facts["netbios_name"] = names[1][:256]
    return facts


def parse_smb1_session_setup(msg: bytes) -> dict[str, Any]:
    """NTLM CHALLENGE facts plus NativeOS / NativeLanMan from an SMB1 SESSION_SETUP_ANDX reply (pure)."""
    if len(msg) < 35 or msg[:4] != b"\xffSMB" or msg[4] != 0x73:
        raise ProbeError("not an SMB1 SESSION_SETUP_ANDX response")
    status = struct.unpack_from("<I", msg, 5)[0]
    facts: dict[str, Any] = {}
    words = msg[32]
    if words < 4:
        raise ProbeError(f"SMB1 session set-up refused (status {status:#010x})")
    if len(msg) < 33 + words * 2 + 2:  # parameter words and byte count cut short (found by tests/fuzz)
        raise ProbeError("truncated SMB1 SESSION_SETUP_ANDX response")
    blob_len = struct.unpack_from("<H", msg, 33 + 6)[0]
    data_at = 33 + words * 2 + 2
    blob = msg[data_at : data_at + blob_len]
    if status == STATUS_MORE_PROCESSING:
        facts.update(parse_challenge(blob))
    facts.update(_native_strings(msg, data_at + blob_len))
    return facts


def _native_strings(msg: bytes, rest_at: int) -> dict[str, Any]:
    """NativeOS and NativeLanMan: the Unicode strings after the security blob (2-byte aligned)."""
    if rest_at % 2:
        rest_at += 1
    strings = msg[rest_at:].decode("utf-16-le", "replace").split("\x00")
    facts: dict[str, Any] = {}
    if strings and strings[0]:
        facts["native_os"] = "".join(c for c in strings[0] if c.isprintable())[:200]
    if len(strings) > 1 and strings[1]:
        facts["native_lanman"] = "".join(c for c in strings[1] if c.isprintable())[:200]
    return facts


# -- SMB2 -----------------------------------------------------------------------------------------


def _smb2_header(command: int, message_id: int) -> bytes:
    return b"\xfeSMB" + struct.pack(
        "<HHIHHIIQIIQ16s", 64, 0, 0, command, 1, 0, 0, message_id, 0xFEFF, 0, 0, b"\x00" * 16
    )


def smb2_negotiate() -> bytes:
    body = struct.pack("<HHHHI16sQ", 36, len(SMB2_DIALECTS), 1, 0, 0, b"legacyscan-disc\x00", 0)
    body += b"".join(struct.pack("<H", d) for d in SMB2_DIALECTS)
    return _frame(_smb2_header(0, 0) + body)


def smb2_session_setup() -> bytes:
    blob = spnego_negotiate()
    body = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, 64 + 24, len(blob), 0) + blob
    return _frame(_smb2_header(1, 1) + body)


def parse_smb2_negotiate(msg: bytes) -> dict[str, Any]:
    if len(msg) < 64 + 65 - 1 or msg[:4] != b"\xfeSMB":
        raise ProbeError("not an SMB2 NEGOTIATE response")
    status = struct.unpack_from("<I", msg, 8)[0]
    if status != 0:
        raise ProbeError(f"SMB2 NEGOTIATE refused (status {status:#010x})")
    security_mode, dialect = struct.unpack_from("<HH", msg, 64 + 2)
    return {
        "smb2_dialect": _DIALECT_NAMES.get(dialect, f"{dialect:#06x}"),
        "signing_required": bool(security_mode & 0x02),
    }


def parse_smb2_session_setup(msg: bytes) -> dict[str, Any]:
    if len(msg) < 64 + 8 or msg[:4] != b"\xfeSMB":
        raise ProbeError("not an SMB2 SESSION_SETUP response")
    status = struct.unpack_from("<I", msg, 8)[0]
    if status != STATUS_MORE_PROCESSING:
        raise ProbeError(f"SMB2 session set-up gave no challenge (status {status:#010x})")
    offset, length = struct.unpack_from("<HH", msg, 64 + 4)
    return parse_challenge(msg[offset : offset + length])


# -- the probe ------------------------------------------------------------------------------------


def _smb1(sock: socket.socket, deadline: Deadline, facts: dict[str, Any]) -> None:
    """SMB1 negotiate and, if accepted, the session set-up; ``facts`` fills as answers arrive, so a
    server that accepts SMB1 but then refuses the set-up is still recorded as SMB1-enabled."""
    sock.sendall(smb1_negotiate())
    facts.update(parse_smb1_negotiate(_read_frame(sock, deadline)))
    if facts.get("smb1"):
        sock.sendall(smb1_session_setup())
        facts.update(parse_smb1_session_setup(_read_frame(sock, deadline)))


def _smb2(sock: socket.socket, deadline: Deadline, facts: dict[str, Any]) -> None:
    sock.sendall(smb2_negotiate())
    facts.update(parse_smb2_negotiate(_read_frame(sock, deadline)))
    sock.sendall(smb2_session_setup())
    facts.update(parse_smb2_session_setup(_read_frame(sock, deadline)))


def probe(target: Target, settings: ProbeSettings) -> Observation:
    def body(deadline: Deadline, obs: Observation) -> None:
        obs.connections += 1
        with connect(target.host, target.port, deadline, settings.names) as sock:
            try:
                _smb1(sock, deadline, obs.facts)
            except (ProbeError, ConnectionResetError, BrokenPipeError) as exc:
                refused = isinstance(exc, ConnectionResetError | BrokenPipeError) or "closed" in str(exc)
                if "smb1" in obs.facts or not refused:
                    raise
                obs.facts["smb1"] = False  # the server dropped an SMB1-only negotiate: SMB1 disabled
        if obs.facts.get("smb1"):
            return
        if not settings.may_connect_again():  # the second connection waits for its site's token too
            raise ProbeError("stopped before the SMB2 connection")
        obs.connections += 1
        with connect(target.host, target.port, deadline, settings.names) as sock:
            _smb2(sock, deadline, obs.facts)

    return run_probe("smb", target, settings, body)
