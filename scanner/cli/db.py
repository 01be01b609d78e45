"""``legacyscan db``: the database as BI tools see it (docs/bi.md).

``db views`` lists the SQL views and their contract version; ``db readonly-role`` prints (or,
with ``--apply``, runs) the PostgreSQL statements that make a login role able to SELECT the views
and nothing else.  The role's password never appears on a command line: ``--apply`` reads it from
``LEGACYSCAN_BI_PASSWORD`` or prompts for it, and sends only its SCRAM-SHA-256 verifier (hashed
on this machine, as psql's ``\\password`` does), so the clear text is in no server log either.
"""

from __future__ import annotations

import argparse
import os
import sys

from scanner.cli.base import CliError, ExitCode, Subparsers, add_common
from scanner.store.views import VIEW_NAMES, VIEWS_SCHEMA, check_role_name, readonly_role_sql

PASSWORD_ENV = "LEGACYSCAN_BI_PASSWORD"  # noqa: S105 - the variable's name, not a password
DEFAULT_ROLE = "legacyscan_bi"


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "db",
        help="the SQL views for BI tools and their read-only database role",
        description="The stable, documented SQL views BI tools read (docs/bi.md) and a "
        "read-only PostgreSQL role for them.",
    )
    actions = p.add_subparsers(dest="db_action", metavar="ACTION")
    actions.required = True
    views = actions.add_parser(
        "views",
        help="list the SQL views and their contract version",
        description="Print the views' contract version and, per view, its columns as this database defines them.",
    )
    add_common(views)
    views.set_defaults(func=run_views)
    role = actions.add_parser(
        "readonly-role",
        help="a PostgreSQL login role that can only SELECT the views",
        description="Print the PostgreSQL statements that create a login role that may read the views "
        "only (no table, no write), for a DBA to run with psql; or run them with --apply "
        "over --db (a superuser's or a role with CREATEROLE that owns the views).  The "
        f"password is read from {PASSWORD_ENV} or prompted for, never from the command line.",
    )
    role.add_argument("--name", default=DEFAULT_ROLE, help="the role's name (default: %(default)s)")
    role.add_argument(
        "--apply", action="store_true", help="run the statements on --db (postgresql://…) instead of printing them"
    )
    add_common(role)
    role.set_defaults(func=run_role)


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


SQLITE_NOTE = """\
SQLite has no roles.  Give a BI tool the database read-only:
  * open it as a URI with mode=ro, e.g. sqlite3 'file:/srv/legacyscan/legacyscan.db?mode=ro'
    (Python: sqlite3.connect('file:/srv/legacyscan/legacyscan.db?mode=ro', uri=True));
  * file permissions: the BI account may read legacyscan.db (and -wal, -shm), never write it;
  * query only the views: {views}.
For a shared, multi-user BI connection, use PostgreSQL (docs/bi.md)."""


def run_role(args: argparse.Namespace) -> int:
    try:
        name = check_role_name(args.name)
    except ValueError as exc:
        raise CliError(str(exc), code=ExitCode.USAGE) from exc
    if not args.apply:
        print(f"-- legacyscan: read-only BI role {name!r} for the SQL views {VIEWS_SCHEMA} (docs/bi.md).")
        print("-- Run as a superuser (or the views' owner with CREATEROLE) in the legacyscan database, e.g.")
        print(
            f"--   legacyscan db readonly-role --name {name} | sudo -u postgres psql -v ON_ERROR_STOP=1 -d legacyscan"
        )
        print(f"-- then set its password in psql (hashed on the client): \\password {name}")
        for statement in readonly_role_sql(name):
            print(statement + ";")
        if not _is_postgres(args.db):
            print(SQLITE_NOTE.format(views=", ".join(VIEW_NAMES)), file=sys.stderr)
        return int(ExitCode.OK)
    if not _is_postgres(args.db):
        raise CliError(
            "--apply needs a PostgreSQL database (--db postgresql://…)",
            hint=SQLITE_NOTE.format(views=", ".join(VIEW_NAMES)),
            code=ExitCode.USAGE,
        )
    print(apply_role(args.db, name, os.environ.get(PASSWORD_ENV)))
    return int(ExitCode.OK)


def _prompt_password(name: str) -> str:
    import getpass

    if not sys.stdin.isatty():
        raise CliError(
            f"role {name!r} is new and needs a password",
            hint=f"set {PASSWORD_ENV} (never on the command line), or run in a terminal to be prompted",
            code=ExitCode.USAGE,
        )
    first = getpass.getpass(f"password for role {name}: ")
    if not first or getpass.getpass("again: ") != first:
        raise CliError("the passwords were empty or did not match", code=ExitCode.USAGE)
    return first


def apply_role(url: str, name: str, password: str | None) -> str:
    """Create or update the role on ``url``; returns the line to print."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        raise CliError(f"PostgreSQL support is not available: {exc}") from exc
    from scanner.store.postgres import redact

    shown = redact(url)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute("SELECT to_regclass('legacyscan_views_version') IS NOT NULL").fetchone()
            if not (found and found[0]):
                raise CliError(
                    f"{shown} has no legacyscan views yet",
                    hint="run any legacyscan command (e.g. `legacyscan report`) once with the owner's "
                    "URL: it migrates the database and creates them",
                )
            row = conn.execute("SELECT version FROM legacyscan_views_version").fetchone()
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None
            if password is None and not exists:
                password = _prompt_password(name)
            with conn.transaction():
                for statement in readonly_role_sql(name):
                    conn.execute(statement.encode())
                if password:
                    verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
                    conn.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(name), sql.Literal(verifier.decode("ascii"))
                        )
                    )
    except psycopg.Error as exc:
        raise CliError(f"cannot set up role {name!r} on {shown}: {exc}") from exc
    version = row[0] if row else "?"
    said = "password set" if password else "password unchanged"
    return f"role {name}: SELECT on {', '.join(VIEW_NAMES)} (views version {version}); no table, no write; {said}"


def run_views(args: argparse.Namespace) -> int:
    from scanner.cli.common import store_from

    with store_from(args) as store:
        print(f"{VIEWS_SCHEMA}")
        for view in VIEW_NAMES:
            print(f"{view}: {', '.join(_columns(store, view))}")
    return int(ExitCode.OK)


def _columns(store: object, view: str) -> list[str]:
    conn = getattr(store, "conn", None)
    if conn is not None:  # SQLite
        cur = conn.execute(f"SELECT * FROM {view} WHERE 1 = 0")  # noqa: S608 - fixed names
        return [d[0] for d in cur.description]
    pool = store.pool  # type: ignore[attr-defined]
    with pool.connection() as pg:
        cur = pg.execute(f"SELECT * FROM {view} WHERE 1 = 0")  # noqa: S608 - fixed names
        return [d[0] for d in cur.description or ()]
