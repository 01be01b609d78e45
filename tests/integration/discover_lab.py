"""Real services on loopback for ``legacyscan discover``, Debian's own packages: Samba smbd (SMB1 on,
and SMB2 only), net-snmp snmpd (a v2c community and a v3 user), OpenSSH sshd, dropbear, nginx (HTTP,
and HTTPS with a certificate made here), xrdp (RDP negotiation with TLS, and standard RDP security)
and FreeRDP's shadow server (RDP with NLA: CredSSP and NTLM) on a private Xvfb display -- each on a
non-standard port with its own temporary configuration and state, started and stopped by the tests
themselves.

Every process is started with its pid recorded and stopped by that pid; nothing else is touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SNMP_COMMUNITY = "ward-7-readonly"
SNMP_USER = "clinicaleng"
SNMP_AUTH = "auth-key-for-tests"
SNMP_PRIV = "priv-key-for-tests"
TOOLS = {
    "smbd": "/usr/sbin/smbd",
    "snmpd": "/usr/sbin/snmpd",
    "sshd": "/usr/sbin/sshd",
    "dropbear": "/usr/sbin/dropbear",
    "dropbearkey": "/usr/bin/dropbearkey",
    "nginx": "/usr/sbin/nginx",
    "ssh-keygen": "/usr/bin/ssh-keygen",
    "xrdp": "/usr/sbin/xrdp",
    "freerdp-shadow-cli": "/usr/bin/freerdp-shadow-cli",
    "Xvfb": "/usr/bin/Xvfb",
}


def available() -> str | None:
    for name, path in TOOLS.items():
        if not os.access(path, os.X_OK):
            return (
                f"{name} not installed ({path}; apt-get install samba snmpd openssh-server dropbear-bin "
                "nginx-light xrdp freerdp2-shadow-x11 xvfb)"
            )
    if os.geteuid() != 0:
        return "smbd and sshd need root here"
    return None


# Each service kind on its own loopback address, so one address is one "device".
ADDRESSES = {
    "smb1": "127.0.0.11",
    "smb2": "127.0.0.12",
    "snmp": "127.0.0.13",
    "sshd": "127.0.0.14",
    "http": "127.0.0.14",
    "https": "127.0.0.14",
    "dropbear": "127.0.0.15",
    "rdp": "127.0.0.19",
    "rdp-std": "127.0.0.20",
    "rdp-nla": "127.0.0.21",
}


def free_port(kind: int = socket.SOCK_STREAM, address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def wait_tcp(
    port: int, proc: subprocess.Popen[bytes], what: str, seconds: float = 60.0, address: str = "127.0.0.1"
) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


@dataclass
class Lab:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _start(self, argv: list[str], what: str, port: int | None, log: str, address: str = "127.0.0.1") -> None:
        out = open(self.root / log, "wb")  # noqa: SIM115 - closed with the process below
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        out.close()
        self.procs.append(proc)
        if port is not None:
            wait_tcp(port, proc, what, address=address)

    # -- Samba ---------------------------------------------------------------------------------
    def smbd(self, name: str, min_protocol: str) -> None:
        d = self.root / name
        for sub in ("priv", "lock", "state", "cache", "pid", "log"):
            (d / sub).mkdir(parents=True)
        addr = ADDRESSES[name]
        port = self.ports[name] = free_port(address=addr)
        conf = d / "smb.conf"
        conf.write_text(f"""[global]
  smb ports = {port}
  interfaces = {addr}/8
  bind interfaces only = yes
  netbios name = {name.upper()}
  workgroup = TRUST
  server role = standalone server
  server min protocol = {min_protocol}
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
""")
        self._start(
            ["/usr/sbin/smbd", "--foreground", "--no-process-group", "-s", str(conf), "--debug-stdout"],
            f"smbd {name}",
            port,
            f"{name}.log",
            addr,
        )

    # -- net-snmp ------------------------------------------------------------------------------
    def snmpd(self) -> None:
        d = self.root / "snmp"
        d.mkdir()
        addr = ADDRESSES["snmp"]
        port = self.ports["snmp"] = free_port(socket.SOCK_DGRAM, addr)
        conf = d / "snmpd.conf"
        conf.write_text(f"""agentAddress udp:{addr}:{port}
