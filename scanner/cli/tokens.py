"""``legacyscan tokens``: per-site enrolment tokens for agent uploads (create, list, revoke)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scanner.cli.base import CliError, ExitCode, Subparsers, add_common
from scanner.cli.common import store_from
from scanner.store.enrolment import TokenError


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "tokens",
        help="manage per-site enrolment tokens for agents",
        description="Agents authenticate with a per-site token; the site of every upload is "
        "the token's site.  Only a hash of each token is stored.",
    )
    actions = p.add_subparsers(dest="tokens_action", metavar="ACTION")
    actions.required = True
    create = actions.add_parser("create", help="create a token for a site (printed once)")
    create.add_argument("--site", required=True, help="the site uploads with this token are filed under")
    create.add_argument("--label", default="", help="a note, e.g. the deployment it is for")
    add_common(create)
    create.set_defaults(func=run)
    lst = actions.add_parser("list", help="list tokens (ids, sites, state; never the tokens)")
    add_common(lst)
    lst.set_defaults(func=run)
    revoke = actions.add_parser("revoke", help="revoke a token by id; its uploads are refused from now on")
    revoke.add_argument("token_id", metavar="ID")
    add_common(revoke)
    revoke.set_defaults(func=run)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    with store_from(args) as store:
        if args.tokens_action == "create":
            try:
                info, token = store.create_token(args.site, _now(), args.label)
            except TokenError as exc:
                raise CliError(str(exc), code=ExitCode.USAGE) from exc
            print(token)
            print(
                f"token {info.token_id} created for site {info.site!r}; it is shown only this once "
                "(give it to the agent with --token)",
                file=sys.stderr,
            )
            return int(ExitCode.OK)
        if args.tokens_action == "list":
            print("id\tsite\tcreated\tstate\tlabel")
            for t in store.list_tokens():
                state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
                print(f"{t.token_id}\t{t.site}\t{t.created_at}\t{state}\t{t.label}")
            return int(ExitCode.OK)
        if not store.revoke_token(args.token_id, _now()):
            raise CliError(f"no active token with id {args.token_id!r}", hint="see `legacyscan tokens list`")
        print(f"token {args.token_id} revoked", file=sys.stderr)
        return int(ExitCode.OK)
