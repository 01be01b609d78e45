"""Linux OS evidence (os-release and legacy release files) -> endoflife.date product and cycle.

Rules are data (``eol_data/rules/linux_os.toml``).  The traps handled here, each with a test:
CentOS Stream reuses ``ID=centos``; Scientific Linux 7 reuses ``ID=rhel``; Linux Mint 17 ships
Ubuntu's os-release (the truth is in /etc/lsb-release); LMDE is numbered separately; RHEL minors
map to the major cycle; SLES service packs are ``major.sp`` cycles; Ubuntu point releases keep the
``YY.MM`` cycle; Amazon Linux cycles are ``2``, ``2023`` and ``YYYY.MM``.  An ID endoflife.date does
not track is "no product", never its ID_LIKE parent.
"""

from __future__ import annotations

import re
from typing import Any

from agents.linux import parse_os_release
from eol_data.catalog import Product
from scanner.identify.context import Knowledge
from scanner.identify.versions import cycle_key
from scanner.model import Confidence, Identification


def _candidates(version: str) -> list[str]:
    """Cycle candidates from most to least specific: 15.4.1 -> 15.4.1, 15.4, 15, 15.0."""
    nums = re.findall(r"\d+", version)
    if not nums:
        return []
    out = [version.strip()] if re.fullmatch(r"[\d.]+", version.strip()) else []
    for n in range(len(nums), 0, -1):
        out.append(".".join(str(int(x)) if i else x for i, x in enumerate(nums[:n])))
        out.append(".".join(nums[:n]))
    out.append(f"{nums[0]}.0")
    seen: list[str] = []
    for c in out:
        if c not in seen:
            seen.append(c)
    return seen


def _pick(product: Product, version: str, prefix: str = "") -> tuple[str | None, bool]:
    names = {r.name for r in product.releases}
    if prefix + version in names:  # an exact cycle name, numeric or not ("current" of a rolling product)
        return prefix + version, False
    for cand in _candidates(version):
        if prefix + cand in names:
            return prefix + cand, False
    return None, _newer_than_all(names, version)


def _newer_than_all(names: set[str], version: str) -> bool:
    """Newer than every numeric cycle -> unknown-newer (never EOL)."""
    nums = tuple(int(x) for x in re.findall(r"\d+", version)[:2])
    keys = [cycle_key(n) for n in names if re.fullmatch(r"[\d.]+", n)]
    return bool(nums) and bool(keys) and all(nums[: len(k)] > k for k in keys if k)


def _result(
    ctx: Knowledge,
    product_slug: str,
    version: str,
    rule: str,
    evidence: list[tuple[str, str]],
    why: str = "",
    prefix: str = "",
    confidence: Confidence = Confidence.HIGH,
) -> Identification:
    ev = tuple(evidence)
    if product_slug == "none":
        return Identification(None, None, rule, why or "distribution not tracked by endoflife.date", evidence=ev)
    product = ctx.catalog.product(product_slug)
    if product is None:
        return Identification(None, None, rule, f"{product_slug} not in dataset", evidence=ev)
    cycle, newer = _pick(product, version, prefix)
    shown = ", ".join(f"{k}={v!r}" for k, v in evidence)
    if cycle is None:
        return Identification(
            product_slug,
            None,
            rule,
            f"{product.label} ({shown}): version {version!r} matches no cycle",
            Confidence.MEDIUM,
            ev,
            newer_than_known=newer,
        )
    return Identification(product_slug, cycle, rule, f"{product.label} {cycle} from {shown}", confidence, ev)


_CONTRACT_KEYS = frozenset({"kind", "family", "files", "uname", "oslevel"})


def _flatten_strings(value: Any, prefix: str, out: dict[str, str], depth: int = 0) -> None:
    if depth > 4:
        return
    if isinstance(value, str):
        if value.strip():
            out[prefix] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            _flatten_strings(v, f"{prefix}.{k}" if prefix else str(k), out, depth + 1)


def is_os_release_text(text: str) -> bool:
    """``text`` is an os-release file's (an ``ID=`` line and a ``NAME=`` or ``VERSION_ID=`` line),
    wherever a converter put it: only Linux and the BSDs write one."""
    return bool(re.search(r"^ID=\S", text, re.M) and re.search(r"^(?:NAME|VERSION_ID)=", text, re.M))


