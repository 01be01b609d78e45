"""SBOMs of hosts and devices: CycloneDX (JSON and XML, spec 1.2-1.6; tested 1.4-1.6) and SPDX
2.2/2.3 JSON, e.g. syft's or trivy's output for a machine or image, or a medical device supplier's.

One SBOM is one host: the described thing (CycloneDX ``metadata.component``, SPDX's ``DESCRIBES``
target or the document name) names it; the ``operating-system`` component (SPDX
``primaryPackagePurpose: OPERATING-SYSTEM``) is its OS, and every other component is software
with its package URL kept as the key.  Where no OS component exists, the ``distro`` qualifier of a
distribution package's purl (``pkg:rpm/centos/bash@…?distro=centos-7.6.1810``) names it.

Why not cyclonedx-python-lib / spdx-tools: we read a dozen fields; the libraries deserialise the
whole model strictly per spec version (real SBOMs that stray from the schema are refused outright)
and bring several dependencies each (spdx-tools: rdflib, ply, …).  The mapping here is small and
tested on the specifications' own examples and on real scanner outputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.imports import xmldoc
from scanner.imports.base import (
    MAX_DOCUMENT,
    Head,
    Importer,
    ImportRefused,
    SoftwareRecords,
    Source,
    as_dict,
    as_list,
    derive_id,
    import_collector,
    text,
)

MAX_COMPONENTS = 50_000
MAX_NESTING = 32
# purl type -> our package source (the identifiers know these); anything else keeps the purl type.
_PURL_SOURCES = {
    "deb": "dpkg",
    "rpm": "rpm",
    "apk": "apk",
    "alpm": "pacman",
    "npm": "npm",
    "pypi": "pypi",
    "maven": "maven",
    "nuget": "nuget",
    "gem": "gem",
    "golang": "go",
    "cargo": "cargo",
    "composer": "composer",
    "generic": "generic",
}
_DISTRO_PURLS = ("deb", "rpm", "apk", "alpm")


def _when(value: str) -> str:
    """An ISO 8601 timestamp in our form (UTC, seconds); offsets other than UTC keep their clock
    time (the date is what matters for a report, and nothing here reads the clock)."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})", value.strip())
    return f"{m.group(1)}T{m.group(2)}Z" if m else ""


def _purl(value: str) -> tuple[str, str, dict[str, str]]:
    """(type, namespace, qualifiers) of a package URL; empty when it is none."""
    if not value.startswith("pkg:"):
        return "", "", {}
    body, _, query = value[4:].partition("?")
    body = body.split("#", 1)[0]
    parts = body.split("/")
    qualifiers = {k: unquote(v[0]) for k, v in parse_qs(query).items() if v}
    return parts[0].lower(), "/".join(parts[1:-1]), qualifiers


def _os_facts(name: str, version: str, original: dict[str, Any], source: str) -> tuple[str, dict[str, Any]]:
    """The OS record for a distribution named by an SBOM.  Linux identification reads os-release;
    the SBOM gives the same two fields (ID, VERSION_ID), which are handed over in that vocabulary
    under ``os_release_fields`` - the original values stay beside them."""
    low = name.lower()
    facts: dict[str, Any] = {source: original}
    if "windows" in low:
        facts["caption"] = name if "windows" in low else f"Windows {version}"
        if re.match(r"^\d+\.\d+\.\d+", version):
            facts["version"] = version
        return "windows", facts
    if low in ("macos", "mac os x", "darwin"):
        facts["product_version"] = version
        return "macos", facts
    ident = re.sub(r"[^a-z0-9._-]", "", low.split()[0]) if low else ""
    if ident:
        facts["os_release_fields"] = f"ID={ident}\nVERSION_ID={version}\nNAME={name}\n"
    return "linux", facts


def _software(records: SoftwareRecords, name: str, version: str, purl: str, publisher: str, kind: str) -> Software:
    ptype, _, qualifiers = _purl(purl)
    source = _PURL_SOURCES.get(ptype, ptype) or kind or "sbom"
    return records.get(
        name, version=version, source=source, publisher=publisher, arch=qualifiers.get("arch", ""), key=purl
    )


def _distro_from_purls(purls: list[str]) -> tuple[str, str] | None:
    for purl in purls:
        ptype, namespace, qualifiers = _purl(purl)
        if ptype in _DISTRO_PURLS and qualifiers.get("distro"):
            distro = qualifiers["distro"]
            m = re.match(r"^([a-z][a-z0-9._]*?)-(\d[\w.]*)$", distro)
            if m:
                return m.group(1), m.group(2)
            if namespace:
                return namespace, distro.rsplit("-", 1)[-1]
    return None


