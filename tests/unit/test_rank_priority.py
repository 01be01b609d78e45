"""Priority model and the planning view model, on the fixed hand-built estate (report_estate.py)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from scanner.cli.report import fail_on_hit
from scanner.model import Finding, MatchDetail, Status
from scanner.plan.config import ConfigError, config_from_dict
from scanner.plan.periods import financial_year, median, quarter
from scanner.plan.priority import PriorityConfig, PriorityConfigError, config_from_toml, score_device, score_finding
from tests.unit import report_estate as est

AS_OF = date(2026, 11, 30)


def _f(
    status: Status,
    product: str = "windows",
    cycle: str = "10-22h2",
    kind: str = "os",
    eol: date | None = date(2025, 10, 14),
    tags: list[str] | None = None,
) -> Finding:
    return Finding(
        host_key="k",
        hostname="PC-1",
        site="S",
        kind=kind,
        name=product,
        version="1",
        product=product,
        cycle=cycle,
        status=status,
        eol=eol,
        extended_until=None,
        detail=MatchDetail(rule="r", reason="", evidence={}, dataset_version="d"),
        tags=tags or [],
    )


def test_status_order_eol_above_extended_above_ending_soon() -> None:
    cfg = PriorityConfig()
    eol = score_finding(_f(Status.EOL), AS_OF, cfg).total
    ext = score_finding(_f(Status.EXTENDED), AS_OF, cfg).total
    soon = score_finding(_f(Status.ENDING_SOON, eol=date(2027, 3, 1)), AS_OF, cfg).total
    assert eol > ext > soon > 0
    assert score_finding(_f(Status.SUPPORTED), AS_OF, cfg).total == 0


def test_every_score_shows_its_parts_and_they_add_up() -> None:
    s = score_finding(_f(Status.EOL, tags=["clinical"]), AS_OF, PriorityConfig(), devices_affected=8)
    names = [p.name for p in s.parts]
    assert names[:3] == ["eol", "days past end", "class os"]
    assert "tag clinical" in names and "devices affected" in names
    assert s.total == pytest.approx(sum(p.points for p in s.parts))
    assert "eol +40" in s.explain() and "tag clinical +10" in s.explain()


def test_days_past_end_grows_then_caps() -> None:
    cfg = PriorityConfig()
    recent = score_finding(_f(Status.EOL, eol=date(2026, 10, 1)), AS_OF, cfg)
    old = score_finding(_f(Status.EOL, eol=date(2020, 1, 14)), AS_OF, cfg)
    ancient = score_finding(_f(Status.EOL, eol=date(2010, 1, 1)), AS_OF, cfg)
    assert recent.total < old.total
    assert old.total == ancient.total  # capped at max_days_points


def test_product_class_order() -> None:
    cfg = PriorityConfig()

    def total(product: str, kind: str = "software") -> float:
        return score_finding(_f(Status.EOL, product=product, kind=kind, cycle="1"), AS_OF, cfg).total

    assert total("windows", "os") > total("chrome") > total("postgresql") > total("7zip")
    assert total("openssl") == total("chrome")  # internet-facing ranks with browsers and runtimes


def test_tags_from_host_and_devices_affected_raise_priority() -> None:
    cfg = PriorityConfig()
    base = score_finding(_f(Status.EOL), AS_OF, cfg).total
    med = score_finding(_f(Status.EOL), AS_OF, cfg, host_tags=["medical-device"]).total
    many = score_finding(_f(Status.EOL), AS_OF, cfg, devices_affected=400).total
    assert med == base + 15
    assert base < many <= base + cfg.max_devices_points


def test_device_score_is_worst_plus_capped_bonus() -> None:
    cfg = PriorityConfig()
    a = score_finding(_f(Status.EOL), AS_OF, cfg)
    b = score_finding(_f(Status.ENDING_SOON, product="chrome", kind="software", eol=date(2027, 1, 1)), AS_OF, cfg)
    dev = score_device([a, b], cfg)
    assert dev.total == pytest.approx(a.total + cfg.device_bonus_per_finding)
    assert score_device([a] * 50, cfg).total == pytest.approx(a.total + cfg.max_device_bonus)


def test_priority_config_from_toml_overrides_and_validates() -> None:
    cfg = config_from_toml(
        {"status": {"eol": 80}, "tags": {"icu": 30}, "products": {"citrix-vad": "browser"}, "max_days_points": 10}
    )
    assert cfg.status_points["eol"] == 80 and cfg.status_points["extended"] == 10
    assert cfg.tag_points["icu"] == 30 and cfg.product_classes["citrix-vad"] == "browser"
    with pytest.raises(PriorityConfigError, match="unknown key"):
        config_from_toml({"weights": {}})
    with pytest.raises(PriorityConfigError, match=r"status.*'supported'"):
        config_from_toml({"status": {"supported": 5}})
    with pytest.raises(PriorityConfigError, match="max_days_points"):
        config_from_toml({"max_days_points": "lots"})
    with pytest.raises(ConfigError, match=r"\[costs\] unknown key 'replace'"):
        config_from_dict({"costs": {"replace": 1}}, "legacyscan.toml")


def test_financial_year_and_quarter() -> None:
    assert financial_year(date(2027, 3, 31)) == "FY2026/27"
    assert financial_year(date(2027, 4, 1)) == "FY2027/28"
    assert financial_year(date(2099, 12, 1)) == "FY2099/00"
    assert quarter(date(2027, 11, 11)) == "FY2027/28 Q3"  # NHS quarters: Q1 is April-June
    assert quarter(date(2027, 2, 1)) == "FY2026/27 Q4" and quarter(date(2027, 4, 1)) == "FY2027/28 Q1"
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) is None


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return est.report()


def _host(report, name):  # type: ignore[no-untyped-def]
    return next(h for h in report.all_hosts() if h.hostname == name)


def test_replacement_list_is_ranked_and_says_what_it_clears(report) -> None:  # type: ignore[no-untyped-def]
    north = next(s for s in report.sites if s.site == "North General")
    scores = [h.score.total for h in north.hosts]
    assert scores == sorted(scores, reverse=True)
    web = _host(report, "WEB-01")
    assert north.hosts[0] is web  # internet-facing server with an EOL OS and EOL nginx/OpenSSL/Python
    assert web.action.kind == "upgrade-os"
    # its nginx/OpenSSL/Python are Ubuntu's own builds: they end with Ubuntu 18.04 and the OS
    # upgrade clears them (scanner.judge.distribution_builds), so they are not separate application updates
    assert web.action.clears == "clears Ubuntu 18.04 'Bionic Beaver' (LTS)"
    assert _host(report, "PC-002").action.text == "replace device"  # Windows 10, CPU and TPM fail
    assert _host(report, "PC-002").action.clears == "clears Microsoft Windows 10 22H2"
    assert _host(report, "PC-001").action.text == "upgrade to Windows 11 in place"
    assert _host(report, "PC-003").action.kind == "upgrade-hardware"  # RAM only
    assert _host(report, "PC-004").action.kind == "assess-device"  # facts unknown: no guess
    assert _host(report, "PC-102").action.kind == "upgrade-os"  # Windows 11 23H2: feature update
    assert _host(report, "PC-002").action.cost == 850


def test_accepted_finding_leaves_action_list_but_stays_visible(report) -> None:  # type: ignore[no-untyped-def]
    mri = _host(report, "MRI-CONSOLE")
    assert not mri.open_rows and mri.action.kind == "none"
    assert [r.exception.id for r in mri.accepted_rows if r.exception] == ["EX-001"]
    assert mri.rows[0].finding.status is Status.EOL  # still listed with its status
    reg = {r.exception.id: r for r in report.register}
    assert reg["EX-001"].state == "active" and reg["EX-001"].devices == 1
    assert reg["EX-002"].state == "expired"
    pc2 = _host(report, "PC-002")
    assert pc2.open_rows and pc2.rows[0].exception_state == "exception expired"


def test_product_rollups_and_roadmap(report) -> None:  # type: ignore[no-untyped-def]
    w10 = next(p for p in report.products if (p.product, p.cycle) == ("windows", "10-22h2"))
    assert w10.sentence() == "Microsoft Windows 10 22H2: 5 devices on 2 sites"
    overdue = {(r.product, r.cycle): r for r in report.roadmap if r.period == "overdue"}
    assert overdue[("windows", "10-22h2")].devices == 5
    assert ("windows", "7-sp1") not in overdue  # accepted under EX-001: not on the plan
    future = [r for r in report.roadmap if r.period != "overdue"]
    # DB-01's postgresql-15 is Debian 12's build: judged with Debian (LTS to 2028-06-30), not by
    # upstream PostgreSQL 15's 2027-11-11, so it is not on the roadmap at upstream's date
    assert ("FY2027/28 Q3", "FY2027/28", "postgresql") not in {(r.period, r.financial_year, r.product) for r in future}


def test_kpis_and_change_since_previous_scan(report) -> None:  # type: ignore[no-untyped-def]
    k = report.kpis
    assert k.devices == 9 and k.windows10 == 5
    assert (k.win11_ready, k.win11_not_ready, k.win11_unknown) == (2, 2, 1)
    assert k.unsupported_os == 8 and k.extended_os == 1  # Debian 12 in (free) LTS
    assert k.median_days_past_end == 412.0
    assert k.not_reached == 1 and k.coverage == pytest.approx(2 / 3)
    assert report.previous_as_of == date(2026, 9, 1)
    assert report.kpi_change["devices"] == 1  # PC-102 is new
    assert report.kpi_change["windows10"] == 1  # PC-101 moved from Windows 7 to Windows 10


def test_esu_line_for_windows_10(report) -> None:  # type: ignore[no-untyped-def]
    esu = _host(report, "PC-101").esu
    assert esu is not None and esu.year == 2 and esu.cost == 122 and not esu.entitled


def test_evidence_register_has_risk_reason_mitigation_approval(report) -> None:  # type: ignore[no-untyped-def]
    ev = report.evidence
    assert ev is not None and ev.tool_version == "0.0.0-test" and ev.readiness_data_version
    win7 = next(i for i in ev.items if (i.product, i.cycle) == ("windows", "7-sp1"))
    assert win7.decision == "accepted" and "EX-001" in win7.approval and "SIRO" in win7.approval
    assert "segregated imaging VLAN 120" in win7.mitigation
    ubuntu = next(i for i in ev.items if i.product == "ubuntu")
    assert ubuntu.decision == "no decision" and ubuntu.approval == "not approved" and ubuntu.risk == "critical"
    assert "unsupported item(s)" in ev.b4d_statement
    assert ev.digest == hashlib.sha256(ev.canonical().encode("utf-8")).hexdigest() and len(ev.digest) == 64


def test_fail_on_ignores_accepted_findings(report) -> None:  # type: ignore[no-untyped-def]
    assert fail_on_hit(report, "eol")
    only_accepted = est.build_report(
        est.results([i for i in est.inventories() if i.host.hostname == "MRI-CONSOLE"]),
        [],
        est.AS_OF,
        "d",
        "t",
        config=est.config(),
        register=est.register(),
    )
    assert not fail_on_hit(only_accepted, "eol")
    assert not fail_on_hit(report, None)


def test_device_role_counts_like_a_tag() -> None:
    srv = est._inv(
        "FILE-01",
        "North General",
        est._windows("Microsoft Windows Server 2012 R2 Standard", "6.3.9600", edition="ServerStandard", product_type=3),
    )
    rep = est.build_report(est.results([srv]), [], est.AS_OF, "d", "t", config=est.config())
    host = rep.all_hosts()[0]
    assert host.os is not None and host.os.product == "windows-server"
    assert "tag server" in host.rows[0].score.explain()
    assert host.action.kind == "migrate-server" and host.action.cost == 4000


UBUNTU_2204 = (
    'NAME="Ubuntu"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 22.04.3 LTS"\nVERSION_ID="22.04"\n'
)


def test_plan_by_financial_year_counts_each_device_once_at_its_binding_end(report) -> None:  # type: ignore[no-untyped-def]
    now = {p.site: p for p in report.plan if p.financial_year == "FY2026/27"}  # the report's own year
    assert now["North General"].devices == 5 and now["South Community"].devices == 2
    assert now["North General"].overdue == 5 and now["North General"].deferred == 0
    assert now["North General"].actions == {
        "assess-device": 1,
        "replace-device": 1,
        "upgrade-hardware": 1,
        "upgrade-os": 2,
    }
    assert now["North General"].cost == 850 + 60 + 180 + 25 + 60  # WEB-01: the OS upgrade clears Ubuntu's builds
    # Debian 12 is in (free) LTS: not overdue; it is due when LTS ends (2028-06-30, FY2028/29)
    later = {(p.site, p.financial_year): p for p in report.plan}
    assert later[("South Community", "FY2028/29")].devices == 1
    assert not any(r.period == "overdue" and r.product == "debian" for r in report.roadmap)
    browser = est._inv(
        "KIOSK-1", "East", est._linux(UBUNTU_2204), software=est._dpkg(("firefox", "115.0+build2-0ubuntu0.22.04.1"))
    )
    plain = est._inv("KIOSK-2", "East", est._linux(UBUNTU_2204))
    rep = est.build_report(est.results([browser, plain]), [], est.AS_OF, "d", "t", config=est.config())
    plan = {p.financial_year: p for p in rep.plan}
    # KIOSK-1 is bound by Firefox 115 (ends 2027-03-31, FY2026/27), KIOSK-2 by Ubuntu 22.04 (2027-04-01)
    assert {k: p.devices for k, p in plan.items()} == {"FY2026/27": 1, "FY2027/28": 1}
    assert plan["FY2026/27"].cost == 60 + 15 and plan["FY2027/28"].cost == 60
    # half a year earlier nothing is open yet: the OS end inside the horizon still puts both in the plan
    early = date(2026, 6, 1)
    rep = est.build_report(est.results([browser, plain], early), [], early, "d", "t", config=est.config())
    assert [(p.financial_year, p.actions) for p in rep.plan] == [("FY2027/28", {"upgrade-os (planned)": 2})]
