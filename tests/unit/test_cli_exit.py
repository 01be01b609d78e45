"""The ``legacyscan`` program leaves without the interpreter's teardown (``scanner.cli.exit_fast``),
but with everything an exit does that anyone can see: the exit code, atexit handlers, finalisers,
flushed output, non-daemon threads finished."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_exit_code_output_atexit_and_finalisers(tmp_path: Path) -> None:
    proc = _run(
        """
        import atexit, sys, tempfile, logging
        from pathlib import Path
        from scanner.cli import exit_fast
        out = Path(sys.argv[1])
        kept = tempfile.TemporaryDirectory(dir=out)  # removed by its finaliser at exit
        (out / "tmpdir").write_text(kept.name)
        atexit.register(lambda: (out / "atexit").write_text("ran"))
        logging.basicConfig(stream=sys.stderr)
        logging.getLogger("t").warning("logged")
        sys.stdout.write("no newline at the end")  # buffered: must be flushed
        exit_fast(3)
        """,
        tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "no newline at the end"
    assert "logged" in proc.stderr
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not Path((tmp_path / "tmpdir").read_text()).exists()


def test_a_running_non_daemon_thread_is_waited_for(tmp_path: Path) -> None:
    proc = _run(
        """
        import sys, threading, time
        from pathlib import Path
        from scanner.cli import exit_fast
        out = Path(sys.argv[1])
        def late():
            time.sleep(0.3)
            (out / "thread").write_text("done")
        threading.Thread(target=late).start()
        exit_fast(5)
        """,
        tmp_path,
    )
    assert proc.returncode == 5, proc.stderr
    assert (tmp_path / "thread").read_text() == "done"


def test_the_module_entry_point_keeps_the_exit_code(tmp_path: Path) -> None:
    """``python -m scanner.cli``: a usage error is 2, an error 1, with the message on stderr."""
    usage = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "scan", "--local", "--no-such-option"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert usage.returncode == 2 and "unrecognized arguments" in usage.stderr
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner.cli",
            "scan",
            "--targets",
            str(tmp_path / "none.csv"),
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1 and "legacyscan: error:" in missing.stderr
