"""Linux collection: the probe table and pure parsers over the text it returns.

Why a table: the same ordered list of files and commands serves the local scan, the SSH probe and
the replay of captured hosts, and it is the complete, reviewable list of what legacyscan reads on
a Linux machine (all read-only, none needs root).
"""

from __future__ import annotations

import hashlib
import operator
import re
import shlex
from collections.abc import Callable
from dataclasses import fields as dataclass_fields

from agents.inventory import FrozenSoftware, Software

# Files whose whole text is kept as OS evidence, in the order the identifier prefers them.
OS_FILES: tuple[str, ...] = (
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/lsb-release",
    "/etc/redhat-release",
    "/etc/centos-release",
    "/etc/rocky-release",
    "/etc/almalinux-release",
    "/etc/oracle-release",
    "/etc/system-release",
    "/etc/SuSE-release",
    "/etc/debian_version",
    "/etc/alpine-release",
    "/etc/slackware-version",
    "/etc/mageia-release",
    "/etc/gentoo-release",
)

DPKG_STATUS = "/var/lib/dpkg/status"
# Debian's own security-support lists (package debian-security-support, when installed): the
# packages whose support ended early, or is limited, per release.  A few KB; read so the scanner
# judges Debian's builds by Debian's data (scanner.judge.distribution_builds).  GPL-2.0 data: read, never bundled.
DEBIAN_SECURITY_SUPPORT = "/usr/share/debian-security-support"
# Two layouts: security-support.debN (one list per release, since 2025) and the older
# security-support-ended.debN + security-support-limited.
SECURITY_SUPPORT_FILES: tuple[str, ...] = (
    *(DEBIAN_SECURITY_SUPPORT + "/security-support.deb" + str(n) for n in range(9, 16)),
    *(DEBIAN_SECURITY_SUPPORT + "/security-support-ended.deb" + str(n) for n in range(9, 16)),
    DEBIAN_SECURITY_SUPPORT + "/security-support-limited",
)
APK_INSTALLED = "/lib/apk/db/installed"

