"""The Inventory document: JSON round trip, schema file, and refusal of malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from agents.inventory import Hardware, Host, Inventory, InventoryError, OsInfo, Problem, Software

SCHEMA = Path(__file__).resolve().parents[2] / "agents" / "inventory.schema.json"


def sample() -> Inventory:
    return Inventory(
        host=Host(hostname="pc-1", machine_id="abc", site="A", tags=["clinical"]),
        os=OsInfo(family="linux", name="Debian", facts={"files": {"/etc/os-release": "ID=debian\n"}}),
        software=[Software(name="bash", version="5.2", source="dpkg", system_component=False)],
        hardware=Hardware(memory_bytes=8 << 30, tpm_present=True, tpm_version="2.0"),
        collected_at="2026-11-30T08:00:00Z",
        problems=[Problem("rpm", "not installed", "missing")],
    )


def test_round_trip_is_lossless() -> None:
    inv = sample()
    again = Inventory.from_json(inv.to_json())
    assert again == inv


def test_schema_file_validates_documents_and_documents_every_field() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.validate(sample().to_dict(), schema)
    props = schema["properties"]
    assert set(sample().to_dict()) == set(props)
    for key in ("host", "os", "hardware", "collector"):
        assert set(sample().to_dict()[key]) == set(props[key]["properties"]), key
    assert set(sample().to_dict()["software"][0]) == set(props["software"]["items"]["properties"])


@pytest.mark.parametrize(
    "doc, needle",
    [
        ("[]", "JSON object"),
        ('{"schema_version": 99}', "schema_version"),
        ('{"software": "x"}', "software"),
        ('{"software": [{"name": 5.5j}]}', "JSON"),
        ('{"software": [{"name": ["a"]}]}', "software[0].name"),
        ('{"host": {"hostname": "' + "x" * 5000 + '"}}', "host.hostname"),
        ('{"hardware": {"memory_bytes": "lots"}}', "hardware.memory_bytes"),
        ("not json", "not valid JSON"),
    ],
)
def test_malformed_documents_are_refused_with_the_field_named(doc: str, needle: str) -> None:
    with pytest.raises(InventoryError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        Inventory.from_json(doc)


def test_unknown_keys_are_ignored_for_forward_compatibility() -> None:
    data = sample().to_dict()
    data["future_field"] = {"x": 1}
    data["software"][0]["future"] = True
    assert Inventory.from_dict(data).software[0].name == "bash"
