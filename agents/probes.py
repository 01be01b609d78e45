"""The probe table: every command legacyscan runs and every file it reads on a Unix host, as data.

One row per probe (in the spirit of syft's identity files): an id, the hosts it concerns (``uname -s``
names), the command to run or the files to read, the parser that reads the answer, and what its
absence means.  Everything that reads a host is derived from this one table:

* the SSH scan's single round trip (``agents.ssh.SshShell.preload``, through ``prepare`` below) and the
  POSIX sh agent's body (``agents.bundle.probe_script``, ``agents/legacyscan-agent.sh``): the rows
  with ``batched`` set, commands gated by platform, files filtered by ``grep``;
* the collectors' reads (``agents.collect``): they ask the table for a probe's command or paths;
* ``legacyscan capture``: a host's raw answers to the table, written as a replayable fixture
  (``capture`` / ``write_fixture``), which ``agents.shell.ReplayShell`` hands back to the same
  Collector and parsers.

Every command is a fixed argument vector: nothing read from a host or a target file is put in a row.
A missing tool or file is data ("not installed"), never a failure of the scan; ``required_on`` names
the platforms on which its absence is recorded as a ``missing`` probe problem.

Windows is collected by one PowerShell script (``agents/windows_collect.ps1``), not by this table.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agents import hardware, linux, macos, unix
from agents.compat import SLOTS
from agents.inventory import Problem
from agents.shell import BatchingShell, CommandResult, Shell, ShellError

# ``uname -s`` names.  ``ALL``: every host (the row is not gated by platform).
LINUX = ("Linux",)
DARWIN = ("Darwin",)
AIX = ("AIX",)
SUNOS = ("SunOS",)
FREEBSD = ("FreeBSD", "DragonFly")
OTHER_BSD = ("OpenBSD", "NetBSD")
UNIX = AIX + SUNOS + FREEBSD + OTHER_BSD
ALL: tuple[str, ...] = ()
PLATFORM_NAMES = LINUX + DARWIN + UNIX


@dataclass(frozen=True, **SLOTS)
class Probe:
    """One row of the table: a command (``argv``) or files (``paths``), never both."""

    id: str
    platforms: tuple[str, ...]
    argv: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    # The function that reads the answer (None: the collector reads it itself, or the answer is kept
    # as evidence for the scanner: apt and SUSE lifecycle data, scanner.judge.distribution_data).
    parser: Callable[..., object] | None = None
    # Platforms where a missing answer is a ``missing`` probe problem; elsewhere it is data.
    required_on: tuple[str, ...] = ()
    # Only the lines matching this extended regex are sent over SSH (``grep -E``): same records.
    grep: str = ""
    # A command not run where this file is readable (the file answers the same question).
    unless_readable: str = ""
    # In the one-round-trip bundle.  False: asked alone, when the collector needs it (a fallback,
    # or an answer the transport derives from another row's).
    batched: bool = True
    # Its answer names or identifies the machine (hostname, machine-id, serial number, platform
    # UUID): ``capture`` leaves it out unless asked to keep it.
    identifies: bool = False
    # The name its problems are recorded under in an inventory (the id when empty): kept as the
    # collectors always wrote them (``uname`` for uname -srvm, ``pkg`` for Solaris's and FreeBSD's pkg).
    label: str = ""
    note: str = field(default="", compare=False)

    @property
    def command(self) -> list[str]:
        return list(self.argv)

    @property
    def optional(self) -> bool:
        """Absent anywhere without a problem being recorded (a missing tool is data)."""
        return not self.required_on

    def concerns(self, platform: str) -> bool:
        """Does this row apply to a host whose ``uname -s`` is ``platform`` (any case)?"""
        return not self.platforms or platform.lower() in (p.lower() for p in self.platforms)


UNIX_PROBES: tuple[Probe, ...] = (
    # -- commands (the bundle runs them in this order) --------------------------------------------
    Probe("uname", ALL, argv=tuple(linux.UNAME), required_on=DARWIN, note="kernel release and machine"),
    Probe(
        "hostname",
        ALL,
        argv=tuple(unix.HOSTNAME),
        required_on=DARWIN + UNIX,
        identifies=True,
        note="where /etc/hostname does not exist (RHEL 5/6, Solaris, AIX)",
    ),
    Probe(
        "dpkg-query",
        LINUX,
        argv=tuple(linux.DPKG_QUERY),
        parser=linux.parse_dpkg_query,
        unless_readable=linux.DPKG_STATUS,
    ),
    Probe("rpm", LINUX, argv=tuple(linux.RPM_QA), parser=linux.parse_rpm_qa),
    Probe("apt-support", LINUX, argv=tuple(linux.APT_SUPPORT), note="Debian, Ubuntu only: apt indexes' support data"),
    Probe("suse-lifecycle", LINUX, argv=tuple(linux.SUSE_LIFECYCLE), note="SUSE's zypper lifecycle data"),
    Probe("unix-uname", UNIX, argv=tuple(unix.UNAME), required_on=UNIX, label="uname"),
    Probe("oslevel", AIX, argv=tuple(unix.AIX_OSLEVEL), required_on=AIX),
    Probe("lslpp", AIX, argv=tuple(unix.AIX_LSLPP), parser=unix.parse_lslpp, required_on=AIX),
    Probe("pkg-list", SUNOS, argv=tuple(unix.SOLARIS_PKG), parser=unix.parse_pkg_list, label="pkg", note="Solaris 11"),
    Probe(
        "pkginfo",
        SUNOS,
        argv=tuple(unix.SOLARIS_PKGINFO),
        parser=unix.parse_pkginfo_l,
        required_on=SUNOS,
        note="Solaris 10; asked where pkg is missing",
    ),
    Probe("freebsd-version", FREEBSD, argv=tuple(unix.FREEBSD_VERSION)),
    Probe("pkg-query", FREEBSD, argv=tuple(unix.FREEBSD_PKG), parser=unix.parse_pkg_query, label="pkg"),
    Probe("pkg_info", OTHER_BSD, argv=tuple(unix.BSD_PKG_INFO), parser=unix.parse_pkg_info),
    Probe("sw_vers", DARWIN, argv=tuple(macos.SW_VERS), parser=macos.parse_sw_vers, required_on=DARWIN),
    Probe("sysctl", DARWIN, argv=tuple(macos.SYSCTL_HW), required_on=DARWIN),
    Probe(
        "ioreg",
        DARWIN,
        argv=tuple(macos.IOREG_PLATFORM),
        parser=macos.parse_ioreg_platform,
        required_on=DARWIN,
        identifies=True,
    ),
    Probe(
        "system_profiler",
        DARWIN,
        argv=tuple(macos.SYSTEM_PROFILER_APPS),
        parser=macos.parse_system_profiler_apps,
        required_on=DARWIN,
    ),
    Probe(
        "info-plist",
        DARWIN,
        argv=tuple(macos.INFO_PLIST),
        parser=macos.parse_info_plist_listing,
        required_on=DARWIN,
        batched=False,
        note="fallback where system_profiler lists no application",
    ),
    Probe(
        "sysname",
        ALL,
        argv=("uname", "-s"),
        required_on=DARWIN + UNIX,  # without it only an os-release file tells Linux
        batched=False,
        note="which collector; over SSH and from the sh agent, the first word of uname's answer",
    ),
    # -- files (read on every host by the bundle: a missing file costs a test, no process) ----------
    Probe("os-release", LINUX, paths=linux.OS_FILES, parser=linux.os_name, required_on=LINUX),
    Probe(
        "dpkg-status",
        LINUX,
        paths=(linux.DPKG_STATUS,),
        parser=linux.parse_dpkg_status,
        grep=linux.DPKG_STATUS_FIELDS,
    ),
    Probe("apk-installed", LINUX, paths=(linux.APK_INSTALLED,), parser=linux.parse_apk_installed),
    Probe("security-support", LINUX, paths=linux.SECURITY_SUPPORT_FILES, note="Debian's security-support lists"),
    Probe("machine-id", LINUX, paths=("/etc/machine-id", "/var/lib/dbus/machine-id"), identifies=True),
    Probe("etc-hostname", LINUX, paths=("/etc/hostname",), identifies=True),
    Probe("cpuinfo", LINUX, paths=("/proc/cpuinfo",), parser=hardware.parse_cpuinfo_model),
    Probe("meminfo", LINUX, paths=("/proc/meminfo",)),
    *(
        Probe("dmi-" + name, LINUX, paths=(f"{hardware.DMI}/{name}",), identifies=name == "product_serial")
        for name in hardware.DMI_NAMES
    ),
    Probe("solaris-release", SUNOS, paths=(unix.SOLARIS_RELEASE,), parser=unix.solaris_oslevel),
)

BY_ID: dict[str, Probe] = {p.id: p for p in UNIX_PROBES}


def probe(probe_id: str) -> Probe:
    return BY_ID[probe_id]


def command(probe_id: str) -> list[str]:
    """The argument vector of a command row."""
    return list(BY_ID[probe_id].argv)


def paths(probe_id: str) -> tuple[str, ...]:
    """The files of a file row, in the order the collector prefers them."""
    return BY_ID[probe_id].paths


# -- views of the table: what the one-round-trip bundle is built from ---------------------------------


def case_pattern(platforms: Sequence[str]) -> str:
    """``case "$_s" in PATTERN)`` on ``uname -s``.  An empty uname (a minimal container) is Linux."""
    return "|".join('Linux|""' if p == "Linux" else p for p in platforms)


def batched_commands(table: Sequence[Probe] = UNIX_PROBES) -> list[tuple[list[str], str | None]]:
    """(argv, case pattern or None for every host), in table order."""
    return [(p.command, case_pattern(p.platforms) or None) for p in table if p.argv and p.batched]


def batched_files(table: Sequence[Probe] = UNIX_PROBES) -> list[str]:
    return [path for p in table if p.paths and p.batched for path in p.paths]


def file_filters(table: Sequence[Probe] = UNIX_PROBES) -> dict[str, str]:
    return {path: p.grep for p in table if p.grep for path in p.paths}


def command_guards(table: Sequence[Probe] = UNIX_PROBES) -> dict[str, str]:
    return {shlex.join(p.argv): p.unless_readable for p in table if p.unless_readable}


def platform_patterns(table: Sequence[Probe] = UNIX_PROBES) -> dict[str, str]:
    """``shlex.join(argv)`` -> case pattern, for the commands gated by platform."""
    return {shlex.join(argv): where for argv, where in batched_commands(table) if where}


# -- the runner -----------------------------------------------------------------------------------------


def prepare(shell: Shell, timeout: float, table: Sequence[Probe] = UNIX_PROBES) -> None:
    """Make ``shell`` ready to answer the table.  A transport that batches (SSH) runs every batched
    row in one round trip and answers the collector's later asks from it; ``uname -s`` (``sysname``)
    is then the first word of ``uname -srm``: one process fewer on every host.  Other shells
    (this machine, a replay, the sh agent's bundle) answer each ask as it comes."""
    if not isinstance(shell, BatchingShell):
        return
    shell.preload(
        [argv for argv, _ in batched_commands(table)],
        batched_files(table),
        timeout=timeout,
        filters=file_filters(table),
        unless_readable=command_guards(table),
        platforms=platform_patterns(table),
    )
    derived = sysname_from(shell.run(command("uname"), timeout=timeout))
    if derived is not None:
        shell.remember(command("sysname"), derived)


def sysname_from(uname: CommandResult) -> CommandResult | None:
    """The ``sysname`` row's answer (``uname -s``) from the ``uname`` row's (``uname -srm``): its
    first word.  None when uname gave none (the row is then asked alone, or answers 127)."""
    words = uname.stdout.split() if uname.ok else []
    return CommandResult(0, words[0] + "\n") if words else None


class Asker:
    """The table's rows asked of one host by a platform's collector (macOS, AIX, Solaris, the BSDs).

    ``output(id)`` runs a command row and returns its output, or None when it gave none, recording
    why as the row says: a transport failure (``timeout`` or ``error``), a tool that is not there
    (``missing``, only where the platform is in ``required_on``: elsewhere that is data), a failed
    run (its stderr).  ``read(id)`` is a file row's first readable file."""

    def __init__(self, shell: Shell, platform: str, problems: list[Problem], timeout: float) -> None:
        self.shell = shell
        self.platform = canonical_platform(platform)
        self.problems = problems
        self.timeout = timeout

    def output(self, probe_id: str) -> str | None:
        row = BY_ID[probe_id]
        label = row.label or row.id
        try:
            res = self.shell.run(list(row.argv), timeout=self.timeout)
        except ShellError as exc:
            self.problems.append(Problem(label, str(exc), "timeout" if "timed out" in str(exc) else "error"))
            return None
        if res.exit_code == 127:
            if self.platform in row.required_on:
                self.problems.append(Problem(label, f"{row.argv[0]} not found", "missing"))
            return None
        if not res.ok:
            self.problems.append(Problem(label, (res.stderr or f"exit code {res.exit_code}").strip()[:500]))
            return None
        return res.stdout

    def read(self, probe_id: str) -> str | None:
        for path in BY_ID[probe_id].paths:
            text = self.shell.read_text(path)
            if text is not None:
                return text
        return None


def canonical_platform(name: str) -> str:
    """``linux`` -> ``Linux``: the table's spelling of a platform the collector names in lower case."""
    return next((p for p in PLATFORM_NAMES if p.lower() == name.lower()), name)


def host_platform(shell: Shell, timeout: float) -> str:
    """The host's ``uname -s`` name (the ``sysname`` row), as the table spells it; this machine's
    without a process.  "" when the host does not say.  Without uname (a minimal container, a
    replayed capture) an os-release file still says Linux.  Raises ``ShellError``."""
    if shell.name == "local":
        return canonical_platform(
            {"win32": "windows", "darwin": "darwin"}.get(sys.platform, sys.platform.rstrip("0123456789"))
        )
    res = shell.run(command("sysname"), timeout=timeout)
    if not res.ok:
        return "Linux" if any(shell.read_text(path) is not None for path in paths("os-release")[:2]) else ""
    return canonical_platform(res.stdout.strip().split("-")[0])


@dataclass(**SLOTS)
class Evidence:
    """A host's raw answers to the table: what a fixture holds (``ReplayShell``'s layout)."""

    platform: str
    commands: dict[str, dict[str, object]] = field(default_factory=dict)  # " ".join(argv) -> answer
    files: dict[str, str] = field(default_factory=dict)  # path -> text
    asked: list[str] = field(default_factory=list)  # probe ids asked, in table order
    left_out: list[str] = field(default_factory=list)  # identifying probes not recorded
    problems: list[str] = field(default_factory=list)  # transport failures while asking


def capture(
    shell: Shell,
    platform: str = "",
    *,
    timeout: float = 120.0,
    keep_identifiers: bool = False,
    table: Sequence[Probe] = UNIX_PROBES,
) -> Evidence:
    """Ask ``shell`` every row of the table that concerns ``platform`` (a ``uname -s`` name; by
    default the host's own) and keep the raw answers.  The same runner as a scan: a batching shell
    answers from one round trip (``prepare``); a command whose ``unless_readable`` file was read is
    not asked (a replay answers it 127, as the bundle does).  Identifying rows are left out unless
    ``keep_identifiers``."""
    prepare(shell, timeout, table)
    platform = canonical_platform(platform) if platform else host_platform(shell, timeout)
    evidence = Evidence(platform=platform)
    read: set[str] = set()
    rows = [p for p in table if p.concerns(platform)]
    for row in sorted(rows, key=lambda p: bool(p.argv)):  # files first: unless_readable needs them
        if row.identifies and not keep_identifiers:
            evidence.left_out.append(row.id)
            continue
        try:
            if row.paths:
                for path in row.paths:
                    text = shell.read_text(path)
                    if text is not None:
                        evidence.files[path] = text
                        read.add(path)
            elif row.unless_readable in read:
                continue  # not asked: its file answered (a replay says 127, as the bundle does)
            else:
                res = shell.run(row.command, timeout=timeout)
                evidence.commands[" ".join(row.argv)] = {
                    "exit_code": res.exit_code,
                    "stdout": res.stdout,
                    "stderr": res.stderr,
                }
        except ShellError as exc:
            evidence.problems.append(f"{row.id}: {exc}")
            continue
        evidence.asked.append(row.id)
    order = {p.id: i for i, p in enumerate(table)}
    evidence.asked.sort(key=order.__getitem__)
    evidence.left_out.sort(key=order.__getitem__)
    return evidence
