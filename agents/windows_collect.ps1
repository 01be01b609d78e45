# legacyscan Windows collection script: READ-ONLY, one JSON document on stdout.
#
# Runs unchanged on Windows PowerShell 2.0 (Windows 7 / Server 2008 R2, .NET 2 CLR), 5.1 and
# PowerShell 7, locally (agent) or over WinRM (probe).  Why it looks the way it does:
# * no Win32_Product (it triggers MSI consistency checks and repairs); software comes from the
#   Uninstall registry keys, opened read-only through .NET (OpenSubKey(name, $false));
# * no writes of any kind, no module installs, no network calls, no user names or profile paths;
# * PowerShell 2.0 has no ConvertTo-Json, [ordered] or member enumeration, so JSON is written by
#   hand; every non-ASCII character is escaped as \uXXXX so the output survives any console code
#   page (WinRS defaults to 437);
# * whatever cannot be read becomes an entry in "problems"; the script itself never fails.
# The document shape is parsed by agents/windows.py (parse_document).

Set-StrictMode -Off
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$script:problems = New-Object System.Collections.ArrayList
$script:software = New-Object System.Collections.ArrayList
$script:packages = New-Object System.Collections.ArrayList
$script:inv = [Globalization.CultureInfo]::InvariantCulture

function Q($v) {
    # One JSON value, as read.  A StringBuilder is JSON already (a nested object or array).
    if ($null -eq $v) { return 'null' }
    if ($v -is [System.Text.StringBuilder]) { return $v.ToString() }
    if ($v -is [bool]) { if ($v) { return 'true' } else { return 'false' } }
    if ($v -is [int] -or $v -is [long] -or $v -is [uint32] -or $v -is [uint64] -or $v -is [int16] -or $v -is [uint16] -or $v -is [byte] -or $v -is [sbyte]) {
        return $v.ToString($script:inv)
    }
    if ($v -is [double] -or $v -is [single] -or $v -is [decimal]) { return ([long]$v).ToString($script:inv) }
    if ($v -is [datetime]) { $v = $v.ToString('o', $script:inv) }
    if ($v -is [array]) {
        # REG_MULTI_SZ, REG_BINARY and WMI arrays stay arrays (the parser decides what they mean).
        $b = New-Object System.Text.StringBuilder
        [void]$b.Append('[')
        $first = $true
        foreach ($x in $v) {
            if (-not $first) { [void]$b.Append(',') }
            $first = $false
            [void]$b.Append((Q $x))
        }
        [void]$b.Append(']')
        return $b.ToString()
    }
    $s = [string]$v
    if ($s.Length -gt 65536) { $s = $s.Substring(0, 65536) }
    if ($s -cnotmatch '[^\x20-\x21\x23-\x5B\x5D-\x7E]') { return '"' + $s + '"' }
    $b = New-Object System.Text.StringBuilder ($s.Length + 16)
    [void]$b.Append('"')
    foreach ($c in $s.ToCharArray()) {
        $n = [int]$c
        if ($n -eq 34) { [void]$b.Append('\"') }
        elseif ($n -eq 92) { [void]$b.Append('\\') }
        elseif ($n -lt 32 -or $n -gt 126) { [void]$b.Append('\u').Append($n.ToString('x4', $script:inv)) }
        else { [void]$b.Append($c) }
    }
    [void]$b.Append('"')
    return $b.ToString()
}

function O([hashtable]$h) {
    # A JSON object from a hashtable (key order does not matter to the parser).
    $b = New-Object System.Text.StringBuilder
    [void]$b.Append('{')
    $first = $true
    foreach ($k in $h.Keys) {
        if (-not $first) { [void]$b.Append(',') }
        $first = $false
        [void]$b.Append((Q ([string]$k))).Append(':').Append((Q $h[$k]))
    }
    [void]$b.Append('}')
    return ,$b
}

