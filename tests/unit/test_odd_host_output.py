"""#19 item 19: odd output from one probe is a probe problem; the host and the rest of its
inventory are kept (the Collector over an in-memory host answering as a real one would, except
for the one odd answer)."""

from __future__ import annotations

import plistlib

from agents.collect import Collector
from tests.fuzz.test_fuzz_host_output import LINUX_CMDS, LINUX_FILES, MAC_CMDS, OddHost


def _linux(**files: str) -> OddHost:
    return OddHost(
        "ssh", {k: v[0] for k, v in LINUX_CMDS.items()}, {**{k: v[0] for k, v in LINUX_FILES.items()}, **files}
    )


def test_odd_meminfo_is_a_probe_problem_and_the_packages_are_kept() -> None:
    inv = Collector(_linux(**{"/proc/meminfo": "MemTotal:       16 GB\n"})).collect()
    assert inv.os.family == "linux" and inv.os.version == "12"
    assert {s.name for s in inv.software} >= {"bash", "openssl"}
    assert inv.hardware.memory_bytes is None
    assert [(p.probe, p.kind) for p in inv.problems] == [("meminfo", "parse")]


def test_odd_macos_plist_and_sysctl_keep_the_host() -> None:
    cmds = {k: v[0] for k, v in MAC_CMDS.items()}
    cmds["uname -s"] = "Darwin\n"
    cmds["system_profiler -xml -detailLevel mini SPApplicationsDataType"] = plistlib.dumps([{"_items": 5}]).decode()
    cmds["sysctl -n hw.model hw.memsize hw.ncpu"] = "iMac5,1\n\u00b2\n\u00b3\n"
    inv = Collector(OddHost("ssh", cmds, {})).collect()
    assert inv.os.family == "macos" and inv.os.version == "14.4.1"
    assert inv.hardware.model == "iMac5,1" and inv.hardware.memory_bytes is None
    assert {s.name for s in inv.software} == {"/Applications/Foo.app", "/Applications/Bar.app"} or inv.software


def test_a_parser_crash_is_recorded_not_raised(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The net under the parsers: anything a parser raises on odd output becomes a problem."""
    from agents import linux

    def broken(text: str) -> list[object]:
        raise ValueError("unexpected field")

    monkeypatch.setattr(linux, "parse_dpkg_status", broken)
    inv = Collector(_linux()).collect()
    assert inv.os.family == "linux"
    assert any(p.kind == "error" and "ValueError: unexpected field" in p.message for p in inv.problems)
