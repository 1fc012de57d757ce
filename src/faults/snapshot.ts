// The kernel state of one network namespace that faults may change, read in one exec: links,
// addresses, routes, permanent neighbours, FDB, qdiscs, iptables and ebtables rules, kube-proxy's
// nftables table, and the forwarding and bridge-netfilter sysctls — every part as the kernel's
// tools print it (`ip -j`, `bridge -j`, `tc -j`, `*-save`, `nft list`), so a fault records exactly
// what changed and `clear` can compare and restore it.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { environmentError } from '../base/errors.js';
import { parseSave, type SavedTables } from './iptables-save.js';
import { inNamespace, namespaceKey, type Namespace } from './namespace.js';

export interface LinkState {
  ifname: string;
  up: boolean;
  mtu: number;
  master?: string;
  address?: string;
  /** linkinfo.info_kind: veth, bridge, vxlan, tun, … */
  kind?: string;
  /** vxlan devices: what `ip -d link` says (id, local, link, port, learning, ttl, …). */
  vxlan?: Record<string, unknown>;
  /** A bridge port's hairpin mode (a frame may go back out the port it came in by). */
  hairpin?: boolean;
}

export interface AddrEntry {
  ifname: string;
  local: string;
  prefixlen: number;
  scope?: string;
  broadcast?: string;
  label?: string;
}

/** A route as `ip -j route` prints it (main table), without the flags that are state, not config. */
export interface RouteEntry {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
}

export interface NeighEntry {
  dst: string;
  dev: string;
  lladdr?: string;
}

export interface FdbEntry {
  mac: string;
  ifname: string;
  dst?: string;
  master?: string;
  self: boolean;
  state: string;
  vlan?: number;
}

export interface QdiscEntry {
  dev: string;
  kind: string;
  handle: string;
  root: boolean;
  parent?: string;
  options: unknown;
}

export interface NetnsState {
  links: Record<string, LinkState>;
  addrs: AddrEntry[];
  routes: RouteEntry[];
  neighbours: NeighEntry[];
  fdb: FdbEntry[];
  qdiscs: QdiscEntry[];
  iptables: SavedTables;
  ebtables: SavedTables;
  /** /proc/sys paths under net/ipv4 (forwarding, redirects) and net/bridge (whether the bridge
   * hands frames to iptables) → value. */
  sysctl: Record<string, string>;
  /** kube-proxy's nftables table (`nft list table ip kube-proxy`, rule handles left out); "" when
   * there is none. */
  nft: string;
}

type Section = 'links' | 'addrs' | 'routes' | 'neigh' | 'fdb' | 'qdisc' | 'iptables' | 'ebtables' | 'sysctl' | 'nft';

/** Constant text: no value from anywhere is ever part of it (the namespace is entered by argv). */
export const SNAPSHOT_SCRIPT = [
  'echo @@links; ip -j -d link show',
  'echo @@addrs; ip -j -4 addr show',
  'echo @@routes; ip -j route show table main',
  'echo @@neigh; ip -j neigh show nud permanent',
  'echo @@fdb; bridge -j fdb show',
  'echo @@qdisc; tc -j qdisc show',
  'echo @@iptables; iptables-save',
  'echo @@ebtables; ebtables-save 2>/dev/null',
  'echo @@sysctl; grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/accept_redirects',
  'grep -H . /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null',
  'echo @@nft; nft list table ip kube-proxy 2>/dev/null',
  'true',
].join('\n');

export const SNAPSHOT_ARGV: readonly string[] = ['sh', '-c', SNAPSHOT_SCRIPT];

/** Route flags that say how the route is now (its link is down, its next hop dead), not what it is. */
const STATE_FLAGS = new Set(['linkdown', 'dead', 'offload', 'trap', 'rt_offload', 'rt_trap', 'rt_offload_failed']);

function json<T>(text: string | undefined): T[] {
  const t = text?.trim();
  if (!t) return [];
  const parsed = JSON.parse(t) as unknown;
  return Array.isArray(parsed) ? (parsed as T[]) : [];
}

interface RawLink {
  ifname: string;
  flags?: string[];
  mtu: number;
  master?: string;
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string; info_slave_data?: { hairpin?: boolean } };
}

interface RawAddr {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string; broadcast?: string; label?: string }[];
}

/** What `ip -j route` prints: flags may be absent. */
type RawRoute = Omit<RouteEntry, 'flags'> & { flags?: string[] };

interface RawFdb {
  mac: string;
  ifname: string;
  dst?: string;
  master?: string;
  flags?: string[];
  state?: string;
  vlan?: number;
}

function parseLinks(text: string | undefined): Record<string, LinkState> {
  const out: Record<string, LinkState> = {};
  for (const l of json<RawLink>(text)) {
    const link: LinkState = { ifname: l.ifname, up: (l.flags ?? []).includes('UP'), mtu: l.mtu };
    if (l.master) link.master = l.master;
    if (l.address) link.address = l.address;
    if (l.linkinfo?.info_kind) link.kind = l.linkinfo.info_kind;
    if (l.linkinfo?.info_kind === 'vxlan' && l.linkinfo.info_data) link.vxlan = l.linkinfo.info_data;
    if (l.linkinfo?.info_slave_kind === 'bridge' && typeof l.linkinfo.info_slave_data?.hairpin === 'boolean') link.hairpin = l.linkinfo.info_slave_data.hairpin;
    out[l.ifname] = link;
  }
  return out;
}

