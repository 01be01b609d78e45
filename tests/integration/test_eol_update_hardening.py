"""#19 items 13, 14 and 10 for ``legacyscan eol update``, against real local HTTP(S) servers.

* 13: ``Retry-After: ²`` (a non-ASCII digit) is not a number: backoff, no crash.
* 14: an https source redirecting to plain http is refused; a server trickling its answer meets
  an overall time limit; ``kill -9`` at any point of an update never leaves staging folders behind
  (after the next start) and never makes legacyscan fall back to the older bundled data.
* 10: product names with terminal escapes in the fetched data are printed escaped.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_eol_update import (  # noqa: F401 - fixtures
    BUNDLED,
    ROOT,
    Api,
    _cli,
    _data_dir,
    _env,
    _Handler,
    _Server,
    full_body,
)
from tests.integration.tls import make_pki

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


class _HardHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        api = self.server.api
        mode = api.mode
        if self.path == "/api/v1/products/full/" and mode == "retry-superscript" and api.rate_limited == 0:
            api.requests.append((self.path, {}))
            api.rate_limited += 1
            self._send(503, b"busy", {"Retry-After": "\u00b2".encode().decode("latin-1")})
            return
        if self.path == "/api/v1/products/full/" and mode == "trickle":
            api.requests.append((self.path, {}))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(api.body)))
            self.end_headers()
            try:
                for i in range(0, len(api.body), 64):
                    self.wfile.write(api.body[i : i + 64])
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                return
            return
        if self.path.startswith("/to-http/"):
            api.requests.append((self.path, {}))
            self._send(302, b"", {"Location": api.http_base + self.path[len("/to-http") :]})  # type: ignore[attr-defined]
            return
        super().do_GET()


def _serve(body: bytes, context: ssl.SSLContext | None = None) -> tuple[_Server, str]:
    server = _Server(("127.0.0.1", 0), _HardHandler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.api = Api(body=body)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if context else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def hard(full_body: bytes) -> Iterator[tuple[Api, str]]:  # noqa: F811 - the imported fixture
    server, base = _serve(full_body)
    try:
        yield server.api, base
    finally:
        server.shutdown()
        server.server_close()


def _update(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", "eol", "update", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env or _env(tmp_path),
        timeout=timeout,
        check=False,
    )


def _info(tmp_path: Path) -> dict[str, Any]:
    proc = _cli(tmp_path, "eol", "info", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


# -- item 13 --------------------------------------------------------------------------------------


def test_retry_after_with_a_non_ascii_digit_backs_off_instead_of_crashing(
    hard: tuple[Api, str], tmp_path: Path
) -> None:
    api, base = hard
    api.mode = "retry-superscript"
    proc = _update(tmp_path, "--source", f"{base}/api/v1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and api.rate_limited == 1
    assert (_data_dir(tmp_path) / "metadata.json").is_file()


def test_retry_after_parser_is_strict() -> None:
    from eol_data.update import _retry_after

    for odd in (
        "\u00b2",
        "\u0663",
        "+5",
        "-1",
        "1.5",
        "5 ",
        "9" * 40,
        "Wed, 99 Foo 2015 07:28:00 GMT",
        "x" * 500,
        "Mon, 01 Jan 10000 00:00:00 GMT",
        "Wed, 21 Oct 2015 07:28:00",
    ):
        assert _retry_after(odd, 1) in (2.0, 5.0), odd  # "5 " is stripped: 5 s; the rest: backoff
    assert _retry_after("120", 0) == 120.0


# -- item 14 --------------------------------------------------------------------------------------


def test_https_source_redirecting_to_http_is_refused(full_body: bytes, tmp_path: Path) -> None:  # noqa: F811
    pki = make_pki(tmp_path / "pki")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    plain, plain_base = _serve(full_body)
    tls, tls_base = _serve(full_body, ctx)
    tls.api.http_base = plain_base  # type: ignore[attr-defined]
    try:
        env = {**_env(tmp_path), "SSL_CERT_FILE": str(pki.ca_cert)}
        ok = _update(tmp_path, "--source", f"{tls_base}/api/v1", env=env)  # the TLS server itself is trusted
        assert ok.returncode == 0, ok.stderr
        before = (_data_dir(tmp_path) / "metadata.json").read_bytes()
        proc = _update(tmp_path, "--source", f"{tls_base}/to-http/api/v1", "--force", env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "not https: refused" in proc.stderr and plain_base in proc.stderr
        assert plain.api.requests == [], "the plain-http URL must never be fetched"
        assert (_data_dir(tmp_path) / "metadata.json").read_bytes() == before
    finally:
        for server in (plain, tls):
            server.shutdown()
            server.server_close()


def test_a_trickling_server_meets_the_overall_time_limit(hard: tuple[Api, str], tmp_path: Path) -> None:
    api, base = hard
    api.mode = "trickle"
    proc = _update(tmp_path, "--source", f"{base}/api/v1", "--timeout", "5", "--max-time", "3", timeout=90)
    assert proc.returncode == 1
    assert "overall" in proc.stderr and "previous dataset is unchanged" in proc.stderr
    assert not _data_dir(tmp_path).exists()


def _second_body(full: bytes) -> bytes:
    doc = json.loads(full)
    doc["generated_at"] = "2026-12-01T06:00:00+00:00"
    return json.dumps(doc).encode()


def test_kill_9_at_any_point_never_leaks_staging_nor_falls_back_to_bundled(full_body: bytes, tmp_path: Path) -> None:  # noqa: F811
    server, base = _serve(full_body)
    try:
        first = _update(tmp_path, "--source", f"{base}/api/v1")
        assert first.returncode == 0, first.stderr
        v1 = _info(tmp_path)["generated_at"] if "generated_at" in _info(tmp_path) else None
        server.api.body = _second_body(full_body)
        started = time.monotonic()
        full_run = _update(tmp_path, "--source", f"{base}/api/v1", "--force")
        duration = time.monotonic() - started
        assert full_run.returncode == 0, full_run.stderr
        data = _data_dir(tmp_path)
        seen_versions = set()
        for i in range(8):  # kill points spread over a whole update, start to finish
            server.api.body = full_body if i % 2 else _second_body(full_body)
            proc = subprocess.Popen(
                [sys.executable, "-m", "scanner.cli", "eol", "update", "--source", f"{base}/api/v1", "--force"],
                cwd=tmp_path,
                env=_env(tmp_path),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(duration * (0.15 + 0.85 * i / 7))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            info = _info(tmp_path)
            assert info["loaded_from_kind"] != "bundled snapshot", f"kill #{i}: fell back to bundled data"
            assert info["loaded_from"] == str(data), info
            seen_versions.add(info.get("version") or info.get("dataset_version"))
        # the next start cleans whatever a killed run left behind
        server.api.body = full_body
        last = _update(tmp_path, "--source", f"{base}/api/v1", "--force")
        assert last.returncode == 0, last.stderr
        leftovers = sorted(p.name for p in data.parent.iterdir() if p.name not in ("endoflife", ".endoflife.lock"))
        assert leftovers == [], leftovers
        assert v1 is None or v1
    finally:
        server.shutdown()
        server.server_close()


KILL_POINTS = Path(__file__).resolve().parent / "kill_points.py"


def _update_killed_at(tmp_path: Path, mode: str, base: str, counts: Path) -> int:
    """``eol update --force`` under ``kill_points.py``: SIGKILL at exactly one step of its work."""
    proc = subprocess.run(
        [
            sys.executable,
            str(KILL_POINTS),
            mode,
            str(_data_dir(tmp_path).parent),
            str(counts),
            "--",
            "eol",
            "update",
            "--source",
            f"{base}/api/v1",
            "--force",
        ],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return proc.returncode


def test_kill_9_at_every_step_of_an_update_keeps_a_complete_refreshed_dataset(full_body: bytes, tmp_path: Path) -> None:  # noqa: F811
    """A real SIGKILL before each filesystem step of an update (every rename, exchange, removal,
    folder creation, and the first, middle and last file written): afterwards legacyscan loads a
    complete refreshed dataset, the old or the new one, never the bundled one and never a damaged
    one; the next update removes whatever the killed one left behind."""
    server, base = _serve(full_body)
    counts = tmp_path / "counts.json"
    try:
        assert _update(tmp_path, "--source", f"{base}/api/v1").returncode == 0
        data = _data_dir(tmp_path)
        generations = {_info(tmp_path)["generated_at"]}
        server.api.body = _second_body(full_body)
        assert _update_killed_at(tmp_path, "count", base, counts) == 0
        steps = json.loads(counts.read_text())
        generations.add(_info(tmp_path)["generated_at"])
        assert len(generations) == 2 and steps["struct"] >= 3 and steps["write"] >= 3, (generations, steps)
        writes = sorted({1, steps["write"] // 2, steps["write"]})
        points = [f"struct:{n}" for n in range(1, steps["struct"] + 1)] + [f"write:{n}" for n in writes]
        for i, point in enumerate(points):
            server.api.body = full_body if i % 2 else _second_body(full_body)
            assert _update_killed_at(tmp_path, point, base, counts) == -signal.SIGKILL, point
            info = _cli(tmp_path, "eol", "info", "--format", "json")
            assert info.returncode == 0, f"after a kill at {point}: {info.stderr}"
            loaded = json.loads(info.stdout)
            assert loaded["loaded_from_kind"] != "bundled snapshot", f"kill at {point}: fell back to bundled data"
            assert loaded["generated_at"] in generations, (point, loaded["generated_at"])
        server.api.body = full_body
        last = _update(tmp_path, "--source", f"{base}/api/v1", "--force")
        assert last.returncode == 0, last.stderr
        assert _info(tmp_path)["loaded_from"] == str(data)
        leftovers = sorted(p.name for p in data.parent.iterdir() if p.name not in ("endoflife", ".endoflife.lock"))
        assert leftovers == [], leftovers
    finally:
        server.shutdown()
        server.server_close()


def test_a_damaged_refreshed_snapshot_is_refused_not_half_used(hard: tuple[Api, str], tmp_path: Path) -> None:
    _api, base = hard
    assert _update(tmp_path, "--source", f"{base}/api/v1").returncode == 0
    index = _data_dir(tmp_path) / "index.json"
    index.write_bytes(index.read_bytes()[:-100])  # a damaged copy (disk error, partial restore)
    proc = _cli(tmp_path, "eol", "info", "--format", "json")
    assert proc.returncode == 1
    assert "damaged" in proc.stderr and str(_data_dir(tmp_path)) in proc.stderr


# -- item 10 (eol update output) ------------------------------------------------------------------


def test_update_output_escapes_terminal_sequences_from_the_data(full_body: bytes, tmp_path: Path) -> None:  # noqa: F811
    doc = json.loads(full_body)
    for prod in doc["result"]:
        if prod["name"] == "nodejs":
            prod["releases"][0]["name"] = "99\u001b]0;owned\u0007\u001b[2J"
    server, base = _serve(json.dumps(doc).encode())
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "scanner.cli", "eol", "update", "--source", f"{base}/api/v1"],
            capture_output=True,
            cwd=tmp_path,
            env=_env(tmp_path),
            timeout=180,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    out = proc.stdout.decode("utf-8", errors="replace")
    assert proc.returncode == 0, proc.stderr
    assert "nodejs 99" in out and "\\x1b" in out, out[-2000:]
    assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout
    assert BUNDLED.is_dir() and ROOT.is_dir()


# -- found auditing #19 (fuzz): a lone surrogate escape in the served data -------------------------


def test_a_lone_surrogate_in_the_served_data_is_refused_and_the_current_data_kept(
    full_body: bytes,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    """``"\\ud800"`` is valid JSON but not text: no snapshot file can hold it.  It crashed the update
    with a UnicodeEncodeError while the snapshot was written; now it is refused like any other bad
    content, naming the source, and the data in use stays as it was."""
    doc = json.loads(full_body)
    doc["result"][0]["label"] = "Windows \ud800"
    server, base = _serve(json.dumps(doc).encode())
    try:
        before = _info(tmp_path)
        proc = _update(tmp_path, "--source", f"{base}/api/v1")
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 1, proc.stderr
    assert "lone surrogate" in proc.stderr and f"{base}/api/v1/products/full/" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "UnicodeEncodeError" not in proc.stderr, proc.stderr
    assert _info(tmp_path) == before
