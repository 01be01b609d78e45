"""Ubuntu's and SUSE's own per-package support data, read on the host and judged (scanner.judge.distribution_data).

Real data: excerpts of Ubuntu's archive indexes (noble: main, noble-updates main, universe; bionic:
main and universe with their ``Supported:`` fields) and SUSE's ``zypper lifecycle`` data file, in
constructed host roots under tests/fixtures/hosts (see each PROVENANCE.md).  The probe scripts of
``agents.linux`` run here for real (dash and busybox sh, with this machine's awk) on those roots;
their output is parsed and judged by ``scanner.judge.match`` as a scan would.  Expectations are read
from the excerpts independently of the code under test.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from agents import linux
from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.judge.distribution_builds import COMMUNITY, DISTRO, HostOs, distro_verdict, suse_lifecycle
from scanner.judge.distribution_data import (
    add_months,
    lifecycle_end,
    parse_apt_support,
    parse_lifecycle,
    parse_lifecycle_file,
    supported_months,
)
from scanner.judge.match import match_inventory
from scanner.model import Finding, Policy, Status, Verdict

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
NOBLE, BIONIC, SLES = (
    HOSTS / "ubuntu2404-apt" / "files",
    HOSTS / "ubuntu1804-apt" / "files",
    HOSTS / "sles12sp1-lifecycle" / "files",
)
LISTS = "var/lib/apt/lists"
AS_OF = date(2026, 12, 6)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def probe(root: Path, shell: tuple[str, ...] = ("dash",), lists: Path | None = None) -> str:
    """The host's probe, run for real on a constructed root (the same script, its paths moved)."""
    argv = [
        *shell,
        "-c",
        linux.APT_SUPPORT_SCRIPT,
        "sh",
        str(root / "etc/os-release"),
        str(root / "usr/lib/os-release"),
        str(root / "var/lib/dpkg/status"),
        str(lists or root / LISTS),
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
    )  # as the bundle
    assert done.returncode == 0, done.stderr
    return done.stdout


def stanzas(path: Path) -> list[dict[str, str]]:
    """An index or dpkg database read independently of the probe (Python, not awk)."""
    out = []
    for block in path.read_text().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line[0].isspace())
        if fields:
            out.append(fields)
    return out


def inventory(root: Path) -> Inventory:
    files = {"/etc/os-release": (root / "etc/os-release").read_text()}
    return Inventory(
        host=Host(hostname="u", machine_id="m-1", site="Main"),
        os=OsInfo(family="linux", facts={"files": files, "apt_support": probe(root)}),
        software=linux.parse_dpkg_status((root / "var/lib/dpkg/status").read_text()),
    )


def findings(
    ctx: IdentifyContext, inv: Inventory, as_of: date = AS_OF, policy: Policy | None = None
) -> dict[str, Finding]:
    result = match_inventory(inv, ctx, as_of, policy or Policy())
    return {f.name: f for f in result.findings if f.kind == "software"}


# -- the probe on the real excerpts ------------------------------------------------------------


@pytest.mark.parametrize("root", [NOBLE, BIONIC], ids=["noble", "bionic"])
def test_the_probe_reports_every_installed_package_each_index_carries(root: Path) -> None:
    installed = {s["Package"]: s["Version"] for s in stanzas(root / "var/lib/dpkg/status")}
    want, seen = set(), set()  # another version than the installed one: once per package and Origin
    for index in sorted((root / LISTS).glob("*_Packages")):  # (all Ubuntu's here), unless it states Supported
        for st in stanzas(index):
            name = st["Package"]
            if name in installed:
                same, supported = st["Version"] == installed[name], st.get("Supported", "")
                if same or supported or name not in seen:
                    want.add((index.name, name, same, supported))
                seen.add(name)
    for shell in (("dash",), ("busybox", "sh")):
        support = parse_apt_support(probe(root, shell))
        got = {
            (e.index.name, name, e.installed_version, e.supported)
            for name, entries in support.packages.items()
            for e in entries
        }
        assert got == want, shell
        assert {(i.origin, i.suite.split("-")[0]) for i in support.indexes} == {
            ("Ubuntu", "noble" if root is NOBLE else "bionic")
        }


