"""The SSH algorithms of 15-year-old servers, for ``--ssh-legacy`` only, added to paramiko's own tables.

RHEL 5 (OpenSSH 4.3), RHEL 6 (5.3), Solaris 10's SunSSH, old appliances and many embedded
dropbear builds offer only SHA-1 key exchange (``diffie-hellman-group1/14-sha1``,
``diffie-hellman-group-exchange-sha1``) and ``ssh-rsa`` (SHA-1) or ``ssh-dss`` host keys.
paramiko 5 dropped all of them (ssh-dss went in 4.0).  Why extend paramiko rather than pin an old
one, switch to asyncssh or drive the OpenSSH client:

* the same transport, known_hosts code, timeouts, error mapping and per-host cost as every modern
  host (no process per host, no second library with its own host-key store);
* no old paramiko with its unfixed bugs for the whole fleet just to reach a few old hosts;
* each added algorithm is a few lines over paramiko's own classes (the same DH groups with SHA-1;
  RSA with SHA-1 signatures; DSA verification through ``cryptography``), tested against real
  OpenSSH and dropbear servers restricted to those algorithms.

``LegacyTransport`` records what the server offered in every handshake (so a failure names it)
and, when ``legacy`` is set, appends the old algorithms *after* the modern ones: a server that
offers anything better still gets it.  Without ``legacy`` nothing is added, and the CBC ciphers and
SHA-1/MD5 MACs paramiko would otherwise offer are taken out (they come back with ``legacy``).
"""

from __future__ import annotations

import warnings
from hashlib import sha1
from typing import Any

import paramiko
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from paramiko.kex_gex import KexGexSHA256
from paramiko.kex_group14 import KexGroup14SHA256
from paramiko.message import Message

# "no acceptable kex/host key/cipher/mac": paramiko's own error (the type stubs predate it).
IncompatiblePeer: type[paramiko.SSHException] = paramiko.IncompatiblePeer  # type: ignore[attr-defined]

LEGACY_KEX = ("diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1", "diffie-hellman-group1-sha1")
LEGACY_HOST_KEYS = ("ssh-rsa", "ssh-dss")
# paramiko 5 still offers CBC ciphers and SHA-1/MD5 MACs by default (after CTR/GCM and SHA-2).
# LegacyTransport takes them out of the default offer and puts them back only with --ssh-legacy:
# the servers that offer nothing better (OpenSSH < 5.9 without Red Hat's backports, SunSSH, old
# appliances) also need a SHA-1 kex or an ssh-rsa/ssh-dss host key, so they need the opt-in anyway;
# without it no session is ever encrypted with CBC (plaintext recovery, CVE-2008-5161) or
# authenticated with a SHA-1/MD5 MAC.
LEGACY_CIPHERS = ("aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc")
LEGACY_MACS = ("hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96")


_PARAMIKO: Any = paramiko.Transport  # its algorithm tables (the type stubs lack them)


class KexGroup14SHA1(KexGroup14SHA256):
    """RFC 4253 ``diffie-hellman-group14-sha1``: the 2048-bit Oakley group 14 hashed with SHA-1."""

    name = "diffie-hellman-group14-sha1"
    hash_algo = sha1


class KexGroup1SHA1(KexGroup14SHA1):
    """RFC 4253 ``diffie-hellman-group1-sha1``: the 1024-bit Oakley group 2 (RFC 2409 §6.2)."""

    P = int(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
        "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
        "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
        16,
    )
    name = "diffie-hellman-group1-sha1"


class KexGexSHA1(KexGexSHA256):
    """RFC 4419 ``diffie-hellman-group-exchange-sha1``: a server-chosen group hashed with SHA-1."""

    name = "diffie-hellman-group-exchange-sha1"
    hash_algo = sha1


class LegacyRSAKey(paramiko.RSAKey):
    """An RSA key that also verifies and makes ``ssh-rsa`` (SHA-1) signatures."""

    HASHES = {  # type: ignore[misc]  # (the stubs call it Final)
        **paramiko.RSAKey.HASHES,
        "ssh-rsa": hashes.SHA1,
        "ssh-rsa-cert-v01@openssh.com": hashes.SHA1,
    }

    @classmethod
    def of(cls, key: paramiko.PKey) -> paramiko.PKey:
        """The same private RSA key, able to sign ``ssh-rsa``; other keys unchanged."""
        if isinstance(key, paramiko.RSAKey) and not isinstance(key, cls):
            return cls(key=key.key)
        return key


