"""What each rules file's arrays of tables hold, checked when the file loads.

A rule that cannot work (a regular expression that does not compile, a required key missing, a
list where a string belongs) is refused when its file is read, with the file and the line of the
key, instead of failing later on the first record that reaches it -- or, for a key the code reads
with a default, never failing and silently matching nothing.  Keys a schema does not name are not
refused: the identifiers read further, optional keys of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eol_data.toml_lines import KeyPath


@dataclass(frozen=True, slots=True)
class Entries:
    """The shape of every table of one ``[[array]]``."""

    required: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()  # strings that must compile as regular expressions
    strings: tuple[str, ...] = ()
    string_lists: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


SCHEMAS: dict[str, dict[str, Entries]] = {
    "windows_apps": {
        "rule": Entries(
            required=("id", "name", "product"),
            regex=("name", "not_name", "publisher", "version_match"),
            strings=("id", "product", "scheme", "reason", "cycle", "group", "confidence", "version_from"),
            string_lists=("sources",),
            flags=("version_required", "allow_patch"),
        ),
    },
    "packages": {
        "package": Entries(
            required=("names", "product"), regex=("names", "version", "release"), strings=("product", "why", "scheme")
        ),
    },
    "linux_os": {
        "release_files": Entries(
            required=("path", "pattern", "product"),
            regex=("pattern",),
            strings=("path", "product", "cycle_prefix", "version_from"),
            flags=("own_path_only",),
        ),
        "cpe": Entries(required=("vendor", "product", "slug"), regex=("product",), strings=("vendor", "slug")),
        "name_overrides": Entries(required=("pattern",), regex=("pattern",), strings=("product",)),
    },
    "announced": {
        "software": Entries(required=("names", "product"), regex=("names",), strings=("product", "why")),
        "ssh_os": Entries(required=("comment", "product"), regex=("comment",), strings=("product", "why")),
        "snmp_os": Entries(required=("pattern",), regex=("pattern",), strings=("product", "family", "why")),
    },
    "distro": {
        "distribution": Entries(
            required=("products", "source", "label", "version_marks"),
            regex=("version_marks",),
            strings=("source", "label", "security_data"),
            string_lists=("products", "vendors", "domains", "origins"),
            flags=("plain_revision",),
        ),
    },
    "os_components": {
        "component": Entries(
            required=("product", "cycles", "hosts"),
            strings=("product", "why"),
            string_lists=("cycles", "hosts", "host_releases"),
        ),
    },
    "families": {
        "family": Entries(required=("name", "pattern"), regex=("pattern",), strings=("name",)),
    },
    "windows_os": {
        "caption_releases": Entries(required=("pattern", "nt"), strings=("pattern", "nt"), integers=("build",)),
        "embedded": Entries(required=("words",), string_lists=("words", "cycles"), strings=("nt", "product")),
        "edition_words": Entries(required=("words", "family"), string_lists=("words",), strings=("family",)),
    },
}


# Tables whose every value is a list of words (role maps, localized words): file -> table names.
WORD_LISTS: dict[str, tuple[str, ...]] = {
    "windows_os": ("role_words", "role_values", "labels", "words"),
    "distro": ("follows_upstream", "third_party"),
    "software_fields": ("aliases",),
    "macos": ("labels",),
    "unix_os": ("words",),
    "families": ("release_files",),
    "packages": ("words",),
}


def problems(name: str, table: dict[str, Any]) -> list[tuple[KeyPath, str]]:
    """Every (key path, problem) of a parsed rules file: word-list tables, then each array."""
    out = _word_list_problems(name, table)
    for array, shape in SCHEMAS.get(name, {}).items():
        value = table.get(array)
        if value is None:
            continue
        if not isinstance(value, list):
            out.append(((array,), f"expected an array of tables ([[{array}]]), got {type(value).__name__}"))
            continue
        for i, entry in enumerate(value):
            out.extend(_entry_problems((array, i), entry, shape))
    return out


def _word_list_problems(name: str, table: dict[str, Any]) -> list[tuple[KeyPath, str]]:
    out: list[tuple[KeyPath, str]] = []
    for words in WORD_LISTS.get(name, ()):
        value = table.get(words)
        if value is None:
            continue
        if not isinstance(value, dict):
            out.append(((words,), f"expected a table of word lists ([{words}]), got {type(value).__name__}"))
            continue
        out.extend(((words, key), problem) for key, v in value.items() if (problem := _string_list_problem(v)))
    return out


def _entry_problems(path: KeyPath, entry: Any, shape: Entries) -> list[tuple[KeyPath, str]]:
    if not isinstance(entry, dict):
        return [(path, f"expected a table, got {type(entry).__name__}")]
    out = [(path, f"missing required key {key!r}") for key in shape.required if key not in entry]
    for key, value in entry.items():
        problem = _value_problem(key, value, shape)
        if problem:
            out.append((path + (key,), problem))
    return out


def _value_problem(key: str, value: Any, shape: Entries) -> str:
    """What is wrong with one value ("" when nothing is, or the schema does not name the key)."""
    for keys, check in (
        (shape.string_lists, _string_list_problem),
        (shape.integers, _integer_problem),
        (shape.flags, _flag_problem),
        (shape.regex, _regex_problem),
        (shape.strings, _string_problem),
    ):
        if key in keys:
            return check(value)
    return ""


def _string_list_problem(value: Any) -> str:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return "" if ok else f"expected a list of strings, got {value!r}"


def _integer_problem(value: Any) -> str:
    return "" if type(value) is int else f"expected a whole number, got {value!r}"


def _flag_problem(value: Any) -> str:
    return "" if isinstance(value, bool) else f"expected true or false, got {value!r}"


def _string_problem(value: Any) -> str:
    return "" if isinstance(value, str) else f"expected a string, got {type(value).__name__} {value!r}"


def _regex_problem(value: Any) -> str:
    if not isinstance(value, str):
        return _string_problem(value)
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return ""
