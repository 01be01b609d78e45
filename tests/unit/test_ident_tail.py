"""The identification tail (#13): general rules, each with the trap that keeps it honest.

Strings are written here in the shape real hosts report them (os-release fields, rpm NAME/VERSION,
registry DisplayVersion); none is taken from a labelled test set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from eol_data.catalog import load_default
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy

AS_OF = date(2026, 12, 6)


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(load_default())


def os_answer(ctx: IdentifyContext, os_release: str) -> tuple[str | None, str | None, str]:
    out = evaluate({"kind": "os", "family": "linux", "files": {"/etc/os-release": os_release}}, ctx, AS_OF, Policy())
    return out["product"], out["cycle"], out["status"]


@pytest.mark.parametrize(
    "os_release, expected",
    [
        # says it is Fedora, follows Fedora's release: Fedora's lifecycle
        ('NAME="Fedora Linux Asahi Remix"\nID=fedora-asahi-remix\nID_LIKE=fedora\nVERSION_ID=40\n', ("fedora", "40")),
        (
            'NAME="Ubuntu Studio"\nID=ubuntu-studio\nID_LIKE="ubuntu debian"\nVERSION_ID="24.04"\n'
            "UBUNTU_CODENAME=noble\n",
            ("ubuntu", "24.04"),
        ),
        # built from a parent but its own distribution: not the parent's lifecycle
        (
            'NAME="KDE neon"\nID=neon\nID_LIKE="ubuntu debian"\nVERSION_ID="22.04"\nUBUNTU_CODENAME=jammy\n',
            (None, None),
        ),
        # Debian's numbers, not Debian's release (codename differs)
        (
            'NAME="Debian-ish"\nID=debian-ish\nID_LIKE=debian\nVERSION_ID="10"\nVERSION_CODENAME=byzantium\n',
            (None, None),
        ),
        # a version that is no release of the parent
        ('NAME="Fedora Kinoite Spin"\nID=fedora-kinoite-spin\nID_LIKE=fedora\nVERSION_ID=2024.1\n', (None, None)),
        # names its parent, but its VERSION_ID is another product's number (OpenShift 4.14), which
        # PLATFORM_ID contradicts (an EL 9 build): not RHEL 4
        (
            'NAME="Red Hat Enterprise Linux CoreOS"\nID="rhcos"\nID_LIKE="rhel fedora"\n'
            'VERSION="414.92.202402130420-0"\nVERSION_ID="4.14"\nVARIANT_ID=coreos\nPLATFORM_ID="platform:el9"\n',
            (None, None),
        ),
        # ...while a derivative whose PLATFORM_ID agrees is the parent's release
        (
            'NAME="Red Hat Enterprise Linux for SAP Solutions"\nID="rhel-sap"\nID_LIKE="rhel fedora"\n'
            'VERSION_ID="8.6"\nPLATFORM_ID="platform:el8"\n',
            ("rhel", "8"),
        ),
        # tracked by endoflife.date under its own ID, without a rule of ours
        ('NAME="SteamOS"\nID=steamos\nID_LIKE=arch\nVERSION_ID=3.6.20\nBUILD_ID=20241212.1\n', ("steamos", "3")),
    ],
)
def test_derivatives_and_dataset_distributions(
    ctx: IdentifyContext, os_release: str, expected: tuple[str | None, str | None]
) -> None:
    assert os_answer(ctx, os_release)[:2] == expected


@pytest.mark.parametrize(
    "name, version, expected",
    [
        ("jdk1.8", "2000:1.8.0_202-fcs", ("oracle-jdk", "8")),
        ("jre1.8", "1.8.0_401-fcs", ("oracle-jdk", "8")),
        ("jdk-17", "2000:17.0.10-ga", ("oracle-jdk", "17")),
        ("jdk", "2000:1.6.0_45-fcs", ("oracle-jdk", "6")),
        ("java-1.8.0-openjdk-headless", "1:1.8.0.412.b08-2.el8", ("redhat-build-of-openjdk", "8")),
        # the same name built by SUSE / Amazon Linux: the distribution's package (null in the contract)
        ("java-11-openjdk-headless", "11.0.25.0-150000.3.119.1", (None, None)),
        ("java-1.8.0-openjdk", "1.8.0.412.b08-1.amzn2.0.1", (None, None)),
        ("puppet-agent", "7.28.0-1.el8", ("puppet", "7")),
        ("puppetserver", "8.4.0-1.el9", ("puppet", "8")),
        ("puppet-agent", "1.10.14-1.el7", ("puppet", None)),  # agent 1.x bundles Puppet 4: not guessed
        ("default-jdk", "2:1.17-74", (None, None)),
    ],
)
def test_oracle_java_and_puppet_packages(
    ctx: IdentifyContext, name: str, version: str, expected: tuple[str | None, str | None]
) -> None:
    out = evaluate({"kind": "software", "source": "rpm", "name": name, "version": version}, ctx, AS_OF, Policy())
    assert (out["product"], out["cycle"]) == expected, out


def test_internet_explorer_is_judged_with_the_host_os_given_in_the_record(ctx: IdentifyContext) -> None:
    ie = {
        "kind": "software",
        "name": "Internet Explorer",
        "version": "9.11.9600.19036",
        "publisher": "Microsoft Corporation",
    }
    alone = evaluate(ie, ctx, AS_OF, Policy())
    assert alone["status"] == "unknown"  # the channel depends on the host
    on_2012r2 = evaluate(
        {
            **ie,
            "host_os": {
                "family": "windows",
                "caption": "Microsoft Windows Server 2012 R2 Standard",
                "version": "6.3.9600",
            },
        },
        ctx,
        AS_OF,
        Policy(),
    )
    assert (on_2012r2["cycle"], on_2012r2["status"], on_2012r2["eol"]) == ("11-server", "eol", "2023-10-10")
    on_2019 = evaluate(
        {
            **ie,
            "version": "9.11.17763.0",
            "host_os": {
                "family": "windows",
                "caption": "Microsoft Windows Server 2019 Standard",
                "version": "10.0.17763",
            },
        },
        ctx,
        AS_OF,
        Policy(),
    )
    assert (on_2019["status"], on_2019["eol"]) == ("supported", "2029-01-09")  # the OS's end, not 2031
    as_text = evaluate(
        {**ie, "host_os": "Microsoft Windows Server 2008 R2 Enterprise Service Pack 1"}, ctx, AS_OF, Policy()
    )
    assert as_text["cycle"] == "11-server" and as_text["status"] == "eol"


def test_net_framework_is_judged_with_the_host_os_given_in_the_record(ctx: IdentifyContext) -> None:
    """.NET Framework 4.6.2-4.8.1 is a component of Windows, supported with its parent OS: with a
    ``host_os`` the answer is the OS's when the OS is worse off; without one it is the dataset's own
    (4.7.2: no end announced).  The answer's keys are the same."""
    fx = {
        "kind": "software",
        "name": "Microsoft .NET Framework 4.7.2",
        "version": "4.7.03062",
        "publisher": "Microsoft",
    }
    alone = evaluate(fx, ctx, AS_OF, Policy())
    assert (alone["product"], alone["cycle"], alone["status"], alone["eol"]) == ("dotnetfx", "4.7.2", "supported", None)
    on_7 = evaluate({**fx, "host_os": "Microsoft Windows 7 Professional Service Pack 1"}, ctx, AS_OF, Policy())
    assert set(on_7) == set(alone)
    assert (on_7["product"], on_7["cycle"], on_7["status"], on_7["eol"]) == ("dotnetfx", "4.7.2", "eol", "2020-01-14")
    assert "a component of Microsoft Windows 7-sp1, serviced with it" in on_7["reason"]
    on_11 = evaluate(
        {
            **fx,
            "name": "Microsoft .NET Framework 4.8.1",
            "version": "4.8.09032",
            "host_os": {"family": "windows", "caption": "Microsoft Windows 11 Enterprise", "version": "10.0.26100"},
        },
        ctx,
        AS_OF,
        Policy(),
    )
    assert (on_11["cycle"], on_11["status"], on_11["eol"]) == ("4.8.1", "supported", "2027-10-12")
    on_linux = evaluate({**fx, "host_os": "Debian GNU/Linux 12 (bookworm)"}, ctx, AS_OF, Policy())
    assert on_linux == alone  # a component of Windows only
    fx35 = {**fx, "name": "Microsoft .NET Framework 3.5 SP1", "version": "3.5.30729"}
    on_xp = evaluate({**fx35, "host_os": "Microsoft Windows XP Professional Service Pack 3"}, ctx, AS_OF, Policy())
    assert (on_xp["cycle"], on_xp["status"], on_xp["eol"]) == ("3.5-sp1", "eol", "2014-04-08")
    assert evaluate(fx35, ctx, AS_OF, Policy())["eol"] == "2029-01-09"  # its own end, without a host


def test_host_os_context_through_the_cli_contract() -> None:
    record = {
        "kind": "software",
        "name": "Internet Explorer",
        "version": "9.11.9600.19036",
        "host_os": {"family": "windows", "caption": "Microsoft Windows Server 2012 R2 Datacenter"},
    }
    out = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "eol", "identify", "--as-of", AS_OF.isoformat()],
        input=json.dumps(record) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answer = json.loads(out)
    assert (answer["product"], answer["cycle"], answer["status"]) == ("internet-explorer", "11-server", "eol")


@pytest.mark.parametrize(
    "oslevel, status",
    [
        ("7.2.0.0", "unknown"),  # TL0..TL4 ended, TL5 not: which TL decides; never "supported"
        ("7.3.0.0", "unknown"),
        ("6.1.0.0", "eol"),  # every TL of 6.1 has ended: eol whatever the TL
        ("7200-05-07-2320", "supported"),  # the TL is known
    ],
)
def test_aix_without_technology_level_is_never_supported_across_ended_tls(
    ctx: IdentifyContext, oslevel: str, status: str
) -> None:
    out = evaluate({"kind": "os", "family": "aix", "oslevel": oslevel}, ctx, AS_OF, Policy())
    assert out["status"] == status, out
