"""The one memoising wrapper of identification: a pure function of a record, remembered by the
whole record.

The identifiers (``IdentifyContext.identify``'s work) and ``eol identify``'s contract answers
(``scanner.identify.answers``) are pure functions of a record, given the catalogue, the rules, the
date and the policy.  An estate has far fewer distinct records than hosts (thousands of PCs share
the same Chrome build), so both are asked through :class:`Remembered`: the key is the *whole*
record (:func:`record_key`: every field name, value and the type of every value), never a chosen
subset of its fields -- a subset is an assumption about what the identifiers read, and when it was
wrong records shared another's answer (44c18a9).  Each wrapper is an object its owner keeps (a
context, one ``eol identify`` run): nothing here is module state.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

REMEMBERED = 500_000  # answers a wrapper keeps (an estate has a few thousand distinct records)

_SCALARS = frozenset({str, int, float, bool, type(None)})


class Answering(Protocol[T_co]):
    """A pure function of one record (a JSON value), as an object: ``answer(record)``."""

    def answer(self, record: Any) -> T_co: ...


def record_key(record: dict[str, Any]) -> Hashable | None:
    """The whole record as a dictionary key: equal keys only for records equal field by field and
    type by type (``1``, ``1.0`` and ``true`` are three keys), the order of the fields included
    (the same fields in another order are another key: answered again, never wrongly).  None for a
    record holding a value that cannot be a key (a set...): it is answered, not remembered."""
    values = record.values()
    types = tuple(map(type, values))
    if _SCALARS.issuperset(types):  # a flat record, the common case: names, values, their types
        return (*record, *values, *types)
    try:
        key = _frozen(record)
        hash(key)
    except (TypeError, RecursionError):
        return None
    return key


def _frozen(value: Any) -> Hashable:
    """``value`` (nested dicts and lists included) as a hashable value tagged with its types."""
    if type(value) is dict:
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if type(value) in (list, tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


def _as_given(record: dict[str, Any]) -> dict[str, Any]:
    return record


class Remembered(Generic[T]):
    """``inner``'s answers remembered by the whole record as ``normalize`` reads it
    (:func:`record_key`).

    Correct for any ``inner`` that is a function of the record alone: two records get one answer
    only when every field of them, as the identifiers read them, is the same.  ``copy``: what each
    caller is handed of a remembered answer (``dict`` for a mutable answer; None: the answer itself,
    for an immutable one such as an ``Identification``).  A record that is not an object, or holds a
    value that cannot be a key, is answered and not remembered; at most ``limit`` answers are kept.
    Safe for concurrent callers: a lost race computes the answer twice.  (``answer`` is made here as
    a closure: it runs once per record of an estate, and reads its state faster that way.)"""

    __slots__ = ("answer", "_answers")

    def __init__(
        self,
        inner: Answering[T],
        limit: int = REMEMBERED,
        *,
        normalize: Callable[[dict[str, Any]], dict[str, Any]] = _as_given,
        copy: Callable[[T], T] | None = None,
    ) -> None:
        answers: dict[Hashable, T] = {}
        self._answers = answers
        ask = inner.answer

        def remembered(record: Any) -> T:
            key = record_key(normalize(record)) if type(record) is dict else None
            if key is None:
                return ask(record)
            hit = answers.get(key)
            if hit is None:
                hit = ask(record)
                if len(answers) < limit:
                    answers[key] = hit
            return hit

        self.answer: Callable[[Any], T] = remembered
        if copy is not None:
            hand_out: Callable[[T], T] = copy

            def copied(record: Any) -> T:  # ``remembered``, inlined: the hot loop of eol identify
                key = record_key(normalize(record)) if type(record) is dict else None
                if key is None:
                    return ask(record)
                hit = answers.get(key)
                if hit is None:
                    hit = ask(record)
                    if len(answers) < limit:
                        answers[key] = hit
                return hand_out(hit)

            self.answer = copied

    def __len__(self) -> int:
        return len(self._answers)
