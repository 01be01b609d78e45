"""Where a key is defined in a TOML text: tomllib gives values, not positions, so error messages
that name a file's line (the site catalogue, the identification rules) look the key path up here.

Tracks ``[table]`` / ``[[array]]`` headers and ``key =`` lines in one pass; multi-line strings are
skipped over well enough for the shapes these files use.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]


def fmt_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _strip_key(raw: str) -> list[str]:
    """Split a dotted TOML key on the dots outside quotes, in one pass (the former look-ahead
    regex re-scanned the rest of the line at every dot: quadratic, #19 item 17)."""
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    for ch in raw:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            buf.append(ch)
        elif ch == ".":
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf).strip())
    return [_unquote(p) for p in parts]


def _unquote(part: str) -> str:
    return part[1:-1] if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'" else part


def _key_and_value(line: str) -> tuple[str, str] | None:
    """``key = value`` of a stripped line, scanning once (bare key characters, quoted parts and
    spaces up to the ``=``); None when the line is not a key line."""
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in "\"'":
            end = line.find(ch, i + 1)
            if end < 0:
                return None
            i = end + 1
        elif ch == "=":
            key = line[:i].rstrip()
            return (key, line[i + 1 :].lstrip()) if key else None
        elif ch.isascii() and (ch.isalnum() or ch in "_.- \t"):
            i += 1
        else:
            return None
    return None


def line_index(text: str) -> dict[KeyPath, int]:
    """Map key paths to the line that defines them, for error messages (tomllib gives no positions).

    Tracks ``[table]`` / ``[[array]]`` headers and ``key =`` lines; multi-line strings and arrays
    are skipped over well enough for the shapes this file uses.
    """
    index: dict[KeyPath, int] = {}
    counters: dict[tuple[str, ...], int] = {}
    current: KeyPath = ()
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if in_multiline:
            if in_multiline in stripped:
                in_multiline = None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        header = _header_path(stripped, counters)
        if header is not None:
            current = header
            index.setdefault(current, lineno)
            continue
        kv = _key_and_value(stripped)
        if kv:
            index.setdefault(current + tuple(_strip_key(kv[0])), lineno)
            in_multiline = _opens_multiline(kv[1])
    return index


def _header_path(stripped: str, counters: dict[tuple[str, ...], int]) -> KeyPath | None:
    """The key path a ``[[array]]`` (counted in ``counters``) or ``[table]`` header opens."""
    m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", stripped)
    if m:
        names = tuple(_strip_key(m.group(1)))
        counters[names] = counters.get(names, -1) + 1
        for other in list(counters):  # nested arrays restart under a new parent element
            if len(other) > len(names) and other[: len(names)] == names:
                del counters[other]
        path: list[str | int] = []
        for i in range(1, len(names) + 1):
            path.append(names[i - 1])
            if names[:i] in counters:
                path.append(counters[names[:i]])
        return tuple(path)
    m = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
    return tuple(_strip_key(m.group(1))) if m else None


def _opens_multiline(value: str) -> str | None:
    """The quote of a multi-line string the value opens and does not close, if any."""
    for quote in ('"""', "'''"):
        if value.startswith(quote) and value.count(quote) == 1:
            return quote
    return None
