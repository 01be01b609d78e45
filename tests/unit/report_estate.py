"""A small, fixed, hand-built estate for report tests (golden outputs, priority, exceptions).

Why hand-built: the identifiers are improving all the time, so the golden outputs must rest on
records whose identification is settled — Linux OS records from real ``/etc/os-release`` text
(Debian 12, Ubuntu 18.04), Windows OS records in the collector's shape (build + edition), and
dpkg packages (OpenSSL, Python, nginx, PostgreSQL) — judged on a fixed date.  Hardware facts
cover each Windows 11 readiness outcome (ready, CPU blocker, RAM-only blocker, unknown).
"""

from __future__ import annotations

from datetime import date

from agents.inventory import Hardware, Host, Inventory, OsInfo, Software
from eol_data.catalog import load_default
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import HostResult, match_estate
from scanner.model import Policy
from scanner.plan.config import ReportConfig, config_from_dict
from scanner.plan.risk_register import Register, parse_toml
from scanner.report.build import build_report
from scanner.report.model import EstateReport
from scanner.store.sqlite import HostStatus

AS_OF = date(2026, 11, 30)
PREVIOUS_AS_OF = date(2026, 9, 1)

DEBIAN_12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)
UBUNTU_1804 = (
    'NAME="Ubuntu"\nVERSION="18.04.5 LTS (Bionic Beaver)"\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 18.04.5 LTS"\nVERSION_ID="18.04"\n'
)
GB = 1024**3


def _linux(text: str) -> OsInfo:
    return OsInfo(
        family="linux",
        name=text.split('PRETTY_NAME="')[1].split('"')[0] if "PRETTY" in text else "",
        version="",
        facts={"files": {"/etc/os-release": text}},
    )


def _windows(
    caption: str, version: str, edition: str = "Enterprise", display: str = "", product_type: int = 1, csd: str = ""
) -> OsInfo:
    facts: dict[str, object] = {
        "caption": caption,
        "version": version,
        "build": version.split(".")[-1],
        "edition_id": edition,
        "product_type": product_type,
    }
    if display:
        facts["display_version"] = display
    if csd:
        facts["csd_version"] = csd
    return OsInfo(family="windows", name=caption, version=version, facts=facts)


def _win10() -> OsInfo:
    return _windows("Microsoft Windows 10 Enterprise", "10.0.19045", display="22H2")


def _hw(
    cpu: str, tpm: str | None, secure: bool | None, ram_gb: int | None, disk_gb: int | None, fw: str = "uefi"
) -> Hardware:
    return Hardware(
        vendor="Dell Inc.",
        model="OptiPlex 7070",
        cpu_model=cpu,
        memory_bytes=ram_gb * GB if ram_gb is not None else None,
        system_disk_bytes=disk_gb * 1000**3 if disk_gb is not None else None,
        firmware_type=fw if secure is not None else "",
        secure_boot=secure,
        tpm_present=None if tpm is None else bool(tpm),
        tpm_version=tpm or "",
    )


def _inv(
    name: str,
    site: str,
    os: OsInfo,
    software: list[Software] | None = None,
    tags: list[str] | None = None,
    hw: Hardware | None = None,
    collected: str = "2026-11-28T09:00:00Z",
) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"mid-{name.lower()}", site=site, tags=tags or []),
        os=os,
        software=software or [],
        hardware=hw or Hardware(),
        collected_at=collected,
        inventory_id=f"inv-{name.lower()}-{collected[:10]}",
    )


def _dpkg(*pairs: tuple[str, str]) -> list[Software]:
    return [Software(name=n, version=v, source="dpkg") for n, v in pairs]


