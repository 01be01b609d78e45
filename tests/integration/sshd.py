"""Real OpenSSH sshd on loopback addresses, started and stopped by the test suite itself.

Why real sshd: the failure modes a fleet scanner must survive (MaxStartups drops, the 40 ms
Nagle stall, host-key changes, auth refusals, a session killed mid-command) are sshd behaviour,
not something a mock reproduces.  Measured facts this follows (docs: real-components §1):

* private config and state in a temp dir; key-only auth, ``UsePAM no`` (no systemd/PAM here),
  ``StrictModes no`` (state lives in /tmp), ``MaxStartups`` raised so a parallel test is not
  randomly dropped;
* at most 16 listen sockets per sshd process (OpenSSH ``MAX_LISTEN_SOCKS``), so N addresses need
  ceil(N/16) processes;
* the login user's password field is ``*``: a ``!`` (locked) account is refused by a non-PAM
  sshd even for public-key logins.

Only 127.0.0.x addresses are ever used.  Per-address behaviour uses ``Match LocalAddress``:
``macos`` hosts get a PATH of fake ``uname``/``sw_vers``/``system_profiler`` (canned outputs built
from real captures), ``hang`` hosts a command that never ends, ``drop`` hosts a command that
prints part of its answer and then kills its own sshd session (the TCP connection drops).
"""

from __future__ import annotations

import os
import plistlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
USER = "lsprobe"
MAX_LISTEN = 16
REPO = Path(__file__).resolve().parents[2]
MAC_CAPTURE = REPO / "scanner/demo_data/captures/macos/macos-10.6.8-imac5.1_glpi-inventory-format.json"


class SshdUnavailable(RuntimeError):
    """sshd/ssh-keygen missing or we cannot create the login user (not root)."""


def available() -> str | None:
    """None when a fleet can be started here, else why not."""
    for tool in (SSHD, SSH_KEYGEN):
        if not os.access(tool, os.X_OK):
            return f"{tool} not installed (apt-get install openssh-server openssh-client)"
    if os.geteuid() != 0:
        return "sshd tests need root (sshd privilege separation and a login user)"
    return None


PASSWORD_USER = "lsprobe-pw"
PASSWORD = "correct horse battery staple"  # a test account on a loopback-only sshd


