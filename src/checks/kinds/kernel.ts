// kernel: host `on` has the flannel state for host `peer` (vxlan: neighbour, FDB, onlink route;
// host-gw: route via the peer; udp: the network route via flannel0 and the agent's peer table),
// compared with the peer's lease in etcd or the static plan.
import type { FdbEntry, NeighEntry, PeerState, RouteEntry } from '../../shared/peer-state.js';
import type { AgentStats, RouteJson } from '../../deploy/agents.js';
import type { ResolvedNetwork } from '../../plan/resolved-lab.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import type { KernelCheckSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind, type Verdict } from '../check-kind.js';
import { pollUntil } from '../../base/poll.js';

/** How long a udp check reads the agent's table again for a peer etcd has: a few of its beats. */
const STATS_BEATS_WAIT_MS = 2000;
import type { PeerFacts } from '../overlay-facts.js';

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

/** The three kernel tables, each one argv exec (run in parallel; no shell). */
export const KERNEL_STATE_ARGVS = {
  routes: ['ip', '-j', 'route'],
  neighbours: ['ip', '-j', 'neigh'],
  fdb: ['bridge', '-j', 'fdb', 'show'],
} as const;

export async function readKernelPeerState(runtime: ContainerRuntime, container: string, net: ResolvedNetwork): Promise<PeerState> {
  const [{ actualPeerState, parseFdb, parseNeighbours, parseRoutes }, { parseNet: parseAgentCidr }, { vxlanDevice }] = await Promise.all([
    import('../../shared/kernel-state.js'),
    import('../../shared/ipv4.js'),
    import('../../plan/overlay.js'),
  ]);
  const [routes, neigh, fdb] = await Promise.all(
    [KERNEL_STATE_ARGVS.routes, KERNEL_STATE_ARGVS.neighbours, KERNEL_STATE_ARGVS.fdb].map((argv) => runtime.exec(container, [...argv])),
  );
  for (const [r, argv] of [[routes!, KERNEL_STATE_ARGVS.routes], [neigh!, KERNEL_STATE_ARGVS.neighbours]] as const) {
    if (r.exitCode !== 0) throw new Error(`\`${argv.join(' ')}\` failed in ${container}: ${r.stderr.trim()}`);
  }
  const cidr = parseAgentCidr(net.cidr, false);
  const dev = net.backend === 'vxlan' ? vxlanDevice(net) : net.backend === 'udp' ? 'flannel0' : 'eth0';
  return actualPeerState({
    routes: parseRoutes(routes!.stdout || '[]', dev, cidr),
    neighbours: parseNeighbours(neigh!.stdout || '[]', dev, cidr),
    // A host without any bridge FDB (udp, host-gw) may answer with an error: no entries.
    fdb: parseFdb(fdb!.exitCode === 0 && fdb!.stdout.trim() ? fdb!.stdout : '[]', dev),
  });
}

/** What the host's own agent said about the peer's lease when it refused it (its stats file). */
interface Refusal {
  key: string;
  reason: string;
}

/** A command of the agent's last sync the kernel refused, in its words. */
interface KernelRefusal {
  command: string;
  error: string;
}

type KernelObservation =
  | { kind: 'no-lease'; self: string; peer: string; peerIp: string; prefix: string; refusals: Refusal[] }
  | { kind: 'udp'; self: string; network: ResolvedNetwork; facts: PeerFacts; desired: PeerState; routes: RouteJson[]; stats?: AgentStats; refusals: Refusal[] }
  | { kind: 'kernel'; self: string; peer: string; facts: PeerFacts; desired: PeerState; actual: PeerState; refusals: Refusal[]; refusedByKernel: KernelRefusal[] };

/** Pure: what the kernel refused the agent for this peer (commands naming its subnet via its address). */
export function kernelRefusalsOf(stats: AgentStats | undefined, subnet: string, publicIp: string): KernelRefusal[] {
  const refused = (stats as { peerSync?: { refused?: { command?: unknown; error?: unknown }[] } } | undefined)?.peerSync?.refused ?? [];
  return refused
    .filter((r): r is KernelRefusal => typeof r.command === 'string' && typeof r.error === 'string')
    .filter((r) => r.command.includes(` ${subnet} `) && r.command.includes(` via ${publicIp} `));
}

const kernelWords = (self: string, r: KernelRefusal) => `${self}'s agent asked for \`${r.command}\` and the kernel refused: ${r.error.replace(/^Error: /, '').replace(/\.$/, '')}`;

