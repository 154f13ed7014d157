#!/usr/bin/env bash
# Installs everything Lectern needs on Debian/Ubuntu, idempotently, then builds it.
#   scripts/setup.sh              hub prerequisites: Node packages, Debian's Jupyter, bubblewrap (students' sandboxes)
#   scripts/setup.sh --for-tests  also what the test suite drives: Chromium, and nginx in front of a hub
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(jupyterhub jupyter-notebook python3-jupyter-server python3-ipykernel bubblewrap)
if [[ "${1:-}" == "--for-tests" ]]; then
  debian_packages+=(chromium nginx)
fi

missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "Lectern's setup installs Debian packages (${missing[*]}) and needs apt-get." >&2
    echo "On another system, install Jupyter yourself and point spawner.command at it." >&2
    exit 1
  fi
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  echo "Installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node packages: reinstall only when the lock file changed since the last install.
stamp=node_modules/.lectern-lock-hash
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat "$stamp")" != "$lock_hash" ]]; then
  echo "Installing Node packages"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
  echo "$lock_hash" >"$stamp"
fi

npm run --silent build
