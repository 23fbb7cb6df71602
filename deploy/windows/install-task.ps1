# Registers deploy\windows\court-publicity-task.xml as a scheduled task for this project folder: every
# 15 minutes, run whether the account is logged on or not, no console window, the log in logs\once.log.
# Works in Windows PowerShell 5.1 and PowerShell 7. In a PowerShell started "as administrator", from the
# project folder:
#   powershell -NoProfile -ExecutionPolicy Bypass -File deploy\windows\install-task.ps1 -User "COURT\publicity"
# It asks for that account's password (Task Scheduler keeps it; the account needs "Log on as a batch job").
param(
    [Parameter(Mandatory = $true)][string]$User,
    [string]$Folder = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path,
    [string]$TaskName = 'court-publicity'
)
$ErrorActionPreference = 'Stop'

$pythonw = Join-Path $Folder '.venv\Scripts\pythonw.exe'
if (-not (Test-Path $pythonw)) {
    throw "找不到 $($pythonw)：请先在项目文件夹中创建虚拟环境并安装依赖（README 快速开始）"
}
$xml = Get-Content -Raw -Encoding UTF8 (Join-Path $PSScriptRoot 'court-publicity-task.xml')
$xml = $xml.Replace('C:\court-publicity', $Folder)
$credential = Get-Credential -UserName $User -Message "计划任务以 $($User) 的身份运行（无论是否登录）：请输入该账户的密码"
Register-ScheduledTask -TaskName $TaskName -Xml $xml -User $User `
    -Password $credential.GetNetworkCredential().Password -Force | Out-Null
Write-Host "已登记计划任务 $($TaskName)：每 15 分钟运行一次，日志在 $($Folder)\logs\once.log（命令的输出）和 $($Folder)\logs\pipeline.log（每项任务一行）"
Write-Host "立即试运行一次：Start-ScheduledTask -TaskName $($TaskName)"
