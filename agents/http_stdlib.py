"""The agent's upload over the standard library (``urllib``), where httpx cannot run.

Why: the httpx and anyio releases the zipapp vendors need Python 3.10+, while the agent runs on
the old systems themselves (Debian 11's 3.9, RHEL 8's 3.8, macOS's 3.9).  There the agent posts
with ``urllib.request`` instead: the same request (gzip body, bearer token, the TLS context the
caller built - certificates always verified), no redirects followed (as httpx's default), and an
answer shaped like httpx's (``status_code``, ``headers``, ``text``, ``json()``) so ``Uploader``
judges it with the same code.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

MAX_BODY = 1 << 20  # an answer of the collector is a few hundred bytes; never buffer more than this


class StdlibHTTPError(OSError):
    """The request did not get an HTTP answer (connection, TLS, timeout); ``__cause__`` says why."""


class _Headers:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._d = {k.lower(): v for k, v in items}

    def get(self, name: str, default: str = "") -> str:
        return self._d.get(name.lower(), default)


class StdlibResponse:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = status
        self.headers = _Headers(headers)
        self.text = body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx comes back as the answer (a collector never redirects an upload)


class StdlibClient:
    """``post`` like ``httpx.Client.post``: the subset ``agents.agent.Uploader`` uses."""

    errors = (StdlibHTTPError,)

    def __init__(self, *, verify: ssl.SSLContext, timeout: float, headers: dict[str, str]) -> None:
        self.timeout = timeout
        self.headers = dict(headers)
        # Proxies from the environment (as httpx's trust_env), TLS through the caller's context.
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=verify), _NoRedirect())

    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> StdlibResponse:
        if not url.lower().startswith(("https://", "http://")):  # never file: or ftp:
            raise StdlibHTTPError(f"not an http(s) URL: {url[:100]}")
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=content, method="POST", headers={**self.headers, **headers}
        )
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:  # noqa: S310 - the --server URL
                return StdlibResponse(resp.status, list(resp.headers.items()), resp.read(MAX_BODY))
        except urllib.error.HTTPError as exc:  # 4xx/5xx/3xx: an answer, judged by the caller
            body = exc.read(MAX_BODY) if exc.fp is not None else b""
            return StdlibResponse(exc.code, list(exc.headers.items()) if exc.headers else [], body)
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, BaseException) else exc
            raise StdlibHTTPError(f"{type(reason).__name__}: {reason}") from reason
        except (OSError, ValueError) as exc:  # timeouts, resets, a bad URL
            raise StdlibHTTPError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        pass
