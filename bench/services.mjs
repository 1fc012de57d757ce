#!/usr/bin/env node
// Benchmark: Kubernetes Services as overlab programs them (docs/architecture.md, "How a packet reaches a Service").
//  1. Request latency through a ClusterIP against the same pod asked directly: a two-host lab
//     (flannel VXLAN), the client on host1, one endpoint on host2; each request a new TCP
//     connection (so every one meets kube-proxy's nat rules), alternating rounds, medians.
//     Then the same with 5 000 other Services in host1's rules, in each mode: iptables walks
//     KUBE-SERVICES rule by rule for a new flow, nftables looks the address up in one map.
//  2. Time to program the rules for 100, 1 000 and 5 000 Services (two endpoints each), in a
//     bare container of the host image: `iptables-restore` of kube-proxy's text (iptables mode)
//     against `nft -f -` of its nftables text, each a full sync into an empty kernel, alternating
//     modes, medians; the docker exec round trip (`true`) measured beside and subtracted.
// kube-proxy's own finding (KEP-3866, the nftables proxier): iptables-mode syncs grow faster than
// linearly with the number of Services and the per-packet cost of a new flow grows with
// KUBE-SERVICES; nftables keeps both flat-ish. The last lines say whether overlab reproduces it.
// Run after `bash scripts/setup.sh`: node bench/services.mjs [--rounds N] [--quick] [--only programming|latency]
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DockerRuntime } from '../dist/runtime/docker-runtime.js';
import { requireRunningLab } from '../dist/lab/engine-labs.js';
import { proxyServicePorts, proxierSettings, ASK_JS, NODE } from '../dist/plan/service-plan.js';
import { iptablesRestoreText, IPTABLES_RESTORE_ARGV } from '../dist/plan/kube-proxy-iptables.js';
import { nftablesRulesText, NFT_LOAD_ARGV } from '../dist/plan/kube-proxy-nftables.js';
import { parseAskOutput } from '../dist/shared/pod-reply.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 0) || (quick ? 2 : 5);
const REQUESTS = quick ? 100 : 300;
const SIZES = quick ? [100, 1000] : [100, 1000, 5000];
const LAB = 'svc-bench';
const BARE = 'svc-bench-rules';
const IMAGE = 'overlab/host:latest';
const runtime = new DockerRuntime();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 3) => x.toFixed(digits);

const SPEC = `name: ${LAB}
network: { cidr: 10.244.0.0/16, bridge: cni0, backend: vxlan }
hosts:
  - name: host1
    pods: [client]
  - name: host2
    pods: [{ name: web, serve: [{ port: 8080 }] }]
proxyMode: iptables
services:
  - { name: web, clusterIP: 10.96.0.10, ports: [{ port: 80, targetPort: 8080 }], endpoints: [host2/web] }
`;

