// Traces through kube-proxy's rules, replayed from real labs (test/fixtures/trace/k8s-service-*,
// recorded with record.mjs from labs/k8s-service.yaml): the hop where the destination changes and
// which rule did it (the node's nft rule-level trace, the DNAT counter, conntrack's entry), the
// answer's un-DNAT, the answer that skipped it (bridge-nf-call-iptables = 0), a NodePort from
// outside in nftables mode (DNAT and masquerade, both undone on the way back), static walks that
// follow each endpoint, REJECT for a Service without endpoints, hairpin.
import { describe, expect, it } from 'vitest';
import { containerStates, fromNsOf, loadTraceFixture, replayLive, replayStatic } from './trace-fixture.js';
import { TraceWorld } from '../../src/trace/trace-world.js';
import { predictPath } from '../../src/trace/predict-path.js';
import { renderTrace } from '../../src/trace/trace-text.js';
import { palette } from '../../src/text/colour.js';

const plainPalette = palette(false);
import { serviceTraceTarget, traceOptionsFor } from '../../src/trace/service-target.js';
import { LabReferences } from '../../src/lab/lab-references.js';
import { parseWitnessOutput, witnessRules, START_WITNESS_SCRIPT, STOP_WITNESS_SCRIPT } from '../../src/trace/service-witness.js';
import { OverlabError } from '../../src/base/errors.js';
import { serviceHop } from '../../src/trace/service-hop.js';

const path = (hops: { node: string; iface: string; direction: string; leg: string }[], leg = 'request') => hops.filter((h) => h.leg === leg).map((h) => `${h.node}:${h.iface}:${h.direction}`);
const at = (hops: { node: string; iface: string; leg: string; change: string | null }[], node: string, iface: string, leg = 'request') => hops.find((h) => h.node === node && h.iface === iface && h.leg === leg)!;

describe('a pod through a ClusterIP to a pod on another node (iptables mode, live)', () => {
  const live = replayLive('k8s-service-clusterip');
  const r = live.result;

  it('is delivered to the endpoint the kernel chose, and the answer comes back from the ClusterIP', () => {
    expect(r.delivered).toBe(true);
    expect(r.disagreement).toBeUndefined();
    expect(r.service?.chosen).toBe('10.244.3.2:8080');
    expect(path(r.hops).at(-1)).toBe('host3/web3:eth0:in');
    expect(path(r.hops, 'reply').at(-1)).toBe('host1/client:eth0:in');
    expect(r.replied).toBe(true);
  });

  it('names the hop where the destination changed and the rule that did it (the bridge sees it after br_netfilter\'s PREROUTING)', () => {
    expect(at(r.hops, 'host1', 'cni0').change).toContain('destination rewritten: 10.96.0.10:80 → 10.244.3.2:8080 by KUBE-SEP-UTFLDO4GY7FI2SFB (Service default/web:http, one of 3 endpoints, host1\'s iptables rules)');
  });

  it('shows the un-DNAT on the way back: the answer gets the Service\'s address as its source', () => {
    expect(at(r.hops, 'host1', 'cni0', 'reply').change).toContain('un-DNAT: conntrack gave the answer the Service\'s address back (source 10.244.3.2:8080 → 10.96.0.10:80)');
  });

  it('has the kernel\'s evidence: the rule-level trace down to the DNAT rule, its counter, conntrack\'s entry', () => {
    const e = r.service!.evidence;
    expect(e[0]).toBe('host1: KUBE-SERVICES → KUBE-SVC-CDGGSHYLG3RE2FKL (default/web:http: one of 3 endpoints, probability 0.3333 each) → KUBE-SEP-UTFLDO4GY7FI2SFB → DNAT to 10.244.3.2:8080');
    expect(e).toContain('host1: nft trace: ip nat KUBE-SEP-UTFLDO4GY7FI2SFB: meta l4proto tcp dnat to 10.244.3.2:8080 # handle 35 (verdict accept)');
    expect(e.some((l) => /^host1: counter (\d+) → \d+: -A KUBE-SEP-UTFLDO4GY7FI2SFB .* -j DNAT --to-destination 10\.244\.3\.2:8080$/.test(l))).toBe(true);
    expect(e.some((l) => /^host1: conntrack: tcp 10\.244\.1\.3:\d+ → 10\.96\.0\.10:80, DNAT to 10\.244\.3\.2:8080/.test(l))).toBe(true);
    expect(r.service!.endpoints.map((x) => [x.destination, x.owner, x.chain])).toEqual([
      ['10.244.1.2:8080', 'host1/web1', 'KUBE-SEP-UIQK3OSOSTRHRPBX'],
      ['10.244.2.2:8080', 'host2/web2', 'KUBE-SEP-4EX2N4PG4ASNZOBF'],
      ['10.244.3.2:8080', 'host3/web3', 'KUBE-SEP-UTFLDO4GY7FI2SFB'],
    ]);
  });

  it('prints the Service block with every endpoint and this probe\'s', () => {
    const text = renderTrace(r, plainPalette);
    expect(text).toContain('Service default/web:http (10.96.0.10:80/tcp), translated by host1\'s iptables rules: one of 3 endpoints');
    expect(text).toContain('10.244.3.2:8080 (host3/web3)  KUBE-SEP-UTFLDO4GY7FI2SFB  probability 0.3333  ← this probe');
  });
});

