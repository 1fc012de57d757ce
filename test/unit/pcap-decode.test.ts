import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCapture, decodePacket } from '../../src/pcap/decode.js';
import type { DecodedPacket } from '../../src/pcap/packet.js';
import { parsePcapFile, PcapFormatError } from '../../src/pcap/pcap-file.js';

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url)));
}

function packetsOf(name: string): DecodedPacket[] {
  return decodeCapture(fixture(name)).packets.map((p) => p.packet);
}

describe('decodeCapture: Ethernet across a Linux bridge (icmp-bridge.pcap)', () => {
  const capture = decodeCapture(fixture('icmp-bridge.pcap'));

  it('keeps index, timestamp and wire length of every record', () => {
    expect(capture.linkType).toBe(1);
    expect(capture.truncated).toBe(false);
    expect(capture.packets.map((p) => [p.index, p.timestampMicros, p.length])).toEqual([
      [0, 1795633088951054, 42],
      [1, 1795633088951080, 42],
      [2, 1795633088951084, 98],
      [3, 1795633088951249, 98],
      [4, 1795633089453475, 98],
      [5, 1795633089453508, 98],
    ]);
  });

  it('decodes the ARP request and reply', () => {
    expect(capture.packets[0]!.packet).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: 'ff:ff:ff:ff:ff:ff', etherType: 0x0806 },
      arp: {
        op: 'request',
        senderMac: '02:42:ac:10:01:02',
        senderIp: '172.16.1.2',
        targetMac: '00:00:00:00:00:00',
        targetIp: '172.16.1.3',
      },
    });
    expect(capture.packets[1]!.packet).toEqual({
      eth: { src: '02:42:ac:10:01:03', dst: '02:42:ac:10:01:02', etherType: 0x0806 },
      arp: {
        op: 'reply',
        senderMac: '02:42:ac:10:01:03',
        senderIp: '172.16.1.3',
        targetMac: '02:42:ac:10:01:02',
        targetIp: '172.16.1.2',
      },
    });
  });

  it('decodes the echo request and reply down to ICMP id and seq', () => {
    expect(capture.packets[2]!.packet).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0800 },
      ipv4: { src: '172.16.1.2', dst: '172.16.1.3', protocol: 1, ttl: 64, totalLength: 84, id: 5768 },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 54, seq: 1 },
    });
    expect(capture.packets[3]!.packet).toEqual({
      eth: { src: '02:42:ac:10:01:03', dst: '02:42:ac:10:01:02', etherType: 0x0800 },
      ipv4: { src: '172.16.1.3', dst: '172.16.1.2', protocol: 1, ttl: 64, totalLength: 84, id: 58376 },
      icmp: { type: 0, code: 0, kind: 'echo-reply', id: 54, seq: 1 },
    });
    expect(capture.packets.slice(4).map((p) => [p.packet.icmp?.kind, p.packet.icmp?.seq, p.packet.ipv4?.id])).toEqual([
      ['echo-request', 2, 5840],
      ['echo-reply', 2, 58429],
    ]);
  });
});

