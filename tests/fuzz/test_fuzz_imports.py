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


# -- the device register, on its own (the mixed seeds above reach it only now and then) ----------

REGISTER_CSV = (ROOT / "examples" / "device-register.csv").read_text("utf-8-sig")


def _register_xlsx() -> bytes:
    """The example register as a real XLSX workbook (openpyxl), members deflated as Excel writes."""
    import csv
    import io
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(REGISTER_CSV)):
        ws.append(row)
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    return out.getvalue()


REGISTER_XLSX = _register_xlsx()


@st.composite
def register_workbooks(draw: st.DrawFn) -> bytes:
    """The workbook with one member's XML edited (cut, odd characters, huge numbers, broken
    references...), a member dropped or added, or the zip's own bytes damaged."""
    import io
    import zipfile

    mode = draw(st.sampled_from(["member", "member", "drop", "bytes"]))
    if mode == "bytes":
        data = bytearray(REGISTER_XLSX)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    with zipfile.ZipFile(io.BytesIO(REGISTER_XLSX)) as src:
        members = {name: src.read(name) for name in src.namelist()}
    target = draw(st.sampled_from(sorted(members)))
    if mode == "drop":
        del members[target]
    else:
        text = members[target].decode("utf-8")
        members[target] = draw(inputs([text])).encode("utf-8", "surrogatepass")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in members.items():
            dst.writestr(name, body)
    return out.getvalue()


def _convert_register(path: Path) -> None:
    from scanner.imports import register

    try:
        source = Source(path)
    except ImportRefused:
        return
    try:
        invs = list(register.IMPORTER.convert(source))
    except ImportRefused as exc:
        assert str(exc), exc
        return
    for inv in invs:
        assert inv.collector.source == "register"
        encode(inv)


@given(inputs([REGISTER_CSV]))
def test_device_register_csv_converts_or_refuses_only_with_its_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("reg") / "register.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _convert_register(path)


@given(register_workbooks())
def test_device_register_xlsx_converts_or_refuses_only_with_its_error(
    tmp_path_factory: pytest.TempPathFactory, body: bytes
) -> None:
    path = tmp_path_factory.mktemp("reg") / "Medical Devices.xlsx"
    path.write_bytes(body)
    _convert_register(path)
