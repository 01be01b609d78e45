# legacyscan-agent.ps1: a Windows PC without Python reports itself (PowerShell 2.0 and later).
#
# Runs windows_collect.ps1 (next to this file) at below-normal priority, keeps its output in a
# spool that only SYSTEM and Administrators can read, and uploads it over HTTPS to a legacyscan
# collector, which parses it with the same tested parser as every other path (the raw
# "windows-collect/1" document; this script parses nothing).  Or writes it to a file drop.
#
# * TLS 1.2 is forced where .NET allows it; the collector's certificate is verified against the
#   Windows trust store, or chained to the site CA given with -CaCertificate;
# * the token is read from a file that only SYSTEM and Administrators may read (refused otherwise);
# * an inventory leaves the spool only when the collector answers 201 (created) or 200 (duplicate);
#   busy or unreachable: retries with exponential backoff and jitter, honouring Retry-After;
# * exit codes as legacyscan-agent: 0 ok, 1 error, 2 usage, 75 not delivered yet (spooled).
# docs/agent-deployment.md shows the rollout (scheduled task by GPO, Intune, ConfigMgr, signing).

param(
    [string]$Server = '',
    [string]$TokenFile = '',
    [string]$CaCertificate = '',
    [string]$Output = '',
    [string]$SpoolDir = '',
    [int]$SpoolMax = 30,
    [int]$MaxDelay = 0,
    [int]$Retries = 4,
    [int]$TimeoutSec = 30,
    [int]$CollectTimeoutSec = 1800,
    [switch]$NoLowerPriority
)

Set-StrictMode -Off
$ErrorActionPreference = 'Stop'
$script:inv = [Globalization.CultureInfo]::InvariantCulture
$script:here = Split-Path -Parent $MyInvocation.MyCommand.Path
$script:marker = '{"legacyscan":"windows-collect/1"'
$script:trusted = @('S-1-5-18', 'S-1-5-32-544')  # LocalSystem, BUILTIN\Administrators

function Write-Log([string]$level, [string]$message) {
    [Console]::Error.WriteLine('legacyscan-agent: ' + $level + ': ' + $message)
}

function Exit-With([int]$code, [string]$message) {
    if ($message) { Write-Log 'error' $message }
    exit $code
}

function Test-Protected([string]$path) {
    # True when no one but SYSTEM and Administrators (and the owner, if one of them) may read it.
    $acl = [System.IO.File]::GetAccessControl($path)
    foreach ($rule in $acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
        $sid = $rule.IdentityReference.Value
        if ($rule.AccessControlType -eq 'Allow' -and $script:trusted -notcontains $sid) { return $false }
    }
    return $true
}

