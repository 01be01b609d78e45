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
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Finding, Policy, Status

AS_OF = date(2026, 11, 30)
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
UBUNTU_2004 = (
    'NAME="Ubuntu"\nVERSION="20.04.6 LTS (Focal Fossa)"\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 20.04.6 LTS"\nVERSION_ID="20.04"\n'
)
RHEL_8 = (
    'NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\n'
    'VERSION_ID="8.9"\nPRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"\n'
)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def host(os_release: str, *software: Software) -> Inventory:
    return Inventory(
        host=Host(hostname="srv", machine_id="m-1", site="Main"),
        os=OsInfo(family="linux", facts={"files": {"/etc/os-release": os_release}}),
        software=list(software),
    )


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


def test_third_party_builds_keep_the_upstream_verdict(ctx: IdentifyContext) -> None:
    vendor = Software(
        name="php7.4-cli",
        version="7.4.33",
        source="dpkg",
        arch="amd64",
        publisher="Example Vendor Packaging <builds@vendor.example>",
    )
    inv = host(
        DEBIAN_12, dpkg("nodejs", "20.20.2-1nodesource1+repack1"), vendor, dpkg("mysql-server-8.0", "8.0.35-1debian12")
    )
    node, php = finding(ctx, inv, "nodejs"), finding(ctx, inv, "php7.4-cli")
    assert (node.status, node.eol) == (Status.EOL, date(2026, 4, 30)) and "+distro" not in node.detail.rule
    assert "nodesource" in node.detail.evidence["third_party_build"]
    # no Debian revision and a maintainer who is not Debian's: the vendor's lifecycle
    assert php.status is Status.EOL and "+distro" not in php.detail.rule
    assert "third_party_build" in php.detail.evidence


def test_never_updated_packages_and_defaults_metapackages_are_debians(ctx: IdentifyContext) -> None:
    """Packages untouched since the release carry no +debNuM mark; -defaults metapackages are
    numbered on their own.  Both are Debian's builds (the issue's false alarms on Debian 12)."""
    lua = dpkg("liblua5.3-0", "5.3.6-2")  # no maintainer recorded (an old dpkg-query collection)
    onig = Software(
        name="libonig5",
        version="6.9.8-1",
        source="dpkg",
        arch="amd64",
        publisher="J\u00f6rg Frings-F\u00fcrst <debian@jff.email>",
    )
    php = Software(
        name="php-cli",
        version="2:8.2+93",
        source="dpkg",
        arch="all",
        publisher="Debian PHP Maintainers <team+pkg-php@tracker.debian.org>",
    )
    inv = host(DEBIAN_12, lua, onig, php, dpkg("maven", "3.8.7-1"), dpkg("isc-dhcp-client", "4.4.3-P1-2"))
    for name in ("liblua5.3-0", "libonig5", "php-cli", "maven", "isc-dhcp-client"):
        f = finding(ctx, inv, name)
        assert (f.status, f.extended_until) == (Status.EXTENDED, date(2028, 6, 30)), (name, f.detail.reason)
        assert f.detail.rule.endswith("+distro.debian")
    assert "maintainer" in finding(ctx, inv, "php-cli").detail.evidence["distribution_build"]


def test_a_product_is_the_worst_of_its_packages_not_the_first_name(ctx: IdentifyContext) -> None:
    ours = Software(
        name="php-cli",
        version="2:8.2+93",
        source="dpkg",
        publisher="Debian PHP Maintainers <team+pkg-php@tracker.debian.org>",
    )
    vendor = Software(
        name="php8.2-cli",
        version="8.2.30-1+0~20250101.1+debian12~1.gbp1",
        source="dpkg",
        publisher="Debian PHP Maintainers <team+pkg-php@tracker.debian.org>",
    )
    later = date(2027, 2, 1)  # upstream PHP 8.2 ended 2026-12-31; Debian 12 is in LTS
    result = match_inventory(host(DEBIAN_12, ours, vendor), ctx, later, Policy())
    php = [f for f in result.findings if f.product == "php"]
    assert len(php) == 1 and php[0].count == 2
    assert (php[0].name, php[0].status) == ("php8.2-cli", Status.EOL)  # Sury's build: upstream decides
    both_ours = match_inventory(host(DEBIAN_12, ours, dpkg("php8.2-cli", "8.2.29-1~deb12u1")), ctx, later, Policy())
    assert {f.status for f in both_ours.findings if f.product == "php"} == {Status.EXTENDED}


