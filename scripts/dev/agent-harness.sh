#!/usr/bin/env bash
# Dev harness for the overlab agent: 2 lab hosts + etcd on a veth/bridge underlay, one pod per host.
#
#   scripts/dev/agent-harness.sh up <vxlan|udp|host-gw> [ttl-seconds]   build, create, start agents, add pods
#   scripts/dev/agent-harness.sh down                                    remove every agentdev-* container
#   scripts/dev/agent-harness.sh start-agent <host>                      (re)start the agent on host1|host2
#   scripts/dev/agent-harness.sh kill-agent <host> [TERM|KILL]           signal the agent (pid from its pid file)
#   scripts/dev/agent-harness.sh stop-etcd | start-etcd                  kill / restart the etcd process
#   scripts/dev/agent-harness.sh state <host>                            ip -j route / neigh, bridge -j fdb, stats
#   scripts/dev/agent-harness.sh ping <from-host> <to-host> [count]      pod -> pod ping across hosts
#   scripts/dev/agent-harness.sh pod-ip <host>                           the pod's address
#   scripts/dev/agent-harness.sh update-agent                            copy a fresh dist/host/agent into the hosts
#   scripts/dev/agent-harness.sh set-config <key> <json-value|->         set (or with "-" remove) one key in both agents' config
# Env: TUNIO=poll|threadpool and UDPDATAPATH=native|node go into the agents' config at `up`.
#
# Containers: agentdev-switch (holds the `underlay` bridge, --pid host), agentdev-etcd (192.168.50.250),
# agentdev-host1 (192.168.50.2), agentdev-host2 (192.168.50.3); all --network none, labelled
# overlab-dev=agent, no --privileged. Nothing is created on the machine itself.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=$(node scripts/setting.mjs OVERLAB_HOST_IMAGE overlab/host:test)
LABEL="overlab-dev=agent"
P=agentdev
PREFIX=/coreos.com/network
NETWORK=10.244.0.0/16
ETCD_IP=192.168.50.250
HOSTS=(host1 host2)
declare -A IP=([host1]=192.168.50.2 [host2]=192.168.50.3)
CAPS=(--cap-add NET_ADMIN --cap-add SYS_ADMIN --cap-add NET_RAW --device /dev/net/tun)

