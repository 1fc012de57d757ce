// Pure IPv4/ICMP helpers for the udp backend's userspace forwarder (what flannel's proxy.c does).

import { type Ip4Net, maskOf } from '../shared/ipv4.js';

export const IPPROTO_ICMP = 1;

/** RFC 1071 one's-complement sum over buf[off, off+len). */
export function internetChecksum(buf: Uint8Array, off = 0, len = buf.length - off): number {
  let sum = 0;
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (i < end) sum += (buf[i] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Minimal sanity check: IPv4, sane IHL and total length within the buffer. */
export function isIpv4(pkt: Uint8Array): boolean {
  if (pkt.length < 20) return false;
  const b0 = pkt[0] as number;
  if (b0 >> 4 !== 4) return false;
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < 20 || ihl > pkt.length) return false;
  const total = ((pkt[2] as number) << 8) | (pkt[3] as number);
  return total >= ihl && total <= pkt.length;
}

export function ipv4HeaderLength(pkt: Uint8Array): number {
  return ((pkt[0] as number) & 0x0f) * 4;
}

export function ipv4Src(pkt: Uint8Array): number {
  return (((pkt[12] as number) << 24) | ((pkt[13] as number) << 16) | ((pkt[14] as number) << 8) | (pkt[15] as number)) >>> 0;
}

export function ipv4Dst(pkt: Uint8Array): number {
  return (((pkt[16] as number) << 24) | ((pkt[17] as number) << 16) | ((pkt[18] as number) << 8) | (pkt[19] as number)) >>> 0;
}

/** Recomputes the IPv4 header checksum in place. */
export function fixIpv4Checksum(pkt: Uint8Array): void {
  pkt[10] = 0;
  pkt[11] = 0;
  const c = internetChecksum(pkt, 0, ipv4HeaderLength(pkt));
  pkt[10] = c >> 8;
  pkt[11] = c & 0xff;
}

export function ipv4ChecksumOk(pkt: Uint8Array): boolean {
  return internetChecksum(pkt, 0, ipv4HeaderLength(pkt)) === 0;
}

/**
 * Decrements the TTL in place and fixes the header checksum. Returns false (packet must be
 * dropped, left unmodified) when the TTL is <= 1, as a router would.
 */
export function decrementTtl(pkt: Uint8Array): boolean {
  const ttl = pkt[8] as number;
  if (ttl <= 1) return false;
  pkt[8] = ttl - 1;
  fixIpv4Checksum(pkt);
  return true;
}

function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/**
 * Builds an ICMP error (type/code) about `original`, from `src`, back to the original sender:
 * IPv4 header (TTL 64, id 0) + ICMP header + the original IP header and first 8 data bytes
 * (RFC 792). Defaults to destination net unreachable (type 3 code 0), as flannel's proxy sends
 * for a destination in no known subnet.
 */
export function buildIcmpError(original: Uint8Array, src: number, type = 3, code = 0, ttl = 64): Uint8Array {
  const ihl = ipv4HeaderLength(original);
  const total = ((original[2] as number) << 8) | (original[3] as number);
  const quoteLen = Math.min(ihl + 8, total, original.length);
  const len = 20 + 8 + quoteLen;
  const out = new Uint8Array(len);
  out[0] = 0x45;
  out[1] = 0;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  // id 0, flags/frag 0
  out[8] = ttl;
  out[9] = IPPROTO_ICMP;
  writeU32(out, 12, src);
  writeU32(out, 16, ipv4Src(original));
  fixIpv4Checksum(out);
  out[20] = type;
  out[21] = code;
  // bytes 24..27: unused (0)
  out.set(original.subarray(0, quoteLen), 28);
  const c = internetChecksum(out, 20, len - 20);
  out[22] = c >> 8;
  out[23] = c & 0xff;
  return out;
}

export function buildNetUnreachable(original: Uint8Array, src: number): Uint8Array {
  return buildIcmpError(original, src, 3, 0);
}

export function buildTimeExceeded(original: Uint8Array, src: number): Uint8Array {
  return buildIcmpError(original, src, 11, 0);
}

/** Never answer an ICMP error with an ICMP error (RFC 1122). */
export function isIcmpError(pkt: Uint8Array): boolean {
  if (pkt[9] !== IPPROTO_ICMP) return false;
  const ihl = ipv4HeaderLength(pkt);
  const t = pkt[ihl];
  return t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}

export interface SubnetRoute<T> {
  subnet: Ip4Net;
  value: T;
}

/**
 * Longest-prefix lookup of a destination address among lease subnets: one Map per prefix length,
 * so a lookup costs one mask + one Map.get per distinct length (normally just one).
 */
export class SubnetTable<T> {
  private byLen = new Map<number, Map<number, T>>();
  private lens: number[] = [];

  set(subnet: Ip4Net, value: T): void {
    let m = this.byLen.get(subnet.prefixLen);
    if (!m) {
      m = new Map();
      this.byLen.set(subnet.prefixLen, m);
      this.lens = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    m.set(subnet.ip >>> 0, value);
  }

  delete(subnet: Ip4Net): boolean {
    const m = this.byLen.get(subnet.prefixLen);
    if (!m) return false;
    const ok = m.delete(subnet.ip >>> 0);
    if (m.size === 0) {
      this.byLen.delete(subnet.prefixLen);
      this.lens = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    return ok;
  }

  clear(): void {
    this.byLen.clear();
    this.lens = [];
  }

  lookup(ip: number): T | undefined {
    for (const len of this.lens) {
      const v = this.byLen.get(len)?.get((ip & maskOf(len)) >>> 0);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byLen.values()) n += m.size;
    return n;
  }

  entries(): SubnetRoute<T>[] {
    const out: SubnetRoute<T>[] = [];
    for (const [len, m] of this.byLen) for (const [ip, value] of m) out.push({ subnet: { ip, prefixLen: len }, value });
    return out.sort((a, b) => a.subnet.ip - b.subnet.ip || a.subnet.prefixLen - b.subnet.prefixLen);
  }
}