function A([System.Collections.ArrayList]$list) {
    $b = New-Object System.Text.StringBuilder
    [void]$b.Append('[')
    for ($i = 0; $i -lt $list.Count; $i++) {
        if ($i -gt 0) { [void]$b.Append(',') }
        [void]$b.Append((Q $list[$i]))
    }
    [void]$b.Append(']')
    return ,$b
}

function P([string]$probe, $err) {
    # A failure as it happened: the exception's type and message (agents/windows.py classifies it).
    $m = [string]$err
    $t = ''
    if ($err -is [System.Management.Automation.ErrorRecord]) { $m = $err.Exception.Message; $t = $err.Exception.GetType().FullName }
    [void]$script:problems.Add((O @{ probe = $probe; error_type = $t; message = $m }))
}

$script:useCim = $false
if (Get-Command Get-CimInstance -ErrorAction SilentlyContinue) { $script:useCim = $true }

function W([string]$class, [string]$ns, [string]$filter) {
    # CIM where it exists (PS 3+, and the only option on PS 7), WMI on PS 2.0.  Read-only queries;
    # the instances go down the pipeline (callers collect them with @()).
    if (-not $ns) { $ns = 'root\cimv2' }
    if ($script:useCim) {
        if ($filter) { Get-CimInstance -Namespace $ns -ClassName $class -Filter $filter -ErrorAction Stop }
        else { Get-CimInstance -Namespace $ns -ClassName $class -ErrorAction Stop }
    } else {
        if ($filter) { Get-WmiObject -Namespace $ns -Class $class -Filter $filter -ErrorAction Stop }
        else { Get-WmiObject -Namespace $ns -Class $class -ErrorAction Stop }
    }
}

function Props($objects, [string[]]$names) {
    # The named properties of each WMI/CIM object, as read (never the whole object: no UserName).
    $list = New-Object System.Collections.ArrayList
    foreach ($o in $objects) {
        $h = @{}
        foreach ($n in $names) { $h[$n] = $o.$n }
        [void]$list.Add((O $h))
    }
    return ,$list
}

function Get-LsRegValue($key, [string]$name) {
    # One registry value, environment variables left unexpanded (the raw evidence).
    try { return $key.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames) } catch { return $null }
}

# --- registry roots (read-only) -----------------------------------------------------------------
$script:facts = @{ processor_architecture = $env:PROCESSOR_ARCHITECTURE; processor_architew6432 = $env:PROCESSOR_ARCHITEW6432;
                   pointer_size = [IntPtr]::Size; system_drive = $env:SystemDrive }
$script:is64os = ($env:PROCESSOR_ARCHITECTURE -eq 'AMD64' -or $env:PROCESSOR_ARCHITECTURE -eq 'ARM64' -or [bool]$env:PROCESSOR_ARCHITEW6432)
$script:hklm = [Microsoft.Win32.Registry]::LocalMachine
$script:hklm64ok = $true
if ($script:is64os -and [IntPtr]::Size -eq 4) {
    # 32-bit PowerShell on 64-bit Windows: the 64-bit view needs .NET 4's OpenBaseKey.
    if ([Microsoft.Win32.RegistryKey].GetMethod('OpenBaseKey')) {
        $script:hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    } else { $script:hklm64ok = $false }
}
$script:facts.hklm64_readable = $script:hklm64ok

function Values($base, [string]$path, [string[]]$names) {
    $h = @{}
    $k = $base.OpenSubKey($path, $false)
    if ($null -eq $k) { return $null }
    try { foreach ($n in $names) { $v = Get-LsRegValue $k $n; if ($null -ne $v) { $h[$n] = $v } } } finally { $k.Close() }
    return $h
}

# --- OS -----------------------------------------------------------------------------------------
$osReg = @{}
try {
    $r = Values $script:hklm 'SOFTWARE\Microsoft\Windows NT\CurrentVersion' @('ProductName', 'CurrentBuild', 'CurrentBuildNumber', 'UBR', 'DisplayVersion', 'ReleaseId', 'EditionID', 'InstallationType', 'CSDVersion', 'CurrentVersion', 'CurrentMajorVersionNumber', 'CurrentMinorVersionNumber', 'InstallDate', 'CompositionEditionID', 'BuildLabEx')
    if ($null -ne $r) { $osReg = $r }
} catch { P 'os.registry' $_ }

