"""``legacyscan eol update``: the only online path -- refresh the EOL dataset from endoflife.date API v1.

Why so careful: the dataset decides every verdict in every report.  A half-downloaded, rate-limited
or reshaped response must never replace a good snapshot, so the update is staged: fetch
(``GET {source}/products/full/``, one request, conditional on the last ETag) -> validate every
product and release -> write a complete snapshot directory beside the live one -> diff it against
the current one -> swap directories by rename.  Anything that fails before the swap leaves the
previous snapshot untouched.

``--source`` may name a site mirror (same API shape) for air-gapped hospitals: an ``http(s)://``
base URL, or a ``file://`` directory holding either a static copy of the API
(``products/full/index.json``) or a snapshot directory like the bundled one (``products/*.json``).

The snapshot keeps the bundled layout (``products/<name>.json`` shaped like
``GET /products/<name>/``, ``index.json``, ``metadata.json`` with ``source: api`` and
``flags_as_of``) so ``eol_data.catalog.Catalog`` reads it unchanged (eol-data.md section 11).
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from eol_data.catalog import BUNDLED_DIR, Catalog, CatalogError, PhaseEnd, Release, product_from_api

DEFAULT_SOURCE = "https://endoflife.date/api/v1"
ENV_SOURCE = "LEGACYSCAN_EOL_SOURCE"
DEFAULT_TIMEOUT = 30.0
MAX_BYTES = 64 * 1024 * 1024  # the full list is ~2.7 MB today; 64 MB leaves room and stops a runaway body
MAX_ATTEMPTS = 4  # first try + retries on 429 / 502 / 503 / 504
MAX_RETRY_WAIT = 120.0
MAX_TOTAL_TIME = 600.0  # the whole download, retries included (``--max-time``)
USER_AGENT = "legacyscan-eol-update/1 (+offline EOL snapshot refresh)"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,99}$")
_DATE_KEYS = ("releaseDate", "ltsFrom", "eoasFrom", "eolFrom", "discontinuedFrom", "eoesFrom")
_FLAG_KEYS = ("isLts", "isEoas", "isEol", "isDiscontinued", "isEoes", "isMaintained")
_PHASES = ("eoas", "eol", "eoes", "discontinued")


class UpdateError(Exception):
    """The update failed; the previous snapshot is untouched.  The message says what and where."""


# -- where ---------------------------------------------------------------------------------------


def refreshed_dir() -> Path:
    """``$XDG_DATA_HOME/legacyscan/endoflife`` (default ``~/.local/share/...``): what updates write."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "legacyscan" / "endoflife"


def target_dir() -> Path:
    """Where an update goes: ``$LEGACYSCAN_EOL_DIR`` if set (that is what gets loaded), else the data dir."""
    override = os.environ.get("LEGACYSCAN_EOL_DIR")
    if override:
        path = Path(override)
        if path.resolve() == BUNDLED_DIR.resolve():
            raise UpdateError(
                "LEGACYSCAN_EOL_DIR points at the bundled snapshot, which an update never "
                "overwrites; unset it or point it at a writable directory"
            )
        return path
    return refreshed_dir()


