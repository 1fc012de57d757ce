// A routed underlay: several segments (racks), each its own subnet and its own bridge in the lab's
// switch, joined by router nodes. Pure: decides every segment's subnet, every node's link and
// address on each of its segments, each segment's gateway, and the routes routers need for the
// segments they are not on. Routers know host addresses only (the segments), never pod networks:
// what crosses them is what they learn (BGP) or nothing.
import { cidrContains, intToIp, ipToInt, parseCidr, prefixSize } from '../shared/ipv4.js';
import { inputError } from '../base/errors.js';

export interface SegmentInput {
  name: string;
  subnet?: string;
  /** The router hosts of this segment use as default route; default: the first router on it. */
  gateway?: string;
}

export interface SegmentMemberInput {
  name: string;
  role: 'host' | 'router' | 'outside' | 'etcd';
  /** The segments the node is on, in order: its eth0, eth1, … */
  segments: string[];
  /** A fixed address on its first segment. */
  ip?: string;
}

export interface ResolvedSegment {
  name: string;
  subnet: string;
  prefixLen: number;
  /** The Linux bridge in the switch container. */
  bridge: string;
  /** The gateway router's address on this segment (hosts' default route), if any router is on it. */
  gateway?: string;
  gatewayNode?: string;
}

export interface ResolvedLink {
  segment: string;
  /** The node's interface: eth0, eth1, … */
  iface: string;
  ip: string;
  mac: string;
  /** The cable's other end, a port of the segment's bridge in the switch: `<node>` for eth0,
   * `<node>.<k>` for eth<k> (node names have no dots, so ports never collide). */
  port: string;
}

/** Docker-style locally administered MAC derived from an IPv4 address (02:42:a.b.c.d in hex). */
export function macForIp(ip: string): string {
  const bytes = ip.split('.').map((part) => Number(part).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}

const address = (ip: string) => ({ ip, mac: macForIp(ip) });

export interface UnderlayRoute {
  /** A segment the router is not on. */
  dst: string;
  via: string;
  dev: string;
}

export interface RoutedUnderlay {
  segments: ResolvedSegment[];
  links: Map<string, ResolvedLink[]>;
  /** Per router: routes to the segments it is not on, via the next router towards each. */
  routes: Map<string, UnderlayRoute[]>;
}

/** The port name of a node's k-th link in the switch. */
export function segmentPortName(node: string, index: number): string {
  return index === 0 ? node : `${node}.${index}`;
}

class SegmentPool {
  private readonly used = new Set<number>();
  private readonly base: number;
  private readonly size: number;
  constructor(readonly segment: string, readonly subnet: string) {
    const c = parseCidr(subnet)!;
    this.base = c.network;
    this.size = prefixSize(c.prefix);
  }
  reserve(ip: string): void {
    this.used.add(ipToInt(ip));
  }
  fromBottom(start: number): string {
    for (let offset = start; offset <= this.size - 2; offset++) {
      const candidate = (this.base + offset) >>> 0;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return intToIp(candidate);
      }
    }
    throw inputError(`segment ${this.segment} (${this.subnet}) has no free address left`, 'use a larger subnet for it');
  }
  fromTop(): string {
    for (let offset = this.size - 2; offset >= 1; offset--) {
      const candidate = (this.base + offset) >>> 0;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return intToIp(candidate);
      }
    }
    throw inputError(`segment ${this.segment} (${this.subnet}) has no free address left`, 'use a larger subnet for it');
  }
}

/**
 * Lays out the segments. `chooseSubnet(taken)` picks a free subnet for a segment the spec left
 * open (the same chooser the single underlay uses). Addresses as on the single underlay: routers
 * from the bottom (a gateway is usually .1), hosts next, other nodes (etcd, outside) from the top.
 */
