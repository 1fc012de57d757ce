// What the kernel of one lab container says, read in one exec: per network namespace (the
// container's own and its pods') the links with their counters, routes, neighbours, nstat and
// iptables counters and the sysctls that decide forwarding; per container the bridge FDB, the
// udp agents' tables and which processes run — and the kernel's own answers to the route
// lookups a trace will need (`ip route get` for the destination, from the source through every
// interface, and for every peer host). The script is a fixed text: addresses and namespace names
// only ever arrive as "$@", never inside the text.
import { parseRouteGet, type RouteDecision } from './route-get.js';
import { debugLog } from '../base/debug-log.js';

/** Arguments: destination or "-" (no route lookups), source or "-", the number of peer
 * addresses, the peers, then the pods' netns names. */
export const SNAPSHOT_SCRIPT = [
  'run() { if [ "$NS" = - ]; then "$@"; else ip netns exec "$NS" "$@"; fi; }',
  'rg() { echo "@@rg $1 $2 $3"; if [ "$2" = - ]; then run ip -j route get "$1" 2>&1; else run ip -j route get "$1" from "$2" iif "$3" 2>&1; fi; }',
  'DST=$1; SRC=$2; n=$3; shift 3; PEERS=""',
  'while [ $n -gt 0 ]; do PEERS="$PEERS $1"; shift; n=$((n-1)); done',
  'for NS in - "$@"; do',
  '  echo "@@ns $NS"',
  '  echo "@@addr"; run ip -j -s -d addr',
  '  echo "@@route"; run ip -j route',
  '  echo "@@neigh"; run ip -j neigh',
  '  echo "@@nstat"; run nstat -j -asz 2>/dev/null',
  '  echo "@@iptables"; run iptables-save -c 2>/dev/null',
  '  echo "@@sysctl"; run grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null',
  '  echo "@@nft"; run nft -j list table ip kube-proxy 2>/dev/null',
  '  if [ "$DST" != - ]; then',
  '    rg "$DST" - -',
  '    if [ "$SRC" != - ]; then for i in $(run ls /sys/class/net); do [ "$i" = lo ] || rg "$DST" "$SRC" "$i"; done; fi',
  '    for p in $PEERS; do rg "$p" - -; done',
  '  fi',
  'done',
  'echo "@@ns *"',
  'echo "@@fdb"; bridge -j fdb show 2>/dev/null',
  'echo "@@ps"; ps -eo pid=,stat=,comm= 2>/dev/null',
  'for f in /run/overlab/agent*-stats.json; do [ -f "$f" ] && { echo "@@agent $f"; cat "$f"; echo; }; done',
  'true',
].join('\n');

export interface LinkState {
  ifindex: number;
  name: string;
  kind: string; // veth, bridge, vxlan, tun, loopback, ...
  mac: string;
  mtu: number;
  /** operstate as the kernel reports it: UP, DOWN, UNKNOWN, LOWERLAYERDOWN. */
  state: string;
  flags: string[];
  master?: string;
  /** A bridge port's hairpin mode: a frame may leave by the port it came in by. */
  hairpin?: boolean;
  addresses: { ip: string; prefixLen: number }[];
  vxlan?: { vni: number; port: number; local?: string; dev?: string };
  stats: LinkCounters;
}

export interface LinkCounters {
  rxPackets: number;
  rxDropped: number;
  rxErrors: number;
  txPackets: number;
  txDropped: number;
  txErrors: number;
}

export interface RouteState {
  dst: string; // "default" or a CIDR / host address
  gateway?: string;
  dev?: string;
  type?: string; // unicast (absent), unreachable, blackhole, prohibit
  onlink: boolean;
  prefsrc?: string;
}

export interface NeighbourState {
  ip: string;
  dev: string;
  lladdr?: string;
  state: string[]; // REACHABLE, STALE, PERMANENT, INCOMPLETE, FAILED, ...
}

export interface FdbState {
  mac: string;
  dev: string;
  dst?: string; // vxlan: the remote VTEP's underlay address
  master?: string; // a bridge's learned entry
  state: string;
}

export interface ProcessState {
  pid: number;
  stat: string; // ps STAT: S, R, T (stopped), Z, ...
  comm: string;
}

/** The part of the udp agent's stats file a trace reads. */
export interface AgentTable {
  file: string;
  pid?: number;
  dataPathPid?: number;
  device?: string;
  subnet?: string;
  publicIp?: string;
  peers: { subnet: string; publicIp: string }[];
}

