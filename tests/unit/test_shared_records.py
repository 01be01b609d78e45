"""Package records shared between hosts (``agents.linux``: one record per distinct package line)
must encode and match exactly like private copies of the same records.

The fleet scan relies on the sharing for speed (parse, encode and match memoised by identity);
these tests pin that the shortcut never changes a stored body or a verdict.  Inputs are real
package lists: the dpkg database of a captured Debian 12 host and real rpm-based captures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from agents import linux
from agents.inventory import FrozenSoftware, Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext
from scanner.judge.match import MatchMemo, match_inventory
from scanner.model import Policy
from scanner.store.sqlite import decode_body, encode_body, fast_compact_json

ROOT = Path(__file__).resolve().parents[2]
DPKG_STATUS = ROOT / "tests" / "fixtures" / "hosts" / "debian12-workplace" / "files" / "var" / "lib" / "dpkg" / "status"
CAPTURES = ROOT / "scanner" / "demo_data" / "captures" / "linux"
AS_OF = date(2026, 11, 30)


def dpkg_query_text() -> str:
    """The real database in ``dpkg-query -W`` form (what an SSH probe receives)."""
    pkgs = linux.parse_dpkg_status(DPKG_STATUS.read_text("utf-8"))
    return "".join(f"{p.name}\t{p.version}\t{p.arch}\tii \n" for p in pkgs)


def rpm_text() -> str:
    for path in sorted(CAPTURES.glob("*.json")):
        sw = json.loads(path.read_text("utf-8")).get("software", [])
        if sw and sw[0].get("source") == "rpm":
            return "".join(
                f"{s['name']}\t(none):{s['version']}\t{s.get('arch') or 'noarch'}\t"
                f"{(s.get('raw') or {}).get('PUBLISHER') or '(none)'}\n"
                for s in sw
            )
    raise AssertionError("no rpm capture")


def private_copy(sw: Software) -> Software:
    """A copy of the caller's own (a record the parsers' memo did not hand out)."""
    return sw.thawed() if isinstance(sw, FrozenSoftware) else replace(sw)


def host(name: str, software: list[Software], os_name: str, version: str, family: str = "linux") -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"id-{name}", site="Main"),
        os=OsInfo(
            family=family,
            name=os_name,
            version=version,
            facts={"files": {"/etc/os-release": f'PRETTY_NAME="{os_name}"\nID=debian\nVERSION_ID="{version}"\n'}},
        ),
        software=software,
    )


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


@pytest.mark.parametrize("kind", ["dpkg_query", "rpm_qa"])
def test_shared_records_encode_exactly_like_private_copies(kind: str) -> None:
    text = {"dpkg_query": dpkg_query_text, "rpm_qa": rpm_text}[kind]()
    parse: Callable[[str], list[Software]] = getattr(linux.PackageMemo(), kind)  # as a fleet scan parses
    first, second = parse(text), parse(text)
    assert len(first) > 100 and all(a is b for a, b in zip(first, second, strict=True))
    private = [private_copy(sw) for sw in first]
    assert not any(linux.shared(sw) for sw in private)
    for software in (first, second):  # the second pass is answered by identity
        shared_inv = host("a", software, "Debian GNU/Linux 12 (bookworm)", "12")
        private_inv = replace(shared_inv, software=private)
        assert fast_compact_json(shared_inv) == compact_json(private_inv)
        assert decode_body(encode_body(shared_inv)) == decode_body(encode_body(private_inv))


def test_shared_records_match_exactly_like_private_copies(ctx: IdentifyContext) -> None:
    software = linux.PackageMemo().dpkg_query(dpkg_query_text())
    private = [private_copy(sw) for sw in software]
    memo = MatchMemo(ctx, AS_OF, Policy())
    # Same records on two different OSes: the identity memo is per OS (host-dependent products).
    for os_name, version in (("Debian GNU/Linux 12 (bookworm)", "12"), ("Debian GNU/Linux 10 (buster)", "10")):
        for _ in range(2):  # second round: every package answered from the identity memo
            shared_result = match_inventory(host("a", software, os_name, version), ctx, AS_OF, Policy(), memo)
            private_result = match_inventory(
                host("a", private, os_name, version), ctx, AS_OF, Policy(), MatchMemo(ctx, AS_OF, Policy())
            )
            assert shared_result.findings == private_result.findings
            assert shared_result.unidentified == private_result.unidentified
    assert any(f.kind == "software" for f in shared_result.findings)