# -- the distribution's own per-package support data beyond Debian's lists (scanner.judge.distribution_data) --
# Ubuntu: apt's Packages indexes of the archive the host uses.  Which index holds the installed
# version (its Release file's ``Origin``: "Ubuntu", "UbuntuESMApps", a PPA's "LP-PPA-...", another
# vendor's) says who built it; the component (main/restricted: Canonical's security support;
# universe/multiverse: community, covered only by Ubuntu Pro ESM Apps) and, in releases up to
# 18.04, the ``Supported:`` field ("5y", "3y", "9m") say for how long.  The indexes are tens of MB,
# so the host extracts only what concerns its installed packages: one awk over the dpkg database
# then the indexes (decompressed where apt keeps them compressed, grep keeping only the lines awk
# acts on), one line per installed package
# per index -- a few hundred KB at most.  Debian: the same lines say whether an installed package
# whose version carries no Debian mark (a plain ``-1`` revision, as vendors' .debs have too) is in
# Debian's archive, another vendor's repository, or no index of Debian at all.  Only on Debian,
# Ubuntu and their derivatives (os-release says so): elsewhere the script reads nothing and prints
# nothing.
APT_LISTS = "/var/lib/apt/lists"
# awk, stdin: ``@@F <index>`` then that index's stanzas.  Output: one
# ``F<TAB>n<TAB>index<TAB>Origin<TAB>Suite`` line per index (from its InRelease or Release file),
# then ``n<TAB>package<TAB>=|-<TAB>Supported`` for each installed package the index carries ("=":
# the installed version itself; another version is printed once per package and Origin unless it
# states ``Supported:``, which bounds the output).  Bourne-clean, as the sh agent carries it (no
# ==, !, function).
_APT_FLUSH = (
    'if (length(p) && (p in I)) { k = (I[p] "" < v "") + (I[p] "" > v ""); '
    "if (k < 1 || length(s) || ((p SUBSEP o) in P) < 1) { P[p SUBSEP o] = 1; "
    'print n "\\t" p "\\t" (k ? "-" : "=") "\\t" s } } p = ""; v = ""; s = ""'
)
_APT_AWK = (
    "BEGIN { while ((getline l < S) > 0) { if (l ~ /^Package: /) p = substr(l, 10); "
    "else if (l ~ /^Status: /) t = (l ~ / installed$/); else if (l ~ /^Version: /) v = substr(l, 10); "
    'else if (length(l) < 1) { if (t && length(p)) I[p] = v; p = ""; t = 0; v = "" } } '
    'if (t && length(p)) I[p] = v; close(S); p = ""; v = ""; s = "" } '
    "/^@@F / { " + _APT_FLUSH + "; n++; f = substr($0, 5); r = f; "
    'if (sub(/_binary-[^_]*_Packages[^_]*$/, "", r)) sub(/_[^_]*$/, "", r); else sub(/_Packages[^_]*$/, "", r); '
    'o = ""; u = ""; for (i = 1; i <= 2; i++) { x = r (i < 2 ? "_InRelease" : "_Release"); '
    "while ((getline l < x) > 0) { if (l ~ /^Origin: /) o = substr(l, 9); else if (l ~ /^Suite: /) u = substr(l, 8); "
    "if (length(o) && length(u)) break } close(x); if (length(o)) break } "
    'print "F\\t" n "\\t" f "\\t" o "\\t" u; next } '
    "/^Package: / { " + _APT_FLUSH + "; p = substr($0, 10); next } "
    "/^Version: / { v = substr($0, 10); next } "
    "/^Supported: / { s = substr($0, 12); next } "
    "/^$/ { " + _APT_FLUSH + " } "
    "END { " + _APT_FLUSH + " }"
)
# The lines that awk acts on: an index's ``@@F`` mark, a stanza's Package, Version and Supported
# fields, the blank line ending it.  The indexes are 50-100 MB of text, ~94 % of it other fields
# (Description, checksums, Depends...) that awk would test against its five patterns and ignore, so
# grep hands awk only these lines first (the same lines, in the same order: awk's answer is the same
# byte for byte; on Debian 12's main index awk's CPU 0.16 -> 0.03 s, grep's 0.05 s).  Each index
# passes one grep: a plain one is read by grep itself (no cat), a compressed one is piped into it
# from its decompressor.  ``-a``: an index with a NUL byte is still read as text (GNU grep would
# drop what follows it; busybox grep takes ``-a`` too); the bundle's C locale keeps grep byte-wise.
# Where the ~0.12 s go on Debian 12 (lz4 lists, 50 MB): lz4 ~0.02, the pipe ~0.02, grep's line scan
# ~0.045, awk ~0.035; decompressing and reading the indexes alone is ~0.05 (any reader pays it).
# Timing a stage: give grep a reader -- GNU grep whose stdout is /dev/null stops at the first match
# (as ``-q``), so ``lz4 -dc F | grep ... >/dev/null`` times lz4 alone.
_APT_LINES = "^(@@F |Package: |Version: |Supported: |$)"
# sh -c SCRIPT sh OS-RELEASE OS-RELEASE DPKG-STATUS LISTS (paths as arguments: tests run the same
# script on a constructed root).
APT_SUPPORT_SCRIPT = (
    'grep -Eqs \'^ID(_LIKE)?="?([A-Za-z0-9._-]+ )*(ubuntu|debian)\' "$1" "$2" || exit 0; '
    '[ -r "$3" ] || exit 0; s=$3; e=\'' + _APT_LINES + "'; "
    'for f in "$4"/*_Packages "$4"/*_Packages.lz4 "$4"/*_Packages.gz "$4"/*_Packages.xz '
    '"$4"/*_Packages.zst; do [ -r "$f" ] || continue; echo "@@F $f"; '
    'case $f in *.lz4) lz4 -dc "$f" | grep -a -E "$e";; *.gz) gzip -dc "$f" | grep -a -E "$e";; '
    '*.xz) xz -dc "$f" | grep -a -E "$e";; *.zst) zstd -dcq "$f" | grep -a -E "$e";; '
    '*) grep -a -E "$e" "$f";; esac 2>/dev/null; echo; done | awk -v S="$s" \'' + _APT_AWK + "'"
)
APT_SUPPORT = ["sh", "-c", APT_SUPPORT_SCRIPT, "sh", "/etc/os-release", "/usr/lib/os-release", DPKG_STATUS, APT_LISTS]
# SUSE: ``zypper lifecycle``'s package data (``<product>.lifecycle``: ``name, version, date[, successor]``
# lines for packages whose support ends before the product's), in the three folders zypper-lifecycle
# reads.  Small files (a few KB); each capped at 256 KiB.  Absent elsewhere: no output.
LIFECYCLE_DIRS: tuple[str, ...] = ("/var/lib/lifecycle/data", "/usr/lib/lifecycle/data", "/usr/share/lifecycle/data")
SUSE_LIFECYCLE_SCRIPT = (
    'for d in "$@"; do for f in "$d"/*.lifecycle; do [ -r "$f" ] || continue; '
    'echo "@@F $f"; head -c 262144 "$f"; echo; done; done; exit 0'
)
SUSE_LIFECYCLE = ["sh", "-c", SUSE_LIFECYCLE_SCRIPT, "sh", *LIFECYCLE_DIRS]
DPKG_QUERY = [
    "dpkg-query",
    "-W",
    "-f=${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\t${Maintainer}\\t${Source}\\t${Origin}\\n",
]
# rpm: name, epoch:version-release, arch, and who built and signed it -- VENDOR, PACKAGER and the
# signature's key (header signature first: RSAHEADER/DSAHEADER since rpm 4.1, then the older
# header+payload SIGPGP/SIGGPG).  Imported signing keys are ``gpg-pubkey`` entries whose VERSION is
# the key's short id and whose PACKAGER is the key owner's user id: the host's own answer to "whose
# key is this" (``rpm_signing_keys``).  The conditional form prints "(none)" for an unsigned package.
RPM_SIGNATURE = (
    "%|RSAHEADER?{%{RSAHEADER:pgpsig}}:{%|DSAHEADER?{%{DSAHEADER:pgpsig}}:"
    "{%|SIGPGP?{%{SIGPGP:pgpsig}}:{%|SIGGPG?{%{SIGGPG:pgpsig}}:{(none)}|}|}|}|"
)
RPM_QA = [
    "rpm",
    "-qa",
    "--qf",
    "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\t%{PACKAGER}\\t" + RPM_SIGNATURE + "\\n",
]
UNAME = ["uname", "-srm"]

