// What BGP adds to a trace of a `backend: bgp` lab: at every hop a BGP node routed the probe, the
// route it used and from whom it learned it (`birdc show route for <dst> all`); and when the
// probe died, why BGP gave no route — a block nobody announced, a session that is down, a BIRD
// that is not running — in BIRD's words. The reads are argv execs; the sentences are pure.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import { agentFiles, hostSubnet, usesAgent } from '../plan/overlay.js';
import { parseAgentStats } from '../shared/agent-stats.js';
import { readReplacedFile } from '../runtime/replaced-file.js';
import { bgpNetwork, bgpNodes, linksOf } from '../plan/bgp-plan.js';
import { announcedBy, bgpState, describeBgpRoute, parseBirdProtocols, parseBirdRoutes, sessionError, type BirdProtocol, type BirdRoute } from '../probes/birdc-output.js';
import { cidrContains } from '../shared/ipv4.js';
import type { TraceDrop, TraceHop } from './trace-result.js';

export interface BgpNodeFacts {
  node: string;
  /** birdc answered. */
  running: boolean;
  /** `show route for <dst> all` */
  routes: BirdRoute[];
  /** `show protocols all` (read only where the probe died). */
  protocols?: BirdProtocol[];
}

/** Argv of the reads (constant words; the destination is one argument). */
export const birdcRouteFor = (dst: string): string[] => ['birdc', 'show', 'route', 'for', dst, 'all'];

export async function readBgpFacts(runtime: ContainerRuntime, lab: ResolvedLab, dst: string, nodes: string[], withProtocols: string[], signal?: AbortSignal): Promise<BgpNodeFacts[]> {
  const options = signal ? { signal } : {};
  const wanted = bgpNodes(lab).filter((n) => nodes.includes(n.name) || withProtocols.includes(n.name));
  return Promise.all(
    wanted.map(async (n) => {
      const r = await runtime.exec(n.container, birdcRouteFor(dst), options);
      // "Network not found" is exit 1 too: only a control socket nobody answers means no BIRD
      const running = /^BIRD [0-9.]+ ready\./m.test(r.stdout) && !/Unable to connect/.test(r.stdout + r.stderr);
      const protocols = withProtocols.includes(n.name) && running ? parseBirdProtocols((await runtime.exec(n.container, ['birdc', 'show', 'protocols', 'all'], options)).stdout) : undefined;
      return { node: n.name, running, routes: running ? parseBirdRoutes(r.stdout) : [], ...(protocols ? { protocols } : {}) };
    }),
  );
}

/** Address → node name, for the sentences. */
export function nodeNamer(lab: ResolvedLab): (ip: string) => string | undefined {
  const byIp = new Map<string, string>();
  for (const n of [...lab.hosts, ...lab.externals]) for (const l of linksOf(lab, n)) byIp.set(l.ip, n.name);
  return (ip) => byIp.get(ip);
}

/** The hops where a BGP node sent the probe on by a route it learned: each gets its sentence. */
export function annotateHops(hops: TraceHop[], facts: BgpNodeFacts[], nameOf: (ip: string) => string | undefined): TraceHop[] {
  return hops.map((h) => {
    if (h.direction !== 'out' || !h.change?.startsWith('routed') || h.leg !== 'request') return h;
    const f = facts.find((x) => x.node === h.node);
    const sentence = f ? describeBgpRoute(f.routes, nameOf) : undefined;
    return sentence ? { ...h, route: sentence } : h;
  });
}

/** The block of the pool `dst` falls in and the host that holds it, if any. */
export function blockOwner(lab: ResolvedLab, dst: string): { block: string; host: string } | undefined {
  const network = bgpNetwork(lab);
  if (!network) return undefined;
  for (const h of lab.hosts) {
    for (const block of h.networks.find((n) => n.network === network.name)?.blocks ?? []) if (cidrContains(block, dst)) return { block, host: h.name };
  }
  return undefined;
}

