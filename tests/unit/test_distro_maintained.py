"""Distribution builds of ended upstream releases are judged with the OS release that ships them.

Real strings: package versions as Debian 12, Ubuntu and RHEL 8 hosts report them (this machine's
dpkg database, the captured hosts under scanner/demo_data/captures, Red Hat's errata naming),
third-party repository builds (NodeSource, EPEL) and a browser that distributions update rather
than patch.  The ``legacyscan eol identify`` contract has no host and keeps the upstream verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import Catalog
from scanner.identify import IdentifyContext
from scanner.match import match_inventory
from scanner.model import Finding, Policy, Status

AS_OF = date(2026, 11, 30)
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
UBUNTU_2004 = ('NAME="Ubuntu"\nVERSION="20.04.6 LTS (Focal Fossa)"\nID=ubuntu\nID_LIKE=debian\n'
               'PRETTY_NAME="Ubuntu 20.04.6 LTS"\nVERSION_ID="20.04"\n')
RHEL_8 = ('NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\n'
          'VERSION_ID="8.9"\nPRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"\n')


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def host(os_release: str, *software: Software) -> Inventory:
    return Inventory(host=Host(hostname="srv", machine_id="m-1", site="Main"),
                     os=OsInfo(family="linux", facts={"files": {"/etc/os-release": os_release}}),
                     software=list(software))


def finding(ctx: IdentifyContext, inv: Inventory, name: str, policy: Policy | None = None) -> Finding:
    result = match_inventory(inv, ctx, AS_OF, policy or Policy())
    return next(f for f in result.findings if f.kind == "software" and f.name == name)


def dpkg(name: str, version: str) -> Software:
    return Software(name=name, version=version, source="dpkg", arch="amd64")


def test_debian_build_follows_debian_lts(ctx: IdentifyContext) -> None:
    f = finding(ctx, host(DEBIAN_12, dpkg("perl", "5.36.0-7+deb12u3")), "perl")
    assert (f.product, f.cycle, f.status) == ("perl", "5.36", Status.EXTENDED)
    assert (f.eol, f.extended_until) == (date(2026, 7, 11), date(2028, 6, 30))
    assert f.detail.rule.endswith("+distro.debian")
    assert f.detail.evidence["distribution_build"] == "version mark '+deb12u3'"
    assert "upstream" in f.detail.reason and "Debian 12" in f.detail.reason


def test_third_party_and_unproven_builds_keep_the_upstream_verdict(ctx: IdentifyContext) -> None:
    inv = host(DEBIAN_12, dpkg("nodejs", "20.20.2-1nodesource1+repack1"), dpkg("maven", "3.8.7-1"))
    node, maven = finding(ctx, inv, "nodejs"), finding(ctx, inv, "maven")
    assert (node.status, node.eol) == (Status.EOL, date(2026, 4, 30)) and "+distro" not in node.detail.rule
    # Debian's untouched build carries no mark of its origin: without evidence, upstream decides
    assert maven.status is Status.EOL and "+distro" not in maven.detail.rule


def test_browsers_follow_upstream_even_as_distribution_builds(ctx: IdentifyContext) -> None:
    ubuntu_2204 = UBUNTU_2004.replace("20.04.6 LTS (Focal Fossa)", "22.04.3 LTS").replace('"20.04"', '"22.04"')
    f = finding(ctx, host(ubuntu_2204, dpkg("firefox", "115.0+build2-0ubuntu0.22.04.1")), "firefox")
    assert f.status is Status.ENDING_SOON and "+distro" not in f.detail.rule


def test_ubuntu_build_on_an_ended_release_is_eol_with_it_and_extended_with_pro(ctx: IdentifyContext) -> None:
    inv = host(UBUNTU_2004, dpkg("openssl", "1.1.1f-1ubuntu2.22"))
    plain = finding(ctx, inv, "openssl")
    assert plain.status is Status.EOL and plain.detail.rule.endswith("+distro.ubuntu")
    assert plain.eol == date(2025, 5, 31)  # Ubuntu 20.04's standard support, not upstream's 2023-09-11
    pro = finding(ctx, inv, "openssl", Policy(entitlements=frozenset({"ubuntu"})))
    assert pro.status is Status.EXTENDED and pro.extended_until is not None and pro.extended_until > AS_OF


def test_rhel_build_is_told_apart_from_epel_by_its_vendor(ctx: IdentifyContext) -> None:
    red_hat = Software(name="openssl", version="1:1.1.1k-12.el8_9", source="rpm", arch="x86_64",
                       publisher="Red Hat, Inc.")
    epel = Software(name="openssl", version="1:1.1.1k-12.el8_9", source="rpm", arch="x86_64",
                    publisher="Fedora Project")
    ours = finding(ctx, host(RHEL_8, red_hat), "openssl")
    assert ours.status is Status.SUPPORTED and ours.eol == date(2029, 5, 31)
    assert ours.detail.evidence["distribution_build"] == "vendor 'Red Hat, Inc.'"
    theirs = finding(ctx, host(RHEL_8, epel), "openssl")
    assert theirs.status is Status.EOL and "+distro" not in theirs.detail.rule


def test_supported_upstream_releases_are_left_alone(ctx: IdentifyContext) -> None:
    f = finding(ctx, host(DEBIAN_12, dpkg("libpython3.11", "3.11.2-6+deb12u6")), "libpython3.11")
    assert (f.status, f.eol) == (Status.SUPPORTED, date(2027, 10, 31)) and "+distro" not in f.detail.rule


def test_eol_identify_contract_keeps_the_upstream_verdict() -> None:
    record = {"kind": "software", "source": "dpkg", "name": "perl", "version": "5.36.0-7+deb12u3"}
    out = subprocess.run([sys.executable, "-m", "scanner.cli", "eol", "identify", "--as-of", AS_OF.isoformat()],
                         input=json.dumps(record) + "\n", capture_output=True, text=True, check=True).stdout
    answer = json.loads(out)
    assert (answer["product"], answer["cycle"], answer["status"]) == ("perl", "5.36", "eol")
