// Our iptables and nftables layouts against the expected outputs in kube-proxy's own tests. The
// fixtures under test/fixtures/kube-proxy/ reproduce, as text, the expected rule sets of:
//   - kubernetes pkg/proxy/iptables/proxier_test.go, TestOverallIPTablesRules (the revision whose
//     fake proxier has nfacct counters): iptables-overall.txt
//   - kubernetes pkg/proxy/iptables/proxier_test.go, TestSyncProxyRulesRepeated, its first (full)
//     sync (a revision without nfacct counters): iptables-repeated-first-sync.txt
//   - kubernetes pkg/proxy/nftables/proxier_test.go, baseRules + TestOverallNFTablesRules (the
//     revision with cluster-ips-check and filter-prerouting-pre-dnat): nftables-overall.txt
// Both sides are put in the canonical order kube-proxy's tests use before comparing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iptablesEndpointChain, iptablesServiceChains, nftEndpointChainBase, nftServiceChainBase } from '../../src/plan/kube-proxy-names.js';
import { iptablesJumpRules, iptablesRestoreText, jumpRuleArgv, probability } from '../../src/plan/kube-proxy-iptables.js';
import { nftablesRulesText } from '../../src/plan/kube-proxy-nftables.js';
import type { ProxierSettings, ProxyServicePort } from '../../src/plan/kube-proxy-model.js';
import { canonicalIptables, canonicalNftables } from '../support/kube-proxy-order.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/kube-proxy/${name}`, import.meta.url), 'utf8');

/** NewFakeProxier's settings in kube-proxy's tests. */
const fakeProxier: ProxierSettings = {
  nodeName: 'test-node',
  nodeIP: '192.168.0.2',
  clusterCIDR: '10.0.0.0/8',
  masqueradeAll: false,
  masqueradeMark: '0x4000',
  localhostNodePorts: true,
  randomFully: false,
  nfacctCounters: true,
  conntrackTCPLiberal: false,
  serviceCIDRs: ['172.30.0.0/16'],
  nodePortIPs: ['192.168.0.2'],
};

const p80 = (ns: string, name: string) => ({ namespace: ns, name, port: 'p80' });
const ep = (ip: string, nodeName?: string) => ({ ip, port: 80, ready: true, ...(nodeName ? { nodeName } : {}) });