/** Why BGP gave the node where the probe died no route for it, one line each, BIRD's words. */
export function explainBgpDrop(lab: ResolvedLab, drop: TraceDrop, dst: string, facts: BgpNodeFacts[], nameOf: (ip: string) => string | undefined): string[] {
  const network = bgpNetwork(lab);
  if (!network || !cidrContains(network.cidr, dst)) return [];
  const owner = blockOwner(lab, dst);
  const out: string[] = [];
  if (!owner) return [`BGP: nobody announced a block holding ${dst} (no host of ${lab.name} has one), so no node routes it`];
  const at = facts.find((f) => f.node === drop.node);
  const ownerFacts = facts.find((f) => f.node === owner.host);
  const ownerDown = ownerFacts !== undefined && !ownerFacts.running ? [`BGP: BIRD is not running on ${owner.host}, so nobody hears its block ${owner.block}`] : [];
  if (!at) return [...out, ...ownerDown];
  if (!at.running) return [...out, `BGP: BIRD is not running on ${drop.node}, so it learned no route to ${owner.host}'s block ${owner.block}`, ...ownerDown];
  const bgpRoute = at.routes.find((r) => r.attributes.Type?.startsWith('BGP') && r.primary);
  if (bgpRoute) return [...out, `BGP: ${drop.node} has ${describeBgpRoute(at.routes, nameOf)} (origin ${announcedBy(bgpRoute) ?? '?'})`];
  const down = (at.protocols ?? []).filter((p) => p.proto === 'BGP' && bgpState(p) !== 'Established');
  const sessions = down.map((p) => `BGP: ${drop.node}'s session ${p.name} is ${bgpState(p) === 'Down' ? 'disabled (down)' : bgpState(p)}${sessionError(p) ? `: ${sessionError(p)}` : ''}`);
  const unexplained = !down.length && !ownerDown.length ? ` — its sessions are up: ${owner.host} does not announce it to them (or a filter hides it)` : '';
  return [...out, `BGP: ${drop.node} learned no route to ${owner.host}'s block ${owner.block}${unexplained}`, ...sessions, ...ownerDown];
}

/** host-gw through flannel's agents: what the kernel refused the agents of the hosts the probe
 * crossed, for the destination's subnet — the reason host-gw stops at the rack, in the kernel's
 * words. */
export async function agentRefusalEvidence(runtime: ContainerRuntime, lab: ResolvedLab, hostsOnPath: string[], dst: string, signal?: AbortSignal): Promise<string[]> {
  const networks = lab.networks.filter((n) => n.backend === 'host-gw' && usesAgent(n));
  const out: string[] = [];
  for (const network of networks) {
    const owner = lab.hosts.find((h) => cidrContains(hostSubnet(h, network), dst));
    if (!owner) continue;
    const subnet = hostSubnet(owner, network);
    for (const name of hostsOnPath) {
      const host = lab.hosts.find((h) => h.name === name);
      if (!host || host === owner) continue;
      const text = await readReplacedFile(runtime, host.container, agentFiles(lab, network).stats, (t) => parseAgentStats(t) !== null, signal ? { signal } : {}).catch(() => '');
      const refused = parseAgentStats(text)?.peerSync?.refused ?? [];
      for (const r of refused) {
        if (typeof r?.command !== 'string' || !r.command.includes(` ${subnet} `)) continue;
        const why = sameSegment(host, owner) ? '' : ` — ${owner.name} (${owner.underlayIp}) is on segment ${owner.links![0]!.segment}, not on any link of ${host.name}, so it cannot be a next hop`;
        out.push(`${host.name}'s agent asked for \`${r.command}\` and the kernel refused: ${String(r.error).replace(/^Error: /, '').replace(/\.$/, '')}${why}`);
      }
    }
  }
  return out;
}

function sameSegment(a: ResolvedHost, b: ResolvedHost): boolean {
  return !a.links || !b.links || a.links[0]!.segment === b.links[0]!.segment;
}
