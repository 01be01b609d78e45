"""``scanner.relational``: software rows made once per distinct package, inserted once per batch."""

from __future__ import annotations

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.relational import Rows, software_id, software_rows
from scanner.store import text_column


def _inv(name: str, software: list[Software]) -> Inventory:
    return Inventory(host=Host(hostname=name, site="A"), os=OsInfo(family="linux", name="Debian"), software=software)


def test_rows_are_the_packages_with_their_counts_whatever_was_seen_before() -> None:
    shared = Software(name="openssl", version="3.0.11", source="dpkg", publisher="Debian")
    odd = Software(name="bad\x00name\udcff", version="1", source="rpm")
    for _ in range(2):  # the second pass answers from the rows made in the first
        rows = software_rows(_inv("h1", [shared, shared, odd]), "inv-1")
        assert rows.tables["software"] == [
            (software_id("openssl", "3.0.11", "Debian", "dpkg"), "openssl", "3.0.11", "Debian", "dpkg"),
            (software_id(odd.name, "1", "", "rpm"), text_column(odd.name), "1", "", "rpm"),
        ]
        assert rows.tables["inventory_software"] == [
            ("inv-1", software_id("openssl", "3.0.11", "Debian", "dpkg"), 2),
            ("inv-1", software_id(odd.name, "1", "", "rpm"), 1),
        ]
    assert text_column(odd.name) != odd.name  # the NUL and the lone surrogate really were neutralised


def test_a_batch_inserts_each_package_once_and_links_it_to_every_host() -> None:
    a = Software(name="openssl", version="3.0.11", source="dpkg")
    b = Software(name="bash", version="5.2", source="dpkg")
    batch = Rows()
    batch.extend(software_rows(_inv("h1", [a, b]), "inv-1"))
    batch.extend(software_rows(_inv("h2", [b]), "inv-2"))
    batch.extend(software_rows(_inv("h3", [a, Software(name="zsh", version="5.9", source="dpkg")]), "inv-3"))
    assert [r[1] for r in batch.tables["software"]] == ["openssl", "bash", "zsh"]
    assert [(r[0], r[2]) for r in batch.tables["inventory_software"]] == [
        ("inv-1", 1),
        ("inv-1", 1),
        ("inv-2", 1),
        ("inv-3", 1),
        ("inv-3", 1),
    ]
    assert {r[1] for r in batch.tables["inventory_software"] if r[0] == "inv-3"} == {
        software_id("openssl", "3.0.11", "", "dpkg"),
        software_id("zsh", "5.9", "", "dpkg"),
    }
