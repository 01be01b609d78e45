"""The host-output parsers keep no state between calls: no module-level memo, no cache decorator.

A memo of parsed records lives behind a seam its caller owns (``agents.linux.PackageMemo``, one
per fleet scan), never in a module global a second scan, a test or another thread would share.
The check reads the modules' syntax: a function that writes into a module-level container (by
subscript, by a mutating method, or through a local name bound to it), declares ``global``, or is
decorated with a cache; a module-level name bound to an empty container (``{}``, ``[]``,
``dict()``...: there only to be filled at run time, e.g. handed to a helper that fills it); and a
module-level instance of a class whose methods change the instance (``RECORDS = SoftwareRecords()``).

It covers the whole of ``scanner/`` and ``agents/`` (``test_no_module_keeps_state_between_calls``),
with an explicit allow-list (``ALLOWED``) saying why each entry is no memo of a run's inputs.  The
one interface for a value made once from what the package ships (a rules file, the collection
script) is ``agents.packaged.Packaged``: its module-level instances are what it is for.
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


def _empties(body: list[ast.stmt], where: str) -> list[str]:
    found: list[str] = []
    for node in body:
        if isinstance(node, ast.Assign) and _empty_container(node.value):
            found.extend(f"{where}: {t.id} is an empty container" for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and _empty_container(node.value):
            found.append(f"{where}: {node.target.id} is an empty container")
    return found


def _module_empties(tree: ast.Module) -> list[str]:
    """Empty containers bound at module level, or in a class body (shared by every instance)."""
    found = _empties(tree.body, "module")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            found.extend(_empties(node.body, f"class {node.name}"))
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


# Methods that set an instance up rather than change it later.
SETUP = frozenset({"__init__", "__post_init__", "__new__", "__set_name__", "__init_subclass__"})
# The one interface for a value read once from the installed package (see agents/packaged.py).
PACKAGED = "Packaged"


def _changes_self(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The method assigns to, deletes or mutates something of ``self`` (``self.x = ...``,
    ``self.memo[k] = ...``, ``self.memo.clear()``)."""
    for node in ast.walk(method):
        targets = (
            node.targets
            if isinstance(node, (ast.Assign, ast.Delete))
            else [node.target]
            if isinstance(node, (ast.AugAssign, ast.AnnAssign))
            else []
        )
        if any(isinstance(t, (ast.Subscript, ast.Attribute)) and _root(t) == "self" for t in targets):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            if isinstance(node.func.value, (ast.Attribute, ast.Subscript)) and _root(node.func.value) == "self":
                return True
    return False


def stateful_classes(sources: list[str]) -> set[str]:
    """Names of the classes (in ``sources``) that a method other than their set-up changes."""
    found: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name not in SETUP and _changes_self(m)
                for m in node.body
            ):
                found.add(node.name)
    return found


def instances_kept(source: str, stateful: set[str]) -> list[str]:
    """Module-level names bound to an instance of a class in ``stateful`` (``Packaged`` excepted)."""
    found: list[str] = []
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or not isinstance(node.value, ast.Call):
            continue
        func = node.value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in stateful and name != PACKAGED:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.extend(f"module: {t.id} is a {name}" for t in targets if isinstance(t, ast.Name))
    return found


def kept_in(paths: list[Path]) -> dict[str, list[str]]:
    """What each module in ``paths`` keeps between calls (modules that keep nothing left out)."""
    sources = {path.relative_to(ROOT).as_posix(): path.read_text("utf-8") for path in paths}
    stateful = stateful_classes(list(sources.values()))
    kept = {path: state_kept(source) + instances_kept(source, stateful) for path, source in sources.items()}
    return {path: found for path, found in kept.items() if found}