def _lenient_files(record: dict[str, Any]) -> dict[str, str]:
    """Release evidence a converter left outside ``files`` (an agent's FULL_NAME / OSNAME, a pasted
    os-release or release line under any key): every string value, keyed by where it was.  A value
    that is itself an os-release text stands in for ``/etc/os-release``; ``lsb_release -a`` output
    stands in for ``/etc/lsb-release``."""
    out: dict[str, str] = {}
    _flatten_strings({k: v for k, v in record.items() if k not in _CONTRACT_KEYS}, "", out)
    for text in list(out.values()):
        if "/etc/os-release" not in out and is_os_release_text(text):
            out["/etc/os-release"] = text
    return _with_lsb_release_file(out)


# Each field's value is one token (Ubuntu, RedHatEnterpriseServer, 16.04, rolling), so the output
# still reads when a converter ran its lines together or prefixed them with its own label.
_LSB_OUTPUT_LINE = re.compile(r"(?<![\w-])(distributor id|release|codename):[ \t]*(\S+)", re.I)
_LSB_OUTPUT_FIELDS = {"distributor id": "DISTRIB_ID", "release": "DISTRIB_RELEASE", "codename": "DISTRIB_CODENAME"}


def _with_lsb_release_file(files: dict[str, str]) -> dict[str, str]:
    """``lsb_release -a`` prints /etc/lsb-release's facts as ``Distributor ID: Debian`` /
    ``Release: 7.8`` lines (tab or spaces after the colon).  Why: agents and bug reports hand that
    output over under any key, and its Description line is not at the start of the text, so the
    release-line rules do not see it.  When no /etc/lsb-release came with the record, the first
    value with both lines stands in for it (``DISTRIB_ID`` right before ``DISTRIB_RELEASE``, the
    order the lsb-release rules read)."""
    if "/etc/lsb-release" in files:
        return files
    for text in files.values():
        fields: dict[str, str] = {}
        for m in _LSB_OUTPUT_LINE.finditer(text):
            fields.setdefault(_LSB_OUTPUT_FIELDS[m.group(1).lower()], m.group(2))
        if "DISTRIB_ID" in fields and "DISTRIB_RELEASE" in fields:
            order = ("DISTRIB_ID", "DISTRIB_RELEASE", "DISTRIB_CODENAME")
            lines = [f"{key}={fields[key]}" for key in order if key in fields]
            return {**files, "/etc/lsb-release": "\n".join(lines) + "\n"}
    return files


_FACT_VERSION = re.compile(r"\d+(?:\.\d+)*")
_FACT_LINE = re.compile(r"^[ \t]*([\w.]+)[ \t]*[:=][ \t]*(\S[^\n]*?)[ \t]*$", re.M)


def _with_distribution_facts(files: dict[str, str], table: dict[str, Any]) -> dict[str, str]:
    """An agent's distribution facts (``ansible_distribution: CentOS`` + ``..._version: 7.9``,
    Facter's ``os.name: RedHat`` + ``os.release.full: 8.9``, osquery's ``platform: ubuntu`` +
    ``version: 22.04.3 LTS (Jammy Jellyfish)``) stand in for /etc/os-release's ID and VERSION_ID.
    Why: inventories hand these over without any release text; they were "no known release file
    pattern".  Only when the record has no release file or os-release text of its own, and only a
    name the table lists (so a Windows caption under ``name`` is never read as a distribution)."""
    if any(key.startswith("/") for key in files):
        return files
    facts = table.get("distribution_facts", {})
    ids = table.get("distribution_fact_ids", {})
    lowered = {key.lower(): value for key, value in files.items()}
    for text in files.values():
        # the same facts handed over as one "key: value" text (a converter's blob, pasted output)
        for line in _FACT_LINE.finditer(text):
            lowered.setdefault(line.group(1).lower(), line.group(2))
    os_id = next(
        (
            str(ids[lowered[key].strip().lower()])
            for key in facts.get("name_keys", [])
            if key in lowered and lowered[key].strip().lower() in ids
        ),
        None,
    )
    if os_id is None:
        return files
    for variant in table.get("distribution_fact_variants", []):
        if os_id == variant["id"] and lowered.get(variant["key"], "").strip().lower() == variant["value"]:
            os_id = str(variant["becomes"])
    for key in facts.get("version_keys", []):
        m = _FACT_VERSION.match(lowered.get(key, "").strip())
        if m:
            return {**files, "/etc/os-release": f"ID={os_id}\nVERSION_ID={m.group(0)}\n"}
    return files


