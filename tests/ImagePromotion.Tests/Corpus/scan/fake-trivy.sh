#!/bin/sh
# Stands in for trivy: records how it was called (argv and the credential variables), then prints a
# Trivy JSON report the way `trivy image --format json --quiet` does.
dir=$(dirname "$0")
printf '%s\n' "$@" > "$dir/argv.txt"
printf 'TRIVY_USERNAME=%s\nTRIVY_PASSWORD=%s\nTRIVY_INSECURE=%s\n' "${TRIVY_USERNAME:-}" "${TRIVY_PASSWORD:-}" "${TRIVY_INSECURE:-}" > "$dir/env.txt"
cat "$dir/trivy-alpine.json"