log() { printf '[harness %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
dx() { docker exec "$@"; }

build() {
  if [ "${SKIP_BUILD:-0}" = 1 ]; then return; fi
  log "building the agent (tsc, src/agent only) + native helper"
  # Compile only the agent's own files (same options as tsconfig.json) so that work in progress
  # elsewhere in src/ cannot break the harness.
  npx tsc --target ES2022 --module NodeNext --moduleResolution NodeNext --rootDir src --outDir dist \
    --strict --noUncheckedIndexedAccess --noImplicitOverride --skipLibCheck --esModuleInterop --types node \
    src/agent/main.ts >&2
  bash scripts/build-native.sh >&2
}

wire() { # wire <container> <ip>
  local c="$1" ip="$2" pid
  pid=$(docker inspect -f '{{.State.Pid}}' "$P-$c")
  dx "$P-switch" sh -c "ip link del $c 2>/dev/null; ip link add $c type veth peer name eth0 netns $pid && ip link set $c master underlay up"
  dx "$P-$c" sh -c "ip addr add $ip/24 dev eth0 && ip link set eth0 up && ip link set lo up"
}

install_agent() { # install_agent <host>
  local h="$1"
  dx "$P-$h" mkdir -p /opt/overlab/agent /etc/overlab /run/overlab
  docker cp dist/host/agent/. "$P-$h:/opt/overlab/agent/" >/dev/null
  docker cp dist/native/tun-open "$P-$h:/opt/overlab/agent/tun-open" >/dev/null
  docker cp dist/native/udp-proxy "$P-$h:/opt/overlab/agent/udp-proxy" >/dev/null
  dx "$P-$h" sh -c 'printf "{\"type\":\"module\"}\n" > /opt/overlab/agent/package.json; find /opt/overlab/agent -name "*.map" -delete'
}

write_config() { # write_config <host> <ttl>
  local h="$1" ttl="$2"
  dx -i "$P-$h" sh -c 'cat > /etc/overlab/agent.json' <<JSON
{ "host": "$h", "publicIp": "${IP[$h]}", "underlayIface": "eth0", "underlayMtu": 1500,
  "etcdEndpoints": ["http://$ETCD_IP:2379"], "prefix": "$PREFIX", "leaseTtlSeconds": $ttl,
  "logFile": "/var/log/overlab-agent.log", "bridge": "docker0", "ipMasq": true${TUNIO:+, \"tunIo\": \"$TUNIO\"}${UDPDATAPATH:+, \"udpDataPath\": \"$UDPDATAPATH\"} }
JSON
}

start_agent() {
  local h="$1"
  dx -d "$P-$h" sh -c 'exec node /opt/overlab/agent/main.js --config /etc/overlab/agent.json >>/var/log/overlab-agent.out 2>&1'
  for _ in $(seq 1 100); do
    if dx "$P-$h" test -s /run/overlab/agent.pid 2>/dev/null && dx "$P-$h" test -s /run/flannel/subnet.env; then return 0; fi
    sleep 0.1
  done
  log "agent on $h did not come up; log tail:"; dx "$P-$h" tail -n 30 /var/log/overlab-agent.out >&2 || true
  return 1
}

agent_pid() { dx "$P-$1" cat /run/overlab/agent.pid 2>/dev/null | tr -d '\n'; }

kill_agent() {
  local h="$1" sig="${2:-TERM}" pid
  pid=$(agent_pid "$h")
  [ -n "$pid" ] || { log "no agent pid on $h"; return 1; }
  dx "$P-$h" kill -s "$sig" "$pid"
  for _ in $(seq 1 50); do dx "$P-$h" kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  [ "$sig" = KILL ] && dx "$P-$h" rm -f /run/overlab/agent.pid
  log "agent $pid on $h got SIG$sig"
}

start_etcd() {
  dx -d "$P-etcd" sh -c "echo \$\$ > /tmp/etcd.pid; exec etcd --name etcd0 --data-dir /tmp/etcd --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls http://$ETCD_IP:2379 --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster etcd0=http://127.0.0.1:2380 >>/var/log/etcd.log 2>&1"
  for _ in $(seq 1 100); do dx "$P-etcd" etcdctl --endpoints=http://127.0.0.1:2379 endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "etcd did not become healthy"; return 1
}

stop_etcd() {
  local pid
  pid=$(dx "$P-etcd" cat /tmp/etcd.pid 2>/dev/null | tr -d '\n')
  [ -n "$pid" ] || { log "no etcd pid"; return 1; }
  dx "$P-etcd" kill "$pid"
  for _ in $(seq 1 50); do dx "$P-etcd" kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  log "etcd stopped"
}

add_pod() { # add_pod <host>
  local h="$1" env sub mtu gw pod
  env=$(dx "$P-$h" cat /run/flannel/subnet.env)
  sub=$(sed -n 's/^FLANNEL_SUBNET=//p' <<<"$env")   # 10.244.1.1/24
  mtu=$(sed -n 's/^FLANNEL_MTU=//p' <<<"$env")
  gw=${sub%/*}; pod="${gw%.*}.2/${sub#*/}"
  dx "$P-$h" sh -c "ip netns add pod 2>/dev/null || true
    ip link add veth-pod type veth peer name eth0 netns pod
    ip link set veth-pod mtu $mtu master docker0 up
    ip -n pod link set lo up
    ip -n pod link set eth0 mtu $mtu up
    ip -n pod addr add $pod dev eth0
    ip -n pod route add default via $gw"
  log "$h: pod at $pod (gw $gw, mtu $mtu)"
}

pod_ip() { dx "$P-$1" ip -n pod -j addr show dev eth0 | sed -n 's/.*"local":"\([0-9.]*\)".*/\1/p' | head -n1; }

up() {
  local backend="${1:?backend: vxlan|udp|host-gw}" ttl="${2:-86400}" cfg
  case "$backend" in vxlan) cfg="{\"Network\":\"$NETWORK\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"vxlan\",\"VNI\":1,\"Port\":8472}}" ;;
    udp) cfg="{\"Network\":\"$NETWORK\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"udp\",\"Port\":8285}}" ;;
    host-gw) cfg="{\"Network\":\"$NETWORK\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"host-gw\"}}" ;;
    *) log "unknown backend $backend"; exit 2 ;; esac
  down_quiet
  build
  log "creating containers"
  docker run -d --name "$P-switch" --label "$LABEL" --network none --pid host "${CAPS[@]}" "$IMAGE" sleep infinity >/dev/null
  dx "$P-switch" sh -c 'ip link add underlay type bridge && ip link set underlay up'
  docker run -d --name "$P-etcd" --hostname etcd --label "$LABEL" --network none "${CAPS[@]}" "$IMAGE" sleep infinity >/dev/null
  for h in "${HOSTS[@]}"; do
    docker run -d --name "$P-$h" --hostname "$h" --label "$LABEL" --network none "${CAPS[@]}" \
      --sysctl net.ipv4.ip_forward=1 --sysctl net.ipv4.conf.all.accept_local=1 "$IMAGE" sleep infinity >/dev/null
  done
  wire etcd "$ETCD_IP"
  for h in "${HOSTS[@]}"; do wire "$h" "${IP[$h]}"; done
  start_etcd
  dx "$P-etcd" etcdctl --endpoints=http://127.0.0.1:2379 put "$PREFIX/config" "$cfg" >/dev/null
  log "etcd $PREFIX/config = $cfg"
  for h in "${HOSTS[@]}"; do install_agent "$h"; write_config "$h" "$ttl"; done
  for h in "${HOSTS[@]}"; do start_agent "$h"; done
  for h in "${HOSTS[@]}"; do add_pod "$h"; done
  log "up: $backend (lease TTL ${ttl}s). Agents log to /var/log/overlab-agent.log in each host."
}

