#!/usr/bin/env node
// Benchmark: a generated flannel-vxlan lab of N hosts × P pods (etcd, one agent per host) on this
// machine, beside a floor measured in the same run — the same number of bare containers started
// in parallel. Prints:
//   - `up` (overlab's own phases, in-process) against the floor, phase by phase;
//   - the time from the last agent start until every host had programmed every peer (agent logs);
//   - memory per host container (the agent's RSS included), the agents' RSS, CPU and syncs;
//   - etcd's load: watchers, watch messages and events, requests, fsync;
//   - `node add` into the lab (the CLI, --joins times, removing the host between joins): the time
//     from the new lease until the last peer programmed it, split into watch delivery and
//     programming; and `node rm` the same way.
//
//   eval "$(bash scripts/dev/private-engine.sh start <you>)"   # never the machine's default engine
//   npm run build && node bench/scale.mjs [--hosts 64] [--pods 4] [--joins 3] [--keep] [--baseline <checkout>]
// --baseline: the same lab brought up (then down) by another built checkout's up phases after
// ours, against a floor measured again just before it (before/after a change in one run).
//
// 128 × 2: node bench/scale.mjs --hosts 128 --pods 2
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generateLab } from './gen-lab.mjs';
import { DockerRuntime } from '../dist/runtime/docker-runtime.js';
import { NODE_CAPABILITIES, NODE_DEVICES, containerSpecs } from '../dist/plan/containers.js';
import { loadLabSpec } from '../dist/lab-loader/load.js';
import { resolveLab } from '../dist/plan/resolve-lab.js';
import { upPhases } from '../dist/core/up-phases.js';
import { downLab } from '../dist/core/lab-down.js';
import { takenSubnets } from '../dist/lab/taken-subnets.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '64' },
    pods: { type: 'string', default: '4' },
    joins: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const HOSTS = Number(values.hosts);
const PODS = Number(values.pods);
const JOINS = Number(values.joins);
const NAME = `scale-${HOSTS}x${PODS}`;
const IMAGE = 'overlab/host:latest';
const runtime = new DockerRuntime();

const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
const max = (xs) => (xs.length ? Math.max(...xs) : NaN);
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const medMax = (xs, f) => `median ${f(median(xs))}, max ${f(max(xs))}`;

