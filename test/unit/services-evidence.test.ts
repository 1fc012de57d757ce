// The readers of what a node shows about a Service: conntrack's flows, nft's rule-level trace and
// iptables' counters, on outputs captured from a real network namespace (test/fixtures/services/:
// a node with a bridge, two endpoint pods and a client, kube-proxy's rules loaded by hand).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeFlow, dnatTarget, parseConntrack, snatSource } from '../../src/trace/conntrack-entries.js';
import { dnatDestination, dnatEvent, dropEvent, parseTrace } from '../../src/trace/nft-trace.js';
import { frontendFor, programmedFromIptables, programmedFromNftJson } from '../../src/trace/programmed-services.js';
import { endpointProbabilities, iptablesRestoreText } from '../../src/plan/kube-proxy-iptables.js';
import { binomialRange, judgeSpread, spreadRanges } from '../../src/checks/service-spread.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/services/${name}`, import.meta.url), 'utf8');

describe('conntrack -L', () => {
  const flows = parseConntrack(fixture('conntrack-L.txt'));

  it('reads every flow with both tuples', () => {
    expect(flows).toHaveLength(6);
    expect(flows[0]).toMatchObject({ protocol: 'tcp', state: 'TIME_WAIT', flags: ['ASSURED'], original: { src: '10.244.1.4', dst: '10.96.0.10', dport: 80 }, reply: { src: '10.244.1.2', sport: 8080 } });
  });

  it('a client flow shows the DNAT to the pod and no masquerade', () => {
    expect(dnatTarget(flows[0]!)).toEqual({ src: '10.244.1.4', dst: '10.244.1.2', dport: 8080 });
    expect(snatSource(flows[0]!)).toBeUndefined();
    expect(describeFlow(flows[0]!)).toBe('tcp 10.244.1.4:53484 → 10.96.0.10:80, DNAT to 10.244.1.2:8080');
  });

  it('a pod reaching itself through its Service is also masqueraded (hairpin)', () => {
    const hairpin = flows[1]!;
    expect(dnatTarget(hairpin)?.dst).toBe('10.244.1.2');
    expect(snatSource(hairpin)).toEqual({ src: '10.244.1.1', dst: '10.244.1.2', sport: 61345 });
  });

  it('a flow nothing translated and nobody answered', () => {
    const udp = flows[5]!;
    expect(udp.state).toBeUndefined();
    expect(dnatTarget(udp)).toBeUndefined();
    expect(describeFlow(udp)).toBe('udp 10.244.1.4:42925 → 10.96.0.10:80, never answered');
  });

  it('ignores what is not a flow', () => {
    expect(parseConntrack('conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.\n')).toEqual([]);
  });
});

