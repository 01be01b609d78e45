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
    # One JSON value.  A StringBuilder is JSON already (a nested object or array).
    if ($null -eq $v) { return 'null' }
    if ($v -is [System.Text.StringBuilder]) { return $v.ToString() }
    if ($v -is [bool]) { if ($v) { return 'true' } else { return 'false' } }
    if ($v -is [int] -or $v -is [long] -or $v -is [uint32] -or $v -is [uint64] -or $v -is [int16] -or $v -is [uint16] -or $v -is [byte] -or $v -is [sbyte]) {
        return $v.ToString($script:inv)
    }
    if ($v -is [double] -or $v -is [single] -or $v -is [decimal]) { return ([long]$v).ToString($script:inv) }
    if ($v -is [datetime]) { $v = $v.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', $script:inv) }
    if ($v -is [array]) {
        $items = New-Object System.Collections.ArrayList
        foreach ($x in $v) { [void]$items.Add([string]$x) }
        $v = [string]::Join(' ', [string[]]$items.ToArray())
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

function Kind($err) {
    # Classify a failure so the report can say "denied" rather than "broken".
    $m = [string]$err
    $e = $null
    if ($err -is [System.Management.Automation.ErrorRecord]) { $e = $err.Exception; $m = $e.Message }
    if ($e -is [System.UnauthorizedAccessException] -or $e -is [System.Security.SecurityException]) { return 'denied' }
    if ($m -match 'denied|0x80041003|0x80070005') { return 'denied' }
    if ($m -match 'Invalid namespace|Invalid class|not recognized|0x8004100E|0x80041010|not supported') { return 'missing' }
    if ($m -match 'timed? ?out') { return 'timeout' }
    return 'error'
}

function P([string]$probe, [string]$kind, [string]$message) {
    [void]$script:problems.Add((O @{ probe = $probe; kind = $kind; message = $message }))
}

function PE([string]$probe, $err) {
    $m = [string]$err
    if ($err -is [System.Management.Automation.ErrorRecord]) { $m = $err.Exception.Message }
    P $probe (Kind $err) $m
}

$script:useCim = $false
if (Get-Command Get-CimInstance -ErrorAction SilentlyContinue) { $script:useCim = $true }

function W([string]$class, [string]$ns, [string]$filter) {
    # CIM where it exists (PS 3+, and the only option on PS 7), WMI on PS 2.0.  Read-only queries.
    if (-not $ns) { $ns = 'root\cimv2' }
    if ($script:useCim) {
        if ($filter) { return @(Get-CimInstance -Namespace $ns -ClassName $class -Filter $filter -ErrorAction Stop) }
        return @(Get-CimInstance -Namespace $ns -ClassName $class -ErrorAction Stop)
    }
    if ($filter) { return @(Get-WmiObject -Namespace $ns -Class $class -Filter $filter -ErrorAction Stop) }
    return @(Get-WmiObject -Namespace $ns -Class $class -ErrorAction Stop)
}

function Dt($v) {
    # WMI gives DMTF strings (20150417150245.000000+120), CIM gives DateTime; emit ISO 8601 UTC.
    if ($null -eq $v) { return $null }
    if ($v -is [datetime]) { return $v }
    $s = [string]$v
    if ($s -match '^\d{14}\.\d{6}[+-]\d{3}$') {
        try { return [System.Management.ManagementDateTimeConverter]::ToDateTime($s) } catch { return $s }
    }
    return $s
}

function Get-LsRegValue($key, [string]$name) {
    # One registry value, environment variables left unexpanded (the raw evidence).
    try { return $key.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames) } catch { return $null }
}

# --- registry roots (read-only) -----------------------------------------------------------------
$script:is64os = ($env:PROCESSOR_ARCHITECTURE -eq 'AMD64' -or $env:PROCESSOR_ARCHITECTURE -eq 'ARM64' -or [bool]$env:PROCESSOR_ARCHITEW6432)
$script:is64proc = ([IntPtr]::Size -eq 8)
$script:hklm = [Microsoft.Win32.Registry]::LocalMachine
$script:hklm64ok = $true
if ($script:is64os -and -not $script:is64proc) {
    if ([Microsoft.Win32.RegistryKey].GetMethod('OpenBaseKey')) {
        $script:hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    } else {
        $script:hklm64ok = $false
        P 'software.hklm64' 'missing' '32-bit PowerShell on 64-bit Windows without .NET 4: the 64-bit registry view is not readable; run the 64-bit powershell.exe'
    }
}

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
    if ($null -ne $r) { $osReg = $r } else { P 'os.registry' 'missing' 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion not found' }
} catch { PE 'os.registry' $_ }

$osWmi = @{}
try {
    $o = @(W 'Win32_OperatingSystem')[0]
    if ($null -ne $o) {
        $osWmi = @{ Caption = $o.Caption; Version = $o.Version; BuildNumber = $o.BuildNumber; ProductType = $o.ProductType;
                    CSDVersion = $o.CSDVersion; OSArchitecture = $o.OSArchitecture; InstallDate = (Dt $o.InstallDate);
                    OperatingSystemSKU = $o.OperatingSystemSKU; LastBootUpTime = (Dt $o.LastBootUpTime) }
    }
} catch { PE 'os.wmi' $_ }

$arch = $env:PROCESSOR_ARCHITECTURE
if ($env:PROCESSOR_ARCHITEW6432) { $arch = $env:PROCESSOR_ARCHITEW6432 }

# --- hardware -----------------------------------------------------------------------------------
$hw = @{}
$hostInfo = @{ hostname = $env:COMPUTERNAME }
try {
    $cs = @(W 'Win32_ComputerSystem')[0]
    # Only named properties: never UserName.
    $hw.manufacturer = $cs.Manufacturer; $hw.model = $cs.Model; $hw.memory_bytes = $cs.TotalPhysicalMemory
    $hw.logical_processors = $cs.NumberOfLogicalProcessors
    $hostInfo.part_of_domain = $cs.PartOfDomain; $hostInfo.domain = $cs.Domain; $hostInfo.domain_role = $cs.DomainRole
    $hostInfo.dns_hostname = $cs.DNSHostName
} catch { PE 'hardware.computer_system' $_ }
try {
    $p = @(W 'Win32_ComputerSystemProduct')[0]
    if ($null -ne $p) { $hostInfo.uuid = $p.UUID }
} catch { PE 'hardware.uuid' $_ }
try {
    $b = @(W 'Win32_BIOS')[0]
    $hw.serial = $b.SerialNumber; $hw.bios_vendor = $b.Manufacturer; $hw.bios_version = $b.SMBIOSBIOSVersion
    $bd = Dt $b.ReleaseDate
    # A date, not an instant: converting local midnight to UTC would move it to the day before.
    if ($bd -is [datetime]) { $hw.bios_date = $bd.ToString('yyyy-MM-dd', $script:inv) } else { $hw.bios_date = $bd }
} catch { PE 'hardware.bios' $_ }
try {
    $cpus = @(W 'Win32_Processor')
    $cores = 0; $threads = 0; $haveCores = $false
    foreach ($c in $cpus) {
        if ($null -ne $c.NumberOfCores) { $cores += [int]$c.NumberOfCores; $haveCores = $true }
        if ($null -ne $c.NumberOfLogicalProcessors) { $threads += [int]$c.NumberOfLogicalProcessors }
    }
    if ($cpus.Length -gt 0) { $hw.cpu_name = ([string]$cpus[0].Name).Trim(); $hw.cpu_sockets = $cpus.Length }
    if ($haveCores) { $hw.cpu_cores = $cores }
    if ($threads -gt 0) { $hw.cpu_threads = $threads }
} catch { PE 'hardware.cpu' $_ }
try {
    $e = @(W 'Win32_SystemEnclosure')[0]
    if ($null -ne $e -and $null -ne $e.ChassisTypes) { $hw.chassis_types = @($e.ChassisTypes) }
} catch { PE 'hardware.chassis' $_ }
$disks = New-Object System.Collections.ArrayList
try {
    foreach ($d in @(W 'Win32_LogicalDisk' '' 'DriveType=3')) {
        [void]$disks.Add((O @{ device = $d.DeviceID; fstype = $d.FileSystem; size = $d.Size }))
        if ($d.DeviceID -eq $env:SystemDrive) { $hw.system_disk_bytes = $d.Size }
    }
} catch { PE 'hardware.disks' $_ }
$hw.disks = (A $disks)
try {
    $fw = Values $script:hklm 'SYSTEM\CurrentControlSet\Control' @('PEFirmwareType')
    if ($null -ne $fw -and $null -ne $fw.PEFirmwareType) { $hw.pe_firmware_type = $fw.PEFirmwareType }
    else { P 'hardware.firmware' 'missing' 'PEFirmwareType not present (Windows before 8); firmware type unknown' }
} catch { PE 'hardware.firmware' $_ }
try {
    $sb = Values $script:hklm 'SYSTEM\CurrentControlSet\Control\SecureBoot\State' @('UEFISecureBootEnabled')
    if ($null -ne $sb -and $null -ne $sb.UEFISecureBootEnabled) { $hw.secure_boot = $sb.UEFISecureBootEnabled }
} catch { PE 'hardware.secure_boot' $_ }
try {
    $t = @(W 'Win32_Tpm' 'root\cimv2\Security\MicrosoftTpm')
    $hw.tpm_present = ($t.Length -gt 0)
    if ($t.Length -gt 0) { $hw.tpm_spec_version = [string]$t[0].SpecVersion; $hw.tpm_enabled = $t[0].IsEnabled_InitialValue }
} catch { PE 'hardware.tpm' $_ }

# --- software: Uninstall keys -------------------------------------------------------------------
$script:valueNames = @('DisplayName', 'DisplayVersion', 'Publisher', 'InstallDate', 'SystemComponent', 'ParentKeyName', 'ReleaseType', 'WindowsInstaller')

function Read-Uninstall($base, [string]$prefix, [string]$path, [string]$view, [string]$scope, [string]$sid) {
    $k = $null
    try { $k = $base.OpenSubKey($path, $false) } catch { PE ('software.' + $view) $_; return }
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
            } catch { P ('software.' + $view) (Kind $_) ($prefix + '\' + $path + '\' + $name + ': ' + $_.Exception.Message) }
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

# Every loaded user hive: scope "user", the SID kept (an opaque id), never a user name.
$loaded = @{}
try {
    $hku = [Microsoft.Win32.Registry]::Users
    foreach ($sid in $hku.GetSubKeyNames()) {
        if ($sid -match '^S-1-5-(18|19|20)$' -or $sid -match '^S-1-(5-21|12-1)-[0-9-]+$') {
            $loaded[$sid] = $true
            Read-Uninstall $hku 'HKU' ($sid + '\Software\' + $uninst) 'user' 'user' $sid
        }
    }
} catch { PE 'software.user' $_ }
try {
    $pl = $script:hklm.OpenSubKey('SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList', $false)
    if ($null -ne $pl) {
        $notLoaded = 0
        try { foreach ($sid in $pl.GetSubKeyNames()) { if ($sid -match '^S-1-(5-21|12-1)-[0-9-]+$' -and -not $loaded.ContainsKey($sid)) { $notLoaded++ } } }
        finally { $pl.Close() }
        if ($notLoaded -gt 0) { P 'software.user' 'missing' ([string]$notLoaded + ' user profile(s) not loaded: their per-user software is not visible until the user logs on') }
    }
} catch { PE 'software.user' $_ }

# --- software: MSIX / AppX ----------------------------------------------------------------------
$build = 0
try { $build = [int]$osReg.CurrentBuild } catch { $build = 0 }
$appxDone = $false
if (Get-Command Get-AppxPackage -ErrorAction SilentlyContinue) {
    try {
        foreach ($pk in @(Get-AppxPackage -AllUsers -ErrorAction Stop)) {
            [void]$script:packages.Add((O @{ name = $pk.Name; version = [string]$pk.Version; publisher = $pk.Publisher;
                arch = [string]$pk.Architecture; full_name = $pk.PackageFullName; framework = [bool]$pk.IsFramework;
                signature = [string]$pk.SignatureKind; via = 'Get-AppxPackage' }))
        }
        $appxDone = $true
    } catch { $appxDone = $false }
}
if (-not $appxDone -and $build -ge 9200) {
    # Fallback readable without admin rights: the package repository's key names are full names.
    try {
        $k = $script:hklm.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages', $false)
        if ($null -ne $k) {
            try { foreach ($n in $k.GetSubKeyNames()) { [void]$script:packages.Add((O @{ full_name = $n; via = 'registry' })) } }
            finally { $k.Close() }
        }
    } catch { PE 'software.msix' $_ }
}

# --- the document -------------------------------------------------------------------------------
$psv = '2.0'
try { $psv = $PSVersionTable.PSVersion.ToString() } catch { $psv = '' }
$now = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ', $script:inv)
$os = O @{ registry = (O $osReg); wmi = (O $osWmi); arch = $arch }
$out = '{"legacyscan":"windows-collect/1","collected_at":' + (Q $now) + ',"powershell":' + (Q $psv) +
    ',"host":' + (Q (O $hostInfo)) + ',"os":' + (Q $os) + ',"hardware":' + (Q (O $hw)) +
    ',"software":' + (Q (A $script:software)) + ',"packages":' + (Q (A $script:packages)) +
    ',"problems":' + (Q (A $script:problems)) + '}'
[Console]::Out.Write($out)
[Console]::Out.Flush()
