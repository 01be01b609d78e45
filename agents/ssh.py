"""SshShell: the Shell seam over SSH (paramiko), built for scanning thousands of hosts safely.

Why each choice (see docs: measured on real sshd):

* Host keys are verified by default against a known_hosts file.  ``accept_new`` is trust on first
  use: an unknown host's key is recorded; a *changed* key is always refused with
  ``HostKeyMismatch`` so the fleet report can say "host key changed" rather than "unreachable".
* ``KnownHosts`` is our own dict keyed by ``host`` / ``[host]:port``: paramiko's ``HostKeys``
  loads a 10,000-line file in O(N^2) (5.7 s) and looks up linearly (1.1 ms each).
* ``TCP_NODELAY`` on the socket handed to ``paramiko.Transport``: without it Nagle plus the peer's
  40 ms delayed ACK stalls authentication (47 ms instead of 6 ms per host).
* Only fixed argument vectors are sent, each word quoted with ``shlex.join``; ``read_text`` is
  ``cat -- PATH`` of a fixed path.  Nothing from a target file reaches a remote shell (the host
  name only selects where to connect).  No sudo, no pty, nothing written on the host.
* ``preload`` runs a whole probe table in ONE exec (one round trip and one remote ``sh``) and
  answers the Collector's later ``run``/``read_text`` calls from that answer: a real sshd costs
  ~8 ms CPU per exec, so 30 separate execs per host would cap a 2-core scanner far below what a
  fleet needs.
* At most ``max_sessions`` channels at a time per host: real sshd drops connections beyond
  ``MaxStartups`` (10 by default) and limits ``MaxSessions`` per connection (10).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path

from agents.bundle import BUNDLE_SHELL, CAT_PREFIXES, bundle_command, bundle_script, parse_bundle  # noqa: F401
from agents.compat import SLOTS
from agents.names import LookupTimeout, NameLookups, open_connection
from agents.shell import MAX_FILE, BatchingShell, CommandResult, ShellError, ShellTimeout, decode
from agents.watchdog import WATCHDOG

# The one-exec probe bundle carries every package list and OS file of a host: tens of KiB to a few
# MiB in the field.  A host printing far more (a broken or hostile ``rpm``) is cut here and the cut
# recorded, instead of buffering hundreds of MiB per host (#19 item 20).
BUNDLE_LIMIT = 16 * 1024 * 1024

# Seconds past a command's timeout before the watchdog closes its channel (the reads' own timeouts
# normally end it first, with a better message).
WATCHDOG_GRACE = 2.0


def _import_paramiko() -> None:
    """Import paramiko without ``invoke``: paramiko only uses that task runner for ssh_config
    ``Match exec`` lines (legacyscan never reads ssh_config), and importing it is ~40 ms -- a
    third of paramiko's import, paid by every SSH scan.  ``invoke`` is hidden only while paramiko
    loads; anything importing it later gets the real module."""
    import sys

    if "paramiko" in sys.modules or "invoke" in sys.modules:
        return
    sys.modules["invoke"] = None  # type: ignore[assignment]  # `import invoke` raises ImportError
    try:
        import paramiko  # noqa: F401
    finally:
        if "invoke" in sys.modules and sys.modules["invoke"] is None:
            del sys.modules["invoke"]


_import_paramiko()
import paramiko  # noqa: E402 - after _import_paramiko

from agents.ssh_legacy import IncompatiblePeer, LegacyRSAKey, LegacyTransport, describe_offer  # noqa: E402 - imports paramiko

PASSWORD_ENV = "LEGACYSCAN_SSH_PASSWORD"  # noqa: S105 - the variable name, not a secret
PASSPHRASE_ENV = "LEGACYSCAN_SSH_KEY_PASSPHRASE"  # noqa: S105


# -- errors: each maps to one per-host scan status --------------------------------------------


class Unreachable(ShellError):
    """TCP connect failed, or the peer is not an SSH server (status ``unreachable``)."""


class AuthFailed(ShellError):
    """No offered credential was accepted (status ``auth-failed``)."""


class HostKeyMismatch(ShellError):
    """The host presented a key different from the recorded one (status ``host-key-mismatch``).

    Never bypassed: it may be a rebuilt host, or a machine in the middle.  The message gives both
    fingerprints so an operator can check and then edit the known_hosts file on purpose.
    """


class HostKeyUnknown(ShellError):
    """The host is not in known_hosts and trust on first use was not requested."""


class NegotiationFailed(ShellError):
    """No SSH algorithms in common (status ``negotiation-failed``): the message names what the server
    offered and the fix (``--ssh-legacy``), so an old server is not mistaken for a firewall."""


class ConnectionLost(ShellError):
    """The connection dropped while a command was running (status ``partial`` or ``unreachable``)."""


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style SHA256 fingerprint (what ``ssh-keygen -lf`` prints)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


# -- known_hosts -----------------------------------------------------------------------------


def host_id(host: str, port: int) -> str:
    """The known_hosts name of a host: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(**SLOTS)
