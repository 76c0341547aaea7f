<#
.SYNOPSIS
  Installs the GameOps PC agent as a Windows service that restarts itself if it is killed.

.DESCRIPTION
  UNTESTED ON REAL WINDOWS: written against Microsoft's and NSSM's documentation; the
  project's CI runs on Linux. Try it on one PC before rolling it out.

  python.exe does not speak the Windows service protocol, so the agent runs under NSSM
  (the Non-Sucking Service Manager, https://nssm.cc), which does. NSSM restarts the agent
  whenever it exits; the service's own recovery actions (sc.exe failure) restart NSSM if it
  is killed, so ending either from Task Manager brings the agent back within seconds.

  The service runs as LocalSystem in session 0: it keeps the connection, the session state,
  the state file and the log-off (WTSLogoffSession). The overlay and LockWorkStation run in
  the customer's desktop session (the agent's user-session part); see docs/agent.md.

.EXAMPLE
  # From an elevated PowerShell, after `pip install "gameops[agent]"` into C:\GameOps\venv:
  .\install-agent-service.ps1 -Python C:\GameOps\venv\Scripts\python.exe `
      -Config C:\ProgramData\GameOps\config.yaml -Nssm C:\Tools\nssm.exe
#>
param(
  [Parameter(Mandatory = $true)] [string] $Python,
  [Parameter(Mandatory = $true)] [string] $Config,
  [string] $Nssm = "nssm.exe",
  [string] $ServiceName = "GameOpsAgent",
  [string] $DataDir = "C:\ProgramData\GameOps"
)
$ErrorActionPreference = "Stop"

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw "Run this script from an elevated (Administrator) PowerShell."
}
foreach ($path in @($Python, $Config)) {
  if (-not (Test-Path $path)) { throw "Not found: $path" }
}
if (-not (Get-Command $Nssm -ErrorAction SilentlyContinue)) {
  throw "NSSM not found ($Nssm). Download it from https://nssm.cc and pass -Nssm <path>."
}

# The state file and logs live where only SYSTEM and Administrators may write, so a
# customer cannot delete the saved session to get free time.
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
icacls $DataDir /inheritance:r /grant:r "SYSTEM:(OI)(CI)F" "Administrators:(OI)(CI)F" | Out-Null

& $Nssm install $ServiceName $Python "-m gameops.agent --config `"$Config`""
& $Nssm set $ServiceName DisplayName "GameOps PC agent"
& $Nssm set $ServiceName Description "Enforces paid gaming time on this PC (GameOps)."
& $Nssm set $ServiceName Start SERVICE_AUTO_START
& $Nssm set $ServiceName ObjectName LocalSystem
& $Nssm set $ServiceName AppDirectory $DataDir
& $Nssm set $ServiceName AppEnvironmentExtra "GAMEOPS_AGENT_SYSTEM_SERVICE=true" `
    "GAMEOPS_AGENT_SYSTEM_STATE_FILE=$DataDir\agent-state.json" `
    "GAMEOPS_AGENT_LOG_FILE=$DataDir\agent.log"
# Whatever the exit code, start the agent again after 2 s (NSSM's own throttle backs off
# if it keeps dying at start-up).
& $Nssm set $ServiceName AppExit Default Restart
& $Nssm set $ServiceName AppRestartDelay 2000
& $Nssm set $ServiceName AppStdout "$DataDir\agent-stdout.log"
& $Nssm set $ServiceName AppStderr "$DataDir\agent-stderr.log"
& $Nssm set $ServiceName AppRotateFiles 1
& $Nssm set $ServiceName AppRotateBytes 10485760

# If the service process itself (NSSM) is killed: restart it after 2 s, every time.
sc.exe failure $ServiceName reset= 60 actions= restart/2000/restart/2000/restart/2000 | Out-Null
# Also run the recovery actions when the service stops with an error, not only on a crash.
sc.exe failureflag $ServiceName 1 | Out-Null

Start-Service $ServiceName
Get-Service $ServiceName | Format-Table -AutoSize
Write-Host "Installed. Logs: $DataDir\agent.log. Remove with uninstall-agent-service.ps1."
