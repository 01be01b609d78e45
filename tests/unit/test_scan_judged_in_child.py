"""A fleet scan that keeps no inventories (more hosts than the inline report takes) judges each
inventory in the collector process that scanned it (``Store.encode_judged``, called by
``scanner.collect.wire.pack_observed``) and the storing process only inserts the rows it is sent.  The
rows stored that way must be exactly those the store makes itself from the same documents: the
demo estate's Windows, macOS and Linux inventories, a real Debian 12 dpkg database parsed as the
SSH scan parses it (records shared between hosts, so the children's memo of builds is used), and
a package name with a NUL (its body is not exact: judged from the body decoded back)."""

from __future__ import annotations

import copy
import multiprocessing
import sqlite3
from datetime import date
from pathlib import Path

import pytest

import scanner.collect.engine as engine_mod
from agents import linux
from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.collect.config import ScanConfig
from scanner.collect.engine import FleetScanner
from scanner.collect.results import Outcome
from scanner.collect.wire import pack_observed, unpack
from scanner.demo import generate
from scanner.judge.timeline import Judge
from scanner.store.open import open_store
from scanner.store.relational import ReceivedSets, Rows, SentSets
from scanner.store.sqlite import EncodedInventory, decode_body, encode_body
from scanner.targets import Target

ROOT = Path(__file__).resolve().parents[2]
DPKG_STATUS = ROOT / "tests" / "fixtures" / "hosts" / "debian12-workplace" / "files" / "var" / "lib" / "dpkg" / "status"
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
TABLES = (
    "software",
    "software_sets",
    "software_set_members",
    "inventory_software_sets",
    "inventory_software",  # the view of schema 4's table
    "datasets",
    "judgements",
    "finding_contents",
    "findings",
    "finding_status",
    "hosts",
    "inventories",
)

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def _debian(i: int, software: list[Software]) -> Inventory:
    return Inventory(
        host=Host(hostname=f"deb{i:02d}", machine_id=f"deb-mid-{i}", site="Main", tags=["ward1"] if i % 2 else []),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 12 (bookworm)",
            version="12",
            facts={"files": {"/etc/os-release": OS_RELEASE}},
        ),
        software=software,
        collected_at="2026-11-28T09:00:00Z",
        inventory_id=f"deb-inv-{i:02d}",
    )


@pytest.fixture(scope="module")
def documents() -> list[Inventory]:
    demo = generate(devices=40, sites=3, seed=5, as_of=date(2026, 11, 30))
    build = linux.PackageMemo().dpkg_status(DPKG_STATUS.read_text("utf-8"))  # as a fleet scan parses it
    assert build and all(linux.shared(sw) for sw in build)
    nul = [*build, Software(name="bad\x00name", version="1.0", source="dpkg")]
    invs = [*demo.current, *demo.previous, *(_debian(i, build) for i in range(6)), _debian(6, nul)]
    assert {i.os.family for i in invs} >= {"windows", "macos", "linux"}
    return invs


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}  # noqa: S608
    finally:
        conn.close()


def _in_process(path: Path, invs: list[Inventory]) -> dict[str, list[tuple[object, ...]]]:
    with open_store(f"sqlite:///{path}") as store:
        for k in range(0, len(invs), 16):
            store.save_batch(copy.deepcopy(invs[k : k + 16]))
    return _tables(path)


