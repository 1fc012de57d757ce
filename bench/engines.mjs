#!/usr/bin/env node
// Benchmark: a lab across engines against the same lab on one engine, in one run on the engine
// rig (scripts/engine-rig.sh: dockerds in network namespaces on a LAN bridge, overlab on a
// "workstation" namespace reaching them over mutual TLS and ssh):
//   - flannel-vxlan pod→pod TCP throughput (iperf3) between two hosts on two engines (the pod's
//     frames in flannel's VXLAN, inside the stitch VXLAN between the engines' switches) vs two
//     hosts on one engine; rounds alternate so neighbouring runs see the same load, the ratio is
//     the median of per-round ratios;
//   - `up` of a lab with 8 hosts (flannel VXLAN, etcd and agents) spread over 3 engines vs the
//     same lab on one engine (rounds alternate, median of ratios).
// The rig is started for the run and taken down after (nothing left).
//
//   node bench/engines.mjs        BENCH_SECONDS=3 BENCH_ROUNDS=3 BENCH_RIG=olbench
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLab } from './gen-lab.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RIG = process.env.BENCH_RIG ?? 'olbench';
const dir = mkdtempSync(join(tmpdir(), 'overlab-bench-engines-'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rig = JSON.parse(execFileSync('bash', [`${ROOT}scripts/engine-rig.sh`, 'start', RIG], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const [e1, e2, e3] = rig.engines;
const env = { ...process.env, NO_COLOR: '1', DOCKER_HOST: e1.endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: e1.certDir, OVERLAB_SSH_CONFIG: e2.sshConfig, DOCKER_CONFIG: e3.dockerConfig };
const engineArgs = { one: ['--engine', `e1=${e1.endpoint}`], two: ['--engine', `e1=${e1.endpoint}`, '--engine', `e2=${e2.endpoint}`], three: ['--engine', `e1=${e1.endpoint}`, '--engine', `e2=${e2.endpoint}`, '--engine', `e3=${e3.context}`] };

function cli(args) {
  return execFileSync('nsenter', [`--net=${rig.workstation.netnsPath}`, 'node', `${ROOT}bin/run.js`, ...args], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function dockerOn(engine, args, check = true) {
  try {
    return execFileSync('docker', ['-H', `unix://${engine.socket}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (check) throw error;
    return '';
  }
}

function spec(seed, name) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, readFileSync(`${ROOT}labs/${seed}.yaml`, 'utf8').replace(/^name: .*$/m, `name: ${name}`));
  return file;
}

/** Gbit/s of one iperf3 run pod1@host1 → pod1@host2 of a lab that is up. */
function throughput(lab, engines) {
  const host1 = lab.hosts[0];
  const host2 = lab.hosts[1];
  const on = (h) => (h.engine === 'e2' ? e2 : e1);
  const server = dockerOn(on(host2), ['exec', '-d', host2.container, 'ip', 'netns', 'exec', 'pod1', 'iperf3', '-s', '-1']);
  void server;
  for (let i = 0; i < 50; i++) {
    const ss = dockerOn(on(host2), ['exec', host2.container, 'ip', 'netns', 'exec', 'pod1', 'ss', '-ltn'], false);
    if (ss.includes(':5201')) break;
  }
  const out = dockerOn(on(host1), ['exec', host1.container, 'ip', 'netns', 'exec', 'pod1', 'iperf3', '-J', '-t', String(SECONDS), '-c', host2.pods[0].ip]);
  void engines;
  return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
}

function up(file, engines) {
  const started = Date.now();
  const r = JSON.parse(cli(['up', file, ...engines, '--json']));
  return { ms: Date.now() - started, lab: r.result.resolved };
}

try {
  // Throughput: the same two-host lab on one engine and across two, alternating rounds.
  const labs = { one: up(spec('flannel-vxlan', 'bench-one'), engineArgs.one).lab, two: up(spec('flannel-vxlan', 'bench-two'), engineArgs.two).lab };
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = throughput(labs.one, 'one');
    const two = throughput(labs.two, 'two');
    rounds.push({ one, two, ratio: two / one });
    console.log(`round ${r + 1}: one engine ${one.toFixed(2)} Gbit/s, two engines ${two.toFixed(2)} Gbit/s (×${(two / one).toFixed(2)})`);
  }
  cli(['down', 'bench-one']);
  cli(['down', 'bench-two']);
  console.log(`pod→pod (flannel-vxlan, iperf3 ${SECONDS} s): one engine ${median(rounds.map((r) => r.one)).toFixed(2)} Gbit/s, two engines ${median(rounds.map((r) => r.two)).toFixed(2)} Gbit/s; ratio two/one ${median(rounds.map((r) => r.ratio)).toFixed(2)} (MTU ${labs.one.underlay.mtu} vs ${labs.two.underlay.mtu})`);

  // up of 8 hosts: one engine vs three, alternating.
  const eight = (name) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, generateLab({ hosts: 8, pods: 1, name }));
    return file;
  };
  const ups = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = up(eight('bench-up1'), engineArgs.one).ms;
    cli(['down', 'bench-up1']);
    const three = up(eight('bench-up3'), engineArgs.three).ms;
    cli(['down', 'bench-up3']);
    ups.push({ one, three, ratio: three / one });
    console.log(`round ${r + 1}: up of 8 hosts on one engine ${(one / 1000).toFixed(1)} s, over three ${(three / 1000).toFixed(1)} s (×${(three / one).toFixed(2)})`);
  }
  console.log(`up, 8 hosts (flannel-vxlan, etcd): one engine ${(median(ups.map((u) => u.one)) / 1000).toFixed(1)} s, three engines ${(median(ups.map((u) => u.three)) / 1000).toFixed(1)} s; ratio three/one ${median(ups.map((u) => u.ratio)).toFixed(2)}`);
} finally {
  for (const lab of ['bench-one', 'bench-two', 'bench-up1', 'bench-up3']) {
    try {
      cli(['down', lab]);
    } catch {
      // already gone
    }
  }
  execFileSync('bash', [`${ROOT}scripts/engine-rig.sh`, 'stop', RIG], { stdio: 'inherit' });
}
