#!/usr/bin/env pwsh
# Bootstrap for Windows, the twin of build.sh: restore the pinned Cake.Tool, then run build.cake.
# Usage: ./build.ps1 --target=PromoteStaging [--config=promotion.yaml] [--commit=SHA] [--dryrun]
$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'; $env:DOTNET_NOLOGO = '1'; $env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'
dotnet tool restore | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
dotnet cake build.cake @args
exit $LASTEXITCODE