describe('decodeCapture: VXLAN on the underlay (vxlan.pcap)', () => {
  const packets = packetsOf('vxlan.pcap');

  it('decodes outer Ethernet/IPv4/UDP/VXLAN and the inner ARP frame', () => {
    expect(packets[0]).toEqual({
      eth: { src: '02:00:c0:a8:32:02', dst: '02:00:c0:a8:32:03', etherType: 0x0800 },
      ipv4: { src: '192.168.50.2', dst: '192.168.50.3', protocol: 17, ttl: 64, totalLength: 78, id: 37434 },
      udp: { srcPort: 44136, dstPort: 8472, length: 58 },
      vxlan: { vni: 1 },
      encapsulation: 'vxlan',
      inner: {
        eth: { src: '0a:58:0a:f4:00:01', dst: 'ff:ff:ff:ff:ff:ff', etherType: 0x0806 },
        arp: {
          op: 'request',
          senderMac: '0a:58:0a:f4:00:01',
          senderIp: '10.244.0.1',
          targetMac: '00:00:00:00:00:00',
          targetIp: '10.244.0.2',
        },
      },
    });
    expect(packets[1]!.inner!.arp).toMatchObject({ op: 'reply', senderMac: '0a:58:0a:f4:00:02', senderIp: '10.244.0.2' });
  });

  it('decodes the inner ICMP echo request', () => {
    expect(packets[2]).toEqual({
      eth: { src: '02:00:c0:a8:32:02', dst: '02:00:c0:a8:32:03', etherType: 0x0800 },
      ipv4: { src: '192.168.50.2', dst: '192.168.50.3', protocol: 17, ttl: 64, totalLength: 134, id: 37435 },
      udp: { srcPort: 54777, dstPort: 8472, length: 114 },
      vxlan: { vni: 1 },
      encapsulation: 'vxlan',
      inner: {
        eth: { src: '0a:58:0a:f4:00:01', dst: '0a:58:0a:f4:00:02', etherType: 0x0800 },
        ipv4: { src: '10.244.0.1', dst: '10.244.0.2', protocol: 1, ttl: 64, totalLength: 84, id: 50661 },
        icmp: { type: 8, code: 0, kind: 'echo-request', id: 190, seq: 1 },
      },
    });
  });

  it('decodes every packet in both directions', () => {
    expect(
      packets.map((p) => [p.ipv4?.src, p.udp?.dstPort, p.vxlan?.vni, p.inner?.ipv4?.src ?? p.inner?.arp?.senderIp, p.inner?.icmp?.kind]),
    ).toEqual([
      ['192.168.50.2', 8472, 1, '10.244.0.1', undefined],
      ['192.168.50.3', 8472, 1, '10.244.0.2', undefined],
      ['192.168.50.2', 8472, 1, '10.244.0.1', 'echo-request'],
      ['192.168.50.3', 8472, 1, '10.244.0.2', 'echo-reply'],
      ['192.168.50.2', 8472, 1, '10.244.0.1', 'echo-request'],
      ['192.168.50.3', 8472, 1, '10.244.0.2', 'echo-reply'],
    ]);
  });

  it('leaves VXLAN undecoded when the caller names other VXLAN ports', () => {
    const [first] = decodeCapture(fixture('vxlan.pcap'), { vxlanPorts: [4789] }).packets;
    expect(first!.packet.udp).toEqual({ srcPort: 44136, dstPort: 8472, length: 58 });
    expect(first!.packet.vxlan).toBeUndefined();
    expect(first!.packet.inner).toBeUndefined();
  });
});

describe('decodeCapture: snap length cutting the inner packet (vxlan-nano-snap80.pcap)', () => {
  it('keeps the outer layers and inner Ethernet, and flags both levels truncated', () => {
    const capture = decodeCapture(fixture('vxlan-nano-snap80.pcap'));
    expect(capture.truncated).toBe(false); // the file itself is complete
    expect(capture.packets[0]!.length).toBe(148);
    expect(capture.packets[0]!.packet).toEqual({
      eth: { src: '02:00:c0:a8:32:02', dst: '02:00:c0:a8:32:03', etherType: 0x0800 },
      ipv4: { src: '192.168.50.2', dst: '192.168.50.3', protocol: 17, ttl: 64, totalLength: 134, id: 45657 },
      udp: { srcPort: 54777, dstPort: 8472, length: 114 },
      vxlan: { vni: 1 },
      encapsulation: 'vxlan',
      truncated: true,
      inner: {
        eth: { src: '0a:58:0a:f4:00:01', dst: '0a:58:0a:f4:00:02', etherType: 0x0800 },
        truncated: true,
      },
    });
  });
});

