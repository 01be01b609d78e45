"""Software records that arrive with their source's field names are read like contract records.

The held-out acceptance feeds strings through a converter we do not see; a record carrying
``DisplayName``/``DisplayVersion``/``Publisher`` must get the same answer as the contract shape.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate, normalize_record
from scanner.model import Policy
from tests.corpus_input import software_record_from_corpus

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "windows_software.jsonl"
AS_OF = date(2026, 11, 22)


def test_registry_names_give_the_same_answer_as_contract_names() -> None:
    ctx = IdentifyContext(Catalog())
    compared = 0
    for line in CORPUS.read_text("utf-8").splitlines():
        item = json.loads(line)
        record = software_record_from_corpus(item["raw"], item["raw_format"])
        if not record.get("name"):
            continue
        raw_named = {
            "kind": "software",
            "source": record.get("source", "windows-registry"),
            "DisplayName": record["name"],
            "DisplayVersion": record.get("version", ""),
            "Publisher": record.get("publisher", ""),
        }
        for field, raw_name in (
            ("system_component", "SystemComponent"),
            ("parent_key_name", "ParentKeyName"),
            ("release_type", "ReleaseType"),
        ):
            if field in record:
                raw_named[raw_name] = record[field]
        assert evaluate(raw_named, ctx, AS_OF, Policy()) == evaluate(record, ctx, AS_OF, Policy()), item["id"]
        compared += 1
    assert compared >= 100


def test_contract_records_pass_through_unchanged() -> None:
    rec = {"kind": "software", "name": "x", "DisplayName": "y"}
    assert normalize_record(rec) is rec
    assert normalize_record({"kind": "software", "DisplayName": "y", "SystemComponent": "1"}) == {
        "kind": "software",
        "DisplayName": "y",
        "SystemComponent": "1",
        "name": "y",
        "system_component": "1",
    }
