// A routed underlay and backend bgp, from spec to plan: addresses per segment, cables per link,
// the routers' routes, blocks on the bridge, BIRD's configuration and what each kernel must hold.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab, underlaySubnets } from '../../src/plan/resolve-lab.js';
import { renderExternalPlan, renderHostPlan, renderSwitchPlan } from '../../src/plan/node-plans.js';
import { planCommands } from '../../src/plan/node-plan.js';
import { BIRD_DAEMON, bgpExpectations, bgpNeighbourEntries, bgpNodes, birdConfigFile } from '../../src/plan/bgp-plan.js';
import { neighbourRoomProblem } from '../../src/deploy/bird.js';
import { encodeDeclaration } from '../../src/plan/node-init.js';
import { agentConfig } from '../../src/plan/overlay.js';
import { onlyForeseenRefusals, unreachableNextHops } from '../../src/deploy/agents.js';
import { kernelRefusalsOf } from '../../src/checks/kinds/kernel.js';
import { annotateHops, explainBgpDrop } from '../../src/trace/bgp-facts.js';
import { parseBirdProtocols, parseBirdRoutes } from '../../src/probes/birdc-output.js';
import { readFileSync } from 'node:fs';
import type { TraceHop } from '../../src/trace/trace-result.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bird/${name}`, import.meta.url), 'utf8');
const RACKS = (backend: string) => `name: racks
network: { cidr: 10.244.0.0/16, bridge: cni0, ${backend} }
underlay:
  segments: [{ name: rack1 }, { name: rack2 }, { name: spine }]
hosts:
  - { name: host1, segment: rack1, pods: [pod1] }
  - { name: host2, segment: rack1, pods: [pod1] }
  - { name: host3, segment: rack2, pods: [pod1] }
nodes:
  - { name: tor1, role: router, segments: [rack1, spine] }
  - { name: tor2, role: router, segments: [rack2, spine] }
`;
const bgpLab = (reflectors = '[tor1, tor2]') => resolveLab(parseLabSpec(RACKS(reflectors ? `backend: bgp, bgp: { reflectors: ${reflectors} }` : 'backend: bgp'), 'x.yaml'), { takenSubnets: [] });
const shell = (plan: ReturnType<typeof renderHostPlan>) => planCommands(plan).map((a) => a.join(' '));

describe('a routed underlay, planned', () => {
  const lab = bgpLab();
  it('one bridge per segment in the switch; the engine label lists every segment', () => {
    expect(shell(renderSwitchPlan(lab))).toEqual(['ip link add name rack1 type bridge', 'ip link set dev rack1 up', 'ip link add name rack2 type bridge', 'ip link set dev rack2 up', 'ip link add name spine type bridge', 'ip link set dev spine up']);
    expect(underlaySubnets(lab)).toEqual(['192.168.50.0/24', '192.168.51.0/24', '192.168.52.0/24']);
    expect(lab.underlay).toMatchObject({ subnet: '192.168.50.0/24', bridge: 'rack1' });
  });

  it('a host: its cable into its segment\'s bridge, its address there, the rack\'s router as default route', () => {
    const host3 = shell(renderHostPlan(lab, lab.hosts[2]!));
    expect(host3.slice(0, 7)).toEqual([
      '/run/overlab/share/netns-share get /run/overlab/share/underlay.sock /run/overlab/underlay.netns 120',
      'ip link add name eth0 address 02:42:c0:a8:33:02 mtu 1500 type veth peer name host3 mtu 1500 netns /run/overlab/underlay.netns',
      'nsenter --net=/run/overlab/underlay.netns ip link set dev host3 master rack2 up',
      'ip link set dev lo up',
      'ip addr add 192.168.51.2/24 dev eth0',
      'ip link set dev eth0 up',
      'ip route add default via 192.168.51.1',
    ]);
  });

  it('a router: a cable per segment (ports tor1, tor1.1), and routes to the segments it is not on', () => {
    const tor1 = shell(renderExternalPlan(lab, lab.externals.find((e) => e.name === 'tor1')!));
    expect(tor1).toContain('nsenter --net=/run/overlab/underlay.netns ip link set dev tor1.1 master spine up');
    expect(tor1).toContain('ip addr add 192.168.52.1/24 dev eth1');
    expect(tor1.at(-1)).toBe('ip route add 192.168.51.0/24 via 192.168.52.2 dev eth1');
  });

  it('blocks: the host\'s first block is its subnet; a second one is another address on the bridge', () => {
    const spec = parseLabSpec(RACKS('backend: bgp').replace('{ name: host1, segment: rack1, pods: [pod1] }', `{ name: host1, segment: rack1, pods: [${Array.from({ length: 62 }, (_, i) => `p${i}`).join(', ')}] }`), 'x.yaml');
    const big = resolveLab(spec, { takenSubnets: [] });
    expect(big.hosts[0]!.networks[0]).toMatchObject({ subnet: '10.244.0.0/26', blocks: ['10.244.0.0/26', '10.244.0.64/26'], bridgeIp: '10.244.0.1' });
    expect(big.hosts[0]!.pods.at(-1)).toMatchObject({ ip: '10.244.0.66', gateway: '10.244.0.65', prefixLen: 26 });
    expect(big.hosts[1]!.networks[0]!.blocks).toEqual(['10.244.0.128/26']);
    expect(shell(renderHostPlan(big, big.hosts[0]!))).toContain('ip addr add 10.244.0.65/26 dev cni0');
  });
});