describe('decodeCapture: flannel UDP backend (flannel-udp.pcap)', () => {
  const packets = packetsOf('flannel-udp.pcap');

  it('decodes the bare inner IPv4 packet in UDP 8285', () => {
    expect(packets[0]).toEqual({
      eth: { src: '02:00:0a:32:00:02', dst: '02:00:0a:32:00:03', etherType: 0x0800 },
      ipv4: { src: '10.50.0.2', dst: '10.50.0.3', protocol: 17, ttl: 64, totalLength: 112, id: 13576 },
      udp: { srcPort: 8285, dstPort: 8285, length: 92 },
      encapsulation: 'flannel-udp',
      inner: {
        ipv4: { src: '10.9.0.1', dst: '10.9.0.2', protocol: 1, ttl: 64, totalLength: 84, id: 63807 },
        icmp: { type: 8, code: 0, kind: 'echo-request', id: 224, seq: 1 },
      },
    });
    expect(packets.map((p) => [p.ipv4?.id, p.inner?.ipv4?.src, p.inner?.icmp?.kind, p.inner?.icmp?.seq])).toEqual([
      [13576, '10.9.0.1', 'echo-request', 1],
      [5084, '10.9.0.2', 'echo-reply', 1],
      [13695, '10.9.0.1', 'echo-request', 2],
      [5171, '10.9.0.2', 'echo-reply', 2],
    ]);
  });

  it('carries exactly the packets seen on the TUN device (tun-raw.pcap)', () => {
    const onTun = parsePcapFile(fixture('tun-raw.pcap')).records.map((r) => Array.from(r.data));
    const inUdp = parsePcapFile(fixture('flannel-udp.pcap')).records.map((r) => Array.from(r.data.subarray(14 + 20 + 8)));
    expect(inUdp).toEqual(onTun);
  });

  it('uses caller-supplied flannel ports instead of 8285', () => {
    const [first] = decodeCapture(fixture('flannel-udp.pcap'), { flannelUdpPorts: [9999] }).packets;
    expect(first!.packet.inner).toBeUndefined();
    expect(first!.packet.encapsulation).toBeUndefined();
  });
});

describe('decodeCapture: raw IP on a TUN device (tun-raw.pcap)', () => {
  it('decodes IPv4 with no link layer', () => {
    const capture = decodeCapture(fixture('tun-raw.pcap'));
    expect(capture.linkType).toBe(101);
    expect(capture.packets.map((p) => p.length)).toEqual([84, 84, 84, 84]);
    expect(capture.packets[0]!.packet).toEqual({
      ipv4: { src: '10.9.0.1', dst: '10.9.0.2', protocol: 1, ttl: 64, totalLength: 84, id: 63807 },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 224, seq: 1 },
    });
    expect(capture.packets[3]!.packet).toEqual({
      ipv4: { src: '10.9.0.2', dst: '10.9.0.1', protocol: 1, ttl: 64, totalLength: 84, id: 61530 },
      icmp: { type: 0, code: 0, kind: 'echo-reply', id: 224, seq: 2 },
    });
  });

  it('decodes the same bytes under linktypes 12 and 228', () => {
    const data = parsePcapFile(fixture('tun-raw.pcap')).records[0]!.data;
    const expected = decodePacket(data, 101);
    expect(decodePacket(data, 12)).toEqual(expected);
    expect(decodePacket(data, 228)).toEqual(expected);
  });
});

describe('decodeCapture: tcpdump -i any', () => {
  it('decodes Linux cooked v1 (any-sll.pcap)', () => {
    const capture = decodeCapture(fixture('any-sll.pcap'));
    expect(capture.linkType).toBe(113);
    expect(capture.packets[0]!.length).toBe(100);
    expect(capture.packets[0]!.packet).toEqual({
      cooked: { packetType: 'outgoing', hardwareType: 1, linkAddress: '02:42:ac:10:01:02', protocol: 0x0800 },
      ipv4: { src: '172.16.1.2', dst: '172.16.1.3', protocol: 1, ttl: 64, totalLength: 84, id: 6855 },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 262, seq: 1 },
    });
    expect(capture.packets.map((p) => [p.packet.cooked?.packetType, p.packet.cooked?.linkAddress, p.packet.icmp?.kind, p.packet.icmp?.seq])).toEqual([
      ['outgoing', '02:42:ac:10:01:02', 'echo-request', 1],
      ['host', '02:42:ac:10:01:03', 'echo-reply', 1],
      ['outgoing', '02:42:ac:10:01:02', 'echo-request', 2],
      ['host', '02:42:ac:10:01:03', 'echo-reply', 2],
    ]);
  });

  it('decodes Linux cooked v2, the default of tcpdump 4.99 (any-sll2.pcap)', () => {
    const capture = decodeCapture(fixture('any-sll2.pcap'));
    expect(capture.linkType).toBe(276);
    expect(capture.packets[1]!.length).toBe(104);
    expect(capture.packets[1]!.packet).toEqual({
      cooked: { packetType: 'host', hardwareType: 1, linkAddress: '02:42:ac:10:01:03', protocol: 0x0800, interfaceIndex: 2 },
      ipv4: { src: '172.16.1.3', dst: '172.16.1.2', protocol: 1, ttl: 64, totalLength: 84, id: 176 },
      icmp: { type: 0, code: 0, kind: 'echo-reply', id: 265, seq: 1 },
    });
  });
});

