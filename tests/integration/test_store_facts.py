"""Each stored inventory's host facts as columns (``inventory_facts``, schema migration 8; issue #17
item 4), on BOTH backends: written at ingest by every path in (whole inventories, uploads in
their stored form, inventories whose text the store neutralised), equal to what the stored
document says (``decode_header``, what a report read before), back-filled from the documents of a
store written by the release before (schema 7) and by release 0.1 (schema 3) without changing any
other row, and a report made from them byte-identical to one that decodes every document.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from agents.inventory import Collector, Hardware, Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.cli.common import context_and_policy
from scanner.cli.report import build_stored_report, render_report
from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, generate
from scanner.judge.timeline import Judge
from scanner.report.formats import ReportFormat
from scanner.report.stored import StoredResults
from scanner.service.upload import accept_upload
from scanner.store.enrolment import TokenInfo
from scanner.store.facts import COLUMNS, facts_row, header
from scanner.store.open import open_store
from scanner.store.relational import WIDE_FINDINGS
from scanner.store.schema import FACTS_MIGRATION, migrations
from scanner.store.sqlite import HostStatus, Store, decode_header
from tests.integration.postgres import pg_server, pg_url  # noqa: F401 - fixtures
from tests.integration.test_report_from_store import report_args
from tests.integration.test_store_relational import JUDGEMENT_COLUMNS_10, old_store
from tests.unit.test_reports_golden import xlsx_snapshot

pytestmark = pytest.mark.integration

RELEASE_01 = Path(__file__).resolve().parent.parent / "fixtures" / "stores" / "release-0.1-schema3.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


def q(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return store._query(sql.replace("?", store.placeholder), params)


def _plain(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as SQLite gives them (PostgreSQL: bytes for a memoryview), sorted."""
    return sorted((tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows), key=repr)


# What a report reads of a host's document (scanner.report.build, scanner.discover.link, scanner.report.stored).
def _read_by_reports(inv: Inventory) -> tuple[Any, ...]:
    hw = inv.hardware
    facts = inv.os.facts
    return (
        inv.inventory_id,
        inv.host.hostname,
        inv.host.machine_id,
        inv.host.site,
        inv.host.address,
        inv.host.tags,
        inv.collected_at,
        inv.collector.transport,
        inv.collector.source,
        ("product_type" in facts, facts.get("product_type")),
        (hw.vendor, hw.model, hw.cpu_model, hw.memory_bytes, hw.system_disk_bytes),
        (hw.tpm_present, hw.tpm_version, hw.firmware_type, hw.secure_boot),
    )


def pc(name: str, **kw: Any) -> Inventory:
    hardware = kw.pop("hardware", None) or Hardware(
        vendor="Dell Inc.",
        model="OptiPlex 7050",
        cpu_model="Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz",
        memory_bytes=8 * 2**30,
        system_disk_bytes=256 * 10**9,
        tpm_present=True,
        tpm_version="2.0, 0, 1.38",
        firmware_type="uefi",
        secure_boot=False,
        serial="SERIAL-1",
    )
    return Inventory(
        host=Host(
            hostname=name,
            machine_id=kw.pop("machine_id", f"mid-{name}"),
            site=kw.pop("site", "north"),
            tags=kw.pop("tags", ["clinical", "ward-a"]),
            domain="trust.local",
            address=kw.pop("address", f"{name}.trust.local"),
        ),
        os=OsInfo(
            family="windows",
            name="Microsoft Windows 10 Pro",
            version="10.0.19045",
            facts=kw.pop(
                "facts",
                {"caption": "Microsoft Windows 10 Pro", "build": "19045", "display_version": "22H2", "product_type": 1},
            ),
        ),
        software=[Software(name="Java 8 Update 311", version="8.0.3110.11", source="windows-registry")],
        hardware=hardware,
        collected_at=kw.pop("collected_at", "2026-11-02T09:00:00Z"),
        collector=kw.pop("collector", Collector(version="1.0", transport="winrm")),
    )


def odd_estate() -> list[Inventory]:
    """Every kind of value a facts column must keep exactly, and two it cannot."""
    return [
        pc("pc-plain"),
        pc("srv-1", facts={"product_type": "3"}, tags=["Server", "pacs"]),
        pc("srv-2", facts={"product_type": 3.0}),  # a float: 3.0 == 3, a server
        pc("pc-nested", facts={"product_type": {"value": [1, "two", None]}}),
        pc("pc-nofacts", facts={}, tags=[]),
        pc("pc-unicode", tags=["Radiologie – Nord", "病院"], site="Sud-Ouest é", address="fe80::1"),
        pc("pc-nul\x00name", tags=["a\x00b"]),  # NUL: the store keeps U+FFFD (column and document)
        pc("pc-surrogate\udc80"),  # a lone surrogate: the store keeps "?"
        pc("pc-unknown-hw", hardware=Hardware()),  # every fact unknown (None, "")
        pc("pc-huge", hardware=Hardware(memory_bytes=2**70)),  # beyond 64 bits: no facts row
        pc("disc-1", machine_id="", collector=Collector(transport="discovery")),
        pc("reg-1", machine_id="", collector=Collector(transport="import", source="register")),
    ]


