"""Resolve every command a PowerShell script calls the way PowerShell does, in 2.0, 5.1 and 7.4.

No PowerShell runs here, so this is a model of the part of PowerShell that broke the Windows
collection (``function RV`` was never called: PowerShell found its built-in alias ``rv`` for
Remove-Variable first).  about_Command_Precedence: a command name is looked up as

1. an alias, 2. a function, 3. a cmdlet, 4. an external program or script,

case-insensitively, in every version from 2.0 to 7.  The commands, parameters and default aliases
of each version come from Microsoft's data (``data/*.json``, see ``data/PROVENANCE.md``).

What is checked (each a :class:`Finding` with its line):

* ``syntax``: the real PowerShell grammar (tree-sitter-powershell) finds an error;
* ``function-shadowed-by-alias``: a script function named like a default alias of any version
  (the alias wins: the function is never called);
* ``function-shadows-cmdlet``: a script function named like a cmdlet of any version (the script
  silently replaces it, and a reader thinks the cmdlet runs);
* ``alias-used``: the script calls a command through an alias (aliases differ between versions and
  can be redefined; shipped scripts spell the command);
* ``command-missing``: a command that a version lacks is reachable on that version.  A call inside
  ``if (Get-Command X ...) {...}``, or inside ``if ($flag) {...}`` where ``$flag`` is set only under
  such an ``if``, is reachable only where X exists; its ``else`` only where X does not;
* ``command-undefined``: a command defined nowhere (no function, no cmdlet of any version, not a
  path to a program);
* ``called-before-defined``: a top-level call of a script function before its definition runs;
* ``unknown-parameter`` / ``ambiguous-parameter``: a ``-Name`` that the reachable version's cmdlet
  (or the script's own function) does not have, or that abbreviates several of its parameters;
* ``dotnet4-api``: a .NET member or type that .NET 2.0-3.5 (Windows PowerShell 2.0's CLR) lacks
  (``data/dotnet4-apis.json``, a deny-list of distinctive names) outside a block guarded by a
  reflection check (``if ([T].GetMethod('Name')) {...}``).

What it cannot check (say so; check these by hand on a real Windows machine): positional
arguments and parameter types, .NET types and methods and whether .NET 3.5 has them, providers
and drives, the behaviour of any command, modules loaded by a profile (the scripts run with
``-NoProfile``), commands reached through ``&`` with a variable or a script block.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
VERSION_FILES = {
    "2.0": "windows-powershell-2.0.json",
    "5.1": "windows-powershell-5.1.json",
    "7.4": "powershell-7.4.json",
}
VERSION_NAMES = {"2.0": "Windows PowerShell 2.0", "5.1": "Windows PowerShell 5.1", "7.4": "PowerShell 7.4"}


@dataclass(frozen=True)
class Finding:
    line: int
    rule: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass
class Version:
    key: str
    commands: dict[str, dict[str, Any]]  # lower name -> entry (with "name")
    aliases: dict[str, str]  # lower alias -> target
    module_only: dict[str, str]  # lower name -> module that must be imported first (2.0)

    @property
    def label(self) -> str:
        return VERSION_NAMES[self.key]


@lru_cache(maxsize=1)
def load_versions() -> dict[str, Version]:
    versions: dict[str, Version] = {}
    for key, name in VERSION_FILES.items():
        data = json.loads((DATA / name).read_text("utf-8"))
        commands = {n.lower(): {**e, "name": n} for n, e in data["commands"].items()}
        versions[key] = Version(
            key,
            commands,
            {a.lower(): t for a, t in data["aliases"].items()},
            {n.lower(): m for n, m in data.get("module_only", {}).items()},
        )
    return versions


@lru_cache(maxsize=1)
def _dotnet4() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((DATA / "dotnet4-apis.json").read_text("utf-8"))
    return {
        "members": {k.lower(): v for k, v in data["members"].items()},
        "types": {k.lower(): v for k, v in data["types"].items()},
    }


def _reflection_guarded(node: Any) -> bool:
    """Inside the then-block of an if whose condition asks .NET whether a member exists."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("if_statement", "elseif_clause") and child.type == "statement_block":
            cond = _condition(parent)
            if cond is not None and re.search(r"\.Get(Method|Property|Field|Type)\(", _text(cond)):
                return True
        child, parent = parent, parent.parent
    return False


