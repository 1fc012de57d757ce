// The probe's argv, the snapshot and route-get parsers, and the iptables reader: pure pieces of
// a trace, on real outputs.
import { describe, expect, it } from 'vitest';
import { buildProbe, localProbeError } from '../../src/trace/probe.js';
import { parseSnapshot, snapshotArgs } from '../../src/trace/kernel-snapshot.js';
import { parseRouteGet } from '../../src/trace/route-get.js';
import { lookupRoute } from '../../src/trace/route-lookup.js';
import { evaluateChain, grownRules, parseIptablesSave } from '../../src/trace/iptables-rules.js';
import { loadTraceFixture } from './trace-fixture.js';

const fixed = { bytes: (n: number) => Buffer.alloc(n, 0xab), int: () => 45_000 };

describe('probe argv', () => {
  it('ping: one echo, Don\'t Fragment, the marker as pattern, --size as the IPv4 length, bounded', () => {
    const p = buildProbe('10.244.2.2', { proto: 'icmp', port: 5000, reply: false, static: false, size: 1400 }, fixed);
    expect(p.argv.slice(0, 6)).toEqual(['timeout', '-k', '2', '-s', 'INT', '3']);
    expect(p.argv.slice(6)).toEqual(['env', 'LC_ALL=C', 'ping', '-n', '-c', '1', '-W', '1', '-M', 'do', '-p', 'ab'.repeat(16), '-s', '1372', '10.244.2.2']);
    expect(p.length).toBe(1400);
  });

  it('udp: socat from a chosen source port, the marker text on stdin; tcp: a SYN from a chosen port', () => {
    const u = buildProbe('10.244.2.2', { proto: 'udp', port: 53, reply: false, static: false }, fixed);
    expect(u.argv.at(-1)).toBe('UDP:10.244.2.2:53,sourceport=45000');
    expect(u.stdin).toBe(`overlab-trace-${'ab'.repeat(8)}`);
    expect(Buffer.from(u.marker!).toString()).toBe(u.stdin);
    const t = buildProbe('10.244.2.2', { proto: 'tcp', port: 80, reply: false, static: false }, fixed);
    expect(t.argv.at(-1)).toBe('TCP:10.244.2.2:80,sourceport=45000,connect-timeout=0.9');
    expect(t.marker).toBeUndefined();
  });

  it('refuses sizes it cannot send', () => {
    expect(() => buildProbe('1.2.3.4', { proto: 'tcp', port: 80, reply: false, static: false, size: 100 })).toThrow(/does not apply/);
    expect(() => buildProbe('1.2.3.4', { proto: 'icmp', port: 80, reply: false, static: false, size: 20 })).toThrow(/out of range/);
  });

  it('reads what ping says when it cannot send', () => {
    expect(localProbeError('pid 12\nPATTERN: 0xab\nping: local error: message too long, mtu=1450\n')).toBe('ping: local error: message too long, mtu=1450');
    expect(localProbeError('', 124)).toBe('it exited 124 without a word');
  });
});

