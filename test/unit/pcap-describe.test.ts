import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCapture, decodePacket } from '../../src/pcap/decode.js';
import { describePacket } from '../../src/pcap/describe.js';

function describeFixture(name: string): string[] {
  const bytes = new Uint8Array(readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url)));
  return decodeCapture(bytes).packets.map((p) => describePacket(p.packet));
}

describe('describePacket on real captures', () => {
  it('describes ARP and ping across a bridge', () => {
    expect(describeFixture('icmp-bridge.pcap').slice(0, 4)).toEqual([
      '02:42:ac:10:01:02 > ff:ff:ff:ff:ff:ff, ARP request who-has 172.16.1.3 tell 172.16.1.2',
      '02:42:ac:10:01:03 > 02:42:ac:10:01:02, ARP reply 172.16.1.3 is-at 02:42:ac:10:01:03',
      '02:42:ac:10:01:02 > 02:42:ac:10:01:03, IPv4 172.16.1.2 > 172.16.1.3: ICMP echo-request id 54 seq 1',
      '02:42:ac:10:01:03 > 02:42:ac:10:01:02, IPv4 172.16.1.3 > 172.16.1.2: ICMP echo-reply id 54 seq 1',
    ]);
  });

  it('describes VXLAN with the inner frame in brackets', () => {
    const lines = describeFixture('vxlan.pcap');
    expect(lines[0]).toBe(
      '02:00:c0:a8:32:02 > 02:00:c0:a8:32:03, IPv4 192.168.50.2:44136 > 192.168.50.3:8472 VXLAN vni 1 ' +
        '[ 0a:58:0a:f4:00:01 > ff:ff:ff:ff:ff:ff, ARP request who-has 10.244.0.2 tell 10.244.0.1 ]',
    );
    expect(lines[3]).toBe(
      '02:00:c0:a8:32:03 > 02:00:c0:a8:32:02, IPv4 192.168.50.3:54777 > 192.168.50.2:8472 VXLAN vni 1 ' +
        '[ 0a:58:0a:f4:00:02 > 0a:58:0a:f4:00:01, IPv4 10.244.0.2 > 10.244.0.1: ICMP echo-reply id 190 seq 1 ]',
    );
  });

  it('marks where a snap length cut the packet', () => {
    expect(describeFixture('vxlan-nano-snap80.pcap')[0]).toBe(
      '02:00:c0:a8:32:02 > 02:00:c0:a8:32:03, IPv4 192.168.50.2:54777 > 192.168.50.3:8472 VXLAN vni 1 ' +
        '[ 0a:58:0a:f4:00:01 > 0a:58:0a:f4:00:02, IPv4 [truncated] ]',
    );
  });

  it('describes flannel UDP with the bare inner packet in brackets', () => {
    expect(describeFixture('flannel-udp.pcap')[1]).toBe(
      '02:00:0a:32:00:03 > 02:00:0a:32:00:02, IPv4 10.50.0.3:8285 > 10.50.0.2:8285 flannel-udp ' +
        '[ IPv4 10.9.0.2 > 10.9.0.1: ICMP echo-reply id 224 seq 1 ]',
    );
  });

  it('describes raw IP without a link layer', () => {
    expect(describeFixture('tun-raw.pcap')[0]).toBe('IPv4 10.9.0.1 > 10.9.0.2: ICMP echo-request id 224 seq 1');
  });

  it('describes cooked captures with their direction', () => {
    expect(describeFixture('any-sll.pcap').slice(0, 2)).toEqual([
      'Out 02:42:ac:10:01:02, IPv4 172.16.1.2 > 172.16.1.3: ICMP echo-request id 262 seq 1',
      'In 02:42:ac:10:01:03, IPv4 172.16.1.3 > 172.16.1.2: ICMP echo-reply id 262 seq 1',
    ]);
    expect(describeFixture('any-sll2.pcap')[0]).toBe(
      'Out ifindex 2 02:42:ac:10:01:02, IPv4 172.16.1.2 > 172.16.1.3: ICMP echo-request id 265 seq 1',
    );
  });

  it('describes an ICMP error with the quoted packet', () => {
    expect(describeFixture('icmp-unreachable.pcap')[3]).toBe(
      '02:42:0a:01:00:01 > 02:42:0a:01:00:02, IPv4 10.1.0.1 > 10.1.0.2: ICMP unreachable code 0 (net unreachable), quoting 10.1.0.2 > 10.99.0.7 ICMP',
    );
  });

  it('describes TCP with flags, fragments and VLAN tags', () => {
    expect(describeFixture('tcp.pcap')).toEqual([
      '02:42:ac:10:01:02 > 02:42:ac:10:01:03, IPv4 172.16.1.2:40000 > 172.16.1.3:8080: TCP [S]',
      '02:42:ac:10:01:03 > 02:42:ac:10:01:02, IPv4 172.16.1.3:8080 > 172.16.1.2:40000: TCP [S.]',
      '02:42:ac:10:01:02 > 02:42:ac:10:01:03, IPv4 172.16.1.2:40000 > 172.16.1.3:8080: TCP [.]',
    ]);
    expect(describeFixture('fragments.pcap').slice(1)).toEqual([
      '02:42:ac:10:01:02 > 02:42:ac:10:01:03, IPv4 172.16.1.2 > 172.16.1.3: fragment id 13125 offset 1480+ ICMP',
      '02:42:ac:10:01:02 > 02:42:ac:10:01:03, IPv4 172.16.1.2 > 172.16.1.3: fragment id 13125 offset 2960 ICMP',
    ]);
    expect(describeFixture('vlan.pcap')[0]).toBe(
      '02:42:ac:10:01:02 > 02:42:ac:10:01:03, vlan 100, IPv4 172.16.1.2 > 172.16.1.3: ICMP echo-request id 54 seq 1',
    );
  });
});

