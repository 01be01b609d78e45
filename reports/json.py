"""JSON report: the same content as the table, machine-readable (documented in docs/report-json.md)."""

from __future__ import annotations

import json
from typing import Any

from scanner.rank import EstateReport

SCHEMA = "legacyscan-report/1"


def to_dict(report: EstateReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "as_of": report.as_of.isoformat(),
        "dataset_version": report.dataset_version,
        "tool_version": report.tool_version,
        "sites": [
            {
                "site": site.site,
                "counts": site.counts(),
                "hosts": [
                    {"hostname": h.hostname, "host_key": h.host_key, "collected_at": h.collected_at,
                     "worst": h.worst.value, "unidentified_packages": h.unidentified,
                     "os": h.os.to_dict() if h.os else None,
                     "findings": [f.to_dict() for f in h.findings if f.kind != "os"]}
                    for h in site.hosts
                ],
                "coverage": [{"target": s.target, "status": s.status, "error": s.error, "at": s.at,
                              "last_ok_at": s.last_ok_at} for s in site.statuses],
            }
            for site in report.sites
        ],
    }


def render(report: EstateReport) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"