def test_an_ended_release_ends_its_packages(ctx: IdentifyContext) -> None:
    debian_11 = DEBIAN_12.replace("12 (bookworm)", "11 (bullseye)").replace('"12"', '"11"')
    inv = host(debian_11, dpkg("apache2-bin", "2.4.62-1~deb11u1"), dpkg("libsqlite3-0", "3.34.1-3"))
    result = match_inventory(inv, ctx, AS_OF, Policy())
    os_finding = result.os_finding
    assert os_finding is not None and os_finding.status is Status.EOL
    assert os_finding.eol == date(2026, 8, 31)  # days past end count from the end of (free) Debian LTS
    for name in ("apache2-bin", "libsqlite3-0"):
        f = finding(ctx, inv, name)
        assert (f.status, f.eol) == (Status.EOL, date(2026, 8, 31)), (name, f.detail.reason)


def test_debian_security_support_lists_end_a_package_early(ctx: IdentifyContext) -> None:
    """The host's copy of debian-security-support decides (matched on the SOURCE package)."""
    ended = (
        "# comment\nqtwebengine-opensource-src 5.15.15+dfsg-2 2026-05-01 no longer supported\n"
        "golang.*\t0\t2027-01-15\tsee README\n"
    )
    limited = "php-horde.*  Only for trusted content\n"
    inv = host(
        DEBIAN_12,
        Software(
            name="libqt5webenginecore5",
            version="5.15.15+dfsg-2",
            source="dpkg",
            source_package="qtwebengine-opensource-src",
        ),
    )
    inv.os.facts["security_support"] = {
        "/usr/share/debian-security-support/security-support-ended.deb12": ended,
        "/usr/share/debian-security-support/security-support-limited": limited,
    }
    from scanner.judge.distribution_builds import HostOs, distro_verdict, security_support
    from scanner.model import Verdict

    support = security_support("debian", "12", inv.os.facts["security_support"])
    assert support is not None
    os_v = Verdict(Status.EXTENDED, eol=date(2026, 7, 11), extended_until=date(2028, 6, 30), reason="LTS")
    up = Verdict(Status.SUPPORTED, reason="upstream fine")
    h = HostOs("debian", "Debian 12", os_v, support)
    qt = Software(
        name="libqt5webenginecore5",
        version="5.15.15+dfsg-2",
        source="dpkg",
        source_package="qtwebengine-opensource-src",
    )
    got = distro_verdict(qt, "qt", up, h, AS_OF, Policy())
    assert got is not None and got[0].status is Status.EOL and got[0].eol == date(2026, 5, 1)
    go = Software(name="golang-1.19-go", version="1.19.8-2", source="dpkg", source_package="golang-1.19")
    got = distro_verdict(go, "go", up, h, AS_OF, Policy())  # the OS's extended phase is the worse state
    assert got is not None and got[0].status is Status.EXTENDED and "2027-01-15" in got[0].reason
    supported = HostOs("debian", "Debian 12", Verdict(Status.SUPPORTED, eol=date(2028, 1, 1)), support)
    got = distro_verdict(go, "go", up, supported, AS_OF, Policy())
    assert got is not None and got[0].status is Status.ENDING_SOON and got[0].eol == date(2027, 1, 15)
    horde = Software(name="php-horde-core", version="2.31.16+debian0-2", source="dpkg")
    got = distro_verdict(horde, "php", up, h, AS_OF, Policy())
    assert got is not None and got[0].status is Status.EXTENDED and "trusted content" in got[0].reason


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
    red_hat = Software(
        name="openssl", version="1:1.1.1k-12.el8_9", source="rpm", arch="x86_64", publisher="Red Hat, Inc."
    )
    epel = Software(
        name="openssl", version="1:1.1.1k-12.el8_9", source="rpm", arch="x86_64", publisher="Fedora Project"
    )
    ours = finding(ctx, host(RHEL_8, red_hat), "openssl")
    assert ours.status is Status.SUPPORTED and ours.eol == date(2029, 5, 31)
    assert ours.detail.evidence["distribution_build"] == "vendor 'Red Hat, Inc.'"
    theirs = finding(ctx, host(RHEL_8, epel), "openssl")
    assert theirs.status is Status.EOL and "+distro" not in theirs.detail.rule


