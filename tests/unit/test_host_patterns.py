"""#19 items 2, 3 and 19 for the patterns a host's own lists carry: Debian's security-support
regular expressions and zypper lifecycle ``/regexp/`` names and ``*`` globs run on the scanner and
on the collector (while a batch is stored, every inventory is judged) against that host's package
names.  Found auditing #19: one line of such a list nested 5,000 deep made ``re.compile`` raise
RecursionError inside ``save_batch``, so ``legacyscan import`` of a folder stored nothing (the
same batch write serves the collector and a fleet scan); a backtracking pattern or a glob of
many stars against a long name hung the judge.

Real files on disk through ``legacyscan import`` and ``legacyscan report`` (SQLite).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.cli import main
from scanner.judge.distribution_data import glob_regex, host_regex, lifecycle_end, parse_lifecycle

# Generous: on the old code the backtracking cases ran for hours; fixed, each is instant.
pytestmark = pytest.mark.timeout(120)

SLES = 'NAME="SLES"\nVERSION="12-SP1"\nVERSION_ID="12.1"\nID="sles"\n'
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION="12 (bookworm)"\n'
DSS = "/usr/share/debian-security-support/security-support-ended.deb12"
DEEP = "(" * 5000 + "a" + ")" * 5000


def _inventory(name: str, os_release: str, facts: dict[str, object], software: list[Software]) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=name, site="North"),
        os=OsInfo(family="linux", name=name, facts={"files": {"/etc/os-release": os_release}, **facts}),
        software=software,
        collected_at="2026-12-01T08:00:00Z",
        inventory_id=name,
    )


def _rpm(name: str) -> Software:
    return Software(name=name, version="1.0-1", source="rpm")


def _deb(name: str) -> Software:
    return Software(name=name, version="1.0-1", source="dpkg", source_package=name)


def _hosts(tmp_path: Path) -> list[Inventory]:
    long_a = "a" * 200
    return [
        _inventory(  # deep nesting: RecursionError in re.compile
            "sles-deep",
            SLES,
            {"suse_lifecycle": f"@@F /usr/share/lifecycle/data/SLES.lifecycle\n/{DEEP}/,*,2020-01-01\n"},
            [_rpm("foo")],
        ),
        _inventory(  # exponential backtracking against this host's own package name
            "sles-redos",
            SLES,
            {"suse_lifecycle": "@@F /usr/share/lifecycle/data/SLES.lifecycle\n/^(a+)+$/,*,2020-01-01\n"},
            [_rpm("a" * 40 + "!")],
        ),
        _inventory(  # a glob of many stars: polynomial in the name's length
            "sles-glob",
            SLES,
            {"suse_lifecycle": "@@F /x.lifecycle\n" + "*a" * 12 + "*b,*,2020-01-01\nkeep-me,*,2020-01-01\n"},
            [_rpm(long_a), _rpm("keep-me")],
        ),
        _inventory("debian-deep", DEBIAN, {"security_support": {DSS: f"{DEEP} 1.0 2020-01-01\n"}}, [_deb("foo")]),
        _inventory(
            "debian-redos",
            DEBIAN,
            {"security_support": {DSS: "(a|aa)*c 0 2020-01-01 backtracks\n"}},
            [_deb("a" * 60)],
        ),
        _inventory("debian-good", DEBIAN, {}, [_deb("bash")]),
    ]


def test_hostile_patterns_in_a_hosts_lists_never_fail_the_batch_nor_hang_the_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    hosts = _hosts(tmp_path)
    for inv in hosts:
        (drop / f"{inv.host.hostname}.json").write_text(inv.to_json())
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    assert main(["import", str(drop), "--db", db]) == 0
    assert f"imported {len(hosts)}, duplicates 0, refused 0" in capsys.readouterr().err
    assert main(["report", "--db", db, "--format", "json", "--as-of", "2026-12-06"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {h["hostname"]: h for s in report["sites"] for h in s["hosts"]}
    assert set(by_name) == {inv.host.hostname for inv in hosts}
    # The same lists, read as the judge reads them: the safe lines still decide their packages.
    [glob_host] = [inv for inv in hosts if inv.host.hostname == "sles-glob"]
    entries = parse_lifecycle(str(glob_host.os.facts["suse_lifecycle"]))
    assert [e.raw for e in entries] == ["*a" * 12 + "*b,*,2020-01-01", "keep-me,*,2020-01-01"]
    hit = lifecycle_end(entries, "keep-me", "1.0-1")
    assert hit is not None and hit.ended == date(2020, 1, 1)
    assert lifecycle_end(entries, "a" * 200, "1.0-1") is None


def test_host_patterns_are_compiled_only_when_safe_to_run() -> None:
    for unsafe in (DEEP, "(a+)+$", "(a|aa)*c", "(.*){2,}", r"(a)\1", "(?P<x>a)(?P=x)", "a.*b.*c.*d.*e", "x" * 600):
        assert host_regex(unsafe) is None, unsafe[:40]
    for real in ("^kernel-.*$", "^hdf5_.*-gnu(.*)-hpc$", "golang.*", "php-horde.*", "linux-(signed-)?.*", "(ab){3}"):
        assert host_regex(real) is not None, real
    # Lifecycle files as zypper reads them: a real regexp line is kept, a nested one skipped.
    entries = parse_lifecycle("@@F /f\n/^kernel-.*$/, 3.12*, 2016-05-01\n/(x+)+/, *, 2016-05-01\n")
    assert [e.raw for e in entries] == ["/^kernel-.*$/, 3.12*, 2016-05-01"]
    assert entries[0].matches("kernel-default", "3.12.51-60.25.1")


@pytest.mark.parametrize(
    ("glob", "text", "expected"),
    [
        ("a*b*c", "abxbc", True),
        ("a*b*c", "abxb", False),
        ("*", "", True),
        ("*-hpc", "hdf5-gnu-hpc", True),
        ("3.12*", "3.12.51-60.25.1", True),
        ("a*a", "a", False),
        ("a*a", "aa", True),
        ("*a*", "bbb", False),
        ("x.y", "xzy", False),
        ("*a" * 12 + "*b", "a" * 200, False),
        ("*a" * 12 + "*b", "a" * 200 + "b", True),
    ],
)
def test_lifecycle_globs_match_whole_names_in_linear_time(glob: str, text: str, expected: bool) -> None:
    assert bool(glob_regex(glob).fullmatch(text)) is expected
