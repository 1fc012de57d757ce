// What `up` runs on a host for Services (as data), and the service check's verdict on
// observations: balanced, a silent endpoint, answers from a stranger, a skewed spread, refused,
// and a Service without endpoints that times out instead of refusing.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { planCommands } from '../../src/plan/node-plan.js';
import { kubeProxyPrepPlan, kubeProxyRuleLoad, nfacctNewArgv, proxyServicePorts, serveDaemon } from '../../src/plan/service-plan.js';
import { judgeService, type ServiceObservation } from '../../src/checks/service-verdict.js';
import type { AskResult } from '../../src/shared/pod-reply.js';
import { daemonNameProblem } from '../../src/plan/node-init.js';

const spec = (mode: string, attach = 'ip') => `name: svc
network: { cidr: 10.244.0.0/16, backend: host-gw, bridge: cni0, podAttach: ${attach} }
underlay: { subnet: 192.168.50.0/24 }
proxyMode: ${mode}
hosts:
  - name: host1
    pods: [{ name: web1, serve: [{ port: 8080 }] }, client]
  - name: host2
    pods: [{ name: web2, serve: [{ port: 8080 }, { port: 53, protocol: UDP }] }]
services:
  - { name: web, type: NodePort, ports: [{ name: http, port: 80, targetPort: 8080 }], endpoints: [host1/web1, host2/web2] }
`;
const lab = (mode = 'iptables', attach = 'ip') => resolveLab(parseLabSpec(spec(mode, attach), 'svc.yaml'), { takenSubnets: [] });

describe('the service plan', () => {
  it('endpoints are the pods\' addresses in the model, on their own nodes', () => {
    expect(proxyServicePorts(lab())).toEqual([
      {
        name: { namespace: 'default', name: 'web', port: 'http' },
        protocol: 'tcp',
        clusterIP: '10.96.0.10',
        port: 80,
        nodePort: 30000,
        endpoints: [
          { ip: '10.244.1.2', port: 8080, nodeName: 'host1', ready: true },
          { ip: '10.244.2.2', port: 8080, nodeName: 'host2', ready: true },
        ],
      },
    ]);
  });

  it('iptables mode: route, hairpin, then kube-proxy\'s start-up (route_localnet, nfacct, chains, jumps) before one restore', () => {
    const l = lab();
    const cmds = planCommands(kubeProxyPrepPlan(l, l.hosts[0]!));
    expect(cmds[0]).toEqual(['ip', 'route', 'replace', '10.96.0.0/12', 'dev', 'eth0']);
    expect(cmds).toContainEqual(['bridge', 'link', 'set', 'dev', l.hosts[0]!.pods[0]!.hostVeth, 'hairpin', 'on']);
    expect(cmds).toContainEqual(['sysctl', '-q', '-w', 'net.ipv4.conf.all.route_localnet=1']);
    expect(cmds).toContainEqual(nfacctNewArgv('ct_state_invalid_dropped_pkts'));
    expect(cmds.findIndex((c) => c.includes('-N'))).toBeLessThan(cmds.findIndex((c) => c.includes('-I')));
    const load = kubeProxyRuleLoad(l, l.hosts[0]!);
    expect(load.argv).toEqual(['iptables-restore', '-w', '5', '-W', '100000', '--noflush', '--counters']);
    expect(load.stdin).toContain('-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-');
    expect(load.stdin).toContain('-m nfacct --nfacct-name localhost_nps_accepted_pkts');
  });

  it('nftables mode: no iptables start-up; nft -f with this host\'s address in nodeport-ips', () => {
    const l = lab('nftables');
    const cmds = planCommands(kubeProxyPrepPlan(l, l.hosts[1]!));
    expect(cmds.some((c) => c[0] === 'iptables')).toBe(false);
    const load = kubeProxyRuleLoad(l, l.hosts[1]!);
    expect(load.argv).toEqual(['nft', '-f', '-']);
    expect(load.stdin).toContain('add element ip kube-proxy nodeport-ips { 192.168.50.3 }');
    expect(load.stdin).toContain('numgen random mod 2 vmap');
  });

  it('a CNI host leaves hairpin to the bridge plugin', () => {
    const l = lab('iptables', 'cni');
    expect(planCommands(kubeProxyPrepPlan(l, l.hosts[0]!)).some((c) => c[0] === 'bridge')).toBe(false);
  });

  it('a pod server is a daemon of its host\'s supervisor: argv, node in the pod\'s namespace, its ports, its output to a file', () => {
    const pod = lab().hosts[1]!.pods[0]!;
    expect(serveDaemon(pod)).toEqual({
      name: 'serve-web2',
      output: '/run/overlab/serve-web2.log',
      argv: ['ip', 'netns', 'exec', 'web2', '/usr/bin/node', '/opt/overlab/pod-tools/serve.js', '--pod', 'web2', '--host', 'host2', '--listen', 'tcp:8080', '--listen', 'udp:53'],
    });
    expect(daemonNameProblem(serveDaemon(pod).name)).toBeUndefined();
  });
});

