// What kernel state each backend needs — PURE and deterministic, so the overlab CLI can reuse it
// for a "static control plane" (same state, programmed without etcd) and for --dry-run output.
//
//   desiredPeerState(backend, self, peers)  -> { routes, neighbours, fdb, forwarding }
//   renderPeerCommands(state)               -> exact `ip` / `bridge` command lines (replace verbs)
//   renderPeerRemovalCommands(state)        -> the matching `del` lines
//   diffPeerState(desired, actual)          -> what to add / remove to converge
//   desiredLocalState / renderLocalCommands -> the host's own flannel device (flannel.1 / flannel0)
//   renderBridgeCommands / renderMasqCommands -> the pod side (bridge + iptables, as flannel's CNI)

import { type Ip4Net, compareNets, formatNet, formatIp, netAddr, netContainsNet, parseNet, parseIp } from './ipv4.js';
import { type BackendType, DEFAULT_UDP_PORT, DEFAULT_VNI, DEFAULT_VXLAN_PORT } from './flannel-lease.js';

export const UDP_TUN_NAME = 'flannel0';
export const VXLAN_OVERHEAD = 50;
export const UDP_OVERHEAD = 28;

export function vxlanDeviceName(vni: number): string {
  return `flannel.${vni}`;
}

export interface PeerStateBackend {
  type: BackendType;
  /** vxlan: VNI (default 1). */
  vni?: number;
  /** vxlan: dstport (default 8472); udp: agent port (default 8285). */
  port?: number;
}

export interface PeerStateSelf {
  /** This host's lease, e.g. "10.244.1.0/24". */
  subnet: string;
  publicIp: string;
  /** Underlay interface, e.g. "eth0" (host-gw routes and the vxlan device's `dev`). */
  underlayIface: string;
}

export interface PeerStatePeer {
  subnet: string;
  publicIp: string;
  /** vxlan only: the peer's VTEP MAC (BackendData.VtepMAC). Peers without one are skipped. */
  vtepMac?: string;
}

export interface RouteEntry {
  dst: string;
  via?: string;
  dev: string;
  onlink?: boolean;
}
export interface NeighEntry {
  ip: string;
  lladdr: string;
  dev: string;
}
export interface FdbEntry {
  mac: string;
  dst: string;
  dev: string;
}
/** udp backend: the userspace forwarding table (dst subnet -> peer agent). */
export interface ForwardEntry {
  subnet: string;
  endpoint: string;
  port: number;
}

export interface PeerState {
  routes: RouteEntry[];
  neighbours: NeighEntry[];
  fdb: FdbEntry[];
  forwarding: ForwardEntry[];
}

export function emptyPeerState(): PeerState {
  return { routes: [], neighbours: [], fdb: [], forwarding: [] };
}

function normMac(m: string): string {
  return m.toLowerCase();
}

/**
 * Kernel state a host needs for its peers. Peers are de-duplicated by subnet (first wins after
 * sorting by subnet then public IP), the host's own subnet is skipped, and the result is sorted by
 * subnet, so the same inputs always give the same output.
 */
export function desiredPeerState(backend: PeerStateBackend, self: PeerStateSelf, peers: readonly PeerStatePeer[]): PeerState {
  const own = parseNet(self.subnet, false);
  const sorted = peers
    .map((p) => ({ p, net: parseNet(p.subnet, false) }))
    .sort((a, b) => compareNets(a.net, b.net) || parseIp(a.p.publicIp) - parseIp(b.p.publicIp));
  const seen = new Set<string>();
  const out = emptyPeerState();
  for (const { p, net } of sorted) {
    const sub = formatNet(net);
    if (seen.has(sub)) continue;
    if (net.ip === own.ip && net.prefixLen === own.prefixLen) continue;
    seen.add(sub);
    switch (backend.type) {
      case 'vxlan': {
        if (!p.vtepMac) continue;
        const dev = vxlanDeviceName(backend.vni ?? DEFAULT_VNI);
        const gw = formatIp(netAddr(net, 0));
        out.neighbours.push({ ip: gw, lladdr: normMac(p.vtepMac), dev });
        out.fdb.push({ mac: normMac(p.vtepMac), dst: p.publicIp, dev });
        out.routes.push({ dst: sub, via: gw, dev, onlink: true });
        break;
      }
      case 'host-gw':
        out.routes.push({ dst: sub, via: p.publicIp, dev: self.underlayIface });
        break;
      case 'udp':
        out.forwarding.push({ subnet: sub, endpoint: p.publicIp, port: backend.port ?? DEFAULT_UDP_PORT });
        break;
    }
  }
  return out;
}

