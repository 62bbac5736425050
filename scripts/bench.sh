#!/usr/bin/env bash
# Runs every bench/*.bench.* file in turn (npm run bench). Figures go to stdout, not into tests.
# Loads are bounded in count and time and stay on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
status=0
for file in bench/*.bench.*; do
  echo "== $file"
  node "$file" || status=1
  echo
done
exit $status
