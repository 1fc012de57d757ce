// Checks of an overlay's control plane: kernel state per peer (ip -j / bridge -j) against the
// peer's lease, the lease itself in etcd, and what userspace forwarding costs the udp agent.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import type { AgentCostSpec, KernelCheckSpec, LeaseCheckSpec } from '../spec/model.js';
import { desiredPeerState, type FdbEntry, type NeighEntry, type PeerState, type RouteEntry } from '../agent/peer-state.js';
import { actualPeerState, parseFdb, parseNeighbours, parseRoutes } from '../agent/kernel-state.js';
import { parseCidr as parseAgentCidr } from '../agent/ip4.js';
import { agentFiles, backendOf, etcdPrefix, hostSubnet, usesAgent, vtepMac, vxlanDevice } from '../plan/overlay.js';
import { readLeases, type LeaseRecord } from '../core/lab-facts.js';
import { readAgentState } from '../core/agents.js';
import { pollUntil } from '../core/poll.js';
import { ping } from '../probes/ping.js';
import type { LabNames } from './lab-names.js';

export interface Verdict {
  status: 'pass' | 'fail';
  seen: string;
  reason?: string;
  details: Record<string, unknown>;
}

function host(lab: ResolvedLab, name: string): ResolvedHost {
  const found = lab.hosts.find((h) => h.name === name);
  if (!found) throw new Error(`no host ${name} in lab ${lab.name}`);
  return found;
}

function network(lab: ResolvedLab, name: string): ResolvedNetwork {
  const found = lab.networks.find((n) => n.name === name);
  if (!found) throw new Error(`no network ${name} in lab ${lab.name}`);
  return found;
}

/** Where the peer's facts come from: its lease in etcd, or the static plan. */
async function peerFacts(runtime: ContainerRuntime, lab: ResolvedLab, net: ResolvedNetwork, peer: ResolvedHost) {
  if (!usesAgent(net)) {
    return { source: 'the static plan', subnet: hostSubnet(peer, net), publicIp: peer.underlayIp, vtepMac: vtepMac(peer, net) };
  }
  const lease = (await readLeases(runtime, lab, net)).find((l) => l.publicIp === peer.underlayIp);
  if (!lease) return undefined;
  return { source: `its lease ${lease.key}`, subnet: lease.subnet, publicIp: lease.publicIp, vtepMac: lease.vtepMac };
}

const describeRoute = (r: RouteEntry) => `route ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}${r.onlink ? ' onlink' : ''}`;
const describeNeigh = (n: NeighEntry) => `neigh ${n.ip} lladdr ${n.lladdr} dev ${n.dev}`;
const describeFdb = (f: FdbEntry) => `fdb ${f.mac} dst ${f.dst} dev ${f.dev}`;

/** Pure: which desired entries the kernel lacks (exact match on every field). */
export function missingEntries(desired: PeerState, actual: PeerState): string[] {
  const missing: string[] = [];
  for (const r of desired.routes) {
    if (!actual.routes.some((a) => a.dst === r.dst && (a.via ?? '') === (r.via ?? '') && a.dev === r.dev && !!a.onlink === !!r.onlink)) missing.push(describeRoute(r));
  }
  for (const n of desired.neighbours) {
    if (!actual.neighbours.some((a) => a.ip === n.ip && a.dev === n.dev && a.lladdr.toLowerCase() === n.lladdr.toLowerCase())) missing.push(describeNeigh(n));
  }
  for (const f of desired.fdb) {
    if (!actual.fdb.some((a) => a.mac.toLowerCase() === f.mac.toLowerCase() && a.dst === f.dst && a.dev === f.dev)) missing.push(describeFdb(f));
  }
  return missing;
}

export const KERNEL_STATE_SCRIPT = "ip -j route; echo '@@'; ip -j neigh; echo '@@'; bridge -j fdb show 2>/dev/null || echo '[]'";

export async function readKernelPeerState(runtime: ContainerRuntime, container: string, net: ResolvedNetwork): Promise<PeerState> {
  const r = await runtime.exec(container, ['sh', '-c', KERNEL_STATE_SCRIPT]);
  const [routes = '[]', neigh = '[]', fdb = '[]'] = r.stdout.split('@@');
  const cidr = parseAgentCidr(net.cidr, false);
  const dev = net.backend === 'vxlan' ? vxlanDevice(net) : net.backend === 'udp' ? 'flannel0' : 'eth0';
  return actualPeerState({ routes: parseRoutes(routes, dev, cidr), neighbours: parseNeighbours(neigh, dev, cidr), fdb: parseFdb(fdb, dev) });
}