describe('the static trace to a Service follows each endpoint', () => {
  const s = replayStatic('k8s-service-clusterip').result;

  it('says one of 3 endpoints, probability 1/3 each, and walks to every one', () => {
    expect(s.delivered).toBe(true);
    expect(s.branches?.map((b) => [b.endpoint, b.owner, b.delivered])).toEqual([
      ['10.244.1.2:8080', 'host1/web1', true],
      ['10.244.2.2:8080', 'host2/web2', true],
      ['10.244.3.2:8080', 'host3/web3', true],
    ]);
    for (const b of s.branches!) expect(b.probability).toBeCloseTo(1 / 3, 9);
    expect(renderTrace(s, plainPalette)).toContain('— towards 10.244.2.2:8080 (host2/web2), probability 0.3333 —');
  });

  it('to the pod on the same node the frame is bridged after the DNAT (br_netfilter): no routing, TTL kept', () => {
    const same = s.branches![0]!;
    expect(path(same.hops)).toEqual(['host1/client:eth0:out', `host1:${same.hops[1]!.iface}:in`, 'host1:cni0:through', `host1:${same.hops[3]!.iface}:out`, 'host1/web1:eth0:in']);
    expect(same.hops[2]!.change).toContain('destination rewritten: 10.96.0.10:80 → 10.244.1.2:8080 by KUBE-SEP-UIQK3OSOSTRHRPBX');
    expect(same.hops[2]!.change).not.toContain('TTL');
  });

  it('to the others: routed into flannel.1 with the new destination', () => {
    const far = s.branches![1]!;
    expect(at(far.hops, 'host1', 'cni0').change).toContain('destination rewritten: 10.96.0.10:80 → 10.244.2.2:8080 by KUBE-SEP-4EX2N4PG4ASNZOBF');
    expect(path(far.hops).at(-1)).toBe('host2/web2:eth0:in');
  });
});

describe('the answer that skipped the un-DNAT (host1: bridge-nf-call-iptables = 0)', () => {
  const live = replayLive('k8s-service-undnat-skipped');
  const r = live.result;

  it('fails at the client: the answer came from the pod\'s own address, which it never asked', () => {
    expect(r.delivered).toBe(false);
    expect(r.drop).toMatchObject({ node: 'host1/client', iface: 'eth0' });
    expect(r.drop!.reason).toMatch(/^the answer skipped the un-DNAT: it came back from 10\.244\.1\.2 \(host1\/web1\), not from the Service's 10\.96\.0\.10 — host1's bridge does not hand bridged frames to iptables/);
    expect(r.drop!.evidence).toContain('host1: net.bridge.bridge-nf-call-iptables = 0');
    expect(r.drop!.evidence.some((l) => /conntrack: .* DNAT to 10\.244\.1\.2:8080, never answered \(SYN_SENT\)/.test(l))).toBe(true);
  });

  it('the request was routed (not bridged) to the pod, and the answer bridged straight back past conntrack', () => {
    expect(r.hops.find((h) => h.node === 'host1' && h.iface === 'cni0' && h.direction === 'out')!.change).toContain('routed: TTL 64→63');
    expect(path(r.hops, 'reply')).toContain('host1:cni0:through');
    expect(r.hops.filter((h) => h.leg === 'reply').every((h) => !h.summary.includes('10.96.0.10'))).toBe(true);
  });

  it('the tables predict the same (no disagreement), and the static trace fails that endpoint only', () => {
    expect(r.disagreement).toBeUndefined();
    const s = replayStatic('k8s-service-undnat-skipped').result;
    expect(s.delivered).toBe(false);
    expect(s.branches?.map((b) => b.delivered)).toEqual([false, true, true]);
    expect(s.drop!.reason).toMatch(/^towards 10\.244\.1\.2:8080 \(host1\/web1\): the answer skipped the un-DNAT/);
  });
});