def _dotnet_findings(nodes: list[Any]) -> list[Finding]:
    deny = _dotnet4()
    found: list[Finding] = []
    for node in nodes:
        what = ""
        if node.type == "member_name":
            what = deny["members"].get(_text(node).lower(), "")
        elif node.type == "type_spec":
            name = _text(node).lower()
            what = deny["types"].get(name, "") or deny["types"].get("system." + name, "")
            if what:
                what = f"{_text(node)}, {what}"
        if what and not _reflection_guarded(node):
            found.append(
                Finding(
                    node.start_point[0] + 1,
                    "dotnet4-api",
                    _text(node),
                    (
                        f"{what}: Windows PowerShell 2.0 runs on .NET 2.0-3.5, which lacks it; guard it with a "
                        "reflection check (if ([Type].GetMethod('Name')) {...}) or do without"
                    ),
                )
            )
    return found


def _parser() -> Any:
    import tree_sitter
    import tree_sitter_powershell

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _walk(node: Any) -> list[Any]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def _text(node: Any) -> str:
    return str(node.text.decode("utf-8", "replace"))


@dataclass
class _Function:
    name: str
    line: int
    start: int
    params: set[str] = field(default_factory=set)


_GET_COMMAND = re.compile(r"\bGet-Command\s+(?:-Name\s+)?'?([A-Za-z]+-[A-Za-z0-9]+)'?", re.I)


def _condition(if_node: Any) -> Any:
    for child in if_node.children:
        if child.type == "pipeline":
            return child
    return None


def _guards(root: Any) -> tuple[dict[int, list[str]], dict[str, str]]:
    """Which commands each if-condition tests: {if node id: [command, ...]}; and flag variables
    set to $true under such a test: {lower $variable: command}."""
    tests: dict[int, list[str]] = {}
    flags: dict[str, str] = {}
    for node in _walk(root):
        if node.type not in ("if_statement", "elseif_clause"):
            continue
        cond = _condition(node)
        if cond is None:
            continue
        named = _GET_COMMAND.findall(_text(cond))
        if named:
            tests[node.id] = named
            block = next((c for c in node.children if c.type == "statement_block"), None)
            if block is not None:
                for m in re.finditer(r"(\$[\w:]+)\s*=\s*\$true\b", _text(block), re.I):
                    flags[m.group(1).lower()] = named[0]
    for node in _walk(root):
        if node.type in ("if_statement", "elseif_clause") and node.id not in tests:
            cond = _condition(node)
            if cond is None:
                continue
            text = _text(cond).strip()
            var = re.fullmatch(r"(\$[\w:]+)", text)
            if var and var.group(1).lower() in flags:
                tests[node.id] = [flags[var.group(1).lower()]]
    return tests, flags


def _requirements(node: Any, tests: dict[int, list[str]]) -> list[tuple[str, bool]]:
    """(command, must exist?) for every guarding if around ``node``."""
    reqs: list[tuple[str, bool]] = []
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("if_statement", "elseif_clause") and parent.id in tests and child.type == "statement_block":
            reqs.extend((name, True) for name in tests[parent.id])
        if parent.type == "else_clause" and parent.parent is not None and parent.parent.id in tests:
            reqs.extend((name, False) for name in tests[parent.parent.id])
        child, parent = parent, parent.parent
    return reqs


