// flannel's etcd data model: the network config at <prefix>/config and the subnet leases at
// <prefix>/subnets/<a.b.c.d-len>. Pure: encoding, decoding, validation and subnet allocation.

import {
  type Ip4Net,
  compareNets,
  formatNet,
  isIp,
  maskOf,
  netContainsNet,
  netSize,
  parseNet,
  parseSubnetKey,
  subnetKey,
} from './ipv4.js';

export type BackendType = 'vxlan' | 'udp' | 'host-gw';
export const BACKEND_TYPES: readonly BackendType[] = ['vxlan', 'udp', 'host-gw'];

export const DEFAULT_VXLAN_PORT = 8472;
export const DEFAULT_UDP_PORT = 8285;
export const DEFAULT_VNI = 1;

export interface BackendConfig {
  type: BackendType;
  /** vxlan only. */
  vni: number;
  /** vxlan: UDP destination port (8472); udp: the agent's UDP port (8285); host-gw: 0. */
  port: number;
}

export interface NetworkConfig {
  network: Ip4Net;
  subnetLen: number;
  subnetMin: Ip4Net;
  subnetMax: Ip4Net;
  backend: BackendConfig;
}

/** The JSON as flannel stores it at <prefix>/config. */
export interface NetworkConfigJson {
  Network: string;
  SubnetLen?: number;
  SubnetMin?: string;
  SubnetMax?: string;
  Backend?: { Type?: string; VNI?: number; Port?: number; [k: string]: unknown };
  [k: string]: unknown;
}

export class NetworkConfigError extends Error {}

