"""The SSH options ``scan`` and ``capture`` share, and the ScanConfig fields they set.

Why one place: both commands open hosts with the same ``SshConnector`` (host keys verified, the
same login order, the same legacy algorithms), so an option added to one and not the other, or
spelt with another default, would make ``capture`` record a host differently from how ``scan``
reaches it.
"""

from __future__ import annotations

import argparse
import os
from typing import TypedDict

from scanner.cli.base import CliError, parse_seconds
from scanner.files import FileRefused, refuse_irregular


class SshFields(TypedDict):
    """The ScanConfig fields the shared options set (typed, so a renamed field fails mypy)."""

    timeout: float
    connect_timeout: float
    ssh_user: str
    ssh_key: str | None
    known_hosts: str | None
    accept_new_host_keys: bool
    ssh_legacy: bool
    use_agent: bool


def add_ssh_options(group: argparse._ArgumentGroup) -> None:
    """``--connect-timeout``, ``--ssh-user``, ``--ssh-key``, ``--no-agent``, ``--known-hosts``,
    ``--accept-new-host-keys`` and ``--ssh-legacy`` (credentials never on the command line: the
    key's passphrase and a password come from the environment)."""
    group.add_argument(
        "--connect-timeout",
        type=parse_seconds,
        default=10.0,
        metavar="SEC",
        help="name lookup + TCP connect + SSH handshake + authentication timeout (default 10)",
    )
    group.add_argument(
        "--ssh-user",
        default="",
        metavar="U",
        help="SSH login where a target names no user (default: your user name)",
    )
    group.add_argument(
        "--ssh-key",
        metavar="PATH",
        help="private key file (passphrase from "
        "LEGACYSCAN_SSH_KEY_PASSPHRASE); ssh-agent and LEGACYSCAN_SSH_PASSWORD are also tried",
    )
    group.add_argument("--no-agent", action="store_true", help="do not offer ssh-agent keys")
    group.add_argument(
        "--known-hosts", metavar="FILE", help="known_hosts file used to verify host keys (default ~/.ssh/known_hosts)"
    )
    group.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="trust on first use: record unknown hosts' keys; a CHANGED key is always refused",
    )
    group.add_argument(
        "--ssh-legacy",
        action="store_true",
        help="also negotiate the SHA-1 key exchanges, ssh-rsa/ssh-dss host keys, CBC ciphers and "
        "hmac-sha1/md5 MACs of old servers "
        "(RHEL 5/6, Solaris 10, appliances, dropbear), after every modern algorithm; host keys "
        "are still verified (per target: ssh_legacy = true in a TOML targets file)",
    )


def ssh_config_fields(args: argparse.Namespace) -> SshFields:
    """The ``ScanConfig`` keyword arguments ``add_ssh_options`` (and ``--timeout``) set; a key or
    known_hosts file that is not a regular file (a FIFO hung the command) is refused first."""
    for path, what in ((args.ssh_key, "SSH key file (--ssh-key)"), (args.known_hosts, "known_hosts file")):
        if path:
            try:
                refuse_irregular(os.path.expanduser(path), what=what)
            except FileRefused as exc:
                raise CliError(str(exc)) from exc
    return {
        "timeout": args.timeout,
        "connect_timeout": args.connect_timeout,
        "ssh_user": args.ssh_user,
        "ssh_key": args.ssh_key,
        "known_hosts": args.known_hosts,
        "accept_new_host_keys": args.accept_new_host_keys,
        "ssh_legacy": args.ssh_legacy,
        "use_agent": not args.no_agent,
    }
