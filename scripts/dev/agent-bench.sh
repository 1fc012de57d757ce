#!/usr/bin/env bash
# Throughput/latency bench for the udp agent against a socat TUN<->UDP tunnel, in the harness
# containers (scripts/dev/agent-harness.sh up udp must have run).
#
#   scripts/dev/agent-bench.sh [rounds] [label=dist-dir ...]
#
# Each round measures, for every agent build given (default: "current=dist"), the agent's
# pod->pod iperf3 TCP (3 s) + ping, then socat's host->host tunnel over the same underlay.
# An agent build is installed into both hosts and the agents restarted before it is measured
# (with <dist-dir>/native/udp-proxy when the build has it, else without the native data path).
# Prints one line per measurement and the medians at the end. Traffic only between the
# agentdev containers' own addresses.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-3}"; shift || true
BUILDS=("$@"); [ ${#BUILDS[@]} -gt 0 ] || BUILDS=("current=dist")
P=agentdev
H=scripts/dev/agent-harness.sh
dx() { docker exec "$@"; }
RES=$(mktemp)

install_build() { # install_build <dist-dir>
  local d="$1" h
  for h in host1 host2; do
    bash $H kill-agent $h TERM >/dev/null 2>&1 || true
    docker cp "$d/agent/." "$P-$h:/opt/overlab/agent/" >/dev/null
    # the native data path (udp-proxy) when the build has one; a build without it removes it
    if [ -x "$d/native/udp-proxy" ]; then docker cp "$d/native/udp-proxy" "$P-$h:/opt/overlab/agent/udp-proxy" >/dev/null
    else dx "$P-$h" rm -f /opt/overlab/agent/udp-proxy; fi
    dx "$P-$h" sh -c 'find /opt/overlab/agent -name "*.map" -delete'
  done
  for h in host1 host2; do SKIP_BUILD=1 bash $H start-agent $h >/dev/null 2>&1 || { echo "agent did not start on $h" >&2; return 1; }; done
  # wait until host1 reaches host2's pod
  local dst; dst=$(bash $H pod-ip host2)
  for _ in $(seq 1 50); do dx $P-host1 ip netns exec pod ping -c1 -W1 "$dst" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "no pod connectivity after restart" >&2; return 1
}

bps_of() { grep -A6 '"sum_received"' "$1" | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | head -1 | awk '{printf "%.3f", $1/1e9}'; }
rtt_of() { sed -n 's/^rtt [^=]*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p' "$1"; }

measure_agent() { # measure_agent <label>
  local label="$1" dst j p
  dst=$(bash $H pod-ip host2); j=$(mktemp); p=$(mktemp)
  dx $P-host1 ip netns exec pod ping -c 20 -i 0.05 -W 1 "$dst" >"$p" 2>&1
  dx $P-host2 ip netns exec pod iperf3 -s -1 -D; sleep 0.5
  dx $P-host1 ip netns exec pod iperf3 -c "$dst" -t 3 -J >"$j" 2>&1
  echo "$label $(bps_of "$j") $(rtt_of "$p")" | tee -a "$RES"
  rm -f "$j" "$p"
}

socat_up() {
  dx -d $P-host1 sh -c 'exec socat TUN:10.244.250.1/24,tun-name=socat0,tun-type=tun,iff-no-pi,iff-up UDP:192.168.50.3:9999,sourceport=9999 >/tmp/socat.log 2>&1'
  dx -d $P-host2 sh -c 'exec socat TUN:10.244.250.2/24,tun-name=socat0,tun-type=tun,iff-no-pi,iff-up UDP:192.168.50.2:9999,sourceport=9999 >/tmp/socat.log 2>&1'
  for _ in $(seq 1 50); do dx $P-host1 ping -c1 -W1 10.244.250.2 >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "socat tunnel did not come up" >&2; return 1
}
socat_down() { for h in host1 host2; do dx $P-$h sh -c 'for p in $(pidof socat); do kill $p; done' 2>/dev/null || true; done; sleep 0.3; }

measure_socat() {
  local j p
  j=$(mktemp); p=$(mktemp)
  socat_down; socat_up || return 1
  dx $P-host1 ping -c 20 -i 0.05 -W 1 10.244.250.2 >"$p" 2>&1
  dx $P-host2 iperf3 -s -1 -D -B 10.244.250.2; sleep 0.5
  dx $P-host1 iperf3 -c 10.244.250.2 -t 3 -J >"$j" 2>&1
  echo "socat $(bps_of "$j") $(rtt_of "$p")" | tee -a "$RES"
  socat_down
  rm -f "$j" "$p"
}

for r in $(seq 1 "$ROUNDS"); do
  echo "# round $r"
  for b in "${BUILDS[@]}"; do
    install_build "${b#*=}" || exit 1
    measure_agent "${b%%=*}"
  done
  measure_socat
done

echo "# medians (Gbit/s, ping avg ms) over $ROUNDS rounds"
for l in $(awk '{print $1}' "$RES" | sort -u); do
  g=$(awk -v l="$l" '$1==l{print $2}' "$RES" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  t=$(awk -v l="$l" '$1==l{print $3}' "$RES" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "$l $g $t"
done
s=$(awk '$1=="socat"{print $2}' "$RES" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
for l in $(awk '$1!="socat"{print $1}' "$RES" | sort -u); do
  g=$(awk -v l="$l" '$1==l{print $2}' "$RES" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  awk -v l="$l" -v g="$g" -v s="$s" 'BEGIN{printf "%s / socat = %.2f\n", l, g/s}'
done
rm -f "$RES"