def inventories() -> list[Inventory]:
    return [
        _inv(
            "PC-001",
            "North General",
            _win10(),
            tags=["clinical"],
            hw=_hw("Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz", "2.0", True, 8, 256),
        ),
        _inv(
            "PC-002", "North General", _win10(), hw=_hw("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz", "1.2", True, 8, 500)
        ),
        _inv(
            "PC-003", "North General", _win10(), hw=_hw("Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz", "2.0", True, 2, 256)
        ),
        _inv("PC-004", "North General", _win10(), hw=_hw("QEMU Virtual CPU version 2.5+", None, None, 4, 80)),
        _inv(
            "MRI-CONSOLE",
            "North General",
            _windows("Microsoft Windows 7 Enterprise", "6.1.7601", csd="Service Pack 1"),
            tags=["medical-device", "clinical"],
        ),
        _inv(
            "WEB-01",
            "North General",
            _linux(UBUNTU_1804),
            tags=["server", "internet-facing"],
            software=_dpkg(
                ("openssl", "1.1.1-1ubuntu2.1~18.04.23"),
                ("nginx-core", "1.14.0-0ubuntu1.11"),
                ("python3.6", "3.6.9-1~18.04ubuntu1.12"),
                ("apache2", "2.4.29-1ubuntu4.27"),
                ("zlib1g", "1:1.2.11.dfsg-0ubuntu2"),
            ),
        ),
        _inv(
            "DB-01",
            "South Community",
            _linux(DEBIAN_12),
            tags=["server"],
            software=_dpkg(
                ("openssl", "3.0.11-1~deb12u1"), ("python3.11", "3.11.2-6"), ("postgresql-15", "15.5-0+deb12u1")
            ),
        ),
        _inv(
            "PC-101",
            "South Community",
            _win10(),
            hw=_hw("AMD Ryzen 5 PRO 4650G with Radeon Graphics", "2.0", True, 16, 512),
        ),
        _inv(
            "PC-102",
            "South Community",
            _windows("Microsoft Windows 11 Enterprise", "10.0.22631", display="23H2"),
            hw=_hw("Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "2.0", True, 16, 512),
        ),
    ]


def previous_inventories() -> list[Inventory]:
    """The scan before: PC-101 still on Windows 7, PC-102 not yet scanned."""
    out = []
    for inv in inventories():
        if inv.host.hostname == "PC-102":
            continue
        if inv.host.hostname == "PC-101":
            inv.os = _windows("Microsoft Windows 7 Enterprise", "6.1.7601", csd="Service Pack 1")
        inv.collected_at = "2026-08-30T09:00:00Z"
        inv.inventory_id = f"inv-{inv.host.hostname.lower()}-prev"
        out.append(inv)
    return out


def statuses() -> list[HostStatus]:
    return [
        HostStatus(
            target="pc-001.north.example",
            site="North General",
            status="ok",
            error="",
            at="2026-11-28T09:00:00Z",
            host_key="mid-pc-001",
            last_ok_at="2026-11-28T09:00:00Z",
        ),
        HostStatus(
            target="pc-099.north.example",
            site="North General",
            status="unreachable",
            error="connection timed out",
            at="2026-11-28T09:01:00Z",
            last_ok_at="2026-06-02T08:00:00Z",
        ),
        HostStatus(
            target="db-01.south.example",
            site="South Community",
            status="ok",
            error="",
            at="2026-11-28T09:00:00Z",
            host_key="mid-db-01",
            last_ok_at="2026-11-28T09:00:00Z",
        ),
    ]


EXCEPTIONS_TOML = """
[[exception]]
id = "EX-001"
host = "MRI-CONSOLE"
product = "windows"
category = "alternate-mitigation"
justification = "MRI console; the manufacturer supports Windows 7 only until the scanner is replaced"
compensating_controls = ["segregated imaging VLAN 120", "no internet access", "USB ports disabled"]
medical_device = true
manufacturer_ref = "Vendor support notice SN-2024-17"
owner = "Head of Imaging"
approver = "SIRO"
approved_on = 2026-01-15
expires = 2027-06-30
risk = "medium: isolated network"

[[exception]]
id = "EX-002"
host = "PC-002"
product = "windows"
cycle = "10-22h2"
category = "planned-remediation"
justification = "replacement ordered in the 2026/27 refresh"
owner = "Desktop team"
approver = "SIRO"
approved_on = 2025-10-01
expires = 2026-10-31
"""

CONFIG = {
    "costs": {
        "currency": "GBP",
        "replace_device": 850,
        "upgrade_os": 60,
        "upgrade_hardware": 120,
        "update_application": 15,
        "migrate_server": 4000,
        "assess_device": 25,
    },
    "esu": {"windows:10-22h2": {"year_costs": [61, 122, 244], "name": "Windows 10 ESU"}},
}


def register() -> Register:
    return parse_toml(EXCEPTIONS_TOML, "exceptions.toml")


def config() -> ReportConfig:
    return config_from_dict(CONFIG, "legacyscan.toml")


_CTX: IdentifyContext | None = None


def ctx() -> IdentifyContext:
    global _CTX
    if _CTX is None:
        _CTX = IdentifyContext(load_default())
    return _CTX


def results(invs: list[Inventory] | None = None, as_of: date = AS_OF) -> list[HostResult]:
    return match_estate(invs if invs is not None else inventories(), ctx(), as_of, Policy())


def report(demo: str = "", dataset_version: str | None = None, site_catalog: str = "") -> EstateReport:
    """The golden estate's report; with ``site_catalog`` (TOML text) its entitlements and prices
    apply, as ``legacyscan report --site-catalog`` would apply them."""
    version = dataset_version or ctx().catalog.version
    if not site_catalog:
        return build_report(
            results(),
            statuses(),
            AS_OF,
            version,
            "0.0.0-test",
            config=config(),
            register=register(),
            previous=results(previous_inventories(), PREVIOUS_AS_OF),
            previous_as_of=PREVIOUS_AS_OF,
            demo=demo,
        )
    from pathlib import Path

    from eol_data.site import parse_site_catalog
    from scanner.plan.config import with_site_catalog

    site = parse_site_catalog(site_catalog, Path("legacyscan-site.toml"))
    policy = Policy(entitlements=site.entitlement_keys(), site_catalog=site.version_tag)
    return build_report(
        match_estate(inventories(), ctx(), AS_OF, policy),
        statuses(),
        AS_OF,
        policy.dataset_version(version),
        "0.0.0-test",
        config=with_site_catalog(config(), site),
        register=register(),
        demo=demo,
    )
