#!/usr/bin/env bash
# Proves the agent end to end for one backend with scripts/dev/agent-harness.sh and prints numbers.
#   scripts/dev/agent-prove.sh <vxlan|udp|host-gw> [--keep]
# Steps: up (lease TTL 10 s) -> cross-host ping -> kernel state -> agent SIGTERM/SIGKILL + restart
# with traffic running (state must be identical, log must say "no changes") -> etcd outage with
# traffic running + reconnect + a lease added/removed after the outage is programmed/unprogrammed ->
# unknown subnet (udp: ICMP net unreachable) -> latency + iperf3 -> host2 SIGKILL + container stop:
# its lease expires and host1 drops it. Raw outputs go to .overlab/agent-prove/<backend>/.
set -uo pipefail
cd "$(dirname "$0")/../.."
B="${1:?backend}"; KEEP="${2:-}"
H="scripts/dev/agent-harness.sh"
OUT=".overlab/agent-prove/$B"; mkdir -p "$OUT"; rm -f "$OUT"/*
P=agentdev
TTL=10
pass=0; fail=0
declare -a SUMMARY
ok() { pass=$((pass+1)); SUMMARY+=("PASS $*"); echo "PASS $*"; }
ko() { fail=$((fail+1)); SUMMARY+=("FAIL $*"); echo "FAIL $*"; }
note() { SUMMARY+=("  -- $*"); echo "  -- $*"; }
dx() { docker exec "$@"; }
logsize() { dx "$P-$1" sh -c 'wc -l < /var/log/overlab-agent.log'; }
logsince() { dx "$P-$1" sh -c "tail -n +$(( $2 + 1 )) /var/log/overlab-agent.log"; }

snapshot() { # kernel state that must not change across agent restarts
  dx "$P-$1" sh -c '
    echo "routes: $(ip -j route show)"
    echo "neigh:  $(ip -j neigh show nud permanent)"
    echo "fdb:    $(bridge -j fdb show dev flannel.1 2>/dev/null)"
    echo "vtep:   $(ip -j link show dev flannel.1 2>/dev/null | sed -n "s/.*\"address\":\"\([0-9a-f:]*\)\".*/\1/p")"
    echo "addrs:  $(ip -j -4 addr show | tr -d "\n" | sed "s/\"valid_life_time\":[0-9]*//g; s/\"preferred_life_time\":[0-9]*//g")"
    echo "ipt:    $(iptables -S FORWARD | tr "\n" " ") $(iptables -t nat -S POSTROUTING | tr "\n" " ")"'
}

