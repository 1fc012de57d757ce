// Which leases read from etcd the agent programs. Pure. Everything under <prefix>/subnets/ is
// untrusted input from the network: a lease becomes a PeerLease (whose fields reach `ip`/`bridge`
// argv) only after every rule below held, with its values in canonical form.
//
// The rules, as flanneld applies them (and a few it leaves to the operator):
//   - the key is `<prefix>/subnets/<a.b.c.d>-<len>`, canonical, with no host bits set;
//   - the subnet is a SubnetLen subnet inside Network, overlapping neither this host's subnet nor
//     another accepted lease;
//   - PublicIP is an IPv4 unicast address on the underlay (when the underlay is known), outside
//     Network, and not this host's own address (that is a stale lease of this host);
//   - BackendType is the network's backend; vxlan: BackendData.VNI (when present) is the network's
//     VNI and BackendData.VtepMAC is a unicast MAC address.

import type { LeaseRejectionCode, RejectedLeaseStats } from '../shared/agent-stats.js';
import type { KeyValue } from './etcd/types.js';
import { type Ip4Net, compareNets, formatNet, formatIp, netContains, netContainsNet, parseIp, parseSubnetKey, subnetKey } from '../shared/ipv4.js';
import { type BackendType, type NetworkConfig, subnetsPrefix } from '../shared/flannel-lease.js';

declare const checked: unique symbol;

/** A peer's lease after every rule held: the only lease type the backends accept. */
export interface PeerLease {
  readonly key: string;
  readonly subnet: Ip4Net;
  /** Canonical dotted quad. */
  readonly publicIp: string;
  readonly backendType: BackendType;
  /** vxlan: the VTEP MAC, lower case, six colon-separated octets. */
  readonly vtepMac?: string;
  readonly modRevision: number;
  readonly [checked]: true;
}

export type RejectedLease = RejectedLeaseStats;

export interface LeaseRulesContext {
  prefix: string;
  net: NetworkConfig;
  /** The underlay's subnet; null when unknown (then only the unicast rules apply to PublicIP). */
  underlay: Ip4Net | null;
  /** A routed underlay's other segments: a PublicIP may lie in one of them instead. */
  otherSegments?: Ip4Net[];
  self: { key: string; subnet: Ip4Net; publicIp: string };
}

export interface LeaseVerdicts {
  /** Sorted by subnet. */
  accepted: PeerLease[];
  /** Sorted by key. */
  rejected: RejectedLease[];
}

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const IPV4_CANONICAL_RE = /^(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}$/;
const MAX_SHOWN = 120;

/** An untrusted value as it may appear in a reason: JSON-quoted, control characters escaped, cut short. */
export function shown(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  // JSON.stringify leaves U+2028/2029 and the C1 controls alone; escape them for a terminal too
  s = s.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
}

class Rejection extends Error {
  constructor(
    readonly code: LeaseRejectionCode,
    message: string,
  ) {
    super(message);
  }
}

function reject(code: LeaseRejectionCode, message: string): never {
  throw new Rejection(code, message);
}

/** A dotted quad in canonical form (no leading zeros, no spaces: `ip` reads 010 as octal). */
function canonicalIp(v: unknown, what: string): number {
  if (typeof v !== 'string' || !IPV4_CANONICAL_RE.test(v)) reject('public-ip', `${what} ${shown(v)} is not an IPv4 address`);
  try {
    return parseIp(v);
  } catch {
    return reject('public-ip', `${what} ${shown(v)} is not an IPv4 address`);
  }
}

function isUnicast(ip: number): boolean {
  const first = ip >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

function checkPublicIp(ctx: LeaseRulesContext, v: unknown): string {
  const ip = canonicalIp(v, 'PublicIP');
  const text = formatIp(ip);
  if (!isUnicast(ip)) reject('public-ip', `PublicIP ${text} is not a unicast address`);
  if (netContains(ctx.net.network, ip)) reject('public-ip', `PublicIP ${text} lies inside the flannel network ${formatNet(ctx.net.network)}`);
  const segments = ctx.underlay ? [ctx.underlay, ...(ctx.otherSegments ?? [])] : [];
  const u = segments.find((n) => netContains(n, ip)) ?? (segments.length ? null : ctx.underlay);
  if (segments.length && !u) reject('public-ip', `PublicIP ${text} is outside the underlay ${segments.map(formatNet).join(', ')}`);
  if (u) {
    const broadcast = (u.ip + 2 ** (32 - u.prefixLen) - 1) >>> 0;
    if (u.prefixLen < 31 && (ip === u.ip || ip === broadcast)) reject('public-ip', `PublicIP ${text} is the underlay's network or broadcast address`);
  }
  if (text === ctx.self.publicIp) reject('own-ip', `PublicIP ${text} is this host's own address (a stale lease of this host)`);
  return text;
}

function checkVtepMac(v: unknown): string {
  if (typeof v !== 'string' || !MAC_RE.test(v.toLowerCase())) reject('vtep-mac', `BackendData.VtepMAC ${shown(v)} is not a MAC address`);
  const mac = v.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) reject('vtep-mac', `BackendData.VtepMAC ${mac} is a multicast address`);
  if (mac === '00:00:00:00:00:00') reject('vtep-mac', 'BackendData.VtepMAC is all zeros');
  return mac;
}

