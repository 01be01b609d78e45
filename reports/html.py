"""HTML report: ONE self-contained file, no network access, charts as inline SVG, sortable tables.

Why self-contained: the report is mailed to a SIRO, attached to a DSPT submission and opened on
locked-down NHS desktops; it must not fetch anything.  A strict Content-Security-Policy states
that in the file itself: nothing may load (``default-src 'none'``), and only the one inline style
and the one inline script — pinned by their SHA-256 — may run, so even a string that escaped
would be inert.  Every value from an inventory, the register or the configuration passes through
``_e`` (``html.escape`` plus visible markers for control and bidi-override characters), and every
cell is ``unicode-bidi: isolate`` so a right-to-left override cannot leak into its neighbours.
``@media print`` lays it out for "Save as PDF".
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from reports.common import (
    EVIDENCE_HEADERS,
    EXTENDED_HEADERS,
    NOT_COSTED,
    PLAN_HEADERS,
    PRODUCT_HEADERS,
    REGISTER_HEADERS,
    ROADMAP_HEADERS,
    Value,
    evidence_rows,
    extended_rows,
    extended_text,
    kpi_rows,
    meta_rows,
    money,
    os_name,
    pct,
    plan_by_year,
    plan_rows,
    product_rows,
    register_rows,
    roadmap_rows,
)
from scanner.plan.actions import release_name
from scanner.report.model import KPI_LABELS, EstateReport, HostRow, KpiName, SiteReport

STATUS_COLOURS = {
    "eol": "#b3261e",
    "extended": "#d9730d",
    "ending-soon": "#c9a000",
    "supported": "#2e7d32",
    "unknown": "#8a8a8a",
    "none": "#8a8a8a",
}
STATUS_ORDER = ["eol", "extended", "ending-soon", "supported", "unknown"]

CSS = """
:root{--ink:#1b1b1b;--muted:#5f6368;--line:#d0d4d9;--head:#1f4e79;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);
margin:0;background:#fff}
header,main,footer{max-width:1400px;margin:0 auto;padding:0 24px}
h1{font-size:24px;margin:18px 0 4px}
h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid var(--head);padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}
.meta{color:var(--muted);margin:0 0 12px}
.banner{background:#fde7e9;color:#8c1d18;border:2px solid #b3261e;padding:10px 16px;font-weight:700;text-align:center}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--bg)}
.card .v{font-size:22px;font-weight:700}.card .l{color:var(--muted);font-size:12px}
.card .d{font-size:12px;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;align-items:start}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;background:#fff}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:11px;fill:#1b1b1b}svg text.w{fill:#fff}
.tw{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;unicode-bidi:isolate;
overflow-wrap:break-word;word-break:normal;hyphens:manual;max-width:420px}
th{background:var(--head);color:#fff;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}
table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
tbody tr:nth-child(even){background:var(--bg)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td>span[class^=b-]{white-space:nowrap}
.s-eol{color:#b3261e;font-weight:700}.s-extended{color:#d9730d;font-weight:700}
.s-ending-soon{color:#8a6d00;font-weight:700}
.s-supported{color:#2e7d32}.s-unknown{color:#5f6368}
.b-critical{background:#b3261e;color:#fff;padding:0 6px;border-radius:4px}
.b-high{background:#d9730d;color:#fff;padding:0 6px;border-radius:4px}
.b-medium{background:#f2cc0c;padding:0 6px;border-radius:4px}.b-low{background:#dfe3e8;padding:0 6px;border-radius:4px}
.parts{color:var(--muted);font-size:11px}
.ctl{color:#b3261e;font-family:monospace}
.note{color:var(--muted);font-size:12px}
.warn{background:#fff4e5;border:1px solid #d9730d;padding:8px 12px;margin:8px 0}
nav.toc{border:1px solid var(--line);border-radius:8px;padding:6px 16px;margin:12px 0;background:var(--bg)}
nav.toc ol{margin:4px 0;padding-left:22px}nav.toc li{margin:2px 0}
@media screen{section.devices .tw,section#evidence .tw{max-height:80vh;overflow:auto}}
@page{size:A4 portrait;margin:11mm 10mm}
@page wide{size:A4 landscape;margin:9mm 9mm}
@media print{
 body{font-size:9px;line-height:1.3}header,main,footer{max-width:none;padding:0}
 h1{font-size:17px;margin:0 0 2px}h2{font-size:13px;margin:10px 0 4px}h3{font-size:11px;margin:8px 0 3px}
 th{position:static;background:#ddd!important;color:#000;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 .banner,.warn,.b-critical,.b-high,.b-medium{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 .banner{padding:3px 8px}
 thead{display:table-header-group}tr,figure,.card{break-inside:avoid}h2,h3{break-after:avoid}
 section.site,section.appendix{break-before:page}.wide{page:wide}
 table{font-size:7.5px;margin:3px 0 6px}th,td{padding:1px 3px;max-width:none}
 table.sortable th::after{content:""!important}.tw{overflow:visible}
 .np{display:none}.parts{font-size:7px}
 .cards{grid-template-columns:repeat(4,1fr);gap:4px;margin:4px 0}.card{padding:3px 6px}
 .card .v{font-size:13px}.card .l,.card .d{font-size:8px}
 .charts{grid-template-columns:1fr 1fr;gap:6px}figure{padding:2px}
 nav.toc{break-after:avoid;padding:2px 10px}a{color:inherit;text-decoration:none}
}
"""

JS = """
(function(){
  function key(td, num){
    var v = td.getAttribute('data-v');
    if (v === null) v = td.textContent;
    if (num){ var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(th){
    var table = th.closest('table'), tbody = table.tBodies[0];
    if (!tbody) return;
    var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var num = th.getAttribute('data-type') === 'num';
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(th.parentNode.children, function(o){ o.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(tbody.rows);
    var keyed = rows.map(function(r, i){ return [key(r.cells[idx] || r.cells[0], num), i, r]; });
    keyed.sort(function(a, b){
      if (a[0] < b[0]) return asc ? -1 : 1;
      if (a[0] > b[0]) return asc ? 1 : -1;
      return a[1] - b[1];
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function(k){ frag.appendChild(k[2]); });
    tbody.appendChild(frag);
  }
  document.querySelectorAll('table.sortable th').forEach(function(th){
    th.setAttribute('tabindex', '0');
    th.addEventListener('click', function(){ sortBy(th); });
    th.addEventListener('keydown', function(e){
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(th); }
    });
  });
})();
"""


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = (
    f"default-src 'none'; style-src {_sha(CSS)}; script-src {_sha(JS)}; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)  # frame-ancestors is ignored in a <meta> CSP


def _css_string(text: str) -> str:
    """A CSS string literal: every character but letters, digits and spaces as a six-digit escape,
    so no value (a quote, ``</style>``, a newline) can end the string or the style element."""
    return (
        '"' + "".join(ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):06x} " for ch in text) + '"'
    )


def page_css(report: EstateReport) -> str:
    """The printed pages' running header and footer (CSS page-margin boxes): the trust's name (or
    that the data is a demo) on the left of every page, the report date on the right, page numbers
    below, so a page torn from the board pack still says whose estate and which day it shows."""
    who = " — ".join(x for x in (("DEMO DATA" if report.demo else ""), report.organisation) if x)
    left = who or "legacyscan replacement plan"
    box = "font-size:7pt;color:#5f6368"
    return (
        f"@page{{@top-left{{content:{_css_string(left)};{box}}}"
        f"@top-right{{content:{_css_string('legacyscan report as of ' + report.as_of.isoformat())};{box}}}"
        f'@bottom-right{{content:"page " counter(page) " of " counter(pages);{box}}}}}'
    )


def _csp(page: str) -> str:
    """The policy for this page: its one style element (``CSS`` plus the page-margin rules) pinned."""
    return CSP.replace(f"style-src {_sha(CSS)}", f"style-src {_sha(CSS + page)}")


def _e(value: object) -> str:
    """Escape for HTML text and attributes; control / bidi characters become visible markers."""
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():  # fast path (almost every value): no control or bidi characters to mark
        return html.escape(text, quote=True)
    out: list[str] = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(html.escape(ch, quote=True))
        else:
            out.append(f'<span class="ctl">&lt;U+{ord(ch):04X}&gt;</span>')
    return "".join(out)


def _attr(value: object) -> str:
    """Attribute values: escaped, with control characters dropped (markers would be markup)."""
    return html.escape("".join(ch for ch in str(value) if ch.isprintable() or ch == " "), quote=True)


def _status(s: str) -> str:
    return f'<span class="s-{_attr(s)}">{_e(s)}</span>' if s else ""


def _band(b: str) -> str:
    return f'<span class="b-{_attr(b)}">{_e(b)}</span>' if b and b != "none" else ""


def _num(v: Value) -> str:
    """Numbers as people read them: thousands separated, at most two decimals."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return _e(v)
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")


def _table(
    headers: list[str],
    rows: Sequence[Sequence[Value]],
    num_cols: set[int] | None = None,
    html_cols: set[int] | None = None,
    cls: str = "sortable",
    screen_only: set[int] | None = None,
) -> str:
    """A table; ``screen_only`` columns are left out of print (detail that is in the other formats)."""
    num_cols = num_cols or set()
    html_cols = html_cols or set()
    np_ = screen_only or set()
    head = _head_cells(headers, num_cols, np_)
    width = max((len(row) for row in rows), default=0)
    cells = [_cell_writer(i in html_cols, i in num_cols, i in np_) for i in range(width)]
    body = ["<tr>" + "".join([cell(v) for cell, v in zip(cells, row, strict=False)]) + "</tr>" for row in rows]
    return (
        f'<div class="tw"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _head_cells(headers: list[str], num_cols: set[int], np_: set[int]) -> str:
    return "".join(
        f'<th scope="col"{" data-type=num" if i in num_cols else ""}{" class=np" if i in np_ else ""}>{_e(h)}</th>'
        for i, h in enumerate(headers)
    )


def _cell_writer(html: bool, num: bool, screen_only: bool) -> Callable[[Value], str]:
    """How one column's cells are written: pre-rendered HTML as is, a number right-aligned with its
    raw value for sorting, anything else escaped; a screen-only column is left out of print."""
    td = "<td class=np>" if screen_only else "<td>"
    if html:
        return lambda v: f"{td}{v}</td>"  # pre-rendered, already escaped
    if num:
        num_td = '<td class="num np" data-v="' if screen_only else '<td class="num" data-v="'
        return lambda v: f'{num_td}{"" if v is None else _attr(v)}">{_num(v)}</td>'
    return lambda v: f"{td}{_e(v)}</td>"


# -- charts -------------------------------------------------------------------------------------


def _svg(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_attr(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">{body}</svg>'
    )


def chart_status_by_site(report: EstateReport) -> str:
    """Stacked bars: devices per site by the support status of their operating system.

    (By OS rather than worst finding: nearly every PC has some out-of-date application, which
    would paint every site solid red and hide the difference that drives replacement.)"""
    label_w, bar_w, row_h = 170, 380, 26
    rows = [_site_bar(site, 10 + i * row_h, label_w, bar_w) for i, site in enumerate(report.sites)]
    height = 10 + len(report.sites) * row_h + 30
    legend = "".join(
        f'<rect x="{label_w + i * 90}" y="{height - 18}" width="10" height="10" '
        f'fill="{STATUS_COLOURS[s]}"/><text x="{label_w + i * 90 + 14}" y="{height - 9}">{s}</text>'
        for i, s in enumerate(STATUS_ORDER)
    )
    return _svg(label_w + bar_w + 50, height, "".join(rows) + legend, "Devices per site by OS support status")


def _site_bar(site: SiteReport, y: int, label_w: int, bar_w: int) -> str:
    """One site's bar of ``chart_status_by_site``: its name, a segment per OS status, its total."""
    counts = Counter(h.os.status.value if h.os else "unknown" for h in site.hosts)
    total = sum(counts.values()) or 1
    x = float(label_w)
    name = site.site if len(site.site) <= 26 else site.site[:25] + "…"
    parts = [f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(name)}</text>']
    for status in STATUS_ORDER:
        n = counts.get(status, 0)
        if not n:
            continue
        w = bar_w * n / total
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="18" fill="{STATUS_COLOURS[status]}">'
            f"<title>{_e(site.site)}: {n} device(s), OS {status}</title></rect>"
        )
        if w > 22:
            parts.append(f'<text class="w" x="{x + w / 2:.1f}" y="{y + 13}" text-anchor="middle">{n}</text>')
        x += w
    parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}">{sum(counts.values())}</text>')
    return "".join(parts)


def chart_roadmap(report: EstateReport) -> str:
    """Bars: devices whose product/cycle leaves support in each period (overdue first)."""
    periods: dict[str, int] = {}
    for r in report.roadmap:
        periods[r.period] = periods.get(r.period, 0) + r.devices
    if not periods:
        return '<p class="note">Nothing leaves support in the roadmap horizon.</p>'
    keys = sorted(periods, key=lambda p: (p != "overdue", p == "extended, ends later", p))
    top = max(periods.values())
    bw, gap, h = 64, 10, 170
    bars = []
    for i, k in enumerate(keys):
        n = periods[k]
        bh = (h - 30) * n / top
        x = 40 + i * (bw + gap)
        colour = STATUS_COLOURS["eol"] if k == "overdue" else STATUS_COLOURS["ending-soon"]
        bars.append(
            f'<rect x="{x}" y="{h - bh:.1f}" width="{bw}" height="{bh:.1f}" fill="{colour}">'
            f"<title>{_e(k)}: {n} device-release(s)</title></rect>"
            f'<text x="{x + bw / 2}" y="{h - bh - 4:.1f}" text-anchor="middle">{n}</text>'
            + "".join(
                f'<text x="{x + bw / 2}" y="{h + 12 + 11 * j}" text-anchor="middle">{_e(w)}</text>'
                for j, w in enumerate(k.replace(", ", " ").split(" ", 1))
            )
        )
    width = 40 + len(keys) * (bw + gap) + 20
    axis = f'<line x1="36" y1="{h}" x2="{width}" y2="{h}" stroke="#5f6368"/>'
    return _svg(max(width, 300), h + 36, axis + "".join(bars), "Roadmap: device-releases leaving support per quarter")


def chart_os_mix(report: EstateReport, top_n: int = 12) -> str:
    """Horizontal bars: the most common OS releases, coloured by status."""
    mix: Counter[tuple[str, str]] = Counter()
    for h in report.all_hosts():
        if h.os is None:
            mix[("unidentified", "unknown")] += 1
            continue
        mix[(os_name(h) if h.os.product else "unidentified", h.os.status.value)] += 1
    items = mix.most_common(top_n)
    if not items:
        return '<p class="note">No devices.</p>'
    top = items[0][1]
    label_w, bar_w, row_h = 300, 260, 22
    rows = []
    for i, ((name, status), n) in enumerate(items):
        y = 8 + i * row_h
        w = bar_w * n / top
        short = name if len(name) <= 46 else name[:45] + "…"
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="15" fill="{STATUS_COLOURS.get(status)}">'
            f"<title>{_e(name)}: {n} device(s), {status}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 12}">{n}</text>'
        )
    return _svg(label_w + bar_w + 50, 16 + len(items) * row_h, "".join(rows), "Operating system mix")


# -- sections -----------------------------------------------------------------------------------


def _cards(report: EstateReport, k_rows: list[list[Value]], keys: list[KpiName]) -> str:
    wanted = {label: (value, delta) for label, value, delta in k_rows}
    cards = []
    for key in keys:
        label = KPI_LABELS[key]
        value, delta = wanted.get(label, ("n/a", ""))
        cards.append(
            f'<div class="card"><div class="v">{_e(value)}</div><div class="l">{_e(label)}</div>'
            f'<div class="d">{_e(f"change {delta}" if delta else "")}</div></div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


CARD_KEYS: list[KpiName] = [
    "devices",
    "unsupported_os_share",
    "median_days_past_end",
    "win11_ready_share",
    "open_findings",
    "accepted_findings",
    "coverage",
    "estimated_cost",
]


TOP_DEVICES = 15  # per site summary; the full list is in the appendix


def _device_rows(site: SiteReport, report: EstateReport, limit: int | None = None) -> list[list[Value]]:
    cur = report.currency
    rows: list[list[Value]] = []
    rank = 0
    for h in site.hosts:
        if not h.open_rows:
            continue
        rank += 1
        if limit is not None and rank > limit:
            break
        rows.append(_device_row(rank, h, cur))
    return rows


def _device_row(rank: int, h: HostRow, cur: str) -> list[Value]:
    """One device of a site's replacement list (pre-rendered HTML but for the numbers)."""
    os_f = h.os
    opened = "; ".join(
        f"{release_name(r.finding)} ({r.finding.status.value})" for r in h.open_rows if r.finding.kind != "os"
    )
    return [
        rank,
        _e(h.hostname) + (f'<div class="parts">{_e(", ".join(h.tags))}</div>' if h.tags else ""),
        round(h.score.total, 1),
        _band(h.band),
        _e(os_name(h)),
        _status(os_f.status.value if os_f else ""),
        f'<b>{_e(h.action.text)}</b><div class="parts">{_e(h.action.clears)}</div>',
        _e(h.readiness.summary() if h.readiness else ""),
        h.action.cost if h.action.cost is not None else NOT_COSTED,
        _e(h.scheduled),
        _e(opened),
        _e(extended_text(h, cur)),
        None if h.extended_cost is None else round(h.extended_cost, 2),
        f'<span class="parts">{_e(h.score.explain(nested=True))}</span>',
    ]


def _device_table(rows: list[list[Value]], cur: str) -> str:
    headers = [
        "#",
        "device",
        "priority",
        "band",
        "OS",
        "OS status",
        "action",
        "Windows 11",
        f"cost ({cur})",
        "scheduled",
        "open application findings",
        "ESU / extended support",
        f"extended support per year ({cur})",
        "priority parts",
    ]
    return _table(
        headers, rows, num_cols={0, 2, 8, 12}, html_cols={1, 3, 4, 5, 6, 7, 9, 10, 11, 13}, screen_only={10, 11, 12, 13}
    )


def _bands_note(site: SiteReport) -> str:
    bands = Counter(h.band for h in site.hosts if h.open_rows)
    return (
        '<p class="note">Devices to act on by band: '
        + _e(", ".join(f"{n} {b}" for b, n in sorted(bands.items(), key=lambda kv: BAND_ORDER.get(kv[0], 9))))
        + "</p>"
    )


def _win11_table(site: SiteReport) -> str:
    if not site.kpis.windows10:
        return ""
    blockers: Counter[str] = Counter(b for h in site.hosts if h.readiness for b in h.readiness.blockers)
    unknowns: Counter[str] = Counter(u for h in site.hosts if h.readiness for u in h.readiness.unknowns)
    k = site.kpis
    return "<h3>Windows 11 readiness (Windows 10 devices)</h3>" + _table(
        ["ready: upgrade in place", "not ready", "unknown", "blocked by", "facts missing"],
        [
            [
                k.win11_ready,
                k.win11_not_ready,
                k.win11_unknown,
                _counted(blockers),
                _counted(unknowns),
            ]
        ],
        num_cols={0, 1, 2},
        cls="plain",
    )


def _counted(names: Counter[str]) -> str:
    """``"3 tpm, 1 ram"``, most first; "-" when there is none."""
    return ", ".join(f"{n} {c}" for n, c in names.most_common()) or "-"


def _top_devices(site: SiteReport, report: EstateReport, idx: int) -> str:
    rows = _device_rows(site, report, TOP_DEVICES)
    to_act = sum(1 for h in site.hosts if h.open_rows)
    return (
        f"<h3>Highest-priority devices ({min(TOP_DEVICES, to_act)} of {to_act}; "
        f'all in <a href="#devices-{idx}">appendix F</a>)</h3>'
    ) + (_device_table(rows, report.currency) if rows else '<p class="note">Nothing to act on.</p>')


def _site_plan(site: SiteReport, report: EstateReport) -> str:
    plan = [
        [
            p.financial_year,
            p.devices,
            ", ".join(f"{k} {v}" for k, v in sorted(p.actions.items())),
            p.cost if p.cost is not None else NOT_COSTED,
            p.overdue,
            p.deferred,
        ]
        for p in report.plan
        if p.site == site.site
    ]
    if not plan:
        return ""
    return "<h3>This site's plan by NHS financial year</h3>" + _table(
        [
            "financial year",
            "devices",
            "actions",
            f"cost ({report.currency})",
            "already past end",
            "deferred by capacity",
        ],
        plan,
        num_cols={1, 3, 4, 5},
        cls="plain",
    )


def _site_exceptions(site: SiteReport) -> str:
    accepted = len([r for h in site.hosts for r in h.accepted_rows])
    expired = len([r for h in site.hosts for r in h.rows if r.exception_state == "exception expired"])
    if not (accepted or expired):
        return ""
    return (
        f'<p class="note">{accepted} finding(s) accepted under the exception register; {expired} '
        "under an expired exception (back on the action list). Detail in appendix F.</p>"
    )


def _site_not_reached(site: SiteReport) -> str:
    if not site.not_reached:
        return ""
    return f"<h3>Not reached ({len(site.not_reached)} scan target(s): status unknown)</h3>" + _table(
        ["target", "status", "error", "last attempt", "last ok"],
        [[st.target, st.status, st.error, st.at, st.last_ok_at or "never"] for st in site.not_reached],
    )


def _site_section(site: SiteReport, report: EstateReport, idx: int) -> str:
    """One site's summary: KPIs, readiness, its highest-priority devices, its plan, what was missed."""
    k_rows = kpi_rows(site.kpis, site.kpi_change, report.currency)
    return "".join(
        [
            f'<section class="site" id="site-{idx}"><h2>Site: {_e(site.site)}</h2>',
            _cards(report, k_rows, CARD_KEYS),
            _bands_note(site),
            _win11_table(site),
            _top_devices(site, report, idx),
            _site_plan(site, report),
            _site_exceptions(site),
            _site_not_reached(site),
            "</section>",
        ]
    )


def _device_appendix(site: SiteReport, report: EstateReport, idx: int) -> str:
    """Appendix F: a site's full replacement list, and what is accepted or expired there."""
    out = [
        f'<section class="appendix wide devices" id="devices-{idx}"><h2>F{idx + 1}. Devices to act on: '
        f"{_e(site.site)}</h2>"
    ]
    rows = _device_rows(site, report)
    out.append(_device_table(rows, report.currency) if rows else '<p class="note">Nothing to act on.</p>')
    out.append(_accepted_table(site))
    out.append(_expired_table(site))
    out.append("</section>")
    return "".join(out)


def _accepted_table(site: SiteReport) -> str:
    """The findings an active exception covers at the site ("" when none)."""
    accepted = [
        [
            _e(h.hostname),
            _e(release_name(r.finding)),
            _status(r.finding.status.value),
            _e(r.exception.id if r.exception else ""),
            _e(r.exception.category_label if r.exception else ""),
            _e(r.exception.expires.isoformat() if r.exception else ""),
        ]
        for h in site.hosts
        for r in h.accepted_rows
    ]
    if not accepted:
        return ""
    return "<h3>Accepted under the exception register</h3>" + _table(
        ["device", "release", "status", "exception", "category", "expires"],
        accepted,
        html_cols={0, 1, 2, 3, 4, 5},
    )


def _expired_table(site: SiteReport) -> str:
    """The findings whose exception has expired at the site ("" when none)."""
    expired = [
        [
            _e(h.hostname),
            _e(release_name(r.finding)),
            _e(r.exception.id if r.exception else ""),
            _e(r.exception.expires.isoformat() if r.exception else ""),
        ]
        for h in site.hosts
        for r in h.rows
        if r.exception_state == "exception expired"
    ]
    if not expired:
        return ""
    return "<h3>Exceptions expired — back on the action list</h3>" + _table(
        ["device", "release", "exception", "expired"], expired, html_cols={0, 1, 2, 3}
    )


BAND_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 4}


def _weights_table(weights: Mapping[str, object]) -> str:
    """The priority weights as a table a reader can check (never a raw Python dict)."""
    rows: list[list[Value]] = []
    for key, value in weights.items():
        if isinstance(value, dict):
            rows += [
                [key.replace("_", " "), str(k), v if isinstance(v, int | float) else str(v)] for k, v in value.items()
            ]
        elif isinstance(value, list):
            rows.append([key.replace("_", " "), "", ", ".join(str(v) for v in value)])
        else:
            rows.append([key.replace("_", " "), "", value if isinstance(value, int | float) else str(value)])
    return _table(["weight", "name", "points / value"], rows, cls="plain")


def _toc(report: EstateReport) -> str:
    sites = "".join(f'<li><a href="#site-{i}">{_e(s.site)}</a></li>' for i, s in enumerate(report.sites))
    devices = "".join(f'<li><a href="#devices-{i}">F{i + 1}. {_e(s.site)}</a></li>' for i, s in enumerate(report.sites))
    extended = (
        '<li><a href="#extended">C. Replace or pay for extended support</a></li>' if report.extended_support else ""
    )
    return (
        '<nav class="toc" aria-label="Contents"><b>Contents</b><ol>'
        '<li><a href="#summary">Summary</a>: <a href="#estate">estate</a>, <a href="#sites">sites compared</a>, '
        '<a href="#plan">plan by financial year</a>, <a href="#register">exception register</a></li>'
        f"<li>Sites<ol>{sites}</ol></li>"
        '<li>Appendices<ol type="A"><li><a href="#products">Products out of (or leaving) support</a></li>'
        '<li><a href="#roadmap">Roadmap</a></li>'
        + extended
        + '<li value="4"><a href="#evidence">Evidence: DSPT 8.1 / 8.2.1 and CAF B4.d</a></li>'
        '<li value="5"><a href="#scoring">How priority is scored</a></li>'
        f'<li value="6">Devices to act on, per site<ul>{devices}</ul></li></ol></li></ol></nav>'
    )


def render(report: EstateReport, summary_only: bool = False) -> str:
    """The board pack.  ``summary_only``: the summary section alone (what a board reads first)."""
    title = f"legacyscan replacement plan — {report.as_of.isoformat()}"
    parts: list[str] = [_head(report, title), _header(report, title)]
    if not summary_only:
        parts.append(_toc(report))
    parts.append(_summary(report))
    if summary_only:
        parts.append(f"</main><script>{JS}</script></body></html>\n")
        return "".join(parts)
    for i, site in enumerate(report.sites):
        parts.append(_site_section(site, report, i))
    parts.append(_appendices(report))
    for i, site in enumerate(report.sites):
        parts.append(_device_appendix(site, report, i))
    parts.append(_footer(report))
    parts.append(f"<script>{JS}</script></body></html>\n")
    return "".join(parts)


def _head(report: EstateReport, title: str) -> str:
    """The document up to ``<body>``: a content security policy for the page's own style, the title."""
    org = report.organisation
    page = page_css(report)
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_csp(page)}">',
            '<meta name="referrer" content="no-referrer">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(('DEMO — ' if report.demo else '') + (org + ' — ' if org else '') + title)}</title>"
            f"<style>{CSS}{page}</style></head><body>",
        ]
    )


def _header(report: EstateReport, title: str) -> str:
    """The demo banner, the heading with the versions and the estate's size, an old dataset's warning."""
    org = report.organisation
    parts = []
    if report.demo:
        parts.append(f'<div class="banner" role="note">{_e(report.demo)}</div>')
    parts.append(
        f'<header><h1>{_e((org + ": ") if org else "")}{_e(title)}</h1><p class="meta">legacyscan '
        f"{_e(report.tool_version)} · EOL dataset {_e(report.dataset_version)} · "
        f"{len(report.all_hosts())} devices on {len(report.sites)} site(s) · click a column header to "
        "sort</p>"
    )
    if report.dataset_warning:
        parts.append(f'<p class="warn" role="note"><b>Warning:</b> {_e(report.dataset_warning)}</p>')
    parts.append("</header><main>")
    return "".join(parts)


def _summary(report: EstateReport) -> str:
    """The summary section: the estate's KPI cards and charts, the sites compared, the plan by
    financial year, the exception register in brief."""
    cur = report.currency
    parts = ['<section class="summary" id="summary"><h2 id="estate">Summary: estate</h2>']
    parts.append(_cards(report, kpi_rows(report.kpis, report.kpi_change, cur), CARD_KEYS))
    parts.append(
        '<div class="charts">'
        f"<figure><figcaption>OS status by site</figcaption>{chart_status_by_site(report)}</figure>"
        f"<figure><figcaption>Roadmap by quarter</figcaption>{chart_roadmap(report)}</figure>"
        f"<figure><figcaption>OS mix</figcaption>{chart_os_mix(report)}</figure></div>"
    )
    parts.append(_sites_compared(report))
    parts.append(_plan_summary(report))
    parts.append(_register_summary(report))
    parts.append("</section>")
    return "".join(parts)


def _sites_compared(report: EstateReport) -> str:
    """Each site's headline figures side by side."""
    cur = report.currency
    bands_by_site = {s.site: Counter(h.band for h in s.hosts if h.open_rows) for s in report.sites}
    site_rows = [
        [
            f'<a href="#site-{i}">{_e(s.site)}</a>',
            s.kpis.devices,
            s.kpis.unsupported_os,
            _e(pct(s.kpis.unsupported_os_share)),
            s.kpis.extended_os,
            bands_by_site[s.site]["critical"],
            bands_by_site[s.site]["high"],
            _e(pct(s.kpis.win11_ready_share)),
            s.kpis.open_findings,
            s.kpis.accepted_findings,
            _e(pct(s.kpis.coverage)),
            s.kpis.estimated_cost if s.kpis.estimated_cost is not None else NOT_COSTED,
        ]
        for i, s in enumerate(report.sites)
    ]
    return '<h3 id="sites">Sites compared</h3>' + _table(
        [
            "site",
            "devices",
            "unsupported OS",
            "share",
            "OS in extended support",
            "critical",
            "high",
            "Windows 11-ready",
            "open findings",
            "accepted",
            "coverage",
            f"estimated cost ({cur})",
        ],
        site_rows,
        num_cols={1, 2, 4, 5, 6, 8, 9, 11},
        html_cols={0, 3, 7, 10},
    )


def _plan_summary(report: EstateReport) -> str:
    """The plan by NHS financial year (the capacity it was phased with), then per site."""
    cur = report.currency
    cap = (
        f"Capacity: {report.devices_per_year:,} devices per year ([plan] devices_per_year), this year pro rata; "
        "application updates take no capacity."
        if report.devices_per_year
        else "No capacity set ([plan] devices_per_year): each device is in the year it is due."
    )
    parts = [
        '<h3 id="plan">Plan by NHS financial year</h3><p class="note">Each device counted once, due in '
        "the year of its earliest open end of support (an extended phase ends when it does; already "
        f"past: this year). {_e(cap)}</p>"
    ]
    parts.append(
        _table(
            ["financial year", "devices", f"cost ({cur})", "already past end", "deferred by capacity"],
            plan_by_year(report),
            num_cols={1, 2, 3, 4},
            cls="plain",
        )
    )
    parts.append(_table(PLAN_HEADERS, plan_rows(report), num_cols={2, 4, 5, 6, 7, 8, 9}))
    return "".join(parts)


def _register_summary(report: EstateReport) -> str:
    """The exception register in brief (or that none was given)."""
    head = '<h3 id="register">Exception register</h3>'
    if not report.register:
        return head + '<p class="note">No exception register was given (--exceptions FILE).</p>'
    return head + _table(
        ["id", "state", "scope", "category", "approver", "expires", "findings", "devices"],
        [[r[0], r[1], r[2], r[3], r[9], r[11], r[13], r[14]] for r in register_rows(report)],
        num_cols={6, 7},
    )


def _appendices(report: EstateReport) -> str:
    """Appendices A to E: products, roadmap, replace or pay, evidence, how priority is scored."""
    parts: list[str] = []
    parts.append('<section class="appendix wide" id="products"><h2>A. Products out of (or leaving) support</h2>')
    parts.append(_table(PRODUCT_HEADERS, product_rows(report), num_cols={4, 6, 7}, screen_only={8}))
    parts.append(
        '</section><section class="appendix wide" id="roadmap"><h2>B. Roadmap by NHS financial-year '
        'quarter</h2><p class="note">"overdue": support ended and nothing covers it. A release in an '
        "extended phase sits in the quarter that phase ends. Each device's action cost is on the row "
        "of its earliest open end, so these costs add up to the plan's.</p>"
    )
    parts.append(_table(ROADMAP_HEADERS, roadmap_rows(report), num_cols={6, 8, 9}))
    parts.append("</section>")
    if report.extended_support:
        parts.append(
            '<section class="appendix wide" id="extended"><h2>Replace or pay for extended support</h2>'
            '<p class="note">What keeping devices on the paid extended phases the site catalogue declares '
            "costs per year, next to what their planned actions cost once; \u201cyears\u201d = actions "
            "cost \u00f7 yearly cost.</p>"
        )
        parts.append(_table(EXTENDED_HEADERS, extended_rows(report), num_cols={4, 8, 10, 11, 12}))
        parts.append("</section>")
    parts.append('<section class="appendix wide" id="evidence"><h2>D. Evidence: DSPT 8.1 / 8.2.1 and CAF B4.d</h2>')
    parts.append(_table(["", ""], meta_rows(report), cls="plain"))
    parts.append("<h3>Unsupported-item register (DSPT 8.2.1)</h3>")
    parts.append(_table(EVIDENCE_HEADERS, evidence_rows(report), num_cols={4}))
    if report.register:
        parts.append("<h3>Exception register in full</h3>")
        parts.append(_table(REGISTER_HEADERS, register_rows(report), num_cols={13, 14}))
    parts.append(
        '</section><section class="appendix" id="scoring"><h2>E. How priority is scored</h2>'
        '<p class="note">Finding score = status points + days past end of support while unsupported '
        "(capped) + product class + device tags + devices affected (capped); device score = its worst "
        "finding + a bonus per further open finding (capped). The band follows the score, except that a "
        "device whose OS is not open is never in the top band for its applications alone unless it "
        "carries one of the listed tags. Weights used (legacyscan.toml [priority]; reasoning in "
        "docs/reports.md):</p>"
    )
    parts.append(_weights_table(report.priority_weights))
    parts.append("</section>")
    return "".join(parts)


def _footer(report: EstateReport) -> str:
    cur = report.currency
    total = money(report.kpis.estimated_cost, cur) or "nothing (no unit costs configured: not costed)"
    return (
        f'</main><footer><p class="note">Generated by legacyscan {_e(report.tool_version)} on data as of '
        f"{_e(report.as_of.isoformat())}; costs in {_e(cur)}; {_e(total)} "
        "estimated for the actions listed.</p></footer>"
    )
