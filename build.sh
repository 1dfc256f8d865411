#!/usr/bin/env bash
# Bootstrap: find the pinned Cake.Tool (restored once), build the pipeline module when its sources
# changed, run the Cake script. On a warm run this file forks nothing but `dotnet` itself (a fork costs
# milliseconds on some sandboxes): builtins only, shell globs instead of find.
# Usage: ./build.sh --target=PromoteProduction [--config=promotion.yaml] [--dryrun] [--verbosity=diagnostic]
set -euo pipefail
case "${BASH_SOURCE[0]}" in */*) cd "${BASH_SOURCE[0]%/*}" ;; esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET SDK 10 is required (dotnet not found on PATH): see https://dot.net" >&2
  exit 1
fi
say() { echo "build.sh: $*" >&2; }
# At --verbosity=diagnostic this file says what it found and chose (which Cake, whether the module was
# rebuilt); Cake's own diagnostics follow.
diagnostic=false previous=
for a in "$@"; do
  case "$previous|$a" in
    *"|--verbosity="[Dd]iag* | *"|-v="[Dd]iag* | "--verbosity|"[Dd]iag* | "-v|"[Dd]iag*) diagnostic=true ;;
  esac
  previous="$a"
done
trace() { if [ "$diagnostic" = true ]; then say "$@"; fi; }

# A CI job starts from a fresh clone and keeps only what its cache restores: it makes no precompiled
# (ReadyToRun) copies, whose packs (51 MB downloaded, 173 MB unpacked into the NuGet folder the job would
# then cache) and compile would cost more than the job saves. Measured on a fresh clone with empty NuGet
# folders: a CI job's NuGet folder ends at 134 MB (Cake.Tool and the module's five packages), a
# developer's first run at 307 MB. CI: GitHub Actions and CodeBuild set their own variables; most others CI.
ci=false
case "${CI:-}" in "" | false | False | FALSE | 0) ;; *) ci=true ;; esac
if [ -n "${GITHUB_ACTIONS:-}" ] || [ -n "${CODEBUILD_BUILD_ID:-}" ]; then ci=true; fi
case "$OSTYPE-$HOSTTYPE" in
  linux*-x86_64) rid=linux-x64 ;; linux*-aarch64) rid=linux-arm64 ;;
  darwin*-x86_64) rid=osx-x64 ;; darwin*-arm64 | darwin*-aarch64) rid=osx-arm64 ;; *) rid= ;;
esac
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
packages="${packages%/}"
[ -d .artifacts ] || mkdir .artifacts

# --- Cake.Tool --------------------------------------------------------------------------------------
# Cake.dll is run by path: `dotnet cake` starts the SDK's CLI first to look the tool up (~0.2 s a run).
# The version comes from the tool manifest; the package from NuGet's global packages folder (complete
# once NuGet wrote its .nupkg.metadata), restored when absent; the path is remembered in .artifacts.
IFS= read -r -d '' manifest < .config/dotnet-tools.json || true
cake_version=
if [[ $manifest =~ \"cake\.tool\"[^}]*\"version\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then
  cake_version="${BASH_REMATCH[1]}"
fi
cake_in() { # cake_in PACKAGES_FOLDER: prints the pinned version's Cake.dll there, if the package is complete
  local dir="$1/cake.tool/$cake_version" dll
  [ -f "$dir/.nupkg.metadata" ] || return 1
  for dll in "$dir"/tools/net*/any/Cake.dll; do [ -f "$dll" ] && { echo "$dll"; return 0; }; done
  return 1
}
cake_dll= how="as shipped"
tool_state=.artifacts/cake-tool.path   # "VERSION PATH" of the last lookup
if [ -n "$cake_version" ]; then
  if [ -f "$tool_state" ] && read -r seen_version seen_dll < "$tool_state" &&
     [ "$seen_version" = "$cake_version" ] && [ -f "$seen_dll" ]; then
    cake_dll="$seen_dll"
  else
    cake_dll="$(cake_in "$packages" || true)"
    if [ -z "$cake_dll" ]; then
      dotnet tool restore >/dev/null
      # A NuGet.Config may move the global packages folder: ask NuGet where it is.
      cake_dll="$(cake_in "$packages" || cake_in "$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')" || true)"
    fi
    if [ -n "$cake_dll" ]; then echo "$cake_version $cake_dll" > "$tool_state"; fi
  fi
