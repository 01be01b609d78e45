"""WinRM credentials, safe defaults and diagnostics (no network)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from winrm import exceptions as wex

from agents.winrm import (
    CredentialError,
    WinRmCredentials,
    WinRmError,
    WinRmShell,
    WinRmTimeout,
    diagnose,
    load_credentials,
    open_winrm_shell,
)

SECRET = "Pa55-w0rd-never-shown"


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> str:
    path = tmp_path / "creds.toml"
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_environment_first() -> None:
    env = {"LEGACYSCAN_WINRM_USER": "TRUST\\svc-scan", "LEGACYSCAN_WINRM_PASSWORD": SECRET}
    creds = load_credentials("pc1", None, env=env, keyring_lookup=lambda u: pytest.fail("keyring asked"))
    assert (creds.user, creds.password, creds.source) == ("TRUST\\svc-scan", SECRET, "env")
    assert load_credentials("pc1", "other", env=env).user == "other"  # the target's user wins
    assert SECRET not in repr(creds)


def test_file_must_be_owner_only(tmp_path: Path) -> None:
    path = _file(tmp_path, f'[winrm]\nuser = "TRUST\\\\svc"\npassword = "{SECRET}"\n', 0o644)
    with pytest.raises(CredentialError) as err:
        load_credentials("pc1", None, credentials_file=path, env={})
    assert f"chmod 600 {path}" in str(err.value) and "644" in str(err.value)
    Path(path).chmod(0o600)
    creds = load_credentials("pc1", None, credentials_file=path, env={})
    assert (creds.user, creds.password, creds.source) == ("TRUST\\svc", SECRET, f"file:{path}")


def test_file_per_host_section(tmp_path: Path) -> None:
    text = (
        f'[winrm]\nuser = "TRUST\\\\svc"\npassword = "{SECRET}"\n'
        '[winrm.hosts."lab-pc"]\nuser = ".\\\\localadmin"\npassword = "other-secret"\n'
    )
    path = _file(tmp_path, text)
    assert load_credentials("lab-pc", None, credentials_file=path, env={}).user == ".\\localadmin"
    assert load_credentials("ward-pc", None, credentials_file=path, env={}).password == SECRET


def test_bad_toml_does_not_echo_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, f'[winrm]\npassword = "{SECRET}\n')
    with pytest.raises(CredentialError) as err:
        load_credentials("pc1", "u", credentials_file=path, env={})
    assert SECRET not in str(err.value) and "not valid TOML" in str(err.value)


def test_keyring_then_a_clear_error() -> None:
    asked: list[str] = []

    def lookup(user: str) -> str | None:
        asked.append(user)
        return SECRET if user == "TRUST\\svc" else None

    assert load_credentials("pc1", "TRUST\\svc", env={}, keyring_lookup=lookup).source == "keyring"
    with pytest.raises(CredentialError) as err:
        load_credentials("pc1", "nobody", env={}, keyring_lookup=lookup)
    assert asked == ["TRUST\\svc", "nobody"]
    message = str(err.value)
    assert "LEGACYSCAN_WINRM_PASSWORD" in message and "chmod 600" in message and "keyring set" in message


def test_transport_rules() -> None:
    creds = WinRmCredentials("u", SECRET)
    for transport in ("ntlm", "kerberos", "credssp"):
        assert WinRmShell("pc1", 5985, creds, transport=transport, use_https=False).endpoint == "http://pc1:5985/wsman"
    with pytest.raises(WinRmError, match="clear"):
        WinRmShell("pc1", 5985, creds, transport="basic", use_https=False)
    with pytest.raises(WinRmError, match="unknown WinRM transport"):
        WinRmShell("pc1", 5986, creds, transport="digest")
    assert WinRmShell("fe80::1", 5986, creds).endpoint == "https://[fe80::1]:5986/wsman"


def test_factory_ports_and_tls_opt_out_warns(caplog: pytest.LogCaptureFixture) -> None:
    creds = WinRmCredentials("u", SECRET)
    assert open_winrm_shell("pc1", 5986, "u", credentials=creds).scheme == "https"
    assert open_winrm_shell("pc1", 5985, "u", credentials=creds).scheme == "http"
    with pytest.raises(WinRmError):
        open_winrm_shell("pc1", 5985, "u", transport="basic", credentials=creds)
    caplog.set_level(logging.WARNING)
    open_winrm_shell("pc1", 5986, "u", verify_tls=False, credentials=creds)
    assert "TLS CERTIFICATE VALIDATION IS DISABLED" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    "exc,kind,words",
    [
        (
            wex.InvalidCredentialsError("the specified credentials were rejected by the server"),
            "auth",
            ["401", "LocalAccountTokenFilterPolicy"],
        ),
        (requests.exceptions.ConnectionError("[Errno 111] Connection refused"), "listener", ["winrm quickconfig"]),
        (requests.exceptions.ReadTimeout("read timed out"), "timeout", ["firewall", "--timeout"]),
        (requests.exceptions.SSLError("certificate verify failed"), "tls", ["ca_bundle"]),
        (
            wex.WinRMError(
                "The WinRM client cannot process the request... add the destination computer to the "
                "TrustedHosts configuration setting"
            ),
            "config",
            ["TrustedHosts"],
        ),
        (Exception("Server not found in Kerberos database"), "kerberos", ["setspn", "kinit"]),
        (wex.WinRMTransportError("http", 404, ""), "listener", ["404", "/wsman"]),
    ],
)
def test_diagnostics_name_the_fix(exc: Exception, kind: str, words: list[str]) -> None:
    error = diagnose(exc, host="ward-pc-01", port=5986, scheme="https", transport="ntlm", user="TRUST\\svc")
    assert error.kind == kind
    assert "Fix:" in str(error)
    for word in words:
        assert word in str(error), (word, str(error))
    if kind == "timeout":
        assert isinstance(error, WinRmTimeout)


def test_kerberos_401_points_at_the_spn() -> None:
    error = diagnose(
        wex.InvalidCredentialsError("rejected"), host="10.1.2.3", port=5985, scheme="http", transport="kerberos"
    )
    assert error.kind == "kerberos" and "HTTP/10.1.2.3" in str(error) and "not an IP" in str(error)


@pytest.mark.parametrize("transport,package", [("kerberos", "pywinrm[kerberos]"), ("credssp", "pywinrm[credssp]")])
def test_missing_optional_transport_names_the_package(transport: str, package: str) -> None:
    exc = wex.WinRMError(f"requested auth method is {transport}, but somelib is not installed")
    error = diagnose(exc, host="pc1", port=5986, scheme="https", transport=transport)
    assert error.kind == "config" and package in str(error)


def test_clixml_stderr_is_made_readable() -> None:
    from agents.winrm import _clean_stderr

    clixml = (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        '<S S="Error">Get-Thing : access denied_x000D__x000A_</S><S S="Error">At line:1 char:1_x000D__x000A_'
        "</S></Objs>"
    )
    assert _clean_stderr(clixml) == "Get-Thing : access denied\nAt line:1 char:1"
    assert _clean_stderr("plain text") == "plain text"


@pytest.mark.parametrize(
    "arg,quoted",
    [
        ("-NoProfile", "-NoProfile"),
        ("a b", '"a b"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\dir with space\\", '"C:\\dir with space\\\\"'),
        ("", '""'),
    ],
)
def test_command_line_quoting_follows_createprocess_rules(arg: str, quoted: str) -> None:
    from agents.winrm import _quote_arg

    assert _quote_arg(arg) == quoted
