"""What differs between the Pythons ``agents/`` runs on (3.8 and newer).

The agent runs on the old systems themselves (Debian 11's 3.9, RHEL 8's 3.8, macOS's 3.9, the
last Python for Windows 7), so ``agents/`` avoids everything newer than 3.8 - checked statically by
``vermin`` in ``tests/unit/test_py38.py`` and run for real on a Debian 11 root.  The few newer
features worth having where available are switched here, in one place.
"""

from __future__ import annotations

import sys
from typing import Any

# ``@dataclass(**SLOTS)``: slotted records (less memory per package record) where the interpreter
# supports them (3.10+), plain ones on 3.8/3.9.  Behaviour is the same either way.
SLOTS: dict[str, Any] = {"slots": True} if sys.version_info >= (3, 10) else {}


def removeprefix(text: str, prefix: str) -> str:
    """``str.removeprefix`` (3.9+)."""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def removesuffix(text: str, suffix: str) -> str:
    """``str.removesuffix`` (3.9+)."""
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text
