# Sourced by build.sh, for what has to happen before Cake reads the command line; builtins only (build.sh
# forks nothing on a warm run). build.sh itself exports PROMOTION_INVOCATION_DIR, the directory the user ran
# it from, before it changes directory: command-line paths are relative to it (Cake starts in build/).
# - --help / -h: the Help target (every target with its arguments, the default) instead of Cake's option list.
# - --verbosity / -v: Cake refuses a bad value before the script runs, with a message naming neither the
#   argument nor the valid values ("Failed to convert 'loud' to Nullable`1"), so it is checked here.

promotion_check_verbosity() {
  # Any case, as Cake reads it; patterns rather than ${1,,}, which macOS's bash 3.2 lacks.
  case "$1" in
    [Qq][Uu][Ii][Ee][Tt] | [Mm][Ii][Nn][Ii][Mm][Aa][Ll] | [Nn][Oo][Rr][Mm][Aa][Ll] | [Vv][Ee][Rr][Bb][Oo][Ss][Ee] | \
    [Dd][Ii][Aa][Gg][Nn][Oo][Ss][Tt][Ii][Cc] | [QqMmNnVvDd]) ;;
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