# -- CycloneDX ------------------------------------------------------------------------------------

_CDX_XML = re.compile(r"<(?:\w+:)?bom\b[^>]*http://cyclonedx\.org/schema/bom/1\.(\d)")


def detect_cyclonedx(head: Head) -> str:
    if head.kind == "json":
        if re.search(r'"bomFormat"\s*:\s*"CycloneDX"', head.text):
            return ""
        return 'no "bomFormat": "CycloneDX"'
    if head.kind == "xml":
        if _CDX_XML.search(head.text):
            return ""
        return "no <bom> in a CycloneDX namespace"
    return "neither JSON nor XML"


def _listed(value: Any, child: str, where: str, xml: bool) -> list[Any]:
    """A JSON list, or (``xml``) the XML shape of one: ``{"component": item-or-list}``."""
    if xml and isinstance(value, dict):
        value = value.get(child, [])
        if isinstance(value, dict | str):
            value = [value]
    return as_list(value if value != "" or not xml else [], where)


def _cdx_document(source: Source) -> dict[str, Any]:
    if source.head().kind == "xml":
        root = xmldoc.parse(source.read_all(MAX_DOCUMENT))
        if xmldoc.local(root.tag) != "bom":
            raise ImportRefused(f"root element is <{xmldoc.local(root.tag)}>, not <bom>")
        data = xmldoc.to_data(root)
        data = data if isinstance(data, dict) else {}
        m = re.search(r"/bom/(1\.\d)", root.tag)
        data["specVersion"] = m.group(1) if m else ""
        return data
    data = source.json()
    if not isinstance(data, dict):
        raise ImportRefused(f"expected a CycloneDX BOM object, got a JSON {type(data).__name__}")
    return data


def _walk(components: list[Any], where: str, depth: int, out: list[tuple[str, dict[str, Any]]], xml: bool) -> None:
    if depth > MAX_NESTING:
        raise ImportRefused(f"{where}: components nested deeper than {MAX_NESTING}")
    for i, raw in enumerate(components):
        here = f"{where}[{i}]"
        comp = as_dict(raw, here)
        out.append((here, comp))
        if len(out) > MAX_COMPONENTS:
            raise ImportRefused(f"more than {MAX_COMPONENTS} components")
        nested = comp.get("components")
        if nested:
            _walk(_listed(nested, "component", f"{here}.components", xml), f"{here}.components", depth + 1, out, xml)


def _publisher(comp: dict[str, Any], where: str) -> str:
    supplier = comp.get("supplier")
    name = text(comp.get("publisher"), f"{where}.publisher")
    if not name and isinstance(supplier, dict):
        name = text(supplier.get("name"), f"{where}.supplier.name")
    if not name and isinstance(comp.get("author"), str):
        name = text(comp.get("author"), f"{where}.author")
    return name


def convert_cyclonedx(source: Source) -> Iterator[Inventory]:
    data = _cdx_document(source)
    xml = source.head().kind == "xml"
    spec = text(data.get("specVersion"), "specVersion")
    if not re.fullmatch(r"1\.[0-6]", spec):
        raise ImportRefused(f"specVersion {spec[:20]!r}: this build reads CycloneDX 1.0-1.6")
    metadata = as_dict(data.get("metadata"), "metadata")
    subject = as_dict(metadata.get("component"), "metadata.component")
    found: list[tuple[str, dict[str, Any]]] = []
    _walk(_listed(data.get("components"), "component", "components", xml), "components", 0, found, xml)
    os_comp: tuple[str, dict[str, Any]] | None = None
    if text(subject.get("type"), "metadata.component.type") == "operating-system":
        os_comp = ("metadata.component", subject)
    software, purls, os_comp = _cdx_components(source.records, found, os_comp)
    host_name = text(subject.get("name"), "metadata.component.name")
    family, facts, os_name, os_version = _sbom_os(os_comp, "version", purls, "cyclonedx")
    if not host_name:
        host_name = text(data.get("serialNumber"), "serialNumber") or source.path.name
    tool = _cdx_tool(metadata, xml)
    collected = _when(text(metadata.get("timestamp"), "metadata.timestamp"))
    inv = Inventory(
        host=Host(hostname=host_name[:255]),
        os=OsInfo(family=family, name=os_name, version=os_version, facts=facts),
        software=software,
        collected_at=collected,
        collector=import_collector(
            "cyclonedx",
            " ".join(
                filter(
                    None,
                    (
                        text(tool.get("name"), "metadata.tools.name"),
                        text(tool.get("version"), "metadata.tools.version"),
                    ),
                )
            ),
        ),
    )
    serial = text(data.get("serialNumber"), "serialNumber")
    inv.inventory_id = derive_id(
        "cyclonedx", serial or host_name, f"{text(data.get('version'), 'version')}:{collected}:{source.digest()}"
    )
    yield inv


