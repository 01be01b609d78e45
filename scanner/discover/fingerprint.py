"""What the services of one address announced -> one Inventory, marked as discovered.

The Inventory is the same document an agent or a probe produces, so discovered devices are
stored, matched and reported by the same code as everything else.  What differs is only where
the evidence came from: ``collector.transport = "discovery"`` marks the host as discovered, and
the OS evidence is an ``announced`` record that ``scanner.identify.announced`` turns into a product
and cycle (delegating Windows builds to the Windows identifier), with a confidence that is never
"high": a banner can be stale, edited or a decoy.

The rules that read banners are data (``eol_data/rules/announced.toml``); this module only picks
the strongest evidence among the services and keeps every service's own words in ``os.facts``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from agents.collect import iso
from agents.inventory import Collector, Host, Inventory, OsInfo, Problem, Software
from eol_data.rules import Rules, load_rules
from scanner.discover.base import Observation
from scanner.targets import Target

TRANSPORT = "discovery"
_RANK = {"medium": 2, "low": 1}
_DISTRO_MARKERS = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "raspbian": "Debian",
    "red hat": "Red Hat",
    "centos": "CentOS",
    "rocky": "Rocky Linux",
    "almalinux": "AlmaLinux",
    "suse": "SUSE",
    "fedora": "Fedora",
}
# Windows releases named by their NativeOS string (SMB1): they carry the edition, which the NT
# version alone cannot (client or server).
_WINDOWS_CAPTION = re.compile(
    r"^Windows\b.*?\b(?:XP|Vista|7|8|8\.1|10|11|2000|2003|2008|2012|2016|2019|2022|2025|NT|"
    r"Embedded|Storage|Small Business|Home Server)\b",
    re.I,
)
_SERVER_TOKEN = re.compile(r"(?P<name>[A-Za-z][\w.-]*(?: [A-Za-z][\w-]*)?)/(?P<version>\d[\w.-]*)")


def _samba(facts: dict[str, Any]) -> str:
    """The Samba version a server announced, or "" (Samba's own signals, never its NTLM version)."""
    lanman = str(facts.get("native_lanman", ""))
    m = re.match(r"Samba\s+(\S+)", lanman, re.I)
    if m:
        return m.group(1)
    version = str(facts.get("ntlm_version", ""))
    # Samba's NTLMSSP claims Windows 6.1 with build 0; every Windows release states its real build.
    if version.endswith(".0") and version.count(".") == 2:
        return "unknown version"
    return ""


def _winpr(facts: dict[str, Any]) -> bool:
    """FreeRDP's WinPR answers NTLM with a fixed Windows 6.1.7601 version; Windows releases with NT
    6.x never negotiate TLS 1.3 (Windows' TLS 1.3 starts with NT 10.0 builds of Server 2022 / 11)."""
    version = str(facts.get("ntlm_version", ""))
    return bool(re.match(r"[1-6]\.", version)) and str(facts.get("tls_version", "")) == "TLSv1.3"


def _windows_evidence(facts: dict[str, Any], by: str) -> dict[str, Any] | None:
    version = str(facts.get("ntlm_version", ""))
    caption = str(facts.get("native_os", ""))
    out: dict[str, Any] = {}
    if re.fullmatch(r"\d+\.\d+\.\d{3,5}", version):
        out["windows_version"] = version
    if _WINDOWS_CAPTION.match(caption):
        out["caption"] = caption
    elif not out and re.fullmatch(r"Windows (?:NT )?\d+\.\d+", caption):
        # XP and 2000 say only "Windows 5.1" / "Windows 5.0" (never reached for Samba: checked first)
        out["windows_version"] = caption.split()[-1]
    if not out:
        return None
    out.update(
        by=by,
        confidence="medium",
        evidence="; ".join(f"{k}={facts[k]!r}" for k in ("ntlm_version", "native_os") if facts.get(k)),
    )
    return out


def _ssh_evidence(facts: dict[str, Any], rules: Rules) -> dict[str, Any] | None:
    comment = str(facts.get("comment", ""))
    software = str(facts.get("software", ""))
    version = str(facts.get("version", ""))
    table = rules.table("announced")
    if not comment or software.lower() != "openssh":
        return None
    for rule in table.get("ssh_os", []):
        m = re.search(rule["comment"], comment, re.I)
        if not m:
            continue
        groups = m.groupdict()
        if groups.get("version"):
            release = groups["version"]
        elif groups.get("codename"):
            release = table.get("ssh_os_codenames", {}).get(groups["codename"].lower(), "")
        elif rule.get("from") == "openssh_version":
            release = rule.get("versions", {}).get(version, "")
        else:
            release = ""
        return {
            "by": "ssh-banner",
            "product": rule["product"],
            "version": release,
            "family": "freebsd" if rule["product"] == "freebsd" else "linux",
            "confidence": rule.get("confidence", "low"),
            "why": rule.get("why", ""),
            "evidence": str(facts.get("banner", "")),
        }
    return None


def _snmp_evidence(facts: dict[str, Any], rules: Rules) -> dict[str, Any] | None:
    descr = str(facts.get("sys_descr", ""))
    if not descr:
        return None
    for rule in rules.table("announced").get("snmp_os", []):
        m = re.search(rule["pattern"], descr, re.I | re.S)
        if not m:
            continue
        groups = m.groupdict()
        out: dict[str, Any] = {
            "by": "snmp-sysdescr",
            "family": rule.get("family", "unknown"),
            "confidence": rule.get("confidence", "low"),
            "why": rule.get("why", ""),
            "evidence": descr[:300],
        }
        if groups.get("nt") and groups.get("build"):
            out["windows_version"] = f"{groups['nt']}.{groups['build']}"
        elif rule.get("product"):
            out["product"] = rule["product"]
            if rule.get("from") == "kernel":
                out["version"] = rule.get("versions", {}).get(groups.get("kernel", ""), "")
            else:
                out["version"] = groups.get("version", "")
        return out
    return None


def _http_evidence(facts: dict[str, Any], rules: Rules, by: str) -> dict[str, Any] | None:
    server = str(facts.get("server", ""))
    m = re.search(r"Microsoft-IIS/(\d+\.\d+)", server)
    if m:
        nt = rules.table("announced").get("iis_windows", {}).get(m.group(1))
        out: dict[str, Any] = {
            "by": by,
            "family": "windows",
            "confidence": "low",
            "evidence": server,
            "why": f"IIS {m.group(1)} ships with one Windows release",
        }
        if nt:
            out["windows_version"] = nt
        return out
    for marker, label in _DISTRO_MARKERS.items():
        if re.search(rf"\({re.escape(marker)}", server, re.I) and label in ("Debian", "Ubuntu"):
            return {
                "by": by,
                "family": "linux",
                "product": label.lower(),
                "version": "",
                "confidence": "low",
                "evidence": server,
                "why": f"the web server names a {label} build (no release)",
            }
    if re.search(r"\(Win(?:32|64)\)", server):
        return {
            "by": by,
            "family": "windows",
            "confidence": "low",
            "evidence": server,
            "why": "the web server names a Windows build (no release)",
        }
    return None


def _strength(ev: dict[str, Any]) -> tuple[int, int]:
    specific = (
        2 if (ev.get("windows_version") or ev.get("caption") or ev.get("version")) else 1 if ev.get("product") else 0
    )
    return (_RANK.get(str(ev.get("confidence")), 0), specific)


def _software(obs: Observation) -> list[Software]:
    facts, key = obs.facts, f"{obs.service}://{obs.host}:{obs.port}"
    out: list[Software] = []
    if obs.service == "ssh" and facts.get("software"):
        out.append(
            Software(
                name=str(facts["software"]),
                version=str(facts.get("version", "")),
                source="banner",
                key=key,
                publisher=_marker(str(facts.get("comment", ""))),
            )
        )
    if obs.service in ("http", "https"):
        server = str(facts.get("server", ""))
        marker = _marker(server)
        for m in _SERVER_TOKEN.finditer(server + " " + str(facts.get("x-powered-by", ""))):
            out.append(
                Software(name=m.group("name"), version=m.group("version"), source="banner", key=key, publisher=marker)
            )
    if obs.service == "smb":
        samba = _samba(facts)
        if samba:
            version = samba.split("-")[0] if samba != "unknown version" else ""
            out.append(Software(name="Samba", version=version, source="banner", key=key, publisher=_marker(samba)))
    return out


def _marker(text: str) -> str:
    """The distribution a banner names as the builder ("Debian-2+deb12u3", "(Ubuntu)"), or ""."""
    low = text.lower()
    for marker, label in _DISTRO_MARKERS.items():
        if marker in low:
            return label
    return ""


def _said(obs: Observation, rules: Rules) -> str:
    """One line of what a service announced, for the evidence every report shows."""
    f = obs.facts
    head = f"{obs.service}:{obs.port}"
    if obs.status != "ok":
        return f"{head} {obs.status}"
    parts: list[str] = []
    if obs.service == "ssh":
        parts.append(str(f.get("banner", "")))
    elif obs.service == "smb":
        parts = _said_smb(f)
    elif obs.service == "snmp":
        parts = _said_snmp(f, rules)
    elif obs.service in ("http", "https", "rdp"):
        parts = _said_web(obs.service, f)
    return f"{head} " + "; ".join(p for p in parts if p)


def _said_smb(f: dict[str, Any]) -> list[str]:
    parts = ["SMB1 enabled" if f.get("smb1") else "SMB1 disabled"]
    if f.get("smb2_dialect"):
        parts.append(f"SMB {f['smb2_dialect']}")
    return parts + [f"{k}={f[k]}" for k in ("ntlm_version", "native_os", "native_lanman") if f.get(k)]


def _said_snmp(f: dict[str, Any], rules: Rules) -> list[str]:
    oid = str(f.get("sys_object_id", ""))
    m = re.match(r"1\.3\.6\.1\.4\.1\.(\d+)", oid)
    vendor = rules.table("announced").get("snmp_enterprises", {}).get(m.group(1), "") if m else ""
    return [str(f.get("sys_descr", ""))[:120], f"sysObjectID {oid}" + (f" ({vendor})" if vendor else "")]


def _said_web(service: str, f: dict[str, Any]) -> list[str]:
    """HTTP(S) and RDP: server header, RDP security, NTLM version, TLS version, certificate."""
    parts: list[str] = []
    if f.get("server"):
        parts.append(f"Server: {f['server']}")
    if service == "rdp" and f.get("rdp_security"):
        parts.append(f"security {f['rdp_security']}")
    if f.get("ntlm_version"):
        parts.append(f"ntlm_version={f['ntlm_version']}")
    if f.get("tls_version"):
        parts.append(str(f["tls_version"]))
    cert = f.get("certificate")
    if isinstance(cert, dict):
        parts.append(
            f"certificate {cert.get('subject', '')} issued by "
            f"{'itself' if cert.get('self_signed') else cert.get('issuer', '')}, "
            f"valid to {cert.get('not_after', '?')}"
        )
    return parts


def _flatten(obs: Observation) -> dict[str, Any]:
    out: dict[str, Any] = {"status": obs.status}
    if obs.error:
        out["error"] = obs.error
    for k, v in obs.facts.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"cert_{k2}" if k == "certificate" else f"{k}_{k2}"] = v2
        else:
            out[k] = v
    return out