def identify(record: dict[str, Any], ctx: Knowledge) -> Identification:
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        files = _with_distribution_facts(_lenient_files(record), ctx.rules.table("linux_os"))
        if not files:
            return Identification(None, None, "linux.no-evidence", "no release files in the record")
    files = _with_lsb_release_file({str(k): str(v) for k, v in files.items() if isinstance(v, str)})
    table = ctx.rules.table("linux_os")
    osr_path = _usable_os_release(files)
    if osr_path is None:
        return _legacy(files, table, ctx)
    return _from_os_release(files, osr_path, table, ctx)


def _usable_os_release(files: dict[str, str]) -> str | None:
    """The os-release file to read: /etc first, then /usr/lib.  An empty or ID-less os-release
    (Amazon Linux 2 images with a blank file, half-written chroots) says nothing: fall back to the
    other os-release path, then (None) the release files."""
    osr_path: str | None = next((p for p in ("/etc/os-release", "/usr/lib/os-release") if p in files), None)
    if osr_path is not None and not parse_os_release(files[osr_path]).get("ID", "").strip():
        other = "/usr/lib/os-release" if osr_path == "/etc/os-release" else None
        osr_path = other if other in files and parse_os_release(files[other]).get("ID", "").strip() else None
    return osr_path


def _from_os_release(files: dict[str, str], osr_path: str, table: dict[str, Any], ctx: Knowledge) -> Identification:
    osr = parse_os_release(files[osr_path])
    # An ID is one token; a file with two assignments run onto one line ("ID=ubuntu ID_LIKE=debian",
    # copied through a web page) parses as "ubuntu ID_LIKE=debian": the first token is the ID.
    os_id = (osr.get("ID", "").strip().lower().split() or [""])[0]
    version_id = osr.get("VERSION_ID", "")
    evidence = [(f"{osr_path}:ID", os_id), (f"{osr_path}:VERSION_ID", version_id)]
    special = (
        _lsb_over_ubuntu(files, os_id, table, ctx)
        or _name_override(osr, osr_path, version_id, evidence, table, ctx)
        or _rolling_release(os_id, evidence, table, ctx)
    )
    if special is not None:
        return special
    slug = table.get("ids", {}).get(os_id)
    if slug is None:
        return _untracked_id(osr, os_id, version_id, evidence, table, ctx)
    version = version_id
    if not version:
        version = _version_without_version_id(files, osr, slug, ctx)
        evidence.append(("version-source", "VERSION/codename/debian_version"))
    if slug == "sles" and re.fullmatch(r"\d+", version):
        version = f"{version}.0"
    return _result(ctx, slug, version, f"linux.os-release.{os_id}", evidence)


def _lsb_over_ubuntu(files: dict[str, str], os_id: str, table: dict[str, Any], ctx: Knowledge) -> Identification | None:
    """Linux Mint 17-18 ship Ubuntu's os-release; lsb-release names the real distribution."""
    if os_id != "ubuntu" or "/etc/lsb-release" not in files:
        return None
    lsb = parse_os_release(files["/etc/lsb-release"])
    lsb_id = lsb.get("DISTRIB_ID", "").lower().replace(" ", "")
    if not lsb_id or lsb_id == "ubuntu":
        return None
    slug = table.get("ids", {}).get(lsb_id) or {"linuxmint": "linuxmint"}.get(lsb_id, "none")
    return _result(
        ctx,
        slug,
        lsb.get("DISTRIB_RELEASE", ""),
        "linux.lsb-release-over-os-release",
        [
            ("/etc/lsb-release:DISTRIB_ID", lsb.get("DISTRIB_ID", "")),
            ("/etc/lsb-release:DISTRIB_RELEASE", lsb.get("DISTRIB_RELEASE", "")),
        ],
        why=f"{lsb.get('DISTRIB_ID')} is not tracked by endoflife.date",
    )


def _name_override(
    osr: dict[str, str],
    osr_path: str,
    version_id: str,
    evidence: list[tuple[str, str]],
    table: dict[str, Any],
    ctx: Knowledge,
) -> Identification | None:
    name = osr.get("NAME", "")
    for ov in table.get("name_overrides", []):
        if re.search(ov["pattern"], f"{name}\n{osr.get('PRETTY_NAME', '')}", re.I):
            version = version_id
            if ov["product"] == "centos-stream" and not version:
                version = re.sub(r"\D.*", "", osr.get("VERSION", ""))
            return _result(
                ctx,
                ov["product"],
                version,
                "linux.os-release.name-override",
                evidence + [(f"{osr_path}:NAME", name)],
                why=ov.get("why", ""),
                prefix=ov.get("cycle_prefix", ""),
            )
    return None