def _cdx_components(
    records: SoftwareRecords,
    found: list[tuple[str, dict[str, Any]]],
    os_comp: tuple[str, dict[str, Any]] | None,
) -> tuple[list[Software], list[str], tuple[str, dict[str, Any]] | None]:
    """(software, their purls, the OS component): the first operating-system component is the OS."""
    software: list[Software] = []
    purls: list[str] = []
    for where, comp in found:
        kind = text(comp.get("type"), f"{where}.type")
        name = text(comp.get("name"), f"{where}.name")
        if kind == "operating-system":
            os_comp = os_comp or (where, comp)
            continue
        if not name:
            continue
        group = text(comp.get("group"), f"{where}.group")
        purl = text(comp.get("purl"), f"{where}.purl")
        purls.append(purl)
        shown = f"{group}/{name}" if group and not purl.startswith(("pkg:deb", "pkg:rpm", "pkg:apk")) else name
        software.append(
            _software(
                records,
                shown,
                text(comp.get("version"), f"{where}.version"),
                purl,
                _publisher(comp, where),
                "cyclonedx-" + kind if kind else "",
            )
        )
    return software, purls, os_comp


def _cdx_tool(metadata: dict[str, Any], xml: bool) -> dict[str, Any]:
    """The first tool component that made the BOM (1.5+ ``tools.components``, older ``tools``)."""
    tools = metadata.get("tools")
    if isinstance(tools, dict) and "components" in tools:  # 1.5+: tools.components (JSON) / tools/components (XML)
        tool_list = _listed(tools["components"], "component", "metadata.tools.components", xml)
    elif isinstance(tools, dict) and not xml:  # services only: no tool component to name
        tool_list = []
    else:
        tool_list = _listed(tools, "tool", "metadata.tools", xml)
    return next((t for t in tool_list if isinstance(t, dict)), {})


def _sbom_os(
    os_item: tuple[str, dict[str, Any]] | None, version_key: str, purls: list[str], fmt: str
) -> tuple[str, dict[str, Any], str, str]:
    """(family, facts, name, version) of the OS an SBOM names: its operating-system component, else
    the distribution its packages' purls were built for, else unknown."""
    if os_item is not None:
        where, item = os_item
        os_name = text(item.get("name"), f"{where}.name")
        os_version = text(item.get(version_key), f"{where}.{version_key}")
        original = {k: text(v, f"{where}.{k}") for k, v in item.items() if isinstance(v, str | int | float)}
        return (*_os_facts(os_name, os_version, original, fmt), os_name, os_version)
    distro = _distro_from_purls(purls)
    if distro:
        os_name, os_version = distro
        return (*_os_facts(os_name, os_version, {"purl_distro": f"{os_name}-{os_version}"}, fmt), os_name, os_version)
    return "unknown", {}, "", ""


# -- SPDX -----------------------------------------------------------------------------------------


def detect_spdx(head: Head) -> str:
    if head.kind != "json":
        return "not JSON (tag-value and RDF SPDX are not read; export JSON)"
    if re.search(r'"spdxVersion"\s*:\s*"SPDX-2\.', head.text):
        return ""
    return 'no "spdxVersion": "SPDX-2.x"'


def _spdx_purl(pkg: dict[str, Any], where: str) -> str:
    for i, ref in enumerate(as_list(pkg.get("externalRefs"), f"{where}.externalRefs")):
        ref = as_dict(ref, f"{where}.externalRefs[{i}]")
        if ref.get("referenceType") == "purl":
            return text(ref.get("referenceLocator"), f"{where}.externalRefs[{i}].referenceLocator")
    return ""


def _spdx_party(value: Any, where: str) -> str:
    party = text(value, where)
    if party.upper() == "NOASSERTION":
        return ""
    return re.sub(r"^(Organization|Person|Tool):\s*", "", party).split(" (")[0].strip()


