"""Parsers for the distributions' own per-package support data read on the host (pure functions).

Debian's ``debian-security-support`` lists are parsed in ``scanner.judge.distribution_builds``; this module reads the
other distributions' equivalents, as the probes of ``agents.linux`` bring them:

* **Ubuntu** (``agents.linux.APT_SUPPORT``): for each apt Packages index of the host, its file, the
  ``Origin`` and ``Suite`` of its Release file, and for each installed package it carries whether
  it holds the installed version and the package's ``Supported:`` field.  Ubuntu's archive wrote
  ``Supported:`` ("5y", "3y", "9m", "18m") into its indexes up to 18.04; from 20.04 on it does not,
  and the component of the index (main/restricted: Canonical's security support for the release;
  universe/multiverse: community, covered only by Ubuntu Pro ESM Apps) is the data.
* **SUSE** (``agents.linux.SUSE_LIFECYCLE``): the ``zypper lifecycle`` data files,
  ``name, version, date[, successor]`` per line (CSV, ``#`` comments); a name with ``*`` wildcards
  or a ``/regexp/``; a version with ``*`` wildcards matched against the installed edition
  (``[epoch:]version-release``); the date is the package's end of support, before the product's.
"""

from __future__ import annotations

import calendar
import re
import warnings
from dataclasses import dataclass, field
from datetime import date

# -- Ubuntu: apt's Packages indexes ------------------------------------------------------------

# Release-file Origins of Ubuntu's own archives (the release, its updates and security pockets, and
# Ubuntu Pro's ESM archives).  PPAs say "LP-PPA-<owner>-<name>", other vendors their own name.
UBUNTU_ORIGINS = frozenset(
    {"Ubuntu", "UbuntuESM", "UbuntuESMApps", "UbuntuFIPS", "UbuntuFIPSUpdates", "UbuntuFIPSPreview", "UbuntuCC"}
)
ESM_APPS_ORIGIN = "UbuntuESMApps"
SUPPORTED_COMPONENTS = frozenset({"main", "restricted"})  # Canonical's security support


@dataclass(frozen=True, slots=True)
class AptIndex:
    """One Packages index of the host: where it is, whose it is (Release ``Origin``), which pocket."""

    path: str
    origin: str
    suite: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def component(self) -> str:
        """``main``/``restricted``/``universe``/``multiverse`` (or a vendor's), from the index's file
        name (``<host>_<path>_dists_<dist>_<component>_binary-<arch>_Packages``); "" when flat."""
        parts = self.name.split("_dists_", 1)[-1].split("_")
        for i, part in enumerate(parts):
            if part.startswith("binary-") and i >= 2:
                return parts[i - 1]
        return ""

    @property
    def ubuntu(self) -> bool:
        return self.origin in UBUNTU_ORIGINS


@dataclass(frozen=True, slots=True)
class AptEntry:
    """One installed package as one index carries it."""

    index: AptIndex
    installed_version: bool  # the index holds exactly the installed version
    supported: str = ""  # the ``Supported:`` field ("5y", "9m"), "" when absent


@dataclass(frozen=True, slots=True)
class AptSupport:
    indexes: tuple[AptIndex, ...] = ()
    packages: dict[str, tuple[AptEntry, ...]] = field(default_factory=dict)

    @property
    def esm_apps(self) -> AptIndex | None:
        """The host's Ubuntu Pro ESM Apps index, when apt uses one (the host is entitled to it)."""
        return next((i for i in self.indexes if i.origin == ESM_APPS_ORIGIN), None)

    def entries(self, package: str) -> tuple[AptEntry, ...]:
        return self.packages.get(package, ())


def _field(parts: list[str], i: int) -> str:
    """Field ``i`` of a tab-separated line, stripped ("" when the line is shorter)."""
    return parts[i].strip() if len(parts) > i else ""


