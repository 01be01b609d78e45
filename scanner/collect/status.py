"""A host's scan status: what a failure is called (``classify``) and whether a collected inventory
is ok or partial (``judge_inventory``)."""

from __future__ import annotations

from agents.inventory import Inventory
from agents.shell import ShellTimeout

STATUS_OK, STATUS_PARTIAL = "ok", "partial"
POWERSHELL_MISSING = "powershell-missing"  # a Windows host reached by WinRM that cannot run PowerShell


def classify(exc: BaseException) -> str:
    """Exception -> per-host status."""
    from agents import ssh

    if isinstance(exc, ssh.HostKeyMismatch):
        return "host-key-mismatch"
    if isinstance(exc, ssh.HostKeyUnknown):
        return "host-key-unknown"
    if isinstance(exc, ssh.AuthFailed):
        return "auth-failed"
    if isinstance(exc, ssh.NegotiationFailed):
        return "negotiation-failed"
    if isinstance(exc, ShellTimeout):
        return "timeout"
    if isinstance(exc, ssh.Unreachable | ssh.ConnectionLost):
        return "unreachable"
    kind = str(getattr(exc, "kind", ""))  # WinRM errors say what failed
    if kind in ("auth", "kerberos"):
        return "auth-failed"
    if kind == "listener":
        return "unreachable"
    if kind == "powershell":  # WinRM answers but cannot start PowerShell (XP/2003 WinRM 1.1, Core w/o .NET)
        return POWERSHELL_MISSING
    name = type(exc).__name__.lower()
    if "credential" in name or "auth" in name:
        return "auth-failed"
    if "timeout" in name:
        return "timeout"
    if isinstance(exc, ConnectionError | OSError):
        return "unreachable"
    return "error"


def judge_inventory(inv: Inventory) -> tuple[str, str]:
    """ok, or partial with the failed probes, for a collected inventory."""
    serious = [p for p in inv.problems if p.kind in ("error", "timeout", "denied", "truncated")]
    if serious:
        return STATUS_PARTIAL, "; ".join(f"{p.probe}: {p.message}" for p in serious)[:1000]
    return STATUS_OK, ""
