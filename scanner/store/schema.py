"""The store's schema: ONE definition, rendered for SQLite and for PostgreSQL.

Why one definition: two hand-kept copies of the DDL drift apart (a column added to one backend
only, an index forgotten on the other), and the contract suite would find that only when a test
happens to touch it.  Each migration below is written once in the SQL both databases accept; the
places they differ are placeholders that ``render`` fills per dialect:

- ``{blob}``: ``BLOB`` (SQLite) / ``BYTEA`` (PostgreSQL), the compressed document as received;
- ``{chr31}``: ``char(31)`` / ``chr(31)``, the separator of the site-scoped host key;
- ``{strpos}``: ``instr`` / ``strpos``, the position of a substring (same arguments);
- ``{replace_view}``: ``CREATE VIEW`` / ``CREATE OR REPLACE VIEW`` (PostgreSQL keeps a replaced
  view's grants; SQLite has no grants and drops the view first, in a ``{sqlite_only}`` statement);
- ``{sqlite_only}`` / ``{postgresql_only}`` in front of a statement: it runs on that database only;
- nothing else: dates are ISO-8601 ``TEXT`` on both (they sort and compare as dates, and a BI
  tool reads them as text or casts them), booleans are ``INTEGER`` 0/1.

``MIGRATIONS`` is an explicit, append-only list: number N is applied once, in order, and recorded
(SQLite ``PRAGMA user_version``, PostgreSQL table ``legacyscan_schema``).  Never edit a migration
that has shipped; add one.

The views (``legacyscan_findings``, ``legacyscan_finding_status``, ``legacyscan_hosts``,
``legacyscan_sites``, ``legacyscan_views_version``) are the stable, documented interface for BI
tools (docs/bi.md), defined in ``scanner.store.views`` and created here, by migration 5, like every
table: ``VIEWS_VERSION`` is their contract version, bumped like the JSON report's schema version
when a column changes meaning or goes away (a new column at the end is not a break).
"""

from __future__ import annotations

from typing import Literal

from scanner.store.views import CONTENT_VIEWS, VIEWS_VERSION
from scanner.store.views import MIGRATION_V1 as VIEWS_V1

Dialect = Literal["sqlite", "postgresql"]

# The open end of a status range ("still so on every later date").
OPEN_END = "9999-12-31"
# The start of the first range ("on every earlier date").
FIRST_DAY = "0001-01-01"

# A statement that starts with this after rendering is left out (``{sqlite_only}``, ``{postgresql_only}``).
_ELSEWHERE = "--elsewhere--"

_SUBSTITUTIONS: dict[Dialect, dict[str, str]] = {
    "sqlite": {
        "blob": "BLOB",
        "chr31": "char(31)",
        "strpos": "instr",
        "replace_view": "CREATE VIEW",
        "sqlite_only": "",
        "postgresql_only": _ELSEWHERE,
    },
    "postgresql": {
        "blob": "BYTEA",
        "chr31": "chr(31)",
        "strpos": "strpos",
        "replace_view": "CREATE OR REPLACE VIEW",
        "sqlite_only": _ELSEWHERE,
        "postgresql_only": "",
    },
}

_FACTS = """
    CREATE TABLE inventory_facts (
        inventory_id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        machine_id TEXT NOT NULL,
        site TEXT NOT NULL,
        address TEXT NOT NULL,
        tags TEXT NOT NULL,
        collected_at TEXT NOT NULL,
        transport TEXT NOT NULL,
        collector_source TEXT NOT NULL,
        product_type TEXT,
        hw_vendor TEXT NOT NULL,
        hw_model TEXT NOT NULL,
        cpu_model TEXT NOT NULL,
        memory_bytes BIGINT,
        system_disk_bytes BIGINT,
        tpm_present INTEGER,
        tpm_version TEXT NOT NULL,
        firmware_type TEXT NOT NULL,
        secure_boot INTEGER
    )
    """

# A finding's contents (migration 9): its columns in ``finding_contents`` after ``content_id``.
CONTENT_COLUMNS = (
    "kind",
    "name",
    "version",
    "product",
    "cycle",
    "product_label",
    "group_key",
    "rule",
    "reason",
    "evidence",
    "confidence",
    "release_label",
    "release_source",
    "status",
    "eol",
    "extended_until",
)

