"""The compact wire and storage form of an Inventory: fields still at their default are left out.

Why: a package record has 15 fields of which a real one fills 3 to 5.  Writing only those makes
an upload about half the size and - more to the point - makes the receiving side's validation
(``Inventory.from_dict``, which checks every key it is given) and the store's encoding several
times cheaper, which is what lets one collector keep up with a site's 9 am wave.  The form is the
same JSON document: ``Inventory.from_dict`` puts the defaults back, so
``from_dict(json.loads(compact_json(inv))) == inv``.  ``inventory_id`` and ``schema_version`` are
always written: they identify the document.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from typing import Any

from agents.inventory import (
    Collector,
    Disk,
    FrozenSoftware,
    Hardware,
    Host,
    Inventory,
    OsInfo,
    Problem,
    Software,
)

ALWAYS = frozenset({"inventory_id", "schema_version", "name"})

_MISSING = object()


def _defaults(cls: type) -> tuple[tuple[str, Any], ...]:
    """(field name, its default, or ``_MISSING`` for one always written) of dataclass ``cls``."""
    items = []
    for f in dataclasses.fields(cls):
        if f.name in ALWAYS:
            default: Any = _MISSING
        elif f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = _MISSING
        items.append((f.name, default))
    return tuple(items)


def _plan(cls: type) -> tuple[Any, tuple[tuple[str, Any], ...]]:
    defaults = _defaults(cls)
    return operator.attrgetter(*(name for name, _ in defaults)), defaults


# The plans of the dataclasses an inventory is made of, made when this module is imported: a
# constant of the code (the classes' fields and defaults), not a memo filled at run time.  Any other
# dataclass is planned where it is met.
_PLANS: dict[type, tuple[Any, tuple[tuple[str, Any], ...]]] = {
    cls: _plan(cls) for cls in (Inventory, Host, OsInfo, Software, FrozenSoftware, Disk, Hardware, Problem, Collector)
}


def _compact(obj: Any) -> dict[str, Any]:
    """json.dumps hook: a dataclass as the dict of its non-default fields, in declaration order."""
    plan = _PLANS.get(type(obj))
    if plan is None:
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            raise TypeError(f"cannot serialise {type(obj).__name__}")
        plan = _plan(type(obj))
    getter, defaults = plan
    return {
        name: value for (name, default), value in zip(defaults, getter(obj)) if default is _MISSING or value != default
    }


def compact_json(inv: Inventory) -> str:
    return json.dumps(inv, default=_compact, ensure_ascii=False, separators=(",", ":"))
