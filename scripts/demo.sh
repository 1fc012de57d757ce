#!/usr/bin/env bash
# overlab's main job on a fresh machine: set up, then build every lab, prove its story, take it down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/run.js doctor
# Three labs at a time: they share nothing (own containers, underlay, lock); on a 2-core machine
# the labs mostly wait on the engine and the agents' convergence, so three overlap well
# (OVERLAB_DEMO_PARALLEL=1 runs them one after another).
parallel=$(node scripts/setting.mjs OVERLAB_DEMO_PARALLEL 3)
node bin/run.js run labs/*.yaml --parallel "$parallel" --junit overlab-junit.xml "$@"
