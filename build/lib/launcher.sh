# Sourced by build.sh before it changes directory, for what has to happen before Cake reads the command line.
# - PROMOTION_INVOCATION_DIR: the directory the user ran from. Command-line paths are relative to it; Cake moves
#   its working directory to build/ before the script runs, so the script could not tell otherwise.
# - --help / -h: the Help target (every target with its arguments, the default) instead of Cake's option list.
# - --verbosity / -v: Cake refuses a bad value before the script runs, with a message naming neither the
#   argument nor the valid values ("Failed to convert 'loud' to Nullable`1"), so it is checked here.
export PROMOTION_INVOCATION_DIR="$PWD"

promotion_check_verbosity() {
  case "$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" in
    quiet|minimal|normal|verbose|diagnostic|q|m|n|v|d) ;;
    *) echo "Error: --verbosity=$1 is not a verbosity: use quiet, minimal, normal, verbose or diagnostic" >&2; exit 1 ;;
  esac
}

promotion_previous=
for promotion_arg in "$@"; do
  case "$promotion_previous" in --verbosity|-v) promotion_check_verbosity "$promotion_arg" ;; esac
  case "$promotion_arg" in
    --help|-h|-\?) set -- --target=Help; promotion_previous=; break ;;
    --verbosity=*|-v=*) promotion_check_verbosity "${promotion_arg#*=}" ;;
  esac
  promotion_previous="$promotion_arg"
done
case "$promotion_previous" in --verbosity|-v) promotion_check_verbosity "" ;; esac
unset promotion_previous promotion_arg
