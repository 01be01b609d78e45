"""Targets active probes must never touch: addresses, ranges, host names and tags.

A clinical network has devices whose suppliers forbid any unsolicited traffic (infusion pumps,
patient monitors, imaging modalities mid-acquisition).  They are listed here -- by address, CIDR
range, host name or tag -- and ``legacyscan discover`` records them as "excluded" without opening a
single connection.  Either spelling protects the device: excluded names are resolved when the run
starts (``resolve_names``, each within the run's ``--timeout``), and a target given by name is
checked by the addresses it resolves to (``address_reason``) before anything is sent.  Targets
tagged ``medical-device`` or ``do-not-probe`` are excluded even without a file: that tag exists to
say so.  Their support status comes from the device register import.

File format: one entry per line (``#`` comments): ``10.20.0.14``, ``10.20.30.0/24``,
``mri-console.example.nhs.uk`` or ``tag:infusion-pump``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agents.names import NameLookups
from scanner.targets import Target, TargetError, check_host

DEFAULT_TAGS = frozenset({"medical-device", "do-not-probe"})


def resolve(name: str, timeout: float = 5.0) -> list[str]:
    """The addresses a host name resolves to within ``timeout`` seconds ([] when it does not
    resolve, or not in time).  A run resolves through its own ``NameLookups`` instead."""
    return NameLookups(timeout).lookup(name).addresses


@dataclass(slots=True)
class Exclusions:
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=lambda: set(DEFAULT_TAGS))
    # the addresses the excluded names resolved to (resolve_names), each with its name
    name_addresses: dict[str, str] = field(default_factory=dict)

    def resolve_names(self, resolver: Callable[[str], list[str]] = resolve) -> list[str]:
        """Resolve every excluded host name, so that the device it names is excluded by address too
        (a CIDR range of targets reaches it by address).  Returns the names that did not resolve."""
        unresolved: list[str] = []
        for name in sorted(self.names):
            addresses = resolver(name)
            if not addresses:
                unresolved.append(name)
            for addr in addresses:
                self.name_addresses.setdefault(_canonical(addr), name)
        return unresolved

    def address_reason(self, host: str, addresses: list[str]) -> str:
        """Why a target named ``host`` that resolved to ``addresses`` must not be probed ("" when it
        may be): an excluded range or name covers one of its addresses."""
        for addr in addresses:
            why = self._address(addr)
            if why:
                return f"{host} resolves to {why}"
        return ""

    def _address(self, text: str) -> str:
        try:
            addr = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            return ""
        name = self.name_addresses.get(str(addr))
        if name:
            return f"{addr}, the address of excluded {name}"
        for net in self.networks:
            if addr.version == net.version and addr in net:
                return f"{addr}, in excluded range {net}"
        return ""

    def reason(self, target: Target) -> str:
        """Why ``target`` must not be probed ("" when it may be)."""
        hit = sorted(self.tags.intersection(target.tags))
        if hit:
            return f"tag {hit[0]!r} is excluded from active probes"
        if target.host.lower() in self.names:
            return f"{target.host} is on the exclusion list"
        try:
            addr = ipaddress.ip_address(target.host)
        except ValueError:
            return ""
        name = self.name_addresses.get(str(addr))
        if name:
            return f"{target.host} is the address of excluded {name}"
        for net in self.networks:
            if addr.version == net.version and addr in net:
                return f"{target.host} is in excluded range {net}"
        return ""


def parse(text: str, source: str = "exclusions") -> Exclusions:
    out = Exclusions()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{lineno}"
        if line.lower().startswith("tag:"):
            tag = line[4:].strip()
            if not tag:
                raise TargetError(f"{where}: empty tag")
            out.tags.add(tag)
        elif "/" in line:
            try:
                out.networks.append(ipaddress.ip_network(line, strict=False))
            except ValueError as exc:
                raise TargetError(f"{where}: {line!r} is not a valid CIDR range: {exc}") from exc
        else:
            host = check_host(line, where)
            try:
                out.networks.append(ipaddress.ip_network(host))
            except ValueError:
                out.names.add(host.lower())
    return out


def load(path: str | Path | None, extra_tags: list[str] | None = None) -> Exclusions:
    if path is None:
        out = Exclusions()
    else:
        try:
            text = Path(path).read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise TargetError(f"{path}: cannot read the exclusion list: {exc}") from exc
        out = parse(text, str(path))
    out.tags.update(t for t in (extra_tags or []) if t)
    return out


def _canonical(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return text