class _Hashed:
    salt: bytes
    digest: bytes
    keytype: str
    blob: bytes


class KnownHosts:
    """An OpenSSH known_hosts file as dicts: O(1) lookup, O(N) load, thread-safe appends.

    Supports plain and comma-separated names, ``[host]:port``, hashed names (``|1|salt|hash``,
    checked only when no plain entry matched), wildcard patterns and ``@revoked`` keys.
    ``@cert-authority`` lines are ignored (host certificates are not supported; such hosts need
    a plain key entry).
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._plain: dict[str, dict[str, bytes]] = {}
        self._hashed: list[_Hashed] = []
        self._patterns: list[tuple[list[str], str, bytes]] = []
        self._revoked: set[bytes] = set()
        self._lock = threading.Lock()
        if self.path is not None and self.path.exists():
            self.load(self.path.read_text("utf-8", errors="replace"))

    def load(self, text: str) -> None:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            marker = ""
            if parts[0].startswith("@"):
                marker, parts = parts[0], parts[1:]
            if len(parts) < 3:
                continue
            names, keytype, b64 = parts[0], parts[1], parts[2]
            try:
                blob = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                continue
            if marker == "@revoked":
                self._revoked.add(blob)
                continue
            if marker:
                continue
            self._add_names(names, keytype, blob)

    def _add_names(self, names: str, keytype: str, blob: bytes) -> None:
        if names.startswith("|1|"):
            try:
                _, _, salt, digest = names.split("|", 3)
                self._hashed.append(_Hashed(base64.b64decode(salt), base64.b64decode(digest), keytype, blob))
            except (binascii.Error, ValueError):
                pass
            return
        plain = [n for n in names.split(",") if n]
        if any(c in n for n in plain for c in "*?!"):
            self._patterns.append((plain, keytype, blob))
            return
        for name in plain:
            self._plain.setdefault(name, {})[keytype] = blob

    def lookup(self, host: str, port: int) -> dict[str, bytes]:
        """Known keys for the host, keytype -> key blob (empty when unknown)."""
        name = host_id(host, port)
        found = dict(self._plain.get(name, {}))
        if found:
            return found
        encoded = name.encode()
        for entry in self._hashed:
            if hmac.compare_digest(hmac.new(entry.salt, encoded, hashlib.sha1).digest(), entry.digest):
                found.setdefault(entry.keytype, entry.blob)
        for patterns, keytype, blob in self._patterns:
            if _pattern_match(patterns, name):
                found.setdefault(keytype, blob)
        return found

    def is_revoked(self, blob: bytes) -> bool:
        return blob in self._revoked

    def add(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Record a first-seen key (trust on first use), in memory and appended to the file."""
        name = host_id(host, port)
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        with self._lock:
            if self._plain.get(name, {}).get(key.get_name()) == key.asbytes():
                return
            self._plain.setdefault(name, {})[key.get_name()] = key.asbytes()
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(line)

    def __len__(self) -> int:
        return len(self._plain) + len(self._hashed) + len(self._patterns)


