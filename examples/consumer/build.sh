#!/usr/bin/env bash
# Bootstrap: restore the pinned Cake.Tool, then run build.cake; Cake fetches the two packages into tools/
# from the sources in nuget.config on the first run.
# Usage: ./build.sh --target=PromoteStaging [--config=promotion.yaml] [--commit=SHA] [--dryrun]
set -euo pipefail
# Command-line paths are relative to where you run this; Cake itself starts in the script's folder.
export PROMOTION_INVOCATION_DIR="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
