#!/usr/bin/env bash
# Several machines on one: a test rig for labs across engines. Each "machine" is a network
# namespace with an engine of its own, all joined by veths to a bridge that stands for the LAN; a
# "workstation" namespace on the same LAN is where overlab runs, reaching the engines the ways
# users reach theirs:
#
#   e1  dockerd, reached over tcp:// with mutual TLS (certificates made here by openssl)
#   e2  dockerd, reached over ssh:// (Debian's openssh-server in e2's namespace, key auth,
#       `docker system dial-stdio` on the far side)
#   e3  Podman (`podman system service`), reached through a Docker context
#
# Nothing is made in the machine's own network namespace: the LAN bridge lives in a namespace of
# its own. Every daemon has its own data root, exec root, pidfile and socket; dockerd runs
# `--bridge=none --iptables=false` and is started with `nsenter --net=…` (under `ip netns exec`,
# which remounts /sys, dockerd fails with "Devices cgroup isn't mounted").
#
#   bash scripts/engine-rig.sh start [NAME [OWNER]] # idempotent; prints the rig as JSON on stdout
#   bash scripts/engine-rig.sh stop [NAME [OWNER]]  # removes everything: containers, daemons, mounts,
#                                                   # namespaces, veths, files
#   bash scripts/engine-rig.sh status [NAME]        # exit 0 when every part answers
#   bash scripts/engine-rig.sh leftovers [NAME]     # prints what of a rig is still on the machine
#
# NAME (default olrig, [a-z][a-z0-9]{0,7}) keeps two rigs apart; OWNER (a PID, default the
# caller's parent; recorded with its start time, so a reused PID is not the owner) owns the rig: a rig another live process owns is never reused or stopped (exit
# 3, naming it), and one whose owner is gone is removed before a new one starts, so two checkouts'
# test runs on one machine never share an engine. Needs root, iproute2, dockerd,
# the docker CLI, podman + catatonit, openssh-server, openssl (scripts/install-test-tools.sh).
# The image overlab/host is copied from the machine's own engine (docker save | load, once per
# engine, in parallel).
set -euo pipefail

cmd=${1:-}
rig=${2:-olrig}
owner=${3:-$PPID}
[[ "$rig" =~ ^[a-z][a-z0-9]{0,7}$ ]] || { echo "usage: $0 start|stop|status|leftovers [name: [a-z][a-z0-9]{0,7}] [owner pid]" >&2; exit 2; }
[[ "$owner" =~ ^[1-9][0-9]{0,9}$ ]] || { echo "owner: a process id, not \"$owner\"" >&2; exit 2; }

run=/run/$rig                 # sockets, pidfiles, exec roots (short: socket paths have a limit)
data=/var/lib/overlab-rig-$rig # data roots (a tmpfs mounted there)
lan_ns=$rig-lan
ws_ns=$rig-ws
net=10.99.0
image_refs=(overlab/host:latest)
log() { printf '[engine-rig %s] %s\n' "$rig" "$*" >&2; }

ns_path() { echo "/run/netns/$1"; }
in_ns() { local ns=$1; shift; nsenter --net="$(ns_path "$ns")" "$@"; }
has_ns() { [ -e "$(ns_path "$1")" ]; }

# engine index → namespace, address
e_ns() { echo "$rig-e$1"; }
e_addr() { echo "$net.1$1"; }

make_ns() { # make_ns <ns> <address|-> : a namespace with lo up and, unless -, eth0 on the LAN
  local ns=$1 addr=$2
  has_ns "$ns" || ip netns add "$ns"
  ip -n "$ns" link set lo up
  [ "$addr" = - ] && return 0
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    # The veth is made inside the LAN namespace: its peer moves straight into the machine's
    # namespace for this rig, never touching the machine's own.
    ip -n "$lan_ns" link add "v-$ns" type veth peer name eth0 netns "$ns"
    ip -n "$lan_ns" link set "v-$ns" master lan up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
  fi
}

