"""The exception / risk-acceptance register: the file a trust edits to record informed decisions.

Why: DSPT 8.2.1 asks for "the risk of continuing to use each unsupported item, the reasons for
doing so and a summary of the action your organisation is taking", formally accepted by the
board or SIRO; CAF B4.d asks for "temporary mitigations for unsupported systems while pursuing
migration".  Medical devices are the usual case (a manufacturer-locked Windows 7 PACS modality
on a segregated VLAN).  An accepted finding leaves the action list but stays visible in the
register, and an exception that has expired brings its findings back, flagged, so nothing is
silently accepted for ever.

Format: TOML (``[[exception]]`` tables) or CSV (one row per exception, the same keys as
columns; lists separated by ``;``).  See ``docs/reports.md`` and ``examples/exceptions.toml``.
Every error names the file and the row (and the exception id when it has one).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from eol_data.catalog import strict_date
from scanner.files import FileRefused, loads_toml, read_regular_text
from scanner.model import Finding

CATEGORIES: dict[str, str] = {
    "third-party-control": "Third-party control (supplier manages the system)",
    "alternate-mitigation": "Alternate mitigation (e.g. segregated VLAN, firewall rule)",
    "risk-accepted": "Risk accepted",
    "planned-remediation": "Planned remediation (replacement scheduled)",
}
SCOPE_KEYS = ("host", "site", "tag", "product", "cycle")
KEYS = (
    "id",
    "category",
    "justification",
    "compensating_controls",
    "medical_device",
    "manufacturer_ref",
    "owner",
    "approver",
    "approved_on",
    "expires",
    "risk",
    "notes",
) + SCOPE_KEYS
REQUIRED = ("id", "category", "justification", "owner", "approver", "approved_on", "expires")
MAX_FILE_BYTES = 4 * 1024 * 1024


class ExceptionFileError(ValueError):
    """The register cannot be used; the message names file, row and field."""


@dataclass(slots=True, frozen=True)
class RiskException:
    """One entry of the register.  Scope fields left empty match anything; at least one is set."""

    id: str
    category: str
    justification: str
    owner: str
    approver: str
    approved_on: date
    expires: date
    host: str = ""
    site: str = ""
    tag: str = ""
    product: str = ""
    cycle: str = ""
    compensating_controls: tuple[str, ...] = ()
    medical_device: bool = False
    manufacturer_ref: str = ""
    risk: str = ""  # the trust's own statement of the residual risk
    notes: str = ""
    row: int = 0  # where it came from (for messages)

    def matches(self, finding: Finding) -> bool:
        """All scope fields given must match (cheapest and most selective checks first)."""
        if self.product and self.product != (finding.product or ""):
            return False
        if self.cycle and self.cycle != (finding.cycle or ""):
            return False
        if self.site and self.site != finding.site:
            return False
        if self.host and self.host.lower() not in (finding.hostname.lower(), finding.host_key.lower()):
            return False
        return not self.tag or any(t.lower() == self.tag.lower() for t in finding.tags)

    def active(self, as_of: date) -> bool:
        """Valid from approval to expiry inclusive; before approval it is not in force either."""
        return self.approved_on <= as_of <= self.expires

    def scope_text(self) -> str:
        bits = [f"{k}={getattr(self, k)}" for k in SCOPE_KEYS if getattr(self, k)]
        return ", ".join(bits)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)


@dataclass(slots=True)
class Register:
    path: str = ""
    entries: list[RiskException] = field(default_factory=list)

    def match(self, finding: Finding) -> RiskException | None:
        """The first entry (file order) covering the finding; the trust orders specific before broad."""
        for entry in self.entries:
            if entry.matches(finding):
                return entry
        return None


def _where(path: str, row: int, raw: Mapping[str, Any]) -> str:
    ident = raw.get("id")
    return f"{path}: exception #{row}" + (f" (id {ident})" if ident else "")


def _as_date(value: Any, key: str, where: str) -> date:
    parsed = strict_date(value)
    if parsed is not None:
        return parsed
    raise ExceptionFileError(f"{where}: field {key!r}: not a date (YYYY-MM-DD): {value!r}")


def _as_bool(value: Any, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("", "no", "false", "0", "n"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "1", "y"):
        return True
    raise ExceptionFileError(f"{where}: field {key!r}: expected true/false (or yes/no), got {value!r}")


def _as_text(value: Any, key: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ExceptionFileError(f"{where}: field {key!r}: expected text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > 4000:
        raise ExceptionFileError(f"{where}: field {key!r}: longer than 4000 characters")
    return text


def _check_fields(raw: Mapping[str, Any], where: str) -> None:
    """No unknown field; every required one given."""
    unknown = set(raw) - set(KEYS)
    if unknown:
        raise ExceptionFileError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(KEYS)}"
        )
    for key in REQUIRED:
        if raw.get(key) in (None, ""):
            raise ExceptionFileError(f"{where}: field {key!r} is required")


def _scope(raw: Mapping[str, Any], where: str) -> dict[str, str]:
    """The scope fields: at least one, and a cycle only with its product."""
    scope = {k: _as_text(raw.get(k), k, where) for k in SCOPE_KEYS}
    if not any(scope.values()):
        raise ExceptionFileError(
            f"{where}: no scope: set at least one of {', '.join(SCOPE_KEYS)} "
            "(an exception for everything would hide the whole estate)"
        )
    if scope["cycle"] and not scope["product"]:
        raise ExceptionFileError(f"{where}: field 'cycle' needs 'product' as well")
    return scope


def _controls(controls_raw: Any, where: str) -> tuple[str, ...]:
    """Compensating controls: a list, or one text separated by semicolons (CSV)."""
    if isinstance(controls_raw, str):
        return tuple(c.strip() for c in controls_raw.split(";") if c.strip())
    if isinstance(controls_raw, list | tuple):
        return tuple(_as_text(c, "compensating_controls", where) for c in controls_raw)
    raise ExceptionFileError(f"{where}: field 'compensating_controls': expected a list of text")


def _medical(raw: Mapping[str, Any], where: str) -> tuple[bool, str]:
    """A medical-device exception needs the manufacturer's reference."""
    medical = _as_bool(raw.get("medical_device", False), "medical_device", where)
    manufacturer_ref = _as_text(raw.get("manufacturer_ref"), "manufacturer_ref", where)
    if medical and not manufacturer_ref:
        raise ExceptionFileError(
            f"{where}: a medical-device exception needs 'manufacturer_ref' "
            "(the manufacturer's statement, MDS2 or support notice)"
        )
    return medical, manufacturer_ref


