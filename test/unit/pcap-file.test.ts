import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePcapFile, PcapFormatError } from '../../src/pcap/pcap-file.js';

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url)));
}

/** Rewrites a little-endian pcap file as the same file written by a big-endian host. */
function toBigEndian(littleEndian: Uint8Array): Uint8Array {
  const out = new Uint8Array(littleEndian);
  const from = new DataView(littleEndian.buffer, littleEndian.byteOffset, littleEndian.byteLength);
  const to = new DataView(out.buffer);
  const swap32 = (offset: number) => to.setUint32(offset, from.getUint32(offset, true), false);
  const swap16 = (offset: number) => to.setUint16(offset, from.getUint16(offset, true), false);
  swap32(0);
  swap16(4);
  swap16(6);
  for (const offset of [8, 12, 16, 20]) swap32(offset);
  let offset = 24;
  while (offset < littleEndian.length) {
    const capturedLength = from.getUint32(offset + 8, true);
    for (const field of [0, 4, 8, 12]) swap32(offset + field);
    offset += 16 + capturedLength;
  }
  return out;
}

function fileHeader(magic: number[], linkType: number, snapLen = 65535): number[] {
  // magic as it appears in the file, then version 2.4, thiszone, sigfigs, snaplen, linktype (all little-endian here)
  return [...magic, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(snapLen), ...le32(linkType)];
}

function le32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

describe('parsePcapFile on real tcpdump output', () => {
  it('reads the header and every record of icmp-bridge.pcap', () => {
    const file = parsePcapFile(fixture('icmp-bridge.pcap'));
    expect(file.linkType).toBe(1);
    expect(file.snapLen).toBe(262144);
    expect(file.byteOrder).toBe('little-endian');
    expect(file.timestampPrecision).toBe('micro');
    expect(file.truncated).toBe(false);
    expect(file.records.map((r) => r.timestampMicros)).toEqual([
      1795633088951054, 1795633088951080, 1795633088951084, 1795633088951249, 1795633089453475, 1795633089453508,
    ]);
    expect(file.records.map((r) => r.length)).toEqual([42, 42, 98, 98, 98, 98]);
    expect(file.records.map((r) => r.data.length)).toEqual([42, 42, 98, 98, 98, 98]);
    // first bytes of the ARP request: broadcast destination, then the sender's MAC
    expect(Array.from(file.records[0]!.data.subarray(0, 12))).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x42, 0xac, 0x10, 0x01, 0x02,
    ]);
  });

  it('reads nanosecond timestamps and records cut by the snap length', () => {
    const file = parsePcapFile(fixture('vxlan-nano-snap80.pcap'));
    expect(file.timestampPrecision).toBe('nano');
    expect(file.snapLen).toBe(80);
    // tcpdump --time-stamp-precision=nano: 1795633191.107793025 and 1795633191.107839381
    expect(file.records.map((r) => r.timestampMicros)).toEqual([1795633191107793, 1795633191107839]);
    expect(file.records.map((r) => r.length)).toEqual([148, 148]);
    expect(file.records.map((r) => r.data.length)).toEqual([80, 80]);
  });

  it('reports the link types tcpdump wrote', () => {
    expect(parsePcapFile(fixture('tun-raw.pcap')).linkType).toBe(101);
    expect(parsePcapFile(fixture('any-sll.pcap')).linkType).toBe(113);
    expect(parsePcapFile(fixture('any-sll2.pcap')).linkType).toBe(276);
  });

  it('reads the same records from a big-endian file', () => {
    const littleEndian = parsePcapFile(fixture('icmp-bridge.pcap'));
    const bigEndian = parsePcapFile(toBigEndian(fixture('icmp-bridge.pcap')));
    expect(bigEndian.byteOrder).toBe('big-endian');
    expect(bigEndian.linkType).toBe(1);
    expect(bigEndian.snapLen).toBe(262144);
    expect(bigEndian.records.length).toBe(6);
    expect(bigEndian.records.map((r) => [r.timestampMicros, r.length, Array.from(r.data)])).toEqual(
      littleEndian.records.map((r) => [r.timestampMicros, r.length, Array.from(r.data)]),
    );
  });

  it('accepts a view into a larger buffer', () => {
    const bytes = fixture('tcp.pcap');
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 7);
    const file = parsePcapFile(padded.subarray(7, 7 + bytes.length));
    expect(file.records.map((r) => r.length)).toEqual([74, 74, 66]);
    expect(file.truncated).toBe(false);
  });
});

