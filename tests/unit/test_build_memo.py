"""An estate stores the same build again and again: what derives from a package list alone is made
once per distinct list (``scanner.store.relational.BuildMemo``) and a judgement is reused for the same
list, OS and day (``Judge.judge``).  These tests pin that the reuse never changes a stored row: the
rows of every inventory equal those a judge that never saw the build makes.  The package lists are
a real Debian 12 dpkg database parsed as the SSH scan parses it (records shared between hosts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from agents import linux
from agents.inventory import Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge.builds import BuildMemo
from scanner.judge.timeline import Judge
from scanner.model import Policy
from scanner.store.relational import Rows, judged_rows, rows_for, software_rows
from scanner.store.sqlite import fast_compact_json

ROOT = Path(__file__).resolve().parents[2]
DPKG_STATUS = ROOT / "tests" / "fixtures" / "hosts" / "debian12-workplace" / "files" / "var" / "lib" / "dpkg" / "status"
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'


def _host(
    i: int, software: list[Software], *, site: str = "Main", day: str = "2026-11-28", facts: dict | None = None
) -> Inventory:
    return Inventory(
        host=Host(hostname=f"pc{i:03d}", machine_id=f"mid-{i}", site=site, tags=[f"ward{i % 3}"] if i % 2 else []),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 12 (bookworm)",
            version="12",
            facts=facts if facts is not None else {"files": {"/etc/os-release": OS_RELEASE}},
        ),
        software=software,
        collected_at=f"{day}T09:00:00Z",
        inventory_id=f"inv-{i:03d}",
    )


@pytest.fixture(scope="module")
def estate() -> list[Inventory]:
    text = DPKG_STATUS.read_text("utf-8")
    memo = linux.PackageMemo()  # as a fleet scan parses
    build = memo.dpkg_status(text)  # shared records: the same objects for every host below
    assert build and all(linux.shared(sw) for sw in build)
    again = memo.dpkg_status(text)
    assert all(a is b for a, b in zip(build, again, strict=True))
    older = [sw for sw in build if sw.name != "openssl"]  # another build: one package fewer
    own = [*build, Software(name="clinical-viewer", version="4.2", source="dpkg")]  # a record of its own
    supplier = {"files": {"/etc/os-release": OS_RELEASE}, "supplier_support_end": "2026-12-31"}
    return [
        *(_host(i, build, site=("Main", "Annexe")[i % 2]) for i in range(6)),
        _host(6, build, day="2025-03-01"),  # same build, another day
        _host(7, build, facts=supplier),  # same build, another OS (a supplier's end date)
        _host(8, build, facts=supplier),
        *(_host(i, older) for i in (9, 10)),
        *(_host(i, own) for i in (11, 12)),
        _host(13, list(build)),  # the same records in a list of its own: the same build
    ]


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def _rows(inv: Inventory, judge: Judge) -> dict[str, list]:
    rows = Rows()
    rows.extend(software_rows(inv, inv.inventory_id))
    rows.extend(judged_rows(judge.judge(inv), inv.inventory_id))
    return rows.tables


def test_reused_judgements_make_the_rows_of_a_fresh_judgement(estate: list[Inventory], ctx: IdentifyContext) -> None:
    policy = Policy()
    judge = Judge(ctx, policy)
    reused = 0
    again = judge._again

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        nonlocal reused
        reused += 1
        return again(*args, **kw)

    judge._again = counting  # type: ignore[method-assign]
    for inv in estate:
        fresh = Judge(ctx, policy)  # never saw the build
        assert _rows(inv, judge) == _rows(inv, fresh), inv.host.hostname
        got, want = judge.judge(inv), fresh.judge(inv)
        assert got.result.findings == want.result.findings
        assert got.segments == want.segments and got.unidentified == want.unidentified
    # hosts 1-5, 8, 10 and 13 reuse a judgement, and so does the second judge() of every host but 11
    # and 12: their records are partly their own, so their list is never remembered
    assert reused == 8 + len(estate) - 2
    findings = judge.judge(estate[3]).result.findings
    assert {f.hostname for f in findings} == {"pc003"} and {f.site for f in findings} == {"Annexe"}
    assert all(f.tags == ["ward0"] for f in findings)


def test_rows_for_and_bodies_per_build_equal_those_made_record_by_record(estate: list[Inventory]) -> None:
    for inv in estate:
        assert fast_compact_json(inv) == compact_json(inv)
        rows = software_rows(inv, inv.inventory_id).tables
        private = replace(inv, software=[replace(sw) for sw in inv.software])  # unshared copies: no memo entry
        assert rows == software_rows(private, inv.inventory_id).tables
        assert rows_for(inv, inv.inventory_id, None).tables == rows


def test_a_list_with_a_record_of_its_own_is_never_remembered(estate: list[Inventory]) -> None:
    memo = BuildMemo()
    own = estate[11].software
    memo.put(memo.key(own), own, "x")
    assert memo.get(memo.key(own)) is None
    shared = estate[0].software
    memo.put(memo.key(shared), shared, "y")
    assert memo.get(memo.key(estate[13].software)) == "y"  # the same records in another list


def test_match_estate_reuses_a_build_and_gives_each_host_what_matching_it_alone_gives(
    estate: list[Inventory], ctx: IdentifyContext
) -> None:
    import scanner.judge.match as match

    policy, day = Policy(), date(2026, 11, 30)
    reused = 0
    for_host = match.result_for_host

    def counting(template: match.HostResult, inv: Inventory) -> match.HostResult:
        nonlocal reused
        reused += 1
        return for_host(template, inv)

    match.result_for_host = counting  # type: ignore[assignment]
    try:
        results = match.match_estate(estate, ctx, day, policy)
    finally:
        match.result_for_host = for_host  # type: ignore[assignment]
    alone = [match.match_inventory(inv, ctx, day, policy, match.MatchMemo(ctx, day, policy)) for inv in estate]
    assert results == alone
    # the date is the report's, not the collection's: host 6 (collected another day) reuses too
    assert reused == 9
    assert [r.inventory for r in results] == estate
    assert {f.hostname for f in results[4].findings} == {"pc004"}


def test_a_key_made_once_per_host_gives_the_rows_of_keys_made_by_each_memo(
    estate: list[Inventory], ctx: IdentifyContext
) -> None:
    """``Store.encode_and_judge`` makes a host's ``BuildMemo`` key once and hands it to the body,
    the package list and the judge; ``judged_rows`` makes each finding's id once for both tables."""
    policy = Policy()
    with_key, without = Judge(ctx, policy), Judge(ctx, policy)
    for inv in estate:
        build = BuildMemo.key(inv.software)
        assert rows_for(inv, inv.inventory_id, with_key, build=build).tables == (
            rows_for(inv, inv.inventory_id, without).tables
        ), inv.host.hostname
        judged = without.judge(inv)
        ids = [row[0] for row in judged.finding_rows(inv.inventory_id)]
        assert judged.segments and len(ids) == len(judged.segments)
        assert judged.status_rows(inv.inventory_id, ids) == judged.status_rows(inv.inventory_id)
