"""``IdentifyContext.identify``: the pure identifiers asked through the one memoising wrapper.

``registry.identification(record, ctx)`` is the pure function; the context remembers its answers
(``scanner.identify.remember.Remembered``) by the whole normalised record, per context.  Inputs:
the labelled corpus's real OS records and Windows software records.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify import registry
from scanner.identify.registry import IdentifyContext, identification
from scanner.identify.remember import Remembered
from tests.corpus_input import os_record_from_corpus, software_record_from_corpus

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


def _records() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, make in (
        ("os_records.jsonl", os_record_from_corpus),
        ("windows_software.jsonl", software_record_from_corpus),
    ):
        for line in (CORPUS / name).read_text("utf-8").splitlines():
            rec = json.loads(line)
            out.append(make(rec["raw"], rec.get("raw_format", "")))
    return out


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    found = _records()
    assert len(found) > 200
    return found


def test_remembered_identifications_equal_the_pure_function_in_any_order(records: list[dict[str, Any]]) -> None:
    pure_ctx = IdentifyContext(Catalog())
    expected = [identification(r, pure_ctx) for r in records]
    ctx = IdentifyContext(Catalog())
    order = list(range(len(records))) * 2
    random.Random(7).shuffle(order)
    assert all(ctx.identify(records[i]) == expected[i] for i in order)
    assert len(ctx._identified) <= len(records)  # noqa: SLF001 - one answer per distinct record


def test_each_distinct_record_is_identified_once_per_context(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    real = registry._dispatch  # noqa: SLF001

    def counting(record: dict[str, Any], ctx: IdentifyContext) -> Any:
        asked.append(str(record.get("name") or record.get("caption")))
        return real(record, ctx)

    monkeypatch.setattr(registry, "_dispatch", counting)
    ie = {"kind": "software", "name": "Internet Explorer 11", "version": "11.0.17763.1", "publisher": "Microsoft"}
    client = {**ie, "host_os": {"family": "windows", "caption": "Microsoft Windows 10 Pro", "version": "10.0.19045"}}
    server = {**ie, "host_os": {"family": "windows", "caption": "Microsoft Windows Server 2019 Standard"}}
    ctx = IdentifyContext(Catalog())
    first = [ctx.identify(dict(r)) for r in (client, server, ie)]
    again = [ctx.identify(json.loads(json.dumps(r))) for r in (client, server, ie)]
    assert first == again and len({(i.product, i.cycle, i.rule) for i in first}) > 1  # host_os is part of the record
    assert asked.count("Internet Explorer 11") == 3  # each record once, however often asked
    assert sum(a.startswith("Microsoft Windows") for a in asked) == 2  # each host OS once too
    # another context (another catalogue or rules could answer otherwise) remembers nothing of this one's
    other = IdentifyContext(Catalog())
    assert other.identify(ie) == first[2] and asked.count("Internet Explorer 11") == 4
    # a field of another type is another record
    ctx.identify({**ie, "system_component": 1})
    ctx.identify({**ie, "system_component": True})
    assert asked.count("Internet Explorer 11") == 6


def test_the_wrapper_hands_out_copies_only_when_told() -> None:
    class Count:
        def __init__(self) -> None:
            self.asked = 0

        def answer(self, record: Any) -> list[int]:
            self.asked += 1
            return [self.asked]

    inner = Count()
    same: Remembered[list[int]] = Remembered(inner)
    assert same.answer({"a": 1}) is same.answer({"a": 1}) and inner.asked == 1
    copied: Remembered[list[int]] = Remembered(inner, copy=list)
    handed = copied.answer({"a": 1})
    handed.append(99)
    assert copied.answer({"a": 1}) == [2] and inner.asked == 2
    assert same.answer({"a": 1, "b": {"c"}}) == [3] and same.answer({"a": 1, "b": {"c"}}) == [4]  # no key
    limited: Remembered[list[int]] = Remembered(inner, limit=1)
    limited.answer({"x": 1})
    limited.answer({"y": 1})
    assert len(limited) == 1
