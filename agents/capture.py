"""A host's raw answers to the probe table, written as a fixture the test suite replays.

``legacyscan capture`` asks a host (this machine, or one reached over SSH) every row of the probe
table (``agents.probes``) that concerns its platform, through the same runner a scan uses, and
writes what it answered in ``agents.shell.ReplayShell``'s layout:

    DIR/capture.json    provenance: schema, when, by which legacyscan, over which transport, the
                        platform, the probes asked and those left out, transport problems, a note
    DIR/commands.json   " ".join(argv) -> {"exit_code", "stdout", "stderr"}
    DIR/files/<path>    each file read, under its absolute path

``ReplayShell(DIR)`` hands those answers to the real ``Collector``, so a contributor's fixture is
parsed by exactly the code that parses a live host.  Rows that identify the machine (hostname,
machine-id, serial number, platform UUID) are left out unless asked for: a fixture is meant to be
shared.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.probes import Evidence

SCHEMA = "legacyscan-capture/1"
PROVENANCE = "capture.json"
COMMANDS = "commands.json"
FILES = "files"


class CaptureError(ValueError):
    """A fixture that cannot be written where asked."""


def provenance(
    evidence: Evidence,
    *,
    captured_at: datetime,
    version: str,
    transport: str,
    target: str = "",
    note: str = "",
) -> dict[str, Any]:
    """The fixture's ``capture.json``.  ``target`` (the host's address) only when the caller keeps
    identifiers: it names the machine."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "captured_at": captured_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "legacyscan_version": version,
        "transport": transport,
        "platform": evidence.platform,
        "probes": list(evidence.asked),
        "left_out": list(evidence.left_out),
        "problems": list(evidence.problems),
        "commands": len(evidence.commands),
        "files": len(evidence.files),
    }
    if target:
        doc["target"] = target
    if note:
        doc["note"] = note
    return doc


def write_fixture(root: Path, evidence: Evidence, meta: dict[str, Any]) -> Path:
    """Write ``evidence`` under ``root`` (created; it must not exist or be an empty folder)."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise CaptureError(f"{root} already exists and is not an empty folder: choose a new one")
    root.mkdir(parents=True, exist_ok=True)
    for path, text in sorted(evidence.files.items()):
        if not path.startswith("/") or ".." in path.split("/"):
            raise CaptureError(f"not an absolute path of the probe table: {path!r}")
        target = root / FILES / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8", "replace"))
    _write_json(root / COMMANDS, evidence.commands)
    _write_json(root / PROVENANCE, meta)
    return root


def read_provenance(root: Path) -> dict[str, Any]:
    doc = json.loads((root / PROVENANCE).read_text("utf-8"))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise CaptureError(f"{root / PROVENANCE}: not a {SCHEMA} document")
    return doc


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)
