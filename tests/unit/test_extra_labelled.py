"""Acceptance thresholds on a second, independently labelled set of real strings.

Why a second set: the developer corpus is 40 % of the labelled data and the identifiers were tuned
on it; acceptance runs on a held-out 60 % we cannot see.  ``tests/fixtures/extra_labelled`` holds
strings pulled from the *same public sources* (other python-distro/ansible fixtures, other wesng
systeminfo captures, other salt-winrepo-ng and winget definitions; provenance per record in
``PROVENANCE.md``) and labelled by hand from the bundled snapshot with the corpus conventions.  It
measures how well the rules generalise to strings they were not written against, with the same
thresholds as the corpus tests: at least 97 % exact (high and medium confidence), at most 1 % wrong,
and no ``eol`` verdict where the label says supported (all confidences).

Scoring reuses the corpus tests' judges, so ``none`` and supplementary-only products are read the
same way.  Run ``pytest tests/unit/test_extra_labelled.py -q -s`` to print the figures.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy
from tests.corpus_input import os_record_from_corpus, software_record_from_corpus
from tests.unit.test_corpus_os import expected_answers
from tests.unit.test_corpus_software import judge

AS_OF = date(2026, 11, 22)
STRINGS = Path(__file__).resolve().parents[1] / "fixtures" / "extra_labelled" / "strings.jsonl"


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in STRINGS.read_text("utf-8").splitlines() if line.strip()]


def _score(kind: str | None) -> dict[str, Any]:
    catalog = Catalog()
    ctx = IdentifyContext(catalog)
    counted = exact = 0
    wrong: list[str] = []
    missed: list[str] = []
    false_eol: list[str] = []
    for item in _records():
        if kind is not None and item["kind"] != kind:
            continue
        label = item["expected"]
        if item["kind"] == "os_record":
            record = os_record_from_corpus(item["raw"], item["raw_format"])
        else:
            record = software_record_from_corpus(item["raw"], item["raw_format"])
        out = evaluate(record, ctx, AS_OF, Policy())
        what = (
            f"{item['id']}: got {out['product']}/{out['cycle']} {out['status']} ({out['rule']}: {out['reason']}), "
            f"want {label['product']}/{label.get('cycle')}"
        )
        if out["status"] == "eol" and label.get("is_eol_2026_11_22") is False:
            false_eol.append(what)
        if label.get("confidence") not in ("high", "medium"):
            continue
        counted += 1
        if item["kind"] == "os_record":
            ok = (out["product"], out["cycle"]) in expected_answers(label)
            bad = not ok and out["product"] is not None and out["cycle"] is not None
        else:
            ok, _strict, bad = judge(label, out, catalog)
        exact += ok
        if bad:
            wrong.append(what)
        elif not ok:
            missed.append(what)
    return {"counted": counted, "exact": exact, "wrong": wrong, "missed": missed, "false_eol": false_eol}


def _line(s: dict[str, Any]) -> str:
    n = max(s["counted"], 1)
    return (
        f"{s['counted']} labels: exact {s['exact'] / n:.1%}, wrong {len(s['wrong']) / n:.1%}, "
        f"missed {len(s['missed']) / n:.1%}, false eol {len(s['false_eol'])}"
    )


@pytest.fixture(scope="module")
def all_scores() -> dict[str | None, dict[str, Any]]:
    return {k: _score(k) for k in (None, "os_record", "windows_software")}


def test_extra_set_is_big_enough() -> None:
    records = _records()
    assert len(records) >= 150
    assert len({r["id"] for r in records}) == len(records)
    # a file at a fixed commit, or a public issue / pull request (as the corpus allows)
    assert all(
        re.match(r"https://github\.com/[^/]+/[^/]+/(blob/[0-9a-f]{40}/|issues/\d+$|pull/\d+$)", r["source"])
        for r in records
    ), [r["source"] for r in records if "/blob/" not in r["source"]][:3]


@pytest.mark.parametrize("kind", [None, "os_record", "windows_software"])
def test_extra_exact_rate(all_scores: dict[str | None, dict[str, Any]], kind: str | None) -> None:
    s = all_scores[kind]
    print(f"\nextra {kind or 'all'}: {_line(s)}")
    assert s["exact"] / s["counted"] >= 0.97, (_line(s), s["wrong"] + s["missed"])


@pytest.mark.parametrize("kind", [None, "os_record", "windows_software"])
def test_extra_wrong_rate(all_scores: dict[str | None, dict[str, Any]], kind: str | None) -> None:
    s = all_scores[kind]
    assert len(s["wrong"]) / s["counted"] <= 0.01, (_line(s), s["wrong"])


def test_extra_no_false_eol(all_scores: dict[str | None, dict[str, Any]]) -> None:
    assert not all_scores[None]["false_eol"], all_scores[None]["false_eol"]


def test_java_names_identify_without_a_version() -> None:
    """Winget AppsAndFeaturesEntries often carry a DisplayName but no DisplayVersion: a Java name
    that spells its release ("Java 8 Update 144", "... with Hotspot 11.0.20+8") must still give the
    labelled cycle when the version fields are missing."""
    catalog = Catalog()
    ctx = IdentifyContext(catalog)
    checked = 0
    failures = []
    for item in _records():
        label = item["expected"]
        if item["kind"] != "windows_software" or "java-naming" not in item.get("tags", []) or not label["cycle"]:
            continue
        record = software_record_from_corpus(item["raw"], item["raw_format"])
        record.pop("version", None)
        out = evaluate(record, ctx, AS_OF, Policy())
        checked += 1
        if (out["product"], out["cycle"]) != (label["product"], label["cycle"]):
            failures.append((item["id"], out["product"], out["cycle"], out["reason"]))
    assert checked >= 10
    assert not failures, failures


def test_captures_identify_from_the_raw_os_section() -> None:
    """The held-out hosts are converted by a converter we cannot see: handing the identifier a
    capture's raw OS section as it is (FusionInventory OPERATINGSYSTEM/HARDWARE, systeminfo labels,
    sysctl keys, os-release text), top-level or nested, must give the labelled OS too."""
    captures = Path(__file__).resolve().parents[2] / "scanner" / "demo_data" / "captures"
    ctx = IdentifyContext(Catalog())
    checked = 0
    failures = []
    for path in sorted(captures.glob("*/*.json")):
        cap = json.loads(path.read_text("utf-8"))
        for name, record in (
            ("top-level", {"kind": "os", "family": cap["platform"], **cap["os"]}),
            ("nested", {"kind": "os", "family": cap["platform"], "os": cap["os"]}),
        ):
            out = evaluate(record, ctx, AS_OF, Policy())
            checked += 1
            if (out["product"], out["cycle"]) not in expected_answers(cap["expected"]["os"]):
                failures.append((path.name, name, out["product"], out["cycle"], out["reason"]))
    assert checked >= 90
    assert not failures, failures


def test_extra_os_strings_survive_other_converters() -> None:
    """Same check as the corpus's: raw labels as keys, one ``label: value`` blob, or every value run
    together as free text must identify the same (a held-out converter we cannot see)."""
    from tests.unit.test_corpus_os import _other_conversions

    ctx = IdentifyContext(Catalog())
    checked = 0
    failures = []
    for item in _records():
        if item["kind"] != "os_record" or item["expected"]["confidence"] == "low":
            continue
        record = os_record_from_corpus(item["raw"], item["raw_format"])
        if "files" in record:
            continue
        for name, variant in _other_conversions(record, item["raw"]):
            out = evaluate(variant, ctx, AS_OF, Policy())
            checked += 1
            if (out["product"], out["cycle"]) not in expected_answers(item["expected"]):
                failures.append((item["id"], name, out["product"], out["cycle"], out["reason"]))
    assert checked >= 100
    assert not failures, failures


@pytest.mark.parametrize(
    "name, version, source, expected",
    [
        ("php-common", "2:76", "dpkg", (None, None)),  # Debian metapackage, numbered on its own
        ("postgresql-common", "238ubuntu0.1", "dpkg", (None, None)),
        ("php-common", "8.0.30-1.el9_2", "rpm", ("php", "8.0")),  # the RPM is PHP itself
        # Software Collections: the collection prefix is not part of the product name
        ("rh-php73-php-common", "7.3.29-1.el7", "rpm", ("php", "7.3")),
        ("httpd24-httpd", "2.4.34-23.el7", "rpm", ("apache-http-server", "2.4")),
        ("rh-python38-python-requests", "2.22.0-1.el7", "rpm", (None, None)),  # a library, not Python
        # versioned library / compatibility package names
        ("python3.11-libs", "3.11.5-1.el9_3", "rpm", ("python", "3.11")),
        ("compat-openssl11", "1.1.1k-4.el9_0", "rpm", ("openssl", "1.1.1")),
    ],
)
def test_package_name_and_version_forms(
    name: str, version: str, source: str, expected: tuple[str | None, str | None]
) -> None:
    out = evaluate(
        {"kind": "software", "source": source, "name": name, "version": version},
        IdentifyContext(Catalog()),
        AS_OF,
        Policy(),
    )
    assert (out["product"], out["cycle"]) == expected, out
