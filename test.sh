#!/usr/bin/env bash
# The test command: installs what the tests need (Debian/Ubuntu packages when run as root, the pinned
# Cake.Tool), then runs the NUnit suite: unit tests and tests against real registries, git and HTTP
# servers on loopback. Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Copy).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need=()
for tool in docker-registry:docker-registry buildah:buildah skopeo:skopeo htpasswd:apache2-utils openssl:openssl git:git yq:yq; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}: install them (Debian/Ubuntu: sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
fi
dotnet tool restore >/dev/null

log="$(mktemp)"
set +e
dotnet test ImagePromotion.slnx -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line, summed over the test assemblies ("Total tests: N" blocks of the console logger).
awk '/^Total tests:/ { block = 1; next }
     block && $1 == "Passed:" { p += $2 } block && $1 == "Failed:" { f += $2 } block && $1 == "Skipped:" { s += $2 }
     /^ *Total time:/ { block = 0 }
     /(Passed|Failed)! +- +Failed:/ { for (i = 1; i < NF; i++) { v = $(i+1); gsub(",", "", v); if ($i == "Failed:") f2 += v; if ($i == "Passed:") p2 += v; if ($i == "Skipped:") s2 += v } }
     END { if (p + f + s == 0) { p = p2; f = f2; s = s2 } printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"

# Formatting as .editorconfig describes it (whitespace, layout, using order), checked on every run, CI included.
# Runs after the tests (it needs their restore) and fails the run on its own line.
set +e
unformatted="$(dotnet format ImagePromotion.slnx --verify-no-changes --no-restore 2>&1)"
format_status=$?
set -e
if [ "$format_status" = 2 ]; then
  printf '%s\n' "$unformatted" | sed -n 's|^\(/[^(]*\)(.*|\1|p' | sed "s|^$root/||" | sort -u | sed 's/^/  not formatted: /' >&2
  echo "test.sh: files are not formatted as .editorconfig says: run \`dotnet format ImagePromotion.slnx\` and commit the result" >&2
elif [ "$format_status" != 0 ]; then
  printf '%s\n' "$unformatted" >&2
  echo "test.sh: dotnet format could not check the formatting (exit $format_status): see its output above" >&2
fi
[ "$format_status" = 0 ] || [ "$status" != 0 ] || status=1
exit "$status"
