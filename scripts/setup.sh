#!/usr/bin/env bash
# Installs what Prunelab needs on a fresh Debian machine, skipping what is already there:
# Node packages (npm ci), and with --test also Chromium, python3 (the cluster recipe's checks), the Vulkan loader and CPU Vulkan drivers
# (lavapipe from Mesa 25 when ../shared/scripts/get-lavapipe.sh is present, else Chromium's SwiftShader).
set -euo pipefail
cd "$(dirname "$0")/.."

need_test=0
[ "${1:-}" = "--test" ] && need_test=1

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Prunelab needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$need_test" = 1 ]; then
  missing=()
  # python3: the cluster recipe's tests compile its scripts and run sdft.py against the TypeScript.
  for pkg in chromium libvulkan1 mesa-vulkan-drivers python3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing ${missing[*]} …"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -f .cache/lavapipe/lvp_icd.json ] && [ -x ../shared/scripts/get-lavapipe.sh ]; then
    echo "Fetching lavapipe (Mesa 25) into .cache/lavapipe …"
    ../shared/scripts/get-lavapipe.sh .cache/lavapipe >/dev/null || echo "lavapipe unavailable; SwiftShader will be used." >&2
  fi
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "Installing Node packages …"
  npm ci --no-audit --no-fund --loglevel=error
fi
