"""Static checks of the collection script (PowerShell cannot run here).

Two layers: a real PowerShell grammar (tree-sitter-powershell) parses the script and the checks
walk its syntax tree (every command and every .NET method it calls must be on a read-only allow
list; every registry key is opened read-only; no redirection); then plain-text rules forbid what
must never appear (Win32_Product, writes, network, Invoke-Expression, user names, PowerShell 3+
syntax).  Each rule is itself tested against a bad snippet, so a rule that matches nothing fails.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from agents.windows import SCRIPT_PATH
from tests.conftest import require_or_skip

SCRIPT = SCRIPT_PATH.read_bytes()

ALLOWED_COMMANDS = {
    "Get-Command",
    "Get-CimInstance",
    "Get-WmiObject",
    "Get-AppxPackage",
    "New-Object",
    "Set-StrictMode",
}
ALLOWED_NEW_OBJECT = {"System.Collections.ArrayList", "System.Text.StringBuilder"}
# .NET methods the script may call: string building, enumeration and read-only registry access.
ALLOWED_METHODS = {
    "Append",
    "ToString",
    "Add",
    "OpenSubKey",
    "Close",
    "GetSubKeyNames",
    "ToUniversalTime",
    "Join",
    "ToArray",
    "Substring",
    "ToCharArray",
    "ToDateTime",
    "GetValue",
    "GetMethod",
    "OpenBaseKey",
    "Trim",
    "ContainsKey",
    "Write",
    "Flush",
    "GetType",
}
FORBIDDEN_TYPES = re.compile(
    r"Net\.|Diagnostics\.Process|IO\.File|IO\.Stream|Reflection|InteropServices|"
    r"Management\.Automation\.PowerShell|WebClient|Sockets",
    re.I,
)

# Plain-text rules over the script without comments: (name, pattern).
FORBIDDEN_TEXT: list[tuple[str, str]] = [
    ("Win32_Product (MSI repair storms)", r"Win32_Product"),
    ("Invoke-Expression", r"\bInvoke-Expression\b|\biex\b"),
    ("process start", r"\bStart-Process\b|\bInvoke-Item\b|&\s*\$"),
    (
        "network",
        r"Invoke-WebRequest|Invoke-RestMethod|WebClient|Start-BitsTransfer|Test-Connection|"
        r"Resolve-DnsName|Net\.Sockets|-ComputerName|\\\\\\\\",
    ),
    ("module install", r"Install-Module|Install-PackageProvider|Install-Package\b|Import-Module|Save-Module"),
    (
        "registry write",
        r"Set-ItemProperty|New-ItemProperty|Remove-ItemProperty|Rename-ItemProperty|New-Item\b|"
        r"Remove-Item\b|Set-Item\b|\bSetValue\(|CreateSubKey|DeleteSubKey|DeleteValue|"
        r"\breg(\.exe)?\s+(add|delete|load|unload|import|restore|copy)",
    ),
    ("file write", r"Out-File|Set-Content|Add-Content|Export-\w+|Tee-Object|\bOut-Printer\b"),
    (
        "WMI method call / write",
        r"Invoke-WmiMethod|Invoke-CimMethod|Set-WmiInstance|Set-CimInstance|"
        r"Remove-WmiObject|New-CimInstance|\.Put\(|InvokeMethod",
    ),
    (
        "user names",
        r"UserName|Win32_UserAccount|Win32_LoggedOnUser|ProfileImagePath|RegisteredOwner|"
        r"RegisteredOrganization|Get-LocalUser|\$env:USER",
    ),
    (
        "PowerShell 3+ only syntax",
        r"ConvertTo-Json|ConvertFrom-Json|\[ordered\]|\[pscustomobject\]|::new\(|"
        r"\.Where\(|\.ForEach\(|\s-(not)?in\s|-ErrorAction\s+Ignore|\$PSItem|"
        r"^\s*class\s|using\s+namespace|\?\?|\?\.",
    ),
]


def _code(src: bytes) -> str:
    return "\n".join(line for line in src.decode("utf-8").splitlines() if not line.lstrip().startswith("#"))


def text_violations(src: bytes) -> list[str]:
    code = _code(src)
    found = [name for name, pattern in FORBIDDEN_TEXT if re.search(pattern, code, re.I | re.M)]
    # Get-CimInstance must stay behind the PS 2.0 guard (the W helper), never called directly elsewhere.
    if len(re.findall(r"Get-CimInstance\s+-Namespace", code)) > 2:
        found.append("unguarded Get-CimInstance")
    return found


def _parser() -> Any:
    try:
        import tree_sitter
        import tree_sitter_powershell
    except ImportError as exc:
        require_or_skip(f"tree-sitter-powershell not installed: {exc}")
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def tree_violations(src: bytes) -> list[str]:
    """Walk the real syntax tree; return what is not allowed."""
    tree = _parser().parse(src)
    problems: list[str] = []
    defined: set[str] = set()
    nodes = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.children)
        if node.type == "function_statement":
            name = next((c for c in node.children if c.type == "function_name"), None)
            if name is not None:
                defined.add(name.text.decode())
    for node in nodes:
        text = node.text.decode("utf-8", "replace")
        if node.type == "ERROR" or node.is_missing:
            problems.append(f"syntax error at line {node.start_point[0] + 1}")
        elif node.type == "command_name":
            if text not in ALLOWED_COMMANDS and text not in defined:
                problems.append(f"command {text}")
            if text == "New-Object" and node.parent is not None:
                args = [c.text.decode() for c in node.parent.children if c.type == "command_elements"]
                type_name = args[0].split()[0] if args else ""
                if type_name not in ALLOWED_NEW_OBJECT:
                    problems.append(f"New-Object {type_name}")
        elif node.type == "invokation_expression":
            member = next((c for c in node.children if c.type == "member_name"), None)
            has_args = any(c.type == "argument_list" for c in node.children)
            if member is not None and has_args:
                method = member.text.decode()
                if method not in ALLOWED_METHODS:
                    problems.append(f"method {method}")
                if method == "OpenSubKey" and not re.search(r",\s*\$false\s*\)\s*$", text):
                    problems.append(f"OpenSubKey not read-only: {text[-60:]}")
        elif node.type == "type_literal" and FORBIDDEN_TYPES.search(text):
            problems.append(f"type {text}")
        elif "redirection" in node.type:
            problems.append(f"redirection {text}")
    return problems


def test_script_parses_with_a_real_powershell_grammar() -> None:
    tree = _parser().parse(SCRIPT)
    assert not tree.root_node.has_error
    assert _parser().parse(b"function f( { $x = ").root_node.has_error  # the grammar does catch errors


def test_script_calls_only_read_only_commands_and_methods() -> None:
    assert tree_violations(SCRIPT) == []


@pytest.mark.parametrize(
    "snippet,expected",
    [
        (b"Set-ItemProperty -Path HKLM:\\X -Name a -Value 1", "command Set-ItemProperty"),
        (b"$k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE', $true)", "OpenSubKey not read-only"),
        (b"$k.SetValue('a', 1)", "method SetValue"),
        (b"$c = New-Object System.Net.WebClient", "New-Object System.Net.WebClient"),
        (b"$x = [System.Net.Dns]::GetHostName()", "type [System.Net.Dns]"),
        (b"Get-Date > C:\\out.txt", "redirection"),
        (b"Invoke-Expression $s", "command Invoke-Expression"),
    ],
)
def test_tree_rules_catch_bad_snippets(snippet: bytes, expected: str) -> None:
    assert any(expected in v for v in tree_violations(snippet)), tree_violations(snippet)


def test_script_text_has_nothing_forbidden() -> None:
    assert text_violations(SCRIPT) == []


@pytest.mark.parametrize(
    "snippet",
    [
        b"Get-WmiObject Win32_Product",
        b"iex $code",
        b"Invoke-WebRequest http://x",
        b"Install-Module Foo",
        b"reg add HKLM\\X /v a",
        b"'x' | Out-File C:\\a.txt",
        b"$cs.UserName",
        b"$o = [ordered]@{}",
        b"$j = $x | ConvertTo-Json",
        b"Get-Thing -ErrorAction Ignore",
        b"if ($a -in $b) { }",
        b"Invoke-CimMethod -ClassName Win32_Process",
        b"Get-WmiObject -ComputerName other Win32_BIOS",
    ],
)
def test_text_rules_catch_bad_snippets(snippet: bytes) -> None:
    assert text_violations(snippet), snippet


def test_script_is_ascii_so_any_console_code_page_carries_it() -> None:
    SCRIPT.decode("ascii")


def test_script_reads_every_field_the_document_promises() -> None:
    code = _code(SCRIPT)
    for name in (
        "ProductName",
        "CurrentBuild",
        "CurrentBuildNumber",
        "UBR",
        "DisplayVersion",
        "ReleaseId",
        "EditionID",
        "InstallationType",
        "CSDVersion",
        "Caption",
        "ProductType",
        "InstallDate",
        "OSArchitecture",
        "DisplayName",
        "Publisher",
        "SystemComponent",
        "ParentKeyName",
        "ReleaseType",
        "WindowsInstaller",
        "WOW6432Node",
        "Get-AppxPackage",
        "AppModel\\Repository\\Packages",
        "SerialNumber",
        "SMBIOSBIOSVersion",
        "ReleaseDate",
        "PEFirmwareType",
        "UEFISecureBootEnabled",
        "Win32_Tpm",
        "SpecVersion",
        "NumberOfCores",
        "TotalPhysicalMemory",
        "PartOfDomain",
        "Win32_LogicalDisk",
        "Get-WmiObject",
        "Get-CimInstance",
    ):
        assert name in code, name
    # every loaded user hive, with its SID; unloaded profiles are counted as a problem
    assert "[Microsoft.Win32.Registry]::Users" in code and "ProfileList" in code


def test_loader_and_bootstrap_are_valid_powershell() -> None:
    from agents.windows import BOOTSTRAP, compressed_loader

    parser = _parser()
    for text in (BOOTSTRAP, compressed_loader(SCRIPT.decode("ascii"))):
        assert not parser.parse(text.encode("ascii")).root_node.has_error, text[:80]
