"""``legacyscan eol update`` against a real local HTTP server serving API v1-shaped data.

The server (in this file, on 127.0.0.1) serves ``/api/v1/products/full/`` built from the bundled
snapshot with a few deliberate changes, and can misbehave on request: HTTP 500, truncated JSON, a
cut connection, an unexpected schema, a slow answer, an HTML 404, rate limiting, redirects, ETags.
Every failure must leave the previous snapshot exactly as it was, with a clear error.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agents.inventory import Host, Inventory, OsInfo
from scanner.store.open import open_store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "eol_data" / "endoflife"
GENERATED = "2026-11-29T06:00:00+00:00"
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'


def _bundled_products() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8"))["result"] for p in sorted((BUNDLED / "products").glob("*.json"))]


def _changed(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The upstream "news": one product gone, one new, a new cycle, moved dates."""
    out = [copy.deepcopy(p) for p in products if p["name"] != "angularjs"]
    by_name = {p["name"]: p for p in out}
    for rel in by_name["windows-server"]["releases"]:
        if rel["name"] == "2012-r2":
            rel["eoesFrom"] = "2027-10-12"
    for rel in by_name["debian"]["releases"]:
        if rel["name"] == "12":
            rel["eolFrom"] = "2027-06-10"  # flips a stored Debian 12 host from extended to supported
    node = by_name["nodejs"]
    node["releases"].insert(
        0,
        {
            **node["releases"][0],
            "name": "99",
            "label": "99",
            "releaseDate": "2026-10-20",
            "eolFrom": "2030-04-30",
            "eoasFrom": "2028-10-20",
        },
    )
    out.append(
        {
            "name": "zz-test-product",
            "aliases": [],
            "label": "ZZ Test Product",
            "category": "app",
            "tags": ["app"],
            "labels": {"eoas": None, "discontinued": None, "eol": "Support", "eoes": None},
            "links": {"html": "https://example.invalid/zz"},
            "releases": [
                {
                    "name": "1",
                    "label": "1",
                    "releaseDate": "2025-01-01",
                    "isEol": False,
                    "eolFrom": "2029-01-01",
                    "isMaintained": True,
                    "latest": None,
                }
            ],
        }
    )
    return out


