"""What an identifier reads: the catalog and the rules.

Identifiers (``scanner.identify.*``) sit under the registry that dispatches to them
(``scanner.identify.registry``), so they name the context they are given by this small protocol rather than
by ``scanner.identify.registry.IdentifyContext``, which would make each of them import its own caller.
"""

from __future__ import annotations

from typing import Protocol

from eol_data.catalog import Catalog
from eol_data.rules import Rules


class Knowledge(Protocol):
    """The catalog (products and release cycles) and the identification rules of one scan."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def rules(self) -> Rules: ...
