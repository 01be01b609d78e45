"""Build ``legacyscan-agent.pyz``: the agent as one file, deployable without installing legacyscan.

Why a zipapp: a ward PC or a locked-down laptop should get one file (copied by GPO, SCCM/Intune,
Ansible or a login script) and a scheduled task, not a package manager run.  The archive holds the
``agents`` package only - nothing of the scanner, the reports or the EOL data - plus, with
``--vendor`` (the default), the pure-Python packages the upload needs (httpx and its
dependencies), copied from this interpreter, and this interpreter's psutil under ``_native/<tag>/``:
a compiled extension cannot be imported from a zip, so ``agents/native.py`` unpacks it on first
use where the target's platform matches (psutil's stable-ABI build serves any CPython 3.6+ on the
same OS and CPU).  Elsewhere the agent still collects the OS and software, says which hardware
facts are missing and why, and lowers its priority with ``os.nice``.  On Python < 3.10 (where the
vendored httpx/anyio do not run) uploads go through ``urllib`` (agents/http_stdlib.py).

    python -m agents.build_zipapp [--out dist/legacyscan-agent.pyz] [--no-vendor]
    python3 legacyscan-agent.pyz --server https://collector:8443 --token-file /etc/legacyscan/token
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import zipapp
from pathlib import Path

# The upload path needs httpx; its pure-Python dependency closure is read from the installed
# distributions' metadata (the closure changes between releases: anyio dropped sniffio, and needs
# typing_extensions on older Pythons).  This list is the fallback when metadata is unavailable.
VENDOR_ROOT = "httpx"
VENDORED: tuple[str, ...] = ("httpx", "httpcore", "h11", "anyio", "sniffio", "idna", "certifi")
AGENT_FILES: tuple[str, ...] = ("*.py", "*.ps1", "*.json")
# Host-touching modules the on-host agent never needs (remote transports and their bounded name
# lookups); left out to stay small.
EXCLUDED: frozenset[str] = frozenset(
    {"ssh.py", "ssh_legacy.py", "winrm.py", "names.py", "build_zipapp.py", "build_sh_agent.py"}
)

# Parseable by old Pythons: ``import agents`` is the version gate (one line, exit 1, below 3.8).
MAIN = """\
import sys

import agents
from agents import native

native.provide(sys.path[0])
from agents.agent import main

sys.exit(main())
"""
NATIVE: tuple[str, ...] = ("psutil",)  # compiled: stored under _native/<tag>/, unpacked at run time


def _copy_package(name: str, dest: Path) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"cannot vendor {name}: not installed in {sys.executable}")
    origin = Path(spec.origin)
    if origin.name == "__init__.py":
        shutil.copytree(
            origin.parent, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "tests")
        )
    else:
        shutil.copy2(origin, dest / origin.name)


def _copy_native(name: str, dest: Path) -> None:
    """Store an installed compiled package under ``_native/<tag>/`` (see agents/native.py)."""
    from agents.native import PREFIX, build_tag

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        print(
            f"note: {name} is not installed in {sys.executable}: the zipapp will carry no {name} "
            "(hardware facts only where the target has it)",
            file=sys.stderr,
        )
        return
    package = Path(spec.origin).parent
    tag = build_tag(package)
    shutil.copytree(package, dest / PREFIX / tag / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"))
    print(f"carrying {name} for {tag}", file=sys.stderr)


def vendored_modules(root: str = VENDOR_ROOT) -> list[str]:
    """Top-level module names of ``root`` and every distribution it requires on this Python."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    try:
        from packaging.requirements import Requirement
    except ImportError:  # packaging is not a dependency of ours: fall back to a plain parse
        Requirement = None  # type: ignore[assignment,misc]  # noqa: N806
    seen: list[str] = []
    todo = [root]
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.append(dist)
        try:
            reqs = requires(dist) or []
        except PackageNotFoundError:
            if dist == root:
                return [m for m in VENDORED if importlib.util.find_spec(m) is not None]
            # Not installed here, so not needed on this Python: without ``packaging`` a marker such
            # as ``python_version < "3.11"`` (exceptiongroup) or an old anyio's sniffio cannot be
            # evaluated, and what pip did not install is what the marker excluded.
            seen.remove(dist)
            continue
        for text in reqs:
            if Requirement is not None:
                req = Requirement(text)
                if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                    continue
                todo.append(req.name.lower())
            elif "extra ==" not in text:
                match = re.match(r"[A-Za-z0-9_.-]+", text)
                if match:
                    todo.append(match.group().lower())
    return [d.replace("-", "_") for d in seen]


def build(out: Path, *, vendor: bool = True) -> Path:
    source = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="legacyscan-zipapp-") as tmp_name:
        staging = Path(tmp_name) / "app"
        package = staging / "agents"
        package.mkdir(parents=True)
        for pattern in AGENT_FILES:
            for path in sorted(source.glob(pattern)):
                if path.name not in EXCLUDED:
                    shutil.copy2(path, package / path.name)
        (staging / "__main__.py").write_text(MAIN, encoding="utf-8")
        if vendor:
            for name in vendored_modules():
                _copy_package(name, staging)
            for name in NATIVE:
                _copy_native(name, staging)
        out.parent.mkdir(parents=True, exist_ok=True)
        zipapp.create_archive(staging, out, interpreter="/usr/bin/env python3", compressed=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the legacyscan-agent zipapp.")
    parser.add_argument("--out", type=Path, default=Path("dist/legacyscan-agent.pyz"))
    parser.add_argument(
        "--no-vendor", action="store_true", help="do not bundle httpx (the target's Python must provide it for uploads)"
    )
    args = parser.parse_args(argv)
    path = build(args.out, vendor=not args.no_vendor)
    print(f"built {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
