#!/usr/bin/env pwsh
# Bootstrap for Windows, the twin of build.sh: restore Cake.Tool, build the module only when its sources
# changed, and run the Cake script with every argument passed through.
$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'; $env:DOTNET_NOLOGO = '1'; $env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    Write-Error 'build.ps1: the .NET SDK 10 is required (dotnet not found on PATH): see https://dot.net'
    exit 1
}

$toolsStamp = '.artifacts/tools.stamp'
if (-not (Test-Path $toolsStamp) -or ((Get-Item '.config/dotnet-tools.json').LastWriteTimeUtc -gt (Get-Item $toolsStamp).LastWriteTimeUtc)) {
    dotnet tool restore | Out-Null
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    New-Item -ItemType Directory -Force '.artifacts' | Out-Null
    New-Item -ItemType File -Force $toolsStamp | Out-Null
}

$moduleDir = '.artifacts/module'
$moduleDll = Join-Path $moduleDir 'ImagePromotion.dll'
$stale = -not (Test-Path $moduleDll)
if (-not $stale) {
    $built = (Get-Item $moduleDll).LastWriteTimeUtc
    $sources = @(Get-ChildItem -Recurse -File 'src/ImagePromotion' -Include '*.cs', '*.csproj' |
        Where-Object { $_.FullName -notmatch '[\\/](obj|bin)[\\/]' }) + @(Get-Item 'Directory.Build.props')
    $stale = [bool]($sources | Where-Object { $_.LastWriteTimeUtc -gt $built } | Select-Object -First 1)
}
if ($stale) {
    Write-Host 'build.ps1: building the pipeline module...'
    # ReadyToRun (precompiled) on the common platforms, as build.sh does; a plain build elsewhere, on failure
    # and in CI (a job from a fresh clone would download the runtime packs each time: see build.sh).
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture
    $ci = ($env:CI -and $env:CI -notin @('false', '0')) -or $env:GITHUB_ACTIONS -or $env:CODEBUILD_BUILD_ID
    $rid = if ($ci) { $null } elseif ($IsWindows -or $env:OS -eq 'Windows_NT') { if ($arch -eq 'Arm64') { 'win-arm64' } else { 'win-x64' } } else { $null }
    $published = $false
    if ($rid) {
        dotnet publish src/ImagePromotion/ImagePromotion.csproj -c Release -r $rid --self-contained false -p:PublishReadyToRun=true -p:DisableTransitiveFrameworkReferenceDownloads=true -o $moduleDir -nologo -v quiet -clp:ErrorsOnly
        $published = ($LASTEXITCODE -eq 0)
    }
    if (-not $published) {
        dotnet build src/ImagePromotion/ImagePromotion.csproj -c Release -o $moduleDir -nologo -v quiet -clp:ErrorsOnly
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
    (Get-Item $moduleDll).LastWriteTimeUtc = [DateTime]::UtcNow
}

# Cake reads cake.config beside the script (build/cake.config links to the top-level one); the variable
# keeps the script cache on where a checkout has no symlinks (Windows without symlink support).
$env:CAKE_SETTINGS_ENABLESCRIPTCACHE = 'true'
dotnet cake build/build.cake @args
exit $LASTEXITCODE
