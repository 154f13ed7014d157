#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running hub:
# installs what is missing, builds Lectern and starts the hub (the first start creates the
# teacher's admin account and prints its password once).
# Any options are passed to `lectern start` (for example --port 8080 or --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec ./lectern start "$@"