def _check_facts_equal_documents(store: Store) -> int:
    """Every facts row says what the stored document says; returns how many inventories have one."""
    rows = {r[0]: r for r in q(store, f"SELECT {', '.join(COLUMNS)} FROM inventory_facts")}  # noqa: S608
    for inventory_id, body in q(store, "SELECT inventory_id, body FROM inventories"):
        doc = decode_header(bytes(body))
        row = rows.get(inventory_id)
        if row is None:
            assert facts_row(doc, inventory_id) is None, inventory_id  # only what cannot be kept exactly
            continue
        assert row == facts_row(doc, inventory_id)
        assert _read_by_reports(header(row)) == _read_by_reports(doc)
    return len(rows)


def test_facts_written_at_ingest_equal_the_stored_documents(store_url: str) -> None:
    invs = odd_estate()
    token = TokenInfo("tok", "east", "2026-01-01", "", "")
    uploads = [pc(f"agent-{i}", site="east", collector=Collector(transport="agent")) for i in range(3)]
    uploads.append(pc("agent-odd\x00", site="east", tags=["x\x00"], collector=Collector(transport="agent")))
    with open_store(store_url) as store:
        assert store.save_batch(invs) == [True] * len(invs)
        encoded = [accept_upload(gzip.decompress(gzip.compress(compact_json(u).encode())), token) for u in uploads]
        assert store.save_batch(encoded) == [True] * len(encoded)
        # a scan's collector process makes the rows (facts included) before the storing process inserts
        judged = store.encode_judged(pc("scanned", collector=Collector(transport="ssh")))
        assert judged.rows is not None and judged.rows.tables["inventory_facts"]
        assert store.save_batch([judged]) == [True]
        total = len(invs) + len(encoded) + 1
        assert _check_facts_equal_documents(store) == total - 1  # all but the 2**70 bytes of memory
        by_name = {r[0]: r for r in q(store, "SELECT hostname, tags, product_type, memory_bytes FROM inventory_facts")}
        assert by_name["pc-nul\ufffdname"][1] == json.dumps(["a\ufffdb"])
        assert by_name["pc-surrogate?"][0] == "pc-surrogate?"
        assert by_name["srv-1"][2] == '"3"' and by_name["srv-2"][2] == "3.0" and by_name["pc-plain"][2] == "1"
        assert by_name["pc-nofacts"][2] is None and by_name["pc-plain"][3] == 8 * 2**30
        assert by_name["agent-odd\ufffd"][1] == json.dumps(["x\ufffd"])
        # a duplicate upload writes nothing more
        assert store.save_batch(invs[:1]) == [False]
        assert q(store, "SELECT COUNT(*) FROM inventory_facts")[0][0] == total - 1


# -- back-fill: a store written before the facts table (schema 7), and by release 0.1 (schema 3) ----


