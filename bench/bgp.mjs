#!/usr/bin/env node
// Benchmark: Calico's way (backend bgp, BIRD on every host) beside flannel, in one run.
//
//   1. pod→pod TCP throughput (iperf3) between the same two hosts, in alternating rounds: the
//      routes BIRD learned (`proto bird`), then the very same routes written by hand as host-gw
//      does (`proto static`, BIRD's sessions disabled meanwhile). Both are plain routing, so the
//      ratio should be ≈ 1; the bytes each run moved are checked on eth0.
//   2. a node's join: `overlab node add` on a lab of N hosts, the time from the new node's start
//      (its BIRD's start, from BIRD's log; for flannel, its agent's lease write, from the agents'
//      logs) until the last peer routes its pod block — full mesh, route reflector (a router
//      node), and flannel's agent with host-gw on the same hosts; the node is removed again after
//      each round (the leave is timed the same way).
//   3. per host: BGP sessions (Established) and BIRD's memory (RSS, and `birdc show memory`).
//
//   node bench/bgp.mjs                 BENCH_HOSTS=16,64 BENCH_ROUNDS=3 BENCH_SECONDS=3 BENCH_TP_ROUNDS=4 BENCH_KINDS=flannel,mesh,rr
//   node bench/bgp.mjs --only throughput | --only join
//
// A shared 2-core machine varies a lot: throughput is a median of per-round ratios (neighbouring
// runs see the same load); joins are medians of BENCH_ROUNDS joins. The 64-host labs take
// minutes each: not part of CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOSTS = (process.env.BENCH_HOSTS ?? '16,64').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const TP_ROUNDS = Number(process.env.BENCH_TP_ROUNDS ?? 4);
/** flannel first: the baseline of the join ratios. */
const KINDS = (process.env.BENCH_KINDS ?? 'flannel,mesh,rr').split(',');
const { values } = parseArgs({ options: { only: { type: 'string' } } });
const dir = mkdtempSync(join(tmpdir(), 'overlab-bench-bgp-'));

