"""The SQL views BI tools read (docs/bi.md): defined once here, created by the store's migrations
on SQLite and PostgreSQL alike (``scanner.store.schema``), versioned like the JSON report's schema.

Why views and not the tables: the tables are free to change (a column split, an index, a new
normalisation) while Power BI reports, Grafana panels and an analyst's saved queries keep working.
The views are the contract:

- ``legacyscan_findings``: one row per identified product release on each host's **latest**
  inventory, judged with the newest dataset that judged that inventory; its status as judged on
  ``judged_on`` (the day the inventory was collected) and the range of dates that status holds;
- ``legacyscan_finding_status``: every status range of those findings, so the status on any date
  (today, the end of a quarter, a DSPT census date) is a filter, not a re-match;
- ``legacyscan_hosts``: one row per host (latest inventory): OS verdict, worst status, counts;
- ``legacyscan_sites``: one row per site: device and finding counts, scan coverage;
- ``legacyscan_views_version``: one row, the contract version (``VIEWS_VERSION``).

The stability promise (docs/bi.md): within a major ``VIEWS_VERSION`` columns are only ever
**added, at the end**; a column never changes meaning, type or name.  A later migration that adds
columns must use ``CREATE OR REPLACE VIEW`` on PostgreSQL (which allows exactly that, and keeps
the grants of the read-only role) and ``DROP VIEW`` + ``CREATE VIEW`` on SQLite (no grants there).

Portability: written in the SQL both databases accept.  Dates are ``date(text)``: PostgreSQL
gives a ``date`` (typed, so BI tools build date hierarchies), SQLite the same ``YYYY-MM-DD``
text; both compare with ``CURRENT_DATE`` and with a ``'YYYY-MM-DD'`` literal.  No view reads the
clock: "status today" is the caller's ``CURRENT_DATE`` filter on the ranges (docs/bi.md).

Privacy (docs/privacy.md): no serial numbers, SIDs, registry key paths, evidence documents,
addresses or machine-id-only columns beyond the host key the reports already print.
"""

# ruff: noqa: S608 - fixed SQL text; the one input, a role name, is checked against ROLE_NAME
from __future__ import annotations

import re

VIEWS_VERSION = 1
VIEWS_SCHEMA = f"legacyscan-views/{VIEWS_VERSION}"

# Every object of the contract, in the order docs/bi.md lists them (the read-only role gets SELECT
# on exactly these).
VIEW_NAMES: tuple[str, ...] = (
    "legacyscan_findings",
    "legacyscan_finding_status",
    "legacyscan_hosts",
    "legacyscan_sites",
    "legacyscan_views_version",
)

# The judgement each host's latest inventory is read with: the greatest dataset version that judged
# it.  Versions start with the snapshot's generation time (``endoflife.date@2026-08-22T18:58:02...``),
# so the greatest is the newest dataset; of two judgements with one dataset, the one with a site
# catalogue (``...+site:<digest>``) sorts after the one without.
_LATEST = """
    FROM hosts h
    JOIN judgements j ON j.inventory_id = h.last_inventory_id
     AND j.dataset_version = (SELECT MAX(j2.dataset_version) FROM judgements j2
                              WHERE j2.inventory_id = h.last_inventory_id)
"""

# A device found by credential-free discovery, or listed in the device register, and later inventoried
# by an agent or a probe is one device: the inventory wins and the secondary record leaves the views,
# as it leaves the report (``scanner.discover.link.supersede``, same names: host name and address,
# lower-cased, and the short name of each that is not an IP address; addresses and short names only
# within a site).  A register record is an import
# tagged ``device-register`` (``scanner.imports.register``: the tables keep the tags, not the
# collector's source).  ``{strpos}`` is filled per dialect (``scanner.store.schema``).


def _discovered(inv: str) -> str:
    return f"{inv}.transport = 'discovery'"


def _register(inv: str, host: str) -> str:
    return f"({inv}.transport = 'import' AND {host}.tags LIKE '%\"device-register\"%')"


def _secondary(inv: str, host: str) -> str:
    return f"({_discovered(inv)} OR {_register(inv, host)})"


def _names(alias: str) -> list[str]:
    full = [f"NULLIF(lower(trim({alias}.hostname)), '')", f"NULLIF(lower(trim({alias}.address)), '')"]
    shorts = [
        f"CASE WHEN {v} IS NULL OR {{strpos}}({v}, ':') > 0 OR {{strpos}}({v}, '.') < 2 "
        f"OR trim(replace({v}, '.', ''), '0123456789') = '' THEN NULL "
        f"ELSE substr({v}, 1, {{strpos}}({v}, '.') - 1) END"
        for v in full
    ]
    return full + shorts


