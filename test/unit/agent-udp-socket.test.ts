// The udp backend's raw UDP send/receive path (src/agent/backend/udp-socket.ts) on loopback sockets:
// it relies on Node's udp_wrap binding, so this checks that the binding still looks as expected.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FAILED, QUEUED, SENT, fastUdp } from '../../src/agent/backend/udp-socket.js';

const open: dgram.Socket[] = [];
async function bound(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  open.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('fastUdp', () => {
  it('sends whole buffers at once and delivers datagrams to onMessage', async () => {
    const a = await bound();
    const b = await bound();
    const got: Buffer[] = [];
    let done: () => void = () => {};
    const all = new Promise<void>((r) => (done = r));
    const rx = fastUdp(
      b,
      (m) => {
        got.push(Buffer.from(m));
        if (got.length === 3) done();
      },
      () => {},
      () => {},
    );
    let sendErrors = 0;
    const tx = fastUdp(a, () => {}, () => {}, () => sendErrors++);
    expect(rx.raw).toBe(true);
    expect(tx.raw).toBe(true);
    const port = (b.address() as AddressInfo).port;
    const buf = Buffer.alloc(2000);
    const results = [1, 2, 3].map((i) => {
      buf.fill(i);
      // a view: only its bytes go out, and the buffer can be reused right after SENT
      return tx.send(buf.subarray(0, 100 * i), port, '127.0.0.1');
    });
    expect(results).toEqual([SENT, SENT, SENT]);
    await all;
    expect(got.map((m) => [m.length, m[0]])).toEqual([
      [100, 1],
      [200, 2],
      [300, 3],
    ]);
    expect(sendErrors).toBe(0);
  });

  it('reports a failed send (datagram larger than UDP allows)', async () => {
    const a = await bound();
    const tx = fastUdp(a, () => {}, () => {}, () => {});
    const r = tx.send(Buffer.alloc(70000), 9, '127.0.0.1');
    expect([FAILED, QUEUED]).toContain(r);
    expect(r).not.toBe(SENT);
  });
});
