import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../src/pcap/decode.js';
import { parsePcapFile } from '../../src/pcap/pcap-file.js';

const ETHERNET = 1;
const RAW = 101;
const SLL = 113;
const SLL2 = 276;

const MAC_A = [0x02, 0x42, 0xac, 0x10, 0x01, 0x02];
const MAC_B = [0x02, 0x42, 0xac, 0x10, 0x01, 0x03];
const IP_A = [10, 0, 0, 1];
const IP_B = [10, 0, 0, 2];

function u16(value: number): number[] {
  return [value >> 8, value & 0xff];
}

function ethernet(etherType: number, payload: number[]): number[] {
  return [...MAC_B, ...MAC_A, ...u16(etherType), ...payload];
}

interface Ipv4Fields {
  protocol: number;
  headerWords?: number; // IHL
  totalLength?: number;
  flagsAndOffset?: number;
  src?: number[];
  dst?: number[];
}

function ipv4(fields: Ipv4Fields, payload: number[]): number[] {
  const headerWords = fields.headerWords ?? 5;
  const options = new Array<number>(Math.max(0, headerWords - 5) * 4).fill(1); // NOP options
  const totalLength = fields.totalLength ?? headerWords * 4 + payload.length;
  return [
    0x40 | headerWords, 0, ...u16(totalLength), ...u16(0x1234), ...u16(fields.flagsAndOffset ?? 0),
    63, fields.protocol, 0, 0, ...(fields.src ?? IP_A), ...(fields.dst ?? IP_B), ...options, ...payload,
  ];
}

function udp(srcPort: number, dstPort: number, payload: number[], length = 8 + payload.length): number[] {
  return [...u16(srcPort), ...u16(dstPort), ...u16(length), 0, 0, ...payload];
}

function echoRequest(id: number, seq: number): number[] {
  return [8, 0, 0, 0, ...u16(id), ...u16(seq), 0xde, 0xad];
}

function vxlan(vni: number, innerFrame: number[], flags = 0x08): number[] {
  return [flags, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0, ...innerFrame];
}

function decode(bytes: number[], linkType = ETHERNET, options = {}) {
  return decodePacket(new Uint8Array(bytes), linkType, options);
}

const innerPing = ipv4({ protocol: 1, src: [10, 244, 0, 1], dst: [10, 244, 0, 2] }, echoRequest(7, 3));
const ipHeaderA = { src: '10.0.0.1', dst: '10.0.0.2', ttl: 63, id: 0x1234 };

