"""A simulated fleet of SSH hosts: ONE asyncssh process, one listener per host, canned answers.

Why: a real sshd costs ~14 ms CPU per login, so two cores cannot play 10,000 hosts (docs:
real-components §2).  asyncssh does the real protocol -- key exchange, host key, public-key auth,
channels -- for ~2-3 ms a probe, so the *scanner* is what gets measured.  Latency is optimistic
(asyncssh sets TCP_NODELAY, no 40 ms stall): use real sshd for latency, this for throughput.

Answers: each host is one of the real Linux captures in ``scanner/demo_data/captures/linux``
(host i -> capture i mod 19; their package lists as dpkg-query / rpm -qa / apk-database output,
with one package in twenty given a per-host patch suffix so hosts differ), with os-release /
redhat-release / debian_version files synthesised from the capture's OS fields.  Commands are
interpreted, not executed: the one-line ``/bin/sh -c`` bundle legacyscan sends is split into its
sections; single commands are answered directly; anything unknown answers 127.

Usage: ``python bench/ssh_fleet.py --hosts 10000 --state DIR [--base-port 20000]`` writes
``DIR/client_key`` and ``DIR/known_hosts`` and prints ``READY <n>`` when every listener is up.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import resource
import shlex
import sys
from functools import cache, partial
from pathlib import Path
from typing import Any

import asyncssh

REPO = Path(__file__).resolve().parents[1]
CAPTURES = sorted((REPO / "scanner/demo_data/captures/linux").glob("*.json"))
VARIANTS = 5


@cache
def capture(i: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CAPTURES[i].read_text("utf-8"))
    return data


def _os_fields(cap: dict[str, Any]) -> dict[str, str]:
    os_block = cap.get("os", {})
    if isinstance(os_block, dict) and "os-release" in os_block:  # container image capture
        return {"os-release": str(os_block["os-release"])}
    raw = os_block.get("OPERATINGSYSTEM") or os_block.get("operatingsystem") or {}
    return {
        "full": str(raw.get("FULL_NAME") or raw.get("full_name") or ""),
        "name": str(raw.get("NAME") or raw.get("name") or ""),
        "version": str(raw.get("VERSION") or raw.get("version") or ""),
    }


@cache
def host_files(c: int) -> dict[str, str]:
    """OS evidence files synthesised from the capture's recorded OS fields."""
    f = _os_fields(capture(c))
    if "os-release" in f:
        return {"/etc/os-release": f["os-release"], "/etc/alpine-release": "3.10.4\n"}
    full, name, version = f["full"], f["name"], f["version"]
    ident = (name.split()[0].lower() if name else "linux").replace("opensuse", "opensuse-leap")
    files = {"/etc/os-release": f'NAME="{name}"\nVERSION_ID="{version}"\nID={ident}\nPRETTY_NAME="{full}"\n'}
    if re.search(r"centos|red hat|rocky|alma|fedora", full, re.I):
        files["/etc/redhat-release"] = full + "\n"
    if re.search(r"debian|raspbian", full, re.I):
        files["/etc/debian_version"] = version + "\n"
    if "SUSE" in full and version.startswith(("10", "11")):
        del files["/etc/os-release"]
        files["/etc/SuSE-release"] = f"{full}\nVERSION = {version}\n"
    return files


@cache
def packages(c: int, variant: int) -> dict[str, str]:
    """Package-manager answers for capture c, variant v: {"dpkg"|"rpm"|"apk": text}."""
    out: dict[str, list[str]] = {}
    for n, sw in enumerate(capture(c).get("software", [])):
        name, version, arch = sw.get("name") or "", sw.get("version") or "", sw.get("arch") or "noarch"
        if not name:
            continue
        if variant and n % 20 == variant:
            version = f"{version}+h{variant}"
        source = sw.get("source")
        if source == "dpkg":
            out.setdefault("dpkg", []).append(f"{name}\t{version}\t{arch}\tii \n")
            # /var/lib/dpkg/status as `grep -E DPKG_STATUS_FIELDS` sends it (real field order)
            out.setdefault("dpkg-status", []).append(
                f"Package: {name}\nStatus: install ok installed\nArchitecture: {arch}\nVersion: {version}\n"
            )
        elif source == "rpm":
            vendor = (sw.get("raw") or {}).get("PUBLISHER") or "(none)"
            out.setdefault("rpm", []).append(f"{name}\t(none):{version}\t{arch}\t{vendor}\n")
        elif source == "apk":
            out.setdefault("apk", []).append(f"P:{name}\nV:{version}\nA:{arch}\n\n")
    return {k: "".join(v) for k, v in out.items()}