def convert_spdx(source: Source) -> Iterator[Inventory]:
    data = source.json()
    if not isinstance(data, dict):
        raise ImportRefused(f"expected an SPDX document object, got a JSON {type(data).__name__}")
    version = text(data.get("spdxVersion"), "spdxVersion")
    if not re.fullmatch(r"SPDX-2\.[0-3]", version):
        raise ImportRefused(f"spdxVersion {version[:20]!r}: this build reads SPDX 2.0-2.3 JSON")
    packages = as_list(data.get("packages"), "packages")
    if len(packages) > MAX_COMPONENTS:
        raise ImportRefused(f"packages: more than {MAX_COMPONENTS}")
    read = _SpdxPackages(source.records, _spdx_described(data))
    for i, raw in enumerate(packages):
        read.package(f"packages[{i}]", raw)
    family, facts, os_name, os_version = _sbom_os(read.os_pkg, "versionInfo", read.purls, "spdx")
    creation = as_dict(data.get("creationInfo"), "creationInfo")
    creators = [text(c, "creationInfo.creators") for c in as_list(creation.get("creators"), "creationInfo.creators")]
    tool = next((c[5:].strip() for c in creators if c.startswith("Tool:")), "")
    host_name = read.subject or text(data.get("name"), "name") or source.path.name
    collected = _when(text(creation.get("created"), "creationInfo.created"))
    inv = Inventory(
        host=Host(hostname=host_name[:255]),
        os=OsInfo(family=family, name=os_name, version=os_version, facts=facts),
        software=read.software,
        collected_at=collected,
        collector=import_collector("spdx", tool),
    )
    namespace = text(data.get("documentNamespace"), "documentNamespace")
    inv.inventory_id = derive_id("spdx", namespace or host_name, f"{collected}:{source.digest()}")
    yield inv


def _spdx_described(data: dict[str, Any]) -> set[str]:
    """The SPDX ids the document describes (``documentDescribes`` and DESCRIBES relationships)."""
    described = {text(x, "documentDescribes") for x in as_list(data.get("documentDescribes"), "documentDescribes")}
    for i, rel in enumerate(as_list(data.get("relationships"), "relationships")):
        rel = as_dict(rel, f"relationships[{i}]")
        if rel.get("relationshipType") == "DESCRIBES" and rel.get("spdxElementId") == "SPDXRef-DOCUMENT":
            described.add(text(rel.get("relatedSpdxElement"), f"relationships[{i}].relatedSpdxElement"))
    return described


_SUBJECT_PURPOSES = ("", "CONTAINER", "DEVICE", "OPERATING-SYSTEM", "APPLICATION", "FIRMWARE")


class _SpdxPackages:
    """SPDX packages read in order: software, the OS package, and the described subject's name."""

    def __init__(self, records: SoftwareRecords, described: set[str]) -> None:
        self.records = records
        self.described = described
        self.software: list[Software] = []
        self.purls: list[str] = []
        self.os_pkg: tuple[str, dict[str, Any]] | None = None
        self.subject = ""

    def package(self, where: str, raw: Any) -> None:
        pkg = as_dict(raw, where)
        spdx_id = text(pkg.get("SPDXID"), f"{where}.SPDXID")
        name = text(pkg.get("name"), f"{where}.name")
        purpose = text(pkg.get("primaryPackagePurpose"), f"{where}.primaryPackagePurpose").upper()
        if purpose == "OPERATING-SYSTEM" or spdx_id.startswith("SPDXRef-OperatingSystem"):
            self.os_pkg = self.os_pkg or (where, pkg)
            return
        purl = _spdx_purl(pkg, where)
        if spdx_id in self.described and not purl and purpose in _SUBJECT_PURPOSES:
            self.subject = self.subject or name
            if purpose in ("CONTAINER", "DEVICE") or spdx_id.startswith("SPDXRef-ContainerImage"):
                return  # the described container or device itself is the host, not its software
        if not name:
            return
        self.purls.append(purl)
        self.software.append(
            _software(
                self.records,
                name,
                text(pkg.get("versionInfo"), f"{where}.versionInfo"),
                purl,
                _spdx_party(pkg.get("supplier"), f"{where}.supplier"),
                "spdx-" + purpose.lower() if purpose else "spdx",
            )
        )


CYCLONEDX = Importer(
    "cyclonedx", "CycloneDX SBOM of a host or device (JSON or XML, 1.2-1.6)", detect_cyclonedx, convert_cyclonedx
)
SPDX = Importer("spdx", "SPDX 2.2/2.3 JSON SBOM of a host or device", detect_spdx, convert_spdx)