describe('describePacket on hand-made packets', () => {
  it('describes plain UDP, unknown protocols and EtherTypes, and nothing at all', () => {
    expect(
      describePacket({
        ipv4: { src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, ttl: 64, totalLength: 40, id: 1 },
        udp: { srcPort: 5353, dstPort: 53, length: 20 },
      }),
    ).toBe('IPv4 10.0.0.1:5353 > 10.0.0.2:53: UDP length 20');
    expect(describePacket({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', protocol: 47, ttl: 64, totalLength: 40, id: 1 } })).toBe(
      'IPv4 10.0.0.1 > 10.0.0.2: proto 47',
    );
    expect(describePacket({ eth: { src: '02:00:00:00:00:01', dst: '33:33:00:00:00:16', etherType: 0x86dd } })).toBe(
      '02:00:00:00:00:01 > 33:33:00:00:00:16, IPv6',
    );
    expect(describePacket({ eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', etherType: 0x88cc } })).toBe(
      '02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 0x88cc',
    );
    expect(describePacket(decodePacket(new Uint8Array(), 1))).toBe('[truncated]');
    expect(describePacket({})).toBe('empty packet');
  });

  it('describes time-exceeded and other ICMP types', () => {
    const ip = { src: '10.0.0.254', dst: '10.0.0.1', protocol: 1, ttl: 64, totalLength: 56, id: 2 };
    const quoted = { src: '10.0.0.1', dst: '8.8.8.8', protocol: 17, ttl: 1, totalLength: 60, id: 3 };
    expect(describePacket({ ipv4: ip, icmp: { type: 11, code: 0, kind: 'time-exceeded', quoted } })).toBe(
      'IPv4 10.0.0.254 > 10.0.0.1: ICMP time-exceeded code 0 (ttl exceeded in transit), quoting 10.0.0.1 > 8.8.8.8 UDP',
    );
    expect(describePacket({ ipv4: ip, icmp: { type: 3, code: 15, kind: 'unreachable' }, truncated: true })).toBe(
      'IPv4 10.0.0.254 > 10.0.0.1: ICMP unreachable code 15 [truncated]',
    );
    expect(describePacket({ ipv4: ip, icmp: { type: 5, code: 1, kind: 'other' } })).toBe(
      'IPv4 10.0.0.254 > 10.0.0.1: ICMP type 5 code 1',
    );
  });
});
