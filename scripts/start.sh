#!/usr/bin/env bash
# Installs what is missing, builds the workbench and serves it on 127.0.0.1; prints the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
npm run --silent build
exec npx vite preview --host 127.0.0.1 --port "${PORT:-4173}" --strictPort