def _pattern_match(patterns: list[str], name: str) -> bool:
    bare = name[1:].split("]:")[0] if name.startswith("[") else name
    matched = False
    for pat in patterns:
        negate = pat.startswith("!")
        pat = pat[1:] if negate else pat
        if fnmatch(name, pat) or (not pat.startswith("[") and fnmatch(bare, pat) and name == bare):
            if negate:
                return False
            matched = True
    return matched


# -- credentials -----------------------------------------------------------------------------


@dataclass(**SLOTS)
class SshCredentials:
    """How to log in.  Loaded once per scan (parsing a key for every host would waste CPU).

    Secrets stay in memory: never logged, never stored, never in an error message.
    """

    user: str
    keys: list[paramiko.PKey] = field(default_factory=list)
    use_agent: bool = True
    password: str | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        user: str,
        key_path: str | None = None,
        *,
        use_agent: bool = True,
        env: dict[str, str] | None = None,
        loaded: paramiko.PKey | None = None,
    ) -> SshCredentials:
        """``loaded``: the key of ``key_path`` already loaded (``load_private_key``) by a caller that
        checked it up front (the CLI): an RSA key's consistency check costs ~35 ms of CPU, so a
        scan loads it once, not once to check it and again to use it."""
        env = dict(os.environ) if env is None else env
        keys: list[paramiko.PKey] = []
        if loaded is not None:
            keys.append(loaded)
        elif key_path:
            keys.append(load_private_key(key_path, env.get(PASSPHRASE_ENV)))
        return cls(
            user=user,
            keys=keys,
            use_agent=use_agent and bool(env.get("SSH_AUTH_SOCK")),
            password=env.get(PASSWORD_ENV) or None,
        )


def load_private_key(path: str, passphrase: str | None = None) -> paramiko.PKey:
    """Load a private key; ``passphrase`` (str, from ``LEGACYSCAN_SSH_KEY_PASSPHRASE``) decrypts it.

    ``PKey.from_path`` hands the password to ``cryptography``, which takes bytes only: a str raised
    TypeError (#19 item 5), so it is encoded as UTF-8 (what ``ssh-keygen -N`` stores).
    """
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        return _from_path(path, secret)
    except FileNotFoundError as exc:
        raise ShellError(f"SSH key file {path} does not exist") from exc
    except paramiko.PasswordRequiredException as exc:
        raise ShellError(f"SSH key {path} is encrypted: set {PASSPHRASE_ENV} or use ssh-agent") from exc
    except (paramiko.SSHException, ValueError, TypeError, OSError) as exc:
        hint = f" (is {PASSPHRASE_ENV} the right passphrase?)" if passphrase else ""
        raise ShellError(f"cannot read SSH key {path}: {exc}{hint}") from exc


