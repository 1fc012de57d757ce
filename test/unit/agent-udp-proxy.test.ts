// The udp backend's native data path (native/udp-proxy.c, driven through backend/udp-proxy.ts)
// checked against the TypeScript spec (backend/udp-forward.ts) on loopback sockets. The "TUN" is a
// connected loopback UDP socket (datagram boundaries like a TUN's packets) handed to the proxy as
// its fd 3. Skipped when dist/native/udp-proxy is not built (scripts/build-native.sh).
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpProxy, parseProxyStats } from '../../src/agent/backend/udp-proxy.js';
import { type Endpoint, type ForwardContext, decideTunPacket, decideUdpPacket } from '../../src/agent/backend/udp-forward.js';
import { parseNet, parseIp } from '../../src/shared/ipv4.js';
import type { Logger } from '../../src/agent/log.js';
import { SubnetTable, fixIpv4Checksum, internetChecksum } from '../../src/agent/packet.js';

const BIN = join(__dirname, '..', '..', 'dist', 'native', 'udp-proxy');

function echo(dst: string, ttl = 64, src = '10.244.1.2'): Uint8Array {
  const p = new Uint8Array(84);
  p[0] = 0x45;
  p[3] = 84;
  p[4] = 0x12;
  p[5] = 0x34;
  p[8] = ttl;
  p[9] = 1;
  const s = parseIp(src);
  const d = parseIp(dst);
  p.set([s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255], 12);
  p.set([d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255], 16);
  p[20] = 8;
  for (let i = 28; i < 84; i++) p[i] = i;
  const c = internetChecksum(p, 20, 64);
  p[22] = c >> 8;
  p[23] = c & 255;
  fixIpv4Checksum(p);
  return p;
}

const logs: string[] = [];
const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => undefined } as unknown as Logger;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function sock(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  cleanup.push(() => s.close());
  return s;
}

/** Collects datagrams; next() resolves with the next one (or null after `ms`). */
function inbox(s: dgram.Socket): (ms?: number) => Promise<Buffer | null> {
  const q: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | null = null;
  s.on('message', (m: Buffer) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(m);
    } else q.push(m);
  });
  return (ms = 1000) => {
    const b = q.shift();
    if (b) return Promise.resolve(b);
    return new Promise((r) => {
      const t = setTimeout(() => {
        waiter = null;
        r(null);
      }, ms);
      waiter = (m) => {
        clearTimeout(t);
        r(m);
      };
    });
  };
}

describe('parseProxyStats', () => {
  it('reads the counters and ignores unknown names', () => {
    const s = parseProxyStats('stats tunToUdp 5 udpToTun 7 unknownSubnetDrops 1 peers 3 weird x');
    expect(s).toMatchObject({ tunToUdp: 5, udpToTun: 7, unknownSubnetDrops: 1, ttlDrops: 0 });
    expect(parseProxyStats('ok')).toBeNull();
  });
});

