"""Run the legacyscan CLI and ``kill -9`` it at one exact step of its filesystem work.

Used by the ``eol update`` hardening test (#19 item 14) to put a real SIGKILL at *every* step of an
update's staging and swap, instead of at a few moments guessed from a timer (which may never land
in the one window that matters, such as between two renames).

    python kill_points.py MODE ROOT COUNTS -- ARGS...

Every call that changes the filesystem under ``ROOT`` is a step: ``os.rename``/``os.replace``,
``shutil.rmtree``, ``tempfile.mkdtemp``, ``Path.mkdir`` and ``eol_data.update._exchange`` are
*structural* steps; ``Path.write_text``/``write_bytes`` are *write* steps.  ``MODE`` is
``struct:N`` or ``write:N`` (the process kills itself with SIGKILL just before the N-th step of that
kind, 1-based) or ``count`` (run to the end and write ``{"struct": n, "write": m}`` to ``COUNTS``).
Nothing in the product is changed for this: the hooks wrap the standard library from outside.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import runpy
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from typing import Any


def main() -> None:
    mode, root, counts_file = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
    assert sys.argv[4] == "--"
    args = sys.argv[5:]
    kind_at, _, at = mode.partition(":")
    target = int(at) if at else 0
    seen = {"struct": 0, "write": 0}

    def under_root(path: Any) -> bool:
        try:
            real = os.path.realpath(os.fspath(path))
            return real == root or real.startswith(root + os.sep)  # not a sibling sharing the prefix
        except TypeError:
            return False

    def step(kind: str) -> None:
        seen[kind] += 1
        if kind == kind_at and seen[kind] == target:
            os.kill(os.getpid(), signal.SIGKILL)

    def hook(kind: str, fn: Callable[..., Any], always: bool = False) -> Callable[..., Any]:
        def wrapped(*a: Any, **k: Any) -> Any:
            path = a[0] if a else k.get("dir") or k.get("path")
            if always or under_root(path) or under_root(k.get("dir", "")):
                step(kind)
            return fn(*a, **k)

        return wrapped

    os.rename = hook("struct", os.rename)
    os.replace = hook("struct", os.replace)
    shutil.rmtree = hook("struct", shutil.rmtree)  # type: ignore[assignment]
    tempfile.mkdtemp = hook("struct", tempfile.mkdtemp)
    pathlib.Path.mkdir = hook("struct", pathlib.Path.mkdir)  # type: ignore[method-assign]
    pathlib.Path.write_text = hook("write", pathlib.Path.write_text)  # type: ignore[method-assign]
    pathlib.Path.write_bytes = hook("write", pathlib.Path.write_bytes)  # type: ignore[method-assign]
    import eol_data.update as update

    if hasattr(update, "_exchange"):  # the atomic swap (absent before #19's fix)
        update._exchange = hook("struct", update._exchange, always=True)

    if kind_at == "count":  # at exit: the CLI leaves through os._exit after the atexit handlers,
        # so a `finally` around it would never run (scanner.cli.exit_fast)
        atexit.register(lambda: pathlib.Path(counts_file).write_text(json.dumps(seen)))
    sys.argv = ["legacyscan", *args]
    runpy.run_module("scanner.cli", run_name="__main__")


if __name__ == "__main__":
    main()