/** One lease on its own (no overlap rule); throws a Rejection. */
function checkOne(ctx: LeaseRulesContext, kv: KeyValue): Omit<PeerLease, typeof checked> {
  const { net } = ctx;
  const p = subnetsPrefix(ctx.prefix);
  const tail = kv.key.startsWith(p) ? kv.key.slice(p.length) : '';
  const subnet = parseSubnetKey(tail);
  if (!subnet || subnetKey(subnet) !== tail) reject('key', `the key is not ${p}<a.b.c.d>-<len> (flannel's form)`);
  if (subnet.prefixLen !== net.subnetLen || !netContainsNet(net.network, subnet)) {
    reject('subnet', `subnet ${formatNet(subnet)} is not a /${net.subnetLen} subnet of ${formatNet(net.network)}`);
  }
  let j: unknown;
  try {
    j = JSON.parse(kv.value);
  } catch {
    reject('value', `value ${shown(kv.value)} is not JSON`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) reject('value', `value ${shown(kv.value)} is not a JSON object`);
  const o = j as Record<string, unknown>;
  const publicIp = checkPublicIp(ctx, o.PublicIP);
  const backendType = o.BackendType === undefined || o.BackendType === '' ? 'udp' : o.BackendType; // flannel's default
  if (backendType !== net.backend.type) reject('backend-type', `BackendType ${shown(backendType)} is not this network's ${net.backend.type}`);
  if (net.backend.type !== 'vxlan') return { key: kv.key, subnet, publicIp, backendType: net.backend.type, modRevision: kv.modRevision };
  const bd = o.BackendData;
  if (typeof bd !== 'object' || bd === null || Array.isArray(bd)) reject('vtep-mac', 'BackendData with the VtepMAC is missing');
  const data = bd as Record<string, unknown>;
  if (data.VNI !== undefined && data.VNI !== net.backend.vni) reject('vni', `BackendData.VNI ${shown(data.VNI)} is not this network's VNI ${net.backend.vni}`);
  const vtepMac = checkVtepMac(data.VtepMAC);
  return { key: kv.key, subnet, publicIp, backendType: 'vxlan', vtepMac, modRevision: kv.modRevision };
}

/**
 * Splits the key-values under <prefix>/subnets/ into accepted peers and rejected leases. This
 * host's own key is neither (the lease keeper looks after it). Deterministic: leases are judged in
 * subnet order, so of two overlapping leases the lower subnet wins.
 */
export function judgeLeases(ctx: LeaseRulesContext, kvs: Iterable<KeyValue>): LeaseVerdicts {
  const rejected: RejectedLease[] = [];
  const candidates: Omit<PeerLease, typeof checked>[] = [];
  for (const kv of kvs) {
    if (kv.key === ctx.self.key) continue;
    try {
      candidates.push(checkOne(ctx, kv));
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      rejected.push({ key: kv.key, code: e.code, reason: e.message, modRevision: kv.modRevision });
    }
  }
  candidates.sort((a, b) => compareNets(a.subnet, b.subnet) || (a.key < b.key ? -1 : 1));
  const accepted: PeerLease[] = [];
  const taken: { key: string; subnet: Ip4Net }[] = [{ key: ctx.self.key, subnet: ctx.self.subnet }];
  for (const c of candidates) {
    const clash = taken.find((t) => netContainsNet(t.subnet, c.subnet) || netContainsNet(c.subnet, t.subnet));
    if (clash) {
      const whose = clash.key === ctx.self.key ? "this host's subnet" : `the lease ${shown(clash.key)}`;
      rejected.push({ key: c.key, code: 'overlap', reason: `subnet ${formatNet(c.subnet)} overlaps ${whose} (${formatNet(clash.subnet)})`, modRevision: c.modRevision });
      continue;
    }
    taken.push(c);
    accepted.push(c as PeerLease);
  }
  rejected.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { accepted, rejected };
}