def _name_rows(condition: str) -> str:
    # UNION, not UNION ALL: SQLite then computes each side once instead of flattening the join of two
    # compound selects into sixteen joins (2,000-device demo: legacyscan_findings 0.76 s -> 0.09 s)
    return "\n            UNION ".join(
        f"SELECT nh.host_key AS host_key, {name} AS name, COALESCE(trim(nh.site), '') AS site FROM hosts nh "
        f"JOIN inventories ni ON ni.inventory_id = nh.last_inventory_id WHERE {condition}"
        for name in _names("nh")
    )


# An address or a short name is unique only within a site (``scanner.discover.link.site_scoped``):
# it links only within the same site, or where either side names no site; a full DNS name anywhere.
_SITE_SCOPED = (
    "({strpos}(dn.name, '.') = 0 OR {strpos}(dn.name, ':') > 0 OR trim(replace(dn.name, '.', ''), '0123456789') = '')"
)

_SHOWN = f"""h.host_key NOT IN (
        SELECT dn.host_key FROM (
            {_name_rows(_secondary("ni", "nh"))}
        ) dn JOIN (
            {_name_rows("NOT " + _secondary("ni", "nh"))}
        ) pn ON pn.name = dn.name
          AND (NOT {_SITE_SCOPED} OR pn.site = dn.site OR pn.site = '' OR dn.site = ''))"""

# The host key as reports print it: the stored key is "<site>\\x1f<key>" (scoped by site).
_HOST_KEY = "substr(h.host_key, length(h.site) + 2)"

_SEVERITY = (
    "CASE {col} WHEN 'eol' THEN 4 WHEN 'extended' THEN 3 WHEN 'ending-soon' THEN 2 WHEN 'supported' THEN 1 ELSE 0 END"
)


def _count(col: str, status: str) -> str:
    return f"SUM(CASE WHEN {col} = '{status}' THEN 1 ELSE 0 END)"


def _findings_view(c: str, contents: str) -> str:
    """``legacyscan_findings`` with each finding's contents in ``{c}`` (``f``: the ``findings`` row
    itself, schema 5 to 8; ``c``: its ``finding_contents`` row, joined by ``contents``, schema 9)."""
    return f"""
CREATE VIEW legacyscan_findings AS
SELECT h.site AS site,
       h.hostname AS hostname,
       {_HOST_KEY} AS host_key,
       {c}.kind AS kind,
       {c}.product AS product,
       {c}.cycle AS cycle,
       {c}.name AS name,
       {c}.version AS version,
       {c}.status AS status,
       date({c}.eol) AS eol,
       date({c}.extended_until) AS extended_until,
       {c}.rule AS rule,
       {c}.confidence AS confidence,
       f.dataset_version AS dataset_version,
       date(f.judged_on) AS judged_on,
       date(s.valid_from) AS status_from,
       date(s.valid_to) AS status_until,
       {c}.product_label AS product_label,
       {c}.release_label AS release_label,
       f.entries AS entries,
       {c}.reason AS reason,
       h.last_seen AS collected_at,
       f.inventory_id AS inventory_id,
       f.finding_id AS finding_id
{_LATEST}
    JOIN findings f ON f.inventory_id = j.inventory_id AND f.dataset_version = j.dataset_version{contents}
    LEFT JOIN finding_status s ON s.finding_id = f.finding_id
     AND s.valid_from <= f.judged_on AND f.judged_on < s.valid_to
WHERE {c}.product IS NOT NULL
  AND {_SHOWN}
"""


def _finding_status_view(c: str, contents: str) -> str:
    return f"""
CREATE VIEW legacyscan_finding_status AS
SELECT h.site AS site,
       h.hostname AS hostname,
       {_HOST_KEY} AS host_key,
       {c}.kind AS kind,
       {c}.product AS product,
       {c}.cycle AS cycle,
       {c}.name AS name,
       {c}.version AS version,
       date(s.valid_from) AS valid_from,
       date(s.valid_to) AS valid_until,
       s.status AS status,
       date(s.eol) AS eol,
       date(s.extended_until) AS extended_until,
       f.dataset_version AS dataset_version,
       f.finding_id AS finding_id
{_LATEST}
    JOIN findings f ON f.inventory_id = j.inventory_id AND f.dataset_version = j.dataset_version{contents}
    JOIN finding_status s ON s.finding_id = f.finding_id
WHERE {c}.product IS NOT NULL
  AND {_SHOWN}
"""


