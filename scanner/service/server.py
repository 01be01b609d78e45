"""The collector service: agents POST their inventories here (``legacyscan serve``).

An ASGI app on Starlette, run by uvicorn.  The contract an agent relies on:

``POST /v1/inventories`` with ``Authorization: Bearer <enrolment token>`` and a JSON Inventory
body (``Content-Encoding: gzip`` accepted).  Answers:

* 201 ``{"status": "created", "inventory_id": ...}`` - stored now;
* 200 ``{"status": "duplicate", ...}`` - that inventory id was already stored (a retry after a lost
  response, a re-sent spool): nothing changes, the agent may forget it;
* 400/413/415/422 ``{"error": reason}`` - the document is refused and nothing is stored; resending
  it will not help;
* 401 - unknown or revoked token; 429 - slow down (``Retry-After``); 503 - the database is not
  available, try later (``Retry-After``).

The site is the token's site, never the payload's: a workstation cannot file itself under another
site.  Concurrent uploads are committed together by one writer per process (group commit), so the
database sees a few large transactions instead of one per agent at 9 am.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scanner.privacy import KEEP, Privacy
from scanner.service.upload import Refused, accept_upload, check_collected_at
from scanner.store.enrolment import TokenInfo
from scanner.store.open import open_store
from scanner.store.sqlite import EncodedInventory, Storable, Store, StoreError

__all__ = [
    "CONFIG_ENV",
    "GroupWriter",
    "RateLimiter",
    "Refused",
    "ServerConfig",
    "UploadEndpoint",
    "accept_upload",
    "app_from_env",
    "create_app",
]

log = logging.getLogger(__name__)

CONFIG_ENV = "LEGACYSCAN_SERVE_CONFIG"


@dataclass(slots=True)
class ServerConfig:
    """Service settings.  Limits are generous for real hosts (1,500 packages is ~300 KB of JSON)."""

    db_url: str
    max_body: int = 8 * 1024 * 1024  # bytes on the wire (compressed or not)
    max_decoded: int = 32 * 1024 * 1024  # bytes after gunzip: stops a gzip bomb
    rate_per_second: float = 2.0  # sustained uploads per token...
    rate_burst: int = 600  # ...after a burst this big (a site's morning wave through one token)
    batch_max: int = 64  # inventories committed in one transaction
    max_clock_skew: float = 900.0  # seconds an upload's collected_at may be ahead of the service's clock
    header_timeout: float = 10.0  # seconds for a request line and headers to arrive (slowloris)
    body_timeout: float = 30.0  # seconds for a request body to arrive, in all
    max_connections: int = 1000  # open connections before requests are answered 503
    config_file: str = ""  # legacyscan.toml whose [privacy] applies to every upload ("" = keep as sent)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServerConfig:
        raw = os.environ.get(CONFIG_ENV)
        if not raw:
            raise RuntimeError(f"{CONFIG_ENV} is not set; start the service with `legacyscan serve`")
        return cls(**json.loads(raw))


class RateLimiter:
    """A token bucket per enrolment token (in this process)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str, now: float) -> float:
        """0 when allowed (and counted), else the seconds to wait."""
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0


class GroupWriter:
    """One writer per process: queued inventories are saved in batches (one transaction each).

    Saves run on one dedicated thread (SQLite waits for another process's write lock there, never
    on the event loop).  Each request is answered only after the transaction holding its
    inventory has committed: a 201 is never sent for something the database does not have.
    """

    def __init__(self, store: Store, batch_max: int) -> None:
        self.store = store
        self.batch_max = batch_max
        self.queue: asyncio.Queue[tuple[Storable, asyncio.Future[bool]]] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="legacyscan-writer")

    async def save(self, inv: Storable) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((inv, future))
        return await future

    def _save(self, invs: list[Storable]) -> list[bool | Exception]:
        """Save a batch in one transaction; when that fails, each inventory on its own, so one that
        the database refuses (or that fails for any other reason) never fails its neighbours."""
        try:
            return list(self.store.save_batch(invs))
        except Exception as exc:  # noqa: BLE001 - every waiting request must get an answer
            if len(invs) == 1 or getattr(exc, "unavailable", False):  # down, locked, full: all wait
                return [exc] * len(invs)
            log.warning("a batch of %d uploads failed (%s); saving them one by one", len(invs), exc)
            return [outcome for inv in invs for outcome in self._save([inv])]

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                batch = [await self.queue.get()]
                while len(batch) < self.batch_max and not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                outcomes = await loop.run_in_executor(self.executor, self._save, [inv for inv, _ in batch])
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self.executor.shutdown(wait=True)