def read_metadata(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / "metadata.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- fetching ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Fetched:
    url: str
    not_modified: bool = False
    body: bytes = b""
    etag: str = ""
    data: dict[str, Any] | None = None  # already-parsed document (file:// snapshot directories)


def full_url(source: str) -> str:
    """``{source}/products/full/`` unless the source already names the document."""
    base = source.strip()
    path = urlparse(base).path
    if path.endswith(".json") or path.rstrip("/").endswith("/products/full"):
        return base
    return base.rstrip("/") + "/products/full/"


_DELAY_SECONDS = re.compile(r"[0-9]{1,10}", re.ASCII)


def _retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110: delay-seconds = 1*DIGIT, or an
    HTTP-date); anything else -- ``²`` or other non-ASCII digits, signs, fractions, garbage, an
    absurd date -- falls back to exponential backoff instead of raising (#19 item 13)."""
    if value:
        value = value.strip()
        if _DELAY_SECONDS.fullmatch(value):
            return float(int(value))
        if len(value) <= 64:
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                when = email.utils.parsedate_to_datetime(value)
                if when.tzinfo is not None:
                    return min(max(0.0, when.timestamp() - time.time()), 10.0 * 365 * 86400)
    return float(2**attempt)


def _refuse_downgrade(response: httpx.Response) -> None:
    """An https:// source redirected to plain http:// would hand the dataset that decides every
    verdict to anyone on the path: refuse, naming both URLs (#19 item 14)."""
    if response.is_redirect and response.request.url.scheme == "https":
        location = response.headers.get("location", "")
        target = response.request.url.join(location)
        if target.scheme != "https":
            raise UpdateError(
                f"{response.request.url} redirects to {target}, which is not https: refused "
                "(the EOL data would not be protected in transit); use an https:// mirror, or name "
                "the http:// URL in --source yourself if that is really intended"
            )


@dataclass(slots=True)
class _Deadline:
    """``max_time`` for the whole download, retries included."""

    source: str
    max_time: float
    started: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        if time.monotonic() - self.started > self.max_time:
            raise UpdateError(
                f"{self.source}: no complete answer within {self.max_time:g} s overall; try again later, "
                "or raise --max-time"
            )

    def allows(self, wait: float) -> bool:
        return time.monotonic() - self.started + wait <= self.max_time


def fetch_full(
    source: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    etag: str = "",
    max_bytes: int = MAX_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
    max_time: float = MAX_TOTAL_TIME,
) -> Fetched:
    """Download the full product list (or read it from a ``file://`` mirror).

    ``timeout`` bounds each network wait; ``max_time`` bounds the whole download including
    retries (a server trickling a byte at a time stays within every single timeout)."""
    deadline = _Deadline(source, max_time)
    parsed = urlparse(source)
    if parsed.scheme == "file":
        return _read_local(Path(unquote(parsed.path)), max_bytes)
    url = _api_url(source, parsed.scheme, parsed.netloc)
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=5,
            headers=_headers(etag),
            transport=transport,
            event_hooks={"response": [_refuse_downgrade]},
        ) as client:
            for attempt in range(MAX_ATTEMPTS):
                deadline.check()
                with client.stream("GET", url) as resp:
                    if resp.status_code in (429, 502, 503, 504) and attempt + 1 < MAX_ATTEMPTS:
                        sleep(_retry_wait(resp, attempt, url, deadline))
                        continue
                    return _answer(resp, etag, max_bytes, deadline)
            raise UpdateError(f"{url}: still rate limited / unavailable after {MAX_ATTEMPTS} attempts")
    except httpx.TimeoutException as exc:
        raise UpdateError(
            f"{url}: timed out after {timeout:g} s ({type(exc).__name__}); raise --timeout or check the network"
        ) from exc
    except httpx.TooManyRedirects as exc:
        raise UpdateError(f"{url}: too many redirects") from exc
    except httpx.HTTPError as exc:
        raise UpdateError(f"{url}: {type(exc).__name__}: {exc}") from exc


def _api_url(source: str, scheme: str, netloc: str) -> str:
    """The full-list URL of an http(s) mirror (anything else is refused)."""
    if scheme not in ("http", "https") or not netloc:
        raise UpdateError(
            f"--source {source!r}: expected an http(s):// base URL of an endoflife.date API v1 "
            "mirror, or a file:// directory"
        )
    return full_url(source)


def _headers(etag: str) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    return headers


def _retry_wait(resp: httpx.Response, attempt: int, url: str, deadline: _Deadline) -> float:
    """How long to wait before retrying a rate-limited / unavailable answer (refused when the server
    asks for too long, or the wait would pass the overall limit)."""
    wait = _retry_after(resp.headers.get("retry-after"), attempt)
    if wait > MAX_RETRY_WAIT:
        raise UpdateError(
            f"{url}: HTTP {resp.status_code}; the server asks to retry after {wait:.0f} s -- try again later"
        )
    if not deadline.allows(wait):
        raise UpdateError(
            f"{url}: HTTP {resp.status_code}; retrying after {wait:.0f} s would pass "
            f"the {deadline.max_time:g} s limit -- try again later"
        )
    return wait


