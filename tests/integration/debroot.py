"""Real Debian roots from ``debootstrap``, cached on disk, and their own sshd on loopback.

Why: a verdict on a Debian package is only right if it is right on what Debian really ships --
packages never updated since release, ``-defaults`` metapackages, the release's real version
strings.  A root built by ``debootstrap --variant=minbase`` from Debian's archive is that, at the
cost of a network download and ~45 s of dpkg per root, so roots are cached between tests and runs:

* ``debian_root(suite, include=...)`` -> ``Path`` of a finished root.  The package set is the
  suite's standard set (``SUITE_PACKAGES``) plus ``include``; the cache key hashes suite, packages
  and mirror, so a caller asking for the standard set again (or a subset of it) shares one root.
  Built in a temp dir beside the cache entry and renamed into place (a half-built root is never
  seen), under a file lock (parallel tests or runs build each root once).  Cache location:
  ``$LEGACYSCAN_TEST_CACHE/debroot`` or ``~/.cache/legacyscan-tests/debroot``.
* ``debian_roots([(suite, include), ...])`` builds several roots in parallel (a fresh CI machine
  builds them during the run: the network download overlaps the other root's dpkg).
* The mirror is the one this machine's apt uses (``/etc/apt/sources.list.d/*.sources`` or
  ``sources.list``), or ``$LEGACYSCAN_DEBIAN_MIRROR``: the suite never names a host of its own.
* ``start_root_sshd(root, address, port)`` runs the root's OWN ``/usr/sbin/sshd`` in a chroot on a
  loopback address, with the root's own host keys, a per-run config and authorized key under the
  root's ``/run``, ``/proc`` mounted (the probe reads it) and the device nodes sshd needs; ``stop()``
  ends every process whose root is the chroot, unmounts what it mounted and removes its state.

A cached root is shared: callers must not change it (``start_root_sshd`` writes only under
``/run/legacyscan-*``, removed on stop).  Needs root privileges and ``debootstrap``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

DEBOOTSTRAP = "/usr/sbin/debootstrap"
USER = "lsprobe"  # the login user created in every root (key auth only)
ARCH_TIMEOUT = 900.0  # one debootstrap; a slow mirror, not a hang, is the usual cause

# The standard package set of each suite (on top of minbase).  One root per suite serves every
# test: openssh-server (the root is scanned over its own sshd), python3 (the agent's interpreter;
# bullseye's 3.9 is what legacy-host tests need), debian-security-support (Debian's own lists of
# packages whose support ended early or is limited: the reference the verdict tests check
# against), and what verdict tests judge: products whose upstream release has ended while Debian
# still patches them, packages never updated since the release (no ``+debNuM`` mark), ``-defaults``
# metapackages (php-cli, default-jre-headless: numbered on their own), OpenJDK, and the ``rpm``
# tool with an empty database (as ``alien`` leaves it).  Callers add packages with ``include``
# (another root, built once).
_COMMON = ("openssh-server", "python3", "debian-security-support", "rpm", "sqlite3", "apache2-bin", "php-cli")
SUITE_PACKAGES: dict[str, tuple[str, ...]] = {
    "bullseye": (*_COMMON, "liblua5.3-0", "isc-dhcp-client", "default-jre-headless"),
    "bookworm": (*_COMMON, "liblua5.3-0", "libonig5", "isc-dhcp-client"),
    "trixie": (*_COMMON, "liblua5.4-0"),
}


class DebrootUnavailable(RuntimeError):
    """debootstrap missing, not root, no apt mirror configured, or the build failed."""


def available() -> str | None:
    """None when roots can be built here, else why not."""
    if not os.access(DEBOOTSTRAP, os.X_OK):
        return f"{DEBOOTSTRAP} not installed (apt-get install debootstrap)"
    if os.geteuid() != 0:
        return "debootstrap roots need root (chroot, mknod, mount)"
    try:
        mirror_url()
    except DebrootUnavailable as exc:
        return str(exc)
    return None


def cache_dir() -> Path:
    base = os.environ.get("LEGACYSCAN_TEST_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "legacyscan-tests"
    path = root / "debroot"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- the mirror this machine's apt uses ---------------------------------------------------------


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    stanza: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza, last = {}, ""
            continue
        if line[:1] in " \t" and last:
            stanza[last] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip().lower()
            stanza[last] = value.strip()
    if stanza:
        yield stanza


def apt_sources(etc: Path = Path("/etc/apt")) -> list[tuple[str, list[str]]]:
    """``(uri, suites)`` of every enabled ``deb`` source, deb822 files first."""
    found: list[tuple[str, list[str]]] = []
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for st in _deb822_stanzas(path.read_text("utf-8", "replace")):
            if "deb" not in st.get("types", "").split() or st.get("enabled", "yes").lower() == "no":
                continue
            for uri in st.get("uris", "").split():
                found.append((uri.rstrip("/"), st.get("suites", "").split()))
    lists = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in lists:
        if not path.is_file():
            continue
        for line in path.read_text("utf-8", "replace").splitlines():
            line = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()  # type: ignore[assignment]
            if len(line) >= 3 and line[0] == "deb":
                found.append((line[1].rstrip("/"), [line[2]]))
    return found


def mirror_url(etc: Path = Path("/etc/apt")) -> str:
    """The Debian archive URI apt uses here (the source of a release suite, not -security)."""
    override = os.environ.get("LEGACYSCAN_DEBIAN_MIRROR")
    if override:
        return override.rstrip("/")
    for uri, suites in apt_sources(etc):
        if uri.startswith(("http://", "https://", "file:/")) and any("-" not in s and "/" not in s for s in suites):
            return uri
    raise DebrootUnavailable(f"no Debian archive source in {etc}/sources.list(.d); set LEGACYSCAN_DEBIAN_MIRROR")


# -- building and caching roots -----------------------------------------------------------------


@dataclass(frozen=True)
class RootSpec:
    suite: str
    packages: tuple[str, ...]
    mirror: str

    @property
    def name(self) -> str:
        digest = hashlib.sha256(json.dumps([self.suite, self.packages, self.mirror, USER]).encode()).hexdigest()
        return f"{self.suite}-{digest[:12]}"


def spec(suite: str, include: Iterable[str] = ()) -> RootSpec:
    if suite not in SUITE_PACKAGES:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITE_PACKAGES)}")
    packages = tuple(sorted(set(SUITE_PACKAGES[suite]) | set(include)))
    for p in packages:
        if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", p):
            raise ValueError(f"not a Debian package name: {p!r}")
    return RootSpec(suite, packages, mirror_url())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _mounts_below(path: Path) -> list[str]:
    prefix = str(path.resolve()).rstrip("/") + "/"
    out = []
    with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            target = line.split()[1].replace("\\040", " ")
            if (target + "/").startswith(prefix):
                out.append(target)
    return out


def _remove_tree(path: Path) -> None:
    """rmtree that first unmounts anything below ``path`` (an interrupted debootstrap leaves
    /proc and /sys mounted in its target; rmtree must never walk into those)."""
    for target in sorted(_mounts_below(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True, check=False)
    if _mounts_below(path):
        raise DebrootUnavailable(f"cannot unmount everything below {path}")
    shutil.rmtree(path, ignore_errors=True)


def build_info(root: Path) -> dict[str, object]:
    """What was built and how long it took (written beside the root when it was built)."""
    meta = root.with_name(root.name + ".json")
    return json.loads(meta.read_text()) if meta.is_file() else {}


def debian_root(suite: str, include: Iterable[str] = ()) -> Path:
    """A finished Debian ``suite`` root with its standard packages plus ``include`` (cached)."""
    why = available()
    if why:
        raise DebrootUnavailable(why)
    s = spec(suite, include)
    cache = cache_dir()
    final = cache / s.name
    marker = cache / f"{s.name}.json"
    if marker.is_file() and final.is_dir():
        return final
    with _locked(cache / f"{s.name}.lock"):
        if marker.is_file() and final.is_dir():
            return final  # another test (or run) built it while we waited
        if final.exists():
            _remove_tree(final)  # a root without its marker never finished
        for stale in cache.glob(f".build-{s.name}-*"):
            _remove_tree(stale)
        tmp = cache / f".build-{s.name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        debs = cache / f"debs-{s.suite}"
        debs.mkdir(exist_ok=True)
        started = time.monotonic()
        try:
            _debootstrap(s, tmp, debs)
            _prepare(tmp)
        except BaseException:
            _remove_tree(tmp)
            raise
        seconds = round(time.monotonic() - started, 1)
        os.rename(tmp, final)
        marker.write_text(
            json.dumps({"suite": s.suite, "packages": list(s.packages), "mirror": s.mirror, "build_seconds": seconds})
        )
    return final


_BACKGROUND: list[threading.Thread] = []


def prebuild_in_background(suites: Sequence[str]) -> None:
    """Start building the suites' standard roots in a daemon thread (once per process): a fresh CI
    machine downloads and unpacks them while the unit tests run; ``debian_root`` then finds them
    built (or waits on the same lock).  Errors are left for the test that asks for the root."""
    if _BACKGROUND or available() is not None:
        return

    def run() -> None:
        with contextlib.suppress(Exception):
            debian_roots([(suite, ()) for suite in suites])

    thread = threading.Thread(target=run, name="debroot-prebuild", daemon=True)
    _BACKGROUND.append(thread)
    thread.start()


@contextlib.contextmanager
def overlay(root: Path) -> Iterator[Path]:
    """A writable view of a cached root (overlayfs; the cache itself is never changed): for a test
    that installs something into the root, e.g. a vendor's .deb with ``dpkg -i``."""
    work = Path(tempfile.mkdtemp(prefix="legacyscan-overlay-"))
    upper, scratch, merged = work / "upper", work / "work", work / "root"
    for d in (upper, scratch, merged):
        d.mkdir()
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={root},upperdir={upper},workdir={scratch}", str(merged)],
        check=True,
        capture_output=True,
    )
    try:
        yield merged
    finally:
        for target in sorted(_mounts_below(merged), key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)
        subprocess.run(["umount", "-l", str(merged)], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


def debian_roots(specs: Sequence[tuple[str, Iterable[str]]]) -> list[Path]:
    """Build (or find) several roots at once; results in the order asked."""
    with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        futures = [pool.submit(debian_root, suite, tuple(include)) for suite, include in specs]
        return [f.result() for f in futures]


_RUNNING: dict[int, Path] = {}  # process group of each debootstrap of this process -> its target


@atexit.register
def _stop_builds() -> None:
    """A process that exits mid-build (a background prebuild nobody waited for) ends its
    debootstrap and removes the half-built root, instead of leaving them running and half-made."""
    for pgid, target in list(_RUNNING.items()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        time.sleep(1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            _remove_tree(target)


def _debootstrap(s: RootSpec, target: Path, debs: Path) -> None:
    """Run debootstrap DETACHED (its own session, re-parented to init, never reaped here) and wait
    for its exit code in a file.  Why: the test process's RUSAGE_CHILDREN would otherwise include
    debootstrap's biggest descendant (the JVM that configures ca-certificates-java, ~900 MB), and
    other tests measure their own children's peak memory with it."""
    args = [
        DEBOOTSTRAP,
        "--variant=minbase",
        f"--include={','.join(s.packages)}",
        f"--cache-dir={debs}",
        s.suite,
        str(target),
        s.mirror,
    ]
    side = target.with_name(target.name + ".run")
    side.mkdir()
    log, rc = side / "log", side / "rc"
    inner = (
        f"{shlex.join(args)} >{shlex.quote(str(log))} 2>&1; echo $? >{shlex.quote(str(rc))}.tmp; "
        f"mv {shlex.quote(str(rc))}.tmp {shlex.quote(str(rc))}"
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"}
    try:
        started = subprocess.run(
            ["sh", "-c", f"setsid sh -c {shlex.quote(inner)} </dev/null >/dev/null 2>&1 & echo $!"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        pgid = int(started.stdout.strip())
        _RUNNING[pgid] = target
        try:
            deadline = time.monotonic() + ARCH_TIMEOUT
            while not rc.exists():
                if time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pgid, signal.SIGKILL)
                    raise DebrootUnavailable(f"debootstrap {s.suite} did not finish within {ARCH_TIMEOUT:g}s")
                time.sleep(0.5)
        finally:
            _RUNNING.pop(pgid, None)
        code = int(rc.read_text().strip() or "1")
        if code != 0:
            inside = target / "debootstrap" / "debootstrap.log"
            detail = (inside if inside.is_file() else log).read_text(errors="replace")[-3000:]
            raise DebrootUnavailable(f"debootstrap {s.suite} failed (exit {code}): {detail}")
    finally:
        shutil.rmtree(side, ignore_errors=True)


def _prepare(root: Path) -> None:
    """What every cached root gets after debootstrap: the login user (key auth only)."""
    subprocess.run(
        [
            "chroot",
            str(root),
            "useradd",
            "--no-create-home",
            "--home-dir",
            "/",
            "--shell",
            "/bin/sh",
            "--password",
            "*",
            USER,
        ],
        check=True,
        capture_output=True,
    )


def installed_packages(root: Path) -> dict[str, str]:
    """``{package: version}`` of the root's installed packages (read from its dpkg database)."""
    out: dict[str, str] = {}
    name = version = status = ""
    for line in (root / "var/lib/dpkg/status").read_text("utf-8", "replace").splitlines() + [""]:
        if not line:
            if name and status.endswith(" installed"):
                out[name] = version
            name = version = status = ""
        elif line.startswith("Package: "):
            name = line[9:].strip()
        elif line.startswith("Version: "):
            version = line[9:].strip()
        elif line.startswith("Status: "):
            status = line[8:].strip()
    return out


# -- the root's own sshd ------------------------------------------------------------------------

_MOUNT_LOCK = threading.Lock()
_MOUNT_USERS: dict[str, int] = {}  # mountpoint -> number of running sshds of ours using it

# Device nodes sshd and a probe's shell need (major, minor); debootstrap usually made them.
_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}


def _ensure_devices(root: Path) -> None:
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    for name, (major, minor) in _DEVICES.items():
        node = dev / name
        if not node.exists():
            os.mknod(node, 0o666 | 0o020000, os.makedev(major, minor))
            os.chmod(node, 0o666)  # noqa: S103 -- device nodes are world-writable by design


def _mount_proc(root: Path) -> str:
    target = str((root / "proc").resolve())
    with _MOUNT_LOCK:
        if _MOUNT_USERS.get(target, 0) == 0 and target not in _mounts_below(root):
            subprocess.run(["mount", "-t", "proc", "proc", target], check=True, capture_output=True)
            _MOUNT_USERS[target] = 0
        if target in _MOUNT_USERS:
            _MOUNT_USERS[target] += 1
    return target


def _release_proc(target: str) -> None:
    with _MOUNT_LOCK:
        if target not in _MOUNT_USERS:
            return  # mounted by someone else: not ours to unmount
        _MOUNT_USERS[target] -= 1
        if _MOUNT_USERS[target] <= 0:
            del _MOUNT_USERS[target]
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)


def _pids_in(root: Path) -> list[int]:
    """Processes whose root directory is ``root`` (sshd and every session it started)."""
    want = str(root.resolve())
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/root") == want:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


@dataclass
class RootSshd:
    """The root's own sshd listening on ``address:port``; log in as ``USER`` with ``client_key``."""

    root: Path
    address: str
    port: int
    state: Path  # outside the root: client key, known_hosts, log
    run_dir: Path  # inside the root: config, authorized key, pid file
    client_key: Path
    known_hosts: Path
    host_pubkey: str
    proc: subprocess.Popen[bytes] | None = None
    proc_mount: str = ""
    user: str = USER
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # sessions that outlived their sshd (only those this sshd's config file names as theirs
        # would be ideal; every process in this chroot is ours while a test owns it)
        for pid in self._session_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if self.proc_mount:
            _release_proc(self.proc_mount)
        shutil.rmtree(self.state, ignore_errors=True)

    def _session_pids(self) -> list[int]:
        mine = []
        for pid in _pids_in(self.root):
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if f"LEGACYSCAN_SSHD={self.run_dir.name}".encode() in env.split(b"\0"):
                mine.append(pid)
        return mine

    def __enter__(self) -> RootSshd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def start_root_sshd(root: Path, address: str = "127.0.0.1", port: int | None = None, timeout: float = 15.0) -> RootSshd:
    """Start ``root``'s own sshd (chroot) on ``address:port`` (a free port when None)."""
    if os.geteuid() != 0:
        raise DebrootUnavailable("a chroot sshd needs root")
    if not (root / "usr/sbin/sshd").is_file():
        raise DebrootUnavailable(f"{root} has no /usr/sbin/sshd (include openssh-server)")
    from tests.integration.sshd import keygen  # the suite's one key generator

    _ensure_devices(root)
    (root / "run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="legacyscan-debroot-"))
    tag = f"legacyscan-{uuid.uuid4().hex[:10]}"
    run_dir = root / "run" / tag
    run_dir.mkdir(mode=0o755)
    port = port or _free_port(address)
    client_key = state / "client_key"
    keygen(client_key)
    (run_dir / "authorized_keys").write_text(Path(str(client_key) + ".pub").read_text())
    (run_dir / "authorized_keys").chmod(0o644)
    host_pub = " ".join((root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])
    known_hosts = state / "known_hosts"
    known_hosts.write_text(f"[{address}]:{port} {host_pub}\n")
    inside = f"/run/{tag}"
    (run_dir / "sshd_config").write_text(
        f"Port {port}\nListenAddress {address}\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
        f"HostKey /etc/ssh/ssh_host_rsa_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\nPidFile {inside}/sshd.pid\n"
        f"AuthorizedKeysFile {inside}/authorized_keys\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin no\n"
        f"AllowUsers {USER}\nMaxStartups 100:30:200\nMaxSessions 20\nLogLevel ERROR\nUseDNS no\n"
        f"PrintMotd no\nSetEnv LEGACYSCAN_SSHD={tag}\n"
    )
    server = RootSshd(root, address, port, state, run_dir, client_key, known_hosts, host_pub)
    try:
        server.proc_mount = _mount_proc(root)
        log = open(state / "sshd.log", "wb")  # noqa: SIM115 -- sshd's stderr for the whole run
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "LEGACYSCAN_SSHD": tag}
        server.proc = subprocess.Popen(
            ["chroot", str(root), "/usr/sbin/sshd", "-D", "-e", "-f", f"{inside}/sshd_config"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
            start_new_session=True,
        )
        log.close()
        _wait_listening(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_listening(server: RootSshd, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.proc is not None
        if server.proc.poll() is not None:
            log = (server.state / "sshd.log").read_text(errors="replace")
            raise DebrootUnavailable(f"sshd in {server.root} exited with {server.proc.returncode}: {log[-2000:]}")
        try:
            with socket.create_connection((server.address, server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise DebrootUnavailable(f"sshd in {server.root} did not listen on {server.address}:{server.port}")