function New-ProtectedFolder([string]$path) {
    # The spool: inheritance cut, full control for SYSTEM and Administrators only.
    $ds = New-Object System.Security.AccessControl.DirectorySecurity
    $ds.SetAccessRuleProtection($true, $false)
    foreach ($sid in $script:trusted) {
        $id = New-Object System.Security.Principal.SecurityIdentifier($sid)
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($id, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')
        $ds.AddAccessRule($rule)
    }
    if (-not [System.IO.Directory]::Exists($path)) { [void][System.IO.Directory]::CreateDirectory($path, $ds) }
    else { [System.IO.Directory]::SetAccessControl($path, $ds) }
}

function Save-Atomic([string]$path, [byte[]]$bytes) {
    $tmp = $path + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllBytes($tmp, $bytes)
    if ([System.IO.File]::Exists($path)) { [System.IO.File]::Delete($path) }
    [System.IO.File]::Move($tmp, $path)
}

function Get-Gzip([byte[]]$bytes) {
    $ms = New-Object System.IO.MemoryStream
    $gz = New-Object System.IO.Compression.GZipStream($ms, [System.IO.Compression.CompressionMode]::Compress)
    $gz.Write($bytes, 0, $bytes.Length)
    $gz.Close()
    return ,$ms.ToArray()
}

# The child's command (paths are ours, quoted for single-quoted strings); checked by the same
# static resolver as this file (tests/unit/test_powershell_resolve.py).
$script:childTemplate = @'
$w = New-Object IO.StreamWriter('{out}', $false, (New-Object Text.UTF8Encoding($false)))
[Console]::SetOut($w)
try { & '{collect}' } finally { $w.Flush(); $w.Close() }
'@

function Invoke-Collection([string]$work) {
    # A child PowerShell (the one running this script) runs the collection with its console output
    # sent to a file in the protected spool: no pipe to fill, so the timeout below always holds.
    $out = Join-Path $work ('collect-' + [guid]::NewGuid().ToString('N') + '.tmp')
    $collect = Join-Path $script:here 'windows_collect.ps1'
    $child = $script:childTemplate.Replace('{out}', $out.Replace("'", "''")).Replace('{collect}', $collect.Replace("'", "''"))
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
    $psi.Arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ' + [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($child))
    $psi.UseShellExecute = $false
    $psi.CreateNoWindow = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    if (-not $p.WaitForExit($CollectTimeoutSec * 1000)) {
        $p.Kill()
        Exit-With 1 ('collection did not finish within ' + $CollectTimeoutSec + 's')
    }
    $text = ''
    if ([System.IO.File]::Exists($out)) { $text = [System.IO.File]::ReadAllText($out); [System.IO.File]::Delete($out) }
    $start = $text.IndexOf($script:marker)
    if ($start -lt 0) {
        $preview = $text
        if ($preview.Length -gt 200) { $preview = $preview.Substring(0, 200) }
        Exit-With 1 ('windows_collect.ps1 printed no collection document (exit ' + $p.ExitCode + '): ' + $preview)
    }
    $doc = $text.Substring($start).TrimEnd()
    # One id per collection: the collector counts retries of it once.
    return $doc.Substring(0, $doc.Length - 1) + ',"inventory_id":"' + [guid]::NewGuid().ToString() + '"}'
}

function Test-LsCertificate($certificate, $chain, $errors) {
    # Windows' own verdict, or (with -CaCertificate) a chain to the site CA with the right name.
    if ($errors -eq [System.Net.Security.SslPolicyErrors]::None) { return $true }
    if (-not $script:siteCa) { return $false }
    if ($errors -ne [System.Net.Security.SslPolicyErrors]::RemoteCertificateChainErrors) { return $false }
    $c = New-Object System.Security.Cryptography.X509Certificates.X509Chain
    $c.ChainPolicy.ExtraStore.Add($script:siteCa) | Out-Null
    $c.ChainPolicy.VerificationFlags = [System.Security.Cryptography.X509Certificates.X509VerificationFlags]::AllowUnknownCertificateAuthority
    $c.ChainPolicy.RevocationMode = [System.Security.Cryptography.X509Certificates.X509RevocationMode]::NoCheck
    if (-not $c.Build((New-Object System.Security.Cryptography.X509Certificates.X509Certificate2($certificate)))) { return $false }
    $root = $c.ChainElements[$c.ChainElements.Count - 1].Certificate
    return ($root.Thumbprint -eq $script:siteCa.Thumbprint)
}

function Send-Inventory([byte[]]$body) {
    # One POST: returns @(status, retry-after seconds or -1, reason, content type); status 0 when
    # nothing came back.  Retry-After is read in its seconds form only (an HTTP-date is ignored).
    $req = [System.Net.WebRequest]::Create($script:url)
    $req.Method = 'POST'
    $req.ContentType = 'application/json'
    $req.Headers.Add('Authorization', 'Bearer ' + $script:token)
    $req.Headers.Add('Content-Encoding', 'gzip')
    $req.UserAgent = 'legacyscan-agent.ps1/1'
    $req.AllowAutoRedirect = $false  # a redirect is not the collector's answer (kept, exit 75)
    $req.Timeout = $TimeoutSec * 1000
    $req.ContentLength = $body.Length
    $resp = $null
    try {
        $s = $req.GetRequestStream()
        $s.Write($body, 0, $body.Length)
        $s.Close()
        $resp = $req.GetResponse()
    } catch {
        $ex = $_.Exception
        while ($null -ne $ex -and -not ($ex -is [System.Net.WebException])) { $ex = $ex.InnerException }
        if ($null -eq $ex) { return @(0, -1, [string]$_.Exception.Message, '') }
        if ($null -eq $ex.Response) { return @(0, -1, ([string]$ex.Status + ': ' + $ex.Message), '') }
        $resp = $ex.Response
    }
    try {
        $code = [int]$resp.StatusCode
        $wait = -1
        $ra = $resp.Headers['Retry-After']
        if ($ra -match '^[0-9]{1,9}$') { $wait = [int]$ra }
        $reader = New-Object System.IO.StreamReader($resp.GetResponseStream())
        $reason = $reader.ReadToEnd()
        $reader.Close()
        if ($reason.Length -gt 300) { $reason = $reason.Substring(0, 300) }
        return @($code, $wait, $reason, [string]$resp.ContentType)
    } finally { $resp.Close() }
}

function Send-Spool([string]$spool) {
    $files = @([System.IO.Directory]::GetFiles($spool, '*.json.gz') | Sort-Object)
    foreach ($f in $files) {
        $body = [System.IO.File]::ReadAllBytes($f)
        $delay = 2
        for ($attempt = 0; $attempt -le $Retries; $attempt++) {
            $r = Send-Inventory $body
            $code = $r[0]
            if ($code -eq 200 -or $code -eq 201) {
                [System.IO.File]::Delete($f)
                Write-Log 'info' ('delivered ' + [System.IO.Path]::GetFileName($f) + ' (HTTP ' + $code + ')')
                break
            }
            if ($code -eq 401 -or $code -eq 403) { Exit-With 1 ('the collector refused the token (HTTP ' + $code + '); inventories stay in ' + $spool) }
            $retryable = ($code -eq 0 -or $code -eq 408 -or $code -eq 429 -or $code -ge 500)
            # Refused for good only by the collector itself: 400/413/415/422 with its JSON error body
            # (a proxy's error page says nothing about the inventory), as legacyscan-agent decides.
            $definitive = (@(400, 413, 415, 422) -contains $code -and $r[3] -like 'application/json*' -and $r[2] -match '"error"\s*:\s*"')
            if (-not $retryable -and -not $definitive) {
                Write-Log 'error' ('HTTP ' + $code + ' from ' + $script:url + ' is not an answer of a legacyscan collector (check -Server); inventories kept in ' + $spool + ' for the next run')
                exit 75
            }
            if ($definitive) {
                $rejected = Join-Path $spool 'rejected'
                New-ProtectedFolder $rejected
                [System.IO.File]::Copy($f, (Join-Path $rejected ([System.IO.Path]::GetFileName($f))), $true)
                [System.IO.File]::Delete($f)
                Write-Log 'error' ('the collector refused ' + [System.IO.Path]::GetFileName($f) + ' (HTTP ' + $code + '): ' + $r[2] + '; kept in ' + $rejected)
                break
            }
            if ($attempt -eq $Retries) {
                Write-Log 'warning' ('collector not reached (' + $r[2] + '); inventories stay in ' + $spool + ' for the next run')
                exit 75
            }
            # Full jitter, doubled each time up to a minute; the server's Retry-After wins when longer.
            $wait = Get-Random -Minimum 0 -Maximum ($delay + 1)
            if ($r[1] -gt $wait) { $wait = [Math]::Min(60, $r[1]) }
            Write-Log 'info' ('upload attempt ' + ($attempt + 1) + ' failed (' + $code + ' ' + $r[2] + '); retrying in ' + $wait + 's')
            Start-Sleep -Seconds $wait
            $delay = [Math]::Min(60, $delay * 2)
        }
    }
}

# --- arguments ----------------------------------------------------------------------------------
if (-not $Server -and -not $Output) { Exit-With 2 'give -Server URL (with -TokenFile) and/or -Output PATH' }
if ($Server -and -not ($Server -match '^https://[^/]+' -or $Server -match '^http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)')) {
    Exit-With 2 ('-Server must be an https:// URL (got ' + $Server + ')')
}
if ($Server) {
    if (-not $TokenFile) { $TokenFile = Join-Path $env:ProgramData 'legacyscan\token.txt' }
    if (-not [System.IO.File]::Exists($TokenFile)) { Exit-With 2 ('token file ' + $TokenFile + ' not found') }
    if (-not (Test-Protected $TokenFile)) {
        Exit-With 2 ('token file ' + $TokenFile + ' is readable by accounts other than SYSTEM and Administrators; protect it: icacls "' + $TokenFile + '" /inheritance:r /grant:r *S-1-5-18:R *S-1-5-32-544:F')
    }
    $script:token = ([System.IO.File]::ReadAllText($TokenFile)).Trim()
    if (-not $script:token) { Exit-With 2 ('token file ' + $TokenFile + ' is empty') }
    $script:url = $Server.TrimEnd('/') + '/v1/inventories'
    $script:siteCa = $null
    if ($CaCertificate) {
        if (-not [System.IO.File]::Exists($CaCertificate)) { Exit-With 2 ('CA certificate ' + $CaCertificate + ' not found') }
        $script:siteCa = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2($CaCertificate)
    }
    # TLS 1.2 (3072): .NET 3.5's enum has no name for it, so the value is made without PowerShell's
    # enum check; .NET refuses it (caught) where neither .NET 4.5+ nor the 3.5.1 TLS 1.2 update is installed.
    try { [Net.ServicePointManager]::SecurityProtocol = [Enum]::ToObject([Net.SecurityProtocolType], 3072) }
    catch { Write-Log 'warning' '.NET on this PC cannot force TLS 1.2 (install .NET 4.5+, or the TLS 1.2 update for .NET 3.5.1); using the system default' }
    [Net.ServicePointManager]::ServerCertificateValidationCallback = { param($sender, $certificate, $chain, $errors) Test-LsCertificate $certificate $chain $errors }
}
if (-not $SpoolDir) { $SpoolDir = Join-Path $env:ProgramData 'legacyscan\spool' }

# --- collect ------------------------------------------------------------------------------------
if (-not $NoLowerPriority) {
    # The child inherits BelowNormal (CreateProcess: a parent below normal passes its class on).
    [System.Diagnostics.Process]::GetCurrentProcess().PriorityClass = [System.Diagnostics.ProcessPriorityClass]::BelowNormal
}
if ($MaxDelay -gt 0) { Start-Sleep -Seconds (Get-Random -Minimum 0 -Maximum ($MaxDelay + 1)) }
try { New-ProtectedFolder $SpoolDir } catch { Exit-With 1 ('cannot create the spool ' + $SpoolDir + ': ' + $_.Exception.Message) }
$document = Invoke-Collection $SpoolDir
$bytes = [System.Text.Encoding]::UTF8.GetBytes($document)
$stamp = [DateTime]::UtcNow.ToString('yyyyMMddHHmmss', $script:inv)
$rc = 0
if ($Output) {
    try {
        $target = $Output
        if ([System.IO.Directory]::Exists($Output)) { $target = Join-Path $Output ($env:COMPUTERNAME + '-' + $stamp + '.json') }
        Save-Atomic $target $bytes
        Write-Log 'info' ('wrote ' + $target)
    } catch { Write-Log 'error' ('cannot write ' + $Output + ': ' + $_.Exception.Message); $rc = 1 }
}
if ($Server) {
    try {
        Save-Atomic (Join-Path $SpoolDir ($stamp + '-' + [guid]::NewGuid().ToString('N') + '.json.gz')) (Get-Gzip $bytes)
        $all = @([System.IO.Directory]::GetFiles($SpoolDir, '*.json.gz') | Sort-Object)
        for ($i = 0; $i -lt $all.Length - $SpoolMax; $i++) {
            Write-Log 'warning' ('spool full: dropped undelivered ' + [System.IO.Path]::GetFileName($all[$i]))
            [System.IO.File]::Delete($all[$i])
        }
    } catch { Exit-With 1 ('cannot write the spool ' + $SpoolDir + ': ' + $_.Exception.Message) }
    Send-Spool $SpoolDir
}
exit $rc
