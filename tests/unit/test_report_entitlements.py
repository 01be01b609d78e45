"""`legacyscan report` honours the site catalogue's entitlements (ESU turns eol into extended)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agents.inventory import Host, Inventory, OsInfo
from scanner.cli import main
from scanner.store.open import open_store

WIN10_22H2 = {
    "caption": "Microsoft Windows 10 Enterprise",
    "product_name": "Windows 10 Enterprise",
    "version": "10.0.19045",
    "build": "19045",
    "ubr": 6456,
    "edition_id": "Enterprise",
    "display_version": "22H2",
    "installation_type": "Client",
    "product_type": 1,
}


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with open_store(url) as store:
        store.save_inventory(
            Inventory(
                host=Host(hostname="PC-123", machine_id="pc123", site="North"),
                os=OsInfo(family="windows", name="Windows 10 Enterprise", facts=WIN10_22H2),
                collected_at="2026-11-29T09:00:00Z",
            )
        )
    return url


def _os_status(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    return str(data["sites"][0]["hosts"][0]["os"]["status"])


def test_esu_entitlement_changes_the_verdict(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./legacyscan-site.toml here
    base = ["report", "--db", db, "--format", "json", "--as-of", "2026-11-30"]
    assert _os_status(capsys, base) == "eol"
    catalogue = tmp_path / "site.toml"
    catalogue.write_text('[[entitlements]]\nproduct = "windows"\ncycles = ["10-22h2"]\nname = "Windows 10 ESU"\n')
    assert _os_status(capsys, [*base, "--site-catalog", str(catalogue)]) == "extended"


def test_broken_site_catalogue_is_a_clear_error(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[entitlements]]\nproduct = "windows"\ncycles = "not-a-list"\n')
    rc = main(["report", "--db", db, "--site-catalog", str(bad)])
    err = capsys.readouterr().err
    assert rc == 1 and "bad.toml" in err and "hint:" in err


# -- what staying on extended support costs, next to replacing (site catalogue entitlement costs) ----------

import csv  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from openpyxl import load_workbook  # noqa: E402

from eol_data.site import SiteCatalogError, parse_site_catalog  # noqa: E402

AS_OF = "2026-06-01"  # Windows 10 22H2 ESU runs to 2028-10-10, Server 2012 R2 ESU to 2026-10-13
WS2012R2 = {
    "caption": "Microsoft Windows Server 2012 R2 Standard",
    "version": "6.3.9600",
    "build": "9600",
    "edition_id": "ServerStandard",
    "product_type": 3,
}
CONFIG = """
[costs]
currency = "GBP"
replace_device = 850
upgrade_os = 60
migrate_server = 4000
"""
SITE = """
[[entitlements]]
product = "windows"
cycles = ["10-22h2"]
name = "Windows 10 ESU (commercial)"
cost = 61.00
currency = "GBP"
unit = "device/year"
reference = "PO 4500000123"

