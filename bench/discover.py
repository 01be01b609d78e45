"""Credential-free discovery benchmark: legacyscan discover vs ``nmap -sV --script smb-os-discovery``.

250 real loopback services of mixed kinds (Debian's own servers, started here):

* 60 OpenSSH sshd listeners (4 sshd processes, 15 addresses each, port 22),
* 20 dropbear listeners (2 processes x 10 addresses, port 22),
* 60 nginx HTTP + 40 nginx HTTPS listeners (one nginx; ports 80 / 443),
* 50 Samba listeners (one smbd on 50 addresses, port 445; SMB1 enabled on half of them is not
  possible in one smbd, so all allow NT1 -- the probe still negotiates),
* 20 snmpd agents' addresses (one snmpd, UDP 161, v2c community).

Every service is on its own 127.0.x.y address (one address = one "device"), on the port nmap's
scripts expect (smb-os-discovery only runs on 445/139).  Both tools get the same addresses:
legacyscan a targets CSV naming each service, nmap the address list with ``-p T:22,80,443,445,U:161``
(``-sS -sU -sV --script smb-os-discovery``; the port product it probes is larger: nmap does not take
per-host port lists, and UDP 161 on the 230 addresses without snmpd waits on the kernel's ICMP rate
limit).  So nmap is also timed on exactly the 250 services (``nmap_per_service``: one nmap per kind,
its addresses and its one port, one after another, walls summed); the target is checked against
both.  Counted per tool: services identified to an OS or product *with a verdict*
(legacyscan: a finding whose status is not unknown; nmap: a service with a product+version or an
OS string, then judged by ``legacyscan eol identify`` where nmap's answer names an OS/product
version we can feed it -- nmap itself gives no support verdict).

Prints one JSON line.  Run under the bench lock:
``flock /tmp/legacyscan-bench.lock python bench/discover.py`` (root; samba, snmpd, openssh-server,
dropbear-bin, nginx-light, nmap installed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # noqa: S405 - nmap's own XML output, written by us just now
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.discover_lab import Lab  # noqa: E402

COMMUNITY = "bench-ro-community"
MIX = {"sshd": 60, "dropbear": 20, "http": 60, "https": 40, "smb": 50, "snmp": 20}


def addresses(kind_index: int, n: int) -> list[str]:
    return [f"127.0.{10 + kind_index}.{i + 1}" for i in range(n)]


def start(root: Path) -> tuple[Lab, dict[str, list[str]]]:
    lab = Lab(root)
    addrs = {k: addresses(i, n) for i, (k, n) in enumerate(MIX.items())}
    try:
        # sshd: 15 ListenAddress per process
        d = root / "sshd"
        d.mkdir()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "key")], check=True)
        os.makedirs("/run/sshd", exist_ok=True)
        for p in range(0, len(addrs["sshd"]), 15):
            conf = d / f"sshd_{p}.conf"
            conf.write_text(
                "".join(f"ListenAddress {a}:22\n" for a in addrs["sshd"][p : p + 15])
                + f"HostKey {d}/key\nPidFile {d}/pid{p}\nUsePAM no\nStrictModes no\nMaxStartups 200\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            )
            lab._start(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], "sshd", 22, f"sshd{p}.log", addrs["sshd"][p])
        d = root / "dropbear"
        d.mkdir()
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(d / "key")], check=True, capture_output=True)
        for p in range(0, len(addrs["dropbear"]), 10):
            argv = ["/usr/sbin/dropbear", "-F", "-E", "-s", "-r", str(d / "key")]
            for a in addrs["dropbear"][p : p + 10]:
                argv += ["-p", f"{a}:22"]
            lab._start(argv, "dropbear", 22, f"dropbear{p}.log", addrs["dropbear"][p])
        d = root / "nginx"
        d.mkdir()
        cert, key = Lab.certificate(d)
        listens = "".join(f"listen {a}:80;" for a in addrs["http"])
        tls = "".join(f"listen {a}:443 ssl;" for a in addrs["https"])
        (d / "nginx.conf").write_text(f"""daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f;
  uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;
  server {{ {listens} return 204; }}
  server {{ {tls} ssl_certificate {cert}; ssl_certificate_key {key}; return 204; }} }}
