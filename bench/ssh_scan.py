"""SSH fleet scanning benchmark: one JSON line per scenario, each against its named peer, same run.

Scenario ``real-sshd``: N (default 50) REAL OpenSSH sshd hosts on 127.0.0.x (tests/integration/sshd.py).
  * ``legacyscan scan --targets`` (the CLI as a user runs it: collect + match + store + report),
  * Ansible ``package_facts`` over the same hosts (ansible-core 2.19.x in a throwaway venv in /tmp),
  * Ansible ``raw`` running exactly the command legacyscan sends (the one-line probe bundle),
  * and, to show what this machine allows, a bare paramiko loop sending that command to the same
    hosts (``bare_paramiko_floor``: connect, authenticate, run, read -- nothing else).
  Targets: >= 30x faster than package_facts, >= 4x faster than raw.  The targets are real sshd
  processes sharing the scanner's 2 cores (each login costs them ~14-22 ms of CPU), so the floor's
  own speed-up over raw bounds what any client can reach here.

Scenario ``fleet``: N (default 10,000) simulated hosts (bench/ssh_fleet.py: one asyncssh process,
one listener per host, canned answers from the real Linux captures).
  * ``legacyscan scan --targets`` into a fresh SQLite store, matching every inventory,
  * a bare paramiko loop (64 threads, TCP_NODELAY, dict host-key check, public-key auth, the same
    one-line command, output read and discarded).
  Targets: <= 60 s wall and >= 0.8x the bare loop's throughput.  The loop runs first, once, in this
  (already warm) process: no interpreter start or imports (~0.3 s, nothing at 10,000 hosts), one
  Python process (~1 core under the GIL) where legacyscan forks collector processes.  One pair per
  run: on a shared machine the load moves between the two, so compare ratios over several runs.

Scenario ``legacy``: 20 REAL OpenSSH hosts restricted to RHEL 5's algorithms, 10 REAL dropbear hosts
and 20 modern sshd hosts, scanned with ``--ssh-legacy`` (all together and per group), each against
the bare paramiko process floor over the same hosts (with the same legacy algorithm tables, the
script on stdin).  Targets: >= 0.9x the floor; legacy and dropbear hosts no
slower per host than modern ones.  ``breakdown``: legacyscan's and the floor's fixed cost (a
one-host run), their cost per further host (all hosts less one host), and the store's ingest CPU
per inventory (first and further; SQL part) measured in-process on the sequentially scanned hosts.

Usage: ``python bench/ssh_scan.py [--scenario real-sshd|fleet|legacy|all] [--real-hosts 50] [--repeat 3]
[--fleet-hosts 10000]``.
Needs root (sshd), openssh-server, asyncssh; network access to PyPI once for the Ansible venv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


ANSIBLE_VENV = Path("/tmp/legacyscan-ansible-venv")
ANSIBLE_SPEC = "ansible-core>=2.19,<2.20"
AS_OF = "2026-11-30"


def probe_command() -> str:
    """Exactly the script legacyscan sends to a host (with a fresh random boundary), as one command
    line (legacyscan itself sends it on /bin/sh's standard input: same work on the host)."""
    import shlex

    from agents.bundle import probe_script

    return "/bin/sh -c " + shlex.quote(probe_script("LS" + secrets.token_hex(12)))


def cpu_self() -> float:
    ru = os.times()
    return ru.user + ru.system


def cpu_children() -> float:
    ru = os.times()
    return ru.children_user + ru.children_system


def run_legacyscan(
    csv: Path,
    key: Path,
    known_hosts: Path,
    db: Path,
    extra: list[str] | None = None,
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    cmd = [
        sys.executable,
        "-m",
        "scanner.cli",
        "scan",
        "--targets",
        str(csv),
        "--ssh-key",
        str(key),
        "--known-hosts",
        str(known_hosts),
        "--no-agent",
        "--db",
        f"sqlite:///{db}",
        "--progress",
        "none",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--out",
        str(db.with_suffix(".report.json")),
        *(extra or []),
    ]
    cpu0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"legacyscan failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return wall, cpu, proc


def stored_status(db: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM scan_status GROUP BY status").fetchall())


# -- scenario: real sshd vs Ansible ------------------------------------------------------------------


def ensure_ansible() -> Path:
    ansible = ANSIBLE_VENV / "bin" / "ansible"
    if not ansible.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", ANSIBLE_SPEC], check=True)
    return ansible


def raw_args(command: str) -> str:
    """``-a`` for Ansible ``raw`` running exactly ``command``.  Ansible splits a free-form argument
    on Jinja2 delimiters and templates module arguments, and the probe bundle holds rpm's query
    format (``%|RSAHEADER?{%{RSAHEADER:pgpsig}}:...``), whose ``{%`` is a Jinja2 block start: given
    as is, every host fails before anything is sent ("failed at splitting arguments", then
    "Syntax error in template").  So the command goes as JSON arguments (no splitting) inside a
    ``{% raw %}`` block (the template renders to the command itself)."""
    if "{% endraw" in command:
        raise ValueError("the command contains '{% endraw': it cannot be protected from templating")
    return json.dumps({"_raw_params": "{% raw %}" + command + "{% endraw %}"})


def run_ansible(
    ansible: Path, inventory: Path, module: str, args: str | None, work: Path, forks: int
) -> tuple[float, float, int, str]:
    env = dict(
        os.environ,
        ANSIBLE_HOST_KEY_CHECKING="True",
        ANSIBLE_REMOTE_TMP="/tmp/.ansible-lsprobe",
        ANSIBLE_LOCAL_TEMP=str(work / "ansible-local"),
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(work / "cp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="False",
        ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="False",
        ANSIBLE_CONFIG=str(work / "none.cfg"),
    )
    cmd = [str(ansible), "fleet", "-i", str(inventory), "-m", module, "-f", str(forks)]
    if args is not None:
        cmd += ["-a", args]
    cpu0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    ok = len(re.findall(r"^\S+ \| (?:SUCCESS|CHANGED)\b", proc.stdout, re.MULTILINE))  # one header line per host
    return wall, cpu, ok, proc.stdout[-500:] + proc.stderr[-1500:]


def bare_process(
    addresses: list[str], port: int | list[int], key: Path, known_hosts: Path, threads: int, **extra: object
) -> tuple[float, float]:
    """``bare_paramiko`` run as a separate Python process: wall and CPU time of the whole process."""
    from tests.integration import sshd

    ports = port if isinstance(port, list) else [port] * len(addresses)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--bare-loop",
        json.dumps(
            {
                "endpoints": [[a, p] for a, p in zip(addresses, ports, strict=True)],
                "key": str(key),
                "known_hosts": str(known_hosts),
                "threads": threads,
                "user": sshd.USER,
                "command": probe_command(),
                **extra,
            }
        ),
    ]
    cpu0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    if proc.returncode != 0 or proc.stdout.strip() != str(len(addresses)):
        raise SystemExit(f"bare paramiko process failed: {proc.stdout[-500:]} {proc.stderr[-2000:]}")
    return wall, cpu


def median_run(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The run with the median wall time (its CPU time with it)."""
    ordered = sorted(runs)
    return ordered[len(ordered) // 2]


def scenario_real(n: int, repeat: int = 3) -> dict[str, object]:
    from tests.integration import sshd

    load_start = round(os.getloadavg()[0], 2)  # other work on this machine skews every figure: report it
    ansible = ensure_ansible()
    version = subprocess.run([str(ansible), "--version"], capture_output=True, text=True, check=True).stdout
    fleet = sshd.start_fleet(n)
    work = Path(tempfile.mkdtemp(prefix="legacyscan-bench-"))
    try:
        csv = work / "targets.csv"
        csv.write_text(
            "host,site,transport,port,user,tags\n"
            + "".join(f"{a},Bench,ssh,{fleet.port},{sshd.USER},\n" for a in fleet.addresses)
        )
        inventory = work / "inventory.ini"
        inventory.write_text(
            "[fleet]\n"
            + "".join(f"h{i} ansible_host={a} ansible_port={fleet.port}\n" for i, a in enumerate(fleet.addresses))
            + f"[fleet:vars]\nansible_user={sshd.USER}\nansible_ssh_private_key_file={fleet.client_key}\n"
            f"ansible_ssh_common_args='-o UserKnownHostsFile={fleet.known_hosts} -o StrictHostKeyChecking=yes'\n"
        )
        (work / "none.cfg").write_text("[defaults]\n")
        forks = n
        # warm-up: page cache, sshd host-key loading, the venv's bytecode (not timed)
        run_ansible(ansible, inventory, "raw", raw_args("true"), work, forks)
        # Interleaved rounds, medians reported: one run of each takes 1-5 s on a machine whose load
        # moves by that much, so a single pair would measure the load as much as the tools.
        ls_runs: list[tuple[float, float]] = []
        raw_runs: list[tuple[float, float]] = []
        bare_runs: list[tuple[float, float]] = []
        proc_runs: list[tuple[float, float]] = []
        statuses: dict[str, int] = {}
        raw_ok, raw_tail, bare_ok = 0, "", 0
        for r in range(repeat):
            db = work / f"ls{r}.db"
            ls_wall, ls_cpu, _ = run_legacyscan(csv, fleet.client_key, fleet.known_hosts, db)
            ls_runs.append((ls_wall, ls_cpu))
            statuses = stored_status(db)
            raw_wall, raw_cpu, raw_ok, raw_tail = run_ansible(
                ansible, inventory, "raw", raw_args(probe_command()), work, forks
            )
            raw_runs.append((raw_wall, raw_cpu))
            # The floor on this machine: the same command over the same hosts with nothing but paramiko
            # (no start-up, parsing, matching, storing or report).  The targets share the 2 cores, and
            # each real sshd login costs ~14-22 ms of CPU, so this bounds any client's speed-up.
            cpu0 = cpu_self()
            bare_wall, bare_ok = bare_paramiko(
                [(a, fleet.port) for a in fleet.addresses],
                fleet.client_key,
                fleet.known_hosts,
                threads=n,
                user=sshd.USER,
            )
            bare_runs.append((bare_wall, cpu_self() - cpu0))
            proc_runs.append(bare_process(fleet.addresses, fleet.port, fleet.client_key, fleet.known_hosts, n))
        ls_wall, ls_cpu = median_run(ls_runs)
        raw_wall, raw_cpu = median_run(raw_runs)
        bare_wall, bare_cpu = median_run(bare_runs)
        proc_wall, proc_cpu = median_run(proc_runs)
        pf_wall, pf_cpu, pf_ok, pf_tail = run_ansible(ansible, inventory, "package_facts", None, work, forks)
        if raw_ok != n or pf_ok != n:
            print(f"ansible: raw ok {raw_ok}/{n}, package_facts ok {pf_ok}/{n}\n{raw_tail}\n{pf_tail}", file=sys.stderr)
        return {
            "scenario": "real-sshd",
            "hosts": n,
            "sshd_processes": len(fleet.procs),
            "rounds": repeat,
            "legacyscan": {
                "wall_s": round(ls_wall, 3),
                "controller_cpu_s": round(ls_cpu, 3),
                "status": statuses,
                "wall_s_runs": [round(w, 3) for w, _ in ls_runs],
            },
            "ansible_raw": {
                "wall_s": round(raw_wall, 3),
                "controller_cpu_s": round(raw_cpu, 3),
                "ok": raw_ok,
                "forks": forks,
                "wall_s_runs": [round(w, 3) for w, _ in raw_runs],
            },
            "ansible_package_facts": {
                "wall_s": round(pf_wall, 3),
                "controller_cpu_s": round(pf_cpu, 3),
                "ok": pf_ok,
                "forks": forks,
            },
            "bare_paramiko_floor": {
                "wall_s": round(bare_wall, 3),
                "client_cpu_s": round(bare_cpu, 3),
                "ok": bare_ok,
                "threads": n,
                "speedup_vs_raw": round(raw_wall / bare_wall, 2),
                "wall_s_runs": [round(w, 3) for w, _ in bare_runs],
            },
            # the same loop as its own Python process (interpreter start + paramiko import, as a CLI pays)
            "bare_paramiko_process_floor": {
                "wall_s": round(proc_wall, 3),
                "cpu_s": round(proc_cpu, 3),
                "speedup_vs_raw": round(raw_wall / proc_wall, 2),
                "wall_s_runs": [round(w, 3) for w, _ in proc_runs],
            },
            "speedup_vs_package_facts": round(pf_wall / ls_wall, 2),
            "speedup_vs_raw": round(raw_wall / ls_wall, 2),
            "targets": {"vs_package_facts": 30, "vs_raw": 4},
            # a peer that failed is no comparison: its time is that of an error message
            "pass": (
                pf_wall / ls_wall >= 30
                and raw_wall / ls_wall >= 4
                and statuses == {"ok": n}
                and raw_ok == n
                and pf_ok == n
            ),
            "ansible_version": version.splitlines()[0],
            "loadavg_1m_start": load_start,
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
    finally:
        fleet.stop()
        shutil.rmtree(work, ignore_errors=True)


# -- scenario: simulated 10k fleet vs a bare paramiko loop -----------------------------------------------


def start_sim(n: int, state: Path, base_port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "bench" / "ssh_fleet.py"),
            "--hosts",
            str(n),
            "--state",
            str(state),
            "--base-port",
            str(base_port),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise SystemExit(f"fleet simulator failed to start: {line!r}")
    return proc


def bare_paramiko(
    endpoints: list[tuple[str, int]],
    key_path: Path,
    known_hosts: Path,
    threads: int = 64,
    user: str = "bench",
    command: str | None = None,
    *,
    legacy: bool = False,
    users: dict[str, str] | None = None,
    stdin: bool = False,
) -> tuple[float, int]:
    """The floor: a bare paramiko loop (TCP_NODELAY, dict host-key check, public-key auth, the
    same one-line command, output read and discarded) -- no parsing, matching or storing.

    ``legacy``: paramiko's Transport with the legacy algorithm tables legacyscan adds for
    ``--ssh-legacy`` (agents/ssh_legacy.py: paramiko 5 alone cannot reach those hosts at all);
    ``users``: address -> login user where it is not ``user`` (the dropbear hosts' key user);
    ``stdin``: send the script on /bin/sh's standard input, as legacyscan does (dropbear refuses
    commands over 9000 bytes)."""
    import base64

    import paramiko

    from agents.ssh_legacy import LegacyRSAKey, LegacyTransport

    key = paramiko.PKey.from_path(str(key_path))
    if legacy:
        key = LegacyRSAKey.of(key)
    known: dict[tuple[str, int], bytes] = {}
    for line in known_hosts.read_text().splitlines():
        name, _kt, b64 = line.split()
        host, _, port = name.rpartition(":")
        known[(host.strip("[]"), int(port))] = base64.b64decode(b64)
    command = command or probe_command()
    script = shlex.split(command)[2].encode() if stdin else b""

    def probe(endpoint: tuple[str, int]) -> int:
        sock = socket.create_connection(endpoint, timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = LegacyTransport(sock) if legacy else paramiko.Transport(sock)
        if isinstance(t, LegacyTransport) and legacy:
            t.enable_legacy()
        try:
            t.start_client(timeout=30)
            if t.get_remote_server_key().asbytes() != known[endpoint]:
                raise RuntimeError("host key mismatch")
            t.auth_publickey((users or {}).get(endpoint[0], user), key)
            ch = t.open_session(timeout=30)
            if stdin:
                ch.exec_command("/bin/sh")
                ch.sendall(script)
                ch.shutdown_write()
            else:
                ch.exec_command(command)
            size = 0
            while True:
                data = ch.recv(65536)
                if not data:
                    break
                size += len(data)
            ch.recv_exit_status()
            return size
        finally:
            t.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        sizes = list(pool.map(probe, endpoints))
    wall = time.perf_counter() - t0
    return wall, sum(1 for s in sizes if s > 0)


def scenario_fleet(n: int, base_port: int = 20000) -> dict[str, object]:
    load_start = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="legacyscan-fleet-"))
    sim = start_sim(n, work / "fleet", base_port)
    try:
        ports = [base_port + i for i in range(n)]
        key, kh = work / "fleet" / "client_key", work / "fleet" / "known_hosts"
        csv = work / "targets.csv"
        csv.write_text(
            "host,site,transport,port,user,tags\n"
            + "".join(f"127.0.0.1,Site{(p - base_port) % 20:02d},ssh,{p},bench,\n" for p in ports)
        )
        # the script on /bin/sh's standard input, as legacyscan sends it: the simulator reads the
        # bundle's sections from either form, but the quoted command line no longer tokenises since
        # the bundle holds an awk program (the apt probe), and the loop got nothing from any host
        bare_wall, bare_ok = bare_paramiko([("127.0.0.1", p) for p in ports], key, kh, stdin=True)
        if bare_ok != n:
            raise SystemExit(f"bare paramiko loop: {bare_ok} of {n} simulated hosts answered")
        ls_wall, ls_cpu, proc = run_legacyscan(csv, key, kh, work / "ls.db")
        statuses = stored_status(work / "ls.db")
        summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        ls_rate, bare_rate = n / ls_wall, bare_ok / bare_wall
        return {
            "scenario": "fleet",
            "hosts": n,
            "legacyscan": {
                "wall_s": round(ls_wall, 2),
                "hosts_per_s": round(ls_rate, 1),
                "cpu_s": round(ls_cpu, 2),
                "status": statuses,
                "summary": json.loads(summary) if summary.startswith("{") else summary,
            },
            "bare_paramiko": {
                "wall_s": round(bare_wall, 2),
                "hosts_per_s": round(bare_rate, 1),
                "ok": bare_ok,
                "threads": 64,
            },
            "throughput_ratio": round(ls_rate / bare_rate, 3),
            "targets": {"wall_s_max": 60, "throughput_ratio_min": 0.8},
            "pass": ls_wall <= 60 and ls_rate / bare_rate >= 0.8 and statuses == {"ok": n},
            "cpus": os.cpu_count(),
            "loadavg_1m_start": load_start,
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
    finally:
        sim.terminate()
        sim.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


# -- scenario: legacy-algorithm servers and dropbear next to modern ones ------------------------------


def scenario_legacy(n_legacy: int = 20, n_dropbear: int = 10, n_modern: int = 20, repeat: int = 3) -> dict[str, object]:
    """``--ssh-legacy`` over real OpenSSH restricted to RHEL 5's offer (SHA-1 kex, ssh-rsa, CBC,
    hmac-sha1), real dropbear (one process per host, RSA host key, key login) and modern sshd, in
    one scan, against the bare paramiko process floor over the same hosts in the same rounds (that
    floor uses the same legacy algorithm tables: paramiko 5 alone reaches none of the old hosts).
    Per group too, and per host one at a time, so the cost of a legacy or dropbear host can be
    compared with a modern one."""
    from tests.integration import legacy_servers, sshd

    load_start = round(os.getloadavg()[0], 2)
    old = legacy_servers.start_profile("rhel5", n_legacy, first=160, sha2_user_keys=True)
    fleets = [old]
    work = Path(tempfile.mkdtemp(prefix="legacyscan-bench-legacy-"))
    try:
        db_fleet = legacy_servers.start_dropbear(
            n_dropbear,
            first=160 + n_legacy,
            key_type="rsa",
            authorized_key=Path(str(old.client_key) + ".pub").read_text(),
        )
        fleets.append(db_fleet)
        modern = sshd.start_fleet(n_modern, first=160 + n_legacy + n_dropbear)
        fleets.append(modern)
        # one RSA client key for every OpenSSH host (the RHEL 5 profile accepts only ssh-rsa signatures)
        with open(modern.state / "authorized_keys" / sshd.USER, "a") as fh:
            fh.write(Path(str(old.client_key) + ".pub").read_text())
        known = work / "known_hosts"
        known.write_text("".join(f.known_hosts.read_text() for f in fleets))
        groups = {
            "modern": [(a, modern.port, sshd.USER) for a in modern.addresses],
            "legacy_openssh": [(a, old.port, sshd.USER) for a in old.addresses],
            "dropbear": [(a, db_fleet.port, legacy_servers.KEY_USER) for a in db_fleet.addresses],
        }
        groups["all"] = groups["modern"] + groups["legacy_openssh"] + groups["dropbear"]
        # one host: what a run costs whatever the number of hosts (start-up, the first inventory's
        # identifications and status ranges, the report, the exit) against the floor's start-up
        groups["one"] = groups["modern"][:1]
        results: dict[str, dict[str, list[tuple[float, float]]]] = {g: {"ls": [], "floor": []} for g in groups}
        statuses: dict[str, dict[str, int]] = {}
        for r in range(repeat):
            for name, hosts in groups.items():
                csv = work / f"{name}.csv"
                csv.write_text(
                    "host,site,transport,port,user,tags\n" + "".join(f"{a},Bench,ssh,{p},{u},\n" for a, p, u in hosts)
                )
                db = work / f"{name}{r}.db"
                wall, cpu, _ = run_legacyscan(csv, old.client_key, known, db, ["--ssh-legacy"])
                results[name]["ls"].append((wall, cpu))
                statuses[name] = stored_status(db)
                results[name]["floor"].append(
                    bare_process(
                        [a for a, _, _ in hosts],
                        [p for _, p, _ in hosts],
                        old.client_key,
                        known,
                        len(hosts),
                        legacy=True,
                        users={a: u for a, _, u in hosts},
                        stdin=True,
                    )
                )
        out: dict[str, object] = {
            "scenario": "legacy",
            "rounds": repeat,
            "hosts": {g: len(h) for g, h in groups.items()},
        }
        for name, hosts in groups.items():
            ls_wall, ls_cpu = median_run(results[name]["ls"])
            fl_wall, fl_cpu = median_run(results[name]["floor"])
            out[name] = {
                "legacyscan_wall_s": round(ls_wall, 3),
                "legacyscan_cpu_s": round(ls_cpu, 3),
                "floor_wall_s": round(fl_wall, 3),
                "floor_cpu_s": round(fl_cpu, 3),
                "ratio_vs_floor": round(fl_wall / ls_wall, 3),
                "legacyscan_ms_per_host": round(1000 * ls_wall / len(hosts), 1),
                "status": statuses[name],
                "wall_s_runs": [round(w, 3) for w, _ in results[name]["ls"]],
                # each round's floor over that round's legacyscan: the load moves between rounds
                "ratio_per_round": [
                    round(f[0] / ls[0], 3) for ls, f in zip(results[name]["ls"], results[name]["floor"], strict=True)
                ],
            }
        # Per host, one at a time (no concurrency, no process start-up): legacyscan's connect + collect
        # of a host (FleetScanner.scan_one) against the bare loop's, per group, in this same run.
        per_host = sequential_per_host(
            {g: h for g, h in groups.items() if g not in ("all", "one")}, old.client_key, known
        )
        ingest = per_host.pop("ingest")
        for g, figures in per_host.items():
            out[g]["sequential"] = figures  # type: ignore[index]
        out["breakdown"] = breakdown(out, len(groups["all"]), ingest)
        modern_ratio = per_host["modern"]["ls_over_floor"]
        out["targets"] = {
            "ratio_vs_floor_min": 0.9,
            "per_host_ls_over_floor_max": "modern's x 1.1 (legacy hosts cost legacyscan no more)",
        }
        out["pass"] = (
            out["all"]["ratio_vs_floor"] >= 0.9  # type: ignore[index]
            and per_host["legacy_openssh"]["ls_over_floor"] <= modern_ratio * 1.1
            and per_host["dropbear"]["ls_over_floor"] <= modern_ratio * 1.1
            and all(st == {"ok": len(groups[g])} for g, st in statuses.items())
        )
        out["loadavg_1m_start"], out["loadavg_1m"] = load_start, round(os.getloadavg()[0], 2)
        return out
    finally:
        for f in fleets:
            f.stop()
        shutil.rmtree(work, ignore_errors=True)


def breakdown(out: dict[str, object], n: int, ingest: dict[str, float]) -> dict[str, float]:
    """Where legacyscan's time goes beside the floor's, from the same run: the fixed part (one host)
    and the part per further host (the all-hosts run less the one-host run), wall and CPU, plus
    the store's ingest per inventory measured in-process on the sequentially scanned hosts."""
    one, every = out["one"], out["all"]
    assert isinstance(one, dict) and isinstance(every, dict)
    figures = {
        "legacyscan_fixed_s": one["legacyscan_wall_s"],
        "floor_fixed_s": one["floor_wall_s"],
        "legacyscan_fixed_cpu_s": one["legacyscan_cpu_s"],
        "floor_fixed_cpu_s": one["floor_cpu_s"],
    }
    for who in ("legacyscan", "floor"):
        figures[f"{who}_ms_per_further_host"] = round(
            1000 * (every[f"{who}_wall_s"] - one[f"{who}_wall_s"]) / (n - 1), 1
        )
        figures[f"{who}_cpu_ms_per_further_host"] = round(
            1000 * (every[f"{who}_cpu_s"] - one[f"{who}_cpu_s"]) / (n - 1), 1
        )
    figures.update(ingest)
    return figures


def sequential_per_host(
    groups: dict[str, list[tuple[str, int, str]]], key: Path, known: Path, sample: int = 6
) -> dict[str, dict[str, float]]:
    """Median per-host time, hosts one at a time: legacyscan's scan_one vs the bare loop's probe."""
    import statistics

    from scanner.collect.config import ScanConfig
    from scanner.collect.engine import FleetScanner
    from scanner.store.sqlite import SqliteStore
    from scanner.targets import Target

    work = Path(tempfile.mkdtemp(prefix="legacyscan-seq-"))
    store = SqliteStore(str(work / "seq.db"))
    try:
        scanner = FleetScanner(
            store, ScanConfig(concurrency=1, ssh_key=str(key), known_hosts=str(known), use_agent=False, ssh_legacy=True)
        )
        out: dict[str, dict[str, float]] = {}
        collected = []
        for name, hosts in groups.items():
            ls_times, floor_times = [], []
            for a, p, u in hosts[:sample]:
                t0 = time.perf_counter()
                outcome = scanner.scan_one(Target(host=a, port=p, user=u, site="Bench"))
                ls_times.append(time.perf_counter() - t0)
                if outcome is None or outcome.status != "ok":
                    raise SystemExit(f"{a}:{p}: {outcome and outcome.status} {outcome and outcome.error}")
                collected.append(outcome.inventory)
                wall, ok = bare_paramiko([(a, p)], key, known, threads=1, user=u, legacy=True, stdin=True)
                floor_times.append(wall)
            ls_ms, floor_ms = 1000 * statistics.median(ls_times), 1000 * statistics.median(floor_times)
            out[name] = {
                "legacyscan_ms": round(ls_ms, 1),
                "floor_ms": round(floor_ms, 1),
                "ls_over_floor": round(ls_ms / floor_ms, 3),
                "hosts_sampled": len(ls_times),
            }
        out["ingest"] = ingest_cost(collected, work)
        return out
    finally:
        store.close()
        shutil.rmtree(work, ignore_errors=True)


def ingest_cost(invs: list, work: Path) -> dict[str, float]:
    """CPU per inventory of storing ``invs`` in a fresh store as the scan does (one batch, judged
    with the installed dataset, a judge that has seen none of them): the first inventory (its
    packages identified, its status ranges made) and each further one, and the SQL part."""
    from scanner.store.open import open_store
    from scanner.store.sqlite import SqliteStore

    store = open_store(f"sqlite:///{work / 'ingest.db'}")
    sql = 0.0
    insert = SqliteStore._insert_rows

    def timed(self: SqliteStore, rows: object) -> None:
        nonlocal sql
        t = time.thread_time()
        try:
            insert(self, rows)  # type: ignore[arg-type]
        finally:
            sql += time.thread_time() - t

    try:
        SqliteStore._insert_rows = timed  # type: ignore[method-assign]
        store.current_judge()
        t0 = time.thread_time()
        store.save_batch(invs[:1])
        first = time.thread_time() - t0
        t0 = time.thread_time()
        store.save_batch(invs[1:])
        rest = time.thread_time() - t0
    finally:
        SqliteStore._insert_rows = insert  # type: ignore[method-assign]
        store.close()
    return {
        "ingest_first_inventory_cpu_ms": round(1000 * first, 1),
        "ingest_cpu_ms_per_further_inventory": round(1000 * rest / max(1, len(invs) - 1), 2),
        "ingest_sql_cpu_ms_per_inventory": round(1000 * sql / len(invs), 2),
        "ingest_inventories": len(invs),
    }


def compile_sources() -> None:
    """Byte-compile legacyscan's packages, as ``pip install`` does (and as the Ansible venv was):
    run from a source tree with PYTHONDONTWRITEBYTECODE set, every start-up would otherwise
    compile ~80 modules (~0.1 s) that an installed legacyscan never compiles."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(str(REPO / d) for d in PACKAGES)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


PACKAGES = ("agents", "scanner", "eol_data", "reports")


def main() -> None:
    ap = argparse.ArgumentParser(description="SSH fleet scanning benchmark (one JSON line per scenario)")
    ap.add_argument("--scenario", choices=["real-sshd", "fleet", "legacy", "all"], default="all")
    ap.add_argument("--real-hosts", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds in the real-sshd scenario (medians)")
    ap.add_argument("--fleet-hosts", type=int, default=10_000)
    ap.add_argument("--bare-loop", metavar="JSON", help=argparse.SUPPRESS)  # the process floor's child
    args = ap.parse_args()
    if args.bare_loop:
        spec = json.loads(args.bare_loop)
        _wall, ok = bare_paramiko(
            [(h, p) for h, p in spec["endpoints"]],
            Path(spec["key"]),
            Path(spec["known_hosts"]),
            threads=spec["threads"],
            user=spec["user"],
            command=spec["command"],
            legacy=spec.get("legacy", False),
            users=spec.get("users"),
            stdin=spec.get("stdin", False),
        )
        print(ok)
        return
    compile_sources()
    if args.scenario in ("real-sshd", "all"):
        print(json.dumps(scenario_real(args.real_hosts, args.repeat)), flush=True)
    if args.scenario in ("fleet", "all"):
        print(json.dumps(scenario_fleet(args.fleet_hosts)), flush=True)
    if args.scenario in ("legacy", "all"):
        print(json.dumps(scenario_legacy(repeat=args.repeat)), flush=True)


if __name__ == "__main__":
    main()
