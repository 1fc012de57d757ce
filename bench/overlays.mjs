#!/usr/bin/env node
// Benchmark: pod→pod across two hosts for host-gw, vxlan and udp — TCP throughput (iperf3) and
// latency (ping) — beside baselines measured in the same run:
//   - the underlay host→host;
//   - vxlan: a hand-wired VXLAN between the same two hosts and pods — the same devices and entries
//     made by plain `ip`/`bridge` commands (VNI 42 on the same port) — in rounds alternating with
//     overlab's flannel.1, the bytes counted on each device to prove which one carried the run;
//   - udp: a userspace TUN↔UDP tunnel made with socat between the same two hosts, alternating too.
// A shared 2-core machine makes a single 3 s run vary by a factor of two, so the ratios that
// matter are medians of per-round ratios (neighbouring runs see the same load). Besides Gbit/s it
// prints Gbit per CPU-second of the two iperf3 processes, which varies less with the load.
//
//   node bench/overlays.mjs [--diagnose]     BENCH_SECONDS=3 BENCH_ROUNDS=5 BENCH_PINGS=200
//
// --diagnose adds, in the vxlan lab's alternation, what could explain vxlan vs host-gw: a host-gw
// route between the same pods at their vxlan MTU (1450) and at 1500 (the MTU), vxlan without the
// veth's UDP-tunnel segmentation offload (offloads), and vxlan without bridge netfilter on the
// underlay switch and both hosts' docker0 (the bridge). Every change is undone after its run.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PINGS = Number(process.env.BENCH_PINGS ?? 200);
const { values } = parseArgs({ options: { diagnose: { type: 'boolean', default: false } } });

