// Pure parsers for `ip -j` / `bridge -j` output, limited to what the agent manages.

import type { Ip4Net } from './ipv4.js';
import { type FdbEntry, type NeighEntry, type PeerState, type RouteEntry, emptyPeerState, inNetwork } from './peer-state.js';

function parseArray(text: string): Record<string, unknown>[] {
  const t = text.trim();
  if (t === '') return [];
  const j = JSON.parse(t) as unknown;
  return Array.isArray(j) ? (j as Record<string, unknown>[]) : [];
}

/** Routes from `ip -j route show [dev <dev>]` whose destination is inside `network` (not the network itself). */
export function parseRoutes(text: string, dev: string, network: Ip4Net): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const r of parseArray(text)) {
    const d = typeof r.dev === 'string' ? r.dev : dev;
    if (d !== dev) continue;
    let dst = typeof r.dst === 'string' ? r.dst : '';
    if (dst === '' || dst === 'default') continue;
    if (!dst.includes('/')) dst = `${dst}/32`;
    if (!inNetwork(network, dst)) continue;
    if (dst.endsWith(`/${network.prefixLen}`)) continue; // the whole-network route is local state
    const flags = Array.isArray(r.flags) ? (r.flags as string[]) : [];
    const e: RouteEntry = { dst, dev: d };
    if (typeof r.gateway === 'string') e.via = r.gateway;
    if (flags.includes('onlink')) e.onlink = true;
    out.push(e);
  }
  return out;
}

/** Permanent neighbours from `ip -j neigh show [dev <dev>]` inside `network`. */
export function parseNeighbours(text: string, dev: string, network: Ip4Net): NeighEntry[] {
  const out: NeighEntry[] = [];
  for (const n of parseArray(text)) {
    const d = typeof n.dev === 'string' ? n.dev : dev;
    if (d !== dev || typeof n.dst !== 'string' || typeof n.lladdr !== 'string') continue;
    if (!inNetwork(network, n.dst)) continue;
    out.push({ ip: n.dst, lladdr: n.lladdr.toLowerCase(), dev: d });
  }
  return out;
}

/** Unicast FDB entries with a remote `dst` from `bridge -j fdb show [dev <dev>]`. */
export function parseFdb(text: string, dev: string): FdbEntry[] {
  const out: FdbEntry[] = [];
  for (const f of parseArray(text)) {
    const d = typeof f.ifname === 'string' ? f.ifname : dev;
    if (d !== dev || typeof f.mac !== 'string' || typeof f.dst !== 'string') continue;
    const mac = f.mac.toLowerCase();
    if (mac === '00:00:00:00:00:00') continue;
    const first = parseInt(mac.slice(0, 2), 16);
    if (first & 1) continue; // multicast
    out.push({ mac, dst: f.dst, dev: d });
  }
  return out;
}

export function actualPeerState(parts: { routes?: RouteEntry[]; neighbours?: NeighEntry[]; fdb?: FdbEntry[] }): PeerState {
  const s = emptyPeerState();
  s.routes = parts.routes ?? [];
  s.neighbours = parts.neighbours ?? [];
  s.fdb = parts.fdb ?? [];
  return s;
}

export interface LinkInfo {
  name: string;
  index: number;
  mac: string;
  mtu: number;
  up: boolean;
  kind: string;
  vxlan?: { id: number; local?: string; link?: string; port: number; learning: boolean };
  addresses: { ip: string; prefixLen: number }[];
}

/** Merges `ip -j -d link show <dev>` and `ip -j addr show dev <dev>`; null when the device is absent. */
export function parseLink(linkText: string, addrText = ''): LinkInfo | null {
  const l = parseArray(linkText)[0];
  if (!l || typeof l.ifname !== 'string') return null;
  const flags = Array.isArray(l.flags) ? (l.flags as string[]) : [];
  const li = (l.linkinfo ?? {}) as { info_kind?: string; info_data?: Record<string, unknown> };
  const info: LinkInfo = {
    name: l.ifname,
    index: Number(l.ifindex ?? 0),
    mac: typeof l.address === 'string' ? l.address.toLowerCase() : '',
    mtu: Number(l.mtu ?? 0),
    up: flags.includes('UP'),
    kind: li.info_kind ?? '',
    addresses: [],
  };
  if (li.info_kind === 'vxlan' && li.info_data) {
    const d = li.info_data;
    info.vxlan = {
      id: Number(d.id),
      ...(typeof d.local === 'string' ? { local: d.local } : {}),
      ...(typeof d.link === 'string' ? { link: d.link } : {}),
      port: Number(d.port ?? 0),
      learning: d.learning === true,
    };
  }
  const a = parseArray(addrText)[0];
  if (a && Array.isArray(a.addr_info)) {
    for (const ai of a.addr_info as Record<string, unknown>[]) {
      if (ai.family === 'inet' && typeof ai.local === 'string') info.addresses.push({ ip: ai.local, prefixLen: Number(ai.prefixlen) });
    }
  }
  return info;
}