$osWmi = @{}
try {
    $o = @(W 'Win32_OperatingSystem')[0]
    if ($null -ne $o) {
        $osWmi = @{ Caption = $o.Caption; Version = $o.Version; BuildNumber = $o.BuildNumber; ProductType = $o.ProductType;
                    CSDVersion = $o.CSDVersion; OSArchitecture = $o.OSArchitecture; InstallDate = $o.InstallDate;
                    OperatingSystemSKU = $o.OperatingSystemSKU; LastBootUpTime = $o.LastBootUpTime }
    }
} catch { P 'os.wmi' $_ }

# --- hardware: WMI/CIM properties as read; agents/windows.py sums, picks and decodes ------------
$wmi = @{}
$classes = @(
    @('computer_system', 'Win32_ComputerSystem', '', @('Manufacturer', 'Model', 'TotalPhysicalMemory', 'NumberOfLogicalProcessors', 'PartOfDomain', 'Domain', 'DomainRole', 'DNSHostName')),
    @('uuid', 'Win32_ComputerSystemProduct', '', @('UUID')),
    @('bios', 'Win32_BIOS', '', @('SerialNumber', 'Manufacturer', 'SMBIOSBIOSVersion', 'ReleaseDate')),
    @('cpu', 'Win32_Processor', '', @('Name', 'NumberOfCores', 'NumberOfLogicalProcessors')),
    @('chassis', 'Win32_SystemEnclosure', '', @('ChassisTypes')),
    @('disks', 'Win32_LogicalDisk', 'DriveType=3', @('DeviceID', 'FileSystem', 'Size')),
    @('tpm', 'Win32_Tpm', 'root\cimv2\Security\MicrosoftTpm', @('SpecVersion', 'IsEnabled_InitialValue'))
)
foreach ($c in $classes) {
    $ns = ''; $filter = ''
    if ($c[2] -match '=') { $filter = $c[2] } else { $ns = $c[2] }
    try { $wmi[$c[1]] = (A (Props @(W $c[1] $ns $filter) $c[3])) } catch { P ('hardware.' + $c[0]) $_ }
}
$firmware = @{}
try {
    $fw = Values $script:hklm 'SYSTEM\CurrentControlSet\Control' @('PEFirmwareType')
    if ($null -ne $fw) { $firmware = $fw }
    $sb = Values $script:hklm 'SYSTEM\CurrentControlSet\Control\SecureBoot\State' @('UEFISecureBootEnabled')
    if ($null -ne $sb) { foreach ($k in $sb.Keys) { $firmware[$k] = $sb[$k] } }
} catch { P 'hardware.firmware' $_ }

# --- software: Uninstall keys -------------------------------------------------------------------
$script:valueNames = @('DisplayName', 'DisplayVersion', 'Publisher', 'InstallDate', 'SystemComponent', 'ParentKeyName', 'ReleaseType', 'WindowsInstaller')