down_quiet() {
  local ids
  ids=$(docker ps -aq --filter "label=$LABEL")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
}

state() {
  local h="$1"
  echo "== $h: ip -j route"; dx "$P-$h" ip -j route show
  echo "== $h: ip -j neigh (permanent)"; dx "$P-$h" ip -j neigh show nud permanent
  echo "== $h: bridge -j fdb (flannel.1)"; dx "$P-$h" sh -c 'bridge -j fdb show dev flannel.1 2>/dev/null || echo "[]"'
  echo "== $h: subnet.env"; dx "$P-$h" cat /run/flannel/subnet.env
}

cmd="${1:-}"; shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down_quiet; log "removed agentdev containers" ;;
  start-agent) start_agent "$1" ;;
  kill-agent) kill_agent "$@" ;;
  stop-etcd) stop_etcd ;;
  start-etcd) start_etcd ;;
  state) state "$1" ;;
  pod-ip) pod_ip "$1" ;;
  ping) dx "$P-$1" ip netns exec pod ping -c "${3:-3}" -i 0.2 -W 1 "$(pod_ip "$2")" ;;
  update-agent) build; for h in "${HOSTS[@]}"; do install_agent "$h"; done ;;
  set-config)
    for h in "${HOSTS[@]}"; do
      dx "$P-$h" node -e 'const fs=require("fs");const f="/etc/overlab/agent.json";const c=JSON.parse(fs.readFileSync(f,"utf8"));const [k,v]=process.argv.slice(1);if(v==="-")delete c[k];else c[k]=JSON.parse(v);fs.writeFileSync(f,JSON.stringify(c)+"\n")' "$1" "$2"
    done ;;
  *) sed -n '2,19p' "$0"; exit 2 ;;
esac