export function layOutSegments(segments: SegmentInput[], members: SegmentMemberInput[], taken: string[], chooseSubnet: (taken: string[]) => string): RoutedUnderlay {
  const occupied = [...taken];
  const resolved: ResolvedSegment[] = [];
  for (const s of segments) if (s.subnet) occupied.push(s.subnet);
  for (const s of segments) {
    const subnet = s.subnet ?? chooseSubnet(occupied);
    if (!s.subnet) occupied.push(subnet);
    resolved.push({ name: s.name, subnet, prefixLen: parseCidr(subnet)!.prefix, bridge: s.name });
  }
  const pools = new Map(resolved.map((s) => [s.name, new SegmentPool(s.name, s.subnet)]));
  for (const m of members) if (m.ip) pools.get(m.segments[0]!)!.reserve(m.ip);

  const links = new Map<string, ResolvedLink[]>();
  const place = (m: SegmentMemberInput, pick: (pool: SegmentPool) => string) => {
    links.set(
      m.name,
      m.segments.map((segment, k) => ({
        segment,
        iface: `eth${k}`,
        ...address(k === 0 && m.ip ? m.ip : pick(pools.get(segment)!)),
        port: segmentPortName(m.name, k),
      })),
    );
  };
  for (const m of members) if (m.role === 'router') place(m, (p) => p.fromBottom(1));
  for (const m of members) if (m.role === 'host') place(m, (p) => p.fromBottom(2));
  for (const m of members) if (m.role !== 'router' && m.role !== 'host') place(m, (p) => p.fromTop());

  const routers = members.filter((m) => m.role === 'router');
  for (const s of resolved) {
    const wanted = segments.find((x) => x.name === s.name)!.gateway;
    const router = wanted ? routers.find((r) => r.name === wanted) : routers.find((r) => r.segments.includes(s.name));
    const link = router && links.get(router.name)!.find((l) => l.segment === s.name);
    if (router && link) {
      s.gateway = link.ip;
      s.gatewayNode = router.name;
    }
  }

  const routes = new Map<string, UnderlayRoute[]>();
  for (const r of routers) routes.set(r.name, routesOf(r, routers, links, resolved));
  return { segments: resolved, links, routes };
}

/** Breadth first over segments and routers: for every segment `from` is not on, the first hop. */
function routesOf(from: SegmentMemberInput, routers: SegmentMemberInput[], links: Map<string, ResolvedLink[]>, segments: ResolvedSegment[]): UnderlayRoute[] {
  const own = links.get(from.name)!;
  const firstHop = new Map<string, { via: string; dev: string }>();
  const seen = new Set(own.map((l) => l.segment));
  let frontier = own.map((l) => ({ segment: l.segment, hop: null as { via: string; dev: string } | null, dev: l.iface }));
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const f of frontier) {
      for (const r of routers) {
        if (r.name === from.name || !r.segments.includes(f.segment)) continue;
        const entry = links.get(r.name)!.find((l) => l.segment === f.segment)!;
        const hop = f.hop ?? { via: entry.ip, dev: f.dev };
        for (const l of links.get(r.name)!) {
          if (seen.has(l.segment)) continue;
          seen.add(l.segment);
          firstHop.set(l.segment, hop);
          next.push({ segment: l.segment, hop, dev: hop.dev });
        }
      }
    }
    frontier = next;
  }
  return segments.filter((s) => firstHop.has(s.name)).map((s) => ({ dst: s.subnet, ...firstHop.get(s.name)! }));
}

/** Where a node sends a packet for `dst` on the underlay: straight to it on a shared segment,
 * else to its gateway (a host) or along its routes (a router). Undefined: no way. */
export function underlayFirstHop(
  node: { links: ResolvedLink[]; routes?: UnderlayRoute[]; gateway?: string },
  dst: string,
  segments: ResolvedSegment[],
): { via: string; iface: string; direct: boolean } | undefined {
  for (const l of node.links) {
    const s = segments.find((x) => x.name === l.segment)!;
    if (cidrContains(s.subnet, dst)) return { via: dst, iface: l.iface, direct: true };
  }
  for (const r of node.routes ?? []) {
    if (cidrContains(r.dst, dst)) return { via: r.via, iface: r.dev, direct: false };
  }
  if (node.gateway) {
    const l = node.links.find((x) => cidrContains(segments.find((s) => s.name === x.segment)!.subnet, node.gateway!));
    if (l) return { via: node.gateway, iface: l.iface, direct: false };
  }
  return undefined;
}
