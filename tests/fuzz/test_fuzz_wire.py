"""Fuzz: the parsers of what a remote service or host sends us on the wire: the SSH probe bundle's
sections (a hostile host's shell sees the boundary, so it can forge them), and discovery's SSH
banner, HTTP response head, NTLM CHALLENGE, RDP Connection Confirm and SMB1/SMB2 replies.

Contract (#19 "0 unexpected exceptions"): whatever arrives, the bundle parser returns sections
and each discovery parser returns facts or refuses with ``ProbeError``.  Seeds are real replies
(``tests/fixtures/discovery``, provenance there) and the shapes the unit tests use, mutated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agents.bundle import parse_bundle
from scanner.discover import http, ntlm, rdp, smb
from scanner.discover import ssh as ssh_discover
from scanner.discover.base import ProbeError
from tests.fuzz.strategies import inputs

pytestmark = pytest.mark.timeout(120)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "discovery"
NTLM = bytes.fromhex((FIX / "freerdp-ntlm-challenge-win63-9600.hex").read_text().strip())
SMB2_SETUP = bytes.fromhex((FIX / "smb-rs-smb2-session-setup-win11-22621.hex").read_text().strip())
RDP_CC = [bytes.fromhex("0300000b06d00000123400"), bytes.fromhex("030000130ed000001234000200080002000000")]
HTTP = [
    b"HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/7.5\r\nX-Powered-By: ASP.NET\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nServer: Apache/2.2.15 (CentOS)\r\n\r\nbody",
]
SMB1 = [b"\xffSMB\x72" + bytes(32) + b"\x11\x00\x00" + bytes(60), b"\xffSMB\x73" + bytes(32) + NTLM]
SMB2 = [b"\xfeSMB" + bytes(60) + b"\x41\x00" + bytes(120), SMB2_SETUP]
BANNERS = ["SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "SSH-1.99-Cisco-1.25", "SSH-2.0-dropbear_2019.78"]
B = "LS0123456789abcdef01234567"
BUNDLE = [f"{B} c 0\nLinux 6.1.0 x86_64\n{B} rc 0\n{B} f 1\nID=debian\n{B} rc 0\n{B} c 2\n\n{B} rc 127\n"]


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if op == "set" and pos < len(data):
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        else:
            del data[pos:]
    return bytes(data)


def wire(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(mutated_bytes(seeds), st.binary(max_size=300))


PARSERS: list[tuple[Any, list[bytes]]] = [
    (http.parse_response, HTTP),
    (ntlm.parse_challenge, [NTLM]),
    (rdp.parse_connection_confirm, RDP_CC),
    (smb.parse_smb1_negotiate, SMB1),
    (smb.parse_smb1_session_setup, SMB1),
    (smb.parse_smb2_negotiate, SMB2),
    (smb.parse_smb2_session_setup, SMB2),
]


@pytest.mark.parametrize(("parser", "seeds"), PARSERS, ids=lambda v: getattr(v, "__name__", "seeds"))
@given(data=st.data())
def test_discovery_parsers_answer_or_refuse_with_probe_error(
    parser: Any, seeds: list[bytes], data: st.DataObject
) -> None:
    try:
        facts = parser(data.draw(wire(seeds)))
    except ProbeError:
        return
    assert isinstance(facts, dict)


@given(inputs(BANNERS))
def test_ssh_banner_parser_answers_or_refuses_with_probe_error(line: str) -> None:
    try:
        assert isinstance(ssh_discover.parse_banner(line), dict)
    except ProbeError:
        pass


@given(inputs(BUNDLE))
@example(f"{B} c \u00b2\nx\n{B} rc 0\n")
@example(f"{B} c 0\nx\n{B} rc \u00b2\n")
def test_probe_bundle_sections_are_parsed_whatever_the_host_prints(text: str) -> None:
    sections = parse_bundle(text, B)
    for (kind, index), (body, rc) in sections.items():
        assert kind in ("c", "f") and isinstance(index, int) and isinstance(body, str) and isinstance(rc, int)
