"""Collector: a Shell plus the probe tables -> an Inventory.

One collector for every transport, so a host looks the same whether it was scanned locally,
over SSH, or replayed from a capture.  Probe failures become ``Problem`` entries: a host whose rpm
database is locked still reports its OS, and an unreadable file is data, not a crash.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from datetime import datetime, timezone

from agents import linux, macos, probes, unix
from agents.inventory import Collector as CollectorInfo
from agents.inventory import Hardware, Host, Inventory, OsInfo, Problem, Software
from agents.shell import NotesTruncation, PowerShellRunner, Shell, ShellError

AGENT_VERSION = "0.2.0.dev0"

# What a parser can raise on output it did not expect; anything else (a ShellError: the transport
# failed) still fails the host as before.
PARSE_ERRORS = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    OverflowError,
    RecursionError,
    UnicodeError,
    LookupError,
)
KNOWN_FAMILIES = ("linux", "darwin", "aix", "sunos", "freebsd", "openbsd", "netbsd", "windows")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Collector:
    """Collect one host through ``shell``.

    ``now`` is injectable so tests and replays produce deterministic documents.  ``packages``: the
    package parsers' memory a caller collecting many hosts owns (the fleet scan: one per scan);
    without it the pure parsers read each host afresh.
    """

    def __init__(
        self,
        shell: Shell,
        *,
        site: str = "",
        tags: list[str] | None = None,
        address: str = "",
        now: Callable[[], datetime] = utc_now,
        local_hardware: bool | None = None,
        command_timeout: float = 120.0,
        endpoint: str = "",
        packages: linux.PackageMemo | None = None,
    ) -> None:
        self.shell = shell
        self.packages = packages
        self.site = site
        self.tags = list(tags or [])
        self.address = address
        # What tells machines behind one address apart when they expose no machine-id: the SSH
        # host key fingerprint (or the port).  Two containers, chroots or NAT-forwarded machines
        # on one address with the same hostname are still two hosts.
        self.endpoint = endpoint
        self.now = now
        self.local_hardware = shell.name == "local" if local_hardware is None else local_hardware
        self.timeout = command_timeout

    def collect(self) -> Inventory:
        started = time.monotonic()
        # The probe table's runner: a transport that batches (SSH) answers the whole table in one
        # round trip here; a lost connection raises (the host's status), as any transport failure.
        probes.prepare(self.shell, self.timeout)
        problems: list[Problem] = []
        platform = self.platform(problems)
        try:
            inv = self._collect_platform(platform, problems)
        except PARSE_ERRORS as exc:
            # Output no parser expected (#19 item 19): a probe problem, not a failed host.  The
            # parsers are total (tests/fuzz); this is the net under them.
            problems.append(
                Problem(
                    platform or "collect",
                    f"could not make sense of the host's output: {type(exc).__name__}: {str(exc)[:300]}",
                    "error",
                )
            )
            inv = Inventory(
                os=OsInfo(
                    family={"darwin": "macos", "sunos": "solaris"}.get(platform, platform)
                    if platform in KNOWN_FAMILIES
                    else "unknown"
                )
            )
        if isinstance(self.shell, NotesTruncation):  # a host's answer was cut at our read limit
            problems.extend(Problem("output", note, "truncated") for note in self.shell.truncated)
        inv.problems = problems + [p for p in inv.problems if p not in problems]
        inv.host.site = self.site or inv.host.site
        inv.host.tags = sorted(set(inv.host.tags) | set(self.tags))
        inv.host.address = self.address or inv.host.address
        if not inv.host.machine_id:
            inv.host.machine_id = fallback_machine_id(inv.host.hostname, self.address, self.endpoint)
        inv.collected_at = iso(self.now())
        inv.collector = CollectorInfo(
            name="legacyscan",
            version=AGENT_VERSION,
            transport=self.shell.name,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return inv

    def _collect_platform(self, platform: str, problems: list[Problem]) -> Inventory:
        if platform == "windows":
            from agents.windows import collect_windows

            return collect_windows(self.shell)
        if platform == "linux":
            return self.collect_linux(problems)
        if platform == "darwin":
            return macos.collect(probes.Asker(self.shell, platform, problems, self.timeout).output, problems)
        if platform in ("aix", "sunos", "freebsd", "openbsd", "netbsd", "dragonfly"):
            asker = probes.Asker(self.shell, platform, problems, self.timeout)
            return unix.collect(asker.output, asker.read, platform)
        problems.append(Problem("platform", f"unsupported or unrecognised platform {platform!r}", "missing"))
        return Inventory()

    def platform(self, problems: list[Problem]) -> str:
        """The host's platform, lower case (``linux``, ``darwin``, ``aix``...; ``unknown``)."""
        if isinstance(self.shell, PowerShellRunner) and self.shell.name != "local":
            return "windows"
        try:
            return probes.host_platform(self.shell, self.timeout).lower() or "unknown"
        except ShellError as exc:
            problems.append(Problem("uname", str(exc), "timeout" if "timed out" in str(exc) else "error"))
            return "unknown"

    # -- Linux ---------------------------------------------------------------------------------

    def collect_linux(self, problems: list[Problem]) -> Inventory:
        files = self._os_files(problems)
        name, version = linux.os_name(files)
        kernel, arch = self._kernel_and_arch(problems)
        facts: dict[str, object] = {"files": files}
        software = self.linux_packages(problems, facts)
        self._distribution_facts(software, facts, problems)
        hostname = self._hostname()
        machine_id = self._machine_id()
        hardware = self._linux_hardware(problems)
        return Inventory(
            host=Host(hostname=hostname, machine_id=machine_id),
            os=OsInfo(family="linux", name=name, version=version, arch=arch, kernel=kernel, facts=facts),
            software=software,
            hardware=hardware,
        )

    def _os_files(self, problems: list[Problem]) -> dict[str, str]:
        files: dict[str, str] = {}
        for path in probes.paths("os-release"):
            text = self.shell.read_text(path)
            if text is not None:
                files[path] = text
        if not files:
            problems.append(Problem("os-release", "no OS release file could be read", "missing"))
        return files

    def _kernel_and_arch(self, problems: list[Problem]) -> tuple[str, str]:
        """Kernel release and machine from ``uname -srm``."""
        try:
            res = self.shell.run(probes.command("uname"), timeout=self.timeout)
        except ShellError as exc:
            problems.append(Problem("uname", str(exc), "timeout"))
            return "", ""
        if not res.ok:
            return "", ""
        bits = res.stdout.split()
        return (bits[1] if len(bits) > 1 else ""), (bits[2] if len(bits) > 2 else "")

    def _distribution_facts(self, software: list[Software], facts: dict[str, object], problems: list[Problem]) -> None:
        """Debian's security-support notes, Ubuntu's apt indexes and SUSE's lifecycle data: what the
        distribution says of the installed packages (scanner.judge.distribution_builds).  Optional evidence: a host
        without them is not a failed probe."""
        support = self.security_support() if any(s.source == "dpkg" for s in software) else {}
        if support:
            facts["security_support"] = support
        for key, probe_id, source in (
            ("apt_support", "apt-support", "dpkg"),
            ("suse_lifecycle", "suse-lifecycle", "rpm"),
        ):
            if any(s.source == source for s in software):
                text = self._optional(probes.command(probe_id), key, problems)
                if text:
                    facts[key] = text

    def _machine_id(self) -> str:
        for path in probes.paths("machine-id"):
            text = self.shell.read_text(path)
            if text and text.strip():
                return text.strip()
        return ""

    def _linux_hardware(self, problems: list[Problem]) -> Hardware:
        """psutil on this machine; DMI, /proc/cpuinfo and /proc/meminfo through the shell elsewhere."""
        if self.local_hardware:
            from agents.hardware import collect_local_hardware

            return collect_local_hardware(self.shell, problems)
        from agents.hardware import apply_dmi, dmi_facts, parse_cpuinfo_model

        hardware = Hardware()
        apply_dmi(hardware, dmi_facts(self.shell))
        cpuinfo = self.shell.read_text(probes.paths("cpuinfo")[0])
        if cpuinfo:
            hardware.cpu_model = parse_cpuinfo_model(cpuinfo)
            hardware.cpu_threads = cpuinfo.count("processor\t:") or None
        meminfo = self.shell.read_text(probes.paths("meminfo")[0])
        if meminfo:
            hardware.memory_bytes = parse_meminfo_total(meminfo, problems)
        return hardware

    def linux_packages(self, problems: list[Problem], facts: dict[str, object] | None = None) -> list[Software]:
        """dpkg (database file, then dpkg-query), rpm, apk: every manager present is read.  The
        rpm signing keys imported on the host go into ``facts["rpm_keys"]`` (who signed a package
        is judged against them: scanner.judge.distribution_builds)."""
        software: list[Software] = []
        memo = self.packages
        status = self.shell.read_text(probes.paths("dpkg-status")[0])
        if status is not None:
            software.extend(memo.dpkg_status(status) if memo is not None else linux.parse_dpkg_status(status))
        else:
            parse_query = memo.dpkg_query if memo is not None else linux.parse_dpkg_query
            software.extend(self._run_parse("dpkg-query", probes.command("dpkg-query"), parse_query, problems))
        apk = self.shell.read_text(probes.paths("apk-installed")[0])
        if apk is not None:
            software.extend(linux.parse_apk_installed(apk))
        # rpm beside another package manager (Debian with alien installed) usually has no database
        # at all: that is "no rpm packages", not a failed probe.  Where rpm is the only package
        # manager an unreadable database stays a problem (the inventory would be silently empty).
        try:
            res = self.shell.run(probes.command("rpm"), timeout=self.timeout)
        except ShellError as exc:
            problems.append(Problem("rpm", str(exc), "timeout"))
            return software
        if res.ok:
            software.extend(memo.rpm_qa(res.stdout) if memo is not None else linux.parse_rpm_qa(res.stdout))
            keys = linux.rpm_signing_keys(res.stdout)
            if keys and facts is not None:
                facts["rpm_keys"] = keys
        elif res.exit_code != 127 and not (software and linux.no_package_database(res.stdout, res.stderr)):
            problems.append(Problem("rpm", (res.stderr or f"exit code {res.exit_code}").strip()[:500]))
        return software

    def _optional(self, argv: list[str], probe: str, problems: list[Problem]) -> str:
        """The output of an optional read-only probe ("" when it has none or did not run)."""
        try:
            res = self.shell.run(argv, timeout=self.timeout)
        except ShellError as exc:
            problems.append(Problem(probe, str(exc), "timeout"))
            return ""
        return res.stdout if res.exit_code == 0 and res.stdout.strip() else ""

    def security_support(self) -> dict[str, str]:
        """The host's copy of its distribution's security-support lists (Debian), when installed."""
        found: dict[str, str] = {}
        for path in probes.paths("security-support"):
            text = self.shell.read_text(path)
            if text is not None:
                found[path] = text
        return found

    def _run_parse(
        self, probe: str, argv: list[str], parser: Callable[[str], list[Software]], problems: list[Problem]
    ) -> list[Software]:
        try:
            res = self.shell.run(argv, timeout=self.timeout)
        except ShellError as exc:
            problems.append(Problem(probe, str(exc), "timeout"))
            return []
        if res.exit_code == 127:
            return []  # that package manager is not installed: not a problem
        if not res.ok:
            problems.append(Problem(probe, (res.stderr or f"exit code {res.exit_code}").strip()[:500]))
            return []
        return parser(res.stdout)

    def _hostname(self) -> str:
        if self.shell.name == "local":
            return socket.gethostname()
        text = self.shell.read_text(probes.paths("etc-hostname")[0])
        if text and text.strip():
            return text.strip().splitlines()[0]
        try:
            res = self.shell.run(probes.command("hostname"), timeout=self.timeout)
            return res.stdout.strip() if res.ok else ""
        except ShellError:
            return ""


def parse_meminfo_total(text: str, problems: list[Problem]) -> int | None:
    """Bytes from ``/proc/meminfo``'s ``MemTotal:  16318480 kB``; an odd line is a parse problem."""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            bits = line.split()
            if len(bits) == 3 and bits[1].isascii() and bits[1].isdigit() and len(bits[1]) <= 15 and bits[2] == "kB":
                return int(bits[1]) * 1024
            problems.append(Problem("meminfo", f"unexpected MemTotal line: {line[:120]!r}", "parse"))
            return None
    return None


def fallback_machine_id(hostname: str, address: str, endpoint: str = "") -> str:
    """A stable id when the host exposes none: derived from what we know, prefixed so it is obvious.
    ``endpoint`` (the SSH host key fingerprint, or ``port N``) separates machines sharing an address."""
    key = f"{hostname}|{address}|{endpoint}" if endpoint else f"{hostname}|{address}"
    return "derived-" + hashlib.sha256(key.encode()).hexdigest()[:32]
