"""Issue 14: reports a board can act on.

Bands that triage on the demo estate, one cost model across every total and format, phasing by
financial year with a capacity, "extended" never shown as overdue or unsupported, unreached
targets stated, release names as people say them, the trust's name and the dataset's age in every
header, and a workbook finance can compute with.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

import reports.csv
import reports.html
import reports.json
import reports.table
import reports.xlsx
from reports.common import NOT_COSTED, evidence_rows, plan_by_year, plan_rows, product_rows
from scanner.demo import DEMO_CONFIG, DEMO_EXCEPTIONS, generate
from scanner.judge.match import match_estate
from scanner.model import Policy, Status
from scanner.plan.actions import product_release_name, release_name, spoken_release
from scanner.plan.config import ReportConfig, config_from_dict
from scanner.plan.priority import PriorityConfig
from scanner.plan.risk_register import parse_toml
from scanner.report.build import build_report, dataset_date
from scanner.report.model import EstateReport
from scanner.store.sqlite import HostStatus
from tests.unit import report_estate as est

DEMO_AS_OF = date(2026, 12, 6)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> EstateReport:
    """The 2,000-device demo estate, judged as `legacyscan demo` judges it."""
    estate = generate(devices=2000, sites=3, seed=7, as_of=DEMO_AS_OF)
    results = match_estate(estate.current, est.ctx(), DEMO_AS_OF, Policy())
    cfg = config_from_dict(tomllib.loads(DEMO_CONFIG), "legacyscan.toml")
    return build_report(
        results,
        estate.statuses,
        DEMO_AS_OF,
        est.ctx().catalog.version,
        "t",
        config=cfg,
        register=parse_toml(DEMO_EXCEPTIONS, "exceptions.toml"),
        demo="DEMO",
    )


@pytest.fixture(scope="module")
def demo_wb(demo: EstateReport):
    return load_workbook(io.BytesIO(reports.xlsx.render(demo)))


# -- 1. bands that triage -------------------------------------------------------------------------


def test_at_most_a_fifth_of_the_demo_estate_is_critical(demo: EstateReport) -> None:
    hosts = demo.all_hosts()
    critical = [h for h in hosts if h.band == "critical"]
    assert len(hosts) == 2000
    assert 0 < len(critical) <= 0.20 * len(hosts), len(critical)
    # the bands separate: every band is used, and "high" is not everything either
    bands = {h.band for h in hosts}
    assert {"critical", "high", "medium"} <= bands
    # critical devices are exposed ones: a clinical, medical-device or internet-facing role
    assert all({"clinical", "medical-device", "internet-facing"} & {t.lower() for t in h.tags} for h in critical)


def test_a_supported_os_device_is_never_critical_for_applications_alone(demo: EstateReport) -> None:
    exposed = {"clinical", "internet-facing", "medical-device"}
    app_only = [h for h in demo.all_hosts() if h.open_rows and not any(r.finding.kind == "os" for r in h.open_rows)]
    assert app_only, "the demo has devices with application findings only"
    assert not [h.hostname for h in app_only if h.band == "critical" and not exposed & {t.lower() for t in h.tags}]
    cfg = PriorityConfig()
    assert cfg.device_band(500.0, os_open=False, tags=["admin"]) == "high"  # capped below the top band
    assert cfg.device_band(500.0, os_open=False, tags=["clinical"]) == "critical"
    assert cfg.device_band(500.0, os_open=True, tags=[]) == "critical"
    assert cfg.device_band(0.0, os_open=True, tags=[]) == "none"


def test_band_rule_and_weights_are_configurable() -> None:
    cfg = config_from_dict(
        {"priority": {"bands": {"critical": 50, "high": 40, "medium": 30}, "app_only_critical_tags": ["pacs"]}}
    )
    assert cfg.priority.bands["critical"] == 50
    assert cfg.priority.device_band(60.0, os_open=False, tags=["PACS"]) == "critical"
    assert cfg.priority.device_band(60.0, os_open=False, tags=["clinical"]) != "critical"
    with pytest.raises(ValueError, match="app_only_critical_tags"):
        config_from_dict({"priority": {"app_only_critical_tags": "clinical"}})


# -- 2. one cost model ----------------------------------------------------------------------------


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) < 0.01


def test_kpi_plan_and_roadmap_totals_are_one_figure(demo: EstateReport) -> None:
    kpi = demo.kpis.estimated_cost
    plan = sum(p.cost or 0.0 for p in demo.plan)
    roadmap = sum(r.cost or 0.0 for r in demo.roadmap)
    assert kpi and _close(kpi, plan) and _close(kpi, roadmap)
    # each device with an action counted once, in one row of each
    acting = [h for h in demo.all_hosts() if h.action.kind != "none"]
    assert sum(p.devices for p in demo.plan) == len(acting)
    assert sum(r.action_devices for r in demo.roadmap) == len(acting)
    # per site too
    for site in demo.sites:
        assert _close(site.kpis.estimated_cost, sum(p.cost or 0.0 for p in demo.plan if p.site == site.site))


def test_every_format_shows_the_same_total(demo: EstateReport, demo_wb) -> None:
    total = demo.kpis.estimated_cost
    assert total is not None
    data = json.loads(reports.json.render(demo))
    assert _close(data["kpis"]["estimated_cost"], sum(p["cost"] or 0 for p in data["plan"]))
    assert _close(data["kpis"]["estimated_cost"], sum(r["cost"] or 0 for r in data["roadmap"]))
    shown = f"{total:,.0f}"
    assert f"{shown} GBP" in reports.table.render(demo)
    assert shown in reports.html.render(demo, summary_only=True)
    wb = demo_wb
    plan = list(wb["Plan by FY"].iter_rows(values_only=True))
    col = plan[1].index("cost (GBP)")
    assert _close(sum(r[col] for r in plan[2:] if isinstance(r[col], int | float)), total)
    roadmap = list(wb["Roadmap"].iter_rows(values_only=True))
    col = roadmap[1].index("cost of those actions (GBP)")
    assert _close(sum(r[col] for r in roadmap[2:] if isinstance(r[col], int | float)), total)
    summary: dict[object, object] = {}
    for r in wb["Summary"].iter_rows(values_only=True):  # the estate block comes first, then each site's
        summary.setdefault(r[0], r[1])
    assert _close(summary["Estimated cost of planned actions"], total)  # type: ignore[arg-type]


def test_without_unit_costs_outputs_say_not_costed() -> None:
    rep = build_report(est.results(), est.statuses(), est.AS_OF, "d@2026-11-01", "t", config=ReportConfig())
    assert rep.kpis.estimated_cost is None
    assert all(p.cost is None for p in rep.plan) and all(r.cost is None for r in rep.roadmap)
    assert {r[4] for r in plan_rows(rep)} == {NOT_COSTED}
    table = reports.table.render(rep)
    assert "not costed" in table and " 0 GBP" not in table
    data = json.loads(reports.json.render(rep))
    assert data["kpis"]["estimated_cost"] is None and all(p["cost"] is None for p in data["plan"])
    assert "not costed" in reports.html.render(rep)


def test_the_plan_is_phased_by_capacity_from_each_devices_due_year(demo: EstateReport) -> None:
    years = {y[0]: y for y in plan_by_year(demo)}
    assert len(years) >= 3, years  # 700 a year (this year pro rata) cannot take the whole estate now
    capacity = demo.devices_per_year
    assert capacity == 700
    for fy in years:
        device_work = [h for h in demo.all_hosts() if h.scheduled == fy and h.action.kind != "update-applications"]
        limit = round(capacity * 4 / 12) if fy == "FY2026/27" else capacity  # December: 4 months left
        assert len(device_work) <= limit, (fy, len(device_work))
    # the highest-priority overdue work goes first
    first = [
        h.score.total
        for h in demo.all_hosts()
        if h.scheduled == "FY2026/27" and h.due and h.due < DEMO_AS_OF and h.action.kind != "update-applications"
    ]
    later = [
        h.score.total
        for h in demo.all_hosts()
        if h.scheduled == "FY2027/28" and h.due and h.due < DEMO_AS_OF and h.action.kind != "update-applications"
    ]
    assert first and later and min(first) >= max(later)
    assert sum(p.deferred for p in demo.plan) > 0
    # a year holds more devices than the capacity: the heading says why (application updates)
    assert sum(p.devices for p in demo.plan if p.financial_year == "FY2026/27") > capacity
    heading = next(ln for ln in reports.table.render(demo).splitlines() if ln.startswith("== Replacement plan"))
    assert "capacity 700 devices per year, this year pro rata; application updates take none" in heading
    # without a capacity every device is in the year it is due
    rep = est.report()
    assert {p.financial_year for p in rep.plan} == {"FY2026/27", "FY2028/29"}  # Debian 12: when its LTS ends
    assert sum(p.deferred for p in rep.plan) == 0


# -- 3. status semantics ----------------------------------------------------------------------------


def test_extended_is_never_overdue_or_unsupported() -> None:
    rep = est.report()
    debian = [r for r in rep.roadmap if r.product == "debian"]
    assert debian and all(r.period != "overdue" for r in debian)
    assert debian[0].period == "FY2028/29 Q1" and debian[0].phase == "Debian LTS (free)"
    prod = {r[0]: r for r in product_rows(rep)}
    assert prod["debian"][3] == "Debian LTS (free) until 2028-06-30"  # the phase and its end, not 2026-07-11
    ev = {r[1]: r for r in evidence_rows(rep)}
    assert ev["Debian 12 (Bookworm)"][2] == "extended (Debian LTS (free))"
    assert "covered until 2028-06-30" in str(ev["Debian 12 (Bookworm)"][3])
    assert rep.evidence is not None
    statement = rep.evidence.b4d_statement
    unsupported = sum(1 for i in rep.evidence.items if i.status is not Status.EXTENDED)
    assert statement.startswith(f"{unsupported} unsupported item(s)")
    assert "covered by an extended support phase (Debian LTS (free) until 2028-06-30" in statement
    assert rep.kpis.unsupported_os == sum(1 for h in rep.all_hosts() if h.os and h.os.status is Status.EOL)
    # the text report wraps the CAF statement, never cuts it off
    assert " ".join(statement.split()) in " ".join(reports.table.render(rep).split())


def test_covered_devices_are_never_counted_in_an_unsupported_item(demo: EstateReport) -> None:
    """SQLite 3 at one site: ended Ubuntu/CentOS builds (eol) and Debian 12's in free LTS (extended).
    The 8.2.1 register and B4.d count each device under its own status: the covered ones are an
    extended item, not part of the unsupported one (nor hidden in an extended one)."""
    assert demo.evidence is not None
    items = {(i.site, i.product, i.cycle, i.status): i for i in demo.evidence.items}
    mixed = 0
    for site in demo.sites:
        by_status: dict[tuple[str, str, Status], set[str]] = {}
        for h in site.hosts:
            for r in h.rows:
                f = r.finding
                if f.product and f.status in (Status.EOL, Status.EXTENDED):
                    by_status.setdefault((f.product, f.cycle or "", f.status), set()).add(h.hostname)
        for (product, cycle, status), hosts in by_status.items():
            assert items[(site.site, product, cycle, status)].devices == len(hosts), (site.site, product, status)
        both = {(p, c) for p, c, st in by_status if st is Status.EOL} & {
            (p, c) for p, c, st in by_status if st is Status.EXTENDED
        }
        mixed += len(both)
    assert mixed >= 3  # the demo has such releases (SQLite 3, Oniguruma 6, ISC DHCP 4.4)
    # the products table likewise: one row per release and status, each counting only its devices
    for row in demo.products:
        hosts = {
            h.hostname
            for h in demo.all_hosts()
            for r in h.rows
            if r.finding.actionable
            and (r.finding.product, r.finding.cycle or "", r.finding.status) == (row.product, row.cycle, row.status)
        }
        assert row.devices == len(hosts), (row.name, row.status)
    sqlite = {p.status for p in demo.products if (p.product, p.cycle) == ("sqlite", "3")}
    assert {Status.EOL, Status.EXTENDED} <= sqlite
    covered = sum(1 for i in demo.evidence.items if i.status is Status.EXTENDED)
    assert f"{covered} further item(s) are past mainstream support but covered" in demo.evidence.b4d_statement


def test_unreached_targets_are_stated_and_zero_coverage_never_reads_clean() -> None:
    dead = [
        HostStatus(
            target=f"ssh://pc{i}:22", site="North", status="unreachable", error="no route", at="2026-11-29T08:00:00Z"
        )
        for i in range(3)
    ]
    rep = build_report([], dead, est.AS_OF, "d@2026-11-01", "t", config=est.config())
    assert rep.evidence is not None
    statement = rep.evidence.b4d_statement
    assert statement.startswith("No device was surveyed: 3 of 3 scan target(s) could not be reached")
    assert "0 unsupported" not in statement
    meta = dict((str(k), str(v)) for k, v in __import__("reports.common", fromlist=["meta_rows"]).meta_rows(rep))
    assert "0 of 3 scan targets reached" in meta["Coverage"] and "not reached" in meta["Coverage"]
    partial = est.report().evidence
    assert partial is not None and "1 of 3 scan target(s) were not reached" in partial.b4d_statement


def test_a_release_built_by_several_distributions_shows_its_earliest_end(demo: EstateReport) -> None:
    """Python 2.7's builds end with their distributions (upstream 2020-01-01, CentOS 7 2024-06-30,
    ...): the products table shows the earliest end, never whichever device came first, and its
    summary says the range."""
    python27 = next(p for p in demo.products if (p.product, p.cycle) == ("python", "2.7"))
    ends = {
        r.finding.eol
        for h in demo.all_hosts()
        for r in h.rows
        if (r.finding.product, r.finding.cycle) == ("python", "2.7") and r.finding.status is python27.status
    }
    assert len(ends) > 1 and None not in ends
    assert python27.eol == min(ends) and python27.eol_latest == max(ends)  # type: ignore[type-var]
    assert f"from {min(ends)} to {max(ends)}" in python27.sentence()  # type: ignore[type-var]
    single = next(p for p in demo.products if (p.product, p.cycle) == ("windows", "10-22h2"))
    assert single.eol_latest is None and "from" not in single.sentence()


# -- 6. labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "label", "want"),
    [
        ("Microsoft Windows Server", "Windows Server 2016 (LTSC)", "Microsoft Windows Server 2016 (LTSC)"),
        ("Apple macOS", "macOS 10.13 (High Sierra)", "Apple macOS 10.13 (High Sierra)"),
        ("Apple macOS", "Mac OS X 10.6 (Snow Leopard)", "Apple Mac OS X 10.6 (Snow Leopard)"),
        ("Microsoft Windows", "XP SP3", "Microsoft Windows XP SP3"),
        ("Microsoft Windows", "11 23H2 (E)", "Microsoft Windows 11 23H2 (Enterprise/Education)"),
        ("Microsoft Windows", "11 22H2 (W)", "Microsoft Windows 11 22H2 (Home/Pro)"),
        ("Internet Explorer", "11", "Internet Explorer 11"),
        ("Ubuntu", "Ubuntu 22.04 LTS", "Ubuntu 22.04 LTS"),
        # the product's last words at the label's end, or its last word inside the label: once
        ("Apple QuickTime for Windows", "7.x for Windows", "Apple QuickTime for Windows 7.x"),
        ("Microsoft Windows Embedded", "XP Embedded SP3", "Microsoft Windows XP Embedded SP3"),
        (
            "Microsoft Windows Embedded",
            "XP Professional for Embedded Systems",
            "Microsoft Windows XP Professional for Embedded Systems",
        ),
        ("Microsoft Windows Embedded", "Standard 7 SP1", "Microsoft Windows Embedded Standard 7 SP1"),
        (  # a remark in parentheses is not the name
            "Adobe Flash Player",
            "32 (final; covers every Flash Player version)",
            "Adobe Flash Player 32 (final; covers every Flash Player version)",
        ),
    ],
)
def test_release_names_as_people_say_them(product: str, label: str, want: str) -> None:
    assert product_release_name(product, label) == want


def test_no_release_of_the_bundled_dataset_is_named_with_words_twice() -> None:
    """Every release the dataset knows, named as the reports name it: no two words said twice
    ("Apple QuickTime for Windows 7.x for Windows"), a remark in parentheses aside."""
    catalog = est.ctx().catalog
    doubled = []
    for slug in catalog.product_names():
        product = catalog.product(slug)
        for rel in product.releases if product else []:
            name = product_release_name(product.label, rel.label or rel.name)  # type: ignore[union-attr]
            words = [w.lower() for w in name.split("(", 1)[0].split()]
            pairs = list(zip(words, words[1:], strict=False))
            if len(set(pairs)) < len(pairs):
                doubled.append(name)
    assert not doubled, doubled


def test_no_doubled_product_or_raw_cycle_in_any_table(demo: EstateReport) -> None:
    names = {p.name for p in demo.products} | {release_name(h.os) for h in demo.all_hosts() if h.os and h.os.product}
    for name in names:
        words = name.split()
        assert not any(words[i : i + 2] == words[i + 2 : i + 4] for i in range(len(words) - 3)), name
        assert spoken_release(name) == name and "(E)" not in name and "(W)" not in name, name
    text = reports.table.render(demo) + reports.html.render(demo)
    for raw in ("Windows 5-sp3", "Windows 6-sp2", "Windows Server Windows Server", "macOS macOS"):
        assert raw not in text, raw


def test_a_release_the_dataset_does_not_list_is_named_by_its_versions(demo: EstateReport) -> None:
    """Perl 5.24 on Debian 9 (the dataset starts later): never the bare "Perl" in a table row."""
    assert demo.evidence is not None
    rows = [
        *((p.product, p.cycle, p.name) for p in demo.products),
        *((r.product, r.cycle, r.name) for r in demo.roadmap),
        *((i.product, i.cycle, i.name) for i in demo.evidence.items),
    ]
    unlisted = [(product, name) for product, cycle, name in rows if product and not cycle]
    assert unlisted and all(name.endswith("(release not in the dataset)") for _, name in unlisted), unlisted
    perl = next(p for p in demo.products if p.product == "perl" and not p.cycle)
    assert perl.name == "Perl 5.10 / 5.16 / 5.24 (release not in the dataset)"


def test_the_trust_is_named_in_every_header() -> None:
    site_toml = (ROOT / "examples" / "legacyscan-site.toml").read_text(encoding="utf-8")
    rep = est.report(site_catalog=site_toml)
    trust = "St Elsewhere NHS Foundation Trust (example)"
    assert rep.organisation == trust
    assert trust in reports.table.render(rep).split("\n== Estate")[0]
    page = reports.html.render(rep)
    assert f"<h1>{trust}: " in page and f"<title>{trust} — " in page
    rows = list(csv.reader(io.StringIO(reports.csv.render(rep))))
    assert rows[0][0] == "organisation" and all(r[0] == trust for r in rows[1:])
    assert json.loads(reports.json.render(rep))["organisation"] == trust
    wb = load_workbook(io.BytesIO(reports.xlsx.render(rep)))
    assert all(trust in str(ws["A1"].value) for ws in wb.worksheets)


def test_dataset_age_is_warned_against_the_report_date_not_the_clock() -> None:
    assert dataset_date("endoflife.date@2026-08-22T18:58:02+00:00+supplementary@2026-11-30") == date(2026, 8, 22)
    fresh = build_report(est.results(), [], date(2026, 10, 1), "x@2026-08-22", "t", config=est.config())
    assert fresh.dataset_warning == ""
    old = build_report(est.results(), [], date(2026, 11, 30), "x@2026-08-22", "t", config=est.config())
    assert "100 days old" in old.dataset_warning and "eol update" in old.dataset_warning
    assert old.dataset_warning in reports.table.render(old).replace("\n*** ", " ")
    assert json.loads(reports.json.render(old))["dataset_warning"] == old.dataset_warning
    assert 'class="warn"' in reports.html.render(old)
    lenient = replace(est.config(), dataset_max_age_days=200)
    assert (
        build_report(est.results(), [], date(2026, 11, 30), "x@2026-08-22", "t", config=lenient).dataset_warning == ""
    )
    with pytest.raises(ValueError, match="dataset_max_age_days"):
        config_from_dict({"report": {"dataset_max_age_days": 0}})


# -- 5. spreadsheets -----------------------------------------------------------------------------------


def test_workbook_cells_are_typed_and_printable(demo_wb) -> None:
    wb = demo_wb
    summary = {r[0].value: r for r in wb["Summary"].iter_rows() if r[0].value}
    share = summary["Share on an unsupported OS"][1]
    assert isinstance(share.value, float) and share.number_format == "0.0%"
    with_change = load_workbook(io.BytesIO(reports.xlsx.render(est.report())))  # has a previous scan
    change = {r[0].value: r for r in with_change["Summary"].iter_rows() if r[0].value}["Open findings"][2]
    assert isinstance(change.value, int | float) and change.number_format.startswith("+")  # not the text "'+2"
    as_of = summary["Report date (as of)"][1]
    assert isinstance(as_of.value, datetime) and as_of.value.date() == DEMO_AS_OF
    assert as_of.number_format == "yyyy-mm-dd"
    cost = summary["Estimated cost of planned actions"][1]
    assert isinstance(cost.value, int | float) and cost.number_format == "#,##0"
    devices = wb["Devices"]
    header = [c.value for c in next(devices.iter_rows(min_row=2, max_row=2))]
    row = next(devices.iter_rows(min_row=3, max_row=3))
    assert isinstance(row[header.index("os end")].value, datetime)
    assert row[header.index("os end")].number_format == "yyyy-mm-dd"
    assert isinstance(row[header.index("priority")].value, int | float)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation in ("landscape", "portrait") and str(ws.page_setup.paperSize) == "9"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb["Devices"].print_title_rows == "$2:$2"  # the header row repeats on every printed page
    assert wb["Devices"].conditional_formatting and wb["Evidence 8.2.1"].conditional_formatting
    # a sheet with nothing to list says so (the demo declares no paid extended support)
    assert str(wb["Extended support"]["A3"].value).startswith("(none: no paid extended support is declared")


def test_device_applications_sheet_says_what_to_update_where(demo: EstateReport, demo_wb) -> None:
    wb = demo_wb
    rows = list(wb["Device applications"].iter_rows(values_only=True))
    assert list(rows[1]) == ["device", "site", "application", "version", "status", "end date", "action"]
    body = rows[2:]
    expected = sum(
        1 for h in demo.all_hosts() for r in h.rows if r.finding.kind != "os" and (r.finding.actionable or r.exception)
    )
    assert len(body) == expected > 1000  # the demo's list is complete (below the cap)
    assert {r[4] for r in body} <= {"eol", "extended", "ending-soon"}
    assert all(isinstance(r[5], datetime) or r[5] in (None, "") for r in body)
    assert wb["Device applications"]["F3"].number_format == "yyyy-mm-dd"
    actions = {r[6].split(" (")[0] for r in body}
    assert {"update or remove", "goes with the device"} <= actions
    # a device being replaced: its applications go with it, not onto the desktop team's list
    replaced = next(
        h
        for h in demo.all_hosts()
        if h.action.kind == "replace-device" and any(r.finding.kind != "os" and r.open for r in h.rows)
    )
    assert {r[6] for r in body if r[0] == replaced.hostname} == {"goes with the device (replace device)"}
    # a very large estate: the sheet stops at the cap and says where the rest is
    capped = list(reports.xlsx.capped_app_rows(demo, limit=100))
    assert len(capped) == 101 and "more rows" in str(capped[-1][0]) and "--format csv" in str(capped[-1][0])


def test_the_example_configuration_spells_out_the_defaults() -> None:
    """examples/legacyscan.toml says it lists every default: keep it true."""
    from scanner.plan.config import load_config

    example = load_config(ROOT / "examples" / "legacyscan.toml").priority
    default = PriorityConfig()
    for name in ("status_points", "class_points", "tag_points", "bands"):
        assert dict(getattr(example, name)) == dict(getattr(default, name)), name
    for name in (
        "points_per_30_days_past",
        "max_days_points",
        "points_per_doubling_devices",
        "max_devices_points",
        "device_bonus_per_finding",
        "max_device_bonus",
        "app_only_critical_tags",
    ):
        assert getattr(example, name) == getattr(default, name), name