class DSSPublicKey(paramiko.PKey):
    """An ``ssh-dss`` host key: parse and verify only (we never authenticate with a DSA key)."""

    name = "ssh-dss"

    def __init__(self, msg: Message | None = None, data: bytes | None = None) -> None:
        if msg is None:
            msg = Message(data or b"")
        if msg.get_text() != self.name:
            raise paramiko.SSHException("not an ssh-dss key")
        self.p, self.q, self.g, self.y = (msg.get_mpint() for _ in range(4))
        self.public_blob = None

    def asbytes(self) -> bytes:
        m = Message()
        m.add_string(self.name)
        for n in (self.p, self.q, self.g, self.y):
            m.add_mpint(n)
        return m.asbytes()

    def get_name(self) -> str:
        return self.name

    def get_bits(self) -> int:
        return self.p.bit_length()

    def can_sign(self) -> bool:
        return False

    @property
    def _fields(self) -> tuple[Any, ...]:
        return (self.name, self.p, self.q, self.g, self.y)

    def verify_ssh_sig(self, data: bytes, msg: Message) -> bool:
        if msg.get_text() != self.name:
            return False
        sig = msg.get_binary()
        if len(sig) != 40:  # RFC 4253 6.6: r and s, 160 bits each
            return False
        with warnings.catch_warnings():  # cryptography deprecates DSA; it is what these hosts have
            warnings.simplefilter("ignore")
            from cryptography.hazmat.primitives.asymmetric import dsa
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

            try:
                key = dsa.DSAPublicNumbers(self.y, dsa.DSAParameterNumbers(self.p, self.q, self.g)).public_key()
                sha1 = hashes.SHA1()  # noqa: S303 - ssh-dss is SHA-1 by definition
                key.verify(
                    encode_dss_signature(int.from_bytes(sig[:20], "big"), int.from_bytes(sig[20:], "big")), data, sha1
                )
            except (InvalidSignature, ValueError):
                return False
        return True


class LegacyTransport(paramiko.Transport):
    """paramiko's Transport, recording the server's offer; with ``legacy`` also the old algorithms."""

    # the default offer: paramiko's lists without CBC and SHA-1/MD5 MACs (see LEGACY_CIPHERS)
    _preferred_ciphers = tuple(c for c in _PARAMIKO._preferred_ciphers if c not in LEGACY_CIPHERS)
    _preferred_macs = tuple(m for m in _PARAMIKO._preferred_macs if m not in LEGACY_MACS)
    legacy = False
    sha1_rsa_first = False  # set to retry an RSA user key with an ssh-rsa signature
    agreed_kex = ""
    server_offer: dict[str, list[str]]

    def enable_legacy(self) -> None:
        """Append (never prepend) the SHA-1 kex, ssh-rsa/ssh-dss host keys, CBC ciphers and SHA-1/MD5
        MACs to this connection's offer."""
        self.legacy = True
        me: Any = self  # paramiko's tables (instance attributes shadow the class's; the stubs lack them)
        me._kex_info = {
            **me._kex_info,
            "diffie-hellman-group14-sha1": KexGroup14SHA1,
            "diffie-hellman-group-exchange-sha1": KexGexSHA1,
            "diffie-hellman-group1-sha1": KexGroup1SHA1,
        }
        me._key_info = {**me._key_info, "ssh-rsa": LegacyRSAKey, "ssh-dss": DSSPublicKey}
        me._preferred_kex = tuple(me._preferred_kex) + LEGACY_KEX
        me._preferred_keys = tuple(me._preferred_keys) + LEGACY_HOST_KEYS
        me._preferred_pubkeys = tuple(me._preferred_pubkeys) + ("ssh-rsa",)
        me._preferred_ciphers = tuple(me._preferred_ciphers) + LEGACY_CIPHERS
        me._preferred_macs = tuple(me._preferred_macs) + LEGACY_MACS

    @property
    def preferred_pubkeys(self) -> tuple[str, ...]:
        """Old servers (OpenSSH < 7.2, old dropbear) announce no ``server-sig-algs`` and accept only
        ``ssh-rsa`` signatures for user keys: sign with it first there (legacy mode only).  Read by
        paramiko when it signs, i.e. after the server's EXT_INFO (if any) has arrived."""
        algs: tuple[str, ...] = tuple(super().preferred_pubkeys)
        me: Any = self
        if self.legacy and (self.sha1_rsa_first or "server-sig-algs" not in me.server_extensions):
            return ("ssh-rsa",) + tuple(a for a in algs if a != "ssh-rsa")
        return algs

    @property
    def preferred_keys(self) -> tuple[str, ...]:
        # paramiko adds a -cert-v01 twin of every key type: offer only those it can also parse, and
        # the legacy types after all the others (certificates included).
        me: Any = self
        keys = [k for k in super().preferred_keys if k in me._key_info]
        return tuple([k for k in keys if k not in LEGACY_HOST_KEYS] + [k for k in keys if k in LEGACY_HOST_KEYS])

    def _parse_kex_init(self, m: Message) -> None:
        super()._parse_kex_init(m)  # type: ignore[misc]
        engine = getattr(self, "kex_engine", None)
        if engine is not None:  # for the record (tests, debug): which kex class paramiko picked
            me: Any = self
            self.agreed_kex = next((n for n, c in me._kex_info.items() if type(engine) is c), "")

    def _really_parse_kex_init(self, m: Message, ignore_first_byte: bool = False) -> dict[str, Any]:
        parsed: dict[str, Any] = super()._really_parse_kex_init(m, ignore_first_byte)  # type: ignore[misc]
        if not self.server_mode:
            self.server_offer = {
                "kex": [a for a in parsed["kex_algo_list"] if not a.startswith(("ext-info-", "kex-strict-"))],
                "host keys": list(parsed["server_key_algo_list"]),
                "ciphers": list(parsed["server_encrypt_algo_list"]),
                "MACs": list(parsed["server_mac_algo_list"]),
            }
        return parsed


def describe_offer(offer: dict[str, list[str]] | None) -> str:
    """``kex a,b; host keys c; ciphers ...; MACs ...`` - what the server offered, for the status."""
    if not offer:
        return "the server's offer was not received"
    return "; ".join(f"{what} {','.join(algs) or '(none)'}" for what, algs in offer.items())
