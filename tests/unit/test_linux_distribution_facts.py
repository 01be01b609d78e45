"""Distribution facts as agents report them, without any release text: Ansible
(``ansible_distribution`` / ``ansible_distribution_version``), Facter (``os.name`` /
``os.release.full``), Salt grains (``os`` / ``osrelease``), Chef Ohai (``platform`` /
``platform_version``), osquery's os_version row (``platform`` / ``version``), Wazuh (``os_platform`` /
``os_version``).  They stand in for /etc/os-release's ID and VERSION_ID.  Why: such inventories came
back "no known release file pattern" (hlab5 round 5, probe of agent fact formats); only names the
rules list are read, so a Windows caption under ``name`` or an unversioned testing release stays as it
was."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


def _answer(record: dict[str, Any]) -> tuple[str | None, str | None]:
    out = evaluate({"kind": "os", **record}, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    return out["product"], out["cycle"]


@pytest.mark.parametrize(
    "facts, expected",
    [
        ({"ansible_distribution": "CentOS", "ansible_distribution_version": "7.9"}, ("centos", "7")),
        ({"ansible_distribution": "OracleLinux", "ansible_distribution_version": "8.9"}, ("oracle-linux", "8")),
        ({"os.name": "RedHat", "os.release.full": "8.9", "os.release.major": "8"}, ("rhel", "8")),
        ({"os": "Debian", "osrelease": "12", "oscodename": "bookworm"}, ("debian", "12")),
        ({"platform": "amazon", "platform_version": "2023.5.20240624"}, ("amazon-linux", "2023")),
        ({"name": "Ubuntu", "version": "22.04.3 LTS (Jammy Jellyfish)", "platform": "ubuntu"}, ("ubuntu", "22.04")),
        (
            {"os_name": "Ubuntu", "os_platform": "ubuntu", "os_version": "20.04.6 LTS (Focal Fossa)"},
            ("ubuntu", "20.04"),
        ),
    ],
)
@pytest.mark.parametrize("family", ["linux", None])
def test_agent_distribution_facts_name_the_release(
    facts: dict[str, Any], expected: tuple[str, str], family: str | None
) -> None:
    record = dict(facts) if family is None else {"family": family, **facts}
    assert _answer(record) == expected


def test_nested_facter_facts() -> None:
    # Facter's structured fact, as its JSON output nests it
    record = {"family": "linux", "os": {"name": "RedHat", "release": {"full": "8.9", "major": "8"}}}
    assert _answer(record) == ("rhel", "8")


@pytest.mark.parametrize(
    "facts",
    [
        {"family": "linux", "ansible_distribution": "Debian", "ansible_distribution_version": "bookworm/sid"},
        {"family": "linux", "name": "Gentoo", "version": "2.14"},
    ],
)
def test_facts_without_a_listed_name_or_a_version_stay_unknown(facts: dict[str, Any]) -> None:
    assert _answer(facts) == (None, None)


def test_release_files_win_over_facts() -> None:
    record = {
        "family": "linux",
        "files": {"/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)"},
        "ansible_distribution": "Debian",
        "ansible_distribution_version": "12",
    }
    assert _answer(record) == ("centos", "7")


def test_facts_in_one_label_value_text() -> None:
    # a converter that hands the facts over as one "key: value" text
    blob = "ansible_distribution: CentOS\nansible_distribution_major_version: 7\nansible_distribution_version: 7.1.1503"
    assert _answer({"family": "linux", "facts": blob}) == ("centos", "7")


def test_ansible_centos_stream_is_centos_stream() -> None:
    # Ansible names CentOS Stream "CentOS" with release "Stream" (ansible/ansible #73027)
    record = {
        "family": "linux",
        "ansible_distribution": "CentOS",
        "ansible_distribution_release": "Stream",
        "ansible_distribution_version": "9",
    }
    assert _answer(record) == ("centos-stream", "9")