describe('decodePacket: link layers', () => {
  it('never throws on empty data, whatever the link type', () => {
    for (const linkType of [ETHERNET, SLL, SLL2, RAW, 12, 228]) {
      expect(decode([], linkType)).toEqual({ truncated: true });
    }
  });

  it('returns nothing for a link type it does not know', () => {
    expect(decode(ethernet(0x0800, innerPing), 147)).toEqual({});
  });

  it('flags an Ethernet header cut before the type', () => {
    expect(decode([...MAC_B, ...MAC_A, 0x08])).toEqual({ truncated: true });
  });

  it('keeps the MACs when the 802.1Q tag is cut', () => {
    expect(decode(ethernet(0x8100, [0x00]))).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x8100 },
      truncated: true,
    });
  });

  it('reads one 802.1Q tag (priority bits ignored) and decodes past it', () => {
    const packet = decode(ethernet(0x8100, [0xa0, 0x2a, ...u16(0x0800), ...innerPing]));
    expect(packet.eth).toEqual({ src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0800, vlanId: 42 });
    expect(packet.icmp).toEqual({ type: 8, code: 0, kind: 'echo-request', id: 7, seq: 3 });
  });

  it('leaves unknown EtherTypes (IPv6 here) undecoded without calling them truncated', () => {
    expect(decode(ethernet(0x86dd, [0x60, 0, 0, 0]))).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x86dd },
    });
  });

  it('leaves raw IPv6 undecoded', () => {
    expect(decode([0x60, 0, 0, 0, 0, 0, 59, 64], RAW)).toEqual({});
  });

  it('decodes cooked v1 with an unknown packet type, a VLAN tag and no link address', () => {
    const header = [...u16(7), ...u16(65534), ...u16(0), 0, 0, 0, 0, 0, 0, 0, 0, ...u16(0x8100)];
    expect(decode([...header, 0x00, 0x05, ...u16(0x0800), ...innerPing], SLL)).toEqual({
      cooked: { packetType: 7, hardwareType: 65534, linkAddress: '', protocol: 0x0800, vlanId: 5 },
      ipv4: { src: '10.244.0.1', dst: '10.244.0.2', protocol: 1, ttl: 63, totalLength: 30, id: 0x1234 },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 7, seq: 3 },
    });
  });

  it('flags cut cooked headers', () => {
    expect(decode(new Array<number>(15).fill(0), SLL)).toEqual({ truncated: true });
    expect(decode(new Array<number>(19).fill(0), SLL2)).toEqual({ truncated: true });
    const v1WithCutTag = [...u16(4), ...u16(1), ...u16(6), ...MAC_A, 0, 0, ...u16(0x8100), 0];
    expect(decode(v1WithCutTag, SLL)).toEqual({
      cooked: { packetType: 'outgoing', hardwareType: 1, linkAddress: '02:42:ac:10:01:02', protocol: 0x8100 },
      truncated: true,
    });
  });

  it('decodes cooked v2 broadcast ARP', () => {
    const arp = [0, 1, 8, 0, 6, 4, 0, 1, ...MAC_A, ...IP_A, 0, 0, 0, 0, 0, 0, ...IP_B];
    const header = [...u16(0x0806), 0, 0, 0, 0, 0, 9, ...u16(1), 1, 6, ...MAC_A, 0, 0];
    expect(decode([...header, ...arp], SLL2)).toEqual({
      cooked: { packetType: 'broadcast', hardwareType: 1, linkAddress: '02:42:ac:10:01:02', protocol: 0x0806, interfaceIndex: 9 },
      arp: { op: 'request', senderMac: '02:42:ac:10:01:02', senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' },
    });
  });
});

describe('decodePacket: ARP', () => {
  it('flags a cut ARP body and keeps the Ethernet header', () => {
    expect(decode(ethernet(0x0806, [0, 1, 8, 0, 6, 4, 0, 2, ...MAC_A]))).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0806 },
      truncated: true,
    });
  });

  it('leaves ARP for other hardware undecoded, not truncated', () => {
    expect(decode(ethernet(0x0806, [0, 6, 8, 0, 6, 4, 0, 1, ...new Array<number>(20).fill(0)]))).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0806 },
    });
  });

  it('keeps an unknown opcode as a number', () => {
    const arp = [0, 1, 8, 0, 6, 4, 0, 9, ...MAC_A, ...IP_A, ...MAC_B, ...IP_B];
    expect(decode(ethernet(0x0806, arp)).arp?.op).toBe(9);
  });
});

