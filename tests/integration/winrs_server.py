"""A WinRS (WS-Management remote shell) endpoint for tests and benchmarks, on loopback.

No real WinRM server runs on Linux (see docs: openwsman serves no shell, OMI is unsupported), so
the suite talks to this one with UNMODIFIED pywinrm over real HTTP.  What is real here:

* the HTTP exchange: ``POST /wsman``, keep-alive, ``401`` challenges;
* authentication: Basic (``WWW-Authenticate: Basic realm="WSMAN"``) and NTLM through pyspnego's
  acceptor (``NTLM_USER_FILE``), a real three-leg handshake bound to the TCP connection;
* WinRM message encryption exactly as Windows does it over HTTP:
  ``multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"`` with
  ``wrap_winrm``/``unwrap_winrm``; plain SOAP on an NTLM connection is refused as Windows does;
* the shell protocol: Create / Command / Send / Receive (chunked: Running, then Done with
  ExitCode) / Signal / Delete, shaped after Windows Server recordings (pypsrp's
  ``test_winrs_*.yml``, MIT), including the ``rsp:Shell`` block of CreateResponse;
* SOAP faults with ``f:WSManFault`` codes (HTTP 500): w:TimedOut (2150858793) on a Receive
  that has no output yet, an unknown shell (2150858843), a process that cannot start (206);
* the command line: ``-EncodedCommand`` is decoded (UTF-16-LE base64; legacyscan's gzip loader
  unpacked; the stdin bootstrap fed from Send), cmd.exe's 8,191-character limit is enforced when
  ``WINRS_SKIP_CMD_SHELL`` is FALSE and CreateProcess's 32,767 otherwise (``strict_cmdline``).

What a "host" answers is a :class:`Behaviour`: the collection document (one of the fixtures built
from real machines) plus the failure to inject.
"""

from __future__ import annotations

import base64
import gzip
import os
import re
import ssl
import struct
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "create",
    f"{SHELL_URI}/Command": "command",
    f"{SHELL_URI}/Send": "send",
    f"{SHELL_URI}/Receive": "receive",
    f"{SHELL_URI}/Signal": "signal",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "delete",
}
BOUNDARY = b"--Encrypted Boundary"
ENC_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
COLLECT_MARKER = "legacyscan Windows collection script"
BOOTSTRAP_MARKER = "@($input)"  # the stdin bootstrap
CMD_LIMIT = 8191
CREATEPROCESS_LIMIT = 32767