def _rolling_release(
    os_id: str, evidence: list[tuple[str, str]], table: dict[str, Any], ctx: Knowledge
) -> Identification | None:
    """A build number (Clear Linux VERSION_ID=28120) is not a cycle; the product's single cycle
    is, and it carries the product's own end date."""
    rolling = table.get("rolling_ids", {}).get(os_id)
    if rolling is None:
        return None
    return _result(
        ctx,
        rolling["product"],
        rolling["cycle"],
        f"linux.os-release.{os_id}",
        evidence + [("rolling-release", rolling["cycle"])],
    )


def _untracked_id(
    osr: dict[str, str],
    os_id: str,
    version_id: str,
    evidence: list[tuple[str, str]],
    table: dict[str, Any],
    ctx: Knowledge,
) -> Identification:
    slug = _catalog_distribution(ctx, os_id)
    if slug is not None:  # a distribution the dataset tracks under its own ID (SteamOS)
        return _result(
            ctx,
            slug,
            version_id or re.sub(r"^\D*", "", osr.get("VERSION", "")),
            "linux.os-release.catalog-id",
            evidence,
        )
    derived = _derivative(ctx, table, osr, version_id, evidence)
    if derived is not None:
        return derived
    return Identification(
        None,
        None,
        "linux.os-release.untracked-id",
        f"os-release ID {os_id!r} ({osr.get('NAME', '')}) is not a distribution endoflife.date tracks",
        evidence=tuple(evidence),
    )


def _version_without_version_id(files: dict[str, str], osr: dict[str, str], slug: str, ctx: Knowledge) -> str:
    """Devuan and rolling Debian-likes may omit VERSION_ID; VERSION / debian_version may help."""
    version = re.sub(r"^\D*", "", osr.get("VERSION", ""))
    if not version and slug == "debian" and "/etc/debian_version" in files:
        version = files["/etc/debian_version"].strip()
    pretty = osr.get("PRETTY_NAME", "")
    unstable = slug == "debian" and re.search(
        r"\bsid\b", " ".join((pretty, osr.get("VERSION", ""), files.get("/etc/debian_version", ""))), re.I
    )
    # Debian testing/unstable ("trixie/sid") has no VERSION_ID: its codename names the
    # *next* release, which this host is not; the cycle is unknown, not that release.
    if not version and not unstable:
        version = _version_from_codename(
            ctx,
            slug,
            " ".join(
                (osr.get("VERSION_CODENAME", ""), pretty, osr.get("VERSION", ""), files.get("/etc/debian_version", ""))
            ),
        )
    return version


def _catalog_distribution(ctx: Knowledge, os_id: str) -> str | None:
    """An os-release ID that names a Linux distribution the dataset tracks, by the dataset's own
    product names (``steamos``; ``<id>-linux`` / ``<id>-os``): a distribution endoflife.date adds
    is recognised without a rule for it."""
    if not os_id:
        return None
    for name in (os_id, f"{os_id}-linux", f"{os_id}-os"):
        product = ctx.catalog.product(name)
        if product is not None and product.category == "os" and name != "linux":  # "linux" is the kernel
            return name
    return None


def _derivative(
    ctx: Knowledge, table: dict[str, Any], osr: dict[str, str], version_id: str, evidence: list[tuple[str, str]]
) -> Identification | None:
    """A derivative that says which release it follows: ``ID_LIKE`` names a tracked distribution,
    its own ID or NAME names that distribution, and ``VERSION_ID`` is one of that distribution's
    releases (the Fedora Linux Asahi Remix 39 is Fedora 39).  Where the parent's release has a
    codename, the derivative's own codename must be that one too -- Devuan 5 or PureOS 10 share
    Debian's numbers, not its releases -- so a derivative numbered its own way stays unknown
    rather than inheriting a wrong lifecycle."""
    if not version_id or not re.fullmatch(r"\d+(\.\d+)*", version_id):
        return None
    for like in osr.get("ID_LIKE", "").lower().split():
        hit = _follows(ctx, table.get("ids", {}).get(like), like, osr, version_id, evidence)
        if hit is not None:
            return hit
    return None