def entry_from_mapping(raw: Mapping[str, Any], row: int, path: str) -> RiskException:
    """Validate one row.  Every problem names the row, the id and the field."""
    where = _where(path, row, raw)
    if not isinstance(raw, Mapping):
        raise ExceptionFileError(f"{where}: expected a table of fields")
    _check_fields(raw, where)
    category = _as_text(raw["category"], "category", where).lower()
    if category not in CATEGORIES:
        raise ExceptionFileError(f"{where}: field 'category': {category!r} is not one of {', '.join(CATEGORIES)}")
    scope = _scope(raw, where)
    controls = _controls(raw.get("compensating_controls", ()), where)
    approved_on = _as_date(raw["approved_on"], "approved_on", where)
    expires = _as_date(raw["expires"], "expires", where)
    if expires < approved_on:
        raise ExceptionFileError(f"{where}: field 'expires' ({expires}) is before 'approved_on' ({approved_on})")
    medical, manufacturer_ref = _medical(raw, where)
    return RiskException(
        id=_as_text(raw["id"], "id", where),
        category=category,
        justification=_as_text(raw["justification"], "justification", where),
        owner=_as_text(raw["owner"], "owner", where),
        approver=_as_text(raw["approver"], "approver", where),
        approved_on=approved_on,
        expires=expires,
        compensating_controls=controls,
        medical_device=medical,
        manufacturer_ref=manufacturer_ref,
        risk=_as_text(raw.get("risk"), "risk", where),
        notes=_as_text(raw.get("notes"), "notes", where),
        row=row,
        **scope,
    )


def parse_toml(text: str, path: str = "<exceptions>") -> Register:
    try:
        data = loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExceptionFileError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"exception", "version"}
    if unknown:
        raise ExceptionFileError(
            f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}; expected [[exception]] tables"
        )
    rows = data.get("exception", [])
    if not isinstance(rows, list):
        raise ExceptionFileError(f"{path}: 'exception' must be an array of tables ([[exception]])")
    return _register(path, (entry_from_mapping(r, i, path) for i, r in enumerate(rows, 1)))


def parse_csv(text: str, path: str = "<exceptions>") -> Register:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _parse_csv_rows(reader, path)
    except csv.Error as exc:  # a field over csv's size limit, a NUL, a stray quote
        raise ExceptionFileError(f"{path} line {reader.line_num}: not valid CSV: {exc}") from exc


def _parse_csv_rows(reader: csv.DictReader[str], path: str) -> Register:
    if reader.fieldnames is None:
        return Register(path=path)
    unknown = [f for f in reader.fieldnames if f not in KEYS]
    if unknown:
        raise ExceptionFileError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    entries = []
    for i, raw in enumerate(reader, 1):
        if None in raw:
            raise ExceptionFileError(f"{_where(path, i, raw)} (line {reader.line_num}): more cells than columns")
        cleaned = {k: v for k, v in raw.items() if v not in (None, "")}
        entries.append(entry_from_mapping(cleaned, i, f"{path} line {reader.line_num}"))
    return _register(path, entries)


def _register(path: str, entries: Iterable[RiskException]) -> Register:
    reg = Register(path=path)
    seen: dict[str, int] = {}
    for entry in entries:
        if entry.id in seen:
            raise ExceptionFileError(
                f"{path}: exception #{entry.row}: id {entry.id!r} already used by exception #{seen[entry.id]}"
            )
        seen[entry.id] = entry.row
        reg.entries.append(entry)
    return reg


def load(path: str | Path) -> Register:
    """Read a register (.toml or .csv, by extension)."""
    p = Path(path)
    try:  # regular files only: /dev/zero or a FIFO is refused, never read for ever
        text = read_regular_text(p, limit=MAX_FILE_BYTES, what="exceptions file")
    except FileRefused as exc:
        raise ExceptionFileError(str(exc)) from exc
    if p.suffix.lower() == ".csv":
        return parse_csv(text, str(p))
    return parse_toml(text, str(p))