def test_java_openjdk_rpms_are_red_hats_build_only_on_enterprise_linux(ctx: IdentifyContext) -> None:
    """java-N-openjdk is the name SUSE, Fedora and Amazon Linux use too: only an Enterprise Linux
    build (release tag .elN) follows the Red Hat build of OpenJDK's lifecycle (OpenJDK 11 ended
    there on 2024-10-31); SUSE's is SUSE's package, judged by the SLES release that ships it."""
    sles_15_7 = 'NAME="SLES"\nVERSION="15-SP7"\nVERSION_ID="15.7"\nID="sles"\nID_LIKE="suse"\n'
    suse = Software(
        name="java-11-openjdk-headless",
        version="11.0.25.0-150000.3.119.1",
        source="rpm",
        arch="x86_64",
        publisher="SUSE LLC <https://www.suse.com/>",
    )
    f = finding(ctx, host(sles_15_7, suse), "java-11-openjdk-headless")
    assert (f.product, f.cycle, f.status) == ("openjdk", "11", Status.SUPPORTED), f.detail.reason
    assert f.detail.rule.endswith("+distro.sles") and "SUSE" in f.detail.evidence["distribution_build"]
    red_hat = Software(
        name="java-11-openjdk-headless",
        version="1:11.0.25.0.9-2.el8",
        source="rpm",
        arch="x86_64",
        publisher="Red Hat, Inc.",
    )
    rh = finding(ctx, host(RHEL_8, red_hat), "java-11-openjdk-headless")
    assert (rh.product, rh.status, rh.eol) == ("redhat-build-of-openjdk", Status.EOL, date(2024, 10, 31))


SUSE_VENDOR = "SUSE LLC <https://www.suse.com/>"
UBUNTU_DEVELOPERS = "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>"


