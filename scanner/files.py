"""Safe reading and writing of operator-named files: one place, used by every command.

Why: an import, exceptions, targets, config or site-catalogue path can name ``/dev/zero`` (reads for
ever, memory grows without bound), a FIFO (``open`` blocks until a writer appears, so the command
hangs) or a multi-gigabyte file; and ``--out`` can name ``/dev/null`` or sit in a directory where
someone planted a symlink at a predictable temporary name.  The helpers here refuse all of these
with a message that names the path, before anything is read or replaced.

Reading (use these for every file a user names)::

    from scanner.files import FileRefused, read_regular_bytes, read_regular_text

    data = read_regular_bytes(path, limit=MAX_IMPORT_BYTES, what="inventory")   # bytes
    text = read_regular_text(path, limit=16 * 2**20, what="exceptions file")    # str, utf-8-sig

* The file is opened with ``O_NONBLOCK`` (a FIFO never blocks ``open``) and ``O_NOCTTY``; after
  ``fstat`` anything but a regular file is refused (FIFO, character/block device, directory,
  socket).  Symbolic links to a regular file are followed: the operator named the path.
* At most ``limit`` bytes are read; a longer file is refused (``FileRefused`` says how large the
  limit is), never truncated silently.
* ``FileRefused`` (a ``ValueError``) carries ``path`` and a message that starts with the path.
  ``FileNotFoundError`` and other ``OSError`` are converted too (``FileRefused.missing`` tells the
  caller the file did not exist, if it wants a different hint).  Callers wrap it in their own
  error type (``TargetError``, ``ExceptionFileError``, ``CliError`` ...).
* ``read_regular_text`` decodes UTF-8 (a leading BOM is dropped) and names the line and column of
  the first invalid byte.

Writing (every ``--out``/``--output`` and export path)::

    from scanner.files import atomic_write, atomic_output

    atomic_write(path, data)                 # bytes or str
    with atomic_output(path) as fh: ...      # text stream; "-" or None = stdout

* An existing target that is not a regular file (``/dev/null``, a FIFO, a directory) is refused
  rather than replaced.  A symlink *at the target name* is replaced by the new file, never
  followed (the classic planted-link attack in a shared directory).
* The data goes to a temporary file with an unpredictable name (``tempfile.mkstemp``: created
  ``O_EXCL``, so a planted symlink can never be followed) in the target's own directory, is
  flushed and fsynced, then renamed over the target with ``os.replace`` (atomic: a reader sees the
  old or the new report, never half of one).  The temporary file is removed on any failure.
* A new file gets the mode an ordinary ``open`` would (0666 less the umask); a replaced file keeps
  its mode.

Lower level (``scanner.imports`` uses it to sniff a file's head): ``open_regular(path, max_bytes)``
returns an open binary file after the same checks (``UnsafeFileError``, an ``OSError``), and
``is_regular(path)`` tests without opening.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

#: Sensible ceilings callers may use (a caller can always pass its own).
MAX_CONFIG_BYTES = 16 * 2**20  # config, exceptions register, targets file, site catalogue
MAX_DOCUMENT_BYTES = 64 * 2**20  # one inventory document (import / file drop)

_CHUNK = 1 << 20


class FileRefused(ValueError):
    """A file was refused (not regular, too large, unreadable, not UTF-8); the message names it."""

    def __init__(self, path: str | os.PathLike[str], message: str, *, missing: bool = False) -> None:
        self.path = os.fspath(path)
        self.missing = missing
        super().__init__(f"{self.path}: {message}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.0f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def _open_nonblocking(name: str, what: str) -> int:
    """``name`` opened read-only without blocking (a FIFO is not waited on) nor becoming a tty."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        return os.open(name, flags)
    except FileNotFoundError as exc:
        raise FileRefused(name, f"cannot read: no such {what}", missing=True) from exc
    except IsADirectoryError as exc:
        raise FileRefused(name, f"{what} is a directory, not a file") from exc
    except OSError as exc:
        raise FileRefused(name, f"cannot read {what}: {exc.strerror or exc}") from exc


