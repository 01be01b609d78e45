"""#19 items 6 and 16: operator-named files are read only when regular and bounded, and every
``--out``/``--output`` writer replaces its target atomically, never a device, never via a planted link.

Real files, real FIFOs and a real character device node (``mknod``, the same device numbers as
/dev/null) in a temporary folder: the machine's own /dev/null is never put at risk.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.files import FileRefused, atomic_write, read_regular_bytes, read_regular_text

pytestmark = pytest.mark.timeout(60)  # a FIFO used to block open() for ever: fail, never hang CI


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    p = tmp_path / "pipe.toml"
    os.mkfifo(p)
    return p


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store with one inventory, so ``report`` gets as far as reading its inputs and writing."""
    from agents.inventory import Host, Inventory, OsInfo
    from scanner.store.sqlite import SqliteStore

    path = tmp_path / "x.db"
    store = SqliteStore(str(path))
    try:
        store.save_batch(
            [
                Inventory(
                    host=Host(hostname="pc1", site="A"),
                    os=OsInfo(family="linux", name="x"),
                    collected_at="2026-11-30T08:00:00Z",
                )
            ]
        )
    finally:
        store.close()
    return f"sqlite:///{path}"


def _device(tmp_path: Path) -> Path | None:
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        return None
    return node


def test_helper_refuses_fifo_device_and_oversize_naming_the_path(tmp_path: Path, fifo: Path) -> None:
    with pytest.raises(FileRefused, match=rf"^{fifo}: .*FIFO"):
        read_regular_bytes(fifo, what="exceptions file")
    with pytest.raises(FileRefused, match="character device"):
        read_regular_bytes("/dev/zero", what="inventory")
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 2049)
    with pytest.raises(FileRefused, match=rf"^{big}: inventory is larger than the 2 KiB limit"):
        read_regular_bytes(big, limit=2048, what="inventory")
    assert read_regular_bytes(big, limit=2049) == b"x" * 2049
    with pytest.raises(FileRefused, match="directory"):
        read_regular_bytes(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xef\xbb\xbfa = 1\nb = '\xff'\n")
    with pytest.raises(FileRefused, match=r"line 2, column 6: file is not UTF-8"):
        read_regular_text(bad)
    with pytest.raises(FileRefused, match="no such") as info:
        read_regular_text(tmp_path / "missing")
    assert info.value.missing


@pytest.mark.parametrize("option", ["--exceptions", "--config", "--site-catalog"])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_report_refuses_special_files_as_inputs(
    db: str, tmp_path: Path, fifo: Path, option: str, special: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(fifo) if special == "fifo" else special
    code = main(["report", "--db", db, option, path])
    err = capsys.readouterr().err
    assert code == 1
    assert path in err and ("FIFO" in err or "character device" in err or "not a file" in err), err


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_scan_refuses_special_targets_file(
    db: str, tmp_path: Path, fifo: Path, special: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(fifo) if special == "fifo" else special
    code = main(["scan", "--db", db, "--targets", path])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert path in err and ("FIFO" in err or "character device" in err), err


def test_report_out_refuses_a_device_and_a_fifo(
    db: str, tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = [fifo]
    node = _device(tmp_path)
    if node is not None:
        targets.append(node)
    for target in targets:
        for fmt in ("csv", "xlsx"):
            code = main(["report", "--db", db, "--format", fmt, "--out", str(target)])
            err = capsys.readouterr().err
            assert code == 1, err
            assert str(target) in err and "refusing to replace" in err
            mode = target.lstat().st_mode
            assert stat.S_ISFIFO(mode) or stat.S_ISCHR(mode), "the special file was replaced"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # nothing left behind


def test_report_out_never_follows_a_planted_link_at_the_old_temporary_name(db: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for fmt, name in (("csv", "r.csv"), ("xlsx", "r.xlsx")):
        (tmp_path / f".{name}.tmp").symlink_to(victim)
        out = tmp_path / name
        assert main(["report", "--db", db, "--format", fmt, "--out", str(out)]) == 0
        assert victim.read_text() == "precious\n"
        assert out.is_file() and not out.is_symlink() and out.stat().st_size > 0


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "report.csv"
    out.symlink_to(victim)
    atomic_write(out, "new\n")
    assert victim.read_text() == "precious\n"
    assert not out.is_symlink() and out.read_text() == "new\n"


def test_atomic_write_keeps_the_mode_of_a_replaced_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o640)
    atomic_write(out, b"new")
    assert out.read_bytes() == b"new" and stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_demo_out_never_follows_planted_links(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "demo"
    out.mkdir()
    for name in ("exceptions.toml", "legacyscan.toml", ".report.csv.tmp", ".report.json.tmp"):
        (out / name).symlink_to(victim)
    assert main(["demo", "--devices", "12", "--sites", "1", "--out", str(out), "-q"]) == 0
    assert victim.read_text() == "precious\n"
    assert not (out / "exceptions.toml").is_symlink()


def test_agent_output_never_follows_a_planted_link_and_refuses_a_fifo(tmp_path: Path, fifo: Path) -> None:
    from agents.agent import write_output
    from agents.inventory import Host, Inventory

    inv = Inventory(host=Host(hostname="h1"))
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "inv.json"
    # the old temporary name was predictable: ".NAME.PID.tmp"; plant a link for this process and
    # for any helper thread's view of it
    (tmp_path / f".inv.json.{os.getpid()}.tmp").symlink_to(victim)
    written = write_output(inv, out)
    assert written == out and victim.read_text() == "precious\n" and out.read_text().startswith("{")
    with pytest.raises(OSError, match="FIFO"):
        write_output(inv, fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_fifo_with_a_writer_is_still_refused(fifo: Path) -> None:
    """Even with a writer attached (the pipe would deliver data), a FIFO is not a file."""

    def writer() -> None:
        try:
            fd = os.open(fifo, os.O_WRONLY)
        except OSError:
            return
        try:
            os.write(fd, b"x = 1\n")
        except OSError:
            pass
        finally:
            os.close(fd)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    with pytest.raises(FileRefused, match="FIFO"):
        read_regular_bytes(fifo)
    # release the writer if it is still blocked in open()
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass
    t.join(5)


def test_winrm_credentials_file_must_be_a_regular_file(tmp_path: Path, fifo: Path) -> None:
    from agents.winrm import CredentialError, _from_file

    fifo.chmod(0o600)
    with pytest.raises(CredentialError, match="not a regular file"):
        _from_file(str(fifo), "host", None)


def test_agent_log_lines_never_carry_terminal_escapes(tmp_path: Path) -> None:
    """#19 item 10 on the agent: a probe message quoting a host's output is logged escaped."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from agents.agent import main\n"
        "from agents.inventory import Host, Inventory, Problem\n"
        "inv = Inventory(host=Host(hostname='h1'), problems=[Problem('rpm', 'bad \\x1b[2J\\x1b]0;owned\\x07 db')])\n"
        f"sys.exit(main(['--output', {str(tmp_path / 'inv.json')!r}, '-v', '--no-lower-priority'],"
        " collect_fn=lambda site, tags: inv))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=120, cwd=Path(__file__).resolve().parents[2]
    )
    assert res.returncode == 0, res.stderr
    assert b"probe rpm" in res.stderr and b"\\x1b[2J" in res.stderr
    assert b"\x1b" not in res.stderr and b"\x07" not in res.stderr
