"""uvicorn's HTTP/1.1 protocols with a deadline for request heads (slowloris).

Why: uvicorn closes an idle keep-alive connection, but a client that trickles its request line
and headers a byte at a time resets that timer with every byte and holds the connection (and a
slot of ``--max-connections``) for ever.  Here every request's head must be complete within
``ServerConfig.header_timeout`` seconds of the connection opening or of the previous response;
otherwise the connection is closed.  (Body deadlines are the upload endpoint's own.)

Both of uvicorn's HTTP/1.1 implementations get the deadline: ``httptools`` (the fast parser, a
declared dependency, what uvicorn's "auto" picks) and ``h11`` (the pure-Python fallback).
``PROTOCOLS`` names them for ``legacyscan serve``; the classes are given to uvicorn by import
string (worker processes import them), so their setting comes from the service's configuration in
the environment, like the app's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from scanner.service.server import CONFIG_ENV, ServerConfig

log = logging.getLogger(__name__)

_DEFAULT = ServerConfig(db_url="").header_timeout


def _header_timeout(raw: str) -> float:
    """The configured deadline (``raw``: the service's configuration as ``legacyscan serve`` set it)."""
    return float(json.loads(raw).get("header_timeout", _DEFAULT)) if raw else _DEFAULT


class _HeadDeadline:
    """The timer both protocols share: armed while a request head is awaited.  The deadline is read
    from the service's configuration once per connection (``_head_seconds``: the connection's own,
    not a module memo), when the first head is awaited."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    client: Any
    _head_timer: asyncio.TimerHandle | None = None
    _head_seconds: float | None = None

    def _arm(self) -> None:
        self._disarm()
        if self._head_seconds is None:
            self._head_seconds = _header_timeout(os.environ.get(CONFIG_ENV, ""))
        self._head_timer = self.loop.call_later(self._head_seconds, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("closing a connection from %s: request headers not received in time", self.client)
            self.transport.close()


class HeaderDeadlineH11Protocol(_HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol + the head deadline (h11 tells when a head is complete by its state)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head has arrived (or the connection failed)
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a declared dependency
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:

    class HeaderDeadlineHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol + the head deadline (the parser calls back when a head is complete)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # A pipelined request already parsed has its head; otherwise the next one is awaited.
            if not self.transport.is_closing() and not self.pipeline:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)


PROTOCOLS = {
    "h11": "scanner.service.protocol:HeaderDeadlineH11Protocol",
    "httptools": "scanner.service.protocol:HeaderDeadlineHttpToolsProtocol",
}
DEFAULT_PROTOCOL = "httptools" if HttpToolsProtocol is not None else "h11"