rocommunity {SNMP_COMMUNITY} 127.0.0.0/8
createUser {SNMP_USER} SHA "{SNMP_AUTH}" AES "{SNMP_PRIV}"
rouser {SNMP_USER} priv
sysName ward7-switch
""")
        self._start(
            [
                "/usr/sbin/snmpd",
                "-f",
                "-C",
                "-c",
                str(conf),
                "-Lf",
                str(d / "snmpd.log"),
                "-M",
                str(d),
                "--persistentDir=" + str(d / "persist"),
                "-p",
                str(d / "pid"),
            ],
            "snmpd",
            None,
            "snmpd.out",
        )
        # UDP: wait until the agent answers (snmpget from the snmp package, v2c).  Bounded but
        # generous: a busy machine can take many seconds to start snmpd and answer its first GET.
        end = time.monotonic() + 60
        while time.monotonic() < end:
            r = subprocess.run(
                [
                    "snmpget",
                    "-v2c",
                    "-c",
                    SNMP_COMMUNITY,
                    "-t",
                    "2",
                    "-r",
                    "0",
                    "-M",
                    str(d),
                    f"{addr}:{port}",
                    "1.3.6.1.2.1.1.5.0",
                ],
                capture_output=True,
                check=False,
            )
            if r.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("snmpd did not answer")

    # -- SSH -----------------------------------------------------------------------------------
    def sshd(self) -> None:
        d = self.root / "sshd"
        d.mkdir()
        subprocess.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
        addr = ADDRESSES["sshd"]
        port = self.ports["sshd"] = free_port(address=addr)
        conf = d / "sshd_config"
        conf.write_text(
            f"ListenAddress {addr}:{port}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\nUsePAM no\n"
            "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        )
        os.makedirs("/run/sshd", exist_ok=True)
        self._start(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], "sshd", port, "sshd.log", addr)

    def dropbear(self) -> None:
        d = self.root / "dropbear"
        d.mkdir()
        subprocess.run(["/usr/bin/dropbearkey", "-t", "ed25519", "-f", str(d / "key")], check=True, capture_output=True)
        addr = ADDRESSES["dropbear"]
        port = self.ports["dropbear"] = free_port(address=addr)
        self._start(
            ["/usr/sbin/dropbear", "-F", "-E", "-s", "-p", f"{addr}:{port}", "-r", str(d / "key")],
            "dropbear",
            port,
            "dropbear.log",
            addr,
        )

    # -- nginx ---------------------------------------------------------------------------------
    def nginx(self) -> None:
        d = self.root / "nginx"
        d.mkdir()
        (d / "html").mkdir()
        (d / "html" / "index.html").write_text("ok\n")
        cert, key = self.certificate(d)
        addr = ADDRESSES["http"]
        http, https = self.ports["http"], self.ports["https"] = free_port(address=addr), free_port(address=addr)
        conf = d / "nginx.conf"
        conf.write_text(f"""daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp_body;
  proxy_temp_path {d}/tmp_proxy;
  fastcgi_temp_path {d}/tmp_fastcgi;
  uwsgi_temp_path {d}/tmp_uwsgi;
  scgi_temp_path {d}/tmp_scgi;
  server {{ listen {addr}:{http}; root {d}/html; }}
  server {{ listen {addr}:{https} ssl; ssl_certificate {cert}; ssl_certificate_key {key};
           ssl_protocols TLSv1.2 TLSv1.3; root {d}/html; }}
}}
""")
        self._start(["/usr/sbin/nginx", "-p", str(d), "-c", str(conf)], "nginx", http, "nginx.log", addr)
        wait_tcp(https, self.procs[-1], "nginx https", address=addr)

    # -- xrdp (RDP negotiation and TLS; xrdp has no CredSSP/NLA) ------------------------------
    def xrdp(self, name: str, security_layer: str) -> None:
        d = self.root / name
        d.mkdir()
        cert, key = self.certificate(d)
        addr = ADDRESSES[name]
        port = self.ports[name] = free_port(address=addr)
        conf = d / "xrdp.ini"
        conf.write_text(f"""[Globals]
ini_version=1
fork=true
port=tcp://{addr}:{port}
security_layer={security_layer}
crypt_level=high
certificate={cert}
key_file={key}
ssl_protocols=TLSv1.2, TLSv1.3

