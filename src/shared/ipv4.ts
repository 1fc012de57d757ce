// The one IPv4 module: the CLI, the agent and the CNI plugin all import it. Addresses are unsigned
// 32-bit integers (0 .. 2^32-1). Two families of helpers, for two kinds of input:
//   - what a person wrote (a spec, a flag): strict dotted quads with no leading zeros ("010.1.1.1"
//     is rejected because tools disagree on whether it is octal), `undefined` when it is not one
//     (parseIpv4, parseCidr → Cidr);
//   - what a program wrote (etcd leases, the agent's config, the kernel's JSON): throwing parsers
//     and the network form flannel uses (parseIp, parseNet → Ip4Net, subnet keys).

/** An IPv4 network: `network` has no host bits set. */
export interface Cidr {
  network: number;
  prefix: number; // 0..32
}

const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const PREFIX = /^(?:0|[1-9][0-9]?)$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/** Parses a dotted-quad IPv4 address; undefined when it is not one. */
export function parseIpv4(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function isValidIpv4(s: string): boolean {
  return parseIpv4(s) !== undefined;
}

/** "aa:bb:cc:dd:ee:ff" (either case). */
export function isValidMac(s: string): boolean {
  return typeof s === 'string' && MAC.test(s);
}

/** Dotted quad → unsigned 32-bit integer. Throws on invalid input (check with isValidIpv4 first). */
export function ipToInt(ip: string): number {
  const n = parseIpv4(ip);
  if (n === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return n;
}

/** Unsigned 32-bit integer → dotted quad. Throws when n is not an integer in 0..2^32-1. */
export function intToIp(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`not an IPv4 address value: ${n}`);
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** Netmask of a prefix length as an unsigned integer: 24 → 0xffffff00. */
export function prefixMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`bad prefix length: ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Number of addresses in a prefix: 24 → 256. */
export function prefixSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** Splits "a.b.c.d/n" without requiring host bits to be zero. undefined on bad syntax. */
export function parseCidrParts(s: string): { ip: number; prefix: number } | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0 || slash !== s.lastIndexOf('/')) return undefined;
  const ip = parseIpv4(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (ip === undefined || !PREFIX.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > 32) return undefined;
  return { ip, prefix };
}

/** Parses "a.b.c.d/n" strictly: undefined on bad syntax AND when host bits are set ("172.16.1.5/16"). */
export function parseCidr(s: string): Cidr | undefined {
  const parts = parseCidrParts(s);
  if (!parts) return undefined;
  if ((parts.ip & ~prefixMask(parts.prefix)) >>> 0 !== 0) return undefined;
  return { network: parts.ip, prefix: parts.prefix };
}

export function isValidCidr(s: string): boolean {
  return parseCidr(s) !== undefined;
}

/** "172.16.1.5/16" → "172.16.0.0/16": the network the address belongs to. undefined on bad syntax. */
export function normalizeCidr(s: string): string | undefined {
  const parts = parseCidrParts(s);
  if (!parts) return undefined;
  return formatCidr({ network: (parts.ip & prefixMask(parts.prefix)) >>> 0, prefix: parts.prefix });
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
}

/** The network of `prefix` length that contains `ip`. */
export function cidrOf(ip: string | number, prefix: number): Cidr {
  const n = typeof ip === 'number' ? ip : ipToInt(ip);
  return { network: (n & prefixMask(prefix)) >>> 0, prefix };
}

/** Last address (the broadcast address) of a network. */
export function broadcastOf(c: Cidr | string): number {
  const cidr = toCidr(c);
  return (cidr.network + prefixSize(cidr.prefix) - 1) >>> 0;
}

function toCidr(c: Cidr | string): Cidr {
  if (typeof c !== 'string') return c;
  const parsed = parseCidr(c);
  if (!parsed) throw new Error(`not an IPv4 CIDR (or host bits set): ${JSON.stringify(c)}`);
  return parsed;
}

/**
 * Whether `outer` contains `inner`: an address (dotted quad or integer) or a whole network
 * (a "a.b.c.d/n" string or Cidr). Throws on malformed strings.
 */
export function cidrContains(outer: Cidr | string, inner: Cidr | string | number): boolean {
  const o = toCidr(outer);
  let i: Cidr;
  if (typeof inner === 'number') i = { network: inner >>> 0, prefix: 32 };
  else if (typeof inner === 'string' && !inner.includes('/')) i = { network: ipToInt(inner), prefix: 32 };
  else i = toCidr(inner);
  if (i.prefix < o.prefix) return false;
  return ((i.network & prefixMask(o.prefix)) >>> 0) === o.network;
}

/** Whether two networks share at least one address. Throws on malformed strings. */
export function cidrsOverlap(a: Cidr | string, b: Cidr | string): boolean {
  const x = toCidr(a);
  const y = toCidr(b);
  const p = Math.min(x.prefix, y.prefix);
  const m = prefixMask(p);
  return ((x.network & m) >>> 0) === ((y.network & m) >>> 0);
}

/** How many subnets of length `subnetLen` fit into a network of length `prefix` (0 when subnetLen < prefix). */
export function subnetCount(prefix: number, subnetLen: number): number {
  return subnetLen < prefix ? 0 : 2 ** (subnetLen - prefix);
}

// ---------------------------------------------------------------- networks as programs write them

export interface Ip4Net {
  /** Network address (host bits zero), unsigned 32-bit. */
  ip: number;
  prefixLen: number;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIp(s: string): number {
  const m = IPV4_RE.exec(s.trim());
  if (!m) throw new Error(`not an IPv4 address: ${JSON.stringify(s)}`);
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) throw new Error(`not an IPv4 address: ${JSON.stringify(s)}`);
    n = n * 256 + o;
  }
  return n >>> 0;
}

export function isIp(s: string): boolean {
  try {
    parseIp(s);
    return true;
  } catch {
    return false;
  }
}

export function formatIp(n: number): string {
  n = n >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function maskOf(prefixLen: number): number {
  if (prefixLen <= 0) return 0;
  return (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Parses "a.b.c.d/len". With strict=true the host bits must be zero. */
export function parseNet(s: string, strict = true): Ip4Net {
  const [addr, len, ...rest] = s.trim().split('/');
  if (addr === undefined || len === undefined || rest.length > 0 || !/^\d{1,2}$/.test(len)) {
    throw new Error(`not an IPv4 CIDR: ${JSON.stringify(s)}`);
  }
  const prefixLen = Number(len);
  if (prefixLen > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(s)}`);
  const ip = parseIp(addr);
  const net = (ip & maskOf(prefixLen)) >>> 0;
  if (strict && net !== ip) throw new Error(`CIDR ${s} has host bits set (network is ${formatIp(net)}/${prefixLen})`);
  return { ip: net, prefixLen };
}

