"""Every .ps1 the project ships resolves, command by command, the way PowerShell resolves it
(alias > function > cmdlet > program) in Windows PowerShell 2.0, 5.1 and PowerShell 7.4, against
Microsoft's command data (tests/powershell/data, PROVENANCE.md).  Each rule of the model is itself
tested on a snippet that breaks it, and the collection script as it was before the alias fix is
caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in ROOT.glob("agents/**/*.ps1"))
RV_DEFECT = ROOT / "tests" / "powershell" / "fixtures" / "windows_collect_rv_defect.ps1"


@pytest.fixture(autouse=True)
def _grammar() -> None:
    try:
        import tree_sitter  # noqa: F401
        import tree_sitter_powershell  # noqa: F401
    except ImportError as exc:
        require_or_skip(f"tree-sitter-powershell not installed: {exc}")


def _check(src: bytes) -> list[str]:
    from tests.powershell.resolve import check_script

    return [f"{f.rule}:{f.name}" for f in check_script(src)]


def test_the_project_ships_powershell_scripts() -> None:
    names = {p.name for p in SHIPPED}
    assert "windows_collect.ps1" in names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_script_resolves_in_every_version(path: Path) -> None:
    from tests.powershell.resolve import check_script

    assert [str(f) for f in check_script(path.read_bytes())] == []


def test_embedded_powershell_resolves_too() -> None:
    from agents.windows import BOOTSTRAP, LOADER
    from agents.winrm import READ_TEXT_SCRIPT

    for text in (BOOTSTRAP, LOADER.replace("{payload}", "AAAA"), READ_TEXT_SCRIPT.replace("{b64}", "QQA=")):
        assert _check(text.encode()) == [], text[:60]


def test_the_agents_child_command_resolves_too() -> None:
    import re

    text = (ROOT / "agents" / "legacyscan-agent.ps1").read_text("ascii")
    [template] = re.findall(r"\$script:childTemplate = @'\r?\n(.*?)\r?\n'@", text, re.S)
    child = template.replace("{out}", "C:\\ProgramData\\legacyscan\\spool\\collect-1.tmp").replace(
        "{collect}", "C:\\Program Files\\legacyscan\\windows_collect.ps1"
    )
    assert "SetOut" in child and _check(child.encode()) == []


def test_the_old_rv_helper_is_caught() -> None:
    from tests.powershell.resolve import check_script

    findings = check_script(RV_DEFECT.read_bytes())
    shadowed = [f for f in findings if f.rule == "function-shadowed-by-alias"]
    assert [f.name for f in shadowed] == ["RV"]
    assert "Remove-Variable" in shadowed[0].message and "Windows PowerShell 2.0" in shadowed[0].message
    # and both places that called it
    assert sum(1 for f in findings if f.rule == "alias-used" and f.name == "RV") == 2


@pytest.mark.parametrize(
    "snippet,expected",
    [
        (b"function gc($x) { $x }\ngc 1", "function-shadowed-by-alias:gc"),
        (b"function Get-Item($x) { $x }\nGet-Item 1", "function-shadows-cmdlet:Get-Item"),
        (b"gci C:\\", "alias-used:gci"),
        (b"$o = Get-CimInstance -ClassName Win32_BIOS", "command-missing:Get-CimInstance"),
        (b"$j = ConvertTo-Json @{}", "command-missing:ConvertTo-Json"),
        (b"$s = Get-Content -Raw C:\\x.txt", "unknown-parameter:Get-Content"),
        (b"$o = Get-WmiObject -C Win32_BIOS", "ambiguous-parameter:Get-WmiObject"),
        (b"Invoke-Frobnicate -Now", "command-undefined:Invoke-Frobnicate"),
        (b"Get-LsThing\nfunction Get-LsThing { 1 }", "called-before-defined:Get-LsThing"),
        (b"function Get-LsThing($a) { $a }\nGet-LsThing -b 1", "unknown-parameter:Get-LsThing"),
        (b"$o = Get-WmiObject -Class Win32_BIOS", "command-missing:Get-WmiObject"),  # 7.4 has no WMI cmdlets
        (
            b"if (Get-Command Get-CimInstance -ErrorAction SilentlyContinue) { Get-WmiObject -Class A }",
            "command-missing:Get-WmiObject",
        ),  # the guard is for another command
        (b"$a = @(Get-AppxPackage -AllUsers)", "command-missing:Get-AppxPackage"),
        (b"$p = Get-Process -IncludeUserName", "unknown-parameter:Get-Process"),  # 4.0+
        (b"$k = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')", "dotnet4-api:OpenBaseKey"),
        (b"$v = [Microsoft.Win32.RegistryView]::Registry64", "dotnet4-api:Microsoft.Win32.RegistryView"),
        (b"[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12", "dotnet4-api:Tls12"),
        (b"if ([string]::IsNullOrWhiteSpace($s)) { }", "dotnet4-api:IsNullOrWhiteSpace"),
        (b"$b = [Environment]::Is64BitOperatingSystem", "dotnet4-api:Is64BitOperatingSystem"),
    ],
)
def test_each_rule_catches_its_defect(snippet: bytes, expected: str) -> None:
    assert expected in _check(snippet), _check(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        # the CIM path: guarded directly, through a flag, and WMI in the else branch
        b"if (Get-Command Get-CimInstance -ErrorAction SilentlyContinue) { $o = Get-CimInstance -ClassName A }",
        b"$c = $false\nif (Get-Command Get-CimInstance -ErrorAction SilentlyContinue) { $c = $true }\n"
        b"if ($c) { $o = Get-CimInstance -ClassName A -Namespace 'root' } else { $o = Get-WmiObject -Class A }",
        b"if (Get-Command Get-AppxPackage -ErrorAction SilentlyContinue) { $a = @(Get-AppxPackage -AllUsers) }",
        b"function Get-LsThing($a) { $a }\n$x = Get-LsThing -a 1",
        b"$x = Get-Item -LiteralPath C:\\ -ErrorAction Stop",
        b"$x = Get-ChildItem -Path C:\\ -ea SilentlyContinue",  # a common parameter's alias
        b"& $sb",
        b"if ([Microsoft.Win32.RegistryKey].GetMethod('OpenBaseKey')) {\n"
        b"  $k = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', [Microsoft.Win32.RegistryView]::Registry64) }",  # noqa: E501
        b"$n = New-Object -TypeName System.Text.StringBuilder",
    ],
)
def test_correct_scripts_pass(snippet: bytes) -> None:
    assert _check(snippet) == []


def test_the_data_matches_what_microsoft_documents() -> None:
    from tests.powershell.resolve import load_versions

    v = load_versions()
    for key in ("2.0", "5.1", "7.4"):
        assert v[key].aliases["rv"] == "Remove-Variable"
        assert v[key].aliases["gci"] == "Get-ChildItem"
        assert "get-command" in v[key].commands
    assert "get-ciminstance" not in v["2.0"].commands and "get-ciminstance" in v["5.1"].commands
    assert "get-wmiobject" in v["2.0"].commands and "get-wmiobject" not in v["7.4"].commands
    assert "get-appxpackage" in v["5.1"].commands
    assert "raw" not in [p.lower() for p in v["2.0"].commands["get-content"]["parameters"]]
    assert "raw" in [p.lower() for p in v["5.1"].commands["get-content"]["parameters"]]


def test_the_agent_script_keeps_to_powershell_2_and_the_safety_rules() -> None:
    """The collection script's text rules that also bind the agent (it may write its spool and
    talk HTTPS, so the write/network rules do not apply): no Win32_Product, no Invoke-Expression, no
    module installs, no WMI writes, no registry writes, no PowerShell 3+ syntax."""
    import re

    from tests.unit.test_windows_script import FORBIDDEN_TEXT, _code

    binding = {
        "Win32_Product (MSI repair storms)",
        "Invoke-Expression",
        "module install",
        "registry write",
        "WMI method call / write",
        "PowerShell 3+ only syntax",
    }
    rules = [(name, pattern) for name, pattern in FORBIDDEN_TEXT if name in binding]
    assert {name for name, _ in rules} == binding
    code = _code((ROOT / "agents" / "legacyscan-agent.ps1").read_bytes())
    assert [name for name, pattern in rules if re.search(pattern, code, re.I | re.M)] == []
    assert code.encode("ascii")  # any console code page carries it
