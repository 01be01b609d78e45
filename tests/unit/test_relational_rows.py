"""``scanner.store.relational``: software rows made once per distinct package, a package list once per
distinct list (``software_sets``), each inventory one link to its list."""

from __future__ import annotations

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.store.relational import (
    ReceivedSets,
    Rows,
    SentSets,
    content_id,
    insert_plan,
    set_id,
    settle_refs,
    software_id,
    software_rows,
    split_finding,
)
from scanner.store.sqlite import text_column


def _inv(name: str, software: list[Software]) -> Inventory:
    return Inventory(host=Host(hostname=name, site="A"), os=OsInfo(family="linux", name="Debian"), software=software)


def test_rows_are_the_packages_with_their_counts_whatever_was_seen_before() -> None:
    shared = Software(name="openssl", version="3.0.11", source="dpkg", publisher="Debian")
    odd = Software(name="bad\x00name\udcff", version="1", source="rpm")
    ssl_id, odd_id = software_id("openssl", "3.0.11", "Debian", "dpkg"), software_id(odd.name, "1", "", "rpm")
    for _ in range(2):  # the second pass answers from the rows made in the first
        rows = software_rows(_inv("h1", [shared, shared, odd]), "inv-1")
        (made,) = rows.sets.values()
        assert made.software == (
            (ssl_id, "openssl", "3.0.11", "Debian", "dpkg"),
            (odd_id, text_column(odd.name), "1", "", "rpm"),
        )
        assert made.members == ((ssl_id, 2), (odd_id, 1))
        assert made.set_id == set_id([(odd_id, 1), (ssl_id, 2)])  # whatever the order of the list
        assert made.set_row() == (made.set_id, 2, 3)
        assert rows.tables["inventory_software_sets"] == [("inv-1", made.set_id)]
    assert text_column(odd.name) != odd.name  # the NUL and the lone surrogate really were neutralised


def test_a_list_is_named_by_its_packages_and_their_counts() -> None:
    a = Software(name="openssl", version="3.0.11", source="dpkg")
    b = Software(name="bash", version="5.2", source="dpkg")
    ids = {
        software_rows(_inv("h", sw), "i").tables["inventory_software_sets"][0][1]
        for sw in ([a, b], [b, a], [Software(name="bash", version="5.2", source="dpkg"), a])
    }
    assert len(ids) == 1  # the order of the list and the records' identity do not matter
    others = [[a], [a, b, b], [a, Software(name="bash", version="5.3", source="dpkg")]]
    assert len({software_rows(_inv("h", sw), "i").tables["inventory_software_sets"][0][1] for sw in others}) == 3
    assert not software_rows(_inv("h", []), "i")  # no packages: no list, no link


def test_a_batch_links_every_host_and_inserts_only_the_lists_the_store_lacks() -> None:
    a = Software(name="openssl", version="3.0.11", source="dpkg")
    b = Software(name="bash", version="5.2", source="dpkg")
    z = Software(name="zsh", version="5.9", source="dpkg")
    batch = Rows()
    batch.extend(software_rows(_inv("h1", [a, b]), "inv-1"))
    batch.extend(software_rows(_inv("h2", [b, a]), "inv-2"))  # the same list
    batch.extend(software_rows(_inv("h3", [a, z]), "inv-3"))
    first, third = (batch.tables["inventory_software_sets"][i][1] for i in (0, 2))
    assert batch.tables["inventory_software_sets"] == [("inv-1", first), ("inv-2", first), ("inv-3", third)]
    assert set(batch.sets) == {first, third}

    stored = {first}  # the store already holds the first list
    asked: list[str] = []

    def insert_set(row: tuple[str, int, int]) -> int:
        asked.append(row[0])
        return 0 if row[0] in stored else 1

    plan = dict(insert_plan(batch, insert_set))
    assert asked == sorted([first, third])  # each list once, in id order
    assert [r[1] for r in plan["software"]] == ["openssl", "zsh"]  # the new list's packages only
    assert sorted(plan["software_set_members"]) == sorted(
        [(third, software_id("openssl", "3.0.11", "", "dpkg"), 1), (third, software_id("zsh", "5.9", "", "dpkg"), 1)]
    )
    assert plan["inventory_software_sets"] == batch.tables["inventory_software_sets"]
    assert list(plan)[:3] == ["software", "software_set_members", "inventory_software_sets"]


def test_a_list_crosses_the_queue_in_full_once_and_is_put_back_for_the_hosts_naming_it() -> None:
    import pickle

    a = Software(name="openssl", version="3.0.11", source="dpkg")
    b = Software(name="bash", version="5.2", source="dpkg")
    build = [Software(name=f"lib{n}", version="1.0", source="dpkg") for n in range(200)]
    sent, received = SentSets(), ReceivedSets(size=2)
    hosts = [software_rows(_inv(f"h{i}", build), f"inv-{i}") for i in range(3)]
    (full,) = hosts[0].sets.values()
    crossed = []
    for rows in hosts:
        sent.strip(rows)
        crossed.append(pickle.loads(pickle.dumps(rows)))  # noqa: S301 - made here
    assert [len(r.sets) for r in crossed] == [1, 0, 0] and crossed[2].set_refs == [full.set_id]
    assert len(pickle.dumps(crossed[2])) < len(pickle.dumps(hosts[0])) / 50
    for rows in crossed:
        assert received.resolve(rows) and rows.sets == {full.set_id: full} and not rows.set_refs
    # the list least recently used goes; a host naming it is then left to the store (False)
    for other in ([a], [b]):
        received.resolve(software_rows(_inv("x", other), "inv-x"))
    ref = Rows(set_refs=[full.set_id])
    assert not received.resolve(ref) and ref.set_refs == [full.set_id]  # left for the store to settle
    assert not settle_refs(ref, {}, set()) and ref.set_refs == [full.set_id]
    assert settle_refs(ref, {full.set_id: full}, set()) and ref.sets == {full.set_id: full}  # another host's
    ref = Rows(set_refs=[full.set_id])
    assert settle_refs(ref, {}, {full.set_id}) and not ref.sets and not ref.set_refs  # stored: nothing to add
    ref = Rows(set_refs=[full.set_id])
    try:
        insert_plan(ref, lambda row: 1)
    except ValueError:
        pass
    else:
        raise AssertionError("a list named only by id was stored")


def test_a_findings_contents_are_split_from_its_hosts_part_and_named_by_their_values() -> None:
    wide = (
        "fid-1", "inv-1", "ds", 0, "key", "site", "pc-a", "software", "Java 8", "8.0", "java", "8", "Java 8",
        None, 2, "rule", "reason", "{}", "high", "8", "src", "2026-03-01", "eol", "2025-01-01", None,
    )  # fmt: skip
    finding, contents = split_finding(wide)
    cid = contents[0]
    assert finding == ("fid-1", "inv-1", "ds", 0, "key", "site", "pc-a", cid, 2, "2026-03-01")
    assert contents[1:] == (*wide[7:14], *wide[15:21], *wide[22:25]) and cid == content_id(contents[1:])
    other = split_finding(
        ("fid-2", "inv-2", "ds", 3, "k2", "s2", "pc-b", *wide[7:14], 1, *wide[15:21], "x", *wide[22:])
    )
    assert other[1] == contents  # another host, entries and day: the same contents, the same id
    assert len(cid) == 32 and int(cid, 16) >= 0
    # NULL and "" are different contents; so is any other value
    assert content_id((None, "a")) != content_id(("", "a")) != content_id(("a", ""))
