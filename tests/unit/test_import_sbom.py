"""CycloneDX (JSON and XML, 1.4-1.6) and SPDX (2.2, 2.3 JSON) SBOMs: the specifications' own
examples and real scanner outputs (tests/fixtures/imports/PROVENANCE.md), and hostile variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.imports_support import IMPORTS, run_import, stored, verdicts

SBOM = IMPORTS / "sbom"


def one(db: Path, path: Path) -> object:
    assert run_import(db, path) == 0
    [inv] = stored(db).values()
    return inv


@pytest.mark.parametrize("name", ["trivy-centos-7-cyclonedx.json", "trivy-centos-7-spdx.json"])
def test_trivy_sboms_of_a_centos_7_image_are_judged_like_a_scanned_host(tmp_path: Path, name: str) -> None:
    inv = one(tmp_path / "db.sqlite", SBOM / name)
    assert inv.host.hostname == "integration/testdata/fixtures/images/centos-7.tar.gz"
    assert inv.os.family == "linux" and inv.os.version == "7.6.1810"
    assert inv.collector.source == ("cyclonedx" if "cyclonedx" in name else "spdx")
    assert {s.name for s in inv.software} == {"bash", "openssl-libs"}
    assert {s.source for s in inv.software} == {"rpm"}
    assert all(s.key.startswith("pkg:rpm/centos/") for s in inv.software)
    assert verdicts(inv)[("os", "centos", "7")] == "eol"


def test_cyclonedx_json_and_xml_of_the_same_bom_give_the_same_inventory(tmp_path: Path) -> None:
    for version in ("1.5", "1.6"):
        a = one(tmp_path / f"j{version}.sqlite", SBOM / f"cdx-spec-valid-component-types-{version}.json")
        b = one(tmp_path / f"x{version}.sqlite", SBOM / f"cdx-spec-valid-component-types-{version}.xml")
        assert a.os.name == b.os.name == "operating-system-a"
        assert sorted((s.name, s.version, s.source) for s in a.software) == sorted(
            (s.name, s.version, s.source) for s in b.software
        )
        assert ("device-a", "1.0", "cyclonedx-device") in {(s.name, s.version, s.source) for s in a.software}
    j = one(tmp_path / "l.sqlite", SBOM / "bom-examples-laravel-7.12.0-bom.1.4.json")
    x = one(tmp_path / "lx.sqlite", SBOM / "bom-examples-laravel-7.12.0-bom.1.4.xml")
    assert len(j.software) == len(x.software) == 62
    assert {(s.name, s.version, s.key) for s in j.software} == {(s.name, s.version, s.key) for s in x.software}
    assert ("laravel/framework", "v7.30.6") in {(s.name, s.version) for s in j.software}


def test_spdx_2_3_specification_example(tmp_path: Path) -> None:
    inv = one(tmp_path / "db.sqlite", SBOM / "spdx-spec-SPDXJSONExample-v2.3.spdx.json")
    assert inv.collected_at == "2010-01-29T18:30:22Z" and inv.collector.version == "LicenseFind-1.0"
    by_name = {s.name: s for s in inv.software}
    assert by_name["glibc"].version == "2.11.1" and by_name["glibc"].publisher == "Jane Doe"
    assert by_name["Jena"].key == "pkg:maven/org.apache.jena/apache-jena@3.12.0"


def test_kubernetes_bom_names_its_node_os(tmp_path: Path) -> None:
    inv = one(tmp_path / "db.sqlite", SBOM / "trivy-minikube-kbom.json")
    assert inv.os.name == "ubuntu" and inv.os.version == "22.04.2"
    assert inv.os.facts["cyclonedx"]["name"] == "ubuntu"  # the original component, kept


def _cdx(components: object, spec: str = "1.5") -> str:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": spec, "version": 1, "components": components})


def _deep(n: int) -> list[object]:
    inner: list[object] = []
    for i in range(n):
        inner = [{"type": "library", "name": f"c{i}", "components": inner}]
    return inner


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("future.cdx.json", _cdx([], spec="2.0"), "specVersion '2.0'"),
        ("types.cdx.json", _cdx({"not": "a list"}), "components: expected a list, got dict"),
        ("name.cdx.json", _cdx([{"type": "library", "name": ["x"]}]), "components[0].name: expected text, got list"),
        ("deep.cdx.json", _cdx(_deep(40)), "nested deeper than 32"),
        ("many.cdx.json", _cdx([{"type": "library", "name": "x"}] * 50_001), "more than 50000 components"),
        (
            "surrogate.cdx.json",
            _cdx([{"type": "library", "name": "\ud800"}]).replace("\\ud800", "\\ud800"),
            "a lone surrogate escape",
        ),
        (
            "spdx.json",
            json.dumps({"spdxVersion": "SPDX-2.3", "packages": [{"name": 5, "externalRefs": "x"}]}),
            "packages[0].externalRefs: expected a list, got str",
        ),
    ],
)
def test_hostile_sboms_are_refused_by_name(tmp_path: Path, capsys, name: str, body: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(body)
    db = tmp_path / "db.sqlite"
    assert run_import(db, path, SBOM / "trivy-centos-7-cyclonedx.json") == 1
    err = capsys.readouterr().err
    assert f"{name}: refused: " in err and expected in err, err
    assert len(stored(db)) == 1


def test_formula_names_in_an_sbom_are_stored_as_text(tmp_path: Path) -> None:
    path = tmp_path / "f.cdx.json"
    path.write_text(_cdx([{"type": "library", "name": "=1+2", "version": "@SUM(A1)", "purl": "pkg:npm/x@1"}]))
    inv = one(tmp_path / "db.sqlite", path)
    assert [(s.name, s.version, s.source) for s in inv.software] == [("=1+2", "@SUM(A1)", "npm")]
