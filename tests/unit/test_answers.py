"""``scanner.identify.answers``: eol identify's one memo, keyed by the whole normalised record."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from eol_data.catalog import Catalog
from scanner.identify.answers import Evaluation, Remembered, identify_stream
from scanner.identify.registry import IdentifyContext, evaluate, record_key
from scanner.model import Policy


class Echo:
    """A pure ``Answers`` whose answer is everything it was given (and how often it was asked)."""

    def __init__(self) -> None:
        self.asked = 0

    def answer(self, record: Any) -> dict[str, Any]:
        self.asked += 1
        values = record.values() if isinstance(record, dict) else []
        seen = json.dumps(record, sort_keys=True, default=sorted)
        return {"seen": seen, "types": sorted(type(v).__name__ for v in values)}


def test_records_differing_in_any_field_or_its_type_get_their_own_answer() -> None:
    """The memo holds no list of the fields that matter: a field the old key left out (``arch``,
    ``install_location``, a nested ``host_os``) or a value of another JSON type (1, 1.0, true)
    is another record."""
    sw = {"kind": "software", "name": "Internet Explorer 11", "version": "11.0.17763.1"}
    variants = [
        sw,
        {**sw, "arch": "x86"},
        {**sw, "install_location": "C:\\Program Files\\Internet Explorer"},
        {**sw, "host_os": {"family": "windows", "caption": "Microsoft Windows 10 Pro"}},
        {**sw, "host_os": {"family": "windows", "caption": "Microsoft Windows Server 2019 Standard"}},
        {**sw, "host_os": "Windows Server 2019"},
        {**sw, "system_component": 1},
        {**sw, "system_component": 1.0},
        {**sw, "system_component": True},
        {**sw, "host_os": {"family": "windows", "build": 17763}},
        {**sw, "host_os": {"family": "windows", "build": 17763.0}},
    ]
    inner = Echo()
    memo = Remembered(inner)
    first = [memo.answer(dict(v)) for v in variants]
    again = [memo.answer(json.loads(json.dumps(v))) for v in variants]
    assert first == again == [inner.answer(v) for v in variants]
    assert len({a["seen"] + str(a["types"]) for a in first}) == len(variants)
    assert inner.asked == 2 * len(variants)  # every variant computed once by the memo, once here


def test_a_record_read_through_another_tools_names_is_keyed_as_it_is_read() -> None:
    """Normalised first: "DisplayName" and the contract's "name" are one record when the reading
    of the one is the other; two records under other tools' names never share an answer."""
    inner = Echo()
    memo = Remembered(inner)
    a = memo.answer({"kind": "software", "DisplayName": "7-Zip 19.00"})
    b = memo.answer({"kind": "software", "DisplayName": "7-Zip 22.01"})
    assert a != b
    assert inner.asked == 2


def test_an_answer_handed_out_is_a_copy_and_unkeyable_records_are_answered() -> None:
    inner = Echo()
    memo = Remembered(inner)
    rec = {"kind": "software", "name": "x"}
    memo.answer(rec)["seen"] = "changed by a caller"
    assert memo.answer(rec)["seen"] != "changed by a caller"
    odd = {"kind": "software", "name": "x", "tags": {"a"}}  # a set: no key, answered every time
    assert record_key(odd) is None
    memo.answer(odd)
    memo.answer(odd)
    assert inner.asked == 3
    assert memo.answer([1, 2])["types"] == []  # not a record: passed through (the inner answers it)


def test_remembered_answers_equal_evaluate_in_any_order() -> None:
    ctx = IdentifyContext(Catalog())
    as_of, policy = date(2026, 11, 22), Policy()
    ie = {"kind": "software", "name": "Internet Explorer 11", "version": "11.0.17763.1", "publisher": "Microsoft"}
    records: list[Any] = [
        {**ie, "host_os": {"family": "windows", "caption": "Microsoft Windows 10 Pro", "version": "10.0.19045"}},
        {**ie, "host_os": {"family": "windows", "caption": "Microsoft Windows Server 2019 Standard"}},
        {"kind": "software", "Name": "7-Zip 19.00", "Version": "19.00"},
        {"kind": "software", "Name": "Microsoft Visual C++ 2015 x64 Minimum Runtime - 14.0.24215", "Version": "14.0"},
        {"kind": "os", "family": "windows", "caption": "Microsoft Windows 7 Professional", "build": "7601"},
        {"kind": "nope"},
        "not an object",
    ]
    expected = [evaluate(r, IdentifyContext(Catalog()), as_of, policy) for r in records]
    memo = Remembered(Evaluation(ctx, as_of, policy))
    assert [memo.answer(r) for r in records + records[::-1]] == expected + expected[::-1]


def test_the_stream_remembers_lines_but_never_an_error_line_numbered_for_another() -> None:
    inner = Echo()
    lines = [b'{"kind": "software", "name": "x"}', b"", b"{bad", b'{"kind": "software", "name": "x"}', b"", b"{bad"]
    out = io.BytesIO()
    assert identify_stream(io.BytesIO(b"\n".join(lines) + b"\n"), out, Remembered(inner).answer) == 6
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0] == answers[3]
    assert [a.get("error", "")[:7] for a in answers] == ["", "line 2:", "line 3:", "", "line 5:", "line 6:"]
    assert inner.asked == 1
