"""The BI views' SQL text (scanner.store.views): both dialects rendered from one definition, every view of
the contract created, and the role statements safe for any name they accept."""

from __future__ import annotations

import re
import sqlite3

import pytest

from scanner.store.schema import MIGRATIONS, TABLE_VIEWS, migrations
from scanner.store.views import VIEW_NAMES, VIEWS_VERSION, check_role_name, readonly_role_sql


def test_one_definition_two_dialects() -> None:
    sqlite, pg = migrations("sqlite")[4], migrations("postgresql")[4]
    assert len(MIGRATIONS) >= 5 and len(sqlite) == len(pg) == len(VIEW_NAMES)
    for lite, post, view in zip(sqlite, pg, VIEW_NAMES, strict=True):
        assert lite.startswith(f"CREATE VIEW {view} AS") and post.startswith(f"CREATE VIEW {view} AS")
        assert "{" not in lite + post and "}" not in lite + post
        # the only difference: the substring-position function
        assert lite.replace("instr(", "strpos(") == post


def test_views_build_on_a_fresh_sqlite_schema() -> None:
    conn = sqlite3.connect(":memory:")
    for script in migrations("sqlite"):
        for statement in script:
            conn.execute(statement)
    made = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert made == set(VIEW_NAMES) | set(TABLE_VIEWS)  # the contract, and inventory_software (schema 6)
    assert conn.execute("SELECT version, schema_name FROM legacyscan_views_version").fetchall() == [
        (VIEWS_VERSION, f"legacyscan-views/{VIEWS_VERSION}")
    ]
    for view in VIEW_NAMES:
        assert conn.execute(f"SELECT * FROM {view}").fetchall() in ([], [(VIEWS_VERSION, "legacyscan-views/1")])  # noqa: S608


@pytest.mark.parametrize(
    "name", ["Robert", "bi reader", "bi;drop", "x'y", 'x"y', "1bi", "pg_bi", "", "a" * 64, "bi-reader", "bï"]
)
def test_role_names_that_could_break_out_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="role name"):
        check_role_name(name)


def test_role_statements_grant_the_views_and_nothing_else() -> None:
    text = "\n".join(readonly_role_sql("bi_reader"))
    grants = re.findall(r"GRANT (\w+) ON ([^']+?) TO", text)
    assert ("SELECT", ", ".join(VIEW_NAMES)) in grants
    assert {g[0] for g in grants} == {"SELECT", "CONNECT", "USAGE"}
    assert "PASSWORD" not in text and "NOSUPERUSER" in text
    assert re.search(r"(?<!NO)(SUPERUSER|CREATEROLE)", text) is None
    assert "default_transaction_read_only = on" in text