# Migration 9's statements (below): a finding's contents stored once.
_CONTENTS = ", ".join(CONTENT_COLUMNS)
_HOST_FINDING = "finding_id, inventory_id, dataset_version, ordinal, host_key, site, hostname"
_MIGRATION_9 = f"""
    CREATE TABLE finding_contents (
        content_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        product TEXT,
        cycle TEXT,
        product_label TEXT NOT NULL,
        group_key TEXT,
        rule TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL,
        confidence TEXT NOT NULL,
        release_label TEXT NOT NULL,
        release_source TEXT NOT NULL,
        status TEXT NOT NULL,
        eol TEXT,
        extended_until TEXT
    );
    INSERT INTO finding_contents (content_id, {_CONTENTS})
        SELECT 'f:' || MIN(finding_id), {_CONTENTS} FROM findings GROUP BY {_CONTENTS};
    ALTER TABLE findings RENAME TO findings_v8;
    DROP INDEX findings_inventory;
    DROP INDEX findings_dataset;
    {{postgresql_only}}ALTER INDEX findings_pkey RENAME TO findings_v8_pkey;
    CREATE TABLE findings (
        finding_id TEXT PRIMARY KEY,
        inventory_id TEXT NOT NULL,
        dataset_version TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        host_key TEXT NOT NULL,
        site TEXT NOT NULL,
        hostname TEXT NOT NULL,
        content_id TEXT NOT NULL,
        entries INTEGER NOT NULL,
        judged_on TEXT NOT NULL
    );
    INSERT INTO findings ({_HOST_FINDING}, content_id, entries, judged_on)
        SELECT {_HOST_FINDING}, 'f:' || MIN(finding_id) OVER (PARTITION BY {_CONTENTS}), entries, judged_on
        FROM findings_v8;
    CREATE INDEX findings_inventory ON findings(inventory_id, dataset_version, ordinal);
    CREATE INDEX findings_dataset ON findings(dataset_version, site);
    {";".join(f"{{sqlite_only}}DROP VIEW {name}" for name, _ in CONTENT_VIEWS)};
    {";".join(text for _, text in CONTENT_VIEWS)};
    DROP TABLE findings_v8
"""  # noqa: S608 - fixed names