bgping() { # bgping <count> <interval> <file>: host1 pod -> host2 pod in the background
  local dst; dst=$(bash $H pod-ip host2)
  dx "$P-host1" ip netns exec pod ping -c "$1" -i "$2" -W 1 "$dst" >"$3" 2>&1 &
  BGPID=$!
}
losses() { sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$1"; }
rx() { sed -n 's/.*, \([0-9]*\) received.*/\1/p' "$1"; }
avg() { sed -n 's/^rtt [^=]*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p' "$1"; }

echo "### $B: up"
if ! bash $H up "$B" "$TTL" >"$OUT/up.log" 2>&1; then cat "$OUT/up.log"; ko "$B: harness up"; exit 1; fi
ok "$B: 2 hosts + etcd up, agents running, pods attached"
sleep 1

echo "### ping"
bash $H ping host1 host2 5 >"$OUT/ping12.txt" 2>&1; r12=$?
bash $H ping host2 host1 5 >"$OUT/ping21.txt" 2>&1; r21=$?
if [ $r12 = 0 ] && [ $r21 = 0 ]; then ok "$B: pod ping host1->host2 ($(rx $OUT/ping12.txt)/5, avg $(avg $OUT/ping12.txt) ms) and host2->host1 ($(rx $OUT/ping21.txt)/5)"; else ko "$B: cross-host pod ping ($r12/$r21)"; fi

echo "### kernel state"
for h in host1 host2; do bash $H state $h >"$OUT/state-$h.txt" 2>&1; done
sub2=$(dx $P-host2 sed -n 's/^FLANNEL_SUBNET=\([0-9.]*\)\.1\/\(.*\)/\1.0\/\2/p' /run/flannel/subnet.env)
pub2=192.168.50.3
case "$B" in
  vxlan)
    mac2=$(dx $P-host2 ip -j link show dev flannel.1 | sed -n 's/.*"address":"\([0-9a-f:]*\)".*/\1/p')
    gw2=${sub2%.0/*}.0
    r=$(dx $P-host1 ip -j route show "$sub2"); n=$(dx $P-host1 ip -j neigh show "$gw2" dev flannel.1); f=$(dx $P-host1 bridge -j fdb show dev flannel.1)
    if grep -q "\"gateway\":\"$gw2\",\"dev\":\"flannel.1\",\"flags\":\[\"onlink\"\]" <<<"$r" && grep -q "\"lladdr\":\"$mac2\",\"state\":\[\"PERMANENT\"\]" <<<"$n" && grep -q "\"mac\":\"$mac2\",\"dst\":\"$pub2\"" <<<"$f"; then
      ok "vxlan: host1 has route $sub2 via $gw2 dev flannel.1 onlink, neigh $gw2 lladdr $mac2 PERMANENT, fdb $mac2 dst $pub2"
    else ko "vxlan: kernel state on host1: route=$r neigh=$n fdb=$f"; fi
    d=$(dx $P-host1 ip -j -d link show flannel.1)
    grep -q '"id":1,"local":"192.168.50.2","link":"eth0"' <<<"$d" && grep -q '"port":8472,"learning":false' <<<"$d" && grep -q '"mtu":1450' <<<"$d" \
      && ok "vxlan: flannel.1 is VNI 1, local 192.168.50.2, dev eth0, dstport 8472, nolearning, MTU 1450" || ko "vxlan: device $d"
    ;;
  host-gw)
    r=$(dx $P-host1 ip -j route show "$sub2")
    grep -q "\"gateway\":\"$pub2\",\"dev\":\"eth0\"" <<<"$r" && ok "host-gw: host1 has route $sub2 via $pub2 dev eth0" || ko "host-gw: route $r"
    ;;
  udp)
    r=$(dx $P-host1 ip -j route show 10.244.0.0/16); d=$(dx $P-host1 ip -j -d link show flannel0); a=$(dx $P-host1 ip -j addr show dev flannel0)
    grep -q '"dev":"flannel0"' <<<"$r" && grep -q '"mtu":1472' <<<"$d" && grep -q '"info_kind":"tun"' <<<"$d" && grep -q '"local":"10.244.1.0","prefixlen":32' <<<"$a" \
      && ok "udp: host1 has TUN flannel0 (MTU 1472, 10.244.1.0/32) and route 10.244.0.0/16 dev flannel0" || ko "udp: state route=$r dev=$d addr=$a"
    s=$(dx $P-host1 cat /run/overlab/agent-stats.json); echo "$s" >"$OUT/stats-host1.json"
    grep -q "\"endpoint\": \"$pub2:8285\"" <<<"$s" && ok "udp: host1 forwarding table maps $sub2 -> $pub2:8285; stats: $(tr -d ' \n' <<<"$s" | grep -o '"packets":{[^}]*}')" || ko "udp: stats $s"
    ;;
esac
ip1=$(dx $P-etcd etcdctl get --prefix /coreos.com/network/subnets/ | tr '\n' ' ')
echo "$ip1" >"$OUT/etcd-leases.txt"; note "etcd leases: $ip1"

restart_test() { # restart_test <signal>
  local sig=$1 before after n0 new
  before=$(snapshot host1); n0=$(logsize host1)
  bgping 60 0.1 "$OUT/ping-restart-$sig.txt"
  sleep 1
  bash $H kill-agent host1 "$sig" >>"$OUT/restart.log" 2>&1
  sleep 1.5
  local mid; mid=$(snapshot host1)
  bash $H start-agent host1 >>"$OUT/restart.log" 2>&1
  wait $BGPID
  sleep 0.5
  after=$(snapshot host1)
  new=$(logsince host1 "$n0"); echo "$new" >"$OUT/log-restart-$sig.txt"
  local loss; loss=$(losses "$OUT/ping-restart-$sig.txt")
  if [ "$B" = udp ]; then
    note "udp SIG$sig restart: ping loss ${loss}% over 6 s (flannel0 is a non-persistent TUN; it goes away with the agent, as in flannel)"
  elif [ "$loss" = 0 ]; then ok "$B: SIG$sig agent, restart it: 0% loss (60 pings at 0.1 s while the agent was down ~2.5 s)"
  else ko "$B: SIG$sig restart ping loss ${loss}%"; fi
  if [ "$B" != udp ]; then
    [ "$before" = "$mid" ] && ok "$B: kernel state untouched after SIG$sig" || { ko "$B: state changed by SIG$sig"; diff <(echo "$before") <(echo "$mid") | head; }
  fi
  if [ "$before" = "$after" ] || [ "$B" = udp ]; then
    if grep -q 'initial list): 1 peer(s), no changes' <<<"$new" && ! grep -q 'programmed:\|removed:\|created:' <<<"$new"; then
      ok "$B: restart after SIG$sig re-synced with no changes ($(grep -c . <<<"$new") log lines; 'reusing lease', 'no changes')"
    elif [ "$B" = udp ]; then ok "$B: restart after SIG$sig re-created flannel0 and its route, forwarding table re-synced"; 
    else ko "$B: restart after SIG$sig programmed something:"; grep 'programmed:\|removed:\|created:' <<<"$new"; fi
    [ "$B" = udp ] || [ "$before" = "$after" ] && [ "$B" != udp ] && ok "$B: kernel state identical before/after restart (routes, neigh, fdb, VTEP MAC, addresses, iptables)"
  else ko "$B: state differs after restart"; diff <(echo "$before") <(echo "$after") | head -20; fi
  grep -q 'reusing lease' <<<"$new" && ok "$B: SIG$sig restart reused lease $(grep -o 'reusing lease [^ ]*' <<<"$new" | head -1 | cut -d' ' -f3)" || ko "$B: lease not reused after SIG$sig"
}
echo "### agent restarts"
restart_test TERM
grep -q 'SIGTERM: stopping; kernel state is left in place' "$OUT/log-restart-TERM.txt" && ok "$B: SIGTERM logged a clean stop" || ko "$B: no clean stop log"
restart_test KILL
if [ "$B" = udp ]; then
  bash $H ping host1 host2 5 >"$OUT/ping-after-restart.txt" 2>&1 && ok "udp: traffic flows again after the restarts" || ko "udp: no traffic after restart"
fi

echo "### etcd outage"
n0=$(logsize host1)
bgping 120 0.1 "$OUT/ping-etcd.txt"
sleep 1
bash $H stop-etcd >>"$OUT/etcd.log" 2>&1
sleep 8
bash $H start-etcd >>"$OUT/etcd.log" 2>&1
back=""
for i in $(seq 1 40); do
  if logsince host1 "$n0" | grep -q 'etcd reachable again' && logsince host1 "$n0" | grep -q 'watching /coreos.com/network/subnets/ from revision'; then back=yes; break; fi
  sleep 0.5
done
wait $BGPID
logsince host1 "$n0" >"$OUT/log-etcd.txt"
loss=$(losses "$OUT/ping-etcd.txt")
[ "$loss" = 0 ] && ok "$B: etcd down ~8 s: 0% ping loss (120 pings)" || ko "$B: etcd outage ping loss ${loss}%"
[ -n "$back" ] && ok "$B: agent noticed the outage and reconnected: $(grep -o 'etcd reachable again after [0-9.]*s' $OUT/log-etcd.txt | head -1)" || ko "$B: agent did not reconnect"
# a lease that appears after the outage must be programmed, and removed when deleted
fake='{"PublicIP":"192.168.50.9","BackendType":"'$B'","BackendData":{"VNI":1,"VtepMAC":"0a:00:00:00:00:09"}}'
[ "$B" = udp ] && fake='{"PublicIP":"192.168.50.9","BackendType":"udp"}'
dx $P-etcd etcdctl put /coreos.com/network/subnets/10.244.9.0-24 "$fake" >/dev/null
seen=""; for i in $(seq 1 20); do
  if [ "$B" = udp ]; then dx $P-host1 grep -q '10.244.9.0/24' /run/overlab/agent-stats.json && seen=yes
  else dx $P-host1 ip route show 10.244.9.0/24 | grep -q . && seen=yes; fi
  [ -n "$seen" ] && break; sleep 0.25; done
[ -n "$seen" ] && ok "$B: lease put after the outage was programmed on host1 (watch re-established)" || ko "$B: new lease not programmed after outage"
dx $P-etcd etcdctl del /coreos.com/network/subnets/10.244.9.0-24 >/dev/null
gone=""; for i in $(seq 1 20); do
  if [ "$B" = udp ]; then dx $P-host1 grep -q '10.244.9.0/24' /run/overlab/agent-stats.json || gone=yes
  else dx $P-host1 ip route show 10.244.9.0/24 | grep -q . || gone=yes; fi
  [ -n "$gone" ] && break; sleep 0.25; done
[ -n "$gone" ] && ok "$B: deleting that lease removed its state" || ko "$B: deleted lease state still there"
if [ "$B" = vxlan ]; then
  dx $P-host1 sh -c 'ip neigh show dev flannel.1; bridge fdb show dev flannel.1' | grep -q '0a:00:00:00:00:09' && ko "vxlan: neigh/fdb of deleted lease remain" || ok "vxlan: neigh + fdb of the deleted lease removed too"
fi

if [ "$B" = udp ]; then
  echo "### unknown subnet"
  dx $P-host1 ip netns exec pod ping -c 1 -W 1 10.244.77.2 >"$OUT/ping-unknown.txt" 2>&1
  grep -q 'From 10.244.1.0 icmp_seq=1 Destination Net Unreachable' "$OUT/ping-unknown.txt" && ok "udp: ping to 10.244.77.2 (no lease) -> 'From 10.244.1.0 Destination Net Unreachable'" || { ko "udp: unknown subnet"; cat "$OUT/ping-unknown.txt"; }
  dst=$(bash $H pod-ip host2)
  dx $P-host1 ip netns exec pod ping -c 1 -t 2 -W 2 "$dst" >"$OUT/ping-ttl.txt" 2>&1
  grep -q 'From 10.244.2.0 icmp_seq=1 Time to live exceeded' "$OUT/ping-ttl.txt" && ok "udp: ping -t 2 -> host2's agent drops at TTL 1 and answers 'From 10.244.2.0 Time to live exceeded'" || { ko "udp: TTL expiry"; cat "$OUT/ping-ttl.txt"; }
  # hops: host1 kernel, host2 agent (udp -> tun), host2 kernel: TTL 4 is the least that arrives
  dx $P-host1 ip netns exec pod ping -c 1 -t 4 -W 2 "$dst" >"$OUT/ping-ttl4.txt" 2>&1 && ok "udp: ping -t 4 gets through (host1 kernel, host2 agent, host2 kernel each take one; checksum fixed)" || ko "udp: ping -t 4"
  sleep 2.5
  s=$(dx $P-host1 cat /run/overlab/agent-stats.json); echo "$s" >"$OUT/stats-host1-after.json"
  note "udp stats host1: $(tr -d ' \n' <<<"$s" | grep -o '"packets":{[^}]*}')"
fi

echo "### latency / throughput"
dst=$(bash $H pod-ip host2)
dx $P-host1 ip netns exec pod ping -c 200 -i 0.01 -q "$dst" >"$OUT/latency.txt" 2>&1
note "$B latency: 200 pings at 10 ms: $(grep -o 'rtt.*' $OUT/latency.txt) ($(losses $OUT/latency.txt)% loss)"
dx -d $P-host2 ip netns exec pod iperf3 -s -1 >/dev/null 2>&1; sleep 0.5
dx $P-host1 ip netns exec pod iperf3 -c "$dst" -t 3 -J >"$OUT/iperf.json" 2>&1
bps=$(grep -A6 '"sum_received"' "$OUT/iperf.json" | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | head -1)
note "$B iperf3 TCP 3 s host1 pod -> host2 pod: $(awk -v b="$bps" 'BEGIN{printf "%.0f Mbit/s", b/1e6}')"
if [ "$B" = udp ]; then
  sleep 2.5; s=$(dx $P-host1 cat /run/overlab/agent-stats.json); echo "$s" >"$OUT/stats-host1-iperf.json"
  note "udp agent event-loop delay (last interval): $(tr -d ' \n' <<<"$s" | grep -o '"eventLoopDelayMs":{[^}]*}')"
fi

echo "### lease expiry (TTL ${TTL}s)"
bash $H kill-agent host2 KILL >>"$OUT/expiry.log" 2>&1
docker stop -t 1 $P-host2 >/dev/null
t0=$(date +%s.%N); gone=""
for i in $(seq 1 $(( (TTL + 15) * 4 ))); do
  if [ "$B" = udp ]; then dx $P-host1 grep -q "\"subnet\": \"$sub2\"" /run/overlab/agent-stats.json || gone=yes
  else dx $P-host1 ip route show "$sub2" | grep -q . || gone=yes; fi
  [ -n "$gone" ] && break; sleep 0.25
done
t1=$(date +%s.%N)
dx $P-host1 tail -n 8 /var/log/overlab-agent.log >"$OUT/log-expiry.txt"
if [ -n "$gone" ]; then ok "$B: host2 agent SIGKILLed + container stopped: its lease expired and host1 dropped $sub2 after $(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.1f", b-a}') s (TTL ${TTL} s)"
else ko "$B: host1 still has $sub2 after $((TTL+15)) s"; fi
dx $P-etcd etcdctl get --prefix --keys-only /coreos.com/network/subnets/ | grep -q "${sub2%/*}" && ko "$B: lease key still in etcd" || ok "$B: lease key of host2 gone from etcd"

if [ "$KEEP" != --keep ]; then bash $H down >/dev/null 2>&1; fi
echo
echo "===== $B: $pass passed, $fail failed ====="
printf '%s\n' "${SUMMARY[@]}" | tee "$OUT/summary.txt"
[ $fail = 0 ]
