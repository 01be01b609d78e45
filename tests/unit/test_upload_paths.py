"""The collector service's fast upload path (``accept_upload``) against the reference
(``parse_upload`` + ``encode_body``): the same documents accepted, the same refused with the same
status and reason, and the same inventory stored - for real host captures and for every odd shape
a package record can take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.inventory import MAX_SOFTWARE, MAX_STRING, Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.service.upload import Refused, accept_upload
from scanner.store.enrolment import TokenInfo
from scanner.store.sqlite import EncodedInventory, decode_body, encode_body
from tests.upload_reference import parse_upload

TOKEN = TokenInfo("t1", "Ward 9", "2026-01-01")
CAPTURES = Path(__file__).resolve().parents[2] / "scanner" / "demo_data" / "captures"


def _outcome(body: bytes) -> tuple[str, Any]:
    """("ok", inventory stored) or ("refused", (status, reason)) for each path; asserts they agree."""
    try:
        reference = parse_upload(body, TOKEN)
    except Refused as exc:
        with pytest.raises(Refused) as info:
            accept_upload(body, TOKEN)
        assert (info.value.status, info.value.reason) == (exc.status, exc.reason)
        return "refused", (exc.status, exc.reason)
    fast = accept_upload(body, TOKEN)
    assert isinstance(fast, EncodedInventory)
    stored = decode_body(fast.body)
    assert stored == reference
    assert decode_body(encode_body(reference)) == reference
    assert fast.software_count == len(reference.software)
    assert (fast.inventory_id, fast.host, fast.os, fast.collector, fast.collected_at) == (
        reference.inventory_id,
        reference.host,
        reference.os,
        reference.collector,
        reference.collected_at,
    )
    return "ok", stored


def _doc(software: Any, **extra: Any) -> bytes:
    return json.dumps(
        {"inventory_id": "inv-1", "host": {"hostname": "pc", "site": "Elsewhere"}, "software": software, **extra}
    ).encode()


def test_real_captures_are_stored_byte_for_byte_as_the_reference_stores_them() -> None:
    seen = 0
    for path in sorted(CAPTURES.glob("*/*.json")):
        data = json.loads(path.read_text("utf-8"))
        records = [
            {
                "name": str(s.get("name") or s.get("DisplayName") or ""),
                "version": str(s.get("version") or s.get("DisplayVersion") or ""),
                "source": str(s.get("source") or ""),
                "publisher": str(s.get("Publisher") or ""),
            }
            for s in data.get("software") or []
        ]
        inv = Inventory(
            host=Host(hostname=path.stem[:40]),
            os=OsInfo(family=str(data.get("platform", "linux"))),
            software=[Software(**r) for r in records],
            collected_at="2026-11-30T09:00:00Z",
        )
        body = compact_json(inv).encode()  # what legacyscan-agent sends
        kind, stored = _outcome(body)
        assert kind == "ok" and stored.host.site == "Ward 9"
        assert accept_upload(body, TOKEN).body == encode_body(parse_upload(body, TOKEN))
        seen += 1
    assert seen >= 5


ODD_RECORDS: list[tuple[str, Any]] = [
    ("plain", [{"name": "a", "version": "1"}, {"name": "b"}]),
    ("empty strings are defaults", [{"name": "", "version": "", "source": "dpkg"}]),
    (
        "windows booleans",
        [
            {
                "name": "Office",
                "system_component": False,
                "windows_installer": True,
                "scope": "user",
                "sid": "S-1-5-21-1",
            }
        ],
    ),
    ("number for a string", [{"name": "a", "version": 12}, {"name": "b", "version": 1.5}]),
    ("null values", [{"name": "a", "version": None, "system_component": None}]),
    ("unknown keys", [{"name": "a", "colour": "blue", "nested": {"x": [1, 2]}}]),
    ("collapsed", [{"name": "a", "collapsed": ["rule-1"]}, {"name": "b", "collapsed": []}]),
    ("key order", [{"version": "2", "name": "a", "source": "rpm"}]),
    ("unicode", [{"name": "Bücher \u2028 \U0001f600", "publisher": '\u00e9\t"q"\\'}]),
    ("no records", []),
    ("null list", None),
    ("missing name", [{"version": "1"}]),
    ("list for a string", [{"name": ["a"]}]),
    ("string for a boolean", [{"name": "a", "system_component": "yes"}]),
    ("boolean for a string", [{"name": "a", "version": True}]),
    ("too long", [{"name": "a"}, {"name": "b", "version": "v" * (MAX_STRING + 1)}]),
    ("not an object", [{"name": "a"}, "b"]),
    ("null record", [{"name": "a"}, None]),
    ("list record", [["name", "a"]]),
    ("empty record", [{}]),
    ("bad collapsed", [{"name": "a", "collapsed": [1]}]),
    ("not a list", "everything"),
    ("an object", {"name": "a"}),
]


@pytest.mark.parametrize(("name", "software"), ODD_RECORDS, ids=[r[0] for r in ODD_RECORDS])
def test_odd_package_records_get_the_reference_answer(name: str, software: Any) -> None:
    kind, result = _outcome(_doc(software))
    if kind == "refused":
        status, reason = result
        assert status == 422 and "software" in reason
    else:
        assert result.host.site == "Ward 9"


def test_a_mixed_list_refuses_with_the_index_of_the_bad_record() -> None:
    records: list[Any] = [{"name": f"p{i}"} for i in range(50)]
    records[37] = {"name": "x", "version": {"a": 1}}
    kind, (status, reason) = _outcome(_doc(records))
    assert kind == "refused" and status == 422 and "software[37].version" in reason


def test_too_many_records_and_bad_headers_are_refused_alike() -> None:
    assert _outcome(_doc([{"name": "a"}] * (MAX_SOFTWARE + 1)))[0] == "refused"
    assert _outcome(_doc([{"name": "a"}], schema_version=99))[1][0] == 422
    assert _outcome(_doc([{"name": "a"}], host={"hostname": "h" * 100_000}))[1][0] == 422
    assert _outcome(b'{"software": []}')[1][0] == 422  # no inventory id
    assert _outcome(b"[1, 2]")[1] == (422, "inventory must be a JSON object")
    assert _outcome(b"[" * 100_000 + b"]" * 100_000)[1][0] == 400  # nesting the stdlib refuses
    assert _outcome(b"{not json")[1][0] == 400
    assert _outcome(b'{"inventory_id": "x", "host": {"hostname": "\\ud800"}}')[1][0] == 400  # cannot be UTF-8


def test_the_token_decides_site_address_and_transport() -> None:
    body = _doc(
        [{"name": "a"}], collector={"transport": "ssh"}, host={"hostname": "pc", "site": "Other", "address": "10.0.0.1"}
    )
    fast = accept_upload(body, TOKEN)
    stored = decode_body(fast.body)
    assert (stored.host.site, stored.host.address, stored.collector.transport) == ("Ward 9", "", "agent")
    assert (fast.host.site, fast.collector.transport) == ("Ward 9", "agent")


HOSTILE_DOCUMENTS: list[tuple[str, bytes]] = [
    ("host is a list", _doc([{"name": "a"}], host=["pc"])),
    ("host is null", _doc([{"name": "a"}], host=None)),
    ("hostname is a number", _doc([{"name": "a"}], host={"hostname": 7})),
    ("os is a string", _doc([{"name": "a"}], os="Windows 10")),
    ("os facts nested", _doc([{"name": "a"}], os={"family": "linux", "facts": {"a": [[[{"b": None}]]]}})),
    ("collected_at is a number", _doc([{"name": "a"}], collected_at=20261130)),
    ("unknown top-level key", _doc([{"name": "a"}], colour="blue")),
    ("problems malformed", _doc([{"name": "a"}], problems=[{"where": 1}])),
    ("problems not a list", _doc([{"name": "a"}], problems="none")),
    ("hardware wrong types", _doc([{"name": "a"}], hardware={"memory_bytes": "lots", "disks": "C:"})),
    ("inventory id blank", _doc([{"name": "a"}], inventory_id="   ")),
    ("inventory id a number", _doc([{"name": "a"}], inventory_id=5)),
    ("raw marker not a string", _doc([{"name": "a"}], legacyscan=["windows-collect/1"])),
    ("raw document without os", json.dumps({"legacyscan": "windows-collect/1", "software": [{"name": 1}]}).encode()),
    ("duplicate keys", b'{"inventory_id": "a", "inventory_id": "b", "software": [{"name": "x", "name": 2}]}'),
    ("NaN version", b'{"inventory_id": "a", "software": [{"name": "x", "version": NaN}]}'),
    ("huge integer", b'{"inventory_id": "a", "software": [{"name": "x", "version": ' + b"9" * 5000 + b"}]}"),
    ("byte order mark", b"\xef\xbb\xbf" + _doc([{"name": "a"}])),
    ("trailing garbage", _doc([{"name": "a"}]) + b" {}"),
    ("lone surrogate in a package", b'{"inventory_id": "a", "software": [{"name": "\\udc80"}]}'),
    ("NUL in a package", b'{"inventory_id": "a", "software": [{"name": "a\\u0000b"}]}'),
    ("empty body", b""),
    ("whitespace body", b" \n "),
    ("string body", b'"inventory"'),
    ("deep facts", _doc([{"name": "a"}], os={"facts": json.loads("[" * 200 + "]" * 200)})),
]


@pytest.mark.parametrize(("name", "body"), HOSTILE_DOCUMENTS, ids=[d[0] for d in HOSTILE_DOCUMENTS])
def test_hostile_documents_get_the_reference_answer(name: str, body: bytes) -> None:
    """The one validator against the model's reading of the whole document: the same accepted
    (the same inventory stored: the store neutralises a NUL on either path), the same refused with
    the same status and reason."""
    try:
        reference = parse_upload(body, TOKEN)
    except Refused as exc:
        with pytest.raises(Refused) as info:
            accept_upload(body, TOKEN)
        assert (info.value.status, info.value.reason) == (exc.status, exc.reason)
        assert 400 <= exc.status < 500 and exc.reason
        return
    stored = decode_body(accept_upload(body, TOKEN).body)
    assert stored == decode_body(encode_body(reference))
    assert stored.host.site == "Ward 9"
