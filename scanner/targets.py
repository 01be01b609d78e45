"""Target lists: CSV, TOML, Ansible INI inventories and CIDR ranges -> ``Target`` records.

Why several formats: estates already keep host lists somewhere (a CMDB export as CSV, an Ansible
inventory, an IP plan).  Each loader is a pure function of the text so a bad file is reported with
its line number and nothing is scanned until the whole file parses.

Safety: a target file only chooses *where* to connect and *what to record* (site, tags).  Host
names are validated as DNS names or IP addresses; no field ever becomes part of a command.
Secrets are refused in target files (``ansible_password``, ``password=``...): they belong in the
environment, ssh-agent or a credentials file, never in a list that is copied around.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import product
from pathlib import Path

from scanner.files import MAX_CONFIG_BYTES, FileRefused, loads_toml, read_regular_text

TRANSPORTS = ("ssh", "winrm")
# `legacyscan discover` (scanner.discover) reads the same files with its own transports: what each
# address announces without credentials.  "any" (the default there) means every one of them on its
# default port.
DISCOVERY_TRANSPORTS = ("ssh", "smb", "snmp", "http", "https", "rdp")
DEFAULT_PORTS = {"ssh": 22, "winrm": 5986, "smb": 445, "snmp": 161, "http": 80, "https": 443, "rdp": 3389}
# A CIDR range larger than this is almost certainly a typo (a /8 is 16 million hosts).
MAX_RANGE = 65_536
# Targets one file may name in all (ranges included): far above any estate, far below what exhausts memory.
MAX_TARGETS = 262_144
_HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,64}$")
_SECRET_KEYS = {
    "password",
    "passwd",
    "pass",
    "secret",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_become_pass",
    "ansible_become_password",
    "token",
}


class TargetError(ValueError):
    """A target file is malformed; the message names the file, the line and what was wrong."""


@dataclass(slots=True, frozen=True)
class Target:
    host: str
    site: str = ""
    transport: str = "ssh"
    port: int = 22
    user: str = ""
    tags: tuple[str, ...] = ()
    jump: str = ""  # optional jump host "[user@]host[:port]" (SSH only)
    ssh_legacy: bool = False  # also offer SHA-1 kex, ssh-rsa/ssh-dss, CBC, hmac-sha1 (old servers; SSH only)

    @property
    def key(self) -> str:
        """The identity used for per-host status and --resume: transport://host:port."""
        return f"{self.transport}://{_bracket(self.host)}:{self.port}"


@dataclass(slots=True, frozen=True)
class Kinds:
    """Which transports a target file may name, and the one a line gets when it names none."""

    transports: tuple[str, ...] = TRANSPORTS
    default: str = "ssh"


SCAN_KINDS = Kinds()
DISCOVERY_KINDS = Kinds(DISCOVERY_TRANSPORTS + ("any",), "any")


