"""Differential harness for the identifiers: every answer, stored, then compared with another version's.

Why: the identifiers are refactored (evidence adapters, word lists moved to ``eol_data/rules``)
under the rule that no answer changes unless a documented fix says so.  This tool feeds every
record it can build from the given inputs through the Python API (``IdentifyContext.identify``:
product, cycle, rule, reason, confidence, evidence, spans, alternatives; and ``evaluate``: status,
eol) and through ``legacyscan eol identify`` as a pipe, and writes one JSON line per record.

Inputs (paths; a directory is searched recursively):

* ``*.jsonl`` labelled corpora (``{"kind": "os_record" | "windows_software", "raw_format", "raw"}``),
  e.g. a corpus directory or ``tests/fixtures/extra_labelled``;
* ``collect.json`` raw Windows collection documents (``windows-collect/1``), e.g. ``tests/fixtures/hosts``;
* whole-host captures (``captures/<platform>/*.json``: OS section and software list), e.g.
  ``scanner/demo_data/captures`` (Linux packages also with their rpm arch suffix).

Each input becomes several records, so the lenient paths are exercised as much as the contract's:
the converted contract record (``tests/corpus_input``), the raw keys as found (with and without a
family), the raw block as one pasted ``label: value`` text, each raw string alone as a one-line
agent string, and the contract record with each field left out in turn.

Usage::

    python tools/ident_differential.py record OUT.jsonl PATH... [--repo DIR] [--as-of 2026-11-22]
    python tools/ident_differential.py compare BASE.jsonl NEW.jsonl

``--repo`` identifies with another checkout's code (e.g. ``git archive main | tar -x -C /tmp/base``)
while the records are built by this checkout's converter, so both runs see the same records.
``compare`` prints every difference and exits 1 when there is one.  The tool reads only the paths
it is given; no test runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _corpus_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    from tests.corpus_input import os_record_from_corpus, software_record_from_corpus

    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        raw, fmt = item.get("raw"), str(item.get("raw_format") or "")
        if not isinstance(raw, dict):
            continue
        label = f"{path.name}:{n}:{item.get('id', '')}"
        if item.get("kind") == "os_record":
            yield from _os_variants(label, os_record_from_corpus(raw, fmt), raw)
        else:
            yield f"{label}:contract", software_record_from_corpus(raw, fmt)
            yield f"{label}:raw", {"kind": "software", **raw}


def _os_variants(label: str, contract: dict[str, Any], raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield f"{label}:contract", contract
    yield f"{label}:raw-family", {**raw, "kind": "os", "family": contract.get("family", "")}
    yield f"{label}:raw", {**raw, "kind": "os"}
    text = "\n".join(f"{k}: {v}" for k, v in raw.items() if isinstance(v, (str, int)))
    yield f"{label}:text", {"kind": "os", "family": contract.get("family", ""), "text": text}
    for key, value in raw.items():
        if isinstance(value, str) and value.strip():
            yield f"{label}:line:{key}", {"kind": "os", "name": value}
            yield f"{label}:line-family:{key}", {"kind": "os", "family": contract.get("family", ""), "name": value}
    for key in contract:
        if key not in ("kind", "family"):
            yield f"{label}:without:{key}", {k: v for k, v in contract.items() if k != key}


def _collect_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    from agents.windows import parse_document

    doc = json.loads(path.read_text("utf-8"))
    if not isinstance(doc, dict) or doc.get("legacyscan") != "windows-collect/1":
        return
    label = str(path.parent.name)
    inventory = parse_document(doc)
    os_record = inventory.os.identify_record()
    raw_os = doc.get("os") if isinstance(doc.get("os"), dict) else {}
    yield from _os_variants(label, os_record, {k: v for k, v in os_record.items() if k not in ("kind", "family")})
    yield f"{label}:raw-os-document", {"kind": "os", "family": "windows", **raw_os}
    yield f"{label}:raw-os-document-nofamily", {"kind": "os", **raw_os}
    host = {k: v for k, v in os_record.items() if k != "kind"}
    for i, sw in enumerate(inventory.software):
        rec = sw.identify_record()
        yield f"{label}:software:{i}", rec
        yield f"{label}:software-on-host:{i}", {**rec, "host_os": host}


def _capture_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    from tests.corpus_input import os_record_from_capture

    capture = json.loads(path.read_text("utf-8"))
    if not isinstance(capture, dict) or "platform" not in capture or not isinstance(capture.get("os"), dict):
        return
    label, platform = f"{path.parent.name}/{path.stem}", str(capture["platform"])
    os_record = os_record_from_capture(capture)
    yield from _os_variants(label, os_record, {k: v for k, v in os_record.items() if k not in ("kind", "family")})
    yield f"{label}:raw-os-document", {"kind": "os", "family": platform, **capture["os"]}
    yield from _capture_software(label, platform, capture.get("software") or [])


def _capture_software(label: str, platform: str, entries: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    from tests.corpus_input import software_record_from_capture

    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and platform != "linux":
            yield f"{label}:software:{i}", software_record_from_capture(entry, platform)
        elif isinstance(entry, dict):
            yield from _package_records(f"{label}:{i}", entry)


def _package_records(label: str, entry: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A captured Linux package, and the same with its rpm arch suffix ("openssl.x86_64")."""
    rec = {
        "kind": "software",
        "source": entry.get("source"),
        "name": entry.get("name"),
        "version": entry.get("version"),
    }
    yield f"{label}:package", rec
    if entry.get("arch"):
        yield f"{label}:package-arch", {**rec, "name": f"{entry.get('name')}.{entry.get('arch')}"}


