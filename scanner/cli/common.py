"""Helpers shared by command modules: store, catalog, policy and output plumbing."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from eol_data.catalog import Catalog, CatalogError, load_default
from scanner.cli.base import CliError
from scanner.files import FileRefused, atomic_output, atomic_write
from scanner.identify.registry import IdentifyContext
from scanner.model import Policy
from scanner.store.open import open_store
from scanner.store.sqlite import Store, StoreError

if TYPE_CHECKING:
    from eol_data.site import SiteCatalog
    from scanner.judge.timeline import Judge
    from scanner.privacy import Privacy


def store_from(args: argparse.Namespace) -> Store:
    """The store of ``--db``; inventories it stores are judged with the command's site catalogue
    (when one is given or present) and the installed dataset."""
    try:
        store = open_store(args.db)
    except StoreError as exc:
        raise CliError(str(exc), hint="check --db (or LEGACYSCAN_DB)") from exc
    if hasattr(args, "site_catalog"):  # None: the default legacyscan-site.toml when present
        store.use_judge(lambda: judge_for(args))
    return store


def no_inventories(args: argparse.Namespace, hint: str) -> CliError:
    """ "No inventories stored yet", naming the database: a mistyped --db is seen at once."""
    from scanner.store.dataset_change import sqlite_path

    path = sqlite_path(args.db)
    if path is None:
        from scanner.store.postgres import redact

        return CliError(f"no inventories stored yet in {redact(args.db)}", hint=hint)
    name = "/" + str(path).lstrip("/") if str(path).startswith("//") else str(path)  # sqlite:////abs/path
    if name != ":memory:" and not path.exists():
        return CliError(f"no inventories stored yet: no database at {name}", hint=hint)
    return CliError(f"no inventories stored yet in {name}", hint=hint)


def read_store_from(args: argparse.Namespace, hint: str) -> Store:
    """``store_from`` for a command that only reads: a SQLite file that does not exist is the
    error ``no_inventories`` and is not created (nor its folder) by a mistyped --db."""
    from scanner.store.dataset_change import sqlite_path

    path = sqlite_path(args.db)
    if path is not None and str(path) != ":memory:" and not path.exists():
        raise no_inventories(args, hint)
    return store_from(args)


def judge_for(args: argparse.Namespace) -> Judge:
    """The judge of this command's dataset and site catalogue (``scanner.judge.timeline``)."""
    from scanner.judge.timeline import Judge

    ctx, policy = context_and_policy(args)
    return Judge(ctx, policy)


class LazyStore:
    """The store, opened on first use: a command that ends up storing nothing (an ``import`` whose
    every file is refused) leaves no ``legacyscan.db`` behind in the working folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._store: Store | None = None

    def __getattr__(self, name: str) -> object:
        if self._store is None:
            self._store = store_from(self._args)
        return getattr(self._store, name)

    def __enter__(self) -> LazyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._store is not None:
            self._store.close()


def catalog() -> Catalog:
    try:
        return load_default()
    except CatalogError as exc:
        raise CliError(str(exc), hint="reinstall legacyscan, or run `legacyscan eol update`") from exc


def context_and_policy(args: argparse.Namespace) -> tuple[IdentifyContext, Policy]:
    """Catalog + rules, extended by the site catalogue when one is configured.

    A fresh Catalog per command: site products are added to the catalog itself, and must not
    leak into the process-wide default another caller may share.
    """
    ctx, policy, _site = site_context(args)
    return ctx, policy


def site_context(args: argparse.Namespace) -> tuple[IdentifyContext, Policy, SiteCatalog | None]:
    """``context_and_policy`` plus the site catalogue itself (None without one): ``report`` prices
    its entitlements and names the file in the evidence.

    Made once per command (kept on ``args``): ``scan`` judges each inventory as it is stored and
    then matches the same inventories for its report, and with one context the report finds every
    package already identified (identification does not depend on the date)."""
    made = getattr(args, "_site_context", None)
    if made is None:
        made = _site_context(args)
        args._site_context = made
    return made


def _site_context(args: argparse.Namespace) -> tuple[IdentifyContext, Policy, SiteCatalog | None]:
    from eol_data.site import SiteCatalogError
    from scanner.identify.site_rules import apply_site_catalog_with_source

    try:
        ctx = IdentifyContext(Catalog(dataset_dir(getattr(args, "dataset", None))))
    except CatalogError as exc:
        raise CliError(str(exc), hint="reinstall legacyscan, or run `legacyscan eol update`") from exc
    try:
        applied = apply_site_catalog_with_source(ctx, getattr(args, "site_catalog", None))
    except SiteCatalogError as exc:
        raise CliError(str(exc), hint="fix the site catalogue (see docs/site-catalogue.md)") from exc
    if applied is None:
        return ctx, Policy(), None
    return ctx, applied[0], applied[1]


def dataset_dir(version: str | None) -> Path | None:
    """The snapshot of ``--dataset VERSION`` (None: the installed one); unknown -> a clear error."""
    if not version:
        return None
    from scanner.datasets import find, known_versions

    found = find(version)
    if found is None:
        raise CliError(
            f"--dataset: no kept EOL snapshot has version {version!r}",
            hint="kept versions: "
            + "; ".join(known_versions())
            + " (`legacyscan eol update --keep N` keeps previous ones)",
        )
    return found


@contextmanager
def output(path: str | None, binary: bool = False) -> Iterator[IO[str]]:
    """stdout, or a file written atomically (a half-written report never replaces a good one).

    ``scanner.files.atomic_output``: an unpredictable temporary name in the target's folder (a
    planted symlink is never followed) and an existing device/FIFO/directory is refused, not replaced.
    """
    if not path or path == "-":
        yield cast("IO[str]", _TerminalSafe(sys.stdout)) if _is_terminal(sys.stdout) else sys.stdout
        return
    try:
        with atomic_output(path) as fh:
            yield fh
    except FileRefused as exc:
        raise CliError(str(exc), hint="--out names the report file to write ('-' for standard output)") from exc


_UNSAFE_ASCII = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class _TerminalSafe:
    """A report on its way to a terminal: every control character a value could carry (an ESC or
    CSI from a hostile DisplayName or SSH banner, a C1 control JSON leaves raw, a bidi override) is
    shown as a visible escape (``scanner.terminal.printable``), while the layout's own newlines, tabs
    and CSV's CR LF pass.  Only a terminal gets this: a file or a pipe receives the report's exact
    bytes (data, not display)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if not (text.isascii() and _UNSAFE_ASCII.search(text) is None):
            from scanner.terminal import printable

            text = "\r\n".join(printable(part, keep_newlines=True) for part in text.split("\r\n"))
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()


def write_file(path: str | Path, data: bytes | str, *, option: str = "--out") -> None:
    """``scanner.files.atomic_write`` with a refusal turned into a friendly CLI error."""
    try:
        atomic_write(path, data)
    except FileRefused as exc:
        raise CliError(str(exc), hint=f"{option} names a regular file to write") from exc


def privacy_from(args: argparse.Namespace) -> Privacy:
    """The ``[privacy]`` setting of ``--config`` (default ``legacyscan.toml`` here when present),
    applied to every inventory before it is stored (scan, import, serve)."""
    from scanner.privacy import PrivacyConfigError, load

    try:
        return load(getattr(args, "config", None))
    except PrivacyConfigError as exc:
        raise CliError(str(exc), hint="see docs/privacy.md ([privacy] in legacyscan.toml)") from exc