def answer_command(idx: int, argv: list[str]) -> tuple[str, int]:
    c = idx % len(CAPTURES)
    pk = packages(c, (idx // len(CAPTURES)) % VARIANTS)
    if argv[:1] == ["uname"]:
        flag = argv[1] if len(argv) > 1 else "-s"
        return {"-s": "Linux\n", "-n": f"host{idx:05d}\n", "-srm": "Linux 5.10.0-26-amd64 x86_64\n"}.get(
            flag, "Linux\n"
        ), 0
    if argv[:1] == ["dpkg-query"]:
        return (pk["dpkg"], 0) if "dpkg" in pk else ("", 127)
    if argv[:1] == ["rpm"]:
        return (pk["rpm"], 0) if "rpm" in pk else ("", 127)
    if argv[:2] == ["cat", "--"] and len(argv) == 3:
        text = read_file(idx, argv[2])
        return (text, 0) if text is not None else ("", 1)
    if argv == ["true"]:
        return "", 0
    return "", 127


def read_file(idx: int, path: str) -> str | None:
    c = idx % len(CAPTURES)
    files = host_files(c)
    if path in files:
        return files[path]
    if path == "/etc/hostname":
        return f"host{idx:05d}\n"
    if path == "/etc/machine-id":
        return hashlib.md5(f"fleet-{idx}".encode()).hexdigest() + "\n"  # noqa: S324 - an id, not security
    if path == "/lib/apk/db/installed":
        return packages(c, (idx // len(CAPTURES)) % VARIANTS).get("apk")
    if path == "/var/lib/dpkg/status":
        return packages(c, (idx // len(CAPTURES)) % VARIANTS).get("dpkg-status")
    return None


_SECTION = re.compile(r'echo "(\S+) ([cf]) (\d+)"; (.*?); echo; echo "\1 rc \$_r"')
_COMMAND = re.compile(r"&& \{ (.*) </dev/null 2>/dev/null; _r=\$\?; \}(?:; \})?$")
_UNLESS = re.compile(r"^_r=127; \[ -r (\S+) \] \|\|")  # not run when that file is readable
_FILE = re.compile(
    r"(?:cat (\S+) 2>/dev/null && _r=0|< (\S+); else cat \S+ 2>/dev/null; fi; \} && _r=0"
    r"|grep -E -- \S+ (\S+) 2>/dev/null; .*)$"
)
_GATE = re.compile(r'case "\$_s" in (\S+)\) ')  # a command run only on these platforms (uname -s)
_BOUNDARY = re.compile(r'echo "([A-Za-z0-9]{16,}) [cf] \d+"')  # the bundle's random section marker


@cache
def plan(template: str) -> tuple[list[str] | None, list[tuple[str, str, list[str] | str, str]]]:
    """How to answer a command whose bundle boundary was replaced by a placeholder: the argv of a
    single command, or the bundle's sections as (kind, index, argv | path, a file whose presence skips the command).

    Cached on the template: the boundary is random per host, the rest of the bundle is the same for
    every host, and tokenising an 8 KB command with the pure-Python ``shlex`` cost more CPU than
    the SSH protocol itself -- the simulator would have measured itself, not the scanner."""
    if "\n" in template:  # the bundle itself, sent on /bin/sh's standard input
        script = template
    else:
        try:
            argv = shlex.split(template)
        except ValueError:
            return [], []
        if argv[:2] != ["/bin/sh", "-c"] or len(argv) != 3:
            return argv, []
        script = argv[2]
    sections: list[tuple[str, str, list[str] | str, str]] = []
    for line in script.splitlines():
        gate = _GATE.match(line)
        if gate and "Linux" not in gate.group(1):
            continue  # another platform's command: a Linux host never runs it
        m = _SECTION.search(line)
        if m is None:
            continue
        _boundary, kind, index, body = m.groups()
        if kind == "c":
            cm, um = _COMMAND.search(body), _UNLESS.search(body)
            sections.append(
                (kind, index, shlex.split(cm.group(1)) if cm else [], shlex.split(um.group(1))[0] if um else "")
            )
        else:
            fm = _FILE.search(body)
            sections.append((kind, index, shlex.split(fm.group(1) or fm.group(2) or fm.group(3))[0] if fm else "", ""))
    return None, sections


def answer(idx: int, command: str) -> tuple[str, int]:
    """Interpret legacyscan's bundle (agents.bundle), or a single command."""
    m = _BOUNDARY.search(command)
    boundary = m.group(1) if m else ""
    single, sections = plan(command.replace(boundary, "\x00BOUNDARY\x00") if boundary else command)
    if single is not None:
        return answer_command(idx, single) if single else ("", 2)
    out: list[str] = []
    for kind, index, what, unless in sections:
        if kind == "c":
            if unless and read_file(idx, unless) is not None:
                text, rc = "", 127
            else:
                text, rc = answer_command(idx, what) if isinstance(what, list) and what else ("", 127)
        else:
            content = read_file(idx, what) if isinstance(what, str) and what else None
            text, rc = (content, 0) if content is not None else ("", 1)
        out.append(f"{boundary} {kind} {index}\n{text}\n{boundary} rc {rc}\n")
    return "".join(out), 0


async def handle(idx: int, process: asyncssh.SSHServerProcess[str]) -> None:
    command = process.command or ""
    if command == "/bin/sh":  # legacyscan's probe bundle arrives on standard input (agents.bundle)
        command = await process.stdin.read()
    text, rc = answer(idx, command)
    process.stdout.write(text)
    process.exit(rc)


async def serve(n: int, base_port: int, state: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if n + 256 > hard:
        raise SystemExit(f"need {n + 256} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if base_port + n >= 32768:
        raise SystemExit("ports would reach the ephemeral range (32768+): use fewer hosts or a lower base port")
    state.mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key.write_private_key(str(state / "client_key"))
    (state / "client_key").chmod(0o600)
    pub = host_key.export_public_key().decode().split()
    (state / "known_hosts").write_text("".join(f"[127.0.0.1]:{base_port + i} {pub[0]} {pub[1]}\n" for i in range(n)))
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    for c in range(len(CAPTURES)):  # build canned answers up front: steady state is what is measured
        host_files(c)
        for v in range(VARIANTS):
            packages(c, v)
    servers = []
    for i in range(n):
        servers.append(
            await asyncssh.listen(
                "127.0.0.1",
                base_port + i,
                server_host_keys=[host_key],
                authorized_client_keys=authorized,
                process_factory=partial(handle, i),
                encoding="utf-8",
                allow_scp=False,
                backlog=128,
                keepalive_interval=0,
                login_timeout=30,
            )
        )
    print(f"READY {n}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--base-port", type=int, default=20000)
    ap.add_argument("--state", type=Path, required=True)
    args = ap.parse_args()
    try:
        asyncio.run(serve(args.hosts, args.base_port, args.state))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
