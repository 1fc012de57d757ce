// Real journeys, replayed from fixtures recorded on real labs: the hop list (node, interface,
// direction, order), the changes that matter for each lab's story, and the verdicts.
import { describe, expect, it } from 'vitest';
import { replayLive, replayStatic } from './trace-fixture.js';
import { renderMinimal } from '../../src/trace/trace-text.js';

const path = (hops: { node: string; iface: string; direction: string; leg: string }[], leg = 'request') =>
  hops.filter((h) => h.leg === leg).map((h) => `${h.node}:${h.iface}:${h.direction}`);

const VXLAN_PATH = [
  'host1/pod1:eth0:out',
  'host1:veth-pod1:in',
  'host1:docker0:in',
  'host1:flannel.1:out',
  'host1:eth0:out',
  'switch:host1:in',
  'switch:underlay:through',
  'switch:host2:out',
  'host2:eth0:in',
  'host2:flannel.1:in',
  'host2:docker0:out',
  'host2:veth-pod1:out',
  'host2/pod1:eth0:in',
];

describe('flannel-vxlan: pod to pod across hosts', () => {
  const live = replayLive('flannel-vxlan');

  it('crosses every interface of the VXLAN path in order', () => {
    expect(live.result.delivered).toBe(true);
    expect(path(live.result.hops)).toEqual(VXLAN_PATH);
    expect(live.result.hops.map((h) => h.n)).toEqual(VXLAN_PATH.map((_, i) => i + 1));
  });

  it('says what changed: routed at host1, wrapped in VXLAN VNI 1 on port 8472, unwrapped at host2', () => {
    const at = (node: string, iface: string) => live.result.hops.find((h) => h.node === node && h.iface === iface)!;
    expect(at('host1', 'flannel.1').change).toBe("routed: TTL 64→63, source MAC now host1's flannel.1, destination MAC now host2's flannel.1");
    expect(at('host1', 'eth0').change).toMatch(/^encapsulated: VXLAN VNI 1 192\.168\.\d+\.2 → 192\.168\.\d+\.3 UDP 8472$/);
    expect(at('host1', 'eth0').encapsulated).toMatchObject({ type: 'vxlan', vni: 1, port: 8472 });
    expect(at('host2', 'flannel.1').change).toBe('decapsulated by flannel.1');
    expect(at('host2', 'flannel.1').encapsulated).toBeNull();
    expect(at('switch', 'underlay').change).toBe('bridged by MAC');
    expect(at('host2/pod1', 'eth0').change).toBe('delivered to host2/pod1');
  });

  it('times every hop from the first, never backwards', () => {
    const times = live.result.hops.map((h) => h.atUs);
    expect(times[0]).toBe(0);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(live.result.durationUs).toBe(times.at(-1));
  });

  it('prints one line per host in the minimal form', () => {
    expect(renderMinimal(live.result, live.facts).replace(/192\.168\.\d+\./g, 'U.')).toBe(
      ['host1: ttl 64→63; encap vxlan vni 1 → U.3:8472', 'switch: bridge', 'host2: decap; ttl 63→62; deliver pod1:eth0', 'delivered'].join('\n'),
    );
  });

  it('the static walk from the tables predicts the same interfaces (bar the ones only a capture sees)', () => {
    const predicted = replayStatic('flannel-vxlan');
    expect(predicted.result.delivered).toBe(true);
    expect(path(predicted.result.hops)).toEqual(VXLAN_PATH);
    expect(predicted.result.hops.map((h) => h.change)).toEqual(live.result.hops.map((h) => h.change));
  });
});

describe('flannel-udp: the answer too', () => {
  const live = replayLive('flannel-udp');

  it('hands the bare packet to flannel0, sends it to the agent on UDP 8285, and brings the answer back', () => {
    expect(live.result.delivered).toBe(true);
    expect(live.result.replied).toBe(true);
    expect(path(live.result.hops)).toEqual([
      'host1/pod1:eth0:out',
      'host1:veth-pod1:in',
      'host1:docker0:in',
      'host1:flannel0:out',
      'host1:eth0:out',
      'switch:host1:in',
      'switch:underlay:through',
      'switch:host2:out',
      'host2:eth0:in',
      'host2:flannel0:in',
      'host2:docker0:out',
      'host2:veth-pod1:out',
      'host2/pod1:eth0:in',
    ]);
    expect(path(live.result.hops, 'reply')[0]).toBe('host2/pod1:eth0:out');
    expect(path(live.result.hops, 'reply').at(-1)).toBe('host1/pod1:eth0:in');
    const at = (node: string, iface: string) => live.result.hops.find((h) => h.node === node && h.iface === iface && h.leg === 'request')!;
    expect(at('host1', 'flannel0').change).toBe('routed: TTL 64→63; handed to flannel0 (raw IP, no Ethernet)');
    expect(at('host1', 'eth0').encapsulated).toMatchObject({ type: 'flannel-udp', port: 8285 });
    expect(at('host2', 'eth0').change).toBe('to the agent on UDP 8285');
    expect(at('host2', 'flannel0').change).toMatch(/^decapsulated: the udp agent wrote it into flannel0 \(raw IP\), TTL 63→62/);
  });
});

describe('no-overlay: the router knows no pod subnet', () => {
  const live = replayLive('no-overlay');

  it('ends at the router with "no route to 172.16.2.0/24", with the kernel\'s own answer and the counter that grew', () => {
    expect(live.result.delivered).toBe(false);
    expect(live.result.hops.at(-1)).toMatchObject({ node: 'router', iface: 'eth0', direction: 'in' });
    expect(live.result.drop).toMatchObject({ node: 'router', iface: 'eth0' });
    expect(live.result.drop!.reason).toContain('no route to 172.16.2.0/24');
    expect(live.result.drop!.evidence).toContain('router: nstat IpExtInNoRoutes +1 (arrived with no route to forward it)');
    expect(live.result.drop!.evidence.some((e) => e.includes('`ip route get 172.16.2.2 from 172.16.1.2 iif eth0` answers: Network is unreachable'))).toBe(true);
    expect(live.result.disagreement).toBeUndefined();
  });

  it('host1 sends it to the router: routed, destination MAC now the router', () => {
    const out = live.result.hops.find((h) => h.node === 'host1' && h.iface === 'eth0')!;
    expect(out.change).toBe('routed: TTL 64→63, source MAC now host1, destination MAC now router');
  });

  it('the static walk agrees', () => {
    const predicted = replayStatic('no-overlay');
    expect(predicted.result.delivered).toBe(false);
    expect(predicted.result.drop).toMatchObject({ node: 'router', iface: 'eth0' });
  });
});

describe('vxlan-tenants: blue cannot reach red', () => {
  const live = replayLive('tenants-blue-red');

  it('is dropped in host1 by the tenant rule, whose counter grew', () => {
    expect(live.result.delivered).toBe(false);
    expect(live.result.drop!.node).toBe('host1');
    expect(live.result.drop!.reason).toBe('firewall: iptables -A FORWARD -s 10.10.0.0/16 -d 10.20.0.0/16 -j DROP');
    expect(live.result.drop!.evidence.some((e) => /host1: iptables-save -c: \[\d+→\d+ packets\] -A FORWARD -s 10\.10\.0\.0\/16 -d 10\.20\.0\.0\/16 -j DROP/.test(e))).toBe(true);
  });
});