const endpoint = (destination: string, probability = 0.5) => ({ chain: `KUBE-SEP-${destination}`, destination, probability });
const reply = (pod: string, host: string, addr: string): AskResult['reply'] => ({ pod, host, protocol: 'tcp', addr, port: 8080, peer: '10.244.1.3', peerPort: 40000 });
const answers = (n: number, pod: string, host: string, addr: string): AskResult[] => Array.from({ length: n }, (_, i) => ({ seq: i, ms: 1, reply: reply(pod, host, addr) }));
const failures = (n: number, failure: AskResult['failure']): AskResult[] => Array.from({ length: n }, (_, i) => ({ seq: i, ms: 1000, failure }));

function observation(results: AskResult[], endpoints = [endpoint('10.244.1.2:8080'), endpoint('10.244.2.2:8080')]): ServiceObservation {
  return {
    target: '10.96.0.10:80',
    protocol: 'tcp',
    node: 'host1',
    mode: 'iptables',
    frontend: { kind: 'service', via: 'address', service: { chain: 'KUBE-SVC-X', protocol: 'tcp', addresses: [{ address: '10.96.0.10', port: 80 }], nodePorts: [], endpoints } },
    results,
    flows: [],
    requested: results.length,
    pods: { '10.244.1.2': 'host1/web1', '10.244.2.2': 'host2/web2' },
  };
}

describe('the service verdict', () => {
  it('an even spread passes and says the ranges', () => {
    const v = judgeService(observation([...answers(148, 'web1', 'host1', '10.244.1.2'), ...answers(152, 'web2', 'host2', '10.244.2.2')]), 'balanced');
    expect(v.status).toBe('pass');
    expect(v.seen).toContain('host1/web1 (10.244.1.2:8080) 148, host2/web2 (10.244.2.2:8080) 152 (each 107..193 for p=50%, α=1e-6)');
  });

  it('the same-node endpoint never answers: named, with the failures', () => {
    const v = judgeService(observation([...answers(20, 'web2', 'host2', '10.244.2.2'), ...failures(19, 'timeout')]), 'balanced');
    expect(v.status).toBe('fail');
    expect(v.reason).toBe('19 of 39 requests were not answered (19 timeout); never answered: host1/web1 (10.244.1.2:8080)');
  });

  it('a stale endpoint nobody has', () => {
    const v = judgeService(observation(answers(10, 'web2', 'host2', '10.244.2.2'), [endpoint('10.244.1.9:8080'), endpoint('10.244.2.2:8080')]), 'balanced');
    expect(v.reason).toBe('never answered: 10.244.1.9:8080 (no pod has 10.244.1.9) — every endpoint must answer some of 10 requests');
  });

  it('rules that answer as they promise but are not the Service\'s endpoints (one missing: stale rules)', () => {
    const o = { ...observation(answers(300, 'web2', 'host2', '10.244.2.2'), [endpoint('10.244.2.2:8080', 1)]), expected: ['10.244.1.2:8080', '10.244.2.2:8080'] };
    const v = judgeService(o, 'balanced');
    expect(v.status).toBe('fail');
    expect(v.reason).toBe("host1's rules hold 1 endpoint of the Service's 2: missing host1/web1 (10.244.1.2:8080) — the rules are not the Service's");
    expect(judgeService({ ...o, expected: ['10.244.2.2:8080'] }, 'balanced').status).toBe('pass');
  });

  it('answers from a pod that is not an endpoint', () => {
    const v = judgeService(observation([...answers(150, 'web1', 'host1', '10.244.1.2'), ...answers(150, 'db', 'host2', '10.244.2.9')]), 'balanced');
    expect(v.reason).toBe('150 answers came from outside the Service\'s endpoints: host2/db (10.244.2.9:8080)');
  });

  it('all to one endpoint is not a spread', () => {
    const v = judgeService(observation(answers(300, 'web1', 'host1', '10.244.1.2')), 'balanced');
    expect(v.status).toBe('fail');
    expect(v.reason).toBe('never answered: host2/web2 (10.244.2.2:8080) — every endpoint must answer some of 300 requests');
    expect(v.spread?.endpoints.map((e) => e.ok)).toEqual([false, false]);
  });

  it('refused: every request refused passes, with the rule that refuses', () => {
    const o: ServiceObservation = { ...observation(failures(5, 'refused')), frontend: { kind: 'refused', refused: { protocol: 'tcp', address: '10.96.0.11', port: 80, verdict: 'REJECT', rule: '-A KUBE-SERVICES … -j REJECT' } } };
    const v = judgeService(o, 'refused');
    expect(v).toMatchObject({ status: 'pass', seen: '5 requests to 10.96.0.10:80: 5 refused; host1 holds REJECT for it: -A KUBE-SERVICES … -j REJECT' });
  });

  it('refused, but they timed out: that is not what kube-proxy does', () => {
    const v = judgeService({ ...observation(failures(5, 'timeout')), frontend: undefined }, 'refused');
    expect(v.reason).toBe("5 of 5 requests timed out: a Service without endpoints must be refused (kube-proxy's REJECT, an ICMP port unreachable), not left to time out — host1's rules hold no REJECT for 10.96.0.10:80");
  });
});

