import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { announcedBy, bgpState, describeBgpRoute, parseBirdProtocols, parseBirdRoutes, sessionError } from '../../src/probes/birdc-output.js';

// Real outputs of Debian's bird2 2.0.12, captured from lab nodes (two racks: tor1, tor2 routers
// joined by a spine; host1, host2 in rack1, host3, host4 in rack2; blocks 10.244.0.{0,64,128,192}/26).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/bird/${name}`, import.meta.url), 'utf8');

describe('birdc show protocols', () => {
  it('reads the table: every protocol, its state and BGP state', () => {
    const ps = parseBirdProtocols(fixture('mesh-host1-show-protocols.txt'));
    expect(ps.map((p) => p.name)).toEqual(['device1', 'direct1', 'kernel1', 'blocks', 'Mesh_tor1', 'Mesh_tor2', 'Mesh_host2', 'Mesh_host3', 'Mesh_host4']);
    const s = ps.find((p) => p.name === 'Mesh_host3')!;
    expect([s.proto, s.state, bgpState(s), sessionError(s)]).toEqual(['BGP', 'up', 'Established', undefined]);
  });

  it('reads the details of `all`: neighbour, AS, source address, routes of the first channel', () => {
    const ps = parseBirdProtocols(fixture('rr-tor1-show-protocols-all.txt'));
    const c = ps.find((p) => p.name === 'Client_host1')!;
    expect(c.details).toMatchObject({ 'BGP state': 'Established', 'Neighbor address': '192.168.10.2', 'Neighbor AS': '64512', 'Local AS': '64512', 'Source address': '192.168.10.1' });
    expect(c.details.Routes).toMatch(/^1 imported, 3 exported/);
    expect(ps.find((p) => p.name === 'kernel1')!.details.Routes).toMatch(/imported/);
  });

  it('names why a session is down, in BIRD\'s words', () => {
    const disabled = parseBirdProtocols(fixture('fault-disabled-host2-show-protocols.txt')).find((p) => p.name === 'Reflector_tor1')!;
    expect([disabled.state, bgpState(disabled), sessionError(disabled)]).toEqual(['down', 'Down', undefined]);
    const shut = parseBirdProtocols(fixture('fault-disabled-tor1-show-protocols-all-client.txt'))[0]!;
    // the peer's side, a second later: it tried again and nobody listens for it
    expect([bgpState(shut), sessionError(shut)]).toEqual(['Active', 'Socket: Connection refused']);
    const wrongAs = parseBirdProtocols(fixture('fault-wrong-as-tor2-show-protocols.txt')).find((p) => p.name === 'Client_host3')!;
    expect([bgpState(wrongAs), sessionError(wrongAs)]).toEqual(['Idle', 'BGP Error: Bad peer AS']);
    const theirs = parseBirdProtocols(fixture('fault-wrong-as-host3-show-protocols-all.txt'))[0]!;
    expect([theirs.details['Local AS'], sessionError(theirs)]).toEqual(['64513', 'Received: Bad peer AS']);
    const missing = parseBirdProtocols(fixture('fault-missing-neighbour-host4-show-protocols-all.txt'))[0]!;
    expect(sessionError(missing)).toBe('Socket: Connection reset by peer');
    const stopped = parseBirdProtocols(fixture('fault-bird-stopped-tor2-show-protocols.txt')).find((p) => p.name === 'Client_host4')!;
    expect([bgpState(stopped), sessionError(stopped)]).toEqual(['Active', 'Socket: Connection refused']);
    const hidden = parseBirdProtocols(fixture('fault-export-hidden-host3-show-protocols-all.txt'))[0]!;
    expect(hidden.details.Routes).toBe('2 imported, 0 exported, 2 preferred');
  });

  it('reads nothing from what is not birdc\'s table', () => {
    expect(parseBirdProtocols(fixture('fault-bird-stopped-host4-birdc.txt'))).toEqual([]);
    expect(parseBirdProtocols('')).toEqual([]);
    expect(parseBirdProtocols('Name Proto\n\u001b[31m evil')).toEqual([]);
  });
});

describe('birdc show route', () => {
  it('reads learned routes: protocol, the neighbour, the BGP next hop and the immediate one', () => {
    const rs = parseBirdRoutes(fixture('mesh-host1-show-route-all.txt'));
    const far = rs.find((r) => r.net === '10.244.0.128/26')!;
    expect(far).toMatchObject({ type: 'unicast', protocol: 'Mesh_host3', from: '192.168.20.2', primary: true, preference: 100, nexthops: [{ via: '192.168.10.1', iface: 'eth0' }] });
    expect(far.attributes['BGP.next_hop']).toBe('192.168.20.2');
    expect(announcedBy(far)).toBe('192.168.20.2');
    const block = rs.find((r) => r.net === '10.244.0.0/26')!;
    expect(block).toMatchObject({ type: 'blackhole', protocol: 'blocks', nexthops: [] });
    expect(rs.find((r) => r.net === '0.0.0.0/0')).toMatchObject({ protocol: 'kernel1', nexthops: [{ via: '192.168.10.1', iface: 'eth0' }] });
  });

  it('a reflected route names its originator and the cluster it crossed', () => {
    const rs = parseBirdRoutes(fixture('rr-host1-show-route-all.txt'));
    const far = rs.find((r) => r.net === '10.244.0.192/26')!;
    expect(far.protocol).toBe('Reflector_tor1');
    expect(far.attributes['BGP.originator_id']).toBe('192.168.20.3');
    expect(far.attributes['BGP.cluster_list']).toBe('192.168.10.1 192.168.20.1') // the last reflector first;
    expect(announcedBy(far)).toBe('192.168.20.3');
  });

  it('`show route for` an address nobody announced finds only the default route', () => {
    const rs = parseBirdRoutes(fixture('rr-host1-show-route-for-unannounced.txt'));
    expect(rs.map((r) => [r.net, r.protocol])).toEqual([['0.0.0.0/0', 'kernel1']]);
    const onRouter = parseBirdRoutes(fixture('rr-tor1-show-route-for-pod.txt'));
    expect(onRouter[0]).toMatchObject({ net: '10.244.0.192/26', protocol: 'Mesh_tor2', nexthops: [{ via: '192.168.30.2', iface: 'eth1' }] });
  });
});

describe('a trace hop\'s BGP sentence', () => {
  const names: Record<string, string> = { '192.168.20.2': 'host3', '192.168.20.3': 'host4', '192.168.30.2': 'tor2' };
  const nameOf = (ip: string) => names[ip];
  it('names the route, the session it came by, who announced it and the BGP next hop', () => {
    expect(describeBgpRoute(parseBirdRoutes(fixture('rr-host1-show-route-for-pod.txt')), nameOf)).toBe(
      'BGP route 10.244.0.192/26 from Reflector_tor1 (learned from tor1), announced by host4, BGP next hop 192.168.20.3 (host4)',
    );
    expect(describeBgpRoute(parseBirdRoutes(fixture('mesh-host1-show-route-for-pod.txt')), nameOf)).toBe(
      'BGP route 10.244.0.192/26 from Mesh_host4 (learned from host4), BGP next hop 192.168.20.3 (host4)',
    );
  });
  it('is silent when the route used is not BGP\'s', () => {
    expect(describeBgpRoute(parseBirdRoutes(fixture('rr-host1-show-route-for-unannounced.txt')), nameOf)).toBeUndefined();
    expect(describeBgpRoute([], nameOf)).toBeUndefined();
  });
});