# Over SSH the dpkg database is read as the four lines of each stanza a package record needs
# (``grep -E``): 10x fewer bytes than the file, and ~1.5 ms of the host's CPU where dpkg-query
# costs ~9 ms (measured on Debian 12, 846 packages) -- on a clinical host, less is better.
# The database can lag dpkg-query by a few packages only while dpkg itself is running (its
# journal in /var/lib/dpkg/updates is merged on the next run); the next scan sees them.
# Maintainer, Source and Origin say who built the package (``scanner.judge.distribution_builds`` judges a
# distribution's own build by the distribution's support; a vendor's build by the vendor's).
DPKG_STATUS_FIELDS = "^(Package|Status|Architecture|Version|Maintainer|Source|Origin):"
# (The probe table's ``dpkg-status`` row carries this filter, and its ``dpkg-query`` row is not run
# where the database is readable: agents/probes.py.)


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release (freedesktop format): KEY=value with shell-style quoting."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue
        value = value.strip()
        try:
            parts = shlex.split(value, posix=True) if value else [""]
            value = parts[0] if len(parts) == 1 else " ".join(parts)
        except ValueError:
            value = value.strip("\"'")
        out[key] = value
    return out


def parse_dpkg_status(text: str) -> list[Software]:
    """Installed packages from /var/lib/dpkg/status (the database itself; no dpkg needed), whole
    or as ``DPKG_STATUS_FIELDS`` lines only (what the SSH probe reads: no blank lines between
    stanzas).  dpkg writes ``Package`` first in every stanza, so a line starting ``Package:``
    starts a record in both forms.  A pure function: new records every call (a fleet scan parses
    through a ``PackageMemo`` instead).

    Only stanzas whose Status says ``installed`` count: ``deinstall ok config-files`` leftovers
    are removed packages and must not be reported; ``hold ok installed`` is installed.
    """
    return _records(_dpkg_status_stanzas(text), _dpkg_stanza)


def _dpkg_stanza(stanza: str) -> Software:
    """One stanza of the dpkg database, from just after its ``Package:``."""
    lines = stanza.split("\n")
    name = lines[0].strip()
    version = arch = status = maintainer = source = origin = ""
    for line in lines[1:]:
        if not line or line[0] in " \t":
            continue
        key, _, value = line.partition(":")
        if key == "Version":
            version = value.strip()
        elif key == "Architecture":
            arch = value.strip()
        elif key == "Status":
            status = value.strip()
        elif key == "Maintainer":
            maintainer = value.strip()
        elif key == "Source":
            source = value.split("(", 1)[0].strip()  # "docker.io (20.10.24+dfsg1-1+deb12u1)": a binNMU
        elif key == "Origin":
            origin = value.strip()
    if not name or not status.endswith(" installed"):
        return _SKIP
    return Software(
        name=name, version=version, arch=arch, source="dpkg", publisher=maintainer, source_package=source, origin=origin
    )


_SKIP = FrozenSoftware(name="")  # a line that yields no record (header, removed package, pubkey); never handed out


def _dpkg_status_stanzas(text: str) -> list[str]:
    return ("\n" + text).split("\nPackage:")[1:]