_NAME_KEYS = ("dns_name", "netbios_name", "sys_name", "dns_domain", "netbios_domain")
_WINPR_WHY = (
    "an NTLM server claiming Windows NT 6.x over TLS 1.3, which no Windows before NT 10 speaks: a "
    "FreeRDP/WinPR-based server (GNOME Remote Desktop, freerdp-shadow) on a non-Windows OS, never "
    "reported as Windows"
)


def inventory(
    target: Target, observations: Iterable[Observation], collected_at: datetime, rules: Rules | None = None
) -> Inventory:
    """One discovered host from its services' observations (pure but for the timestamp given)."""
    rules = rules if rules is not None else load_rules()
    observations = list(observations)
    names = _names(observations)
    software = [sw for obs in observations for sw in _observation_software(obs)]
    evidence = [ev for obs in observations if (ev := _os_evidence(obs, rules)) is not None]
    # The last SMB service's answer decides whether the host is a Samba server.
    samba = next((_samba(o.facts) for o in reversed(observations) if o.service == "smb"), "")
    if samba:
        evidence = _samba_evidence(evidence, samba)
    services = {f"{o.service}:{o.port}": _flatten(o) for o in observations}
    family, name, version, facts = _announced_os(evidence, observations, services)
    facts["announced"]["services"] = " | ".join(_said(o, rules) for o in observations)[:1500]
    return Inventory(
        host=Host(
            hostname=_hostname(names, target),
            machine_id=f"discovered:{target.host}",
            site=target.site,
            tags=list(target.tags),
            domain=names.get("dns_domain", "") or names.get("netbios_domain", ""),
            address=target.host,
        ),
        os=OsInfo(family=family, name=name[:200], version=version, facts=facts),
        software=software,
        collected_at=iso(collected_at),
        collector=Collector(
            name="legacyscan-discover",
            version=_version(),
            transport=TRANSPORT,
            duration_ms=int(sum(o.seconds for o in observations) * 1000),
        ),
        problems=[_problem(o) for o in observations if o.status != "ok"],
    )