def _document(products: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema_version": "1.2.1", "generated_at": GENERATED, "total": len(products), "result": products}


@pytest.fixture(scope="module")
def full_body() -> bytes:
    return json.dumps(_document(_changed(_bundled_products()))).encode()


@dataclass
class Api:
    body: bytes
    mode: str = "ok"
    etag: str = '"snapshot-v1"'
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    rate_limited: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        api = self.server.api
        api.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/old/"):
            self._send(301, b"", {"Location": self.path[len("/old") :]})
            return
        if self.path != "/api/v1/products/full/":
            self._send(404, b"<html>not found</html>", {"Content-Type": "text/html"})
            return
        mode = api.mode
        if mode == "500":
            self._send(500, b"internal error", {"Content-Type": "text/plain"})
        elif mode == "html":
            self._send(200, b"<!doctype html><title>Maintenance</title>", {"Content-Type": "text/html"})
        elif mode == "truncated":
            self._send(200, api.body[: len(api.body) // 2])
        elif mode == "cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(api.body)))
            self.end_headers()
            self.wfile.write(api.body[:1000])
            self.wfile.flush()
            self.close_connection = True
        elif mode == "schema-result":
            self._send(
                200,
                json.dumps({"schema_version": "1.2.1", "generated_at": GENERATED, "result": {"products": []}}).encode(),
            )
        elif mode == "schema-release":
            doc = json.loads(api.body)
            del doc["result"][3]["releases"][0]["name"]
            self._send(200, json.dumps(doc).encode())
        elif mode == "schema-v2":
            doc = json.loads(api.body)
            doc["schema_version"] = "2.0.0"
            self._send(200, json.dumps(doc).encode())
        elif mode == "slow":
            time.sleep(3)
            self._send(200, api.body)
        elif mode == "429" and api.rate_limited == 0:
            api.rate_limited += 1
            self._send(429, b"slow down", {"Retry-After": "0"})
        elif self.headers.get("If-None-Match") == api.etag:
            self._send(304, b"", {"ETag": api.etag})
        else:
            self._send(200, api.body, {"ETag": api.etag})

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        headers = {"Content-Type": "application/json", **(headers or {})}
        for key, value in headers.items():
            self.send_header(key, value)
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and code != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the access log
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: Api

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # the client hung up on the "slow" answer: expected


@pytest.fixture
def api(full_body: bytes) -> Iterator[tuple[Api, str]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = Api(body=full_body)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.api, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
    env.update(
        {
            "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "PYTHONPATH": str(ROOT),
            "NO_PROXY": "*",
            "HTTP_PROXY": "",
            "HTTPS_PROXY": "",
            "http_proxy": "",
            "https_proxy": "",
        }
    )
    return env


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=180,
        check=False,
    )


def _data_dir(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "legacyscan" / "endoflife"


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _store_debian_host(db: Path) -> None:
    inv = Inventory(
        host=Host(hostname="ward-pc-01", machine_id="m-0001", site="north"),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 12 (bookworm)",
            version="12",
            facts={"files": {"/etc/os-release": DEBIAN_12}},
        ),
        collected_at="2026-11-29T08:00:00Z",
    )
    store = open_store(f"sqlite:///{db}")
    try:
        store.save_inventory(inv)
    finally:
        store.close()


def test_update_replaces_snapshot_and_reports_changes(api: tuple[Api, str], tmp_path: Path) -> None:
    server, base = api
    db = tmp_path / "estate.db"
    _store_debian_host(db)
    proc = _cli(
        tmp_path,
        "eol",
        "update",
        "--source",
        f"{base}/api/v1",
        "--db",
        f"sqlite:///{db}",
        "--as-of",
        "2026-11-30",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["updated"] is True
    assert report["new_version"] == GENERATED
    assert report["products_added"] == ["zz-test-product"]
    assert report["products_removed"] == ["angularjs"]
    assert {"product": "nodejs", "cycle": "99"} in report["cycles_added"]
    assert {
        "product": "windows-server",
        "cycle": "2012-r2",
        "phase": "eoes",
        "old": "2026-10-13",
        "new": "2027-10-12",
    } in report["dates_moved"]
    flips = report["verdict_changes"]
    assert [(f["host"], f["product"], f["cycle"], f["old_status"], f["new_status"]) for f in flips] == [
        ("ward-pc-01", "debian", "12", "extended", "supported")
    ]
    assert server.requests[0][1]["user-agent"].startswith("legacyscan")

    data = _data_dir(tmp_path)
    meta = json.loads((data / "metadata.json").read_text("utf-8"))
    assert meta["source"] == "api" and meta["flags_as_of"] == "2026-11-29" and meta["etag"] == server.etag
    assert (data / "products" / "zz-test-product.json").is_file()
    assert not (data / "products" / "angularjs.json").exists()
    assert (data / "SOURCE.md").read_text("utf-8").count("MIT") >= 1
    assert [p.name for p in data.parent.iterdir() if p.name.startswith(".endoflife.new")] == []

    info = json.loads(_cli(tmp_path, "eol", "info", "--format", "json").stdout)
    assert info["loaded_from"] == str(data) and info["source"] == "api"
    assert info["products"] == len(list((BUNDLED / "products").glob("*.json")))  # -1 +1
    show = json.loads(_cli(tmp_path, "eol", "show", "windows-server", "--format", "json").stdout)
    assert {r["name"]: r["eoes"] for r in show["releases"]}["2012-r2"] == "2027-10-12"
    assert "(api)" in show["dataset_version"]


def test_text_report_and_not_modified(api: tuple[Api, str], tmp_path: Path) -> None:
    server, base = api
    first = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1")
    assert first.returncode == 0, first.stderr
    assert "Products added (1):" in first.stdout and "zz-test-product" in first.stdout
    assert "windows-server 2012-r2 eoes: 2026-10-13 -> 2027-10-12" in first.stdout
    assert "no stored estate" in first.stdout
    before = _fingerprint(_data_dir(tmp_path))
    second = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1")
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert server.requests[-1][1].get("if-none-match") == server.etag
    assert _fingerprint(_data_dir(tmp_path)) == before
    forced = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1", "--force")
    assert forced.returncode == 0 and "No product, cycle or date changed." in forced.stdout
    assert "if-none-match" not in server.requests[-1][1]


def test_redirects_are_followed(api: tuple[Api, str], tmp_path: Path) -> None:
    server, base = api
    proc = _cli(tmp_path, "eol", "update", "--source", f"{base}/old/api/v1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["source"] == f"{base}/api/v1/products/full/"
    assert [path for path, _ in server.requests] == ["/old/api/v1/products/full/", "/api/v1/products/full/"]


def test_rate_limit_is_honoured(api: tuple[Api, str], tmp_path: Path) -> None:
    server, base = api
    server.mode = "429"
    proc = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1")
    assert proc.returncode == 0, proc.stderr
    assert len(server.requests) == 2 and server.rate_limited == 1


@pytest.mark.parametrize(
    ("mode", "args", "message"),
    [
        ("500", (), "answered HTTP 500"),
        ("truncated", (), "not valid JSON (truncated download?)"),
        ("cut", (), "RemoteProtocolError"),
        ("schema-result", (), "unexpected schema: 'result' must be a non-empty list"),
        ("schema-release", (), "unexpected schema: product 'alibaba-dragonwell' releases[0] has no name"),
        ("schema-v2", (), "schema_version '2.0.0'"),
        ("html", (), "returned HTML"),
        ("slow", ("--timeout", "0.5"), "timed out after 0.5 s"),
        ("ok", ("--max-bytes", "1000"), "exceeds the 1000-byte limit"),
    ],
)
def test_failures_keep_the_previous_snapshot(
    api: tuple[Api, str], tmp_path: Path, mode: str, args: tuple[str, ...], message: str
) -> None:
    server, base = api
    assert _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1").returncode == 0
    data = _data_dir(tmp_path)
    before = _fingerprint(data)
    server.mode = mode
    proc = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1", "--force", *args)
    assert proc.returncode == 1
    assert message in proc.stderr, proc.stderr
    assert "previous dataset is unchanged" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _fingerprint(data) == before
    assert sorted(p.name for p in data.parent.iterdir() if not p.name.endswith(".lock")) == ["endoflife"]


def test_failure_without_previous_refresh_keeps_bundled(api: tuple[Api, str], tmp_path: Path) -> None:
    server, base = api
    server.mode = "500"
    proc = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1")
    assert proc.returncode == 1
    assert not _data_dir(tmp_path).exists()
    info = json.loads(_cli(tmp_path, "eol", "info", "--format", "json").stdout)
    assert info["loaded_from_kind"] == "bundled snapshot"


def test_unreachable_source(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "eol", "update", "--source", "http://127.0.0.1:9/api/v1", "--timeout", "2")
    assert proc.returncode == 1
    assert "ConnectError" in proc.stderr and "previous dataset is unchanged" in proc.stderr


def test_file_mirror_snapshot_directory(tmp_path: Path) -> None:
    """Air-gapped: a snapshot directory copied from a connected machine, given as file://."""
    mirror = tmp_path / "mirror"
    shutil.copytree(BUNDLED, mirror)
    doc = json.loads((mirror / "products" / "rhel.json").read_text("utf-8"))
    for rel in doc["result"]["releases"]:
        if rel["name"] == "7":
            rel["eoesFrom"] = "2030-05-31"
    (mirror / "products" / "rhel.json").write_text(json.dumps(doc), "utf-8")
    proc = _cli(tmp_path, "eol", "update", "--source", mirror.as_uri(), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["dates_moved"] == [
        {"product": "rhel", "cycle": "7", "phase": "eoes", "old": "2029-05-31", "new": "2030-05-31"}
    ]
    assert report["products_added"] == [] and report["products_removed"] == []
    assert (_data_dir(tmp_path) / "versions").is_dir()  # raw version history carried over


def test_file_mirror_static_api_copy(full_body: bytes, tmp_path: Path) -> None:
    mirror = tmp_path / "api-copy" / "api" / "v1"
    (mirror / "products" / "full").mkdir(parents=True)
    (mirror / "products" / "full" / "index.json").write_bytes(full_body)
    proc = _cli(tmp_path, "eol", "update", "--source", mirror.as_uri(), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["products_added"] == ["zz-test-product"]
    bad = _cli(tmp_path, "eol", "update", "--source", (tmp_path / "nowhere").as_uri())
    assert bad.returncode == 1 and "neither products/full/index.json" in bad.stderr


def test_url_and_retry_helpers() -> None:
    from eol_data.update import _retry_after, full_url

    assert full_url("https://endoflife.date/api/v1") == "https://endoflife.date/api/v1/products/full/"
    assert full_url("https://mirror.example/api/v1/") == "https://mirror.example/api/v1/products/full/"
    assert full_url("https://mirror.example/eol/full.json") == "https://mirror.example/eol/full.json"
    assert _retry_after("7", 0) == 7.0
    assert _retry_after(None, 2) == 4.0  # no header: exponential backoff
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0) == 0.0  # a date in the past: retry now


def test_plain_http_source_is_warned_about(api: tuple[Api, str], tmp_path: Path) -> None:
    _server, base = api
    proc = _cli(tmp_path, "eol", "update", "--source", f"{base}/api/v1")
    assert proc.returncode == 0
    assert "plain HTTP" in proc.stderr