import { parseSnapshot, normalizeNftTable } from '../../src/faults/snapshot.js';
import { diffState, describeChange } from '../../src/faults/kernel-change.js';
import { restorePlan } from '../../src/faults/restore-plan.js';
import { iptablesRestoreText } from '../../src/plan/kube-proxy-iptables.js';
import { proxierSettings } from '../../src/plan/service-plan.js';

describe('what service faults change, and how clear puts it back', () => {
  const ns = { node: 'host1', container: 'c' };
  const state = (hairpin: boolean, brnf: string, nft: string) =>
    parseSnapshot(
      [
        '@@links',
        JSON.stringify([{ ifname: 'veth1', flags: ['UP'], mtu: 1450, master: 'cni0', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge', info_slave_data: { hairpin } } }]),
        '@@sysctl',
        `/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/bridge/bridge-nf-call-iptables:${brnf}`,
        '@@nft',
        nft,
      ].join('\n'),
    );

  it('hairpin, bridge-nf-call-iptables and kube-proxy\'s nft table are part of the kernel state', () => {
    const s = state(true, '1', 'table ip kube-proxy { # handle 7\n\tchain services { # handle 3\n\t}\n}');
    expect(s.links.veth1!.hairpin).toBe(true);
    expect(s.sysctl['net/bridge/bridge-nf-call-iptables']).toBe('1');
    expect(s.nft).toBe('table ip kube-proxy {\n\tchain services {\n\t}\n}');
    expect(normalizeNftTable('')).toBe('');
  });

  it('each change is recorded, described and undone with argv (the nft table through stdin)', () => {
    const before = state(true, '1', 'table ip kube-proxy {\n}');
    const after = state(false, '0', 'table ip kube-proxy {\n\tchain x {\n\t}\n}');
    const changes = diffState(ns, before, after);
    expect(changes.map(describeChange)).toEqual([
      'veth1 hairpin off (was on)',
      'net.bridge.bridge-nf-call-iptables = 0 (was 1)',
      'nft table ip kube-proxy changed (0 lines gone, 2 new)',
    ]);
    const links = restorePlan(changes, after, 'links').commands.map((c) => c.argv);
    expect(links).toEqual([['ip', 'link', 'set', 'dev', 'veth1', 'type', 'bridge_slave', 'hairpin', 'on']]);
    const entries = restorePlan(changes, after, 'entries').commands;
    expect(entries.map((c) => c.argv)).toEqual([['nft', '-f', '-']]);
    expect(entries[0]!.stdin).toBe('add table ip kube-proxy\ndelete table ip kube-proxy\ntable ip kube-proxy {\n}\n');
    expect(restorePlan(changes, after, 'settle').commands.map((c) => c.argv)).toEqual([['sysctl', '-q', '-w', 'net/bridge/bridge-nf-call-iptables=1']]);
    expect(restorePlan(changes, before, 'settle').commands).toEqual([]);
  });

  it('a resync deletes the Service chains no longer used, as kube-proxy does (TestSyncProxyRulesRepeated, "Delete a service")', () => {
    const l = lab();
    const text = iptablesRestoreText(proxierSettings(l, l.hosts[0]!), [], ['KUBE-SEP-UHEGFW77JX3KXTOV', 'KUBE-SVC-2VJB64SDSIJUP5T6', 'KUBE-SERVICES', 'KUBE-MARK-MASQ']);
    expect(text).toContain(':KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]\n');
    expect(text).toContain('-X KUBE-SEP-UHEGFW77JX3KXTOV\n-X KUBE-SVC-2VJB64SDSIJUP5T6\n-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports');
    expect(text).not.toContain('-X KUBE-SERVICES');
  });
});
