#!/usr/bin/env bash
# Installs what is missing, builds the workbench and serves it on 127.0.0.1; prints the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
npm run --silent build
# The server itself replaces this shell (not an npx wrapper), so stopping start.sh stops serving.
exec node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "${PORT:-4173}" --strictPort
