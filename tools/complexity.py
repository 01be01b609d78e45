"""#18's complexity figures: functions and methods, the share at cyclomatic complexity >= 10, and
every one at >= 30 (the issue's "Done means": at most 8 % and none).

Needs radon, a development tool that is not a dependency of legacyscan::

    pip install radon
    python tools/complexity.py                   # agents eol_data scanner reports
    python tools/complexity.py agents scanner/identify

A method is counted once (radon lists it under its class and as a block of its own); a closure is
inside its parent's figure, as radon computes it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agents", "eol_data", "scanner", "reports")


def main(argv: list[str]) -> int:
    paths = argv or list(PACKAGES)
    out = subprocess.run(
        [sys.executable, "-m", "radon", "cc", "-j", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        print(out.stderr.strip() or "radon failed (pip install radon)", file=sys.stderr)
        return 1
    blocks = [
        (b["complexity"], path, b.get("classname"), b["name"])
        for path, items in json.loads(out.stdout).items()
        for b in items
        if b["type"] in ("function", "method")
    ]
    at10 = sum(1 for c, *_ in blocks if c >= 10)
    at30 = sorted((b for b in blocks if b[0] >= 30), reverse=True)
    print(
        f"functions+methods {len(blocks)}  >=10: {at10} ({100 * at10 / max(1, len(blocks)):.1f} %)  >=30: {len(at30)}"
    )
    for c, path, cls, name in at30:
        print(f"  {c:4d}  {path}:{cls + '.' if cls else ''}{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
