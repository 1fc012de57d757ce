// The pcapng writer: blocks, options and padding as the format says, read back by a reader
// written here from the specification (tshark reads real files in the integration tests).
import { describe, expect, it } from 'vitest';
import { writePcapng } from '../../src/pcap/pcapng-writer.js';
import { tracePcapng } from '../../src/trace/trace-pcapng.js';
import { replayLive } from './trace-fixture.js';

interface Block {
  type: number;
  body: Buffer;
}

function blocks(bytes: Uint8Array): Block[] {
  const buf = Buffer.from(bytes);
  const out: Block[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const type = buf.readUInt32LE(offset);
    const length = buf.readUInt32LE(offset + 4);
    expect(length % 4).toBe(0);
    expect(buf.readUInt32LE(offset + length - 4)).toBe(length);
    out.push({ type, body: buf.subarray(offset + 8, offset + length - 4) });
    offset += length;
  }
  return out;
}

function options(body: Buffer, start: number): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  for (let o = start; o + 4 <= body.length; ) {
    const code = body.readUInt16LE(o);
    const len = body.readUInt16LE(o + 2);
    if (code === 0) break;
    out.set(code, [...(out.get(code) ?? []), body.subarray(o + 4, o + 4 + len)]);
    o += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}

describe('pcapng writer', () => {
  it('writes a section header, an interface per entry and an enhanced packet per packet', () => {
    const bytes = writePcapng({
      application: 'test',
      interfaces: [
        { name: 'host1:eth0', description: 'node host1, interface eth0', linkType: 1, snapLen: 2048 },
        { name: 'host1:flannel0', linkType: 101 },
      ],
      packets: [{ interfaceId: 1, timestampNanos: 1_700_000_000_123_456_789n, data: new Uint8Array([0x45, 0, 0, 20, 1]), originalLength: 20, comment: 'hop 1: sent' }],
    });
    const b = blocks(bytes);
    expect(b.map((x) => x.type)).toEqual([0x0a0d0d0a, 1, 1, 6]);
    expect(b[0]!.body.readUInt32LE(0)).toBe(0x1a2b3c4d);
    expect(options(b[0]!.body, 16).get(4)![0]!.toString()).toBe('test');
    expect(b[1]!.body.readUInt16LE(0)).toBe(1);
    expect(b[1]!.body.readUInt32LE(4)).toBe(2048);
    const idb = options(b[1]!.body, 8);
    expect(idb.get(2)![0]!.toString()).toBe('host1:eth0');
    expect(idb.get(3)![0]!.toString()).toBe('node host1, interface eth0');
    expect([...idb.get(9)![0]!]).toEqual([9]);
    expect(b[2]!.body.readUInt16LE(0)).toBe(101);
    const epb = b[3]!.body;
    expect(epb.readUInt32LE(0)).toBe(1);
    expect((BigInt(epb.readUInt32LE(4)) << 32n) | BigInt(epb.readUInt32LE(8))).toBe(1_700_000_000_123_456_789n);
    expect(epb.readUInt32LE(12)).toBe(5);
    expect(epb.readUInt32LE(16)).toBe(20);
    expect([...epb.subarray(20, 25)]).toEqual([0x45, 0, 0, 20, 1]);
    expect(options(epb, 28).get(1)![0]!.toString()).toBe('hop 1: sent');
  });

  it('refuses a packet for an interface it does not describe', () => {
    expect(() => writePcapng({ interfaces: [], packets: [{ interfaceId: 0, timestampNanos: 0n, data: new Uint8Array(), originalLength: 0 }] })).toThrow(RangeError);
  });

  it('a trace becomes one interface per hop named node:iface, packets in time order with hop comments', () => {
    const run = replayLive('flannel-vxlan');
    const b = blocks(tracePcapng(run));
    const idbs = b.filter((x) => x.type === 1).map((x) => options(x.body, 8).get(2)![0]!.toString());
    expect(idbs).toEqual(run.result.hops.map((h) => `${h.node}:${h.iface}`));
    expect(idbs).toContain('host1:flannel.1');
    const epbs = b.filter((x) => x.type === 6);
    expect(epbs).toHaveLength(run.result.hops.length);
    const comments = epbs.map((x) => options(x.body, 20 + x.body.readUInt32LE(12) + ((4 - (x.body.readUInt32LE(12) % 4)) % 4)).get(1)![0]!.toString());
    expect(comments[0]).toBe('hop 1: sent by host1/pod1 (TTL 64)');
    expect(comments[4]).toMatch(/^hop 5: encapsulated: VXLAN VNI 1/);
    const times = epbs.map((x) => (BigInt(x.body.readUInt32LE(4)) << 32n) | BigInt(x.body.readUInt32LE(8)));
    expect([...times].sort((a, c) => (a < c ? -1 : a > c ? 1 : 0))).toEqual(times);
  });
});
