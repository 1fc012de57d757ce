#!/usr/bin/env node
// Brings up a generated flannel lab of N hosts × P pods (bench/gen-lab.mjs) on the current Docker
// engine and reports what the agents did: `up` wall time, the time from the last agent start
// until every host had programmed every peer (from the agents' own log timestamps), the agents'
// RSS, descriptors and sync counts, container memory, and etcd's load (its /metrics).
//
//   eval "$(bash scripts/dev/private-engine.sh start <you>)"
//   node scripts/dev/agent-scale-lab.mjs [--hosts 64] [--pods 4] [--backend vxlan] [--keep]
//
// Run `npm run build` first. --keep leaves the lab up (else it is taken down at the end).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generateLab } from '../../bench/gen-lab.mjs';
import { writeFileSync } from 'node:fs';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '64' },
    pods: { type: 'string', default: '4' },
    backend: { type: 'string', default: 'vxlan' },
    keep: { type: 'boolean', default: false },
  },
});
const HOSTS = Number(values.hosts);
const PODS = Number(values.pods);
const name = `scale-${values.backend}-${HOSTS}x${PODS}`.slice(0, 24);
const spec = `${mkdtempSync('/tmp/overlab-scale-')}/${name}.yaml`;
writeFileSync(spec, generateLab({ hosts: HOSTS, pods: PODS, backend: values.backend, name }));

