#!/usr/bin/env bash
# A private Docker engine for one developer (or one parallel test run) on a shared machine, so
# `overlab down --all` and fixed lab names in the integration tests never touch anyone else's labs.
#
#   eval "$(bash scripts/dev/private-engine.sh start alice)"   # exports DOCKER_HOST
#   bash scripts/dev/private-engine.sh stop alice
#
# It runs `dockerd --bridge=none --iptables=false` with its own socket, data root and exec root,
# and loads overlab/host:latest from the default engine when that one has it (else run
# `node bin/run.js image build` against the private engine).
set -euo pipefail

cmd=${1:-}
name=${2:-}
[[ "$name" =~ ^[a-z][a-z0-9-]{0,30}$ ]] || { echo "usage: $0 start|stop|env <name: [a-z][a-z0-9-]*>" >&2; exit 2; }

run=/run/overlab-engine-$name
sock=$run/docker.sock
export_line="export DOCKER_HOST=unix://$sock"

answers() { DOCKER_HOST=unix://$sock docker info >/dev/null 2>&1; }

case "$cmd" in
  start)
    if ! answers; then
      mkdir -p "$run"
      # --iptables=false: lab containers use no Docker network, and a second engine must not
      # rewrite the machine's firewall rules.
      nohup dockerd --bridge=none --iptables=false --ip6tables=false \
        -H "unix://$sock" --data-root "/var/lib/overlab-engine-$name" --exec-root "$run/exec" \
        --pidfile "$run/docker.pid" >"$run/dockerd.log" 2>&1 &
      for _ in $(seq 1 120); do answers && break; sleep 0.5; done
      answers || { echo "private engine $name did not come up; see $run/dockerd.log" >&2; exit 3; }
    fi
    if ! DOCKER_HOST=unix://$sock docker image inspect overlab/host:latest >/dev/null 2>&1; then
      if docker image inspect overlab/host:latest >/dev/null 2>&1; then
        for tag in $(docker image inspect -f '{{join .RepoTags " "}}' overlab/host:latest); do
          docker save "$tag" | DOCKER_HOST=unix://$sock docker load >/dev/null
        done
      else
        echo "# overlab/host:latest is not on the default engine either: build it with DOCKER_HOST set" >&2
      fi
    fi
    echo "$export_line"
    ;;
  env)
    echo "$export_line"
    ;;
  stop)
    if [ -f "$run/docker.pid" ]; then
      DOCKER_HOST=unix://$sock docker ps -aq | xargs -r env DOCKER_HOST=unix://$sock docker rm -f >/dev/null 2>&1 || true
      kill "$(cat "$run/docker.pid")" 2>/dev/null || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop|env <name>" >&2
    exit 2
    ;;
esac
