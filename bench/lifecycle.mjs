#!/usr/bin/env node
// Benchmark: `overlab up` / `down` wall time for the 2-host lab and a generated 16 hosts × 4 pods
// lab, beside a floor measured in the same run: starting (and removing) the same number of bare
// containers in parallel. Prints medians and ratios; run after `bash scripts/setup.sh`.
//
//   node bench/lifecycle.mjs [--baseline <another built checkout>] [--only 2|16]
// --baseline: that checkout's CLI `up`/`down` measured in the same rounds (before/after a change
// in one run, against the same floor).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DockerRuntime } from '../dist/runtime/docker-runtime.js';
import { NODE_CAPABILITIES, NODE_DEVICES } from '../dist/plan/containers.js';
import { loadLabSpec } from '../dist/lab-loader/load.js';
import { resolveLab } from '../dist/plan/resolve-lab.js';
import { upPhases } from '../dist/core/up-phases.js';
import { downLab } from '../dist/core/lab-down.js';
import { takenSubnets } from '../dist/lab/taken-subnets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const BASELINE = option('--baseline');
const ONLY = option('--only');
const IMAGE = 'overlab/host:latest';
const runtime = new DockerRuntime();

function cli(args, root = ROOT) {
  execFileSync('node', [`${root}/bin/run.js`, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

function timed(fn) {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function timedAsync(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function generatedSpec(hosts, pods) {
  const lines = ['name: bench-16x4', 'network: { cidr: 10.244.0.0/16, backend: host-gw }', 'hosts:'];
  for (let h = 1; h <= hosts; h++) {
    lines.push(`  - name: host${h}`, `    pods: [${Array.from({ length: pods }, (_, p) => `pod${p + 1}`).join(', ')}]`);
  }
  const dir = mkdtempSync('/tmp/overlab-bench-');
  writeFileSync(`${dir}/bench.yaml`, lines.join('\n') + '\n');
  return `${dir}/bench.yaml`;
}

async function floor(count) {
  const names = Array.from({ length: count }, (_, i) => `overlab-bench-floor-${i}`);
  const up = await timedAsync(() =>
    Promise.all(
      names.map((name) =>
        runtime.createAndStart({
          name, hostname: 'floor', image: IMAGE, labels: { 'overlab.bench': 'floor' }, command: ['sleep', 'infinity'],
          capAdd: NODE_CAPABILITIES, devices: NODE_DEVICES, sysctls: {},
        }),
      ),
    ),
  );
  const down = await timedAsync(() => Promise.all(names.map((n) => runtime.remove(n))));
  return { up, down };
}

/** The same orchestration from another built checkout (--baseline), loaded from its dist/. */
const baseline = BASELINE
  ? {
      loadLabSpec: (await import(`${BASELINE}/dist/lab-loader/load.js`)).loadLabSpec,
      resolveLab: (await import(`${BASELINE}/dist/plan/resolve-lab.js`)).resolveLab,
      upPhases: (await import(`${BASELINE}/dist/core/up-phases.js`)).upPhases,
      downLab: (await import(`${BASELINE}/dist/core/lab-down.js`)).downLab,
      takenSubnets: (await import(`${BASELINE}/dist/lab/taken-subnets.js`)).takenSubnets,
      runtime: new (await import(`${BASELINE}/dist/runtime/docker-runtime.js`)).DockerRuntime(),
    }
  : undefined;
const ours = { loadLabSpec, resolveLab, upPhases, downLab, takenSubnets, runtime };

/** The orchestration alone, in this process: resolve, the up phases, and down. */
async function inProcess(specPath, { loadLabSpec, resolveLab, upPhases, downLab, takenSubnets, runtime } = ours) {
  const spec = await loadLabSpec(specPath);
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const up = await timedAsync(async () => {
    const lab = resolveLab(spec, { takenSubnets: await takenSubnets(runtime, spec.name) });
    for (const phase of upPhases(runtime, lab)) await phase.run(signal);
  });
  const down = await timedAsync(() => downLab(runtime, spec.name));
  return { up, down };
}

async function measure(label, spec, lab, containers) {
  const m = { cliUp: [], cliDown: [], coreUp: [], coreDown: [], floorUp: [], floorDown: [], baseUp: [], baseDown: [], baseCoreUp: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const f = await floor(containers);
    m.floorUp.push(f.up);
    m.floorDown.push(f.down);
    const core = await inProcess(spec);
    m.coreUp.push(core.up);
    m.coreDown.push(core.down);
    m.cliUp.push(timed(() => cli(['up', spec, '--json'])));
    m.cliDown.push(timed(() => cli(['down', lab, '--json'])));
    if (BASELINE) {
      m.baseCoreUp.push((await inProcess(spec, baseline)).up);
      m.baseUp.push(timed(() => cli(['up', spec, '--json'], BASELINE)));
      m.baseDown.push(timed(() => cli(['down', lab, '--json'], BASELINE)));
    }
  }
  // Each round's own ratio to the floor measured in that round: on a busy machine the load moves
  // between rounds, and a ratio within one round is steadier than a ratio of medians.
  const perRound = Object.fromEntries(
    ['coreUp', 'cliUp', 'baseCoreUp', 'baseUp'].filter((k) => m[k].length).map((k) => [k, m[k].map((ms, i) => ms / m.floorUp[i])]),
  );
  return { label, containers, perRound, ...Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)])) };
}

const rows = [
  ...(ONLY === '16' ? [] : [await measure('host-gw (2 hosts, 2 pods)', `${ROOT}labs/host-gw.yaml`, 'host-gw', 3)]),
  ...(ONLY === '2' ? [] : [await measure('generated (16 hosts × 4 pods)', generatedSpec(16, 4), 'bench-16x4', 17)]),
];

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const cliStart = median(Array.from({ length: 3 }, () => timed(() => cli(['--version']))));
console.log(`overlab lifecycle benchmark — median of ${ROUNDS} rounds`);
console.log('floor = the same number of bare containers started (removed) in parallel, in-process, in the same run');
console.log('core  = overlab\'s orchestration in-process (resolve, start, cable, wire / remove)');
console.log(`cli   = a whole \`overlab up|down\` run; node + oclif start-up alone (overlab --version) takes ${fmt(cliStart)}`);
if (BASELINE) console.log(`base  = the CLI of ${BASELINE}, in the same rounds`);
const header = ['lab', 'containers', 'floor up', 'core up', 'core/floor', 'cli up', 'cli/floor', ...(BASELINE ? ['base core', 'base core/floor', 'base up', 'base/floor'] : []), 'floor down', 'core down', 'core/floor', 'cli down', ...(BASELINE ? ['base down'] : [])];
const table = rows.map((r) => [
  r.label, String(r.containers), fmt(r.floorUp), fmt(r.coreUp), ratio(r.coreUp, r.floorUp), fmt(r.cliUp), ratio(r.cliUp, r.floorUp),
  ...(BASELINE ? [fmt(r.baseCoreUp), ratio(r.baseCoreUp, r.floorUp), fmt(r.baseUp), ratio(r.baseUp, r.floorUp)] : []),
  fmt(r.floorDown), fmt(r.coreDown), ratio(r.coreDown, r.floorDown), fmt(r.cliDown), ...(BASELINE ? [fmt(r.baseDown)] : []),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
for (const row of [header, ...table]) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
const spread = (xs) => `${median(xs).toFixed(2)}× [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;
console.log('');
console.log(`per round, each against its own round's floor: median [min–max] of ${ROUNDS}`);
for (const r of rows) {
  const parts = [['core up', 'coreUp'], ['cli up', 'cliUp'], ['base core', 'baseCoreUp'], ['base up', 'baseUp']].filter(([, k]) => r.perRound[k]).map(([name, k]) => `${name} ${spread(r.perRound[k])}`);
  console.log(`${r.label}: ${parts.join('  ·  ')}`);
}
