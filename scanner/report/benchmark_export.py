"""The benchmark file: comparable, anonymised KPIs per site, to share between organisations.

Why: the CQC found benchmarking between trusts "all but absent", and a region cannot compare
trusts from their board packs (each full of hostnames).  ``legacyscan export --benchmark`` writes
a small JSON document (schema ``legacyscan-benchmark/1``, ``docs/benchmark.md`` and
``docs/benchmark-schema-v1.json``) that holds only aggregates: counts, shares, medians, Windows 11
readiness, coverage, the dataset version that judged them and the organisation's ODS code.  No
hostname, address, serial, SID, machine id, user, tag or per-device row is ever written; the
builder takes the report's numbers, never its device lists.  ``legacyscan benchmark FILES...``
(``scanner.report.benchmark_file``, ``reports.benchmark``) reads these files back and compares them.

Shares are written for the reader but always derivable from the counts beside them; the reader
checks that they agree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal, TypedDict

from scanner.model import Status
from scanner.plan.actions import release_name
from scanner.report.model import EstateReport, HostRow, Kpis, SiteReport

SCHEMA = "legacyscan-benchmark/1"
SCHEMA_PREFIX = "legacyscan-benchmark/"
TOP_RELEASES = 10  # unsupported OS releases listed per block (most devices first)
OS_STATUSES = tuple(s.value for s in Status)  # eol, extended, ending-soon, supported, unknown
SOURCES = ("inventory", "discovered", "register")

# The KPI block's figures, in the order of every comparison.
BenchmarkKpiName = Literal[
    "devices",
    "unsupported_os",
    "unsupported_os_share",
    "extended_os",
    "ending_soon_os",
    "supported_os",
    "unknown_os",
    "median_days_past_end",
    "windows10",
    "win11_ready",
    "win11_not_ready",
    "win11_unknown",
    "win11_ready_share",
    "open_findings",
    "accepted_findings",
    "devices_with_open_findings",
    "devices_with_open_findings_share",
    "stale",
    "stale_share",
    "inventoried",
    "discovered",
    "register",
    "targets",
    "not_reached",
    "coverage",
]

# The KPI block: key -> (kind, label).  Kinds: count (int >= 0), share (0..1 or null: derived from
# two counts), days (number >= 0 or null).  The order is the order of every comparison.
KPIS: dict[BenchmarkKpiName, tuple[str, str]] = {
    "devices": ("count", "Devices"),
    "unsupported_os": ("count", "Devices on an unsupported OS"),
    "unsupported_os_share": ("share", "Share on an unsupported OS"),
    "extended_os": ("count", "OS in extended support (ESU/LTS)"),
    "ending_soon_os": ("count", "OS ending soon"),
    "supported_os": ("count", "OS supported"),
    "unknown_os": ("count", "OS not identified"),
    "median_days_past_end": ("days", "Median days past end of support (unsupported OS)"),
    "windows10": ("count", "Windows 10 devices"),
    "win11_ready": ("count", "Windows 11-ready"),
    "win11_not_ready": ("count", "Not Windows 11-ready"),
    "win11_unknown": ("count", "Windows 11 readiness unknown"),
    "win11_ready_share": ("share", "Windows 11-ready share (of Windows 10)"),
    "open_findings": ("count", "Open findings"),
    "accepted_findings": ("count", "Accepted findings (exception)"),
    "devices_with_open_findings": ("count", "Devices with open findings"),
    "devices_with_open_findings_share": ("share", "Share of devices with open findings"),
    "stale": ("count", "Stale inventories"),
    "stale_share": ("share", "Share of stale inventories"),
    "inventoried": ("count", "Devices inventoried"),
    "discovered": ("count", "Devices known from discovery only"),
    "register": ("count", "Devices known from the device register only"),
    "targets": ("count", "Scan targets"),
    "not_reached": ("count", "Scan targets not reached"),
    "coverage": ("share", "Coverage (targets reached)"),
}
# share -> (numerator, denominator): counts of the block ("reached" = targets - not_reached)
SHARES: dict[BenchmarkKpiName, tuple[str, str]] = {
    "unsupported_os_share": ("unsupported_os", "devices"),
    "win11_ready_share": ("win11_ready", "windows10"),
    "devices_with_open_findings_share": ("devices_with_open_findings", "devices"),
    "stale_share": ("stale", "devices"),
    "coverage": ("reached", "targets"),
}


class ReleaseCount(TypedDict):
    """One of a block's most common unsupported OS releases."""

    product: str
    cycle: str
    name: str
    devices: int