describe('a NodePort from outside the cluster, nftables mode', () => {
  const r = replayLive('k8s-service-nodeport-nft').result;

  it('is translated by host2\'s nftables rules (numgen random mod 3), masqueraded, and both are undone on the way back', () => {
    expect(r.delivered).toBe(true);
    expect(r.disagreement).toBeUndefined();
    expect(r.service).toMatchObject({ name: 'default/web:http', node: 'host2', mode: 'nftables', chosen: '10.244.1.2:8080' });
    expect(r.service!.frontend).toMatch(/^NodePort 30080\/tcp on 192\.168\.\d+\.3$/);
    expect(r.service!.evidence.some((l) => l.includes('numgen random mod 3 vmap') && l.includes('verdict goto endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080'))).toBe(true);
    expect(r.service!.evidence.some((l) => l.includes('masquerading: masquerade fully-random'))).toBe(true);
    const back = r.hops.find((h) => h.leg === 'reply' && h.node === 'host2' && h.iface === 'eth0' && h.direction === 'out')!;
    expect(back.change).toMatch(/un-DNAT: conntrack gave the answer the Service's address back \(source 10\.244\.1\.2:8080 → 192\.168\.\d+\.3:30080\)/);
    expect(back.change).toMatch(/un-masqueraded: conntrack sent the answer to the client again \(destination 10\.244\.2\.0:\d+ → 192\.168\.\d+\.254:\d+\)/);
    expect(path(r.hops, 'reply').at(-1)).toBe('outside:eth0:in');
  });

  it('its static trace follows each endpoint, masqueraded to host2\'s flannel.1 address', () => {
    const s = replayStatic('k8s-service-nodeport-nft').result;
    expect(s.delivered).toBe(true);
    expect(s.branches).toHaveLength(3);
    expect(s.service!.masquerade).toMatch(/^it came in through a NodePort/);
    expect(at(s.branches![0]!.hops, 'host2', 'flannel.1').change).toMatch(/masqueraded: source 192\.168\.\d+\.254 → 10\.244\.2\.0/);
  });
});

describe('static walks on the recorded kernel state', () => {
  const f = loadTraceFixture('k8s-service-clusterip');
  const tcp = { proto: 'tcp' as const, length: 60, df: true, srcPort: 40000, dstPort: 80 };

  it('a Service without endpoints: REJECT, named as such', () => {
    const world = new TraceWorld(f.lab, containerStates(f.lab, f.before));
    const walk = predictPath({ world, from: fromNsOf(f), dst: '10.96.0.11', probe: tcp });
    expect(walk.delivered).toBe(false);
    expect(walk.service?.kind).toBe('refused');
    expect(walk.drop!.reason).toBe('REJECT: Service default/empty:http has no endpoints — kube-proxy\'s rules refuse it (the client gets "connection refused")');
    expect(walk.drop!.evidence[0]).toContain('-j REJECT --reject-with icmp-port-unreachable');
  });

  it('a pod reaching itself through its Service: hairpin, masqueraded to the bridge\'s address; with hairpin off it stops at the bridge', () => {
    const states = containerStates(f.lab, f.before);
    const world = new TraceWorld(f.lab, states);
    const walk = predictPath({ world, from: 'host1/web1', dst: '10.96.0.10', probe: tcp, choice: 0 });
    expect(walk.delivered).toBe(true);
    expect(walk.deliveredIn).toBe('host1/web1');
    expect(walk.nat?.translated).toMatchObject({ src: '10.244.1.1', dst: '10.244.1.2', dport: 8080 });
    const port = world.peerOf('host1/web1', 'eth0')!;
    const broken = containerStates(f.lab, f.before);
    const host1 = broken.find((c) => c.node === 'host1')!.namespaces.find((n) => n.netns === undefined)!;
    host1.links.find((l) => l.name === port.iface)!.hairpin = false;
    const off = predictPath({ world: new TraceWorld(f.lab, broken), from: 'host1/web1', dst: '10.96.0.10', probe: tcp, choice: 0 });
    expect(off.delivered).toBe(false);
    expect(off.drop!.reason).toBe(`host1/web1 is behind the port it came from (${port.iface}) and hairpin mode is off on ${port.iface}: a frame may not leave by the port it came in by`);
  });

  it('marked for masquerade, but KUBE-POSTROUTING lost its MASQUERADE rule (no-service-snat): the source stays, and the trace says why', () => {
    const states = containerStates(f.lab, f.before);
    const host1 = states.find((c) => c.node === 'host1')!.namespaces.find((n) => n.netns === undefined)!;
    const rule = /^(?:\[\d+:\d+\] )?-A KUBE-POSTROUTING .*-j MASQUERADE.*\n/m;
    expect(host1.iptables).toMatch(rule);
    host1.iptables = host1.iptables.replace(rule, '');
    const walk = predictPath({ world: new TraceWorld(f.lab, states), from: 'host1/web1', dst: '10.96.0.10', probe: tcp, choice: 0 });
    expect(walk.nat?.translated).toMatchObject({ src: '10.244.1.2', dst: '10.244.1.2', dport: 8080 });
    expect(walk.service).toMatchObject({ kind: 'dnat', masquerade: false });
    const service = serviceHop(new TraceWorld(f.lab, states), walk.service!, walk.nat, { dst: '10.96.0.10', dport: 80, proto: 'tcp' });
    expect(service.masquerade).toBeUndefined();
    expect(service.evidence[1]).toBe("host1: marked for masquerade (KUBE-MARK-MASQ): the pod reaches itself (hairpin: KUBE-SEP-… marks a flow from its own address) — but host1's KUBE-POSTROUTING has no MASQUERADE rule: the mark changes nothing, the source stays");
  });
});

describe('a trace\'s target: a Service by name, or its ClusterIP', () => {
  const lab = loadTraceFixture('k8s-service-clusterip').lab;

  it('svc/<name> means its ClusterIP, its first port and protocol unless given', () => {
    expect(serviceTraceTarget(lab, 'svc/web')).toMatchObject({ address: '10.96.0.10', port: { port: 80, targetPort: 8080 } });
    expect(serviceTraceTarget(lab, 'svc/web:http')?.port.name).toBe('http');
    expect(serviceTraceTarget(lab, 'svc/default/web:80')?.address).toBe('10.96.0.10');
    expect(serviceTraceTarget(lab, '10.96.0.11')?.service.name).toBe('empty');
    expect(serviceTraceTarget(lab, 'host1/client')).toBeUndefined();
    expect(traceOptionsFor(lab, 'svc/web', { reply: false, static: false })).toEqual({ proto: 'tcp', port: 80, reply: false, static: false });
    expect(traceOptionsFor(lab, 'host2', { reply: false, static: true })).toEqual({ proto: 'icmp', port: 5000, reply: false, static: true });
  });

  it('refuses what cannot be: an unknown Service, a port it lacks, ICMP to a Service, an unused ClusterIP', () => {
    expect(() => serviceTraceTarget(lab, 'svc/nope')).toThrow(/has no Service "nope"/);
    expect(() => serviceTraceTarget(lab, 'svc/web:https')).toThrow(/has no port "https"/);
    expect(() => traceOptionsFor(lab, 'svc/web', { proto: 'icmp', reply: false, static: false })).toThrow(/answers only on its ports/);
    expect(() => serviceTraceTarget(lab, '10.96.0.99')).toThrow(OverlabError);
  });

  it('the Service CIDR counts as inside the lab (ClusterIPs exist only in its rules)', () => {
    expect(new LabReferences(lab).isInsideLab('10.96.0.10')).toBe(true);
    expect(new LabReferences(lab).isInsideLab('10.112.0.1')).toBe(false);
  });
});

describe('the rule-level trace of the translating node', () => {
  it('is a table of our own at priority -350 that marks the probe\'s packets, loaded through stdin', () => {
    expect(witnessRules('0a1b2c', 'tcp', 45000)).toBe(
      [
        'table ip overlab-trace-0a1b2c {',
        '  chain pre { type filter hook prerouting priority -350; policy accept; tcp sport 45000 meta nftrace set 1; }',
        '  chain out { type filter hook output priority -350; policy accept; tcp sport 45000 meta nftrace set 1; }',
        '}',
        '',
      ].join('\n'),
    );
    expect(() => witnessRules('x; rm', 'tcp', 45000)).toThrow();
    expect(START_WITNESS_SCRIPT).toContain('nft -f -');
    expect(START_WITNESS_SCRIPT).toMatch(/timeout -k 2 -s INT 30 stdbuf -oL nft -a monitor/);
    expect(STOP_WITNESS_SCRIPT).toContain('nft delete table ip $t');
  });

  it('hands back the monitor\'s lines and conntrack\'s table', () => {
    expect(parseWitnessOutput('@@trace\ntrace id 1 ip nat X rule dnat to 1.2.3.4:80 (verdict accept)\n@@conntrack\ntcp 6 1 x\n')).toEqual({ nftTrace: 'trace id 1 ip nat X rule dnat to 1.2.3.4:80 (verdict accept)\n', conntrack: 'tcp 6 1 x\n' });
  });
});
