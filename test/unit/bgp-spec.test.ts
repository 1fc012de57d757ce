// Routed underlays and backend bgp in a spec: what they mean, and every mistake named at its
// file:line:col with what would be right.
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../src/faults/fault-kinds.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { specIssues } from '../support/spec-issues.js';

const RACKS = `name: racks
network: { cidr: 10.244.0.0/16, backend: bgp, bgp: { reflectors: [tor1] } }
underlay:
  segments: [{ name: rack1 }, { name: rack2, subnet: 192.168.60.0/24 }]
hosts:
  - { name: host1, segment: rack1, pods: [pod1] }
  - { name: host2, segment: rack2, pods: [{ name: pod1, ip: 10.244.1.10 }] }
nodes:
  - { name: tor1, role: router, segments: [rack1, rack2] }
`;

describe('a routed underlay with backend bgp', () => {
  it('means: segments, each host on one, the router on both; bgp with Calico\'s defaults', () => {
    const lab = parseLabSpec(RACKS, 'x.yaml');
    expect(lab.underlay.segments).toEqual([{ name: 'rack1' }, { name: 'rack2', subnet: '192.168.60.0/24' }]);
    expect(lab.hosts.map((h) => h.segment)).toEqual(['rack1', 'rack2']);
    expect(lab.externals[0]!.segments).toEqual(['rack1', 'rack2']);
    expect(lab.networks[0]).toMatchObject({ backend: 'bgp', blockSize: 26, bgp: { as: 64512, reflectors: ['tor1'] }, ipipMode: 'Never', controlPlane: 'static' });
  });

  it('leaves today\'s specs as they were: no bgp fields on other backends', () => {
    const lab = parseLabSpec('name: x\nnetwork: { backend: host-gw }\nhosts: [{ name: h }]\n', 'x.yaml');
    expect(Object.keys(lab.networks[0]!)).not.toContain('blockSize');
    expect(lab.underlay).toEqual({ mtu: 1500 });
  });

  it('names segment mistakes: unknown, unjoined, a clash with a node, a non-router on two', () => {
    const text = `name: x
underlay:
  subnet: 192.168.70.0/24
  segments: [{ name: rack1 }, { name: rack2 }, { name: rack3 }, { name: host1 }]
hosts:
  - { name: host1, segment: rakc1 }
nodes:
  - { name: out, role: outside, segments: [rack1, rack2] }
  - { name: r1, role: router, segments: [rack1, rack2] }
`;
    expect(specIssues(text)).toEqual([
      'x.yaml:3:3 underlay.subnet: underlay.subnet and underlay.segments are both given. Give each segment its own subnet: under segments.',
      'x.yaml:4:48 underlay.segments[2]: segment "rack3" is joined to "rack1" by no router: its hosts could not reach the rest of the lab. Add a router node whose segments: include it and a segment joined to the others.',
      'x.yaml:4:65 underlay.segments[3]: segment "host1" is joined to "rack1" by no router: its hosts could not reach the rest of the lab. Add a router node whose segments: include it and a segment joined to the others.',
      'x.yaml:4:73 underlay.segments[3].name: "host1" is also the name of hosts[0]; a segment names its bridge in the switch, beside every node\'s port. Use another segment name, e.g. rack1.',
      'x.yaml:6:29 hosts[0].segment: unknown segment "rakc1". Did you mean "rack1"?',
      'x.yaml:8:43 nodes[0].segments: out is an outside node on 2 segments; only a router joins several. Give it one segment, or role: router.',
    ]);
  });

  it('names bgp mistakes: subnetLen, etcd, a reflector that runs no BIRD, blocks two hosts claim, a reserved address', () => {
    const text = `name: x
network: { cidr: 10.244.0.0/16, backend: bgp, subnetLen: 24, controlPlane: etcd, bgp: { as: 23456, reflectors: [out, nobody] } }
hosts:
  - { name: h1, pods: [{ name: a, ip: 10.244.0.10 }] }
  - { name: h2, pods: [{ name: b, ip: 10.244.0.20 }, { name: c, ip: 10.244.0.65 }] }
nodes:
  - { name: out, role: outside }
`;
    expect(specIssues(text)).toEqual([
      'x.yaml:2:47 network.subnetLen: backend bgp cuts the pod network into IPAM blocks, not one subnet per host. Use blockSize: (default 26) instead.',
      'x.yaml:2:62 network.controlPlane: backend bgp has no etcd control plane here: BIRD on every node is its control plane. Remove controlPlane:.',
      'x.yaml:2:93 network.bgp.as: AS 23456 is AS_TRANS, the placeholder 4-byte AS speakers send to old ones; it is no one\'s AS. Use a private AS, e.g. 64512 (Calico\'s default).',
      'x.yaml:2:113 network.bgp.reflectors[0]: "out" has role outside; a route reflector is a host or a router (they run BIRD).',
      'x.yaml:2:118 network.bgp.reflectors[1]: unknown node "nobody". Name a host or a router node.',
      'x.yaml:5:39 hosts[1].pods[0].ip: 10.244.0.20 is in block 10.244.0.0/26, which h1 holds (a pod of h1 has a fixed address there). A block belongs to one host: pick an address in another block.',
      'x.yaml:5:69 hosts[1].pods[1].ip: 10.244.0.65 is the bridge\'s address in block 10.244.0.64/26 (the pods\' gateway). Use an address from 10.244.0.66 to 10.244.0.126.',
    ]);
  });

  it('refuses host-gw programmed statically across segments (the kernel would refuse its routes)', () => {
    const text = RACKS.replace('backend: bgp, bgp: { reflectors: [tor1] }', 'backend: host-gw').replace('{ name: pod1, ip: 10.244.1.10 }', 'pod1');
    expect(specIssues(text)[0]).toMatch(/^x\.yaml:2:42 network\.backend: host-gw with controlPlane: static on a routed underlay/);
    expect(() => parseLabSpec(text.replace('backend: host-gw', 'backend: host-gw, controlPlane: etcd'), 'x.yaml')).not.toThrow();
  });

  it('the bgp check names a BGP node; the kernel check\'s expect: refused needs agents', () => {
    const checks = `${RACKS}checks:
  - { name: a, bgp: { on: tor1, sessions: [host1] } }
  - { name: b, bgp: { on: out } }
  - { name: c, bgp: { on: host1, sessions: [host1] } }
`;
    expect(specIssues(checks)).toEqual(['x.yaml:12:27 checks[1].bgp.on: unknown host or node "out".', 'x.yaml:13:45 checks[2].bgp.sessions[0]: a node has no session with itself.']);
    expect(specIssues('name: x\nnetwork: { backend: host-gw }\nhosts: [{ name: a }, { name: b }]\nchecks: [{ name: k, kernel: { on: a, peer: b, expect: refused } }]\n')).toEqual([
      'x.yaml:4:55 checks[0].kernel.expect: expect: refused reads what the kernel told the agent, and this network has no agent (controlPlane static). Use controlPlane: etcd.',
    ]);
  });

  it('the faults on one session (bgp-session-down, bgp-drop-neighbour) name two BGP nodes, not one twice', () => {
    const faults = `${RACKS}faults:
  - bgp-session-down: { on: tor1, peer: tor1 }
  - bgp-drop-neighbour: { on: host1, peer: out }
  - bgp-session-down: { on: host1, peer: tor1 }
`;
    expect(specIssues(faults)).toEqual([
      'x.yaml:11:41 faults[0].bgp-session-down.peer: a node has no session with itself.',
      'x.yaml:12:44 faults[1].bgp-drop-neighbour.peer: unknown host or node "out".',
    ]);
    for (const key of ['bgp-session-down', 'bgp-drop-neighbour']) {
      const kind = FAULT_KINDS.find((k) => k.key === key)!;
      expect(kind.fromArgs(['host1', 'tor1'])).toEqual({ on: 'host1', peer: 'tor1' });
      expect(() => kind.fromArgs(['tor1'])).toThrow(`${key} takes 2 arguments, got 1 (tor1)`);
    }
  });
});
