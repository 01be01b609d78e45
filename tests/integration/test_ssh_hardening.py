"""#19 items 5, 8, 10 and 20 against REAL OpenSSH sshd on loopback (and one hostile fake server).

* 5: keys protected by a passphrase (OpenSSH and PEM formats) log in with
  ``LEGACYSCAN_SSH_KEY_PASSPHRASE``; a wrong passphrase is a clear error naming the key.
* 8: ``kill -9`` of a fleet scan takes its forked collector processes with it.
* 10: a server whose identification line carries terminal escape sequences never gets them onto
  the operator's terminal.
* 20: a host printing 200 MB is cut at the read limit, the cut is recorded as a probe problem, the
  rest of its inventory is kept and the scanner's memory stays bounded (peak RSS of the real CLI
  process: its own VmHWM, read at exit; ``wait4``'s ``ru_maxrss`` would include the pytest
  process's RSS, which Linux carries into a forked child across ``exec``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.store.sqlite import SqliteStore
from tests.conftest import require_or_skip
from tests.integration import sshd

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
NORMAL, FLOOD, HANG1, HANG2 = 0, 1, 2, 3
FLOOD_BYTES = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def floodbin() -> Iterator[Path]:
    """A fake ``rpm`` that prints 200 MB of package-like lines (a broken or hostile host)."""
    root = Path(tempfile.mkdtemp(prefix="legacyscan-flood-"))
    root.chmod(0o755)
    rpm = root / "rpm"
    rpm.write_text(f"#!/bin/sh\nyes 'flood-pkg\t1.0\t1.el9\tx86_64\t0\t' | head -c {FLOOD_BYTES}\n")
    rpm.chmod(0o755)
    yield root
    import shutil

    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(floodbin: Path) -> Iterator[sshd.Fleet]:
    why = sshd.available()
    if why:
        require_or_skip(why)
    f = sshd.start_fleet(
        4, roles={HANG1: "hang", HANG2: "hang"}, first=60, extra={FLOOD: f"SetEnv PATH={floodbin}:/usr/bin:/bin"}
    )
    yield f
    f.stop()


def _targets(
    tmp_path: Path, fleet: sshd.Fleet, indexes: list[int], port: int | None = None, hosts: list[str] | None = None
) -> Path:
    csv = tmp_path / "targets.csv"
    names = hosts or [fleet.addresses[i] for i in indexes]
    rows = [f"{h},Main,ssh,{port or fleet.port},{sshd.USER},\n" for h in names]
    csv.write_text("host,site,transport,port,user,tags\n" + "".join(rows))
    return csv


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "scanner.cli", *args]


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_") or k == "LEGACYSCAN_REQUIRE_INTEGRATION"
    }
    env.pop("SSH_AUTH_SOCK", None)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _authorise(fleet: sshd.Fleet, pub: Path) -> None:
    auth = fleet.state / "authorized_keys" / sshd.USER
    with auth.open("a") as fh:
        fh.write(pub.read_text())


# -- item 5 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["openssh-ed25519", "pem-rsa"])
def test_passphrase_protected_key_logs_in(fleet: sshd.Fleet, tmp_path: Path, fmt: str) -> None:
    key = fleet.state / f"enc_{fmt}"
    if not key.exists():
        args = [sshd.SSH_KEYGEN, "-q", "-N", "pässphrase with spaces", "-C", "", "-f", str(key)]
        args += ["-t", "rsa", "-b", "2048", "-m", "PEM"] if fmt == "pem-rsa" else ["-t", "ed25519"]
        subprocess.run(args, check=True, capture_output=True)
        _authorise(fleet, Path(f"{key}.pub"))
    db = tmp_path / "k.db"
    argv = _cli(
        "scan",
        "--targets",
        str(_targets(tmp_path, fleet, [NORMAL])),
        "--ssh-key",
        str(key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--db",
        f"sqlite:///{db}",
        "--no-report",
        "--timeout",
        "20",
        "--progress",
        "none",
    )
    ok = subprocess.run(
        argv,
        env=_env(LEGACYSCAN_SSH_KEY_PASSPHRASE="pässphrase with spaces"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    store = SqliteStore(str(db))
    try:
        assert [(fleet.addresses[NORMAL] in s.target, s.status) for s in store.statuses()] == [(True, "ok")]
        assert len(store.latest_inventories()) == 1
    finally:
        store.close()
    bad = subprocess.run(
        argv, env=_env(LEGACYSCAN_SSH_KEY_PASSPHRASE="wrong"), capture_output=True, text=True, timeout=120
    )
    assert bad.returncode != 0
    assert str(key) in bad.stderr and "passphrase" in bad.stderr and "TypeError" not in bad.stderr
    assert "Traceback" not in bad.stderr


# -- item 20 --------------------------------------------------------------------------------------


# Runs the CLI (``python -m scanner.cli ARGS``) and writes its own peak RSS (VmHWM of this process's
# memory since exec, not inherited from the parent as ``ru_maxrss`` is) to argv[1] when it exits.
_OWN_PEAK = """
import atexit, runpy, sys
out = sys.argv[1]
def peak():
    with open("/proc/self/status") as fh, open(out, "w") as dest:
        dest.write(next(line for line in fh if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["legacyscan", *sys.argv[2:]]
runpy.run_module("scanner.cli", run_name="__main__")
"""


def test_host_flooding_output_is_cut_recorded_and_memory_bounded(fleet: sshd.Fleet, tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    argv = _cli(
        "scan",
        "--targets",
        str(_targets(tmp_path, fleet, [NORMAL, FLOOD])),
        "--ssh-key",
        str(fleet.client_key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--db",
        f"sqlite:///{db}",
        "--no-report",
        "--timeout",
        "90",
        "--progress",
        "none",
    )
    errlog = tmp_path / "stderr.txt"
    peak = tmp_path / "peak.txt"
    with errlog.open("wb") as err_fh:
        proc = subprocess.run(
            [sys.executable, "-c", _OWN_PEAK, str(peak), *argv[3:]],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=err_fh,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 0, errlog.read_text(errors="replace")
    rss_mb = int(peak.read_text().split()[1]) / 1024  # "VmHWM:  123456 kB"
    store = SqliteStore(str(db))
    try:
        statuses = {a: s for s in store.statuses() for a in fleet.addresses if f"{a}:" in s.target}
        invs = {i.host.address: i for i in store.latest_inventories()}
    finally:
        store.close()
    assert statuses[fleet.addresses[NORMAL]].status == "ok"
    flood = invs[fleet.addresses[FLOOD]]
    cut = [p for p in flood.problems if p.kind == "truncated"]
    assert cut and "cut at" in cut[0].message, flood.problems
    assert statuses[fleet.addresses[FLOOD]].status == "partial"
    assert flood.os.family == "linux" and flood.os.facts.get("files"), "the rest of the inventory is kept"
    print(f"peak RSS {rss_mb:.0f} MB; {cut[0].message}")
    assert rss_mb < 400, f"scanner peak RSS {rss_mb:.0f} MB for one host printing 200 MB"


# -- item 8 ---------------------------------------------------------------------------------------


def test_kill_9_of_a_fleet_scan_takes_its_collector_processes_with_it(fleet: sshd.Fleet, tmp_path: Path) -> None:
    import psutil

    argv = _cli(
        "scan",
        "--targets",
        str(_targets(tmp_path, fleet, [HANG1, HANG2])),
        "--ssh-key",
        str(fleet.client_key),
        "--known-hosts",
        str(fleet.known_hosts),
        "--no-agent",
        "--db",
        f"sqlite:///{tmp_path / 'k.db'}",
        "--no-report",
        "--timeout",
        "600",
        "--progress",
        "none",
    )
    proc = subprocess.Popen(
        argv,
        env=_env(LEGACYSCAN_SCAN_PROCESSES="2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        parent = psutil.Process(proc.pid)
        children: list[psutil.Process] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = [
                c
                for c in parent.children(recursive=True)
                if "python" in " ".join(c.cmdline()).lower() or c.name().startswith("python")
            ]
            if len(children) >= 2:
                break
            time.sleep(0.2)
        assert len(children) >= 2, "the scan never forked its collector processes"
        time.sleep(1.0)  # let them connect and block in the hanging command
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        alive = children
        while alive and time.monotonic() < deadline:
            alive = [c for c in alive if _alive(c)]
            time.sleep(0.2)
        assert not alive, f"collector processes outlived the killed scan: {[c.pid for c in alive]}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(p: object) -> bool:
    import psutil

    assert isinstance(p, psutil.Process)
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- item 10 --------------------------------------------------------------------------------------


class HostileServer:
    """Answers every connection with an SSH identification line full of terminal escapes."""

    LINE = "SSH-\x1b[2J\x1b]0;owned\x07\u009b31m\u202e-evil\r\n".encode()

    def __init__(self, address: str = "127.0.0.249") -> None:
        self.sock = socket.create_server((address, 0))
        self.address, self.port = address, self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.sendall(self.LINE)
                    conn.recv(4096)
                    time.sleep(0.5)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def test_hostile_ssh_identification_never_reaches_the_terminal(fleet: sshd.Fleet, tmp_path: Path) -> None:
    server = HostileServer()
    try:
        csv = _targets(tmp_path, fleet, [], port=server.port, hosts=[server.address])
        res = subprocess.run(
            _cli(
                "scan",
                "--targets",
                str(csv),
                "--known-hosts",
                str(fleet.known_hosts),
                "--no-agent",
                "--db",
                f"sqlite:///{tmp_path / 'h.db'}",
                "--no-report",
                "--timeout",
                "10",
                "--connect-timeout",
                "5",
                "--progress",
                "none",
                "--ssh-user",
                sshd.USER,
                "-v",
            ),
            env=_env(),
            capture_output=True,
            timeout=120,
        )
    finally:
        server.close()
    err = res.stderr.decode("utf-8", errors="replace")
    assert "owned" in err, err  # the server's line is reported ...
    assert b"\x1b" not in res.stderr and b"\x07" not in res.stderr and "\x9b" not in err and "\u202e" not in err
    assert "\\x1b" in err


# -- item 20, WinRM -------------------------------------------------------------------------------


def test_winrm_host_flooding_output_is_cut_with_a_clear_error() -> None:
    """The WinRS endpoint (unmodified pywinrm over real HTTP + NTLM) answers with 24 MiB: the read
    stops at the limit and the error says so (on the old 64 MiB limit it was read whole)."""
    try:
        from agents.windows import load_script
        from agents.winrm import WINRM_MAX_OUTPUT, WinRmCredentials, WinRmError, WinRmShell
        from tests.integration.winrs_server import WinRSServer, document_behaviour
    except ImportError as exc:
        require_or_skip(f"pywinrm/pyspnego not installed: {exc}")
        raise
    flood = b'{"legacyscan": "windows-collect/1", "pad": "' + b"A" * (24 * 1024 * 1024) + b'"}'
    with WinRSServer(document_behaviour(flood, chunk_size=2 * 1024 * 1024)) as srv:
        shell = WinRmShell(
            "127.0.0.1", srv.port, WinRmCredentials("HOSPITAL\\scanner", "Sup3r-Secret!", "test"), use_https=False
        )
        with pytest.raises(WinRmError, match=rf"more than {WINRM_MAX_OUTPUT} bytes"):
            shell.run_powershell(load_script(), 120)