def _names(observations: list[Observation]) -> dict[str, str]:
    """The names the services announced (the first service to say each wins)."""
    names: dict[str, str] = {}
    for obs in observations:
        for key in _NAME_KEYS:
            if obs.facts.get(key) and key not in names:
                names[key] = str(obs.facts[key])
        if "rdp_cert_name" not in names and (cert_name := _rdp_cert_name(obs)):
            names["rdp_cert_name"] = cert_name
    return names


def _rdp_cert_name(obs: Observation) -> str:
    """Windows names its RDP certificate after the computer (CN=PC-0042.trust.nhs.uk)."""
    cert = obs.facts.get("certificate")
    if obs.service != "rdp" or not isinstance(cert, dict):
        return ""
    m = re.search(r"(?:^|,)CN=([A-Za-z0-9][A-Za-z0-9.-]{0,252})(?:,|$)", str(cert.get("subject", "")))
    return m.group(1) if m else ""


def _observation_software(obs: Observation) -> list[Software]:
    """What one service's banner names, plus a FreeRDP/WinPR server recognised by its RDP answer."""
    out = _software(obs)
    if obs.service == "rdp" and _winpr(obs.facts):
        out.append(Software(name="FreeRDP (WinPR) RDP server", source="banner", key=f"rdp://{obs.host}:{obs.port}"))
    return out