describe('decodePacket: IPv4', () => {
  it('honours IHL: transport ports after 8 bytes of options', () => {
    const packet = decode(ipv4({ protocol: 17, headerWords: 7 }, udp(5000, 53, [1, 2, 3])), RAW);
    expect(packet.ipv4).toEqual({ ...ipHeaderA, protocol: 17, totalLength: 39 });
    expect(packet.udp).toEqual({ srcPort: 5000, dstPort: 53, length: 11 });
    expect(packet.truncated).toBeUndefined();
  });

  it('flags a header cut inside its options', () => {
    const bytes = ipv4({ protocol: 17, headerWords: 8 }, []).slice(0, 28);
    expect(decode(bytes, RAW)).toEqual({ truncated: true });
  });

  it('flags IHL below 5 and a wrong version behind EtherType 0x0800', () => {
    const badIhl = ipv4({ protocol: 1 }, echoRequest(1, 1));
    badIhl[0] = 0x44;
    expect(decode(ethernet(0x0800, badIhl)).truncated).toBe(true);
    expect(decode(ethernet(0x0800, badIhl)).ipv4).toBeUndefined();
    const ipv6 = [0x60, ...new Array<number>(39).fill(0)];
    expect(decode(ethernet(0x0800, ipv6))).toMatchObject({ truncated: true });
  });

  it('flags a total length shorter than the header', () => {
    expect(decode(ipv4({ protocol: 1, totalLength: 12 }, echoRequest(1, 1)), RAW)).toEqual({ truncated: true });
  });

  it('ignores bytes after the total length (Ethernet padding)', () => {
    // 8 padding bytes that would look like an IPv4 packet if they were taken for the UDP payload
    const padded = [...ipv4({ protocol: 17 }, udp(8285, 8285, [])), 0x45, 0, 0, 20, 0, 0, 0, 0];
    const packet = decode(ethernet(0x0800, padded));
    expect(packet.udp).toEqual({ srcPort: 8285, dstPort: 8285, length: 8 });
    expect(packet.inner).toBeUndefined();
    expect(packet.truncated).toBeUndefined();
  });

  it('treats total length 0 (IPv4 BIG TCP on the sender) as "what was captured"', () => {
    const packet = decode(ipv4({ protocol: 1, totalLength: 0 }, echoRequest(9, 9)), RAW);
    expect(packet.ipv4?.totalLength).toBe(0);
    expect(packet.icmp).toEqual({ type: 8, code: 0, kind: 'echo-request', id: 9, seq: 9 });
  });

  it('does not read a transport header from a non-first fragment', () => {
    const fragment = decode(ipv4({ protocol: 17, flagsAndOffset: 185 }, udp(1, 2, [])), RAW);
    expect(fragment).toEqual({ ipv4: { ...ipHeaderA, protocol: 17, totalLength: 28, fragmentOffset: 1480, moreFragments: false } });
  });

  it('leaves fragment fields off unfragmented packets, even with DF set', () => {
    const packet = decode(ipv4({ protocol: 1, flagsAndOffset: 0x4000 }, echoRequest(1, 1)), RAW);
    expect(packet.ipv4).toEqual({ ...ipHeaderA, protocol: 1, totalLength: 30 });
  });

  it('keeps an unknown protocol as just the IPv4 header', () => {
    expect(decode(ipv4({ protocol: 47 }, [0, 0, 0x65, 0x58]), RAW)).toEqual({
      ipv4: { ...ipHeaderA, protocol: 47, totalLength: 24 },
    });
  });
});

describe('decodePacket: ICMP', () => {
  it('flags a message shorter than type, code and checksum', () => {
    expect(decode(ipv4({ protocol: 1 }, [8, 0]), RAW)).toEqual({
      ipv4: { ...ipHeaderA, protocol: 1, totalLength: 22 },
      truncated: true,
    });
  });

  it('keeps type and kind when the echo id and seq are cut', () => {
    expect(decode(ipv4({ protocol: 1 }, [0, 0, 0, 0, 0, 7]), RAW).icmp).toEqual({ type: 0, code: 0, kind: 'echo-reply' });
  });

  it('decodes time-exceeded with its quoted header', () => {
    const quoted = ipv4({ protocol: 17, src: [10, 244, 1, 5], dst: [8, 8, 8, 8] }, udp(33434, 33435, []));
    const packet = decode(ipv4({ protocol: 1 }, [11, 0, 0, 0, 0, 0, 0, 0, ...quoted]), RAW);
    expect(packet.icmp).toEqual({
      type: 11,
      code: 0,
      kind: 'time-exceeded',
      quoted: { src: '10.244.1.5', dst: '8.8.8.8', protocol: 17, ttl: 63, totalLength: 28, id: 0x1234 },
    });
    expect(packet.truncated).toBeUndefined();
  });

  it('flags an unreachable whose quoted header is cut, keeping type and code', () => {
    const quoted = ipv4({ protocol: 6 }, []).slice(0, 12);
    const packet = decode(ipv4({ protocol: 1 }, [3, 3, 0, 0, 0, 0, 0, 0, ...quoted]), RAW);
    expect(packet.icmp).toEqual({ type: 3, code: 3, kind: 'unreachable' });
    expect(packet.truncated).toBe(true);
  });

  it('calls other types "other"', () => {
    expect(decode(ipv4({ protocol: 1 }, [5, 1, 0, 0, 10, 0, 0, 1]), RAW).icmp).toEqual({ type: 5, code: 1, kind: 'other' });
  });
});

