#!/usr/bin/env bash
# The benchmark against skopeo (issue 6): bench/run.sh [--quick] [--only=S1,S3]
# Starts its own registries and latency proxies on loopback, builds random test images, runs S1–S10 with
# promote-copy (./build.sh in S8 and S10: S10 clones HEAD, so commit first) and with skopeo, alternating,
# and writes bench/results/latest.{md,json}. S10's no-cache job fetches packages from the NuGet source.
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
# Our side is the console host, published the way a CLI ships: Native AOT when a native toolchain is
# there (clang; installed when running as root), else an ordinary JIT build. BENCH_HOST=jit forces the
# latter. The results name the build. The publish is skipped when no source changed since the last one.
host="${BENCH_HOST:-aot}"
if [ "$host" = aot ] && ! command -v clang >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench/run.sh: installing clang for the Native AOT publish..." >&2
    apt-get install -y -qq clang zlib1g-dev >/dev/null 2>&1 || host=jit
  else
    host=jit
  fi
fi
stamp="$out/console-$host/.stamp"
if [ ! -f "$stamp" ] || [ -n "$(find src/ImagePromotion src/ImagePromotion.Console Directory.Build.props -newer "$stamp" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
  echo "bench/run.sh: building promote-copy ($host)..." >&2
  if [ "$host" = aot ]; then
    dotnet publish src/ImagePromotion.Console/ImagePromotion.Console.csproj -c Release -r linux-x64 -p:PublishAot=true \
      -o "$out/console-$host" -nologo -v quiet -clp:ErrorsOnly >&2
  else
    dotnet build src/ImagePromotion.Console/ImagePromotion.Console.csproj -c Release -o "$out/console-$host" -nologo -v quiet -clp:ErrorsOnly >&2
  fi
  touch "$stamp"
fi
echo "bench/run.sh: building the benchmark..." >&2
dotnet build bench/ImagePromotion.Bench/ImagePromotion.Bench.csproj -c Release -o "$out/bench" -nologo -v quiet -clp:ErrorsOnly >&2
exec "$out/bench/ImagePromotion.Bench" --console="$out/console-$host/promote-copy" --host-build="$host" --repo="$root" "$@"
