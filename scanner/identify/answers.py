"""``legacyscan eol identify``'s work: records in, contract answers out, remembered in one place.

The identifiers and ``scanner.identify.registry.evaluate`` are pure functions of a record (with the
catalogue, the rules, the date and the policy).  What makes ``eol identify`` fast on an estate --
the same few thousand applications on every machine -- sits behind the :class:`Answers` seam, in
one memoising wrapper, :class:`Remembered`, keyed by the *whole* normalised record (``host_os``
included, as it was given).  A key made of a chosen subset of the fields is an assumption about
what the identifiers read; when it was wrong, records shared another's answer (44c18a9).

:func:`identify_stream` is the JSON Lines loop of the contract (one answer line per input line, in
order, flushed per burst).  Its one memo is below the record: identical input *bytes* get the
identical output bytes, which needs no knowledge of the fields at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Protocol

from scanner.identify.registry import IdentifyContext, evaluate, normalize_record
from scanner.identify.remember import REMEMBERED
from scanner.identify.remember import Remembered as _Remembered
from scanner.model import Policy

MAX_LINE_BYTES = 1024 * 1024  # a Linux OS record with every release file is a few kB
READ_CHUNK = 256 * 1024
LINE_MEMO_BYTES = 64 * 1024 * 1024  # memory budget for remembered lines and their answers
LINE_MEMO_LINE_BYTES = 4096  # longer lines are answered but not remembered


class Answers(Protocol):
    """What answers one ``eol identify`` record (a JSON value): the contract's answer object, or
    ``{"error": ...}`` for a record that is not one."""

    def answer(self, record: Any) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The pure answers of one run: ``evaluate`` with its context, date and policy fixed."""

    ctx: IdentifyContext
    as_of: date
    policy: Policy

    def answer(self, record: Any) -> dict[str, Any]:
        return evaluate(record, self.ctx, self.as_of, self.policy)


class Remembered(_Remembered[dict[str, Any]]):
    """``inner``'s answers remembered by the whole normalised record (``registry.record_key``): the
    one memoising wrapper (``scanner.identify.remember``) as ``eol identify`` uses it.

    Correct for any ``inner`` that is a function of the record alone, as :class:`Evaluation` is:
    two records get one answer only when every field of them, as the identifiers read them, is the
    same.  Each caller gets its own copy of an answer."""

    __slots__ = ()

    def __init__(self, inner: Answers, limit: int = REMEMBERED) -> None:
        super().__init__(inner, limit, normalize=normalize_record, copy=dict)


# -- the JSON Lines loop ----------------------------------------------------------------------------

_EMPTY = "empty line (expected one JSON object per line)"


def _error_line(lineno: int, message: str) -> bytes:
    return (json.dumps({"error": f"line {lineno}: {message}"}) + "\n").encode()


def answer_line(line: bytes, lineno: int, answer: Callable[[Any], dict[str, Any]]) -> bytes:
    """The output line (newline included) for one input line (without its newline)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line.strip():
        return _error_line(lineno, _EMPTY)
    if len(line) > MAX_LINE_BYTES:
        return _error_line(lineno, f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return _error_line(lineno, f"not valid JSON: {exc.msg} at column {exc.colno}")
    except (ValueError, RecursionError) as exc:  # bad UTF-8, absurd nesting
        return _error_line(lineno, f"not valid JSON: {type(exc).__name__}: {str(exc)[:200]}")
    try:
        result = answer(record)
    except Exception as exc:  # noqa: BLE001 - one bad record must not end a million-line run
        return _error_line(lineno, f"internal error identifying this record: {type(exc).__name__}: {str(exc)[:200]}")
    if "error" in result:
        return _error_line(lineno, str(result["error"]))
    return (json.dumps(result) + "\n").encode()


class _LineMemo:
    """Output bytes by input bytes, within a memory budget (error lines name their line number,
    so they are never remembered)."""

    __slots__ = ("lines", "budget")

    def __init__(self) -> None:
        self.lines: dict[bytes, bytes] = {}
        self.budget = LINE_MEMO_BYTES

    def keep(self, line: bytes, out: bytes) -> None:
        if self.budget > 0 and len(line) <= LINE_MEMO_LINE_BYTES and not out.startswith(b'{"error"'):
            self.lines[line] = out
            self.budget -= len(line) + len(out) + 100


def identify_stream(reader: IO[bytes], writer: IO[bytes], answer: Callable[[Any], dict[str, Any]]) -> int:
    """The ``eol identify`` loop over byte streams; returns the number of lines answered.

    Reads whatever input is available (``read1``), answers every complete line in it, then writes
    and flushes once: one flush per burst, not per line, so a co-process gets its answer at once
    and a million-line file is not a million system calls.  ``answer`` is called with each parsed
    line (give it a :class:`Remembered`'s ``answer`` for an estate's repetition)."""
    memo = _LineMemo()
    pending = b""
    skipping = False  # inside a line longer than MAX_LINE_BYTES: drop it, answer once at its end
    lineno = 0
    read1 = getattr(reader, "read1", reader.read)

    def one(line: bytes) -> bytes:
        hit = memo.lines.get(line)
        if hit is None:
            hit = answer_line(line, lineno, answer)
            memo.keep(line, hit)
        return hit

    while True:
        chunk = read1(READ_CHUNK)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
        pending = lines.pop()
        answers: list[bytes] = []
        for line in lines:
            lineno += 1
            if skipping:
                skipping = False
                answers.append(_error_line(lineno, f"line longer than {MAX_LINE_BYTES} bytes"))
            else:
                answers.append(one(line))
        if skipping or len(pending) > MAX_LINE_BYTES:
            skipping, pending = True, b""
        if answers:
            writer.write(b"".join(answers))
            writer.flush()
    if skipping:
        lineno += 1
        writer.write(_error_line(lineno, f"line longer than {MAX_LINE_BYTES} bytes"))
    elif pending:
        lineno += 1
        writer.write(one(pending))
    writer.flush()
    return lineno