def _from_path(path: str, secret: bytes | None) -> paramiko.PKey:
    """``paramiko.PKey.from_path`` that parses (and checks) an RSA key once, not twice.

    ``from_path`` loads the file with ``cryptography`` to learn the key type, throws that object
    away and has ``RSAKey`` parse the file again: two RSA consistency checks, ~33 ms of CPU each
    for a 2048-bit key, at the start of every scan (paramiko's own TODO says so).  Here the same
    ``cryptography`` loaders run in the same order (OpenSSH format first, then PEM) with the same
    checks, and an RSA key object is handed to ``RSAKey(key=...)``; a ``-cert.pub`` beside the
    key is loaded as ``from_path`` does.  Other key types (cheap to check) go through ``from_path``.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if path.endswith("-cert.pub"):
        return paramiko.PKey.from_path(path, password=secret)  # type: ignore[arg-type]
    key_path = Path(path).expanduser()
    data = key_path.read_bytes()
    loaded: object
    try:
        loaded = serialization.load_ssh_private_key(data=data, password=secret)
    except ValueError:
        loaded = serialization.load_pem_private_key(data=data, password=secret)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        return paramiko.PKey.from_path(path, password=secret)  # type: ignore[arg-type]
    key = paramiko.RSAKey(key=loaded)
    cert = Path(str(key_path) + "-cert.pub")
    if cert.exists():
        key.load_certificate(str(cert))
    return key


# -- connection ------------------------------------------------------------------------------


@dataclass(**SLOTS)
class SshOptions:
    """Timeouts and limits.  ``connect_timeout`` covers the host name's lookup, TCP, banner and key
    exchange.  ``names``: the scan's name lookups (bounded, each name once; agents.names); without
    them each connection looks its name up on its own, within ``connect_timeout`` too."""

    connect_timeout: float = 10.0
    auth_timeout: float = 15.0
    command_timeout: float = 120.0
    max_sessions: int = 3
    accept_new: bool = False
    legacy: bool = False  # --ssh-legacy: also SHA-1 kex, ssh-rsa/ssh-dss, CBC, hmac-sha1 (agents.ssh_legacy)
    names: NameLookups | None = field(default=None, compare=False, repr=False)


_KEY_FAMILIES: dict[str, list[str]] = {
    "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
}


def _prefer_known_key_types(transport: paramiko.Transport, known: Iterable[str]) -> None:
    """Ask for the key type we already know, so a host with several keys is checked against ours."""
    wanted: list[str] = []
    for keytype in known:
        wanted.extend(_KEY_FAMILIES.get(keytype, [keytype]))
    opts = transport.get_security_options()
    available = list(opts.key_types)
    first = [k for k in wanted if k in available]
    if first:
        opts.key_types = tuple(first + [k for k in available if k not in first])


def _open_socket(
    host: str, port: int, timeout: float, via: paramiko.Transport | None, names: NameLookups | None = None
) -> socket.socket | paramiko.Channel:
    if via is not None:
        try:
            chan = via.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise Unreachable(f"jump host could not reach {host}:{port}: {exc}") from exc
        return chan
    # socket.create_connection's own lookup would wait for the resolver's timeout (a dead DNS
    # server: 10 s to minutes), whatever ``timeout`` says: the name is looked up within it.
    lookup = (names if names is not None else NameLookups(timeout)).lookup(host, timeout)
    try:
        sock = open_connection(lookup, port, lambda: timeout)
    except LookupTimeout as exc:
        raise ShellTimeout(f"{host}:{port}: {exc}") from exc
    except TimeoutError as exc:
        raise ShellTimeout(f"TCP connect to {host}:{port} timed out after {timeout:g}s") from exc
    except OSError as exc:
        raise Unreachable(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def open_transport(
    host: str,
    port: int,
    creds: SshCredentials,
    known_hosts: KnownHosts,
    options: SshOptions,
    via: paramiko.Transport | None = None,
) -> paramiko.Transport:
    """Connect, verify the host key, authenticate.  Raises one of the typed ShellErrors."""
    sock = _open_socket(host, port, options.connect_timeout, via, options.names)
    transport = LegacyTransport(sock)
    if options.legacy:
        transport.enable_legacy()
    try:
        transport.banner_timeout = options.connect_timeout
        transport.handshake_timeout = options.connect_timeout
        transport.auth_timeout = options.auth_timeout
        known = known_hosts.lookup(host, port)
        _prefer_known_key_types(transport, known)
        started = time.monotonic()
        try:
            transport.start_client(timeout=options.connect_timeout)
        except IncompatiblePeer as exc:
            raise negotiation_failed(host, port, transport, str(exc), options.legacy) from exc
        except paramiko.SSHException as exc:
            text = str(exc)
            if time.monotonic() - started < options.connect_timeout * 0.9:
                raise Unreachable(
                    f"{host}:{port}: the server closed the connection during the SSH handshake ({text}); "
                    "sshd MaxStartups, a TCP wrapper or a firewall may be refusing us"
                ) from exc
            if "timeout" in text.lower() or "Error reading SSH protocol banner" in text:
                raise ShellTimeout(
                    f"{host}:{port}: no SSH handshake within {options.connect_timeout:g}s ({text})"
                ) from exc
            raise Unreachable(f"{host}:{port}: SSH handshake failed: {text}") from exc
        except (OSError, EOFError) as exc:
            raise Unreachable(f"{host}:{port}: connection closed during SSH handshake: {exc}") from exc
        try:
            server_key = transport.get_remote_server_key()
        except paramiko.SSHException as exc:  # start_client returns on timeout without raising
            raise ShellTimeout(f"{host}:{port}: no SSH handshake within {options.connect_timeout:g}s") from exc
        verify_host_key(host, port, server_key, known, known_hosts, options.accept_new)
        authenticate(transport, host, creds, options)
        return transport
    except BaseException:
        transport.close()
        raise


def negotiation_failed(host: str, port: int, transport: LegacyTransport, why: str, legacy: bool) -> NegotiationFailed:
    """The per-host error for "no algorithms in common", naming the server's offer and the fix."""
    offer = describe_offer(getattr(transport, "server_offer", None))
    what = why.replace("Incompatible ssh peer", "").replace("Incompatible ssh server", "").strip(" ()") or why
    if legacy:
        fix = "even the legacy algorithms (--ssh-legacy) are not among them"
    else:
        fix = (
            "an old server (SHA-1/DSA era): scan it with --ssh-legacy, or ssh_legacy = true in its target entry "
            "(still verified against known_hosts)"
        )
    return NegotiationFailed(
        f"{host_id(host, port)}: SSH algorithm negotiation failed ({what}); the server offers {offer}; {fix}"
    )


