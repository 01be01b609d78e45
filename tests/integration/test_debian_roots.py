"""Verdicts on real Debian 11, 12 and 13 roots, checked against Debian's own support data.

The roots are built by ``debootstrap`` from Debian's archive (tests/integration/debroot.py, cached),
with packages never updated since their release, ``-defaults`` metapackages (php-cli,
default-jre-headless), OpenJDK, the ``rpm`` tool with no database, and -- in an overlay, so the
cache stays pristine -- one vendor's build made here with ``dpkg-deb`` (no Debian revision, a
vendor's maintainer).  Each root is scanned over its OWN sshd, and every finding is compared with
what Debian's data says, computed independently here:

* which packages are Debian's: the root's own archive index (the Packages list debootstrap
  fetched) has the exact package and version;
* how long Debian supports them: the release's security-support and LTS ends (Debian's release
  data, as the bundled endoflife.date snapshot carries it) and the root's own copy of Debian's
  ``debian-security-support`` lists (packages whose support ended early, per release);
* anything else is a vendor's build: the upstream verdict (``eol identify`` without a host).

Plus the archive-wide check: every package of each release's archive index, judged as installed
on that release while Debian still covers it, is never ``eol`` or ``ending-soon`` unless Debian's
data says so, and never better than Debian's data says.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from agents.linux import parse_dpkg_status
from eol_data.catalog import load_default
from scanner.collect.config import ScanConfig
from scanner.collect.engine import FleetScanner
from scanner.identify.packages import identify as identify_package
from scanner.identify.registry import IdentifyContext, verdict_for
from scanner.judge.distribution_builds import FOLLOWS_UPSTREAM, _by_revision_alone, distribution_for
from scanner.judge.match import match_inventory
from scanner.model import Policy, Status
from scanner.store.sqlite import SqliteStore
from scanner.targets import Target
from tests.conftest import require_or_skip
from tests.integration import debroot

pytestmark = pytest.mark.integration

SUITES = ("bullseye", "bookworm", "trixie")
VENDOR = {
    "Package": "php7.3-cli",
    "Version": "7.3.33",
    "Architecture": "amd64",
    "Maintainer": "Example Vendor Packaging <builds@vendor.example>",
    "Description": "PHP 7.3 command-line interpreter, built by a vendor (test fixture)",
}
# Vendors' builds with a plain Debian-looking revision ("-1"), as Microsoft's and Docker's .debs
# have: only the host's apt indexes tell them from Debian's never-updated packages.  One comes
# from a vendor's repository whose index apt keeps (Release Origin "Example Vendor"), one was
# installed by hand (no index carries it).
REVISIONED = (
    {
        "Package": "containerd.io",
        "Version": "1.6.33-1",
        "Architecture": "amd64",
        "Maintainer": "Containerd team <help@containerd.example>",
        "Description": "containerd runtime, a vendor's repository build (test fixture)",
    },
    {
        "Package": "dotnet-runtime-6.0",
        "Version": "6.0.36-1",
        "Architecture": "amd64",
        "Maintainer": "Example Vendor Packaging <builds@vendor.example>",
        "Description": ".NET runtime, a vendor's .deb installed by hand (test fixture)",
    },
)
VENDOR_LIST = "var/lib/apt/lists/vendor.example_debian_dists_stable"
SUPPORT = "usr/share/debian-security-support"


@pytest.fixture(scope="module")
def roots() -> dict[str, Path]:
    why = debroot.available()
    if why:
        require_or_skip(why)
    return dict(zip(SUITES, debroot.debian_roots([(s, ()) for s in SUITES]), strict=True))


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(load_default())


# -- Debian's own data, read independently of scanner.judge.distribution_builds -----------------------------------


def major(root: Path) -> str:
    return (root / "etc/debian_version").read_text().strip().split(".")[0].split("/")[0]


INDEX_FIELDS = ("Package", "Version", "Architecture", "Maintainer", "Source")


def archive_index(root: Path) -> list[tuple[str, str, str, str, str]]:
    """(Package, Version, Architecture, Maintainer, Source) of every stanza of the release's
    Packages list(s) that debootstrap fetched into the root.  Read line by line, keeping only these
    fields: the lists are ~70 MB, and a test process that grows large makes every later child
    process look large to tests that measure their children's peak memory."""
    out = []
    for path in sorted((root / "var/lib/apt/lists").glob("*_Packages")):
        fields: dict[str, str] = {}
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line == "\n":
                    if "Package" in fields:
                        out.append(tuple(fields.get(k, "") for k in INDEX_FIELDS))
                    fields = {}
                    continue
                key, sep, value = line.partition(":")
                if sep and key in INDEX_FIELDS:
                    fields[key] = value.strip()
        if "Package" in fields:
            out.append(tuple(fields.get(k, "") for k in INDEX_FIELDS))
    assert out, f"no archive index in {root}"
    return out  # type: ignore[return-value]