export interface NamespaceState {
  /** undefined: the container's own namespace; else the pod's netns name. */
  netns?: string;
  links: LinkState[];
  routes: RouteState[];
  neighbours: NeighbourState[];
  /** nstat's absolute counters (IpInNoRoutes, IpFragFails, TcpExtIPReversePathFilter, ...). */
  nstat: Record<string, number>;
  /** iptables-save -c, as text (parsed by iptables-rules.ts). */
  iptables: string;
  /** kube-proxy's nftables table as `nft -j list` prints it ("" when there is none). */
  nft?: string;
  sysctls: Record<string, string>;
  /** The kernel's answers to `ip route get` asked in this namespace. */
  routeAnswers: { dst: string; src?: string; iif?: string; answer: RouteDecision }[];
}

/** The snapshot script's arguments: what to ask the kernel about routes, and which pods. */
export function snapshotArgs(netns: string[], routes?: { dst: string; src?: string; peers: string[] }): string[] {
  if (!routes) return ['-', '-', '0', ...netns];
  return [routes.dst, routes.src ?? '-', String(routes.peers.length), ...routes.peers, ...netns];
}

export interface ContainerState {
  node: string;
  container: string;
  namespaces: NamespaceState[];
  fdb: FdbState[];
  processes: ProcessState[];
  agents: AgentTable[];
}

interface IpAddrJson {
  ifindex?: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  master?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string; link?: string }; info_slave_kind?: string; info_slave_data?: { hairpin?: boolean } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
  stats64?: { rx?: Record<string, number>; tx?: Record<string, number> };
}

function parseJsonArray<T>(text: string): T[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return [];
  try {
    return JSON.parse(trimmed) as T[];
  } catch (error) {
    debugLog('trace', `read a JSON list from ${trimmed.slice(0, 40)}…`, error);
    return [];
  }
}

export function parseLinks(text: string): LinkState[] {
  return parseJsonArray<IpAddrJson>(text).map((l) => {
    const kind = l.linkinfo?.info_kind ?? (l.link_type === 'loopback' ? 'loopback' : l.link_type ?? '');
    const info = l.linkinfo?.info_data;
    const rx = l.stats64?.rx ?? {};
    const tx = l.stats64?.tx ?? {};
    return {
      ifindex: l.ifindex ?? 0,
      name: l.ifname,
      kind,
      mac: (l.address ?? '').toLowerCase(),
      mtu: l.mtu ?? 0,
      state: l.operstate ?? '',
      flags: l.flags ?? [],
      ...(l.master ? { master: l.master } : {}),
      ...(l.linkinfo?.info_slave_kind === 'bridge' && typeof l.linkinfo.info_slave_data?.hairpin === 'boolean' ? { hairpin: l.linkinfo.info_slave_data.hairpin } : {}),
      addresses: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({ ip: a.local, prefixLen: a.prefixlen })),
      ...(kind === 'vxlan' && info
        ? { vxlan: { vni: info.id ?? 0, port: info.port ?? 8472, ...(info.local ? { local: info.local } : {}), ...(info.link ? { dev: info.link } : {}) } }
        : {}),
      stats: {
        rxPackets: rx.packets ?? 0,
        rxDropped: rx.dropped ?? 0,
        rxErrors: rx.errors ?? 0,
        txPackets: tx.packets ?? 0,
        txDropped: tx.dropped ?? 0,
        txErrors: tx.errors ?? 0,
      },
    };
  });
}

interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  flags?: string[];
  prefsrc?: string;
}

export function parseRoutes(text: string): RouteState[] {
  return parseJsonArray<RouteJson>(text).map((r) => ({
    dst: r.dst,
    ...(r.gateway ? { gateway: r.gateway } : {}),
    ...(r.dev ? { dev: r.dev } : {}),
    ...(r.type ? { type: r.type } : {}),
    onlink: (r.flags ?? []).includes('onlink'),
    ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
  }));
}

export function parseNeighbours(text: string): NeighbourState[] {
  return parseJsonArray<{ dst: string; dev: string; lladdr?: string; state?: string[] }>(text)
    .filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n.dst))
    .map((n) => ({ ip: n.dst, dev: n.dev, ...(n.lladdr ? { lladdr: n.lladdr.toLowerCase() } : {}), state: n.state ?? [] }));
}

