"""``[privacy]``: serial numbers and per-user SIDs hashed (keyed) or dropped before anything is stored.

The transforms themselves, the configuration's errors, and both upload paths (the collector's fast
path and the reference) giving the same stored inventory.  Every ingest path against real stores
(SQLite and PostgreSQL) is in tests/integration/test_privacy_ingest.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from agents.inventory import Hardware, Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.privacy import HASH_PREFIX, Privacy, PrivacyConfigError, from_table, load
from scanner.service.upload import accept_upload
from scanner.store.enrolment import TokenInfo
from scanner.store.sqlite import decode_body
from tests.upload_reference import parse_upload

KEY = bytes(range(32))
SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
TOKEN = TokenInfo("t1", "Ward 9", "2026-01-01")


def inventory() -> Inventory:
    return Inventory(
        host=Host(hostname="PC-1", machine_id="m-1", site="Ward 9"),
        os=OsInfo(family="windows", name="Windows 10"),
        hardware=Hardware(vendor="Dell Inc.", serial="5CG1234XYZ"),
        software=[
            Software(
                name="Zoom",
                version="5.1",
                source="windows-registry",
                scope="user",
                sid=SID,
                key=f"HKU\\{SID}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\ZoomUMX",
                registry_view="user",
            ),
            Software(
                name="7-Zip",
                version="23.01",
                source="windows-registry",
                scope="machine",
                key="HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip",
            ),
        ],
        collected_at="2026-11-30T09:00:00Z",
        inventory_id="inv-1",
    )


def expected(kind: str, value: str) -> str:
    return HASH_PREFIX + hmac.new(KEY, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]


def test_hash_replaces_serial_and_sid_everywhere_with_a_keyed_pseudonym() -> None:
    inv = Privacy(serials="hash", user_sids="hash", key=KEY).apply(inventory())
    assert inv.hardware.serial == expected("serial", "5CG1234XYZ")
    user = inv.software[0]
    assert user.sid == expected("sid", SID)
    assert SID not in user.key and expected("sid", SID) in user.key and user.key.startswith("HKU\\hmac-sha256:")
    assert inv.software[1].key.startswith("HKLM\\SOFTWARE")  # machine-wide entries untouched
    # the same SID in lower case (registry paths are case-insensitive) gets the same pseudonym
    assert Privacy(user_sids="hash", key=KEY).sid(SID.lower()) == user.sid
    # a serial and a SID with the same text never share a pseudonym; another key gives another one
    assert Privacy(serials="hash", key=KEY).serial("X") != Privacy(user_sids="hash", key=KEY).sid("X")
    assert Privacy(serials="hash", key=b"k" * 32).serial("5CG1234XYZ") != inv.hardware.serial
    # hashing twice (a re-import of stored data) keeps the pseudonym
    again = Privacy(serials="hash", user_sids="hash", key=KEY).apply(inv)
    assert again.hardware.serial == expected("serial", "5CG1234XYZ") and again.software[0].sid == user.sid


def test_drop_keeps_nothing_and_keep_changes_nothing() -> None:
    inv = Privacy(serials="drop", user_sids="drop").apply(inventory())
    assert inv.hardware.serial == "" and inv.software[0].sid == ""
    assert inv.software[0].key.startswith("HKU\\user\\Software\\") and "S-1-5-21" not in inv.to_json()
    assert "5CG1234XYZ" not in inv.to_json()
    kept = Privacy().apply(inventory())
    assert kept == inventory()


def test_shared_package_records_are_never_edited() -> None:
    first, second = inventory(), inventory()
    second.software = first.software  # the same objects, as agents.linux shares records
    record = first.software[0]
    Privacy(user_sids="drop").apply(first)
    assert record.sid == SID and second.software[0].sid == SID
    assert first.software[0].sid == ""


def test_the_key_never_appears_in_repr() -> None:
    assert KEY.hex() not in repr(Privacy(serials="hash", key=KEY)) and "key" not in repr(Privacy(key=KEY))


@pytest.mark.parametrize("serials,sids", [("hash", "hash"), ("drop", "hash"), ("hash", "keep"), ("drop", "drop")])
def test_both_upload_paths_store_the_same_treated_inventory(serials: str, sids: str) -> None:
    privacy = Privacy(serials=serials, user_sids=sids, key=KEY)
    body = compact_json(inventory()).encode()
    reference = parse_upload(body, TOKEN, privacy)
    fast = decode_body(accept_upload(body, TOKEN, privacy).body)
    assert fast == reference
    assert "5CG1234XYZ" not in fast.to_json()
    assert (SID in fast.to_json()) == (sids == "keep")


def write(tmp_path: Path, text: str, key: bytes | None = KEY) -> Path:
    if key is not None:
        (tmp_path / "privacy.key").write_bytes(key)
    cfg = tmp_path / "legacyscan.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_config_loads_with_a_key_relative_to_the_file(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[privacy]\nserials = "hash"\nuser_sids = "drop"\nhash_key_file = "privacy.key"\n')
    p = load(cfg)
    assert (p.serials, p.user_sids, p.key, p.source) == ("hash", "drop", KEY, str(cfg))
    assert load(write(tmp_path, "[report]\n")).active is False  # no [privacy]: keep as collected


@pytest.mark.parametrize(
    "text,key,message",
    [
        ('[privacy]\nserial = "hash"\n', KEY, "[privacy] unknown key(s) serial"),
        ('[privacy]\nserials = "encrypt"\n', KEY, "[privacy] serials: expected one of keep, hash, drop, got 'encrypt'"),
        ("[privacy]\nuser_sids = true\n", KEY, "[privacy] user_sids: expected one of"),
        ('[privacy]\nserials = "hash"\n', KEY, "[privacy] hash_key_file: required"),
        ('[privacy]\nserials = "hash"\nhash_key_file = "privacy.key"\n', b"short", "holds 5 bytes; at least 32"),
        ('[privacy]\nserials = "hash"\nhash_key_file = "missing.key"\n', None, "[privacy] hash_key_file:"),
        ("privacy = 3\n", KEY, "[privacy] must be a table"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path: Path, text: str, key: bytes | None, message: str) -> None:
    cfg = write(tmp_path, text, key)
    with pytest.raises(PrivacyConfigError) as info:
        load(cfg)
    assert message in str(info.value) and str(cfg) in str(info.value)


def test_the_report_configuration_accepts_the_privacy_and_retention_tables(tmp_path: Path) -> None:
    from scanner.plan.config import load_config

    cfg = write(tmp_path, '[privacy]\nserials = "drop"\n[retention]\nkeep_days = 400\n')
    assert load_config(cfg).source == str(cfg)
    assert from_table({"serials": "drop"}).serials == "drop"


def test_cli_refuses_a_bad_privacy_table_before_importing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.cli import main

    cfg = write(tmp_path, '[privacy]\nserials = "hash"\n')
    doc = tmp_path / "inv.json"
    doc.write_text(json.dumps(inventory().to_dict()), encoding="utf-8")
    db = tmp_path / "x.db"
    assert main(["import", str(doc), "--config", str(cfg), "--db", f"sqlite:///{db}"]) == 1
    err = capsys.readouterr().err
    assert "hash_key_file: required" in err and "docs/privacy.md" in err
    assert not db.exists()  # nothing stored