describe('decodePacket: UDP and TCP', () => {
  it('flags a cut UDP header', () => {
    expect(decode(ipv4({ protocol: 17 }, [0, 53, 0, 53, 0]), RAW)).toEqual({
      ipv4: { ...ipHeaderA, protocol: 17, totalLength: 25 },
      truncated: true,
    });
  });

  it('keeps TCP ports when the flags are cut, and flags it', () => {
    expect(decode(ipv4({ protocol: 6 }, [...u16(443), ...u16(50000), 0, 0, 0, 1]), RAW)).toEqual({
      ipv4: { ...ipHeaderA, protocol: 6, totalLength: 28 },
      tcp: { srcPort: 443, dstPort: 50000 },
      truncated: true,
    });
    expect(decode(ipv4({ protocol: 6 }, [1, 2, 3]), RAW)).toMatchObject({ truncated: true });
    expect(decode(ipv4({ protocol: 6 }, [1, 2, 3]), RAW).tcp).toBeUndefined();
  });

  it('reads TCP flags', () => {
    const tcp = [...u16(40000), ...u16(80), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x19, 0xff, 0xff, 0, 0, 0, 0];
    expect(decode(ipv4({ protocol: 6 }, tcp), RAW).tcp).toEqual({ srcPort: 40000, dstPort: 80, flags: 0x19 });
  });
});

describe('decodePacket: VXLAN', () => {
  const innerFrame = ethernet(0x0800, innerPing);

  it('decodes port 4789 by default', () => {
    const packet = decode(ipv4({ protocol: 17 }, udp(50000, 4789, vxlan(0x123456, innerFrame))), RAW);
    expect(packet.vxlan).toEqual({ vni: 0x123456 });
    expect(packet.encapsulation).toBe('vxlan');
    expect(packet.inner?.icmp).toEqual({ type: 8, code: 0, kind: 'echo-request', id: 7, seq: 3 });
  });

  it('decodes caller-supplied ports and then only those', () => {
    const onPort9000 = ipv4({ protocol: 17 }, udp(50000, 9000, vxlan(2, innerFrame)));
    expect(decode(onPort9000, RAW).vxlan).toBeUndefined();
    expect(decode(onPort9000, RAW, { vxlanPorts: [9000] }).inner?.eth?.src).toBe('02:42:ac:10:01:02');
    const on8472 = ipv4({ protocol: 17 }, udp(50000, 8472, vxlan(2, innerFrame)));
    expect(decode(on8472, RAW, { vxlanPorts: [9000] }).vxlan).toBeUndefined();
  });

  it('only decodes the destination port as VXLAN', () => {
    expect(decode(ipv4({ protocol: 17 }, udp(8472, 50000, vxlan(2, innerFrame))), RAW).vxlan).toBeUndefined();
  });

  it('does not take a header without the I flag for VXLAN', () => {
    const packet = decode(ipv4({ protocol: 17 }, udp(50000, 8472, vxlan(2, innerFrame, 0x00))), RAW);
    expect(packet.udp?.dstPort).toBe(8472);
    expect(packet.vxlan).toBeUndefined();
    expect(packet.truncated).toBeUndefined();
  });

  it('flags a cut VXLAN header', () => {
    const packet = decode(ipv4({ protocol: 17 }, udp(50000, 8472, [0x08, 0, 0, 0, 0])), RAW);
    expect(packet.udp).toEqual({ srcPort: 50000, dstPort: 8472, length: 13 });
    expect(packet.vxlan).toBeUndefined();
    expect(packet.truncated).toBe(true);
  });

  it('flags every prefix of a real VXLAN echo request as truncated, and decodes the whole one fully', () => {
    const full = parsePcapFile(new Uint8Array(readFileSync(new URL('../fixtures/pcap/vxlan.pcap', import.meta.url)))).records[2]!.data;
    const complete = decodePacket(full, ETHERNET);
    const lastHeaderByte = 14 + 20 + 8 + 8 + 14 + 20 + 8;
    for (let length = 0; length < full.length; length++) {
      const packet = decodePacket(full.subarray(0, length), ETHERNET);
      if (length < lastHeaderByte) expect(packet.truncated, `prefix of ${length} bytes`).toBe(true);
      else expect(packet, `prefix of ${length} bytes`).toEqual(complete);
    }
  });
});

