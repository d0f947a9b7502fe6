#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests need, then runs
# lint + type check, every unit/GPU test on lavapipe, the kernel tests again on SwiftShader,
# the production build, and the browser (e2e) tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

npm run --silent lint
npm run --silent typecheck

source scripts/gpu-env.sh
echo "== unit and GPU tests on $PRUNELAB_VK"
npx vitest run

if [ "$PRUNELAB_VK" != swiftshader ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  echo "== kernel tests on SwiftShader"
  PRUNELAB_VK=swiftshader source scripts/gpu-env.sh
  npx vitest run test/ops test/gpu
fi

echo "== build and browser tests"
npm run --silent build
npx vitest run --config e2e/vitest.config.ts
