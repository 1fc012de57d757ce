#!/usr/bin/env bash
# overlab's main job on a fresh machine: set up, then build every lab, prove its story, take it down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/run.js doctor
node bin/run.js run labs/*.yaml --junit overlab-junit.xml "$@"