class BenchmarkKpis(TypedDict):
    """A KPI block (``totals`` and each ``sites[].kpis`` of docs/benchmark.md): the ``KPIS`` figures
    in their order, then the most common unsupported OS releases."""

    devices: int
    unsupported_os: int
    unsupported_os_share: float | None
    extended_os: int
    ending_soon_os: int
    supported_os: int
    unknown_os: int
    median_days_past_end: float | None
    windows10: int
    win11_ready: int
    win11_not_ready: int
    win11_unknown: int
    win11_ready_share: float | None
    open_findings: int
    accepted_findings: int
    devices_with_open_findings: int
    devices_with_open_findings_share: float | None
    stale: int
    stale_share: float | None
    inventoried: int
    discovered: int
    register: int
    targets: int
    not_reached: int
    coverage: float | None
    unsupported_os_releases: list[ReleaseCount]


def share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def kpi_block(hosts: list[HostRow], k: Kpis) -> BenchmarkKpis:
    """The comparable figures of some devices (a site, or the whole organisation)."""
    os_status = Counter(h.os.status.value if h.os is not None else Status.UNKNOWN.value for h in hosts)
    sources = Counter(h.source if h.source in SOURCES else "inventory" for h in hosts)
    counts = {
        "devices": k.devices,
        "unsupported_os": os_status[Status.EOL.value],
        "windows10": k.windows10,
        "win11_ready": k.win11_ready,
        "devices_with_open_findings": sum(1 for h in hosts if h.open_rows),
        "stale": k.stale,
        "targets": k.targets,
        "reached": k.targets - k.not_reached,
    }

    def shared(name: BenchmarkKpiName) -> float | None:
        num, den = SHARES[name]
        return share(counts[num], counts[den])

    return {
        "devices": k.devices,
        "unsupported_os": counts["unsupported_os"],
        "unsupported_os_share": shared("unsupported_os_share"),
        "extended_os": os_status[Status.EXTENDED.value],
        "ending_soon_os": os_status[Status.ENDING_SOON.value],
        "supported_os": os_status[Status.SUPPORTED.value],
        "unknown_os": os_status[Status.UNKNOWN.value],
        "median_days_past_end": k.median_days_past_end,
        "windows10": k.windows10,
        "win11_ready": k.win11_ready,
        "win11_not_ready": k.win11_not_ready,
        "win11_unknown": k.win11_unknown,
        "win11_ready_share": shared("win11_ready_share"),
        "open_findings": k.open_findings,
        "accepted_findings": k.accepted_findings,
        "devices_with_open_findings": counts["devices_with_open_findings"],
        "devices_with_open_findings_share": shared("devices_with_open_findings_share"),
        "stale": k.stale,
        "stale_share": shared("stale_share"),
        "inventoried": sources["inventory"],
        "discovered": sources["discovered"],
        "register": sources["register"],
        "targets": k.targets,
        "not_reached": k.not_reached,
        "coverage": shared("coverage"),
        "unsupported_os_releases": _unsupported_releases(hosts),
    }


def _unsupported_releases(hosts: list[HostRow]) -> list[ReleaseCount]:
    """The most common unsupported OS releases (at most TOP_RELEASES), most devices first."""
    releases: Counter[tuple[str, str, str]] = Counter()
    for h in hosts:
        f = h.os
        if f is not None and f.status is Status.EOL and f.product:
            releases[(f.product, f.cycle or "", release_name(f))] += 1
    return [
        {"product": p, "cycle": c, "name": n, "devices": d}
        for (p, c, n), d in sorted(releases.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_RELEASES]
    ]


def build(
    report: EstateReport, *, ods_code: str = "", anonymise_sites: bool = False, readiness_version: str = ""
) -> dict[str, Any]:
    """The benchmark document of ``report`` (plain JSON-able data)."""
    sites: list[SiteReport] = report.sites
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "tool_version": report.tool_version,
        "as_of": report.as_of.isoformat(),
        "dataset_version": report.dataset_version,
        "readiness_data_version": readiness_version
        or (report.evidence.readiness_data_version if report.evidence else ""),
        "organisation": {"name": report.organisation or None, "ods_code": ods_code or None},
        "demo": bool(report.demo),
        "totals": kpi_block([h for s in sites for h in s.hosts], report.kpis),
        "sites": [
            {"site": f"Site {i}" if anonymise_sites else s.site, "kpis": kpi_block(s.hosts, s.kpis)}
            for i, s in enumerate(sites, 1)
        ],
    }
    return doc