def verify_host_key(
    host: str,
    port: int,
    key: paramiko.PKey,
    known: dict[str, bytes],
    known_hosts: KnownHosts,
    accept_new: bool,
) -> None:
    blob = key.asbytes()
    if known_hosts.is_revoked(blob):
        raise HostKeyMismatch(f"{host_id(host, port)} presented a REVOKED host key {fingerprint(key)}")
    if known:
        if known.get(key.get_name()) == blob:
            return
        expected = ", ".join(
            f"{t} SHA256:{base64.b64encode(hashlib.sha256(b).digest()).decode().rstrip('=')}"
            for t, b in sorted(known.items())
        )
        raise HostKeyMismatch(
            f"HOST KEY CHANGED for {host_id(host, port)}: it presented {key.get_name()} {fingerprint(key)}, "
            f"known_hosts has {expected}. Refused; if the host was rebuilt, check the new key out of band "
            f"and update {known_hosts.path or 'known_hosts'}"
        )
    if not accept_new:
        raise HostKeyUnknown(
            f"{host_id(host, port)} is not in {known_hosts.path or 'known_hosts'} "
            f"(its key is {key.get_name()} "
            f"{fingerprint(key)}); add it, or scan with --accept-new-host-keys to trust on first use"
        )
    known_hosts.add(host, port, key)


def authenticate(transport: paramiko.Transport, host: str, creds: SshCredentials, options: SshOptions) -> None:
    """Try each key, then the agent's keys, then a password from the environment."""
    tried: list[str] = []
    allowed: list[str] | None = None

    def attempt(kind: str, fn: Callable[..., list[str]], *args: object) -> bool:
        nonlocal allowed
        if allowed is not None and kind not in allowed:
            return False
        tried.append(kind)
        try:
            remaining = fn(*args)
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
            return False
        except paramiko.AuthenticationException:
            return False
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if len(tried) > 1:  # sshd disconnects after MaxAuthTries (6) offered keys
                raise AuthFailed(
                    f"{host}: the server closed the connection after {len(tried) - 1} refused "
                    f"credentials as {creds.user!r} (too many agent keys? MaxAuthTries)"
                ) from exc
            raise ConnectionLost(f"{host}: connection lost during authentication: {exc}") from exc
        return not remaining and transport.is_authenticated()

    legacy = getattr(transport, "legacy", False)
    for key in creds.keys:
        if legacy:
            key = LegacyRSAKey.of(key)
        if attempt("publickey", transport.auth_publickey, creds.user, key):
            return
        if legacy and isinstance(key, LegacyRSAKey) and _retry_with_sha1_rsa(transport):
            # The server announced rsa-sha2 signatures (server-sig-algs) yet refused one: an old
            # PubkeyAcceptedAlgorithms.  Offer the same key once more signed with ssh-rsa (SHA-1).
            try:
                if attempt("publickey", transport.auth_publickey, creds.user, key):
                    return
            finally:
                transport.sha1_rsa_first = False  # type: ignore[attr-defined]
    if creds.use_agent:
        agent = paramiko.Agent()
        try:
            for key in agent.get_keys():
                if attempt("publickey", transport.auth_publickey, creds.user, key):
                    return
        finally:
            agent.close()
    if creds.password:
        if attempt("password", transport.auth_password, creds.user, creds.password):
            return
    if not tried:
        raise AuthFailed(f"{host}: no SSH credential to offer (give --ssh-key, run ssh-agent, or set {PASSWORD_ENV})")
    what = ", ".join(sorted(set(tried)))
    extra = f"; the server allows {', '.join(allowed)}" if allowed else ""
    raise AuthFailed(f"{host}: authentication as {creds.user!r} failed (tried {what}{extra})")


