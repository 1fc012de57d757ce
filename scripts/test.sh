#!/usr/bin/env bash
# The test command (npm test): set up what is missing, then unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vitest run --reporter=default "$@"