describe('parsePcapFile on hand-made files', () => {
  it('reads a big-endian nanosecond file', () => {
    const bytes = new Uint8Array([
      0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 101,
      // record: 2 s, 1 234 567 ns, captured 3 of 20 bytes
      0, 0, 0, 2, 0, 0x12, 0xd6, 0x87, 0, 0, 0, 3, 0, 0, 0, 20, 0x45, 0x00, 0x00,
    ]);
    const file = parsePcapFile(bytes);
    expect(file).toMatchObject({ byteOrder: 'big-endian', timestampPrecision: 'nano', linkType: 101, snapLen: 256, truncated: false });
    expect(file.records).toHaveLength(1);
    expect(file.records[0]!.timestampMicros).toBe(2_001_234);
    expect(file.records[0]!.length).toBe(20);
    expect(Array.from(file.records[0]!.data)).toEqual([0x45, 0x00, 0x00]);
  });

  it('reads a little-endian microsecond file and masks FCS bits out of the link type', () => {
    const header = fileHeader([0xd4, 0xc3, 0xb2, 0xa1], 0x10000000 | 1);
    const file = parsePcapFile(new Uint8Array([...header, ...le32(5), ...le32(999_999), ...le32(1), ...le32(1), 0xaa]));
    expect(file.linkType).toBe(1);
    expect(file.records[0]!.timestampMicros).toBe(5_999_999);
  });

  it('has no records and is not truncated when only the header was written', () => {
    const file = parsePcapFile(fixture('icmp-bridge.pcap').subarray(0, 24));
    expect(file.records).toEqual([]);
    expect(file.truncated).toBe(false);
  });

  it('drops a final record whose data was cut off, and says so', () => {
    const bytes = fixture('icmp-bridge.pcap');
    const file = parsePcapFile(bytes.subarray(0, bytes.length - 10));
    expect(file.truncated).toBe(true);
    expect(file.records).toHaveLength(5);
    expect(file.records[4]!.timestampMicros).toBe(1795633089453475);
  });

  it('drops a final record whose header was cut off, and says so', () => {
    const file = parsePcapFile(fixture('icmp-bridge.pcap').subarray(0, 24 + 16 + 42 + 5));
    expect(file.truncated).toBe(true);
    expect(file.records).toHaveLength(1);
  });

  it('throws PcapFormatError for an empty file', () => {
    expect(() => parsePcapFile(new Uint8Array())).toThrow(PcapFormatError);
    expect(() => parsePcapFile(new Uint8Array())).toThrow('not a pcap file: it is empty');
  });

  it('throws PcapFormatError naming a bad magic number', () => {
    const bytes = new Uint8Array(fileHeader([0xde, 0xad, 0xbe, 0xef], 1));
    expect(() => parsePcapFile(bytes)).toThrow(PcapFormatError);
    expect(() => parsePcapFile(bytes)).toThrow('bad magic number 0xdeadbeef');
  });

  it('throws a specific message for pcapng', () => {
    const bytes = new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, ...new Array<number>(16).fill(0)]);
    expect(() => parsePcapFile(bytes)).toThrow(/pcapng files are not supported/);
  });

  it('throws PcapFormatError for a truncated file header', () => {
    const bytes = fixture('icmp-bridge.pcap').subarray(0, 10);
    expect(() => parsePcapFile(bytes)).toThrow(PcapFormatError);
    expect(() => parsePcapFile(bytes)).toThrow('truncated pcap file header: 10 bytes, expected 24');
    expect(() => parsePcapFile(new Uint8Array([0xd4, 0xc3]))).toThrow(PcapFormatError);
  });

  it('names its errors', () => {
    try {
      parsePcapFile(new Uint8Array());
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('PcapFormatError');
    }
  });
});
