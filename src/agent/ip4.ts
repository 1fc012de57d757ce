// IPv4 helpers shared by the agent's pure logic. Addresses are unsigned 32-bit numbers.

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
export function parseCidr(s: string, strict = true): Ip4Net {
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

export function formatCidr(n: Ip4Net): string {
  return `${formatIp(n.ip)}/${n.prefixLen}`;
}

export function netContains(net: Ip4Net, ip: number): boolean {
  return ((ip & maskOf(net.prefixLen)) >>> 0) === net.ip;
}

/** True when `inner` lies entirely within `outer`. */
export function netContainsNet(outer: Ip4Net, inner: Ip4Net): boolean {
  return inner.prefixLen >= outer.prefixLen && netContains(outer, inner.ip);
}

export function netEqual(a: Ip4Net, b: Ip4Net): boolean {
  return a.ip === b.ip && a.prefixLen === b.prefixLen;
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
    return parseCidr(`${m[1]}/${m[2]}`, true);
  } catch {
    return null;
  }
}

export function compareNets(a: Ip4Net, b: Ip4Net): number {
  return a.ip - b.ip || a.prefixLen - b.prefixLen;
}
