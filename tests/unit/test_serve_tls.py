"""The collector's TLS context: a real handshake (in memory) against the test CA's server
certificate, and no TLS 1.3 session tickets issued (agents never resume a session)."""

from __future__ import annotations

import ssl
from pathlib import Path

from scanner.service.server import tls_context
from tests.integration.tls import make_pki


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> ssl.SSLObject:
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = client.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done_c = done_s = False
    for _ in range(10):
        for obj, done in ((c, done_c), (s, done_s)):
            if not done:
                try:
                    obj.do_handshake()
                    if obj is c:
                        done_c = True
                    else:
                        done_s = True
                except ssl.SSLWantReadError:
                    pass
            s_in.write(c_out.read())
            c_in.write(s_out.read())
        if done_c and done_s:
            break
    s.write(b"x")  # tickets, when issued, reach the client with the first application data
    c_in.write(s_out.read())
    assert c.read(1) == b"x"
    return c


def test_serve_tls_context_issues_no_session_tickets(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)

    def default() -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        return context

    plain = _handshake(default(), pki.context())
    assert plain.version() == "TLSv1.3" and plain.session is not None and plain.session.has_ticket
    ours = _handshake(tls_context(None, default), pki.context())
    assert ours.version() == "TLSv1.3"
    assert ours.session is None or not ours.session.has_ticket
