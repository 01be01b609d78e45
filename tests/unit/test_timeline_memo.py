"""A stored finding's status ranges are computed once per (host OS release, package release), not
once per host (``scanner.judge.timeline``): a Configuration Manager estate has a UBR per machine
and a version string per install, so keying the ranges on the OS record and the package records made
every host compute its own -- an import of 20,000 devices spent ~80 % of its time there.  These tests
pin that sharing never changes a stored row: every host's findings and ranges equal those a judge
that never saw another host makes.  The programs are real Add/Remove Programs strings (the demo's
``windows_software_strings.jsonl``, each with its public source)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge import timeline
from scanner.judge.timeline import JUDGED_FACTS, Judge
from scanner.model import Policy

ROOT = Path(__file__).resolve().parents[2]
STRINGS = ROOT / "scanner" / "demo_data" / "windows_software_strings.jsonl"

# (caption, version, product type): Windows 10 22H2 and 7 SP1 clients, a 2012 R2 server
RELEASES = [
    ("Microsoft Windows 10 Enterprise", "10.0.19045", 1),
    ("Microsoft Windows 7 Enterprise ", "6.1.7601", 1),
    ("Microsoft Windows Server 2012 R2 Standard", "6.3.9600", 3),
]


def _os(i: int, caption: str, version: str, product_type: int) -> OsInfo:
    build = version.rsplit(".", 1)[1]
    facts = {"caption": caption, "version": version, "build": build, "product_type": product_type, "ubr": 1000 + i}
    if version.startswith("6.1"):
        facts["csd_version"] = "Service Pack 1"
    return OsInfo(family="windows", name=caption.strip(), version=version, facts=facts)


@pytest.fixture(scope="module")
def estate() -> list[Inventory]:
    programs = [json.loads(line) for line in STRINGS.read_text("utf-8").splitlines() if line.strip()]
    rng = random.Random(18)
    hosts = []
    for i in range(24):
        caption, version, product_type = RELEASES[i % len(RELEASES)]
        chosen = rng.sample(programs, 60)
        software = [
            Software(
                name=p["name"],
                version=p.get("version", ""),
                publisher=p.get("publisher", ""),
                source="windows-registry",
            )
            for p in chosen
        ]
        # .NET Framework 4.8 is a component of the OS it is installed on: its ranges follow the host's OS
        software.append(
            Software(name="Microsoft .NET Framework 4.8", version=f"4.8.{3761 + i % 2}", source="windows-registry")
        )
        hosts.append(
            Inventory(
                host=Host(hostname=f"ward-pc{i:02d}", machine_id=f"m{i}", site="Main"),
                os=_os(i, caption, version, product_type),
                software=software,
                collected_at="2026-11-28T09:00:00Z",
                inventory_id=f"inv-{i:02d}",
            )
        )
    return hosts


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def test_hosts_of_one_release_share_ranges_and_each_gets_what_a_fresh_judge_gives(
    estate: list[Inventory], ctx: IdentifyContext
) -> None:
    policy = Policy()
    judge = Judge(ctx, policy)
    computed = 0
    compute = judge._timeline

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        nonlocal computed
        computed += 1
        return compute(*args, **kw)

    judge._timeline = counting  # type: ignore[method-assign]
    findings = 0
    for inv in estate:
        got, want = judge.judge(inv), Judge(ctx, policy).judge(inv)
        assert got.result.findings == want.result.findings, inv.host.hostname
        assert got.segments == want.segments, inv.host.hostname
        findings += len(got.result.findings)
    # each host has its own OS record (its UBR): its OS finding's ranges are its own (24), while
    # its programs' ranges are shared with the other hosts of its release
    assert findings > 20 * len(estate)
    assert computed < findings / 3, (computed, findings)
    # a .NET Framework finding follows its host's OS: different ranges on Windows 7 and 10
    dotnet = {
        inv.os.version: judge.judge(inv).segments[i]
        for inv in estate[:3]
        for i, f in enumerate(judge.judge(inv).result.findings)
        if f.product == "dotnetfx"
    }
    assert len(dotnet) == 3 and dotnet["6.1.7601"] != dotnet["10.0.19045"]


def test_a_remembered_range_that_does_not_give_this_host_s_finding_is_not_used(
    estate: list[Inventory], ctx: IdentifyContext
) -> None:
    """The memo's key is an argument (what decides a state); the state on the judged day is checked
    on every reuse, so a key that missed something costs a computation, not a wrong range."""
    policy = Policy()
    judge = Judge(ctx, policy)
    assert judge.judge(estate[0]).result.findings
    assert len(judge._timelines) > 20
    for key in list(judge._timelines):
        judge._timelines[key] = [("0001-01-01", "9999-12-31", timeline.Status.UNKNOWN, None, None)]
    again = estate[3]  # the same release, another UBR: every program's key is one just spoiled
    assert judge.judge(again).segments == Judge(ctx, policy).judge(again).segments


def test_the_host_signature_holds_every_os_fact_the_judge_reads() -> None:
    """``JUDGED_FACTS`` is what the signatures keep of a host's facts: a fact the judgement reads
    that is not in it would let two hosts share ranges it decides differently."""
    read: set[str] = set()
    for path in (ROOT / "scanner" / "judge").glob("*.py"):
        read |= set(re.findall(r"""facts(?:\.get\(|\[)["']([a-z0-9_]+)["']""", path.read_text("utf-8")))
    assert read and read <= set(JUDGED_FACTS), read - set(JUDGED_FACTS)
