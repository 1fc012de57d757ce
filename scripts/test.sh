#!/usr/bin/env bash
# The test command (npm test): set up what is missing (the engine, the image, and the readers the
# tests use as honest judges: tshark for pcapng, Chromium for the HTML report), then unit,
# browser and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-test-tools.sh
npx vitest run --reporter=default "$@"