def test_an_index_apt_keeps_compressed_is_read_the_same(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    for f in (NOBLE / LISTS).iterdir():
        if f.name.endswith("_Packages"):
            (lists / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
        else:
            shutil.copy(f, lists / f.name)
    plain, packed = parse_apt_support(probe(NOBLE)), parse_apt_support(probe(NOBLE, lists=lists))
    assert {k: [(e.index.name, e.installed_version) for e in v] for k, v in packed.packages.items()} == {
        k: [(e.index.name + ".gz", e.installed_version) for e in v] for k, v in plain.packages.items()
    }
    assert [(i.origin, i.suite, i.component) for i in packed.indexes] == [
        (i.origin, i.suite, i.component) for i in plain.indexes
    ]


def _awk_over_every_line(root: Path, lists: Path) -> str:
    """The probe's awk fed every line of every index, as the stream the probe's loop builds
    (``@@F`` mark, the decompressed index, a newline; apt's suffix order, each sorted as sh's glob
    is in the C locale): what the probe answered before grep picked awk's lines for it."""
    stream = b""
    for suffix in ("", ".lz4", ".gz", ".xz", ".zst"):
        named = [p for p in lists.iterdir() if p.name.endswith("_Packages" + suffix)]
        for f in sorted(named, key=lambda p: p.name.encode()):
            data = f.read_bytes()
            if suffix == ".gz":
                data = gzip.decompress(data)
            elif suffix:
                raise AssertionError(f"{f}: only plain and gzip indexes are built here")
            stream += b"@@F " + str(f).encode() + b"\n" + data + b"\n"
    done = subprocess.run(
        ["awk", "-v", f"S={root / 'var/lib/dpkg/status'}", linux._APT_AWK],
        input=stream,
        capture_output=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
    )
    return done.stdout.decode()


def test_the_grep_before_awk_changes_no_byte_of_the_answer(tmp_path: Path) -> None:
    """The probe hands awk only the lines it acts on (the indexes are 50-100 MB, mostly other
    fields): its answer is the one awk gives reading every line, on the real excerpts and on
    indexes made awkward on purpose -- a NUL byte and bytes that are not UTF-8 (GNU grep without
    ``-a`` drops what follows), no newline at the end (plain and compressed), a stanza without
    ``Package`` after a blank line, CRLF lines, field names in a continuation line, an ``@@F``
    line inside an index, an empty index."""
    odd = tmp_path / "odd"
    shutil.copytree(NOBLE, odd)
    lists = odd / LISTS
    main = sorted(lists.glob("*_Packages"))
    head = b"Description: bin\0ary \xff\xfe\n\n"
    main[0].write_bytes(
        head
        + main[0].read_bytes()
        + b"\nVersion: 9.9\nSupported: 5y\n\n@@F /elsewhere_Packages\n"
        + b"Package: openssl\r\nVersion: 1\r\n\r\n"
        + b"Package: openssl\nDescription: x\n Version: 7\n Package: nginx-core\nSupported: 9m\nVersion: 0\n\n"
        + b"Package: nginx-core\nVersion: 0\nSupported: 3y"
    )
    main[1].write_bytes(main[1].read_bytes().rstrip(b"\n"))
    (lists / "zz_empty_main_binary-amd64_Packages").write_bytes(b"")
    packed = main[2].with_name(main[2].name + ".gz")
    packed.write_bytes(gzip.compress(main[2].read_bytes() + b"Package: openssl\nVersion: 3.0.13-0ubuntu3.18"))
    main[2].unlink()
    for root in (NOBLE, BIONIC, odd):
        want = _awk_over_every_line(root, root / LISTS)
        assert want.count("\n") > 5 and "\t=\t" in want
        for shell in (("dash",), ("busybox", "sh")):
            assert probe(root, shell) == want, (root, shell)


def test_the_probe_says_nothing_on_a_host_that_is_not_debian_or_ubuntu(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(NOBLE, root)
    for f in ("etc/os-release", "usr/lib/os-release"):
        (root / f).write_text('NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n')  # dpkg installed on Fedora
    assert probe(root) == ""
    derivative = (
        (NOBLE / "etc/os-release")
        .read_text()
        .replace("ID=ubuntu", "ID=linuxmint")
        .replace("ID_LIKE=debian", 'ID_LIKE="ubuntu debian"')
    )
    for f in ("etc/os-release", "usr/lib/os-release"):
        (root / f).write_text(derivative)
    assert "nodejs" in parse_apt_support(probe(root)).packages


def test_index_names_and_supported_periods() -> None:
    support = parse_apt_support(probe(BIONIC))
    assert {i.component for i in support.indexes} == {"main", "universe"}
    assert (supported_months("5y"), supported_months("9m"), supported_months("18m"), supported_months("")) == (
        60,
        9,
        18,
        None,
    )
    assert add_months(date(2018, 4, 26), 36) == date(2021, 4, 26)
    assert add_months(date(2016, 4, 21), 9) == date(2017, 1, 21)
    assert add_months(date(2020, 1, 31), 1) == date(2020, 2, 29)


# -- Ubuntu judged by its archive ---------------------------------------------------------------


def test_noble_main_is_ubuntus_and_universe_keeps_the_upstream_verdict(ctx: IdentifyContext) -> None:
    got = findings(ctx, inventory(NOBLE))
    for name in ("openssl", "nginx-core", "python3.12"):  # main: Canonical's support with the release
        f = got[name]
        assert f.status is Status.SUPPORTED and f.eol == date(2029, 5, 31), name
        assert f.detail.rule.endswith("+distro.ubuntu")
        assert (
            f"main from {NOBLE / LISTS}/archive.ubuntu.com_ubuntu_dists_noble"
            in f.detail.evidence["distribution_build"]
        )
    assert "noble-updates_main" in got["openssl"].detail.evidence["distribution_build"]  # the installed version's
    for name, end in (
        ("nodejs", date(2025, 4, 30)),
        ("redis-server", date(2024, 7, 29)),
        ("golang-1.21-go", date(2024, 8, 13)),
    ):
        f = got[name]  # universe, no Ubuntu Pro: upstream has ended, nobody at Canonical patches it
        assert (f.status, f.eol) == (Status.EOL, end), name
        assert f.detail.rule.endswith("+distro.ubuntu.community")
        assert "universe" in f.detail.evidence["community_build"] and "ESM Apps" in f.detail.reason
    assert got["tomcat10"].status is Status.SUPPORTED and "community_build" in got["tomcat10"].detail.evidence


def test_without_the_index_data_the_verdicts_stay_as_before(ctx: IdentifyContext) -> None:
    inv = inventory(NOBLE)
    inv.os.facts.pop("apt_support")
    got = findings(ctx, inv)
    assert all(f.status is Status.SUPPORTED for f in got.values()), {n: f.status for n, f in got.items()}


def test_ubuntu_pro_esm_apps_covers_universe(ctx: IdentifyContext) -> None:
    """An ESM Apps index in apt's lists (constructed header line: the archive needs a subscription)."""
    inv = inventory(NOBLE)
    esm = (
        "F\t9\t/var/lib/apt/lists/esm.ubuntu.com_apps_ubuntu_dists_noble-apps-security_main_binary-amd64_Packages"
        "\tUbuntuESMApps\tnoble-apps-security\n"
    )
    inv.os.facts["apt_support"] = esm + inv.os.facts["apt_support"]
    got = findings(ctx, inv)
    node = got["nodejs"]
    assert node.status is Status.SUPPORTED and node.detail.rule.endswith("+distro.ubuntu")
    assert "ESM Apps" in node.detail.evidence["distribution_build"]


def test_an_installed_version_only_in_another_vendors_index_is_theirs(ctx: IdentifyContext) -> None:
    inv = inventory(NOBLE)
    ppa = (
        "F\t9\t/var/lib/apt/lists/ppa.launchpadcontent.net_example_ubuntu_dists_noble_main_binary-amd64_Packages"
        "\tLP-PPA-example\tnoble\n9\tnginx-core\t=\t\n"
    )  # constructed: the PPA carries the installed build
    text = inv.os.facts["apt_support"].replace("\tnginx-core\t=\t", "\tnginx-core\t-\t")
    inv.os.facts["apt_support"] = text + ppa
    f = findings(ctx, inv)["nginx-core"]
    assert (f.status, f.eol) == (Status.EOL, date(2024, 4, 23)) and "+distro" not in f.detail.rule
    assert "LP-PPA-example" in f.detail.evidence["third_party_build"]


def test_a_plain_revision_no_ubuntu_index_carries_is_not_ubuntus(ctx: IdentifyContext) -> None:
    """A vendor's .deb installed by hand (constructed: Microsoft-style ``-1`` revision, the vendor as
    maintainer): its version looks like a package Ubuntu synced unchanged from Debian, but no index
    of Ubuntu's on the host carries the name, so Ubuntu's support cannot apply."""
    inv = inventory(NOBLE)
    inv.software.append(
        Software(
            name="dotnet-runtime-6.0",
            version="6.0.36-1",
            source="dpkg",
            arch="amd64",
            publisher="Example Vendor Packaging <builds@vendor.example>",
        )
    )
    f = findings(ctx, inv)["dotnet-runtime-6.0"]
    assert (f.status, f.eol) == (Status.EOL, date(2024, 11, 12)) and "+distro" not in f.detail.rule, f.detail
    assert "Ubuntu archive indexes" in f.detail.evidence["third_party_build"]
    # the indexes' own packages with plain revisions stay Ubuntu's (universe: upstream, never better than the OS)
    assert findings(ctx, inv)["tomcat10"].detail.evidence.get("community_build")


def test_bionic_supported_periods_end_packages_from_the_release_date(ctx: IdentifyContext) -> None:
    inv = inventory(BIONIC)
    early = findings(ctx, inv, date(2020, 6, 1))
    # 5y = the release's own period: with the release
    assert early["openssl"].status is Status.SUPPORTED and early["openssl"].eol == date(2023, 5, 31)
    assert (
        f"Ubuntu Supported: 5y from {BIONIC / LISTS}/archive.ubuntu.com_ubuntu_dists_bionic_main"
        in early["openssl"].detail.reason
    )
    # nodejs 8 ended upstream on 2019-12-31; Ubuntu stated 3y from 2018-04-26
    assert early["nodejs"].status is Status.SUPPORTED and "until 2021-04-26" in early["nodejs"].detail.reason
    assert findings(ctx, inv, date(2021, 1, 1))["nodejs"].status is Status.ENDING_SOON
    late = findings(ctx, inv, date(2021, 6, 1))
    assert (late["nodejs"].status, late["nodejs"].eol) == (Status.EOL, date(2021, 4, 26))
    assert "Ubuntu Supported: 3y" in late["nodejs"].detail.reason
    assert late["openssl"].status is Status.SUPPORTED
    # universe without a Supported field: upstream (Tomcat 8.5 ended 2024-03-31)
    assert findings(ctx, inv, date(2020, 6, 1))["tomcat8"].status is Status.SUPPORTED
    tomcat = findings(ctx, inv, AS_OF)["tomcat8"]
    assert tomcat.status is Status.EOL and "community_build" in tomcat.detail.evidence
    # the release has ended (2023-05-31, no Ubuntu Pro) while upstream Tomcat 8.5 still had fixes
    # (until 2024-03-31): nobody rebuilds bionic's universe any more, so the build ends with the OS
    ended_os = findings(ctx, inv, date(2023, 10, 1))["tomcat8"]
    assert (ended_os.status, ended_os.eol) == (Status.EOL, date(2023, 5, 31)), ended_os.detail.reason
    assert ended_os.detail.rule.endswith("+distro.ubuntu") and "universe" in ended_os.detail.reason
    # ...and with Ubuntu Pro (ESM Infra, no ESM Apps index): at best the OS's extended phase
    pro_ended = findings(ctx, inv, date(2023, 10, 1), Policy(entitlements=frozenset({"ubuntu"})))["tomcat8"]
    assert pro_ended.status is Status.EXTENDED, pro_ended.detail.reason
    # the ended release, with Ubuntu Pro: main is covered (ESM Infra), its 5y period notwithstanding
    pro = findings(ctx, inv, AS_OF, Policy(entitlements=frozenset({"ubuntu"})))
    assert pro["openssl"].status is Status.EXTENDED and pro["python3.6"].status is Status.EXTENDED


# -- SUSE: zypper lifecycle data ---------------------------------------------------------------


def lifecycle_probe(root: Path) -> str:
    dirs = [str(root / d.lstrip("/")) for d in linux.LIFECYCLE_DIRS]
    done = subprocess.run(
        ["dash", "-c", linux.SUSE_LIFECYCLE_SCRIPT, "sh", *dirs],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_lifecycle_file_reads_as_zypper_lifecycle_reads_it() -> None:
    path = SLES / "usr/share/lifecycle/data/SLES.lifecycle"
    entries = parse_lifecycle_file(path.read_text(), str(path))
    assert len(entries) == 7  # every non-comment line
    assert lifecycle_end(entries, "aaa_base", "13.2+git20140911.61c1681-10.1").ended == date(2016, 5, 5)
    assert lifecycle_end(entries, "aaa_base", "13.1-16.1") is None  # the version glob does not match
    kernel = lifecycle_end(entries, "kernel-default", "3.12.51-60.25.1")
    assert kernel is not None and kernel.ended == date(2016, 5, 1) and kernel.raw.startswith("/^kernel-")
    assert lifecycle_end(entries, "kernel-default", "3.12.59-60.41.2") is None
    assert lifecycle_end(entries, "hdf5_1_10_1-gnu-hpc", "1.10.1-1.1") is None  # successor only, no date
    probed = parse_lifecycle(lifecycle_probe(SLES))
    assert [e.raw for e in probed] == [e.raw for e in entries]
    assert probed[0].path.endswith("/usr/share/lifecycle/data/SLES.lifecycle")


def test_a_suse_package_ends_on_its_lifecycle_date() -> None:
    lifecycle = suse_lifecycle("sles", lifecycle_probe(SLES))
    os_ok = Verdict(Status.SUPPORTED, eol=date(2017, 5, 31), reason="General support until 2017-05-31")
    host = HostOs("sles", "SUSE Linux Enterprise Server 12.1", os_ok, lifecycle=lifecycle)
    upstream = Verdict(Status.EOL, eol=date(2015, 1, 1), reason="ended 2015-01-01")
    suse = "SUSE LLC <https://www.suse.com/>"
    kernel = Software(name="kernel-default", version="3.12.51-60.25.1", source="rpm", publisher=suse)
    before = distro_verdict(kernel, "linux", upstream, host, date(2015, 6, 1), Policy())
    assert before is not None and before[1] == DISTRO and before[0].status is Status.SUPPORTED
    assert "until 2016-05-01" in before[0].reason and "SLES.lifecycle" in before[0].reason
    soon = distro_verdict(kernel, "linux", upstream, host, date(2016, 3, 1), Policy())
    assert soon is not None and soon[0].status is Status.ENDING_SOON and soon[0].eol == date(2016, 5, 1)
    after = distro_verdict(kernel, "linux", upstream, host, date(2016, 6, 1), Policy())
    assert after is not None and (after[0].status, after[0].eol) == (Status.EOL, date(2016, 5, 1))
    newer = Software(name="kernel-default", version="3.12.59-60.41.2", source="rpm", publisher=suse)
    kept = distro_verdict(newer, "linux", upstream, host, date(2016, 6, 1), Policy())
    assert kept is not None and kept[0].status is Status.SUPPORTED  # no line for it: the product's life
    vendor = Software(name="kernel-default", version="3.12.51-60.25.1", source="rpm", publisher="Example Vendor")
    third = distro_verdict(vendor, "linux", upstream, host, date(2016, 1, 1), Policy())
    assert third is not None and third[1] not in (DISTRO, COMMUNITY) and third[0] is upstream
    assert suse_lifecycle("ubuntu", lifecycle_probe(SLES)) == ()  # SUSE's data judges SUSE hosts only


# -- RHEL: Application Streams ------------------------------------------------------------------


def test_a_rhel_module_stream_build_says_its_stream_lifecycle_is_not_on_the_host(ctx: IdentifyContext) -> None:
    """RHEL 8's modulemd carries no end date (what a rebuild republishes of it: name, stream,
    artifacts, no ``eol``): the OS verdict stands and the reason says what it cannot know."""
    rhel = (
        'NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\n'
        'VERSION_ID="8.9"\nPRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"\n'
    )
    node = Software(
        name="nodejs", version="1:12.19.1-1.module+el8.3.0+8851+b7b41ca0", source="rpm", publisher="Red Hat, Inc."
    )
    openssl = Software(name="openssl", version="1:1.1.1k-12.el8_9", source="rpm", publisher="Red Hat, Inc.")
    inv = Inventory(
        host=Host(hostname="r", machine_id="m-2", site="Main"),
        os=OsInfo(family="linux", facts={"files": {"/etc/os-release": rhel}}),
        software=[node, openssl],
    )
    got = findings(ctx, inv)
    assert got["nodejs"].detail.rule.endswith("+distro.rhel") and got["nodejs"].status is got["openssl"].status
    assert "module stream build ('.module+el8.3.0')" in got["nodejs"].detail.reason
    assert "module stream" not in got["openssl"].detail.reason


def test_on_linux_mint_mints_own_archive_is_the_distributions(ctx: IdentifyContext) -> None:
    """A Mint host's own index (Release Origin "linuxmint"; constructed header line) is not a third
    party's; on an Ubuntu host the same index would be."""
    mint = (
        'NAME="Linux Mint"\nVERSION="21.3 (Virginia)"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
        'PRETTY_NAME="Linux Mint 21.3"\nVERSION_ID="21.3"\nUBUNTU_CODENAME=jammy\n'
    )
    own = (
        "F\t1\t/var/lib/apt/lists/packages.linuxmint.com_dists_virginia_upstream_binary-amd64_Packages"
        "\tlinuxmint\tvirginia\n1\tnginx-core\t=\t\n"
    )
    for os_release, kind in (
        (mint, "distribution_build"),
        ((NOBLE / "etc/os-release").read_text(), "third_party_build"),
    ):
        inv = Inventory(
            host=Host(hostname="m", machine_id="m-3", site="Main"),
            os=OsInfo(family="linux", facts={"files": {"/etc/os-release": os_release}, "apt_support": own}),
            software=[
                Software(
                    name="nginx-core",
                    version="1.24.0-2ubuntu7",
                    source="dpkg",
                    publisher="Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
                )
            ],
        )
        f = findings(ctx, inv)["nginx-core"]
        assert kind in f.detail.evidence and "linuxmint" in f.detail.evidence[kind], (kind, f.detail)


# -- Debian: the apt index places a package its version cannot ----------------------------------

DEBIAN_12_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
)


def _stanza(name: str, version: str, maintainer: str, status: bool = False) -> str:
    state = "Status: install ok installed\n" if status else ""
    return f"Package: {name}\n{state}Architecture: amd64\nVersion: {version}\nMaintainer: {maintainer}\n\n"


def debian_root(tmp_path: Path) -> Path:
    """A constructed Debian 12 host: packages with plain revisions (a never-updated Debian package,
    one with a pending Debian update, a vendor's repository build, a vendor's .deb installed by
    hand), Debian's index and the vendor's, each with its Release ``Origin`` as apt keeps them."""
    root = tmp_path / "debian"
    lists = root / LISTS
    lists.mkdir(parents=True)
    (root / "usr/lib").mkdir(parents=True)
    (root / "etc").mkdir()
    for f in ("etc/os-release", "usr/lib/os-release"):
        (root / f).write_text(DEBIAN_12_RELEASE)
    (root / "var/lib/dpkg").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dpkg/status").write_text(
        _stanza("libonig5", "6.9.8-1", "A Debian Developer <dd@example.org>", True)
        + _stanza("liblua5.3-0", "5.3.6-1", "A Debian Developer <dd@example.org>", True)
        + _stanza("containerd.io", "1.6.33-1", "Containerd team <help@containerd.io>", True)
        + _stanza("dotnet-runtime-6.0", "6.0.36-1", "Microsoft <nugetaroo@microsoft.com>", True)
    )
    debian, vendor = "mirror.example_debian_dists_bookworm", "vendor.example_linux_debian_dists_bookworm"
    (lists / f"{debian}_InRelease").write_text("Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\n")
    (lists / f"{debian}_main_binary-amd64_Packages").write_text(
        _stanza("libonig5", "6.9.8-1", "A Debian Developer <dd@example.org>")
        + _stanza("liblua5.3-0", "5.3.6-2", "A Debian Developer <dd@example.org>")
        + _stanza("sqlite3", "3.40.1-2+deb12u1", "Laszlo Boszormenyi (GCS) <gcs@debian.org>")
    )
    (lists / f"{vendor}_InRelease").write_text("Origin: Docker\nLabel: Docker CE\nSuite: bookworm\n")
    (lists / f"{vendor}_stable_binary-amd64_Packages").write_text(
        _stanza("containerd.io", "1.6.33-1", "Containerd team <help@containerd.io>")
    )
    return root


def test_on_debian_the_apt_index_tells_a_vendors_plain_revision_from_debians(
    ctx: IdentifyContext, tmp_path: Path
) -> None:
    root = debian_root(tmp_path)
    inv = inventory(root)
    assert inv.os.facts["apt_support"]  # the probe reads a Debian host's indexes too
    got = findings(ctx, inv)
    os_status = match_inventory(inv, ctx, AS_OF, Policy()).os_finding
    assert os_status is not None and os_status.product == "debian"
    # Debian's archive holds the installed version / another version of it: Debian's build
    for name in ("libonig5", "liblua5.3-0"):
        f = got[name]
        assert f.detail.rule.endswith("+distro.debian") and f.status is os_status.status, (name, f.detail.reason)
    assert "mirror.example_debian" in got["libonig5"].detail.evidence["distribution_build"]
    # a vendor's build with the same plain revision: its upstream lifecycle (both have ended)
    for name, where in (("containerd.io", "Origin Docker"), ("dotnet-runtime-6.0", "Debian archive indexes")):
        f = got[name]
        upstream = evaluate(
            {"kind": "software", "source": "dpkg", "name": name, "version": f.version}, ctx, AS_OF, Policy()
        )
        assert "+distro" not in f.detail.rule and f.status.value == upstream["status"] == "eol", (name, f.detail)
        assert where in f.detail.evidence["third_party_build"], f.detail.evidence
    # without the indexes (lists removed, as container images do) the revision is all there is
    inv.os.facts.pop("apt_support")
    assert findings(ctx, inv)["containerd.io"].detail.rule.endswith("+distro.debian")


def test_on_raspbian_its_own_archive_is_the_distributions(ctx: IdentifyContext, tmp_path: Path) -> None:
    """Raspberry Pi OS (32-bit) is judged as the Debian release it follows, and its packages come
    from Raspbian's archive (Release Origin "Raspbian"), rebuilt from Debian's sources: Debian's."""
    root = debian_root(tmp_path)
    for f in ("etc/os-release", "usr/lib/os-release"):
        (root / f).write_text(
            DEBIAN_12_RELEASE.replace("Debian", "Raspbian").replace("ID=debian", "ID=raspbian\nID_LIKE=debian")
        )
    (root / f"{LISTS}/mirror.example_debian_dists_bookworm_InRelease").write_text(
        "Origin: Raspbian\nLabel: Raspbian\nSuite: stable\nCodename: bookworm\n"
    )
    got = findings(ctx, inventory(root))
    f = got["libonig5"]
    assert f.detail.rule.endswith("+distro.debian") and "Origin Raspbian" in f.detail.evidence["distribution_build"]
    assert "third_party_build" in got["containerd.io"].detail.evidence
