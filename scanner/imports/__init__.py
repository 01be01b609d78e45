"""Importers: what trusts already run (ConfigMgr, Intune, Defender, GLPI, osquery, SBOMs) and our
own documents, turned into inventories judged like scanned hosts.

``IMPORTERS`` is the explicit registry, in detection order: the most specific shapes first (our
own documents, then formats that name themselves, such as CycloneDX's ``bomFormat``), the
loosest (CSV column sets) last.  Adding a format is one module exposing ``IMPORTER`` and one line
here.  See ``docs/imports.md`` for each source: how to export it, what is mapped, what is lost.
"""

from __future__ import annotations

from scanner.imports import configmgr, defender, glpi, intune, osquery, ownjson, raw, register, sbom
from scanner.imports.base import Head, Importer, ImportRefused, Source

IMPORTERS: list[Importer] = [
    raw.IMPORTER,
    ownjson.IMPORTER,
    glpi.IMPORTER,
    sbom.CYCLONEDX,
    sbom.SPDX,
    osquery.IMPORTER,
    intune.IMPORTER,
    defender.IMPORTER,
    configmgr.IMPORTER,
    register.IMPORTER,  # clinical-engineering / asset device register (#15)
]


def by_name(name: str) -> Importer:
    for importer in IMPORTERS:
        if importer.name == name:
            return importer
    raise KeyError(name)


def names() -> list[str]:
    return [importer.name for importer in IMPORTERS]


__all__ = ["IMPORTERS", "Head", "ImportRefused", "Importer", "Source", "by_name", "names"]