/** The six Services of TestOverallIPTablesRules / TestOverallNFTablesRules. */
const overallServices: ProxyServicePort[] = [
  { name: p80('ns1', 'svc1'), protocol: 'tcp', clusterIP: '172.30.0.41', port: 80, endpoints: [ep('10.180.0.1')] },
  {
    name: p80('ns2', 'svc2'), protocol: 'tcp', clusterIP: '172.30.0.42', port: 80, nodePort: 3001,
    loadBalancerIPs: ['1.2.3.4'], externalIPs: ['192.168.99.22'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000,
    endpoints: [ep('10.180.0.2')],
  },
  { name: p80('ns3', 'svc3'), protocol: 'tcp', clusterIP: '172.30.0.43', port: 80, nodePort: 3003, endpoints: [ep('10.180.0.3')] },
  {
    name: p80('ns4', 'svc4'), protocol: 'tcp', clusterIP: '172.30.0.44', port: 80, externalIPs: ['192.168.99.33'],
    endpoints: [ep('10.180.0.4'), ep('10.180.0.5', 'test-node')],
  },
  {
    name: p80('ns5', 'svc5'), protocol: 'tcp', clusterIP: '172.30.0.45', port: 80, nodePort: 3002,
    loadBalancerIPs: ['5.6.7.8'], externalTrafficPolicy: 'Cluster', healthCheckNodePort: 30000,
    loadBalancerSourceRanges: [' 203.0.113.0/25'], affinitySeconds: 10800, endpoints: [ep('10.180.0.3')],
  },
  { name: p80('ns6', 'svc6'), protocol: 'tcp', clusterIP: '172.30.0.46', port: 80, endpoints: [] },
];

describe('chain names as kube-proxy hashes them', () => {
  it('KUBE-SVC and KUBE-SEP names match the worked examples', () => {
    expect(iptablesServiceChains({ namespace: 'default', name: 'kubernetes', port: 'https' }, 'tcp').cluster).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(iptablesServiceChains({ namespace: 'kube-system', name: 'kube-dns', port: 'dns' }, 'udp').cluster).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(iptablesEndpointChain(p80('ns1', 'svc1'), 'tcp', '10.180.0.1', 80)).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    // proxier_test.go TestSyncProxyRulesLargeClusterMode
    expect(iptablesEndpointChain({ namespace: 'ns4', name: 'svc4', port: 'p8082' }, 'tcp', '10.4.0.1', 8082)).toBe('KUBE-SEP-SU5STNODRYEWJAUF');
    expect(iptablesServiceChains({ namespace: 'ns4', name: 'svc4', port: 'p8082' }, 'tcp').cluster).toBe('KUBE-SVC-EBDQOQU5SJFXRIL3');
  });

  it('nftables chain bases carry the 8-character hash and the readable name', () => {
    expect(nftServiceChainBase(p80('ns1', 'svc1'), 'tcp')).toBe('ULMVA6XW-ns1/svc1/tcp/p80');
    expect(nftEndpointChainBase(p80('ns1', 'svc1'), 'tcp', '10.180.0.1', 80)).toBe('5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });

  it('a protocol changes the hash: the same port name over UDP is another chain', () => {
    const spn = { namespace: 'default', name: 'web', port: 'dns' };
    expect(iptablesServiceChains(spn, 'udp').cluster).not.toBe(iptablesServiceChains(spn, 'tcp').cluster);
  });
});

describe('iptables mode', () => {
  it('probabilities are 1/(n−i) printed with ten decimals', () => {
    expect([3, 2].map(probability)).toEqual(['0.3333333333', '0.5000000000']);
    expect(probability(7)).toBe('0.1428571429');
  });

  it('TestOverallIPTablesRules: the same restore text, rule for rule', () => {
    const ours = iptablesRestoreText(fakeProxier, overallServices);
    expect(canonicalIptables(ours)).toBe(canonicalIptables(fixture('iptables-overall.txt')));
  });

  it('the canonical order does not hide a difference: one changed endpoint fails the comparison', () => {
    const changed = overallServices.map((s) => (s.name.name === 'svc1' ? { ...s, endpoints: [ep('10.180.0.9')] } : s));
    expect(canonicalIptables(iptablesRestoreText(fakeProxier, changed))).not.toBe(canonicalIptables(fixture('iptables-overall.txt')));
  });

  it('TestSyncProxyRulesRepeated (first sync, no nfacct counters)', () => {
    const services: ProxyServicePort[] = [
      { name: p80('ns1', 'svc1'), protocol: 'tcp', clusterIP: '172.30.0.41', port: 80, endpoints: [{ ip: '10.0.1.1', port: 80, ready: true }] },
      { name: { namespace: 'ns2', name: 'svc2', port: 'p8080' }, protocol: 'tcp', clusterIP: '172.30.0.42', port: 8080, endpoints: [{ ip: '10.0.2.1', port: 8080, ready: true }] },
    ];
    const ours = iptablesRestoreText({ ...fakeProxier, nfacctCounters: false }, services);
    expect(canonicalIptables(ours)).toBe(canonicalIptables(fixture('iptables-repeated-first-sync.txt')));
  });

  it('TestSyncProxyRulesLargeClusterMode: comments go once there are more than 1000 endpoints', () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${i % 256}.${Math.floor(i / 256)}`, port: 80, ready: true }));
    const svc = (endpoints: number): ProxyServicePort => ({ name: p80('ns1', 'svc1'), protocol: 'tcp', clusterIP: '172.30.0.41', port: 80, endpoints: many('10.0', endpoints) });
    const other: ProxyServicePort = { name: { namespace: 'ns2', name: 'svc2', port: 'p8080' }, protocol: 'tcp', clusterIP: '172.30.0.42', port: 8080, endpoints: many('10.1', 499).map((e) => ({ ...e, port: 8080 })) };
    const settings = { ...fakeProxier, masqueradeAll: true };
    const below = iptablesRestoreText(settings, [svc(499), other]);
    expect(below).toContain('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n');
    const above = iptablesRestoreText(settings, [svc(502), other]);
    expect(above).toContain('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n');
  });

  it('three endpoints: 1/3, 1/2, then the last one unconditionally', () => {
    const text = iptablesRestoreText(fakeProxier, [{ name: { namespace: 'default', name: 'web', port: 'http' }, protocol: 'tcp', clusterIP: '10.96.0.10', port: 80, endpoints: ['10.244.1.2', '10.244.2.2', '10.244.3.2'].map((ip) => ({ ip, port: 8080, ready: true })) }]);
    const lines = text.split('\n').filter((l) => l.startsWith('-A KUBE-SVC-') && l.includes(' -> '));
    expect(lines.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'last')).toEqual(['0.3333333333', '0.5000000000', 'last']);
  });

  it('jump rules: argv kube-proxy runs, comments as single words, prepended in its order', () => {
    const rules = iptablesJumpRules();
    expect(jumpRuleArgv(rules.find((r) => r.chain === 'PREROUTING')!)).toEqual(['iptables', '-w', '5', '-W', '100000', '-t', 'nat', '-I', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']);
    expect(rules.filter((r) => r.table === 'filter' && r.chain === 'FORWARD').map((r) => r.args.at(-1))).toEqual(['KUBE-EXTERNAL-SERVICES', 'KUBE-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL']);
  });
});

describe('nftables mode', () => {
  it('baseRules + TestOverallNFTablesRules: the same objects, rules in the same order per chain', () => {
    const ours = nftablesRulesText(fakeProxier, overallServices);
    expect(canonicalNftables(ours)).toBe(canonicalNftables(fixture('nftables-overall.txt')));
  });

  it('objects come in an order nft -f accepts: every chain, set and map before a rule or element uses it', () => {
    const lines = nftablesRulesText(fakeProxier, overallServices).split('\n').filter(Boolean);
    const kinds = lines.map((l) => l.split(' ')[1]);
    const lastDeclaration = Math.max(...['table', 'set', 'map', 'chain'].map((k) => kinds.lastIndexOf(k)));
    const firstUse = Math.min(...['rule', 'element'].map((k) => kinds.indexOf(k)));
    expect(lastDeclaration).toBeLessThan(firstUse);
  });
});