[Logging]
LogFile={d}/xrdp.log
LogLevel=INFO
EnableSyslog=false
""")
        self._start(["/usr/sbin/xrdp", "--nodaemon", "--config", str(conf)], f"xrdp {name}", port, f"{name}.log", addr)

    # -- FreeRDP shadow server: RDP with NLA (CredSSP + NTLM, WinPR), on a private Xvfb display ------
    def _xvfb(self) -> tuple[subprocess.Popen[bytes], int]:
        """A private Xvfb; it picks a free display itself and writes its number to -displayfd once
        it accepts clients.  ``-noreset``: an X server resets when its last client leaves, and the
        readiness check below is a client -- a shadow server connecting during that reset failed
        with "failed to open display" (2 of 5 starts on the shared machine; 20 of 20 started with it)."""
        import select

        read_end, write_end = os.pipe()
        log = open(self.root / "xvfb.log", "ab")  # noqa: SIM115 - closed right after the start
        xvfb = subprocess.Popen(
            [
                "/usr/bin/Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                "640x480x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            pass_fds=(write_end,),
            start_new_session=True,
        )
        log.close()
        os.close(write_end)
        self.procs.append(xvfb)
        number = b""
        end = time.monotonic() + 15
        while not number.endswith(b"\n") and time.monotonic() < end:
            ready, _, _ = select.select([read_end], [], [], 0.5)
            if ready:
                chunk = os.read(read_end, 16)
                if not chunk:
                    break
                number += chunk
        os.close(read_end)
        if not number.strip().isdigit():
            raise RuntimeError("Xvfb did not start")
        display = int(number)
        end = time.monotonic() + 10
        while True:  # the display's socket accepts clients (then the shadow server can open it)
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(f"/tmp/.X11-unix/X{display}")
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError(f"Xvfb display :{display} accepts no clients") from None
                time.sleep(0.1)
        time.sleep(0.5)
        return xvfb, display

    def freerdp_nla(self) -> None:
        d = self.root / "freerdp"
        d.mkdir()
        addr = ADDRESSES["rdp-nla"]
        port = self.ports["rdp-nla"] = free_port(address=addr)
        xvfb: subprocess.Popen[bytes] | None = None
        display = -1
        # A freshly started Xvfb can refuse its first clients for a moment under load: the shadow
        # server exits at once then, and is started again (a few times, never left running twice).
        # An Xvfb that is gone by then (on a machine shared with other test runs, one was seen to end
        # with status 0, as after a SIGTERM) is replaced by a fresh one on its own display.
        for attempt in range(6):
            if xvfb is None or xvfb.poll() is not None:
                xvfb, display = self._xvfb()
            env = dict(os.environ, HOME=str(d), DISPLAY=f":{display}")
            out = open(self.root / "freerdp.log", "wb")  # noqa: SIM115 - closed right after the start
            proc = subprocess.Popen(
                ["/usr/bin/freerdp-shadow-cli", f"/port:{port}", f"/bind-address:{addr}", "/sec:nla"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
            out.close()
            try:
                wait_tcp(port, proc, "freerdp-shadow-cli", address=addr)
            except RuntimeError as exc:
                if proc.poll() is not None and attempt < 5:
                    time.sleep(1.0)
                    continue
                if proc.poll() is None:
                    self.procs.append(proc)
                tail = (self.root / "freerdp.log").read_bytes()[-1500:].decode(errors="replace")
                xlog = (self.root / "xvfb.log").read_bytes()[-800:].decode(errors="replace")
                raise RuntimeError(f"{exc}: {tail} (Xvfb :{display} status {xvfb.poll()}: {xlog})") from exc
            self.procs.append(proc)
            break

    @staticmethod
    def certificate(d: Path) -> tuple[Path, Path]:
        """A self-signed certificate for "pacs-web.ward7.example" that expired yesterday (an expired
        certificate is one of the facts discovery reports)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "pacs-web.ward7.example"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ward 7 Imaging"),
            ]
        )
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(0x5EED)
            .not_valid_before(now - timedelta(days=400))
            .not_valid_after(now - timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("pacs-web.ward7.example")]), False)
            .sign(key, hashes.SHA256())
        )
        cert_path, key_path = d / "cert.pem", d / "key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_path, key_path

    def targets_csv(self, site: str = "RXX01") -> str:
        """A discovery targets file naming every service of the lab on its own address."""
        kinds = {
            "smb1": "smb",
            "smb2": "smb",
            "snmp": "snmp",
            "sshd": "ssh",
            "http": "http",
            "https": "https",
            "dropbear": "ssh",
            "rdp": "rdp",
            "rdp-std": "rdp",
            "rdp-nla": "rdp",
        }
        rows = [f"{ADDRESSES[k]},{site},{kinds[k]},{p}," for k, p in self.ports.items()]
        return "host,site,transport,port,tags\n" + "\n".join(rows) + "\n"

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def start(kinds: tuple[str, ...] = ("smb1", "smb2", "snmp", "sshd", "dropbear", "nginx", "rdp")) -> Lab:
    lab = Lab(Path(tempfile.mkdtemp(prefix="legacyscan-discover-lab-")))
    try:
        if "smb1" in kinds:
            lab.smbd("smb1", "NT1")
        if "smb2" in kinds:
            lab.smbd("smb2", "SMB2_02")
        if "snmp" in kinds:
            lab.snmpd()
        if "sshd" in kinds:
            lab.sshd()
        if "dropbear" in kinds:
            lab.dropbear()
        if "nginx" in kinds:
            lab.nginx()
        if "rdp" in kinds:
            lab.xrdp("rdp", "negotiate")
            lab.xrdp("rdp-std", "rdp")
            lab.freerdp_nla()
    except BaseException:
        lab.stop()
        raise
    return lab
