"""``legacyscan-agent``: a workstation reports itself (collect -> spool -> upload, or write a file).

For machines no scanner can reach: laptops, locked-down ward PCs, other VLANs.  It is run by the
OS scheduler (a Windows scheduled task, a systemd timer, a launchd job), so it is built to be a
good citizen on a clinical workstation:

* a random start delay (``--max-delay``) spreads a site's 9 am wave over the window;
* it lowers its own CPU and I/O priority before collecting (children inherit it);
* it imports nothing of legacyscan's server side and imports httpx only when uploading, so one run
  costs little more than the interpreter (see ``bench/agent_footprint.py``);
* every inventory goes into a bounded on-disk spool *before* the upload is tried, and leaves it
  only when the server has answered "created" or "duplicate".  A server that is down, a network
  that drops the response, a killed process: the next run sends the spool again, and the inventory
  id makes the server count it exactly once.  When the spool is full the oldest inventories are
  dropped, with a warning naming them;
* the server certificate is always verified (the OS trust store, or ``--ca-bundle``).

Exit codes: 0 ok, 1 error (e.g. token refused), 2 usage, 75 not delivered yet (spooled; the next
run retries) - 75 is EX_TEMPFAIL, which schedulers show as a soft failure.
"""

from __future__ import annotations

import argparse
import errno
import gzip
import logging
import os
import random
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.compat import SLOTS
from agents.inventory import Inventory
from agents.textsafe import install_safe_logging
from agents.wire import compact_json

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from agents.http_stdlib import StdlibClient

log = logging.getLogger("legacyscan-agent")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SPOOLED = 75

UPLOAD_PATH = "/v1/inventories"
TOKEN_ENV = "LEGACYSCAN_AGENT_TOKEN"  # noqa: S105 - a variable name
SPOOL_SUFFIX = ".json.gz"
MAX_REJECTED_KEPT = 10


# -- priority and timing -----------------------------------------------------------------------


def lower_priority() -> str:
    """Drop to low CPU and idle I/O priority; returns what was done (for the log), never raises."""
    done: list[str] = []
    try:
        import psutil

        proc = psutil.Process()
        if sys.platform == "win32":
            proc.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)  # type: ignore[attr-defined]
            done.append("cpu=below-normal")
            proc.ionice(psutil.IOPRIO_VERYLOW)  # type: ignore[attr-defined]
            done.append("io=very-low")
        else:
            if proc.nice() < 10:
                proc.nice(10)
            done.append(f"nice={proc.nice()}")
            if hasattr(proc, "ionice") and hasattr(psutil, "IOPRIO_CLASS_IDLE"):
                proc.ionice(psutil.IOPRIO_CLASS_IDLE)
                done.append("io=idle")
    except Exception as exc:  # noqa: BLE001 - priority is best effort; collection must still run
        log.debug("cannot lower priority: %s", exc)
        if hasattr(os, "nice") and not done:
            try:
                os.nice(10)
                done.append("nice=+10")
            except OSError:
                pass
    return ", ".join(done) or "unchanged"


def backoff_delays(retries: int, base: float, cap: float, rand: Callable[[float, float], float]) -> list[float]:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""
    return [rand(0.0, min(cap, base * (2**n))) for n in range(retries)]


