"""What the identifiers compile from the rules (word patterns, labels, family words, arch suffixes)
is kept with the Rules object it was made from (``Rules.derived``), never in a module-level memo."""

from __future__ import annotations

import re
from pathlib import Path

from eol_data.catalog import Catalog
from eol_data.rules import Rules
from scanner.identify.registry import IdentifyContext

ROOT = Path(__file__).resolve().parents[2]
RECORDS = [
    {"kind": "os", "family": "windows", "caption": "Microsoft Windows Server 2019 Standard", "build": "17763"},
    {"kind": "os", "family": "macos", "product_version": "13.6.1", "build_version": "22G313"},
    {"kind": "os", "family": "unix", "uname": "FreeBSD 14.1-RELEASE"},
    {"kind": "os", "name": "Microsoft Windows 10 Pro"},  # no family: the family words decide
    {"kind": "software", "source": "rpm", "name": "openssl.x86_64", "version": "1.0.2k-26.el7_9"},
]


def test_each_rules_object_keeps_what_was_compiled_from_it() -> None:
    catalog = Catalog()
    first, second = Rules(), Rules()
    answers = [[IdentifyContext(catalog, rules).identify(dict(r)) for r in RECORDS] for rules in (first, second)]
    assert answers[0] == answers[1]
    for rules in (first, second):
        made = set(rules._derived)
        assert {"windows_os.words", "macos.labels", "unix_os.words", "identify.families"} <= made, made
        assert "packages.arch_suffix" in made
    assert first._derived["unix_os.words"] is not second._derived["unix_os.words"]


def test_no_identifier_keeps_a_module_level_memo() -> None:
    found = [
        f"{path.name}:{n}"
        for path in sorted((ROOT / "scanner" / "identify").glob("*.py"))
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if re.match(r"_[A-Z_]*MEMO\b.*=", line)
    ]
    assert found == []
