"""Text safe for a terminal or log: control characters shown as escapes, never sent.

The one implementation behind ``scanner.terminal`` (the CLI) and the agent's own log output;
here in ``agents/`` so the standalone agent (Python 3.8+, no scanner package) uses it too.
See ``scanner/terminal.py`` for why.
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
    """Give the plain stream handlers of ``logger`` (the root logger by default) a
    ``SafeFormatter`` with the handler's current format string."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if type(handler) is logging.StreamHandler:
            fmt = handler.formatter._fmt if handler.formatter is not None else None
            handler.setFormatter(SafeFormatter(fmt))