export function routeArgs(r: RouteEntry): string[] {
  const a = [r.dst];
  if (r.via) a.push('via', r.via);
  a.push('dev', r.dev);
  if (r.onlink) a.push('onlink');
  return a;
}

/** `ip`/`bridge` argv lists that install the state (idempotent `replace` verbs). Order: neigh, fdb, route. */
export function peerCommandsArgv(state: PeerState): string[][] {
  return [
    ...state.neighbours.map((n) => ['ip', 'neigh', 'replace', n.ip, 'lladdr', n.lladdr, 'dev', n.dev, 'nud', 'permanent']),
    ...state.fdb.map((f) => ['bridge', 'fdb', 'replace', f.mac, 'dev', f.dev, 'dst', f.dst, 'self', 'permanent']),
    ...state.routes.map((r) => ['ip', 'route', 'replace', ...routeArgs(r)]),
  ];
}

/** argv lists that remove the state. Order: route, neigh, fdb. */
export function peerRemovalArgv(state: PeerState): string[][] {
  return [
    ...state.routes.map((r) => ['ip', 'route', 'del', ...routeArgs(r)]),
    ...state.neighbours.map((n) => ['ip', 'neigh', 'del', n.ip, 'dev', n.dev]),
    ...state.fdb.map((f) => ['bridge', 'fdb', 'del', f.mac, 'dev', f.dev, 'dst', f.dst, 'self']),
  ];
}

export function renderPeerCommands(state: PeerState): string[] {
  return peerCommandsArgv(state).map((a) => a.join(' '));
}

export function renderPeerRemovalCommands(state: PeerState): string[] {
  return peerRemovalArgv(state).map((a) => a.join(' '));
}

// ---------------------------------------------------------------------------------------------
// Diff (desired vs. what the kernel has)

function routeId(r: RouteEntry): string {
  return r.dst;
}
function routeSame(a: RouteEntry, b: RouteEntry): boolean {
  return a.dst === b.dst && (a.via ?? '') === (b.via ?? '') && a.dev === b.dev && !!a.onlink === !!b.onlink;
}
function neighId(n: NeighEntry): string {
  return `${n.dev} ${n.ip}`;
}
function fdbId(f: FdbEntry): string {
  return `${f.dev} ${normMac(f.mac)} ${f.dst}`;
}

export interface PeerStateDiff {
  /** Entries missing or different in the kernel: install with renderPeerCommands. */
  add: PeerState;
  /** Entries the kernel has that nobody wants any more: remove with renderPeerRemovalCommands. */
  remove: PeerState;
}

/**
 * Compares desired with actual. `actual` should already be limited to entries the agent manages
 * (inside the flannel network, on the flannel/underlay device). A route whose next hop changed is
 * just re-added (replace); a neighbour whose MAC changed is re-added; an FDB entry is keyed by
 * (MAC, dst) because `bridge fdb` can hold several destinations per MAC.
 */
