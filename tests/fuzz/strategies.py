"""Input generators shared by the fuzz tests: hostile text, and real-looking seeds mutated.

Pure random text rarely gets past a parser's first check, so most inputs are a realistic seed
(the shape a real host or file has) with a few random edits: characters inserted, deleted or
replaced by ones parsers trip on (NUL, CR, separators, quotes, brackets, lone surrogates, bidi
and escape characters, huge numbers).
"""

from __future__ import annotations

from hypothesis import strategies as st

NASTY = list("\x00\r\n\t =:;,.[]{}()\"'#@+-/\\|<>*?%&$!~`^") + [
    "\ud800",
    "\udfff",
    "\u202e",
    "\x1b",
    "\u00a0",
    "\ufeff",
    "\u2028",
    "é",
    "😀",
    "99999999999999999999",
    "-1",
    "0",
    "true",
    "null",
    "[[",
    "]]",
    "\\u0000",
    "\x85",
    "\x0b",
    "\x0c",
]

any_char = st.characters(codec=None, exclude_categories=())
hostile_token = st.one_of(any_char, st.sampled_from(NASTY))
hostile_text = st.lists(hostile_token, max_size=200).map("".join)
hostile_piece = st.lists(hostile_token, min_size=1, max_size=6).map("".join)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str], max_edits: int = 6) -> str:
    """A seed with up to ``max_edits`` random edits (insert / delete / replace / duplicate)."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, max_edits))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup"]))
        piece = draw(hostile_piece)
        if op == "insert":
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(piece) :]
        elif op == "replace":
            text = text[:pos] + piece + text[pos + len(piece) :]
        else:
            end = draw(st.integers(pos, min(len(text), pos + 200)))
            text = text[:end] + text[pos:end] * draw(st.integers(1, 3)) + text[end:]
    return text


def inputs(seeds: list[str]) -> st.SearchStrategy[str]:
    """Mostly mutated seeds, sometimes raw hostile text."""
    return st.one_of(mutated(seeds), mutated(seeds, 30), hostile_text)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(hostile_text, inner, max_size=5)),
    max_leaves=25,
)