MIGRATIONS: list[str] = [
    # 1: inventories, hosts, scan status
    """
    CREATE TABLE hosts (
        host_key TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        machine_id TEXT NOT NULL,
        site TEXT NOT NULL,
        tags TEXT NOT NULL,
        address TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_inventory_id TEXT NOT NULL
    );
    CREATE TABLE inventories (
        inventory_id TEXT PRIMARY KEY,
        host_key TEXT NOT NULL,
        site TEXT NOT NULL,
        collected_at TEXT NOT NULL,
        transport TEXT NOT NULL,
        os_family TEXT NOT NULL,
        os_name TEXT NOT NULL,
        software_count INTEGER NOT NULL,
        body {blob} NOT NULL
    );
    CREATE INDEX inventories_host ON inventories(host_key, collected_at);
    CREATE INDEX hosts_site ON hosts(site);
    CREATE TABLE scan_status (
        target TEXT NOT NULL,
        site TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT NOT NULL,
        at TEXT NOT NULL,
        host_key TEXT NOT NULL,
        last_ok_at TEXT NOT NULL,
        PRIMARY KEY (target, site)
    );
    """,
    # 2: per-site enrolment tokens for agent uploads (only a SHA-256 of each token is kept)
    """
    CREATE TABLE tokens (
        token_id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        site TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT NOT NULL
    );
    """,
    # 3: a host's identity is scoped by its site (issue #19: one site's token must never write, or
    # move, another site's host).  Existing keys get their row's site in front, as ``row_key`` does.
    """
    UPDATE hosts SET host_key = site || {chr31} || host_key;
    UPDATE inventories SET host_key = site || {chr31} || host_key
    """,
    # 4: the store as data (issue #17).  Software rows normalised: each distinct (name, version,
    # publisher, source) once in ``software``, each inventory's entries in ``inventory_software``.
    # Findings persisted per inventory and dataset version, each with its rule, evidence,
    # confidence and the date ranges of its statuses (``finding_status``): the status on any date
    # is a query.  ``judgements`` records that an inventory was judged with a dataset (and how
    # many of its packages are not tracked products); ``datasets`` lists the versions that judged.
    # Existing inventories keep their document (``inventories.body``, nothing is dropped); their
    # rows here are filled by ``Store.judge_pending`` (Python: it decodes and judges).
    """
    CREATE TABLE software (
        software_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        publisher TEXT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE TABLE inventory_software (
        inventory_id TEXT NOT NULL,
        software_id TEXT NOT NULL,
        entries INTEGER NOT NULL,
        PRIMARY KEY (inventory_id, software_id)
    );
    CREATE INDEX inventory_software_software ON inventory_software(software_id);
    CREATE TABLE datasets (
        dataset_version TEXT PRIMARY KEY,
        first_judged_on TEXT NOT NULL
    );
    CREATE TABLE judgements (
        inventory_id TEXT NOT NULL,
        dataset_version TEXT NOT NULL,
        judged_on TEXT NOT NULL,
        unidentified INTEGER NOT NULL,
        PRIMARY KEY (inventory_id, dataset_version)
    );
    CREATE TABLE findings (
        finding_id TEXT PRIMARY KEY,
        inventory_id TEXT NOT NULL,
        dataset_version TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        host_key TEXT NOT NULL,
        site TEXT NOT NULL,
        hostname TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        product TEXT,
        cycle TEXT,
        product_label TEXT NOT NULL,
        group_key TEXT,
        entries INTEGER NOT NULL,
        rule TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL,
        confidence TEXT NOT NULL,
        release_label TEXT NOT NULL,
        release_source TEXT NOT NULL,
        judged_on TEXT NOT NULL,
        status TEXT NOT NULL,
        eol TEXT,
        extended_until TEXT
    );
    CREATE INDEX findings_inventory ON findings(inventory_id, dataset_version, ordinal);
    CREATE INDEX findings_dataset ON findings(dataset_version, site);
    CREATE TABLE finding_status (
        finding_id TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL,
        status TEXT NOT NULL,
        eol TEXT,
        extended_until TEXT,
        PRIMARY KEY (finding_id, valid_from)
    );
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 5: the SQL views for BI tools, version 1 (scanner.store.views, docs/bi.md)
    VIEWS_V1,
    # 6: package lists stored once per distinct list (issue #12's fleet benchmark: ~880 rows per
    # Debian host in ``inventory_software`` were most of a fleet scan's storing).  A distinct list
    # (its packages and their entry counts) is one ``software_sets`` row with its members; an
    # inventory points at its list.  Existing rows move over as one list per inventory (id
    # ``inv:<inventory id>``, as no content hash can be computed in SQL on both databases); new
    # inventories of an already stored list share it.  ``inventory_software`` becomes a view with
    # the same columns and rows as the table it replaces.
    """
    CREATE TABLE software_sets (
        set_id TEXT PRIMARY KEY,
        packages INTEGER NOT NULL,
        entries INTEGER NOT NULL
    );
    CREATE TABLE software_set_members (
        set_id TEXT NOT NULL,
        software_id TEXT NOT NULL,
        entries INTEGER NOT NULL,
        PRIMARY KEY (set_id, software_id)
    );
    CREATE INDEX software_set_members_software ON software_set_members(software_id);
    CREATE TABLE inventory_software_sets (
        inventory_id TEXT PRIMARY KEY,
        set_id TEXT NOT NULL
    );
    CREATE INDEX inventory_software_sets_set ON inventory_software_sets(set_id);
    INSERT INTO software_sets (set_id, packages, entries)
        SELECT 'inv:' || inventory_id, COUNT(*), SUM(entries) FROM inventory_software GROUP BY inventory_id;
    INSERT INTO software_set_members (set_id, software_id, entries)
        SELECT 'inv:' || inventory_id, software_id, entries FROM inventory_software;
    INSERT INTO inventory_software_sets (inventory_id, set_id)
        SELECT DISTINCT inventory_id, 'inv:' || inventory_id FROM inventory_software;
    DROP TABLE inventory_software;
    CREATE VIEW inventory_software AS
    SELECT l.inventory_id AS inventory_id, m.software_id AS software_id, m.entries AS entries
    FROM inventory_software_sets l JOIN software_set_members m ON m.set_id = l.set_id
    """,
    # 7: each judgement's steady range (issue #17 item 4): the dates ``[steady_from, steady_to)``
    # on which every finding of the judgement is in the state it was judged in (its status range
    # around the judging day, intersected over the findings).  A report on a date inside it reads
    # the findings as stored, without a status-range lookup per finding; outside it, the host is
    # re-judged.  NULL (a judgement without findings, or one whose ranges do not all hold the
    # judged state): the report looks the statuses up per finding, as before.  Existing
    # judgements are filled here from ``finding_status``; new ones by ``scanner.judge.timeline``.
    """
    ALTER TABLE judgements ADD COLUMN steady_from TEXT;
    ALTER TABLE judgements ADD COLUMN steady_to TEXT;
    UPDATE judgements SET
        steady_from = CASE WHEN
            (SELECT COUNT(*) FROM findings f
             WHERE f.inventory_id = judgements.inventory_id AND f.dataset_version = judgements.dataset_version)
          = (SELECT COUNT(*) FROM findings f JOIN finding_status s ON s.finding_id = f.finding_id
             AND s.valid_from <= judgements.judged_on AND s.valid_to > judgements.judged_on
             AND s.status = f.status AND COALESCE(s.eol, '') = COALESCE(f.eol, '')
             AND COALESCE(s.extended_until, '') = COALESCE(f.extended_until, '')
             WHERE f.inventory_id = judgements.inventory_id AND f.dataset_version = judgements.dataset_version)
        THEN
            (SELECT MAX(s.valid_from) FROM findings f JOIN finding_status s ON s.finding_id = f.finding_id
             AND s.valid_from <= judgements.judged_on AND s.valid_to > judgements.judged_on
             WHERE f.inventory_id = judgements.inventory_id AND f.dataset_version = judgements.dataset_version)
        END;
    UPDATE judgements SET
        steady_to = (SELECT MIN(s.valid_to) FROM findings f JOIN finding_status s ON s.finding_id = f.finding_id
             AND s.valid_from <= judgements.judged_on AND s.valid_to > judgements.judged_on
             WHERE f.inventory_id = judgements.inventory_id AND f.dataset_version = judgements.dataset_version)
        WHERE steady_from IS NOT NULL
    """,
    # 8: each inventory's host facts as columns (issue #17 item 4, ``scanner.store.facts``): what
    # a report reads of a host besides its findings (name, site, tags, address, the Windows product
    # type, the hardware facts of Windows 11 readiness and the device rows, the collector's
    # transport and source), written at ingest, so a report no longer decodes every document.
    # Existing inventories are filled from their stored documents right after this script, in the
    # same transaction (``FACTS_MIGRATION``: ``scanner.store.facts.backfill``, Python: it decodes).
    _FACTS,
    # 9: a finding's contents stored once (issue #17 item 4): what a judgement says about a product
    # (kind, name, version, product, cycle, labels, group, rule, reason, evidence, confidence,
    # release, status and dates; ``CONTENT_COLUMNS`` above) is the same on every
    # host carrying it, so it is one ``finding_contents`` row; a ``findings`` row keeps the host's
    # part (inventory, dataset, ordinal, host, entries, judging day) and the id of its contents.
    # A report builds each distinct contents' objects once instead of once per finding.  New
    # contents are named by a hash of their values (``relational.content_id``); existing ones here
    # ``f:<the smallest finding id carrying them>`` (no hash function common to both databases),
    # each distinct contents once.  The BI views keep their columns and rows (``views.CONTENT_VIEWS``).
    _MIGRATION_9,
    # 10: the index a report reads a host's findings by holds what it reads of them (content id and
    # entries, schema 9), so the read is the index alone, with no lookup in the table per finding
    # (20,000-device demo, the latest scan's 153,079 findings: 0.57 s -> 0.18 s CPU on SQLite).
    """
    DROP INDEX findings_inventory;
    CREATE INDEX findings_inventory ON findings(inventory_id, dataset_version, ordinal, content_id, entries)
    """,
    # 11: which release and rules judged a judgement (``scanner.judge.fingerprint``): a release that
    # fixes a wrong verdict changes no dataset version, so a report reuses a judgement's findings
    # only when its ``judged_by`` is the installed fingerprint (``scanner.report.stored``) and
    # re-judges the host otherwise; ``legacyscan eol rejudge`` replaces them.  NULL: judged before
    # this column existed (by an older release: never reused).
    """
    ALTER TABLE judgements ADD COLUMN judged_by TEXT
    """,
]

# The migration (1-based) after whose script each backend runs ``scanner.store.facts.backfill``.
FACTS_MIGRATION = MIGRATIONS.index(_FACTS) + 1


# Views that stand for a table of an earlier schema, so SQL written against it keeps working (not
# part of the BI contract of ``scanner.store.views``; the read-only role is granted none of them).
TABLE_VIEWS: tuple[str, ...] = ("inventory_software",)


__all__ = [
    "FACTS_MIGRATION",
    "FIRST_DAY",
    "MIGRATIONS",
    "OPEN_END",
    "CONTENT_COLUMNS",
    "TABLE_VIEWS",
    "VIEWS_VERSION",
    "Dialect",
    "migrations",
    "render",
]


def render(script: str, dialect: Dialect) -> list[str]:
    """The statements of one migration for ``dialect``: placeholders filled, split on ``;``."""
    text = script.format(**_SUBSTITUTIONS[dialect])
    return [s.strip() for s in text.split(";") if s.strip() and not s.strip().startswith(_ELSEWHERE)]


def migrations(dialect: Dialect) -> list[list[str]]:
    """Every migration's statements for ``dialect`` (index 0 is migration 1)."""
    return [render(m, dialect) for m in MIGRATIONS]
