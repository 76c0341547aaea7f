<#
.SYNOPSIS
  Stops and removes the GameOps PC agent service. UNTESTED ON REAL WINDOWS.
  Stopping the agent mid-session is reported to the server as a tamper event.
#>
param(
  [string] $Nssm = "nssm.exe",
  [string] $ServiceName = "GameOpsAgent"
)
$ErrorActionPreference = "Stop"
& $Nssm stop $ServiceName
& $Nssm remove $ServiceName confirm
Write-Host "Removed $ServiceName. The data directory (state file, logs) was left in place."
