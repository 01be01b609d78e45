"""The probe bundle under every Bourne-family shell Debian packages, plus a static Bourne check.

A traditional Bourne shell (Solaris 10 ``/bin/sh``) and AIX's ksh88 are not packaged anywhere we
can run them, so this is what can be shown here: (1) every real shell Debian has - dash,
bash --posix, busybox sh, mksh, posh, yash, ksh93, zsh as sh - gives the same sections for the
same host (mksh, a pdksh descendant and so the nearest packaged relative of ksh88, has no
``printf`` builtin either and takes the ``cat`` path); (2) a shell whose ``printf`` is not a builtin
(Bourne, ksh88: emulated by shadowing ``type``) takes the ``cat`` path and still gives the same
sections; (3) a Bourne-like bash - ``command``, ``printf`` and ``local`` builtins really removed
(``enable -n``) and a missing command exiting 1 with "not found", as Solaris 10 ``/bin/sh`` does -
gives the same sections, and a missing tool is still "not installed" (127), not a failure;
(4) the script statically contains none of the constructs those shells lack (``$(...)``,
``command -v``, ``local``, ``${#...}``/``${...#...}``, ``[[``, ``$((``, ``!``...).  The emulation
covers the behaviours the bundle depends on; it is not a real Bourne shell or ksh88 (parsing quirks
of those are covered only by the static check).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agents import bundle, linux
from agents.bundle import parse_bundle, probe_script
from tests.conftest import require_or_skip

pytestmark = pytest.mark.integration

B = "LS0123456789abcdef01234567"
SHELLS: dict[str, list[str]] = {
    "dash": ["dash", "-s"],
    "bash --posix": ["bash", "--posix", "-s"],
    "busybox sh": ["busybox", "sh", "-s"],
    "mksh": ["mksh", "-s"],
    "posh": ["posh"],  # reads its standard input (no -s option)
    "yash": ["yash", "-s"],
    "ksh93": ["ksh93", "-s"],
    "zsh as sh": ["zsh", "--emulate", "sh", "-s"],
}
# A Bourne shell's printf is /usr/bin/printf: its `type` says so (dash's builtin is shadowed).
BOURNE_PRINTF = 'type() { echo "$1 is /usr/bin/$1"; }\n'
# bash --posix made Bourne-like for what the bundle relies on: no `command`, `printf` or `local`
# builtin (removed, not shadowed: `type printf` then really finds /usr/bin/printf), and a missing
# command prints "not found" and exits 1, not 127 (Solaris 10 /bin/sh).
BOURNE_BASH = 'enable -n command printf local\ncommand_not_found_handle() { echo "$1: not found" >&2; return 1; }\n'


def _run(argv: list[str], script: str, env: dict[str, str] | None = None) -> dict[tuple[str, int], tuple[str, int]]:
    if shutil.which(argv[0]) is None:
        require_or_skip(f"{argv[0]} is not installed (apt-get install {argv[0]})")
    out = subprocess.run(
        argv, input=script, capture_output=True, text=True, timeout=120, check=False, env=env or dict(os.environ)
    )
    assert out.returncode == 0, out.stderr
    got = parse_bundle(out.stdout, B)
    for i, path in enumerate(bundle.FILES):  # live counters differ between two runs, not between shells
        if path.startswith("/proc/") and ("f", i) in got:
            text, rc = got[("f", i)]
            got[("f", i)] = (
                "".join(
                    line for line in text.splitlines(True) if line.startswith(("MemTotal", "model name", "processor"))
                ),
                rc,
            )
    return got


@pytest.fixture(scope="module")
def reference() -> dict[tuple[str, int], tuple[str, int]]:
    return _run(SHELLS["dash"], probe_script(B))


@pytest.mark.parametrize("shell", list(SHELLS))
def test_every_shell_gives_the_same_sections(shell: str, reference: dict[tuple[str, int], tuple[str, int]]) -> None:
    got = _run(SHELLS[shell], probe_script(B))
    assert got == reference


def test_a_shell_without_a_printf_builtin_reads_files_with_cat(
    reference: dict[tuple[str, int], tuple[str, int]],
) -> None:
    assert _run(SHELLS["dash"], BOURNE_PRINTF + probe_script(B)) == reference


def test_the_bourne_like_bash_is_what_it_claims() -> None:
    """The emulation's preconditions, checked (else the next tests would prove nothing)."""
    got = subprocess.run(
        ["bash", "--posix", "-s"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        input=BOURNE_BASH + "type printf\nno-such-tool-xyz\necho rc=$?\n"
        "command -v ls >/dev/null\necho rc=$?\nf() { local x; }\nf\necho rc=$?\n",
    )
    assert got.stdout.split("\n")[:4] == ["printf is /usr/bin/printf", "rc=1", "rc=1", "rc=1"], got
    assert "no-such-tool-xyz: not found" in got.stderr


def test_a_bourne_like_shell_gives_the_same_sections(reference: dict[tuple[str, int], tuple[str, int]]) -> None:
    assert _run(["bash", "--posix", "-s"], BOURNE_BASH + probe_script(B)) == reference


def test_a_missing_tool_is_not_installed_where_the_shell_returns_1(tmp_path: Path) -> None:
    """Solaris 10 /bin/sh exits 1 for a missing command: the bundle still records 127 (not installed,
    data) because it looks each tool up on PATH itself, and a tool that exits 1 is recorded as 1."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "uname").write_text("#!/bin/sh\necho Linux\nexit 1\n")
    (bindir / "uname").chmod(0o755)
    got = _run(["/bin/bash", "--posix", "-s"], BOURNE_BASH + probe_script(B), env={"PATH": str(bindir)})
    commands = [argv for argv, _ in bundle.COMMANDS]
    assert got[("c", commands.index(["uname", "-srm"]))] == ("Linux\n", 1)
    assert got[("c", commands.index(linux.RPM_QA))] == ("", 127)
    linux_missing = [
        i for i, (argv, where) in enumerate(bundle.COMMANDS) if where in (None, bundle.LINUX) and argv[0] != "uname"
    ]
    assert linux_missing and all(got[("c", i)] == ("", 127) for i in linux_missing), got


def test_one_run_answers_the_linux_table_and_skips_other_platforms(
    reference: dict[tuple[str, int], tuple[str, int]],
) -> None:
    commands = [argv for argv, _ in bundle.COMMANDS]
    linux_only = {i for i, (_, where) in enumerate(bundle.COMMANDS) if where in (None, bundle.LINUX)}
    assert {i for kind, i in reference if kind == "c"} == linux_only
    assert {i for kind, i in reference if kind == "f"} == set(range(len(bundle.FILES)))
    uname = reference[("c", commands.index(["uname", "-srm"]))]
    assert uname[1] == 0 and uname[0].startswith("Linux ")
    assert reference[("c", commands.index(["uname", "-n"]))][0].strip() == os.uname().nodename
    osr = reference[("f", bundle.FILES.index("/etc/os-release"))]
    assert osr == (Path("/etc/os-release").read_text(), 0)
    assert reference[("f", bundle.FILES.index("/etc/release"))] == ("", 1)  # not a Solaris host


def test_missing_tools_are_data_and_a_bare_path_still_completes(tmp_path: Path) -> None:
    """No tool on PATH (a stripped appliance): every command answers 127, the run completes."""
    env = {"PATH": str(tmp_path / "empty")}
    got = _run(["/bin/dash", "-s"], probe_script(B), env=env)
    linux_cmds = [i for i, (_, where) in enumerate(bundle.COMMANDS) if where in (None, bundle.LINUX)]
    assert all(got[("c", i)] == ("", 127) for i in linux_cmds)
    assert got[("f", bundle.FILES.index("/etc/os-release"))] == (Path("/etc/os-release").read_text(), 0)


def test_a_solaris_like_host_runs_its_own_commands_in_the_same_run(tmp_path: Path) -> None:
    """uname says SunOS: pkg/pkginfo run and dpkg-query/rpm do not (a missing pkg is 127, data)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "uname").write_text(
        '#!/bin/sh\ncase "$1" in -s) echo SunOS;; -n) echo sol10;; '
        "*) echo 'SunOS 5.10 Generic_150400-65 sun4v';; esac\n"
    )
    (bindir / "pkginfo").write_text("#!/bin/sh\necho 'PKGINST:  SUNWcsr'\n")
    (bindir / "dpkg-query").write_text("#!/bin/sh\necho must-not-run\n")
    for f in bindir.iterdir():
        f.chmod(0o755)
    got = _run(["/bin/dash", "-s"], BOURNE_PRINTF + probe_script(B), env={"PATH": f"{bindir}:/usr/bin:/bin"})
    commands = [argv for argv, _ in bundle.COMMANDS]
    assert got[("c", commands.index(["pkginfo", "-l"]))] == ("PKGINST:  SUNWcsr\n", 0)
    assert got[("c", commands.index(["pkg", "list", "-H"]))] == ("", 127)
    assert ("c", commands.index(linux.DPKG_QUERY)) not in got
    assert got[("c", commands.index(["uname", "-srvm"]))][0].startswith("SunOS 5.10")