export function parseFdb(text: string): FdbState[] {
  return parseJsonArray<{ mac: string; ifname?: string; dev?: string; dst?: string; master?: string; state?: string }>(text).map((f) => ({
    mac: f.mac.toLowerCase(),
    dev: f.ifname ?? f.dev ?? '',
    ...(f.dst ? { dst: f.dst } : {}),
    ...(f.master ? { master: f.master } : {}),
    state: f.state ?? '',
  }));
}

export function parseNstat(text: string): Record<string, number> {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return {};
  try {
    const parsed = JSON.parse(trimmed) as { kernel?: Record<string, number> };
    return parsed.kernel ?? {};
  } catch (error) {
    debugLog('trace', 'read nstat -j', error);
    return {};
  }
}

export function parseSysctls(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\/proc\/sys\/(.+?):(.*)$/.exec(line.trim());
    if (m) out[m[1]!.replace(/\//g, '.')] = m[2]!.trim();
  }
  return out;
}

export function parseProcesses(text: string): ProcessState[] {
  const out: ProcessState[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(.+)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), stat: m[2]!, comm: m[3]!.trim() });
  }
  return out;
}

export function parseAgentTable(file: string, text: string): AgentTable | undefined {
  try {
    const s = JSON.parse(text) as {
      pid?: number;
      subnet?: string;
      publicIp?: string;
      dataPathPid?: number;
      device?: { device?: string; dataPathPid?: number };
      peers?: { subnet: string; publicIp: string }[];
    };
    const dataPathPid = s.device?.dataPathPid ?? s.dataPathPid;
    return {
      file,
      ...(s.pid ? { pid: s.pid } : {}),
      ...(dataPathPid ? { dataPathPid } : {}),
      ...(s.device?.device ? { device: s.device.device } : {}),
      ...(s.subnet ? { subnet: s.subnet } : {}),
      ...(s.publicIp ? { publicIp: s.publicIp } : {}),
      peers: (s.peers ?? []).map((p) => ({ subnet: p.subnet, publicIp: p.publicIp })),
    };
  } catch (error) {
    debugLog('trace', `read the agent's stats ${file}`, error);
    return undefined;
  }
}

/** Pure: the output of SNAPSHOT_SCRIPT → the container's state. */
export function parseSnapshot(node: string, container: string, output: string): ContainerState {
  const state: ContainerState = { node, container, namespaces: [], fdb: [], processes: [], agents: [] };
  let current: NamespaceState | undefined;
  let section = '';
  let buffer: string[] = [];
  let agentFile = '';
  let query: { dst: string; src?: string; iif?: string } | undefined;
  const flush = () => {
    const text = buffer.join('\n');
    buffer = [];
    if (section === 'fdb') state.fdb = parseFdb(text);
    else if (section === 'ps') state.processes = parseProcesses(text);
    else if (section === 'rg' && current && query) current.routeAnswers.push({ ...query, answer: parseRouteGet(text) });
    else if (section === 'agent') {
      const table = parseAgentTable(agentFile, text);
      if (table) state.agents.push(table);
    } else if (current) {
      if (section === 'addr') current.links = parseLinks(text);
      else if (section === 'route') current.routes = parseRoutes(text);
      else if (section === 'neigh') current.neighbours = parseNeighbours(text);
      else if (section === 'nstat') current.nstat = parseNstat(text);
      else if (section === 'iptables') current.iptables = text;
      else if (section === 'nft') current.nft = text.trim();
      else if (section === 'sysctl') current.sysctls = parseSysctls(text);
    }
  };
  for (const line of output.split('\n')) {
    if (line.startsWith('@@ns ')) {
      flush();
      section = '';
      const name = line.slice(5).trim();
      if (name === '*') {
        current = undefined;
        continue;
      }
      current = { ...(name === '-' ? {} : { netns: name }), links: [], routes: [], neighbours: [], nstat: {}, iptables: '', sysctls: {}, routeAnswers: [] };
      state.namespaces.push(current);
    } else if (line.startsWith('@@agent ')) {
      flush();
      section = 'agent';
      agentFile = line.slice(8).trim();
    } else if (line.startsWith('@@rg ')) {
      flush();
      section = 'rg';
      const [dst, src, iif] = line.slice(5).trim().split(' ');
      query = { dst: dst!, ...(src && src !== '-' ? { src } : {}), ...(iif && iif !== '-' ? { iif } : {}) };
    } else if (/^@@[a-z]+$/.test(line.trim())) {
      flush();
      section = line.trim().slice(2);
    } else {
      buffer.push(line);
    }
  }
  flush();
  return state;
}
