#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running hub:
# installs what is missing, creates the first teacher account if there is none, starts the hub.
# Any options are passed to `lectern start` (for example --port 8080 or --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
node dist/server/cli/main.js users ensure-admin "$@"
exec node dist/server/cli/main.js start "$@"