""")
        lab._start(
            ["/usr/sbin/nginx", "-p", str(d), "-c", str(d / "nginx.conf")], "nginx", 80, "nginx.log", addrs["http"][0]
        )
        d = root / "smb"
        for sub in ("priv", "lock", "state", "cache", "pid", "log"):
            (d / sub).mkdir(parents=True)
        (d / "smb.conf").write_text(f"""[global]
  smb ports = 445
  interfaces = {" ".join(a + "/8" for a in addrs["smb"])}
  bind interfaces only = yes
  netbios name = BENCHNAS
  workgroup = TRUST
  server role = standalone server
  server min protocol = NT1
  private dir = {d}/priv
  lock directory = {d}/lock
  state directory = {d}/state
  cache directory = {d}/cache
  pid directory = {d}/pid
  ncalrpc dir = {d}/state/ncalrpc
  log file = {d}/log/log.%m
  disable netbios = yes
  load printers = no
  disable spoolss = yes
  max smbd processes = 0
""")
        lab._start(
            ["/usr/sbin/smbd", "--foreground", "--no-process-group", "-s", str(d / "smb.conf")],
            "smbd",
            445,
            "smbd.log",
            addrs["smb"][-1],
        )
        d = root / "snmp"
        d.mkdir()
        (d / "snmpd.conf").write_text(
            "agentAddress "
            + ",".join(f"udp:{a}:161" for a in addrs["snmp"])
            + f"\nrocommunity {COMMUNITY} 127.0.0.0/8\nsysName bench-switch\n"
        )
        lab._start(
            [
                "/usr/sbin/snmpd",
                "-f",
                "-C",
                "-c",
                str(d / "snmpd.conf"),
                "-Lf",
                str(d / "log"),
                "-M",
                str(d),
                f"--persistentDir={d}/persist",
                "-p",
                str(d / "pid"),
            ],
            "snmpd",
            None,
            "snmpd.out",
        )
        time.sleep(1.0)
    except BaseException:
        lab.stop()
        raise
    return lab, addrs


TRANSPORT = {
    "sshd": ("ssh", 22),
    "dropbear": ("ssh", 22),
    "http": ("http", 80),
    "https": ("https", 443),
    "smb": ("smb", 445),
    "snmp": ("snmp", 161),
}


def run_legacyscan(addrs: dict[str, list[str]], work: Path) -> dict[str, object]:
    targets = work / "targets.csv"
    rows = [f"{a},BENCH,{TRANSPORT[k][0]},{TRANSPORT[k][1]}," for k, lst in addrs.items() for a in lst]
    targets.write_text("host,site,transport,port,tags\n" + "\n".join(rows) + "\n")
    db = work / "ls.db"
    env = dict(os.environ, LEGACYSCAN_SNMP_COMMUNITY=COMMUNITY)
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner.cli",
            "discover",
            "--targets",
            str(targets),
            "--db",
            f"sqlite:///{db}",
            "--format",
            "json",
            "--concurrency",
            "64",
            "--timeout",
            "5",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 3):
        raise RuntimeError(f"legacyscan discover failed: {r.stderr[-2000:]}")
    report = json.loads(r.stdout)
    identified = 0  # a dataset product (OS or application) named
    verdicts = 0
    by_kind: dict[str, int] = {}
    kind_of = {a: k for k, lst in addrs.items() for a in lst}
    for site in report["sites"]:
        for h in site["hosts"]:
            findings = [h["os"], *h["findings"]] if h["os"] else h["findings"]
            named = [f for f in findings if f and f.get("product")]
            judged = [f for f in named if f["status"] != "unknown"]
            addr = h["host_key"].removeprefix("discovered:")
            if named:
                identified += 1
            if judged:
                verdicts += 1
                by_kind[kind_of.get(addr, "?")] = by_kind.get(kind_of.get(addr, "?"), 0) + 1
    return {
        "wall_s": round(wall, 2),
        "services_with_product": identified,
        "services_with_verdict": verdicts,
        "verdicts_by_kind": by_kind,
    }


def _nmap(
    hosts: list[str], ports: str, work: Path, name: str
) -> tuple[float, list[list[dict[str, object]]], int, list[str]]:
    """One nmap run: (wall, each host's answers as identify records, hosts it named anything on, command)."""
    hosts_file = work / f"{name}.txt"
    hosts_file.write_text("\n".join(hosts) + "\n")
    out = work / f"{name}.xml"
    scans = (["-sS"] if "T:" in ports else []) + (["-sU"] if "U:" in ports else [])
    cmd = ["nmap", "-n", "-Pn", *scans, "-sV", "--script", "smb-os-discovery", "-p", ports, "-iL", str(hosts_file)]
    t0 = time.perf_counter()
    subprocess.run([*cmd, "-oX", str(out)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    root = ET.parse(out).getroot()  # noqa: S314 - nmap's own output file
    identified = 0
    per_host: list[list[dict[str, object]]] = []
    for host in root.iter("host"):
        records: list[dict[str, object]] = []
        named = False
        for p in host.iter("port"):
            state = p.find("state")
            svc = p.find("service")
            if state is None or state.get("state") != "open" or svc is None:
                continue
            if svc.get("product"):
                named = True
                version = (svc.get("version") or "").split(" ")[0]
                records.append(
                    {"kind": "software", "source": "banner", "name": svc.get("product", ""), "version": version}
                )
                if svc.get("ostype"):
                    records.append({"kind": "os", "family": svc.get("ostype", ""), "name": svc.get("ostype", "")})
        for script in host.iter("script"):
            if script.get("id") == "smb-os-discovery":
                named = True
                m = re.search(r"OS: ([^\n]+)", script.get("output", ""))
                if m:
                    records.append({"kind": "os", "caption": m.group(1).strip()})
        identified += named
        per_host.append(records)
    return wall, per_host, identified, [*cmd[:-1], "HOSTS"]


def _judged(per_host: list[list[dict[str, object]]]) -> int:
    """Hosts with a verdict: nmap gives no support verdict, so its answers go through the same
    identifier and dataset (``legacyscan eol identify``), one batch; a host counts when any of its
    answers gets one."""
    flat = [(i, r) for i, recs in enumerate(per_host) for r in recs]
    r = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "eol", "identify", "--as-of", "2026-12-06"],
        input="\n".join(json.dumps(x) for _, x in flat),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    return len(
        {
            i
            for (i, _), line in zip(flat, r.stdout.splitlines(), strict=False)
            if json.loads(line).get("status") not in (None, "unknown")
        }
    )


def run_nmap(addrs: dict[str, list[str]], work: Path) -> dict[str, object]:
    """One nmap over every address with every kind's port (nmap takes no per-host port lists)."""
    wall, per_host, identified, cmd = _nmap(
        [a for lst in addrs.values() for a in lst], "T:22,80,443,445,U:161", work, "nmap-all"
    )
    return {
        "wall_s": round(wall, 2),
        "services_with_product": identified,
        "services_with_verdict": _judged(per_host),
        "command": " ".join(cmd),
    }


def run_nmap_per_service(addrs: dict[str, list[str]], work: Path) -> dict[str, object]:
    """Exactly the 250 services legacyscan is given: one nmap per kind, its addresses and its one
    port only (no closed ports, no UDP scan of the addresses without snmpd), one after another;
    the wall is the sum."""
    wall = 0.0
    per_host: list[list[dict[str, object]]] = []
    identified = 0
    for kind, lst in addrs.items():
        transport, port = TRANSPORT[kind]
        w, hosts, named, _ = _nmap(lst, f"{'U' if transport == 'snmp' else 'T'}:{port}", work, f"nmap-{kind}")
        wall += w
        per_host += hosts
        identified += named
    return {
        "wall_s": round(wall, 2),
        "services_with_product": identified,
        "services_with_verdict": _judged(per_host),
        "command": "nmap -n -Pn -sS|-sU -sV --script smb-os-discovery -p T:PORT|U:161 -iL KIND_HOSTS (one per kind)",
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(json.dumps({"error": "needs root (smbd on 445, sshd)"}))
        return 2
    root = Path(tempfile.mkdtemp(prefix="legacyscan-bench-discover-"))
    lab, addrs = start(root)
    results = []
    try:
        for _ in range(args.repeat):
            ls = run_legacyscan(addrs, root)
            nm = run_nmap(addrs, root)
            exact = run_nmap_per_service(addrs, root)
            results.append({"legacyscan": ls, "nmap": nm, "nmap_per_service": exact})
    finally:
        lab.stop()
        shutil.rmtree(root, ignore_errors=True)

    def best(tool: str) -> float:
        return min(cast(float, r[tool]["wall_s"]) for r in results)

    best_ls, best_nm, best_exact = best("legacyscan"), best("nmap"), best("nmap_per_service")
    print(
        json.dumps(
            {
                "bench": "discover",
                "services": sum(MIX.values()),
                "mix": MIX,
                "runs": results,
                "legacyscan_wall_s": best_ls,
                "nmap_wall_s": best_nm,
                "ratio_vs_nmap": round(best_ls / best_nm, 3) if best_nm else None,
                "nmap_per_service_wall_s": best_exact,
                "ratio_vs_nmap_per_service": round(best_ls / best_exact, 3) if best_exact else None,
                "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                "target": "<= 1.0x nmap's wall time",
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
