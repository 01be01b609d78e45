"""Helpers shared by command modules: store, catalog, policy and output plumbing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from eol_data.catalog import Catalog, CatalogError, load_default
from scanner.cli import CliError
from scanner.identify import IdentifyContext
from scanner.model import Policy
from scanner.store import Store, StoreError, open_store


def store_from(args: argparse.Namespace) -> Store:
    try:
        return open_store(args.db)
    except StoreError as exc:
        raise CliError(str(exc), hint="check --db (or LEGACYSCAN_DB)") from exc


def catalog() -> Catalog:
    try:
        return load_default()
    except CatalogError as exc:
        raise CliError(str(exc), hint="reinstall legacyscan, or run `legacyscan eol update`") from exc


def context_and_policy(args: argparse.Namespace) -> tuple[IdentifyContext, Policy]:
    """Catalog + rules, extended by the site catalogue when one is configured."""
    cat = catalog()
    ctx = IdentifyContext(cat)
    policy = Policy()
    try:
        from eol_data import site
    except ImportError:
        return ctx, policy
    loader = getattr(site, "apply_site_catalog", None)
    if loader is not None:
        policy = loader(ctx, getattr(args, "site_catalog", None)) or policy
    return ctx, policy


@contextmanager
def output(path: str | None, binary: bool = False) -> Iterator[IO[str]]:
    """stdout, or a file written atomically (a half-written report never replaces a good one)."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        yield fh
    tmp.replace(target)
