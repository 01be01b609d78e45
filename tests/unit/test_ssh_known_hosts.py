"""Host-key bookkeeping, the one-round-trip bundle format, scan windows and rate limits (pure parts)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from datetime import datetime
from pathlib import Path

import paramiko
import pytest

from agents.ssh import HostKeyMismatch, HostKeyUnknown, KnownHosts, host_id, parse_bundle, verify_host_key
from scanner.collect.config import ScanWindow, parse_duration
from scanner.collect.ratelimit import SiteRateLimiter
from scanner.collect.status import classify


@pytest.fixture(scope="module")
def keys() -> tuple[paramiko.PKey, paramiko.PKey]:
    return paramiko.Ed25519Key.from_private_key_file(_gen("a")), paramiko.Ed25519Key.from_private_key_file(_gen("b"))


def _gen(name: str) -> str:
    import subprocess
    import tempfile

    path = Path(tempfile.mkdtemp()) / name
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    except FileNotFoundError:
        pytest.skip("ssh-keygen not installed")
    return str(path)


def _hashed(name: str, salt: bytes) -> str:
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def test_known_hosts_formats(tmp_path: Path, keys: tuple[paramiko.PKey, paramiko.PKey]) -> None:
    a, b = keys
    line_a = f"{a.get_name()} {a.get_base64()}"
    kh = tmp_path / "known_hosts"
    kh.write_text(
        "# comment\n\n"
        f"pacs01,10.0.0.1 {line_a}\n"
        f"[10.0.0.2]:2222 {line_a}\n"
        f"{_hashed('hashed-host', b'0123456789abcdefghij')} {line_a}\n"
        f"*.lab.example {line_a}\n"
        f"@revoked * {b.get_name()} {b.get_base64()}\n"
        f"@cert-authority *.example ssh-ed25519 {a.get_base64()}\n"
        "garbage line\n"
        f"bad-b64 ssh-ed25519 !!!notbase64\n"
    )
    known = KnownHosts(kh)
    assert known.lookup("pacs01", 22) == {"ssh-ed25519": a.asbytes()}
    assert known.lookup("10.0.0.1", 22) == {"ssh-ed25519": a.asbytes()}
    assert known.lookup("10.0.0.2", 2222) == {"ssh-ed25519": a.asbytes()}
    assert known.lookup("10.0.0.2", 22) == {}
    assert known.lookup("hashed-host", 22) == {"ssh-ed25519": a.asbytes()}
    assert known.lookup("mri.lab.example", 22) == {"ssh-ed25519": a.asbytes()}
    assert known.lookup("unknown", 22) == {}
    assert known.is_revoked(b.asbytes()) and not known.is_revoked(a.asbytes())
    assert host_id("10.0.0.2", 2222) == "[10.0.0.2]:2222"


def test_verify_host_key(tmp_path: Path, keys: tuple[paramiko.PKey, paramiko.PKey]) -> None:
    a, b = keys
    kh = tmp_path / "kh"
    known = KnownHosts(kh)
    with pytest.raises(HostKeyUnknown, match="--accept-new-host-keys"):
        verify_host_key("h1", 22, a, known.lookup("h1", 22), known, accept_new=False)
    assert not kh.exists()
    verify_host_key("h1", 2022, a, known.lookup("h1", 2022), known, accept_new=True)  # TOFU records it
    assert kh.read_text() == f"[h1]:2022 {a.get_name()} {a.get_base64()}\n"
    assert (kh.stat().st_mode & 0o777) == 0o600
    verify_host_key("h1", 2022, a, known.lookup("h1", 2022), known, accept_new=False)
    with pytest.raises(HostKeyMismatch, match="HOST KEY CHANGED") as err:
        verify_host_key("h1", 2022, b, known.lookup("h1", 2022), known, accept_new=True)
    assert "SHA256:" in str(err.value)
    assert kh.read_text().count("[h1]:2022") == 1, "a changed key is never recorded"
    # reload from disk: the TOFU entry persists
    assert KnownHosts(kh).lookup("h1", 2022) == {a.get_name(): a.asbytes()}


def test_known_hosts_concurrent_tofu(tmp_path: Path, keys: tuple[paramiko.PKey, paramiko.PKey]) -> None:
    a, _ = keys
    kh = tmp_path / "kh"
    known = KnownHosts(kh)
    threads = [threading.Thread(target=known.add, args=(f"10.0.{i // 250}.{i % 250}", 22, a)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = kh.read_text().splitlines()
    assert len(lines) == 200 and len(set(lines)) == 200
    assert len(KnownHosts(kh)) == 200


def test_parse_bundle_sections() -> None:
    b = "LSabc"
    text = (
        f"{b} c 0\nLinux\n\n{b} rc 0\n"
        f"{b} c 1\n\n{b} rc 127\n"
        f"{b} f 0\nNAME=x\nno newline at end\n{b} rc 0\n"  # file without trailing newline
        f"{b} f 1\n\n{b} rc 1\n"
        f"{b} f 2\nforged {b} c 9 inside a file\n\n{b} rc 0\n"
        f"{b} f 3\ntruncated by a dropped connection"
    )
    got = parse_bundle(text, b)
    assert got[("c", 0)] == ("Linux\n", 0)
    assert got[("c", 1)] == ("", 127)
    assert got[("f", 0)] == ("NAME=x\nno newline at end", 0)
    assert got[("f", 1)] == ("", 1)
    assert got[("f", 2)] == (f"forged {b} c 9 inside a file\n", 0)
    assert ("f", 3) not in got and ("c", 9) not in got


def test_bundle_filters_a_file_and_skips_a_command_the_file_answers(tmp_path: Path) -> None:
    """Run by the real /bin/sh: the dpkg database goes through grep (only the package fields) and
    dpkg-query is not run where that database is readable; where it is not, the command runs."""
    import shlex
    import subprocess

    from agents import linux
    from agents.ssh import bundle_command

    status = tmp_path / "status"
    status.write_text(
        "Package: bash\nStatus: install ok installed\nPriority: required\nSection: shells\n"
        "Architecture: amd64\nVersion: 5.2.15-2+b2\nDescription: GNU Bourne Again SHell\n"
        " Package: not-a-stanza (continuation line)\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n"
    )
    probe = ["echo", "dpkg-query ran"]
    b = "LS0123456789abcdef01234567"

    def run(path: Path) -> dict[tuple[str, int], tuple[str, int]]:
        cmd = bundle_command(
            [probe],
            [str(path)],
            b,
            filters={str(path): linux.DPKG_STATUS_FIELDS},
            unless_readable={shlex.join(probe): str(path)},
        )
        out = subprocess.run(["/bin/sh", "-c", shlex.split(cmd)[2]], capture_output=True, text=True, check=True)
        return parse_bundle(out.stdout, b)

    got = run(status)
    assert got[("c", 0)] == ("", 127)  # skipped: the database answers
    text, rc = got[("f", 0)]
    assert rc == 0 and "Priority" not in text and "Description" not in text and "not-a-stanza" not in text
    assert [(p.name, p.version, p.arch) for p in linux.parse_dpkg_status(text)] == [("bash", "5.2.15-2+b2", "amd64")]
    status.write_text("Priority: optional\n")  # readable, no package lines: an empty answer, not a failure
    assert run(status)[("f", 0)] == ("", 0)
    got = run(tmp_path / "missing")
    assert got[("c", 0)] == ("dpkg-query ran\n", 0) and got[("f", 0)] == ("", 1)


def test_scan_window_wraps_midnight() -> None:
    w = ScanWindow.parse("19:00-07:00")
    assert w.contains(datetime(2026, 11, 30, 23, 0)) and w.contains(datetime(2026, 11, 30, 6, 59))
    assert not w.contains(datetime(2026, 11, 30, 7, 0)) and not w.contains(datetime(2026, 11, 30, 12, 0))
    day = ScanWindow.parse("12:00-13:30")
    assert day.contains(datetime(2026, 1, 1, 13, 29)) and not day.contains(datetime(2026, 1, 1, 13, 30))
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        ScanWindow.parse("evenings")


def test_site_rate_limiter_spaces_connections_per_site() -> None:
    now = [100.0]
    limiter = SiteRateLimiter(2.0, clock=lambda: now[0])
    waits: list[float] = []

    class Recorder(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(round(timeout or 0, 3))
            return False

    stop = Recorder()
    for _ in range(3):
        assert limiter.wait("A", stop)
    assert limiter.wait("B", stop)  # another site is not held back
    assert waits == [0.5, 1.0]
    assert SiteRateLimiter(None).wait("A", stop)


def test_classify_and_durations() -> None:
    from agents import ssh
    from agents.shell import ShellTimeout

    assert classify(ssh.HostKeyMismatch("x")) == "host-key-mismatch"
    assert classify(ssh.AuthFailed("x")) == "auth-failed"
    assert classify(ShellTimeout("x")) == "timeout"
    assert classify(ssh.ConnectionLost("x")) == "unreachable"
    assert classify(RuntimeError("x")) == "error"
    assert parse_duration("90m").total_seconds() == 5400 and parse_duration("7d").days == 7
    with pytest.raises(ValueError, match="like 90m"):
        parse_duration("soon")


def test_paramiko_loads_without_invoke_which_stays_importable() -> None:
    """Start-up of every SSH scan: paramiko's optional ``invoke`` (ssh_config ``Match exec`` only)
    is not loaded, and code importing it afterwards still gets the real module."""
    import subprocess
    import sys

    code = (
        "import sys, agents.ssh, paramiko.config; assert 'invoke' not in sys.modules, 'loaded'; "
        "assert paramiko.config.invoke is None; import invoke; print(invoke.run.__module__)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().startswith("invoke")