@dataclass
class Behaviour:
    """What the simulated host prints and which failure it injects."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    chunk_size: int = 32 * 1024  # stdout bytes per Receive: a document takes several
    timed_out_receives: int = 0  # first N Receives answer w:TimedOut (a slow WMI query)
    fault_on_receive: int | None = None  # this Receive (0-based) answers a fault instead
    hang_on_receive: float = 0.0  # seconds to stall every Receive (a hung host)
    respond: Callable[[str], tuple[bytes, bytes, int]] | None = None  # script text -> output
    # Programs that do not exist on this host: the Command fault Windows sends when CreateProcess
    # fails with ERROR_FILE_NOT_FOUND (a host with WinRM 1.1 but no PowerShell, Server Core
    # without the PowerShell feature).
    missing_programs: tuple[str, ...] = ()
    # A host older than Windows 7 / Server 2008 R2: in a shell created with code page 65001 a
    # command ends at once, exit 0, with no output (WinRb/WinRM issues 173 and 232).
    pre_utf8_host: bool = False
    # Nano Server: a shell in any code page but 65001 is refused with a fault.
    utf8_only: bool = False


def document_behaviour(document: str | bytes, **kw: Any) -> Behaviour:
    """A host that answers the collection script with ``document`` and anything else with an error."""
    data = document.encode("ascii") if isinstance(document, str) else document
    return Behaviour(stdout=data, **kw)


@dataclass
class _Command:
    script: str
    via_stdin: bool
    stdin: bytearray = field(default_factory=bytearray)
    stdin_done: bool = False
    receives: int = 0
    sent: int = 0
    output: tuple[bytes, bytes, int] | None = None


@dataclass
class _Shell:
    commands: dict[str, _Command] = field(default_factory=dict)
    codepage: str = "437"


@dataclass
class Stats:
    shells_created: int = 0
    shells_deleted: int = 0
    signals: int = 0
    receives: int = 0
    auth_failures: int = 0
    plain_refused: int = 0
    scripts: list[str] = field(default_factory=list)
    codepages: list[str] = field(default_factory=list)


def decode_command_line(command: str, arguments: list[str]) -> str | None:
    """The PowerShell script in ``powershell ... -EncodedCommand <b64>``, or None."""
    words = command.split() + [w for a in arguments for w in a.split()]
    for i, word in enumerate(words[:-1]):
        if word.lower() in ("-encodedcommand", "-enc", "-e", "-ec"):
            try:
                text = base64.b64decode(words[i + 1]).decode("utf-16-le")
            except ValueError:
                return None
            # legacyscan's loader: the real script travels gzip-compressed inside it
            packed = re.search(r"FromBase64String\('([A-Za-z0-9+/=]+)'\).*GZipStream", text)
            if packed:
                return gzip.decompress(base64.b64decode(packed.group(1))).decode("utf-8")
            return text
    return None


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (the timeout tests do, on purpose) is not an error worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError | TimeoutError):
            return
        super().handle_error(request, client_address)


def make_tls_cert(directory: str, name: str = "localhost") -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 / localhost (the HTTPS listener); returns (cert, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=36500))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "winrm-cert.pem")
    key_path = os.path.join(directory, "winrm-key.pem")
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


class WinRSServer:
    """Start with ``with WinRSServer(...) as srv:``; ``srv.endpoint`` is the pywinrm URL."""

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        auth: str = "ntlm",
        user: str = "scanner",
        password: str = "Sup3r-Secret!",  # noqa: S107 - test account
        domain: str = "HOSPITAL",
        strict_cmdline: bool = True,
        tls_cert: tuple[str, str] | None = None,
    ) -> None:
        if auth not in ("ntlm", "basic"):
            raise ValueError(auth)
        self.behaviour = behaviour
        self.auth = auth
        self.user, self.password, self.domain = user, password, domain
        self.strict_cmdline = strict_cmdline
        self.stats = Stats()
        self.shells: dict[str, _Shell] = {}
        self.lock = threading.Lock()
        self._ntlm_file: str | None = None
        if auth == "ntlm":
            fd, self._ntlm_file = tempfile.mkstemp(prefix="ntlm-users-")
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{domain}:{user}:{password}\n")
            # pyspnego's NTLM acceptor reads this file; one per process is enough for the suite.
            os.environ["NTLM_USER_FILE"] = self._ntlm_file
        self.httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        scheme = "http"
        self.tls = tls_cert is not None
        if tls_cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_cert)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.endpoint = f"{scheme}://127.0.0.1:{self.port}/wsman"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> WinRSServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._ntlm_file:
            try:
                os.unlink(self._ntlm_file)
            except OSError:
                pass

    # -- the shell protocol ----------------------------------------------------------------------

    def handle_soap(self, body: bytes) -> tuple[int, str]:
        root = ET.fromstring(body)  # noqa: S314 - our own client's messages, in a test
        header = root.find("s:Header", NS)
        action_el = header.find("a:Action", NS) if header is not None else None
        action = ACTIONS.get((action_el.text or "").strip() if action_el is not None else "")
        msg_id_el = header.find("a:MessageID", NS) if header is not None else None
        message_id = msg_id_el.text if msg_id_el is not None and msg_id_el.text else "uuid:" + str(uuid.uuid4())
        shell_el = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS) if header is not None else None
        shell_id = shell_el.text if shell_el is not None else None
        options = {o.get("Name", ""): (o.text or "") for o in root.iterfind(".//w:OptionSet/w:Option", NS)}
        body_el = root.find("s:Body", NS)
        if action is None:
            return 500, self.fault(
                message_id,
                "s:Sender",
                "w:ActionNotSupported",
                2150858752,
                "The action is not supported by the service.",
            )
        if action == "create":
            codepage = options.get("WINRS_CODEPAGE", "437")
            if self.behaviour.utf8_only and codepage != "65001":
                return 500, self.fault(
                    message_id,
                    "s:Sender",
                    "w:InvalidOptions",
                    2150858842,
                    "The WS-Management service does not support the specified code page.",
                )
            new_id = str(uuid.uuid4()).upper()
            with self.lock:
                self.shells[new_id] = _Shell(codepage=codepage)
                self.stats.codepages.append(codepage)
                self.stats.shells_created += 1
            return 200, self.envelope(
                "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
                message_id,
                _create_body(new_id, self.endpoint),
            )
        shell = self.shells.get(shell_id or "")
        if shell is None:
            return 500, self.fault(
                message_id,
                "s:Sender",
                "w:InvalidSelectors",
                2150858843,
                f"The request for the Windows Remote Shell with ShellId {shell_id} failed "
                "because the shell was not found on the server. Possible causes are: the "
                "specified ShellId is incorrect or the shell no longer exists on the server.",
            )
        if action == "delete":
            with self.lock:
                self.shells.pop(shell_id or "", None)
                self.stats.shells_deleted += 1
            return 200, self.envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", message_id, "")
        assert body_el is not None
        if action == "command":
            return self._command(shell, body_el, options, message_id)
        if action == "send":
            stream = body_el.find("rsp:Send/rsp:Stream", NS)
            assert stream is not None
            cmd = shell.commands[stream.get("CommandId", "")]
            cmd.stdin += base64.b64decode(stream.text or "")
            if stream.get("End") == "true":
                cmd.stdin_done = True
            return 200, self.envelope(f"{SHELL_URI}/SendResponse", message_id, "<rsp:SendResponse/>")
        if action == "signal":
            signal = body_el.find("rsp:Signal", NS)
            assert signal is not None
            shell.commands.pop(signal.get("CommandId", ""), None)
            with self.lock:
                self.stats.signals += 1
            return 200, self.envelope(f"{SHELL_URI}/SignalResponse", message_id, "<rsp:SignalResponse/>")
        desired = body_el.find("rsp:Receive/rsp:DesiredStream", NS)
        assert desired is not None
        command_id = desired.get("CommandId", "")
        return self._receive(shell, command_id, message_id)

    def _command(self, shell: _Shell, body: ET.Element, options: dict[str, str], message_id: str) -> tuple[int, str]:
        command = (body.findtext("rsp:CommandLine/rsp:Command", "", NS) or "").strip()
        arguments = [a.text or "" for a in body.iterfind("rsp:CommandLine/rsp:Arguments", NS)]
        line = " ".join([command, *arguments])
        skip_cmd = options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() == "TRUE"
        if self.strict_cmdline and skip_cmd and len(line) > CREATEPROCESS_LIMIT:
            return 500, self.fault(
                message_id, "s:Receiver", "w:InternalError", 206, "The filename or extension is too long."
            )
        if command.lower() in self.behaviour.missing_programs:
            return 500, self.fault(
                message_id, "s:Receiver", "w:InternalError", 2, "The system cannot find the file specified. "
            )
        script = decode_command_line(command, arguments)
        command_id = str(uuid.uuid4()).upper()
        via_stdin = script is not None and BOOTSTRAP_MARKER in script
        cmd = _Command(script=script or "", via_stdin=via_stdin)
        if self.strict_cmdline and not skip_cmd and len(line) > CMD_LIMIT:
            cmd.output = (b"", b"The command line is too long.\r\n", 1)
        elif self.behaviour.pre_utf8_host and shell.codepage == "65001":
            cmd.output = (b"", b"", 0)  # the command never ran
        shell.commands[command_id] = cmd
        return 200, self.envelope(
            f"{SHELL_URI}/CommandResponse",
            message_id,
            f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>",
        )

    def _run(self, cmd: _Command) -> tuple[bytes, bytes, int]:
        script = cmd.script
        if cmd.via_stdin:
            script = cmd.stdin.decode("utf-8", "replace")
        with self.lock:
            self.stats.scripts.append(script)
        b = self.behaviour
        if b.respond is not None:
            return b.respond(script)
        if COLLECT_MARKER in script:
            return b.stdout, b.stderr, b.exit_code
        return b"", b"The term is not recognized as the name of a cmdlet.\r\n", 1

    def _receive(self, shell: _Shell, command_id: str, message_id: str) -> tuple[int, str]:
        cmd = shell.commands.get(command_id)
        b = self.behaviour
        with self.lock:
            self.stats.receives += 1
        if cmd is None:
            return 500, self.fault(
                message_id, "s:Sender", "w:InvalidParameter", 2150858843, "The command was not found."
            )
        index = cmd.receives
        cmd.receives += 1
        if b.hang_on_receive:
            time.sleep(b.hang_on_receive)
        if b.fault_on_receive is not None and index == b.fault_on_receive:
            return 500, self.fault(
                message_id,
                "s:Receiver",
                "w:InternalError",
                995,
                "The I/O operation has been aborted because of either a thread exit or an application request.",
            )
        if index < b.timed_out_receives or (cmd.via_stdin and not cmd.stdin_done):
            return 500, self.fault(
                message_id,
                "s:Receiver",
                "w:TimedOut",
                2150858793,
                "The WS-Management service cannot complete the operation within the time "
                "specified in OperationTimeout.  ",
            )
        if cmd.output is None:
            cmd.output = self._run(cmd)
        stdout, stderr, code = cmd.output
        chunk = stdout[cmd.sent : cmd.sent + b.chunk_size]
        cmd.sent += len(chunk)
        done = cmd.sent >= len(stdout)
        streams = []
        if chunk:
            streams.append(
                f'<rsp:Stream Name="stdout" CommandId="{command_id}">{base64.b64encode(chunk).decode()}</rsp:Stream>'
            )
        if done:
            if stderr:
                streams.append(
                    f'<rsp:Stream Name="stderr" CommandId="{command_id}">'
                    f"{base64.b64encode(stderr).decode()}</rsp:Stream>"
                )
            streams.append(f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>')
            streams.append(f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>')
            state = (
                f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_URI}/CommandState/Done">'
                f"<rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>"
            )
        else:
            state = f'<rsp:CommandState CommandId="{command_id}" State="{SHELL_URI}/CommandState/Running"/>'
        body = "<rsp:ReceiveResponse>" + "".join(streams) + state + "</rsp:ReceiveResponse>"
        return 200, self.envelope(f"{SHELL_URI}/ReceiveResponse", message_id, body)

    # -- envelopes -------------------------------------------------------------------------------

    def envelope(self, action: str, relates_to: str, body: str) -> str:
        return (
            '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
            'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
            f'xmlns:rsp="{SHELL_URI}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
            f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
            "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
            f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
        )

    def fault(self, relates_to: str, code: str, subcode: str, wsman_code: int, text: str) -> str:
        body = (
            f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode>"
            f'</s:Code><s:Reason><s:Text xml:lang="en-US">{escape(text)}</s:Text></s:Reason><s:Detail>'
            '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
            f'Code="{wsman_code}" Machine="127.0.0.1"><f:Message>{escape(text)}</f:Message></f:WSManFault>'
            "</s:Detail></s:Fault>"
        )
        return self.envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


def _create_body(shell_id: str, endpoint: str) -> str:
    return (
        f"<x:ResourceCreated><a:Address>{endpoint}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{SHELL_URI}/cmd</w:ResourceURI><w:SelectorSet>"
        f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
        f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
        f"<rsp:ResourceUri>{SHELL_URI}/cmd</rsp:ResourceUri><rsp:Owner>SCANNER</rsp:Owner>"
        "<rsp:ClientIP>127.0.0.1</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
        "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
        "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
        "</rsp:Shell>"
    )


# -- HTTP, authentication and message encryption ------------------------------------------------


def _make_handler(server: WinRSServer) -> type[BaseHTTPRequestHandler]:
    import spnego

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # without it every reply stalls 40 ms (delayed ACK)
        ctx: Any = None
        authed = False

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

        def _send(self, status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> None:
            self.send_response(status)
            for name, value in headers or []:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _challenge(self) -> None:
            if server.auth == "basic":
                self._send(401, headers=[("WWW-Authenticate", 'Basic realm="WSMAN"')])
            else:
                self._send(401, headers=[("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "Kerberos")])

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path != "/wsman":
                self._send(404)
                return
            auth = self.headers.get("Authorization", "")
            if server.auth == "basic":
                expected = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
                if auth != f"Basic {expected}":
                    if auth:
                        server.stats.auth_failures += 1
                    self._challenge()
                    return
                self._soap(body, encrypted=False)
                return
            if auth.startswith(("Negotiate ", "NTLM ")):
                token = base64.b64decode(auth.split(" ", 1)[1])
                if self.ctx is None or self.authed or token[8:12] == b"\x01\x00\x00\x00":
                    self.ctx = spnego.server(protocol="ntlm")  # a new handshake (NEGOTIATE message)
                    self.authed = False
                try:
                    out = self.ctx.step(token)
                except Exception:  # noqa: BLE001 - a wrong password is an SpnegoError
                    server.stats.auth_failures += 1
                    self.ctx = None
                    self._challenge()
                    return
                if not self.ctx.complete:
                    self._send(401, headers=[("WWW-Authenticate", "Negotiate " + base64.b64encode(out).decode())])
                    return
                self.authed = True
                headers = [("WWW-Authenticate", "Negotiate " + base64.b64encode(out).decode())] if out else []
                if not body:
                    self._send(200, headers=headers)
                    return
            if not self.authed:
                self._challenge()
                return
            content_type = self.headers.get("Content-Type", "")
            if "multipart/encrypted" not in content_type and server.tls:
                self._soap(body, encrypted=False)  # over HTTPS the TLS channel protects the message
                return
            if "multipart/encrypted" not in content_type:
                server.stats.plain_refused += 1  # AllowUnencrypted=false, as Windows ships
                self._challenge()
                return
            self._soap(self._unwrap(body), encrypted=True)

        def _unwrap(self, body: bytes) -> bytes:
            parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
            payload = parts[1]
            if payload.endswith(BOUNDARY + b"--\r\n"):
                payload = payload[: -len(BOUNDARY + b"--\r\n")]
            payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
            sig_len = struct.unpack("<i", payload[:4])[0]
            header, data = payload[4 : 4 + sig_len], payload[4 + sig_len :]
            return bytes(self.ctx.unwrap_winrm(header, data))

        def _wrap(self, message: bytes) -> bytes:
            result = self.ctx.wrap_winrm(message)
            header, data = result.header, result.data
            return (
                BOUNDARY + b"\r\n\tContent-Type: " + ENC_PROTOCOL.encode() + b"\r\n"
                b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
                + str(len(message)).encode()
                + b"\r\n"
                + BOUNDARY
                + b"\r\n\tContent-Type: application/octet-stream\r\n"
                + struct.pack("<i", len(header))
                + header
                + data
                + BOUNDARY
                + b"--\r\n"
            )

        def _soap(self, body: bytes, *, encrypted: bool) -> None:
            try:
                status, text = server.handle_soap(body)
            except ET.ParseError:
                status, text = 400, ""
            payload = text.encode("utf-8")
            if encrypted and payload:
                content_type = f'multipart/encrypted;protocol="{ENC_PROTOCOL}";boundary="Encrypted Boundary"'
                self._send(status, self._wrap(payload), [("Content-Type", content_type)])
            else:
                self._send(status, payload, [("Content-Type", "application/soap+xml;charset=UTF-8")])

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve one host from the command line (the benchmark runs the server in its own process so
    that the client's CPU time is measured alone).  Prints the port, then serves until killed."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--document", required=True, help="collection document (collect.json) to answer with")
    parser.add_argument("--auth", choices=("ntlm", "basic"), default="ntlm")
    parser.add_argument(
        "--no-strict-cmdline",
        action="store_true",
        help="accept run_ps's over-long cmd.exe command line (for the benchmark's floor)",
    )
    args = parser.parse_args(argv)
    with open(args.document, "rb") as fh:
        behaviour = document_behaviour(fh.read())
    server = WinRSServer(behaviour, auth=args.auth, strict_cmdline=not args.no_strict_cmdline)
    sys.stdout.write(f"{server.port}\n")
    sys.stdout.flush()
    try:
        server.httpd.serve_forever(poll_interval=0.2)
    finally:
        server.close()


if __name__ == "__main__":
    main()