def parse_apt_support(text: str) -> AptSupport:
    """Output of ``agents.linux.APT_SUPPORT``: ``F<TAB>n<TAB>path<TAB>origin<TAB>suite`` per index,
    ``n<TAB>package<TAB>=|-<TAB>supported`` per installed package an index carries."""
    indexes: dict[str, AptIndex] = {}
    packages: dict[str, list[AptEntry]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if parts[0] == "F" and len(parts) >= 3:
            indexes[parts[1]] = AptIndex(parts[2], _field(parts, 3), _field(parts, 4))
        elif len(parts) >= 3 and parts[0] in indexes and parts[1]:
            packages.setdefault(parts[1], []).append(AptEntry(indexes[parts[0]], parts[2] == "=", _field(parts, 3)))
    return AptSupport(tuple(indexes.values()), {k: tuple(v) for k, v in packages.items()})


_PERIOD = re.compile(r"(\d{1,3})\s*([ym])", re.IGNORECASE)


def supported_months(value: str) -> int | None:
    """``Supported:`` as months: "5y" -> 60, "9m" -> 9, "18m" -> 18; None when unreadable."""
    m = _PERIOD.fullmatch(value.strip())
    if not m:
        return None
    n = int(m.group(1))
    return n * 12 if m.group(2).lower() == "y" else n


def add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# -- SUSE: zypper lifecycle data ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifecycleEntry:
    raw: str  # the line as written
    path: str  # the data file
    name: re.Pattern[str]
    version: re.Pattern[str]
    ended: date | None  # None: no date (a successor-only line)
    successor: str = ""
    search: bool = False  # a /regexp/ name matches anywhere in the name (Ruby's Regexp#match)

    def matches(self, name: str, edition: str) -> bool:
        if len(name) > MAX_MATCHED_NAME or len(edition) > MAX_MATCHED_NAME:
            return False
        hit = self.name.search(name) if self.search else self.name.fullmatch(name)
        return bool(hit) and bool(self.version.fullmatch(edition))


# -- patterns from the host ----------------------------------------------------------------------

# A host's own lists carry patterns (Debian's security-support regular expressions, zypper
# lifecycle ``/regexp/`` names and ``*`` globs) that run here -- on the scanner, on the collector
# while it stores a batch -- against that host's package names.  Host data is bounded like any
# other (#19): a pattern that would crash the compiler (deep nesting: RecursionError) or
# backtrack without end (a repeated group that itself repeats or alternates, a backreference,
# many unbounded repeats) is not a statement we use, and names longer than any package's are not
# matched against host patterns at all.
MAX_HOST_PATTERN = 512
MAX_UNBOUNDED_REPEATS = 3
MAX_MATCHED_NAME = 256


def host_regex(raw: str) -> re.Pattern[str] | None:
    """``raw`` compiled, or None when it is not a pattern we run (invalid, over
    ``MAX_HOST_PATTERN`` characters, or shaped for catastrophic backtracking)."""
    if len(raw) > MAX_HOST_PATTERN or _backtracks(raw):
        return None
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like: the host's, not ours to print
            warnings.simplefilter("ignore")
            return re.compile(raw)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


def _repeat(raw: str, i: int) -> tuple[str, int]:
    """The quantifier at ``raw[i]``: ("unbounded" | "bounded" | "", index after it)."""
    n = len(raw)
    if i >= n:
        return "", i
    kind = ""
    if raw[i] in "*+":
        kind, i = "unbounded", i + 1
    elif raw[i] == "?":
        i += 1  # at most once: no repetition
    elif raw[i] == "{":
        m = re.match(r"\{(\d*)(,?)(\d*)\}", raw[i:])
        if not m:
            return "", i  # a literal brace
        low, comma, high = m.groups()
        if comma and not high:
            kind = "unbounded"
        elif (int(high) if comma else int(low or 0)) > 1:
            kind = "bounded"
        i += m.end()
    else:
        return "", i
    if i < n and raw[i] in "?+":  # lazy or possessive: the same repetition
        i += 1
    return kind, i


def _backtracks(raw: str) -> bool:
    """True for a pattern shaped for catastrophic backtracking (see ``host_regex``)."""
    stack: list[bool] = []  # per open group: whether it holds a repeat or an alternative
    unbounded = 0
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        inner = False
        if ch == "\\":
            if i + 1 < n and raw[i + 1] in "123456789":
                return True  # a backreference
            i += 2
        elif ch == "[":  # a character class: one atom
            i += 1
            if i < n and raw[i] == "^":
                i += 1
            if i < n and raw[i] == "]":
                i += 1
            while i < n and raw[i] != "]":
                i += 2 if raw[i] == "\\" else 1
            i += 1
        elif ch == "(":
            stack.append(False)
            i += 2 if raw.startswith("?", i + 1) else 1
            if raw.startswith("P=", i):
                return True  # a named backreference
            continue
        elif ch == "|":
            if stack:
                stack[-1] = True
            i += 1
            continue
        elif ch == ")":
            inner = stack.pop() if stack else False
            i += 1
        else:
            i += 1
        kind, i = _repeat(raw, i)
        if kind and inner:
            return True  # (a+)+, (a|ab)*, (.*){2,}: exponential
        unbounded += kind == "unbounded"
        if unbounded > MAX_UNBOUNDED_REPEATS:
            return True
        if (kind or inner) and stack:
            stack[-1] = True
    return False


def glob_regex(text: str) -> re.Pattern[str]:
    """A ``*`` glob matched whole, in linear time: each middle part at its first occurrence (an
    atomic lazy search never revisited -- the leftmost place is always a right one), the last part
    at the end.  A plain ``.*``-joined pattern backtracks polynomially in the number of stars."""
    parts = [re.escape(part) for part in text.split("*")]
    if len(parts) == 1:
        return re.compile(parts[0])
    middle = "".join(f"(?>.*?{part})" for part in parts[1:-1] if part)
    return re.compile(f"{parts[0]}{middle}.*{parts[-1]}", re.DOTALL)


def _csv_fields(line: str) -> list[str]:
    """One CSV line as zypper-lifecycle reads it (Ruby CSV): comma-separated, double quotes."""
    out, cur, quoted, i = [], [], False, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"' and line[i + 1 : i + 2] == '"':
                cur.append('"')
                i += 1
            elif ch == '"':
                quoted = False
            else:
                cur.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == ",":
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur).strip())
    return out


