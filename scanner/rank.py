"""Findings -> the report view model (per site), which every renderer in ``reports`` takes.

Renderers never see raw findings or inventories: they get this model, so every format says the
same thing.  (Issue 7 grows this into priorities, roll-ups, roadmap and readiness.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from scanner.match import HostResult, worst_status
from scanner.model import Finding, Status
from scanner.store import HostStatus


@dataclass(slots=True)
class HostRow:
    hostname: str
    host_key: str
    site: str
    os: Finding | None
    findings: list[Finding]
    worst: Status
    collected_at: str
    unidentified: int = 0


@dataclass(slots=True)
class SiteReport:
    site: str
    hosts: list[HostRow] = field(default_factory=list)
    statuses: list[HostStatus] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for host in self.hosts:
            for f in host.findings:
                out[f.status.value] += 1
        return out


@dataclass(slots=True)
class EstateReport:
    as_of: date
    dataset_version: str
    tool_version: str
    sites: list[SiteReport]

    def all_findings(self) -> list[Finding]:
        return [f for s in self.sites for h in s.hosts for f in h.findings]

    def worst(self) -> Status:
        return worst_status(self.all_findings())


def build_report(results: list[HostResult], statuses: list[HostStatus], as_of: date, dataset_version: str,
                 tool_version: str) -> EstateReport:
    sites: dict[str, SiteReport] = {}
    for res in results:
        inv = res.inventory
        site = sites.setdefault(inv.host.site or "(no site)", SiteReport(inv.host.site or "(no site)"))
        site.hosts.append(HostRow(hostname=inv.host.hostname, host_key=res.findings[0].host_key if res.findings
                                  else "", site=site.site, os=res.os_finding, findings=res.findings,
                                  worst=worst_status(res.findings), collected_at=inv.collected_at,
                                  unidentified=res.unidentified))
    for st in statuses:
        sites.setdefault(st.site or "(no site)", SiteReport(st.site or "(no site)")).statuses.append(st)
    for site in sites.values():
        site.hosts.sort(key=lambda h: (-h.worst.severity, h.hostname))
    return EstateReport(as_of=as_of, dataset_version=dataset_version, tool_version=tool_version,
                        sites=[sites[k] for k in sorted(sites)])
