"""Fuzz: every importer of ``legacyscan import`` (our own and raw documents, GLPI, CycloneDX, SPDX,
osquery, Intune, Defender, ConfigMgr and the clinical-engineering device register).

Contract (#19 "0 unexpected exceptions", item 3 "one bad file never aborts a folder"): for any
file, each importer's ``detect`` answers without raising, and ``convert`` of a file it detected
yields inventories or refuses with ``ImportRefused``; anything else is a bug (``legacyscan import``
only survives it through its last-resort net, with an "unexpected ..." message).  Seeds are the
real exports under ``tests/fixtures/imports`` (provenance there) and the project's examples, mutated.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.cli.importcmd import encode
from scanner.imports import IMPORTERS, ImportRefused, Source
from tests.fuzz.strategies import inputs

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _seeds() -> list[str]:
    paths = [
        p
        for p in sorted((FIXTURES / "imports").rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".json", ".xml", ".log") and p.stat().st_size <= 16_000
    ]
    paths += [
        ROOT / "examples" / "device-register.csv",
        FIXTURES / "hosts" / "windows-xp-sp3-professional-x86" / "collect.json",
    ]
    texts = [p.read_text("utf-8-sig") for p in paths]
    own = json.loads((FIXTURES / "hosts" / "windows-xp-sp3-professional-x86" / "collect.json").read_text("utf-8"))
    from agents.windows import parse_document

    texts.append(parse_document(own).to_json())  # our own inventory document
    return texts


SEEDS = _seeds()


@st.composite
def files(draw: st.DrawFn) -> bytes:
    text = draw(inputs(SEEDS))
    raw = text.encode("utf-8", "surrogatepass")
    mode = draw(st.sampled_from(["plain", "plain", "gzip", "bom", "utf16"]))
    if mode == "gzip":
        return gzip.compress(raw)
    if mode == "bom":
        return b"\xef\xbb\xbf" + raw
    if mode == "utf16":
        return text.encode("utf-16", "surrogatepass")
    return raw


@given(files())
def test_every_importer_detects_and_converts_or_refuses_only_with_its_error(
    tmp_path_factory: pytest.TempPathFactory, body: bytes
) -> None:
    path = tmp_path_factory.mktemp("imp") / "export.dat"
    path.write_bytes(body)
    try:
        source = Source(path)
    except ImportRefused:
        return
    head = source.head()
    for importer in IMPORTERS:
        if importer.detect(head):
            continue
        try:
            invs = list(importer.convert(source))
        except ImportRefused:
            continue
        for inv in invs:
            try:
                encode(inv)  # what the importer built can be stored (or is refused by name)
            except ImportRefused:
                pass
