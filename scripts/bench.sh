#!/usr/bin/env bash
# Runs every benchmark in bench/ (bench/*.bench.mjs and *.bench.js, each a plain Node script
# that prints its figures), after installing and building what they need. Exit 1 when any
# benchmark fails or misses its goal.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null || exit $?
status=0
shopt -s nullglob
for bench in bench/*.bench.mjs bench/*.bench.js; do
  echo "== $bench"
  node "$bench" || status=1
done
exit $status
