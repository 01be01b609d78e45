"""The real Windows hosts the WinRS endpoint serves (``tests/fixtures/hosts/windows-*``), one row each:
OS/edition, software count, UBR, EditionID, per-user (HKU) entries and the source, as a Markdown
table (#11 item 3's bookkeeping).  Computed from the collection documents and their provenance.json
sidecars only; run from anywhere::

    python tools/real_hosts_table.py            # the table, then the totals
    python tools/real_hosts_table.py --totals   # the totals only

"Software" counts the document's Uninstall entries with a DisplayName (Programs and Features shows
no other) plus its MSIX packages; "HKU" counts the Uninstall entries of a user hive (scope user), and
says in brackets how many carry the user's SID.  The totals also count the hosts whose source recorded
the firmware type (PEFirmwareType) and the TPM query's answer (Win32_Tpm), the Windows 11 readiness
facts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HOSTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hosts"


def _os_label(doc: dict[str, Any]) -> str:
    registry, wmi = doc["os"]["registry"], doc["os"]["wmi"]
    name = str(registry.get("ProductName") or wmi.get("Caption") or "").strip()
    build = str(registry.get("CurrentBuild") or wmi.get("BuildNumber") or "")
    extra = str(registry.get("CSDVersion") or wmi.get("CSDVersion") or registry.get("DisplayVersion") or "")
    label = " ".join(p for p in (name or "(OS not in the source)", extra, f"build {build}" if build else "") if p)
    return label.replace("|", "/")


def row(directory: Path) -> dict[str, Any]:
    doc = json.loads((directory / "collect.json").read_text("ascii"))
    provenance = json.loads((directory / "provenance.json").read_text("utf-8"))
    registry = doc["os"]["registry"]
    named = [s for s in doc["software"] if s.get("DisplayName")]
    user = [s for s in named if s.get("scope") == "user"]
    source = str(provenance["upstream"].get("source", "")).split("\n")[0].replace("|", "/")
    return {
        "host": directory.name[len("windows-") :],
        "os": _os_label(doc),
        "software": len(named) + len(doc["packages"]),
        "views": sorted({str(s.get("view")) for s in named if s.get("view")}),
        "ubr": registry.get("UBR"),
        "edition_id": registry.get("EditionID") or "",
        "hku": len(user),
        "hku_sid": sum(1 for s in user if s.get("sid")),
        "firmware": doc.get("firmware", {}).get("PEFirmwareType") is not None,
        "tpm": "Win32_Tpm" in doc.get("wmi", {}),
        "source": source,
    }


def rows() -> list[dict[str, Any]]:
    return [row(d) for d in sorted(HOSTS.glob("windows-*")) if (d / "collect.json").is_file()]


def totals(table: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "hosts": len(table),
        "with software": sum(1 for r in table if r["software"]),
        "with UBR": sum(1 for r in table if r["ubr"] is not None),
        "with EditionID": sum(1 for r in table if r["edition_id"]),
        "with HKU entries": sum(1 for r in table if r["hku"]),
        "with HKU entries and the SID": sum(1 for r in table if r["hku_sid"]),
        "with EditionID and software": sum(1 for r in table if r["edition_id"] and r["software"]),
        "with UBR and software": sum(1 for r in table if r["ubr"] is not None and r["software"]),
        "with the firmware type": sum(1 for r in table if r["firmware"]),
        "with the TPM": sum(1 for r in table if r["tpm"]),
    }


def markdown(table: list[dict[str, Any]]) -> str:
    lines = [
        "| host | OS/edition | software (views) | UBR | EditionID | HKU entries (with SID) | source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table:
        views = f" ({', '.join(r['views'])})" if r["views"] else ""
        ubr = "" if r["ubr"] is None else str(r["ubr"])
        hku = f"{r['hku']} ({r['hku_sid']})" if r["hku"] else "0"
        lines.append(
            f"| {r['host']} | {r['os']} | {r['software']}{views} | {ubr} | {r['edition_id']} | {hku} | {r['source']} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    table = rows()
    if "--totals" not in argv:
        print(markdown(table))
        print()
    for name, count in totals(table).items():
        print(f"- {name}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