describe('nft monitor trace', () => {
  it('iptables mode: the SYN meets KUBE-SERVICES, KUBE-SVC (statistic as meta random), KUBE-SEP and its DNAT', () => {
    const journeys = parseTrace(fixture('nft-monitor-trace-iptables.txt'));
    const syn = journeys.find((j) => j.first.daddr === '10.96.0.10' && j.first.tcpFlags === 'syn')!;
    expect(syn.first).toMatchObject({ saddr: '10.244.1.4', protocol: 'tcp', dport: 80, iif: 'cni0' });
    const chains = syn.events.filter((e) => e.kind === 'rule').map((e) => e.chain);
    expect(chains).toEqual(expect.arrayContaining(['KUBE-SERVICES', 'KUBE-SVC-CDGGSHYLG3RE2FKL', 'KUBE-SEP-UIQK3OSOSTRHRPBX']));
    expect(syn.events.find((e) => e.chain === 'KUBE-SVC-CDGGSHYLG3RE2FKL')?.rule).toContain('meta random & 2147483647 < 1073741824');
    const dnat = dnatEvent(syn)!;
    expect(dnat.chain).toBe('KUBE-SEP-UIQK3OSOSTRHRPBX');
    expect(dnatDestination(dnat)).toBe('10.244.1.2:8080');
    expect(dnat.verdict).toBe('accept');
    // after the DNAT the forward hook sees the pod as destination
    expect(syn.events.find((e) => e.kind === 'packet' && e.chain === 'FORWARD')?.packet?.daddr).toBe('10.244.1.2');
  });

  it('iptables mode: the Service without endpoints meets REJECT in the filter table', () => {
    const journeys = parseTrace(fixture('nft-monitor-trace-iptables.txt'));
    const rejected = journeys.find((j) => j.first.daddr === '10.96.0.11')!;
    const drop = dropEvent(rejected)!;
    expect(drop).toMatchObject({ table: 'filter', chain: 'KUBE-SERVICES', verdict: 'drop' });
    expect(drop.rule).toContain('reject');
  });

  it('nftables mode: the verdict map names the endpoint chain numgen chose, with rule handles', () => {
    const journeys = parseTrace(fixture('nft-monitor-trace-nftables.txt'));
    const syn = journeys.find((j) => j.first.daddr === '10.96.0.10' && j.first.tcpFlags === 'syn')!;
    const numgen = syn.events.find((e) => e.rule?.startsWith('numgen random mod 2'))!;
    expect(numgen.verdict).toBe('goto endpoint-BBBBBBBB-default/web/tcp/http__10.244.1.3/8080');
    expect(numgen.handle).toBe(52);
    expect(dnatDestination(dnatEvent(syn)!)).toBe('10.244.1.3:8080');
    const rejected = journeys.find((j) => j.first.daddr === '10.96.0.11')!;
    expect(dropEvent(rejected)).toMatchObject({ chain: 'reject-chain', verdict: 'drop' });
  });

  it('every packet is its own journey even when the kernel reuses the trace id', () => {
    const journeys = parseTrace(fixture('nft-monitor-trace-nftables.txt'));
    const ids = journeys.map((j) => `${j.first.ipId} ${j.first.tcpFlags}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(journeys.length).toBeGreaterThan(4);
  });
});

describe('the spread a Service promises', () => {
  it('three endpoints chosen 1/3, 1/2, rest are equal shares', () => {
    const p = endpointProbabilities([1 / 3, 1 / 2, 1]);
    p.forEach((x) => expect(x).toBeCloseTo(1 / 3, 12));
  });

  it('300 requests over three endpoints: each must answer 60..143 times (alpha 1e-6)', () => {
    expect(spreadRanges(300, [1 / 3, 1 / 3, 1 / 3]).map((r) => [r.low, r.high])).toEqual([[60, 143], [60, 143], [60, 143]]);
  });

  it('the range is exact: the tails outside it hold no more than asked', () => {
    const r = binomialRange(20, 0.5, 0.01);
    // P(X <= 4) = 0.0059, P(X <= 5) = 0.0207 for Bin(20, 0.5)
    expect([r.low, r.high]).toEqual([5, 15]);
  });

  it('a fair spread passes, an endpoint that never answers fails, all to one fails', () => {
    const p = [1 / 3, 1 / 3, 1 / 3];
    expect(judgeSpread([97, 104, 99], p).ok).toBe(true);
    expect(judgeSpread([150, 150, 0], p).ok).toBe(false);
    expect(judgeSpread([300, 0, 0], p).endpoints.map((e) => e.ok)).toEqual([false, false, false]);
  });
});

describe('what the kernel holds for Services, read back from its rules', () => {
  it('iptables mode: the ClusterIP, its endpoints with the chain probabilities and DNAT counters, the REJECT', () => {
    const rules = programmedFromIptables(fixture('iptables-save-c.txt'));
    expect(rules.services).toHaveLength(1);
    const web = rules.services[0]!;
    expect(web).toMatchObject({ name: 'default/web:http', chain: 'KUBE-SVC-CDGGSHYLG3RE2FKL', protocol: 'tcp', addresses: [{ address: '10.96.0.10', port: 80 }] });
    expect(web.endpoints.map((e) => [e.chain, e.destination, e.probability, e.packets])).toEqual([
      ['KUBE-SEP-UIQK3OSOSTRHRPBX', '10.244.1.2:8080', 0.5, 5],
      ['KUBE-SEP-2AZ33KU3V5PGPQZH', '10.244.1.3:8080', 0.5, 0],
    ]);
    expect(rules.refused).toEqual([
      expect.objectContaining({ name: 'default/empty:http', address: '10.96.0.11', port: 80, protocol: 'tcp', verdict: 'REJECT' }),
    ]);
    expect(frontendFor(rules, '10.96.0.10', 80, 'tcp')).toMatchObject({ kind: 'service', via: 'address' });
    expect(frontendFor(rules, '10.96.0.11', 80, 'tcp')).toMatchObject({ kind: 'refused' });
    expect(frontendFor(rules, '10.96.0.10', 81, 'tcp')).toBeUndefined();
    expect(frontendFor(rules, '10.96.0.10', 80, 'udp')).toBeUndefined();
  });

  it('nftables mode: service-ips → numgen vmap → endpoint chains with their dnat, no-endpoint-services', () => {
    const rules = programmedFromNftJson(fixture('nft-j-list-table.json'));
    expect(rules.services).toHaveLength(1);
    expect(rules.services[0]!.name).toBe('default/web:http');
    expect(rules.services[0]!.endpoints.map((e) => [e.destination, e.probability])).toEqual([
      ['10.244.1.2:8080', 0.5],
      ['10.244.1.3:8080', 0.5],
    ]);
    expect(rules.refused).toEqual([expect.objectContaining({ name: 'default/empty:http', address: '10.96.0.11', port: 80, verdict: 'REJECT' })]);
  });

  it('our own generated layouts read back to the Services they were made from', () => {
    const settings = { nodeName: 'host1', nodeIP: '192.168.50.2', clusterCIDR: '10.244.0.0/16', masqueradeAll: false, masqueradeMark: '0x4000', localhostNodePorts: false, randomFully: true, nfacctCounters: false, conntrackTCPLiberal: false, serviceCIDRs: ['10.96.0.0/12'], nodePortIPs: ['192.168.50.2'] };
    const svc = { name: { namespace: 'default', name: 'web', port: 'http' }, protocol: 'tcp' as const, clusterIP: '10.96.0.10', port: 80, nodePort: 30080, endpoints: ['10.244.1.2', '10.244.2.2', '10.244.3.2'].map((ip) => ({ ip, port: 8080, ready: true })) };
    // iptables-save prints what the restore loaded; a restore text with [0:0] counters reads the same
    const saved = iptablesRestoreText(settings, [svc]).replace(/^-A /gm, '[0:0] -A ');
    const rules = programmedFromIptables(saved);
    expect(rules.services[0]!.nodePorts).toEqual([30080]);
    rules.services[0]!.endpoints.forEach((e) => expect(e.probability).toBeCloseTo(1 / 3, 9));
    expect(frontendFor(rules, '192.168.50.2', 30080, 'tcp', ['192.168.50.2'])).toMatchObject({ kind: 'service', via: 'nodePort' });
    expect(frontendFor(rules, '192.168.50.3', 30080, 'tcp', ['192.168.50.2'])).toBeUndefined();
  });
});

describe('a real lab (three hosts over flannel VXLAN, kube-proxy rules by overlab): host2', () => {
  const check = (rules: ReturnType<typeof programmedFromIptables>) => {
    const web = rules.services.find((s) => s.name === 'default/web:http')!;
    expect(web.addresses).toEqual([{ address: '10.96.0.10', port: 80 }]);
    expect(web.nodePorts).toEqual([30080]);
    expect(web.endpoints.map((e) => e.destination)).toEqual(['10.244.1.2:8080', '10.244.2.2:8080', '10.244.3.2:8080']);
    web.endpoints.forEach((e) => expect(e.probability).toBeCloseTo(1 / 3, 9));
    const udp = rules.services.find((s) => s.name === 'default/web-udp:dns')!;
    expect(udp).toMatchObject({ protocol: 'udp', addresses: [{ address: '10.96.0.12', port: 53 }] });
    expect(rules.refused.map((r) => [r.name, r.address ?? 'node', r.port, r.verdict])).toEqual(
      expect.arrayContaining([
        ['default/empty:http', '10.96.0.11', 80, 'REJECT'],
        ['default/empty:http', 'node', 30081, 'REJECT'],
      ]),
    );
    expect(frontendFor(rules, '192.168.54.3', 30081, 'tcp', ['192.168.54.3'])).toMatchObject({ kind: 'refused' });
    return web;
  };

  it('iptables mode: the NodePort leads through KUBE-EXT to KUBE-SVC; DNAT counters count flows', () => {
    const web = check(programmedFromIptables(fixture('lab-host2-iptables-save-c.txt')));
    expect(web.chain).toBe('KUBE-SVC-CDGGSHYLG3RE2FKL');
    expect(web.endpoints.reduce((n, e) => n + (e.packets ?? 0), 0)).toBe(20);
  });

  it('nftables mode: service-nodeports leads through external- to service-', () => {
    const web = check(programmedFromNftJson(fixture('lab-host2-nft.json')));
    expect(web.chain).toBe('service-SUSTUHLJ-default/web/tcp/http');
  });

  it('the NodePort trace: numgen chose endpoint 2 of 3, DNAT to host3/web3, then masquerade', () => {
    const journeys = parseTrace(fixture('lab-nodeport-trace-nftables.txt'));
    const syn = journeys.find((j) => j.first.dport === 30080 && j.first.tcpFlags === 'syn')!;
    expect(syn.events.find((e) => e.rule?.startsWith('numgen'))?.verdict).toBe('goto endpoint-VCVRTEPX-default/web/tcp/http__10.244.3.2/8080');
    expect(dnatDestination(dnatEvent(syn)!)).toBe('10.244.3.2:8080');
    expect(syn.events.some((e) => e.rule === 'masquerade fully-random')).toBe(true);
    const flows = parseConntrack(fixture('lab-nodeport-trace-nftables.txt'));
    expect(flows.length).toBeGreaterThan(0);
    expect(describeFlow(flows[0]!)).toMatch(/^tcp 192\.168\.54\.254:\d+ → 192\.168\.54\.3:30080, DNAT to 10\.244\.\d\.2:8080, source masqueraded to 10\.244\.2\.0:\d+$/);
  });
});
