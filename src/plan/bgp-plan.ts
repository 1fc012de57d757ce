// Pure: what a `backend: bgp` network asks of a lab — which nodes run BIRD (every host, every
// router), their configurations (bird-config.ts), BIRD's command line, and what each node's
// kernel must hold once BGP has converged (the `bgp` check and `up`'s wait compare with it).
import { birdConfigText, BIRD_CONFIG_FILE, BIRD_CONTROL_SOCKET, BIRD_LOG, sessionName, type BirdNodeConfig } from './bird-config.js';
import { bgpConfigs, type BgpNodeInput } from './bgp-peering.js';
import { isBgp } from './overlay.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab, ResolvedLink, ResolvedNetwork } from './resolved-lab.js';
import type { DaemonDeclaration } from './node-init.js';
import { underlayFirstHop, type ResolvedSegment } from './routed-underlay.js';

export { BIRD_CONFIG_FILE, BIRD_CONTROL_SOCKET, BIRD_LOG };
/** BIRD's own stdout/stderr (it logs to syslog by default; in a lab node, this file). */
export const BIRD_OUTPUT = '/var/log/bird.out';
const BIRD_PID_FILE = '/run/bird/bird.pid';

export function bgpNetwork(lab: Pick<ResolvedLab, 'networks'>): ResolvedNetwork | undefined {
  return lab.networks.find(isBgp);
}

type Node = ResolvedHost | ResolvedExternal;

/** A node's links; on the one underlay, its eth0. */
export function linksOf(lab: ResolvedLab, node: Node): ResolvedLink[] {
  return node.links ?? [{ segment: lab.underlay.bridge, iface: 'eth0', ip: node.underlayIp, mac: node.underlayMac, port: node.name }];
}

/** The nodes that run BIRD: every host, then every router, in the lab's order. */
export function bgpNodes(lab: ResolvedLab): Node[] {
  if (!bgpNetwork(lab)) return [];
  return [...lab.hosts, ...lab.externals.filter((e) => e.role === 'router')];
}

/** Every BGP node's BIRD configuration, in bgpNodes order. */
export function birdConfigs(lab: ResolvedLab): BirdNodeConfig[] {
  const network = bgpNetwork(lab);
  if (!network) return [];
  const nodes: BgpNodeInput[] = bgpNodes(lab).map((n) => ({
    name: n.name,
    role: 'pods' in n ? 'host' : 'router',
    links: linksOf(lab, n),
    blocks: 'pods' in n ? (n.networks.find((hn) => hn.network === network.name)?.blocks ?? []) : [],
  }));
  return bgpConfigs({ as: network.bgp!.as, reflectors: network.bgp!.reflectors, nodes });
}

export function birdConfigOf(lab: ResolvedLab, node: string): BirdNodeConfig | undefined {
  return birdConfigs(lab).find((c) => c.node === node);
}

/** /etc/bird/bird.conf of one node. */
export function birdConfigFile(lab: ResolvedLab, node: string): { path: string; content: string } {
  const config = birdConfigOf(lab, node);
  if (!config) throw new RangeError(`${node} runs no BIRD in lab ${lab.name}`);
  return { path: BIRD_CONFIG_FILE, content: birdConfigText(config) };
}

/** BIRD in the foreground (its parent supervises it; `birdc` finds it at the default socket). */
export const BIRD_ARGV: readonly string[] = ['bird', '-f', '-c', BIRD_CONFIG_FILE, '-s', BIRD_CONTROL_SOCKET, '-P', BIRD_PID_FILE];

/** BIRD's name for its node's supervisor (node-init.ts): `overlab-daemon stop bird` in a node. */
export const BIRD_DAEMON_NAME = 'bird';

/** BIRD as a daemon of its node's supervisor: started again when it ends, back with its container. */
export const BIRD_DAEMON: DaemonDeclaration = { name: BIRD_DAEMON_NAME, output: BIRD_OUTPUT, argv: [...BIRD_ARGV] };

/** What a node's kernel must hold once BGP has converged. */
export interface BgpNodeExpectation {
  node: string;
  sessions: { protocol: string; peer: string; address: string }[];
  /** Every other host's blocks: via the owner on a shared segment, else the next router towards it. */
  routes: { block: string; owner: string; via: string; dev: string; viaNode: string }[];
  /** Its own blocks (hosts). */
  blackholes: string[];
}

function segmentsOf(lab: ResolvedLab): ResolvedSegment[] {
  return lab.underlay.segments ?? [{ name: lab.underlay.bridge, subnet: lab.underlay.subnet, prefixLen: lab.underlay.prefixLen, bridge: lab.underlay.bridge }];
}

/** What a node's underlay routing looks like to underlayFirstHop: its links, a router's routes, a host's gateway. */
function routingOf(lab: ResolvedLab, node: Node, segments: ResolvedSegment[]): Parameters<typeof underlayFirstHop>[0] {
  const links = linksOf(lab, node);
  const segment = segments.find((s) => s.name === links[0]!.segment);
  const gateway = 'routes' in node && node.routes ? undefined : segment?.gateway;
  return { links, ...('routes' in node && node.routes ? { routes: node.routes } : {}), ...(gateway ? { gateway } : {}) };
}

/** The neighbour (ARP) entries a lab's BGP sessions keep in use: per node, the distinct first hops
 * towards its peers (keepalives every few seconds keep each one in use). A full mesh of n nodes
 * on one segment: n × (n − 1). */
export function bgpNeighbourEntries(lab: ResolvedLab): number {
  const segments = segmentsOf(lab);
  const configs = birdConfigs(lab);
  return bgpNodes(lab).reduce((sum, node) => {
    const me = routingOf(lab, node, segments);
    const hops = new Set(configs.find((c) => c.node === node.name)!.peers.map((p) => underlayFirstHop(me, p.address, segments)?.via ?? p.address));
    return sum + hops.size;
  }, 0);
}

export function bgpExpectations(lab: ResolvedLab): BgpNodeExpectation[] {
  const network = bgpNetwork(lab);
  if (!network) return [];
  const configs = birdConfigs(lab);
  const segments = segmentsOf(lab);
  const nodeOfIp = new Map<string, string>();
  for (const n of [...lab.hosts, ...lab.externals]) for (const l of linksOf(lab, n)) nodeOfIp.set(l.ip, n.name);
  const blocksOf = (h: ResolvedHost) => h.networks.find((hn) => hn.network === network.name)?.blocks ?? [];
  return bgpNodes(lab).map((node) => {
    const config = configs.find((c) => c.node === node.name)!;
    const me = routingOf(lab, node, segments);
    const routes: BgpNodeExpectation['routes'] = [];
    for (const owner of lab.hosts) {
      if (owner.name === node.name) continue;
      const hop = underlayFirstHop(me, linksOf(lab, owner)[0]!.ip, segments);
      if (!hop) continue;
      for (const block of blocksOf(owner)) routes.push({ block, owner: owner.name, via: hop.via, dev: hop.iface, viaNode: nodeOfIp.get(hop.via) ?? hop.via });
    }
    return {
      node: node.name,
      sessions: config.peers.map((p) => ({ protocol: sessionName(p), peer: p.node, address: p.address })),
      routes,
      blackholes: 'pods' in node ? blocksOf(node) : [],
    };
  });
}
