"""Reading a benchmark file (``legacyscan-benchmark/1``) another organisation sent: strictly.

A benchmark file comes from outside the trust, by e-mail or a shared folder, so it is treated as
hostile: a bounded regular file, strict JSON (no NaN, no duplicate keys), the exact schema (unknown
keys refused: a misspelt key would otherwise silently read as "no data"), every number checked
for type and range, every string for length and control characters, and the counts checked for
consistency (readiness adds up to the Windows 10 devices, OS statuses to the devices, each share
matches its counts).  Any failure is one ``BenchmarkFileError`` naming the file and the field
(``trust-a.json: sites[2].kpis.win11_ready: ...``), and nothing of that file is used.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from scanner.files import FileRefused, decode_utf8, read_regular_bytes
from scanner.report.benchmark_export import (
    KPIS,
    OS_STATUSES,
    SCHEMA,
    SCHEMA_PREFIX,
    SHARES,
    TOP_RELEASES,
    BenchmarkKpis,
)

MAX_FILE_BYTES = 8 * 2**20  # a 500-site organisation writes ~1 MB
MAX_SITES = 2000
MAX_TEXT = 200
MAX_VERSION_TEXT = 400
MAX_COUNT = 10**9
MAX_DAYS = 100_000
_ODS = re.compile(r"^[A-Z0-9]{3,8}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,99}$")
TOP_KEYS = {
    "schema",
    "tool_version",
    "as_of",
    "dataset_version",
    "readiness_data_version",
    "organisation",
    "demo",
    "totals",
    "sites",
}
SHARE_TOLERANCE = 0.00051  # shares are written rounded to 4 decimals


class BenchmarkFileError(ValueError):
    """A benchmark file is unreadable or not a valid ``legacyscan-benchmark/1`` document."""


@dataclass(slots=True, frozen=True)
class SiteFigures:
    site: str
    kpis: BenchmarkKpis


@dataclass(slots=True, frozen=True)
class BenchmarkFile:
    path: str
    tool_version: str
    as_of: date
    dataset_version: str
    readiness_data_version: str
    name: str  # the organisation's name ("" when not given)
    ods_code: str
    demo: bool
    totals: BenchmarkKpis
    sites: tuple[SiteFigures, ...]

    @property
    def label(self) -> str:
        """What a comparison calls this organisation: its name, else its ODS code, else the file name."""
        return self.name or self.ods_code or Path(self.path).name


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> BenchmarkFileError:
        return BenchmarkFileError(f"{self.path}: {where}: {problem}" if where else f"{self.path}: {problem}")

    def obj(self, value: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_kind(value)}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(
                f"{where}.{unknown[0]}" if where else unknown[0],
                f"unknown key (this legacyscan reads {SCHEMA}; expected one of {', '.join(sorted(allowed))})",
            )
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(where, f"missing key {missing[0]!r}")
        return value

    def text(self, value: Any, where: str, *, limit: int = MAX_TEXT, optional: bool = False) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string{' or null' if optional else ''}, got {_kind(value)}")
        if len(value) > limit:
            raise self.fail(where, f"longer than {limit} characters ({len(value)})")
        bad = next((ch for ch in value if not ch.isprintable()), None)
        if bad is not None:
            raise self.fail(where, f"control or invisible character U+{ord(bad):04X} not allowed")
        return value

    def count(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected a whole number >= 0, got {_kind(value)}")
        if not 0 <= value <= MAX_COUNT:
            raise self.fail(where, f"expected a whole number 0-{MAX_COUNT}, got {value}")
        return value

    def number(self, value: Any, where: str, low: float, high: float) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(where, f"expected a number or null, got {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(where, f"expected a number {low:g}-{high:g}, got {value}")
        return float(value)

    def kpis(self, value: Any, where: str) -> BenchmarkKpis:
        keys = set(KPIS) | {"unsupported_os_releases"}
        raw = self.obj(value, where, keys, keys)
        out: dict[str, Any] = {}
        for key, (kind, _label) in KPIS.items():
            at = f"{where}.{key}"
            if kind == "count":
                out[key] = self.count(raw[key], at)
            elif kind == "share":
                out[key] = self.number(raw[key], at, 0.0, 1.0)
            else:
                out[key] = self.number(raw[key], at, 0.0, MAX_DAYS)
        self.consistent(out, where)
        releases = raw["unsupported_os_releases"]
        if not isinstance(releases, list):
            raise self.fail(f"{where}.unsupported_os_releases", f"expected a list, got {_kind(releases)}")
        if len(releases) > TOP_RELEASES:
            raise self.fail(f"{where}.unsupported_os_releases", f"more than {TOP_RELEASES} entries ({len(releases)})")
        rows = []
        for i, item in enumerate(releases):
            at = f"{where}.unsupported_os_releases[{i}]"
            r = self.obj(item, at, {"product", "cycle", "name", "devices"}, {"product", "cycle", "name", "devices"})
            product = self.text(r["product"], f"{at}.product", limit=100)
            if not _SLUG.match(product):
                raise self.fail(f"{at}.product", f"not a product id: {product[:40]!r}")
            devices = self.count(r["devices"], f"{at}.devices")
            if devices > out["unsupported_os"]:
                raise self.fail(f"{at}.devices", f"{devices} is more than unsupported_os ({out['unsupported_os']})")
            rows.append(
                {
                    "product": product,
                    "cycle": self.text(r["cycle"], f"{at}.cycle", limit=100),
                    "name": self.text(r["name"], f"{at}.name"),
                    "devices": devices,
                }
            )
        out["unsupported_os_releases"] = rows
        return cast(BenchmarkKpis, out)  # every KPIS key checked by its kind above, and the releases

    def consistent(self, k: dict[str, Any], where: str) -> None:
        """Counts that must add up, and shares that must match their counts."""

        def over(key: str, total_key: str, total: int) -> None:
            if k[key] > total:
                raise self.fail(f"{where}.{key}", f"{k[key]} is more than {total_key} ({total})")

        devices = k["devices"]
        os_sum = sum(k[f"{s.replace('-', '_')}_os"] if s != "eol" else k["unsupported_os"] for s in OS_STATUSES)
        if os_sum != devices:
            raise self.fail(
                f"{where}.devices",
                f"{devices} devices, but the OS status counts (unsupported_os, "
                f"extended_os, ending_soon_os, supported_os, unknown_os) add up to "
                f"{os_sum}",
            )
        if k["inventoried"] + k["discovered"] + k["register"] != devices:
            raise self.fail(
                f"{where}.devices",
                f"{devices} devices, but inventoried + discovered + register = "
                f"{k['inventoried'] + k['discovered'] + k['register']}",
            )
        ready = k["win11_ready"] + k["win11_not_ready"] + k["win11_unknown"]
        if ready != k["windows10"]:
            raise self.fail(
                f"{where}.windows10",
                f"{k['windows10']} Windows 10 devices, but win11_ready + win11_not_ready + win11_unknown = {ready}",
            )
        over("windows10", "devices", devices)
        over("devices_with_open_findings", "devices", devices)
        over("stale", "devices", devices)
        over("not_reached", "targets", k["targets"])
        if k["unsupported_os"] == 0 and k["median_days_past_end"] is not None:
            raise self.fail(f"{where}.median_days_past_end", "given, but no device is on an unsupported OS")
        self.shares(k, where)

    def shares(self, k: dict[str, Any], where: str) -> None:
        """Every share matches its counts (null when its denominator is 0)."""
        counts = {**k, "reached": k["targets"] - k["not_reached"]}
        for key, (num, den) in SHARES.items():
            value, n, d = k[key], counts[num], counts[den]
            if d == 0:
                if value is not None:
                    raise self.fail(f"{where}.{key}", f"must be null when {den} is 0")
            elif value is None or abs(value - n / d) > SHARE_TOLERANCE:
                raise self.fail(f"{where}.{key}", f"{value} does not match {num} / {den} ({n} / {d} = {n / d:.4f})")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _document(r: _Reader, data: bytes, path: str) -> dict[str, Any]:
    """The file's bytes as one JSON object (no duplicate keys, no NaN/Infinity)."""
    try:
        text = decode_utf8(data, path, what="benchmark file")
    except FileRefused as exc:
        raise BenchmarkFileError(str(exc)) from exc
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError as exc:
        raise r.fail("", "not acceptable JSON: nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise r.fail(f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}") from exc
    except ValueError as exc:
        raise r.fail("", f"not acceptable JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise r.fail("", f"expected a JSON object, got {_kind(doc)}")
    return doc


def _check_schema(r: _Reader, schema: Any) -> None:
    if schema == SCHEMA:
        return
    if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
        raise r.fail(
            "schema",
            f"{schema[:60]!r} is a version this legacyscan does not read (it reads {SCHEMA}); upgrade legacyscan",
        )
    raise r.fail(
        "schema",
        f"expected {SCHEMA!r}, got {_kind(schema)}: not a legacyscan benchmark file "
        "(write one with `legacyscan export --benchmark`)",
    )


def _sites(r: _Reader, sites_raw: Any) -> list[SiteFigures]:
    """The per-site figures: a list of at most MAX_SITES, each site named once."""
    if not isinstance(sites_raw, list):
        raise r.fail("sites", f"expected a list, got {_kind(sites_raw)}")
    if len(sites_raw) > MAX_SITES:
        raise r.fail("sites", f"more than {MAX_SITES} sites ({len(sites_raw)})")
    sites = []
    seen: set[str] = set()
    for i, raw in enumerate(sites_raw):
        s = r.obj(raw, f"sites[{i}]", {"site", "kpis"}, {"site", "kpis"})
        name = r.text(s["site"], f"sites[{i}].site")
        if name in seen:
            raise r.fail(f"sites[{i}].site", f"site {name!r} listed twice")
        seen.add(name)
        sites.append(SiteFigures(name, r.kpis(s["kpis"], f"sites[{i}].kpis")))
    return sites


def parse(data: bytes, path: str) -> BenchmarkFile:
    """Validate the bytes of a benchmark file (named ``path`` in every error)."""
    r = _Reader(path)
    doc = _document(r, data, path)
    _check_schema(r, doc.get("schema"))
    top = r.obj(doc, "", TOP_KEYS, TOP_KEYS)
    as_of_text = r.text(top["as_of"], "as_of", limit=10)
    try:
        as_of = date.fromisoformat(as_of_text)
    except ValueError as exc:
        raise r.fail("as_of", f"expected a date YYYY-MM-DD, got {as_of_text!r}") from exc
    org = r.obj(top["organisation"], "organisation", {"name", "ods_code"}, {"name", "ods_code"})
    ods = r.text(org["ods_code"], "organisation.ods_code", limit=8, optional=True)
    if ods and not _ODS.match(ods):
        raise r.fail("organisation.ods_code", f"expected an NHS ODS code (3-8 capital letters and digits), got {ods!r}")
    if not isinstance(top["demo"], bool):
        raise r.fail("demo", f"expected true or false, got {_kind(top['demo'])}")
    sites = _sites(r, top["sites"])
    totals = r.kpis(top["totals"], "totals")
    device_sum = sum(s.kpis["devices"] for s in sites)
    if sites and device_sum != totals["devices"]:
        raise r.fail("totals.devices", f"{totals['devices']}, but the sites' devices add up to {device_sum}")
    return BenchmarkFile(
        path=path,
        tool_version=r.text(top["tool_version"], "tool_version", limit=40),
        as_of=as_of,
        dataset_version=r.text(top["dataset_version"], "dataset_version", limit=MAX_VERSION_TEXT),
        readiness_data_version=r.text(top["readiness_data_version"], "readiness_data_version", limit=MAX_VERSION_TEXT),
        name=r.text(org["name"], "organisation.name", optional=True),
        ods_code=ods,
        demo=top["demo"],
        totals=totals,
        sites=tuple(sites),
    )


def load(path: str | Path) -> BenchmarkFile:
    """Read and validate one benchmark file (a bounded regular file)."""
    name = str(path)
    try:
        data = read_regular_bytes(path, limit=MAX_FILE_BYTES, what="benchmark file")
    except FileRefused as exc:
        raise BenchmarkFileError(str(exc)) from exc
    return parse(data, name)