function cli(args, { check = true } = {}) {
  const t0 = performance.now();
  const r = spawnSync('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (check && r.status !== 0) throw new Error(`overlab ${args.join(' ')} → exit ${r.status}: ${r.stderr || r.stdout}`);
  return { out: r.stdout, err: r.stderr, status: r.status, ms };
}

/** `docker exec <container> <argv…>`: argv, never a shell string. */
function docker(container, argv, { check = true } = {}) {
  try {
    return execFileSync('docker', ['exec', container, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (check) throw new Error(`${container}: ${argv.join(' ')}: ${error.stderr ?? error.message}`, { cause: error });
    return error.stdout ?? '';
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs, d = 2) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
const inPod = (argv) => ['ip', 'netns', 'exec', 'pod1', ...argv];

/** A lab spec: N hosts of one pod each on one segment. */
function spec(name, hosts, network, nodes = []) {
  const lines = [`name: ${name}`, `description: bench/bgp.mjs (${hosts} hosts)`, 'network:', ...network.map((l) => `  ${l}`), 'hosts:'];
  for (let h = 1; h <= hosts; h++) lines.push(`  - { name: host${h}, pods: [pod1] }`);
  if (nodes.length) lines.push('nodes:', ...nodes.map((n) => `  - ${n}`));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function up(file, name) {
  cli(['down', name], { check: false });
  const r = cli(['up', file, '--json']);
  return { ms: r.ms, lab: JSON.parse(cli(['inspect', name, '--json']).out).result.lab };
}

// ---------------------------------------------------------------- 1. throughput

function iperf(from, to, targetIp) {
  docker(to.container, inPod(['iperf3', '-s', '-1', '-D']));
  for (let attempt = 0; attempt < 50; attempt++) {
    const out = docker(from.container, inPod(['iperf3', '-c', targetIp, '-t', String(SECONDS), '-J']), { check: false });
    try {
      const result = JSON.parse(out);
      if (!result.error) return result.end.sum_received.bits_per_second / 1e9;
    } catch {
      // not listening yet
    }
    execFileSync('sleep', ['0.1']);
  }
  throw new Error(`iperf3 → ${targetIp} never connected`);
}

const txBytes = (container) => Number(docker(container, ['cat', '/sys/class/net/eth0/statistics/tx_bytes']).trim());
const routeOf = (container, block) => docker(container, ['ip', '-4', 'route', 'show', block]).trim();

function throughput() {
  const name = 'bgp-bench-tp';
  const { lab } = up(spec(name, 2, ['cidr: 10.244.0.0/16', 'bridge: cni0', 'backend: bgp']), name);
  const [h1, h2] = lab.hosts.map((h) => ({ container: h.container, ip: h.underlayIp, block: h.networks[0].blocks[0], pod: h.pods[0].ip }));
  const pairs = [[h1, h2], [h2, h1]];
  const session = (peer) => `Mesh_${peer === h1 ? 'host1' : 'host2'}`;
  const waitFor = (want) => {
    for (let i = 0; i < 200; i++) {
      if (pairs.every(([self, peer]) => routeOf(self.container, peer.block).includes(want))) return;
      execFileSync('sleep', ['0.05']);
    }
    throw new Error(`routes never became ${want}`);
  };
  const modes = [
    { name: 'bgp: routes BIRD learned (proto bird)', proto: 'proto bird' },
    {
      name: 'host-gw: the same routes by hand (proto static)',
      proto: 'proto static',
      on: () => {
        for (const [self, peer] of pairs) docker(self.container, ['birdc', 'disable', session(peer)]);
        for (const [self, peer] of pairs) docker(self.container, ['ip', 'route', 'replace', peer.block, 'via', peer.ip, 'dev', 'eth0', 'proto', 'static']);
      },
      off: () => {
        for (const [self, peer] of pairs) {
          docker(self.container, ['ip', 'route', 'del', peer.block, 'proto', 'static'], { check: false });
          docker(self.container, ['birdc', 'enable', session(peer)]);
        }
        waitFor('proto bird');
      },
    },
  ];
  const runs = Object.fromEntries(modes.map((m) => [m.name, []]));
  try {
    for (let round = 0; round < TP_ROUNDS; round++) {
      for (const mode of round % 2 ? [...modes].reverse() : modes) {
        mode.on?.();
        try {
          waitFor(mode.proto);
          const before = txBytes(h1.container);
          const gbps = iperf(h1, h2, h2.pod);
          const moved = txBytes(h1.container) - before;
          if (moved < 0.9 * ((gbps * 1e9 * SECONDS) / 8)) throw new Error(`${mode.name}: eth0 did not carry the run`);
          runs[mode.name].push(gbps);
        } finally {
          mode.off?.();
        }
      }
    }
  } finally {
    cli(['down', name], { check: false });
  }
  const [bgp, hostgw] = modes.map((m) => runs[m.name]);
  const ratios = bgp.map((g, i) => g / hostgw[i]);
  console.log(`\n1. pod→pod TCP throughput, two hosts on one segment, ${TP_ROUNDS} rounds of ${SECONDS} s, alternating`);
  console.log(`   host-gw (baseline, proto static) ${median(hostgw).toFixed(2)} Gbit/s (${spread(hostgw)})`);
  console.log(`   bgp (proto bird)                 ${median(bgp).toFixed(2)} Gbit/s (${spread(bgp)})`);
  console.log(`   bgp / host-gw: median ${median(ratios).toFixed(2)} (per round ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
}

// ---------------------------------------------------------------- 2 and 3. joins, sessions, memory

/** BGP sessions Established on a node, and BIRD's memory there. */
function birdFigures(container) {
  const protocols = docker(container, ['birdc', 'show', 'protocols']);
  const sessions = (protocols.match(/\bEstablished\b/g) ?? []).length;
  const rssKb = Number(docker(container, ['ps', '-o', 'rss=', '-C', 'bird']).trim().split('\n')[0]);
  const total = /^Total:\s+([\d.]+)\s+(\S+)/m.exec(docker(container, ['birdc', 'show', 'memory']));
  const kb = total ? Number(total[1]) * ({ B: 1 / 1024, kB: 1, MB: 1024 }[total[2]] ?? NaN) : NaN;
  return { sessions, rssKb, birdKb: kb };
}

function joins(kind, hosts) {
  const name = `bgp-bench-${kind}-${hosts}`.slice(0, 24);
  const network =
    kind === 'flannel'
      ? ['cidr: 10.244.0.0/16', 'bridge: cni0', 'backend: host-gw', 'controlPlane: etcd']
      : ['cidr: 10.244.0.0/16', 'bridge: cni0', 'backend: bgp', ...(kind === 'rr' ? ['bgp: { reflectors: [rr] }'] : [])];
  const nodes = kind === 'rr' ? ['{ name: rr, role: router }'] : [];
  let started;
  try {
    started = up(spec(name, hosts, network, nodes), name);
  } catch (error) {
    // a lab that does not come up (BGP not converged within up's deadline) is a figure too
    cli(['down', name], { check: false });
    return { kind, hosts, failed: /"message": "([^"]*)"/.exec(error.message)?.[1] ?? error.message.split('\n')[0] };
  }
  const figures = kind === 'flannel' ? undefined : { host: birdFigures(started.lab.hosts[0].container), ...(kind === 'rr' ? { reflector: birdFigures(started.lab.externals.find((e) => e.name === 'rr').container) } : {}) };
  const join = [];
  const leave = [];
  const cliMs = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const add = cli(['node', 'add', name, 'joiner', '--pods', 'pod1', '--json']);
      const result = JSON.parse(add.out).result;
      join.push(result.propagation[0]?.ms ?? NaN);
      cliMs.push(add.ms);
      const rm = JSON.parse(cli(['node', 'rm', name, 'joiner', '--json']).out).result;
      leave.push(rm.propagation[0]?.ms ?? NaN);
    }
  } finally {
    cli(['down', name], { check: false });
  }
  return { kind, hosts, upMs: started.ms, join: median(join), joins: join, leave: median(leave), cli: median(cliMs), figures };
}

function joinTable() {
  const label = { mesh: 'bgp, full mesh', rr: 'bgp, route reflector (a router)', flannel: "flannel's agent, host-gw via etcd" };
  for (const hosts of HOSTS) {
    console.log(`\n2. a node joins a lab of ${hosts} hosts (${ROUNDS} rounds each; median, range; ratio to flannel's join)`);
    const rows = [];
    for (const kind of KINDS) {
      const r = joins(kind, hosts);
      rows.push(r);
      const base = rows.find((x) => x.kind === 'flannel' && !x.failed)?.join;
      if (r.failed) {
        console.log(`   ${label[r.kind].padEnd(36)} did not come up: ${r.failed}`);
        continue;
      }
      console.log(
        `   ${label[r.kind].padEnd(36)} join ${String(Math.round(r.join)).padStart(5)} ms (${spread(r.joins, 0)})${base ? ` = ${(r.join / base).toFixed(2)}× flannel's` : ''}; leave ${Math.round(r.leave)} ms; node add ${(r.cli / 1000).toFixed(1)} s; up ${(r.upMs / 1000).toFixed(1)} s`,
      );
    }
    console.log(`\n3. BGP sessions and BIRD's memory per node, ${hosts} hosts`);
    for (const r of rows.filter((x) => x.figures)) {
      for (const [who, f] of Object.entries(r.figures)) {
        console.log(`   ${label[r.kind].padEnd(36)} ${who.padEnd(9)} ${String(f.sessions).padStart(3)} sessions, BIRD RSS ${(f.rssKb / 1024).toFixed(1)} MiB, birdc show memory ${(f.birdKb / 1024).toFixed(2)} MiB`);
      }
    }
  }
}

console.log(`bench/bgp.mjs — ${new Date().toISOString()}, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`);
if (values.only !== 'join') throughput();
if (values.only !== 'throughput') joinTable();
