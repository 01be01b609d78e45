"""Fuzz: the distributions' own support lists a host hands over (Debian's security-support lists,
Ubuntu's apt index data, SUSE's zypper lifecycle files) and the judge that runs their patterns.

Host output is data from machines we do not control, and these lists are judged on the scanner and
on the collector while a batch is stored: the parsers are total, and judging a host whose lists
are odd never raises (#19 "0 unexpected exceptions", items 2 and 19).  Seeds are the real SUSE
lifecycle file under tests/fixtures/hosts (provenance there) and lines in each list's own format.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.judge.distribution_builds import parse_combined, parse_ended, parse_limited, security_support
from scanner.judge.distribution_data import lifecycle_end, parse_apt_support, parse_lifecycle
from tests.fuzz.strategies import hostile_text, inputs

pytestmark = pytest.mark.timeout(180)

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
SLES_FILE = HOSTS / "sles12sp1-lifecycle" / "files" / "usr" / "share" / "lifecycle" / "data" / "SLES.lifecycle"
LIFECYCLE = [f"@@F /usr/share/lifecycle/data/SLES.lifecycle\n{SLES_FILE.read_text('utf-8')}"]
DEBIAN_ENDED = [
    "# comment\nqtwebengine-opensource-src 5.15.15+dfsg-2 2026-05-01 no longer supported\n"
    "golang.*\t0\t2027-01-15\tsee README\n"
]
DEBIAN_LIMITED = ["php-horde.*  Only for trusted content\nlinux-(signed-)?.*  see the kernel's notes\n"]
DEBIAN_COMBINED = [
    "qtwebengine-opensource-src non-supported 5.15.15+dfsg-2 2026-05-01 no longer supported\n"
    "php-horde.* limited Only for trusted content\nopenjdk-17 supported an exception\n"
]
APT = [
    "F\t1\t/var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_noble_main_binary-amd64_Packages\tUbuntu\tnoble\n"
    "F\t2\t/var/lib/apt/lists/ppa.launchpadcontent.net_x_dists_noble_main_binary-amd64_Packages\tLP-PPA-x\tnoble\n"
    "1\tbash\t=\t\n1\topenssl\t-\t5y\n2\topenssl\t=\t\n"
]
NAMES = st.one_of(
    st.sampled_from(["bash", "openssl", "kernel-default", "golang-1.19", "php-horde-core", "a" * 300]), hostile_text
)


@given(inputs(LIFECYCLE), st.lists(st.tuples(NAMES, NAMES), max_size=4))
@example("@@F /x\n/" + "(" * 3000 + "a" + ")" * 3000 + "/,*,2020-01-01\n", [])
@example("@@F /x\n/^(a+)+$/,*,2020-01-01\n", [("a" * 40 + "!", "1")])
def test_lifecycle_files_parse_and_match_whatever_the_host_prints(text: str, packages: list[tuple[str, str]]) -> None:
    entries = parse_lifecycle(text)
    for name, edition in packages:
        hit = lifecycle_end(entries, name, edition)
        assert hit is None or isinstance(hit.ended, date)


@given(inputs(DEBIAN_ENDED), inputs(DEBIAN_LIMITED), inputs(DEBIAN_COMBINED), st.lists(NAMES, max_size=4))
@example("(" * 3000 + "a" + ")" * 3000 + " 1 2020-01-01\n", "", "", [])
def test_debian_security_support_lists_parse_and_match(
    ended: str, limited: str, combined: str, names: list[str]
) -> None:
    for support in (
        security_support(
            "debian",
            "12",
            {
                "/usr/share/debian-security-support/security-support-ended.deb12": ended,
                "/usr/share/debian-security-support/security-support-limited": limited,
            },
        ),
        security_support("debian", "12", {"/usr/share/debian-security-support/security-support.deb12": combined}),
    ):
        assert support is not None
        for name in names:
            support.lookup(name)
    parse_ended(ended), parse_limited(limited), parse_combined(combined)


@given(inputs(APT))
def test_apt_support_data_parses_whatever_the_host_prints(text: str) -> None:
    support = parse_apt_support(text)
    for entries in support.packages.values():
        assert all(isinstance(e.supported, str) for e in entries)


# -- the judge over a host whose lists are odd ---------------------------------------------------

OS_RELEASE = {
    "sles": 'NAME="SLES"\nVERSION="12-SP1"\nVERSION_ID="12.1"\nID="sles"\n',
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    "ubuntu": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nVERSION_CODENAME=noble\n',
}


@st.composite
def odd_list_hosts(draw: st.DrawFn) -> Inventory:
    kind = draw(st.sampled_from(sorted(OS_RELEASE)))
    facts: dict[str, Any] = {"files": {"/etc/os-release": OS_RELEASE[kind]}}
    source = {"sles": "rpm", "debian": "dpkg", "ubuntu": "dpkg"}[kind]
    if kind == "sles":
        facts["suse_lifecycle"] = draw(inputs(LIFECYCLE))
    elif kind == "debian":
        facts["security_support"] = {
            "/usr/share/debian-security-support/security-support.deb12": draw(inputs(DEBIAN_COMBINED))
        }
    else:
        facts["apt_support"] = draw(inputs(APT))
    names = draw(st.lists(NAMES, min_size=1, max_size=4))
    software = [
        Software(name=n or "x", version=draw(st.sampled_from(["1.0-1", "3.12.51-60.25.1", "5.2.15-2"])), source=source)
        for n in names
    ]
    return Inventory(
        host=Host(hostname=f"{kind}-odd", machine_id="m", site="North"),
        os=OsInfo(family="linux", name=kind, facts=facts),
        software=software,
        collected_at="2026-12-01T08:00:00Z",
    )


@pytest.fixture(scope="module")
def judge() -> Any:
    from eol_data.catalog import Catalog
    from scanner.identify.registry import IdentifyContext
    from scanner.judge.match import match_inventory
    from scanner.model import Policy

    ctx = IdentifyContext(Catalog())
    return lambda inv: match_inventory(inv, ctx, date(2026, 12, 6), Policy())


@given(odd_list_hosts())
def test_judging_a_host_with_odd_lists_never_raises(judge: Any, inv: Inventory) -> None:
    result = judge(inv)
    assert result.inventory is inv