export function formatNet(n: Ip4Net): string {
  return `${formatIp(n.ip)}/${n.prefixLen}`;
}

export function netContains(net: Ip4Net, ip: number): boolean {
  return ((ip & maskOf(net.prefixLen)) >>> 0) === net.ip;
}

/** True when `inner` lies entirely within `outer`. */
export function netContainsNet(outer: Ip4Net, inner: Ip4Net): boolean {
  return inner.prefixLen >= outer.prefixLen && netContains(outer, inner.ip);
}

export function netSize(n: Ip4Net): number {
  return 2 ** (32 - n.prefixLen);
}

/** The address `offset` inside the subnet (0 = network address, 1 = first host ...). */
export function netAddr(n: Ip4Net, offset: number): number {
  return (n.ip + offset) >>> 0;
}

/** flannel's subnet key form: 10.244.1.0/24 -> "10.244.1.0-24". */
export function subnetKey(n: Ip4Net): string {
  return `${formatIp(n.ip)}-${n.prefixLen}`;
}

/** Inverse of subnetKey; returns null for anything that is not a well-formed key. */
export function parseSubnetKey(s: string): Ip4Net | null {
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})-(\d{1,2})$/.exec(s);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  try {
    return parseNet(`${m[1]}/${m[2]}`, true);
  } catch {
    return null;
  }
}

export function compareNets(a: Ip4Net, b: Ip4Net): number {
  return a.ip - b.ip || a.prefixLen - b.prefixLen;
}
