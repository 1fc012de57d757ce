import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { LabReferences } from '../../src/lab/lab-references.js';
import { describeMatch, matchesPacket, resolvePacketMatch } from '../../src/checks/packet-match.js';
import { evaluatePing } from '../../src/checks/ping-verdict.js';
import { parsePingStatistics } from '../../src/probes/ping.js';
import type { DecodedPacket } from '../../src/pcap/packet.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const names = new LabReferences(lab);

const echo: DecodedPacket = {
  eth: { src: '02:42:c0:a8:32:02', dst: '02:42:c0:a8:32:03', etherType: 0x0800 },
  ipv4: { src: '172.16.1.2', dst: '172.16.2.2', protocol: 1, ttl: 63, totalLength: 84, id: 1 },
  icmp: { type: 8, code: 0, kind: 'echo-request', id: 5, seq: 1 },
};

const vxlan: DecodedPacket = {
  eth: { src: '02:42:c0:a8:32:02', dst: '02:42:c0:a8:32:03', etherType: 0x0800 },
  ipv4: { src: '192.168.50.2', dst: '192.168.50.3', protocol: 17, ttl: 64, totalLength: 134, id: 2 },
  udp: { srcPort: 40000, dstPort: 8472, length: 114 },
  vxlan: { vni: 1 },
  encapsulation: 'vxlan',
  inner: echo,
};

describe('LabReferences', () => {
  it('resolves hosts, pods, nodes, interfaces and literals', () => {
    expect(names.ip('host1/pod1')).toBe('172.16.1.2');
    expect(names.ip('host2')).toBe('192.168.50.3');
    expect(names.ip('host1:docker0')).toBe('172.16.1.1');
    expect(names.mac('host1:eth0')).toBe('02:42:c0:a8:32:02');
    expect(names.ip('outside')).toBe('192.168.50.254');
    expect(names.ip('10.1.2.3')).toBe('10.1.2.3');
    expect(names.mac('02:AA:bb:cc:dd:ee')).toBe('02:aa:bb:cc:dd:ee');
    expect(names.endpoint('host2/pod1')).toEqual({ container: 'overlab-demo-host2', netns: 'pod1', label: 'host2/pod1' });
    expect(names.captureTarget('host1/pod1:eth0')).toMatchObject({ netns: 'pod1', iface: 'eth0' });
    expect(names.captureTarget('host1:docker0')).toMatchObject({ container: 'overlab-demo-host1', iface: 'docker0' });
  });
  it('rejects names that are not in the lab', () => {
    expect(() => names.ip('host3')).toThrow(/names nothing in lab demo/);
    expect(() => names.ip('host1/pod9')).toThrow(/host1\/pod9/);
    expect(() => names.endpoint('host1/pod9')).toThrow();
  });
  it('knows which addresses are inside the lab', () => {
    expect(names.isInsideLab('172.16.9.9')).toBe(true);
    expect(names.isInsideLab('192.168.50.77')).toBe(true);
    expect(names.isInsideLab('8.8.8.8')).toBe(false);
    expect(names.isInsideLab('10.0.0.1')).toBe(false);
  });
});

describe('matchesPacket', () => {
  it('matches on every field it is given', () => {
    const m = resolvePacketMatch({ proto: 'icmp', src: 'host1/pod1', dst: 'host2/pod1', srcMac: 'host1:eth0', icmpType: 'echo-request' }, names);
    expect(matchesPacket(echo, m)).toBe(true);
    expect(matchesPacket(echo, { ...m, icmpType: 'echo-reply' })).toBe(false);
    expect(matchesPacket(echo, { ...m, dstMac: '02:42:00:00:00:00' })).toBe(false);
    expect(matchesPacket(echo, { proto: 'udp' })).toBe(false);
    expect(matchesPacket(echo, { icmpType: 8 })).toBe(true);
  });
  it('looks inside encapsulation', () => {
    const m = resolvePacketMatch({ proto: 'vxlan', vni: 1, dstPort: 8472, src: 'host1', inner: { proto: 'icmp', src: 'host1/pod1' } }, names);
    expect(matchesPacket(vxlan, m)).toBe(true);
    expect(matchesPacket(vxlan, { ...m, vni: 2 })).toBe(false);
    expect(matchesPacket(vxlan, { ...m, inner: { src: '172.16.1.3' } })).toBe(false);
    expect(matchesPacket(echo, { inner: {} })).toBe(false);
  });
  it('describes an expectation for a failure line', () => {
    expect(describeMatch({ proto: 'icmp', src: '172.16.1.2', dst: '172.16.2.2' })).toBe('icmp 172.16.1.2 > 172.16.2.2');
    expect(describeMatch({})).toBe('any packet');
  });
});

describe('ping', () => {
  it('parses iputils statistics', () => {
    const out = '--- 172.16.1.3 ping statistics ---\n3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.051/0.067/0.083/0.016 ms\n';
    expect(parsePingStatistics(out)).toEqual({ transmitted: 3, received: 2, rttAvgMs: 0.067 });
    expect(parsePingStatistics('2 packets transmitted, 0 received, +2 errors, 100% packet loss')).toEqual({ transmitted: 2, received: 0 });
    expect(parsePingStatistics('')).toEqual({ transmitted: 0, received: 0 });
  });
  it('judges against the expectation', () => {
    const ok = { from: 'a', to: '1.1.1.1', transmitted: 3, received: 3, exitCode: 0 };
    const none = { from: 'a', to: '1.1.1.1', transmitted: 3, received: 0, exitCode: 1 };
    expect(evaluatePing(ok, 'reachable').status).toBe('pass');
    expect(evaluatePing(none, 'reachable')).toMatchObject({ status: 'fail', reason: 'expected replies from 1.1.1.1, got none' });
    expect(evaluatePing(none, 'unreachable').status).toBe('pass');
    expect(evaluatePing(ok, 'unreachable').reason).toMatch(/3 replies came back/);
  });
});

describe('probe targets', () => {
  it('refuses any address outside the lab', () => {
    expect(names.probeTarget('host2/pod1')).toBe('172.16.2.2');
    expect(names.probeTarget('172.16.200.1')).toBe('172.16.200.1');
    expect(() => names.probeTarget('8.8.8.8')).toThrow(/outside lab demo/);
    expect(() => names.probeTarget('10.0.0.1')).toThrow(/only probes the lab's own addresses/);
  });
});
