#!/usr/bin/env node
// Benchmark: how long the CLI takes to start and answer, beside the floor measured in the same
// run — a bare `node -e 0`. Runs are interleaved (floor, then each command, round after round),
// so load from elsewhere on the machine hits them alike. Prints the minimum (the best estimate on
// a busy machine) and the median, and how many modules each command loaded.
//
// With --baseline, a second CLI (another checkout's bin/run.js, e.g. main's before a change) runs
// every command in the same rounds, interleaved with this one, and each row shows both and their
// ratio: a change's effect on start-up measured in one run, under the same load.
//
//   node bench/startup.mjs [--cli path/to/bin/run.js] [--baseline path/to/other/bin/run.js] [--rounds 15]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const CLI = option('--cli', `${ROOT}bin/run.js`);
const BASELINE = option('--baseline', undefined);
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

/** Each command's argv after the CLI's path. */
const commands = [
  { label: 'overlab --version', argv: ['--version'] },
  { label: 'overlab -v', argv: ['-v'] },
  { label: 'overlab validate labs/host-gw.yaml', argv: ['validate', `${ROOT}labs/host-gw.yaml`] },
  { label: 'overlab validate --json', argv: ['validate', `${ROOT}labs/k8s-cni0.yaml`, '--json'] },
  { label: 'overlab up --help', argv: ['up', '--help'] },
  { label: 'overlab up -h', argv: ['up', '-h'] },
  { label: 'overlab complete -- up fl (a Tab)', argv: ['complete', '--', 'up', 'fl'] },
];
const clis = [{ name: 'this', path: CLI }, ...(BASELINE ? [{ name: 'baseline', path: BASELINE }] : [])];

const floor = [];
const times = clis.map(() => commands.map(() => []));
/** A command a CLI does not answer with exit 0 (a baseline without -v, say) is left out of its column. */
const fails = clis.map(() => commands.map(() => undefined));
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  spawnSync('node', ['-e', '0'], { stdio: 'ignore' });
  floor.push(performance.now() - t0);
  commands.forEach((c, i) => {
    clis.forEach((cli, k) => {
      if (fails[k][i] !== undefined) return;
      const t = performance.now();
      const r = spawnSync('node', [cli.path, ...c.argv], { cwd: ROOT, stdio: 'ignore' });
      times[k][i].push(performance.now() - t);
      if (r.status !== 0) {
        if (k === 0) throw new Error(`${c.label} exited ${r.status}`);
        fails[k][i] = r.status;
      }
    });
  });
}

function modules(cli, argv) {
  const r = spawnSync('node', ['--import', `${dir}/count.mjs`, cli, ...argv], { cwd: ROOT, encoding: 'utf8' });
  const esm = r.stderr.split('\n').filter((l) => l.startsWith('esm ') && !l.includes('node:')).length;
  const cjs = Number(/cjs (\d+)/.exec(r.stderr)?.[1] ?? 0);
  return `${esm} ES + ${cjs} CJS`;
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const min = (xs) => sorted(xs)[0];
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;
const floorMin = min(floor);
const floorMedian = median(floor);
console.log(`CLI start-up (${CLI}${BASELINE ? `; baseline ${BASELINE}` : ''}), ${ROUNDS} interleaved rounds; floor = node -e 0 in the same run: min ${fmt(floorMin)}, median ${fmt(floorMedian)}`);
const header = ['command', 'min', 'min/floor', 'median', 'median/floor', 'modules loaded'];
if (BASELINE) header.push('baseline min', 'baseline median', 'median this/baseline', 'baseline modules');
const rows = commands.map((c, i) => {
  const row = [c.label, fmt(min(times[0][i])), `${(min(times[0][i]) / floorMin).toFixed(2)}×`, fmt(median(times[0][i])), `${(median(times[0][i]) / floorMedian).toFixed(2)}×`, modules(CLI, c.argv)];
  if (BASELINE) {
    if (fails[1][i] !== undefined) row.push(`exit ${fails[1][i]}`, '-', '-', '-');
    else row.push(fmt(min(times[1][i])), fmt(median(times[1][i])), `${(median(times[0][i]) / median(times[1][i])).toFixed(2)}×`, modules(BASELINE, c.argv));
  }
  return row;
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