describe('decodePacket: flannel UDP', () => {
  it('decodes from the source port too', () => {
    const packet = decode(ipv4({ protocol: 17 }, udp(8285, 40000, innerPing)), RAW);
    expect(packet.encapsulation).toBe('flannel-udp');
    expect(packet.inner).toEqual({
      ipv4: { src: '10.244.0.1', dst: '10.244.0.2', protocol: 1, ttl: 63, totalLength: 30, id: 0x1234 },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 7, seq: 3 },
    });
  });

  it('leaves a payload that is not IPv4 alone', () => {
    const packet = decode(ipv4({ protocol: 17 }, udp(40000, 8285, [0x60, 0, 0, 0])), RAW);
    expect(packet.inner).toBeUndefined();
    expect(packet.truncated).toBeUndefined();
  });

  it('flags a datagram cut right after its header', () => {
    const bytes = ipv4({ protocol: 17, totalLength: 20 + 8 + 30 }, udp(40000, 8285, [], 8 + 30));
    expect(decode(bytes, RAW)).toMatchObject({ udp: { srcPort: 40000, dstPort: 8285, length: 38 }, truncated: true });
  });

  it('flags the outer packet when the inner one is cut', () => {
    const cutInner = innerPing.slice(0, 24);
    const packet = decode(ipv4({ protocol: 17, totalLength: 20 + 8 + 30 }, udp(40000, 8285, cutInner, 38)), RAW);
    expect(packet.inner).toEqual({
      ipv4: { src: '10.244.0.1', dst: '10.244.0.2', protocol: 1, ttl: 63, totalLength: 30, id: 0x1234 },
      icmp: { type: 8, code: 0, kind: 'echo-request' },
      truncated: true,
    });
    expect(packet.truncated).toBe(true);
  });
});

describe('decodePacket: robustness', () => {
  it('never throws on any prefix or any single corrupted byte of the real fixtures', () => {
    for (const name of ['icmp-bridge.pcap', 'vxlan.pcap', 'flannel-udp.pcap', 'any-sll2.pcap', 'icmp-unreachable.pcap', 'tcp.pcap']) {
      const file = parsePcapFile(new Uint8Array(readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url))));
      for (const record of file.records) {
        for (let length = 0; length <= record.data.length; length++) {
          expect(() => decodePacket(record.data.subarray(0, length), file.linkType)).not.toThrow();
        }
        for (let i = 0; i < record.data.length; i++) {
          const corrupted = new Uint8Array(record.data);
          corrupted[i] = corrupted[i]! ^ 0xff;
          expect(() => decodePacket(corrupted, file.linkType)).not.toThrow();
        }
      }
    }
  });
});
