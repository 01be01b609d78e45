"""The per-host executors: how one target is reached and collected -- SSH (``SshConnector`` opens
the sessions, ``collect_ssh`` runs the shared Collector over one) and WinRM (``collect_winrm``)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from agents.collect import Collector
from agents.inventory import Inventory
from agents.linux import PackageMemo
from agents.shell import ShellError
from scanner.collect.config import ScanConfig
from scanner.targets import Target

if TYPE_CHECKING:  # paramiko is imported only when an SSH target is scanned
    from agents.ssh import SshShell

log = logging.getLogger(__name__)

# One round trip answers a Unix host completely: ``Collector.collect`` has the SSH shell preload the
# batched rows of the probe table (agents/probes.py).  Over SSH the dpkg database is read through a
# filter (its ``grep``: ~77 KB of its ~750 KB) and dpkg-query only runs where that database is
# unreadable (its ``unless_readable``): the same facts for a sixth of dpkg-query's CPU on the host.


class SshConnector:
    """Everything shared by all SSH connections of one scan: credentials, host keys, jump hosts."""

    def __init__(self, config: ScanConfig) -> None:
        from agents.names import NameLookups
        from agents.ssh import JumpHosts, KnownHosts, SshCredentials, SshOptions

        # paramiko logs a traceback for every expected failure (a hung host, a refused key); each
        # one is already reported as that host's status, so only its critical messages stay.
        if not log.isEnabledFor(logging.DEBUG):
            logging.getLogger("paramiko").setLevel(logging.CRITICAL)

        default_kh = os.path.expanduser("~/.ssh/known_hosts")
        self.known_hosts = KnownHosts(config.known_hosts or default_kh)
        self.creds = SshCredentials.load(
            config.ssh_user or _local_user(),
            config.ssh_key,
            use_agent=config.use_agent,
            loaded=config.ssh_key_loaded,
        )
        self.options = SshOptions(
            connect_timeout=config.connect_timeout,
            auth_timeout=config.connect_timeout,
            command_timeout=config.timeout,
            max_sessions=config.max_sessions,
            accept_new=config.accept_new_host_keys,
            legacy=config.ssh_legacy,
            # the scan's host names: each looked up once, within --connect-timeout, at most
            # --concurrency lookups outstanding (a dead DNS server costs a name its timeout once)
            names=NameLookups(config.connect_timeout, config.concurrency),
        )
        self.jumps = JumpHosts(self.creds, self.known_hosts, self.options)

    def open(self, target: Target) -> SshShell:
        from dataclasses import replace as dc_replace

        from agents.ssh import SshShell

        creds = (
            self.creds
            if not target.user or target.user == self.creds.user
            else dc_replace(self.creds, user=target.user)
        )
        via = None
        if target.jump:
            user, host, port = _split_jump(target.jump)
            via = self.jumps.get(host, port, user or creds.user)
        return SshShell(
            target.host,
            target.port,
            creds=creds,
            known_hosts=self.known_hosts,
            options=self.options
            if not target.ssh_legacy or self.options.legacy
            else dc_replace(self.options, legacy=True),
            jump=via,
        )

    def close(self) -> None:
        self.jumps.close()


def _split_jump(spec: str) -> tuple[str, str, int]:
    """``[user@]host[:port]`` (``[v6]:port`` too) -> (user, host, port)."""
    user, _, host = spec.rpartition("@")
    if host.startswith("["):
        h, _, rest = host[1:].partition("]")
        return user, h, int(rest.lstrip(":") or 22)
    if host.count(":") == 1:
        h, _, p = host.partition(":")
        return user, h, int(p)
    return user, host, 22


def _local_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "root"


def collect_ssh(shell: SshShell, target: Target, timeout: float, packages: PackageMemo | None = None) -> Inventory:
    """The shared Collector over the SSH session (it preloads the probe table in one round trip).
    ``packages``: the scan's package parsers' memory (``FleetScanner.packages``)."""
    return Collector(
        shell,
        packages=packages,
        site=target.site,
        tags=list(target.tags),
        address=target.host,
        command_timeout=timeout,
        endpoint=ssh_endpoint(shell, target),
    ).collect()


def ssh_endpoint(shell: SshShell, target: Target) -> str:
    """The SSH host key fingerprint the session verified (the machine's own identity), else the
    port: used only for hosts without a machine-id (agents.collect.fallback_machine_id)."""
    try:
        key = shell.transport.get_remote_server_key()
    except Exception:  # noqa: BLE001 -- a transport without a key: the port still separates
        key = None
    if key is not None:
        from agents.ssh import fingerprint

        return f"{key.get_name()} {fingerprint(key)}"
    return f"port {target.port}"


def collect_winrm(target: Target, config: ScanConfig) -> Inventory:
    """WinRM targets: the WinRM transport and the Windows collector live in their own modules,
    imported only when a WinRM target is scanned (an SSH-only install need not carry pywinrm)."""
    import importlib

    try:
        winrm = importlib.import_module("agents.winrm")
        windows = importlib.import_module("agents.windows")
    except ImportError as exc:
        raise ShellError(f"WinRM scanning is not available in this build: {exc}") from exc
    shell = winrm.open_winrm_shell(
        target.host,
        target.port,
        target.user or None,
        timeout=config.timeout,
        credentials_file=config.credentials,
        lookup_timeout=config.connect_timeout,  # the host name's lookup: never the resolver's own timeout
    )
    try:
        inv: Inventory = windows.collect_windows(shell, timeout=config.timeout)
    finally:
        close = getattr(shell, "close", None)
        if callable(close):
            close()
    inv.host.site = target.site or inv.host.site
    inv.host.tags = sorted(set(inv.host.tags) | set(target.tags))
    inv.host.address = target.host
    return inv
