"""WinRmShell: the agentless Windows transport (pywinrm underneath).  It only moves bytes.

Why it is more than ``winrm.Session.run_ps``:

* **Safe defaults.**  HTTPS (5986) with certificate validation; turning validation off is an
  explicit argument that logs a loud warning.  Plain HTTP (5985) is accepted only with WinRM
  message encryption (NTLM, Kerberos or CredSSP seal every message), never Basic over HTTP.
* **Scripts of any length.**  ``run_ps`` puts the whole script on the command line
  (``powershell -encodedcommand``), which cmd.exe cuts at 8,191 characters; the collection
  script is longer.  We start PowerShell with a tiny fixed bootstrap and send the script over
  stdin (the way Ansible's WinRM connection does), with ``WINRS_SKIP_CMD_SHELL``.
* **A deadline.**  A Receive that times out on the server (WSManFault 2150858793) is retried
  until the caller's timeout, then the command is terminated and the shell deleted.
* **Diagnostics that name the fix** for the failures seen in the field (401, Kerberos/SPN,
  TrustedHosts, no listener, TLS, timeouts).  The password never appears in a message or a log.

Credentials come from ``LEGACYSCAN_WINRM_USER``/``LEGACYSCAN_WINRM_PASSWORD``, a TOML file readable
only by its owner, or the keyring (service ``legacyscan-winrm``), never from the command line.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.compat import SLOTS
from agents.names import NameLookups
from agents.powershell import powershell_argv, powershell_invocation
from agents.shell import CommandResult, ShellError, ShellTimeout, decode

log = logging.getLogger(__name__)

# One collection document is a few MiB even on a server with thousands of programs.  A host
# sending far more is not answering our script: the read stops here (the SSH probe bundle's
# limit too) and the scan records why, instead of buffering and parsing hundreds of MiB.
WINRM_MAX_OUTPUT = 16 * 1024 * 1024

ENV_USER = "LEGACYSCAN_WINRM_USER"
ENV_PASSWORD = "LEGACYSCAN_WINRM_PASSWORD"  # noqa: S105 - the variable's name, not a secret
ENV_CA_BUNDLE = "LEGACYSCAN_WINRM_CA_BUNDLE"  # the CA that issued the HTTPS listeners' certificates
KEYRING_SERVICE = "legacyscan-winrm"
TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic")
ENCRYPTING_TRANSPORTS = ("ntlm", "kerberos", "credssp")
HTTPS_PORT = 5986
HTTP_PORT = 5985
RECEIVE_TIMEOUT_CODE = 2150858793  # w:TimedOut on Receive: no output yet, ask again
OEM_CODEPAGE, UTF8_CODEPAGE = 437, 65001  # see WinRmShell._open_shell
STDIN_CHUNK = 48 * 1024  # base64 of this stays well inside the 150 KB MaxEnvelopeSize of old hosts

# OpenSSL's words for "no protocol version in common" (the server alert, or our own refusal).
_TLS_VERSION = re.compile(
    r"PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|unsupported protocol|"
    r"no protocols available",
    re.I,
)
# CreateProcess on the host could not find the program (ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND).
_NOT_FOUND_FAULTS = (2, 3)
POWERSHELL_MISSING_FIX = (
    "install Windows PowerShell on the host (Windows XP / Server 2003: Windows Management Framework 2.0, "
    "KB968930, which needs .NET 2.0 SP1; Server 2008 R2 Server Core: the NetFx2-ServerCore and "
    "MicrosoftWindowsPowerShell features), or inventory it another way (legacyscan import of a "
    "Configuration Manager export)"
)


# Shell protocol read_text: the path arrives base64 (UTF-16-LE), never interpolated as text.
READ_TEXT_SCRIPT = (
    "$p = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('{b64}')); "
    "if (Test-Path -LiteralPath $p -PathType Leaf) { [Console]::Out.Write("
    "[Convert]::ToBase64String([IO.File]::ReadAllBytes($p))) } else { exit 3 }"
)


class WinRmError(ShellError):
    """A WinRM failure, with what happened and the fix, safe to show (no secrets)."""

    def __init__(self, message: str, *, fix: str = "", kind: str = "error") -> None:
        super().__init__(f"{message}. Fix: {fix}" if fix else message)
        self.fix = fix
        # auth | kerberos | listener | tls | tls-version | timeout | fault | config | powershell | error
        self.kind = kind


class WinRmTimeout(WinRmError, ShellTimeout):
    pass


class CredentialError(WinRmError):
    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message, fix=fix, kind="config")


@dataclass(frozen=True, **SLOTS)
class WinRmCredentials:
    user: str
    password: str = field(repr=False)
    source: str = ""  # env | file:<path> | keyring

    def __repr__(self) -> str:  # belt and braces: dataclass repr already hides the password
        return f"WinRmCredentials(user={self.user!r}, source={self.source!r})"


# -- credentials ---------------------------------------------------------------------------------


def _from_file(path: str, host: str, user: str | None) -> WinRmCredentials | None:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise CredentialError(
            f"credentials file {path}: {exc.strerror}", fix="give the path of an existing TOML file"
        ) from exc
    if not stat.S_ISREG(info.st_mode) or info.st_size > 1024 * 1024:  # a FIFO would hang, /dev/zero never end
        raise CredentialError(
            f"credentials file {path} is not a regular file of at most 1 MiB",
            fix="give the path of the TOML file itself",
        )
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"credentials file {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o})",
            fix=f"chmod 600 {path}",
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise CredentialError(
            f"credentials file {path} is not owned by this user",
            fix=f"chown it to the user running legacyscan, then chmod 600 {path}",
        )
    import tomllib  # novermin - the WinRM transport runs scanner-side (3.11); agents/ imports on 3.8

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, RecursionError) as exc:
        # The parser's message can quote a line of the file: keep it out (it may hold a password).
        raise CredentialError(
            f"credentials file {path} is not valid TOML", fix='see the README: [winrm] user = "...", password = "..."'
        ) from exc
    section = data.get("winrm", {})
    if not isinstance(section, dict):
        raise CredentialError(f"credentials file {path}: [winrm] must be a table", fix="see the README")
    hosts = section.get("hosts", {})
    entry = hosts.get(host) if isinstance(hosts, dict) else None
    chosen = entry if isinstance(entry, dict) else section
    file_user = chosen.get("user") or section.get("user")
    password = chosen.get("password")
    if password is None:
        return None
    if not isinstance(password, str) or (file_user is not None and not isinstance(file_user, str)):
        raise CredentialError(f"credentials file {path}: user and password must be strings", fix="quote them")
    final_user = user or file_user
    if not final_user:
        raise CredentialError(
            f"credentials file {path} has a password but no user", fix='add user = "DOMAIN\\\\name" under [winrm]'
        )
    return WinRmCredentials(final_user, password, f"file:{path}")


def _from_keyring(user: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, user)
    except KeyringError as exc:
        log.debug("keyring unavailable: %s", type(exc).__name__)
        return None
    return value if isinstance(value, str) else None


def load_credentials(
    host: str = "",
    user: str | None = None,
    *,
    credentials_file: str | None = None,
    env: Mapping[str, str] | None = None,
    keyring_lookup: Callable[[str], str | None] | None = None,
) -> WinRmCredentials:
    """Find the user and password: environment, then credentials file, then keyring.

    The user can come from the target (``user``), the environment or the file; the password only
    from the three secret stores.
    """
    env = os.environ if env is None else env
    env_user = env.get(ENV_USER) or None
    env_password = env.get(ENV_PASSWORD)
    if env_password:
        final = user or env_user
        if not final:
            raise CredentialError(
                f"{ENV_PASSWORD} is set but no user is known", fix=f"set {ENV_USER} or give the target a user"
            )
        return WinRmCredentials(final, env_password, "env")
    if credentials_file:
        found = _from_file(credentials_file, host, user or env_user)
        if found is not None:
            return found
    final_user = user or env_user
    if final_user:
        password = (keyring_lookup or _from_keyring)(final_user)
        if password:
            return WinRmCredentials(final_user, password, "keyring")
    raise CredentialError(
        f"no WinRM password for {final_user or 'this target'}",
        fix=(
            f"set {ENV_USER} and {ENV_PASSWORD}, or pass --credentials FILE (TOML, chmod 600), or store "
            f"it in the keyring: keyring set {KEYRING_SERVICE} <user>"
        ),
    )


# -- diagnostics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """One transport failure being diagnosed, with the modules whose exception types name it."""

    exc: BaseException
    where: str
    host: str
    port: int
    transport: str
    user: str
    text: str
    lowered: str
    rex: Any  # requests.exceptions
    wex: Any  # winrm.exceptions


def diagnose(exc: BaseException, *, host: str, port: int, scheme: str, transport: str, user: str = "") -> WinRmError:
    """Turn a pywinrm/requests/spnego exception into a WinRmError that names the fix."""
    from requests import exceptions as rex
    from winrm import exceptions as wex

    if isinstance(exc, WinRmError):
        return exc
    text = str(exc)
    failure = _Failure(
        exc, f"{scheme}://{host}:{port}/wsman", host, port, transport, user, text, text.lower(), rex, wex
    )
    for diagnoser in _DIAGNOSERS:
        found = diagnoser(failure)
        if found is not None:
            return found
    return WinRmError(f"{failure.where}: {type(exc).__name__}: {text[:300]}")


def _transport_not_installed(f: _Failure) -> WinRmError | None:
    if "is not installed" not in f.lowered or f.transport not in ("kerberos", "credssp"):
        return None
    extra = "pywinrm[kerberos]' (and the system's libkrb5)" if f.transport == "kerberos" else "pywinrm[credssp]'"
    return WinRmError(
        f"transport {f.transport} is not available in this installation ({f.text[:120]})",
        kind="config",
        fix=f"pip install '{extra}, or use transport ntlm",
    )


def _credentials_rejected(f: _Failure) -> WinRmError | None:
    if not (isinstance(f.exc, f.wex.InvalidCredentialsError | f.wex.BasicAuthDisabledError) or " 401" in f.text):
        return None
    if f.transport == "kerberos":
        return WinRmError(
            f"{f.where} rejected the Kerberos ticket for {f.user or 'the user'} (401)",
            kind="kerberos",
            fix=(
                f"connect by the host's DNS name, not an IP (the SPN must be HTTP/{f.host}); check it with "
                f"'setspn -Q HTTP/{f.host}'; run kinit for a valid ticket; or use transport ntlm"
            ),
        )
    basic = (
        ' enable Basic on the listener (winrm set winrm/config/service/auth @{Basic="true"}) or'
        if f.transport == "basic"
        else ""
    )
    return WinRmError(
        f"{f.where} rejected the credentials of {f.user or 'the user'} with {f.transport} (401 Unauthorized)",
        kind="auth",
        fix=(
            "check the user and password (domain accounts as DOMAIN\\user or user@domain.fqdn); a local "
            "administrator over NTLM also needs LocalAccountTokenFilterPolicy=1 on the target; the account "
            f"must be in Administrators or Remote Management Users;{basic} try another transport"
        ),
    )


def _untrusted_host(f: _Failure) -> WinRmError | None:
    if "trustedhosts" not in f.lowered:
        return None
    return WinRmError(
        f"{f.where}: the WinRM client refused an untrusted host",
        kind="config",
        fix=(
            "use HTTPS (5986) or Kerberos with the DNS name; on a Windows jump host add the "
            "target with: Set-Item WSMan:\\localhost\\Client\\TrustedHosts -Value <host> "
            "-Concatenate"
        ),
    )


def _kerberos_failed(f: _Failure) -> WinRmError | None:
    if not any(word in f.lowered for word in ("kerberos", "gssapi", "spn", "krb5", "ticket")):
        return None
    return WinRmError(
        f"{f.where}: Kerberos failed: {f.text[:200]}",
        kind="kerberos",
        fix=(
            f"use the FQDN (SPN HTTP/{f.host} must exist: setspn -Q HTTP/{f.host}); run kinit; "
            "check /etc/krb5.conf realm and clock skew (< 5 min); or use transport ntlm"
        ),
    )


def _tls_failed(f: _Failure) -> WinRmError | None:
    if not isinstance(f.exc, f.rex.SSLError):
        return None
    if _TLS_VERSION.search(f.text):
        return WinRmError(
            f"{f.where}: the listener offers no TLS version this client accepts (it speaks only TLS 1.0/1.1, "
            f"the Windows 7 / Server 2008 R2 default; legacyscan requires TLS 1.2+): {f.text[:120]}",
            kind="tls-version",
            fix=(
                "enable TLS 1.2 on the host (Windows 7 / 2008 R2: install KB3080079 and set SCHANNEL\\Protocols\\"
                "TLS 1.2\\Server Enabled=1, DisabledByDefault=0, then restart), or scan it on port 5985 "
                "(HTTP) with transport ntlm or kerberos, whose message encryption protects the session"
            ),
        )
    return WinRmError(
        f"{f.where}: TLS certificate not trusted ({f.text[:160]})",
        kind="tls",
        fix=(
            "pass the CA bundle that issued the listener's certificate (ca_bundle / "
            "--winrm-ca-bundle); connect by the name in the certificate; only for a lab "
            "disable validation explicitly"
        ),
    )


def _timed_out(f: _Failure) -> WinRmError | None:
    if not isinstance(f.exc, f.rex.ConnectTimeout | f.rex.ReadTimeout | f.rex.Timeout):
        return None
    return WinRmTimeout(
        f"{f.where}: no answer in time ({type(f.exc).__name__})",
        kind="timeout",
        fix=(f"check that the host is up and the firewall allows TCP {f.port}; raise --timeout for slow hosts"),
    )


def _not_connected(f: _Failure) -> WinRmError | None:
    if not isinstance(f.exc, f.rex.ConnectionError):
        return None
    if "refused" in f.lowered or "errno 111" in f.lowered or "errno 10061" in f.lowered:
        return WinRmError(
            f"{f.where}: connection refused: no WinRM listener",
            kind="listener",
            fix=(
                "on the target run 'winrm quickconfig -transport:https' (5986) or "
                "'Enable-PSRemoting -Force' (5985), and open the port in Windows Firewall"
            ),
        )
    return WinRmError(
        f"{f.where}: cannot connect ({f.text[:160]})",
        kind="listener",
        fix="check the host name, the port (5986 HTTPS / 5985 HTTP) and the firewall",
    )


def _http_status(f: _Failure) -> WinRmError | None:
    if not isinstance(f.exc, f.wex.WinRMTransportError):
        return None
    code = getattr(f.exc, "code", 0)
    if code == 404:
        return WinRmError(
            f"{f.where}: HTTP 404: no WS-Management service at this URL",
            kind="listener",
            fix=("check the port; the listener must serve /wsman ('winrm enumerate winrm/config/listener')"),
        )
    return WinRmError(
        f"{f.where}: HTTP {code} from the WinRM service",
        kind="fault",
        fix="see the target's Windows Remote Management event log",
    )


def _wsman_fault(f: _Failure) -> WinRmError | None:
    if not isinstance(f.exc, f.wex.WSManFaultError):
        return None
    fault = f.exc.wsman_fault_code
    reason = (f.exc.reason or "").strip()[:300]
    if fault == 5 or "access is denied" in reason.lower():
        return WinRmError(
            f"{f.where}: access denied by WinRM ({reason})",
            kind="auth",
            fix="add the account to Administrators or Remote Management Users on the target",
        )
    if "allowunencrypted" in reason.lower():
        return WinRmError(
            f"{f.where}: the service refuses unencrypted messages",
            kind="config",
            fix="use HTTPS (5986) or an encrypting transport (ntlm, kerberos, credssp)",
        )
    return WinRmError(
        f"{f.where}: WinRM fault {fault}: {reason}",
        kind="fault",
        fix="see the fault text; the target's event log has details",
    )


def _other_winrm_error(f: _Failure) -> WinRmError | None:
    if not isinstance(f.exc, f.wex.WinRMError):
        return None
    return WinRmError(f"{f.where}: {f.text[:300]}", kind="error", fix="check the transport settings")


# In order: the first diagnoser that recognises the failure names it.
_DIAGNOSERS: tuple[Callable[[_Failure], WinRmError | None], ...] = (
    _transport_not_installed,
    _credentials_rejected,
    _untrusted_host,
    _kerberos_failed,
    _tls_failed,
    _timed_out,
    _not_connected,
    _http_status,
    _wsman_fault,
    _other_winrm_error,
)


# -- the shell -----------------------------------------------------------------------------------


class WinRmShell:
    """One Windows host over WinRM.  ``run_powershell`` is what the collection uses."""

    name = "winrm"

    def __init__(
        self,
        host: str,
        port: int,
        credentials: WinRmCredentials,
        *,
        transport: str = "ntlm",
        use_https: bool = True,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        timeout: float = 60.0,
        path: str = "/wsman",
        lookup_timeout: float | None = None,
    ) -> None:
        if transport not in TRANSPORTS:
            raise WinRmError(
                f"unknown WinRM transport {transport!r}", fix=f"use one of {', '.join(TRANSPORTS)}", kind="config"
            )
        if not use_https and transport not in ENCRYPTING_TRANSPORTS:
            raise WinRmError(
                f"{transport} over plain HTTP would send the password and the inventory in clear",
                fix="use HTTPS (port 5986) or transport ntlm/kerberos/credssp",
                kind="config",
            )
        if use_https and not verify_tls:
            log.warning(
                "TLS CERTIFICATE VALIDATION IS DISABLED for %s:%d: anyone on the path can impersonate "
                "this host and read the credentials. Use a CA bundle instead.",
                host,
                port,
            )
        self.host = host
        self.port = port
        self.scheme = "https" if use_https else "http"
        self.endpoint = f"{self.scheme}://{_url_host(host)}:{port}{path}"
        self.transport = transport
        self.timeout = timeout
        self._credentials = credentials
        self._verify_tls = verify_tls
        self._ca_bundle = ca_bundle
        self._protocol: Any = None
        self._codepage = OEM_CODEPAGE
        self._name_answered = False
        self._lookup_timeout = lookup_timeout  # None: the connection's own budget (its HTTP timeout)

    def __repr__(self) -> str:
        return f"WinRmShell({self.endpoint!r}, transport={self.transport!r}, user={self._credentials.user!r})"

    # pywinrm objects are built lazily so that constructing a shell never touches the network.
    def _proto(self, operation_timeout: int) -> Any:
        from winrm.protocol import Protocol

        if self._protocol is None:
            self._protocol = Protocol(
                self.endpoint,
                transport=self.transport,  # type: ignore[arg-type]
                username=self._credentials.user,
                password=self._credentials.password,
                server_cert_validation="validate" if self._verify_tls else "ignore",
                ca_trust_path=self._ca_bundle,  # type: ignore[arg-type]  # None: no env override
                operation_timeout_sec=operation_timeout,
                read_timeout_sec=_read_timeout(operation_timeout),
                message_encryption="always" if self.scheme == "http" else "auto",
                proxy=None,
            )
        self._protocol.operation_timeout_sec = operation_timeout
        self._protocol.read_timeout_sec = _read_timeout(operation_timeout)
        self._protocol.transport.read_timeout_sec = _read_timeout(operation_timeout)
        return self._protocol

    def _look_up_name(self, seconds: float) -> None:
        """The host name's lookup within the connection's own budget, once, before requests' own
        (which waits for the system resolver's timeout -- a dead DNS server: 10 s to minutes --
        whatever its timeouts say).  Only a lookup with no answer in time fails here; any other
        answer is the connection's to meet, with the messages it always had."""
        if self._name_answered:
            return
        lookup = NameLookups(seconds).lookup(self.host)
        if lookup.timed_out:
            raise WinRmTimeout(
                f"{self.endpoint}: {lookup.reason}",
                kind="timeout",
                fix="check the DNS server this machine uses (/etc/resolv.conf), or list the host by its address",
            )
        self._name_answered = True

    def _fail(self, exc: BaseException) -> WinRmError:
        return diagnose(
            exc,
            host=self.host,
            port=self.port,
            scheme=self.scheme,
            transport=self.transport,
            user=self._credentials.user,
        )

    def run_powershell(self, script: str, timeout: float = 600.0) -> CommandResult:
        """Run ``script`` (compressed in one command, or over stdin when too big) and return its output."""
        args, stdin = powershell_invocation(script)
        return self._execute("powershell.exe", list(args), timeout, stdin=stdin)

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        """Shell protocol: a fixed program and arguments, started without cmd.exe."""
        return self._execute(argv[0], [_quote_arg(a) for a in argv[1:]], timeout)

    def read_text(self, path: str) -> str | None:
        """Shell protocol: a file's text via .NET (the path travels base64-encoded, never interpolated)."""
        b64 = base64.b64encode(path.encode("utf-16-le")).decode("ascii")
        script = READ_TEXT_SCRIPT.replace("{b64}", b64)
        result = self._execute("powershell.exe", powershell_argv(script), 60.0)
        if result.exit_code != 0:
            return None
        try:
            return decode(base64.b64decode(result.stdout.strip()))
        except ValueError:
            return None

    def _execute(self, command: str, args: list[str], timeout: float, stdin: bytes | None = None) -> CommandResult:
        from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError

        deadline = time.monotonic() + timeout
        op_timeout = max(1, min(20, int(timeout)))
        shell_id: str | None = None
        command_id: str | None = None
        self._look_up_name(self._lookup_timeout if self._lookup_timeout is not None else _read_timeout(op_timeout))
        proto = self._proto(op_timeout)
        try:
            shell_id = self._open_shell(proto)
            try:
                command_id = proto.run_command(
                    shell_id, command, args, console_mode_stdin=stdin is None, skip_cmd_shell=True
                )
            except WSManFaultError as exc:
                if exc.wsman_fault_code in _NOT_FOUND_FAULTS and command.lower().startswith("powershell"):
                    raise WinRmError(
                        f"{self.endpoint}: WinRM answers but {command} could not be started "
                        f"({(exc.reason or '').strip()[:120]}): PowerShell is not installed",
                        kind="powershell",
                        fix=POWERSHELL_MISSING_FIX,
                    ) from exc
                raise
            if stdin is not None:
                for start in range(0, max(len(stdin), 1), STDIN_CHUNK):
                    chunk = stdin[start : start + STDIN_CHUNK]
                    proto.send_command_input(shell_id, command_id, chunk, end=start + STDIN_CHUNK >= len(stdin))
            out: list[bytes] = []
            err: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise WinRmTimeout(
                        f"{self.endpoint}: the command did not finish within {timeout:g}s",
                        kind="timeout",
                        fix="raise --timeout, or check the host for a hung WMI provider (winmgmt)",
                    )
                try:
                    stdout, stderr, code, done = proto.get_command_output_raw(shell_id, command_id)
                except WinRMOperationTimeoutError:
                    continue  # nothing yet: the server waited OperationTimeout; ask again
                size += len(stdout) + len(stderr)
                if size > WINRM_MAX_OUTPUT:  # stop reading at once: memory stays bounded (#19 item 20)
                    raise WinRmError(
                        f"{self.endpoint}: the host sent more than {WINRM_MAX_OUTPUT} bytes "
                        "(output cut; a collection document is a few MiB)",
                        kind="error",
                        fix="this is not a collection document; check the host",
                    )
                out.append(stdout)
                err.append(stderr)
                if done:
                    break
            return CommandResult(code, decode(b"".join(out)), _clean_stderr(decode(b"".join(err))))
        except WinRmError:
            raise
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes a diagnosed WinRmError
            raise self._fail(exc) from exc
        finally:
            self._cleanup(shell_id, command_id)

    def _open_shell(self, proto: Any) -> str:
        """A shell in the OEM code page 437: everything legacyscan sends and reads is ASCII (the
        collection script escapes every other character), and hosts older than Windows 7 / Server
        2008 R2 do not know 65001 - their commands then end at once with no output, which would read
        as an empty host (WinRb/WinRM issues 173 and 232).  Nano Server accepts only 65001 and says
        so with a fault: then 65001, remembered for this host."""
        from winrm.exceptions import WSManFaultError

        try:
            return str(proto.open_shell(codepage=self._codepage, noprofile=True))
        except WSManFaultError:
            if self._codepage == UTF8_CODEPAGE:
                raise
            self._codepage = UTF8_CODEPAGE
            return str(proto.open_shell(codepage=self._codepage, noprofile=True))

    def _cleanup(self, shell_id: str | None, command_id: str | None) -> None:
        """Terminate the command and delete the shell; failures here must not hide the real error."""
        if self._protocol is None or shell_id is None:
            return
        try:
            if command_id is not None:
                self._protocol.cleanup_command(shell_id, command_id)
        except Exception as exc:  # noqa: BLE001
            log.debug("winrm cleanup_command failed on %s: %s", self.host, type(exc).__name__)
        try:
            self._protocol.close_shell(shell_id, close_session=False)
        except Exception as exc:  # noqa: BLE001
            log.debug("winrm close_shell failed on %s: %s", self.host, type(exc).__name__)

    def close(self) -> None:
        if self._protocol is not None:
            try:
                self._protocol.transport.close_session()
            except Exception as exc:  # noqa: BLE001
                log.debug("winrm close_session failed: %s", type(exc).__name__)
            self._protocol = None

    def __enter__(self) -> WinRmShell:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_timeout(operation_timeout: int) -> int:
    """HTTP read timeout: the server may legitimately block for OperationTimeout, plus a margin."""
    return operation_timeout + min(10, max(2, operation_timeout))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _quote_arg(arg: str) -> str:
    """Quote one argument for CreateProcess's command-line parsing (MSVCRT rules)."""
    if arg and not any(c in arg for c in ' \t"'):
        return arg
    out, backslashes = ['"'], 0
    for ch in arg:
        if ch == "\\":
            backslashes += 1
            continue
        if ch == '"':
            out.append("\\" * (backslashes * 2 + 1) + '"')
        else:
            out.append("\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (backslashes * 2) + '"')
    return "".join(out)


def _clean_stderr(text: str) -> str:
    """PowerShell sends errors as CLIXML on stderr; keep the readable lines."""
    if not text.startswith("#< CLIXML"):
        return text
    import re

    parts = re.findall(r'<S S="Error">(.*?)</S>', text, re.S)
    joined = "".join(parts).replace("_x000D__x000A_", "\n")
    return joined.strip() or text


def open_winrm_shell(
    host: str,
    port: int,
    user: str | None,
    *,
    transport: str = "ntlm",
    verify_tls: bool = True,
    ca_bundle: str | None = None,
    timeout: float = 60.0,
    credentials_file: str | None = None,
    credentials: WinRmCredentials | None = None,
    lookup_timeout: float | None = None,
) -> WinRmShell:
    """The scan engine's factory: port 5986 (or any port but 5985) is HTTPS; 5985 is HTTP and needs
    an encrypting transport.  Credentials are resolved here (env, file, keyring) unless given; the
    CA bundle defaults to ``LEGACYSCAN_WINRM_CA_BUNDLE`` (a site's internal CA).  ``lookup_timeout``:
    the host name's lookup budget (the scan's ``--connect-timeout``)."""
    creds = credentials or load_credentials(host, user, credentials_file=credentials_file)
    bundle = ca_bundle or os.environ.get(ENV_CA_BUNDLE) or None
    return WinRmShell(
        host,
        port,
        creds,
        transport=transport,
        use_https=port != HTTP_PORT,
        verify_tls=verify_tls,
        ca_bundle=bundle,
        timeout=timeout,
        lookup_timeout=lookup_timeout,
    )