def ensure_user(name: str = USER, shadow_field: str = "*") -> None:
    """A login user; password field ``*`` (key auth only) unless a crypt hash is given."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", "/", "--shell", "/bin/sh", "--password", shadow_field, name],
            check=True,
            capture_output=True,
        )
    else:
        subprocess.run(["usermod", "--password", shadow_field, name], check=True, capture_output=True)


def password_hash(password: str) -> str:
    out = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def keygen(path: Path, kind: str = "ed25519") -> str:
    """Generate a key pair; returns the public key line ``type base64``."""
    args = [SSH_KEYGEN, "-q", "-t", kind, "-N", "", "-C", "", "-f", str(path)]
    if kind == "rsa":
        args[4:4] = ["-b", "2048"]
    subprocess.run(args, check=True, capture_output=True)
    return (
        " ".join(path.with_suffix(".pub").read_text().split()[:2])
        if path.suffix
        else " ".join(Path(str(path) + ".pub").read_text().split()[:2])
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Fleet:
    """N loopback hosts served by ceil(N/16) real sshd processes."""

    addresses: list[str]
    port: int
    state: Path
    client_key: Path
    other_key: Path  # a valid key that is NOT authorised (the "wrong key" case)
    host_pubkey: str  # "ssh-ed25519 AAAA..." shared by every address
    known_hosts: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)

    def known_hosts_line(self, address: str, pubkey: str | None = None) -> str:
        return f"[{address}]:{self.port} {pubkey or self.host_pubkey}\n"

    def write_known_hosts(self, path: Path, *, wrong: set[str] | None = None, skip: set[str] | None = None) -> Path:
        """known_hosts for the fleet; ``wrong`` addresses get another (valid-looking) key."""
        other = self.state / "other_host_key"
        if not other.exists():
            keygen(other)
        other_pub = " ".join(Path(str(other) + ".pub").read_text().split()[:2])
        lines = [
            self.known_hosts_line(a, other_pub if a in (wrong or set()) else None)
            for a in self.addresses
            if a not in (skip or set())
        ]
        path.write_text("".join(lines))
        return path

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.state, ignore_errors=True)


def _fake_mac_bin(root: Path) -> Path:
    """Fake macOS tools answering with canned outputs built from a real capture (Mac OS X 10.6.8)."""
    import json

    capture = json.loads(MAC_CAPTURE.read_text("utf-8"))
    os_info = capture["os"]
    import re

    found = re.search(r"\b(10\.\d+\.\d+) \((\w+)\)", json.dumps(os_info))
    version, build = (found.group(1), found.group(2)) if found else ("10.6.8", "10K549")
    items = [
        {"_name": s["name"], "version": s.get("version") or "", "obtained_from": "identified_developer"}
        for s in capture["software"]
        if s.get("name")
    ]
    plist = plistlib.dumps([{"_dataType": "SPApplicationsDataType", "_items": items}]).decode()
    bindir = root / "macbin"
    bindir.mkdir()
    (root / "system_profiler.xml").write_text(plist)
    scripts = {
        "uname": '#!/bin/sh\ncase "$1" in -s) echo Darwin;; -n) echo lab-imac;; '
        "*) echo 'Darwin 10.8.0 i386';; esac\n",
        "sw_vers": f"#!/bin/sh\nprintf 'ProductName:\\tMac OS X\\nProductVersion:\\t{version}\\n"
        f"BuildVersion:\\t{build}\\n'\n",
        "system_profiler": f"#!/bin/sh\ncat {root / 'system_profiler.xml'}\n",
        "sysctl": "#!/bin/sh\nprintf 'iMac5,1\\n2147483648\\n2\\n'\n",
        "ioreg": '#!/bin/sh\nprintf \'  "IOPlatformUUID" = "6F3C2A58-0000-0000-0000-000000000001"\\n\'\n',
    }
    for name, body in scripts.items():
        path = bindir / name
        path.write_text(body)
        path.chmod(0o755)
    return bindir


def start_fleet(
    n: int,
    *,
    roles: dict[int, str] | None = None,
    first: int = 10,
    max_startups: str = "1000:100:1000",
    password_user: bool = False,
    extra: dict[int, str] | None = None,
    host_key_type: str = "ed25519",
    client_key_type: str = "ed25519",
    algorithms: str = "",
    wrap: list[str] | None = None,
) -> Fleet:
    """Start n hosts at 127.0.0.<first>.. on one free port.  ``roles``: index -> macos|hang|drop.

    ``max_startups="10:30:100"`` gives sshd's default (drops unauthenticated connections past 10);
    ``password_user`` adds ``PASSWORD_USER`` allowed to log in with ``PASSWORD`` only;
    ``extra``: index -> sshd_config lines for that address (``Match LocalAddress``), e.g. a ``SetEnv``.
    ``host_key_type``/``client_key_type``/``algorithms`` (sshd_config lines such as ``KexAlgorithms``)
    restrict the server to what an old one offers (see ``tests/integration/legacy_servers.py``).
    ``wrap``: a command sshd is started under (it must exec its arguments), e.g. ``unshare`` into a
    mount namespace where a constructed host root is bind-mounted: every session sees that root."""
    why = available()
    if why:
        raise SshdUnavailable(why)
    ensure_user()
    if password_user:
        ensure_user(PASSWORD_USER, password_hash(PASSWORD))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="legacyscan-sshd-"))
    state.chmod(0o755)
    host_key = state / f"ssh_host_{host_key_type}_key"
    host_pub = keygen(host_key, host_key_type)
    client_key = state / "client_key"
    keygen(client_key, client_key_type)
    other_key = state / "wrong_client_key"
    keygen(other_key)
    auth_dir = state / "authorized_keys"
    auth_dir.mkdir()
    (auth_dir / USER).write_text(Path(str(client_key) + ".pub").read_text())
    for p in (state, auth_dir, auth_dir / USER):
        p.chmod(0o755 if p.is_dir() else 0o644)
    port = free_port()
    addresses = [f"127.0.0.{first + i}" for i in range(n)]
    role_of = {addresses[i]: r for i, r in (roles or {}).items()}
    matches: list[str] = []
    if "macos" in role_of.values():
        bindir = _fake_mac_bin(state)
        for a, r in role_of.items():
            if r == "macos":
                matches.append(f"Match LocalAddress {a}\n    SetEnv PATH={bindir}:/usr/bin:/bin\n")
    for a, r in role_of.items():
        if r == "hang":
            matches.append(f"Match LocalAddress {a}\n    ForceCommand sleep 600\n")
        elif r == "drop":
            matches.append(f"Match LocalAddress {a}\n    ForceCommand echo Linux; kill -9 $PPID\n")
    for i, lines in (extra or {}).items():
        matches.append(f"Match LocalAddress {addresses[i]}\n" + "".join(f"    {ln}\n" for ln in lines.splitlines()))
    if password_user:
        matches.append(f"Match User {PASSWORD_USER}\n    PasswordAuthentication yes\n")
    fleet = Fleet(addresses, port, state, client_key, other_key, host_pub, state / "known_hosts", roles=role_of)
    fleet.write_known_hosts(fleet.known_hosts)
    try:
        for chunk_no, start in enumerate(range(0, n, MAX_LISTEN)):
            chunk = addresses[start : start + MAX_LISTEN]
            conf = state / f"sshd_{chunk_no}.conf"
            conf.write_text(
                f"Port {port}\n"
                + "".join(f"ListenAddress {a}\n" for a in chunk)
                + f"HostKey {host_key}\nPidFile {state}/sshd_{chunk_no}.pid\n"
                f"AuthorizedKeysFile {auth_dir}/%u\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin no\n"
                f"AllowUsers {USER}{' ' + PASSWORD_USER if password_user else ''}\n"
                f"MaxStartups {max_startups}\nMaxSessions 20\nLogLevel ERROR\n"
                "UseDNS no\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem sftp internal-sftp\n"
                + algorithms
                + "".join(matches)
            )
            proc = subprocess.Popen(
                [*(wrap or []), SSHD, "-D", "-e", "-f", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=open(state / f"sshd_{chunk_no}.log", "wb"),  # noqa: SIM115
                start_new_session=True,
            )
            fleet.procs.append(proc)
        _wait_listening(fleet)
    except BaseException:
        fleet.stop()
        raise
    return fleet


def _wait_listening(fleet: Fleet, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(fleet.addresses)
    while pending and time.monotonic() < deadline:
        for proc in fleet.procs:
            if proc.poll() is not None:
                logs = "".join(p.read_text(errors="replace") for p in fleet.state.glob("sshd_*.log"))
                raise SshdUnavailable(f"sshd exited with {proc.returncode}: {logs[-2000:]}")
        for addr in list(pending):
            try:
                with socket.create_connection((addr, fleet.port), timeout=0.5):
                    pending.discard(addr)
            except OSError:
                pass
        if pending:
            time.sleep(0.05)
    if pending:
        raise SshdUnavailable(f"sshd did not listen on {sorted(pending)[:3]} within {timeout:g}s")


class SilentListener:
    """A host that accepts TCP and never speaks SSH (hung sshd, black-holing middlebox)."""

    def __init__(self, address: str = "127.0.0.250") -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, 0))
        self.sock.listen(16)
        self.address = address
        self.port = int(self.sock.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self._conns.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for c in self._conns:
            c.close()