/** Parses and validates the network config, applying flannel's defaults. */
export function parseNetworkConfig(text: string | NetworkConfigJson): NetworkConfig {
  let j: unknown;
  if (typeof text === 'string') {
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new NetworkConfigError(`network config is not JSON: ${(e as Error).message}`);
    }
  } else {
    j = text;
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new NetworkConfigError('network config must be a JSON object');
  const o = j as NetworkConfigJson;
  if (typeof o.Network !== 'string') throw new NetworkConfigError('network config: "Network" (e.g. "10.244.0.0/16") is required');
  let network: Ip4Net;
  try {
    network = parseNet(o.Network, false);
  } catch (e) {
    throw new NetworkConfigError(`network config: Network: ${(e as Error).message}`);
  }
  network = { ip: (network.ip & maskOf(network.prefixLen)) >>> 0, prefixLen: network.prefixLen };
  let subnetLen = o.SubnetLen;
  if (subnetLen === undefined) subnetLen = network.prefixLen < 24 ? 24 : network.prefixLen + 1; // flannel's default
  if (!Number.isInteger(subnetLen) || subnetLen <= network.prefixLen || subnetLen > 30) {
    throw new NetworkConfigError(`network config: SubnetLen ${String(subnetLen)} must be an integer in (${network.prefixLen}, 30]`);
  }
  const step = 2 ** (32 - subnetLen);
  const defMin: Ip4Net = { ip: (network.ip + step) >>> 0, prefixLen: subnetLen };
  const defMax: Ip4Net = { ip: (network.ip + netSize(network) - step) >>> 0, prefixLen: subnetLen };
  const bound = (v: unknown, name: string, def: Ip4Net): Ip4Net => {
    if (v === undefined) return def;
    if (typeof v !== 'string' || !isIp(v)) throw new NetworkConfigError(`network config: ${name} must be an IPv4 address`);
    const n = parseNet(`${v}/${subnetLen}`, false);
    if (!netContainsNet(network, n)) throw new NetworkConfigError(`network config: ${name} ${v} is outside ${formatNet(network)}`);
    return n;
  };
  const subnetMin = bound(o.SubnetMin, 'SubnetMin', defMin);
  const subnetMax = bound(o.SubnetMax, 'SubnetMax', defMax);
  if (subnetMin.ip > subnetMax.ip) throw new NetworkConfigError('network config: SubnetMin is above SubnetMax');

  const b = o.Backend ?? {};
  if (typeof b !== 'object' || b === null) throw new NetworkConfigError('network config: Backend must be an object');
  const type = (b.Type ?? 'udp') as string; // flannel's default backend is udp
  if (!(BACKEND_TYPES as readonly string[]).includes(type)) {
    throw new NetworkConfigError(`network config: Backend.Type ${JSON.stringify(type)} is not one of ${BACKEND_TYPES.join(', ')}`);
  }
  const vni = b.VNI ?? DEFAULT_VNI;
  if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw new NetworkConfigError(`network config: Backend.VNI ${String(vni)} must be 0..16777215`);
  const port = b.Port ?? (type === 'vxlan' ? DEFAULT_VXLAN_PORT : type === 'udp' ? DEFAULT_UDP_PORT : 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new NetworkConfigError(`network config: Backend.Port ${String(port)} must be 0..65535`);
  return { network, subnetLen, subnetMin, subnetMax, backend: { type: type as BackendType, vni, port } };
}

/** Renders the flannel JSON for a network config (what the CLI writes to <prefix>/config). */
export function renderNetworkConfig(network: string, subnetLen: number, backend: BackendType, opts: { vni?: number; port?: number } = {}): string {
  const Backend: Record<string, unknown> = { Type: backend };
  if (backend === 'vxlan') {
    Backend.VNI = opts.vni ?? DEFAULT_VNI;
    Backend.Port = opts.port ?? DEFAULT_VXLAN_PORT;
  } else if (backend === 'udp') {
    Backend.Port = opts.port ?? DEFAULT_UDP_PORT;
  }
  return JSON.stringify({ Network: network, SubnetLen: subnetLen, Backend });
}

// ---------------------------------------------------------------------------------------------
// Leases

export interface LeaseValueJson {
  PublicIP: string;
  BackendType: string;
  BackendData?: Record<string, unknown> | null;
}

export interface Lease {
  subnet: Ip4Net;
  publicIp: string;
  backendType: string;
  /** vxlan: { VNI, VtepMAC }. Empty object when absent. */
  backendData: Record<string, unknown>;
}

/** A lease as read from etcd: adds etcd's bookkeeping. */
export interface StoredLease extends Lease {
  key: string;
  /** etcd lease id ("0" when the key has none). int64 as a decimal string. */
  etcdLease: string;
  modRevision: number;
}

export function leaseKey(prefix: string, subnet: Ip4Net): string {
  return `${trimPrefix(prefix)}/subnets/${subnetKey(subnet)}`;
}

export function subnetsPrefix(prefix: string): string {
  return `${trimPrefix(prefix)}/subnets/`;
}

export function configKey(prefix: string): string {
  return `${trimPrefix(prefix)}/config`;
}

function trimPrefix(prefix: string): string {
  return prefix.replace(/\/+$/, '');
}

/** Extracts the subnet from a full lease key, or null when the key is not a lease key. */
export function subnetFromKey(prefix: string, key: string): Ip4Net | null {
  const p = subnetsPrefix(prefix);
  if (!key.startsWith(p)) return null;
  return parseSubnetKey(key.slice(p.length));
}

/** The value flannel stores: {"PublicIP":…,"BackendType":…,"BackendData":{…}} (BackendData omitted when empty). */
export function encodeLeaseValue(l: Pick<Lease, 'publicIp' | 'backendType' | 'backendData'>): string {
  const v: LeaseValueJson = { PublicIP: l.publicIp, BackendType: l.backendType };
  if (l.backendData && Object.keys(l.backendData).length > 0) v.BackendData = l.backendData;
  return JSON.stringify(v);
}

export class LeaseDecodeError extends Error {}

export function decodeLeaseValue(subnet: Ip4Net, value: string): Lease {
  let j: unknown;
  try {
    j = JSON.parse(value);
  } catch {
    throw new LeaseDecodeError(`lease ${formatNet(subnet)}: value is not JSON`);
  }
  if (typeof j !== 'object' || j === null) throw new LeaseDecodeError(`lease ${formatNet(subnet)}: value is not an object`);
  const o = j as Partial<LeaseValueJson>;
  if (typeof o.PublicIP !== 'string' || !isIp(o.PublicIP)) throw new LeaseDecodeError(`lease ${formatNet(subnet)}: bad PublicIP`);
  const backendType = typeof o.BackendType === 'string' && o.BackendType !== '' ? o.BackendType : 'udp';
  const bd = o.BackendData;
  const backendData = typeof bd === 'object' && bd !== null && !Array.isArray(bd) ? (bd as Record<string, unknown>) : {};
  return { subnet, publicIp: o.PublicIP, backendType, backendData };
}

// ---------------------------------------------------------------------------------------------
// Allocation

/**
 * Picks the first free subnet of the network in order (SubnetMin..SubnetMax inclusive), or the
 * preferred one when it is valid and free. Returns null when the network is full.
 */
export function allocateSubnet(cfg: NetworkConfig, taken: Iterable<Ip4Net>, preferred?: Ip4Net | null): Ip4Net | null {
  const used = new Set<number>();
  for (const t of taken) if (t.prefixLen === cfg.subnetLen) used.add(t.ip);
  if (preferred && isValidLeaseSubnet(cfg, preferred) && !used.has(preferred.ip)) return preferred;
  const step = 2 ** (32 - cfg.subnetLen);
  for (let ip = cfg.subnetMin.ip; ip <= cfg.subnetMax.ip; ip += step) {
    if (!used.has(ip)) return { ip: ip >>> 0, prefixLen: cfg.subnetLen };
  }
  return null;
}

/** A subnet a lease may hold: the configured length, inside the network, within Min..Max. */
export function isValidLeaseSubnet(cfg: NetworkConfig, n: Ip4Net): boolean {
  return n.prefixLen === cfg.subnetLen && netContainsNet(cfg.network, n) && n.ip >= cfg.subnetMin.ip && n.ip <= cfg.subnetMax.ip;
}

/**
 * The lease this host already holds (restart case): same PublicIP, valid subnet; the preferred
 * subnet (from the previous subnet.env) first, else the lowest.
 */
export function findOwnLease<T extends Lease>(cfg: NetworkConfig, leases: readonly T[], publicIp: string, preferred?: Ip4Net | null): T | undefined {
  const rank = (l: T): number => (preferred && l.subnet.ip === preferred.ip && l.subnet.prefixLen === preferred.prefixLen ? 0 : 1);
  return [...leases]
    .filter((l) => l.publicIp === publicIp && isValidLeaseSubnet(cfg, l.subnet))
    .sort((a, b) => rank(a) - rank(b) || compareNets(a.subnet, b.subnet))[0];
}
