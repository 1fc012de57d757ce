#!/usr/bin/env bash
# The test command (npm test): the lint (npm run lint: layer rules, tsc of tests and sources,
# typescript-eslint, knip), its first three run while the rest is set up — the engine, the build, the image, and the readers the
# tests use as honest judges (tshark for pcapng, Chromium for the HTML report) — then unit, browser
# and integration tests. A lint failure fails the run before any test starts.
# knip runs after the build: bin/ and scripts/ load modules through dist/, and knip follows those
# imports back to src/ only once dist/ exists (before it, a fresh clone's validate-fast.ts reads as
# unused).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --deps
lint_log=$(mktemp /tmp/overlab-lint.XXXXXX)
trap 'rm -f "$lint_log"' EXIT
(
  start=$SECONDS
  status=0
  { npm run --silent lint:deps && npm run --silent lint:types && npm run --silent lint:code; } || status=$?
  printf '\033[1m[test]\033[0m npm run lint:deps, lint:types, lint:code: %s s\n' "$((SECONDS - start))"
  exit "$status"
) >"$lint_log" 2>&1 &
lint_pid=$!
bash scripts/setup.sh
bash scripts/install-test-tools.sh
lint_status=0
wait "$lint_pid" || lint_status=$?
cat "$lint_log"
if [ "$lint_status" -eq 0 ]; then
  npm run --silent lint:dead || lint_status=$?
fi
if [ "$lint_status" -ne 0 ]; then
  printf '\033[1m[test]\033[0m npm run lint failed (exit %s): fix what it names above, then run npm test again\n' "$lint_status" >&2
  exit "$lint_status"
fi
npx vitest run --reporter=default "$@"