def ended_list(root: Path) -> list[tuple[str, date]]:
    """Debian's list of packages whose security support ended early on this root's release:
    (source regex, date ended).  ``security-support.debN`` (``non-supported`` lines) where the
    root's debian-security-support has it, else the older ``security-support-ended.debN``."""
    combined = root / SUPPORT / f"security-support.deb{major(root)}"
    out = []
    if combined.is_file():
        for line in combined.read_text().splitlines():
            parts = line.split()
            if (
                len(parts) >= 4
                and not line.startswith("#")
                and parts[1] == "non-supported"
                and re.fullmatch(r"\d{4}-\d\d-\d\d", parts[3])
            ):
                out.append((parts[0], date.fromisoformat(parts[3])))
        return out
    path = root / SUPPORT / f"security-support-ended.deb{major(root)}"
    for line in path.read_text().splitlines() if path.is_file() else []:
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#") and re.fullmatch(r"\d{4}-\d\d-\d\d", parts[2]):
            out.append((parts[0], date.fromisoformat(parts[2])))
    return out


def debian_says(ctx: IdentifyContext, root: Path, source: str, as_of: date, lookahead: int = 180) -> Status:
    """Debian's answer for a package of this release built from ``source`` on ``as_of``."""
    release = ctx.catalog.release("debian", major(root))
    assert release is not None and release.eol_date is not None
    security_end, lts_end = release.eol_date, release.eoes_date
    early = next((when for pattern, when in ended_list(root) if re.fullmatch(pattern, source)), None)
    if early is not None and early <= as_of:
        return Status.EOL
    if lts_end is not None and as_of > lts_end:
        return Status.EOL
    if as_of > security_end:
        return Status.EXTENDED  # Debian LTS: free, counts without a declaration
    if early is not None and early - as_of <= timedelta(days=lookahead):
        return Status.ENDING_SOON
    if security_end - as_of <= timedelta(days=lookahead):
        return Status.ENDING_SOON
    return Status.SUPPORTED


def upstream_says(ctx: IdentifyContext, sw: Software, as_of: date) -> Status:
    ident = ctx.identify(sw.identify_record())
    return verdict_for(ident, ctx, as_of, Policy()).status


# -- the vendor's build and the scan ------------------------------------------------------------


