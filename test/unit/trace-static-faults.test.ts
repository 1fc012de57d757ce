// The static walk on real kernel state (recorded from labs) with one fault edited in: each
// names the node, the interface and the reason a live trace's verdict would give.
import { describe, expect, it } from 'vitest';
import { replayStatic } from './trace-fixture.js';
import type { ContainerState } from '../../src/trace/kernel-snapshot.js';

const host = (states: ContainerState[], node: string) => states.find((s) => s.node === node)!;
const ns = (states: ContainerState[], node: string) => host(states, node).namespaces.find((n) => !n.netns)!;

describe('static verdicts on edited real state', () => {
  it('a deleted FDB entry on a VXLAN host: no FDB entry for the peer VTEP', () => {
    const r = replayStatic('flannel-vxlan', {
      edit: (s) => {
        host(s, 'host1').fdb = host(s, 'host1').fdb.filter((f) => f.dev !== 'flannel.1');
      },
    });
    expect(r.result.delivered).toBe(false);
    expect(r.result.drop).toMatchObject({ node: 'host1', iface: 'flannel.1' });
    expect(r.result.drop!.reason).toMatch(/^no FDB entry for host2's flannel\.1 \([0-9a-f:]+\) on flannel\.1/);
    expect(r.result.hops.at(-1)).toMatchObject({ node: 'host1', iface: 'flannel.1', direction: 'out' });
  });

  it('a stopped udp agent: nothing reads flannel0', () => {
    const r = replayStatic('flannel-udp', {
      edit: (s) => {
        const h = host(s, 'host1');
        const pid = h.agents[0]!.dataPathPid ?? h.agents[0]!.pid!;
        h.processes = h.processes.map((p) => (p.pid === pid ? { ...p, stat: 'T' } : p));
      },
    });
    expect(r.result.drop).toMatchObject({ node: 'host1', iface: 'flannel0' });
    expect(r.result.drop!.reason).toMatch(/^the udp agent on host1 is stopped \(.+, pid \d+, state T\): nothing reads flannel0$/);
  });

  it('an unleased subnet: the udp agent knows no lease for it', () => {
    const r = replayStatic('flannel-udp', {
      edit: (s) => {
        host(s, 'host1').agents[0]!.peers = [];
      },
    });
    expect(r.result.drop!.reason).toBe("the udp agent on host1 knows no lease for 10.244.2.0/24 (host2's pod subnet)");
  });

  it('a DROP rule on the underlay at host2: the rule that matches', () => {
    const r = replayStatic('flannel-vxlan', {
      edit: (s) => {
        ns(s, 'host2').iptables = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[0:0] -A INPUT -p udp -m udp --dport 8472 -j DROP\nCOMMIT\n';
      },
    });
    expect(r.result.drop).toMatchObject({ node: 'host2', iface: 'eth0', reason: 'firewall: iptables -A INPUT -p udp -m udp --dport 8472 -j DROP' });
  });

  it('a link down: host2 eth0 down stops the frame at the switch port', () => {
    const r = replayStatic('flannel-vxlan', {
      edit: (s) => {
        const eth0 = ns(s, 'host2').links.find((l) => l.name === 'eth0')!;
        eth0.state = 'DOWN';
        eth0.flags = eth0.flags.filter((f) => f !== 'UP');
      },
    });
    expect(r.result.drop).toMatchObject({ node: 'host2', iface: 'eth0' });
    expect(r.result.drop!.reason).toBe('interface down: host2:eth0 is DOWN');
  });

  it('an MTU too small for the probe: it does not fit, with DF set', () => {
    const r = replayStatic('no-overlay', {
      edit: (s) => {
        ns(s, 'host1').links.find((l) => l.name === 'eth0')!.mtu = 60;
      },
    });
    expect(r.result.drop).toMatchObject({ node: 'host1', iface: 'eth0', reason: 'MTU: a 84-byte packet with DF set does not fit host1:eth0 (mtu 60)' });
  });

  it('without the kernel\'s route answers the longest-prefix match gives the same verdict', () => {
    const r = replayStatic('no-overlay', { withKernel: false });
    expect(r.result.drop).toMatchObject({ node: 'router', iface: 'eth0' });
    expect(r.result.drop!.reason).toBe("no route to 172.16.2.0/24 (host2's pod subnet)");
  });
});
