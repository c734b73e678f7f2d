#!/usr/bin/env bash
# The Grafana schema check (check.mjs) with its pinned packages: installs them with `npm ci`
# from this directory's package-lock.json into DIR (the build directory's grafana-schema/)
# when they are missing or the lock changed, then runs the check there.
#
#   tests/grafana-schema/run.sh DIR [check.mjs arguments...]
#
# Needs node and npm (the machine's Node.js 20) and the npm registry for the first install.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$1
shift
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "grafana-schema: node and npm are needed (Node.js 20 with npm)" >&2; exit 1; }
mkdir -p "$dir"
# One install at a time: ctest -j runs the checks of this label side by side.
exec 9>"$dir/.install.lock"
flock 9
if ! cmp -s "$here/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules/@grafana/schema" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
flock -u 9
exec node "$here/check.mjs" --modules "$dir" "$@"
