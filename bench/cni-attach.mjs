#!/usr/bin/env node
// Benchmark: `up` and `down` of k8s-cni0 with its pods attached through real CNI plugins
// (podAttach: cni) against overlab's own wiring (podAttach: ip), alternating in the same run.
// Prints medians, the ratio, and where the CNI run spends its time (the up phases). Run after
// `npm run build` against an engine with overlab/host:latest (BENCH_ROUNDS, default 3).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DockerRuntime } from '../dist/runtime/docker-runtime.js';
import { loadLabSpec } from '../dist/lab-loader/load.js';
import { resolveLab } from '../dist/plan/resolve-lab.js';
import { upPhases } from '../dist/core/up-phases.js';
import { downLab } from '../dist/core/lab-down.js';
import { takenSubnets } from '../dist/lab/taken-subnets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const runtime = new DockerRuntime();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** k8s-cni0 as shipped (cni) and with overlab's own wiring (ip), as two specs. */
function specs() {
  const text = readFileSync(`${ROOT}labs/k8s-cni0.yaml`, 'utf8');
  const setting = /^ {2}podAttach: cni$/m;
  if (!setting.test(text)) throw new Error('labs/k8s-cni0.yaml no longer says `  podAttach: cni` under network');
  const dir = mkdtempSync('/tmp/overlab-bench-cni-');
  writeFileSync(`${dir}/cni.yaml`, text.replace('name: k8s-cni0', 'name: bench-cni'));
  writeFileSync(`${dir}/ip.yaml`, text.replace('name: k8s-cni0', 'name: bench-ip').replace(setting, '  podAttach: ip'));
  return { cni: `${dir}/cni.yaml`, ip: `${dir}/ip.yaml` };
}

/** A short name for an up phase: its first words up to a parenthesis or comma. */
const phaseName = (title) => title.split(/[(,:]/)[0].split(' ').slice(0, 4).join(' ').trim();

async function once(path) {
  const spec = await loadLabSpec(path);
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const phases = {};
  const start = performance.now();
  const lab = resolveLab(spec, { takenSubnets: await takenSubnets(runtime, spec.name) });
  for (const phase of upPhases(runtime, lab)) {
    const t = performance.now();
    await phase.run(signal);
    phases[phaseName(phase.title)] = performance.now() - t;
  }
  const up = performance.now() - start;
  const t = performance.now();
  await downLab(runtime, spec.name);
  return { up, down: performance.now() - t, phases };
}

const paths = specs();
const runs = { ip: [], cni: [] };
await downLab(runtime, 'bench-ip');
await downLab(runtime, 'bench-cni');
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of round % 2 === 0 ? ['ip', 'cni'] : ['cni', 'ip']) runs[mode].push(await once(paths[mode]));
}

const row = (mode) => ({ up: median(runs[mode].map((r) => r.up)), down: median(runs[mode].map((r) => r.down)) });
const ip = row('ip');
const cni = row('cni');
console.log(`k8s-cni0 (3 nodes × 2 pods, vxlan via etcd): up/down in-process, median of ${ROUNDS} rounds, alternating`);
console.log(`  podAttach: ip   up ${fmt(ip.up)}   down ${fmt(ip.down)}`);
console.log(`  podAttach: cni  up ${fmt(cni.up)}   down ${fmt(cni.down)}`);
console.log(`  cni / ip        up ${(cni.up / ip.up).toFixed(2)}×   down ${(cni.down / ip.down).toFixed(2)}×`);
console.log('  up phases (median):');
const names = [...new Set([...Object.keys(runs.ip[0].phases), ...Object.keys(runs.cni[0].phases)])];
const phase = (mode, name) => (runs[mode][0].phases[name] === undefined ? '—' : fmt(median(runs[mode].map((r) => r.phases[name]))));
console.log(`    ${'phase'.padEnd(28)} ${'ip'.padStart(8)} ${'cni'.padStart(8)}`);
for (const name of names) console.log(`    ${name.padEnd(28)} ${phase('ip', name).padStart(8)} ${phase('cni', name).padStart(8)}`);
