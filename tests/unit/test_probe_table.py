"""The probe table (agents/probes.py) is the one spelling of what legacyscan reads on a Unix host.

The SSH bundle, the sh agent's body and the collectors' reads are derived from it; its data (which
rows a host must answer, which rows identify a machine) is checked here against what the collectors
actually do with a host that lacks a row.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import pytest

from agents import bundle, hardware, linux, probes
from agents.collect import Collector
from agents.inventory import Problem
from agents.shell import CommandResult, ReplayShell


def test_rows_are_commands_or_files_with_unique_ids_and_known_platforms() -> None:
    ids = [p.id for p in probes.UNIX_PROBES]
    assert len(ids) == len(set(ids))
    for row in probes.UNIX_PROBES:
        assert bool(row.argv) != bool(row.paths), row.id
        assert set(row.platforms) <= set(probes.PLATFORM_NAMES), row.id
        assert set(row.required_on) <= set(row.platforms or probes.PLATFORM_NAMES), row.id
        assert row.parser is None or callable(row.parser), row.id
        assert not row.grep or row.paths, row.id  # a filter applies to files
        assert not row.unless_readable or row.argv, row.id
        assert all(isinstance(word, str) for word in row.argv + row.paths), row.id


def test_the_bundle_is_built_from_the_table_and_unchanged() -> None:
    """Every batched row, in table order; the script is byte for byte the one of before the table
    (so the sh agent and the SSH scan send exactly what they sent)."""
    assert bundle.COMMANDS == [
        (list(p.argv), probes.case_pattern(p.platforms) or None) for p in probes.UNIX_PROBES if p.argv and p.batched
    ]
    assert bundle.FILES == [path for p in probes.UNIX_PROBES if p.paths for path in p.paths]
    assert probes.file_filters() == {linux.DPKG_STATUS: linux.DPKG_STATUS_FIELDS}
    assert probes.command_guards() == {shlex.join(linux.DPKG_QUERY): linux.DPKG_STATUS}
    assert bundle.PLATFORMS[shlex.join(linux.RPM_QA)] == 'Linux|""'
    assert bundle.PLATFORMS[shlex.join(["uname", "-srvm"])] == "AIX|SunOS|FreeBSD|DragonFly|OpenBSD|NetBSD"
    assert shlex.join(["uname", "-srm"]) not in bundle.PLATFORMS  # every host
    script = bundle.probe_script("B")
    assert hashlib.sha256(script.encode()).hexdigest() == (
        "0bd4c089d59b3718bb9ad11d168d901c96e5d7afa7f118e9ddbd6cb4e9399c1d"
    ), "the bundle changed: if on purpose, regenerate the sh agent and update this digest"


def test_unbatched_rows_stay_out_of_the_bundle() -> None:
    sent = {shlex.join(argv) for argv, _ in bundle.COMMANDS}
    for row in probes.UNIX_PROBES:
        if row.argv:
            assert (shlex.join(row.argv) in sent) == row.batched, row.id


def test_dmi_rows_are_the_files_hardware_reads() -> None:
    dmi = [p for p in probes.UNIX_PROBES if p.id.startswith("dmi-")]
    assert [p.paths[0] for p in dmi] == [f"{hardware.DMI}/{n}" for n in hardware.DMI_NAMES]
    assert [p.id for p in dmi if p.identifies] == ["dmi-product_serial"]


def test_identifying_rows() -> None:
    assert {p.id for p in probes.UNIX_PROBES if p.identifies} == {
        "hostname",
        "etc-hostname",
        "machine-id",
        "dmi-product_serial",
        "ioreg",
    }


# -- ``required_on``: checked against what the collectors record for a host that lacks a row ----------

MAC_PROFILE_EMPTY = ""  # system_profiler answers, lists nothing: the info-plist fallback is asked too
BASE: dict[str, dict[str, str]] = {
    "Linux": {
        "uname": "Linux 6.1.0-13-amd64 x86_64\n",
        "hostname": "ward7-pc\n",
        "dpkg-query": "bash\t5.2.15-2+b2\tamd64\tii \tDebian\t\t\n",
        "rpm": "",
        "apt-support": "",
        "suse-lifecycle": "",
        "sysname": "Linux\n",
        "os-release": 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
        "cpuinfo": "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5\n",
        "meminfo": "MemTotal:       16318480 kB\n",
    },
    "Darwin": {
        "uname": "Darwin 22.6.0 x86_64\n",
        "hostname": "lab-mac\n",
        "sysname": "Darwin\n",
        "sw_vers": "ProductName:\tmacOS\nProductVersion:\t13.6.1\nBuildVersion:\t22G313\n",
        "sysctl": "MacBookPro16,1\n17179869184\n12\n",
        "ioreg": '"IOPlatformUUID" = "0F3E"\n',
        "system_profiler": MAC_PROFILE_EMPTY,
        "info-plist": "Safari\t17.1\tcom.apple.Safari\tSafari.app\n",
    },
    "AIX": {
        "sysname": "AIX\n",
        "unix-uname": "AIX 2 7 00F9C1964C00\n",
        "hostname": "lab-aix\n",
        "oslevel": "7200-05-03-2148\n",
        "lslpp": "bos:bos.rte:7.2.5.0: : :C: :Base Operating System Runtime\n",
    },
    "SunOS": {  # Solaris 10: no pkg(1), so pkginfo is asked
        "sysname": "SunOS\n",
        "unix-uname": "SunOS 5.10 Generic_150400-65 sun4v\n",
        "hostname": "sol10\n",
        "pkginfo": "   PKGINST:  SUNWbash\n   VERSION:  11.10.0\n",
        "solaris-release": "Oracle Solaris 10 1/13 s10s_u11wos_24a SPARC\n",
    },
    "FreeBSD": {
        "sysname": "FreeBSD\n",
        "unix-uname": "FreeBSD 13.2-RELEASE-p4 GENERIC amd64\n",
        "hostname": "fbsd\n",
        "freebsd-version": "13.2-RELEASE-p9\n",
        "pkg-query": "openssl 3.0.12,1\n",
    },
    "OpenBSD": {
        "sysname": "OpenBSD\n",
        "unix-uname": "OpenBSD 7.4 GENERIC.MP#1397 amd64\n",
        "hostname": "obsd\n",
        "pkg_info": "python-3.10.13p0    interpreted language\n",
    },
}


def _host(tmp_path: Path, answers: dict[str, str]) -> ReplayShell:
    commands: dict[str, dict[str, object]] = {}
    for probe_id, text in answers.items():
        row = probes.probe(probe_id)
        if row.argv:
            commands[" ".join(row.argv)] = {"exit_code": 0, "stdout": text}
        else:
            target = tmp_path / "files" / row.paths[0].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
    return ReplayShell(tmp_path, commands=commands)


def _missing(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.kind == "missing"]


@pytest.mark.parametrize("platform", sorted(BASE))
def test_required_on_says_which_absences_the_collector_records(platform: str, tmp_path: Path) -> None:
    base = BASE[platform]
    full = Collector(_host(tmp_path / "full", base)).collect()
    assert full.os.family != "unknown" and full.software, full.problems
    assert _missing(full.problems) == []  # the rows this host lacks are optional on it
    lacking_required = [
        p.id for p in probes.UNIX_PROBES if p.concerns(platform) and p.id not in base and platform in p.required_on
    ]
    assert lacking_required == []
    checked = 0
    for probe_id in base:
        row = probes.probe(probe_id)
        lacking = Collector(_host(tmp_path / probe_id, {k: v for k, v in base.items() if k != probe_id})).collect()
        recorded = bool(_missing(lacking.problems))
        assert recorded == (platform in row.required_on), (platform, probe_id, lacking.problems)
        checked += 1
    assert checked == len(base)


def test_prepare_answers_the_table_in_one_round_trip_on_a_batching_shell() -> None:
    class Batching:
        name = "ssh"
        lost = False

        def __init__(self) -> None:
            self.truncated: list[str] = []
            self.preloads: list[tuple[list[list[str]], list[str], dict[str, object]]] = []
            self.cache: dict[str, CommandResult] = {"uname -srm": CommandResult(0, "Linux 6.1 x86_64\n")}

        def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
            return self.cache.get(shlex.join(argv), CommandResult(127, ""))

        def read_text(self, path: str) -> str | None:
            return None

        def preload(self, commands, files, timeout=None, **kw):  # type: ignore[no-untyped-def]
            self.preloads.append((list(commands), list(files), kw))

        def remember(self, argv: list[str], result: CommandResult) -> None:
            self.cache[shlex.join(argv)] = result

        def close(self) -> None:
            pass

    shell = Batching()
    probes.prepare(shell, 5.0)  # type: ignore[arg-type]
    assert len(shell.preloads) == 1
    commands, files, kw = shell.preloads[0]
    assert commands == [argv for argv, _ in bundle.COMMANDS] and files == bundle.FILES
    assert kw == {
        "filters": probes.file_filters(),
        "unless_readable": probes.command_guards(),
        "platforms": bundle.PLATFORMS,
    }
    assert shell.run(["uname", "-s"]).stdout == "Linux\n"  # derived from uname -srm: no process


def test_capture_asks_the_rows_of_the_platform_and_leaves_identifiers_out(tmp_path: Path) -> None:
    shell = _host(tmp_path, BASE["Linux"] | {"machine-id": "0123456789abcdef\n", "etc-hostname": "ward7-pc\n"})
    evidence = probes.capture(shell, "Linux")
    assert evidence.platform == "Linux"
    assert "uname -n" not in evidence.commands and "/etc/machine-id" not in evidence.files
    assert set(evidence.left_out) == {"hostname", "machine-id", "etc-hostname", "dmi-product_serial"}
    assert "sw_vers" not in evidence.commands and "pkg_info" not in evidence.commands  # other platforms
    assert evidence.files["/etc/os-release"] == BASE["Linux"]["os-release"]
    assert evidence.commands[" ".join(linux.DPKG_QUERY)]["stdout"] == BASE["Linux"]["dpkg-query"]
    kept = probes.capture(shell, "Linux", keep_identifiers=True)
    assert kept.files["/etc/machine-id"] == "0123456789abcdef\n" and kept.left_out == []
    assert json.loads(json.dumps(kept.commands)) == kept.commands  # a fixture is JSON


# -- a fixture recorded by ``legacyscan capture`` replays through the real Collector --------------------

CAPTURED = Path(__file__).resolve().parents[2] / "tests/fixtures/hosts/debian11-minbase-ssh-capture"


def test_a_captured_fixture_holds_only_answers_to_the_table() -> None:
    from agents.capture import SCHEMA, read_provenance

    meta = read_provenance(CAPTURED)
    assert meta["schema"] == SCHEMA and meta["platform"] == "Linux" and meta["transport"] == "ssh"
    rows = [p for p in probes.UNIX_PROBES if p.concerns(meta["platform"])]
    assert meta["probes"] == [p.id for p in rows if p.id in meta["probes"]]  # table order
    assert set(meta["left_out"]) == {p.id for p in rows if p.identifies}
    commands = json.loads((CAPTURED / "commands.json").read_text("utf-8"))
    assert set(commands) <= {" ".join(p.argv) for p in rows if p.argv}
    assert "dpkg-query" not in meta["probes"]  # its database was readable: not asked
    files = {"/" + str(f.relative_to(CAPTURED / "files")) for f in (CAPTURED / "files").rglob("*") if f.is_file()}
    assert files and files <= {path for p in rows for path in p.paths}


def test_a_captured_fixture_replays_to_the_hosts_inventory() -> None:
    inv = Collector(ReplayShell(CAPTURED), site="lab").collect()
    assert inv.os.family == "linux" and inv.os.name == "Debian GNU/Linux 11 (bullseye)" and inv.os.version == "11"
    assert inv.os.kernel and inv.os.arch == "x86_64"
    status = (CAPTURED / "files/var/lib/dpkg/status").read_text("utf-8")
    installed = sum(line == "Status: install ok installed" for line in status.splitlines())
    assert installed > 200 and len(inv.software) == installed
    assert {s.source for s in inv.software} == {"dpkg"}
    assert inv.host.hostname == "" and inv.host.machine_id.startswith("derived-")  # left out by capture
    assert inv.hardware.memory_bytes and inv.hardware.cpu_model
    assert [p for p in inv.problems if p.kind != "missing"] == []
    assert "\tDebian\toldoldstable" in inv.os.facts["apt_support"]  # the root's apt index, read on Debian too


def test_problems_keep_the_names_inventories_always_carried(tmp_path: Path) -> None:
    """A row's ``label`` is the probe name written in an inventory's problems (uname -srvm is
    "uname", Solaris's and FreeBSD's pkg are "pkg"), so stored problems read as before the table."""
    fbsd = dict(BASE["FreeBSD"])
    del fbsd["unix-uname"]
    shell = _host(tmp_path / "f", fbsd)
    shell._commands[" ".join(probes.command("pkg-query"))] = {"exit_code": 1, "stderr": "pkg: database locked"}
    inv = Collector(shell).collect()
    assert Problem("uname", "uname not found", "missing") in inv.problems
    assert Problem("pkg", "pkg: database locked") in inv.problems
    sol = {k: v for k, v in BASE["SunOS"].items() if k != "pkginfo"}
    inv = Collector(_host(tmp_path / "s", sol)).collect()
    assert [p for p in inv.problems if p.kind == "missing"] == [Problem("pkginfo", "pkginfo not found", "missing")]


class Recording:
    """A shell that notes every ask, answering from another."""

    def __init__(self, inner: ReplayShell) -> None:
        self.inner = inner
        self.name = inner.name
        self.asked: set[str] = set()

    def run(self, argv: list[str], timeout: float = 60.0) -> CommandResult:
        self.asked.add(" ".join(argv))
        return self.inner.run(argv, timeout)

    def read_text(self, path: str) -> str | None:
        self.asked.add(path)
        return self.inner.read_text(path)


RPM_HOST = {**BASE["Linux"], "rpm": "bash\t0:5.1.8-6.el9\tx86_64\tRed Hat, Inc.\tRed Hat, Inc.\t(none)\n"}


@pytest.mark.parametrize("platform", sorted(BASE))
def test_the_collectors_ask_nothing_outside_the_table(platform: str, tmp_path: Path) -> None:
    """Whatever a collector asks of a host is a row of the table concerning that host (over SSH
    anything else would cost a round trip of its own), and every such row is asked of some host."""
    rows = [p for p in probes.UNIX_PROBES if p.concerns(platform)]
    spelled = {" ".join(p.argv) for p in rows if p.argv} | {path for p in rows for path in p.paths}
    asked: set[str] = set()
    for n, answers in enumerate([BASE[platform]] + ([RPM_HOST] if platform == "Linux" else [])):
        shell = Recording(_host(tmp_path / str(n), answers))
        Collector(shell).collect()  # type: ignore[arg-type]
        assert shell.asked <= spelled, shell.asked - spelled
        asked |= shell.asked
    never = {p.id for p in rows if not ({" ".join(p.argv)} | set(p.paths)) & asked}
    # uname -srm runs on every host in the bundle so that uname -s is its first word; AIX, Solaris and
    # the BSDs read uname -srvm instead
    assert never == (set() if platform in ("Linux", "Darwin") else {"uname"}), never


CAPTURES = sorted(p.parent.name for p in (CAPTURED.parent).glob("*/capture.json"))


@pytest.mark.parametrize("name", CAPTURES)
def test_every_captured_fixture_replays_cleanly(name: str) -> None:
    """A fixture a contributor adds with ``legacyscan capture`` is replayed here with no test of its
    own: its platform is recognised, it parses without error, and it has a provenance note."""
    from agents.capture import read_provenance

    root = CAPTURED.parent / name
    meta = read_provenance(root)
    inv = Collector(ReplayShell(root)).collect()
    family = {"Darwin": "macos", "SunOS": "solaris"}.get(meta["platform"], meta["platform"].lower())
    assert inv.os.family == family, inv.problems
    assert not [p for p in inv.problems if p.kind in ("error", "parse", "timeout")], inv.problems
    assert (root / "PROVENANCE.md").is_file()


def test_the_capture_glob_finds_the_committed_fixture() -> None:
    assert "debian11-minbase-ssh-capture" in CAPTURES