def _retry_with_sha1_rsa(transport: paramiko.Transport) -> bool:
    """True (and switched) when an RSA key was signed with rsa-sha2 and may still pass as ssh-rsa."""
    if getattr(transport, "sha1_rsa_first", True) or getattr(transport, "_agreed_pubkey_algorithm", "") == "ssh-rsa":
        return False
    transport.sha1_rsa_first = True  # type: ignore[attr-defined]
    return True


class JumpHosts:
    """One shared, verified connection per jump host, opened on first use (like ProxyJump + ControlMaster)."""

    def __init__(self, creds: SshCredentials, known_hosts: KnownHosts, options: SshOptions) -> None:
        self.creds, self.known_hosts, self.options = creds, known_hosts, options
        self._open: dict[tuple[str, str, int], paramiko.Transport] = {}
        self._lock = threading.Lock()

    def get(self, host: str, port: int, user: str | None = None) -> paramiko.Transport:
        key = (user or self.creds.user, host, port)
        with self._lock:
            transport = self._open.get(key)
            if transport is None or not transport.is_active():
                creds = self.creds if key[0] == self.creds.user else replace(self.creds, user=key[0])
                transport = open_transport(host, port, creds, self.known_hosts, self.options)
                transport.set_keepalive(30)
                self._open[key] = transport
            return transport

    def close(self) -> None:
        with self._lock:
            for transport in self._open.values():
                transport.close()
            self._open.clear()


# -- the shell -------------------------------------------------------------------------------