describe('kernel snapshot', () => {
  const f = loadTraceFixture('flannel-vxlan');
  const host1 = parseSnapshot('host1', 'c', f.before[f.lab.hosts[0]!.container]!);

  it('reads links with counters, routes, neighbours, FDB, nstat, sysctls and the route answers', () => {
    const own = host1.namespaces.find((n) => !n.netns)!;
    expect(host1.namespaces.map((n) => n.netns ?? '-')).toEqual(['-', 'pod1']);
    expect(own.links.find((l) => l.name === 'flannel.1')).toMatchObject({ kind: 'vxlan', mtu: 1450, vxlan: { vni: 1, port: 8472 } });
    expect(own.links.find((l) => l.name === 'veth-pod1')!.master).toBe('docker0');
    expect(own.routes.some((r) => r.dst === '10.244.2.0/24' && r.gateway === '10.244.2.0' && r.onlink)).toBe(true);
    expect(own.neighbours.some((n) => n.ip === '10.244.2.0' && n.dev === 'flannel.1' && n.state.includes('PERMANENT'))).toBe(true);
    expect(host1.fdb.some((f) => f.dev === 'flannel.1' && f.dst)).toBe(true);
    expect(own.sysctls['net.ipv4.ip_forward']).toBe('1');
    expect(Object.keys(own.nstat)).toContain('IpExtInNoRoutes');
    expect(own.routeAnswers.find((a) => !a.src)!.answer).toMatchObject({ kind: 'unicast', dev: 'flannel.1', gateway: '10.244.2.0' });
    expect(own.routeAnswers.find((a) => a.iif === 'docker0')!.answer).toMatchObject({ kind: 'unicast', dev: 'flannel.1' });
  });

  it('the longest prefix agrees with the kernel', () => {
    const own = host1.namespaces.find((n) => !n.netns)!;
    expect(lookupRoute(own, '10.244.2.2')).toMatchObject({ kind: 'unicast', dev: 'flannel.1', gateway: '10.244.2.0', matched: '10.244.2.0/24' });
    expect(lookupRoute(own, '10.244.1.1')).toMatchObject({ kind: 'local' });
    expect(lookupRoute(own, '8.8.8.8')).toMatchObject({ kind: 'none' });
  });

  it('passes addresses and names only as arguments', () => {
    expect(snapshotArgs(['pod1'], { dst: '10.244.2.2', src: '10.244.1.2', peers: ['192.168.50.3'] })).toEqual(['10.244.2.2', '10.244.1.2', '1', '192.168.50.3', 'pod1']);
    expect(snapshotArgs([])).toEqual(['-', '-', '0']);
    expect(parseRouteGet('RTNETLINK answers: Network is unreachable')).toEqual({ kind: 'none', kernel: 'Network is unreachable' });
  });
});

describe('iptables-save -c', () => {
  const before = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [3:180]\n[0:0] -A FORWARD -s 10.10.0.0/16 -d 10.20.0.0/16 -j DROP\n[5:300] -A FORWARD -i br-blue ! -o eth0 -j ACCEPT\n[0:0] -A FORWARD -m statistic --mode random --probability 0.5 -j DROP\nCOMMIT\n*nat\n[0:0] -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE\nCOMMIT\n');
  const after = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [3:180]\n[1:84] -A FORWARD -s 10.10.0.0/16 -d 10.20.0.0/16 -j DROP\n[5:300] -A FORWARD -i br-blue ! -o eth0 -j ACCEPT\nCOMMIT\n');

  it('evaluates the first matching rule, with negations, and never assumes an unknown match', () => {
    expect(evaluateChain(before, 'filter', 'FORWARD', { src: '10.10.1.2', dst: '10.20.2.2', proto: 'icmp' })!.rule!.text).toBe('-A FORWARD -s 10.10.0.0/16 -d 10.20.0.0/16 -j DROP');
    expect(evaluateChain(before, 'filter', 'FORWARD', { src: '10.10.1.2', dst: '10.10.2.2', proto: 'icmp', iif: 'br-blue', oif: 'flannel.10' })!.verdict).toBe('ACCEPT');
    expect(evaluateChain(before, 'filter', 'FORWARD', { src: '10.10.1.2', dst: '10.10.2.2', proto: 'icmp', iif: 'br-blue', oif: 'eth0' })!.verdict).toBe('DROP');
    expect(evaluateChain(before, 'nat', 'POSTROUTING', { src: '10.244.1.2', dst: '192.168.50.9', proto: 'icmp' })!.verdict).toBe('MASQUERADE');
    expect(evaluateChain(before, 'nat', 'POSTROUTING', { src: '10.244.1.2', dst: '10.244.2.2', proto: 'icmp' })).toBeUndefined();
  });

  it('finds the rules whose packet counters grew', () => {
    expect(grownRules(before, after).map((g) => [g.rule.text, g.before, g.after])).toEqual([['-A FORWARD -s 10.10.0.0/16 -d 10.20.0.0/16 -j DROP', 0, 1]]);
  });
});