def _os_evidence(obs: Observation, rules: Rules) -> dict[str, Any] | None:
    """One service's OS evidence, or None."""
    f = obs.facts
    if obs.service == "smb":
        return None if _samba(f) else _windows_evidence(f, "smb")
    if obs.service == "rdp":
        return _winpr_evidence(f) if _winpr(f) else _windows_evidence(f, "rdp-credssp")
    if obs.service == "snmp":
        return _snmp_evidence(f, rules)
    if obs.service == "ssh":
        return _ssh_evidence(f, rules)
    if obs.service in ("http", "https"):
        return _http_evidence(f, rules, f"{obs.service}-server-header")
    return None


def _winpr_evidence(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "by": "rdp-credssp",
        "family": "unknown",
        "confidence": "low",
        "evidence": f"ntlm_version={facts.get('ntlm_version')!r} over {facts.get('tls_version')}",
        "why": _WINPR_WHY,
    }


def _samba_evidence(evidence: list[dict[str, Any]], samba: str) -> list[dict[str, Any]]:
    """A Samba server is a Unix host whatever version its NTLMSSP claims; never Windows."""
    evidence = [e for e in evidence if e.get("family") != "windows" or e.get("by") != "smb"]
    if not evidence:
        evidence.append(
            {
                "by": "smb",
                "family": "linux",
                "confidence": "low",
                "samba": samba,
                "evidence": "Samba " + samba,
                "why": "a Samba file server (Linux or another Unix); its OS release is not announced",
            }
        )
    return evidence