function Read-Uninstall($base, [string]$prefix, [string]$path, [string]$view, [string]$scope, [string]$sid) {
    $k = $null
    try { $k = $base.OpenSubKey($path, $false) } catch { P ('software.' + $view) $_; return }
    if ($null -eq $k) { return }
    try {
        foreach ($name in $k.GetSubKeyNames()) {
            $sk = $null
            try {
                $sk = $k.OpenSubKey($name, $false)
                if ($null -ne $sk) {
                    $e = @{ key = ($prefix + '\' + $path + '\' + $name); view = $view; scope = $scope; sid = $sid }
                    foreach ($vn in $script:valueNames) { $e[$vn] = (Get-LsRegValue $sk $vn) }
                    [void]$script:software.Add((O $e))
                }
            } catch { P ('software.' + $view + ':' + $prefix + '\' + $path + '\' + $name) $_ }
            finally { if ($null -ne $sk) { $sk.Close() } }
        }
    } finally { $k.Close() }
}

$uninst = 'Microsoft\Windows\CurrentVersion\Uninstall'
if ($script:is64os) {
    if ($script:hklm64ok) { Read-Uninstall $script:hklm 'HKLM' ('SOFTWARE\' + $uninst) '64' 'machine' '' }
    Read-Uninstall $script:hklm 'HKLM' ('SOFTWARE\WOW6432Node\' + $uninst) '32' 'machine' ''
} else {
    Read-Uninstall $script:hklm 'HKLM' ('SOFTWARE\' + $uninst) '32' 'machine' ''
}

# Every loaded user hive (user SIDs only: S-1-5-21-..., S-1-12-1-... for Entra ID), the SID kept
# (an opaque id), never a user name.  Profiles whose hive is not loaded are listed by SID.
$loaded = @{}
try {
    $hku = [Microsoft.Win32.Registry]::Users
    foreach ($sid in $hku.GetSubKeyNames()) {
        if ($sid -match '^S-1-(5-21|12-1)-[0-9-]+$') {
            $loaded[$sid] = $true
            Read-Uninstall $hku 'HKU' ($sid + '\Software\' + $uninst) 'user' 'user' $sid
        }
    }
} catch { P 'software.user' $_ }
$profiles = New-Object System.Collections.ArrayList
try {
    $pl = $script:hklm.OpenSubKey('SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList', $false)
    if ($null -ne $pl) {
        try { foreach ($sid in $pl.GetSubKeyNames()) { [void]$profiles.Add((O @{ sid = $sid; loaded = $loaded.ContainsKey($sid) })) } }
        finally { $pl.Close() }
    }
} catch { P 'software.user' $_ }

# --- software: MSIX / AppX ----------------------------------------------------------------------
$appxDone = $false
if (Get-Command Get-AppxPackage -ErrorAction SilentlyContinue) {
    try {
        foreach ($pk in @(Get-AppxPackage -AllUsers -ErrorAction Stop)) {
            [void]$script:packages.Add((O @{ name = $pk.Name; version = [string]$pk.Version; publisher = $pk.Publisher;
                arch = [string]$pk.Architecture; full_name = $pk.PackageFullName; framework = $pk.IsFramework;
                signature = [string]$pk.SignatureKind; via = 'Get-AppxPackage' }))
        }
        $appxDone = $true
    } catch { P 'software.msix.cmdlet' $_ }
}
if (-not $appxDone) {
    # Readable without admin rights: the package repository's key names are package full names.
    try {
        $k = $script:hklm.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages', $false)
        if ($null -ne $k) {
            try { foreach ($n in $k.GetSubKeyNames()) { [void]$script:packages.Add((O @{ full_name = $n; via = 'registry' })) } }
            finally { $k.Close() }
        }
    } catch { P 'software.msix' $_ }
}

# --- the document -------------------------------------------------------------------------------
$psv = ''
try { $psv = $PSVersionTable.PSVersion.ToString() } catch { $psv = '' }
$hostInfo = @{ hostname = $env:COMPUTERNAME }
$os = O @{ registry = (O $osReg); wmi = (O $osWmi) }
$out = '{"legacyscan":"windows-collect/1","collected_at":' + (Q ([DateTime]::UtcNow)) + ',"powershell":' + (Q $psv) +
    ',"clr":' + (Q ([Environment]::Version.ToString())) +
    ',"host":' + (Q (O $hostInfo)) + ',"env":' + (Q (O $script:facts)) + ',"os":' + (Q $os) +
    ',"wmi":' + (Q (O $wmi)) + ',"firmware":' + (Q (O $firmware)) +
    ',"software":' + (Q (A $script:software)) + ',"profiles":' + (Q (A $profiles)) +
    ',"packages":' + (Q (A $script:packages)) + ',"problems":' + (Q (A $script:problems)) + '}'
[Console]::Out.Write($out)
[Console]::Out.Flush()
