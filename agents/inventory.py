"""The Inventory document: what one host reports about itself.

It is the only thing that crosses from ``agents`` (which touch hosts) to ``scanner`` (which judges
them), over a file, an HTTP upload or an in-process call.  It is deliberately plain data:
dataclasses with a JSON round trip and a ``schema_version`` so that an old agent's upload can be
recognised.  ``agents/inventory.schema.json`` documents every field for other tools.

Privacy: nothing here names a person.  No user names, no document paths, no e-mail addresses.
Per-user software is kept with the SID of the hive it came from (an opaque id), never a name.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from agents.compat import SLOTS

SCHEMA_VERSION = 1

# Hard limits for documents arriving from outside (agent uploads, file drops).  They are generous
# for real hosts (the largest capture we hold has about 3,000 packages) and stop a hostile payload
# from exhausting memory further down the pipeline.
MAX_SOFTWARE = 50_000
MAX_STRING = 4_096
MAX_PROBLEMS = 1_000
MAX_DISKS = 256  # hardware.disks entries (a SAN-attached server has dozens, not thousands)
MAX_LIST = 256  # strings in a list field (host tags, a package's collapsed rules)


class InventoryError(ValueError):
    """An inventory document is malformed; the message names the field."""


@dataclass(**SLOTS)
class Host:
    """Host identity.  ``machine_id`` is stable across renames (e.g. /etc/machine-id, SMBIOS UUID)."""

    hostname: str = ""
    machine_id: str = ""
    site: str = ""
    tags: list[str] = field(default_factory=list)
    domain: str = ""  # DNS / AD domain the machine belongs to (not a user's domain)
    address: str = ""  # how the scanner reached it (empty for agent/local collections)


@dataclass(**SLOTS)
class OsInfo:
    """The operating system.

    ``facts`` holds the raw identification evidence in exactly the shape of the
    ``legacyscan eol identify`` OS record (without ``kind``/``family``): for Linux
    ``{"files": {path: text}}``; for Windows ``caption``, ``product_name``, ``version``, ``build``,
    ``ubr``, ``edition_id``, ``display_version``, ``installation_type``, ``product_type``,
    ``csd_version``; for macOS ``product_version``, ``build_version``; for other Unix ``uname``,
    ``oslevel``.  Keeping the evidence (not our interpretation of it) lets a newer dataset or a
    fixed rule re-judge old inventories.
    """

    family: str = "unknown"  # linux | windows | macos | aix | solaris | freebsd | openbsd | netbsd | unknown
    name: str = ""  # human-readable, e.g. "Debian GNU/Linux 12 (bookworm)"
    version: str = ""
    arch: str = ""
    kernel: str = ""
    install_date: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def identify_record(self) -> dict[str, Any]:
        """The ``eol identify`` input record for this OS."""
        record: dict[str, Any] = {"kind": "os", "family": self.family}
        record.update(self.facts)
        record.pop("security_support", None)  # package evidence (scanner.judge.distribution_builds), not OS evidence
        record.pop("rpm_keys", None)
        record.pop("apt_support", None)
        record.pop("suse_lifecycle", None)
        return record


@dataclass(**SLOTS)
class Software:
    """One installed package or application, as the source reported it."""

    name: str
    version: str = ""
    source: str = ""  # dpkg | rpm | apk | windows-registry | msix | macos-app | pkg | ...
    publisher: str = ""
    arch: str = ""
    install_date: str = ""
    # Windows Add/Remove Programs metadata; these decide whether an entry is a product at all.
    system_component: bool | None = None
    parent_key_name: str = ""
    release_type: str = ""
    windows_installer: bool | None = None
    scope: str = ""  # machine | user
    sid: str = ""  # for scope=user: the hive's SID (opaque; never a user name)
    key: str = ""  # registry key path / package id the entry came from
    registry_view: str = ""  # 64 | 32 | user
    collapsed: list[str] = field(default_factory=list)  # rules that merged duplicates into this entry
    # Linux packages: the source package the binary was built from (dpkg ``Source``, apk origin),
    # the name distributions' security data use, and the build's origin where the package manager
    # records one (dpkg ``Origin``).  The builder is ``publisher`` (dpkg Maintainer, rpm Vendor).
    source_package: str = ""
    origin: str = ""

    def identify_record(self) -> dict[str, Any]:
        """The ``eol identify`` input record for this package."""
        record: dict[str, Any] = {"kind": "software", "source": self.source, "name": self.name, "version": self.version}
        if self.publisher:
            record["publisher"] = self.publisher
        if self.system_component is not None:
            record["system_component"] = self.system_component
        if self.parent_key_name:
            record["parent_key_name"] = self.parent_key_name
        if self.release_type:
            record["release_type"] = self.release_type
        return record


class _NoChanges(list):  # type: ignore[type-arg,unused-ignore]
    """The ``collapsed`` list of a ``FrozenSoftware``: a list (it encodes and compares as one) that
    refuses every change."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the record is shared between inventories: copy it (dataclasses.replace) to change it")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce__(self) -> Any:
        return (_NoChanges, (tuple(self),))  # as unchangeable as the original