def vendor_deb(tmp: Path, control: dict[str, str] = VENDOR) -> Path:
    name = control["Package"]
    tree = tmp / f"vendor-{name}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / f"usr/share/doc/{name}").mkdir(parents=True)
    (tree / f"usr/share/doc/{name}/README").write_text("vendor build\n")
    (tree / "DEBIAN/control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()))
    deb = tmp / f"{name}_{control['Version']}_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def add_vendor_index(root: Path) -> None:
    """The vendor's repository as apt keeps it after ``apt-get update``: its Release file and
    Packages list, carrying the first of ``REVISIONED``."""
    (root / f"{VENDOR_LIST}_InRelease").write_text("Origin: Example Vendor\nLabel: Example Vendor\nSuite: stable\n")
    stanza = "".join(f"{k}: {v}\n" for k, v in REVISIONED[0].items())
    (root / f"{VENDOR_LIST}_main_binary-amd64_Packages").write_text(stanza + "\n")


@pytest.fixture(scope="module")
def scanned(roots: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Each root (plus the vendor's package, in an overlay) scanned over its own sshd."""
    tmp = tmp_path_factory.mktemp("debian-roots")
    debs = [vendor_deb(tmp), *(vendor_deb(tmp, c) for c in REVISIONED)]
    out: dict[str, Any] = {}
    for n, suite in enumerate(SUITES):
        with debroot.overlay(roots[suite]) as root:
            for deb in debs:
                (root / "tmp" / deb.name).write_bytes(deb.read_bytes())
                subprocess.run(["chroot", str(root), "dpkg", "-i", f"/tmp/{deb.name}"], check=True, capture_output=True)
            add_vendor_index(root)
            server = debroot.start_root_sshd(root, f"127.0.0.{60 + n}")
            try:
                store = SqliteStore(str(tmp / f"{suite}.db"))
                config = ScanConfig(
                    concurrency=1,
                    timeout=30.0,
                    connect_timeout=10.0,
                    ssh_user=server.user,
                    ssh_key=str(server.client_key),
                    known_hosts=str(server.known_hosts),
                    use_agent=False,
                )
                summary = FleetScanner(store, config).run(
                    [Target(host=server.address, port=server.port, site="Real roots")]
                )
                store.close()
            finally:
                server.stop()
            out[suite] = {"summary": summary, "root": roots[suite]}
    yield out


AS_OF_DATES = (date(2026, 3, 1), date(2026, 12, 6), date(2028, 7, 15))


@pytest.mark.parametrize("suite", SUITES)
def test_every_finding_on_a_real_root_is_what_debian_says(
    suite: str, scanned: dict[str, Any], ctx: IdentifyContext
) -> None:
    summary, root = scanned[suite]["summary"], scanned[suite]["root"]
    # the rpm tool with no database is "no rpm packages", not a failed probe
    assert summary.by_status == {"ok": 1}, [(s.target, s.error) for s in summary.statuses]
    [inv] = summary.inventories
    installed = debroot.installed_packages(root)
    vendors = {(c["Package"], c["Version"]) for c in (VENDOR, *REVISIONED)}
    assert {(s.name, s.version) for s in inv.software if s.source == "dpkg"} == set(installed.items()) | vendors
    # the host's apt indexes were read: Debian's, and the vendor's
    assert "\tDebian\t" in inv.os.facts["apt_support"] and "\tExample Vendor\t" in inv.os.facts["apt_support"]
    debian_built = {(p[0], p[1]) for p in archive_index(root)}
    assert not vendors & debian_built
    for as_of in AS_OF_DATES:
        result = match_inventory(inv, ctx, as_of, Policy())
        os_finding = result.os_finding
        assert os_finding is not None and os_finding.product == "debian" and os_finding.cycle == major(root)
        assert os_finding.status is debian_says(ctx, root, "", as_of), (suite, as_of)
        # what each identified package should be, then the worst per product release
        expected: dict[tuple[str | None, str | None], tuple[Status, list[str]]] = {}
        for sw in inv.software:
            ident = ctx.identify(sw.identify_record())
            if ident.product is None:
                continue
            if (sw.name, sw.version) in debian_built:
                want = debian_says(ctx, root, sw.source_package or sw.name, as_of)
            else:
                want = upstream_says(ctx, sw, as_of)
            key = (ident.product, ident.cycle)
            status, names = expected.get(key, (Status.UNKNOWN, []))
            expected[key] = (want if want.severity > status.severity else status, [*names, sw.name])
        got = {(f.product, f.cycle): f for f in result.findings if f.kind == "software"}
        assert set(got) == set(expected), (suite, as_of)  # nothing missed, nothing invented
        wrong = {
            key: (got[key].name, got[key].status.value, want.value, names)
            for key, (want, names) in expected.items()
            if got[key].status is not want
        }
        assert not wrong, (suite, as_of, wrong)
    # the package set really covers what the issue is about
    products = {(f.product, f.name) for f in match_inventory(inv, ctx, AS_OF_DATES[1], Policy()).findings}
    assert any(p == "php" for p, _ in products) and any(p == "sqlite" for p, _ in products)
    assert any(p == "apache-http-server" for p, _ in products)
    if suite == "bullseye":  # default-jre-headless brings Debian's OpenJDK 11: reported, judged by Debian
        jdk = next(f for f in match_inventory(inv, ctx, AS_OF_DATES[1], Policy()).findings if f.product == "openjdk")
        assert jdk.cycle == "11" and jdk.detail.rule.endswith("+distro.debian"), jdk.detail
    vendor = next(
        f
        for f in match_inventory(inv, ctx, AS_OF_DATES[1], Policy()).findings
        if f.product == "php" and f.cycle == "7.3"
    )
    assert vendor.status is Status.EOL and "third_party_build" in vendor.detail.evidence
    # the vendors' plain "-1" revisions are not taken for Debian's: the index says whose they are
    now = match_inventory(inv, ctx, AS_OF_DATES[1], Policy())
    for control, where in zip(REVISIONED, ("Origin Example Vendor", "archive indexes"), strict=True):
        f = next(f for f in now.findings if f.name == control["Package"])
        assert f.status is Status.EOL and where in f.detail.evidence.get("third_party_build", ""), f.detail


def test_two_roots_on_one_address_are_two_hosts(roots: dict[str, Path], tmp_path: Path) -> None:
    """No machine-id, same hostname, same address, different ports: two machines, two hosts."""
    for suite in ("bullseye", "bookworm"):  # minbase without systemd: no machine-id at all
        assert (
            not (roots[suite] / "etc/machine-id").exists() and not (roots[suite] / "var/lib/dbus/machine-id").exists()
        )
    servers = [debroot.start_root_sshd(roots[s], "127.0.0.70") for s in ("bullseye", "bookworm")]
    try:
        known = tmp_path / "known_hosts"
        known.write_text("".join(s.known_hosts.read_text() for s in servers))
        keys = tmp_path / "keys"
        keys.mkdir()
        store = SqliteStore(str(tmp_path / "two.db"))
        results = []
        for server in servers:  # one key each: scan each with its own key
            config = ScanConfig(
                concurrency=1,
                timeout=30.0,
                connect_timeout=10.0,
                ssh_user=server.user,
                ssh_key=str(server.client_key),
                known_hosts=str(known),
                use_agent=False,
            )
            results.append(FleetScanner(store, config).run([Target(host=server.address, port=server.port, site="Two")]))
        assert [r.by_status for r in results] == [{"ok": 1}, {"ok": 1}]
        invs = [r.inventories[0] for r in results]
        assert invs[0].host.hostname == invs[1].host.hostname  # both roots carry the build host's name
        assert invs[0].host.machine_id != invs[1].host.machine_id
        stored = store.latest_inventories("Two")
        assert len(stored) == 2 and {i.os.version for i in stored} == {i.os.version for i in invs}
        store.close()
    finally:
        for s in servers:
            s.stop()


@pytest.mark.parametrize("suite", SUITES)
def test_even_a_minimal_root_holds_debian_builds_only_the_apt_index_places(suite: str, roots: dict[str, Path]) -> None:
    """Why the apt-support probe reads the indexes on every Debian host, not only where dpkg's
    database names a package the judge needs them for (docs/architecture.md): a debootstrap minbase
    already holds Debian's own builds that nothing but the index places -- a plain revision, no
    Debian mark, a personal maintainer address (the judge's own predicate) -- and the root's
    archive index carries their installed version."""
    root = roots[suite]
    debian = distribution_for("debian", "dpkg")
    assert debian is not None
    in_index = {(name, version) for name, version, *_ in archive_index(root)}
    placed_by_index = sorted(
        sw.name
        for sw in parse_dpkg_status((root / "var/lib/dpkg/status").read_text())
        if _by_revision_alone(debian, sw) and (sw.name, sw.version) in in_index
    )
    assert len(placed_by_index) >= 5, placed_by_index
    assert "libcrypt1" in placed_by_index


@pytest.mark.parametrize("suite", SUITES)
def test_no_package_of_the_archive_is_judged_ended_while_debian_supports_it(
    suite: str, roots: dict[str, Path], ctx: IdentifyContext
) -> None:
    root = roots[suite]
    os_release = (root / "etc/os-release").read_text()
    support = {f"/{SUPPORT}/{p.name}": p.read_text() for p in (root / SUPPORT).glob("security-support*")}
    index = archive_index(root)
    # a date while the release is still covered (bullseye's LTS ended 2026-08-31; after that every
    # package is rightly eol and the check would prove nothing)
    as_of = AS_OF_DATES[0] if suite == "bullseye" else AS_OF_DATES[1]
    counts: dict[str, int] = {}
    false_alarms, misses = [], []
    for package, version, arch, maintainer, source in index:
        sw = Software(
            name=package,
            version=version,
            source="dpkg",
            arch=arch,
            publisher=maintainer,
            source_package=source.split(" (")[0],
        )
        ident = identify_package(sw.identify_record(), ctx)  # not memoised: 60,000+ names once each
        if ident.product is None:
            continue
        inv = Inventory(
            host=Host(hostname="archive", machine_id="archive"),
            os=OsInfo(family="linux", facts={"files": {"/etc/os-release": os_release}, "security_support": support}),
            software=[sw],
        )
        [finding] = [f for f in match_inventory(inv, ctx, as_of, Policy()).findings if f.kind == "software"]
        counts[finding.status.value] = counts.get(finding.status.value, 0) + 1
        says = debian_says(ctx, root, sw.source_package or sw.name, as_of)
        if ident.product in FOLLOWS_UPSTREAM:
            # browsers: Debian ships each new upstream release rather than patching an old one, so
            # a release upstream has ended is out of date whoever built it (the archive index can
            # lag the dataset's date; the installed copy is then genuinely unpatched)
            upstream = upstream_says(ctx, sw, as_of)
            says = upstream if upstream.severity > says.severity else says
        if finding.status in (Status.EOL, Status.ENDING_SOON) and says.severity < finding.status.severity:
            false_alarms.append((sw.name, sw.version, finding.status.value, says.value, finding.detail.reason))
        if finding.status.severity < says.severity:  # every package here is Debian's: never better than Debian says
            misses.append((sw.name, sw.version, finding.status.value, says.value, finding.detail.reason))
    print(f"{suite}: {len(index)} packages in the archive index, {sum(counts.values())} tracked products: {counts}")
    assert sum(counts.values()) > 50  # the check really covered the release's products
    assert not false_alarms, false_alarms
    assert not misses, misses
