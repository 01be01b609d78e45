"""``agents.ssh_legacy``: what is offered with and without ``--ssh-legacy``, and the pieces it adds.

The real negotiations run in ``tests/integration/test_ssh_legacy.py`` against OpenSSH and dropbear;
these tests pin the safety property (nothing SHA-1/DSA offered by default) and the parts that can
be checked alone (DSA signature verification, the offer in the error).
"""

from __future__ import annotations

import socket
import warnings

import paramiko
import pytest
from cryptography.hazmat.primitives import hashes
from paramiko.message import Message

from agents.ssh import NegotiationFailed, negotiation_failed
from agents.ssh_legacy import (
    LEGACY_CIPHERS,
    LEGACY_HOST_KEYS,
    LEGACY_KEX,
    LEGACY_MACS,
    DSSPublicKey,
    KexGroup1SHA1,
    LegacyRSAKey,
    LegacyTransport,
)

WEAK = ("sha1", "ssh-rsa", "ssh-dss")


@pytest.fixture
def transport() -> LegacyTransport:
    a, b = socket.socketpair()
    t = LegacyTransport(a)
    yield t
    t.close()
    b.close()


def test_default_offers_no_sha1_kex_and_no_sha1_or_dsa_host_keys(transport: LegacyTransport) -> None:
    opts = transport.get_security_options()
    assert not [k for k in opts.kex if "sha1" in k]
    assert not [k for k in transport.preferred_keys if k.startswith(("ssh-rsa", "ssh-dss"))]
    assert "ssh-rsa" not in transport.preferred_pubkeys


def test_default_offers_no_cbc_cipher_and_no_sha1_or_md5_mac(transport: LegacyTransport) -> None:
    """paramiko 5 itself still offers CBC and hmac-sha1/md5: without --ssh-legacy we do not."""
    assert {c for c in paramiko.Transport._preferred_ciphers if "cbc" in c} == set(LEGACY_CIPHERS)
    assert {m for m in paramiko.Transport._preferred_macs if "sha1" in m or "md5" in m} == set(LEGACY_MACS)
    opts = transport.get_security_options()
    assert opts.ciphers and not [c for c in opts.ciphers if "cbc" in c]
    assert opts.digests and not [m for m in opts.digests if "sha1" in m or "md5" in m]
    assert [c for c in transport.preferred_ciphers if "cbc" in c] == []


def test_legacy_appends_the_old_algorithms_after_every_modern_one(transport: LegacyTransport) -> None:
    modern_kex = list(transport.get_security_options().kex)
    modern_keys = list(transport.preferred_keys)
    transport.enable_legacy()
    kex = list(transport.get_security_options().kex)
    assert kex[: len(modern_kex)] == modern_kex and kex[len(modern_kex) :] == list(LEGACY_KEX)
    keys = list(transport.preferred_keys)
    assert keys[: len(modern_keys)] == modern_keys
    assert [k for k in keys if k not in modern_keys] == list(LEGACY_HOST_KEYS)  # no cert twins it cannot parse
    opts = transport.get_security_options()
    assert list(opts.ciphers) == [*(c for c in opts.ciphers if c not in LEGACY_CIPHERS), *LEGACY_CIPHERS]
    assert list(opts.digests) == [*(m for m in opts.digests if m not in LEGACY_MACS), *LEGACY_MACS]
    assert len(opts.ciphers) > len(LEGACY_CIPHERS) and len(opts.digests) > len(LEGACY_MACS)


def test_group1_is_the_rfc_2409_oakley_group_2() -> None:
    p = KexGroup1SHA1.P
    assert p.bit_length() == 1024 and p % 2**64 == 2**64 - 1 and p >> 960 == 2**64 - 1
    assert pow(2, p - 1, p) == 1  # prime (Fermat, base 2)


def test_dsa_host_key_signature_is_verified() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from cryptography.hazmat.primitives.asymmetric import dsa
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        private = dsa.generate_private_key(1024)  # noqa: S505 - ssh-dss keys are 1024-bit (FIPS 186-2)
    pub = private.public_key().public_numbers()
    blob = Message()
    blob.add_string("ssh-dss")
    for n in (pub.parameter_numbers.p, pub.parameter_numbers.q, pub.parameter_numbers.g, pub.y):
        blob.add_mpint(n)
    key = DSSPublicKey(Message(blob.asbytes()))
    assert key.asbytes() == blob.asbytes() and key.get_name() == "ssh-dss" and key.get_bits() == 1024

    def sig_for(data: bytes) -> Message:
        r, s = decode_dss_signature(private.sign(data, hashes.SHA1()))  # noqa: S303 - what ssh-dss is
        m = Message()
        m.add_string("ssh-dss")
        m.add_string(r.to_bytes(20, "big") + s.to_bytes(20, "big"))
        return Message(m.asbytes())

    assert key.verify_ssh_sig(b"exchange hash", sig_for(b"exchange hash"))
    assert not key.verify_ssh_sig(b"another hash", sig_for(b"exchange hash"))
    bad = Message()
    bad.add_string("ssh-dss")
    bad.add_string(b"\x00" * 39)
    assert not key.verify_ssh_sig(b"exchange hash", Message(bad.asbytes()))


def test_rsa_key_signs_and_verifies_ssh_rsa() -> None:
    key = LegacyRSAKey.of(paramiko.RSAKey.generate(2048))
    assert isinstance(key, LegacyRSAKey)
    sig = key.sign_ssh_data(b"session blob", "ssh-rsa")
    assert key.verify_ssh_sig(b"session blob", Message(sig.asbytes()))
    assert not paramiko.RSAKey(key=key.key).verify_ssh_sig(b"session blob", Message(sig.asbytes()))  # 5.x refuses


def test_negotiation_failure_names_the_offer_and_the_fix(transport: LegacyTransport) -> None:
    transport.server_offer = {
        "kex": ["diffie-hellman-group1-sha1"],
        "host keys": ["ssh-dss"],
        "ciphers": ["3des-cbc"],
        "MACs": ["hmac-md5"],
    }
    err = negotiation_failed("pacs01", 2222, transport, "Incompatible ssh peer (no acceptable kex algorithm)", False)
    assert isinstance(err, NegotiationFailed)
    text = str(err)
    assert text.startswith("[pacs01]:2222: SSH algorithm negotiation failed (no acceptable kex algorithm)")
    assert "kex diffie-hellman-group1-sha1; host keys ssh-dss; ciphers 3des-cbc; MACs hmac-md5" in text
    assert "--ssh-legacy" in text and "ssh_legacy = true" in text
    again = str(negotiation_failed("pacs01", 22, transport, "Incompatible ssh server (no acceptable macs)", True))
    assert "even the legacy algorithms" in again and "no acceptable macs" in again


def test_the_scan_classifies_it_as_its_own_status() -> None:
    from scanner.collect.status import classify

    assert classify(NegotiationFailed("x")) == "negotiation-failed"
