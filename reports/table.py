"""Plain-text tables (tabulate), a section per site: what a terminal user reads first."""

from __future__ import annotations

from tabulate import tabulate

from scanner.rank import EstateReport


def _clean(text: str, width: int = 60) -> str:
    """One line, control characters removed, bounded: hostile strings must not break the table."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= width else text[: width - 1] + "…"


def render(report: EstateReport) -> str:
    out: list[str] = [f"legacyscan {report.tool_version} — support status as of {report.as_of.isoformat()} "
                      f"(dataset {report.dataset_version})"]
    for site in report.sites:
        counts = site.counts()
        out.append("")
        out.append(f"== Site: {_clean(site.site)} — {len(site.hosts)} host(s); "
                   + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        rows = []
        for host in site.hosts:
            for f in host.findings:
                rows.append([_clean(host.hostname, 30), f.kind, _clean(f.name, 40), _clean(f.version, 24),
                             f"{f.product or '-'} {f.cycle or ''}".strip(), f.status.value,
                             (f.extended_until or f.eol).isoformat() if (f.extended_until or f.eol) else "",
                             _clean(f.detail.rule, 30)])
        if rows:
            out.append(tabulate(rows, headers=["host", "kind", "name", "version", "product cycle", "status",
                                               "until", "rule"], tablefmt="simple"))
        failed = [s for s in site.statuses if s.status != "ok"]
        if failed:
            out.append("")
            out.append("Not reached:")
            out.append(tabulate([[_clean(s.target, 40), s.status, _clean(s.error, 60), s.last_ok_at or "never"]
                                 for s in failed], headers=["target", "status", "error", "last ok"]))
    return "\n".join(out) + "\n"
