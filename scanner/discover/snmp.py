"""SNMP: ``sysDescr``, ``sysObjectID`` and ``sysName`` (RFC 3418 system group), read with one GET.

What it sends: one SNMP GET request for those three objects (v2c with the community, or v3 with
the user; v3 first makes the RFC 3414 engine-discovery exchange every v3 request needs), no
retries, no walk, never a SET.  The community or v3 keys come from the environment
(``LEGACYSCAN_SNMP_COMMUNITY``; ``LEGACYSCAN_SNMP_USER``, ``LEGACYSCAN_SNMP_AUTH_KEY``,
``LEGACYSCAN_SNMP_PRIV_KEY``, ``LEGACYSCAN_SNMP_AUTH_PROTOCOL``, ``LEGACYSCAN_SNMP_PRIV_PROTOCOL``)
or the ``[snmp]`` table of the ``--credentials`` file (mode 0600), never the command line; there
is no default community: without one, SNMP targets are reported as "no credentials" and not
contacted (guessing "public" would be a login attempt).

The protocol engine is pysnmp (maintained, pure Python, USM authentication and privacy).
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import tomllib
from collections.abc import Mapping
from typing import Any

from scanner.discover.base import Deadline, Observation, ProbeError, ProbeSettings, run_probe
from scanner.files import FileRefused, loads_toml, read_regular_text
from scanner.targets import Target

OIDS = {"1.3.6.1.2.1.1.1.0": "sys_descr", "1.3.6.1.2.1.1.2.0": "sys_object_id", "1.3.6.1.2.1.1.5.0": "sys_name"}
ENV = {
    "user": "LEGACYSCAN_SNMP_USER",
    "auth_key": "LEGACYSCAN_SNMP_AUTH_KEY",
    "priv_key": "LEGACYSCAN_SNMP_PRIV_KEY",
    "auth_protocol": "LEGACYSCAN_SNMP_AUTH_PROTOCOL",
    "priv_protocol": "LEGACYSCAN_SNMP_PRIV_PROTOCOL",
}


MAX_CREDENTIALS_BYTES = 2**20  # as the WinRM credentials file (agents.winrm)


class SnmpCredentialError(ValueError):
    """The SNMP credentials are unusable; the message never contains a secret."""


def load_credentials(
    credentials_file: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """(community, v3 settings) from the environment, else the credentials file's ``[snmp]``."""
    env = os.environ if env is None else env
    community = env.get("LEGACYSCAN_SNMP_COMMUNITY", "")
    v3 = {k: env[v] for k, v in ENV.items() if env.get(v)}
    if (community or v3) or not credentials_file:
        _check_v3(v3, "environment")
        return community, v3
    return _credentials_file(credentials_file)