# The empty one every FrozenSoftware without collapsed rules shares (it cannot change): a pickle of
# many records (the fleet scan's collector processes send them as rows) writes it once.
_NO_CHANGES = _NoChanges()

_SOFTWARE_FIELDS = tuple(f.name for f in fields(Software))


class FrozenSoftware(Software):
    """A package record nobody can change: equal to the ``Software`` with the same fields, but
    every assignment (and every change to its ``collapsed`` list) raises.  What the package parsers'
    memo hands out (``agents.linux.PackageMemo``): one record for every host with the same package
    line, so scanner code may remember work on it by identity while it holds the record.  A copy
    (``dataclasses.replace``, ``copy``, pickle) is a new ``FrozenSoftware``."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        made = Software(*args, **kwargs)
        for name in _SOFTWARE_FIELDS:
            object.__setattr__(self, name, getattr(made, name))
        object.__setattr__(self, "collapsed", _NoChanges(made.collapsed) if made.collapsed else _NO_CHANGES)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign {name!r}: the record is shared between inventories")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete {name!r}: the record is shared between inventories")

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Software):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _SOFTWARE_FIELDS)

    __hash__ = None  # type: ignore[assignment]  # as Software's: equal records need not be one

    def __reduce__(self) -> Any:
        return (FrozenSoftware, tuple(getattr(self, name) for name in _SOFTWARE_FIELDS))

    def thawed(self) -> Software:
        """An ordinary ``Software`` with the same fields, of the caller's own to change."""
        made = Software(*(getattr(self, name) for name in _SOFTWARE_FIELDS))
        made.collapsed = list(self.collapsed)
        return made


@dataclass(**SLOTS)
class Disk:
    device: str = ""
    mountpoint: str = ""
    fstype: str = ""
    total_bytes: int = 0


@dataclass(**SLOTS)
class Hardware:
    """Hardware facts.  Everything optional: a probe that cannot read a fact leaves it empty."""

    vendor: str = ""
    model: str = ""
    serial: str = ""
    chassis: str = ""
    cpu_model: str = ""
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    memory_bytes: int | None = None
    disks: list[Disk] = field(default_factory=list)
    system_disk_bytes: int | None = None
    boot_time: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    bios_date: str = ""
    firmware_type: str = ""  # uefi | bios | ""
    secure_boot: bool | None = None
    tpm_present: bool | None = None
    tpm_version: str = ""  # spec version, e.g. "2.0"
    virtual: bool | None = None


@dataclass(**SLOTS)
class Problem:
    """A probe that failed.  Recorded, never raised: partial data beats no data."""

    probe: str
    message: str
    kind: str = "error"  # error | denied | missing | timeout | parse | truncated (output cut at a read limit)


@dataclass(**SLOTS)
class Collector:
    """What produced the document."""

    name: str = "legacyscan"
    version: str = ""
    transport: str = "local"  # local | ssh | winrm | agent | import
    duration_ms: int | None = None
    # For imports: the system the data came from (configmgr, intune, defender, glpi, osquery,
    # cyclonedx, spdx, ...); empty for our own collections.
    source: str = ""