export function diffPeerState(desired: PeerState, actual: PeerState): PeerStateDiff {
  const add = emptyPeerState();
  const remove = emptyPeerState();
  const aRoutes = new Map(actual.routes.map((r) => [routeId(r), r]));
  const dRoutes = new Set(desired.routes.map(routeId));
  for (const r of desired.routes) {
    const have = aRoutes.get(routeId(r));
    if (!have || !routeSame(have, r)) add.routes.push(r);
  }
  for (const r of actual.routes) if (!dRoutes.has(routeId(r))) remove.routes.push(r);

  const aNeigh = new Map(actual.neighbours.map((n) => [neighId(n), n]));
  const dNeigh = new Set(desired.neighbours.map(neighId));
  for (const n of desired.neighbours) {
    const have = aNeigh.get(neighId(n));
    if (!have || normMac(have.lladdr) !== normMac(n.lladdr)) add.neighbours.push(n);
  }
  for (const n of actual.neighbours) if (!dNeigh.has(neighId(n))) remove.neighbours.push(n);

  const aFdb = new Set(actual.fdb.map(fdbId));
  const dFdb = new Set(desired.fdb.map(fdbId));
  for (const f of desired.fdb) if (!aFdb.has(fdbId(f))) add.fdb.push(f);
  for (const f of actual.fdb) if (!dFdb.has(fdbId(f))) remove.fdb.push(f);

  const aFwd = new Set(actual.forwarding.map((f) => `${f.subnet} ${f.endpoint} ${f.port}`));
  const dFwd = new Set(desired.forwarding.map((f) => `${f.subnet} ${f.endpoint} ${f.port}`));
  for (const f of desired.forwarding) if (!aFwd.has(`${f.subnet} ${f.endpoint} ${f.port}`)) add.forwarding.push(f);
  for (const f of actual.forwarding) if (!dFwd.has(`${f.subnet} ${f.endpoint} ${f.port}`)) remove.forwarding.push(f);
  return { add, remove };
}

export function isEmptyPeerState(s: PeerState): boolean {
  return s.routes.length + s.neighbours.length + s.fdb.length + s.forwarding.length === 0;
}

// ---------------------------------------------------------------------------------------------
// The host's own flannel device

export interface LocalStateOptions {
  /** The flannel network, e.g. "10.244.0.0/16" (udp route). */
  network: string;
  underlayMtu: number;
  /** vxlan: pin the VTEP MAC (static control plane). The agent leaves it to the kernel and reuses it. */
  vtepMac?: string;
}

export interface LocalState {
  /** Device flannel programs, or null for host-gw. */
  device: null | {
    name: string;
    kind: 'vxlan' | 'tun';
    mtu: number;
    /** `<subnet>.0/32` */
    address: string;
    vxlan?: { vni: number; local: string; dev: string; port: number; learning: false; mac?: string };
  };
  /** Whole-network routes (udp: <network> dev flannel0). */
  routes: RouteEntry[];
}

export function mtuFor(backend: BackendType, underlayMtu: number): number {
  if (backend === 'vxlan') return underlayMtu - VXLAN_OVERHEAD;
  if (backend === 'udp') return underlayMtu - UDP_OVERHEAD;
  return underlayMtu;
}

export function desiredLocalState(backend: PeerStateBackend, self: PeerStateSelf, opts: LocalStateOptions): LocalState {
  const own = parseNet(self.subnet, false);
  const address = `${formatIp(netAddr(own, 0))}/32`;
  const mtu = mtuFor(backend.type, opts.underlayMtu);
  if (backend.type === 'vxlan') {
    const vni = backend.vni ?? DEFAULT_VNI;
    return {
      device: {
        name: vxlanDeviceName(vni),
        kind: 'vxlan',
        mtu,
        address,
        vxlan: {
          vni,
          local: self.publicIp,
          dev: self.underlayIface,
          port: backend.port ?? DEFAULT_VXLAN_PORT,
          learning: false,
          ...(opts.vtepMac ? { mac: normMac(opts.vtepMac) } : {}),
        },
      },
      routes: [],
    };
  }
  if (backend.type === 'udp') {
    const net = formatNet(parseNet(opts.network, false));
    return {
      device: { name: UDP_TUN_NAME, kind: 'tun', mtu, address },
      routes: [{ dst: net, dev: UDP_TUN_NAME }],
    };
  }
  return { device: null, routes: [] };
}

