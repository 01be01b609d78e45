"""`scan --credentials FILE` reaches the WinRM transport, and a file others can read is refused
before any connection is attempted (ARCHITECTURE.md: refused unless mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.winrm import CredentialError
from scanner.cli.scan import add_parser
from scanner.collect.config import ScanConfig
from scanner.collect.executors import collect_winrm
from scanner.targets import Target


def _file(tmp_path: Path, mode: int) -> str:
    path = tmp_path / "creds.toml"
    path.write_text('[winrm]\nuser = "HOSP\\\\svc-scan"\npassword = "not-a-real-secret"\n')
    os.chmod(path, mode)
    return str(path)


def test_world_readable_credentials_file_is_refused_before_connecting(tmp_path: Path) -> None:
    target = Target(host="127.0.0.1", transport="winrm", port=1)  # nothing listens on port 1
    with pytest.raises(CredentialError, match="chmod 600") as info:
        collect_winrm(target, ScanConfig(credentials=_file(tmp_path, 0o644), timeout=2))
    assert "not-a-real-secret" not in str(info.value)


def test_cli_flag_is_wired_into_the_scan_config() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["scan", "--targets", "t.csv", "--credentials", "/etc/legacyscan/creds.toml"])
    assert args.credentials == "/etc/legacyscan/creds.toml"