describe.skipIf(!existsSync(BIN))('udp-proxy (native data path)', () => {
  it('forwards and answers exactly like udp-forward.ts', async () => {
    const tunSide = await sock(); // the proxy's "TUN" (fd 3)
    const kernel = await sock(); // plays the kernel behind the TUN
    const peer = await sock(); // the other host's proxy
    const port = (s: dgram.Socket): number => (s.address() as AddressInfo).port;
    tunSide.connect(port(kernel), '127.0.0.1');
    await new Promise((r) => tunSide.once('connect', r));
    // the socket's libuv handle (dgram's internal state, as udp-socket.ts finds it)
    const sym = Object.getOwnPropertySymbols(tunSide).find((x) => x.description === 'state symbol') as symbol;
    const h = (tunSide as unknown as Record<symbol, { handle: { fd: number; recvStop(): number } }>)[sym]!.handle;
    h.recvStop(); // only the proxy reads it
    const fromTun = inbox(kernel);
    const atPeer = inbox(peer);
    // a free port for the proxy's own socket
    const probe = await sock();
    const proxyPort = port(probe);
    probe.close();
    cleanup.pop();

    const proxy = await UdpProxy.start({ path: BIN, tunFd: h.fd, bindIp: '127.0.0.1', port: proxyPort, log, onExit: () => undefined });
    cleanup.push(() => proxy.stop());
    expect(proxy.pid).toBeGreaterThan(0);
    expect(await proxy.command('net 10.244.0.0/16 own 10.244.1.0/24')).toBe('ok');
    expect(await proxy.command(`add 10.244.2.0/24 127.0.0.1 ${port(peer)}`)).toBe('ok');
    await expect(proxy.command('add nonsense')).rejects.toThrow(/usage/);

    const table = new SubnetTable<Endpoint>();
    table.set(parseNet('10.244.2.0/24'), { address: '127.0.0.1', port: port(peer) });
    const ctx: ForwardContext = { network: parseNet('10.244.0.0/16'), self: parseNet('10.244.1.0/24'), selfAddr: parseIp('10.244.1.0'), table };
    const toTun = (p: Uint8Array): Promise<void> => new Promise((r) => kernel.send(p, port(tunSide), '127.0.0.1', () => r()));

    // TUN -> UDP, known subnet: the bytes unchanged at the peer
    const p1 = echo('10.244.2.2');
    expect(decideTunPacket(ctx, p1)).toMatchObject({ action: 'send' });
    await toTun(p1);
    expect(Buffer.from((await atPeer()) ?? [])).toEqual(Buffer.from(p1));

    // TUN -> UDP, unknown subnet: net unreachable from 10.244.1.0, byte for byte the spec's
    const p2 = echo('10.244.99.9');
    const spec2 = decideTunPacket(ctx, p2);
    expect(spec2.action).toBe('reply');
    await toTun(p2);
    expect(Buffer.from((await fromTun()) ?? [])).toEqual(Buffer.from((spec2 as { packet: Uint8Array }).packet));

    // outside the network / own subnet: dropped silently
    await toTun(echo('8.8.8.8'));
    await toTun(echo('10.244.1.7'));

    // UDP -> TUN: TTL - 1 and checksum, as decideUdpPacket mutates it
    const p3 = echo('10.244.1.2', 64, '10.244.2.2');
    await new Promise<void>((r) => peer.send(p3, proxyPort, '127.0.0.1', () => r()));
    const spec3 = Uint8Array.from(p3);
    expect(decideUdpPacket(ctx, spec3)).toEqual({ action: 'write' });
    expect(Buffer.from((await fromTun()) ?? [])).toEqual(Buffer.from(spec3));

    // UDP -> TUN at TTL 1: time exceeded from 10.244.1.0
    const p4 = echo('10.244.1.2', 1, '10.244.2.2');
    const spec4 = decideUdpPacket(ctx, Uint8Array.from(p4));
    expect(spec4.action).toBe('reply');
    await new Promise<void>((r) => peer.send(p4, proxyPort, '127.0.0.1', () => r()));
    expect(Buffer.from((await fromTun()) ?? [])).toEqual(Buffer.from((spec4 as { packet: Uint8Array }).packet));

    // after del, 10.244.2.x is unknown
    expect(await proxy.command('del 10.244.2.0/24')).toBe('ok');
    await toTun(echo('10.244.2.3'));
    expect((await fromTun())?.[20]).toBe(3);
    expect(await atPeer(200)).toBeNull();

    const s = await proxy.stats();
    expect(s).toMatchObject({ tunToUdp: 1, udpToTun: 1, unknownSubnetDrops: 2, netUnreachableSent: 2, ttlDrops: 1, otherDrops: 2, malformedDrops: 0 });

    // the proxy exits when its control channel closes
    await proxy.stop();
    expect(proxy.alive).toBe(false);
  });
});