def test_rows_judged_in_the_collector_processes_equal_the_stores_own(
    tmp_path: Path, documents: list[Inventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    want = _in_process(tmp_path / "in-process.db", documents)
    assert want["findings"] and want["finding_status"] and want["inventory_software"]

    by_host = {f"10.1.{i // 200}.{i % 200 + 1}": inv for i, inv in enumerate(documents)}

    class Shell:
        lost = False  # as SshShell: the connection stayed up

        def close(self) -> None:
            pass

    class Connector:
        def open(self, target: Target) -> Shell:
            return Shell()

    monkeypatch.setattr(FleetScanner, "_connector", lambda self: Connector())
    monkeypatch.setattr(
        engine_mod, "collect_ssh", lambda shell, target, timeout, packages=None: copy.deepcopy(by_host[target.host])
    )
    judged_here: list[str] = []
    real_judge = Judge.judge

    def counting(self: Judge, inv: Inventory, on: date | None = None, build: tuple[int, ...] | None = None) -> object:
        judged_here.append(inv.inventory_id)
        return real_judge(self, inv, on, build)

    monkeypatch.setattr(Judge, "judge", counting)
    # the Debian hosts share one package list: each child sends it in full once, then by id
    resolved: list[int] = []
    real_resolve = ReceivedSets.resolve

    def resolving(self: ReceivedSets, rows: Rows) -> bool:
        resolved.append(len(rows.set_refs))
        return real_resolve(self, rows)

    monkeypatch.setattr(ReceivedSets, "resolve", resolving)
    path = tmp_path / "children.db"
    with open_store(f"sqlite:///{path}") as store:
        summary = FleetScanner(store, ScanConfig(processes=2, concurrency=4), keep_inventories=False).run(
            [Target(h, site="Main") for h in by_host]
        )
    assert summary.done == len(documents) and summary.failed == 0
    assert judged_here == []  # the storing process judged nothing: the children sent the rows
    assert len(resolved) == len(documents) and sum(resolved) >= 6 - 2  # six Debian hosts, two children
    assert _tables(path) == want


def test_the_packed_outcome_carries_the_rows_and_a_failure_leaves_them_to_the_store(
    tmp_path: Path, documents: list[Inventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    inv = documents[-2]  # a Debian host
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        item = pickle.loads(  # noqa: S301 - made here
            pickle.dumps(
                pack_observed(None, store)(Outcome(Target("h1", site="Main"), "ok", "", copy.deepcopy(inv), 0.0))
            )
        )
        sent = unpack(item).inventory
        assert isinstance(sent, EncodedInventory) and sent.rows is not None
        assert sent.body == encode_body(copy.deepcopy(inv)) and decode_body(sent.body).software
        (package_list,) = sent.rows.sets.values()
        assert len(package_list.members) > 100 and sent.rows.tables["findings"]
        assert sent.rows.tables["inventory_software_sets"] == [(sent.inventory_id, package_list.set_id)]

        def broken(self: Judge, inv: Inventory, on: date | None = None) -> object:
            raise RuntimeError("judge broke")

        monkeypatch.setattr(Judge, "judge", broken)
        item = pack_observed(None, store)(Outcome(Target("h2", site="Main"), "ok", "", copy.deepcopy(inv), 0.0))
        fallback = item[0].inventory
        assert isinstance(fallback, EncodedInventory) and fallback.rows is None  # the store judges it, as before
        assert fallback.body == sent.body


def test_hosts_naming_their_list_by_id_store_the_same_rows_whatever_the_store_has(
    tmp_path: Path, documents: list[Inventory]
) -> None:
    """The store settles a list sent by id: one it committed needs nothing, one another host of the
    batch carries is taken from there (even a host whose inventory was already stored), and for
    any other the host's rows are made again from its stored document.  Same tables every way."""
    debian = [d for d in documents if d.inventory_id.startswith("deb-inv-")][:6]
    want = _in_process(tmp_path / "want.db", debian[:5])
    with open_store(f"sqlite:///{tmp_path / 'got.db'}") as store:
        encoded = [store.encode_judged(copy.deepcopy(inv)) for inv in debian]
        sent = SentSets()
        for e in encoded:
            assert e.rows is not None
            sent.strip(e.rows)  # the first host carries the list, the others name it
        assert [len(e.rows.sets) for e in encoded if e.rows] == [1, 0, 0, 0, 0, 0]
        (first, second, third, fourth, fifth, sixth) = encoded
        # the first host already stored: its rows (and the list with them) are not inserted again,
        # yet the second host of its batch, naming the list, brings it in from the first one's rows
        store.save_batch([copy.deepcopy(debian[0])])
        store._stored_sets.clear()  # this store forgets what it committed (another process's store)
        assert store.save_batch([first, second]) == [False, True]
        assert store.save_batch([third]) == [True]  # committed by this store: nothing more needed
        store._stored_sets.clear()
        assert store.save_batch([fourth, fifth]) == [True, True]  # unknown: made from the documents
    assert _tables(tmp_path / "got.db") == want
    # a store that never saw the list: the host naming it gets its rows, list and all, all the same
    assert sixth.rows is not None and sixth.rows.set_refs
    with open_store(f"sqlite:///{tmp_path / 'alone.db'}") as alone:
        assert alone.save_batch([sixth]) == [True]
    assert _tables(tmp_path / "alone.db") == _in_process(tmp_path / "alone-want.db", debian[5:])


@pytest.mark.parametrize("as_of", ["2019-06-30", "2024-01-01", "2026-11-28", "2026-11-30", "2031-03-15"])
def test_the_tally_read_off_the_judgement_equals_matching_again(
    tmp_path: Path, documents: list[Inventory], as_of: str
) -> None:
    """A fleet scan's streaming tally (findings by status on ``--as-of``) reads each host's statuses
    off the judgement its rows were made from instead of matching the host once more: the same
    counts and worst severity for every document, on dates before, between and after the phases."""
    from scanner.cli import build_parser
    from scanner.cli.common import judge_for
    from scanner.cli.scan import StreamingTally

    argv = ["scan", "--targets", str(tmp_path / "t.csv"), "--as-of", as_of]
    args = build_parser(argv).parse_args(argv)
    tally, judge = StreamingTally(args), judge_for(args)
    assert judge.ctx is tally.ctx and judge.policy is tally.policy  # one context per command
    statuses = set()
    for inv in documents:
        want = tally.observe(inv)
        assert tally.observe_judged(judge.judge(inv), judge) == want, inv.host.hostname
        statuses.update(want[0])
    assert len(statuses) >= 3  # the dates really differ in what they find
    other = Judge(judge.ctx, copy.copy(judge.policy))  # another policy object: not this tally's
    assert tally.observe_judged(other.judge(documents[0]), other) is None


def test_the_stored_rows_do_not_depend_on_the_order_the_inventories_arrive_in(
    tmp_path: Path, documents: list[Inventory]
) -> None:
    """The collector processes' hosts reach the storing process in whatever order the scheduler
    lets them finish (the test above failed under load): a host's first-seen day and a dataset's
    first judged day are the earliest, not those of whichever inventory came first."""
    import random

    want = _in_process(tmp_path / "in-order.db", documents)
    for seed in (1, 2):
        shuffled = documents[:]
        random.Random(seed).shuffle(shuffled)
        assert _in_process(tmp_path / f"shuffled-{seed}.db", shuffled) == want
    earliest: dict[object, object] = {}
    for row in want["inventories"]:  # inventory_id, host_key, site, collected_at, ...
        earliest[row[1]] = min(str(row[3]), str(earliest.get(row[1], row[3])))
    assert {row[0]: row[6] for row in want["hosts"]} == earliest  # host_key -> first_seen
    assert len({row[6] for row in want["hosts"]}) > 1 and len(earliest) < len(want["inventories"])
    judged_days = [str(row[2]) for row in want["judgements"]]  # inventory, dataset, judged_on, ...
    assert [row[1] for row in want["datasets"]] == [min(judged_days)]