# What scanner/ and agents/ may keep at module level, and why none of it is a memo of a run's inputs.
ALLOWED = {
    # Why psutil could not be made importable from the zipapp: a fact about this process's own
    # imports (sys.path and sys.modules are the process's by nature), set once when the agent starts.
    "agents/native.py": ["provide: global MISSING"],
    # One timer thread per process for the deadlines of calls in flight: a service, not a memo; it
    # holds nothing after the call it guards returns (or its deadline fires).
    "agents/watchdog.py": ["module: WATCHDOG is a Watchdog"],
    # The identifier functions, imported on first use so a Linux-only estate never loads the Windows
    # tables: code, not answers (the modules are in sys.modules anyway); answers are remembered by the
    # run's IdentifyContext / Remembered.
    "scanner/identify/registry.py": ["module: _OS is a _Registry", "module: _SW is a _Registry"],
}


def _product_modules() -> list[Path]:
    return sorted(p for d in ("scanner", "agents") for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_keeps_state_between_calls() -> None:
    """No module of scanner/ or agents/ keeps a memo, a cache or a ``global`` between calls: what a
    run remembers is an object that run owns and passes (an import's ``ImportRun``, a discovery's
    ``ProbeSettings.tls``, a scan's ``PackageMemo``, a store's ``BodyEncoder``, a ``MatchMemo``...);
    what is read once from the installed package is a ``Packaged`` value."""
    modules = _product_modules()
    assert len(modules) > 130
    assert kept_in(modules) == ALLOWED


def test_the_check_finds_the_memos_imports_and_discovery_had() -> None:
    """The module-level memos scanner/imports, the import command and discovery kept before (#18)."""
    old_base = """
class SoftwareRecords:
    def __init__(self, limit=500_000):
        self._memo = {}
    def get(self, name, version=""):
        found = self._memo.get((name, version))
        if found is None:
            found = self._memo[(name, version)] = Software(name=name, version=version)
        return found
RECORDS = SoftwareRecords()
_SAME: dict[int, tuple[Software, tuple[str, ...]]] = {}
def _same(sw):
    hit = _SAME.get(id(sw))
    if len(_SAME) >= 500_000:
        _SAME.clear()
    _SAME[id(sw)] = (sw, key)
"""
    old_cli = """
from scanner.imports.base import RECORDS, SoftwareRecords
_FRAGMENTS: dict[int, tuple[Software, bytes]] = {}
def _software_json(software):
    for sw in software:
        hit = _FRAGMENTS[id(sw)] = (sw, b"")
LOCAL = SoftwareRecords(limit=10)
"""
    old_http = """
_CONTEXT = None
def _probe(service, tls):
    def probe(target, settings):
        def body(deadline, obs):
            global _CONTEXT
            if _CONTEXT is None:
                _CONTEXT = client_context()
        return body
    return probe
@lru_cache(maxsize=1)
def cpu_rules(path=CPU_DATA):
    return path.read_text()
"""
    assert "class Cache: _memo is an empty container" in state_kept("class Cache:\n    _memo: dict = {}\n")
    stateful = stateful_classes([old_base, old_cli, old_http])
    assert stateful == {"SoftwareRecords"}
    found = state_kept(old_base) + instances_kept(old_base, stateful)
    assert "module: RECORDS is a SoftwareRecords" in found and "module: _SAME is an empty container" in found
    assert "_same: writes _SAME" in found and "_same: _SAME.clear()" in found
    found = state_kept(old_cli) + instances_kept(old_cli, stateful)
    assert "_software_json: writes _FRAGMENTS" in found and "module: LOCAL is a SoftwareRecords" in found
    found = state_kept(old_http)
    assert "body: global _CONTEXT" in found and "cpu_rules: @lru_cache(maxsize=1)" in found
    # What stays allowed: a class changed only while it is set up, a Packaged value, a constant table.
    fine = """
class Rules:
    def __init__(self, table):
        self.table = dict(table)
    def get(self, key):
        return self.table.get(key)
RULES = Rules({"a": 1})
SCRIPT = Packaged(lambda: PATH.read_text("utf-8"))
PLANS = {cls: plan(cls) for cls in (Host, OsInfo)}
"""
    assert stateful_classes([fine]) == set() and state_kept(fine) + instances_kept(fine, {"Packaged"}) == []


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


# What scanner/judge/* may keep: nothing (the installed release's fingerprint, a digest of the
# bundled rules files read once, is an ``agents.packaged.Packaged`` value).
JUDGE_ALLOWED: dict[str, list[str]] = {}


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