@dataclass(slots=True)
class Defaults:
    site: str = ""
    transport: str = "ssh"
    port: int | None = None
    user: str = ""
    tags: list[str] = field(default_factory=list)
    jump: str = ""
    kinds: Kinds = SCAN_KINDS
    ssh_legacy: bool = False


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters: a 16 MiB line is
    named, not echoed to the terminal whole."""
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} characters)"


def _where(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line else source


def check_host(host: str, where: str) -> str:
    host = host.strip()
    if not host:
        raise TargetError(f"{where}: empty host")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if not _HOST_RE.match(host) or ".." in host:
        raise TargetError(f"{where}: {_shown(host)} is not a valid host name or IP address")
    return host.lower()


def check_transport(value: str, where: str, kinds: Kinds = SCAN_KINDS) -> str:
    value = (value or kinds.default).strip().lower()
    if value not in kinds.transports:
        raise TargetError(f"{where}: transport {_shown(value)} is not one of {', '.join(kinds.transports)}")
    return value


def check_port(value: object, where: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        port = int(str(value).strip())
    except ValueError as exc:
        raise TargetError(f"{where}: port {_shown(value)} is not a number") from exc
    if not 1 <= port <= 65535:
        raise TargetError(f"{where}: port {port} is outside 1-65535")
    return port


def check_user(value: str, where: str) -> str:
    value = (value or "").strip()
    if value and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.@\\-]{0,63}", value):
        raise TargetError(f"{where}: user {_shown(value)} is not a valid account name")
    return value


def check_tags(values: Iterable[str], where: str) -> tuple[str, ...]:
    tags: list[str] = []
    for tag in values:
        tag = tag.strip()
        if not tag:
            continue
        if not _TAG_RE.match(tag):
            raise TargetError(f"{where}: tag {_shown(tag)} may only use letters, digits and _ . : / @ + -")
        tags.append(tag)
    return tuple(sorted(set(tags)))


def check_site(value: str, where: str) -> str:
    value = (value or "").strip()
    if len(value) > 128 or any(ord(c) < 32 for c in value):
        raise TargetError(f"{where}: site {value[:40]!r} is too long or has control characters")
    return value


def expand_hosts(spec: str, where: str) -> list[str]:
    """A host, an IP address or a CIDR range (network and broadcast addresses skipped)."""
    spec = spec.strip()
    if "/" in spec:
        try:
            net = ipaddress.ip_network(spec, strict=False)
        except ValueError as exc:
            raise TargetError(f"{where}: {_shown(spec)} is not a valid CIDR range: {exc}") from exc
        if net.num_addresses > MAX_RANGE:
            raise TargetError(
                f"{where}: {spec} has {net.num_addresses} addresses, more than the limit "
                f"{MAX_RANGE}; split it into smaller ranges"
            )
        hosts = list(net.hosts()) if net.num_addresses > 2 else list(net)
        return [str(h) for h in hosts]
    return [check_host(spec, where)]


def make_targets(spec: str, d: Defaults, where: str) -> list[Target]:
    transport = check_transport(d.transport, where, d.kinds)
    if transport == "any":  # discovery: every announced service on its default port
        return [
            t
            for kind in d.kinds.transports
            if kind != "any"
            for t in make_targets(spec, replace(d, transport=kind, port=None), where)
        ]
    port = _port(transport, d.port)
    return [
        Target(
            host=h,
            site=d.site,
            transport=transport,
            port=port,
            user=d.user,
            tags=check_tags(d.tags, where),
            jump=d.jump,
            ssh_legacy=d.ssh_legacy,
        )
        for h in expand_hosts(spec, where)
    ]


def _port(transport: str, port: int | None) -> int:
    """The given port, else the transport's default (WinRM: HTTPS 5986 unless the default is a WinRM port)."""
    chosen = port or DEFAULT_PORTS[transport]
    if transport == "winrm" and chosen not in (5985, 5986) and port is None:
        return 5986
    return chosen


# -- CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = ("host", "site", "transport", "port", "user", "tags")


