#!/usr/bin/env node
// Benchmark: the time from `overlab workshop start <id>` to the task on screen (the command prints
// the task as its last act, so it is the command's wall time), beside a baseline measured in the
// same run: `overlab up` of the same lab spec without the exercise (no faults). Also `workshop
// check` (a not-yet verdict) and `workshop reset`. Prints medians and ratios; run after
// `bash scripts/setup.sh`. The progress file goes to a temporary XDG_STATE_HOME.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const env = { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: mkdtempSync('/tmp/overlab-bench-state-') };
/** Exercises that reference a lab file: a static one, an etcd one, the three-node Kubernetes one. */
const EXERCISES = [
  { id: 1, lab: 'same-host' },
  { id: 10, lab: 'flannel-vxlan' },
  { id: 14, lab: 'k8s-cni0' },
];

function cli(args, { allowFail = false } = {}) {
  const start = performance.now();
  try {
    execFileSync('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    if (!allowFail) throw error;
  }
  return performance.now() - start;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

const dir = mkdtempSync('/tmp/overlab-bench-');
const rows = [];
for (const { id, lab } of EXERCISES) {
  // The baseline builds the same lab under the exercise's own name, so names and sizes match.
  const spec = readFileSync(`${ROOT}labs/${lab}.yaml`, 'utf8').replace(new RegExp(`^name: ${lab}$`, 'm'), `name: ex${id}`);
  writeFileSync(`${dir}/ex${id}.yaml`, spec);
  const up = [];
  const start = [];
  const check = [];
  const reset = [];
  for (let round = 0; round < ROUNDS; round++) {
    up.push(cli(['up', `${dir}/ex${id}.yaml`]));
    cli(['down', `ex${id}`]);
    start.push(cli(['workshop', 'start', String(id), '--json']));
    check.push(cli(['workshop', 'check', '--json'], { allowFail: true }));
    reset.push(cli(['workshop', 'reset', '--json']));
    cli(['workshop', 'stop']);
  }
  rows.push({ id, lab, up: median(up), start: median(start), check: median(check), reset: median(reset) });
}

console.log(`workshop start → task on screen (median of ${ROUNDS}; baseline: overlab up of the same lab, no faults)`);
console.log('exercise  lab            up (baseline)  workshop start  ratio  check (not yet)  reset');
for (const r of rows) {
  console.log(
    `${String(r.id).padEnd(8)}  ${r.lab.padEnd(13)}  ${s(r.up).padStart(13)}  ${s(r.start).padStart(14)}  ${(r.start / r.up).toFixed(2).padStart(5)}  ${s(r.check).padStart(15)}  ${s(r.reset).padStart(6)}`,
  );
}