function parseAddrs(text: string | undefined): AddrEntry[] {
  return json<RawAddr>(text).flatMap((l) =>
    (l.addr_info ?? [])
      .filter((a) => a.family === 'inet')
      .map((a) => ({
        ifname: l.ifname,
        local: a.local,
        prefixlen: a.prefixlen,
        ...(a.scope ? { scope: a.scope } : {}),
        ...(a.broadcast ? { broadcast: a.broadcast } : {}),
        ...(a.label && a.label !== l.ifname ? { label: a.label } : {}),
      })),
  );
}

export function normalizeRoute(r: RawRoute): RouteEntry {
  return {
    ...(r.type && r.type !== 'unicast' ? { type: r.type } : {}),
    dst: r.dst,
    ...(r.gateway ? { gateway: r.gateway } : {}),
    ...(r.dev ? { dev: r.dev } : {}),
    ...(r.protocol && r.protocol !== 'boot' ? { protocol: String(r.protocol) } : {}),
    ...(r.scope && r.scope !== 'global' ? { scope: r.scope } : {}),
    ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
    ...(r.metric ? { metric: r.metric } : {}),
    flags: (r.flags ?? []).filter((f) => !STATE_FLAGS.has(f)).sort(),
  };
}

function parseFdb(text: string | undefined): FdbEntry[] {
  return json<RawFdb>(text)
    .filter((f) => f.state === 'permanent' || f.state === 'static')
    .map((f) => ({
      mac: f.mac.toLowerCase(),
      ifname: f.ifname,
      ...(f.dst ? { dst: f.dst } : {}),
      ...(f.master ? { master: f.master } : {}),
      self: (f.flags ?? []).includes('self'),
      state: f.state!,
      ...(f.vlan !== undefined ? { vlan: f.vlan } : {}),
    }));
}

function parseQdiscs(text: string | undefined): QdiscEntry[] {
  return json<{ dev: string; kind: string; handle: string; root?: boolean; parent?: string; options?: unknown }>(text).map((q) => ({
    dev: q.dev,
    kind: q.kind,
    handle: q.handle,
    root: Boolean(q.root),
    ...(q.parent ? { parent: q.parent } : {}),
    options: q.options ?? {},
  }));
}

function parseSysctl(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const m = /^\/proc\/sys\/(net\/(?:ipv4|bridge)\/[^:]+):(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** Pure: the snapshot script's output → the state. */
export function parseSnapshot(text: string): NetnsState {
  const parts: Partial<Record<Section, string>> = {};
  const pieces = text.split(/^@@(\w+)$/m);
  for (let i = 1; i < pieces.length; i += 2) parts[pieces[i] as Section] = pieces[i + 1];
  return {
    links: parseLinks(parts.links),
    addrs: parseAddrs(parts.addrs),
    routes: json<RawRoute>(parts.routes).map(normalizeRoute),
    neighbours: json<{ dst: string; dev: string; lladdr?: string }>(parts.neigh).map((n) => ({ dst: n.dst, dev: n.dev, ...(n.lladdr ? { lladdr: n.lladdr.toLowerCase() } : {}) })),
    fdb: parseFdb(parts.fdb),
    qdiscs: parseQdiscs(parts.qdisc),
    iptables: parseSave(parts.iptables ?? ''),
    ebtables: parseSave(parts.ebtables ?? ''),
    sysctl: parseSysctl(parts.sysctl),
    nft: normalizeNftTable(parts.nft ?? ''),
  };
}

/** A table as `nft list` prints it, without rule handles and with trailing space gone: the same
 * rules read the same however often they were loaded. */
export function normalizeNftTable(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s*# handle \d+$/, '').trimEnd())
    .filter((l) => l.trim() !== '')
    .join('\n');
}

export async function snapshot(runtime: ContainerRuntime, ns: Namespace, signal?: AbortSignal): Promise<NetnsState> {
  const r = await runtime.exec(ns.container, inNamespace(ns, SNAPSHOT_ARGV), signal ? { signal } : {});
  if (r.exitCode !== 0 || !r.stdout.includes('@@links')) {
    throw environmentError(`reading the kernel state of ${namespaceKey(ns)} failed: ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.exitCode}`}`, 'is the node running? `overlab inspect <lab>` shows the lab');
  }
  try {
    return parseSnapshot(r.stdout);
  } catch (error) {
    throw environmentError(`the kernel state of ${namespaceKey(ns)} could not be read: ${(error as Error).message}`);
  }
}

export async function snapshotAll(runtime: ContainerRuntime, namespaces: readonly Namespace[], signal?: AbortSignal): Promise<Map<string, NetnsState>> {
  const states = await Promise.all(namespaces.map((ns) => snapshot(runtime, ns, signal)));
  return new Map(namespaces.map((ns, i) => [namespaceKey(ns), states[i]!]));
}