def test_the_bundle_lowers_its_own_cpu_and_io_priority() -> None:
    script = bundle.bundle_script([["cat", "/proc/self/stat"], ["ionice"]], [], B)
    got = _run(["/bin/dash", "-s"], script)
    stat = got[("c", 0)][0]
    nice = int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of /proc/PID/stat
    assert nice == 19
    assert got[("c", 1)][0].strip() == "idle"
    plain = _run(["/bin/dash", "-s"], bundle.bundle_script([["cat", "/proc/self/stat"]], [], B, lower_priority=False))
    assert int(plain[("c", 0)][0].rsplit(")", 1)[1].split()[16]) == os.getpriority(os.PRIO_PROCESS, 0)


# Constructs a traditional Bourne shell (Solaris 10 /bin/sh) or ksh88 lacks, or that break a csh
# login shell.  ``printf`` is allowed only as the builtin-guarded '%s\n' of the read loop.
FORBIDDEN = {
    r"\$\(": "$(...) command substitution (use backquotes)",
    r"\bcommand\s+-[vV]\b": "command -v",
    r"(?:^|[;&|{(]\s*|\bdo\s+|\bthen\s+)local\s": "local",
    r"\$\{#": "${#var}",
    r"\$\{\w+(#|%|/)": "${var#...}/${var%...}/${var/...}",
    r"\[\[": "[[ ]]",
    r"\$\(\(": "$(( ))",
    r"\bfunction\s": "function keyword",
    r"<<<": "here-string",
    r"!": "! (negation, and csh history expansion)",
    r"\becho\s+-[neE]\b": "echo options",
    r"\bsource\b": "source",
    r"==": "==",
    r"(?:^|[;&|{(]\s*|\bdo\s+|\bthen\s+)printf\s+(?!'%s\\n' \"\$_l\")": "printf other than the guarded '%s\\n'",
    r"\bread\s+-r\b(?!\s+_l\s)": "read -r outside the builtin-guarded loop",
}


def _check_bourne(text: str) -> list[str]:
    return [
        f"{why}: ...{text[max(0, m.start() - 30) : m.end() + 30]}..."
        for pattern, why in FORBIDDEN.items()
        for m in re.finditer(pattern, text, re.MULTILINE)
    ]


def test_the_bundle_has_no_construct_a_bourne_shell_lacks() -> None:
    assert _check_bourne(probe_script(B)) == []
    assert _check_bourne(probe_script("$B")) == []


def test_the_static_check_catches_them() -> None:
    bad = 'x=$(uname); command -v rpm; local y; [[ -n "$x" ]]; echo ${#x}; ! true; printf "%d" 1'
    found = " ".join(_check_bourne(bad))
    for what in ("$(...)", "command -v", "local", "[[ ]]", "${#var}", "! (negation", "printf other"):
        assert what in found, found