def _json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ClientGone(Exception):
    """The agent disconnected before its body arrived: there is nobody to answer."""


# Documents up to this size (decoded) are validated on the event loop: a workstation's upload is
# well under it and a thread hop would cost more than the work.  Anything larger is decompressed
# and validated on a worker thread, so one big or hostile upload never holds up the others.
INLINE_DECODED_MAX = 256 * 1024


async def _read_body(headers: dict[bytes, bytes], receive: Receive, config: ServerConfig, deadline: float) -> bytes:
    """The request body as sent (still compressed), within ``config.body_timeout`` in all."""
    length = headers.get(b"content-length")
    if length is not None:
        if not length.isdigit():
            raise Refused(400, "malformed Content-Length")
        if int(length) > config.max_body:
            raise Refused(413, f"body of {int(length)} bytes exceeds the limit of {config.max_body}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(deadline):  # one deadline for the whole body (no task per chunk)
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > config.max_body:
                    raise Refused(413, f"body exceeds the limit of {config.max_body} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise Refused(
            408, f"request body not received within {config.body_timeout:g} s", {"Connection": "close"}
        ) from None
    encoding = headers.get(b"content-encoding", b"identity").decode("latin-1").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise Refused(415, f"unsupported Content-Encoding {encoding[:40]!r}; use gzip or none")
    return b"".join(chunks)


def _decoded(body: bytes, gzipped: bool, limit: int, config: ServerConfig) -> bytes | None:
    """The document: ``body`` gunzipped when ``gzipped``; None when it is longer than ``limit``
    (413 when longer than the service's ``max_decoded``)."""
    if not gzipped:
        return body if len(body) <= limit else None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise Refused(400, f"body is not valid gzip: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        if limit < config.max_decoded:
            return None
        raise Refused(413, f"decompressed body exceeds the limit of {config.max_decoded} bytes")
    if not inflater.eof:
        raise Refused(400, "gzip body is truncated")
    if inflater.unused_data:
        raise Refused(400, "data after the end of the gzip body (one gzip member expected)")
    return out


def _accept_large(
    body: bytes, gzipped: bool, token: TokenInfo, config: ServerConfig, privacy: Privacy = KEEP
) -> EncodedInventory:
    """Decode and validate a document too large for the event loop (runs on a worker thread)."""
    document = _decoded(body, gzipped, config.max_decoded, config)
    assert document is not None  # noqa: S101 - the limit is the service's own: _decoded raised instead
    return accept_upload(document, token, privacy)


class UploadEndpoint:
    """``POST /v1/inventories`` as a plain ASGI endpoint.

    Why not a Starlette ``Request``/``JSONResponse`` handler: at a site's 9 am wave the service
    spends its CPU on thousands of small requests, and the framework's per-request layers cost
    about as much as storing the inventory.  The endpoint is still routed by Starlette (405 for
    other methods); ``create_app`` also lets matching requests skip the middleware stack.
    """

    def __init__(self, config: ServerConfig, state: dict[str, Any], clock: Callable[[], dt.datetime]) -> None:
        self.config = config
        self.state = state
        self.clock = clock  # the service's "now" (an aware UTC datetime), injected
        self.max_skew = dt.timedelta(seconds=config.max_clock_skew)
        self.limiter = RateLimiter(config.rate_per_second, config.rate_burst)
        from scanner.privacy import load

        self.privacy = load(config.config_file) if config.config_file else KEEP  # hash/drop serials, SIDs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, payload, extra = await self._handle(scope, receive)
        except ClientGone:
            return
        body = _json_body(payload)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii"))]
        headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = dict(scope["headers"])
        deadline = asyncio.get_running_loop().time() + self.config.body_timeout
        try:
            token = await self._token(headers)
            _check_content_type(headers)
            body = await _read_body(headers, receive, self.config, deadline)
            inv = await self._accept(body, headers, token)
            check_collected_at(inv.collected_at, self.clock(), self.max_skew)
            created = await self.state["writer"].save(inv)
        except Refused as exc:
            if exc.status >= 400 and exc.status != 429:
                log.info("upload refused (%d): %s", exc.status, exc.reason)
            return exc.status, {"error": exc.reason}, exc.headers
        except StoreError as exc:
            return _unavailable(exc)
        return (
            201 if created else 200,
            {"status": "created" if created else "duplicate", "inventory_id": inv.inventory_id, "site": inv.host.site},
            {},
        )

    async def _token(self, headers: dict[bytes, bytes]) -> TokenInfo:
        """The enrolment token the request carries, known and within its rate, else ``Refused``."""
        store: Store = self.state["store"]
        scheme, _, token_text = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        token_text = token_text.strip()
        if scheme.lower() != "bearer" or not token_text:
            raise Refused(
                401, "missing enrolment token (Authorization: Bearer <token>)", {"WWW-Authenticate": "Bearer"}
            )
        if store.local_reads:  # an indexed read on its own connection: no thread hop
            token = store.authenticate(token_text)
        else:
            token = await anyio.to_thread.run_sync(store.authenticate, token_text)
        if token is None:
            raise Refused(401, "unknown or revoked enrolment token", {"WWW-Authenticate": "Bearer"})
        wait = self.limiter.check(token.token_id, time.monotonic())
        if wait > 0:
            raise Refused(429, "rate limit for this token exceeded", {"Retry-After": str(max(1, math.ceil(wait)))})
        return token

    async def _accept(self, body: bytes, headers: dict[bytes, bytes], token: TokenInfo) -> EncodedInventory:
        """The validated inventory of a body: small ones inline, large ones on a worker thread."""
        gzipped = headers.get(b"content-encoding", b"").strip().lower() == b"gzip"
        document = _decoded(body, gzipped, min(INLINE_DECODED_MAX, self.config.max_decoded), self.config)
        if document is not None:
            return accept_upload(document, token, self.privacy)
        return await anyio.to_thread.run_sync(_accept_large, body, gzipped, token, self.config, self.privacy)


def _check_content_type(headers: dict[bytes, bytes]) -> None:
    content_type = headers.get(b"content-type", b"application/json").decode("latin-1")
    content_type = content_type.split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refused(415, f"Content-Type must be application/json, not {content_type[:60]!r}")


def _unavailable(exc: StoreError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """503 with Retry-After: the database is down or its disk is full; nothing was stored."""
    log.error("database unavailable: %s", exc)
    text = str(exc).lower()
    what = "the database's disk is full" if "full" in text or "no space" in text else "the database is not available"
    return 503, {"error": f"{what}; nothing was stored, try again later"}, {"Retry-After": "30"}


def create_app(config: ServerConfig, *, clock: Callable[[], dt.datetime]) -> ASGIApp:
    """The collector's ASGI app; ``clock`` gives the service's current time (aware, UTC)."""
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await anyio.to_thread.run_sync(open_store, config.db_url)
        writer = GroupWriter(store, config.batch_max)
        task = asyncio.create_task(writer.run())
        state.update(store=store, writer=writer)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await anyio.to_thread.run_sync(store.close)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "ok" if "store" in state else "starting"}, status_code=200 if "store" in state else 503
        )

    upload = UploadEndpoint(config, state, clock)
    framework = Starlette(
        routes=[Route("/v1/inventories", upload, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])],
        lifespan=lifespan,
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # The upload path goes straight to its endpoint; everything else (lifespan, health, 404,
        # 405) is Starlette's.
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/inventories":
            await upload(scope, receive, send)
        else:
            await framework(scope, receive, send)

    return app


def tls_context(config: Any, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's server TLS context, without TLS 1.3 session tickets.

    An agent makes one connection per run and keeps no TLS session between runs, so tickets would
    never be used; issuing two per handshake (OpenSSL's default) costs the service an encryption
    and a write per upload, and every agent the parsing of them.  (A client that leaves Nagle's
    algorithm on may then wait for a delayed ACK before its request goes out; httpx, the agent's
    client, sets TCP_NODELAY like most HTTP clients.)
    """
    context = default()
    context.num_tickets = 0
    return context


def app_from_env() -> ASGIApp:
    """uvicorn factory (``--workers`` needs an import string): the config comes from the environment."""
    return create_app(ServerConfig.from_env(), clock=_wall_clock)


def _wall_clock() -> dt.datetime:
    """The machine's clock: read here, at the service's composition root, and nowhere in its logic."""
    return dt.datetime.now(dt.UTC)
