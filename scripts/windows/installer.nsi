; gameops-agent-setup.exe: the GameOps PC agent for Windows, built on Linux with Debian's
; makensis (`make windows-agent`, which runs scripts/windows/installer.py: it stages the
; Windows CPython, the wheels and the agent, then calls makensis with the defines below).
;
; Silent install (the token is written only to the agent's config, readable by SYSTEM and
; Administrators; nothing else keeps it):
;   gameops-agent-setup.exe /S /SERVER=wss://server.lan:8000 /STATION=<uuid> /TOKEN=<token>
;                           [/CAFILE=<path to the server's PEM certificate>] [/CUSTOMER=<account>]
; Exit code 0: installed and the service started; 2: a missing or wrong option (the reason
; is in install.log in the data folder, or shown when not silent).
;
; Defines from installer.py: STAGE (staged files), OUTFILE, VERSION.

Unicode true
Target amd64-unicode
ManifestSupportedOS all
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "nsDialogs.nsh"
!include "x64.nsh"

!define PRODUCT "GameOps PC agent"
!define SERVICE "GameOpsAgent"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\GameOpsAgent"
!define PYTHON '"$INSTDIR\python\python.exe"'

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\GameOps Agent"
BrandingText "GameOps ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

Var Server
Var Station
Var Token
Var CaFile
Var Customer
Var DataDir
Var Updating
Var By
Var ServerField
Var StationField
Var TokenField
Var CaFileField
Var CustomerField

!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "This installs the GameOps PC agent on this PC as a Windows service.$\r$\n$\r$\nThe agent connects to your venue's GameOps server, shows customers their time left, and locks the PC when there is no paid time.$\r$\n$\r$\nYou need the server's address and, from the dashboard (Admin, Stations, Issue agent token), this station's id and its agent token."
!insertmacro MUI_PAGE_WELCOME
Page custom SettingsPage SettingsPageLeave
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "FileDescription" "${PRODUCT} setup"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "MIT"

; The value of a /NAME= option in the command line ($R0): up to the next " /" or the end, or
; between quotes (a path with spaces). FileFunc's GetOptions cannot be used: it ends a value
; at any "/", and every server address has two.
!macro GetOpt NAME VAR
  Push "${NAME}"
  Call GetOpt
  Pop ${VAR}
!macroend

Function GetOpt
  Exch $1
  Push $2
  Push $3
  Push $4
  Push $5
  StrLen $3 $1
  StrCpy $2 0
  find:
    StrCpy $4 $R0 $3 $2
    StrCmp $4 "" missing
    StrCmp $4 $1 found
    IntOp $2 $2 + 1
    Goto find
  found:
    IntOp $2 $2 + $3
    StrCpy $4 $R0 1 $2
    StrCpy $5 $2
    StrCmp $4 '"' 0 unquoted
    IntOp $2 $2 + 1
    StrCpy $5 $2
    quoted:
      StrCpy $4 $R0 1 $5
      StrCmp $4 "" cut
      StrCmp $4 '"' cut
      IntOp $5 $5 + 1
      Goto quoted
    unquoted:
      StrCpy $4 $R0 2 $5
      StrCmp $4 "" cut
      StrCmp $4 " /" cut
      IntOp $5 $5 + 1
      Goto unquoted
  cut:
    IntOp $5 $5 - $2
    StrCpy $1 $R0 $5 $2
    StrCpy $4 $1 1 -1  ; a whole quoted argument ("/CAFILE=C:\a b\ca.pem") ends in a quote
    StrCmp $4 '"' 0 done
    StrCpy $1 $1 -1
    Goto done
  missing:
    StrCpy $1 ""
  done:
    Pop $5
    Pop $4
    Pop $3
    Pop $2
    Exch $1
FunctionEnd

Function .onInit
  SetRegView 64
  SetShellVarContext all
  StrCpy $DataDir "$APPDATA\GameOps"
  ${GetParameters} $R0
  !insertmacro GetOpt "/SERVER=" $Server
  !insertmacro GetOpt "/STATION=" $Station
  !insertmacro GetOpt "/TOKEN=" $Token
  !insertmacro GetOpt "/CAFILE=" $CaFile
  !insertmacro GetOpt "/CUSTOMER=" $Customer
  ReadEnvStr $R1 USERNAME
  StrCpy $By "gameops-agent-setup.exe ($R1)"
  StrCpy $Updating "0"
  ClearErrors
  ReadRegStr $R2 HKLM "SYSTEM\CurrentControlSet\Services\${SERVICE}" "ImagePath"
  ${IfNot} ${Errors}
    StrCpy $Updating "1"
  ${EndIf}
  ${If} ${Silent}
  ${AndIf} $Updating == "0"
    Call CheckSettings
  ${EndIf}
FunctionEnd

; The three settings a new install needs; an update keeps the config it finds unless given.
Function CheckSettings
  StrCpy $R9 ""
  ${If} $Server == ""
    StrCpy $R9 "/SERVER=<ws:// or wss:// address of the GameOps server> is missing"
  ${ElseIf} $Station == ""
    StrCpy $R9 "/STATION=<station id from the dashboard> is missing"
  ${ElseIf} $Token == ""
    StrCpy $R9 "/TOKEN=<agent token from the dashboard> is missing"
  ${ElseIf} $CaFile != ""
  ${AndIfNot} ${FileExists} "$CaFile"
    StrCpy $R9 "/CAFILE=$CaFile: no such file"
  ${EndIf}
  ${If} $R9 != ""
    ${If} ${Silent}
      CreateDirectory "$DataDir"
      FileOpen $R8 "$DataDir\install.log" a
      FileWrite $R8 "gameops-agent-setup: $R9$\r$\n"
      FileClose $R8
      SetErrorLevel 2
      Quit
    ${EndIf}
    MessageBox MB_ICONEXCLAMATION "$R9"
    Abort
  ${EndIf}
FunctionEnd

Function SettingsPage
  !insertmacro MUI_HEADER_TEXT "Connect to the venue's server" "From the dashboard: Admin, Stations, Issue agent token."
  nsDialogs::Create 1018
  Pop $R0
  ${NSD_CreateLabel} 0 0 100% 10u "Server address (ws://, wss://, http:// or https://):"
  ${NSD_CreateText} 0 11u 100% 12u "$Server"
  Pop $ServerField
  ${NSD_CreateLabel} 0 28u 100% 10u "Station id:"
  ${NSD_CreateText} 0 39u 100% 12u "$Station"
  Pop $StationField
  ${NSD_CreateLabel} 0 56u 100% 10u "Agent token (shown once on the dashboard):"
  ${NSD_CreatePassword} 0 67u 100% 12u "$Token"
  Pop $TokenField
  ${NSD_CreateLabel} 0 84u 100% 10u "Server certificate to trust, for wss:// (PEM file, optional):"
  ${NSD_CreateText} 0 95u 100% 12u "$CaFile"
  Pop $CaFileField
  ${NSD_CreateLabel} 0 112u 100% 10u "Customer account the venue policies apply to (optional):"
  ${NSD_CreateText} 0 123u 100% 12u "$Customer"
  Pop $CustomerField
  nsDialogs::Show
FunctionEnd

Function SettingsPageLeave
  ${NSD_GetText} $ServerField $Server
  ${NSD_GetText} $StationField $Station
  ${NSD_GetText} $TokenField $Token
  ${NSD_GetText} $CaFileField $CaFile
  ${NSD_GetText} $CustomerField $Customer
  ${If} $Updating == "1"
  ${AndIf} $Server == ""
    Return  ; keep the installed config
  ${EndIf}
  Call CheckSettings
FunctionEnd

; Run a command: its exit code in $0; the command, its output and its exit code in the
; details and in install.log in the data folder (what support asks for after a silent
; install).
!macro Run COMMAND
  DetailPrint `${COMMAND}`
  nsExec::ExecToStack `${COMMAND}`
  Pop $0
  Pop $1
  DetailPrint "$1"
  CreateDirectory "$DataDir"
  FileOpen $2 "$DataDir\install.log" a
  FileSeek $2 0 END
  FileWrite $2 `> ${COMMAND}$\r$\n$1$\r$\nexit code $0$\r$\n`
  FileClose $2
!macroend

Section "Agent" SecAgent
  SetRegView 64
  SetShellVarContext all
  ${If} $Updating == "1"
    ; An update: the running agent says goodbye with reason "update" (the note next to
    ; its state file), then the service is removed and registered again below.
    DetailPrint "Updating: stopping the running agent"
    !insertmacro Run '${PYTHON} -m gameops.agent.winservice remove --state-file "$DataDir\agent-state.json" --reason update --by "$By"'
  ${EndIf}

  SetOutPath "$INSTDIR"
  File /r "${STAGE}\python"
  File "${STAGE}\LICENSE.txt"

  ; Compiled once here, all of it: the Windows CPython ships only a few of its standard
  ; library's modules compiled, and compiling the rest at the service's first start would
  ; keep the compiler's memory in the service (asyncio alone: 7 MB under Wine).
  !insertmacro Run '${PYTHON} -m compileall -q "$INSTDIR\python\Lib"'

  ; The data folder: config (with the token), signed state file, logs. SYSTEM and
  ; Administrators only; the customer's account cannot read or change anything in it.
  CreateDirectory "$DataDir"
  ; (winservice secure: a protected DACL, SYSTEM and Administrators full control,
  ; inherited below; what icacls /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F
  ; *S-1-5-32-544:(OI)(CI)F does.) The token goes there: no secured folder, no install.
  !insertmacro Run '${PYTHON} -m gameops.agent.winservice secure --dir "$DataDir"'
  ${If} $0 != 0
    SetErrorLevel 4
    ${IfNot} ${Silent}
      MessageBox MB_ICONSTOP "The data folder's permissions could not be set: see the details. Nothing was registered."
    ${EndIf}
    Abort "The data folder's permissions could not be set"
  ${EndIf}

  ${If} $Server != ""
    Call WriteConfig
  ${EndIf}
  !insertmacro Run '${PYTHON} -m gameops.agent.winservice check --config "$DataDir\agent.yaml"'
  ${If} $0 != 0
    FileOpen $R8 "$DataDir\install.log" a
    FileWrite $R8 "gameops-agent-setup: the agent's config was refused (see above)$\r$\n"
    FileClose $R8
    SetErrorLevel 2
    ${IfNot} ${Silent}
      MessageBox MB_ICONSTOP "The agent's configuration was refused: see the details. Nothing was registered."
    ${EndIf}
    Abort "The agent's configuration was refused"
  ${EndIf}

  ; Venue lockdown policies for the customer account (docs/agent.md lists them); the
  ; record of what they replaced is what the uninstaller puts back.
  ${If} $Customer != ""
    !insertmacro Run '${PYTHON} -m gameops.agent.lockdown apply --record "$DataDir\lockdown.json" --customer "$Customer"'
  ${Else}
    !insertmacro Run '${PYTHON} -m gameops.agent.lockdown apply --record "$DataDir\lockdown.json"'
  ${EndIf}

  !insertmacro Run '${PYTHON} -m gameops.agent.winservice install --config "$DataDir\agent.yaml" --start'
  ${If} $0 != 0
    SetErrorLevel 3
    DetailPrint "The service could not be registered or started (exit code $0)"
  ${EndIf}

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "GameOps"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Function WriteConfig
  ReadEnvStr $R1 COMPUTERNAME
  ${If} $R1 == ""
    StrCpy $R1 "PC"
  ${EndIf}
  FileOpen $R0 "$DataDir\agent.yaml" w
  FileWrite $R0 "# Written by gameops-agent-setup.exe ${VERSION}. Keys: config.example.yaml.$\r$\n"
  FileWrite $R0 "station: {id: '$Station', name: '$R1'}$\r$\n"
  ${If} $CaFile != ""
    CopyFiles /SILENT "$CaFile" "$DataDir\server-ca.pem"
    FileWrite $R0 "backend: {url: '$Server', token: '$Token', ca_file: '$DataDir\server-ca.pem'}$\r$\n"
  ${Else}
    FileWrite $R0 "backend: {url: '$Server', token: '$Token'}$\r$\n"
  ${EndIf}
  FileWrite $R0 "system: {control: windows, service: true, overlay: separate, state_file: '$DataDir\agent-state.json'}$\r$\n"
  FileWrite $R0 "log: {file: '$DataDir\agent.log'}$\r$\n"
  FileClose $R0
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
  StrCpy $DataDir "$APPDATA\GameOps"
  ReadEnvStr $R1 USERNAME
  StrCpy $By "uninstall.exe ($R1)"
FunctionEnd

Section "Uninstall"
  ; The agent says goodbye with reason "uninstall", then the service is stopped and removed.
  !insertmacro Run '${PYTHON} -m gameops.agent.winservice remove --state-file "$DataDir\agent-state.json" --reason uninstall --by "$By"'
  !insertmacro Run '${PYTHON} -m gameops.agent.lockdown revert --record "$DataDir\lockdown.json"'
  RMDir /r "$INSTDIR\python"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir /r "$DataDir"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
