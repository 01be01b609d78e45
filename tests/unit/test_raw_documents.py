"""The raw-document registry (scanner.service.raw_documents) and the collector's upload path for raw
``windows-collect/1`` documents: a real host's document uploads as the host it describes, through
the same parser the WinRM probe uses; unknown or broken raw documents are refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.windows import parse_document
from scanner.service.raw_documents import FORMATS, RawDocumentError, known_schemas, parse_raw, schema_of
from scanner.service.upload import Refused, accept_upload
from scanner.store.enrolment import TokenInfo
from scanner.store.sqlite import decode_body
from tests.upload_reference import parse_upload

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
TOKEN = TokenInfo("t1", "Ward 9", "2026-01-01")


def _docs() -> list[Path]:
    return sorted(HOSTS.glob("windows-*/collect.json"))


def test_registry_is_an_explicit_list_with_windows() -> None:
    assert "windows-collect/1" in known_schemas()
    assert len({f.schema for f in FORMATS}) == len(FORMATS)  # one parser per schema id


@pytest.mark.parametrize("path", _docs()[:6], ids=lambda p: p.parent.name)
def test_real_document_uploads_as_the_host_it_describes(path: Path) -> None:
    body = path.read_bytes()
    expected = parse_document(json.loads(body))
    reference = parse_upload(body, TOKEN)
    fast = accept_upload(body, TOKEN)
    stored = decode_body(fast.body)
    assert stored == reference
    assert reference.os.family == "windows" and reference.os.facts == expected.os.facts
    assert [s.name for s in reference.software] == [s.name for s in expected.software]
    assert reference.host.site == "Ward 9" and reference.collector.transport == "agent"
    # the same bytes retried are the same inventory (idempotent), a different document is not
    assert parse_upload(body, TOKEN).inventory_id == reference.inventory_id
    assert fast.inventory_id == reference.inventory_id


def test_inventory_id_in_the_document_wins() -> None:
    data = json.loads(_docs()[0].read_bytes())
    data["inventory_id"] = "agent-ps1-0001"
    assert parse_raw(data).inventory_id == "agent-ps1-0001"
    data["inventory_id"] = 7
    with pytest.raises(RawDocumentError, match="inventory_id"):
        parse_raw(data)


@pytest.mark.parametrize(
    "doc,field",
    [
        ({"legacyscan": "windows-collect/9", "os": {}}, "unknown raw document format 'windows-collect/9'"),
        ({"legacyscan": "windows-collect/1"}, "field 'os'"),
        ({"legacyscan": "windows-collect/1", "os": "Windows"}, "field 'os'"),
    ],
)
def test_bad_raw_documents_are_refused_naming_the_field(doc: dict[str, object], field: str) -> None:
    with pytest.raises(RawDocumentError, match=field.replace("(", r"\(")):
        parse_raw(doc)
    body = json.dumps(doc).encode()
    for path in (parse_upload, accept_upload):
        with pytest.raises(Refused) as err:
            path(body, TOKEN)
        assert err.value.status == 422 and field.split("'")[1] in err.value.reason


def test_schema_of_only_claims_objects_with_a_string_marker() -> None:
    assert schema_of({"legacyscan": "windows-collect/1"}) == "windows-collect/1"
    assert schema_of({"inventory_id": "x"}) is None
    assert schema_of([1]) is None and schema_of({"legacyscan": 1}) is None