def parse_csv(text: str, source: str = "targets.csv", kinds: Kinds = SCAN_KINDS) -> list[Target]:
    """``host,site,transport,port,user,tags`` (header required; tags separated by ``;`` or spaces)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:  # a field over csv's size limit, a NUL, a stray quote
        raise TargetError(f"{_where(source, reader.line_num)}: not valid CSV: {exc}") from exc
    header_at = next((i for i, r in enumerate(rows) if _header_row(r)), None)
    if header_at is None:
        return []
    header = [h.strip().lower() for h in rows[header_at]]
    _check_csv_header(header, _where(source, header_at + 1))
    out: list[Target] = []
    for lineno, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if _content_row(row):
            out.extend(_csv_targets(row, header, _where(source, lineno), kinds))
    return out


def _header_row(row: list[str]) -> bool:
    """A first field that is neither empty nor a comment."""
    return bool(row) and bool(row[0].strip()) and not row[0].lstrip().startswith("#")


def _content_row(row: list[str]) -> bool:
    """Neither empty nor a comment (first field starting with #)."""
    return bool(row) and bool("".join(row).strip()) and not row[0].lstrip().startswith("#")


def _check_csv_header(header: list[str], where: str) -> None:
    """A header naming the host column and only known columns (never a password column)."""
    if "host" not in header:
        raise TargetError(
            f"{where}: the first line must be a header naming the columns "
            f"({','.join(CSV_COLUMNS)}); got {_shown(','.join(header), 200)}"
        )
    unknown = [h for h in header if h and h not in CSV_COLUMNS + ("jump",)]
    secret = [h for h in unknown if h in _SECRET_KEYS]
    if secret:
        raise TargetError(
            f"{where}: column {_shown(secret[0])} looks like a secret; "
            "passwords never go in target files (use LEGACYSCAN_SSH_PASSWORD or ssh-agent)"
        )
    if unknown:
        raise TargetError(f"{where}: unknown column(s) {', '.join(unknown)}; expected {','.join(CSV_COLUMNS)}")


def _csv_targets(row: list[str], header: list[str], where: str, kinds: Kinds) -> list[Target]:
    if len(row) > len(header):
        raise TargetError(f"{where}: {len(row)} fields but the header has {len(header)}")
    rec = dict(zip(header, (c.strip() for c in row), strict=False))
    d = Defaults(
        site=check_site(rec.get("site", ""), where),
        transport=rec.get("transport") or kinds.default,
        port=check_port(rec.get("port"), where),
        user=check_user(rec.get("user", ""), where),
        tags=re.split(r"[;\s]+", rec.get("tags", "")),
        jump=rec.get("jump", ""),
        kinds=kinds,
    )
    return make_targets(rec.get("host", ""), d, where)


# -- TOML ------------------------------------------------------------------------------------


def parse_toml(text: str, source: str = "targets.toml", kinds: Kinds = SCAN_KINDS) -> list[Target]:
    """``[defaults]`` plus ``[[site]]`` tables (name + defaults + ``hosts``) and ``[[target]]`` entries.

    ```
    [defaults]
    user = "scan"
    [[site]]
    name = "RXX01 Main Hospital"
    tags = ["pacs"]
    hosts = ["10.1.2.0/28", "pacs01.example.nhs.uk"]
    [[target]]
    host = "lab-mac.example.nhs.uk"
    site = "RXX02"
    port = 2222
    ```
    """
    try:
        data = loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{source}: not valid TOML: {exc}") from exc
    _no_secrets(data, source)
    if isinstance(data.get("defaults"), dict):
        _known_keys(data["defaults"], "defaults", f"{source} [defaults]")
    base = _defaults_from(
        data.get("defaults", {}), Defaults(transport=kinds.default, kinds=kinds), f"{source} [defaults]"
    )
    out: list[Target] = []
    for i, site in enumerate(_list_of_tables(data, "site", source)):
        out.extend(_site_targets(site, base, f"{source} [[site]] #{i + 1}"))
    for i, entry in enumerate(_list_of_tables(data, "target", source)):
        out.extend(_entry_targets(entry, base, f"{source} [[target]] #{i + 1}"))
    unknown = set(data) - {"defaults", "site", "target"}
    if unknown:
        raise TargetError(f"{source}: unknown table(s) {', '.join(sorted(unknown))}; expected defaults, site, target")
    return out


def _site_targets(site: dict[str, object], base: Defaults, where: str) -> list[Target]:
    """A ``[[site]]`` table: its name and defaults over ``[defaults]``, for each of its hosts."""
    _known_keys(site, "site", where)
    d = _defaults_from(site, replace(base, tags=list(base.tags)), where)
    d.site = check_site(_text(site, "name", where) if "name" in site else d.site, where)
    hosts = site.get("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise TargetError(f"{where}: hosts must be a list of strings")
    return [t for spec in hosts for t in make_targets(spec, d, where)]


def _entry_targets(entry: dict[str, object], base: Defaults, where: str) -> list[Target]:
    """A ``[[target]]`` entry over ``[defaults]``."""
    _known_keys(entry, "target", where)
    d = _defaults_from(entry, replace(base, tags=list(base.tags)), where)
    if "host" not in entry:
        raise TargetError(f"{where}: missing host")
    return make_targets(_text(entry, "host", where), d, where)


def _list_of_tables(data: dict[str, object], key: str, source: str) -> list[dict[str, object]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TargetError(f"{source}: {key} must be an array of tables ([[{key}]])")
    return value


def _text(table: dict[str, object], key: str, where: str) -> str:
    """A string field of a TOML table; any other type is refused naming the field (#19 item 18:
    ``host = 5`` or ``site = 5`` used to be turned into text, or silently ignored)."""
    value = table[key]
    if not isinstance(value, str):
        raise TargetError(f"{where}: {key} must be a string, not {type(value).__name__} {value!r}"[:300])
    return value


_DEFAULT_KEYS = ("site", "transport", "port", "user", "jump", "ssh_legacy", "tags")
_TABLE_KEYS = {"defaults": _DEFAULT_KEYS, "site": (*_DEFAULT_KEYS, "name", "hosts"), "target": (*_DEFAULT_KEYS, "host")}


def _known_keys(table: dict[str, object], kind: str, where: str) -> None:
    """A key the parser does not read is an error naming it: a misspelt "prot = 2222" must not
    silently scan port 22."""
    import difflib

    allowed = _TABLE_KEYS[kind]
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            raise TargetError(
                f"{where}: unknown key {_shown(key)}"
                + (f" (did you mean {_shown(near[0])}?)" if near else "")
                + f"; known: {', '.join(allowed)}"
            )


def _defaults_from(table: object, d: Defaults, where: str) -> Defaults:
    if not isinstance(table, dict):
        raise TargetError(f"{where}: expected a table")
    if "site" in table:
        d.site = check_site(_text(table, "site", where), where)
    if "transport" in table:
        d.transport = check_transport(_text(table, "transport", where), where, d.kinds)
    if "port" in table:
        d.port = check_port(table["port"], where)
    if "user" in table:
        d.user = check_user(_text(table, "user", where), where)
    if "jump" in table:
        d.jump = _text(table, "jump", where)
    if "ssh_legacy" in table:
        d.ssh_legacy = _flag(table["ssh_legacy"], where)
    if "tags" in table:
        d.tags = list(d.tags) + _tags(table["tags"], where)
    return d


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise TargetError(f"{where}: ssh_legacy must be true or false, not {_shown(value)}")
    return value


def _tags(tags: object, where: str) -> list[str]:
    """Tags as a list, or one text separated by ``;``, ``,`` or spaces."""
    if isinstance(tags, str):
        tags = re.split(r"[;,\s]+", tags)
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TargetError(f"{where}: tags must be a list of strings")
    return list(tags)


def _no_secrets(data: object, source: str) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() in _SECRET_KEYS:
                raise TargetError(
                    f"{source}: key {_shown(key)} looks like a secret; passwords never go in target files "
                    "(use LEGACYSCAN_SSH_PASSWORD, ssh-agent or --credentials)"
                )
            _no_secrets(value, source)
    elif isinstance(data, list):
        for value in data:
            _no_secrets(value, source)


# -- Ansible INI inventory ---------------------------------------------------------------------


def parse_ansible_ini(text: str, source: str = "inventory.ini", *, groups_as: str = "site") -> list[Target]:
    """An Ansible INI inventory.  Each group becomes a site (``groups_as="site"``) or a tag.

    Understood: ``[group]`` host lines with ``ansible_host``, ``ansible_port``, ``ansible_user``,
    ``ansible_connection`` (ssh / winrm / psrp), ``[group:vars]`` for those keys, ``[group:children]``
    and ranges ``web[01:20].example``.  With groups as sites, a host in several groups gets the
    first group as its site and the others as tags.  Other variables are ignored.
    """
    inv = _AnsibleIni(source)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        inv.read_line(lineno, raw)
    inv.inherit_children()
    return [target for name in inv.order for target in inv.targets(name, groups_as)]


@dataclass(slots=True)
class _AnsibleIni:
    """An Ansible INI inventory as it is read: hosts in file order, their groups and variables."""

    source: str
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    memberships: dict[str, list[str]] = field(default_factory=dict)
    group_vars: dict[str, dict[str, str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    section: str = "ungrouped"
    kind: str = "hosts"

    def read_line(self, lineno: int, raw: str) -> None:
        where = _where(self.source, lineno)
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            return
        if line.startswith("["):
            self._section(line, where)
        elif self.kind == "children":
            self.children.setdefault(self.section, []).append(line.split()[0])
        elif self.kind == "vars":
            self._group_var(line, where)
        else:
            self._host_line(line, lineno, where)

    def _section(self, line: str, where: str) -> None:
        m = re.fullmatch(r"\[([A-Za-z0-9_.-]+)(?::(vars|children))?\]", line)
        if not m:
            raise TargetError(f"{where}: malformed section header {_shown(line)}")
        self.section, self.kind = m.group(1), m.group(2) or "hosts"

    def _group_var(self, line: str, where: str) -> None:
        key, sep, value = line.partition("=")
        if not sep:
            raise TargetError(f"{where}: expected key=value in [{self.section}:vars]")
        _ini_secret(key.strip(), where)
        self.group_vars.setdefault(self.section, {})[key.strip()] = value.strip().strip("'\"")

    def _host_line(self, line: str, lineno: int, where: str) -> None:
        try:
            words = _split_ini(line)
        except ValueError as exc:
            raise TargetError(f"{where}: {exc}") from exc
        hostvars: dict[str, str] = {}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep:
                raise TargetError(f"{where}: expected key=value after the host name, got {_shown(word)}")
            _ini_secret(key, where)
            hostvars[key] = value
        for name in _expand_ansible_range(words[0], where):
            self._add_host(name, hostvars, lineno, where)

    def _add_host(self, name: str, hostvars: dict[str, str], lineno: int, where: str) -> None:
        if name not in self.hosts:
            if len(self.order) >= MAX_TARGETS:
                raise TargetError(f"{where}: more than {MAX_TARGETS} hosts in one inventory; split it")
            self.hosts[name] = {}
            self.order.append(name)
        self.hosts[name].update(hostvars)
        self.hosts[name].setdefault("__line", str(lineno))
        groups = self.memberships.setdefault(name, [])
        if self.section not in groups:
            groups.append(self.section)

    def inherit_children(self) -> None:
        """A host in a child group is also in the parent group."""
        for parent, kids in self.children.items():
            for groups in self.memberships.values():
                if any(k in groups for k in kids) and parent not in groups:
                    groups.append(parent)

    def targets(self, name: str, groups_as: str) -> list[Target]:
        groups = self.memberships[name]
        where = _where(self.source, int(self.hosts[name]["__line"]))
        merged: dict[str, str] = {}
        for g in ["all", *reversed(groups)]:
            merged.update(self.group_vars.get(g, {}))
        merged.update({k: v for k, v in self.hosts[name].items() if k != "__line"})
        transport = _ansible_transport(merged.get("ansible_connection", "ssh"), where)
        site, tags = _site_and_tags([g for g in groups if g not in ("ungrouped", "all")], groups_as)
        d = Defaults(
            site=check_site(site, where),
            transport=transport,
            port=check_port(merged.get("ansible_port") or merged.get("ansible_ssh_port"), where),
            user=check_user(merged.get("ansible_user") or merged.get("ansible_ssh_user", ""), where),
            tags=list(tags),
        )
        return make_targets(merged.get("ansible_host") or name, d, where)


def _site_and_tags(real_groups: list[str], groups_as: str) -> tuple[str, list[str]]:
    """``groups_as="site"``: the first group is the site, the others tags; else every group a tag."""
    if groups_as == "site":
        return (real_groups[0] if real_groups else ""), real_groups[1:]
    return "", real_groups


def _ansible_transport(conn: str, where: str) -> str:
    if conn in ("winrm", "psrp"):
        return "winrm"
    if conn in ("ssh", "paramiko", "smart"):
        return "ssh"
    raise TargetError(f"{where}: ansible_connection={_shown(conn)} is not scannable (ssh or winrm)")


def _ini_secret(key: str, where: str) -> None:
    if key.strip().lower() in _SECRET_KEYS:
        raise TargetError(
            f"{where}: {key.strip()} is a secret; passwords never go in target files "
            "(use LEGACYSCAN_SSH_PASSWORD or ssh-agent)"
        )


def _split_ini(line: str) -> list[str]:
    import shlex

    return shlex.split(line, comments=True, posix=True)


_ANSIBLE_RANGE = re.compile(r"\[([0-9a-z]+):([0-9a-z]+)(?::([0-9]+))?\]")


def _range_step(step_text: str | None, name: str, where: str) -> int:
    step = int(step_text) if step_text else 1
    if step < 1:
        raise TargetError(f"{where}: host range {_shown(name)}: the step must be 1 or more")
    return step


def _numeric_range(lo: str, hi: str, step: int, name: str, where: str) -> range:
    if len(lo) > 12 or len(hi) > 12:
        raise TargetError(f"{where}: host range {_shown(name)} is too large (limit {MAX_RANGE} hosts a line)")
    return range(int(lo), int(hi) + 1, step)


def _range_values(lo: str, hi: str, step_text: str | None, name: str, where: str) -> range | list[str]:
    """One ``[lo:hi(:step)]`` of a host pattern, sized before anything is built."""
    step = _range_step(step_text, name, where)
    if lo.isdigit() and hi.isdigit():
        return _numeric_range(lo, hi, step, name, where)
    if len(lo) == 1 and len(hi) == 1 and lo.isalpha() and hi.isalpha():
        return [chr(c) for c in range(ord(lo), ord(hi) + 1, step)]
    raise TargetError(f"{where}: cannot expand host range {_shown(name)}")


def _padded(values: range | list[str], lo: str) -> list[str]:
    """Range values as text, zero-padded to the width of a zero-padded lower bound ("01")."""
    width = len(lo) if lo.isdigit() and lo.startswith("0") else 0
    return [str(v).zfill(width) if isinstance(v, int) else v for v in values]


def _expand_ansible_range(name: str, where: str) -> list[str]:
    """``web[01:20].example``, ``h[a:c][1:3]``: every range of the name, multiplied.

    The number of hosts is computed from the bounds before a single name is made, and one line
    may expand to at most ``MAX_RANGE`` hosts in all (``h[0:65535][0:65535]`` would be 4 billion
    names: refused, naming the line, instead of exhausting memory -- #19 item 11)."""
    found = list(_ANSIBLE_RANGE.finditer(name))
    if not found:
        return [name]
    pieces: list[str] = []
    choices: list[list[str]] = []
    total = 1
    pos = 0
    for m in found:
        values = _range_values(m.group(1), m.group(2), m.group(3), name, where)
        total *= len(values)
        if total > MAX_RANGE:
            raise TargetError(
                f"{where}: host range {_shown(name)} expands to more than {MAX_RANGE} hosts; "
                "split it over several lines"
            )
        pieces.append(name[pos : m.start()])
        choices.append(_padded(values, m.group(1)))
        pos = m.end()
    tail = name[pos:]
    return ["".join(p + c for p, c in zip(pieces, combo, strict=True)) + tail for combo in product(*choices)]


# -- plain lists / CIDR --------------------------------------------------------------------------


def parse_list(text: str, source: str = "targets.txt", kinds: Kinds = SCAN_KINDS) -> list[Target]:
    """One host, address or CIDR range per line, optionally followed by ``key=value`` overrides
    (site, transport, port, user, tags)."""
    out: list[Target] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = _where(source, lineno)
        words = line.split()
        opts: dict[str, str] = {}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep or key not in ("site", "transport", "port", "user", "tags", "jump"):
                if key.lower() in _SECRET_KEYS:
                    _ini_secret(key, where)
                raise TargetError(
                    f"{where}: unexpected {_shown(word)}; use key=value with site, transport, port, user, tags"
                )
            opts[key] = value
        d = Defaults(
            site=check_site(opts.get("site", ""), where),
            transport=opts.get("transport", kinds.default),
            port=check_port(opts.get("port"), where),
            user=check_user(opts.get("user", ""), where),
            tags=re.split(r"[;,]+", opts.get("tags", "")),
            jump=opts.get("jump", ""),
            kinds=kinds,
        )
        out.extend(make_targets(words[0], d, where))
        if len(out) > MAX_TARGETS:
            raise TargetError(f"{where}: more than {MAX_TARGETS} targets in one file; split it")
    return out


# -- entry point ---------------------------------------------------------------------------------


def _format_of_name(path: str | Path) -> str:
    """The format a file's name says ("" when it says none)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".toml"):
        return suffix[1:]
    if suffix in (".ini", ".inventory", ".hosts") or Path(path).name in ("hosts", "inventory"):
        return "ini"
    return ""


def detect_format(path: str | Path, text: str) -> str:
    by_name = _format_of_name(path)
    if by_name:
        return by_name
    first = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    if first.lower().startswith("host,") or first.lower() == "host":
        return "csv"
    if first.startswith("["):
        return "ini" if _ini_section(first) else "toml"
    return "list"


def _ini_section(first: str) -> bool:
    """An Ansible INI group header ("[webservers]"), not a TOML table ("[[target]]", "[defaults]")."""
    return (
        re.fullmatch(r"\[[A-Za-z0-9_.:-]+\]", first) is not None
        and not first.startswith("[[")
        and not re.fullmatch(r"\[(defaults)\]", first)
    )


def load_targets(
    path: str | Path,
    *,
    site: str = "",
    fmt: str | None = None,
    groups_as: str = "site",
    user: str = "",
    kinds: Kinds = SCAN_KINDS,
) -> list[Target]:
    """Load, validate and de-duplicate a target file.  ``site``/``user`` fill in blanks (CLI defaults)."""
    p = Path(path)
    try:  # regular files only: /dev/zero or a FIFO is refused, never read for ever
        text = read_regular_text(p, limit=MAX_CONFIG_BYTES, what="targets file")
    except FileRefused as exc:
        raise TargetError(str(exc)) from exc
    kind = fmt or detect_format(p, text)
    parsers = {"csv": parse_csv, "toml": parse_toml, "list": parse_list}
    if kind == "ini":
        targets = parse_ansible_ini(text, str(path), groups_as=groups_as)
    elif kind in parsers:
        targets = parsers[kind](text, str(path), kinds)
    else:
        raise TargetError(f"{path}: unknown targets format {kind!r}")
    return finalise(targets, site=site, user=user)


def finalise(targets: list[Target], *, site: str = "", user: str = "") -> list[Target]:
    """Apply CLI defaults and drop exact duplicates (a host listed twice is scanned once)."""
    seen: dict[tuple[str, str], Target] = {}
    for t in targets:
        if site and not t.site:
            t = replace(t, site=site)
        if user and not t.user:
            t = replace(t, user=user)
        key = (t.key, t.site)
        if key in seen:
            prev = seen[key]
            seen[key] = replace(prev, tags=tuple(sorted(set(prev.tags) | set(t.tags))))
        else:
            seen[key] = t
    return list(seen.values())