FINDINGS = _findings_view("f", "")
FINDING_STATUS = _finding_status_view("f", "")

_STATUSES = (
    ("eol", "eol"),
    ("extended", "extended"),
    ("ending_soon", "ending-soon"),
    ("supported", "supported"),
    ("unknown", "unknown"),
)


def _hosts_view(oc: str, os_join: str, c: str, contents: str) -> str:
    """``legacyscan_hosts`` with the contents of its OS finding ``o`` in ``{oc}`` (``os_join``
    reads both), and those of the findings it counts in ``{c}``, joined by ``contents`` (see
    ``_findings_view``)."""
    severity = _SEVERITY.format(col=f"{c}.status")
    counts = ",\n".join(f"       {_count(f'{c}.status', status)} AS n_{col}" for col, status in _STATUSES)
    return f"""
CREATE VIEW legacyscan_hosts AS
SELECT h.site AS site,
       h.hostname AS hostname,
       {_HOST_KEY} AS host_key,
       h.tags AS tags,
       i.transport AS transport,
       i.os_family AS os_family,
       i.os_name AS os_name,
       h.first_seen AS first_seen,
       h.last_seen AS collected_at,
       i.software_count AS software_count,
       j.unidentified AS unidentified_packages,
       {oc}.product AS os_product,
       {oc}.cycle AS os_cycle,
       {oc}.release_label AS os_release,
       {oc}.status AS os_status,
       date({oc}.eol) AS os_eol,
       date({oc}.extended_until) AS os_extended_until,
       CASE WHEN j.inventory_id IS NULL THEN NULL
            WHEN c.severity = 4 THEN 'eol' WHEN c.severity = 3 THEN 'extended'
            WHEN c.severity = 2 THEN 'ending-soon' WHEN c.severity = 1 THEN 'supported'
            ELSE 'unknown' END AS worst_status,
       COALESCE(c.n_eol, 0) AS findings_eol,
       COALESCE(c.n_extended, 0) AS findings_extended,
       COALESCE(c.n_ending_soon, 0) AS findings_ending_soon,
       COALESCE(c.n_supported, 0) AS findings_supported,
       COALESCE(c.n_unknown, 0) AS findings_unknown,
       j.dataset_version AS dataset_version,
       date(j.judged_on) AS judged_on,
       h.last_inventory_id AS inventory_id,
       CASE WHEN {_discovered("i")} THEN 'discovered' WHEN {_register("i", "h")} THEN 'register'
            ELSE 'inventory' END AS source
FROM hosts h
    JOIN inventories i ON i.inventory_id = h.last_inventory_id
    LEFT JOIN judgements j ON j.inventory_id = h.last_inventory_id
     AND j.dataset_version = (SELECT MAX(j2.dataset_version) FROM judgements j2
                              WHERE j2.inventory_id = h.last_inventory_id)
    LEFT JOIN {os_join} ON o.inventory_id = j.inventory_id AND o.dataset_version = j.dataset_version
     AND {oc}.kind = 'os'
    LEFT JOIN (
        SELECT f.inventory_id AS inventory_id, f.dataset_version AS dataset_version,
               MAX({severity}) AS severity,
{counts}
        FROM hosts lh
        JOIN findings f ON f.inventory_id = lh.last_inventory_id{contents}
        WHERE {c}.product IS NOT NULL
        GROUP BY f.inventory_id, f.dataset_version
    ) c ON c.inventory_id = j.inventory_id AND c.dataset_version = j.dataset_version
WHERE {_SHOWN}
"""


HOSTS = _hosts_view("o", "findings o", "f", "")

_HOST_COUNTS = ",\n".join(
    [f"       COALESCE({_count('v.worst_status', status)}, 0) AS hosts_{col}" for col, status in _STATUSES]
    + [
        "       COALESCE(SUM(CASE WHEN v.host_key IS NOT NULL AND v.worst_status IS NULL THEN 1 ELSE 0 END), 0)"
        " AS hosts_not_judged"
    ]
    + [f"       COALESCE({_count('v.os_status', status)}, 0) AS os_{col}" for col, status in _STATUSES]
    # SUM of a bigint is numeric on PostgreSQL: cast back, a count is a whole number
    + [f"       CAST(COALESCE(SUM(v.findings_{col}), 0) AS BIGINT) AS findings_{col}" for col, _ in _STATUSES]
)

