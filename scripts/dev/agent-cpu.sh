#!/usr/bin/env bash
# CPU cost per forwarded packet of the two udp agents during a pod->pod iperf3 run (harness up udp).
#   scripts/dev/agent-cpu.sh [seconds] [iperf3 extra args...]
# The agent's CPU includes its udp-proxy child (stats file's dataPathPid) when the native data path runs.
# Prints, per host: user/sys CPU ms, packets forwarded (tunToUdp + udpToTun) and µs of CPU per packet.
set -uo pipefail
cd "$(dirname "$0")/../.."
T="${1:-4}"; shift || true
P=agentdev
snap() { # snap <host>: "utime stime packets"
  local h="$1" pid
  pid=$(docker exec $P-$h cat /run/overlab/agent.pid)
  # the native data path's process (udp-proxy) counts as the agent's CPU too
  dpid=$(docker exec $P-$h sed -n 's/^  "dataPathPid": \([0-9][0-9]*\).*/\1/p' /run/overlab/agent-stats.json)
  # packets through the agent = flannel0's tx (kernel -> agent) + rx (agent -> kernel)
  docker exec $P-$h sh -c "cat /proc/$pid/stat ${dpid:+/proc/$dpid/stat} | awk '{u+=\$14; s+=\$15} END{print u, s}'; cat /sys/class/net/flannel0/statistics/tx_packets /sys/class/net/flannel0/statistics/rx_packets" | tr '\n' ' '
}
dst=$(bash scripts/dev/agent-harness.sh pod-ip host2)
docker exec $P-host2 ip netns exec pod iperf3 -s -1 -D; sleep 0.5
docker exec $P-host1 ip netns exec pod iperf3 -c "$dst" -t $((T + 3)) "$@" >/tmp/agent-cpu-iperf.txt 2>&1 &
sleep 1.5
a1=$(snap host1); a2=$(snap host2)
sleep "$T"
b1=$(snap host1); b2=$(snap host2)
wait
grep -E 'receiver' /tmp/agent-cpu-iperf.txt
for h in 1 2; do
  eval "a=(\$a$h)"; eval "b=(\$b$h)"
  awk -v h=host$h -v au="${a[0]}" -v as="${a[1]}" -v ap=$(( ${a[2]} + ${a[3]} )) -v bu="${b[0]}" -v bs="${b[1]}" -v bp=$(( ${b[2]} + ${b[3]} )) -v T="$T" \
    'BEGIN{tk=100; u=(bu-au)*1000/tk; s=(bs-as)*1000/tk; p=bp-ap; printf "%s: user %d ms sys %d ms over %ds, %d pkts (%.0f/s), %.1f us/pkt (user %.1f)\n", h, u, s, T, p, p/T, (u+s)*1000/p, u*1000/p}'
done
