"""The agent on a Windows workstation: the same collection script, run locally.

Same script, same parser, same Inventory as the WinRM probe: only the transport differs.
PowerShell runs ``-EncodedCommand`` with a fixed loader carrying the script gzip-compressed (the
plain encoded script is longer than a Windows command line may be, 32,767), or a fixed bootstrap
reading the script from stdin when even that would not fit (see ``agents.windows``).
A 32-bit Python on 64-bit Windows is redirected to the 32-bit PowerShell by WOW64 and would see
only the 32-bit registry view, so the 64-bit PowerShell is reached through ``Sysnative``.
"""

from __future__ import annotations

from agents.inventory import Inventory
from agents.powershell import (  # noqa: F401 - re-exported: the local runner lives in the layer below
    CREATE_NO_WINDOW,
    DEFAULT_TIMEOUT,
    WindowsLocalShell,
    build_command,
    find_powershell,
)
from agents.windows import collect_windows


def collect_local(
    *, timeout: float = DEFAULT_TIMEOUT, collected_at: str | None = None, shell: WindowsLocalShell | None = None
) -> Inventory:
    """This Windows machine's Inventory (the agent's Windows collection)."""
    return collect_windows(shell or WindowsLocalShell(), timeout=timeout, collected_at=collected_at)
