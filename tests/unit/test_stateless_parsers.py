"""The host-output parsers keep no state between calls: no module-level memo, no cache decorator.

A memo of parsed records lives behind a seam its caller owns (``agents.linux.PackageMemo``, one
per fleet scan), never in a module global a second scan, a test or another thread would share.
The check reads the modules' syntax: a function that writes into a module-level container (by
subscript, by a mutating method, or through a local name bound to it), declares ``global``, or is
decorated with a cache; and a module-level name bound to an empty container (``{}``, ``[]``,
``dict()``...: there only to be filled at run time, e.g. handed to a helper that fills it).
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


def _empty_container(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, (ast.List, ast.Set)):
        return not value.elts
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("dict", "list", "set", "defaultdict", "OrderedDict", "deque")
        and not value.args
        and not value.keywords
    )


def _module_empties(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and _empty_container(node.value):
            found.extend(f"module: {t.id} is an empty container" for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and _empty_container(node.value):
            found.append(f"module: {node.target.id} is an empty container")
    return found


def state_kept(source: str) -> list[str]:
    """What in ``source`` keeps state between calls (empty for a stateless module)."""
    tree = ast.parse(source)
    module = _module_names(tree)
    found: list[str] = _module_empties(tree)
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


# What scanner/judge/* may keep: the installed release's fingerprint (a digest of legacyscan's
# version and its bundled rules files, read once: a constant of the installation, not an answer
# about any input; ``Judge``/``StoredResults`` take another one as a parameter).
JUDGE_ALLOWED = {"scanner/judge/fingerprint.py": ["installed: @lru_cache(maxsize=1)"]}


def test_no_judge_module_keeps_state_between_calls() -> None:
    """Matching, distribution judgement and status ranges are pure; their memos are objects the
    run owns (``MatchMemo``, its ``DistroMemo``, the ``Judge``'s OS releases)."""
    kept = {
        path.relative_to(ROOT).as_posix(): state_kept(path.read_text("utf-8"))
        for path in sorted((ROOT / "scanner" / "judge").glob("*.py"))
    }
    assert len(kept) >= 6 and {path: found for path, found in kept.items() if found} == JUDGE_ALLOWED


def test_the_check_finds_the_memos_the_judge_had() -> None:
    """The module-level memos scanner/judge/* kept before (match.shared_memo, the build-origin,
    support-list, apt and lifecycle memos, timeline's OS releases by inventory identity)."""
    old = """
_LAST_MEMO: list[MatchMemo] = []
def shared_memo(ctx, as_of, policy):
    memo = MatchMemo(ctx, as_of, policy)
    _LAST_MEMO[:] = [memo]
    return memo
_ORIGIN_MEMO: dict[tuple[str, str], tuple[str, str]] = {}
def build_origin(dist, sw):
    hit = _build_origin(dist, sw)
    if len(_ORIGIN_MEMO) > 200_000:
        _ORIGIN_MEMO.clear()
    _ORIGIN_MEMO[(dist.label, sw.version)] = hit
    return hit
_APT_MEMO: dict[str, AptSupport] = {}
def _memo_parse(memo, text, parse):
    memo[text] = parse(text)
    return memo[text]
def apt_support(text):
    return _memo_parse(_APT_MEMO, text, parse_apt_support)
_OS_RELEASE = dict()
def _os_release(inv, ctx):
    _OS_RELEASE[id(inv)] = (inv, ctx.identify(inv.os.identify_record()))
"""
    found = state_kept(old)
    assert "shared_memo: writes _LAST_MEMO" in found and "build_origin: _ORIGIN_MEMO.clear()" in found
    assert "build_origin: writes _ORIGIN_MEMO" in found and "_os_release: writes _OS_RELEASE" in found
    assert "module: _APT_MEMO is an empty container" in found  # filled through a helper's parameter
    assert "module: _LAST_MEMO is an empty container" in found and "_memo_parse: writes memo" not in found
    assert state_kept("TABLE = {'a': 1}\nNAMES = ('x',)\ndef f(memo):\n    memo['a'] = 1\n") == []


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