export async function runKernelCheck(runtime: ContainerRuntime, names: LabNames, spec: KernelCheckSpec): Promise<Verdict> {
  const lab = names.lab;
  const net = network(lab, spec.network);
  const self = host(lab, spec.on);
  const peer = host(lab, spec.peer);
  const facts = await peerFacts(runtime, lab, net, peer);
  if (!facts) {
    return { status: 'fail', seen: `no lease for ${peer.name} in etcd`, reason: `${peer.name} (${peer.underlayIp}) holds no lease under ${etcdPrefix(lab, net)}/subnets/`, details: {} };
  }
  const backend = backendOf(net);
  const desired = desiredPeerState(
    backend,
    { subnet: hostSubnet(self, net), publicIp: self.underlayIp, underlayIface: 'eth0' },
    [{ subnet: facts.subnet, publicIp: facts.publicIp, ...(facts.vtepMac ? { vtepMac: facts.vtepMac } : {}) }],
  );
  if (backend.type === 'udp') {
    // The kernel only routes the whole network into flannel0; the peer lives in the agent's table.
    desired.routes = [{ dst: net.cidr, dev: 'flannel0' }];
    const { routes, stats } = await readAgentState(runtime, lab, self, net);
    const peers = stats?.peers ?? [];
    const known = peers.some((p) => p.subnet === facts.subnet && p.publicIp === facts.publicIp);
    const missing = routes.some((r) => r.dst === net.cidr && r.dev === 'flannel0') ? [] : [describeRoute(desired.routes[0]!)];
    if (!known) missing.push(`agent table entry ${facts.subnet} → ${facts.publicIp}:${net.port}`);
    const seen = `${self.name}: ${desired.routes.map(describeRoute).join(', ')}; agent knows ${peers.length} peer(s)`;
    return missing.length
      ? { status: 'fail', seen, reason: `${self.name} lacks ${missing.join('; ')} (from ${facts.source})`, details: { desired, peers } }
      : { status: 'pass', seen: `${seen}, incl. ${facts.subnet} → ${facts.publicIp} (${facts.source})`, details: { desired, peers } };
  }
  const actual = await readKernelPeerState(runtime, self.container, net);
  const missing = missingEntries(desired, actual);
  const expected = [...desired.neighbours.map(describeNeigh), ...desired.fdb.map(describeFdb), ...desired.routes.map(describeRoute)];
  return missing.length
    ? { status: 'fail', seen: `${self.name} has ${actual.routes.length} routes, ${actual.neighbours.length} neighbours, ${actual.fdb.length} fdb entries for the overlay`, reason: `${self.name} lacks ${missing.join('; ')} (from ${facts.source} of ${peer.name})`, details: { desired, actual } }
    : { status: 'pass', seen: `${self.name}: ${expected.join('; ')} — as ${facts.source} says`, details: { desired, actual } };
}

/** Pure: is this lease what flannel would have written for the host? */
export function leaseProblems(lease: LeaseRecord | undefined, h: ResolvedHost, net: ResolvedNetwork): string[] {
  if (!lease) return [`no lease with PublicIP ${h.underlayIp}`];
  const problems: string[] = [];
  if (lease.subnet !== hostSubnet(h, net)) problems.push(`subnet ${lease.subnet}, expected ${hostSubnet(h, net)}`);
  if (lease.backendType !== net.backend) problems.push(`BackendType ${lease.backendType}, expected ${net.backend}`);
  if (net.backend === 'vxlan') {
    const data = (lease.raw as { BackendData?: { VNI?: number; VtepMAC?: string } }).BackendData;
    if (data?.VNI !== net.vni) problems.push(`BackendData.VNI ${data?.VNI}, expected ${net.vni}`);
    if (!data?.VtepMAC) problems.push('BackendData.VtepMAC is missing');
  }
  if (!lease.leaseId || lease.leaseId === '0') problems.push('the key is not attached to an etcd lease (no TTL)');
  return problems;
}

export async function runLeaseCheck(runtime: ContainerRuntime, names: LabNames, spec: LeaseCheckSpec): Promise<Verdict> {
  const lab = names.lab;
  const net = network(lab, spec.network);
  const h = host(lab, spec.host);
  const lease = (await readLeases(runtime, lab, net)).find((l) => l.publicIp === h.underlayIp);
  const problems = leaseProblems(lease, h, net);
  const seen = lease ? `${lease.key} = ${JSON.stringify(lease.raw)} (etcd lease ${lease.leaseId ?? 'none'})` : `no lease for ${h.name}`;
  return problems.length
    ? { status: 'fail', seen, reason: `${h.name}'s lease: ${problems.join('; ')}`, details: { lease } }
    : { status: 'pass', seen, details: { lease } };
}

interface ProcCounters {
  voluntary: number;
  involuntary: number;
}

/** Pure: context-switch counters from /proc/<pid>/status. */
export function parseContextSwitches(status: string): ProcCounters {
  const read = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { voluntary: read('voluntary_ctxt_switches'), involuntary: read('nonvoluntary_ctxt_switches') };
}

