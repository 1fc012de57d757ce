#!/usr/bin/env node
// Soak (not in CI, not in `npm run bench`): a flannel-vxlan lab lives for --minutes (30) under
// what a machine's life brings, on a fixed schedule (seeded, so two runs see the same one):
//   node add / node rm of a third host, an agent killed (SIGKILL), etcd killed (SIGKILL), the etcd
//   node's container restarted, a host's container restarted — the last two repaired by `overlab
//   up` as an operator would, the others healing by themselves (the node supervisor, the agents).
// Between events the lab is verified. It reports:
//   lease losses      — a host without its lease in etcd, or on another subnet, outside a heal window
//   verify failures   — a verify that failed outside a heal window
//   heal times        — per kind, median and max: from the event until every lease is back, ls says
//                       complete and the pod-to-pod ping passes (for restarts: the repair
//                       included), and as a ratio of a fresh `up` of the same lab measured in the
//                       same run; then the whole verify must pass
//   leftovers         — containers of the lab after `down`, tcpdump or zombie processes in its nodes
//                       between events
// All but the heal times should be zero. Usage:
//   node bench/soak.mjs [--minutes 30] [--seed 18] [--json]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, seed: { type: 'string', default: '18' }, json: { type: 'boolean', default: false } } });
const MINUTES = Number(opts.minutes);
const LAB = 'soak';
const C = (node) => `overlab-${LAB}-${node}`;
const HEAL_DEADLINE_MS = 120_000;
const VERIFY_EVERY_MS = 20_000;

// A small seeded generator (mulberry32): the same schedule for the same seed.
let seed = Number(opts.seed) >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(random() * xs.length)];

