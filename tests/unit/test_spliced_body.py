"""The stored body of a host whose package list is shared with other hosts is spliced: the list's
deflate blocks are made once per distinct list and the rest of the document is compressed around
them (``scanner.store.sqlite._spliced_body``).  The result must be one valid zlib stream of exactly the
document's compact JSON -- the very text stored before -- for real package lists (a captured Debian
12 dpkg database, the demo estate's Linux captures) and for odd text around them; a document with
a NUL or a lone surrogate is encoded as it always was (not exact, text neutralised)."""

from __future__ import annotations

import copy
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from agents import linux
from agents.inventory import FrozenSoftware, Host, Inventory, OsInfo, Software
from agents.wire import compact_json
from scanner.demo import generate
from scanner.store.sqlite import _spliced_body, adler32_combine, decode_body, encode_body, encode_checked, storable_json

ROOT = Path(__file__).resolve().parents[2]
DPKG_STATUS = ROOT / "tests" / "fixtures" / "hosts" / "debian12-workplace" / "files" / "var" / "lib" / "dpkg" / "status"


def _build() -> list[Software]:
    build = linux.PackageMemo().dpkg_status(DPKG_STATUS.read_text("utf-8"))  # as a fleet scan parses it
    assert len(build) > 500 and all(linux.shared(sw) for sw in build)
    return build


def _host(name: str, software: list[Software], **os_facts: object) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"mid-{name}", site="Ward \u00e9 9", tags=["a", "\u2603"]),
        os=OsInfo(family="linux", name="Debian GNU/Linux 12 (bookworm)", version="12", facts=dict(os_facts)),
        software=software,
        collected_at="2026-11-28T09:00:00Z",
    )


@pytest.mark.parametrize(
    "name", ["deb01", "h\u00e9\u2603-\U0001f600", 'quote"back\\slash\\u0000', "tab\tnew\nline", "x" * 250]
)
def test_a_spliced_body_is_the_documents_compact_json(name: str) -> None:
    build = _build()
    for inv in (_host(name, build), _host(name, build, kernel="6.1", files={"/etc/x": "y" * 60_000})):
        body, exact = encode_checked(inv)
        # the text "\\u0000" (not a NUL) is taken as one, as always: not exact, encoded as before
        assert exact == ("\\u0000" not in name)
        assert _spliced_body(inv) == (body if exact else None)  # this path made it
        assert zlib.decompress(body) == storable_json(compact_json(inv))  # checksum verified too
        assert decode_body(body) == inv
        # a private copy of every record (not shared: compressed whole, as always): the same text
        private = copy.deepcopy(inv)
        private.software = [sw.thawed() if isinstance(sw, FrozenSoftware) else replace(sw) for sw in inv.software]
        assert not any(map(linux.shared, private.software)) and _spliced_body(private) is None
        assert zlib.decompress(encode_body(private)) == zlib.decompress(body)


def test_the_demo_estates_linux_hosts_and_the_rest_store_the_same_text() -> None:
    demo = generate(devices=60, sites=3, seed=11, as_of=date(2026, 11, 30))
    for inv in [*demo.current, *demo.previous]:
        body, exact = encode_checked(inv)
        assert zlib.decompress(body) == (
            compact_json(inv).encode("utf-8") if exact else storable_json(compact_json(inv))
        )


def test_a_nul_or_a_lone_surrogate_is_encoded_as_before() -> None:
    build = _build()
    for inv in (
        _host("nul\x00name", build),
        _host("lone\udcffsurrogate", build),
        _host("deb", [*build, Software(name="bad\x00pkg", version="1", source="dpkg")]),
    ):
        assert _spliced_body(inv) is None
        body, exact = encode_checked(inv)
        assert not exact
        text = zlib.decompress(body)
        assert b"\\u0000" not in text and text == storable_json(compact_json(inv).encode("utf-8", "replace"))


def test_adler32_combine_is_zlibs_checksum_of_the_joined_bytes() -> None:
    """The body's trailer is made from the package list's checksum (made once per list) and the
    head's and tail's: equal to the checksum of the whole text, for lengths around the modulus."""
    import random

    rng = random.Random(12)
    sizes = [0, 1, 2, 100, 65520, 65521, 65522, 131042, 200_003]
    for a_len in sizes:
        for b_len in sizes:
            a = rng.randbytes(a_len)
            b = (b"\xff" * b_len) if b_len % 2 else rng.randbytes(b_len)  # all 0xff: the sums' largest
            want = zlib.adler32(a + b)
            assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == want, (a_len, b_len)


@pytest.mark.parametrize(
    "text",
    [
        '","software":"',  # what a field separator and the list's name look like inside a value
        "\x00software-0123456789abcdef0123456789abcdef\x00",  # the shape of the random mark used before
        '"\\u0000software\\"]}',
        "\ud800 lone surrogate",
        "",
    ],
)
def test_the_list_is_placed_by_encoding_around_it_not_by_finding_a_mark(text: str) -> None:
    """The document is written in two runs, before and after the package list, by the JSON encoder
    itself (``_around``): no text a host reports can be taken for the list's place, and the
    result is the document's compact JSON exactly, for the splice, the fast encoder and the
    upload path's ``encode_with_software`` alike."""
    from scanner.store.sqlite import _around, _json, encode_with_software, fast_compact_json

    build = _build()
    inv = _host(text or "h", build[:40], note=text)
    inv.os.facts.update({"software": text, text or "k": [text, {"software": text}]})
    inv.host.tags = [text, "software"]
    assert fast_compact_json(inv) == compact_json(inv)
    body, exact = encode_checked(copy.deepcopy(inv))
    assert decode_body(body) == decode_body(encode_body(inv))
    header = replace(inv, software=[])
    listed = _json([sw for sw in inv.software]).encode("utf-8", "replace")
    assert decode_body(encode_with_software(header, listed)) == decode_body(body)
    top = {"a": text, "software": None, "z": {"software": text}}
    for value in ([], [text], {"k": text}, text):
        head, tail = _around(top, "software")
        assert head + _json(value) + tail == _json({**top, "software": value})
    assert _around({"software": 1}, "software") == ('{"software":', "}")
