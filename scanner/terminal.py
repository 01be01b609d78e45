"""Text safe for the operator's terminal and logs: the one helper every printed line goes through.

Why: text we print often comes from somewhere hostile or broken -- an SSH server's identification
line or banner, a file name or value in an import, an error message quoting a host's output, a
product name fetched by ``eol update``.  An ESC or CSI byte in it would be *interpreted* by the
terminal (clear the screen, retitle the window, rewrite earlier lines, on some terminals even
answer back into the input), and a bidirectional override can make a log line read differently
from what it says.  Like OpenSSH (``stravis``/``msetlen`` in its banner and error printing), we
show such characters as visible escapes (``\\x1b``, ``\\u202e``) instead of sending them, so the
operator still sees that something odd was there.

* ``printable(text)``: every control (Unicode category C: C0, DEL, C1, format characters such as
  bidi overrides, surrogates, unassigned) becomes ``\\xNN``/``\\uNNNN``; ``keep_newlines=True``
  keeps ``\\n`` and ``\\t`` (multi-line log records, tracebacks).
* ``SafeFormatter``: a ``logging.Formatter`` applying it to each formatted record; the CLI installs
  it on its stderr handler (``install_safe_logging``), so every ``log.warning(...)`` is covered.
"""

from __future__ import annotations

import logging
import unicodedata


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` (any object, via ``str``) with every control/format character shown as an escape."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():
        return s
    keep = "\n\t" if keep_newlines else ""
    return "".join(
        ch if ch == " " or ch in keep or ch.isprintable() or unicodedata.category(ch)[0] != "C" else _escape(ch)
        for ch in s
    )


class SafeFormatter(logging.Formatter):
    """A Formatter whose output never carries terminal control sequences (newlines kept)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_newlines=True)


def install_safe_logging(logger: logging.Logger | None = None) -> None:
    """Give every handler of ``logger`` (the root logger by default) a ``SafeFormatter`` with the
    handler's current format string."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        fmt = handler.formatter._fmt if handler.formatter is not None else None  # noqa: SLF001
        handler.setFormatter(SafeFormatter(fmt))
