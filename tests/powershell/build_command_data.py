"""Build ``data/*.json``: the commands, parameters and default aliases of Windows PowerShell 2.0,
5.1 and PowerShell 7.4 on Windows, from Microsoft's own published data (see data/PROVENANCE.md).

Sources (git checkouts given on the command line; nothing is fetched at test time):

* ``PowerShell/PSScriptAnalyzer`` ``Engine/Settings/desktop-2.0-windows.json`` and
  ``desktop-5.1.14393.206-windows.json``: ``Get-Command`` output recorded by Microsoft on real
  installations (Windows PowerShell 2.0; 5.1 on Windows Server 2016), every command with its
  parameter sets.  Used by PSScriptAnalyzer's UseCompatibleCmdlets rule.
* ``MicrosoftDocs/PowerShell-Docs`` ``reference/5.1`` and ``reference/7.4``: one page per cmdlet,
  whose front matter lists the cmdlet's default aliases and whose ``### -Name`` sections (with
  their ``Aliases:`` lines) list its parameters.

Windows PowerShell 2.0 had no module auto-loading: only the commands of its built-in snap-ins
(PSScriptAnalyzer's ``Microsoft.PowerShell.Core`` entry for 2.0) run without ``Import-Module``;
the other modules it lists are recorded as ``module_only``.

Run: ``python tests/powershell/build_command_data.py PSSA_GIT_DIR PSDOCS_GIT_DIR``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "data"
# about_CommonParameters (PowerShell-Docs): every cmdlet accepts these (PipelineVariable and
# ProgressAction came later: 4.0 and 7.4).
COMMON = {
    "2.0": [
        "Verbose",
        "Debug",
        "ErrorAction",
        "WarningAction",
        "ErrorVariable",
        "WarningVariable",
        "OutVariable",
        "OutBuffer",
        "WhatIf",
        "Confirm",
    ],
    "5.1": [
        "Verbose",
        "Debug",
        "ErrorAction",
        "WarningAction",
        "InformationAction",
        "ErrorVariable",
        "WarningVariable",
        "InformationVariable",
        "OutVariable",
        "OutBuffer",
        "PipelineVariable",
        "WhatIf",
        "Confirm",
    ],
    "7.4": [
        "Verbose",
        "Debug",
        "ErrorAction",
        "WarningAction",
        "InformationAction",
        "ProgressAction",
        "ErrorVariable",
        "WarningVariable",
        "InformationVariable",
        "OutVariable",
        "OutBuffer",
        "PipelineVariable",
        "WhatIf",
        "Confirm",
    ],
}
# about_CommonParameters: the common parameters' own aliases.
COMMON_ALIASES = {
    "vb": "Verbose",
    "db": "Debug",
    "ea": "ErrorAction",
    "wa": "WarningAction",
    "infa": "InformationAction",
    "proga": "ProgressAction",
    "ev": "ErrorVariable",
    "wv": "WarningVariable",
    "iv": "InformationVariable",
    "ov": "OutVariable",
    "ob": "OutBuffer",
    "pv": "PipelineVariable",
    "wi": "WhatIf",
    "cf": "Confirm",
}


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True).stdout.decode("utf-8-sig")


def pssa(repo: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(git(repo, "show", f"HEAD:Engine/Settings/{name}"))
    return data


def params_of(parameter_sets: str) -> set[str]:
    return set(re.findall(r"-([A-Za-z][A-Za-z0-9]*)\b", parameter_sets or ""))


def doc_page(text: str) -> tuple[str, list[str], dict[str, list[str]]]:
    """(module, default aliases, {parameter: [parameter aliases]}) of one PowerShell-Docs cmdlet page."""
    front = text.split("\n---", 1)[0]
    module = re.search(r"^Module Name:\s*(\S+)", front, re.M)
    aliases: list[str] = []
    block = re.search(r"^aliases:\s*\n((?:\s+-\s*\S+\s*\n)+)", front + "\n", re.M)
    if block:
        aliases = re.findall(r"-\s*(\S+)", block.group(1))
    params: dict[str, list[str]] = {}
    for match in re.finditer(r"^### -(\w+)\s*\n(.*?)(?=^### |^## |\Z)", text, re.M | re.S):
        found = re.search(r"^Aliases:\s*(.*)$", match.group(2), re.M)
        names = [a.strip() for a in (found.group(1) if found else "").split(",") if a.strip()]
        params[match.group(1)] = names
    return (module.group(1) if module else ""), aliases, params


def docs_version(repo: str, version: str) -> dict[str, dict[str, Any]]:
    pages: dict[str, dict[str, Any]] = {}
    for path in git(repo, "ls-tree", "-r", "--name-only", "HEAD", f"reference/{version}").split():
        parts = path.split("/")
        if len(parts) != 4 or not path.endswith(".md") or parts[3].startswith("about_") or "-" not in parts[3]:
            continue
        if parts[3].lower().endswith("-module.md") or parts[3] == f"{parts[2]}.md":
            continue
        text = git(repo, "show", f"HEAD:{path}")
        title = re.search(r"^title:\s*(\S+)", text, re.M)
        if not title or not re.match(r"^[A-Za-z]+-[A-Za-z0-9]+$", title.group(1)):
            continue
        module, aliases, params = doc_page(text)
        pages[title.group(1)] = {"module": module or parts[2], "aliases": aliases, "parameters": params, "source": path}
    return pages


def build(pssa_repo: str, docs_repo: str) -> None:
    pssa_commit = git(pssa_repo, "rev-parse", "HEAD").strip()
    docs_commit = git(docs_repo, "rev-parse", "HEAD").strip()
    docs51 = docs_version(docs_repo, "5.1")
    docs74 = docs_version(docs_repo, "7.4")

    def entry(params: set[str], param_aliases: dict[str, str], module: str, version: str) -> dict[str, Any]:
        names = sorted(params | set(COMMON[version]))
        al = {**{k: v for k, v in COMMON_ALIASES.items() if v in names}, **param_aliases}
        return {"module": module, "parameters": names, "parameter_aliases": dict(sorted(al.items()))}

    # -- Windows PowerShell 2.0 ---------------------------------------------------------------------
    v2 = pssa(pssa_repo, "desktop-2.0-windows.json")
    cmds2: dict[str, Any] = {}
    module_only: dict[str, str] = {}
    for module in v2["Modules"]:
        for cmd in module.get("ExportedCommands") or []:
            if not isinstance(cmd, dict):
                continue
            if module["Name"] == "Microsoft.PowerShell.Core":
                cmds2[cmd["Name"]] = entry(params_of(cmd.get("ParameterSets", "")), {}, "(built-in snap-ins)", "2.0")
                cmds2[cmd["Name"]]["type"] = cmd.get("CommandType", "Cmdlet")
            else:
                module_only[cmd["Name"]] = module["Name"]
    # 2.0's default aliases are not in the recorded data: those of 5.1 (PowerShell-Docs front
    # matter) whose cmdlet 2.0 has, plus the aliases the 2.0 record lists.  A superset at worst
    # (an alias added in 3.0+ for an old cmdlet), which only makes the name-collision check stricter.
    aliases2 = {a: name for name, page in docs51.items() if name in cmds2 for a in page["aliases"]}
    for module in v2["Modules"]:
        for a in module.get("ExportedAliases") or []:
            aliases2.setdefault(a, "(recorded, target not given)")
    write(
        "windows-powershell-2.0.json",
        {
            "version": "2.0",
            "edition": "Desktop",
            "sources": [
                f"PowerShell/PSScriptAnalyzer@{pssa_commit}:Engine/Settings/desktop-2.0-windows.json",
                f"MicrosoftDocs/PowerShell-Docs@{docs_commit}:reference/5.1 (alias front matter, filtered to "
                "the cmdlets 2.0 has)",
            ],
            "commands": dict(sorted(cmds2.items())),
            "module_only": dict(sorted(module_only.items())),
            "aliases": dict(sorted(aliases2.items(), key=lambda kv: kv[0].lower())),
        },
    )

    # -- Windows PowerShell 5.1 --------------------------------------------------------------------
    v51 = pssa(pssa_repo, "desktop-5.1.14393.206-windows.json")
    cmds51: dict[str, Any] = {}
    module_aliases: dict[str, str] = {}
    for module in v51["Modules"]:
        for cmd in module.get("ExportedCommands") or []:
            if not isinstance(cmd, dict):
                continue
            if cmd.get("CommandType") == "Alias":
                module_aliases[cmd["Name"]] = f"(alias exported by module {module['Name']})"
                continue
            page = docs51.get(cmd["Name"], {})
            doc_params = page.get("parameters", {})
            pal = {a: p for p, als in doc_params.items() for a in als}
            cmds51[cmd["Name"]] = entry(
                params_of(cmd.get("ParameterSets", "")) | set(doc_params), pal, module["Name"], "5.1"
            )
            cmds51[cmd["Name"]]["type"] = cmd.get("CommandType", "Cmdlet")
    for name, page in docs51.items():
        if name not in cmds51:
            pal = {a: p for p, als in page["parameters"].items() for a in als}
            cmds51[name] = entry(set(page["parameters"]), pal, page["module"], "5.1")
            cmds51[name]["type"] = "Cmdlet"
    aliases51 = {a: name for name, page in docs51.items() for a in page["aliases"]}
    for module in v51["Modules"]:
        for a in module.get("ExportedAliases") or []:
            aliases51.setdefault(a, "(recorded, target not given)")
    for a, target in module_aliases.items():
        aliases51.setdefault(a, target)
    write(
        "windows-powershell-5.1.json",
        {
            "version": "5.1",
            "edition": "Desktop",
            "sources": [
                f"PowerShell/PSScriptAnalyzer@{pssa_commit}:Engine/Settings/desktop-5.1.14393.206-windows.json",
                f"MicrosoftDocs/PowerShell-Docs@{docs_commit}:reference/5.1",
            ],
            "commands": dict(sorted(cmds51.items())),
            "module_only": {},
            "aliases": dict(sorted(aliases51.items(), key=lambda kv: kv[0].lower())),
        },
    )

    # -- PowerShell 7.4 ----------------------------------------------------------------------------
    cmds74: dict[str, Any] = {}
    for name, page in docs74.items():
        pal = {a: p for p, als in page["parameters"].items() for a in als}
        cmds74[name] = entry(set(page["parameters"]), pal, page["module"], "7.4")
        cmds74[name]["type"] = "Cmdlet"
    aliases74 = {a: name for name, page in docs74.items() for a in page["aliases"]}
    write(
        "powershell-7.4.json",
        {
            "version": "7.4",
            "edition": "Core",
            "sources": [f"MicrosoftDocs/PowerShell-Docs@{docs_commit}:reference/7.4"],
            "commands": dict(sorted(cmds74.items())),
            "module_only": {},
            "aliases": dict(sorted(aliases74.items(), key=lambda kv: kv[0].lower())),
        },
    )


def write(name: str, data: dict[str, Any]) -> None:
    OUT.mkdir(exist_ok=True)
    # One command per line: small, and a regeneration's diff shows what changed.
    lines = ["{"]
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines.append(f"{json.dumps(key)}: {{")
            items = [f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in value.items()]
            lines.append(",\n".join(items))
            lines.append("},")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value)},")
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    (OUT / name).write_text("\n".join(lines) + "\n", "utf-8")
    print(name, len(data["commands"]), "commands", len(data["aliases"]), "aliases")


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
