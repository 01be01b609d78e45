"""Windows OS record -> ``windows`` / ``windows-server`` / ``windows-embedded`` cycle.

Why this is more than a version lookup (docs: eol-data.md section 4): endoflife.date keys Windows
by *build + edition + client/server*, not by version string.  The same build is a client, an LTSC
client, a server and an embedded release (14393, 17763, 26100, 7601, 9600, 3790); Windows 11 keeps
``ProductName = "Windows 10 ..."`` in the registry; Windows 10/11 cycles split by servicing family
(``-w`` Home/Pro, ``-e`` Enterprise/Education, ``-e-lts``, ``-iot-lts``) except releases with one
cycle for all editions (``10-22h2``); XP and Vista are ``5-sp3`` / ``6-sp2`` whatever the service
pack; captions arrive localized ("Entreprise", "Профессиональная", "专业版") and mangled by code
pages ("Microsoftr Windows VistaT").

The identifier is deliberately lenient about its input.  Evidence first, then identification:
``facts_of`` reads the record into typed facts (``WindowsFacts``) through the explicit list of
evidence adapters (``ADAPTERS``): the contract fields first, then any other value in the record
(read by kind, ``READERS``: a nested collection document, a pasted systeminfo or registry text, a
systeminfo label, a WMI property name, a free-text agent line) searched for a caption, a
``major.minor.build`` version, a service pack and a role; the decision reads only the facts.  When the
evidence cannot decide between cycles with different end dates, it names the candidate whose
security support ends *last*, with low confidence, and lists the others (``spans`` for cycles of
the same product, ``alternatives`` across products): the verdict is then unknown on every date
where the candidates' states differ (``scanner.identify.registry.verdict_for``), because a wrong
"supported" is as serious as a wrong "eol".

All tables (builds, edition words, embedded names, label names, localized words and spellings) are
data in ``eol_data/rules/windows_os.toml``; the grammar of version numbers and text lines is code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from eol_data.catalog import Release
from eol_data.rules import Rules
from scanner.identify.context import Knowledge
from scanner.model import Confidence, Identification

RULES = "windows_os"
HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

_CONTRACT = (
    "caption",
    "product_name",
    "version",
    "build",
    "ubr",
    "edition_id",
    "display_version",
    "installation_type",
    "product_type",
    "csd_version",
    "release_id",
)

# Code-page damage and trademark marks: "Microsoftr", "Serverr", "VistaT", "Windows(R)", "®", "™".
_MARKS = re.compile(r"\((?:r|tm|c)\)|[®™©]", re.IGNORECASE)
_VERSION3 = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{3,5})(?:\.(\d{1,6}))?(?![\d])")
# An NT version standing as a word of its own: not a piece of a larger token ("base-4.0-amd64" in an
# LSB Version line, "x86_64-6.1" in a package name), whose number names something else.
_NT_VERSION = re.compile(r"(?<![\w.-])(10\.0|6\.[0-3]|5\.[0-2]|4\.(?:10|90|0))(?![\w.-])")
_SP = re.compile(r"\b(?:service\s*pack|sp)\s*:?\s*(\d)\b", re.IGNORECASE)
_DISPLAY = re.compile(r"\b(\d{2}h[12])\b", re.IGNORECASE)
_RELEASE_ID = re.compile(r"\breleaseid\s*[:=]?\s*(\d{4})\b", re.IGNORECASE)
_YEAR_LTSC = re.compile(r"\b(20\d\d)\b")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class _Words:
    """The rules' label names, role values and word lists (``[labels]``, ``[role_values]``,
    ``[words]``) as the patterns the adapters use, built once per rules table."""

    names: tuple[str, ...]  # keys that name the OS
    skip: re.Pattern[str]  # keys whose values never describe it
    role_values: dict[str, str]  # value -> "workstation" | "server"
    mangled: re.Pattern[str]  # code-page damage: "Microsoftr", "VistaT"
    # "Win10", "Win 11", "Windows10", "win10x64" and a mistyped "Windowns 10": the client release
    # named without the word "Windows" spelled out.  Not "Win32", not a version number
    # ("Windows 10.0.17763" is NT 10.0, any release).
    win_short: re.Pattern[str]
    caption: tuple[str, ...]
    build_word: re.Pattern[str]  # "Build 17134", "compilación: 19045"
    version_build: re.Pattern[str]  # "6.1 (Build 7601)", "10.0 compilación 19045"
    systeminfo_no_sp: re.Pattern[str]  # "5.2.3790 Build 3790" as a whole value
    # The same systeminfo version form inside a longer text (a pasted or run-together systeminfo):
    # "5.2.3790 Build 3790" with the build repeated; only used when the text names no service pack.
    systeminfo_no_sp_in_text: re.Pattern[str]
    release_id_in_caption: re.Pattern[str]  # "... LTSC version 1809"
    server_caption: re.Pattern[str]
    role_keys: tuple[str, ...]
    configuration_keys: tuple[str, ...]


def _alt(words: Any) -> str:
    """Words as one (escaped) regular-expression alternation; one that never matches when none."""
    items = [re.escape(str(w)) for w in words or []]
    return "(?:" + "|".join(items) + ")" if items else "(?!)"


def _compile_words(rules: dict[str, Any]) -> _Words:
    labels, words = rules.get("labels", {}), rules.get("words", {})
    role_table = rules.get("role_values", {})
    builds = _alt(words.get("build"))
    return _Words(
        names=tuple(str(n) for n in labels.get("name", [])),
        skip=re.compile("|".join(str(p) for p in labels.get("skip", [])) or "(?!)", re.IGNORECASE),
        role_values={str(v): role for role in ("workstation", "server") for v in role_table.get(role, [])},
        mangled=re.compile(rf"\b({_alt(words.get('mangled'))})(?:r|t)\b", re.IGNORECASE),
        win_short=re.compile(
            rf"\b{_alt(words.get('windows'))}\s*-?\s*(10|11)(?![\d.,]\d)(?=x64|x86|\b)", re.IGNORECASE
        ),
        caption=tuple(str(w) for w in words.get("caption", [])),
        build_word=re.compile(rf"\b{builds}\s*:?\s*(\d{{4,5}})\b", re.IGNORECASE),
        version_build=re.compile(
            rf"(?<![\d.])(\d{{1,2}})\.(\d{{1,2}})\s*\(?\s*(?:{builds}|{_alt(words.get('version_build'))})"
            rf"\s*:?\s*(\d{{3,5}})",
            re.IGNORECASE,
        ),
        systeminfo_no_sp=re.compile(rf"^\d+\.\d+\.\d+\s+{_alt(words.get('systeminfo_build'))}\s+\d+$", re.I),
        systeminfo_no_sp_in_text=re.compile(
            rf"\b\d+\.\d+\.(\d+)\s+{_alt(words.get('systeminfo_build_in_text'))}\s+\1\b", re.I
        ),
        release_id_in_caption=re.compile(rf"\b{_alt(words.get('version'))}\s*:?\s*(1[5-9]\d\d|20\d\d)\b"),
        server_caption=_server_caption(words.get("server", [])),
        role_keys=tuple(str(w) for w in words.get("role_keys", [])),
        configuration_keys=tuple(str(w) for w in words.get("configuration_keys", [])),
    )


def _server_caption(others: list[Any]) -> re.Pattern[str]:
    """ "server" by its own rule (it may run into "R2": "serverr2"), then the list's other words:
    whole words when they are ASCII ("serveur"), anywhere when they are not (服务器)."""
    words = [rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in map(str, others)]
    return re.compile("|".join([r"(?<![a-z])server(?![a-z])", r"(?<![a-z])server(?=r2)", *words]))


def _words(rules: Rules) -> _Words:
    """The compiled words of these rules, made once and kept with them (``Rules.derived``)."""
    return rules.derived("windows_os.words", lambda r: _compile_words(r.table(RULES)))


def _bundled_words() -> _Words:
    from eol_data.rules import load_rules

    return _words(load_rules())


def normalise_caption(text: str, words: _Words | None = None) -> str:
    """Lower-case caption with trademark marks and code-page damage removed, spaces collapsed
    (``words``: the rules' words; the bundled rules' when not given)."""
    w = words if words is not None else _bundled_words()
    text = _MARKS.sub(" ", text)
    text = w.mangled.sub(lambda m: m.group(1), text)
    text = text.replace("\u00a0", " ")
    text = re.sub(r"(?i)\bwindows-(?=\d|server|xp|vista)", "windows ", text)
    # Names run together as identifiers ("MicrosoftWindowsServer" / "WindowsServer" in Azure image
    # references, "WindowsServer2019Datacenter" in tool output): the words apart.
    text = re.sub(r"(?i)\b(microsoft)(?=windows)", r"\1 ", text)
    text = re.sub(r"(?i)\b(windows)(?=server)", r"\1 ", text)
    text = re.sub(r"(?i)\b(windows server)(?=20\d\d)", r"\1 ", text)
    text = w.win_short.sub(lambda m: f"windows {m.group(1)}", text)
    text = re.sub(r"(?i)-sp(\d)\b", r" sp\1", text)
    return _SPACES.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class WindowsFacts:
    """What a Windows OS record says, as typed facts: what the identifier decides from.

    Built by the evidence adapters (``ADAPTERS``) from whatever shape the record has; ``notes``
    are the (field, value) pairs the facts were read from, in the order they were read (the
    answer's evidence).
    """

    captions: tuple[tuple[str, str], ...] = ()  # (field, normalised caption)
    major: int | None = None
    minor: int | None = None
    build: int | None = None
    ubr: int | None = None
    sp: int | None = None
    edition_id: str = ""
    display_version: str = ""
    release_id: str = ""
    bare_version: bool = False  # major.minor only (e.g. registry CurrentVersion "6.3", frozen on NT 10)
    role: str = ""  # "server" | "workstation" | ""
    role_source: str = ""
    notes: tuple[tuple[str, str], ...] = ()

    @property
    def nt(self) -> str:
        if self.major is None or self.minor is None:
            return ""
        return f"{self.major}.{self.minor}"

    @property
    def caption(self) -> str:
        return " | ".join(c for _, c in self.captions)


@dataclass(slots=True)
class _Draft:
    """The facts while the adapters read a record: each adapter fills only what is still unknown,
    so the order of ``ADAPTERS`` is the order of trust."""

    words: _Words
    captions: list[tuple[str, str]] = field(default_factory=list)
    major: int | None = None
    minor: int | None = None
    build: int | None = None
    ubr: int | None = None
    sp: int | None = None
    edition_id: str = ""
    display_version: str = ""
    release_id: str = ""
    bare_version: bool = False
    role: str = ""
    role_source: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    labelled: list[tuple[str, str]] = field(default_factory=list)  # the record's other values, by label

    @property
    def nt(self) -> str:
        if self.major is None or self.minor is None:
            return ""
        return f"{self.major}.{self.minor}"

    @property
    def version_incomplete(self) -> bool:
        """No NT version, no build, or only a bare major.minor so far."""
        return self.major is None or self.build is None or self.bare_version

    def captions_has(self, value: str) -> bool:
        norm = normalise_caption(value, self.words)
        return any(norm == c for _, c in self.captions)

    def note(self, key: str, value: Any) -> None:
        _note(self.pairs, key, value)

    def facts(self) -> WindowsFacts:
        return WindowsFacts(
            tuple(self.captions),
            self.major,
            self.minor,
            self.build,
            self.ubr,
            self.sp,
            self.edition_id,
            self.display_version,
            self.release_id,
            self.bare_version,
            self.role,
            self.role_source,
            tuple(self.pairs),
        )


def _note(pairs: list[tuple[str, str]], key: str, value: Any) -> None:
    """Add (key, value) to the evidence notes once, the value cut at 200 characters."""
    text = str(value).strip()
    if text and (key, text) not in pairs:
        pairs.append((key, text[:200]))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    m = re.search(r"\d+", str(value or ""))
    return int(m.group()) if m else None


_LABEL_LINE = re.compile(r"^\s*([^:\n]{2,60}?)\s*[:=]\s*(.+?)\s*$")


def _flatten(record: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Every value of the record as (dotted label, text), each read by the first of ``READERS``
    that knows its kind."""
    out: list[tuple[str, str]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        for reader in READERS:
            pairs = reader(name, value)
            if pairs is not None:
                out.extend(pairs)
                break
    return out


def _read_document(name: str, value: Any) -> list[tuple[str, str]] | None:
    """A nested document (the ``os`` part of a windows-collect document, an agent's JSON): its
    leaves under dotted labels (``registry.CurrentBuild``, ``wmi.Caption``)."""
    if isinstance(value, dict):
        return _flatten(value, f"{name}.")
    if isinstance(value, list):
        return _flatten({str(i): v for i, v in enumerate(value)}, f"{name}.")
    return None


def _read_pasted_text(name: str, value: Any) -> list[tuple[str, str]] | None:
    """A multi-line text ("OS Name: ...\nOS Version: ...", a pasted systeminfo, a ``reg query``
    or ``.reg`` export): each line judged under its own label, when most lines have one."""
    if isinstance(value, str) and "\n" in value.strip():
        return _split_blob(value) or None
    return None


def _read_value(name: str, value: Any) -> list[tuple[str, str]] | None:
    """One value under its label (a systeminfo label, a WMI or registry property, an agent line)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [(name, str(value))]
    return None


READERS: tuple[Callable[[str, Any], list[tuple[str, str]] | None], ...] = (
    _read_document,
    _read_pasted_text,
    _read_value,
)


def _split_blob(text: str) -> list[tuple[str, str]]:
    """``label: value`` lines, ``reg query`` lines (``UBR  REG_DWORD  0x1a85``) or a ``.reg`` export."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    pairs = [pair for pair in map(_blob_pair, lines) if pair is not None]
    return pairs if len(pairs) >= max(1, len(lines) // 2) else []


def _blob_pair(ln: str) -> tuple[str, str] | None:
    """One line of a blob as (label, value), or None when it is neither form."""
    reg = _REG_LINE.match(ln)
    if reg:
        value = reg.group(2)
        if re.fullmatch(r"0x[0-9a-fA-F]+", value):
            value = str(int(value, 16))
        return reg.group(1).strip(), value
    exp = _REG_EXPORT.match(ln)
    if exp:
        return exp.group(1), exp.group(2) if exp.group(2) is not None else str(int(exp.group(3), 16))
    lab = _LABEL_LINE.match(ln)
    if lab:
        return lab.group(1).strip(), lab.group(2)
    col = _COLUMN_LINE.match(ln)  # RegRipper / aligned reports: "ProductName      Windows 10 Pro"
    if col:
        return col.group(1), col.group(2)
    return None


_COLUMN_LINE = re.compile(r"^\s*([A-Za-z][\w.]{2,40})\s{2,}(\S.*?)\s*$")
_REG_LINE = re.compile(r"^\s*\"?([\w .()-]{2,60}?)\"?\s+REG_(?:SZ|EXPAND_SZ|DWORD|QWORD|MULTI_SZ)\s+(.*?)\s*$")
_REG_EXPORT = re.compile(r"^\s*\"([^\"]{1,60})\"\s*=\s*(?:\"(.*)\"|dword:([0-9a-fA-F]{8}))\s*$")


def _key_rank(key: str, names: tuple[str, ...]) -> int:
    low = key.lower()
    if any(low.endswith(k) or k in low for k in names):
        return 0
    if "version" in low:
        return 1
    return 2


def _looks_like_caption(text: str, words: _Words) -> bool:
    low = text.lower()
    if re.match(r"\s*(?:[a-z]:\\|\\\\)", low) or len(low) > 400:  # a path ("C:\\Windows"), not a name
        return False
    return any(word in low for word in words.caption) or words.win_short.search(text) is not None


def _prefer_raw_edition_id(ev: _Draft, record: dict[str, Any]) -> None:
    """A raw ``EditionID`` value beats an edition routed from ``CompositionEditionID``.

    The registry holds both; CompositionEditionID is the edition a SKU is composed on (every Pro
    install says "Enterprise" there), so a converter that matched it as "…EditionID" would turn
    Home/Pro machines into the Enterprise servicing family.  When the record still carries both raw
    values and the routed edition is the composition one, the raw EditionID is the edition.
    """
    raw_edition, composition = _raw_edition_values(record)
    if raw_edition and composition and ev.edition_id == composition.lower() and raw_edition.lower() != ev.edition_id:
        ev.edition_id = raw_edition.lower()
        ev.pairs = [(k, v) for k, v in ev.pairs if k != "edition_id"]
        ev.note("EditionID", raw_edition)


def _raw_edition_values(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """The record's raw ``EditionID`` and ``CompositionEditionID`` values (the last of each)."""
    raw_edition = composition = None
    for key, value in record.items():
        if not isinstance(value, str) or not value.strip():
            continue
        compact = key.lower().replace("_", "").replace(" ", "")
        if compact == "editionid" and key != "edition_id":
            raw_edition = value.strip()
        elif compact == "compositioneditionid":
            composition = value.strip()
    return raw_edition, composition


# -- the evidence adapters --------------------------------------------------------------------
#
# One adapter per kind of evidence a record carries, run in this order (the order of trust); each
# fills only what is still unknown.  The record's raw values other than the contract's are read
# once, by the kind of value they are (``READERS``), into labelled values the later adapters share.

Adapter = Callable[[_Draft, dict[str, Any], dict[str, Any]], None]


def _labelled_values(ev: _Draft, record: dict[str, Any], rules: dict[str, Any]) -> None:
    """Any other key holding a raw value: a systeminfo label (any language), a WMI or registry
    property name, a nested collection document, a pasted text, an agent's one-line OS string."""
    names = ev.words.names
    ev.labelled = sorted(
        _flatten({k: v for k, v in record.items() if k not in _CONTRACT and k not in ("kind", "family")}),
        key=lambda kv: _key_rank(kv[0], names),
    )
    for key, value in ev.labelled:
        _from_extra(ev, key, value, rules)


def _nt10_by_build(ev: _Draft, record: dict[str, Any], rules: dict[str, Any]) -> None:
    """An NT 10 build number is NT 10.0 (registry CurrentVersion stays "6.3" on Windows 10/11)."""
    if ev.build is not None and ev.build >= 10240 and ev.nt != "10.0":
        ev.major, ev.minor, ev.bare_version = 10, 0, False


# -- the contract's fields ---------------------------------------------------------------------


def _contract_fields(ev: _Draft, record: dict[str, Any], rules: dict[str, Any]) -> None:
    """The ``eol identify`` contract's Windows fields (caption, version, build, edition...)."""
    # Captions: WMI Caption first (ProductName lies about Windows 11), then ProductName.
    for key in ("caption", "product_name"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            ev.captions.append((key, normalise_caption(value, ev.words)))
            ev.note(key, value)
    edition = record.get("edition_id")
    if isinstance(edition, str) and edition.strip():
        ev.edition_id = edition.strip().lower()
        ev.note("edition_id", edition)
    _prefer_raw_edition_id(ev, record)
    _feature_update_from_contract(ev, record)
    _parse_version_text(ev, record.get("version"), "version")
    ubr = _int(record.get("ubr"))
    if ubr is not None:
        ev.ubr = ubr
        ev.note("ubr", record.get("ubr"))
    _build_from_contract(ev, record.get("build"))
    csd = record.get("csd_version")
    if csd not in (None, ""):
        sp = _SP.search(str(csd))
        ev.sp = int(sp.group(1)) if sp else _int(csd)
        ev.note("csd_version", csd)
    _role_from_contract(ev, record, ev.words.role_values)


def _feature_update_from_contract(ev: _Draft, record: dict[str, Any]) -> None:
    value = record.get("display_version")
    if value not in (None, ""):
        ev.display_version = str(value).strip().lower()
        ev.note("display_version", value)
    value = record.get("release_id")
    if value not in (None, ""):
        ev.release_id = str(value).strip().lower()
        ev.note("release_id", value)


def _build_of(text: str) -> int | None:
    """The build in a contract ``build`` value: a full version's third part, else the leading number."""
    full = _VERSION3.search(text)
    return int(full.group(3)) if full else _int(text.split(".")[0])


def _build_from_contract(ev: _Draft, raw_build: Any) -> None:
    if raw_build in (None, ""):
        return
    build = _build_of(str(raw_build).strip())
    if build is None or build < 1000:
        return
    if ev.build is not None and build != ev.build and not ev.bare_version:
        # "10.0.26200 Build 8875": the version's third part is the build; a different
        # "build" value beside it is the revision (UBR) a converter read from "Build N".
        if ev.ubr is None and build < ev.build:
            ev.ubr = build
    else:
        ev.build = build
    ev.note("build", raw_build)


# -- lenient extras: one adapter per kind of evidence a foreign key can hold ---------------------


def _from_extra(ev: _Draft, key: str, value: str, rules: dict[str, Any]) -> None:
    low_key = key.lower()
    if not value.strip() or ev.words.skip.search(low_key):
        return
    if "|" in value:  # WMI Win32_OperatingSystem.Name: "Microsoft Windows 10 Pro|C:\\WINDOWS|\\Device\\..."
        value = value.split("|", 1)[0]
    _caption_from_extra(ev, key, value)
    compact_key = low_key.replace("_", "").replace(" ", "").replace(".", "")
    # A key that names one number (service pack, build, UBR, SKU, major version) holds nothing else.
    if any(adapter(ev, key, compact_key, value.strip(), rules) for adapter in _NUMBER_ADAPTERS):
        return
    if ev.version_incomplete:
        _parse_version_text(ev, value, key)
    _sp_from_extra(ev, key, low_key, value)
    _feature_update_from_extra(ev, key, low_key, value)
    _edition_from_extra(ev, key, low_key, compact_key, value)
    if not ev.role:
        _role_from_text(ev, key, value, rules)


def _edition_from_extra(ev: _Draft, key: str, low_key: str, compact_key: str, value: str) -> None:
    # CompositionEditionID is the edition a SKU is built on (a Pro install says "Enterprise"
    # there), not the installed edition: only EditionID-like keys name the edition.
    if (
        not ev.edition_id
        and "edition" in low_key
        and "composition" not in compact_key
        and re.fullmatch(r"[A-Za-z]+", value.strip())
    ):
        ev.edition_id = value.strip().lower()
        ev.note(key, value)


def _caption_from_extra(ev: _Draft, key: str, value: str) -> None:
    if _looks_like_caption(value, ev.words) and not ev.captions_has(value):
        ev.captions.append((key, normalise_caption(value, ev.words)))
        ev.note(key, value)


def _service_pack_number(ev: _Draft, key: str, compact_key: str, value: str, rules: dict[str, Any]) -> bool:
    if ev.sp is None and "servicepack" in compact_key and value.isdecimal():
        ev.sp = int(value)
        return True
    return False


def _build_number(ev: _Draft, key: str, compact_key: str, value: str, rules: dict[str, Any]) -> bool:
    if ev.build is None and "build" in compact_key and re.fullmatch(r"\d{4,5}(?:\.\d+)?", value):
        build = value.split(".")[0]
        ev.build = int(build)
        ev.note(key, build)
        return True
    return False


def _ubr_number(ev: _Draft, key: str, compact_key: str, value: str, rules: dict[str, Any]) -> bool:
    if ev.ubr is None and compact_key.endswith("ubr") and value.isdecimal():
        ev.ubr = int(value)
        return True
    return False


def _sku_number(ev: _Draft, key: str, compact_key: str, value: str, rules: dict[str, Any]) -> bool:
    if not ev.edition_id and "sku" in compact_key and value.isdecimal():
        ev.edition_id = str(rules.get("skus", {}).get(value, ""))
        if ev.edition_id:
            ev.note(key, value)
        return True
    return False


def _major_version_number(ev: _Draft, key: str, compact_key: str, value: str, rules: dict[str, Any]) -> bool:
    if "majorversionnumber" in compact_key and value.isdecimal():
        if int(value) == 10 and ev.major != 10:
            ev.major, ev.minor, ev.bare_version = 10, 0, False
        return True
    return False


def _released_build_version(ev: _Draft, key: str, compact_key: str, value: str, rules: dict[str, Any]) -> bool:
    """A version that starts with a released NT 10 build: "20348.1249" or an Azure image version
    "20348.1249.221105" (build . update revision . image date), under any version key.  Only builds
    the table knows count, so a product's own 5-digit version is not taken for Windows."""
    m = re.fullmatch(r"(\d{5})\.(\d{1,5})(?:\.\d{6})?", value)
    if ev.build is not None or "version" not in compact_key or not m or m.group(1) not in rules.get("nt10", {}):
        return False
    ev.build = int(m.group(1))
    if ev.ubr is None:
        ev.ubr = int(m.group(2))
    ev.note(key, value)
    return True


_NUMBER_ADAPTERS = (
    _service_pack_number,
    _build_number,
    _ubr_number,
    _sku_number,
    _major_version_number,
    _released_build_version,
)


def _sp_from_extra(ev: _Draft, key: str, low_key: str, value: str) -> None:
    if ev.sp is not None:
        return
    sp = _SP.search(value)
    if sp and ("pack" in value.lower() or "service" in low_key or low_key.endswith("sp")):
        ev.sp = int(sp.group(1))
        ev.note(key, value)
    elif ("service_pack" in low_key or "csd" in low_key) and value.strip().isdecimal():
        ev.sp = int(value.strip())


def _feature_update_from_extra(ev: _Draft, key: str, low_key: str, value: str) -> None:
    if not ev.display_version:
        _display_from_extra(ev, key, low_key, value)
    if not ev.release_id:
        rid = _RELEASE_ID.search(value)
        if rid:
            ev.release_id = rid.group(1)
        elif "releaseid" in low_key.replace("_", "").replace(" ", "") and value.strip().isdecimal():
            ev.release_id = value.strip()


def _display_from_extra(ev: _Draft, key: str, low_key: str, value: str) -> None:
    dv = _DISPLAY.search(value)
    if dv and (
        "display" in low_key
        or "releaseid" in value.lower()
        or _looks_like_caption(value, ev.words)
        or "version" in low_key
    ):
        ev.display_version = dv.group(1).lower()
        ev.note(key, value)


def _value_forms(ev: _Draft, record: dict[str, Any], rules: dict[str, Any]) -> None:
    """What the labelled values' own forms still say: a feature update or a "Build: N" written
    under a key we do not know ("ID: 23H2", "Version: 2009 (Build: 22631)" from a diagnostics
    tool), where the value's own form is the evidence."""
    skip = ev.words.skip
    for key, value in ev.labelled:
        if skip.search(key.lower()):
            continue
        text = str(value).strip()
        if not ev.display_version and re.fullmatch(r"\d{2}[hH][12]", text):
            ev.display_version = text.lower()
            ev.note(key, text)
        if ev.build is None:
            m = ev.words.build_word.search(text)
            if m and (m.group(1) in rules.get("nt10", {}) or int(m.group(1)) < 10000):
                ev.build = int(m.group(1))
                ev.note(key, text)


# -- what the captions still say -----------------------------------------------------------------


def _caption_text(ev: _Draft, record: dict[str, Any], rules: dict[str, Any]) -> None:
    """What the captions' text still says (a build, a service pack, a feature update)."""
    nt10 = rules.get("nt10", {})
    if ev.build is None:
        # "Windows 11 Pro 10.0.26100.7309" in the caption field itself (an agent's one-line OS
        # string): its NT version and build, as a version field would give them.
        for key, cap in ev.captions:
            if _nt_version_with_build(ev, key, cap):
                break
    if ev.build is None:
        _build_in_caption(ev, nt10)
    if ev.build is None:
        _build_in_run_together_caption(ev, nt10)
    else:
        _later_sibling_in_caption(ev, nt10, rules.get("enablement_siblings", {}))
    _sp_and_display_in_captions(ev)
    if not ev.display_version and not ev.release_id:
        _release_id_in_caption(ev, rules.get("feature_updates", {}))


def _sp_and_display_in_captions(ev: _Draft) -> None:
    if ev.sp is None:
        ev.sp = next((int(m.group(1)) for _key, cap in ev.captions if (m := _SP.search(cap))), None)
    if not ev.display_version:
        ev.display_version = next((m.group(1).lower() for _key, cap in ev.captions if (m := _DISPLAY.search(cap))), "")


def _build_in_caption(ev: _Draft, nt10: dict[str, Any]) -> None:
    """A build number written alone in a caption ("Windows 2016 (Build 17763).", FRST's
    "Windows 10 Pro Version 22H2 19045.3693 (X64)")."""
    for key, cap in ev.captions:
        m = ev.words.build_word.search(cap)
        if m:
            ev.build = int(m.group(1))
            ev.note(key, m.group(0))
            return
        m = re.search(r"(?<![\d.])(\d{5})\.(\d{1,5})(?![\d.])", cap)
        if m and m.group(1) in nt10:
            ev.build, ev.ubr = int(m.group(1)), int(m.group(2))
            ev.note(key, m.group(0))
            return


def _later_sibling_in_caption(ev: _Draft, nt10: dict[str, Any], siblings: dict[str, Any]) -> None:
    """A caption that names a second build of the same servicing line, a release delivered by an
    enablement package on the build already read ("Windows 11 pro build 26200.7623 ver
    10.0.26100.7309": termsrv.dll, ntoskrnl and BuildLab report the base 26100 on 25H2): the later
    release is the host's.  Why: the base build alone said 24H2 Pro, ended 2026-10-13, on a 25H2
    that is supported."""
    base = nt10.get(str(ev.build))
    if not isinstance(base, dict):
        return
    later = siblings.get(str(base.get("version", "")))
    if not later:
        return
    for key, cap in ev.captions:
        found: list[tuple[str, str | None]] = [(m.group(1), None) for m in ev.words.build_word.finditer(cap)]
        found += [(m.group(1), m.group(2)) for m in re.finditer(r"(?<![\d.])(\d{5})\.(\d{1,5})(?![\d.])", cap)]
        for build, ubr in found:
            entry = nt10.get(build)
            if (
                isinstance(entry, dict)
                and str(entry.get("version", "")) in later
                and entry.get("major") == base.get("major")
                and int(build) > int(ev.build or 0)
            ):
                ev.build, ev.ubr = int(build), int(ubr) if ubr else None
                ev.note(key, cap)
                return


def _build_in_run_together_caption(ev: _Draft, nt10: dict[str, Any]) -> None:
    """Last resorts in run-together text: a released NT 10 build number standing alone
    ("Windows 10 Pro 22000"), then a BuildLab/BuildLabEx string ("22000.1.amd64fre.co_release")."""
    for pattern in (r"(?<![\d.])(\d{5})(?![\d.])", r"(?<![\d.])(\d{5})\.\d+\.(?:amd64|x86|arm64|ia64)fre\."):
        hit = next(
            ((key, m) for key, cap in ev.captions for m in re.finditer(pattern, cap) if m.group(1) in nt10), None
        )
        if hit is not None:
            ev.build = int(hit[1].group(1))
            ev.note(hit[0], hit[1].group(0))
            return


def _release_id_in_caption(ev: _Draft, features: dict[str, Any]) -> None:
    for key, cap in ev.captions:
        m = ev.words.release_id_in_caption.search(cap)
        if m and m.group(1) in features:
            ev.release_id = m.group(1)  # "Windows 10 Enterprise LTSC version 1809"
            ev.note(key, m.group(0))
            return


def _parse_version_text(ev: _Draft, value: Any, key: str) -> None:
    """``"6.1.7601 Service Pack 1 Build 7601"``, ``"10.0.19045 N/A Build 19045"``, ``"10.0 Build 10240"``."""
    if value in (None, ""):
        return
    text = str(value)
    version_key = key.lower().endswith("version")
    if version_key and not _looks_like_caption(text, ev.words) and _feature_update_as_version(ev, key, text):
        return
    if _nt_version_with_build(ev, key, text) or _version_then_build_word(ev, key, text):
        return
    if ev.major is None and version_key:
        _bare_nt_version(ev, key, text)


def _bare_nt_version(ev: _Draft, key: str, text: str) -> None:
    """``"6.1"`` under a version key: the NT version alone (no build)."""
    nt = _NT_VERSION.search(text)
    if nt and not _looks_like_caption(text, ev.words):
        nt_major, nt_minor = nt.group(1).split(".")
        ev.major, ev.minor, ev.bare_version = int(nt_major), int(nt_minor), True
        ev.note(key, text)


def _feature_update_as_version(ev: _Draft, key: str, text: str) -> bool:
    """A "version" that is a feature update: "22H2", or a ReleaseId ("Version 1809", FusionInventory
    VERSION "2009")."""
    feature = text.strip().lower()
    if re.fullmatch(r"\d{2}h[12]", feature) and not ev.display_version:
        ev.display_version = feature
        ev.note(key, text)
        return True
    if re.fullmatch(r"(1[5-9]|20)\d\d", feature) and not ev.release_id:
        ev.release_id = feature
        ev.note(key, text)
        return True
    return False


def _nt_version_with_build(ev: _Draft, key: str, text: str) -> bool:
    """``major.minor.build[.ubr]`` of an NT release, with the service pack the same text names."""
    m = _VERSION3.search(text)
    if not m or not (ev.major is None or ev.bare_version):
        return False
    major, minor, build = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if major not in (4, 5, 6, 10) or build < 950:
        return False
    ev.major, ev.minor, ev.bare_version = major, minor, False
    _fill_build(ev, build, m.group(4))
    ev.note(key, text)
    if ev.sp is None:
        ev.sp = _sp_in_version_text(text, major, ev.words)
    return True


def _fill_build(ev: _Draft, build: int, ubr: str | None) -> None:
    """The build (and UBR) a version text states, where the evidence has none yet."""
    if ev.build is None:
        ev.build = build
    if ubr and ev.ubr is None:
        ev.ubr = int(ubr)


def _sp_in_version_text(text: str, major: int, words: _Words) -> int | None:
    """The service pack a version text names; 0 where systeminfo's form says there is none."""
    sp = _SP.search(text)
    if sp:
        return int(sp.group(1))
    if major < 10 and (words.systeminfo_no_sp.match(text.strip()) or words.systeminfo_no_sp_in_text.search(text)):
        # systeminfo prints "5.2.3790 Service Pack 2 Build 3790"; with no service pack
        # installed it prints "5.2.3790 Build 3790": the absence is the evidence.
        return 0
    return None


def _version_then_build_word(ev: _Draft, key: str, text: str) -> bool:
    """ "6.1 (Build 7601)", "10.0 compilación 19045"; not "Windows 8.1 (Build 9600)", whose 8.1 is
    a marketing number, not an NT version."""
    m = ev.words.version_build.search(text)
    if not m or int(m.group(1)) not in (3, 4, 5, 6, 10) or ev.major is not None:
        return False
    ev.major, ev.minor = int(m.group(1)), int(m.group(2))
    if ev.build is None:
        ev.build = int(m.group(3))
    ev.note(key, text)
    return True


def _role_from_contract(ev: _Draft, record: dict[str, Any], role_values: dict[str, str]) -> None:
    ptype = _int(record.get("product_type"))
    if ptype in (2, 3):
        ev.role, ev.role_source = "server", f"product_type={ptype}"
        ev.note("product_type", ptype)
        return
    if ptype == 1:
        ev.role, ev.role_source = "workstation", "product_type=1"
        ev.note("product_type", ptype)
        return
    raw_ptype = str(record.get("product_type") or "").strip().lower()
    if raw_ptype in role_values:  # "WorkStation", "Server", "DomainController" (PowerShell enums)
        ev.role, ev.role_source = role_values[raw_ptype], f"product_type={record.get('product_type')}"
        ev.note("product_type", record.get("product_type"))
        return
    _role_from_installation_type(ev, record, role_values)


def _role_from_installation_type(ev: _Draft, record: dict[str, Any], role_values: dict[str, str]) -> None:
    itype = str(record.get("installation_type") or "").strip().lower()
    if not itype:
        return
    ev.note("installation_type", record.get("installation_type"))
    if itype.startswith("server") or itype in ("nano server",) or role_values.get(itype) == "server":
        ev.role, ev.role_source = "server", f"installation_type={record.get('installation_type')}"
    elif itype == "client" or role_values.get(itype) == "workstation":
        ev.role, ev.role_source = "workstation", f"installation_type={record.get('installation_type')}"


def _role_from_text(ev: _Draft, key: str, value: str, rules: dict[str, Any]) -> None:
    """systeminfo "OS Configuration" (localized) or WMI ProductType written under another key."""
    low_key = key.lower()
    low = value.strip().lower()
    compact = low_key.replace("_", "").replace(" ", "").replace(".", "")
    role_values = ev.words.role_values
    if low in role_values and any(word in compact for word in ev.words.role_keys):
        ev.role, ev.role_source = role_values[low], f"{key}={value.strip()}"
        ev.note(key, value)
        return
    if _role_from_type_key(ev, key, value, low_key.replace("_", "").replace(" ", ""), low):
        return
    if any(k in low_key for k in ev.words.configuration_keys):
        _role_from_configuration_words(ev, key, value, low, rules.get("role_words", {}))


def _role_from_type_key(ev: _Draft, key: str, value: str, spaced: str, low: str) -> bool:
    """ProductType / InstallationType under another key: True when the key is one of those."""
    if "producttype" in spaced and low.isdecimal():
        role = {1: "workstation", 2: "server", 3: "server"}.get(int(low))
    elif "installationtype" in spaced:
        role = "server" if low.startswith("server") else "workstation" if low == "client" else ""
    else:
        return False
    if role:
        ev.role, ev.role_source = role, f"{key}={value}"
    return True


def _role_from_configuration_words(ev: _Draft, key: str, value: str, low: str, words: dict[str, Any]) -> None:
    """A localized "OS Configuration" value: its workstation words first, then its server words."""
    if any(w in low for w in words.get("workstation", [])):
        ev.role, ev.role_source = "workstation", f"{key}={value.strip()}"
        ev.note(key, value)
    elif any(w in low for w in words.get("server", [])):
        ev.role, ev.role_source = "server", f"{key}={value.strip()}"
        ev.note(key, value)


# -- the adapters, in order of trust ------------------------------------------------------------

ADAPTERS: tuple[Adapter, ...] = (_contract_fields, _labelled_values, _value_forms, _caption_text, _nt10_by_build)


def facts_of(record: dict[str, Any], rules: Rules) -> WindowsFacts:
    """The typed facts of a Windows OS record, read by every adapter in ``ADAPTERS`` in turn."""
    ev = _Draft(_words(rules))
    table = rules.table(RULES)
    for adapter in ADAPTERS:
        adapter(ev, record, table)
    return ev.facts()


# ---------------------------------------------------------------------------------------------------
# decision


@dataclass(slots=True)
class _Ctx:
    ctx: Knowledge
    rules: dict[str, Any]
    ev: WindowsFacts
    notes: list[tuple[str, str]]  # the facts' notes and what the decision adds

    def note(self, key: str, value: Any) -> None:
        _note(self.notes, key, value)

    def exists(self, product: str, cycle: str) -> Release | None:
        return self.ctx.catalog.release(product, cycle)

    def result(
        self,
        product: str | None,
        cycle: str | None,
        rule: str,
        reason: str,
        confidence: Confidence,
        newer: bool = False,
    ) -> Identification:
        return Identification(product, cycle, rule, reason, confidence, tuple(self.notes), newer_than_known=newer)


def _word_in(pattern: str, text: str) -> bool:
    if not pattern.isascii():
        return pattern in text
    return re.search(r"(?<![\w])" + re.escape(pattern) + r"(?![\w]|\.\d)", text) is not None


def _caption_release(rules: dict[str, Any], caption: str) -> dict[str, Any] | None:
    for entry in rules.get("caption_releases", []):
        if _word_in(str(entry["pattern"]), caption):
            return dict(entry)
    return None


def _is_server_caption(c: _Ctx, caption: str) -> bool | None:
    """True for a server caption, False for an explicit client release, None when it says neither."""
    rules = c.rules
    for phrase in rules.get("role_words", {}).get("not_server", []):
        caption = caption.replace(phrase, " ")
    if _words(c.ctx.rules).server_caption.search(caption):
        return True
    rel = _caption_release(rules, caption)
    if rel is not None:
        return bool(rel.get("server", False))
    return None


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    rules = ctx.rules.table(RULES)
    facts = facts_of(record, ctx.rules)
    caption = facts.caption
    cap_rel = _caption_release(rules, caption) if caption else None
    ev = _settled(facts, cap_rel)
    c = _Ctx(ctx, rules, ev, list(ev.notes))
    if ev.major is None and not caption:
        return c.result(None, None, "windows.no-evidence", "no Windows caption, version or build in the record", LOW)
    embedded = _embedded(c, caption)
    if embedded is not None:
        return embedded
    if ev.major is None:
        return c.result(
            None, None, "windows.unrecognised", f"caption {caption[:80]!r} names no Windows release we know", LOW
        )

    server = _decide_role(c, caption, cap_rel)
    if ev.nt == "10.0":
        return _nt10(c, server, caption, cap_rel)
    return _legacy(c, server, caption, cap_rel)


def _settled(facts: WindowsFacts, cap_rel: dict[str, Any] | None) -> WindowsFacts:
    """The NT version, when the record's own is missing or only a bare major.minor: the release a
    caption names, then an NT 10 build number (10.0)."""
    major, minor = _nt_of_caption(facts, cap_rel) if cap_rel is not None else (facts.major, facts.minor)
    if major is None and facts.build is not None and facts.build >= 10240:
        major, minor = 10, 0
    if (major, minor) == (facts.major, facts.minor):
        return facts
    return replace(facts, major=major, minor=minor)


def _nt_of_caption(facts: WindowsFacts, cap_rel: dict[str, Any]) -> tuple[int | None, int | None]:
    """The NT version of the release a caption names, unless the record states its own: a caption
    wins over a bare "6.3" (CurrentVersion, frozen on NT 10) that comes without a build."""
    nt = str(cap_rel["nt"])
    if facts.major is not None and not (facts.bare_version and facts.build is None and facts.nt != nt):
        return facts.major, facts.minor
    major, minor = nt.split(".")
    return int(major), int(minor)  # a server year also names its build (see _nt10)


def _decide_role(c: _Ctx, caption: str, cap_rel: dict[str, Any] | None) -> bool | None:
    """Server?  Caption words beat ProductType (a "Server" caption is never a client), then role."""
    ev = c.ev
    by_caption = _is_server_caption(c, caption) if caption else None
    if by_caption is True:
        return True
    if by_caption is False or ev.edition_id == "serverrdsh":
        # An explicit client release name wins over ProductType: Windows 10/11 Enterprise
        # multi-session (EditionID ServerRdsh) reports ProductType 3 yet has the client lifecycle.
        return False
    if ev.role:
        return ev.role == "server"
    edition = ev.edition_id
    if edition.startswith("server") and edition != "serverrdsh":
        return True
    fam = c.rules.get("edition_ids", {}).get(edition)
    if fam in ("w", "e", "e-lts", "iot-lts", "iot"):
        return False
    return None


# -- NT 10 -------------------------------------------------------------------------------------------


def _nt10(c: _Ctx, server: bool | None, caption: str, cap_rel: dict[str, Any] | None) -> Identification:
    build, build_source, entry = _nt10_build(c, server, cap_rel)
    if build is not None and entry is None:
        return _nt10_unknown_build(c, build, server)
    if server is True:
        return _nt10_server(c, build, entry, build_source, caption, cap_rel)
    if entry is None or not entry.get("server"):
        return _nt10_client(c, build, entry, caption)
    if server is None:
        if entry.get("major"):
            # Same build is a client and a server release; nothing in the record decides.
            return _ambiguous_role(c, build, entry)
        return _nt10_server(c, build, entry, build_source, caption, cap_rel)
    if not entry.get("version"):
        return _client_on_server_build(c, build, entry, caption)
    return _nt10_client(c, build, entry, caption)


def _nt10_build(
    c: _Ctx, server: bool | None, cap_rel: dict[str, Any] | None
) -> tuple[int | None, str, dict[str, Any] | None]:
    """(build, where it came from, its dataset entry): the record's build, else a server caption's
    release year; a build no release has is dropped beside a named feature update."""
    ev, rules = c.ev, c.rules
    table: dict[str, Any] = rules.get("nt10", {})
    build, build_source = _record_or_caption_build(ev.build, server, cap_rel)
    entry = table.get(str(build)) if build is not None else None
    if build is not None and entry is None and server is not True and _names_feature_update(c) and not _insider(ev):
        # A mistyped or unpublished build beside a named feature update ("version 1809 os build
        # 17753"): the feature update is the evidence; the build is dropped (medium at best).
        c.note("build-ignored", build)
        build = None
    return build, build_source, entry


def _insider(ev: WindowsFacts) -> bool:
    """A caption naming an Insider Preview: its build is the machine's own, not a typo.  Windows
    writes the newest release's name into DisplayVersion on Insider builds (10.0.25252 says
    "22H2"), so that name is no evidence of the release the machine runs."""
    return any("insider preview" in caption for _, caption in ev.captions)


def _record_or_caption_build(
    build: int | None, server: bool | None, cap_rel: dict[str, Any] | None
) -> tuple[int | None, str]:
    if build is None and server and cap_rel is not None and cap_rel.get("build") is not None:
        return int(cap_rel["build"]), "caption"
    return build, "build"


def _names_feature_update(c: _Ctx) -> bool:
    """Does the record name a known feature update (DisplayVersion or ReleaseId)?"""
    features = c.rules.get("feature_updates", {})
    return bool(features.get(c.ev.display_version) or features.get(c.ev.release_id))


def _nt10_unknown_build(c: _Ctx, build: int, server: bool | None) -> Identification:
    product = "windows-server" if server else "windows"
    known = sorted(int(b) for b in c.rules.get("nt10", {}))
    if known and build > known[-1]:
        return c.result(
            product,
            None,
            "windows.build-newer",
            f"build {build} is newer than every build in the dataset",
            LOW,
            newer=True,
        )
    return c.result(
        product,
        None,
        "windows.build-unknown",
        f"build 10.0.{build} is not a released feature update we know (Insider or unreleased build)",
        LOW,
    )


def _client_on_server_build(c: _Ctx, build: int | None, entry: dict[str, Any], caption: str) -> Identification:
    """The record says client (caption, EditionID or product type) but the build only ever shipped
    as Windows Server (10.0.20348 is Server 2022 alone): the evidence contradicts itself, so the
    release is unknown, never a guess either way."""
    said_by, noun = _client_evidence(c, caption)
    return c.result(
        "windows",
        None,
        "windows.role-mismatch",
        f"{said_by} says a Windows client, but build 10.0.{build} is only Windows Server "
        f"{entry['server']}: the {noun} and the build disagree",
        LOW,
    )


def _client_evidence(c: _Ctx, caption: str) -> tuple[str, str]:
    """What made ``_decide_role`` answer client, in its order: (the evidence, what to call it)."""
    ev = c.ev
    if caption and _is_server_caption(c, caption) is False:
        return f"caption {caption[:80]!r}", "caption"
    if ev.edition_id == "serverrdsh":
        return "EditionID ServerRdsh (multi-session)", "EditionID"
    if ev.role:  # "product_type=1", "installation_type=Client", "OS Configuration=Member Workstation"
        return ev.role_source, ev.role_source.split("=")[0].replace("_", " ")
    return f"EditionID {ev.edition_id}", "EditionID"


def _nt10_server(
    c: _Ctx,
    build: int | None,
    entry: dict[str, Any] | None,
    build_source: str,
    caption: str,
    cap_rel: dict[str, Any] | None,
) -> Identification:
    ev = c.ev
    if entry is None or not entry.get("server"):
        return _server_build_unknown(c, build)
    cycle = str(entry["server"])
    year = re.search(r"\b(20(?:16|19|22|25))\b", caption) if caption else None
    sac = entry.get("server_sac")
    if sac and year is None and _yearless_server_caption(caption):
        # A yearless "Windows Server Datacenter" on a build that is both an LTSC and a Semi-Annual
        # Channel release: SAC servers say so, but so do LTSC Server Core installs (Microsoft's
        # Exchange HealthChecker reads exactly this caption on 2016/2019 Core).  The two differ by
        # nine years of support (1809 SAC ended 2020, 2019 runs to 2029): unknown, never a guess.
        return c.result(
            "windows-server",
            None,
            "windows-server.ltsc-or-sac",
            f"build 10.0.{build} without a release year is {entry.get('server')} (LTSC, e.g. Server "
            f"Core) or {sac} (Semi-Annual Channel); nothing in the record decides",
            LOW,
        )
    notes, conf = _server_build_notes(build, build_source, year, cap_rel)
    if not c.exists("windows-server", cycle):
        return c.result(
            "windows-server", None, "windows-server.cycle-missing", f"build {build}: cycle {cycle} not in dataset", LOW
        )
    why = "; ".join([f"Windows Server build 10.0.{build} ({ev.role_source or 'caption says Server'})", *notes])
    return c.result("windows-server", cycle, "windows-server.build", why, conf)


def _yearless_server_caption(caption: str) -> bool:
    return bool(caption) and re.search(r"windows server (standard|datacenter)", caption) is not None


def _server_build_unknown(c: _Ctx, build: int | None) -> Identification:
    if build is None:
        return c.result(
            "windows-server",
            None,
            "windows-server.no-build",
            "Windows Server NT 10 without a build number or release year",
            LOW,
        )
    return c.result(
        "windows-server",
        None,
        "windows-server.build-unknown",
        f"no Windows Server release has build 10.0.{build}",
        LOW,
    )


def _server_build_notes(
    build: int | None, build_source: str, year: re.Match[str] | None, cap_rel: dict[str, Any] | None
) -> tuple[list[str], Confidence]:
    """Medium confidence, and why, when the build came from the caption's year or contradicts it."""
    if build_source == "caption":
        return ["build taken from the caption's release year"], MEDIUM
    if year is not None and cap_rel is not None and cap_rel.get("build") not in (None, build):
        return [f"caption says {year.group(1)} but build {build} decides"], MEDIUM
    return [], HIGH


def _edition_family(c: _Ctx, caption: str) -> tuple[str | None, str]:
    """Servicing family from EditionID, else from caption words (any language)."""
    ev = c.ev
    fam = c.rules.get("edition_ids", {}).get(ev.edition_id) if ev.edition_id else None
    if fam and fam != "server":
        return str(fam), _edition_source(ev)
    return _caption_family(c, caption)


def _edition_source(ev: WindowsFacts) -> str:
    """Where the edition came from: the SKU or EditionID the record carries."""
    for key, value in ev.notes:
        if "sku" in key.lower():
            return f"{key} {value} ({ev.edition_id})"
        if "edition" in key.lower():
            return f"EditionID {value}"
    return f"EditionID {ev.edition_id}"


def _caption_family(c: _Ctx, caption: str) -> tuple[str | None, str]:
    """Servicing family from the caption's edition words (any language)."""
    # The edition is named right after the release ("Windows 10 Pro ..."); in a run-together text
    # (a pasted registry dump, an agent line) other edition words may follow (CompositionEditionID
    # "Enterprise" on a Pro machine), so the words next to the release name are tried first.
    texts = [m.group(1) for m in re.finditer(r"\bwindows (?:1[01]|8\.1|7|vista|xp)\b(.{0,40})", caption)]
    for text in texts + [caption]:
        for group in c.rules.get("edition_words", []):
            for word in group["words"]:
                if _word_in(str(word), text):
                    fam_word = str(group["family"])
                    if fam_word == "e-lts" and _word_in("iot", text):
                        return "iot-lts", f"caption words 'iot' + {word!r}"
                    return fam_word, f"caption word {word!r}"
    return None, ""


def _client_major(c: _Ctx, build: int | None, caption: str) -> str | None:
    first11 = int(c.rules.get("limits", {}).get("windows11_first_build", 22000))
    if build is not None:
        return "11" if build >= first11 else "10"
    # No build: Windows 11 in any caption beats "Windows 10" (ProductName keeps saying 10 on 11).
    if _word_in("windows 11", caption):
        return "11"
    if _word_in("windows 10", caption):
        return "10"
    return None


def _nt10_client(c: _Ctx, build: int | None, entry: dict[str, Any] | None, caption: str) -> Identification:
    fam, fam_source = _edition_family(c, caption)
    major, version, source, conf = _client_release(c, build, entry, _client_major(c, build, caption), fam, caption)
    if major is None or version is None:
        what = f"Windows {major}" if major else "Windows NT 10"
        return c.result(
            "windows",
            None,
            "windows.no-build",
            f"{what} without a build number or feature update: release unknown",
            LOW,
        )
    if build is None and major == "10" and _only_windows11_had(c, version):
        # A feature update only Windows 11 had (23H2, 24H2, ...) beside the registry ProductName
        # "Windows 10 ...", which Windows 11 keeps: the release names the major.
        major = "11"
        source += " (a Windows 11 feature update; the name says Windows 10 as ProductName does on 11)"
    prefix = f"{major}-{version}"
    if major == "11" and _says_windows10_only(caption):
        source += " (the name says Windows 10, as the registry ProductName does on every Windows 11)"
    return _pick_client_cycle(c, prefix, fam, fam_source, source, conf)


def _only_windows11_had(c: _Ctx, version: str) -> bool:
    return not _has_cycles(c, f"10-{version}") and _has_cycles(c, f"11-{version}")


def _says_windows10_only(caption: str) -> bool:
    return _word_in("windows 10", caption) and not _word_in("windows 11", caption)


def _client_release(
    c: _Ctx, build: int | None, entry: dict[str, Any] | None, major: str | None, fam: str | None, caption: str
) -> tuple[str | None, str | None, str, Confidence]:
    """(major, feature update, where it came from, confidence): the build's release, else a named
    DisplayVersion or ReleaseId, else an LTSC/LTSB year beside positive LTSC evidence."""
    ev, rules = c.ev, c.rules
    features = rules.get("feature_updates", {})
    if entry is not None:
        return _release_of_build(c, build, entry, major)
    if ev.display_version and ev.display_version in features:
        return major, str(features[ev.display_version]), f"DisplayVersion {ev.display_version.upper()}", MEDIUM
    if ev.release_id and ev.release_id in features:
        return major, str(features[ev.release_id]), f"ReleaseId {ev.release_id}", MEDIUM
    if fam in ("e-lts", "iot-lts") and major is not None:
        years = rules.get("ltsc_years", {}).get(major, {})
        ltsc = _ltsc_year(years, caption)
        if ltsc is not None:
            return major, str(ltsc[1]), f"LTSC/LTSB {ltsc[0]}", MEDIUM
        if len(years) == 1 and not _YEAR_LTSC.findall(caption):
            # "Windows 11 IoT Enterprise LTSC" with no year: the major has had one long-term release
            # only, so the name alone says which (a second one in the table ends this shortcut).
            ((year, version),) = years.items()
            return major, str(version), f"the only Windows {major} LTSC release (LTSC {year})", MEDIUM
    return major, None, "", HIGH


def _ltsc_year(years: dict[str, Any], caption: str) -> tuple[str, Any] | None:
    """(year, feature update) of the first LTSC/LTSB year in the caption the table knows."""
    for y in _YEAR_LTSC.findall(caption):
        if y in years:
            return y, years[y]
    return None


def _release_of_build(
    c: _Ctx, build: int | None, entry: dict[str, Any], major: str | None
) -> tuple[str | None, str | None, str, Confidence]:
    ev, rules = c.ev, c.rules
    version = str(entry["version"])
    named = ev.display_version or rules.get("feature_updates", {}).get(ev.release_id, "")
    if named and named != version and named in rules.get("enablement_siblings", {}).get(version, []):
        # The build is a servicing base (termsrv.dll, BuildLab and some agents report it) and the
        # record names a later release of the same line, delivered by an enablement package.
        return (
            str(entry.get("major") or major),
            named,
            f"DisplayVersion {named.upper()} (build 10.0.{build} is its servicing base)",
            MEDIUM,
        )
    return str(entry.get("major") or major), version, f"build 10.0.{build}", HIGH


def _has_cycles(c: _Ctx, prefix: str) -> bool:
    """Does the dataset have a windows cycle ``prefix`` or ``prefix-<family>``?"""
    product = c.ctx.catalog.product("windows")
    return product is not None and any(r.name == prefix or r.name.startswith(prefix + "-") for r in product.releases)


# Cycle suffixes to try, in order, per servicing family (none known: general availability only).
_FAMILY_SUFFIXES: dict[str | None, list[str]] = {
    "iot-lts": ["-iot-lts", "-e-lts"],
    "e-lts": ["-e-lts"],
    "iot": ["-iot"],
    "e": ["-e", ""],
    "w": ["-w", ""],
}


def _pick_client_cycle(
    c: _Ctx, prefix: str, fam: str | None, fam_source: str, source: str, conf: Confidence
) -> Identification:
    label = prefix.replace("-", " ").upper().replace("10 ", "Windows 10 ").replace("11 ", "Windows 11 ")
    order = _FAMILY_SUFFIXES.get(fam, [])
    if fam in ("e-lts", "iot-lts") and not any(c.exists("windows", prefix + sfx) for sfx in order):
        prefix, source, conf = _ltsc_of_servicing_base(c, prefix, source, conf)
    for suffix in order:
        cycle = prefix + suffix
        if c.exists("windows", cycle):
            why = _client_cycle_why(f"{label} from {source}", fam, fam_source, suffix)
            rule = "windows.build+edition" if source.startswith("build") else "windows.feature-update"
            return c.result("windows", cycle, rule, why, conf)
    if fam in ("e-lts", "iot-lts", "iot"):
        # LTSC word with a release that had no LTSC: the evidence contradicts itself.
        return c.result(
            "windows",
            None,
            "windows.edition-mismatch",
            f"{label} from {source} has no {fam.upper()} release; {fam_source} contradicts the build",
            LOW,
        )
    return _general_availability_cycle(c, prefix, label, source, conf)


def _client_cycle_why(why: str, fam: str | None, fam_source: str, suffix: str) -> str:
    if fam_source:
        why += f"; {fam_source}"
    if suffix == "" and fam in ("e", "w"):
        why += " (one cycle for all editions)"
    if suffix == "-e-lts" and fam == "iot-lts":
        why += " (no separate IoT LTSC cycle; Enterprise LTSC dates apply)"
    return why


def _ltsc_of_servicing_base(c: _Ctx, prefix: str, source: str, conf: Confidence) -> tuple[str, str, Confidence]:
    """A servicing *base* build (10.0.19041: the build termsrv.dll and BuildLab report on every
    1904x release) with positive LTSC evidence is that line's LTSC release.  A later sibling
    (19045 = 22H2) with an LTSC word still contradicts itself and stays unknown."""
    major, _, version = prefix.partition("-")
    ltsc = c.rules.get("ltsc_servicing_base", {}).get(major, {}).get(version)
    if not ltsc:
        return prefix, source, conf
    return (
        f"{major}-{ltsc}",
        source + f" (servicing base of the {str(ltsc).upper()} LTSC)",
        MEDIUM if conf == HIGH else conf,
    )


def _general_availability_cycle(c: _Ctx, prefix: str, label: str, source: str, conf: Confidence) -> Identification:
    """Edition unknown: general-availability cycles only (LTSC needs positive evidence); of several,
    the one whose support ends last, with low confidence."""
    general = [prefix + s for s in ("", "-e", "-w")]
    found = [(cy, c.exists("windows", cy)) for cy in general]
    present = [(cy, rel) for cy, rel in found if rel is not None]
    if not present:
        return c.result("windows", None, "windows.cycle-missing", f"{label}: no cycle in the dataset", LOW)
    if len(present) == 1:
        cy = present[0][0]
        return c.result("windows", cy, "windows.build", f"{label} from {source} (one cycle for all editions)", conf)
    return _latest_ending_edition(c, present, label, source)


def _latest_ending_edition(c: _Ctx, present: list[tuple[str, Release]], label: str, source: str) -> Identification:
    """Several editions' cycles: the latest-ending one, low, the others named as its spans."""
    cy, _rel = max(present, key=lambda p: _eol_sort_key(p[1]))
    others = [p[0] for p in present if p[0] != cy]
    guess = c.result(
        "windows",
        cy,
        "windows.build-edition-unknown",
        f"{label} from {source}; edition unknown, so the cycle with the latest end of support "
        f"is assumed (also possible: {', '.join(others)})",
        LOW,
    )
    # the verdict is unknown on dates where the editions' cycles differ (scanner.identify.registry.verdict_for)
    return replace(guess, spans=tuple(others))


def _eol_sort_key(rel: Release | None) -> date:
    """Later end of security support sorts higher; "no end announced" highest; unknown lowest."""
    if rel is None:
        return date.min
    if isinstance(rel.eol, bool):
        return date.max if rel.eol is False else date.min
    return rel.eol if isinstance(rel.eol, date) else date.min


def _ambiguous_role(c: _Ctx, build: int | None, entry: dict[str, Any]) -> Identification:
    """Shared client/server build and nothing says which: answer the latest-ending candidate, low."""
    server_cycle = str(entry["server"])
    client = _nt10_client(c, build, entry, "")
    srv = c.exists("windows-server", server_cycle)
    cli = c.exists("windows", client.cycle) if client.cycle else None
    # Whichever is named, the verdict is unknown on dates where the candidates differ
    # (scanner.identify.registry.verdict_for): the later-ending guess alone would call a Windows 11 Pro
    # "supported" after its end because Windows Server of the same build still is.
    client_cycles = [cy for cy in (client.cycle, *client.spans) if cy]
    if srv is not None and _eol_sort_key(srv) >= _eol_sort_key(cli):
        client_name = f"Windows {entry.get('major')} {str(entry.get('version')).upper()}"
        found = c.result(
            "windows-server",
            server_cycle,
            "windows.shared-build",
            f"build 10.0.{build} is both {client_name} and "
            f"Windows Server {server_cycle}; no product type or caption decides, so the later-ending "
            "server cycle is assumed",
            LOW,
        )
        return replace(found, alternatives=tuple(("windows", cy) for cy in client_cycles))
    return Identification(
        client.product,
        client.cycle,
        "windows.shared-build",
        client.reason + f"; also Windows Server {server_cycle} (no product type or caption)",
        LOW,
        client.evidence,
        spans=client.spans,
        alternatives=(("windows-server", server_cycle),) if srv is not None else (),
    )


# -- NT 5 / 6 ----------------------------------------------------------------------------------------


def _legacy(c: _Ctx, server: bool | None, caption: str, cap_rel: dict[str, Any] | None) -> Identification:
    ev, rules = c.ev, c.rules
    nt = ev.nt
    client_tab: dict[str, Any] = rules.get("nt_client", {})
    server_tab: dict[str, Any] = rules.get("nt_server", {})
    if server is None:
        server = _legacy_role(nt, client_tab, server_tab)
    if server is None:
        return _legacy_ambiguous(c, client_tab.get(nt), server_tab.get(nt))
    product = "windows-server" if server else "windows"
    spec = (server_tab if server else client_tab).get(nt)
    if spec is None:
        return c.result(
            product,
            None,
            "windows.nt-unknown",
            f"NT {nt} {'server' if server else 'client'} is not a release in the dataset",
            LOW,
        )
    return _legacy_pick(c, product, spec, source="caption" if ev.build is None else "version")


def _legacy_role(nt: str | None, client_tab: dict[str, Any], server_tab: dict[str, Any]) -> bool | None:
    """Server (True) or client (False) when only one of them had this NT version; else None."""
    in_client, in_server = nt in client_tab, nt in server_tab
    if in_client and not in_server:
        return False
    if in_server and not in_client:
        return True
    return None


def _legacy_pick(c: _Ctx, product: str, spec: dict[str, Any], source: str) -> Identification:
    ev = c.ev
    name = str(spec.get("name", ""))
    cycles = [str(x) for x in spec.get("cycles", [])]
    conf = HIGH if source == "version" else MEDIUM
    if spec.get("by_sp"):
        by_sp = _legacy_of_sp(c, product, name, cycles, conf)
        if by_sp is not None:
            return by_sp
        # A later SP than any cycle: the newest cycle.
        cycles = cycles[::-1]
    cycle = next((cy for cy in cycles if c.exists(product, cy)), None)
    if cycle is None:
        return c.result(
            product, None, "windows.cycle-missing", f"{name} (NT {ev.nt}) has no cycle in the dataset", MEDIUM
        )
    notes, conf = _legacy_cycle_notes(c, product, spec, cycle, source, conf)
    why = "; ".join([f"{name} (NT {ev.nt}{'.' + str(ev.build) if ev.build else ''})", *notes])
    return c.result(product, cycle, "windows.nt-version", why, conf)


def _legacy_of_sp(c: _Ctx, product: str, name: str, cycles: list[str], conf: Confidence) -> Identification | None:
    """A release with a cycle per service pack: the host's (None: a later SP than any cycle)."""
    if c.ev.sp is None:
        return _legacy_sp_unknown(c, product, name, cycles)
    return _legacy_by_sp(c, product, name, cycles, c.ev.sp, conf)


def _legacy_by_sp(
    c: _Ctx, product: str, name: str, cycles: list[str], sp: int, conf: Confidence
) -> Identification | None:
    """The cycle of this service pack, when the dataset has it."""
    wanted = cycles[0] if sp == 0 else f"{cycles[0]}-sp{sp}"
    if not c.exists(product, wanted):
        return None
    nt = c.ev.nt
    return c.result(
        product,
        wanted,
        "windows.nt-version+sp",
        f"{name} (NT {nt}) service pack {sp}" if sp else f"{name} (NT {nt}) without service pack",
        conf,
    )


def _legacy_sp_unknown(c: _Ctx, product: str, name: str, cycles: list[str]) -> Identification:
    """Service pack unknown: the latest-ending cycle, low confidence."""
    rels = [(cy, c.exists(product, cy)) for cy in cycles]
    present = [(cy, r) for cy, r in rels if r is not None]
    if not present:
        return c.result(product, None, "windows.cycle-missing", f"{name}: no cycle in the dataset", LOW)
    cy, _ = max(present, key=lambda p: _eol_sort_key(p[1]))
    return c.result(
        product,
        cy,
        "windows.nt-version",
        f"{name} (NT {c.ev.nt}), service pack unknown: latest-ending cycle {cy} assumed",
        LOW,
    )


def _older_than_current_sp(ev: WindowsFacts, product: str, cycle: str, source: str, current_sp: int) -> str:
    """Why the host predates the service pack of the dataset's only cycle ("" when it does not)."""
    if ev.sp is not None and ev.sp < current_sp:
        return (
            f"service pack {ev.sp} predates the dataset's only cycle {cycle} "
            "(its support ended earlier; end of support is at the latest this cycle's)"
        )
    if ev.build is not None and ev.sp is None and source == "version":
        sp_from_build = _sp_from_build(ev.nt, ev.build, product)
        if sp_from_build is not None and sp_from_build < current_sp:
            return f"build {ev.build} predates service pack {current_sp}; nearest dataset cycle"
    return ""


def _legacy_cycle_notes(
    c: _Ctx, product: str, spec: dict[str, Any], cycle: str, source: str, conf: Confidence
) -> tuple[list[str], Confidence]:
    """What qualifies the dataset's cycle for this host: an older service pack (or an RTM build)
    than the cycle's, or a release with no cycle of its own."""
    ev = c.ev
    notes: list[str] = []
    current_sp = spec.get("current_sp")
    if current_sp is not None:
        older = _older_than_current_sp(ev, product, cycle, source, int(current_sp))
        if older:
            notes.append(older)
            conf = MEDIUM
    if spec.get("shares_end_with"):
        notes.append(
            f"no cycle of its own in the dataset; its support ended with {spec['shares_end_with']}'s ({cycle})"
        )
        conf = LOW
    return notes, conf


def _sp_from_build(nt: str, build: int, product: str) -> int | None:
    """RTM builds that report no service pack: 7600 (7 / 2008 R2 RTM), 6000/6001 (Vista / 2008)."""
    if nt == "6.1":
        return 0 if build == 7600 else 1
    if nt == "6.0":
        return {6000: 0, 6001: 1, 6002: 2, 6003: 2}.get(build)
    return None


def _legacy_ambiguous(c: _Ctx, client: dict[str, Any] | None, server: dict[str, Any] | None) -> Identification:
    options = []
    if client is not None:
        options.append(_legacy_pick(c, "windows", client, "version"))
    if server is not None:
        options.append(_legacy_pick(c, "windows-server", server, "version"))
    found = [o for o in options if o.cycle is not None]
    if not found:
        return c.result(None, None, "windows.shared-build", f"NT {c.ev.nt}: client or server unknown", LOW)
    best = max(found, key=lambda o: _eol_sort_key(c.exists(str(o.product), str(o.cycle))))
    names = " or ".join(f"{o.product} {o.cycle}" for o in found)
    return Identification(
        best.product,
        best.cycle,
        "windows.shared-build",
        f"NT {c.ev.nt} is {names}; nothing says client or server, so the later-ending one is assumed",
        LOW,
        best.evidence,
        alternatives=tuple((str(o.product), str(o.cycle)) for o in found if o is not best),
    )


# -- Embedded ----------------------------------------------------------------------------------------


def _embedded(c: _Ctx, caption: str) -> Identification | None:
    ev = c.ev
    found = _embedded_rule(c, caption)
    if found is None:
        return None
    hit, word = found
    if hit.get("product") == "windows":
        return None  # same lifecycle as the desktop release: the desktop rules decide
    cycle = _embedded_cycle(c, hit)
    if cycle is not None:
        conf = HIGH if ev.build is not None or hit.get("nt") is None else MEDIUM
        return c.result(
            "windows-embedded",
            cycle,
            "windows-embedded.caption",
            f"Windows Embedded ({word!r}{', NT ' + ev.nt if ev.nt else ''})",
            conf,
        )
    if hit.get("cycles"):
        return c.result(
            "windows-embedded",
            None,
            "windows-embedded.cycle-missing",
            f"Windows Embedded ({word!r}) has no cycle in the dataset",
            MEDIUM,
        )
    return c.result(
        "windows-embedded",
        None,
        "windows-embedded.unknown",
        f"Windows Embedded ({word!r}{', NT ' + ev.nt if ev.nt else ''}): release not recognised",
        LOW,
    )


def _embedded_cycle(c: _Ctx, hit: dict[str, Any]) -> str | None:
    """The first of the rule's cycles the dataset has."""
    return next((str(cy) for cy in hit.get("cycles", []) if c.exists("windows-embedded", str(cy))), None)


def _embedded_rule(c: _Ctx, caption: str) -> tuple[dict[str, Any], str] | None:
    """(the embedded rule, the word that matched): a caption word of a rule for this NT version,
    else the EditionID of an embedded edition."""
    ev, rules = c.ev, c.rules
    for rule in rules.get("embedded", []):
        if rule.get("nt") and rule["nt"] != ev.nt:
            continue
        for w in rule["words"]:
            if _word_in(str(w), caption):
                return dict(rule), str(w)
    cycle = rules.get("embedded_edition_ids", {}).get(ev.edition_id)
    if cycle is None:
        return None
    return {"cycles": [cycle]}, f"EditionID {ev.edition_id}"
