#!/usr/bin/env node
// Benchmark: `overlab verify` of every seed lab, one lab after another, each lab brought up
// (untimed) and taken down around it. Prints per lab the wall time of the whole `verify` run, its
// checks' verdicts, and beside it the floor measured in the same run: the CLI's own start-up
// (`overlab --version`). Writes every verdict and the largest ping round trip seen to a JSON file,
// so two builds can be compared verdict by verdict:
//
//   node bench/verify.mjs --out after.json
//   node bench/verify.mjs --cli /path/to/other/checkout/bin/run.js --out before.json
//   node bench/verify.mjs --compare before.json after.json     # same verdicts? (exit 1 if not)
//   node bench/verify.mjs --against /path/to/other/checkout/bin/run.js --rounds 3
//       # both builds on the same labs, alternating: a comparison the machine's load hits alike
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

if (args[0] === '--compare') {
  const [before, after] = args.slice(1, 3).map((f) => JSON.parse(readFileSync(f, 'utf8')));
  let differences = 0;
  for (const lab of Object.keys(before.labs)) {
    const b = before.labs[lab].verdicts;
    const a = after.labs[lab]?.verdicts ?? {};
    for (const check of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (b[check] !== a[check]) {
        differences++;
        console.log(`${lab}: "${check}": ${b[check] ?? '(absent)'} before, ${a[check] ?? '(absent)'} after`);
      }
    }
  }
  const total = (r) => Object.values(r.labs).reduce((s, l) => s + l.verifyMs, 0);
  const checks = Object.values(before.labs).reduce((s, l) => s + Object.keys(l.verdicts).length, 0);
  console.log(`${checks} checks in ${Object.keys(before.labs).length} labs: ${differences === 0 ? 'every verdict the same' : `${differences} verdicts differ`}`);
  console.log(`verify of every lab: ${(total(before) / 1000).toFixed(1)} s before, ${(total(after) / 1000).toFixed(1)} s after`);
  process.exit(differences === 0 ? 0 : 1);
}

const CLI = option('--cli', `${ROOT}bin/run.js`);
/** Another build to time on the same labs, alternating with this one (a paired comparison). */
const AGAINST = option('--against', undefined);
const OUT = option('--out', undefined);
const ROUNDS = Number(option('--rounds', process.env.BENCH_ROUNDS ?? 1));
const LABS = (option('--labs', undefined)?.split(',') ?? readdirSync(`${ROOT}labs`).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''))).sort();
const CLIS = [CLI, ...(AGAINST ? [AGAINST] : [])];

function cli(argv, { check = true, using = CLI } = {}) {
  const r = spawnSync('node', [using, ...argv], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  if (check && r.status !== 0) throw new Error(`overlab ${argv.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

const startUp = median(Array.from({ length: 3 }, () => {
  const t = performance.now();
  execFileSync('node', [CLI, '--version'], { stdio: 'ignore' });
  return performance.now() - t;
}));

const results = CLIS.map(() => ({}));
let maxRttMs = 0;
for (const lab of LABS) {
  cli(['down', lab]);
  cli(['up', `${ROOT}labs/${lab}.yaml`, '--json']);
  const times = CLIS.map(() => []);
  const verdicts = CLIS.map(() => ({}));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      CLIS.forEach((using, k) => {
        const t = performance.now();
        const r = cli(['verify', lab, '--json'], { check: false, using });
        times[k].push(performance.now() - t);
        const report = JSON.parse(r.stdout).result;
        verdicts[k] = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
        for (const c of report.checks) if (typeof c.details?.ping?.rttAvgMs === 'number') maxRttMs = Math.max(maxRttMs, c.details.ping.rttAvgMs);
      });
    }
  } finally {
    cli(['down', lab]);
  }
  CLIS.forEach((_, k) => (results[k][lab] = { verifyMs: median(times[k]), verdicts: verdicts[k] }));
  const failed = Object.entries(verdicts[0]).filter(([, s]) => s !== 'pass');
  const same = CLIS.length > 1 ? (JSON.stringify(verdicts[0]) === JSON.stringify(verdicts[1]) ? ', same verdicts' : ', VERDICTS DIFFER') : '';
  const other = CLIS.length > 1 ? `  against ${fmt(median(times[1])).padStart(8)}` : '';
  console.log(`${lab.padEnd(14)} ${fmt(median(times[0])).padStart(8)}${other}  ${Object.keys(verdicts[0]).length} checks${failed.length ? `, not passed: ${failed.map(([n, st]) => `${n} (${st})`).join('; ')}` : ', all passed'}${same}`);
}
const total = (r) => Object.values(r).reduce((sum, x) => sum + x.verifyMs, 0);
console.log(`overlab verify of ${LABS.length} labs (${CLI}), median of ${ROUNDS} round(s) per lab`);
console.log(`total ${fmt(total(results[0]))}${AGAINST ? `; against ${AGAINST}: ${fmt(total(results[1]))} (${(total(results[0]) / total(results[1])).toFixed(2)}×)` : ''}`);
console.log(`floor: CLI start-up (overlab --version) ${fmt(startUp)} per run, ${fmt(startUp * LABS.length)} for ${LABS.length} runs (the total is ${(total(results[0]) / (startUp * LABS.length)).toFixed(1)}× that)`);
console.log(`largest average ping round trip seen: ${maxRttMs.toFixed(3)} ms`);
if (OUT) {
  writeFileSync(OUT, JSON.stringify({ cli: CLI, startUpMs: startUp, maxRttMs, labs: results[0] }, null, 2) + '\n');
  if (AGAINST) writeFileSync(OUT.replace(/\.json$/, '') + '.against.json', JSON.stringify({ cli: AGAINST, labs: results[1] }, null, 2) + '\n');
}
