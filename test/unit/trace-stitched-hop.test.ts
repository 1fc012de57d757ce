// A trace across engines: a switch per engine in the trace's world (`switch`, `switch@<engine>`),
// the stitch devices between them, the frame handed from one engine's switch to the other's, and
// the stitched hop in words. Pure: a lab resolved from a spec, kernel state written by hand.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { TraceWorld } from '../../src/trace/trace-world.js';
import { labSwitches, switchKeyOf } from '../../src/plan/engine-placement.js';
import { changeFacts, changeWords, minimalTokens, type Observation } from '../../src/trace/change-facts.js';
import { changeContext } from '../../src/trace/hops.js';
import { clocksAcrossEngines } from '../../src/trace/analyse.js';
import type { ContainerState, LinkState } from '../../src/trace/kernel-snapshot.js';

const SPEC = `name: spread
engines:
  a: { host: unix:///var/run/docker.sock, address: 10.0.0.1 }
  b: { host: ssh://me@10.0.0.2, address: 10.0.0.2 }
hosts:
  - { name: h1 }
  - { name: h2 }
`;

const stats = { rxPackets: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txDropped: 0 } as LinkState['stats'];
function link(name: string, kind: string, mac: string, master?: string): LinkState {
  return { ifindex: 1, name, kind, mac, mtu: 1450, state: 'UP', flags: ['UP'], ...(master ? { master } : {}), addresses: [], stats };
}
function container(node: string, links: LinkState[]): ContainerState {
  return { node, container: `c-${node}`, namespaces: [{ links, routes: [], neighbours: [], nstat: {}, iptables: '', sysctls: {}, routeAnswers: [] }], fdb: [], processes: [], agents: [] };
}

function world() {
  const lab = resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
  const [h1, h2] = lab.hosts as [ResolvedHost, ResolvedHost];
  const states = [
    container('h1', [link('eth0', 'veth', h1.underlayMac)]),
    container('h2', [link('eth0', 'veth', h2.underlayMac)]),
    container('switch', [link('underlay', 'bridge', '02:00:00:00:00:0a'), link('h1', 'veth', '02:00:00:00:01:01', 'underlay'), link('stitch', 'vxlan', '02:00:00:00:0a:01', 'underlay')]),
    container('switch@b', [link('underlay', 'bridge', '02:00:00:00:00:0b'), link('h2', 'veth', '02:00:00:00:02:02', 'underlay'), link('stitch', 'vxlan', '02:00:00:00:0b:01', 'underlay')]),
  ];
  return { lab, h1, h2, world: new TraceWorld(lab, states) };
}
type ResolvedHost = ReturnType<typeof resolveLab>['hosts'][number];

describe('the trace world of a lab across engines', () => {
  it('has a switch per engine, each node cabled to its own engine\'s', () => {
    const { lab, world: w } = world();
    expect(labSwitches(lab).map((s) => [s.key, s.engine])).toEqual([
      ['switch', 'a'],
      ['switch@b', 'b'],
    ]);
    expect(switchKeyOf(lab, 'b')).toBe('switch@b');
    expect(w.peerOf('h2', 'eth0')).toEqual({ ns: 'switch@b', iface: 'h2' });
    expect(w.peerOf('h1', 'eth0')).toEqual({ ns: 'switch', iface: 'h1' });
  });

  it('finds the far end of a stitch by where the destination MAC is plugged in', () => {
    const { lab, h1, h2, world: w } = world();
    expect(w.stitchOf('switch', 'stitch')).toEqual({ engine: 'a', vni: lab.stitch!.vni, port: 14789, bridge: 'underlay' });
    expect(w.stitchOf('switch', 'h1')).toBeUndefined();
    expect(w.stitchedPeer('switch', 'stitch', h2.underlayMac)).toMatchObject({ ns: 'switch@b', iface: 'stitch', engine: 'b' });
    expect(w.stitchedPeer('switch@b', 'stitch', h1.underlayMac)).toMatchObject({ ns: 'switch', engine: 'a' });
    expect(w.stitchedPeer('switch', 'stitch', h1.underlayMac)).toBeUndefined(); // h1 is on a's own switch
  });

  it('names a cut tunnel as why a neighbour on another engine failed: the switch floods to no address of that machine', () => {
    const { h1, h2, world: w } = world();
    // Whole: the primary's stitch floods to b's machine; cut: the entry is gone.
    const sw = (fdb: { mac: string; dev: string; dst?: string }[]) => {
      const states = w.containers.map((c) => (c.node === 'switch' ? { ...c, fdb } : c));
      return new TraceWorld(w.lab, states as ContainerState[]);
    };
    expect(sw([{ mac: '00:00:00:00:00:00', dev: 'stitch', dst: '10.0.0.2' }]).cutTunnelToward('h1', h2.underlayIp)).toBeUndefined();
    expect(sw([]).cutTunnelToward('h1', h2.underlayIp)).toEqual({ from: 'a', to: 'b', switchKey: 'switch', device: 'stitch', address: '10.0.0.2', evidence: 'switch: bridge fdb show dev stitch: no entries' });
    expect(sw([]).cutTunnelToward('h1', h1.underlayIp)).toBeUndefined(); // the same engine: no tunnel on the way
  });

  it('says the stitched hop, and how times of several machines are shown', () => {
    const { lab, world: w } = world();
    const packet = { eth: { src: '02:00:00:00:01:01', dst: '02:00:00:00:02:02', type: 0x800 } } as unknown as Observation['packet'];
    const out: Observation = { node: 'switch', iface: 'stitch', direction: 'out', linkKind: 'vxlan', packet };
    const into: Observation = { node: 'switch@b', iface: 'stitch', direction: 'in', linkKind: 'vxlan', packet };
    const facts = changeFacts(out, into, changeContext(w));
    expect(changeWords(facts)).toBe(`stitched: VXLAN VNI ${lab.stitch!.vni} UDP 14789, engine a → engine b`);
    expect(minimalTokens(facts)).toEqual([`stitch vni ${lab.stitch!.vni} a→b`]);
    expect(clocksAcrossEngines(['a', 'b'])).toMatch(/^times across engines: each hop is stamped by the clock of the machine of its engine \(a, b\).*overlab does not synchronise or correct those clocks/);
  });
});