/** Pure: sum the context-switch counters of every task in concatenated /proc/…/status files. */
export function sumContextSwitches(statusFiles: string): ProcCounters {
  return statusFiles
    .split(/(?=^Name:)/m)
    .filter((t) => t.trim())
    .map(parseContextSwitches)
    .reduce((a, b) => ({ voluntary: a.voluntary + b.voluntary, involuntary: a.involuntary + b.involuntary }), { voluntary: 0, involuntary: 0 });
}

async function agentSample(runtime: ContainerRuntime, container: string, lab: ResolvedLab, net: ResolvedNetwork) {
  const files = agentFiles(lab, net);
  const statsText = (await runtime.exec(container, ['cat', files.stats])).stdout;
  const stats = JSON.parse(statsText || '{}') as { pid?: number; dataPathPid?: number | null; dataPath?: string; packets?: { tunToUdp?: number; udpToTun?: number } };
  // Every thread of the agent (libuv's pool included) and of its data path (the C proxy, when
  // it forwards): the packet's whole userspace round trip.
  const pids = [stats.pid, stats.dataPathPid].filter((p): p is number => typeof p === 'number');
  const status = (await runtime.exec(container, ['sh', '-c', pids.map((p) => `cat /proc/${p}/task/*/status`).join('; ')])).stdout;
  const counters = sumContextSwitches(status);
  const packets = stats.packets ?? {};
  return { ...counters, forwarded: (packets.tunToUdp ?? 0) + (packets.udpToTun ?? 0), dataPath: stats.dataPath ?? 'node' };
}

/** Pure: context switches attributable to forwarding — those during the traffic minus what the
 * agent's own timers cost over the same time, measured idle just before. */
export function forwardingSwitches(idle: { switches: number; ms: number }, busy: { switches: number; ms: number }): number {
  const idleRate = idle.ms > 0 ? idle.switches / idle.ms : 0;
  return Math.max(0, busy.switches - idleRate * busy.ms);
}

const switchesBetween = (a: ProcCounters, b: ProcCounters) => b.voluntary - a.voluntary + (b.involuntary - a.involuntary);

export async function runAgentCostCheck(runtime: ContainerRuntime, names: LabNames, spec: AgentCostSpec, signal?: AbortSignal): Promise<Verdict> {
  const lab = names.lab;
  const net = network(lab, spec.network);
  const h = host(lab, spec.on);
  const from = names.endpoint(spec.during.ping.from);
  const target = names.probeTarget(spec.during.ping.to);
  const intervalSeconds = 0.01; // a dense burst, so forwarding dominates the agent's idle timers
  const pingMs = spec.during.ping.count * intervalSeconds * 1000;
  // The idle window is the measurement's baseline (the agent's timers), not a wait for readiness.
  const idleStart = await agentSample(runtime, h.container, lab, net);
  const idleT0 = Date.now();
  await new Promise((r) => setTimeout(r, pingMs));
  const busyStart = await agentSample(runtime, h.container, lab, net);
  const idleMs = Date.now() - idleT0;
  const busyT0 = Date.now();
  const result = await ping(runtime, from, target, { count: spec.during.ping.count, intervalSeconds });
  let after = await agentSample(runtime, h.container, lab, net);
  const busyMs = Date.now() - busyT0;
  // The agent publishes its counters on its own schedule: poll until this traffic shows up.
  await pollUntil(
    async () => {
      after = await agentSample(runtime, h.container, lab, net);
      return after.forwarded - busyStart.forwarded >= result.received * 2;
    },
    { timeoutMs: 3000, signal: signal ?? new AbortController().signal },
  );
  const forwarded = after.forwarded - busyStart.forwarded;
  const idleSwitches = switchesBetween(idleStart, busyStart);
  const busySwitches = switchesBetween(busyStart, after);
  const switches = forwardingSwitches({ switches: idleSwitches, ms: idleMs }, { switches: busySwitches, ms: busyMs });
  const perPacket = forwarded > 0 ? switches / forwarded : NaN;
  const seen =
    `${h.name}'s agent (${after.dataPath} data path) forwarded ${forwarded} packets (tun→udp and udp→tun): ` +
    `${Number.isFinite(perPacket) ? perPacket.toFixed(1) : '–'} context switches per packet ` +
    `(${busySwitches} during the ping, ${idleSwitches} in as long idle); ping avg ${result.rttAvgMs?.toFixed(3) ?? '–'} ms`;
  const details = { idle: { switches: idleSwitches, ms: idleMs }, busy: { switches: busySwitches, ms: busyMs }, forwarded, contextSwitches: switches, perPacket, ping: result };
  if (forwarded === 0) return { status: 'fail', seen, reason: `${h.name}'s agent forwarded nothing while the ping ran`, details };
  return { status: 'pass', seen, details };
}
