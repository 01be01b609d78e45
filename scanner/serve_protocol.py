"""uvicorn's HTTP/1.1 protocol with a deadline for request headers (slowloris).

Why: uvicorn closes an idle keep-alive connection, but a client that trickles its request line
and headers a byte at a time resets that timer with every byte and holds the connection (and a
slot of ``--max-connections``) for ever.  Here every request's head must be complete within
``ServerConfig.header_timeout`` seconds of the connection opening or of the previous response;
otherwise the connection is closed.  (Body timeouts are the upload endpoint's own.)

The protocol class is named by import string in ``uvicorn.run`` (worker processes import it), so
its setting comes from the service's configuration in the environment, like the app's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from scanner.server import CONFIG_ENV, ServerConfig

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def _header_timeout(raw: str) -> float:
    """The configured deadline (``raw``: the service's configuration as ``legacyscan serve`` set it)."""
    return float(json.loads(raw).get("header_timeout", _DEFAULT)) if raw else _DEFAULT


_DEFAULT = ServerConfig(db_url="").header_timeout


class HeaderDeadlineH11Protocol(H11Protocol):
    """H11Protocol + a deadline for each request's line and headers."""

    _head_timer: asyncio.TimerHandle | None = None

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

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(_header_timeout(os.environ.get(CONFIG_ENV, "")),
                                                self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("closing a connection from %s: request headers not received in time", self.client)
            self.transport.close()
