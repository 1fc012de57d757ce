#!/usr/bin/env node
// Benchmark: `overlab trace` of a 2-host lab (flannel-vxlan, pod to pod across hosts) beside one
// `verify` capture check of the same lab (tcpdump on host1:eth0 during a 2-packet ping), both
// measured in this run, in-process and as CLI runs; prints medians and the ratio. The aim is a
// trace under 2 s. Run after `bash scripts/setup.sh` (or on a private engine, DOCKER_HOST set).
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DockerRuntime } from '../dist/runtime/docker-runtime.js';
import { requireRunningLab } from '../dist/lab/engine-labs.js';
import { LabReferences } from '../dist/lab/lab-references.js';
import { readLabFacts } from '../dist/lab/etcd-leases.js';
import { runCheck } from '../dist/checks/run-checks.js';
import { traceLab, DEFAULT_TRACE_OPTIONS } from '../dist/trace/trace-lab.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LAB = 'flannel-vxlan';
const runtime = new DockerRuntime();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x)} ms`;

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function cli(args) {
  const start = performance.now();
  try {
    execFileSync('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    if (error.status !== 0 && error.status !== 1) throw error;
  }
  return performance.now() - start;
}

const signal = new AbortController().signal;
setMaxListeners(0, signal);
cli(['down', LAB]);
cli(['up', `labs/${LAB}.yaml`]);
const lab = await requireRunningLab(runtime, LAB);

try {
  const names = new LabReferences(lab, await readLabFacts(runtime, lab));
  const capture = lab.checks.find((c) => c.capture && c.capture.on === 'host1:eth0');
  const trace = [];
  const check = [];
  const traceCli = [];
  const checkCli = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = await timed(() => traceLab(runtime, lab, 'host1/pod1', 'host2/pod1', DEFAULT_TRACE_OPTIONS, signal));
    if (!t.value.result.delivered) throw new Error(`trace not delivered: ${t.value.result.drop?.reason}`);
    trace.push(t.ms);
    const c = await timed(() => runCheck(runtime, names, capture, signal));
    if (c.value.status !== 'pass') throw new Error(`capture check failed: ${c.value.reason}`);
    check.push(c.ms);
    traceCli.push(cli(['trace', LAB, 'host1/pod1', 'host2/pod1']));
    checkCli.push(cli(['verify', LAB, '--check', capture.name]));
  }
  const rows = [
    ['trace host1/pod1 → host2/pod1 (in-process)', median(trace), median(check)],
    ['the same as CLI runs', median(traceCli), median(checkCli)],
  ];
  console.log(`bench/trace.mjs — ${LAB}, ${ROUNDS} rounds, medians; baseline: the verify capture check "${capture.name}"`);
  for (const [what, a, b] of rows) console.log(`  ${what.padEnd(44)} ${ms(a).padStart(8)}  vs ${ms(b).padStart(8)}  = ${(a / b).toFixed(2)}× the capture check`);
  console.log(`  aim: a trace under 2 s — ${median(traceCli) < 2000 ? 'met' : 'not met'} as a CLI run (${ms(median(traceCli))})`);
} finally {
  cli(['down', LAB]);
}
