"""The host-output parsers keep no state between calls: no module-level memo, no cache decorator.

A memo of parsed records lives behind a seam its caller owns (``agents.linux.PackageMemo``, one
per fleet scan), never in a module global a second scan, a test or another thread would share.
The check reads the modules' syntax: a function that writes into a module-level container (by
subscript, by a mutating method, or through a local name bound to it), declares ``global``, or is
decorated with a cache.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The modules that turn a host's output into records (the agents' collectors and parsers).
PARSER_MODULES = (
    "agents/linux.py",
    "agents/unix.py",
    "agents/macos.py",
    "agents/collect.py",
    "agents/probes.py",
    "agents/bundle.py",
    "agents/hardware.py",
    "agents/textsafe.py",
    "agents/capture.py",
)
MUTATORS = frozenset(
    {"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "setdefault", "add", "discard", "put"}
)


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _root(node: ast.expr) -> str | None:
    """The name an expression reads through (``_LINES[kind]`` -> ``_LINES``)."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def state_kept(source: str) -> list[str]:
    """What in ``source`` keeps state between calls (empty for a stateless module)."""
    tree = ast.parse(source)
    module = _module_names(tree)
    found: list[str] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        found.extend(f"{fn.name}: @{ast.unparse(d)}" for d in fn.decorator_list if "cache" in ast.unparse(d))
        tracked = set(module)
        for node in ast.walk(fn):  # local names bound to a module-level container
            if isinstance(node, ast.Assign) and _root(node.value) in module:
                tracked.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(fn):
            if isinstance(node, ast.Global):
                found.append(f"{fn.name}: global {', '.join(node.names)}")
            targets = (
                node.targets
                if isinstance(node, (ast.Assign, ast.Delete))
                else [node.target]
                if isinstance(node, ast.AugAssign)
                else []
            )
            found.extend(
                f"{fn.name}: writes {_root(t)}"
                for t in targets
                if isinstance(t, (ast.Subscript, ast.Attribute)) and _root(t) in tracked
            )
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                if _root(node.func.value) in tracked:
                    found.append(f"{fn.name}: {_root(node.func.value)}.{node.func.attr}()")
    return found


def test_no_parser_module_keeps_state_between_calls() -> None:
    kept = {path: state_kept((ROOT / path).read_text("utf-8")) for path in PARSER_MODULES}
    assert {path: found for path, found in kept.items() if found} == {}


def test_no_identification_module_keeps_state_between_calls() -> None:
    """The identifiers are pure; their memo is an object its owner keeps (``IdentifyContext``,
    ``eol identify``'s run: ``scanner.identify.remember.Remembered``)."""
    kept = {
        path.relative_to(ROOT).as_posix(): state_kept(path.read_text("utf-8"))
        for path in sorted((ROOT / "scanner" / "identify").glob("*.py"))
    }
    assert len(kept) > 10 and {path: found for path, found in kept.items() if found} == {}


def test_the_check_finds_the_memos_the_linux_parsers_had() -> None:
    """The module-level line and answer memos agents/linux.py kept before (and their variants)."""
    old = """
_LINES: dict = {"dpkg": {}}
_SHARED: dict = {}
_TEXTS: dict = {}
def _remembered(memo, line, record):
    memo[line] = record
    _SHARED[id(record)] = record
def _parsed_text(text, kind):
    memo = _TEXTS[kind]
    memo[text] = ()
def _parsed(items, kind):
    memo = _LINES[kind]
    memo.setdefault(items[0], None)
_ARRAYS = BuildMemo()
def array(software):
    _ARRAYS.put(software, "[]")
@functools.lru_cache(maxsize=None)
def parse(text):
    return text
def reset():
    global _LINES
    _LINES = {}
"""
    found = state_kept(old)
    assert "_remembered: writes _SHARED" in found
    assert "_parsed_text: writes memo" in found  # through a local name bound to _TEXTS[kind]
    assert "_parsed: memo.setdefault()" in found and "array: _ARRAYS.put()" in found
    assert "parse: @functools.lru_cache(maxsize=None)" in found and "reset: global _LINES" in found
    assert state_kept("def f(text):\n    out = {}\n    out['a'] = text\n    return out\n") == []
