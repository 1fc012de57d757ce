import { describe, expect, it } from 'vitest';
import { birdConfigText, birdSymbol, sessionName, sessionPeer, type BirdNodeConfig } from '../../src/plan/bird-config.js';
import { allSessions, bgpConfigs, peersOf, type BgpNodeInput } from '../../src/plan/bgp-peering.js';

const link = (segment: string, ip: string, k = 0) => ({ segment, iface: `eth${k}`, ip, port: k ? `x.${k}` : 'x', mac: `02:42:00:00:00:0${k}` });
const racks: BgpNodeInput[] = [
  { name: 'tor1', role: 'router', links: [link('rack1', '192.168.10.1'), link('spine', '192.168.30.1', 1)], blocks: [] },
  { name: 'tor2', role: 'router', links: [link('rack2', '192.168.20.1'), link('spine', '192.168.30.2', 1)], blocks: [] },
  { name: 'host1', role: 'host', links: [link('rack1', '192.168.10.2')], blocks: ['10.244.0.0/26'] },
  { name: 'host2', role: 'host', links: [link('rack1', '192.168.10.3')], blocks: ['10.244.0.64/26'] },
  { name: 'host3', role: 'host', links: [link('rack2', '192.168.20.2')], blocks: ['10.244.0.128/26', '10.244.1.0/26'] },
];

describe('who peers with whom', () => {
  it('full mesh: every node with every other, n(n-1)/2 sessions', () => {
    const configs = bgpConfigs({ as: 64512, reflectors: [], nodes: racks });
    expect(configs.find((c) => c.node === 'host1')!.peers.map((p) => sessionName(p))).toEqual(['Mesh_tor1', 'Mesh_tor2', 'Mesh_host2', 'Mesh_host3']);
    expect(allSessions(configs)).toHaveLength(10);
  });

  it('reflectors: clients peer with the reflector of their own rack, reflectors with each other', () => {
    const input = { reflectors: ['tor1', 'tor2'], nodes: racks };
    expect(peersOf('host1', input)).toEqual([{ node: 'tor1', role: 'reflector' }]);
    expect(peersOf('tor1', input)).toEqual([
      { node: 'tor2', role: 'mesh' },
      { node: 'host1', role: 'client' },
      { node: 'host2', role: 'client' },
    ]);
    // a client whose rack has no reflector peers with all of them
    expect(peersOf('host3', { reflectors: ['tor1'], nodes: racks })).toEqual([{ node: 'tor1', role: 'reflector' }]);
  });

  it('a session uses the addresses on a shared segment, else both nodes\' main addresses', () => {
    const configs = bgpConfigs({ as: 64512, reflectors: [], nodes: racks });
    const tor2 = configs.find((c) => c.node === 'tor2')!;
    expect(tor2.peers.find((p) => p.node === 'tor1')).toMatchObject({ localAddress: '192.168.30.2', address: '192.168.30.1' });
    expect(tor2.peers.find((p) => p.node === 'host1')).toMatchObject({ localAddress: '192.168.20.1', address: '192.168.10.2' });
    const host1 = configs.find((c) => c.node === 'host1')!;
    expect(host1.peers.find((p) => p.node === 'tor2')).toMatchObject({ localAddress: '192.168.10.2', address: '192.168.20.1' });
  });
});

describe('BIRD configuration text', () => {
  const configs = bgpConfigs({ as: 64512, reflectors: ['tor1', 'tor2'], nodes: racks });
  const text = (node: string) => birdConfigText(configs.find((c) => c.node === node)!);

  it('a host: blackholes for its blocks, exports only them, one session to its reflector', () => {
    const t = text('host3');
    expect(t).toContain('router id 192.168.20.2;');
    expect(t).toContain('protocol static blocks {\n  ipv4;\n  route 10.244.0.128/26 blackhole;\n  route 10.244.1.0/26 blackhole;\n}');
    expect(t).toContain('filter to_peers {\n  if proto = "blocks" then accept;\n  reject;\n}');
    expect(t).toContain('protocol bgp Reflector_tor2 from peer { local 192.168.20.2; neighbor 192.168.20.1 as 64512; }');
    expect(t).toContain('export where source ~ [ RTS_BGP, RTS_STATIC ]');
    expect(t).toContain('gateway recursive');
    expect(t).toMatch(/^# BIRD 2 for host3/);
  });

  it('a reflector router: no blocks, reflects BGP routes, its clients marked rr client', () => {
    const t = text('tor1');
    expect(t).not.toContain('protocol static');
    expect(t).toContain('filter to_peers {\n  if source = RTS_BGP then accept;\n  reject;\n}');
    expect(t).toContain('protocol bgp Client_host1 from peer { local 192.168.10.1; neighbor 192.168.10.2 as 64512; rr client; rr cluster id 192.168.10.1; }');
    expect(t).toContain('protocol bgp Mesh_tor2 from peer { local 192.168.30.1; neighbor 192.168.30.2 as 64512; }');
    expect(t).toContain('protocol direct { ipv4; interface "eth0", "eth1"; }');
  });

  it('names sessions by role and peer, and reads them back', () => {
    expect(birdSymbol('rack-a-host1')).toBe('rack_a_host1');
    expect(sessionName({ node: 'rack-a-host1', role: 'client' })).toBe('Client_rack_a_host1');
    expect(sessionPeer('Client_rack_a_host1')).toEqual({ role: 'client', node: 'rack-a-host1' });
    expect(sessionPeer('kernel1')).toBeUndefined();
  });

  it('refuses any value that could add a statement', () => {
    const base: BirdNodeConfig = { node: 'h', routerId: '10.0.0.1', as: 64512, interfaces: ['eth0'], blocks: [], peers: [], about: [] };
    expect(() => birdConfigText({ ...base, routerId: '10.0.0.1; protocol x' })).toThrow(/not an IPv4 address/);
    expect(() => birdConfigText({ ...base, blocks: ['10.0.0.0/8 blackhole; }'] })).toThrow(/not an IPv4 network/);
    expect(() => birdConfigText({ ...base, as: 0 })).toThrow(/not an AS number/);
    expect(() => birdConfigText({ ...base, as: 2 ** 32 })).toThrow(/not an AS number/);
    expect(() => birdConfigText({ ...base, interfaces: ['eth0"; }'] })).toThrow(/not an underlay interface/);
    expect(() => birdConfigText({ ...base, node: 'a b' })).toThrow(/not a BIRD symbol/);
    expect(() => birdConfigText({ ...base, peers: [{ node: 'x;y', address: '10.0.0.2', localAddress: '10.0.0.1', as: 1, role: 'mesh' }] })).toThrow(/not a BIRD symbol/);
    expect(birdConfigText({ ...base, about: ['line\nprotocol kernel {}'] })).toContain('# line?protocol kernel {}');
  });
});