def _tables(store: Store, names: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows per table; ``findings`` whole, as schema 4 to 8 held them (its contents in
    ``finding_contents`` since schema 9)."""
    return {t: _plain(q(store, _select(t))) for t in names}


def _select(table: str) -> str:
    if table == "findings":
        return WIDE_FINDINGS
    if table == "judgements":  # ``judged_by`` since schema 11
        return f"SELECT {JUDGEMENT_COLUMNS_10} FROM judgements"  # noqa: S608 - fixed names
    return f"SELECT * FROM {table}"  # noqa: S608 - fixed names


# The tables of schema 7 (``inventory_software`` is a view since 6).
SCHEMA7_TABLES = [
    "hosts",
    "inventories",
    "scan_status",
    "tokens",
    "software",
    "software_sets",
    "software_set_members",
    "inventory_software_sets",
    "datasets",
    "judgements",
    "findings",
    "finding_status",
    "settings",
]


def test_migration_backfills_the_facts_of_a_store_written_before(store_url: str, tmp_path: Path) -> None:
    assert FACTS_MIGRATION == 8
    invs = odd_estate()
    with open_store(f"sqlite:///{tmp_path / 'scratch.db'}") as scratch:
        assert scratch.save_batch(invs) == [True] * len(invs)
        scratch.record_status(HostStatus("pc-plain", "north", "ok", "", "2026-11-02T09:00:00Z"))
        tables = _tables(scratch, SCHEMA7_TABLES)
        written = _plain(q(scratch, "SELECT * FROM inventory_facts"))
    assert len(written) == len(invs) - 1 and tables["findings"]
    with open_store(old_store(store_url, tmp_path, tables, 7)) as store:
        assert store.schema_version() == len(migrations("sqlite"))  # type: ignore[attr-defined]
        assert _tables(store, SCHEMA7_TABLES) == tables  # nothing else changed
        assert _plain(q(store, "SELECT * FROM inventory_facts")) == written  # what ingest writes today
        assert _check_facts_equal_documents(store) == len(invs) - 1


def test_migration_backfills_a_release_01_store(store_url: str, tmp_path: Path) -> None:
    old = ["hosts", "inventories", "scan_status", "tokens"]
    with sqlite3.connect(RELEASE_01) as lite:
        before = {t: sorted(lite.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in old}  # noqa: S608
    assert len(before["inventories"]) == 80
    if store_url.startswith("sqlite"):
        path = tmp_path / "store.db"
        shutil.copy(RELEASE_01, path)
        store_url = f"sqlite:///{path}"
    else:
        store_url = old_store(store_url, tmp_path, before, 3)
    with open_store(store_url) as store:
        assert _tables(store, old) == {t: _plain(rows) for t, rows in before.items()}
        assert _check_facts_equal_documents(store) == 80


# -- the report reads them -------------------------------------------------------------------------


@pytest.fixture
def demo_store(store_url: str, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    demo = generate(devices=120, sites=3, seed=5, as_of=date(2026, 11, 30))
    (tmp_path / "legacyscan.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    (tmp_path / "exceptions.toml").write_text(DEMO_EXCEPTIONS, encoding="utf-8")
    with open_store(store_url, judge=False) as store:
        ctx, policy = context_and_policy(argparse.Namespace(site_catalog=None))
        store.use_judge(Judge(ctx, policy))
        store.save_batch(demo.previous)
        store.save_batch(demo.current)
        store.save_batch(odd_estate())
        for status in demo.statuses:
            store.record_status(status)
        yield store, tmp_path


def _report(store: Store, folder: Path, as_of: date) -> dict[str, Any]:
    args = report_args(folder, as_of)
    sites = sorted(set(store.sites()) | {s.site for s in store.statuses()})
    reader = StoredResults(store, *context_and_policy(args))
    report = build_stored_report(args, store, store.statuses(), sites, reader=reader)
    out: dict[str, Any] = {}
    for fmt in ReportFormat:
        text = render_report(report, fmt)
        if fmt is ReportFormat.XLSX:
            assert isinstance(text, bytes)
            z = zipfile.ZipFile(io.BytesIO(text))
            out[fmt.value] = (
                xlsx_snapshot(text),
                {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"},  # the clock's
            )
        else:
            out[fmt.value] = text
    return out


@pytest.mark.parametrize("as_of", [date(2026, 11, 30), date(2027, 3, 1)], ids=str)
def test_report_from_facts_equals_report_from_documents(
    demo_store: tuple[Store, Path], as_of: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, folder = demo_store
    read: list[int] = []
    real = StoredResults._headers

    def counted(self: StoredResults, ids: list[str]) -> dict[str, Inventory]:
        found = real(self, ids)
        read.append(len(found))
        return found

    monkeypatch.setattr(StoredResults, "_headers", counted)
    from_facts = _report(store, folder, as_of)
    assert sum(read) > 150  # most hosts really were read from their facts rows
    # the same store without its facts rows: every host's document decoded, as before
    _delete_facts(store)
    read.clear()
    from_documents = _report(store, folder, as_of)
    assert sum(read) == 0
    assert set(from_facts) == {f.value for f in ReportFormat}
    for fmt in from_facts:
        assert from_facts[fmt] == from_documents[fmt], fmt


def _delete_facts(store: Store) -> None:
    if store.placeholder == "?":
        store.conn.execute("DELETE FROM inventory_facts")  # type: ignore[attr-defined]
    else:
        with store.pool.connection() as conn:  # type: ignore[attr-defined]
            conn.execute("DELETE FROM inventory_facts")


def test_prune_deletes_the_facts_of_every_inventory_it_deletes(store_url: str) -> None:
    from scanner.store.retention import prune

    old = [pc(f"pc-{i}", collected_at="2024-05-01T09:00:00Z") for i in range(3)]
    new = [pc(f"pc-{i}", collected_at="2026-11-01T09:00:00Z") for i in range(2)]  # pc-2 is not seen again
    with open_store(store_url) as store:
        store.save_batch(old + new)
        assert q(store, "SELECT COUNT(*) FROM inventory_facts")[0][0] == 5
        result = prune(store, "2025-10-26")
        assert (result.inventories, result.related["inventory_facts"]) == (3, 3)
        left = sorted(r[0] for r in q(store, "SELECT inventory_id FROM inventories"))
        assert left == sorted(i.inventory_id for i in new)
        assert sorted(r[0] for r in q(store, "SELECT inventory_id FROM inventory_facts")) == left
