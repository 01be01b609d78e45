"""The judge's memos are objects their run owns (#18 item 1): ``MatchMemo`` (with its
``DistroMemo``: build origins, parsed security-support/apt/lifecycle lists) and the ``Judge``'s OS
releases by inventory identity.  A memo gives what a fresh judgement gives; two runs never share one;
without a memo nothing is remembered.  (That no module keeps a memo: tests/unit/test_stateless_parsers.py.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge import distribution_builds as db
from scanner.judge.match import MatchMemo, match_inventory
from scanner.judge.timeline import Judge
from scanner.model import Policy

AS_OF = date(2026, 11, 30)
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
SUPPORT = "/usr/share/debian-security-support/security-support.deb12"
# lines in the shape of debian-security-support's one list per release
SUPPORT_TEXT = (
    "# comment\nrust.*                      limited  See the release notes\n"
    "isc-dhcp                    non-supported   4.4.3-P1-2       2023-07-05  https://example.invalid/x\n"
)
PACKAGES = (
    ("perl", "5.36.0-7+deb12u3", "Debian Perl Group <pkg-perl-maintainers@lists.alioth.debian.org>"),
    ("nodejs", "18.20.4-1nodesource1", "NodeSource <maintainers@nodesource.com>"),
    ("php8.2-cli", "8.2.29-1~deb12u1", "Debian PHP Maintainers <team+pkg-php@tracker.debian.org>"),
    ("isc-dhcp-client", "4.4.3-P1-2", "Debian ISC DHCP Maintainers <isc-dhcp@packages.debian.org>"),
    ("python3.11", "3.11.2-6+deb12u6", "Matthias Klose <doko@debian.org>"),
)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def _host(n: int) -> Inventory:
    software = [
        Software(name=name, version=version, source="dpkg", arch="amd64", publisher=who)
        for name, version, who in PACKAGES[: 2 + n % 4]
    ]
    return Inventory(
        host=Host(hostname=f"srv-{n}", machine_id=f"m-{n}", site="Main"),
        os=OsInfo(
            family="linux", facts={"files": {"/etc/os-release": DEBIAN_12}, "security_support": {SUPPORT: SUPPORT_TEXT}}
        ),
        software=software,
        collected_at="2026-11-30T10:00:00Z",
    )


def _findings(inv: Inventory, ctx: IdentifyContext, memo: MatchMemo | None) -> list[Any]:
    return [f.to_dict() for f in match_inventory(inv, ctx, AS_OF, Policy(), memo).findings]


def test_a_run_memo_gives_what_a_fresh_judgement_gives(ctx: IdentifyContext) -> None:
    estate = [_host(n) for n in range(8)]
    policy = Policy()
    memo = MatchMemo(ctx, AS_OF, policy)
    shared = [[f.to_dict() for f in match_inventory(inv, ctx, AS_OF, policy, memo).findings] for inv in estate]
    alone = [_findings(inv, ctx, None) for inv in estate]
    assert shared == alone
    assert any(f["product"] == "perl" for f in alone[0])  # judged, not an empty list on both sides
    # the distribution answers were remembered by this run's memo
    assert memo.distro.origins and len(memo.distro.support) == 1


def test_two_runs_never_share_a_memo(ctx: IdentifyContext) -> None:
    policy = Policy()
    first, second = MatchMemo(ctx, AS_OF, policy), MatchMemo(ctx, AS_OF, policy)
    match_inventory(_host(3), ctx, AS_OF, policy, first)
    assert first.known and first.distro.origins
    assert not second.known and not second.distro.origins and not second.distro.support
    assert first.distro is not second.distro


def test_the_distribution_helpers_remember_only_in_the_memo_they_are_given() -> None:
    files = {SUPPORT: SUPPORT_TEXT}
    fresh = db.security_support("debian", "12", files)
    again = db.security_support("debian", "12", files)
    assert fresh is not None and fresh is not again and fresh == again  # no memo: parsed each time
    memo = db.DistroMemo()
    kept = db.security_support("debian", "12", files, memo)
    assert kept == fresh and db.security_support("debian", "12", files, memo) is kept
    assert db.security_support("debian", "12", files, db.DistroMemo()) is not kept  # another run's memo

    dist = db.distribution_for("debian", "dpkg")
    assert dist is not None
    sw = Software(name="nodejs", version="18.20.4-1nodesource1", source="dpkg", publisher="NodeSource <x@y.z>")
    assert db.build_origin(dist, sw) == db.build_origin(dist, sw, None, memo)
    assert db.build_origin(dist, sw)[0] == db.THIRD
    assert len(memo.origins) == 1


def test_each_judge_keeps_its_own_os_releases(ctx: IdentifyContext) -> None:
    """Status ranges read each inventory's OS release; the Judge keeps them (by identity, each entry
    holding its inventory), and a second Judge starts without them."""
    inv = _host(5)
    first, second = Judge(ctx, Policy()), Judge(ctx, Policy())
    judged = first.judge(inv)
    assert judged.result.findings
    assert first._os_releases.get(id(inv), (None,))[0] is inv
    assert first._os_releases[id(inv)][1] == ("debian", "12")
    assert second._os_releases == {}
    # both judges' memos share the date-independent distribution answers of their base memo
    assert first._memo(date(2027, 1, 1)).distro is first._base.distro
    assert first._base.distro is not second._base.distro