/** Pure: the refusals of the peer's lease among an agent's rejected leases (by the peer's key). */
export function refusalsOf(stats: AgentStats | undefined, peerKey: string): Refusal[] {
  const rejected = (stats as { rejectedLeases?: { key?: unknown; reason?: unknown }[] } | undefined)?.rejectedLeases ?? [];
  return rejected
    .filter((r) => r.key === peerKey && typeof r.reason === 'string')
    .map((r) => ({ key: peerKey, reason: r.reason as string }));
}

const refusalText = (self: string, refusals: Refusal[]) =>
  refusals.length ? `; ${self}'s agent refused ${JSON.stringify(refusals[0]!.key)}: ${refusals[0]!.reason}` : '';

export const kernelKind = defineCheckKind({
  key: 'kernel',
  label: 'kernel',
  summary: 'kernel: {on, peer}',
  schema: (k) =>
    k.T.Object(
      {
        on: k.nodeName('The host whose kernel is read.'),
        peer: k.nodeName('The remote host whose entries must be there.'),
        network: k.T.Optional(k.networkName('Pod network name (default: the first overlay network).')),
        expect: k.T.Optional(
          k.stringEnum(['programmed', 'refused'] as const, {
            default: 'programmed',
            description:
              "programmed: the state is there. refused: the agent asked for it and the kernel said no (host-gw to a host in another segment: \"Nexthop has invalid gateway\") — the check quotes the kernel's words.",
          }),
        ),
      },
      {
        additionalProperties: false,
        description:
          "Host `on` has the flannel state for host `peer` (vxlan: neighbour, FDB, onlink route; host-gw: route via the peer; udp: the network route via flannel0), checked against the peer's lease in etcd or the static plan.",
      },
    ),
  resolve: (raw, scope, at): KernelCheckSpec => {
    const network = scope.overlayNetwork(raw.network, [...at, 'network'], (b) => b !== 'none' && b !== 'bgp', 'an overlay backend (host-gw, vxlan or udp)');
    scope.hostRef(raw.on, [...at, 'on']);
    scope.hostRef(raw.peer, [...at, 'peer']);
    if (raw.on === raw.peer) scope.err([...at, 'peer'], 'a host holds no peer state for itself.', 'Name another host as peer.');
    if (raw.expect === 'refused') {
      const net = scope.networks.find((n) => n.name === network);
      if (net && net.controlPlane !== 'etcd')
        scope.err([...at, 'expect'], 'expect: refused reads what the kernel told the agent, and this network has no agent (controlPlane static).', 'Use controlPlane: etcd.');
    }
    return { on: raw.on, peer: raw.peer, network, ...(raw.expect === 'refused' ? { expect: 'refused' as const } : {}) };
  },
  footprint: (spec, names) => ({ nodes: names.overlayNodes(spec.network, spec.on, spec.peer), captures: [], traffic: [] }),
  run: async (spec, { runtime, lab }): Promise<KernelObservation> => {
    const [{ labHost, labNetwork, peerFacts }, { desiredPeerState }, { readAgentState }, { backendOf, etcdPrefix, hostSubnet, usesAgent }] = await Promise.all([
      import('../overlay-facts.js'),
      import('../../shared/peer-state.js'),
      import('../../deploy/agents.js'),
      import('../../plan/overlay.js'),
    ]);
    const net = labNetwork(lab, spec.network);
    const self = labHost(lab, spec.on);
    const peer = labHost(lab, spec.peer);
    const facts = await peerFacts(runtime, lab, net, peer);
    // Why the host's agent did not program the peer, when it refused the peer's lease.
    const peerKey = `${etcdPrefix(lab, net)}/subnets/${hostSubnet(peer, net).replace('/', '-')}`;
    const agentState = usesAgent(net) ? await readAgentState(runtime, lab, self, net) : undefined;
    const refusals = refusalsOf(agentState?.stats, peerKey);
    if (!facts) return { kind: 'no-lease', self: self.name, peer: peer.name, peerIp: peer.underlayIp, prefix: etcdPrefix(lab, net), refusals };
    const backend = backendOf(net);
    const desired = desiredPeerState(
      backend,
      { subnet: hostSubnet(self, net), publicIp: self.underlayIp, underlayIface: 'eth0' },
      [{ subnet: facts.subnet, publicIp: facts.publicIp, ...(facts.vtepMac ? { vtepMac: facts.vtepMac } : {}) }],
    );
    if (backend.type === 'udp') {
      // The kernel only routes the whole network into flannel0; the peer lives in the agent's table.
      desired.routes = [{ dst: net.cidr, dev: 'flannel0' }];
      let state = agentState ?? (await readAgentState(runtime, lab, self, net));
      // The agent publishes its table in its stats file on a beat (statsIntervalMs, 500 ms in a
      // lab), while `up` waits on its live status: a check right after `up` could read the table
      // from before the last peer arrived ("knows 0 peer(s)" in CI). Read again until the peer is
      // in it or a few beats have passed; only a table that has the peer passes.
      const knows = (s: typeof state) => (s.stats?.peers ?? []).some((p) => p.subnet === facts.subnet && p.publicIp === facts.publicIp);
      if (!knows(state)) {
        await pollUntil(async () => knows((state = await readAgentState(runtime, lab, self, net))), { timeoutMs: STATS_BEATS_WAIT_MS, intervalMs: 200, signal: new AbortController().signal });
      }
      const { routes, stats } = state;
      return { kind: 'udp', self: self.name, network: net, facts, desired, routes, ...(stats ? { stats } : {}), refusals };
    }
    const actual = await readKernelPeerState(runtime, self.container, net);
    const refusedByKernel = kernelRefusalsOf(agentState?.stats, facts.subnet, facts.publicIp);
    return { kind: 'kernel', self: self.name, peer: peer.name, facts, desired, actual, refusals, refusedByKernel };
  },
  verdict: (spec, o): Verdict => {
    if (spec.expect === 'refused') {
      if (o.kind !== 'kernel') return { status: 'fail', seen: o.kind === 'no-lease' ? `no lease for ${o.peer} in etcd` : 'udp keeps its peers in the agent', reason: 'nothing was asked of the kernel for this peer', details: {} };
      const first = o.refusedByKernel[0];
      const missing = missingEntries(o.desired, o.actual);
      if (first && missing.length) return { status: 'pass', seen: kernelWords(o.self, first), details: { refused: o.refusedByKernel, desired: o.desired } };
      return {
        status: 'fail',
        seen: missing.length ? `${o.self} lacks ${missing.join('; ')}, and its agent reports no refusal` : `${o.self} has ${o.desired.routes.map(describeRoute).join('; ')}`,
        reason: missing.length ? `${o.self}'s agent did not report the kernel refusing it (is it still trying?)` : `the kernel accepted ${o.self}'s state for ${o.peer}: nothing was refused`,
        details: { refused: o.refusedByKernel, desired: o.desired, actual: o.actual },
      };
    }
    if (o.kind === 'no-lease') {
      return { status: 'fail', seen: `no lease for ${o.peer} in etcd`, reason: `${o.peer} (${o.peerIp}) holds no lease under ${o.prefix}/subnets/${refusalText(o.self, o.refusals)}`, details: { refusals: o.refusals } };
    }
    if (o.kind === 'udp') {
      const peers = o.stats?.peers ?? [];
      const known = peers.some((p) => p.subnet === o.facts.subnet && p.publicIp === o.facts.publicIp);
      const missing = o.routes.some((r) => r.dst === o.network.cidr && r.dev === 'flannel0') ? [] : [describeRoute(o.desired.routes[0]!)];
      // No stats read is not an agent that knows nothing: say which it is.
      if (!known) missing.push(o.stats ? `agent table entry ${o.facts.subnet} → ${o.facts.publicIp}:${o.network.port}` : `a readable agent state (its stats file is missing or unreadable)`);
      const seen = `${o.self}: ${o.desired.routes.map(describeRoute).join(', ')}; ${o.stats ? `agent knows ${peers.length} peer(s)` : `could not read ${o.self}'s agent state`}`;
      const details = { desired: o.desired, peers };
      return missing.length
        ? { status: 'fail', seen, reason: `${o.self} lacks ${missing.join('; ')} (from ${o.facts.source})${refusalText(o.self, o.refusals)}`, details }
        : { status: 'pass', seen: `${seen}, incl. ${o.facts.subnet} → ${o.facts.publicIp} (${o.facts.source})`, details };
    }
    const missing = missingEntries(o.desired, o.actual);
    const expected = [...o.desired.neighbours.map(describeNeigh), ...o.desired.fdb.map(describeFdb), ...o.desired.routes.map(describeRoute)];
    const details = { desired: o.desired, actual: o.actual };
    return missing.length
      ? {
          status: 'fail',
          seen: `${o.self} has ${o.actual.routes.length} routes, ${o.actual.neighbours.length} neighbours, ${o.actual.fdb.length} fdb entries for the overlay`,
          reason: `${o.self} lacks ${missing.join('; ')} (from ${o.facts.source} of ${o.peer})${refusalText(o.self, o.refusals)}${o.refusedByKernel[0] ? `; ${kernelWords(o.self, o.refusedByKernel[0])}` : ''}`,
          details,
        }
      : { status: 'pass', seen: `${o.self}: ${expected.join('; ')} — as ${o.facts.source} says`, details };
  },
});
