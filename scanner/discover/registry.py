"""The probe registry: transport name -> probe function.  An explicit table (no plugin
discovery): adding a protocol means one module and one line here, and ``docs/discovery.md``
documents exactly what each of them sends."""

from __future__ import annotations

from scanner.discover import http, rdp, smb, snmp, ssh
from scanner.discover.base import Probe

PROBES: dict[str, Probe] = {
    "ssh": ssh.probe,
    "smb": smb.probe,
    "snmp": snmp.probe,
    "http": http.probe_http,
    "https": http.probe_https,
    "rdp": rdp.probe,
}