fi

# --- The pipeline module -----------------------------------------------------------------------------
# Rebuilt when its sources changed. Modification times first (a folder counts: it changes when a file is
# added, renamed or deleted); when anything looks newer (an edit, a fresh clone, a restored CI cache),
# the sources' content hash decides, so a clone whose files are merely newer than the cached build does
# not rebuild.
module_dir=.artifacts/module
module_dll="$module_dir/ImagePromotion.dll"
module_stamp="$module_dir/.sources.sha256"
sources=(src/ImagePromotion Directory.Build.props)
looks_newer() {
  if shopt -s globstar nullglob 2>/dev/null; then   # bash 4+; macOS's bash 3.2 falls back to find
    local f
    for f in src/ImagePromotion/**/ src/ImagePromotion/**/*.cs src/ImagePromotion/**/*.csproj src/ImagePromotion/**/*.props Directory.Build.props; do
      case "$f" in */obj/* | */bin/*) continue ;; esac
      [ "$f" -nt "$module_stamp" ] && return 0
    done
    return 1
  fi
  [ -n "$(find "${sources[@]}" \( -name obj -o -name bin \) -prune -o -newer "$module_stamp" \( -type d -o -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -print -quit)" ]
}
sources_hash() {
  local sha=(sha256sum); command -v sha256sum >/dev/null 2>&1 || sha=(shasum -a 256)   # macOS: shasum
  find "${sources[@]}" \( -name obj -o -name bin \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -print0 |
    LC_ALL=C sort -z | xargs -0 "${sha[@]}" | "${sha[@]}" | cut -c1-64
}
if [ ! -f "$module_dll" ] || [ ! -f "$module_stamp" ] || looks_newer; then
  hash="$(sources_hash)"
  if [ -f "$module_dll" ] && [ -f "$module_stamp" ] && read -r built < "$module_stamp" && [ "$built" = "$hash" ]; then
    trace "module up to date: sources newer than the build but unchanged (sha256 $hash)"
    touch "$module_stamp"
  else
    say "building the pipeline module..."
    # ReadyToRun (precompiled) where it pays: every later run skips the module's JIT. Not in CI (see
    # above); there, on other platforms, or if the precompiler cannot be restored, a plain build.
    # IMAGE_PROMOTION_READYTORUN=true|false overrides the choice. The precompile needs two packs (crossgen2,
    # 12 MB, and the .NET runtime pack, 39 MB, downloaded once); DisableTransitiveFrameworkReferenceDownloads
    # keeps the SDK from fetching the ASP.NET Core runtime pack too (13 MB), which the module does not use.
    r2r="${IMAGE_PROMOTION_READYTORUN:-}"
    if [ -z "$r2r" ]; then if [ "$ci" = true ]; then r2r=false; else r2r=true; fi; fi
    rm -rf "$module_dir"
    if [ "$r2r" != true ] || [ -z "$rid" ] || ! dotnet publish src/ImagePromotion/ImagePromotion.csproj -c Release -r "$rid" --self-contained false \
         -p:PublishReadyToRun=true -p:DisableTransitiveFrameworkReferenceDownloads=true -o "$module_dir" -nologo -v quiet -clp:ErrorsOnly >&2; then
      dotnet build src/ImagePromotion/ImagePromotion.csproj -c Release -o "$module_dir" -nologo -v quiet -clp:ErrorsOnly -clp:NoSummary >&2
    fi
    echo "$hash" > "$module_stamp"
    trace "module built from sources sha256 $hash"
    # Cake keys its script cache on the script's text alone: a script compiled against the old module
    # could call a member that changed shape. Compile it afresh.
    rm -rf build/.cake-cache
  fi
fi

# --- A ReadyToRun copy of Cake -----------------------------------------------------------------------
# Cake.Tool ships IL only, so every run JIT-compiles Cake's own start (~0.3 s of a warm run). A
# precompiled copy is made once per machine, Cake version and platform, with the crossgen2 compiler that
# the module's ReadyToRun build brought into the NuGet cache; not in CI, nor where that compiler is
# absent (those run the package as it is). The copy is used only while every file named in its
# .complete exists and is no newer than that list, written last: an interrupted, damaged or half
# restored copy is made again (in CI: not used). IMAGE_PROMOTION_CAKE_R2R=false runs the package as is.
if [ -n "$cake_dll" ] && [ -n "$rid" ] && [ "${IMAGE_PROMOTION_CAKE_R2R:-true}" = true ]; then
  cake_src="${cake_dll%/Cake.dll}"
  tfm="${cake_src%/any}"; tfm="${tfm##*/}"   # net10.0: the runtime Cake runs on
  copy="${XDG_CACHE_HOME:-$HOME/.cache}/image-promotion/cake-r2r-$cake_version-$tfm-$rid"
  intact() {
    local name any=false
    [ -f "$1/.complete" ] || return 1
    while IFS= read -r name; do
      [ -f "$1/$name" ] && [ ! "$1/$name" -nt "$1/.complete" ] || return 1
      any=true
    done < "$1/.complete"
    [ "$any" = true ]
  }
  if intact "$copy"; then
    cake_dll="$copy/Cake.dll" how="ReadyToRun copy"
  elif [ -e "$copy" ]; then
    say "the ReadyToRun copy of Cake in $copy is incomplete or damaged: not using it"
  fi
  if [ "$how" = "as shipped" ] && [ "$ci" = false ] && [ ! -f "$copy.failed" ]; then
    newest() { [ $# -gt 0 ] && ls -d "$@" 2>/dev/null | sort -V | tail -n 1; }   # "$@": a glob's matches
    major="${tfm#net}"; major="${major%%.*}"
    crossgen="$(newest "$packages/microsoft.netcore.app.crossgen2.$rid/$major".*/tools/crossgen2 || true)"
    framework="$(newest "$(dirname "$(readlink -f "$(command -v dotnet)")")/shared/Microsoft.NETCore.App/$major".* || true)"
    if [ -f "$crossgen" ] && [ -x "$crossgen" ] && [ -d "$framework" ]; then
      say "precompiling Cake $cake_version (ReadyToRun; once per machine, about 20 s)..."
      rm -rf "$copy"
      work="$copy.tmp.$$"
      mkdir -p "$work"
      cp -R "$cake_src"/. "$work"/
      case "$rid" in osx-*) os=osx ;; *) os=linux ;; esac
      # Roslyn too: it compiles the script whenever a .cake file changed. Basic.Reference.Assemblies holds
      # reference assemblies only (metadata, no code).
      if (cd "$cake_src" && ls -- *.dll | grep -v '^Basic\.Reference\.Assemblies' |
            xargs -P 2 -I{} "$crossgen" {} -o "$work/{}" -r "$framework/*.dll" -r "$cake_src/*.dll" \
              --targetos:"$os" --targetarch:"${rid#*-}" -O) > "$work/crossgen.log" 2>&1; then
        (cd "$work" && ls -- *.dll *.json) > "$work/.complete"
        # Another build.sh may have finished first: keep its copy.
        if [ -e "$copy" ]; then rm -rf "$work"; else mv "$work" "$copy"; fi
        cake_dll="$copy/Cake.dll" how="ReadyToRun copy, just made"
      else
        mv "$work/crossgen.log" "$copy.failed" && rm -rf "$work"
        say "precompiling Cake failed (log: $copy.failed; delete it to try again): running Cake as shipped"
      fi
    fi
  fi
fi

# Cake reads cake.config beside the script (build/cake.config links to the top-level one); the variable
# keeps the script cache on where a checkout has no symlinks. --skip-bootstrap: Cake's bootstrap pass reads
# every .cake file for #module directives before the real run reads them again (~0.07 s); ours have none.
export CAKE_SETTINGS_ENABLESCRIPTCACHE=true
bootstrap=--skip-bootstrap
for a in "$@"; do case "$a" in --skip-bootstrap | --skip-bootstrap=* | --bootstrap | --bootstrap=*) bootstrap= ;; esac; done
if [ -n "$cake_dll" ]; then
  trace "Cake $cake_version: $cake_dll ($how)"
  exec dotnet "$cake_dll" build/build.cake ${bootstrap:+"$bootstrap"} "$@"
fi
trace "Cake: dotnet cake (the package was not found by path)"
exec dotnet cake build/build.cake ${bootstrap:+"$bootstrap"} "$@"
