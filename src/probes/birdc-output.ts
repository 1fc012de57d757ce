// What `birdc` prints, read into data. Pure. The formats are BIRD 2.0's (Debian's bird2 2.0.12):
// test/fixtures/bird/ holds real outputs captured from lab nodes. Untrusted text: anything that
// does not have the expected shape is skipped, never guessed at.

export interface BirdProtocol {
  name: string;
  /** `BGP`, `Static`, `Kernel`, `Device`, `Direct`. */
  proto: string;
  table: string;
  /** `up`, `down`, `start`, `stop`. */
  state: string;
  since: string;
  /** For BGP: `Established`, `Active`, `Connect`, `Idle`, … then the last error, if any. */
  info: string;
  /** From `show protocols all`: the `Key: value` lines, e.g. `BGP state`, `Neighbor address`,
   * `Last error`, `Source address`, `Routes` (the first channel's). */
  details: Record<string, string>;
}

/** The BGP state of a BGP protocol: `Established`, `Active`, … (`Down` for a disabled one). */
export function bgpState(p: BirdProtocol): string {
  if (p.details['BGP state']) return p.details['BGP state'];
  const first = p.info.split(/\s+/)[0];
  if (p.state === 'down' && !first) return 'Down';
  return first || p.state;
}

/** The reason a session is not up, as BIRD words it (`BGP Error: Bad peer AS`,
 * `Socket: Connection refused`, `Received: Administrative shutdown`), or undefined. */
export function sessionError(p: BirdProtocol): string | undefined {
  if (p.details['Last error']) return p.details['Last error'];
  const rest = p.info.replace(/^\S+\s*/, '').trim();
  return rest || undefined;
}

const BANNER = /^BIRD [0-9.]+ ready\.$/;

/** `birdc show protocols` or `birdc show protocols all`. */
export function parseBirdProtocols(text: string): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  let current: BirdProtocol | null = null;
  let inChannel = false;
  let table = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (/^Name\s+Proto\s+Table\s+State\s+Since\s+Info$/.test(line)) table = true;
    if (!table || !line || BANNER.test(line) || line.startsWith('Name ')) continue;
    if (!/^\s/.test(line)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s+([A-Z][A-Za-z0-9]*)\s+(\S+)\s+(up|down|start|stop|flush)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      current = m ? { name: m[1]!, proto: m[2]!, table: m[3]!, state: m[4]!, since: m[5]!, info: (m[6] ?? '').trim(), details: {} } : null;
      if (current) out.push(current);
      inChannel = false;
      continue;
    }
    if (!current) continue;
    const trimmed = line.trim();
    if (/^Channel \S+$/.test(trimmed)) {
      if (current.details.Channel) inChannel = true; // keep the first channel's lines only
      else current.details.Channel = trimmed.slice('Channel '.length);
      continue;
    }
    if (inChannel) continue;
    const kv = /^([A-Za-z][A-Za-z0-9 .-]*?):\s+(.*)$/.exec(trimmed);
    if (kv && !(kv[1]! in current.details)) current.details[kv[1]!] = kv[2]!.trim();
  }
  return out;
}

export interface BirdRoute {
  net: string;
  /** `unicast`, `blackhole`, `unreachable`, `prohibited`. */
  type: string;
  /** The protocol that brought it: `Mesh_host2`, `blocks`, `kernel1`, `direct1`. */
  protocol: string;
  since: string;
  /** The neighbour it was learned from, when that is not its next hop (`from 192.168.20.12`). */
  from?: string;
  /** BIRD's choice among the routes for this net (`*`). */
  primary: boolean;
  preference: number;
  /** The immediate next hops (`via 192.168.10.1 on eth0`), or the device (`dev eth0`). */
  nexthops: { via?: string; iface: string }[];
  /** `Type`, `BGP.next_hop`, `BGP.originator_id`, `BGP.cluster_list`, `BGP.as_path`, … (with `all`). */
  attributes: Record<string, string>;
}

const ROUTE_HEAD =
  /^(\S+)?\s+(unicast|blackhole|unreachable|prohibited)\s+\[([A-Za-z_][A-Za-z0-9_]*)\s+(\S+)(?:\s+from\s+([0-9.]+))?\]\s+(\*\s+)?\((\d+)(?:\/[^)]*)?\)/;

/** `birdc show route [for <addr>] [all]`: every route of the table, in BIRD's order. */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const out: BirdRoute[] = [];
  let net: string | null = null;
  let current: BirdRoute | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (!line || BANNER.test(line) || /^Table \S+:$/.test(line)) continue;
    if (!line.startsWith('\t')) {
      const m = ROUTE_HEAD.exec(line);
      if (!m) {
        current = null;
        continue;
      }
      if (m[1]) net = m[1];
      if (!net) continue;
      current = {
        net,
        type: m[2]!,
        protocol: m[3]!,
        since: m[4]!,
        ...(m[5] ? { from: m[5] } : {}),
        primary: m[6] !== undefined,
        preference: Number(m[7]),
        nexthops: [],
        attributes: {},
      };
      out.push(current);
      continue;
    }
    if (!current) continue;
    const body = line.trim();
    const via = /^via ([0-9.]+) on (\S+)/.exec(body);
    if (via) {
      current.nexthops.push({ via: via[1]!, iface: via[2]! });
      continue;
    }
    const dev = /^dev (\S+)/.exec(body);
    if (dev) {
      current.nexthops.push({ iface: dev[1]! });
      continue;
    }
    const attr = /^([A-Za-z][A-Za-z0-9_.]*):\s?(.*)$/.exec(body);
    if (attr) current.attributes[attr[1]!] = attr[2]!.trim();
  }
  return out;
}

/** Who announced a BGP route: the originator (a reflected route names it), else the neighbour. */
export function announcedBy(route: BirdRoute): string | undefined {
  return route.attributes['BGP.originator_id'] || route.from || route.attributes['BGP.next_hop'] || route.nexthops[0]?.via;
}

/**
 * One line for a trace hop: which BGP route a node used for `dst` and from whom it learned it,
 * e.g. `BGP route 10.244.0.128/26 via Reflector_tor1 (learned from tor1), announced by host3,
 * next hop 192.168.20.2`. `nameOf` turns an address into a lab node's name. Undefined when the
 * best route for it is not BGP's.
 */
export function describeBgpRoute(routes: BirdRoute[], nameOf: (ip: string) => string | undefined): string | undefined {
  const best = routes.find((r) => r.primary) ?? routes[0];
  if (!best || best.attributes.Type?.startsWith('BGP') !== true) return undefined;
  const peer = /^(?:Mesh|Client|Reflector)_(.+)$/.exec(best.protocol)?.[1]?.replace(/_/g, '-');
  const origin = announcedBy(best);
  const originName = origin ? (nameOf(origin) ?? origin) : undefined;
  const nextHop = best.attributes['BGP.next_hop'];
  return [
    `BGP route ${best.net} from ${best.protocol}${peer ? ` (learned from ${peer})` : ''}`,
    ...(originName && originName !== peer ? [`announced by ${originName}`] : []),
    ...(nextHop ? [`BGP next hop ${nextHop}${nameOf(nextHop) ? ` (${nameOf(nextHop)})` : ''}`] : []),
  ].join(', ');
}
