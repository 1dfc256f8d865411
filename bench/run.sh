#!/usr/bin/env bash
# The benchmark against skopeo (issue 6): bench/run.sh [--quick] [--only=S1,S3]
# Starts its own registries and latency proxies on loopback, builds random test images, runs S1–S9 with
# promote-copy (and ./build.sh in S8) and with skopeo, alternating, and writes bench/results/latest.{md,json}.
# Needs: the .NET 10 SDK, docker-registry, skopeo, /usr/bin/time (apt-get install docker-registry skopeo time).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

missing=()
for tool in docker-registry skopeo git; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench/run.sh: missing ${missing[*]}: install them (apt-get install ${missing[*]})" >&2; exit 1
  fi
fi

out="$root/bench/.build"
echo "bench/run.sh: building promote-copy and the benchmark (Release)..." >&2
dotnet build src/ImagePromotion.Console/ImagePromotion.Console.csproj -c Release -o "$out/console" -nologo -v quiet -clp:ErrorsOnly >&2
dotnet build bench/ImagePromotion.Bench/ImagePromotion.Bench.csproj -c Release -o "$out/bench" -nologo -v quiet -clp:ErrorsOnly >&2
exec "$out/bench/ImagePromotion.Bench" --console="$out/console/promote-copy" --repo="$root" "$@"
