#!/usr/bin/env bash
# The whole test suite on this machine: installs what it needs (scripts/setup.sh, idempotent),
# runs every vitest test (unit, end-to-end, integration against real Apache/Trac/PostgreSQL),
# and ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit $?
mkdir -p .test-results
rm -f .test-results/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@"
status=$?
node scripts/test-summary.mjs .test-results/vitest.json || status=1
exit $status