function cli(args) {
  return execFileSync('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function docker(container, script, { check = true } = {}) {
  try {
    return execFileSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (check) throw new Error(`${container}: ${script}: ${error.stderr ?? error.message}`, { cause: error });
    return error.stdout ?? '';
  }
}

const ns = (pod) => (pod ? `ip netns exec ${pod} ` : '');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

/** iperf3 TCP from `from` to `to` (retrying until the server listens): Gbit/s and Gbit per
 * CPU-second of the two iperf3 processes. */
function iperf(fromContainer, fromPod, toContainer, toPod, targetIp) {
  docker(toContainer, `${ns(toPod)}iperf3 -s -1 -D`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const out = docker(fromContainer, `${ns(fromPod)}iperf3 -c ${targetIp} -t ${SECONDS} -J`, { check: false });
    try {
      const result = JSON.parse(out);
      if (!result.error) {
        const gbps = result.end.sum_received.bits_per_second / 1e9;
        const cpu = (result.end.cpu_utilization_percent.host_total + result.end.cpu_utilization_percent.remote_total) / 100;
        return { gbps, perCpu: gbps / cpu };
      }
    } catch {
      // not listening yet: retry
    }
    execFileSync('sleep', ['0.1']);
  }
  throw new Error(`iperf3 ${fromContainer} → ${targetIp} never connected`);
}

/** ping avg in ms. */
function latency(fromContainer, fromPod, targetIp) {
  const out = docker(fromContainer, `${ns(fromPod)}env LC_ALL=C ping -n -c ${PINGS} -i 0.005 -q ${targetIp}`);
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  return m ? Number(m[2]) : NaN;
}

function labUp(lab) {
  cli(['up', `labs/${lab}.yaml`, '--json']);
  const resolved = JSON.parse(cli(['inspect', lab, '--json'])).result.lab;
  const host = (name) => {
    const h = resolved.hosts.find((x) => x.name === name);
    return { container: h.container, ip: h.underlayIp, subnet: h.networks[0].subnet, pod: h.pods[0].ip };
  };
  return { h1: host('host1'), h2: host('host2') };
}

function labRows(lab, backend) {
  const { h1, h2 } = labUp(lab);
  const underlay = iperf(h1.container, null, h2.container, null, h2.ip);
  const pod = iperf(h1.container, 'pod1', h2.container, 'pod1', h2.pod);
  return {
    rows: [
      { path: `underlay host→host (${lab} lab)`, ...underlay, ms: latency(h1.container, null, h2.ip), baseline: true },
      { path: `pod→pod ${backend}`, ...pod, ms: latency(h1.container, 'pod1', h2.pod) },
    ],
    h1,
    h2,
  };
}

/**
 * Runs `modes` in alternating rounds (ABBA order), each mode set up before its run and undone
 * after; returns per mode the runs and the per-round ratios to the first mode.
 */
function alternate(modes, measure) {
  const runs = Object.fromEntries(modes.map((m) => [m.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 ? [...modes].reverse() : modes) {
      mode.on?.();
      try {
        runs[mode.name].push(measure(mode));
      } finally {
        mode.off?.();
      }
    }
  }
  const first = runs[modes[0].name];
  return modes.map((m) => ({
    name: m.name,
    runs: runs[m.name],
    gbps: median(runs[m.name].map((r) => r.gbps)),
    perCpu: median(runs[m.name].map((r) => r.perCpu)),
    ratios: runs[m.name].map((r, i) => r.gbps / first[i].gbps),
    cpuRatios: runs[m.name].map((r, i) => r.perCpu / first[i].perCpu),
  }));
}

const txBytes = (container, dev) => Number(docker(container, `cat /sys/class/net/${dev}/statistics/tx_bytes 2>/dev/null || echo 0`).trim());

/** The vxlan lab's two paths between the same pods: overlab's flannel.1, and vxh0 wired by hand. */
function vxlanAlternation(h1, h2) {
  const mtu = docker(h1.container, 'cat /sys/class/net/flannel.1/mtu').trim();
  const vtep = (subnet) => subnet.split('/')[0];
  const setup = (self) =>
    [
      `ip link add vxh0 type vxlan id 42 local ${self.ip} dev eth0 dstport 8472 nolearning`,
      `ip link set vxh0 mtu ${mtu} up`,
      `ip addr add ${vtep(self.subnet)}/32 dev vxh0`,
    ].join(' && ');
  for (const self of [h1, h2]) docker(self.container, `ip link del vxh0 2>/dev/null; ${setup(self)}`);
  const mac = (h) => docker(h.container, 'cat /sys/class/net/vxh0/address').trim();
  for (const [self, peer] of [[h1, h2], [h2, h1]]) {
    docker(self.container, `ip neigh replace ${vtep(peer.subnet)} lladdr ${mac(peer)} dev vxh0 nud permanent && bridge fdb replace ${mac(peer)} dev vxh0 dst ${peer.ip} self permanent`);
  }
  const route = (dev) => () => {
    for (const [self, peer] of [[h1, h2], [h2, h1]]) docker(self.container, `ip route replace ${peer.subnet} via ${vtep(peer.subnet)} dev ${dev} onlink`);
  };
  const both = (script) => () => [h1, h2].forEach((h) => docker(h.container, script));
  const sw = h1.container.replace(/-host1$/, '-switch');
  const brnf = (v) => `mount -o remount,rw /proc/sys && echo ${v} >/proc/sys/net/bridge/bridge-nf-call-iptables; mount -o remount,ro /proc/sys`;
  const podMtu = (m) =>
    `ip netns exec pod1 ip link set eth0 mtu ${m}; for v in $(ls /sys/class/net/docker0/brif); do ip link set "$v" mtu ${m}; done; ip link set docker0 mtu ${m}`;
  const hostGwRoute = () => {
    for (const [self, peer] of [[h1, h2], [h2, h1]]) docker(self.container, `ip route replace ${peer.subnet} via ${peer.ip} dev eth0`);
  };
  const modes = [
    { name: 'overlab vxlan (flannel.1, the agent programmed it)', device: 'flannel.1' },
    { name: 'hand-wired vxlan (vxh0, plain ip commands)', device: 'vxh0', on: route('vxh0'), off: route('flannel.1') },
  ];
  if (values.diagnose) {
    modes.push(
      { name: 'host-gw route, same pods at MTU 1450', device: 'eth0', on: hostGwRoute, off: route('flannel.1') },
      {
        name: 'host-gw route, same pods at MTU 1500',
        device: 'eth0',
        on: () => {
          hostGwRoute();
          both(podMtu(1500))();
        },
        off: () => {
          both(podMtu(mtu))();
          route('flannel.1')();
        },
      },
      {
        name: 'vxlan without UDP-tunnel GSO on eth0',
        device: 'flannel.1',
        on: both('ethtool -K eth0 tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off'),
        off: both('ethtool -K eth0 tx-udp_tnl-segmentation on tx-udp_tnl-csum-segmentation on'),
      },
      {
        name: 'vxlan without bridge netfilter',
        device: 'flannel.1',
        on: () => [h1.container, h2.container, sw].forEach((c) => docker(c, brnf(0))),
        off: () => [h1.container, h2.container, sw].forEach((c) => docker(c, brnf(1))),
      },
    );
  }
  try {
    return alternate(modes, (mode) => {
      const before = txBytes(h1.container, mode.device);
      const r = iperf(h1.container, 'pod1', h2.container, 'pod1', h2.pod);
      const moved = txBytes(h1.container, mode.device) - before;
      const sent = (r.gbps * 1e9 * SECONDS) / 8;
      // the device meant to carry the run must have: an agent re-sync could have put flannel.1 back
      if (moved < 0.9 * sent) throw new Error(`${mode.name}: ${mode.device} sent ${moved} bytes of ~${Math.round(sent)}: the run did not take that path`);
      return r;
    });
  } finally {
    route('flannel.1')();
    both('ip link del vxh0 2>/dev/null; true')();
  }
}

function socatAlternation(h1, h2) {
  // A userspace TUN↔UDP tunnel with the same shape as flannel's udp mode, on addresses inside the
  // lab's pod network (10.244.250.0/24 is leased to nobody).
  const start = (h, local, peer) =>
    docker(h.container, `nohup socat TUN:${local}/24,tun-name=socat0,tun-type=tun,iff-no-pi,iff-up UDP:${peer.ip}:9999,sourceport=9999 >/tmp/socat.log 2>&1 & echo $! > /tmp/socat.pid`);
  start(h1, '10.244.250.1', h2);
  start(h2, '10.244.250.2', h1);
  try {
    for (const h of [h1, h2]) {
      for (let i = 0; i < 50 && !docker(h.container, 'ip -br link show socat0 2>/dev/null', { check: false }).includes('socat0'); i++) execFileSync('sleep', ['0.1']);
      // Same MTU as flannel0 (underlay − 28), so neither path fragments on the underlay.
      docker(h.container, 'ip link set socat0 mtu 1472');
    }
    const result = alternate([{ name: 'udp agent pod→pod' }, { name: 'socat tunnel host→host' }], (mode) =>
      mode.name.startsWith('udp') ? iperf(h1.container, 'pod1', h2.container, 'pod1', h2.pod) : iperf(h1.container, null, h2.container, null, '10.244.250.2'),
    );
    return { result, ms: latency(h1.container, null, '10.244.250.2') };
  } finally {
    for (const h of [h1, h2]) docker(h.container, 'kill $(cat /tmp/socat.pid)', { check: false });
  }
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

const results = [];
let vxlanRounds;
let udpRounds;
try {
  cli(['down', '--all', '--json']);
  const hostgw = labRows('host-gw', 'host-gw');
  results.push(...hostgw.rows);
  cli(['down', 'host-gw', '--json']);
  const vxlan = labRows('flannel-vxlan', 'vxlan');
  results.push(...vxlan.rows);
  vxlanRounds = vxlanAlternation(vxlan.h1, vxlan.h2);
  cli(['down', 'flannel-vxlan', '--json']);
  const udp = labRows('flannel-udp', 'udp (overlab agent)');
  results.push(...udp.rows);
  udpRounds = socatAlternation(udp.h1, udp.h2);
  results.push({ path: 'socat TUN↔UDP tunnel host→host', gbps: udpRounds.result[1].gbps, perCpu: udpRounds.result[1].perCpu, ms: udpRounds.ms });
} finally {
  cli(['down', '--all', '--json']);
}

const base = results.filter((r) => r.baseline);
const baseGbps = base.reduce((s, r) => s + r.gbps, 0) / base.length;
const baseMs = base.reduce((s, r) => s + r.ms, 0) / base.length;
console.log(`overlay data paths — iperf3 TCP ${SECONDS} s, ping ${PINGS} × 5 ms; baseline = mean of the underlay rows measured in this run (single runs: read the ratios below)`);
table(
  ['path', 'throughput', '× baseline', 'Gbit/CPU-s', 'ping avg', '× baseline'],
  results.map((r) => [r.path, `${r.gbps.toFixed(2)} Gbit/s`, (r.gbps / baseGbps).toFixed(3), r.perCpu.toFixed(2), `${r.ms.toFixed(3)} ms`, (r.ms / baseMs).toFixed(2)]),
);
for (const [title, rounds] of [
  [`vxlan between the same pods, ${ROUNDS} alternating rounds (ratio: to overlab's, per round)`, vxlanRounds],
  [`udp, ${ROUNDS} alternating rounds (ratio: to the udp agent, per round)`, udpRounds.result],
]) {
  console.log('');
  console.log(title);
  table(
    ['path', 'median Gbit/s', 'ratio median', 'ratio range', 'Gbit/CPU-s', 'ratio median'],
    rounds.map((m) => [m.name, m.gbps.toFixed(2), median(m.ratios).toFixed(2), spread(m.ratios), m.perCpu.toFixed(2), median(m.cpuRatios).toFixed(2)]),
  );
}
const hand = vxlanRounds[1];
const socat = udpRounds.result[1];
console.log('');
console.log(
  `overlab vxlan / hand-wired vxlan: ${(1 / median(hand.ratios)).toFixed(2)}× throughput (per-round ratios ${spread(hand.ratios.map((r) => 1 / r))}), ${(1 / median(hand.cpuRatios)).toFixed(2)}× per CPU-second   ` +
    `udp agent / socat: ${(1 / median(socat.ratios)).toFixed(2)}× throughput (per round ${spread(socat.ratios.map((r) => 1 / r))})`,
);
