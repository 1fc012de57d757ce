#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: Debian packages, a Docker engine, npm
# dependencies, the build, and the lab host image. Safe to run again; does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# --deps: only the npm dependencies (npm test lints while the rest is set up)
[ "${1:-}" = --deps ] && exit 0

apt_updated=0
need_pkg() { # need_pkg <command> <debian package>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$apt_updated" -eq 0 ]; then log "apt-get update"; as_root apt-get update -qq; apt_updated=1; fi
  log "installing $2"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

need_pkg dockerd docker.io
need_pkg mmdebstrap mmdebstrap
need_pkg ip iproute2
need_pkg gcc gcc

engine_up() { docker info >/dev/null 2>&1; }
if ! engine_up; then
  log "starting dockerd --bridge=none (log: /var/log/overlab-dockerd.log)"
  # --bridge=none: labs bring their own switch; the machine gets no docker0.
  as_root sh -c 'nohup dockerd --bridge=none >/var/log/overlab-dockerd.log 2>&1 &'
  for _ in $(seq 1 120); do engine_up && break; sleep 0.5; done
  engine_up || { log "dockerd did not come up; see /var/log/overlab-dockerd.log"; tail -20 /var/log/overlab-dockerd.log >&2; exit 3; }
fi

log "build"
npm run --silent build
node bin/run.js image build --if-missing
log "ready: $(node bin/run.js --version)"
