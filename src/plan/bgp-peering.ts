// Who peers with whom, the Calico way. Pure. Every host runs BIRD and announces its blocks; every
// router runs BIRD too (it must learn the blocks, or pod traffic dies there) and announces none.
//
// - Full mesh (no reflectors): every BGP node has a session with every other one. With n nodes
//   that is n(n-1)/2 sessions; Calico's advice is to switch to reflectors above ~100 nodes.
// - Route reflectors: the reflectors (routers or chosen hosts) form a full mesh among themselves;
//   every other node is a client of the reflectors on its own segment (of all reflectors when its
//   segment has none). A reflector passes what a client tells it to everyone, next hop unchanged.
import type { BirdNodeConfig, BirdPeer } from './bird-config.js';
import type { ResolvedLink } from './routed-underlay.js';

export interface BgpNodeInput {
  name: string;
  role: 'host' | 'router';
  links: ResolvedLink[];
  blocks: string[];
}

export interface BgpPeeringInput {
  as: number;
  /** Node names; empty: full mesh. */
  reflectors: string[];
  nodes: BgpNodeInput[];
}

/** The peers of one node: names and roles, before addresses are chosen. */
export function peersOf(node: string, input: Pick<BgpPeeringInput, 'reflectors' | 'nodes'>): { node: string; role: BirdPeer['role'] }[] {
  const others = input.nodes.filter((n) => n.name !== node);
  if (!input.reflectors.length) return others.map((n) => ({ node: n.name, role: 'mesh' as const }));
  const isReflector = (name: string) => input.reflectors.includes(name);
  const me = input.nodes.find((n) => n.name === node)!;
  if (isReflector(node)) {
    return others.map((n) => ({ node: n.name, role: isReflector(n.name) ? ('mesh' as const) : ('client' as const) })).filter((p) => p.role === 'mesh' || reflectorsOf(input.nodes.find((n) => n.name === p.node)!, input).includes(node));
  }
  return reflectorsOf(me, input).map((r) => ({ node: r, role: 'reflector' as const }));
}

/** The reflectors a client peers with: those on its own segments, else all. */
function reflectorsOf(client: BgpNodeInput, input: Pick<BgpPeeringInput, 'reflectors' | 'nodes'>): string[] {
  const mySegments = new Set(client.links.map((l) => l.segment));
  const local = input.reflectors.filter((r) => input.nodes.find((n) => n.name === r)!.links.some((l) => mySegments.has(l.segment)));
  return local.length ? local : [...input.reflectors];
}

/**
 * The two ends of a session: on a segment both share, their addresses there; else each node's
 * main address (its first link's), so each end expects the other's connection from the very
 * address the other one uses.
 */
export function sessionAddresses(a: BgpNodeInput, b: BgpNodeInput): { a: string; b: string } {
  for (const la of a.links) {
    const lb = b.links.find((l) => l.segment === la.segment);
    if (lb) return { a: la.ip, b: lb.ip };
  }
  return { a: a.links[0]!.ip, b: b.links[0]!.ip };
}

/** Every BGP node's BIRD configuration. */
export function bgpConfigs(input: BgpPeeringInput): BirdNodeConfig[] {
  const byName = new Map(input.nodes.map((n) => [n.name, n]));
  const mode = input.reflectors.length ? `route reflectors ${input.reflectors.join(', ')}` : 'full mesh';
  return input.nodes.map((node) => {
    const peers: BirdPeer[] = peersOf(node.name, input).map(({ node: name, role }) => {
      const peer = byName.get(name)!;
      const ends = sessionAddresses(node, peer);
      return { node: name, address: ends.b, localAddress: ends.a, as: input.as, role };
    });
    const reflector = input.reflectors.includes(node.name);
    const about = [
      `${node.role === 'router' ? 'Router' : 'Host'} ${node.name}, AS ${input.as}, ${mode}.`,
      node.blocks.length ? `Announces its IPAM block(s) ${node.blocks.join(', ')}.` : 'Announces nothing of its own: it learns the blocks so pod traffic can cross it.',
      ...(reflector ? ['Reflects routes for its clients (cluster id = its router id).'] : []),
    ];
    return {
      node: node.name,
      routerId: node.links[0]!.ip,
      as: input.as,
      interfaces: node.links.map((l) => l.iface),
      blocks: node.blocks,
      ...(reflector ? { clusterId: node.links[0]!.ip } : {}),
      peers,
      about,
    };
  });
}

/** Every session of the lab once (a, b with a < b in node order), for checks and benches. */
export function allSessions(configs: BirdNodeConfig[]): { a: string; b: string }[] {
  const seen = new Set<string>();
  const out: { a: string; b: string }[] = [];
  for (const c of configs) {
    for (const p of c.peers) {
      const key = [c.node, p.node].sort().join(' ');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ a: c.node, b: p.node });
    }
  }
  return out;
}