async function cli(args) {
  const t0 = performance.now();
  try {
    const r = await run('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
    return { ok: true, ms: performance.now() - t0, out: r.stdout };
  } catch (e) {
    return { ok: false, ms: performance.now() - t0, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function sh(container, script, ...args) {
  const r = await runtime.exec(container, ['sh', '-c', script, 'sh', ...args]);
  return r.stdout;
}

/** Bare containers like a lab's (same image, capabilities, device), started (removed) in parallel. */
async function floor(count) {
  const names = Array.from({ length: count }, (_, i) => `overlab-bench-floor-${i}`);
  await Promise.all(names.map((n) => runtime.remove(n)));
  const t0 = performance.now();
  await Promise.all(
    names.map((name) =>
      runtime.createAndStart({ name, hostname: 'floor', image: IMAGE, labels: { 'overlab.bench': 'floor' }, command: ['sleep', 'infinity'], capAdd: NODE_CAPABILITIES, devices: NODE_DEVICES, sysctls: {} }),
    ),
  );
  const up = performance.now() - t0;
  await Promise.all(names.map((n) => runtime.remove(n)));
  return up;
}

const ts = (line) => Date.parse(line.slice(0, 24));
const firstAt = (lines, re, since = -Infinity) => {
  for (const l of lines) if (re.test(l) && ts(l) >= since) return ts(l);
  return NaN;
};

// One process per host, once: its agent log, stats, RSS, CPU, descriptors and the container's
// memory as `docker stats` counts it (cgroup v1 or v2: usage minus inactive file pages).
const PROBE = [
  'cat /var/log/overlab-agent.log; echo @@',
  'cat /run/overlab/agent-stats.json; echo @@',
  'p=$(cat /run/overlab/agent.pid); grep VmRSS /proc/$p/status; cut -d" " -f14-17 /proc/$p/stat; ls /proc/$p/fd | wc -l; echo @@',
  'if [ -f /sys/fs/cgroup/memory.current ]; then u=$(cat /sys/fs/cgroup/memory.current); i=$(awk \'$1=="inactive_file"{print $2}\' /sys/fs/cgroup/memory.stat);',
  'else u=$(cat /sys/fs/cgroup/memory/memory.usage_in_bytes); i=$(awk \'$1=="total_inactive_file"{print $2}\' /sys/fs/cgroup/memory/memory.stat); fi; echo $((u - i))',
].join('\n');

async function hostFacts(host) {
  const [log, statsText, proc, mem] = (await sh(`overlab-${NAME}-${host}`, PROBE)).split('@@');
  const lines = (log ?? '').split('\n');
  const stats = JSON.parse(statsText?.trim() || '{}');
  const procLines = (proc ?? '').trim().split('\n');
  const [ut, st, cut, cst] = (procLines.at(-2) ?? '').split(' ').map(Number);
  return {
    host,
    lines,
    stats,
    start: firstAt(lines, /overlab agent starting/),
    done: firstAt(lines, new RegExp(`peers in sync .*: ${HOSTS - 1} peer\\(s\\), (no changes|\\d+ change\\(s\\)), \\d+ process`)),
    rssBytes: Number(/VmRSS:\s+(\d+)/.exec(proc ?? '')?.[1] ?? NaN) * 1024,
    fds: Number(procLines.at(-1)),
    cpuMs: (ut + st) * 10,
    childCpuMs: (cut + cst) * 10,
    memBytes: Number((mem ?? '').trim()),
    // the agent's start-up, as its log marks the end of each step
    marks: STEPS.map((step) => firstAt(lines, step.re)),
  };
}

const STEPS = [
  { name: 'node up, config read', re: /network config:/ },
  { name: 'VTEP made', re: /created: ip link add flannel\.|reusing flannel\.|flannel\.\d+ exists/ },
  { name: 'lease written', re: /(acquired|reusing) lease / },
  { name: 'own device, bridge, NAT, first listing', re: /watching .* from revision/ },
  { name: 'first full sync', re: /agent ready/ },
];

/** How long each start-up step took (ms), from the agent's start. */
function stepDurations(f) {
  return f.marks.map((m, k) => m - (k === 0 ? f.start : f.marks[k - 1]));
}

async function etcdMetrics() {
  const text = await sh(`overlab-${NAME}-etcd`, "node -e \"fetch('http://127.0.0.1:2379/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))\"");
  const sum = (re) => text.split('\n').filter((l) => re.test(l) && !l.startsWith('#')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  return {
    watchers: sum(/^etcd_debugging_mvcc_watcher_total\b/),
    watchStreams: sum(/^etcd_debugging_mvcc_watch_stream_total\b/),
    events: sum(/^etcd_debugging_mvcc_events_total\b/),
    slowWatchers: sum(/^etcd_debugging_mvcc_slow_watcher_total\b/),
    watchSent: sum(/^grpc_server_msg_sent_total\{.*grpc_method="Watch"/),
    requests: sum(/^grpc_server_handled_total\{/),
    fsyncSum: sum(/^etcd_disk_wal_fsync_duration_seconds_sum\b/),
    fsyncCount: sum(/^etcd_disk_wal_fsync_duration_seconds_count\b/),
    commitSum: sum(/^etcd_disk_backend_commit_duration_seconds_sum\b/),
    commitCount: sum(/^etcd_disk_backend_commit_duration_seconds_count\b/),
    cpuSeconds: sum(/^process_cpu_seconds_total\b/),
    rssBytes: sum(/^process_resident_memory_bytes\b/),
  };
}

/** From the peers' logs: when each saw the joining subnet's lease and when it programmed it. */
async function joinTimeline(hosts, subnet, since) {
  const escaped = subnet.replace(/[./]/g, (c) => `\\${c}`);
  return Promise.all(
    hosts.map(async (host) => {
      const lines = (await sh(`overlab-${NAME}-${host}`, 'grep -F -- "$1" /var/log/overlab-agent.log || true', subnet.split('/')[0])).split('\n');
      return {
        seen: firstAt(lines, new RegExp(`lease added: ${escaped} `), since),
        programmed: firstAt(lines, new RegExp(`programmed: ip route replace ${escaped} `), since),
        dropped: firstAt(lines, new RegExp(`lease removed: ${escaped}`), since),
      };
    }),
  );
}

const report = [];
const say = (line) => {
  console.log(line);
  report.push(line);
};

const dir = mkdtempSync('/tmp/overlab-scale-');
const specPath = `${dir}/${NAME}.yaml`;
writeFileSync(specPath, generateLab({ hosts: HOSTS, pods: PODS, name: NAME }));
await downLab(runtime, NAME).catch(() => undefined);

const spec = await loadLabSpec(specPath);
const lab = resolveLab(spec, { takenSubnets: await takenSubnets(runtime, spec.name) });
const containers = containerSpecs(lab).length;
say(`scale benchmark: ${HOSTS} hosts × ${PODS} pods, flannel vxlan via etcd (${containers} containers); ${new Date().toISOString()}`);
const floorMs = await floor(containers);

const signal = new AbortController().signal;
setMaxListeners(0, signal);
const phases = [];
let upFailed;
const upStart = performance.now();
for (const phase of upPhases(runtime, lab)) {
  const t0 = performance.now();
  try {
    await phase.run(signal);
  } catch (e) {
    upFailed = `${phase.title}: ${e.message}`;
    break;
  } finally {
    phases.push({ title: phase.title, ms: performance.now() - t0 });
  }
}
const upMs = performance.now() - upStart;
say(`floor (${containers} bare containers started in parallel): ${s(floorMs)}`);
say(`up: ${upFailed ? `FAILED after ${s(upMs)} — ${upFailed}` : `${s(upMs)} = ${(upMs / floorMs).toFixed(2)}× the floor`}`);
for (const p of phases) say(`  ${s(p.ms).padStart(9)}  ${p.title}`);
if (upFailed) {
  if (!values.keep) await downLab(runtime, NAME).catch(() => undefined);
  process.exit(1);
}

const hostNames = lab.hosts.map((h) => h.name);
const facts = await Promise.all(hostNames.map(hostFacts));
const lastStart = max(facts.map((f) => f.start));
const firstStart = Math.min(...facts.map((f) => f.start));
const notDone = facts.filter((f) => Number.isNaN(f.done)).map((f) => f.host);
const lastDone = max(facts.map((f) => f.done));
say(`agents: started within ${s(lastStart - firstStart)}; last agent start → every host programmed every peer: ${notDone.length ? `not seen in the logs of ${notDone.join(', ')}` : s(lastDone - lastStart)}`);
const steps = facts.map(stepDurations);
say(`  agent start-up steps, median (max): ${STEPS.map((step, k) => `${step.name} ${s(median(steps.map((d) => d[k])))} (${s(max(steps.map((d) => d[k])))})`).join('; ')}`);
const lastAgent = facts.find((f) => f.start === lastStart);
say(`  the last agent to start (${lastAgent.host}): ${STEPS.map((step, k) => `${step.name} +${s(lastAgent.marks[k] - lastStart)}`).join(', ')}; it had every peer +${s(lastAgent.done - lastStart)}`);
const lastDoneHost = facts.find((f) => f.done === lastDone);
say(`  the last host to have every peer: ${lastDoneHost.host}, started +${s(lastDoneHost.start - firstStart)} after the first`);
const syncs = facts.map((f) => f.stats.peerSync ?? {});
say(
  `  per agent: syncs ${medMax(syncs.map((x) => x.syncs), String)}, processes ${medMax(syncs.map((x) => x.processes), String)}, failed commands ${syncs.reduce((n, x) => n + (x.failures ?? 0), 0)} in all`,
);
say(`  agent RSS ${medMax(facts.map((f) => f.rssBytes), mib)}; descriptors ${medMax(facts.map((f) => f.fds), String)}`);
say(`  agent CPU since start ${medMax(facts.map((f) => f.cpuMs), (x) => `${x} ms`)}; its ip/bridge/iptables children ${medMax(facts.map((f) => f.childCpuMs), (x) => `${x} ms`)}`);
say(`host container memory (agent included): ${medMax(facts.map((f) => f.memBytes), mib)}, ${mib(facts.reduce((n, f) => n + f.memBytes, 0))} for all ${HOSTS}`);
const etcdBefore = await etcdMetrics();
const etcdMem = Number((await sh(`overlab-${NAME}-etcd`, PROBE.split('\n').slice(3).join('\n'))).trim());
say(
  `etcd: ${etcdBefore.watchers} watchers on ${etcdBefore.watchStreams} streams; ${etcdBefore.events} events, ${etcdBefore.watchSent} watch messages sent, ${etcdBefore.requests} requests; ` +
    `WAL fsync ${((etcdBefore.fsyncSum / Math.max(1, etcdBefore.fsyncCount)) * 1000).toFixed(2)} ms mean (${etcdBefore.fsyncCount}), backend commit ${((etcdBefore.commitSum / Math.max(1, etcdBefore.commitCount)) * 1000).toFixed(2)} ms mean; ` +
    `CPU ${etcdBefore.cpuSeconds.toFixed(2)} s, RSS ${mib(etcdBefore.rssBytes)}, container ${mib(etcdMem)} (tmpfs data included)`,
);

const verify = await cli(['verify', NAME]);
say(`verify: ${verify.ok ? 'passed' : 'FAILED'} in ${s(verify.ms)}`);

const JOINER = `host${HOSTS + 1}`;
const joins = [];
for (let round = 0; round < JOINS; round++) {
  const metrics0 = await etcdMetrics();
  const since = Date.now();
  const add = await cli(['node', 'add', NAME, JOINER, '--pods', 'pod1', '--json']);
  if (!add.ok) {
    say(`node add ${JOINER}: FAILED — ${add.out.trim().split('\n').slice(-3).join(' ')}`);
    break;
  }
  const result = JSON.parse(add.out).result;
  const subnet = result.host.networks[0].subnet;
  const metrics1 = await etcdMetrics();
  const joinerLog = (await sh(`overlab-${NAME}-${JOINER}`, 'cat /var/log/overlab-agent.log')).split('\n');
  // the new agent logs "writing lease" just before it sends the lease to etcd
  const leased = firstAt(joinerLog, /writing lease /, since);
  const peers = await joinTimeline(hostNames, subnet, since);
  const delivery = peers.map((p) => p.seen - leased);
  const programming = peers.map((p) => p.programmed - p.seen);
  const last = max(peers.map((p) => p.programmed)) - leased;
  const rm = await cli(['node', 'rm', NAME, JOINER, '--json']);
  const removal = rm.ok ? JSON.parse(rm.out).result.propagation[0]?.ms : NaN;
  joins.push({ reported: result.propagation[0]?.ms, last, delivery, programming, cliMs: add.ms, watchSent: metrics1.watchSent - metrics0.watchSent, removal });
  say(
    `node add ${JOINER} (round ${round + 1}): last of ${HOSTS} peers programmed it ${s(last)} after its lease (the CLI reports ${s(result.propagation[0]?.ms ?? NaN)}); ` +
      `watch delivery ${medMax(delivery, s)}, programming ${medMax(programming, s)}; ${metrics1.watchSent - metrics0.watchSent} watch messages; the command took ${s(add.ms)}; ` +
      `node rm: last peer dropped it ${s(removal)} after the delete`,
  );
}

if (!values.keep) {
  const t0 = performance.now();
  await downLab(runtime, NAME);
  say(`down: ${s(performance.now() - t0)}`);
}

/** The same lab's up phases from another built checkout (--baseline), in-process, then its down. */
async function baselineUp(root) {
  const base = {
    loadLabSpec: (await import(`${root}/dist/lab-loader/load.js`)).loadLabSpec,
    resolveLab: (await import(`${root}/dist/plan/resolve-lab.js`)).resolveLab,
    upPhases: (await import(`${root}/dist/core/up-phases.js`)).upPhases,
    downLab: (await import(`${root}/dist/core/lab-down.js`)).downLab,
    takenSubnets: (await import(`${root}/dist/lab/taken-subnets.js`)).takenSubnets,
    runtime: new (await import(`${root}/dist/runtime/docker-runtime.js`)).DockerRuntime(),
  };
  const floorAgain = await floor(containers);
  const baseSpec = await base.loadLabSpec(specPath);
  const baseLab = base.resolveLab(baseSpec, { takenSubnets: await base.takenSubnets(base.runtime, baseSpec.name) });
  const t0 = performance.now();
  const basePhases = [];
  for (const phase of base.upPhases(base.runtime, baseLab)) {
    const p0 = performance.now();
    await phase.run(signal);
    basePhases.push({ title: phase.title, ms: performance.now() - p0 });
  }
  const ms = performance.now() - t0;
  await base.downLab(base.runtime, NAME);
  return { floorMs: floorAgain, ms, phases: basePhases };
}

const base = values.baseline && !values.keep ? await baselineUp(values.baseline) : undefined;
if (base) {
  say(`baseline (${values.baseline}): floor ${s(base.floorMs)}; up ${s(base.ms)} = ${(base.ms / base.floorMs).toFixed(2)}× that floor`);
  for (const p of base.phases) say(`  ${s(p.ms).padStart(9)}  ${p.title}`);
}

say('');
say('summary');
if (base) say(`  up ${HOSTS} × ${PODS}, same run: this checkout ${(upMs / floorMs).toFixed(2)}× its floor, baseline ${(base.ms / base.floorMs).toFixed(2)}× its floor`);
say(`  up ${HOSTS} × ${PODS}: ${s(upMs)} (${(upMs / floorMs).toFixed(2)}× the floor of ${s(floorMs)})`);
say(`  last agent start → all programmed: ${notDone.length ? 'not reached' : s(lastDone - lastStart)}`);
say(`  per host container: ${mib(median(facts.map((f) => f.memBytes)))} (agent RSS ${mib(median(facts.map((f) => f.rssBytes)))})`);
if (joins.length) say(`  node add → last of ${HOSTS} peers programmed: ${joins.map((j) => s(j.last)).join(', ')} (aim < 1 s)`);
