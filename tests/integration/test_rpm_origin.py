"""Who built an rpm, told by real rpm: Vendor, Packager and the signing key, read with the probe's own
query (``agents.linux.RPM_QA``) from a real rpm database.

The packages are built here with ``rpmbuild``, signed with ``rpmsign`` (GnuPG keys made for the
test) and installed into a real rpm database, in a Debian root from debootstrap (Debian's ``rpm``
4.x: the same rpm, rpmbuild and rpmsign as an RPM distribution's).  The database then holds what a
RHEL host's does: packages with a vendor, a packager and a header signature, and the signing keys
imported as ``gpg-pubkey`` entries whose PACKAGER is the key owner.  Judged as on a RHEL 8 host:

* a package signed with the distribution's key (its owner's e-mail domain is the distribution's):
  the distribution's build, whatever else it says;
* a package that claims the distribution as its Vendor but is signed with another key: a third
  party's build -- the signature, which only the key holder can make, decides;
* an unsigned package with no vendor and a vendor's packager: a third party's build.
"""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from agents import linux
from agents.inventory import Host, Inventory, OsInfo
from eol_data.catalog import load_default
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import match_inventory
from scanner.model import Policy, Status
from tests.conftest import require_or_skip
from tests.integration import debroot

pytestmark = pytest.mark.integration

RHEL_8 = (
    'NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\n'
    'VERSION_ID="8.9"\nPRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"\n'
)
DISTRO_KEY = "Distribution release key (test) <security@redhat.com>"
VENDOR_KEY = "Example Vendor builds (test) <builds@vendor.example>"
# name, epoch, version, release, vendor, packager, signing key
PACKAGES = (
    (
        "openssl",
        "1",
        "1.1.1k",
        "12.el8_9",
        "Red Hat, Inc.",
        "Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>",
        DISTRO_KEY,
    ),
    (
        "php-cli",
        "",
        "7.2.24",
        "1.el8",
        "Red Hat, Inc.",
        "Red Hat, Inc. <http://bugzilla.redhat.com/bugzilla>",
        VENDOR_KEY,
    ),
    ("nodejs", "1", "14.21.3", "1.el8", "", "Example Vendor builds <builds@vendor.example>", ""),
)
AS_OF = date(2026, 11, 30)


def spec_file(name: str, epoch: str, version: str, release: str, vendor: str, packager: str) -> str:
    lines = [
        f"Name: {name}",
        f"Version: {version}",
        f"Release: {release}",
        "Summary: test package",
        "License: MIT",
        "BuildArch: noarch",
        f"Packager: {packager}",
    ]
    lines += [f"Epoch: {epoch}"] if epoch else []
    lines += [f"Vendor: {vendor}"] if vendor else []
    return "\n".join([*lines, "%description", "A package built by the legacyscan tests.", "%files", ""])


def run(root: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [
            "chroot",
            str(root),
            "env",
            "GNUPGHOME=/root/gnupg",
            "HOME=/root",
            *(f"{k}={v}" for k, v in (env or {}).items()),
            *argv,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


@pytest.fixture(scope="module")
def rpm_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    why = debroot.available()
    if why:
        require_or_skip(why)
    base = debroot.debian_root("trixie", ("gpg", "gpg-agent"))
    with debroot.overlay(base) as root:
        (root / "root/gnupg").mkdir(mode=0o700, parents=True, exist_ok=True)
        for uid in (DISTRO_KEY, VENDOR_KEY):
            run(
                root,
                "gpg",
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                "rsa2048",
                "sign",
                "never",
            )
            run(root, "sh", "-c", f"gpg --armor --export '{uid}' > '/root/{uid[:6]}.asc'")
            run(root, "rpm", "--import", f"/root/{uid[:6]}.asc")
        for name, epoch, version, release, vendor, packager, key in PACKAGES:
            spec = root / f"root/{name}.spec"
            spec.write_text(spec_file(name, epoch, version, release, vendor, packager))
            run(root, "rpmbuild", "-bb", "--define", "_topdir /root/rpmbuild", f"/root/{name}.spec")
            [built] = (root / "root/rpmbuild/RPMS/noarch").glob(f"{name}-{version}-*.rpm")
            inside = "/" + str(built.relative_to(root))
            if key:
                run(root, "rpmsign", "--addsign", "--define", f"_gpg_name {key}", inside)
            run(root, "rpm", "-i", "--nodeps", inside)
        # the probe's own command, as the collector runs it
        return run(root, *linux.RPM_QA)


def test_the_probe_reads_vendor_packager_signature_and_keys(rpm_output: str) -> None:
    packages = {p.name: p for p in linux.parse_rpm_qa(rpm_output)}
    assert set(packages) == {name for name, *_ in PACKAGES}, rpm_output
    assert packages["openssl"].version == "1:1.1.1k-12.el8_9" and packages["php-cli"].version == "7.2.24-1.el8"
    assert packages["openssl"].publisher == "Red Hat, Inc."
    assert packages["nodejs"].publisher == "Example Vendor builds <builds@vendor.example>"  # no vendor
    assert packages["nodejs"].origin == ""  # unsigned
    keys = linux.rpm_signing_keys(rpm_output)
    assert sorted(keys.values()) == sorted((DISTRO_KEY, VENDOR_KEY)), rpm_output
    owner = {v: k for k, v in keys.items()}
    for name, key in (("openssl", DISTRO_KEY), ("php-cli", VENDOR_KEY)):
        assert packages[name].origin.startswith("key ") and packages[name].origin.endswith(owner[key]), rpm_output


def test_the_signature_decides_who_built_it(rpm_output: str) -> None:
    ctx = IdentifyContext(load_default())
    inv = Inventory(
        host=Host(hostname="rhel", machine_id="m-rhel"),
        os=OsInfo(
            family="linux", facts={"files": {"/etc/os-release": RHEL_8}, "rpm_keys": linux.rpm_signing_keys(rpm_output)}
        ),
        software=linux.parse_rpm_qa(rpm_output),
    )
    found = {f.name: f for f in match_inventory(inv, ctx, AS_OF, Policy()).findings if f.kind == "software"}
    ours = found["openssl"]  # upstream OpenSSL 1.1.1 ended 2023; Red Hat patches RHEL 8's until 2029
    assert ours.status is Status.SUPPORTED and ours.detail.rule.endswith("+distro.rhel"), ours.detail.reason
    assert ours.detail.evidence["distribution_build"].startswith(f"signed with {DISTRO_KEY!r}")
    forged = found["php-cli"]  # says "Red Hat, Inc." but signed with the vendor's key
    assert forged.status is Status.EOL and "+distro" not in forged.detail.rule
    assert VENDOR_KEY in forged.detail.reason
    vendor = found["nodejs"]
    assert vendor.status is Status.EOL and "+distro" not in vendor.detail.rule
    assert "Example Vendor builds" in vendor.detail.reason