describe('BGP, planned', () => {
  it('BIRD on every host and router; each node\'s file is its own configuration', () => {
    const lab = bgpLab();
    expect(bgpNodes(lab).map((n) => n.name)).toEqual(['host1', 'host2', 'host3', 'tor1', 'tor2']);
    const file = birdConfigFile(lab, 'host3');
    expect(file.path).toBe('/etc/bird/bird.conf');
    expect(file.content).toContain('protocol bgp Reflector_tor2 from peer { local 192.168.51.2; neighbor 192.168.51.1 as 64512; }');
  });

  it("BIRD is declared to its node's supervisor: in the foreground, its output in a file, read back field by field", () => {
    expect(BIRD_DAEMON).toEqual({ name: 'bird', output: '/var/log/bird.out', argv: ['bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl', '-P', '/run/bird/bird.pid'] });
    expect(encodeDeclaration(BIRD_DAEMON).toString('utf8').split('\0')).toEqual(['/var/log/bird.out', ...BIRD_DAEMON.argv, '']);
  });

  it('what each kernel must hold: the blocks via the right next hop, its own blackholed, its sessions', () => {
    const [host1, , , tor1] = bgpExpectations(bgpLab());
    expect(host1).toEqual({
      node: 'host1',
      sessions: [{ protocol: 'Reflector_tor1', peer: 'tor1', address: '192.168.50.1' }],
      routes: [
        { block: '10.244.0.64/26', owner: 'host2', via: '192.168.50.3', dev: 'eth0', viaNode: 'host2' },
        { block: '10.244.0.128/26', owner: 'host3', via: '192.168.50.1', dev: 'eth0', viaNode: 'tor1' },
      ],
      blackholes: ['10.244.0.0/26'],
    });
    expect(tor1!.routes.find((r) => r.owner === 'host3')).toEqual({ block: '10.244.0.128/26', owner: 'host3', via: '192.168.52.2', dev: 'eth1', viaNode: 'tor2' });
    expect(tor1!.sessions.map((s) => s.protocol)).toEqual(['Client_host1', 'Client_host2', 'Mesh_tor2']);
  });

  it('a full mesh: everyone with everyone, the routers too', () => {
    const mesh = bgpExpectations(bgpLab(''));
    expect(mesh.find((e) => e.node === 'host1')!.sessions.map((s) => s.protocol)).toEqual(['Mesh_host2', 'Mesh_host3', 'Mesh_tor1', 'Mesh_tor2']);
  });
});

