"""HTTP and HTTPS: the ``Server`` (and ``X-Powered-By``) response headers, and for HTTPS the TLS
version the server chose and its certificate's facts.

What it sends: one ``HEAD / HTTP/1.1`` request (Host, User-Agent, ``Connection: close``), no
body, no cookies, no credentials, no paths beyond ``/``; over TLS one handshake offering every
version from TLS 1.0 up, so that old devices answer at all.  The certificate is read, not
trusted: nothing secret is sent, and an expired or self-signed certificate is itself a finding.
One connection; the response is read up to the end of its headers (at most 16 KiB).
"""

from __future__ import annotations

import re
import socket
import ssl
from datetime import UTC
from typing import Any

from scanner.discover.base import Deadline, Observation, ProbeError, ProbeSettings, connect, printable, run_probe
from scanner.targets import Target

MAX_HEADERS = 16 * 1024
USER_AGENT = "legacyscan-discover (credential-free inventory; read-only)"


def request(host: str, port: int, tls: bool) -> bytes:
    default = 443 if tls else 80
    authority = host if port == default else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        authority = f"[{host}]" if port == default else f"[{host}]:{port}"
    return (
        f"HEAD / HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def parse_response(raw: bytes) -> dict[str, Any]:
    """Status line and the identifying headers of an HTTP response head (pure)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = head.decode("iso-8859-1").splitlines()
    if not lines or not re.match(r"HTTP/\d", lines[0]):
        raise ProbeError(f"not an HTTP response: {printable(raw[:60])!r}")
    facts: dict[str, Any] = {"status_line": printable(lines[0].encode("latin-1"), 200)}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        if key in ("server", "x-powered-by", "x-aspnet-version", "www-authenticate") and key not in facts:
            facts[key] = "".join(c for c in value.strip() if c.isprintable())[:300]
    return facts


def cert_facts(der: bytes) -> dict[str, Any]:
    """Issuer, subject, validity and key facts of a DER certificate (pure)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_der_x509_certificate(der)
    facts: dict[str, Any] = {
        "subject": cert.subject.rfc4514_string()[:300],
        "issuer": cert.issuer.rfc4514_string()[:300],
        "not_before": cert.not_valid_before_utc.astimezone(UTC).date().isoformat(),
        "not_after": cert.not_valid_after_utc.astimezone(UTC).date().isoformat(),
        "self_signed": cert.issuer == cert.subject,
        "serial": format(cert.serial_number, "x")[:64],
    }
    try:
        facts["signature_hash"] = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else ""
    except Exception:  # noqa: BLE001, S110 - an unsupported algorithm is left out, not fatal
        pass
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        facts["key"] = f"RSA-{key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        facts["key"] = f"EC-{key.curve.name}"
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        facts["dns_names"] = [str(n) for n in names.get_values_for_type(x509.DNSName)][:20]
    except x509.ExtensionNotFound:
        pass
    return facts


def _read_head(sock: socket.socket | ssl.SSLSocket, deadline: Deadline) -> bytes:
    buf = bytearray()
    while b"\r\n\r\n" not in buf and b"\n\n" not in buf and len(buf) < MAX_HEADERS:
        sock.settimeout(deadline.left())
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    if not buf:
        raise ProbeError("connection closed without a response")
    return bytes(buf[:MAX_HEADERS])


def _probe(service: str, tls: bool) -> Any:
    def probe(target: Target, settings: ProbeSettings) -> Observation:
        def body(deadline: Deadline, obs: Observation) -> None:
            obs.connections += 1
            with connect(target.host, target.port, deadline, settings.names) as raw:
                sock: socket.socket | ssl.SSLSocket = raw
                if tls:
                    server_name = None if re.fullmatch(r"[\d.:]+", target.host) else target.host
                    sock = settings.tls.context().wrap_socket(
                        raw, server_hostname=server_name, do_handshake_on_connect=False
                    )
                    sock.settimeout(deadline.left())
                    sock.do_handshake()
                    obs.facts["tls_version"] = sock.version() or ""
                    cipher = sock.cipher()
                    if cipher:
                        obs.facts["tls_cipher"] = cipher[0]
                    der = sock.getpeercert(binary_form=True)
                    if der:
                        try:
                            obs.facts["certificate"] = cert_facts(der)
                        except ValueError as exc:
                            obs.facts["certificate_error"] = str(exc)[:200]
                sock.settimeout(deadline.left())
                sock.sendall(request(target.host, target.port, tls))
                obs.facts.update(parse_response(_read_head(sock, deadline)))

        return run_probe(service, target, settings, body)

    return probe


probe_http = _probe("http", tls=False)
probe_https = _probe("https", tls=True)