describe('decodeCapture: ICMP network unreachable from a router (icmp-unreachable.pcap)', () => {
  it('decodes type 3 code 0 and the quoted original IPv4 header', () => {
    const packets = packetsOf('icmp-unreachable.pcap');
    expect(packets[2]!.icmp).toEqual({ type: 8, code: 0, kind: 'echo-request', id: 294, seq: 1 });
    expect(packets[3]).toEqual({
      eth: { src: '02:42:0a:01:00:01', dst: '02:42:0a:01:00:02', etherType: 0x0800 },
      ipv4: { src: '10.1.0.1', dst: '10.1.0.2', protocol: 1, ttl: 64, totalLength: 112, id: 30431 },
      icmp: {
        type: 3,
        code: 0,
        kind: 'unreachable',
        quoted: { src: '10.1.0.2', dst: '10.99.0.7', protocol: 1, ttl: 64, totalLength: 84, id: 53325 },
      },
    });
  });
});

describe('decodeCapture: TCP handshake (tcp.pcap)', () => {
  it('decodes ports and flags', () => {
    const packets = packetsOf('tcp.pcap');
    expect(packets[0]).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0800 },
      ipv4: { src: '172.16.1.2', dst: '172.16.1.3', protocol: 6, ttl: 64, totalLength: 60, id: 37762 },
      tcp: { srcPort: 40000, dstPort: 8080, flags: 0x02 },
    });
    expect(packets.map((p) => p.tcp)).toEqual([
      { srcPort: 40000, dstPort: 8080, flags: 0x02 },
      { srcPort: 8080, dstPort: 40000, flags: 0x12 },
      { srcPort: 40000, dstPort: 8080, flags: 0x10 },
    ]);
  });
});

describe('decodeCapture: IPv4 fragments (fragments.pcap)', () => {
  it('decodes ICMP only in the first fragment', () => {
    const packets = packetsOf('fragments.pcap');
    expect(packets[0]).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0800 },
      ipv4: {
        src: '172.16.1.2',
        dst: '172.16.1.3',
        protocol: 1,
        ttl: 64,
        totalLength: 1500,
        id: 13125,
        fragmentOffset: 0,
        moreFragments: true,
      },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 332, seq: 1 },
    });
    expect(packets[1]).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0800 },
      ipv4: {
        src: '172.16.1.2',
        dst: '172.16.1.3',
        protocol: 1,
        ttl: 64,
        totalLength: 1500,
        id: 13125,
        fragmentOffset: 1480,
        moreFragments: true,
      },
    });
    expect(packets[2]!.ipv4).toMatchObject({ totalLength: 68, fragmentOffset: 2960, moreFragments: false });
    expect(packets[2]!.icmp).toBeUndefined();
  });
});

describe('decodeCapture: 802.1Q (vlan.pcap)', () => {
  it('reads the VLAN ID and decodes what follows the tag', () => {
    const capture = decodeCapture(fixture('vlan.pcap'));
    expect(capture.packets[0]!.length).toBe(102);
    expect(capture.packets[0]!.packet).toEqual({
      eth: { src: '02:42:ac:10:01:02', dst: '02:42:ac:10:01:03', etherType: 0x0800, vlanId: 100 },
      ipv4: { src: '172.16.1.2', dst: '172.16.1.3', protocol: 1, ttl: 64, totalLength: 84, id: 5768 },
      icmp: { type: 8, code: 0, kind: 'echo-request', id: 54, seq: 1 },
    });
  });
});

describe('decodeCapture: file-level problems', () => {
  it('reports a cut last record and decodes the rest', () => {
    const bytes = fixture('vxlan.pcap');
    const capture = decodeCapture(bytes.subarray(0, bytes.length - 1));
    expect(capture.truncated).toBe(true);
    expect(capture.packets).toHaveLength(5);
    expect(capture.packets[4]!.packet.inner?.icmp?.kind).toBe('echo-request');
  });

  it('throws PcapFormatError for a link type it cannot decode', () => {
    const bytes = new Uint8Array(fixture('tcp.pcap'));
    bytes[20] = 105; // LINKTYPE_IEEE802_11
    expect(() => decodeCapture(bytes)).toThrow(PcapFormatError);
    expect(() => decodeCapture(bytes)).toThrow('unsupported pcap link type 105 (supported: 1, 113, 276, 101, 12, 228)');
  });
});