# -- files -------------------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write via a hidden temp file in the same directory + rename, so readers (``legacyscan import``
    on a share, the spool) never see half a file.

    The temporary name is unpredictable and created exclusively (``tempfile.mkstemp``), so a symlink
    planted in a shared folder is never followed; an existing target that is not a regular file
    (``/dev/null``, a FIFO) is refused, never replaced by a file.  ``mode``: 0600 for the spool;
    ``--output`` files are 0644 (``legacyscan import`` on a share reads them as another user).
    """
    _refuse_special(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, str(path))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _refuse_special(path: Path) -> None:
    try:
        mode = os.lstat(str(path)).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a directory"
        if stat.S_ISDIR(mode)
        else "not a regular file"
    )
    raise OSError(errno.EEXIST, f"refusing to replace {kind} with a file", str(path))


def _safe(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:64].strip("._")
    return cleaned or "host"


def write_output(inv: Inventory, target: Path) -> Path:
    """``--output``: a file, or a directory (a file drop) where the name is host + inventory id."""
    if target.is_dir() or str(target).endswith(("/", os.sep)):
        target = target / f"{_safe(inv.host.hostname)}-{_safe(inv.inventory_id)}.json"
    atomic_write(target, inv.to_json(indent=1).encode("utf-8"), mode=0o644)
    return target


class Spool:
    """Inventories waiting for the server: one gzip file each, oldest first, bounded."""

    def __init__(self, root: Path, max_files: int = 30, max_bytes: int = 100 * 1024 * 1024) -> None:
        self.root = root
        self.max_files = max(1, max_files)
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.root, 0o700)
        except OSError:
            pass

    def files(self) -> list[Path]:
        """Spooled inventories, oldest first: every entry named like one (a symbolic link or other
        odd entry too: ``read`` refuses it, and ``deliver`` moves it aside with the reason)."""
        return sorted(
            p
            for p in self.root.iterdir()
            if p.name.endswith(SPOOL_SUFFIX) and not p.name.startswith(".") and not stat.S_ISDIR(p.lstat().st_mode)
        )

    def read(self, path: Path) -> bytes:
        """A spooled inventory's bytes, only from a regular file this agent's user wrote.

        The spool folder is the agent's own (0700), but whatever else gets into it must never make
        the agent upload another file: the last path component is opened without following a
        symbolic link (``O_NOFOLLOW``; where the OS lacks it, a link is refused before opening),
        without blocking on a FIFO, and the opened file must be regular, owned by this user (POSIX)
        and have no other hard link.  Raises ``SpoolFileRefused`` naming what is wrong.
        """
        nofollow = getattr(os, "O_NOFOLLOW", 0)
        if not nofollow and os.path.islink(str(path)):
            raise SpoolFileRefused("is a symbolic link")
        flags = os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(str(path), flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP or (nofollow and os.path.islink(str(path))):
                raise SpoolFileRefused("is a symbolic link") from exc
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SpoolFileRefused("is not a regular file")
            if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                raise SpoolFileRefused(f"is owned by uid {info.st_uid}, not by this agent's user ({os.geteuid()})")
            if info.st_nlink != 1:
                raise SpoolFileRefused(f"has {info.st_nlink} hard links (a spooled inventory has one)")
            if info.st_size > self.max_bytes:
                raise SpoolFileRefused(f"is larger than the spool ({info.st_size} bytes)")
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def add(self, inv: Inventory) -> Path:
        stamp = "".join(c for c in inv.collected_at if c.isalnum()) or "0"
        path = self.root / f"{stamp}-{_safe(inv.inventory_id)}{SPOOL_SUFFIX}"
        atomic_write(path, gzip.compress(compact_json(inv).encode("utf-8"), 6))
        self.enforce(keep=path)
        return path

    def enforce(self, keep: Path | None = None) -> list[Path]:
        """Drop the oldest inventories beyond the bounds (never ``keep``, the newest); warn for each."""
        files = self.files()
        sizes = {p: p.lstat().st_size for p in files}
        dropped: list[Path] = []
        while files and (len(files) > self.max_files or sum(sizes[p] for p in files) > self.max_bytes):
            victim = next((p for p in files if p != keep), None)
            if victim is None:
                break
            files.remove(victim)
            victim.unlink(missing_ok=True)
            dropped.append(victim)
            log.warning(
                "spool %s is full (%d files / %d bytes max): dropped undelivered inventory %s",
                self.root,
                self.max_files,
                self.max_bytes,
                victim.name,
            )
        return dropped

    def reject(self, path: Path, reason: str) -> None:
        """Keep a refused inventory for diagnosis (bounded), out of the delivery queue."""
        folder = self.root / "rejected"
        folder.mkdir(exist_ok=True)
        os.replace(path, folder / path.name)
        atomic_write(folder / (path.name + ".reason.txt"), reason.encode("utf-8"))
        kept = sorted(p for p in folder.iterdir() if p.name.endswith(SPOOL_SUFFIX))
        for old in kept[:-MAX_REJECTED_KEPT]:
            old.unlink(missing_ok=True)
            (folder / (old.name + ".reason.txt")).unlink(missing_ok=True)


def default_spool() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "legacyscan" / "spool"
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if sys.platform == "darwin":
        base = Path("/Library/Application Support") if is_root else Path.home() / "Library" / "Caches"
        return base / "legacyscan-agent" / "spool"
    if is_root:
        return Path("/var/spool/legacyscan-agent")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "legacyscan-agent" / "spool"


# -- upload ------------------------------------------------------------------------------------


@dataclass(**SLOTS)
class Outcome:
    # delivered | rejected (the collector refused the document itself) | unauthorized | unreachable
    # (retry soon) | deferred (an answer that is not the collector's: keep it for the next run) |
    # untrusted (certificate not verified)
    kind: str
    detail: str = ""
    status: int = 0
    retry_after: float | None = None  # seconds the server asked us to wait (Retry-After), bounded


class SpoolFileRefused(Exception):
    """A spool entry the agent will not upload (a link, not ours, ...); the message says why."""


# Statuses with which the collector refuses a document for good ("resending it will not help"),
# and only when the body is the collector's own JSON error: a proxy's or another server's 400 or
# 404 page says nothing about the inventory.
DEFINITIVE_REFUSALS = (400, 413, 415, 422)


def parse_retry_after(value: str, now: float, cap: float) -> float | None:
    """``Retry-After`` in seconds within ``[0, cap]``, or None when it is not valid.

    Strictly RFC 9110: ASCII digits (``str.isdigit`` also accepts "²" or Arabic-Indic digits, which
    ``float`` then refuses) or an HTTP-date, which is relative to ``now`` (a POSIX time).
    """
    value = value.strip()
    if not value or len(value) > 64:
        return None
    if all("0" <= c <= "9" for c in value):
        return float(min(int(value[:12]), cap))
    try:
        from email.utils import parsedate_to_datetime

        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:  # pragma: no cover - older Pythons return None for some invalid dates
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return min(cap, max(0.0, moment.timestamp() - now))


class Uploader:
    """POSTs spooled inventories with retries, exponential backoff and full jitter."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        retry_base: float = 2.0,
        retry_cap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[float, float], float] = random.uniform,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = server.rstrip("/") + UPLOAD_PATH
        self.clock = clock  # for an HTTP-date Retry-After
        self.token = token
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        self.retries = retries
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.sleep = sleep
        self.rand = rand
        self._client: httpx.Client | StdlibClient | None = None
        self._errors: tuple[type[BaseException], ...] = ()

    def client(self) -> httpx.Client | StdlibClient:
        if self._client is None:
            import ssl

            context = (
                ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else ssl.create_default_context()
            )  # the OS trust store, where a trust's internal CA lives
            from agents.collect import AGENT_VERSION

            ua = {"User-Agent": f"legacyscan-agent/{AGENT_VERSION}"}
            try:
                import httpx  # imported here: a file-only run never pays for it

                self._client = httpx.Client(verify=context, timeout=self.timeout, trust_env=True, headers=ua)
                self._errors = (httpx.HTTPError,)
            except Exception as exc:  # noqa: BLE001 - absent, or a release newer than this Python
                # (the vendored httpx/httpcore/anyio need 3.10+): the standard library posts the same request.
                from agents.http_stdlib import StdlibClient

                log.debug("httpx unavailable (%s: %s): uploading with urllib", type(exc).__name__, exc)
                self._client = StdlibClient(verify=context, timeout=self.timeout, headers=ua)
                self._errors = StdlibClient.errors
        return self._client

    def send(self, gz_body: bytes) -> Outcome:
        delays = backoff_delays(self.retries, self.retry_base, self.retry_cap, self.rand)
        last = Outcome("unreachable", "no attempt made")
        for attempt in range(self.retries + 1):
            last = self._attempt(gz_body)
            if last.kind != "unreachable" or attempt == self.retries:
                return last
            wait = delays[attempt]
            if last.retry_after is not None:
                wait = min(self.retry_cap, max(wait, last.retry_after))
            log.info("upload attempt %d failed (%s); retrying in %.1fs", attempt + 1, last.detail, wait)
            self.sleep(wait)
        return last

    def _attempt(self, gz_body: bytes) -> Outcome:
        client = self.client()
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        try:
            resp = client.post(self.url, content=gz_body, headers=headers)
        except self._errors as exc:
            if _is_cert_error(exc):
                return Outcome(
                    "untrusted",
                    f"TLS certificate of {self.url} not trusted: {exc} (give the issuing CA with --ca-bundle)",
                )
            return Outcome("unreachable", f"{type(exc).__name__}: {exc}")
        reason = _reason(resp)
        if resp.status_code in (200, 201):
            return Outcome("delivered", reason, resp.status_code)
        if resp.status_code in (401, 403):
            return Outcome("unauthorized", reason, resp.status_code)
        if resp.status_code in (429, 503) or resp.status_code >= 500 or resp.status_code == 408:
            retry_after = parse_retry_after(resp.headers.get("retry-after", ""), self.clock(), self.retry_cap)
            detail = f"HTTP {resp.status_code}: {reason}"
            if retry_after is not None:
                detail += f" (retry after {retry_after:.0f}s)"
            return Outcome("unreachable", detail, resp.status_code, retry_after)
        if resp.status_code in DEFINITIVE_REFUSALS and _collector_error(resp):
            return Outcome("rejected", f"HTTP {resp.status_code}: {reason}", resp.status_code)
        where = resp.headers.get("location", "")
        detail = (
            f"HTTP {resp.status_code} from {self.url}"
            + (f" (redirected to {where[:200]})" if where else "")
            + f": {reason[:200]}; not an answer of a legacyscan collector (check --server)"
        )
        return Outcome("deferred", detail, resp.status_code)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _is_cert_error(exc: BaseException) -> bool:
    import ssl

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _collector_error(resp: Any) -> bool:
    """True when the body is the collector's own refusal: a JSON object with an "error" string."""
    if resp.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return False
    try:
        data = resp.json()
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("error"), str)


