#!/usr/bin/env bash
# The test suite with two CPU-bound processes running beside it for the whole run, as on a busy
# machine or a shared CI runner: a test that assumes a speed fails here.
#   scripts/test-under-load.sh              the whole suite (as scripts/test.sh)
#   scripts/test-under-load.sh PATTERN...   only the test files whose path contains a PATTERN
set -euo pipefail
cd "$(dirname "$0")/.."
hogs=()
trap 'kill "${hogs[@]}" 2>/dev/null || true' EXIT
for _ in 1 2; do
  node -e 'for (;;) {}' &
  hogs+=($!)
done
echo "Running the tests beside two CPU-bound processes (${hogs[*]})."
if (($#)); then
  npm test -- "$@"
else
  scripts/test.sh
fi
