"""Opening files a user names (imports, exception lists, catalogues) without being hung or flooded.

Why: a path given on the command line or found in a file drop may be a FIFO (``open`` blocks for
ever), a device such as ``/dev/zero`` (endless) or simply far larger than anything legitimate.
``open_regular`` opens without blocking, refuses anything but a regular file and bounds the size
before a single byte is read, so every caller gets the same, named refusal.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class UnsafeFileError(OSError):
    """The path is not a regular file, or is larger than the caller accepts; the message says which."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


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