wait_for() { # wait_for <what> <seconds> <command…>
  local what=$1 seconds=$2; shift 2
  local i
  for i in $(seq 1 $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "$what did not come up within ${seconds}s"
  return 1
}

docker_answers() { docker -H "unix://$run/e$1/docker.sock" version >/dev/null 2>&1; }
podman_answers() { curl -sf --unix-socket "$run/e3/podman.sock" http://d/_ping >/dev/null 2>&1; }

make_tls() { # a CA, e1's server certificate (IP SAN) and a client certificate
  local dir=$run/tls
  [ -f "$dir/client/key.pem" ] && return 0
  mkdir -p "$dir/server" "$dir/client"
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca-key.pem -out ca.pem -subj "/CN=$rig-ca" -days 2 2>/dev/null
    printf 'subjectAltName=IP:%s,IP:%s\nextendedKeyUsage=serverAuth\n' "$(e_addr 1)" "$(e_addr 3)" >server.ext
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    for who in server client; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$who/key.pem" -out "$who.csr" -subj "/CN=$rig-$who" 2>/dev/null
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out "$who/cert.pem" -extfile "$who.ext" -days 2 2>/dev/null
      cp ca.pem "$who/ca.pem"
    done
  )
}

start_dockerd() { # start_dockerd <index> [extra dockerd flags…]
  local i=$1; shift
  docker_answers "$i" && return 0
  mkdir -p "$run/e$i" "$data/e$i"
  in_ns "$(e_ns "$i")" setsid dockerd --bridge=none --iptables=false --ip-masq=false \
    -H "unix://$run/e$i/docker.sock" "$@" \
    --data-root "$data/e$i" --exec-root "$run/e$i/exec" --pidfile "$run/e$i/docker.pid" \
    >"$run/e$i/dockerd.log" 2>&1 </dev/null &
  wait_for "dockerd e$i" 60 docker_answers "$i" || { tail -20 "$run/e$i/dockerd.log" >&2; return 1; }
}

start_sshd() { # in e2's namespace, key auth only, DOCKER_HOST pointing at e2's engine
  local dir=$run/ssh
  mkdir -p "$dir" /run/sshd
  [ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519" -C "$rig-e2-host"
  [ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519" -C "$rig-client"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  cat >"$dir/sshd_config" <<EOF
ListenAddress $(e_addr 2)
Port 22
HostKey $dir/host_ed25519
PidFile $run/e2/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv DOCKER_HOST=unix://$run/e2/docker.sock
EOF
  printf '%s %s\n' "$(e_addr 2)" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >"$dir/known_hosts"
  cat >"$dir/config" <<EOF
Host $(e_addr 2)
  User root
  IdentityFile $dir/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  StrictHostKeyChecking yes
EOF
  if [ -f "$run/e2/sshd.pid" ] && kill -0 "$(cat "$run/e2/sshd.pid")" 2>/dev/null; then return 0; fi
  in_ns "$(e_ns 2)" /usr/sbin/sshd -f "$dir/sshd_config"
  wait_for "sshd e2" 10 test -s "$run/e2/sshd.pid"
}

podman_args() {
  echo --root "$data/e3/storage" --runroot "$run/e3/podman-run" --tmpdir "$run/e3/podman-tmp" \
    --cgroup-manager=cgroupfs --events-backend=file --storage-driver=overlay
}

start_podman() {
  podman_answers && return 0
  mkdir -p "$run/e3" "$data/e3"
  # Rootful Podman raises every container's RLIMIT_NOFILE/NPROC to 1048576; without
  # CAP_SYS_RESOURCE (this kind of machine) runc cannot, so the rig asks for what we have.
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  # Each exec's conmon lingers exit_command_delay seconds (300 by default) after the exec ends:
  # a verify makes hundreds. Its exit command then removes the exec session, so the delay must
  # outlast the engine's client reading the exit code on a loaded machine: 5 s did not (`no exec
  # session with ID …`, seen at load 30 on 2 cores); 30 s does.
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nexit_command_delay = 30\n' "$nofile" "$nofile" "$nproc" "$nproc" >"$run/e3/containers.conf"
  # shellcheck disable=SC2046
  # nsenter execs podman: $! is podman's own PID (the service writes no pidfile).
  CONTAINERS_CONF=$run/e3/containers.conf nsenter --net="$(ns_path "$(e_ns 3)")" podman $(podman_args) \
    system service --time=0 "unix://$run/e3/podman.sock" >"$run/e3/podman.log" 2>&1 </dev/null &
  echo $! >"$run/e3/podman.pid"
  wait_for "podman e3" 30 podman_answers || { tail -20 "$run/e3/podman.log" >&2; return 1; }
}

make_context() { # a Docker configuration directory with one context, rig-e3 → Podman's socket
  local dir=$run/docker-config
  local id
  id=$(printf '%s' "$rig-e3" | sha256sum | cut -d' ' -f1)
  mkdir -p "$dir/contexts/meta/$id"
  printf '{"Name":"%s","Metadata":{},"Endpoints":{"docker":{"Host":"unix://%s","SkipTLSVerify":false}}}\n' "$rig-e3" "$run/e3/podman.sock" >"$dir/contexts/meta/$id/meta.json"
  printf '{"currentContext":""}\n' >"$dir/config.json"
}

engine_has_image() { curl -sf --unix-socket "$1" "http://d/images/overlab%2Fhost:latest/json" >/dev/null 2>&1; }

load_images() { # the machine's engine → each rig engine lacking the image, in parallel
  local socks=("$run/e1/docker.sock" "$run/e2/docker.sock" "$run/e3/podman.sock") pids=() s
  docker image inspect "${image_refs[0]}" >/dev/null 2>&1 || { log "the machine's engine has no ${image_refs[0]}: run bash scripts/setup.sh first"; return 1; }
  local tags
  tags=$(docker image inspect -f '{{join .RepoTags " "}}' "${image_refs[0]}")
  for s in "${socks[@]}"; do
    engine_has_image "$s" && continue
    # shellcheck disable=SC2086
    (docker save $tags | curl -sf --unix-socket "$s" -X POST -H 'Content-Type: application/x-tar' --data-binary @- http://d/images/load >/dev/null) &
    pids+=($!)
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || { log "loading the image into a rig engine failed"; return 1; }
}

json() {
  cat <<EOF
{
  "name": "$rig",
  "lan": { "namespace": "$lan_ns", "bridge": "lan", "cidr": "$net.0/24" },
  "workstation": { "namespace": "$ws_ns", "netnsPath": "$(ns_path "$ws_ns")", "address": "$net.2" },
  "engines": [
    { "name": "e1", "kind": "docker", "via": "tls", "namespace": "$(e_ns 1)", "address": "$(e_addr 1)", "socket": "$run/e1/docker.sock",
      "endpoint": "tcp://$(e_addr 1):2376", "certDir": "$run/tls/client" },
    { "name": "e2", "kind": "docker", "via": "ssh", "namespace": "$(e_ns 2)", "address": "$(e_addr 2)", "socket": "$run/e2/docker.sock",
      "endpoint": "ssh://root@$(e_addr 2)", "sshConfig": "$run/ssh/config", "sshKey": "$run/ssh/id_ed25519" },
    { "name": "e3", "kind": "podman", "via": "context", "namespace": "$(e_ns 3)", "address": "$(e_addr 3)", "socket": "$run/e3/podman.sock",
      "context": "$rig-e3", "dockerConfig": "$run/docker-config" }
  ]
}
EOF
}

# A process by its id AND its start time ("pid:ticks"), so a reused id (another process, or a
# thread of one: kill -0 takes thread ids too) never passes for the rig's owner. Empty when no
# process has that id.
identity_of() {
  local pid=$1 stat tgid
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
  tgid=$(awk '/^Tgid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
  [ "$tgid" = "$pid" ] || return 0
  stat=${stat##*) }
  echo "$pid:$(echo "$stat" | awk '{ print $20 }')"
}
owner_of_rig() { cat "$run/owner" 2>/dev/null || true; }
me=$(identity_of "$owner")
me=${me:-$owner}

# exit 3 when another live process owns this rig (its tests are using these engines right now)
refuse_if_owned_by_another() {
  local held pid
  held=$(owner_of_rig)
  pid=${held%%:*}
  [ -n "$held" ] && [ "$held" != "$me" ] && [ "$(identity_of "$pid")" = "$held" ] || return 0
  log "rig $rig belongs to pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)), which is still running: use another rig name, or stop that process first"
  exit 3
}

start() {
  [ "$(id -u)" -eq 0 ] || { log "needs root"; exit 3; }
  refuse_if_owned_by_another
  local held
  held=$(owner_of_rig)
  if { [ -n "$held" ] && [ "$held" != "$me" ]; } || { [ -z "$held" ] && [ -n "$(leftovers)" ]; }; then
    # Its owner is gone (a killed test run): what it left is removed, never reused.
    log "rig $rig was left behind by ${held:+pid ${held%%:*}, which is gone}${held:-an unknown process}: removing it first"
    stop
  fi
  mkdir -p "$run"
  echo "$me" >"$run/owner"
  local tool
  for tool in dockerd docker podman catatonit sshd openssl nsenter curl; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { log "missing $tool: bash scripts/install-test-tools.sh"; exit 3; }
  done
  mkdir -p "$run" "$data"
  # The engines' data roots live in memory: three copies of the image unpack fast and go away
  # with one unmount (removing them from disk took half a minute).
  mountpoint -q "$data" || mount -t tmpfs -o size=6g,mode=0700 "overlab-rig-$rig" "$data"
  has_ns "$lan_ns" || ip netns add "$lan_ns"
  ip -n "$lan_ns" link set lo up
  ip -n "$lan_ns" link show lan >/dev/null 2>&1 || ip -n "$lan_ns" link add lan type bridge
  ip -n "$lan_ns" link set lan up
  make_ns "$ws_ns" "$net.2"
  local i
  for i in 1 2 3; do make_ns "$(e_ns "$i")" "$(e_addr "$i")"; done
  make_tls
  start_dockerd 1 -H "tcp://$(e_addr 1):2376" --tlsverify --tlscacert "$run/tls/server/ca.pem" --tlscert "$run/tls/server/cert.pem" --tlskey "$run/tls/server/key.pem" &
  local d1=$!
  start_dockerd 2 &
  local d2=$!
  start_podman
  wait "$d1" && wait "$d2"
  start_sshd
  make_context
  load_images
  json
}

rig_pids() { # processes started for this rig: their command lines name its own directories
  grep -lsaE -- "($run|$data)/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | grep -vx "$$" || true
}

leftovers() { # what of this rig is still on the machine, one line each; nothing when clean
  local ns p
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do case "$ns" in "$rig"-*) echo "netns $ns" ;; esac; done
  # Any process whose command line names this rig's own directories is the rig's.
  local pid
  for pid in $(rig_pids); do echo "process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"; done
  { grep -E " ($run|$data)[/ ]" /proc/self/mounts || true; } | awk '{print "mount " $2}'
  { grep -E " /run/netns/$rig-" /proc/self/mounts || true; } | awk '{print "mount " $2}'
  [ -e "$run" ] && echo "directory $run"
  [ -e "$data" ] && echo "directory $data"
  return 0
}

stop_pid() { # stop_pid <pidfile> <seconds>: TERM, wait, KILL
  local file=$1 seconds=$2 pid i
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((seconds * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  refuse_if_owned_by_another
  local i
  # Containers first, so no shim outlives its daemon.
  for i in 1 2; do
    if docker_answers "$i"; then
      docker -H "unix://$run/e$i/docker.sock" ps -aq | xargs -r docker -H "unix://$run/e$i/docker.sock" rm -f >/dev/null 2>&1 || true
    fi
  done
  if podman_answers; then
    # shellcheck disable=SC2046
    podman $(podman_args) rm -af >/dev/null 2>&1 || true
  fi
  stop_pid "$run/e2/sshd.pid" 5
  stop_pid "$run/e3/podman.pid" 10
  stop_pid "$run/e1/docker.pid" 20 &
  stop_pid "$run/e2/docker.pid" 20 &
  wait
  # A daemon whose pidfile was lost (an interrupted start) is still found by its directories.
  local pid
  for pid in $(rig_pids); do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 50); do [ -z "$(rig_pids)" ] && break; sleep 0.1; done
  for pid in $(rig_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  # Whatever the daemons left mounted under the rig's directories, deepest first.
  { grep -E " ($run|$data)[/ ]" /proc/self/mounts || true; } | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # Podman (cgroupfs) parents its containers' cgroups in libpod_parent: drop what is empty now.
  find /sys/fs/cgroup/*/libpod_parent -depth -type d -exec rmdir {} + 2>/dev/null || true
  for i in 1 2 3; do has_ns "$(e_ns "$i")" && ip netns del "$(e_ns "$i")"; done
  has_ns "$ws_ns" && ip netns del "$ws_ns"
  has_ns "$lan_ns" && ip netns del "$lan_ns"
  rm -rf "$run" "$data"
  local left
  left=$(leftovers)
  [ -z "$left" ] || { log "left behind:"; echo "$left" >&2; exit 1; }
}

status() {
  local ok=0 i
  for i in 1 2; do docker_answers "$i" || { echo "e$i: dockerd does not answer"; ok=1; }; done
  podman_answers || { echo "e3: podman does not answer"; ok=1; }
  [ -f "$run/e2/sshd.pid" ] && kill -0 "$(cat "$run/e2/sshd.pid")" 2>/dev/null || { echo "e2: sshd is not running"; ok=1; }
  return $ok
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  leftovers) leftovers ;;
  json) json ;;
  *) echo "usage: $0 start|stop|status|leftovers|json [name]" >&2; exit 2 ;;
esac