describe("the kernel's neighbour table (one for every namespace on the machine)", () => {
  const flat = (hosts: number, reflector: boolean) =>
    resolveLab(
      parseLabSpec(
        `name: big\nnetwork: { cidr: 10.244.0.0/16, bridge: cni0, backend: bgp${reflector ? ', bgp: { reflectors: [rr] }' : ''} }\nhosts:\n${Array.from({ length: hosts }, (_, i) => `  - { name: host${i + 1}, pods: [pod1] }`).join('\n')}\n${reflector ? 'nodes:\n  - { name: rr, role: router }\n' : ''}`,
        'big.yaml',
      ),
      { takenSubnets: [] },
    );

  it('counts one entry per node and first hop its sessions use', () => {
    // reflectors: each host its rack's router; tor1 its two clients and tor2; tor2 host3 and tor1
    expect(bgpNeighbourEntries(bgpLab())).toBe(8);
    // a mesh: a host reaches the other rack through its router (one entry for all there)
    expect(bgpNeighbourEntries(bgpLab(''))).toBe(10);
    expect(bgpNeighbourEntries(flat(64, false))).toBe(64 * 63);
    expect(bgpNeighbourEntries(flat(64, true))).toBe(64 + 64);
  });

  it('a full mesh of 64 hosts does not fit a table of 1024 and says what would; reflectors do', () => {
    const mesh = flat(64, false);
    expect(neighbourRoomProblem(mesh, 4032, 1024)).toEqual({
      message: expect.stringMatching(/^a full mesh of 64 BGP nodes keeps 4032 neighbour \(ARP\) entries in use, and this kernel's neighbour table holds 1024 for every network namespace on the machine \(net\.ipv4\.neigh\.default\.gc_thresh3\)/),
      hint: expect.stringContaining('use route reflectors (network.bgp.reflectors'),
    });
    expect(neighbourRoomProblem(flat(16, false), bgpNeighbourEntries(flat(16, false)), 1024)).toBeUndefined();
    expect(neighbourRoomProblem(flat(64, true), 128, 1024)).toBeUndefined();
  });
});

describe('host-gw across segments, through flannel\'s agents', () => {
  const lab = resolveLab(parseLabSpec(RACKS('backend: host-gw, controlPlane: etcd'), 'x.yaml'), { takenSubnets: [] });
  const host1 = lab.hosts[0]!;
  const net = lab.networks[0]!;
  it('each agent knows its own segment and the others (a peer\'s PublicIP may be in any)', () => {
    expect(agentConfig(lab, lab.hosts[2]!, net)).toMatchObject({ underlayCidr: '192.168.51.0/24', otherSegmentCidrs: ['192.168.50.0/24', '192.168.52.0/24'] });
    expect(lab.externals.find((e) => e.name === 'etcd')).toMatchObject({ underlayIp: '192.168.50.254', links: [{ segment: 'rack1' }] });
  });

  it('up accepts an agent whose only failures are the kernel refusing next hops in other racks', () => {
    expect(unreachableNextHops(lab, host1)).toEqual(['192.168.51.2']);
    const refused = [{ command: 'ip route replace 172.16.3.0/24 via 192.168.51.2 dev eth0', error: 'Error: Nexthop has invalid gateway.' }];
    const stats = { peerSync: { refused } } as never;
    expect(onlyForeseenRefusals(lab, host1, net, stats)).toBe(true);
    expect(onlyForeseenRefusals(lab, host1, net, { peerSync: { refused: [{ command: 'ip route replace 172.16.2.0/24 via 192.168.50.3 dev eth0', error: 'Error: x' }] } } as never)).toBe(false);
    expect(kernelRefusalsOf(stats, '172.16.3.0/24', '192.168.51.2')).toEqual(refused);
    expect(kernelRefusalsOf(stats, '172.16.2.0/24', '192.168.50.3')).toEqual([]);
  });
});

describe('a trace through BGP', () => {
  const lab = bgpLab();
  const nameOf = (ip: string) => ({ '192.168.20.3': 'host4', '192.168.51.2': 'host3' })[ip];
  it('a routed hop at a BGP node says which route and from whom', () => {
    const hop: TraceHop = { n: 4, node: 'host1', iface: 'eth0', direction: 'out', atUs: 50, summary: '', change: 'routed: TTL 64→63', encapsulated: null, leg: 'request' };
    const [annotated] = annotateHops([hop], [{ node: 'host1', running: true, routes: parseBirdRoutes(fixture('rr-host1-show-route-for-pod.txt')) }], nameOf);
    expect(annotated!.route).toBe('BGP route 10.244.0.192/26 from Reflector_tor1 (learned from tor1), announced by host4, BGP next hop 192.168.20.3 (host4)');
    expect(annotateHops([{ ...hop, change: null }], [], nameOf)[0]!.route).toBeUndefined();
  });

  it('a drop names a block nobody announced, a session that is down, a BIRD that is not running', () => {
    const drop = { node: 'tor1', iface: 'eth0', reason: 'no route', evidence: [] };
    expect(explainBgpDrop(lab, drop, '10.244.9.9', [], nameOf)).toEqual(['BGP: nobody announced a block holding 10.244.9.9 (no host of racks has one), so no node routes it']);
    const down = parseBirdProtocols(fixture('fault-disabled-host2-show-protocols.txt')).map((p) => (p.name === 'Reflector_tor1' ? { ...p, name: 'Mesh_tor2' } : p));
    expect(explainBgpDrop(lab, drop, '10.244.0.130', [{ node: 'tor1', running: true, routes: [], protocols: down }], nameOf)).toEqual([
      "BGP: tor1 learned no route to host3's block 10.244.0.128/26",
      "BGP: tor1's session Mesh_tor2 is disabled (down)",
    ]);
    expect(explainBgpDrop(lab, drop, '10.244.0.130', [{ node: 'tor1', running: true, routes: [] }, { node: 'host3', running: false, routes: [] }], nameOf)).toEqual([
      "BGP: tor1 learned no route to host3's block 10.244.0.128/26",
      'BGP: BIRD is not running on host3, so nobody hears its block 10.244.0.128/26',
    ]);
    expect(explainBgpDrop(lab, drop, '10.244.0.130', [{ node: 'tor1', running: true, routes: [] }], nameOf)).toEqual([
      "BGP: tor1 learned no route to host3's block 10.244.0.128/26 — its sessions are up: host3 does not announce it to them (or a filter hides it)",
    ]);
  });
});