/** argv for `ip link add` of the flannel device (vxlan) or a persistent TUN (udp, static mode only). */
export function linkAddArgv(local: LocalState): string[] | null {
  const d = local.device;
  if (!d) return null;
  if (d.kind === 'vxlan' && d.vxlan) {
    const v = d.vxlan;
    return ['ip', 'link', 'add', d.name, ...(v.mac ? ['address', v.mac] : []), 'type', 'vxlan', 'id', String(v.vni), 'local', v.local, 'dev', v.dev, 'dstport', String(v.port), 'nolearning'];
  }
  return ['ip', 'tuntap', 'add', 'dev', d.name, 'mode', 'tun'];
}

/** The commands a student would type to create the device (the agent checks first and reuses it). */
export function localCommandsArgv(local: LocalState): string[][] {
  const d = local.device;
  const out: string[][] = [];
  if (d) {
    const add = linkAddArgv(local);
    if (add) out.push(add);
    out.push(['ip', 'link', 'set', d.name, 'mtu', String(d.mtu)]);
    out.push(['ip', 'addr', 'replace', d.address, 'dev', d.name]);
    out.push(['ip', 'link', 'set', d.name, 'up']);
  }
  for (const r of local.routes) out.push(['ip', 'route', 'replace', ...routeArgs(r)]);
  return out;
}

export function renderLocalCommands(local: LocalState): string[] {
  return localCommandsArgv(local).map((a) => a.join(' '));
}

// ---------------------------------------------------------------------------------------------
// Pod side (what flannel's CNI plugin / docker with --bip does)

/** Bridge address: `<subnet>.1/<len>`. */
export function bridgeAddress(subnet: string): string {
  const n = parseNet(subnet, false);
  return `${formatIp(netAddr(n, 1))}/${n.prefixLen}`;
}

/** Creating the bridge is guarded by the agent (only when absent); the rest is idempotent. */
export function bridgeCommandsArgv(bridge: string, subnet: string, mtu?: number): string[][] {
  return [
    ['ip', 'link', 'add', bridge, 'type', 'bridge'],
    ...(mtu ? [['ip', 'link', 'set', bridge, 'mtu', String(mtu)]] : []),
    ['ip', 'addr', 'replace', bridgeAddress(subnet), 'dev', bridge],
    ['ip', 'link', 'set', bridge, 'up'],
  ];
}

export function renderBridgeCommands(bridge: string, subnet: string, mtu?: number): string[] {
  return bridgeCommandsArgv(bridge, subnet, mtu).map((a) => a.join(' '));
}

export interface IptablesRule {
  table: 'filter' | 'nat';
  chain: string;
  /** rule spec after the chain, e.g. ['-s', '10.244.0.0/16', '-j', 'ACCEPT'] */
  spec: string[];
}

/** flannel with ipMasq: accept forwarded pod traffic, masquerade pod traffic leaving the network. */
export function masqRules(network: string): IptablesRule[] {
  const net = formatNet(parseNet(network, false));
  return [
    { table: 'filter', chain: 'FORWARD', spec: ['-s', net, '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'FORWARD', spec: ['-d', net, '-j', 'ACCEPT'] },
    { table: 'nat', chain: 'POSTROUTING', spec: ['-s', net, '!', '-d', net, '-j', 'MASQUERADE'] },
  ];
}

/** Shell lines: check (-C) and append (-A) only when absent. */
export function renderMasqCommands(network: string): string[] {
  return masqRules(network).map((r) => {
    const t = ['-t', r.table].join(' ');
    const s = r.spec.join(' ');
    return `iptables ${t} -C ${r.chain} ${s} 2>/dev/null || iptables ${t} -A ${r.chain} ${s}`;
  });
}

/** True when the entry's destination lies inside the flannel network (so the agent manages it). */
export function inNetwork(network: Ip4Net, cidrOrIp: string): boolean {
  try {
    const n = cidrOrIp.includes('/') ? parseNet(cidrOrIp, false) : { ip: parseIp(cidrOrIp), prefixLen: 32 };
    return netContainsNet(network, n);
  } catch {
    return false;
  }
}