def _reason(resp: Any) -> str:
    try:
        data = resp.json()
    except ValueError:
        return str(resp.text)[:200]
    if isinstance(data, dict):
        return str(data.get("error") or data.get("status") or "")[:500]
    return ""


def deliver(spool: Spool, uploader: Uploader) -> int:
    """Send every spooled inventory, oldest first; stop at the first one the server cannot take now."""
    for path in spool.files():
        try:
            body = spool.read(path)
        except SpoolFileRefused as exc:
            log.error("spool entry %s %s: not uploaded (moved to %s)", path.name, exc, spool.root / "rejected")
            spool.reject(path, f"refused by the agent: the spool entry {exc}")
            continue
        except OSError:  # another run delivered it meanwhile
            continue
        outcome = uploader.send(body)
        if outcome.kind == "delivered":
            path.unlink(missing_ok=True)
            log.info("delivered %s (%s)", path.name, outcome.detail)
            continue
        if outcome.kind == "rejected":
            log.error("server refused %s: %s (kept in %s)", path.name, outcome.detail, spool.root / "rejected")
            spool.reject(path, outcome.detail)
            continue
        if outcome.kind == "unauthorized":
            log.error(
                "server refused the enrolment token (%s); inventories stay spooled in %s", outcome.detail, spool.root
            )
            return EXIT_ERROR
        left = len(spool.files())
        if outcome.kind == "deferred":
            log.error(
                "%s; %d inventor%s kept in %s for the next run",
                outcome.detail,
                left,
                "y" if left == 1 else "ies",
                spool.root,
            )
            return EXIT_SPOOLED
        log.warning(
            "server not reached (%s); %d inventor%s spooled in %s for the next run",
            outcome.detail,
            left,
            "y" if left == 1 else "ies",
            spool.root,
        )
        return EXIT_SPOOLED
    return EXIT_OK