async function cli(args) {
  const t0 = performance.now();
  try {
    const r = await run('node', [`${ROOT}bin/run.js`, ...args], { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
    return { ok: true, ms: performance.now() - t0, out: r.stdout + r.stderr };
  } catch (e) {
    return { ok: false, ms: performance.now() - t0, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function dockerExec(container, argv) {
  try {
    return (await run('docker', ['exec', container, ...argv], { maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    return e.stdout ?? '';
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

await cli(['down', name]);
console.log(`lab ${name}: ${HOSTS} hosts × ${PODS} pods, ${values.backend} via etcd (${spec})`);
const up = await cli(['up', spec]);
console.log(`overlab up: ${up.ok ? 'ok' : 'FAILED'} in ${fmt(up.ms)}`);
if (!up.ok) {
  console.log(up.out.split('\n').slice(-15).join('\n'));
  process.exit(1);
}

// per host: the agent log, its stats, its RSS and descriptor count (a fixed script, no input)
const PROBE = 'cat /var/log/overlab-agent.log; echo @@; cat /run/overlab/agent-stats.json; echo @@; p=$(cat /run/overlab/agent.pid); grep VmRSS /proc/$p/status; cut -d" " -f14-17 /proc/$p/stat; ls /proc/$p/fd | wc -l';
const hosts = await Promise.all(
  Array.from({ length: HOSTS }, async (_, i) => {
    const host = `host${i + 1}`;
    const [log, statsText, proc] = (await dockerExec(`overlab-${name}-${host}`, ['sh', '-c', PROBE])).split('@@');
    const lines = (log ?? '').split('\n');
    const ts = (l) => Date.parse(l.slice(0, 24));
    const start = lines.find((l) => l.includes('overlab agent starting'));
    const done = lines.find((l) => /peers in sync .*: (\d+) peer\(s\)/.test(l) && Number(/: (\d+) peer\(s\)/.exec(l)[1]) === HOSTS - 1 && !/failed/.test(l));
    const stats = JSON.parse(statsText || '{}');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(proc ?? '')?.[1] ?? NaN);
    const procLines = (proc ?? '').trim().split('\n');
    const fds = Number(procLines.at(-1));
    // CPU the agent and the processes it waited for (ip, bridge, iptables) used, in clock ticks (1/100 s)
    const [ut, st, cut, cst] = (procLines.at(-2) ?? '').split(' ').map(Number);
    const cpu = { own: (ut + st) * 10, children: (cut + cst) * 10 };
    // the start-up phases, as the log marks their ends
    const at = (re) => {
      const l = lines.find((x) => re.test(x));
      return l ? ts(l) : NaN;
    };
    const marks = [at(/overlab agent starting/), at(/network config:/), at(/(created|reusing) flannel|attached TUN|previous subnet|(acquired|reusing) lease/), at(/(acquired|reusing) lease/), at(/watching .* from revision/), at(/agent ready/)];
    const phases = marks.slice(1).map((m, k) => m - marks[k]);
    return { host, start: start ? ts(start) : NaN, done: done ? ts(done) : NaN, stats, rssKb, fds, phases, cpu };
  }),
);
const lastStart = Math.max(...hosts.map((h) => h.start));
const lastDone = Math.max(...hosts.map((h) => h.done));
const missing = hosts.filter((h) => Number.isNaN(h.done)).map((h) => h.host);
console.log(`agents started within ${fmt(lastStart - Math.min(...hosts.map((h) => h.start)))}; last agent start → every host programmed every peer: ${missing.length ? `NOT REACHED on ${missing.join(', ')}` : fmt(lastDone - lastStart)}`);
const PHASES = ['node start → network config read', 'backend device', '→ lease acquired', 'own device, bridge, iptables, subnet.env, first listing', 'first full peer sync'];
console.log(`agent start-up phases, median (max) over hosts: ${PHASES.map((p, k) => `${p} ${fmt(median(hosts.map((h) => h.phases[k])))} (${fmt(Math.max(...hosts.map((h) => h.phases[k])))})`).join('; ')}`);
const syncs = hosts.map((h) => h.stats.peerSync ?? {});
console.log(
  `per agent: syncs median ${median(syncs.map((s) => s.syncs))} (max ${Math.max(...syncs.map((s) => s.syncs))}), processes median ${median(syncs.map((s) => s.processes))} (max ${Math.max(...syncs.map((s) => s.processes))}), changes median ${median(syncs.map((s) => s.changes))}, failures ${syncs.reduce((n, s) => n + (s.failures ?? 0), 0)}; rejected leases ${hosts.reduce((n, h) => n + (h.stats.rejectedLeases?.length ?? 0), 0)}`,
);
console.log(`agent RSS median ${(median(hosts.map((h) => h.rssKb)) / 1024).toFixed(1)} MiB (max ${(Math.max(...hosts.map((h) => h.rssKb)) / 1024).toFixed(1)}), descriptors median ${median(hosts.map((h) => h.fds))} (max ${Math.max(...hosts.map((h) => h.fds))})`);
console.log(`agent CPU since start: own median ${median(hosts.map((h) => h.cpu.own))} ms (max ${Math.max(...hosts.map((h) => h.cpu.own))}), its ip/bridge/iptables processes median ${median(hosts.map((h) => h.cpu.children))} ms (max ${Math.max(...hosts.map((h) => h.cpu.children))})`);
const loop = hosts.map((h) => h.stats.eventLoopDelayMs?.maxSinceStart ?? 0);
console.log(`agent event-loop delay, worst since start: median ${median(loop)} ms, max ${Math.max(...loop)} ms`);

const mem = (await run('docker', ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}'])).stdout
  .split('\n')
  .filter((l) => l.startsWith(`overlab-${name}-host`))
  .map((l) => {
    const m = /\s([\d.]+)(KiB|MiB|GiB)\s/.exec(` ${l.split(' ').slice(1).join(' ')} `);
    return m ? Number(m[1]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2]] : NaN;
  });
console.log(`host container memory: median ${median(mem).toFixed(1)} MiB, max ${Math.max(...mem).toFixed(1)} MiB, total ${mem.reduce((a, b) => a + b, 0).toFixed(0)} MiB`);

// etcd's own view: watchers, events sent, requests by method, descriptors, memory
const metrics = await dockerExec(`overlab-${name}-etcd`, ['node', '-e', "fetch('http://127.0.0.1:2379/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]);
const metric = (re) =>
  metrics
    .split('\n')
    .filter((l) => re.test(l) && !l.startsWith('#') && !/ 0$/.test(l))
    .map((l) => l.replace(/\{.*\}/, (m) => m.replace(/grpc_type="[^"]*",|grpc_service="[^"]*",|grpc_code="OK",?/g, '')))
    .join('; ');
console.log(`etcd: ${metric(/^etcd_debugging_mvcc_(watcher_total|watch_stream_total|events_total|pending_events_total)\b/)}`);
console.log(`etcd requests: ${metric(/^grpc_server_handled_total\{.*grpc_code="OK"/)}`);
console.log(`etcd process: ${metric(/^process_(open_fds|resident_memory_bytes|cpu_seconds_total)\b/)}`);
console.log(`etcd disk: ${metric(/^etcd_disk_(wal_fsync|backend_commit)_duration_seconds_(sum|count)\b/)}`);

const verify = await cli(['verify', name]);
console.log(`verify: ${verify.ok ? 'passed' : 'FAILED'} in ${fmt(verify.ms)}`);
if (!values.keep) {
  const down = await cli(['down', name]);
  console.log(`overlab down: ${fmt(down.ms)}`);
}