def _follows(
    ctx: Knowledge,
    parent: str | None,
    like: str,
    osr: dict[str, str],
    version_id: str,
    evidence: list[tuple[str, str]],
) -> Identification | None:
    """The parent distribution's release, when the derivative says it is the parent and its
    release (and codename, where the parent's has one) is the parent's."""
    product = ctx.catalog.product(parent) if parent else None
    if product is None or parent is None:
        return None
    os_id = osr.get("ID", "").strip().lower()
    if not _says_it_is(like, product, os_id, f"{osr.get('NAME', '')} {osr.get('PRETTY_NAME', '')}"):
        return None
    code = _parent_codename(product, version_id, osr)
    if code is None or _platform_disagrees(product, version_id, osr):
        return None
    return _result(
        ctx,
        parent,
        version_id,
        f"linux.os-release.id-like.{like}",
        evidence + [("ID_LIKE", like)] + ([("codename", code)] if code else []),
        confidence=Confidence.MEDIUM,
    )


def _parent_codename(product: Product, version_id: str, osr: dict[str, str]) -> str | None:
    """The codename of the parent's release ``version_id`` ("" if it has none); None when there is
    no such release, or the derivative's own codename is another."""
    cycle, _ = _pick(product, version_id)
    if cycle is None:
        return None
    code = _release_codename(product, cycle)
    return None if code and code not in _codenames(osr) else code


def _platform_disagrees(product: Product, version_id: str, osr: dict[str, str]) -> bool:
    """``PLATFORM_ID`` ("platform:el9", "platform:f39") states the parent's major release the build
    is made on; a derivative whose ``VERSION_ID`` picks another major is numbered its own way (Red
    Hat Enterprise Linux CoreOS 4.14 is OpenShift's number on EL 9), not that release of the parent."""
    platform = re.fullmatch(r"\s*platform:[a-z]+(\d+)\s*", osr.get("PLATFORM_ID", ""))
    if platform is None:
        return False
    cycle, _ = _pick(product, version_id)
    major = re.match(r"\d+", cycle or "")
    return major is not None and major.group() != platform.group(1)


def _codenames(osr: dict[str, str]) -> set[str]:
    return {
        w
        for k in ("VERSION_CODENAME", "UBUNTU_CODENAME", "DEBIAN_CODENAME", "VERSION")
        for w in re.findall(r"[a-z]+", osr.get(k, "").lower())
    }


def _says_it_is(like: str, product: Product, os_id: str, name: str) -> bool:
    """It must say it IS the parent (ID "fedora-asahi-remix", NAME "Fedora Linux Asahi Remix"): a
    distribution merely built from one (KDE neon, Virtuozzo, MIRACLE LINUX) has its own lifecycle,
    which the parent's would misstate."""
    return os_id.startswith((f"{like}-", f"{like}_")) or bool(re.search(rf"\b{re.escape(product.label)}\b", name, re.I))


def _release_codename(product: Product, cycle: str) -> str:
    """The cycle's codename's first word, lower case ("" when it has none)."""
    release = product.release(cycle)
    return release.codename.lower().split()[0] if release is not None and release.codename else ""


def _version_from_codename(ctx: Knowledge, slug: str, text: str) -> str:
    """Some releases name only a codename (Devuan "ascii"); the dataset knows each cycle's codename."""
    product = ctx.catalog.product(slug)
    words = set(re.findall(r"[a-z]+", text.lower()))
    if product is None or not words:
        return ""
    for rel in product.releases:
        code = rel.codename.lower().split()[0] if rel.codename else ""
        if code and code in words:
            return rel.name
    return ""


def _legacy(files: dict[str, str], table: dict[str, Any], ctx: Knowledge) -> Identification:
    """Pre-os-release systems: the first matching release-file rule wins (in table order).

    First pass: each rule on its own file.  Second pass: rules whose pattern names a distribution
    (not a bare number like debian_version's) on every other text, because inventory agents and
    converters move the release line around (FusionInventory's FULL_NAME is the redhat-release,
    SuSE-release or os-release PRETTY_NAME line, handed over under whatever key the converter chose).
    """
    rules = table.get("release_files", [])
    hit = _on_own_file(rules, files, ctx) or _on_other_texts(rules, files, ctx) or _from_cpe(files, table, ctx)
    if hit is not None:
        return hit
    return Identification(
        None,
        None,
        "linux.unrecognised",
        "no known release file pattern matched",
        evidence=tuple((k, v.strip()[:80]) for k, v in files.items()),
    )


def _on_own_file(rules: list[dict[str, Any]], files: dict[str, str], ctx: Knowledge) -> Identification | None:
    """First pass: each release-file rule on its own file."""
    for rule in rules:
        path = rule["path"]
        if path != "*" and path in files:
            hit = _apply_release_rule(rule, path, files[path], ctx, files)
            if hit is not None:
                return hit
    return None