function cli(argv) {
  execFileSync('node', [`${ROOT}bin/run.js`, ...argv], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** n Services, two endpoints each (addresses nobody has: only the rules matter). */
function dummies(n) {
  return Array.from({ length: n }, (_, i) => ({
    name: { namespace: 'bench', name: `svc${String(i).padStart(5, '0')}`, port: 'http' },
    protocol: 'tcp',
    clusterIP: `10.100.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    port: 80,
    endpoints: [0, 1].map((k) => ({ ip: `10.250.${Math.floor(i / 125)}.${((i % 125) * 2) + k + 1}`, port: 8080, ready: true })),
  }));
}

async function exec(container, argv, stdin) {
  const r = await runtime.exec(container, argv, stdin === undefined ? {} : { stdin });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${container}: exit ${r.exitCode}: ${r.stderr.trim().slice(0, 400)}`);
  return r.stdout;
}

async function timedExec(container, argv, stdin) {
  const start = performance.now();
  await exec(container, argv, stdin);
  return performance.now() - start;
}

// ---- 1. latency ----------------------------------------------------------------------------
async function ask(lab, to) {
  const client = lab.hosts[0];
  const out = await exec(client.container, ['ip', 'netns', 'exec', 'client', NODE, ASK_JS, '--to', to, '--protocol', 'tcp', '--count', String(REQUESTS), '--timeout-ms', '1000', '--budget-ms', '60000']);
  const results = parseAskOutput(out);
  const failed = results.filter((r) => !r.reply).length;
  if (failed) throw new Error(`${failed} of ${results.length} requests to ${to} were not answered`);
  return median(results.map((r) => r.ms));
}

/** host1's kube-proxy rules in one mode, with `extra` other Services before the real one. */
async function program(lab, mode, extra) {
  const host = lab.hosts[0];
  const real = proxyServicePorts(lab);
  const services = [...dummies(extra), ...real];
  const settings = proxierSettings(lab, host);
  // iptables mode: the rules; nftables mode: kube-proxy's iptables chains left empty, its table loaded
  await exec(host.container, IPTABLES_RESTORE_ARGV, iptablesRestoreText(settings, mode === 'iptables' ? services : []));
  await exec(host.container, ['nft', '-f', '-'], 'add table ip kube-proxy\ndelete table ip kube-proxy\n' + (mode === 'nftables' ? nftablesRulesText(settings, services) : ''));
}

async function latency() {
  const dir = mkdtempSync('/tmp/overlab-bench-');
  writeFileSync(`${dir}/${LAB}.yaml`, SPEC);
  try {
    cli(['down', LAB]);
  } catch {
    /* not up */
  }
  cli(['up', `${dir}/${LAB}.yaml`]);
  rmSync(dir, { recursive: true, force: true });
  const lab = await requireRunningLab(runtime, LAB);
  const pod = lab.hosts[1].pods[0];
  const rows = [];
  try {
    const direct = [];
    const viaService = { iptables: { 0: [], 5000: [] }, nftables: { 0: [], 5000: [] } };
    await ask(lab, `${pod.ip}:8080`); // warm up: ARP, the server's first connection
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? ['nftables', 'iptables'] : ['iptables', 'nftables']) {
        for (const extra of [0, quick ? 1000 : 5000]) {
          await program(lab, mode, extra);
          viaService[mode][extra === 0 ? 0 : 5000].push(await ask(lab, '10.96.0.10:80'));
          direct.push(await ask(lab, `${pod.ip}:8080`));
        }
      }
    }
    const d = median(direct);
    rows.push(['pod directly', fmt(d), '1.00']);
    for (const mode of ['iptables', 'nftables']) {
      for (const extra of [0, 5000]) {
        const v = median(viaService[mode][extra]);
        rows.push([`ClusterIP, ${mode}${extra ? `, +${quick ? 1000 : 5000} Services` : ''}`, fmt(v), fmt(v / d, 2)]);
      }
    }
  } finally {
    cli(['down', LAB]);
  }
  return rows;
}

// ---- 2. programming time -------------------------------------------------------------------
async function programming() {
  execFileSync('docker', ['rm', '-f', BARE], { stdio: 'ignore' });
  execFileSync('docker', ['run', '-d', '--name', BARE, '--network', 'none', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', IMAGE, 'sleep', '3600'], { stdio: 'ignore' });
  const settings = {
    nodeName: 'node1', nodeIP: '192.168.0.2', clusterCIDR: '10.244.0.0/16', masqueradeAll: false, masqueradeMark: '0x4000',
    localhostNodePorts: true, randomFully: true, nfacctCounters: false, conntrackTCPLiberal: false,
    serviceCIDRs: ['10.96.0.0/12'], nodePortIPs: ['192.168.0.2'],
  };
  const rows = [];
  try {
    const floor = [];
    const times = Object.fromEntries(SIZES.map((n) => [n, { iptables: [], nftables: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of SIZES) {
        const services = dummies(n);
        const ipt = iptablesRestoreText(settings, services);
        const nft = nftablesRulesText(settings, services);
        for (const mode of round % 2 ? ['nftables', 'iptables'] : ['iptables', 'nftables']) {
          // from empty each time, as kube-proxy's first (full) sync
          await exec(BARE, ['sh', '-c', 'iptables -t nat -F; iptables -t nat -X; iptables -t filter -F; iptables -t filter -X; nft delete table ip kube-proxy 2>/dev/null; true']);
          floor.push(await timedExec(BARE, ['true']));
          times[n][mode].push(mode === 'iptables' ? await timedExec(BARE, IPTABLES_RESTORE_ARGV, ipt) : await timedExec(BARE, NFT_LOAD_ARGV, nft));
        }
      }
    }
    const f = median(floor);
    for (const n of SIZES) {
      const i = Math.max(0, median(times[n].iptables) - f);
      const t = Math.max(0, median(times[n].nftables) - f);
      rows.push({ n, iptables: i, nftables: t });
    }
    rows.floor = f;
  } finally {
    execFileSync('docker', ['rm', '-f', BARE], { stdio: 'ignore' });
  }
  return rows;
}

// --only programming: the rule loads alone (minutes, no lab); --only latency: the lab alone.
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'programming' && only !== 'latency') throw new Error('--only takes programming or latency');

const lat = only === 'programming' ? [] : await latency();
if (lat.length) console.log(`\nrequest latency, host1/client → host2/web over flannel VXLAN, ${REQUESTS} new TCP connections a round, median of per-request ms over ${ROUNDS} rounds:`);
if (lat.length) console.log(['to', 'ms', '× direct'].join('\t'));
for (const r of lat) console.log(r.join('\t'));
if (only === 'latency') process.exit(0);

const prog = await programming();
console.log(`\ntime to program the rules (full sync into an empty kernel, two endpoints per Service, median of ${ROUNDS}, docker exec floor ${Math.round(prog.floor)} ms subtracted):`);
console.log(['Services', 'iptables-restore ms', 'nft -f ms', 'iptables / nft'].join('\t'));
for (const r of prog) console.log([r.n, Math.round(r.iptables), Math.round(r.nftables), fmt(r.iptables / Math.max(1, r.nftables), 2)].join('\t'));
// Growth is read over the last step (1 000 → 5 000 Services): at 100 Services nft's load is a few
// ms, within the docker exec floor's noise, so a ratio from there says nothing.
const prev = prog.at(-2);
const last = prog.at(-1);
const growth = (x) => (x === 'iptables' ? last.iptables / Math.max(1, prev.iptables) : last.nftables / Math.max(1, prev.nftables));
const scale = last.n / prev.n;
console.log(`\n${prev.n} → ${last.n} Services (×${scale}): iptables-restore ×${fmt(growth('iptables'), 1)}, nft -f ×${fmt(growth('nftables'), 1)} (×${scale} would be linear)`);
const syncs = growth('iptables') > growth('nftables') && last.iptables > last.nftables;
if (!lat.length) {
  console.log(`kube-proxy's sync result (iptables syncs grow faster with the Services than nftables'): ${syncs ? 'reproduced' : 'NOT reproduced'} here`);
  process.exit(0);
}
const ipt5000 = lat.find((r) => r[0].startsWith('ClusterIP, iptables, +'));
const ipt0 = lat.find((r) => r[0] === 'ClusterIP, iptables');
const nft5000 = lat.find((r) => r[0].startsWith('ClusterIP, nftables, +'));
const nft0 = lat.find((r) => r[0] === 'ClusterIP, nftables');
const perPacket = Number(ipt5000[1]) / Number(ipt0[1]);
const perPacketNft = Number(nft5000[1]) / Number(nft0[1]);
const reproduces = syncs && perPacket > perPacketNft;
console.log(`a new flow with many Services: iptables ×${fmt(perPacket, 2)}, nftables ×${fmt(perPacketNft, 2)} of its time with none`);
console.log(`kube-proxy's scaling result (iptables syncs and first packets grow with the Services, nftables much less): ${reproduces ? 'reproduced' : 'NOT reproduced'} here`);
