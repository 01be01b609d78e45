"""Opening a store by URL: ``sqlite:///…`` (or a bare path) -> ``SqliteStore``,
``postgresql://…`` -> ``PostgresStore``, with the installed dataset's judge.

Above both backends (``scanner.store.sqlite``, ``scanner.store.postgres``) and the judge, so neither backend
imports the other or the code that judges what it stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from scanner.store.sqlite import SqliteStore, Store, StoreError

if TYPE_CHECKING:
    from scanner.judge.timeline import Judge


def default_judge() -> Judge:
    """The installed dataset, no site catalogue: what judges an inventory when it is stored
    (a command with a site catalogue installs its own judge with ``Store.use_judge``)."""
    # Loaded on first use (a store opened to list tokens never loads the dataset).
    from eol_data.catalog import Catalog
    from scanner.identify.registry import IdentifyContext
    from scanner.judge.timeline import Judge
    from scanner.model import Policy

    return Judge(IdentifyContext(Catalog()), Policy())


def open_store(url: str, *, judge: bool = True) -> Store:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db``, a bare path, or ``postgresql://...``.

    ``judge``: findings are made for each inventory as it is stored (``default_judge``, loaded on
    first use); False stores inventories only (``judge_pending`` judges them later).
    """
    store = _open(url)
    if judge:
        store.use_judge(default_judge)
    return store


def _open(url: str) -> Store:
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from scanner.store.postgres import PostgresStore  # psycopg only for a PostgreSQL URL
        except ImportError as exc:
            raise StoreError(f"PostgreSQL support is not available: {exc}") from exc
        return PostgresStore(url)
    if url.startswith("sqlite:"):
        parsed = urlparse(url)
        path = unquote(parsed.path)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = path.lstrip("/")
        return SqliteStore(path or "legacyscan.db")
    if "://" in url:
        raise StoreError(
            f"unsupported database URL scheme in {url.split('://')[0]!r}://…; use sqlite:///PATH or postgresql://…"
        )
    return SqliteStore(url)