def _records(items: list[str], parse: Callable[[str], Software]) -> list[Software]:
    """The records of ``items`` (lines or stanzas), each parsed afresh."""
    return [sw for sw in map(parse, items) if sw is not _SKIP]


def text_key(text: str) -> bytes:
    """The key a whole package-manager answer is remembered by (a 128-bit BLAKE2b digest)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class PackageMemo:
    """The package parsers with a memory, for a caller that parses many hosts (the fleet scan makes
    one per scan and hands it to every host's Collector): the same records as the pure parsers,
    as ``FrozenSoftware``, each distinct package line (stanza) parsed once and its one record handed
    to every host that sends the line.

    Package lines repeat across a fleet (one distribution release on hundreds of hosts), and so
    does a whole answer (every host of a build sends the same text).  Encoding
    (``scanner.store.sqlite``) and matching (``scanner.judge.match``) then see the same object for
    the same line and remember their work on it by identity: measured at about half the per-host
    CPU of a fleet scan.  The records cannot be changed (``FrozenSoftware``), so sharing them
    between inventories is safe.  A whole answer is remembered by its digest (``text_key``), not
    kept: a local scan's dpkg database (1.5 MB) is not held.

    Bounded: ``lines`` distinct lines per format (~15 MB at 50,000), ``texts`` answers per format;
    when the lines of a format are full, that memory restarts (and every format's answers with it).
    Safe for the scan's threads: the eviction never iterates a dict another thread may be filling
    (``clear`` runs without a thread switch); a lost race only parses again.
    """

    KINDS = ("dpkg", "dpkg-status", "rpm")

    def __init__(self, lines: int = 50_000, texts: int = 128) -> None:
        self.lines_max = lines
        self.texts_max = texts
        self.lines: dict[str, dict[str, Software]] = {kind: {} for kind in self.KINDS}
        self.texts: dict[str, dict[bytes, tuple[Software, ...]]] = {kind: {} for kind in self.KINDS}
        self.restarts = 0  # how often a line memo was full and started again

    def dpkg_status(self, text: str) -> list[Software]:
        """``parse_dpkg_status(text)``, remembered."""
        return self._parsed_text(text, "dpkg-status", _dpkg_status_stanzas, _dpkg_stanza)

    def dpkg_query(self, text: str) -> list[Software]:
        """``parse_dpkg_query(text)``, remembered."""
        return self._parsed_text(text, "dpkg", str.splitlines, _dpkg_query_line)

    def rpm_qa(self, text: str) -> list[Software]:
        """``parse_rpm_qa(text)``, remembered."""
        return self._parsed_text(text, "rpm", str.splitlines, _rpm_qa_line)

    def _parsed_text(
        self, text: str, kind: str, split: Callable[[str], list[str]], parse: Callable[[str], Software]
    ) -> list[Software]:
        memo = self.texts[kind]
        key = text_key(text)
        hit = memo.get(key)
        if hit is not None:
            return list(hit)
        restarts = self.restarts
        result = self._parsed(split(text), kind, parse)
        if restarts == self.restarts:  # none of its lines forgotten meanwhile
            if len(memo) >= self.texts_max:
                memo.clear()
            memo[key] = tuple(result)
        return result

    def _parsed(self, items: list[str], kind: str, parse: Callable[[str], Software]) -> list[Software]:
        memo = self.lines[kind]
        result: list[Software] = []
        for item in items:
            sw = memo.get(item)
            if sw is None:
                sw = self._remembered(memo, item, _frozen(parse(item)))
            if sw is not _SKIP:
                result.append(sw)
        return result

    def _remembered(self, memo: dict[str, Software], line: str, record: Software) -> Software:
        if len(memo) >= self.lines_max:
            self.restarts += 1
            memo.clear()
            for text_memo in self.texts.values():  # the answers of the lines forgotten here
                text_memo.clear()
        memo[line] = record
        return record


def _frozen(record: Software) -> Software:
    if record is _SKIP:
        return record
    return FrozenSoftware(*_SOFTWARE_ROW(record))


_SOFTWARE_ROW = operator.attrgetter(*(f.name for f in dataclass_fields(Software)))


def shared(record: Software) -> bool:
    """True for a record that cannot change (``FrozenSoftware``: what a ``PackageMemo`` hands to
    every inventory with the same package line): callers may remember work on it by identity, as
    long as they hold the record."""
    return isinstance(record, FrozenSoftware)


def _dpkg_query_line(line: str) -> Software:
    parts = line.split("\t")
    if len(parts) < 2 or not parts[0]:
        return _SKIP
    # db:Status-Abbrev is want, state, error: "ii " and a held "hi " are installed; "rc " (removed,
    # config files left), "iU"/"iF" (half-configured/half-installed) are not.
    if len(parts) >= 4 and parts[3][1:2] != "i":
        return _SKIP
    more = parts[4:7] + [""] * (7 - max(len(parts), 4))
    return Software(
        name=parts[0],
        version=parts[1],
        arch=parts[2] if len(parts) > 2 else "",
        source="dpkg",
        publisher=more[0].strip(),
        source_package=more[1].split("(", 1)[0].strip(),
        origin=more[2].strip(),
    )


def parse_dpkg_query(text: str) -> list[Software]:
    """Output of ``DPKG_QUERY`` (tab-separated; the 4th column is the status abbreviation).  Pure."""
    return _records(text.splitlines(), _dpkg_query_line)


_KEY_ID = re.compile(r"Key (?:ID|fingerprint):?\s*([0-9A-Fa-f]{8,40})\b")


def _rpm_field(parts: list[str], n: int) -> str:
    value = parts[n].strip() if len(parts) > n else ""
    return "" if value == "(none)" else value


def _rpm_qa_line(line: str) -> Software:
    parts = line.split("\t")
    if len(parts) < 2 or not parts[0] or parts[0] == "gpg-pubkey":
        return _SKIP
    version = parts[1]
    if version.startswith("(none):"):
        version = version[len("(none):") :]
    elif version.startswith("0:"):
        version = version[2:]
    # The builder is the Vendor, else the Packager; the signing key (``origin``: "key <id>") is
    # judged against the host's imported keys (scanner.judge.distribution_builds).  Output of an older bundle has
    # the first four columns only.
    key = _KEY_ID.search(parts[5]) if len(parts) > 5 else None
    return Software(
        name=parts[0],
        version=version,
        arch=parts[2] if len(parts) > 2 else "",
        publisher=_rpm_field(parts, 3) or _rpm_field(parts, 4),
        source="rpm",
        origin=f"key {key.group(1).lower()}" if key else "",
    )


def parse_rpm_qa(text: str) -> list[Software]:
    """Output of ``RPM_QA``: name, epoch:version-release, arch, vendor, packager, signature.
    ``(none):`` epoch dropped.  Pure."""
    return _records(text.splitlines(), _rpm_qa_line)


def rpm_signing_keys(text: str) -> dict[str, str]:
    """The signing keys imported on the host, from ``RPM_QA`` output: short key id (the last 8 hex
    digits, lower case) -> the key owner's user id (the ``gpg-pubkey`` entry's PACKAGER; rpm 6
    names the entry by the whole fingerprint, hence the last 8 digits)."""
    keys: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("gpg-pubkey\t"):
            continue
        parts = line.split("\t")
        version = parts[1].split(":", 1)[-1].split("-", 1)[0].strip().lower()
        owner = _rpm_field(parts, 4)
        if re.fullmatch(r"[0-9a-f]{8,40}", version) and owner:
            keys[version[-8:]] = owner[:300]
    return keys


def parse_apk_installed(text: str) -> list[Software]:
    """Alpine's /lib/apk/db/installed: stanzas of ``X:value`` lines (P name, V version, A arch,
    o origin = the source package, m maintainer)."""
    result: list[Software] = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if fields.get("P"):
            result.append(
                Software(
                    name=fields["P"],
                    version=fields.get("V", ""),
                    arch=fields.get("A", ""),
                    source="apk",
                    publisher=fields.get("m", ""),
                    source_package=fields.get("o", ""),
                )
            )
    return result


def no_package_database(result_stdout: str, result_stderr: str) -> bool:
    """rpm's answer on a host where rpm is only a tool (Debian with ``alien`` or a security tool
    installed): no database, or an empty one.  Data ("no rpm packages"), not a failed probe."""
    if result_stdout.strip():
        return False
    err = result_stderr.lower()
    return not err.strip() or "cannot open packages database" in err or "no such file" in err or "exit code" in err


def os_name(files: dict[str, str]) -> tuple[str, str]:
    """A display name and version from the evidence (identification proper is the scanner's job)."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if path in files:
            data = parse_os_release(files[path])
            return data.get("PRETTY_NAME") or data.get("NAME", ""), data.get("VERSION_ID", "")
    for path in ("/etc/redhat-release", "/etc/SuSE-release", "/etc/system-release", "/etc/lsb-release"):
        if path in files:
            first = files[path].strip().splitlines()[0] if files[path].strip() else ""
            m = re.search(r"\d+(\.\d+)*", first)
            return first, m.group() if m else ""
    if "/etc/debian_version" in files:
        return "Debian GNU/Linux " + files["/etc/debian_version"].strip(), files["/etc/debian_version"].strip()
    return "", ""