def _hostname(names: dict[str, str], target: Target) -> str:
    """A fully qualified DNS name, else NetBIOS, DNS, RDP certificate or SNMP name, else the address."""
    dns = names.get("dns_name", "")
    hostname = (
        (dns if "." in dns else "")
        or names.get("netbios_name")
        or dns
        or names.get("rdp_cert_name")
        or names.get("sys_name")
        or target.host
    )
    if hostname.lower() in ("localhost", "localhost.localdomain"):
        return target.host
    return hostname


def _announced_os(
    evidence: list[dict[str, Any]], observations: list[Observation], services: dict[str, Any]
) -> tuple[str, str, str, dict[str, Any]]:
    """(family, name, version, os facts) from the strongest evidence, or "unknown" without any."""
    facts: dict[str, Any] = {"services": services}
    if not evidence:
        facts["announced"] = {
            "by": "none",
            "confidence": "low",
            "evidence": ", ".join(sorted(services)) or "no service answered",
        }
        return "unknown", "", "", facts
    strongest = max(evidence, key=_strength)
    best = _with_smb1(strongest, observations)
    family = _family(best)
    facts["announced"] = {k: v for k, v in best.items() if v not in ("", None)}
    if len(evidence) > 1:  # the other evidence: compared with the original, not _with_smb1's copy
        facts["announced_also"] = [
            e.get("by", "") + ": " + str(e.get("evidence", ""))[:200] for e in evidence if e is not strongest
        ][:10]
    version = str(best.get("windows_version") or best.get("version") or "")
    name = str(best.get("caption") or "") or _announced_name(best, family, version)
    return family, name, version, facts


def _with_smb1(best: dict[str, Any], observations: list[Observation]) -> dict[str, Any]:
    """The WannaCry question (SMB1 on or off), shown with the OS verdict wherever evidence is shown:
    a copy of the evidence when an SMB service answered it (so it is no longer among ``evidence``)."""
    smb1 = next((o.facts["smb1"] for o in observations if o.service == "smb" and "smb1" in o.facts), None)
    if smb1 is None:
        return best
    return {**best, "smb1": "enabled" if smb1 else "disabled"}


def _family(best: dict[str, Any]) -> str:
    if best.get("windows_version") or best.get("caption"):
        return "windows"
    return str(best.get("family") or "unknown")


def _announced_name(best: dict[str, Any], family: str, version: str) -> str:
    label = {"windows": "Windows", "linux": "Linux"}.get(family, family)
    product = str(best.get("product") or "")
    return f"{product.capitalize() if product else label} {version}".strip() + f" (announced by {best['by']})"


def _problem(obs: Observation) -> Problem:
    kind = (
        "timeout"
        if obs.status == "timeout"
        else "missing"
        if obs.status in ("closed", "no-credentials", "unreachable")
        else "error"
    )
    return Problem(probe=f"discover.{obs.service}:{obs.port}", message=obs.error or obs.status, kind=kind)


def _version() -> str:
    from scanner import __version__

    return __version__
