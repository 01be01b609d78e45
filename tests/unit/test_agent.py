"""legacyscan-agent: spool bounds, backoff, retry decisions against a real local HTTP server,
command-line checks, priority and import footprint (the agent ships alone)."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agents import agent
from agents.inventory import Host, Inventory, Software

ROOT = Path(__file__).resolve().parents[2]


def inventory(host: str = "pc-1", at: str = "2026-11-30T09:00:00Z", packages: int = 5) -> Inventory:
    return Inventory(
        host=Host(hostname=host, machine_id=f"m-{host}"),
        collected_at=at,
        software=[Software(name=f"p{i}", version="1") for i in range(packages)],
    )


# -- backoff -----------------------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered() -> None:
    upper = agent.backoff_delays(6, 2.0, 30.0, lambda lo, hi: hi)
    assert upper == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    lower = agent.backoff_delays(3, 2.0, 30.0, lambda lo, hi: lo)
    assert lower == [0.0, 0.0, 0.0]  # full jitter: a fleet does not retry in lockstep


# -- spool -------------------------------------------------------------------------------------


def test_spool_keeps_newest_and_drops_oldest_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = agent.Spool(tmp_path / "spool", max_files=3)
    invs = [inventory(at=f"2026-11-{day:02d}T09:00:00Z") for day in range(1, 6)]
    with caplog.at_level(logging.WARNING, logger="legacyscan-agent"):
        for inv in invs:
            spool.add(inv)
    names = [p.name for p in spool.files()]
    assert len(names) == 3
    assert all(inv.inventory_id in name for inv, name in zip(invs[2:], names, strict=True))  # oldest first
    dropped = [r.getMessage() for r in caplog.records if "dropped undelivered inventory" in r.getMessage()]
    assert len(dropped) == 2 and invs[0].inventory_id in dropped[0]
    body = json.loads(gzip.decompress(spool.files()[-1].read_bytes()))
    assert body["inventory_id"] == invs[-1].inventory_id


def test_spool_byte_bound_never_drops_the_newest(tmp_path: Path) -> None:
    spool = agent.Spool(tmp_path / "spool", max_files=100, max_bytes=10)  # smaller than any one file
    first = spool.add(inventory(at="2026-11-01T09:00:00Z"))
    second = spool.add(inventory(at="2026-11-02T09:00:00Z"))
    assert spool.files() == [second] and not first.exists()


def test_output_to_a_folder_is_atomic_and_named_by_host_and_id(tmp_path: Path) -> None:
    inv = inventory(host="WARD-PC/../7")
    written = agent.write_output(inv, tmp_path)
    assert written.parent == tmp_path
    assert written.name == f"WARD-PC_.._7-{inv.inventory_id}.json"
    assert Inventory.from_json(written.read_text()).to_dict() == inv.to_dict()
    assert [p.name for p in tmp_path.iterdir()] == [written.name]  # no temp file left


# -- uploads against a real local HTTP server --------------------------------------------------


class Script:
    """Scripted answers: a list of (status, headers, body) served in order, then the last forever."""

    def __init__(self, answers: list[tuple[int, dict[str, str], dict[str, str]]]) -> None:
        self.answers = answers
        self.received: list[dict[str, object]] = []


@pytest.fixture
def http_server() -> Iterator[tuple[str, Script]]:
    script = Script([(201, {}, {"status": "created"})])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            script.received.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "encoding": self.headers.get("Content-Encoding"),
                    "doc": json.loads(gzip.decompress(body)),
                }
            )
            status, headers, payload = script.answers[min(len(script.received), len(script.answers)) - 1]
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


def run(url: str, spool: Path, inv: Inventory, sleeps: list[float], *extra: str) -> int:
    argv = ["--server", url, "--token", "lsk_test", "--spool", str(spool), "--no-lower-priority", *extra]
    return agent.main(argv, collect_fn=lambda site, tags: inv, sleep=sleeps.append)


def test_retries_with_backoff_honouring_retry_after(http_server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = http_server
    script.answers = [
        (503, {"Retry-After": "7"}, {"error": "db down"}),
        (500, {}, {"error": "oops"}),
        (201, {}, {"status": "created"}),
    ]
    sleeps: list[float] = []
    inv = inventory()
    assert run(url, tmp_path / "spool", inv, sleeps, "--retries", "4", "--retry-base", "0.5") == agent.EXIT_OK
    assert len(script.received) == 3
    assert sleeps[0] >= 7.0  # Retry-After respected
    assert 0.0 <= sleeps[1] <= 1.0  # 0.5 * 2**1, full jitter
    first = script.received[0]
    assert first["path"] == "/v1/inventories" and first["auth"] == "Bearer lsk_test" and first["encoding"] == "gzip"
    ids = [r["doc"]["inventory_id"] for r in script.received]  # type: ignore[index]
    assert ids == [inv.inventory_id] * 3  # same id every time
    assert list((tmp_path / "spool").glob("*.json.gz")) == []


def test_gives_up_after_retries_and_keeps_the_spool(http_server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = http_server
    script.answers = [(503, {}, {"error": "busy"})]
    sleeps: list[float] = []
    assert run(url, tmp_path / "spool", inventory(), sleeps, "--retries", "2") == agent.EXIT_SPOOLED
    assert len(script.received) == 3 and len(sleeps) == 2
    assert len(list((tmp_path / "spool").glob("*.json.gz"))) == 1


def test_refused_document_is_not_retried(http_server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = http_server
    script.answers = [(422, {}, {"error": "software[3].name: expected a string"})]
    sleeps: list[float] = []
    assert run(url, tmp_path / "spool", inventory(), sleeps, "--retries", "4") == agent.EXIT_OK
    assert len(script.received) == 1 and sleeps == []
    [reason] = (tmp_path / "spool" / "rejected").glob("*.reason.txt")
    assert "software[3].name" in reason.read_text()


def test_refused_token_stops_and_keeps_everything(http_server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = http_server
    script.answers = [(401, {}, {"error": "unknown or revoked enrolment token"})]
    sleeps: list[float] = []
    spool = tmp_path / "spool"
    run(url, spool, inventory("a"), sleeps)
    assert run(url, spool, inventory("b"), sleeps) == agent.EXIT_ERROR
    assert len(script.received) == 2  # one try per run: the oldest, then stop
    assert len(list(spool.glob("*.json.gz"))) == 2


def test_start_delay_is_random_within_max(http_server: tuple[str, Script], tmp_path: Path) -> None:
    url, _ = http_server
    sleeps: list[float] = []
    assert run(url, tmp_path / "spool", inventory(), sleeps, "--max-delay", "900") == agent.EXIT_OK
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 900.0


# -- command line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --server URL"),
        (["--server", "https://collector.example"], "needs an enrolment token"),
        (["--server", "http://collector.example", "--token", "t"], "must be an https:// URL"),
        (["--server", "https://collector.example", "--token", "t", "--ca-bundle", "/no/such.pem"], "--ca-bundle"),
    ],
)
def test_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(agent.TOKEN_ENV, raising=False)
    assert agent.main(argv, collect_fn=lambda s, t: inventory()) == agent.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(agent.TOKEN_ENV, " lsk_from_env \n")
    args = agent.build_parser().parse_args(["--server", "https://x"])
    assert agent._token(args) == "lsk_from_env"


# -- footprint and priority (subprocesses: they change process state) --------------------------


def test_file_only_run_imports_neither_httpx_nor_the_server_side(tmp_path: Path) -> None:
    code = (
        "import sys; from agents.agent import main; rc = main(['--output', sys.argv[1], '--no-lower-priority']); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'scanner', 'reports', 'eol_data', "
        "'starlette', 'psycopg')); print(rc, bad)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.strip() == "0 []", proc.stderr
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_lower_priority_raises_niceness() -> None:
    code = "import os; from agents.agent import lower_priority; print(lower_priority()); print(os.nice(0))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    done, nice = proc.stdout.strip().splitlines()
    assert int(nice) >= 10
    assert "nice=" in done


def test_unwritable_spool_is_a_clear_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.ERROR, logger="legacyscan-agent"):
        rc = agent.main(
            [
                "--server",
                "https://collector.example",
                "--token",
                "t",
                "--spool",
                str(blocker / "spool"),
                "--no-lower-priority",
            ],
            collect_fn=lambda s, t: inventory(),
        )
    assert rc == agent.EXIT_ERROR
    assert any("cannot write the spool" in r.getMessage() for r in caplog.records)