def _inside_function(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "function_statement":
            return True
        parent = parent.parent
    return False


def _functions(nodes: list[Any]) -> dict[str, _Function]:
    found: dict[str, _Function] = {}
    for node in nodes:
        if node.type != "function_statement":
            continue
        name_node = next((c for c in node.children if c.type == "function_name"), None)
        if name_node is None:
            continue
        fn = _Function(_text(name_node), node.start_point[0] + 1, node.start_byte)
        for sub in _walk(node):
            if sub.type == "script_parameter":
                var = next((c for c in sub.children if c.type == "variable"), None)
                if var is not None:
                    fn.params.add(_text(var).lstrip("$").lower())
            if sub.type in ("function_statement", "script_block_expression") and sub is not node:
                break
        found.setdefault(fn.name.lower(), fn)
    return found


def _resolve_parameter(given: str, params: set[str], aliases: dict[str, str]) -> tuple[str, list[str]]:
    """("ok" | "unknown" | "ambiguous", candidates) for ``-given`` against lower-case names."""
    low = given.lower()
    if low in params or low in aliases:
        return "ok", [low]
    matches = sorted(p for p in params if p.startswith(low))
    if len(matches) == 1:
        return "ok", matches
    return ("ambiguous", matches) if matches else ("unknown", [])


def _is_path(name: str) -> bool:
    return bool(re.search(r"[\\/]|\.(exe|com|cmd|bat|ps1)$", name, re.I))


def check_script(src: bytes, *, externals: frozenset[str] = frozenset()) -> list[Finding]:
    """Every finding for one script (empty: every command resolves as intended in 2.0, 5.1, 7.4)."""
    versions = load_versions()
    tree = _parser().parse(src)
    nodes = _walk(tree.root_node)
    findings: list[Finding] = []
    for node in nodes:
        if node.type == "ERROR" or node.is_missing:
            findings.append(Finding(node.start_point[0] + 1, "syntax", "", "PowerShell grammar error"))
    functions = _functions(nodes)
    for low, fn in functions.items():
        alias_in = [v for v in versions.values() if low in v.aliases]
        if alias_in:
            target = alias_in[0].aliases[low]
            findings.append(
                Finding(
                    fn.line,
                    "function-shadowed-by-alias",
                    fn.name,
                    (
                        f"function {fn.name} is never called: '{fn.name}' is the built-in alias for {target} in "
                        f"{', '.join(v.label for v in alias_in)}, and aliases come before functions "
                        "(about_Command_Precedence); rename the function"
                    ),
                )
            )
        cmd_in = [v for v in versions.values() if low in v.commands or low in v.module_only]
        if cmd_in:
            findings.append(
                Finding(
                    fn.line,
                    "function-shadows-cmdlet",
                    fn.name,
                    (
                        f"function {fn.name} has the name of a command of {', '.join(v.label for v in cmd_in)}; "
                        "rename it so a reader (and the next version) cannot confuse them"
                    ),
                )
            )
    findings.extend(_dotnet_findings(nodes))
    tests, _flags = _guards(tree.root_node)
    for node in nodes:
        if node.type != "command":
            continue
        name_node = next((c for c in node.children if c.type == "command_name"), None)
        if name_node is None:
            expr = next((c for c in node.children if c.type == "command_name_expr"), None)
            name_node = next((c for c in expr.children if c.type == "command_name"), None) if expr else None
        if name_node is None:
            continue  # & $variable / & (script block): dynamic, not modelled
        name = _text(name_node)
        low = name.lower()
        line = node.start_point[0] + 1
        given = [
            _text(c).lstrip("-").rstrip(":")
            for e in node.children
            if e.type == "command_elements"
            for c in e.children
            if c.type == "command_parameter"
        ]
        reqs = _requirements(node, tests)
        reachable = [
            v for v in versions.values() if all((req.lower() in v.commands) == present for req, present in reqs)
        ]
        alias_in = [v for v in reachable if low in v.aliases]
        if alias_in:
            findings.append(
                Finding(
                    line,
                    "alias-used",
                    name,
                    (
                        f"'{name}' is an alias ({alias_in[0].aliases[low]}) in {', '.join(v.label for v in alias_in)}; "
                        "call the command by its full name"
                    ),
                )
            )
            continue
        if low in functions:
            fn = functions[low]
            if not _inside_function(node) and node.start_byte < fn.start:
                findings.append(
                    Finding(
                        line,
                        "called-before-defined",
                        name,
                        f"{name} is called before its definition (line {fn.line}) has run",
                    )
                )
            for param in given:
                verdict, cands = _resolve_parameter(param, fn.params, {})
                if verdict != "ok":
                    findings.append(
                        Finding(
                            line,
                            f"{verdict}-parameter",
                            name,
                            f"{name} -{param}: the function's parameters are {sorted(fn.params)}",
                        )
                    )
            continue
        if low in externals or _is_path(name):
            continue
        known_anywhere = any(low in v.commands or low in v.module_only for v in versions.values())
        if not known_anywhere:
            findings.append(
                Finding(
                    line,
                    "command-undefined",
                    name,
                    (
                        f"'{name}' is not a function of this script, nor a command of "
                        f"{', '.join(v.label for v in versions.values())}, nor a program path"
                    ),
                )
            )
            continue
        for v in reachable:
            entry = v.commands.get(low)
            if entry is None:
                why = f" (module {v.module_only[low]} must be imported first)" if low in v.module_only else ""
                findings.append(
                    Finding(
                        line,
                        "command-missing",
                        name,
                        (
                            f"{name} does not exist in {v.label}{why} and this call is not guarded by a "
                            f"Get-Command check"
                        ),
                    )
                )
                continue
            params = {p.lower() for p in entry["parameters"]}
            palias = {a.lower(): p for a, p in entry.get("parameter_aliases", {}).items()}
            for param in given:
                verdict, cands = _resolve_parameter(param, params, palias)
                if verdict == "unknown":
                    findings.append(
                        Finding(
                            line, "unknown-parameter", name, f"{entry['name']} has no parameter -{param} in {v.label}"
                        )
                    )
                elif verdict == "ambiguous":
                    findings.append(
                        Finding(
                            line,
                            "ambiguous-parameter",
                            name,
                            (f"{entry['name']} -{param} is ambiguous in {v.label} ({', '.join(cands)})"),
                        )
                    )
    return sorted(set(findings), key=lambda f: (f.line, f.rule, f.name))