const log = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function overlab(args) {
  try {
    const r = await run('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) };
  }
}

async function docker(...args) {
  try {
    return { code: 0, stdout: (await run('docker', args, { maxBuffer: 16 << 20 })).stdout };
  } catch (e) {
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function until(ms, probe) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

// ---- the lab --------------------------------------------------------------------------------
const dir = mkdtempSync('/tmp/overlab-soak-');
const spec = `${dir}/${LAB}.yaml`;
writeFileSync(spec, readFileSync(`${ROOT}labs/flannel-vxlan.yaml`, 'utf8').replace(/^name: .*$/m, `name: ${LAB}`));
/** Hosts the lab has now, and the lease (subnet key) each must keep. */
const hosts = new Map();

async function model() {
  const r = await docker('exec', C('switch'), 'cat', '/etc/overlab/lab.json');
  return JSON.parse(r.stdout);
}

async function refreshHosts() {
  hosts.clear();
  for (const h of (await model()).hosts) hosts.set(h.name, { ip: h.underlayIp, key: h.networks[0].subnet.replace('/', '-') });
}

/** Hosts whose lease is missing or names another address. */
async function leaseProblems() {
  const r = await docker('exec', C('etcd'), 'etcdctl', '--command-timeout=3s', 'get', '--prefix', '/coreos.com/network/subnets/');
  if (r.code !== 0) return [...hosts.keys()].map((h) => `${h}: etcd does not answer`);
  const lines = r.stdout.split('\n').filter(Boolean);
  const leases = new Map();
  for (let i = 0; i + 1 < lines.length; i += 2) leases.set(lines[i].replace('/coreos.com/network/subnets/', ''), lines[i + 1]);
  const out = [];
  for (const [name, h] of hosts) {
    const value = leases.get(h.key);
    if (!value) out.push(`${name}: no lease ${h.key}`);
    else if (!value.includes(`"PublicIP":"${h.ip}"`)) out.push(`${name}: lease ${h.key} names another host`);
  }
  // A host holding a subnet other than its own (its lease moved) is a loss too.
  for (const [key, value] of leases) {
    const owner = [...hosts].find(([, h]) => value.includes(`"PublicIP":"${h.ip}"`));
    if (owner && owner[1].key !== key) out.push(`${owner[0]}: holds ${key}, not ${owner[1].key}`);
  }
  return out;
}

async function labComplete() {
  const r = await overlab(['ls', '--json']);
  try {
    return JSON.parse(r.stdout).result.find((l) => l.lab === LAB)?.status === 'complete';
  } catch {
    return false;
  }
}

async function verifyPasses() {
  return (await overlab(['verify', LAB])).code === 0;
}

const PING = 'a pod on host1 reaches a pod on host2';

/** Healed: every lease as it must be, ls complete, the pod-to-pod ping through the overlay passing
 * (cheap enough to ask every quarter second; the whole verify confirms it afterwards). */
async function healed() {
  return (await leaseProblems()).length === 0 && (await labComplete()) && (await overlab(['verify', LAB, '--check', PING])).code === 0;
}

/** tcpdump processes and zombies in the lab's nodes (between events nothing should run). */
async function strays() {
  const out = [];
  for (const node of ['switch', 'etcd', ...hosts.keys()]) {
    const r = await docker('exec', C(node), 'ps', '-eo', 'stat=,comm=');
    for (const line of r.stdout.split('\n')) {
      const [stat, comm] = line.trim().split(/\s+/);
      if (comm === 'tcpdump' || stat?.startsWith('Z')) out.push(`${node}: ${line.trim()}`);
    }
  }
  return out;
}

// ---- the events -----------------------------------------------------------------------------
async function repairWithUp() {
  // An operator: ls says degraded, `up` repairs it.
  await until(30_000, async () => !(await labComplete()));
  const r = await overlab(['up', spec, '--json']);
  if (r.code !== 0) log(`  up failed (${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  else log(`  up: ${JSON.parse(r.stdout).result.status} ${(JSON.parse(r.stdout).result.repairs ?? []).map((x) => x.node).join(', ')}`);
}

const events = {
  async 'agent killed'() {
    const host = pick([...hosts.keys()]);
    const pid = (await docker('exec', C(host), 'cat', '/run/overlab/agent.pid')).stdout.trim();
    await docker('exec', C(host), 'kill', '-KILL', pid);
    return host;
  },
  async 'etcd killed'() {
    const pid = (await docker('exec', C('etcd'), 'sh', '-c', 'ps -eo pid=,comm= | awk \'$2 == "etcd" { print $1 }\'')).stdout.trim();
    await docker('exec', C('etcd'), 'kill', '-KILL', pid);
    return 'etcd';
  },
  async 'etcd node restarted'() {
    await docker('restart', '-t', '0', C('etcd'));
    await repairWithUp();
    return 'etcd';
  },
  async 'host restarted'() {
    const host = pick([...hosts.keys()]);
    await docker('restart', '-t', '0', C(host));
    await repairWithUp();
    return host;
  },
  async 'node add'() {
    const r = await overlab(['node', 'add', LAB, 'host3', '--pods', 'pod1']);
    if (r.code !== 0) log(`  node add failed: ${r.stderr.trim().split('\n').slice(-1)}`);
    await refreshHosts();
    return 'host3';
  },
  async 'node rm'() {
    const r = await overlab(['node', 'rm', LAB, 'host3']);
    if (r.code !== 0) log(`  node rm failed: ${r.stderr.trim().split('\n').slice(-1)}`);
    await refreshHosts();
    return 'host3';
  },
};

// ---- the run --------------------------------------------------------------------------------
const result = { minutes: MINUTES, seed: Number(opts.seed), upMs: 0, events: [], leaseLosses: [], verifyFailures: [], heal: {}, leftovers: [] };

await overlab(['down', LAB]);
const t0 = Date.now();
const up = await overlab(['up', spec]);
if (up.code !== 0) throw new Error(`up failed: ${up.stderr}`);
result.upMs = Date.now() - t0;
await refreshHosts();
log(`lab ${LAB} up in ${(result.upMs / 1000).toFixed(1)} s; soaking for ${MINUTES} min (seed ${opts.seed})`);

const end = Date.now() + MINUTES * 60_000;
let third = false;
while (Date.now() < end) {
  // Steady state: verified, leases checked, no strays.
  const quietUntil = Date.now() + VERIFY_EVERY_MS + random() * 20_000;
  while (Date.now() < quietUntil && Date.now() < end) {
    const lost = await leaseProblems();
    if (lost.length) result.leaseLosses.push({ at: new Date().toISOString(), lost });
    if (!(await verifyPasses())) result.verifyFailures.push({ at: new Date().toISOString() });
    const s = await strays();
    if (s.length) result.leftovers.push(...s.map((x) => `during the run: ${x}`));
    await sleep(10_000);
  }
  if (Date.now() >= end) break;
  const kinds = ['agent killed', 'etcd killed', 'etcd node restarted', 'host restarted', third ? 'node rm' : 'node add'];
  const kind = pick(kinds);
  const started = Date.now();
  const on = await events[kind]();
  if (kind === 'node add') third = true;
  if (kind === 'node rm') third = false;
  const ok = await until(HEAL_DEADLINE_MS, healed);
  const ms = Date.now() - started;
  // Then every check, once: a failure here is one outside the heal window.
  if (ok && !(await verifyPasses())) result.verifyFailures.push({ at: new Date().toISOString(), after: kind });
  result.events.push({ kind, on, healed: ok, ms });
  (result.heal[kind] ??= []).push(ok ? ms : null);
  log(`${kind} (${on}): ${ok ? `healed in ${(ms / 1000).toFixed(1)} s` : `NOT healed after ${HEAL_DEADLINE_MS / 1000} s`}`);
}

await overlab(['down', LAB]);
const left = (await docker('ps', '-a', '--filter', `label=overlab.lab=${LAB}`, '--format', '{{.Names}}')).stdout.split('\n').filter(Boolean);
result.leftovers.push(...left.map((c) => `after down: ${c}`));

// ---- the figures ----------------------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(
  Object.entries(result.heal).map(([kind, times]) => {
    const ok = times.filter((t) => t !== null);
    return [kind, { count: times.length, unhealed: times.length - ok.length, medianMs: ok.length ? median(ok) : null, maxMs: ok.length ? Math.max(...ok) : null }];
  }),
);
if (opts.json) {
  process.stdout.write(`${JSON.stringify({ ...result, summary }, null, 2)}\n`);
} else {
  const s = (ms) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const ratio = (ms) => (ms === null ? '' : ` (${(ms / result.upMs).toFixed(2)}× a fresh up)`);
  const lines = [
    `soak: lab ${LAB} (flannel-vxlan, etcd + agents) for ${MINUTES} min, seed ${opts.seed}; a fresh up took ${s(result.upMs)}`,
    `events: ${result.events.length}`,
    `lease losses outside heal windows: ${result.leaseLosses.length}`,
    `verify failures outside heal windows: ${result.verifyFailures.length}`,
    `events not healed within ${HEAL_DEADLINE_MS / 1000} s: ${result.events.filter((e) => !e.healed).length}`,
    `leftovers: ${result.leftovers.length}${result.leftovers.length ? ` (${result.leftovers.slice(0, 5).join('; ')})` : ''}`,
    'heal times (event → every lease back, ls complete, the pod ping passing; restarts include the `up` that repairs them):',
    ...Object.entries(summary).map(([kind, v]) => `  ${kind.padEnd(20)} ×${String(v.count).padEnd(3)} median ${s(v.medianMs)}${ratio(v.medianMs)}, max ${s(v.maxMs)}${ratio(v.maxMs)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
