"""No import circle among our own modules, counting every kind of import (#18).

The graph is read from the source with ``ast``, not from ``sys.modules``, so it sees what a run
might not: imports inside functions (deferred), imports under ``if TYPE_CHECKING:`` (a type-only
edge is still a dependency a reader has to follow), and module names written as strings (an
``importlib`` registry such as ``"reports.table"`` is a real edge that neither mypy nor a reader
can follow).  A dynamic import whose module name is computed (``import_module(f"x.{name}")``)
hides its edge from this check too, so it is refused outright.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agents", "eol_data", "scanner", "reports")

# Cycles still in the graph, each through a file another change owns; this list may only shrink
# (it is empty: the last one, scanner.store.relational <-> scanner.store.sqlite, went with text_column's move).
KNOWN_CYCLES: set[frozenset[str]] = set()

# Dynamic imports of a computed name: only for third-party modules (never ours).
COMPUTED_IMPORT_ALLOWED = {
    "agents.native",  # provide(archive, module): makes psutil importable from the zipapp
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(our module, line) for every import in ``path``, at any depth, and every string naming one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:  # from package import submodule
                    yield f"{base}.{alias.name}", node.lineno
                elif base in known:
                    yield base, node.lineno
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
            if node.value in known:  # "reports.table" in a registry
                yield node.value, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, over all four packages."""
    known = _modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in known.items():
        edges: dict[str, int] = {}
        for target, line in _imported(module, path, known):
            if target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(component)
    edges = [
        f"  {src} -> {dst} (line {line})"
        for src in component
        for dst, line in sorted(graph[src].items())
        if dst in members
    ]
    return " <-> ".join(component) + "\n" + "\n".join(edges)


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = [c for c in cycles(graph) if frozenset(c) not in KNOWN_CYCLES]
    assert not found, "import circles (move the shared piece into a lower module):\n" + "\n".join(
        _describe(c, graph) for c in found
    )


def test_known_cycles_are_still_cycles() -> None:
    """An entry of KNOWN_CYCLES that no longer exists must be removed (the list only shrinks)."""
    present = {frozenset(c) for c in cycles(import_graph())}
    assert KNOWN_CYCLES <= present, sorted(sorted(c) for c in KNOWN_CYCLES - present)


def test_report_package_is_imported_only_from_above() -> None:
    """``scanner.report`` is the last stage: only the composition root (``scanner.cli``) and the
    renderers (``reports``) import it; nothing below (plan, match, store, ...) reaches up into it."""
    graph = import_graph()
    upward = sorted(
        f"{src} -> {dst} (line {line})"
        for src, edges in graph.items()
        for dst, line in edges.items()
        if (dst == "scanner.report" or dst.startswith("scanner.report."))
        and not src.startswith(("scanner.report.", "scanner.cli.", "reports."))
        and src not in ("scanner.report", "scanner.cli", "reports")
    )
    assert "scanner.report.build" in graph and "scanner.report.stored" in graph
    assert not upward, "imports of the report package from below it:\n" + "\n".join(upward)


# What each judging stage may import of scanner (besides its own package): the folders are the
# pipeline (identify -> judge -> plan -> report), so a stage never reaches up into a later one.
STAGE_IMPORTS = {
    "scanner.identify": ("scanner.model",),
    "scanner.judge": ("scanner.model", "scanner.identify", "scanner.store.columns", "scanner.store.schema"),
    "scanner.plan": ("scanner.model", "scanner.files"),
}


def _scanner_edges_out_of(package: str, graph: dict[str, dict[str, int]]) -> list[str]:
    allowed = (package, *STAGE_IMPORTS[package])
    return sorted(
        f"{src} -> {dst} (line {line})"
        for src, edges in graph.items()
        if src == package or src.startswith(package + ".")
        for dst, line in edges.items()
        if dst.startswith("scanner.") and not any(dst == a or dst.startswith(a + ".") for a in allowed)
    )


@pytest.mark.parametrize("package", sorted(STAGE_IMPORTS))
def test_pipeline_stages_import_only_the_stages_before_them(package: str) -> None:
    graph = import_graph()
    assert any(m.startswith(package + ".") for m in graph), package
    bad = _scanner_edges_out_of(package, graph)
    assert not bad, f"{package} imports beyond its stage:\n" + "\n".join(bad)


def test_the_service_is_imported_only_by_the_cli_and_file_drops() -> None:
    """What agents send in (``scanner.service``) sits beside the pipeline: only the composition root and
    ``legacyscan import``'s raw-document importer use it (the store keeps the tokens, below it)."""
    graph = import_graph()
    users = sorted(
        src
        for src, edges in graph.items()
        if any(d == "scanner.service" or d.startswith("scanner.service.") for d in edges)
        and not src.startswith(("scanner.service", "scanner.cli."))
    )
    assert users == ["scanner.imports.raw"], users


def test_a_stage_reaching_up_is_seen() -> None:
    """The stage check itself: an edge from identify into judge is reported."""
    graph = {"scanner.identify.x": {"scanner.judge.match": 3, "scanner.model": 1}}
    assert _scanner_edges_out_of("scanner.identify", graph) == ["scanner.identify.x -> scanner.judge.match (line 3)"]


def test_renderers_take_the_view_model_not_the_builder() -> None:
    """``reports.*`` draw ``scanner.report.model`` (types only): none imports the builder or the reader."""
    graph = import_graph()
    reaching = sorted(
        f"{src} -> {dst} (line {line})"
        for src, edges in graph.items()
        if src == "reports" or src.startswith("reports.")
        for dst, line in edges.items()
        if dst in ("scanner.report.build", "scanner.report.stored")
    )
    assert "scanner.report.model" in graph["reports.json"]
    assert not reaching, "renderers importing the report builder:\n" + "\n".join(reaching)


def test_no_computed_imports() -> None:
    """``import_module(<expression>)`` hides an edge from the graph above and from mypy."""
    hidden = []
    for module, path in _modules().items():
        if module in COMPUTED_IMPORT_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name in ("importlib.import_module", "import_module", "__import__") and not (
                node.args and isinstance(node.args[0], ast.Constant)
            ):
                hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not hidden, "computed imports of our modules:\n" + "\n".join(hidden)


def test_graph_sees_deferred_type_only_and_string_imports(tmp_path: Path) -> None:
    """The reader itself: a cycle through each kind of hidden edge is found."""
    graph = {
        "a": {"b": 1},  # a function-level import
        "b": {"c": 1},  # an import under TYPE_CHECKING
        "c": {"a": 1},  # "a" in an importlib registry
        "d": {"a": 1},
    }
    assert cycles(graph) == [["a", "b", "c"]]
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from scanner.model import Finding\n"
        "def f():\n    from scanner import identify\n"
        "FORMATS = {'table': 'reports.table'}\n"
    )
    known = {"scanner.model": ROOT, "scanner.identify": ROOT, "reports.table": ROOT, "scanner.x": ROOT}
    probe = tmp_path / "x.py"
    probe.write_text(source, encoding="utf-8")
    assert sorted(t for t, _ in _imported("scanner.x", probe, known)) == [
        "reports.table",
        "scanner.identify",
        "scanner.model",
    ]