def _answer(resp: httpx.Response, etag: str, max_bytes: int, deadline: _Deadline) -> Fetched:
    """A final answer: not modified, the body (within ``max_bytes``), or the reason it is refused."""
    if resp.status_code == 304:
        return Fetched(url=str(resp.url), not_modified=True, etag=resp.headers.get("etag", etag))
    if resp.status_code != 200:
        raise UpdateError(f"{resp.url} answered HTTP {resp.status_code} {resp.reason_phrase}".rstrip())
    length = resp.headers.get("content-length")
    if length and re.fullmatch(r"[0-9]{1,20}", length.strip()) and int(length) > max_bytes:
        raise UpdateError(f"{resp.url}: response of {int(length)} bytes exceeds the {max_bytes}-byte limit")
    body = _body(resp, max_bytes, deadline)
    ctype = resp.headers.get("content-type", "")
    if "html" in ctype.lower():
        raise UpdateError(
            f"{resp.url} returned HTML ({ctype}), not the API's JSON; is --source the API v1 base URL (…/api/v1)?"
        )
    return Fetched(url=str(resp.url), body=body, etag=resp.headers.get("etag", ""))


def _body(resp: httpx.Response, max_bytes: int, deadline: _Deadline) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        deadline.check()
        size += len(chunk)
        if size > max_bytes:
            raise UpdateError(f"{resp.url}: response exceeds the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_local(directory: Path, max_bytes: int) -> Fetched:
    """A ``file://`` mirror: a static API copy, or a snapshot directory (bundled layout)."""
    candidates = [directory / "products" / "full" / "index.json", directory / "products" / "full.json"]
    if directory.is_file():
        candidates.insert(0, directory)
    for path in candidates:
        if path.is_file():
            if path.stat().st_size > max_bytes:
                raise UpdateError(f"{path}: larger than the {max_bytes}-byte limit")
            return Fetched(url=path.as_uri(), body=path.read_bytes())
    products = directory / "products"
    if not products.is_dir():
        raise UpdateError(
            f"{directory}: neither products/full/index.json (an API mirror) nor products/*.json "
            "(a snapshot directory) found"
        )
    return _read_snapshot(directory, max_bytes)


def _read_snapshot(directory: Path, max_bytes: int) -> Fetched:
    """A snapshot directory's products/*.json as one full-list document."""
    meta = read_metadata(directory)
    result: list[Any] = []
    total = 0
    generated = str(meta.get("generated_at") or "")
    schema = str(meta.get("schema_version") or "")
    for path in sorted((directory / "products").glob("*.json")):
        total += path.stat().st_size
        if total > max_bytes:
            raise UpdateError(f"{directory}: products/ exceed the {max_bytes}-byte limit")
        doc = _product_document(path)
        result.append(doc["result"])
        generated = generated or str(doc.get("generated_at") or "")
        schema = schema or str(doc.get("schema_version") or "")
    return Fetched(
        url=directory.as_uri(),
        data={"schema_version": schema, "generated_at": generated, "total": len(result), "result": result},
    )


def _product_document(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except ValueError as exc:
        raise UpdateError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or "result" not in doc:
        raise UpdateError(f"{path}: unexpected schema: expected {{schema_version, generated_at, result}}")
    return doc


# -- validating ----------------------------------------------------------------------------------


@dataclass(slots=True)
class FullList:
    schema_version: str
    generated_at: str
    products: list[dict[str, Any]]


def _check_date(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise UpdateError(f"unexpected schema: {where}: expected YYYY-MM-DD or null, got {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise UpdateError(f"unexpected schema: {where}: not a calendar date: {value!r}") from exc


def parse_full(fetched: Fetched) -> FullList:
    """Parse and validate the whole document; every problem names the product and release."""
    data = _document(fetched)
    schema = data.get("schema_version")
    if not isinstance(schema, str) or not schema.startswith("1."):
        raise UpdateError(
            f"unexpected schema: schema_version {schema!r}; this legacyscan reads endoflife.date API v1 (schema 1.x)"
        )
    generated = data.get("generated_at")
    try:
        datetime.fromisoformat(str(generated))
    except ValueError as exc:
        raise UpdateError(f"unexpected schema: generated_at {generated!r} is not an ISO 8601 date-time") from exc
    result = data.get("result")
    if not isinstance(result, list) or not result:
        raise UpdateError(
            "unexpected schema: 'result' must be a non-empty list of products "
            f"(got {type(result).__name__}{'' if result else ', empty'})"
        )
    seen: set[str] = set()
    for i, prod in enumerate(result):
        _check_product(i, prod, seen)
    return FullList(schema_version=schema, generated_at=str(generated), products=result)


def _document(fetched: Fetched) -> dict[str, Any]:
    """The fetched body as a JSON object."""
    data: Any = fetched.data
    if data is None:
        try:
            data = json.loads(fetched.body)
        except (ValueError, RecursionError) as exc:
            raise UpdateError(f"{fetched.url}: response is not valid JSON (truncated download?): {exc}") from exc
    if not isinstance(data, dict):
        raise UpdateError(f"unexpected schema: {fetched.url}: expected a JSON object, got {type(data).__name__}")
    try:  # a lone surrogate escape ("\ud800") parses, but no snapshot file can hold it as UTF-8
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UpdateError(
            f"unexpected content: {fetched.url}: a string holds a lone surrogate escape "
            f"(position {exc.start} of a value), which is not text"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise UpdateError(f"unexpected content: {fetched.url}: {exc}") from exc
    return data


def _check_product(i: int, prod: Any, seen: set[str]) -> None:
    """``result[i]``: a product object with a unique slug, well-typed fields and valid releases."""
    if not isinstance(prod, dict):
        raise UpdateError(f"unexpected schema: result[{i}] is {type(prod).__name__}, expected an object")
    name = prod.get("name")
    if not isinstance(name, str) or not _SLUG.match(name):
        raise UpdateError(f"unexpected schema: result[{i}].name {name!r} is not a product slug")
    if name in seen:
        raise UpdateError(f"unexpected schema: product {name!r} appears twice")
    seen.add(name)
    _check_product_fields(name, prod)
    releases = prod.get("releases")
    if not isinstance(releases, list):
        raise UpdateError(f"unexpected schema: product {name!r}: 'releases' must be a list")
    cycles: set[str] = set()
    for j, rel in enumerate(releases):
        _check_release(name, j, rel, cycles)
    try:
        product_from_api(prod)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpdateError(f"unexpected schema: product {name!r}: {exc}") from exc


def _check_release(name: str, j: int, rel: Any, cycles: set[str]) -> None:
    """``releases[j]`` of product ``name``: a named, unique release with valid dates and flags."""
    where = f"product {name!r} releases[{j}]"
    if not isinstance(rel, dict):
        raise UpdateError(f"unexpected schema: {where} is not an object")
    cycle = rel.get("name")
    if not isinstance(cycle, str) or not cycle.strip():
        raise UpdateError(f"unexpected schema: {where} has no name")
    if cycle in cycles:
        raise UpdateError(f"unexpected schema: product {name!r}: release {cycle!r} appears twice")
    cycles.add(cycle)
    where = f"product {name!r} release {cycle!r}"
    for key in _DATE_KEYS:
        _check_date(rel.get(key), f"{where} {key}")
    for key in _FLAG_KEYS:
        if rel.get(key) is not None and not isinstance(rel[key], bool):
            raise UpdateError(f"unexpected schema: {where} {key} must be true, false or null")
    _check_latest(rel.get("latest"), where)


def _check_latest(latest: Any, where: str) -> None:
    if latest is None:
        return
    if not isinstance(latest, dict):
        raise UpdateError(f"unexpected schema: {where} latest must be an object or null")
    _check_date(latest.get("date"), f"{where} latest.date")


def _check_product_fields(name: str, prod: dict[str, Any]) -> None:
    for key, typ in (("aliases", list), ("labels", dict), ("tags", list), ("identifiers", list)):
        if prod.get(key) is not None and not isinstance(prod[key], typ):
            raise UpdateError(f"unexpected schema: product {name!r}: {key} must be a {typ.__name__}")


# -- writing -------------------------------------------------------------------------------------


def _without_flags(result: dict[str, Any]) -> dict[str, Any]:
    """A product minus the build-date flags: what "content unchanged" means for last_modified."""
    out = dict(result)
    out["releases"] = [{k: v for k, v in r.items() if k not in _FLAG_KEYS} for r in result.get("releases") or []]
    return out


def _previous_product(previous: Path | None, name: str) -> dict[str, Any] | None:
    if previous is None:
        return None
    try:
        doc = json.loads((previous / "products" / f"{name}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _last_modified(prod: dict[str, Any], previous: Path | None, generated_at: str) -> str:
    """The product's last_modified: the API's; else the previous snapshot's when the content is
    unchanged; else the list's generated_at."""
    last_modified = str(prod.get("last_modified") or "")
    if last_modified:
        return last_modified
    old = _previous_product(previous, str(prod["name"]))
    if old and isinstance(old.get("result"), dict) and _without_flags(old["result"]) == _without_flags(prod):
        last_modified = str(old.get("last_modified") or "")
    return last_modified or generated_at


def _given(doc: dict[str, Any], key: str, default: Any) -> Any:
    """``doc[key]`` unless it is missing, null or empty."""
    return doc.get(key) or default


def _index_entry(name: str, prod: dict[str, Any]) -> dict[str, Any]:
    """The product's line in the snapshot's index.json."""
    entry = {
        "name": name,
        "aliases": _given(prod, "aliases", []),
        "label": _given(prod, "label", name),
        "category": _given(prod, "category", ""),
        "tags": _given(prod, "tags", []),
        "uri": _given(prod, "uri", "") or _given(_given(prod, "links", {}), "html", ""),
        "identifiers": _given(prod, "identifiers", []),
        "labels": _given(prod, "labels", {}),
        "releaseCount": len(_given(prod, "releases", [])),
        "file": f"products/{name}.json",
    }
    for key in ("versionCommand", "ltsLabel"):
        if key in prod:
            entry[key] = prod[key]
    return entry


def _keep_versions(previous: Path | None, directory: Path) -> str:
    """The previous snapshot's versions/ copied into ``directory`` (the API does not expose raw
    version history; the older copy is still useful): its generated_at, or "" when there is none."""
    if previous is None or not (previous / "versions").is_dir():
        return ""
    shutil.copytree(previous / "versions", directory / "versions")
    return str(read_metadata(previous).get("generated_at") or "")


def write_snapshot(
    directory: Path, full: FullList, *, source_url: str, etag: str, fetched_at: str, previous: Path | None
) -> None:
    """Write a complete snapshot (bundled layout) into the empty ``directory``."""
    products_dir = directory / "products"
    products_dir.mkdir(parents=True)
    index: list[dict[str, Any]] = []
    releases = 0
    for prod in sorted(full.products, key=lambda p: str(p["name"])):
        name = str(prod["name"])
        doc = {
            "schema_version": full.schema_version,
            "generated_at": full.generated_at,
            "last_modified": _last_modified(prod, previous, full.generated_at),
            "result": prod,
        }
        (products_dir / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
        releases += len(prod.get("releases") or [])
        entry = _index_entry(name, prod)
        index.append(entry)
    index_path = directory / "index.json"
    index_path.write_text(
        json.dumps(
            {
                "schema_version": full.schema_version,
                "generated_at": full.generated_at,
                "total": len(index),
                "result": index,
            },
            ensure_ascii=False,
            indent=1,
        ),
        "utf-8",
    )
    versions_from = _keep_versions(previous, directory)
    meta = {
        "snapshot": "endoflife.date API v1, refreshed by `legacyscan eol update`",
        "schema_version": full.schema_version,
        "generated_at": full.generated_at,
        "flags_as_of": full.generated_at[:10],
        "flags_note": "is* flags were computed by the API for its build date (flags_as_of); legacyscan "
        "recomputes phases from the *From dates for every as_of.",
        "source": "api",
        "source_url": source_url,
        "etag": etag,
        "fetched_at": fetched_at,
        "versions_from": versions_from,
        "counts": {"products": len(index), "releases": releases},
        # checked by Catalog on every load: a damaged refreshed snapshot is refused, never half-used
        "index_sha256": hashlib.sha256(index_path.read_bytes()).hexdigest(),
        "license": "MIT (Copyright 2020 endoflife.date contributors; Copyright (c) 2022 endoflife.date)",
    }
    (directory / "metadata.json").write_text(json.dumps(meta, indent=1), "utf-8")
    (directory / "SOURCE.md").write_text(
        "# Source of this snapshot\n\nEnd-of-life data from endoflife.date (https://endoflife.date), "
        "Copyright 2020 endoflife.date contributors and Copyright (c) 2022 endoflife.date, used under the "
        f"MIT License.\n\nFetched from `{source_url}` at {fetched_at} (API generated_at {full.generated_at})"
        " by `legacyscan eol update`. The bundled snapshot's SOURCE.md carries the full licence text.\n",
        "utf-8",
    )


def validate_snapshot(directory: Path) -> Catalog:
    """Load every product through the real Catalog: what it cannot read must not go live."""
    try:
        cat = Catalog(directory, supplementary_dir=None)
        names = [str(e["name"]) for e in cat.index()]
        for name in names:
            prod = cat.product(name)
            if prod is None:
                raise UpdateError(f"validation: index lists {name!r} but its product file is missing")
            if any(not r.name for r in prod.releases):
                raise UpdateError(f"validation: product {name!r} has a release without a name")
    except CatalogError as exc:
        raise UpdateError(f"validation: {exc}") from exc
    return cat


# -- diffing -------------------------------------------------------------------------------------


def _phase_text(value: PhaseEnd) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "ended (no date)" if value else "no end announced"
    return value.isoformat()


@dataclass(slots=True)
class DateMove:
    product: str
    cycle: str
    phase: str  # eoas | eol | eoes | discontinued
    old: str
    new: str


@dataclass(slots=True)
class DatasetDiff:
    old_version: str = ""
    new_version: str = ""
    products_added: list[str] = field(default_factory=list)
    products_removed: list[str] = field(default_factory=list)
    cycles_added: list[tuple[str, str]] = field(default_factory=list)
    cycles_removed: list[tuple[str, str]] = field(default_factory=list)
    dates_moved: list[DateMove] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.products_added or self.products_removed or self.cycles_added or self.cycles_removed or self.dates_moved
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "products_added": self.products_added,
            "products_removed": self.products_removed,
            "cycles_added": [{"product": p, "cycle": c} for p, c in self.cycles_added],
            "cycles_removed": [{"product": p, "cycle": c} for p, c in self.cycles_removed],
            "dates_moved": [
                {"product": m.product, "cycle": m.cycle, "phase": m.phase, "old": m.old, "new": m.new}
                for m in self.dates_moved
            ],
        }


def _product_docs(directory: Path) -> Iterator[tuple[str, bytes]]:
    products = directory / "products"
    if products.is_dir():
        for path in products.glob("*.json"):
            yield path.stem, path.read_bytes()


def _diff_product(diff: DatasetDiff, name: str, old_res: Any, new_res: Any) -> None:
    """Add one changed product's added and removed cycles and moved dates to ``diff``."""
    old_p, new_p = product_from_api(old_res), product_from_api(new_res)
    old_rel = {r.name: r for r in old_p.releases}
    new_rel = {r.name: r for r in new_p.releases}
    diff.cycles_added += [(name, c) for c in new_rel if c not in old_rel]
    diff.cycles_removed += [(name, c) for c in old_rel if c not in new_rel]
    for cycle, new_r in new_rel.items():
        old_r = old_rel.get(cycle)
        if old_r is not None:
            diff.dates_moved += _moved(name, cycle, old_r, new_r)


def _moved(name: str, cycle: str, old_r: Release, new_r: Release) -> list[DateMove]:
    """The phases of one release whose date (or its kind: a date, true, false) changed."""
    out: list[DateMove] = []
    for phase in _PHASES:
        before, after = getattr(old_r, phase), getattr(new_r, phase)
        if before != after or type(before) is not type(after):
            out.append(DateMove(name, cycle, phase, _phase_text(before), _phase_text(after)))
    return out


def diff_snapshots(old_dir: Path, new_dir: Path) -> DatasetDiff:
    """What changed between two snapshot directories (upstream data only; overlays are unchanged)."""
    old_docs = dict(_product_docs(old_dir))
    new_docs = dict(_product_docs(new_dir))
    diff = DatasetDiff(
        old_version=str(read_metadata(old_dir).get("generated_at") or ""),
        new_version=str(read_metadata(new_dir).get("generated_at") or ""),
    )
    diff.products_added = sorted(set(new_docs) - set(old_docs))
    diff.products_removed = sorted(set(old_docs) - set(new_docs))
    for name in sorted(set(old_docs) & set(new_docs)):
        try:
            old_res = json.loads(old_docs[name])["result"]
            new_res = json.loads(new_docs[name])["result"]
        except (ValueError, KeyError, TypeError):
            continue
        if _without_flags(old_res) != _without_flags(new_res):
            _diff_product(diff, name, old_res, new_res)
    return diff


# -- staging and swapping ------------------------------------------------------------------------


@dataclass(slots=True)
class Staged:
    """A validated new snapshot in a temporary directory beside the target, not yet live."""

    directory: Path
    target: Path
    fetched: Fetched
    full: FullList
    catalog: Catalog
    diff: DatasetDiff


def stage(
    source: str,
    *,
    target: Path,
    current: Path,
    fetched_at: str,
    timeout: float = DEFAULT_TIMEOUT,
    etag: str = "",
    max_bytes: int = MAX_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
    max_time: float = MAX_TOTAL_TIME,
) -> Staged | Fetched:
    """Fetch, validate and write the new snapshot; returns the ``Fetched`` alone on 304 Not Modified."""
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    fetched = fetch_full(
        source, timeout=timeout, etag=etag, max_bytes=max_bytes, sleep=sleep, transport=transport, max_time=max_time
    )
    if fetched.not_modified:
        return fetched
    full = parse_full(fetched)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", dir=target.parent))
    try:
        shutil.rmtree(tmp)  # write_snapshot wants to create it (and its products/) itself
        write_snapshot(tmp, full, source_url=source, etag=fetched.etag, fetched_at=fetched_at, previous=current)
        catalog = validate_snapshot(tmp)
        diff = diff_snapshots(current, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Staged(directory=tmp, target=target, fetched=fetched, full=full, catalog=catalog, diff=diff)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _stale(target: Path, entry: Path, live: bool) -> bool:
    """A staging or swap folder of ``target`` left by an update no longer running (a swap folder
    only while the live snapshot exists)."""
    found = re.fullmatch(re.escape(f".{target.name}.") + r"(new|old)-([0-9]+)(?:-.*)?", entry.name)
    if not found or not entry.is_dir() or entry.is_symlink():
        return False
    if int(found.group(2)) != os.getpid() and _pid_alive(int(found.group(2))):
        return False
    return not (found.group(1) == "old" and not live)


def clean_stale(target: Path) -> list[Path]:
    """Remove staging (``.NAME.new-PID-*``) and swap (``.NAME.old-PID``) folders an update left
    behind when it was killed; those of a still-running update (its PID alive) are kept.
    A swap folder is only removed while the live snapshot exists (otherwise ``recover`` needs it)."""
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    live = (target / "metadata.json").is_file()
    for entry in entries:
        if _stale(target, entry, live):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    call is not available, so the caller falls back to two renames."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc != 0:
        err = ctypes.get_errno()
        if err in (38, 22, 95):  # ENOSYS, EINVAL (filesystem without it), EOPNOTSUPP
            return False
        raise OSError(err, os.strerror(err), str(b))
    return True


def discard(staged: Staged) -> None:
    shutil.rmtree(staged.directory, ignore_errors=True)


def commit(staged: Staged) -> Path:
    """Make the staged snapshot live: rename the old one aside, rename the new one in, then delete the old.

    Both renames are within one directory (atomic on POSIX).  If the second fails the old
    snapshot is renamed back, so the previous data is never lost.
    """
    target = staged.target
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    with _lock(target):
        had_old = target.exists()
        if had_old:
            try:  # one atomic step: there is no instant without a live snapshot (#19 item 14)
                if _exchange(staged.directory, target):
                    shutil.rmtree(staged.directory, ignore_errors=True)  # now holds the previous snapshot
                    return target
            except OSError as exc:
                raise UpdateError(f"cannot swap the new snapshot into {target}: {exc}; previous snapshot kept") from exc
            shutil.rmtree(old, ignore_errors=True)
            os.rename(target, old)
        try:
            os.rename(staged.directory, target)
        except OSError as exc:
            if had_old:
                os.rename(old, target)
            raise UpdateError(f"cannot move the new snapshot into {target}: {exc}; previous snapshot kept") from exc
        if had_old:
            shutil.rmtree(old, ignore_errors=True)
    return target


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """Serialise concurrent updates (two cron jobs) on one data directory."""
    lock_path = target.with_name(f".{target.name}.lock")
    fh = open(lock_path, "a+")  # noqa: SIM115 - held for the duration of the swap
    try:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: renames are still all-or-nothing
            pass
        yield
    finally:
        fh.close()
