"""NTLMSSP, the part a server says before anyone authenticates: its CHALLENGE message.

A Windows server answers an NTLM NEGOTIATE (which carries no user, no domain, no password) with
a CHALLENGE that states its own version (major.minor.build, MS-NLMP 2.2.2.10) and names
(MS-NLMP 2.2.2.1 AV pairs).  The probes send NEGOTIATE and read CHALLENGE; they never send the
third message (AUTHENTICATE), so no logon is attempted and none is logged as failed.

Parsing uses pyspnego's message structures (a dependency pywinrm already brings) rather than
another hand-written NTLM parser.
"""

from __future__ import annotations

import struct
from typing import Any

from scanner.discover.base import ProbeError

SIGNATURE = b"NTLMSSP\x00"
# NEGOTIATE: Unicode, request target, NTLM, always-sign, extended session security, version,
# 128- and 56-bit.  No domain, no workstation (empty fields): it names nobody.  The VERSION flag
# asks the server for its version; the 8-byte VERSION field that flag announces is present but
# zero (revision 15), since strict servers (WinPR/FreeRDP) refuse the flag without the field.
NEGOTIATE = bytes.fromhex("4e544c4d5353500001000000058208a200000000280000000000000028000000000000000000000f")

_AV_NAMES = {
    "nb_computer_name": "netbios_name",
    "nb_domain_name": "netbios_domain",
    "dns_computer_name": "dns_name",
    "dns_domain_name": "dns_domain",
    "dns_tree_name": "dns_tree",
}


def find_challenge(data: bytes) -> bytes:
    """The CHALLENGE message inside whatever wraps it (SPNEGO, SMB, CredSSP)."""
    at = data.find(SIGNATURE + b"\x02\x00\x00\x00")
    if at < 0:
        raise ProbeError("no NTLMSSP CHALLENGE in the reply")
    return data[at:]


def parse_challenge(blob: bytes) -> dict[str, Any]:
    """Version and names from a CHALLENGE message (pure).  Keys: ``ntlm_version`` (e.g.
    ``6.1.7601``), ``ntlm_revision``, ``netbios_name``, ``netbios_domain``, ``dns_name``,
    ``dns_domain``, ``dns_tree``, ``ntlm_timestamp`` (whether the server sent its clock)."""
    from spnego._ntlm_raw.messages import Challenge, NegotiateFlags

    try:
        return _challenge_facts(Challenge.unpack(find_challenge(blob)), NegotiateFlags)
    except (ValueError, KeyError, IndexError, UnicodeDecodeError, TypeError, struct.error, OverflowError) as exc:
        # pyspnego decodes lazily: a short AV pair (struct.error) or an absurd timestamp
        # (OverflowError) surfaces while reading the fields, not in unpack (found by tests/fuzz)
        raise ProbeError(f"malformed NTLMSSP CHALLENGE: {exc}") from exc


def _challenge_facts(msg: Any, negotiate_flags: Any) -> dict[str, Any]:
    info = msg.target_info
    version = msg.version
    flags = msg.flags
    facts: dict[str, Any] = {}
    if version is not None and flags & negotiate_flags.version:
        facts["ntlm_version"] = f"{version.major}.{version.minor}.{version.build}"
        facts["ntlm_revision"] = int(version.revision)
    if info is not None:
        for key, value in info.items():
            name = _AV_NAMES.get(getattr(key, "name", ""), "")
            if name and isinstance(value, str):
                facts[name] = "".join(c for c in value if c.isprintable())[:256]
            elif getattr(key, "name", "") == "timestamp":
                facts["ntlm_timestamp"] = True
    target = msg.target_name
    if isinstance(target, str) and target and "netbios_domain" not in facts:
        facts["netbios_domain"] = target[:256]
    return facts