def _read_all(fd: int, name: str, limit: int, what: str) -> bytes:
    """Everything left in ``fd``, refused once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:  # grew while we read it (a log being appended, /proc-like files)
            raise FileRefused(name, f"{what} is larger than the {_human(limit)} limit")
    return b"".join(chunks)


def read_regular_bytes(path: str | os.PathLike[str], *, limit: int = MAX_CONFIG_BYTES, what: str = "file") -> bytes:
    """The whole content of regular file ``path`` (at most ``limit`` bytes), else ``FileRefused``."""
    name = os.fspath(path)
    fd = _open_nonblocking(name, what)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(name, f"{what} is {_kind(st.st_mode)}; only regular files are read")
        if st.st_size > limit:
            raise FileRefused(name, f"{what} is larger than the {_human(limit)} limit ({st.st_size} bytes)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return _read_all(fd, name, limit, what)
    except OSError as exc:
        raise FileRefused(name, f"cannot read {what}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def refuse_irregular(path: str | os.PathLike[str], *, what: str = "file") -> None:
    """``FileRefused`` when ``path`` exists but is not a regular file (a FIFO would be waited on
    for ever, a directory fails later and elsewhere); a missing path is the caller's business."""
    name = os.fspath(path)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileRefused(name, f"cannot read {what}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(name, f"{what} is {_kind(st.st_mode)}; only regular files are read")


def decode_utf8(data: bytes, path: str | os.PathLike[str], *, what: str = "file") -> str:
    """``data`` as UTF-8 text (a leading BOM dropped), or ``FileRefused`` naming line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        if data.startswith(b"\xef\xbb\xbf"):
            start += 3
        line = data.count(b"\n", 0, start) + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise FileRefused(
            path, f"line {line}, column {col}: {what} is not UTF-8 text (byte 0x{data[start]:02x}); save it as UTF-8"
        ) from exc


def read_regular_text(path: str | os.PathLike[str], *, limit: int = MAX_CONFIG_BYTES, what: str = "file") -> str:
    """``read_regular_bytes`` decoded as UTF-8 (BOM dropped); errors name path, line and column."""
    return decode_utf8(read_regular_bytes(path, limit=limit, what=what), path, what=what)


def check_output_target(path: str | os.PathLike[str]) -> Path:
    """Refuse an existing target that is not a regular file (or a symlink, which is replaced)."""
    target = Path(path)
    try:
        st = target.lstat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise FileRefused(target, f"cannot write here: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(st.st_mode) or stat.S_ISREG(st.st_mode):
        return target
    raise FileRefused(
        target,
        f"refusing to replace {_kind(st.st_mode)} with a file; name a regular file "
        "(or '-' for standard output where the command allows it)",
    )


def _new_file_mode() -> int:
    """0666 less the process umask, read without changing it (Linux exposes it in /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring); str is written as UTF-8."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with _atomic_binary(path) as fh:
        fh.write(payload)


@contextmanager
def _atomic_binary(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    target = check_output_target(path)
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileRefused(directory, f"cannot create the output folder: {exc.strerror or exc}") from exc
    try:
        old = target.lstat()
        mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else _new_file_mode()
    except OSError:
        mode = _new_file_mode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileRefused(target, f"cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        check_output_target(target)  # still not a device: refuse rather than replace one made meanwhile
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextmanager
def atomic_output(path: str | os.PathLike[str] | None, *, stdout_dash: bool = True) -> Iterator[IO[str]]:
    """A text stream: standard output for ``None``/``"-"`` (when ``stdout_dash``), else a file
    written atomically; refused targets raise ``FileRefused`` before anything is written."""
    if path is None or (stdout_dash and os.fspath(path) == "-"):
        yield sys.stdout
        return
    with _atomic_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
            text.flush()
        finally:
            text.detach()


class UnsafeFileError(OSError):
    """The path is not a regular file, or is larger than the caller accepts; the message says which."""


def open_regular(path: str | os.PathLike[str], max_bytes: int | None = None) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file of at most ``max_bytes``.

    ``O_NONBLOCK`` makes opening a FIFO return at once (instead of waiting for a writer); the
    type is then checked on the open descriptor (``fstat``), so a swap between check and open
    cannot slip a device in.  Raises ``UnsafeFileError`` (an ``OSError``) or the ``OSError`` of
    the open itself.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(os.fspath(path), flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(f"{_kind(st.st_mode)}, not a regular file")
        if max_bytes is not None and st.st_size > max_bytes:
            raise UnsafeFileError(f"file of {st.st_size} bytes exceeds the limit of {max_bytes} bytes")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` (checked again while reading:
    a file that grows after the check is still bounded)."""
    with open_regular(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFileError(f"file grew beyond the limit of {max_bytes} bytes while being read")
    return data


def is_regular(path: Path) -> bool:
    """True for a regular file (following links), without opening it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


# -- TOML ----------------------------------------------------------------------------------------

#: Parts of one dotted key or table header.  Our files nest four deep; stdlib ``tomllib`` handles a
#: dotted key in time quadratic in its parts (a 128k-character ``a.a.a...`` line took minutes).
MAX_TOML_KEY_PARTS = 64


class TomlInputError(tomllib.TOMLDecodeError):
    """Refused TOML input (a ``TOMLDecodeError``, so existing handlers catch it); names the line."""


# TOML's lexical structure, just enough to tell key dots from others: one token per match, and
# the alternatives inside each string pattern are disjoint, so every match runs in linear time.
_TOML_TOKEN = re.compile(
    r"""(?P<blank>[ \t\r]+)
    |(?P<mlb>"{3}(?:[^"\\]|\\.|"(?!""))*(?:"{3}|\Z))
    |(?P<mll>'{3}(?:[^']|'(?!''))*(?:'{3}|\Z))
    |(?P<str>"(?:[^"\\\n]|\\[^\n])*"?|'[^'\n]*'?)
    |(?P<bare>[A-Za-z0-9_-]+)
    |(?P<dot>\.)
    |(?P<comment>\#[^\n]*)
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def _dotted_run_over(text: str, limit: int) -> int:
    """The line (1-based) of the first dotted key of more than ``limit`` parts, else 0.

    One pass over the whole text: a run is bare or quoted parts joined by dots (blanks allowed
    around them), wherever it stands -- a table header, a key line or an inline table's key.  Dots
    inside strings (an address list, a multi-line note) and in comments are not key dots; a float
    or a time makes a run of two parts at most.
    """
    if all(row.count(".") < limit for row in text.split("\n")):
        return 0  # a run never spans lines: no line has the dots one needs (the usual file, at C speed)
    pos, n, line = 0, len(text), 1
    parts = 0  # parts of the current run
    after_dot = False
    while pos < n:
        m = _TOML_TOKEN.match(text, pos)
        assert m is not None  # "other" matches any character
        kind, pos = m.lastgroup, m.end()
        if kind in ("blank", "comment"):
            continue
        if kind in ("str", "bare"):
            parts = parts + 1 if after_dot else 1
            after_dot = False
            if parts > limit:
                return line
            continue
        if kind == "dot" and parts and not after_dot:
            after_dot = True
            continue
        if kind in ("mlb", "mll"):  # up to two more quotes may close a multi-line string's content
            quote, most = text[pos - 1], pos + 2
            while pos < min(n, most) and text[pos] == quote:
                pos += 1
        line += text.count("\n", m.start(), pos)
        parts, after_dot = 0, False  # a multi-line string, a newline or punctuation ends any run
    return 0


def loads_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` for operator-written files, bounded: a dotted key or header with more than
    ``MAX_TOML_KEY_PARTS`` parts -- in a header, a key line or an inline table -- is refused by a
    linear pre-scan that knows strings and comments (an address list's dots are not key dots), and
    nesting deep enough to exhaust the parser's recursion is a ``TomlInputError`` instead of a
    ``RecursionError`` crash."""
    lineno = _dotted_run_over(text, MAX_TOML_KEY_PARTS)
    if lineno:
        raise TomlInputError(f"line {lineno}: a key with more than {MAX_TOML_KEY_PARTS} dotted parts")
    try:
        return tomllib.loads(text)
    except RecursionError as exc:
        raise TomlInputError("arrays or inline tables nested too deeply") from exc