def parse_lifecycle_file(text: str, path: str = "") -> tuple[LifecycleEntry, ...]:
    out = []
    for line in text.splitlines():
        entry = _lifecycle_line(line, path) if line.strip() and not line.lstrip().startswith("#") else None
        if entry is not None:
            out.append(entry)
    return tuple(out)


def _name_pattern(name_text: str) -> tuple[re.Pattern[str], bool]:
    """A lifecycle name: ``/regex/`` (searched) or a glob (matched whole); raises re.error."""
    search = len(name_text) > 1 and name_text.startswith("/") and name_text.endswith("/")
    if not search:
        return glob_regex(name_text), False
    pattern = host_regex(name_text[1:-1])
    if pattern is None:
        raise re.error("not a pattern legacyscan runs (invalid, too long or backtracking without bound)")
    return pattern, True


def _lifecycle_line(line: str, path: str) -> LifecycleEntry | None:
    """One ``name,version,date[,note]`` line; None when it is not a statement we can use."""
    fields = _csv_fields(line)
    if len(fields) < 2 or not fields[0]:
        return None
    name_text, version_text = fields[0], fields[1] or "*"
    try:
        name, search = _name_pattern(name_text)
        ended = date.fromisoformat(fields[2][:10]) if len(fields) > 2 and fields[2] else None
    except (re.error, ValueError):
        return None  # a bad or unsafe pattern or an unreadable date: not a statement we can use
    return LifecycleEntry(
        line.strip(), path, name, glob_regex(version_text), ended, fields[3] if len(fields) > 3 else "", search
    )


def parse_lifecycle(text: str) -> tuple[LifecycleEntry, ...]:
    """Output of ``agents.linux.SUSE_LIFECYCLE``: ``@@F <path>`` then that file, per data file."""
    out: list[LifecycleEntry] = []
    path, chunk = "", list[str]()
    for line in [*text.splitlines(), "@@F "]:
        if line.startswith("@@F "):
            if chunk:
                out.extend(parse_lifecycle_file("\n".join(chunk), path))
            path, chunk = line[4:].strip(), []
        else:
            chunk.append(line)
    return tuple(out)


def lifecycle_end(entries: tuple[LifecycleEntry, ...], name: str, edition: str) -> LifecycleEntry | None:
    """The lifecycle line that applies to an installed package, or None: the last matching line
    decides, as zypper-lifecycle overwrites earlier matches (a later line without a date clears
    the end)."""
    hit = None
    for entry in entries:
        if entry.matches(name, edition):
            hit = entry
    return hit if hit is not None and hit.ended is not None else None
