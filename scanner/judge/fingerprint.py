"""Which rules judged a stored finding: the *judge fingerprint*.

A stored judgement (``judgements``, schema migration 11: ``judged_by``) is reused by a report
only when the dataset that judged it is the report's (``judgements.dataset_version``) *and* the
code and rules that judged it are the ones installed now: a release that fixes a wrong verdict
(e.g. .NET Framework 4.6.2-4.8.1 on an end-of-life Windows, commit f2790dc) changes nothing in
the dataset, only legacyscan's version and its bundled rules files (``eol_data/rules``).  The
fingerprint is a short digest of both: legacyscan's version and every file of the rules
directory, by name and bytes, in sorted order.

``fingerprint`` is a pure function of its arguments; ``installed`` is the installed release's
(the rules files do not change while a process runs: computed once, an ``agents.packaged.Packaged``
value, as ``plan.readiness`` reads its CPU lists).  Callers that judge or read findings take the
fingerprint as a parameter (``Judge``, ``StoredResults``) defaulting to ``installed()``, so a test
injects another.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from agents.packaged import Packaged

# Hex digits kept: a fingerprint names one release's rules among a handful ever installed.
LENGTH = 16


def fingerprint(version: str, rules_dir: Path) -> str:
    """``version`` and every regular file under ``rules_dir`` (name and bytes, sorted by relative
    path; compiled caches left out) as ``LENGTH`` hex digits."""
    h = hashlib.sha256()
    h.update(f"legacyscan {version}\x00".encode())
    files = sorted(
        p for p in rules_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for path in files:
        data = path.read_bytes()
        h.update(f"{path.relative_to(rules_dir).as_posix()}\x00{len(data)}\x00".encode())
        h.update(data)
    return h.hexdigest()[:LENGTH]


def _installed() -> str:
    from eol_data.rules import RULES_DIR
    from scanner import __version__

    return fingerprint(__version__, RULES_DIR)


_INSTALLED = Packaged(_installed)


def installed() -> str:
    """The installed release's fingerprint (legacyscan's version, the bundled rules files)."""
    return _INSTALLED.get()
