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

from agents.textsafe import SafeFormatter, install_safe_logging, printable

__all__ = ["SafeFormatter", "install_safe_logging", "printable"]
