#!/usr/bin/env node
// Benchmark: pod→pod across two hosts for host-gw, vxlan and udp — TCP throughput (iperf3) and
// latency (ping) — beside the underlay host→host baseline and a userspace TUN↔UDP tunnel made
// with socat between the same two hosts, all in one run. Prints a table with ratios.
// Run after `bash scripts/setup.sh`: node bench/overlays.mjs   (BENCH_SECONDS=3 by default)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const PINGS = Number(process.env.BENCH_PINGS ?? 200);

function cli(args) {
  return execFileSync('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function docker(container, script, { check = true } = {}) {
  try {
    return execFileSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (check) throw error;
    return error.stdout ?? '';
  }
}

const ns = (pod) => (pod ? `ip netns exec ${pod} ` : '');

/** iperf3 TCP throughput in Gbit/s, client at `from`, server at `to` (retrying until it listens). */
function throughput(fromContainer, fromPod, toContainer, toPod, targetIp) {
  docker(toContainer, `${ns(toPod)}iperf3 -s -1 -D`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const out = docker(fromContainer, `${ns(fromPod)}iperf3 -c ${targetIp} -t ${SECONDS} -J`, { check: false });
    try {
      const result = JSON.parse(out);
      if (!result.error) return result.end.sum_received.bits_per_second / 1e9;
    } catch {
      // not listening yet: retry
    }
    execFileSync('sleep', ['0.1']);
  }
  throw new Error(`iperf3 ${fromContainer} → ${targetIp} never connected`);
}

/** ping avg and p50 in ms. */
function latency(fromContainer, fromPod, targetIp) {
  const out = docker(fromContainer, `${ns(fromPod)}env LC_ALL=C ping -n -c ${PINGS} -i 0.005 -q ${targetIp}`);
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  return m ? Number(m[2]) : NaN;
}

function labRows(lab, backend) {
  cli(['up', `labs/${lab}.yaml`, '--json']);
  const h1 = `overlab-${lab}-host1`;
  const h2 = `overlab-${lab}-host2`;
  const resolved = JSON.parse(cli(['inspect', lab, '--json'])).result.lab;
  const host2 = resolved.hosts.find((h) => h.name === 'host2');
  const pod2 = host2.pods[0].ip;
  const rows = [];
  rows.push({ path: `underlay host→host (${lab} lab)`, gbps: throughput(h1, null, h2, null, host2.underlayIp), ms: latency(h1, null, host2.underlayIp), baseline: true });
  rows.push({ path: `pod→pod ${backend}`, gbps: throughput(h1, 'pod1', h2, 'pod1', pod2), ms: latency(h1, 'pod1', pod2) });
  return { rows, h1, h2, host2, resolved };
}

function socatTunnel(h1, h2, host1Ip, host2Ip) {
  // A userspace TUN↔UDP tunnel with the same shape as flannel's udp mode, on addresses inside the
  // lab's pod network (10.244.250.0/24 is leased to nobody).
  const start = (container, local, peer) =>
    docker(container, `nohup socat TUN:${local}/24,tun-name=socat0,tun-type=tun,iff-no-pi,iff-up UDP:${peer}:9999,sourceport=9999 >/tmp/socat.log 2>&1 & echo $! > /tmp/socat.pid`);
  start(h1, '10.244.250.1', host2Ip);
  start(h2, '10.244.250.2', host1Ip);
  for (const c of [h1, h2]) {
    for (let i = 0; i < 50 && !docker(c, 'ip -br link show socat0 2>/dev/null', { check: false }).includes('socat0'); i++) execFileSync('sleep', ['0.1']);
    // Same MTU as flannel0 (underlay − 28), so neither path fragments on the underlay.
    docker(c, 'ip link set socat0 mtu 1472');
  }
  const gbps = throughput(h1, null, h2, null, '10.244.250.2');
  const ms = latency(h1, null, '10.244.250.2');
  for (const c of [h1, h2]) docker(c, 'kill $(cat /tmp/socat.pid)', { check: false });
  return { path: 'socat TUN↔UDP tunnel host→host', gbps, ms };
}

const results = [];
try {
  cli(['down', '--all', '--json']);
  const hostgw = labRows('host-gw', 'host-gw');
  results.push(...hostgw.rows);
  cli(['down', 'host-gw', '--json']);
  const vxlan = labRows('flannel-vxlan', 'vxlan');
  results.push(...vxlan.rows);
  cli(['down', 'flannel-vxlan', '--json']);
  const udp = labRows('flannel-udp', 'udp (overlab agent)');
  results.push(...udp.rows);
  const host1 = udp.resolved.hosts.find((h) => h.name === 'host1');
  results.push(socatTunnel(udp.h1, udp.h2, host1.underlayIp, udp.host2.underlayIp));
} finally {
  cli(['down', '--all', '--json']);
}

const base = results.filter((r) => r.baseline);
const baseGbps = base.reduce((s, r) => s + r.gbps, 0) / base.length;
const baseMs = base.reduce((s, r) => s + r.ms, 0) / base.length;
console.log(`overlay data paths — iperf3 TCP ${SECONDS} s, ping ${PINGS} × 5 ms; baseline = mean of the underlay rows measured in this run`);
const header = ['path', 'throughput', '× baseline', 'ping avg', '× baseline'];
const rows = results.map((r) => [r.path, `${r.gbps.toFixed(2)} Gbit/s`, (r.gbps / baseGbps).toFixed(3), `${r.ms.toFixed(3)} ms`, (r.ms / baseMs).toFixed(2)]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
const udpRow = results.find((r) => r.path.startsWith('pod→pod udp'));
const socatRow = results.find((r) => r.path.startsWith('socat'));
const vxlanRow = results.find((r) => r.path === 'pod→pod vxlan');
const hostgwRow = results.find((r) => r.path === 'pod→pod host-gw');
console.log(`udp agent / socat throughput: ${(udpRow.gbps / socatRow.gbps).toFixed(2)}×   vxlan / host-gw throughput: ${(vxlanRow.gbps / hostgwRow.gbps).toFixed(2)}×   udp / vxlan throughput: ${(udpRow.gbps / vxlanRow.gbps).toFixed(3)}×`);