def _credentials_file(path: str) -> tuple[str, dict[str, str]]:
    """The ``[snmp]`` table of a credentials file only its owner can read."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SnmpCredentialError(f"credentials file {path}: {exc.strerror}") from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SnmpCredentialError(
            f"credentials file {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}); chmod 600 {path}"
        )
    try:  # a FIFO is not waited on, a directory or a huge file is refused by name
        text = read_regular_text(path, limit=MAX_CREDENTIALS_BYTES, what="credentials file")
    except FileRefused as exc:
        raise SnmpCredentialError(str(exc)) from exc
    try:
        data = loads_toml(text)  # deep nesting is a TOMLDecodeError here, never a RecursionError
    except tomllib.TOMLDecodeError as exc:
        raise SnmpCredentialError(f"credentials file {path} is not valid TOML") from exc
    section = data.get("snmp", {})
    if not isinstance(section, dict):
        raise SnmpCredentialError(f"credentials file {path}: [snmp] must be a table")
    community = section.get("community", "")
    v3_raw = section.get("v3", {})
    if not isinstance(community, str) or not isinstance(v3_raw, dict):
        raise SnmpCredentialError(f"credentials file {path}: [snmp] community must be a string, [snmp.v3] a table")
    v3 = {k: str(v3_raw[k]) for k in ENV if v3_raw.get(k)}
    _check_v3(v3, f"credentials file {path}")
    return community, v3


def _check_v3(v3: dict[str, str], where: str) -> None:
    if v3 and not v3.get("user"):
        raise SnmpCredentialError(f"{where}: SNMPv3 keys given without a user")
    if v3.get("priv_key") and not v3.get("auth_key"):
        raise SnmpCredentialError(f"{where}: SNMPv3 privacy needs an authentication key too")
    if v3.get("auth_protocol", "sha").lower() not in _AUTH:
        raise SnmpCredentialError(f"{where}: SNMPv3 auth protocol must be one of {', '.join(_AUTH)}")
    if v3.get("priv_protocol", "aes").lower() not in _PRIV:
        raise SnmpCredentialError(f"{where}: SNMPv3 privacy protocol must be one of {', '.join(_PRIV)}")


_AUTH = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
_PRIV = ("des", "aes", "aes192", "aes256")


def _auth_data(settings: ProbeSettings) -> Any:
    from pysnmp.hlapi.v3arch.asyncio import CommunityData, UsmUserData
    from pysnmp.hlapi.v3arch.asyncio import auth as a

    v3 = settings.snmp_v3
    if v3:
        auth_proto = {
            "md5": a.USM_AUTH_HMAC96_MD5,
            "sha": a.USM_AUTH_HMAC96_SHA,
            "sha224": a.USM_AUTH_HMAC128_SHA224,
            "sha256": a.USM_AUTH_HMAC192_SHA256,
            "sha384": a.USM_AUTH_HMAC256_SHA384,
            "sha512": a.USM_AUTH_HMAC384_SHA512,
        }
        priv_proto = {
            "des": a.USM_PRIV_CBC56_DES,
            "aes": a.USM_PRIV_CFB128_AES,
            "aes192": a.USM_PRIV_CFB192_AES,
            "aes256": a.USM_PRIV_CFB256_AES,
        }
        kwargs: dict[str, Any] = {}
        if v3.get("auth_key"):
            kwargs["authKey"] = v3["auth_key"]
            kwargs["authProtocol"] = auth_proto[v3.get("auth_protocol", "sha").lower()]
        if v3.get("priv_key"):
            kwargs["privKey"] = v3["priv_key"]
            kwargs["privProtocol"] = priv_proto[v3.get("priv_protocol", "aes").lower()]
        # The trust's own v3 policy decides auth/privacy; we read with what it configured.
        return UsmUserData(v3["user"], **kwargs)  # noqa: S509
    # v2c where the trust's devices only speak v2c (read-only community, one GET).
    return CommunityData(settings.snmp_community, mpModel=1)  # noqa: S508


async def _get(host: str, port: int, settings: ProbeSettings, seconds: float) -> dict[str, str]:
    from pysnmp.hlapi.v3arch.asyncio import (
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    engine = SnmpEngine()
    try:
        transport = await UdpTransportTarget.create((host, port), timeout=max(0.2, seconds), retries=0)
        error, status, index, binds = await get_cmd(
            engine, _auth_data(settings), transport, ContextData(), *(ObjectType(ObjectIdentity(oid)) for oid in OIDS)
        )
    finally:
        engine.close_dispatcher()
    if error:
        raise TimeoutError(str(error)) if "timeout" in str(error).lower() else ProbeError(str(error))
    if status:
        raise ProbeError(f"SNMP error {status.prettyPrint()} at {index}")
    out: dict[str, str] = {}
    for name, value in binds:
        key = OIDS.get(str(name))
        if key and value.__class__.__name__ not in ("NoSuchObject", "NoSuchInstance", "EndOfMibView"):
            text = ".".join(map(str, value.asTuple())) if key == "sys_object_id" else value.prettyPrint()
            out[key] = "".join(c for c in text if c.isprintable() or c in "\n\t")[:1024]
    return out


async def _bounded_get(host: str, port: int, settings: ProbeSettings, deadline: Deadline) -> dict[str, str]:
    """``_get`` within the probe's one budget: v3's engine discovery and its GET share it (pysnmp's
    own timeout is per request), so an SNMP probe never outlasts ``--timeout``."""
    try:
        return await asyncio.wait_for(_get(host, port, settings, deadline.left()), timeout=deadline.left())
    except TimeoutError as exc:  # asyncio's timeout is the built-in one (Python 3.11+)
        raise TimeoutError("no SNMP answer within the probe's time budget") from exc


def _ipv4(target: Target, settings: ProbeSettings, deadline: Deadline) -> str:
    """The IPv4 address pysnmp's UDP transport is given, looked up within the probe's budget (the
    run's bounded lookups): pysnmp's own lookup runs in asyncio's executor, which ``asyncio.run``
    waits for however long the resolver takes.  A failed lookup is pysnmp's own error, as before."""
    from pysnmp.error import PySnmpError

    lookup = settings.lookup_names().lookup(target.host, deadline.left())
    if lookup.timed_out:
        lookup.check()
    v4 = [str(info[4][0]) for info in lookup.infos if info[0] == socket.AF_INET]
    if v4:
        return v4[0]
    if lookup.infos and target.host.split("%", 1)[0] == str(lookup.infos[0][4][0]):
        return target.host  # an IPv6 address: pysnmp refuses it itself, asking no name service
    why = lookup.error if lookup.error is not None else "the name has no IPv4 address"
    raise PySnmpError(f"Bad IPv4/UDP transport address {target.host}@{target.port}: {why}")


def probe(target: Target, settings: ProbeSettings) -> Observation:
    # pysnmp's first import loads its MIB modules (a second or more on a busy machine): done before
    # the probe's clock starts, so it never eats a device's time budget.
    import pysnmp.hlapi.v3arch.asyncio  # noqa: F401

    def body(deadline: Deadline, obs: Observation) -> None:
        if not settings.snmp_community and not settings.snmp_v3:
            obs.status = "no-credentials"
            obs.error = "no SNMP community or v3 user (LEGACYSCAN_SNMP_COMMUNITY or [snmp] in --credentials)"
            return
        obs.connections += 1
        obs.facts["snmp_version"] = "3" if settings.snmp_v3 else "2c"
        address = _ipv4(target, settings, deadline)
        obs.facts.update(asyncio.run(_bounded_get(address, target.port, settings, deadline)))
        if "sys_descr" not in obs.facts and "sys_object_id" not in obs.facts:
            raise ProbeError("the agent answered without sysDescr or sysObjectID")

    return run_probe("snmp", target, settings, body)