@pytest.mark.parametrize(
    "os_release, package",
    [
        (  # CentOS Stream 9: CentOS's el9 builds, maintained until the stream ends
            'NAME="CentOS Stream"\nVERSION="9"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n'
            'PLATFORM_ID="platform:el9"\nPRETTY_NAME="CentOS Stream 9"\n',
            Software(name="openssl", version="1:3.0.7-27.el9", source="rpm", arch="x86_64", publisher="CentOS"),
        ),
        (
            'NAME="EuroLinux"\nVERSION="9.2 (Stockholm)"\nID="eurolinux"\nID_LIKE="rhel fedora centos"\n'
            'VERSION_ID="9.2"\nPLATFORM_ID="platform:el9"\n',
            Software(name="openssl", version="1:3.0.7-16.el9_2", source="rpm", arch="x86_64", publisher="EuroLinux"),
        ),
        (
            'NAME="SUSE Linux Micro"\nVERSION="6.0"\nID="sl-micro"\nID_LIKE="suse"\nVERSION_ID="6.0"\n',
            Software(name="libopenssl3", version="3.1.4-150600.5.15.1", source="rpm", publisher=SUSE_VENDOR),
        ),
        (  # Pop!_OS: Ubuntu's archive
            'NAME="Pop!_OS"\nVERSION="22.04 LTS"\nID=pop\nID_LIKE="ubuntu debian"\nVERSION_ID="22.04"\n'
            "UBUNTU_CODENAME=jammy\n",
            Software(name="libssl3", version="3.0.2-0ubuntu1.18", source="dpkg", publisher=UBUNTU_DEVELOPERS),
        ),
        (
            'NAME="Mageia"\nVERSION="9"\nID=mageia\nID_LIKE="mandriva fedora"\nVERSION_ID=9\n',
            Software(name="openssl", version="3.0.15-1.mga9", source="rpm", publisher="Mageia.Org"),
        ),
        (
            'NAME="VMware Photon OS"\nVERSION="5.0"\nID=photon\nVERSION_ID=5.0\n',
            Software(name="openssl", version="3.0.9-1.ph5", source="rpm", publisher="VMware, Inc."),
        ),
    ],
    ids=["centos-stream", "eurolinux", "suse-linux-micro", "pop-os", "mageia", "photon"],
)
def test_every_identified_distribution_judges_its_own_builds(
    ctx: IdentifyContext, os_release: str, package: Software
) -> None:
    """A distribution legacyscan identifies is one whose builds it can tell: OpenSSL 3.0/3.1 have
    ended upstream, each distribution's own build is judged with its release."""
    result = match_inventory(host(os_release, package), ctx, AS_OF, Policy())
    os_finding = result.os_finding
    assert os_finding is not None and os_finding.product is not None
    f = next(f for f in result.findings if f.kind == "software")
    assert f.detail.rule.endswith(f"+distro.{os_finding.product}"), f.detail
    assert (f.status, f.eol) == (os_finding.status, os_finding.eol), f.detail.reason


def test_no_identified_distribution_is_left_without_build_rules() -> None:
    """A distribution the OS identifier names (linux_os.toml ids) must say how its builds are told,
    or its packages silently keep upstream verdicts; the exceptions have no package evidence used."""
    from eol_data.rules import load_rules
    from scanner.judge.distribution_builds import DISTRIBUTIONS

    named = set(load_rules().table("linux_os").get("ids", {}).values())
    judged = {p for d in DISTRIBUTIONS for p in d.products}
    assert named - judged == {"devuan", "nixos", "slackware", "freebsd"}


def test_supported_upstream_releases_are_judged_with_the_distribution_too(ctx: IdentifyContext) -> None:
    """Debian 12 is in Debian LTS on AS_OF: its python3.11 is patched by LTS, not by Debian's
    security team -- at best the OS's status."""
    f = finding(ctx, host(DEBIAN_12, dpkg("libpython3.11", "3.11.2-6+deb12u6")), "libpython3.11")
    assert (f.status, f.extended_until) == (Status.EXTENDED, date(2028, 6, 30)) and "+distro" in f.detail.rule


def test_eol_identify_contract_keeps_the_upstream_verdict() -> None:
    record = {"kind": "software", "source": "dpkg", "name": "perl", "version": "5.36.0-7+deb12u3"}
    out = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "eol", "identify", "--as-of", AS_OF.isoformat()],
        input=json.dumps(record) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answer = json.loads(out)
    assert (answer["product"], answer["cycle"], answer["status"]) == ("perl", "5.36", "eol")


def test_the_one_list_per_release_layout_is_read_too() -> None:
    """debian-security-support since 2025: security-support.debN with a status column (lines in the
    shape of trixie's copy)."""
    from scanner.judge.distribution_builds import security_support

    text = (
        "# comment\nrust.*                      limited  See the release notes\n"
        "rust-sequoia-sqv            supported  sequoia sqv is fully supported\n"
        "isc-dhcp                    non-supported   4.4.3-P1-2       2023-07-05  https://example.invalid/x\n"
    )
    support = security_support("debian", "12", {"/usr/share/debian-security-support/security-support.deb12": text})
    assert support is not None
    ended, limited = support.lookup("isc-dhcp")
    assert ended is not None and ended.ended == date(2023, 7, 5) and ended.version == "4.4.3-P1-2"
    assert support.lookup("rust-sequoia-sqv") == (None, None)  # the explicit exception wins
    assert support.lookup("rust-foo")[1] is not None
    assert (
        security_support("debian", "13", {"/usr/share/debian-security-support/security-support.deb12": text}) is None
    )  # another release's list does not apply