def _on_other_texts(rules: list[dict[str, Any]], files: dict[str, str], ctx: Knowledge) -> Identification | None:
    """Second pass: rules whose pattern names a distribution, on every other text."""
    for rule in rules:
        if not re.search(r"[a-z]{3}", rule["pattern"], re.I) or rule.get("own_path_only"):
            continue
        for path, text in files.items():
            if path == rule["path"]:
                continue
            hit = _apply_release_rule(rule, path, text, ctx, files)
            if hit is not None:
                return hit
    return None


_OS_CPE = re.compile(r"cpe:(?:/o|2\.3:o):([^:\s\"']+):([^:\s\"']+):(\d[^:\s\"']*)", re.I)


def _from_cpe(files: dict[str, str], table: dict[str, Any], ctx: Knowledge) -> Identification | None:
    """Last resort: an operating-system CPE (``/etc/system-release-cpe``, the CPE_NAME of an
    os-release without ID).  Only vendor/product pairs listed in the ``[[cpe]]`` table count, and a
    text that names a rebuild reusing its parent's CPE (the name overrides: CentOS Stream,
    Scientific Linux, ...) is left unknown rather than read as the parent."""
    texts = "\n".join(files.values())
    if any(re.search(ov["pattern"], texts, re.I) for ov in table.get("name_overrides", [])):
        return None
    entries = table.get("cpe", [])
    for path, text in files.items():
        for m in _OS_CPE.finditer(text):
            vendor, product, version = m.group(1).lower(), m.group(2).lower(), m.group(3)
            for entry in entries:
                if vendor == entry["vendor"] and re.fullmatch(entry["product"], product):
                    return _result(ctx, entry["slug"], version, "linux.cpe", [(path, m.group(0))])
    return None


def _service_pack(files: dict[str, str]) -> str | None:
    """A service-pack / patch-level value an agent reported beside the release line."""
    for key, value in files.items():
        low = key.lower().replace("_", "").replace(" ", "")
        if low.endswith(("servicepack", "patchlevel")) and re.fullmatch(r"\s*(?:sp)?\s*(\d+)\s*", value, re.I):
            return re.sub(r"\D", "", value)
    return None


def _release_file_version(how: Any, m: re.Match[str], text: str, files: dict[str, str]) -> str:
    """The version a release-file rule reads: SUSE's VERSION/PATCHLEVEL, an Enterprise line's
    "N SPn", else the pattern's first non-empty group."""
    ver = re.search(r"VERSION\s*=\s*(\d+)", text) if how == "suse" else None
    if how == "suse" and ver:
        patch = re.search(r"PATCHLEVEL\s*=\s*(\d+)", text)
        return f"{ver.group(1)}.{patch.group(1) if patch else 0}"
    if how in ("suse", "major.sp"):
        return _major_sp_version(text, files)
    return next((g for g in m.groups() if g), "") if m.groups() else ""


def _major_sp_version(text: str, files: dict[str, str]) -> str:
    # A release line without VERSION/PATCHLEVEL ("SUSE Linux Enterprise Server 12 SP3", an
    # agent's FULL_NAME "... Server 11 (x86_64)" with the service pack in another field).
    line = re.search(r"enterprise (?:server|desktop)\D*?(\d+)(?:\s*\(\w+\))?(?:\s+sp(\d+))?", text, re.I)
    sp = line.group(2) if line and line.group(2) else _service_pack(files)
    # Without any service-pack evidence the cycle is unknowable (11 GA and 11 SP4 differ by years).
    return f"{line.group(1)}.{sp}" if line and sp is not None else ""


def _apply_release_rule(
    rule: dict[str, Any], path: str, text: str, ctx: Knowledge, files: dict[str, str] | None = None
) -> Identification | None:
    m = re.search(rule["pattern"], text, re.I)
    if not m:
        return None
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    evidence = [(path, first[:120])]
    version = _release_file_version(rule.get("version_from"), m, text, files or {})
    if rule["product"] == "none":
        return Identification(
            None,
            None,
            "linux.release-file.untracked",
            f"{first!r} is not tracked by endoflife.date",
            evidence=tuple(evidence),
        )
    return _result(
        ctx,
        rule["product"],
        version,
        f"linux.release-file:{rule['path']}",
        evidence,
        prefix=rule.get("cycle_prefix", ""),
    )