# -- command line ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="legacyscan-agent",
        description="Collect this machine's OS and installed-software inventory (read-only) and upload it to "
        "a legacyscan collector, or write it to a file or a file-drop folder.",
        epilog="Exit codes: 0 ok, 1 error, 2 usage, 75 not delivered yet (spooled for the next run).",
    )
    from agents.collect import AGENT_VERSION

    p.add_argument(
        "--version",
        action="version",
        version=f"legacyscan-agent {AGENT_VERSION} (Python {sys.version_info[0]}.{sys.version_info[1]})",
    )
    p.add_argument("--server", metavar="URL", help="collector base URL, e.g. https://legacyscan.trust.nhs.uk:8443")
    p.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"enrolment token (prefer --token-file or the {TOKEN_ENV} variable: a command line "
        "is visible to other users)",
    )
    p.add_argument("--token-file", metavar="FILE", help="file holding the enrolment token")
    p.add_argument("--ca-bundle", metavar="FILE", help="PEM CA bundle to verify the server (default: OS trust store)")
    p.add_argument("--output", metavar="PATH", help="write the inventory JSON to this file, or into this folder")
    p.add_argument("--spool", metavar="DIR", help="where undelivered inventories wait (default: a system folder)")
    p.add_argument("--spool-max", type=int, default=30, metavar="N", help="most inventories kept (default: 30)")
    p.add_argument(
        "--spool-max-bytes",
        type=int,
        default=100 * 1024 * 1024,
        metavar="BYTES",
        help="most spool bytes kept (default: 100 MiB)",
    )
    p.add_argument("--site", default="", help="site recorded in written files (uploads take the token's site)")
    p.add_argument("--tag", action="append", default=[], dest="tags", help="tag recorded with the host")
    p.add_argument(
        "--max-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait a random 0..SECONDS before starting (spreads a fleet's load; default 0)",
    )
    p.add_argument("--retries", type=int, default=4, help="upload retries per run (default: 4)")
    p.add_argument("--retry-base", type=float, default=2.0, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="HTTP timeout (default: 30)")
    p.add_argument("--no-lower-priority", action="store_true", help="keep normal CPU and I/O priority")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-q", "--quiet", action="store_true")
    return p