# rpm -qa output in RPM_QA's shape (name, epoch:version-release, arch, vendor, packager, signature),
# with the host's imported keys as gpg-pubkey entries (VERSION = short key id, PACKAGER = owner).
# The key ids and owners are the shapes rpm prints; ids ending in the owners' short ids.
RPM_OUTPUT = (
    "gpg-pubkey\t(none):fd431d51-4ae0493b\t(none)\t(none)\tRed Hat, Inc. (release key 2) <security@redhat.com>"
    "\t(none)\n"
    "gpg-pubkey\t(none):2f86d6a1-5cf7cefb\t(none)\t(none)\tFedora EPEL (8) <epel@fedoraproject.org>\t(none)\n"
    "openssl\t1:1.1.1k-12.el8_9\tx86_64\tRed Hat, Inc.\tRed Hat, Inc. <http://bugzilla.redhat.com/bugzilla>"
    "\tRSA/SHA256, Tue 05 Mar 2024 10:11:12 AM UTC, Key ID 199e2f91fd431d51\n"
    # a rebuild that claims Red Hat as vendor, signed with EPEL's key: the signature decides
    "php-cli\t7.2.24-1.el8\tx86_64\tRed Hat, Inc.\tsomeone <s@example.org>"
    "\tRSA/SHA256, Wed 06 Mar 2024 10:11:12 AM UTC, Key ID 21ea45ab2f86d6a1\n"
    # no vendor: the packager names the builder
    "nodejs\t1:14.21.3-1.el8\tx86_64\t(none)\tExample Builds <builds@vendor.example>\t(none)\n"
    # the output of an older bundle: four columns
    "perl\t4:5.26.3-422.el8\tx86_64\tRed Hat, Inc.\n"
)


def test_rpm_signing_key_vendor_and_packager_say_who_built_it(ctx: IdentifyContext) -> None:
    from agents import linux

    packages = {p.name: p for p in linux.parse_rpm_qa(RPM_OUTPUT)}
    assert set(packages) == {"openssl", "php-cli", "nodejs", "perl"}  # keys are not packages
    assert packages["openssl"].origin == "key 199e2f91fd431d51"
    assert packages["nodejs"].publisher == "Example Builds <builds@vendor.example>"
    keys = linux.rpm_signing_keys(RPM_OUTPUT)
    assert keys == {
        "fd431d51": "Red Hat, Inc. (release key 2) <security@redhat.com>",
        "2f86d6a1": "Fedora EPEL (8) <epel@fedoraproject.org>",
    }
    inv = host(RHEL_8, *packages.values())
    inv.os.facts["rpm_keys"] = keys
    assert "rpm_keys" not in inv.os.identify_record()
    ours = finding(ctx, inv, "openssl")
    assert ours.status is Status.SUPPORTED and "+distro.rhel" in ours.detail.rule
    assert ours.detail.evidence["distribution_build"].startswith("signed with 'Red Hat, Inc. (release key 2)")
    forged = finding(ctx, inv, "php-cli")
    assert forged.status is Status.EOL and "+distro" not in forged.detail.rule
    assert "key 21ea45ab2f86d6a1 of 'Fedora EPEL (8)" in forged.detail.reason
    vendor = finding(ctx, inv, "nodejs")
    assert vendor.status is Status.EOL and "Example Builds" in vendor.detail.reason
    old = finding(ctx, inv, "perl")
    assert "+distro.rhel" in old.detail.rule  # the vendor alone, as before
    # the key is not imported on this host: the vendor decides (the signature cannot be told)
    inv.os.facts.pop("rpm_keys")
    assert "+distro.rhel" in finding(ctx, inv, "php-cli").detail.rule
