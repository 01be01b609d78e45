"""Safe XML for importers: defusedxml refuses entity expansion (billion laughs), external entities
and DTD retrieval; the element tree becomes plain dicts and lists, so importers map XML and JSON
exports of the same format (GLPI, CycloneDX) with one function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError  # noqa: S405 - types only; parsing is defusedxml's

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from scanner.imports.base import ImportRefused

MAX_DEPTH = 64


def parse(data: bytes) -> Element:
    try:
        root: Element = fromstring(data, forbid_dtd=True)  # defusedxml is untyped
        return root
    except DefusedXmlException as exc:
        raise ImportRefused(f"XML refused: {exc} (DTDs and entities are not part of any format imported)") from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ImportRefused(f"not valid XML at line {line} column {column}: {exc}") from exc


def local(tag: str) -> str:
    """The tag without its namespace: ``{http://cyclonedx.org/schema/bom/1.5}component`` -> ``component``."""
    return tag.rsplit("}", 1)[-1]


def to_data(element: Element, *, lower: bool = False, depth: int = 0) -> Any:
    """Element -> nested dicts: children by tag (repeated tags become lists), text for leaves;
    attributes are kept under their names (``@name`` when a child has the same name)."""
    if depth > MAX_DEPTH:
        raise ImportRefused(f"XML nested deeper than {MAX_DEPTH} elements")
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    out: dict[str, Any] = {}
    for key, value in element.attrib.items():
        out[local(key)] = value
    for child in children:
        tag = local(child.tag)
        if lower:
            tag = tag.lower()
        _add_child(out, tag, to_data(child, lower=lower, depth=depth + 1), element.attrib)
    if not children and (element.text or "").strip():
        out["#text"] = (element.text or "").strip()
    return out


def _add_child(out: dict[str, Any], tag: str, value: Any, attrib: Mapping[str, str]) -> None:
    """A child under its tag: the first as it is, repeats (or a clash with an attribute) as a list."""
    if tag not in out:
        out[tag] = value
    elif not isinstance(out[tag], list) or tag in attrib:
        out[tag] = [out[tag], value]
    else:
        out[tag].append(value)
