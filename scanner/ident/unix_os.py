"""Placeholder: replaced by the real identifier (issue 3). Identifies nothing yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.model import Identification

if TYPE_CHECKING:
    from scanner.identify import IdentifyContext


def identify(record: dict[str, Any], ctx: IdentifyContext) -> Identification:
    return Identification(None, None, "unix_os.todo", "no identifier yet for this kind of record")