def _token(args: argparse.Namespace) -> str | None:
    if args.token:
        return str(args.token).strip()
    if args.token_file:
        return Path(args.token_file).read_text("utf-8").strip()
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None


def _check_server(url: str) -> str | None:
    """None when acceptable; plain HTTP only to this machine (a token must not cross a network in clear)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    return f"--server must be an https:// URL (got {url!r})"


def collect(site: str, tags: list[str]) -> Inventory:
    from agents.collect import Collector
    from agents.shell import LocalShell

    inv = Collector(LocalShell(), site=site, tags=tags).collect()
    inv.collector.transport = "agent"
    return inv


def main(
    argv: list[str] | None = None,
    *,
    collect_fn: Callable[[str, list[str]], Inventory] = collect,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (
        logging.ERROR
        if args.quiet
        else logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING
    )
    logging.basicConfig(level=level, format="legacyscan-agent: %(levelname)s: %(message)s", stream=sys.stderr)
    install_safe_logging()  # a server's or host's text never drives the terminal (#19 item 10)
    if not args.server and not args.output:
        parser.print_usage(sys.stderr)
        print("legacyscan-agent: error: give --server URL (with a token) and/or --output PATH", file=sys.stderr)
        return EXIT_USAGE
    token: str | None = None
    if args.server:
        token, problem = _server_token(args)
        if problem:
            print(f"legacyscan-agent: error: {problem}", file=sys.stderr)
            return EXIT_USAGE
    if not args.no_lower_priority:
        log.info("priority: %s", lower_priority())
    if args.max_delay > 0:
        delay = random.uniform(0.0, args.max_delay)
        log.info("start delay %.0fs", delay)
        sleep(delay)
    inv = collect_fn(args.site, args.tags)
    for issue in inv.problems:
        log.info("probe %s: %s (%s)", issue.probe, issue.message, issue.kind)
    rc = _write_file(inv, args.output) if args.output else EXIT_OK
    if args.server and token:
        sent = _spool_and_deliver(inv, args, token, sleep)
        if rc == EXIT_OK:
            rc = sent
    return rc


def _server_token(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(token, what is wrong with the --server options, if anything)."""
    problem = _check_server(args.server)
    token: str | None = None
    try:
        token = _token(args)
    except OSError as exc:
        problem = f"cannot read --token-file: {exc}"
    if problem is None and args.ca_bundle and not os.path.isfile(args.ca_bundle):
        problem = f"cannot read --ca-bundle {args.ca_bundle}"
    if problem is None and not token:
        problem = f"--server needs an enrolment token (--token-file, {TOKEN_ENV} or --token)"
    return token, problem


def _write_file(inv: Inventory, output: str) -> int:
    try:
        written = write_output(inv, Path(output))
    except OSError as exc:
        log.error("cannot write %s: %s", output, exc)
        return EXIT_ERROR
    log.info("wrote %s", written)
    return EXIT_OK


def _spool_and_deliver(inv: Inventory, args: argparse.Namespace, token: str, sleep: Callable[[float], None]) -> int:
    """Spool the inventory, then send everything spooled; a spool that cannot be written is an error."""
    folder = Path(args.spool) if args.spool else default_spool()
    try:
        spool = Spool(folder, args.spool_max, args.spool_max_bytes)
        spool.add(inv)
    except OSError as exc:
        log.error("cannot write the spool %s (%s); give a writable --spool DIR", folder, exc)
        return EXIT_ERROR
    uploader = Uploader(
        args.server,
        token,
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
        retries=max(0, args.retries),
        retry_base=args.retry_base,
        sleep=sleep,
    )
    try:
        return deliver(spool, uploader)
    finally:
        uploader.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
