import { describe, expect, it } from 'vitest';
import { parseNet, parseIp } from '../../src/shared/ipv4.js';
import {
  SubnetTable,
  buildNetUnreachable,
  buildTimeExceeded,
  decrementTtl,
  fixIpv4Checksum,
  internetChecksum,
  ipv4ChecksumOk,
  ipv4Dst,
  ipv4Src,
  isIpv4,
} from '../../src/agent/packet.js';
import { decideTunPacket, decideUdpPacket, type Endpoint, type ForwardContext } from '../../src/agent/backend/udp-forward.js';

/** An ICMP echo request 10.244.1.2 -> dst with a correct header checksum. */
function echo(dst = '10.244.2.2', ttl = 64, src = '10.244.1.2'): Uint8Array {
  const p = new Uint8Array(84);
  p[0] = 0x45;
  p[2] = 0;
  p[3] = 84;
  p[4] = 0x12;
  p[5] = 0x34;
  p[6] = 0x40; // DF
  p[8] = ttl;
  p[9] = 1;
  const s = parseIp(src);
  const d = parseIp(dst);
  p.set([s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255], 12);
  p.set([d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255], 16);
  p[20] = 8; // echo request
  p.set([0, 7, 0, 1], 24); // id 7 seq 1
  for (let i = 28; i < 84; i++) p[i] = i;
  const c = internetChecksum(p, 20, 64);
  p[22] = c >> 8;
  p[23] = c & 255;
  fixIpv4Checksum(p);
  return p;
}

describe('IPv4 checksum', () => {
  it('matches the RFC 1071 worked example', () => {
    // classic example header from Wikipedia "IPv4 header checksum": checksum 0xb861
    const h = Uint8Array.from([0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]);
    expect(internetChecksum(h).toString(16)).toBe('b861');
    fixIpv4Checksum(h);
    expect(h[10]).toBe(0xb8);
    expect(h[11]).toBe(0x61);
    expect(ipv4ChecksumOk(h)).toBe(true);
  });
  it('handles odd lengths', () => {
    expect(internetChecksum(Uint8Array.from([0x01]))).toBe(0xfeff);
  });
});

describe('TTL decrement', () => {
  it('decrements and keeps the checksum valid', () => {
    const p = echo('10.244.2.2', 64);
    expect(decrementTtl(p)).toBe(true);
    expect(p[8]).toBe(63);
    expect(ipv4ChecksumOk(p)).toBe(true);
    // same result as the RFC 1624 incremental update: checksum + 0x0100
    const q = echo('10.244.2.2', 64);
    const before = ((q[10] as number) << 8) | (q[11] as number);
    decrementTtl(q);
    const after = ((q[10] as number) << 8) | (q[11] as number);
    let inc = before + 0x0100;
    inc = (inc & 0xffff) + (inc >>> 16);
    expect(after).toBe(inc);
  });
  it('refuses TTL <= 1 and leaves the packet alone', () => {
    for (const ttl of [0, 1]) {
      const p = echo('10.244.2.2', ttl);
      const copy = Uint8Array.from(p);
      expect(decrementTtl(p)).toBe(false);
      expect(p).toEqual(copy);
    }
    const p2 = echo('10.244.2.2', 2);
    expect(decrementTtl(p2)).toBe(true);
    expect(p2[8]).toBe(1);
  });
});

describe('ICMP errors', () => {
  it('builds destination net unreachable like flannel (type 3 code 0, quoting header + 8 bytes)', () => {
    const orig = echo('10.244.77.2');
    const r = buildNetUnreachable(orig, parseIp('10.244.1.0'));
    expect(r.length).toBe(20 + 8 + 28);
    expect(isIpv4(r)).toBe(true);
    expect(ipv4ChecksumOk(r)).toBe(true);
    expect(r[9]).toBe(1);
    expect(ipv4Src(r)).toBe(parseIp('10.244.1.0'));
    expect(ipv4Dst(r)).toBe(parseIp('10.244.1.2'));
    expect(r[20]).toBe(3);
    expect(r[21]).toBe(0);
    expect(internetChecksum(r, 20, r.length - 20)).toBe(0);
    expect(Array.from(r.subarray(28))).toEqual(Array.from(orig.subarray(0, 28)));
  });
  it('builds time exceeded (type 11 code 0)', () => {
    const r = buildTimeExceeded(echo('10.244.2.2', 1), parseIp('10.244.2.0'));
    expect(r[20]).toBe(11);
    expect(r[21]).toBe(0);
    expect(internetChecksum(r, 20, r.length - 20)).toBe(0);
  });
});

