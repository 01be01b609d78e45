"""legacyscan's collection code: the on-host agent and the transports (SSH, WinRM).

The agent runs on the old systems themselves, so this file - imported before any module of the
package - is kept parseable by every Python from 2.6 on (no f-strings, no annotations): on an
interpreter older than ``MIN_PYTHON`` the agent stops here with one line naming the version it
needs, instead of a SyntaxError traceback from a newer module.
"""

import sys

MIN_PYTHON = (3, 8)

if sys.version_info < MIN_PYTHON:  # pragma: no cover - exercised by real old interpreters
    sys.stderr.write(
        "legacyscan-agent: needs Python %d.%d or newer; %s is Python %d.%d - use the POSIX sh agent "
        "(agents/legacyscan-agent.sh) or install a newer python3\n"
        % (MIN_PYTHON[0], MIN_PYTHON[1], sys.executable or "this interpreter", sys.version_info[0], sys.version_info[1])
    )
    sys.exit(1)