class SshShell:
    """A connected host.  Use as a context manager; ``close`` always releases the connection."""

    name = "ssh"

    def __init__(
        self,
        host: str,
        port: int = 22,
        *,
        creds: SshCredentials,
        known_hosts: KnownHosts,
        options: SshOptions | None = None,
        jump: paramiko.Transport | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.options = options or SshOptions()
        self._sessions = threading.BoundedSemaphore(max(1, self.options.max_sessions))
        self._cache_files: dict[str, str | None] = {}
        self._cache_cmds: dict[str, CommandResult] = {}
        # What a host sent beyond a read's limit was dropped; each note becomes a "truncated"
        # probe problem in the inventory (agents.collect), so a cut answer is never silent.
        self.truncated: list[str] = []
        self.transport = open_transport(host, port, creds, known_hosts, self.options, via=jump)
        self.lost = False

    def __enter__(self) -> SshShell:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    # -- Shell protocol ------------------------------------------------------------------------

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        """From the preloaded bundle; otherwise as a bundle of its own (see ``_alone``)."""
        command = shlex.join(argv)
        cached = self._cache_cmds.get(command)
        if cached is not None:
            return cached
        got = self._alone([argv], [], timeout, BUNDLE_LIMIT, command[:80])
        if got is None:
            return CommandResult(1, "", "no answer from the host's /bin/sh")
        text, rc = got
        return CommandResult(rc, text, "" if rc == 0 else f"exit code {rc}")

    def read_text(self, path: str) -> str | None:
        if path in self._cache_files:
            return self._cache_files[path]
        got = self._alone([], [path], self.options.command_timeout, MAX_FILE + 4096, path)  # + the section lines
        return got[0] if got is not None and got[1] == 0 else None

    def _alone(
        self, commands: list[list[str]], files: list[str], timeout: float, limit: int, label: str
    ) -> tuple[str, int] | None:
        """One command or file the bundle did not answer, sent the bundle's way (the script on
        ``/bin/sh``'s stdin): at the lowest CPU/IO priority, a missing tool 127 even where the shell
        says 1 (a Bourne ``/bin/sh``), whatever the login shell (csh included).  None: no answer."""
        boundary = "LS" + secrets.token_hex(12)
        script = bundle_script(commands, files, boundary)
        res = self.exec(BUNDLE_SHELL, timeout, c_locale=False, limit=limit, label=label, stdin=script.encode())
        return parse_bundle(res.stdout, boundary).get(("c" if commands else "f", 0))

    # -- batching ------------------------------------------------------------------------------

    def preload(
        self,
        commands: Sequence[list[str]] = (),
        files: Sequence[str] = (),
        timeout: float | None = None,
        *,
        filters: Mapping[str, str] | None = None,
        unless_readable: Mapping[str, str] | None = None,
        platforms: Mapping[str, str] | None = None,
    ) -> None:
        """Run every command and read every file in one exec; later calls are answered from it.

        The script is built from the fixed words given (quoted) plus a random boundary that the
        host cannot predict, so file contents cannot forge a section.  It runs under ``/bin/sh``
        whatever the login shell is, on one line (csh-safe: no newlines, no ``!``).
        """
        boundary = "LS" + secrets.token_hex(12)
        script = bundle_script(
            commands, files, boundary, filters=filters, unless_readable=unless_readable, platforms=platforms
        )
        truncated_before = len(self.truncated)
        res = self.exec(
            BUNDLE_SHELL,
            timeout or self.options.command_timeout,
            c_locale=False,  # it exports LC_ALL
            limit=BUNDLE_LIMIT,
            label="the probe bundle",
            stdin=script.encode(),
        )
        sections = parse_bundle(res.stdout, boundary)
        if len(self.truncated) > truncated_before:  # the section being sent when we cut is answered as failed,
            cut = _last_open_section(res.stdout, boundary)  # not re-run alone (it would flood us again)
            if cut is not None and cut not in sections:
                sections[cut] = ("", 1)
        for i, argv in enumerate(commands):
            got = sections.get(("c", i))
            if got is not None:
                text, rc = got
                self._cache_cmds[shlex.join(argv)] = CommandResult(rc, text, "" if rc == 0 else f"exit code {rc}")
        for i, path in enumerate(files):
            got = sections.get(("f", i))
            if got is not None:
                text, rc = got
                self._cache_files[path] = text if rc == 0 else None

    def remember(self, argv: list[str], result: CommandResult) -> None:
        """Answer ``argv`` with a result derived from another one (``uname -s`` from ``uname -srm``)."""
        self._cache_cmds[shlex.join(argv)] = result

    # -- the one place bytes cross the wire ------------------------------------------------------

    def exec(
        self,
        command: str,
        timeout: float,
        *,
        limit: int = BUNDLE_LIMIT,
        c_locale: bool = True,
        label: str = "",
        stdin: bytes | None = None,
    ) -> CommandResult:
        """Run one command line; timeouts and lost connections raise, exit codes are returned.

        At most ``limit`` bytes of stdout are kept (the rest is read and dropped, so the host is
        not blocked); a cut answer is noted in ``self.truncated``."""
        deadline = time.monotonic() + timeout
        with self._sessions:
            try:
                chan = self.transport.open_session(timeout=min(timeout, self.options.connect_timeout))
            except (paramiko.SSHException, OSError, EOFError) as exc:
                self.lost = True
                raise ConnectionLost(f"{self.host}: cannot open a session: {exc}") from exc
            # paramiko waits for the answer to the exec request without a timeout: past the
            # deadline (and a grace for the reads' own timeouts to speak first) the channel is
            # closed from the watchdog thread, which releases that wait.
            expired: list[bool] = []

            def expire() -> None:
                expired.append(True)
                chan.close()

            guard = WATCHDOG.schedule(timeout + WATCHDOG_GRACE, expire)
            try:
                chan.settimeout(max(0.001, deadline - time.monotonic()))  # bounds sendall's wait for window
                if c_locale:  # parseable English output; ignored by servers without AcceptEnv LC_*
                    chan.update_environment({"LC_ALL": "C", "LANG": "C"})
                chan.exec_command(command)
                if stdin is not None:  # the probe bundle: a script for /bin/sh (no command-line length limit)
                    try:
                        chan.sendall(stdin)
                        chan.shutdown_write()
                    except OSError:  # the session ended early: what it answered (or its lack of an
                        pass  # exit status) tells what happened, below
                out, sent = _read_stream(chan, chan.recv, deadline, limit, self.host, timeout)
                err, _ = _read_stream(chan, chan.recv_stderr, deadline, 65536, self.host, timeout)
                if sent > limit:
                    self.truncated.append(
                        f"{label or command[:80]}: output cut at {limit} bytes (the host sent {sent} bytes)"
                    )
                if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
                    raise ShellTimeout(f"{self.host}: command timed out after {timeout:g}s")
                code = chan.exit_status
                if code == -1 or (not chan.exit_status_ready()):
                    self.lost = True
                    raise ConnectionLost(
                        f"{self.host}: connection lost mid-command (no exit status; {len(out)} bytes received)"
                    )
                return CommandResult(code, decode(out), decode(err))
            except (paramiko.SSHException, EOFError, ConnectionError) as exc:
                self.lost = True
                if expired:
                    raise ShellTimeout(
                        f"{self.host}: command timed out after {timeout:g}s (the server never answered the request)"
                    ) from exc
                # paramiko raises these with an empty message when the session dies under us (e.g.
                # while the bundle is still being sent): always say what happened.
                raise ConnectionLost(
                    f"{self.host}: connection lost mid-command ({type(exc).__name__}"
                    f"{': ' + str(exc) if str(exc) else ''})"
                ) from exc
            finally:
                WATCHDOG.cancel(guard)
                chan.close()


# The capability the fleet scan relies on (preload, remember, lost, truncated, close), declared in
# agents.shell: mypy checks SshShell against it here, where either side would change.
_BATCHING: type[BatchingShell] = SshShell


def _read_stream(
    chan: paramiko.Channel, recv: object, deadline: float, limit: int, host: str, timeout: float
) -> tuple[bytes, int]:
    """(at most ``limit`` bytes of the stream, how many bytes the host sent in all).  One buffer,
    no list of chunks joined at the end: a flood costs ``limit`` bytes, not twice that."""
    buf = bytearray()
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ShellTimeout(f"{host}: command timed out after {timeout:g}s")
        chan.settimeout(remaining)
        try:
            data: bytes = recv(65536)  # type: ignore[operator]
        except TimeoutError as exc:
            raise ShellTimeout(f"{host}: command timed out after {timeout:g}s") from exc
        if not data:
            return bytes(buf), size
        if size < limit:
            buf += data[: limit - size]
        size += len(data)


def _last_open_section(text: str, boundary: str) -> tuple[str, int] | None:
    """The (kind, index) of the last section header in ``text`` (the one a cut interrupted)."""
    head = text.rfind("\n" + boundary + " ")
    head = head + 1 if head >= 0 else (0 if text.startswith(boundary + " ") else -1)
    while head >= 0:
        eol = text.find("\n", head)
        bits = text[head : eol if eol >= 0 else len(text)].split()
        if len(bits) == 3 and bits[1] in ("c", "f") and bits[2].isdecimal():
            return bits[1], int(bits[2])
        prev = text.rfind("\n" + boundary + " ", 0, max(0, head - 1))
        head = prev + 1 if prev >= 0 else -1
    return None