describe('subnet lookup', () => {
  it('finds the owner of a destination', () => {
    const t = new SubnetTable<string>();
    t.set(parseNet('10.244.2.0/24'), 'host2');
    t.set(parseNet('10.244.3.0/24'), 'host3');
    expect(t.lookup(parseIp('10.244.2.77'))).toBe('host2');
    expect(t.lookup(parseIp('10.244.3.255'))).toBe('host3');
    expect(t.lookup(parseIp('10.244.4.1'))).toBeUndefined();
    t.set(parseNet('10.244.3.128/25'), 'longer');
    expect(t.lookup(parseIp('10.244.3.200'))).toBe('longer');
    expect(t.lookup(parseIp('10.244.3.1'))).toBe('host3');
    expect(t.delete(parseNet('10.244.2.0/24'))).toBe(true);
    expect(t.lookup(parseIp('10.244.2.77'))).toBeUndefined();
    expect(t.size).toBe(2);
  });
});

describe('udp forwarding decisions', () => {
  const table = new SubnetTable<Endpoint>();
  table.set(parseNet('10.244.2.0/24'), { address: '192.168.50.3', port: 8285 });
  const ctx: ForwardContext = { network: parseNet('10.244.0.0/16'), self: parseNet('10.244.1.0/24'), selfAddr: parseIp('10.244.1.0'), table };

  it('TUN -> UDP: known subnet goes to its owner on 8285', () => {
    expect(decideTunPacket(ctx, echo('10.244.2.2'))).toEqual({ action: 'send', to: { address: '192.168.50.3', port: 8285 } });
  });
  it('TUN -> UDP: unknown subnet inside the network is answered with net unreachable from <subnet>.0', () => {
    const d = decideTunPacket(ctx, echo('10.244.77.2'));
    expect(d.action).toBe('reply');
    if (d.action !== 'reply') return;
    expect(ipv4Src(d.packet)).toBe(parseIp('10.244.1.0'));
    expect(d.packet[20]).toBe(3);
    // but never an ICMP error about an ICMP error
    const err = buildNetUnreachable(echo('10.244.1.2', 64, '10.244.88.1'), parseIp('10.244.1.0'));
    const e2 = Uint8Array.from(err);
    e2.set([10, 244, 77, 9], 16);
    fixIpv4Checksum(e2);
    expect(decideTunPacket(ctx, e2)).toEqual({ action: 'drop', reason: 'unknown-subnet' });
  });
  it('TUN -> UDP: garbage and out-of-network packets are dropped', () => {
    expect(decideTunPacket(ctx, new Uint8Array(10))).toEqual({ action: 'drop', reason: 'malformed' });
    const ipv6 = echo();
    ipv6[0] = 0x60;
    expect(decideTunPacket(ctx, ipv6)).toEqual({ action: 'drop', reason: 'malformed' });
    expect(decideTunPacket(ctx, echo('8.8.8.8'))).toEqual({ action: 'drop', reason: 'outside-network' });
  });
  it('UDP -> TUN: decrements TTL, fixes checksum; answers time exceeded at TTL 1', () => {
    const p = echo('10.244.1.2', 61, '10.244.2.2');
    expect(decideUdpPacket(ctx, p)).toEqual({ action: 'write' });
    expect(p[8]).toBe(60);
    expect(ipv4ChecksumOk(p)).toBe(true);
    const q = echo('10.244.1.2', 1, '10.244.2.2');
    const d = decideUdpPacket(ctx, q);
    expect(d.action).toBe('reply');
    if (d.action === 'reply') {
      expect(d.packet[20]).toBe(11);
      expect(ipv4Dst(d.packet)).toBe(parseIp('10.244.2.2'));
    }
    expect(decideUdpPacket(ctx, echo('192.168.1.1', 64))).toEqual({ action: 'drop', reason: 'not-ours' });
  });
});
