"""psutil inside the zipapp: compiled extensions cannot be imported from a zip, so the builder stores
the build machine's psutil under ``_native/<tag>/`` and the zipapp extracts it on first use.

``<tag>`` is ``<system>-<machine>-<abi>``: ``linux-x86_64-abi3`` for psutil's stable-ABI builds
(any CPython 3.6+ on that platform, e.g. Debian 11's 3.9 from a zipapp built on 3.11), else
``cp311``-style for one Python version.  The extraction goes to a directory only this user can
write (``$LEGACYSCAN_AGENT_CACHE``, else ``~/.cache/legacyscan-agent``), named by the content's
hash, and is reused by later runs.  When nothing fits (another OS or CPU, no writable cache) the
agent still collects the OS and software and ``MISSING`` says why hardware facts are absent.
"""

from __future__ import annotations

import hashlib
import os
import platform
import stat
import sys
import zipfile
from pathlib import Path

PREFIX = "_native/"
MISSING = ""  # why psutil could not be provided (empty: it was, or it was never needed)


def tags(abi3: bool) -> list[str]:
    """The tags this interpreter can load, most specific first (``abi3`` for stable-ABI builds)."""
    base = f"{sys.platform.rstrip('0123456789')}-{platform.machine().lower()}"
    own = f"{base}-cp{sys.version_info[0]}{sys.version_info[1]}"
    return [own, f"{base}-abi3"] if abi3 else [own]


def build_tag(package_dir: Path) -> str:
    """The tag of an installed package (``linux-x86_64-abi3`` when all its extensions are stable-ABI)."""
    exts = [p.name for p in package_dir.rglob("*") if p.suffix in (".so", ".pyd")]
    abi3 = bool(exts) and all(".abi3." in n for n in exts)
    return tags(abi3)[-1] if abi3 else tags(False)[0]


def _cache_root() -> Path:
    configured = os.environ.get("LEGACYSCAN_AGENT_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "legacyscan-agent"


def _private_dir(path: Path) -> bool:
    """True when ``path`` is a directory of this user that nobody else can write (safe to import from)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


def provide(archive: str, module: str = "psutil") -> bool:
    """Make ``module`` importable from the zipapp ``archive``; False (and ``MISSING`` set) if not."""
    global MISSING
    try:
        __import__(module)
        return True
    except ImportError:
        pass
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile):
        MISSING = f"{module} is not installed (not run from a zipapp)"
        return False
    with zf:
        names = [n for n in zf.namelist() if n.startswith(PREFIX)]
        available = sorted({n[len(PREFIX) :].split("/", 1)[0] for n in names})
        tag = next((t for t in tags(True) if t in available), None)
        if tag is None:
            carried = ", ".join(available) or "no platform"
            MISSING = (
                f"{module} is not installed and this zipapp carries it for {carried}, not for "
                f"{tags(False)[0]} (install {module} for this Python, or build the zipapp on this platform)"
            )
            return False
        members = sorted(n for n in names if n.startswith(f"{PREFIX}{tag}/") and not n.endswith("/"))
        digest = hashlib.sha256()
        for n in members:
            digest.update(n.encode() + b"\0" + zf.read(n))
        root = _cache_root()
        target = root / f"native-{tag}-{digest.hexdigest()[:16]}"
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not _private_dir(root):
                raise PermissionError(f"{root} is writable by others or not owned by this user")
            if not target.exists():
                staging = root / f".staging-{os.getpid()}"
                for n in members:
                    dest = staging / n[len(f"{PREFIX}{tag}/") :]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(n))
                os.replace(staging, target)
            if not _private_dir(target):
                raise PermissionError(f"{target} is writable by others or not owned by this user")
        except OSError as exc:
            MISSING = f"{module} could not be unpacked from the zipapp: {exc}"
            return False
    sys.path.insert(0, str(target))
    try:
        __import__(module)
    except ImportError as exc:
        sys.path.remove(str(target))
        MISSING = f"{module} from the zipapp ({tag}) does not load here: {exc}"
        return False
    return True
