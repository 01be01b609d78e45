"""Verdicts that follow from real registry evidence (regipy's hives, tests/fixtures/hosts/sources).

The documents are built from real machines' registry values only (see each provenance.json):
EditionID decides the Windows 10 servicing channel, UBR reaches the kernel version, and per-user
(HKU) Uninstall entries come out as per-user software with their SID when the source has it.
Edited copies are labelled as such and change one value to show which value decides.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from agents.inventory import Inventory
from agents.windows import parse_document
from eol_data.catalog import BUNDLED_DIR, Catalog
from scanner.identify import IdentifyContext, evaluate
from scanner.model import Policy
from tests.conftest import FIXTURES

AS_OF = date(2026, 11, 22)
AMCACHE_SID = "S-1-5-21-4078158835-2953332158-1355040102-1000"


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog(BUNDLED_DIR, supplementary_dir=None))


def _doc(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "hosts" / f"windows-{name}" / "collect.json").read_text("ascii"))
    return doc


def _os_verdict(inv: Inventory, ctx: IdentifyContext) -> dict[str, Any]:
    return evaluate(inv.os.identify_record(), ctx, AS_OF, Policy())


def test_edition_id_not_composition_decides_the_1803_channel(ctx: IdentifyContext) -> None:
    # Real: EditionID Professional, CompositionEditionID Enterprise (setup's copy before an upgrade).
    doc = _doc("win10-1803-professional-sourceos")
    assert doc["os"]["registry"]["CompositionEditionID"] == "Enterprise"
    verdict = _os_verdict(parse_document(doc), ctx)
    assert (verdict["cycle"], verdict["status"], verdict["eol"]) == ("10-1803-w", "eol", "2019-11-12")
    # Edited copy: only EditionID changed -> the Enterprise channel, 18 months later.
    doc["os"]["registry"]["EditionID"] = "Enterprise"
    edited = _os_verdict(parse_document(doc), ctx)
    assert (edited["cycle"], edited["eol"]) == ("10-1803-e", "2021-05-11")


@pytest.mark.parametrize(("name", "kernel", "ubr", "cycle"), [
    ("win10-1703-professional-sourceos", "10.0.15063.1387", 1387, "10-1703-w"),
    ("win10-1803-professional-sourceos", "10.0.17134.765", 765, "10-1803-w"),
])
def test_ubr_reaches_the_kernel_and_the_facts(ctx: IdentifyContext, name: str, kernel: str, ubr: int,
                                              cycle: str) -> None:
    inv = parse_document(_doc(name))
    assert inv.os.kernel == kernel and inv.os.facts["ubr"] == ubr
    assert inv.os.facts["edition_id"] == "Professional" and inv.os.facts["product_type"] == 1
    assert _os_verdict(inv, ctx)["cycle"] == cycle


def test_home_edition_from_the_census_copy_of_edition_id(ctx: IdentifyContext) -> None:
    inv = parse_document(_doc("win10-1607-home-amcache"))
    assert inv.os.facts["edition_id"] == "Core" and inv.os.facts["ubr"] is None  # UBR was not recorded
    verdict = _os_verdict(inv, ctx)
    assert (verdict["cycle"], verdict["eol"]) == ("10-1607-w", "2018-04-10")


def test_amcache_host_keeps_machine_views_and_per_user_programs(ctx: IdentifyContext) -> None:
    doc = _doc("win10-1607-home-amcache")
    inv = parse_document(doc)
    views = {sw.registry_view for sw in inv.software if sw.source == "windows-registry"}
    assert views == {"64", "32", "user"}
    per_user = {sw.name: sw for sw in inv.software if sw.scope == "user"}
    assert set(per_user) == {"Microsoft OneDrive", "JetBrains dotPeek 2017.1.3"}
    assert all(sw.sid == AMCACHE_SID and sw.key.startswith(f"HKU\\{AMCACHE_SID}\\") for sw in per_user.values())
    # a machine-wide program from the same real inventory is still found end-of-life
    java = [sw for sw in inv.software if sw.name.startswith("Java 8 Update 141")]
    assert java and all(sw.scope == "machine" for sw in java)
    assert evaluate(java[0].identify_record(), ctx, AS_OF, Policy())["status"] == "eol"
    assert inv.software and any(sw.source == "msix" for sw in inv.software)


def test_user_hive_programs_are_per_user_and_judged(ctx: IdentifyContext) -> None:
    inv = parse_document(_doc("user-hive-2022-bagmru"))
    assert {sw.scope for sw in inv.software} == {"user"}
    assert all(sw.sid == "" for sw in inv.software)  # the hive does not record its SID: none invented
    names = {sw.name for sw in inv.software}
    assert {"Microsoft Teams", "Zoom", "Python 3.8.8 (64-bit)"} <= names
    python = next(sw for sw in inv.software if sw.name.startswith("Python 3.8.8"))
    verdict = evaluate(python.identify_record(), ctx, AS_OF, Policy())
    assert (verdict["product"], verdict["cycle"], verdict["status"]) == ("python", "3.8", "eol")
    assert not any(inv.os.facts.values())  # no OS evidence in a user hive: nothing guessed