[[entitlements]]
product = "windows-server"
cycles = ["2012-r2"]
name = "Server 2012 R2 ESU"
cost = 3000
currency = "GBP"
unit = "year"
"""


@pytest.fixture
def estate(tmp_path: Path) -> str:
    """Three Windows 10 22H2 PCs on two sites (no hardware facts: readiness unknown) and two 2012 R2 servers."""
    url = f"sqlite:///{tmp_path / 'estate.db'}"
    hosts = [
        ("PC-1", "North", WIN10_22H2),
        ("PC-2", "North", WIN10_22H2),
        ("PC-3", "South", WIN10_22H2),
        ("SRV-1", "North", WS2012R2),
        ("SRV-2", "South", WS2012R2),
    ]
    with open_store(url) as store:
        for name, site, facts in hosts:
            store.save_inventory(
                Inventory(
                    host=Host(hostname=name, machine_id=name.lower(), site=site),
                    os=OsInfo(family="windows", name=str(facts["caption"]), version=str(facts["version"]), facts=facts),
                    collected_at="2026-05-30T09:00:00Z",
                )
            )
    return url


def _report(
    tmp_path: Path, db: str, fmt: str, capsys: pytest.CaptureFixture[str], site: str | None = SITE, config: str = CONFIG
) -> str:
    cfg = tmp_path / "legacyscan.toml"
    cfg.write_text(config, "utf-8")
    argv = ["report", "--db", db, "--format", fmt, "--as-of", AS_OF, "--config", str(cfg)]
    if site is not None:
        catalogue = tmp_path / "legacyscan-site.toml"
        catalogue.write_text(site, "utf-8")
        argv += ["--site-catalog", str(catalogue)]
    if fmt == "xlsx":
        argv += ["--out", str(tmp_path / "r.xlsx")]
    assert main(argv) == 0
    return capsys.readouterr().out


def test_entitlement_costs_are_priced_next_to_the_planned_actions(
    estate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = json.loads(_report(tmp_path, estate, "json", capsys))
    hosts = {h["hostname"]: h for s in data["sites"] for h in s["hosts"]}
    pc = hosts["PC-1"]
    assert pc["os"]["status"] == "extended"
    [line] = pc["extended_support"]
    assert line["entitlement"] == "Windows 10 ESU (commercial)" and line["cost_per_year"] == 61.0
    assert line["until"] == "2028-10-10" and line["basis"] == "61 GBP per device per year"
    assert line["source"] == "legacyscan-site.toml:3" and line["reference"] == "PO 4500000123"
    # the flat 3,000 GBP/year server fee is shared by the two servers it covers, on whichever site
    assert hosts["SRV-1"]["extended_cost_per_year"] == 1500.0 == hosts["SRV-2"]["extended_cost_per_year"]
    assert "shared by 2 devices" in hosts["SRV-1"]["extended_support"][0]["basis"]
    assert data["kpis"]["esu_cost_this_year"] == 3 * 61 + 3000
    # the site's plan rows (the ESU PCs are due when their ESU ends, the server now) add up to the
    # devices on paid extended support and their yearly cost
    north_rows = [p for p in data["plan"] if p["site"] == "North"]
    assert sum(p["extended_cost_per_year"] or 0 for p in north_rows) == 2 * 61 + 1500
    assert sum(p["extended_devices"] for p in north_rows) == 3
    # next to it, the capital side: the server migration; the PCs need assessing (no unit cost configured)
    assert sum(p["cost"] or 0 for p in north_rows) == 4000 and sum(p["costed_devices"] for p in north_rows) == 1
    assert any(p["cost"] is None for p in north_rows)  # the PCs' year: "not costed", never 0
    rows = {(r["site"], r["entitlement"]): r for r in data["extended_support"]}
    win = rows[("North", "Windows 10 ESU (commercial)")]
    assert (win["devices"], win["cost_per_year"], win["currency"]) == (2, 122.0, "GBP")
    srv = rows[("South", "Server 2012 R2 ESU")]
    assert (srv["devices"], srv["cost_per_year"], srv["until"]) == (1, 1500.0, "2026-10-13")
    assert srv["actions_cost"] == 4000 and srv["years_equal_to_actions"] == round(4000 / 1500, 2)
    assert "= 2.67 years of extended support" in srv["summary"]


def test_every_format_shows_the_cost_of_staying(
    estate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    table = _report(tmp_path, estate, "table", capsys)
    assert "== Replace or pay" in table and "Server 2012 R2 ESU" in table and "1,500 GBP" in table
    assert re.search(r"Extended support cost this year \(entitled\) +3,183 GBP", table)
    rows = list(csv.DictReader(io.StringIO(_report(tmp_path, estate, "csv", capsys))))
    pc1 = next(r for r in rows if r["host"] == "PC-1" and r["kind"] == "os")
    assert pc1["extended cost per year"] == "61.0"
    assert pc1["extended support"].startswith("Windows 10 ESU (commercial) (61 GBP per device per year;")
    html = _report(tmp_path, estate, "html", capsys)
    assert "<h2>Replace or pay for extended support</h2>" in html and "Server 2012 R2 ESU" in html
    _report(tmp_path, estate, "xlsx", capsys)
    wb = load_workbook(tmp_path / "r.xlsx")
    sheet = [list(r) for r in wb["Extended support"].iter_rows(values_only=True)]
    header = sheet[0]
    assert header[:2] == ["site", "extended support"] and "cost per year" in header
    body = {(r[0], r[1]): r for r in sheet[1:]}
    assert body[("North", "Windows 10 ESU (commercial)")][header.index("cost per year")] == 122
    plan = [list(r) for r in wb["Plan by FY"].iter_rows(values_only=True)]
    col = plan[0].index("extended support per year (GBP)")
    # typed: a number finance can sum, not text
    assert sum(r[col] for r in plan[1:] if isinstance(r[col], int | float)) == 3 * 61 + 3000  # = the KPI


def test_without_a_site_catalogue_nothing_is_priced_and_the_dataset_names_none(
    estate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = json.loads(_report(tmp_path, estate, "json", capsys, site=None))
    assert data["extended_support"] == [] and data["kpis"]["esu_cost_this_year"] is None
    assert "+site:" not in data["dataset_version"]
    assert data["evidence"]["site_catalog"] is None


def test_findings_name_the_site_catalogue_that_shaped_them(
    estate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = json.loads(_report(tmp_path, estate, "json", capsys))
    digest = hashlib.sha256((tmp_path / "legacyscan-site.toml").read_bytes()).hexdigest()
    assert data["dataset_version"].endswith(f"+site:{digest[:12]}")
    for site in data["sites"]:
        for h in site["hosts"]:
            assert h["os"]["match"]["dataset_version"] == data["dataset_version"]
    ev = data["evidence"]
    assert ev["site_catalog"] == {"file": str(tmp_path / "legacyscan-site.toml"), "sha256": digest}
    assert ev["dataset_version"] == data["dataset_version"]
    # one changed byte in the catalogue is a different dataset version
    again = json.loads(_report(tmp_path, estate, "json", capsys, site=SITE + "\n# reviewed\n"))
    assert again["dataset_version"] != data["dataset_version"] and again["evidence"]["sha256"] != ev["sha256"]
    csv_text = _report(tmp_path, estate, "csv", capsys)
    assert f"+site:{digest[:12]}" in csv_text
    table = _report(tmp_path, estate, "table", capsys)
    assert f"Site catalogue SHA-256     {digest}" in table


def _identify(tmp_path: Path, records: list[dict[str, object]], *extra: str) -> bytes:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("LEGACYSCAN_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "eol", "identify", "--as-of", AS_OF, *extra],
        input=b"".join(json.dumps(r).encode() + b"\n" for r in records),
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_eol_identify_contract_output_is_unchanged_by_a_site_catalogue(tmp_path: Path) -> None:
    """The contract's six keys, byte for byte: a catalogue that decides nothing for these records
    changes nothing, and one that does changes only the verdict (never adds a key or a digest)."""
    records: list[dict[str, object]] = [
        {"kind": "os", "family": "windows", **WIN10_22H2},
        {"kind": "software", "name": "Google Chrome", "version": "109.0.5414.120"},
        {"kind": "os", "family": "linux"},
    ]
    plain = _identify(tmp_path, records)
    unrelated = tmp_path / "unrelated.toml"
    unrelated.write_text('[[entitlements]]\nproduct = "rhel"\ncycles = ["7"]\ncost = 10\nunit = "device/month"\n')
    assert _identify(tmp_path, records, "--site-catalog", str(unrelated)) == plain
    priced = tmp_path / "priced.toml"
    priced.write_text(SITE, "utf-8")
    out = [json.loads(line) for line in _identify(tmp_path, records, "--site-catalog", str(priced)).splitlines()]
    assert [list(o) for o in out] == [["product", "cycle", "status", "eol", "rule", "reason"]] * 3
    assert out[0]["status"] == "extended" and "site:" not in out[0]["reason"]


@pytest.mark.parametrize(
    ("unit", "per_device", "yearly"),
    [
        ("device/year", True, 120.0),
        ("Device / Month", True, 1440.0),
        ("year", False, 120.0),
        ("month", False, 1440.0),
        (None, True, 120.0),
    ],
)
def test_cost_units_annualise(unit: str | None, per_device: bool, yearly: float) -> None:
    text = '[[entitlements]]\nproduct = "windows"\ncost = 120\n' + (f'unit = "{unit}"\n' if unit else "")
    [ent] = parse_site_catalog(text, Path("s.toml")).entitlements
    assert (ent.per_device, ent.yearly_cost) == (per_device, yearly)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('cost = 5\nunit = "seat"', r"s.toml:4: entitlements\[0\].unit: unknown cost unit 'seat'; expected one of"),
        ('unit = "year"', r"entitlements\[0\].unit: a unit without a cost"),
    ],
)
def test_bad_cost_units_are_errors_naming_the_key(body: str, expected: str) -> None:
    with pytest.raises(SiteCatalogError, match=expected):
        parse_site_catalog(f'[[entitlements]]\nproduct = "windows"\n{body}\n', Path("s.toml"))


def test_catalogue_digest_is_of_the_file_bytes(tmp_path: Path) -> None:
    from eol_data.site import load_site_catalog

    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SITE.encode())  # a BOM is part of the file's identity
    site = load_site_catalog(path)
    assert site.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert site.version_tag == f"site:{site.sha256[:12]}"


def test_currency_must_be_a_short_code() -> None:
    with pytest.raises(SiteCatalogError, match=r"entitlements\[0\].currency: expected a short code"):
        parse_site_catalog(
            '[[entitlements]]\nproduct = "windows"\ncost = 1\ncurrency = "pounds sterling"\n', Path("s.toml")
        )


# -- the pricing rules, on the fixed report estate (tests/unit/report_estate.py) ---------------------------

from scanner.judge.match import match_estate  # noqa: E402
from scanner.model import Policy  # noqa: E402
from scanner.plan.config import config_from_dict, with_site_catalog  # noqa: E402
from scanner.report.build import build_report  # noqa: E402
from scanner.report.model import EstateReport  # noqa: E402
from tests.unit import report_estate as est  # noqa: E402


def _estate_report(site_text: str, config: dict[str, object] | None = None) -> EstateReport:
    site = parse_site_catalog(site_text, Path("legacyscan-site.toml"))
    policy = Policy(entitlements=site.entitlement_keys(), site_catalog=site.version_tag)
    cfg = with_site_catalog(config_from_dict(config if config is not None else est.CONFIG, "legacyscan.toml"), site)
    results = match_estate(est.inventories(), est.ctx(), est.AS_OF, policy)
    return build_report(results, [], est.AS_OF, policy.dataset_version("ds"), "t", config=cfg, register=est.register())


def _win10_lines(report: EstateReport) -> dict[str, list[str]]:
    return {
        h.hostname: [f"{x.entitlement}={x.yearly:g} {x.currency}" for x in h.extended]
        for h in report.all_hosts()
        if h.os is not None and h.os.cycle == "10-22h2"
    }


def test_most_specific_entitlement_prices_a_device() -> None:
    report = _estate_report(
        '[[entitlements]]\nproduct = "*"\nname = "everything"\ncost = 500\n'
        '[[entitlements]]\nproduct = "windows"\ncycles = ["10-22h2"]\nname = "W10 ESU"\n'
        'cost = 5\nunit = "device/month"\n'
    )
    lines = _win10_lines(report)
    # PC-002 is under an active exception until 2026-10-31 ... which expired: every Windows 10 PC is costed,
    # each at the product:cycle price (5 a month = 60 a year), never at the catch-all
    assert set(map(tuple, lines.values())) == {("W10 ESU=60 GBP",)} and len(lines) == 5
    # the catch-all pays for the Ubuntu 18.04 server (its OS, OpenSSL 1.1.1, and Ubuntu's own nginx and
    # Python builds maintained with it: one device, charged once) and for OpenSSL 3.0 on DB-01; Debian's
    # own LTS phase is free and never priced
    web = next(h for h in report.all_hosts() if h.hostname == "WEB-01")
    [line] = web.extended
    assert line.yearly == 500 and "OpenSSL 1.1.1" in line.release
    # every tracked package of Ubuntu's own build is covered with the OS (its upstream may still be
    # supported: an ended release ends its packages, and the entitlement covers them with it)
    assert sorted(f.kind for f in line.covers) == ["os", "software", "software", "software", "software"]
    assert all("+distro.ubuntu" in f.detail.rule for f in line.covers if f.kind == "software")
    assert report.kpis.esu_cost_this_year == 5 * 60 + 2 * 500


def test_a_foreign_currency_price_is_shown_but_never_added_to_the_report_currency() -> None:
    report = _estate_report(
        '[[entitlements]]\nproduct = "windows"\ncycles = ["10-22h2"]\nname = "W10 ESU"\ncost = 70\ncurrency = "EUR"\n'
    )
    assert set(map(tuple, _win10_lines(report).values())) == {("W10 ESU=70 EUR",)}
    assert report.kpis.esu_cost_this_year is None  # nothing in GBP
    assert all(p.extended_devices == 0 for p in report.plan)
    [row] = [r for r in report.extended_support if r.site == "North General"]
    assert (row.currency, row.per_year, row.devices) == ("EUR", 280.0, 4)
    assert "years of extended support" not in row.sentence(report.currency)


def test_unpriced_entitlement_falls_back_to_the_esu_list_price() -> None:
    report = _estate_report('[[entitlements]]\nproduct = "windows"\ncycles = ["10-22h2"]\n')
    lines = {h.hostname: h.extended for h in report.all_hosts() if h.extended}
    # ESU year 2 on 2026-11-30 (ended 2025-10-14), 122 GBP a device from legacyscan.toml [esu]
    assert {x.yearly for xs in lines.values() for x in xs} == {122.0}
    assert {x.source for xs in lines.values() for x in xs} == {"legacyscan.toml [esu] year 2"}
    assert report.kpis.esu_cost_this_year == 122.0 * len(lines)


def test_priced_finding_under_an_active_exception_is_still_paid_for() -> None:
    config = {**est.CONFIG, "esu": {}}
    report = _estate_report(
        '[[entitlements]]\nproduct = "windows"\ncycles = ["7"]\nname = "W7 ESU"\ncost = 9\n'
        '[[entitlements]]\nproduct = "windows"\ncycles = ["10-22h2"]\nname = "W10"\ncost = 1\n',
        config,
    )
    mri = next(h for h in report.all_hosts() if h.hostname == "MRI-CONSOLE")
    # Windows 7 ESU ended in 2023: not extended, so not priced whatever the catalogue says
    assert mri.os is not None and mri.os.status.value == "eol" and mri.extended == []
    pc1 = next(h for h in report.all_hosts() if h.hostname == "PC-001")
    assert pc1.extended_cost == 1.0 and pc1.esu is None