@dataclass(**SLOTS)
class Inventory:
    host: Host = field(default_factory=Host)
    os: OsInfo = field(default_factory=OsInfo)
    software: list[Software] = field(default_factory=list)
    hardware: Hardware = field(default_factory=Hardware)
    collected_at: str = ""  # ISO 8601 UTC, e.g. 2026-11-30T08:00:00Z
    collector: Collector = field(default_factory=Collector)
    problems: list[Problem] = field(default_factory=list)
    inventory_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    schema_version: int = SCHEMA_VERSION

    # -- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Inventory:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InventoryError(f"not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Inventory:
        """Build and validate.  Unknown keys are ignored (newer agents); wrong types are refused."""
        if not isinstance(data, dict):
            raise InventoryError("inventory must be a JSON object")
        version = data.get("schema_version", SCHEMA_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1 or version > SCHEMA_VERSION:
            raise InventoryError(f"unsupported schema_version {version!r} (this build reads 1..{SCHEMA_VERSION})")
        software_raw = _get(data, "software", list, [])
        if len(software_raw) > MAX_SOFTWARE:
            raise InventoryError(f"software: {len(software_raw)} entries exceeds the limit of {MAX_SOFTWARE}")
        problems_raw = _get(data, "problems", list, [])
        if len(problems_raw) > MAX_PROBLEMS:
            raise InventoryError(f"problems: {len(problems_raw)} entries exceeds the limit of {MAX_PROBLEMS}")
        hardware_raw = _get(data, "hardware", dict, {})
        disks_raw = _get(hardware_raw, "disks", list, [])
        if len(disks_raw) > MAX_DISKS:
            raise InventoryError(f"hardware.disks: {len(disks_raw)} entries exceeds the limit of {MAX_DISKS}")
        disks = [_build(Disk, d, f"hardware.disks[{i}]") for i, d in enumerate(disks_raw)]
        hw = _build(Hardware, {k: v for k, v in hardware_raw.items() if k != "disks"}, "hardware")
        hw.disks = disks
        inv_id = _get(data, "inventory_id", str, "") or str(uuid.uuid4())
        if len(inv_id) > 128:
            raise InventoryError("inventory_id: longer than 128 characters")
        return cls(
            host=_build(Host, _get(data, "host", dict, {}), "host"),
            os=_build(OsInfo, _get(data, "os", dict, {}), "os"),
            software=[_build(Software, s, f"software[{i}]") for i, s in enumerate(software_raw)],
            hardware=hw,
            collected_at=_get(data, "collected_at", str, ""),
            collector=_build(Collector, _get(data, "collector", dict, {}), "collector"),
            problems=[_build(Problem, p, f"problems[{i}]") for i, p in enumerate(problems_raw)],
            inventory_id=inv_id,
            schema_version=version,
        )


def _get(data: dict[str, Any], key: str, typ: type, default: Any) -> Any:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, typ):
        raise InventoryError(f"{key}: expected {typ.__name__}, got {type(value).__name__}")
    return value


def _field_types(cls: type) -> dict[str, str]:
    return {f.name: str(f.type) for f in fields(cls)}


# Field types for validation of the dataclasses a document is built into, made when this module is
# imported: a constant of the code, not a memo filled at run time.
_FIELD_TYPES: dict[type, dict[str, str]] = {
    cls: _field_types(cls) for cls in (Host, OsInfo, Software, Disk, Hardware, Problem, Collector)
}


def _build(cls: type, raw: Any, where: str) -> Any:
    """Construct dataclass ``cls`` from ``raw`` checking every field's JSON type.

    Plain strings and booleans in their own fields (almost every value of a software entry) are
    accepted inline: this runs once per package of every uploaded inventory, so it dominates the
    collector service's validation cost.  Everything else goes through ``_check``.
    """
    if not isinstance(raw, dict):
        raise InventoryError(f"{where}: expected an object")
    types = _FIELD_TYPES.get(cls)
    if types is None:
        types = _field_types(cls)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        annotation = types.get(key)
        if annotation is None or value is None:
            continue
        kind = value.__class__
        if kind is str:
            if annotation == "str" and len(value) <= MAX_STRING:
                kwargs[key] = value
                continue
        elif kind is bool and annotation == "bool | None":
            kwargs[key] = value
            continue
        elif kind is list and not value and annotation == "list[str]":
            kwargs[key] = []
            continue
        kwargs[key] = _check(annotation, value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InventoryError(f"{where}: {exc}") from exc


def _check(annotation: str, value: Any, where: str) -> Any:
    if annotation == "str":
        if not isinstance(value, str):
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            else:
                raise InventoryError(f"{where}: expected a string")
        if len(value) > MAX_STRING:
            raise InventoryError(f"{where}: longer than {MAX_STRING} characters")
        return value
    if annotation.startswith("bool"):
        if not isinstance(value, bool):
            raise InventoryError(f"{where}: expected true/false")
        return value
    if annotation.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InventoryError(f"{where}: expected an integer")
        return value
    if annotation == "list[str]":
        if isinstance(value, list) and len(value) > MAX_LIST:
            raise InventoryError(f"{where}: {len(value)} entries exceeds the limit of {MAX_LIST}")
        if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= MAX_STRING for v in value):
            raise InventoryError(f"{where}: expected a list of strings")
        return value
    if annotation.startswith("dict"):
        if not isinstance(value, dict):
            raise InventoryError(f"{where}: expected an object")
        _check_size(value, where)
        return value
    return value


def _check_size(value: Any, where: str, depth: int = 0) -> None:
    """Bound nested evidence (os.facts) so hostile documents cannot nest or bloat without limit."""
    if depth > 4:
        raise InventoryError(f"{where}: nested too deeply")
    if isinstance(value, dict):
        if len(value) > 200:
            raise InventoryError(f"{where}: too many keys")
        for k, v in value.items():
            _check_size(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        if len(value) > 1000:
            raise InventoryError(f"{where}: too many items")
        for v in value:
            _check_size(v, where, depth + 1)
    elif isinstance(value, str) and len(value) > 65_536:
        raise InventoryError(f"{where}: longer than 65536 characters")