SITES = f"""
CREATE VIEW legacyscan_sites AS
SELECT x.site AS site,
       COUNT(v.host_key) AS hosts,
{_HOST_COUNTS},
       MIN(v.first_seen) AS first_seen,
       MAX(v.collected_at) AS last_collected_at,
       COALESCE(MAX(t.targets), 0) AS targets,
       COALESCE(MAX(t.not_reached), 0) AS targets_not_reached
FROM (SELECT site FROM hosts UNION SELECT site FROM scan_status) x
    LEFT JOIN legacyscan_hosts v ON v.site = x.site
    LEFT JOIN (SELECT site, COUNT(*) AS targets,
                      SUM(CASE WHEN status IN ('ok', 'partial') THEN 0 ELSE 1 END) AS not_reached
               FROM scan_status GROUP BY site) t ON t.site = x.site
GROUP BY x.site
HAVING COUNT(v.host_key) > 0 OR MAX(t.targets) > 0
"""

VERSION = f"""
CREATE VIEW legacyscan_views_version AS
SELECT {VIEWS_VERSION} AS version, '{VIEWS_SCHEMA}' AS schema_name
"""

# Migration 5 of ``scanner.store.schema``: the views of version 1.  No ``;`` inside a statement and no
# ``{{``/``}}`` (the migration text is split on ``;`` and filled with ``str.format``).
MIGRATION_V1 = ";\n".join(s.strip() for s in (FINDINGS, FINDING_STATUS, HOSTS, SITES, VERSION))

# Migration 9: the same views, same columns and rows, reading each finding's contents from
# ``finding_contents``.  ``{replace_view}`` is ``CREATE OR REPLACE VIEW`` on PostgreSQL (the view
# keeps its grants, the read-only role's) and ``CREATE VIEW`` on SQLite, where the migration drops
# the view first (``scanner.store.schema``).
CONTENT_VIEWS: tuple[tuple[str, str], ...] = tuple(
    (name, text.strip().replace("CREATE VIEW", "{replace_view}", 1))
    for name, text in (
        ("legacyscan_findings", _findings_view("c", "\n    JOIN finding_contents c ON c.content_id = f.content_id")),
        (
            "legacyscan_finding_status",
            _finding_status_view("c", "\n    JOIN finding_contents c ON c.content_id = f.content_id"),
        ),
        (
            "legacyscan_hosts",
            _hosts_view(
                "oc",
                "(findings o JOIN finding_contents oc ON oc.content_id = o.content_id)",
                "fc",
                "\n        JOIN finding_contents fc ON fc.content_id = f.content_id",
            ),
        ),
    )
)


# -- the read-only role (PostgreSQL) ------------------------------------------------------------

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_role_name(name: str) -> str:
    """A role name safe to write into SQL unquoted-equivalent (lower case, digits, underscore)."""
    if not ROLE_NAME.match(name) or name.startswith("pg_"):
        raise ValueError(
            f"role name {name!r}: use lower-case letters, digits and '_' (at most 63, "
            "not starting with a digit or 'pg_')"
        )
    return name


def readonly_role_sql(name: str) -> list[str]:
    """The statements that make ``name`` a login role that can SELECT the views and nothing else.

    Idempotent (re-run after a major views version to grant the new views).  No password: set it
    with psql's ``\\password`` (hashed on the client) or ``legacyscan db readonly-role --apply``.
    The role is NOINHERIT and read-only by default; it gets CONNECT on the current database,
    USAGE on the schema holding the views, and SELECT on each view -- never on a table, so the
    documents, software rows, tokens and scan errors stay out of reach.
    """
    role = check_role_name(name)
    views = ", ".join(VIEW_NAMES)
    return [
        "DO $do$ BEGIN\n"
        f"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN\n"
        f"    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;\n"
        "  END IF;\n"
        "END $do$",
        f"ALTER ROLE {role} SET default_transaction_read_only = on",
        "DO $do$ BEGIN\n"
        f"  EXECUTE format('GRANT CONNECT ON DATABASE %I TO {role}', current_database());\n"
        "  EXECUTE format('GRANT USAGE ON SCHEMA %I TO "
        f"{role}', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = 'legacyscan_findings'::regclass));\n"
        "END $do$",
        f"GRANT SELECT ON {views} TO {role}",
    ]
