#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what the tests need, then lints,
# type-checks, builds and runs every test with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --for-tests
exec npm test
