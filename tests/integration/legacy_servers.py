"""Real SSH servers restricted to what old platforms offer, and real dropbear, on loopback.

OpenSSH 9.2 (Debian 12) still contains the old algorithms (``ssh -Q kex`` lists
``diffie-hellman-group1-sha1``, ``ssh -Q key`` lists ``ssh-dss``), only disabled by default, so one
real sshd per profile is restricted with ``KexAlgorithms``/``HostKeyAlgorithms``/``Ciphers``/``MACs``
/``PubkeyAcceptedAlgorithms`` to the offer of the platform it stands for (these keywords are not
allowed in ``Match`` blocks, hence one process per profile):

* ``rhel5``: OpenSSH 4.3 - SHA-1 kex only, ``ssh-rsa`` host key, CBC ciphers, ``hmac-sha1``, and
  ``ssh-rsa`` signatures for user keys;
* ``group1``: only ``diffie-hellman-group1-sha1`` (Solaris 10 SunSSH, old appliances);
* ``gex-sha1``: only ``diffie-hellman-group-exchange-sha1``;
* ``rhel6``: OpenSSH 5.3 as patched by Red Hat - ``diffie-hellman-group-exchange-sha256`` and an
  ``ssh-rsa`` host key only;
* ``dss``: an ``ssh-dss`` (DSA) host key only;
* ``cbc`` and ``hmac-sha1``: a modern key exchange and host key with only CBC ciphers (resp. only
  ``hmac-sha1``): no platform offers exactly this, but it isolates the cipher (MAC) part of the
  opt-in, which the other profiles would hide behind their kex or host key.

Dropbear (Debian ``dropbear-bin`` 2022.83, as embedded devices and appliances run it) logs in
``sshd.PASSWORD_USER`` with ``sshd.PASSWORD`` (it reads authorized_keys only from the user's home,
so password auth keeps the test out of the real filesystem).  With only a DSA host key it is a
second, independent ``ssh-dss``-only server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.integration import sshd

DROPBEAR = "/usr/sbin/dropbear"
DROPBEARKEY = "/usr/bin/dropbearkey"
# One dropbear process per address, as every device runs its own: dropbear drops a sixth
# unauthenticated connection from one source address (MAX_UNAUTH_PER_IP 5) per process, so ten
# "hosts" in one process would turn a parallel scan from 127.0.0.1 into resets.
MAX_DROPBEAR_LISTEN = 1

PROFILES: dict[str, tuple[str, str]] = {  # name -> (host key type, sshd_config lines)
    "rhel5": (
        "rsa",
        "KexAlgorithms diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha1,"
        "diffie-hellman-group1-sha1\nHostKeyAlgorithms ssh-rsa\n"
        "Ciphers aes128-cbc,3des-cbc,aes256-cbc\nMACs hmac-sha1\nPubkeyAcceptedAlgorithms ssh-rsa\n",
    ),
    "group1": (
        "rsa",
        "KexAlgorithms diffie-hellman-group1-sha1\nHostKeyAlgorithms ssh-rsa\n"
        "Ciphers aes128-cbc,3des-cbc\nMACs hmac-sha1\nPubkeyAcceptedAlgorithms ssh-rsa\n",
    ),
    "gex-sha1": (
        "rsa",
        "KexAlgorithms diffie-hellman-group-exchange-sha1\nHostKeyAlgorithms ssh-rsa\n"
        "Ciphers aes128-cbc\nMACs hmac-sha1\nPubkeyAcceptedAlgorithms ssh-rsa\n",
    ),
    "rhel6": (
        "rsa",
        "KexAlgorithms diffie-hellman-group-exchange-sha256\nHostKeyAlgorithms ssh-rsa\n"
        "Ciphers aes128-ctr,aes256-ctr,aes128-cbc\nMACs hmac-sha1\nPubkeyAcceptedAlgorithms ssh-rsa\n",
    ),
    "dss": (
        "dsa",
        "KexAlgorithms diffie-hellman-group14-sha1\nHostKeyAlgorithms ssh-dss\nCiphers aes128-cbc\nMACs hmac-sha1\n",
    ),
    "cbc": (
        "ed25519",
        "KexAlgorithms curve25519-sha256@libssh.org\nHostKeyAlgorithms ssh-ed25519\n"
        "Ciphers aes256-cbc,3des-cbc\nMACs hmac-sha2-256\n",
    ),
    "hmac-sha1": (
        "ed25519",
        "KexAlgorithms curve25519-sha256@libssh.org\nHostKeyAlgorithms ssh-ed25519\n"
        "Ciphers aes128-ctr\nMACs hmac-sha1\n",
    ),
}


def start_profile(profile: str, n: int = 1, *, first: int = 100, sha2_user_keys: bool = False) -> sshd.Fleet:
    """``sha2_user_keys``: drop the ``PubkeyAcceptedAlgorithms ssh-rsa`` restriction.  OpenSSH 9.2
    still announces rsa-sha2 in server-sig-algs while refusing it, so a client signs twice (rsa-sha2,
    then ssh-rsa); a real OpenSSH < 7.2 announces nothing and gets ssh-rsa at once.  One signature,
    as on the real server, is what the benchmark needs."""
    host_key, lines = PROFILES[profile]
    if sha2_user_keys:
        lines = "".join(line + "\n" for line in lines.splitlines() if not line.startswith("PubkeyAcceptedAlgorithms"))
    return sshd.start_fleet(n, first=first, host_key_type=host_key, client_key_type="rsa", algorithms=lines)


def dropbear_available() -> str | None:
    for tool in (DROPBEAR, DROPBEARKEY):
        if not Path(tool).exists():
            return f"{tool} not installed (apt-get install dropbear-bin)"
    return sshd.available()


KEY_USER = "lsprobe-db"  # dropbear's key login (benchmark): home = the fleet's state dir


def start_dropbear(n: int = 1, *, first: int = 140, key_type: str = "ed25519", authorized_key: str = "") -> sshd.Fleet:
    """n dropbear hosts at 127.0.0.<first>.. on one port, password login for ``sshd.PASSWORD_USER``;
    with ``authorized_key`` (a public key line) also key login for ``KEY_USER``, whose home is moved
    into this fleet's state directory (dropbear reads only ``~/.ssh/authorized_keys``)."""
    why = dropbear_available()
    if why:
        raise sshd.SshdUnavailable(why)
    sshd.ensure_user(sshd.PASSWORD_USER, sshd.password_hash(sshd.PASSWORD))
    state = Path(tempfile.mkdtemp(prefix="legacyscan-dropbear-"))
    state.chmod(0o755)
    if authorized_key:
        import pwd

        sshd.ensure_user(KEY_USER)
        home = state / "home"
        (home / ".ssh").mkdir(parents=True)
        (home / ".ssh" / "authorized_keys").write_text(authorized_key.strip() + "\n")
        subprocess.run(["usermod", "--home", str(home), KEY_USER], check=True, capture_output=True)
        uid = pwd.getpwnam(KEY_USER).pw_uid
        for path in (home, home / ".ssh", home / ".ssh" / "authorized_keys"):
            os.chown(path, uid, -1)
            path.chmod(0o600 if path.is_file() else 0o700)
    host_key = state / f"dropbear_{key_type}_host_key"
    out = subprocess.run(
        [DROPBEARKEY, "-t", key_type, "-f", str(host_key)], capture_output=True, text=True, check=True
    ).stdout
    host_pub = next(" ".join(line.split()[:2]) for line in out.splitlines() if line.startswith(("ssh-", "ecdsa-")))
    port = sshd.free_port()
    addresses = [f"127.0.0.{first + i}" for i in range(n)]
    fleet = sshd.Fleet(
        addresses, port, state, state / "no_client_key", state / "no_other_key", host_pub, state / "known_hosts"
    )
    fleet.write_known_hosts(fleet.known_hosts)
    try:
        for chunk_no, start in enumerate(range(0, n, MAX_DROPBEAR_LISTEN)):
            argv = [DROPBEAR, "-F", "-E", "-m", "-w", "-r", str(host_key), "-P", str(state / f"db_{chunk_no}.pid")]
            for a in addresses[start : start + MAX_DROPBEAR_LISTEN]:
                argv += ["-p", f"{a}:{port}"]
            fleet.procs.append(
                subprocess.Popen(
                    argv,
                    stdout=subprocess.DEVNULL,
                    stderr=open(state / f"sshd_{chunk_no}.log", "wb"),  # noqa: SIM115
                    start_new_session=True,
                )
            )
        sshd._wait_listening(fleet)
    except BaseException:
        fleet.stop()
        shutil.rmtree(state, ignore_errors=True)
        raise
    return fleet
