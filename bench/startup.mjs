#!/usr/bin/env node
// Benchmark: how long the CLI takes to start and answer, beside the floor measured in the same
// run — a bare `node -e 0`. Runs are interleaved (floor, then each command, round after round),
// so load from elsewhere on the machine hits them alike. Prints the minimum (the best estimate on
// a busy machine) and the median, and how many modules each command loaded.
//
//   node bench/startup.mjs [--cli path/to/bin/run.js] [--rounds 15]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const CLI = option('--cli', `${ROOT}bin/run.js`);
const ROUNDS = Number(option('--rounds', process.env.BENCH_ROUNDS ?? 15));

// Counts the modules a run loads: ES modules through a loader hook, CommonJS through the cache.
const dir = mkdtempSync('/tmp/overlab-startup-');
writeFileSync(`${dir}/hooks.mjs`, 'export async function load(url, context, next) { process.stderr.write(`esm ${url}\\n`); return next(url, context); }\n');
writeFileSync(
  `${dir}/count.mjs`,
  [
    "import { register, createRequire } from 'node:module';",
    `register(${JSON.stringify(`file://${dir}/hooks.mjs`)});`,
    'const require = createRequire(import.meta.url);',
    "process.on('exit', () => process.stderr.write(`cjs ${Object.keys(require('node:module')._cache).length}\\n`));",
  ].join('\n'),
);

const commands = [
  { label: 'node -e 0 (floor)', argv: ['-e', '0'] },
  { label: 'overlab --version', argv: [CLI, '--version'] },
  { label: 'overlab validate labs/host-gw.yaml', argv: [CLI, 'validate', `${ROOT}labs/host-gw.yaml`] },
  { label: 'overlab validate --json', argv: [CLI, 'validate', `${ROOT}labs/k8s-cni0.yaml`, '--json'] },
  { label: 'overlab up --help', argv: [CLI, 'up', '--help'] },
];

const times = commands.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  commands.forEach((c, i) => {
    const t = performance.now();
    const r = spawnSync('node', c.argv, { cwd: ROOT, stdio: 'ignore' });
    times[i].push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${c.label} exited ${r.status}`);
  });
}

function modules(argv) {
  const r = spawnSync('node', ['--import', `${dir}/count.mjs`, ...argv], { cwd: ROOT, encoding: 'utf8' });
  const esm = r.stderr.split('\n').filter((l) => l.startsWith('esm ') && !l.includes('node:')).length;
  const cjs = Number(/cjs (\d+)/.exec(r.stderr)?.[1] ?? 0);
  return `${esm} ES + ${cjs} CommonJS`;
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const min = (xs) => sorted(xs)[0];
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;
const floorMin = min(times[0]);
const floorMedian = median(times[0]);
console.log(`CLI start-up (${CLI}), ${ROUNDS} interleaved rounds; floor = node -e 0 in the same run`);
const header = ['command', 'min', 'min/floor', 'median', 'median/floor', 'modules loaded'];
const rows = commands.map((c, i) => [
  c.label,
  fmt(min(times[i])),
  `${(min(times[i]) / floorMin).toFixed(2)}×`,
  fmt(median(times[i])),
  `${(median(times[i]) / floorMedian).toFixed(2)}×`,
  i === 0 ? '-' : modules(c.argv),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