def records(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(label, record) for every input, each distinct record once, in a stable order."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p])
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for f in files:
        for label, rec in _records_of(f):
            key = json.dumps(rec, sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                out.append((label, rec))
    return out


def _records_of(f: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records one input file gives, by its kind (nothing for a file of another kind)."""
    if f.suffix == ".jsonl":
        return _corpus_records(f)
    if f.name == "collect.json":
        return _collect_records(f)
    if f.suffix == ".json" and f.parent.parent.name == "captures":
        return _capture_records(f)
    return iter(())


def _api_answers(recs: list[dict[str, Any]], as_of: date) -> list[dict[str, Any]]:
    from eol_data.catalog import Catalog
    from eol_data.rules import load_rules
    from scanner.identify.registry import IdentifyContext, evaluate
    from scanner.model import Policy

    catalog, rules = Catalog(), load_rules()
    out = []
    for rec in recs:
        ctx = IdentifyContext(catalog, rules)  # fresh: no memo shared between records
        try:
            ident = ctx.identify(json.loads(json.dumps(rec)))
            api: dict[str, Any] = {
                "product": ident.product,
                "cycle": ident.cycle,
                "rule": ident.rule,
                "reason": ident.reason,
                "confidence": ident.confidence.value,
                "evidence": [list(p) for p in ident.evidence],
                "group": ident.group,
                "newer_than_known": ident.newer_than_known,
                "spans": list(ident.spans),
                "alternatives": [list(p) for p in ident.alternatives],
            }
            api["evaluate"] = evaluate(json.loads(json.dumps(rec)), IdentifyContext(catalog, rules), as_of, Policy())
        except Exception as exc:  # noqa: BLE001 - an exception is an answer too
            api = {"exception": f"{type(exc).__name__}: {exc}"}
        out.append(api)
    return out


def _cli_answers(recs: list[dict[str, Any]], as_of: date, repo: Path) -> list[Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYSCAN_")}
        env["PYTHONPATH"] = str(repo)
        env["XDG_DATA_HOME"] = str(Path(tmp) / "xdg")
        proc = subprocess.run(
            [sys.executable, "-c", "from scanner.cli import console; console()", "eol", "identify"]
            + ["--as-of", as_of.isoformat(), "-q"],
            input="".join(json.dumps(r) + "\n" for r in recs),
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
            check=False,
        )
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != len(recs):
        raise SystemExit(f"eol identify failed (exit {proc.returncode}, {len(lines)} lines): {proc.stderr[-2000:]}")
    return [json.loads(ln) for ln in lines]


def record(out: Path, paths: list[Path], repo: Path, as_of: date) -> int:
    labelled = records(paths)
    recs = [r for _, r in labelled]
    sys.path.insert(0, str(repo))
    for name in [m for m in sys.modules if m.split(".")[0] in ("scanner", "eol_data", "agents")]:
        del sys.modules[name]  # identify with --repo's code, not the converter's checkout
    api = _api_answers(recs, as_of)
    cli = _cli_answers(recs, as_of, repo)
    with open(out, "w", encoding="utf-8") as fh:
        for (label, rec), a, c in zip(labelled, api, cli, strict=True):
            fh.write(json.dumps({"label": label, "record": rec, "api": a, "cli": c}, sort_keys=True) + "\n")
    print(f"{len(recs)} records -> {out}")
    return 0


def compare(base: Path, new: Path) -> int:
    def load(p: Path) -> dict[str, dict[str, Any]]:
        rows = (json.loads(ln) for ln in p.read_text("utf-8").splitlines() if ln.strip())
        return {json.dumps(r["record"], sort_keys=True): r for r in rows}

    a, b = load(base), load(new)
    diffs = 0
    for key in sorted(a.keys() | b.keys()):
        ra, rb = a.get(key), b.get(key)
        if ra is None or rb is None:
            diffs += 1
            print(f"only in {'new' if ra is None else 'base'}: {key[:200]}")
            continue
        for part in ("api", "cli"):
            if ra[part] != rb[part]:
                diffs += 1
                print(
                    f"{ra['label']} [{part}]\n  base: {json.dumps(ra[part])[:600]}"
                    f"\n  new:  {json.dumps(rb[part])[:600]}"
                )
    print(f"{len(a)} base / {len(b)} new records, {diffs} differences")
    return 1 if diffs else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = ap.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="identify every record and write the answers")
    rec.add_argument("out", type=Path)
    rec.add_argument("paths", type=Path, nargs="+")
    rec.add_argument("--repo", type=Path, default=ROOT, help="checkout whose identifiers answer (default: this one)")
    rec.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 22))
    cmp_ = sub.add_parser("compare", help="print the differences between two answer files")
    cmp_.add_argument("base", type=Path)
    cmp_.add_argument("new", type=Path)
    args = ap.parse_args(argv)
    if args.command == "record":
        return record(args.out, args.paths, args.repo.resolve(), args.as_of)
    return compare(args.base, args.new)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
