import { describe, expect, it } from 'vitest';
import { layOutSegments, segmentPortName, underlayFirstHop } from '../../src/plan/routed-underlay.js';
import { unjoinedSegments } from '../../src/lab-spec/segment-rules.js';

const racks = () =>
  layOutSegments(
    [{ name: 'rack1' }, { name: 'rack2', subnet: '192.168.20.0/24' }, { name: 'spine' }],
    [
      { name: 'host1', role: 'host', segments: ['rack1'] },
      { name: 'tor1', role: 'router', segments: ['rack1', 'spine'] },
      { name: 'tor2', role: 'router', segments: ['rack2', 'spine'] },
      { name: 'host3', role: 'host', segments: ['rack2'], ip: '192.168.20.30' },
      { name: 'etcd', role: 'etcd', segments: ['rack1'] },
    ],
    ['192.168.50.0/24'],
    (taken) => ['192.168.50.0/24', '192.168.51.0/24', '192.168.52.0/24'].find((c) => !taken.includes(c))!,
  );

describe('routed underlay', () => {
  it('chooses free subnets for the segments left open, each its own bridge', () => {
    const u = racks();
    expect(u.segments.map((s) => [s.name, s.subnet, s.bridge])).toEqual([
      ['rack1', '192.168.51.0/24', 'rack1'],
      ['rack2', '192.168.20.0/24', 'rack2'],
      ['spine', '192.168.52.0/24', 'spine'],
    ]);
  });

  it('numbers routers first, hosts next, etcd from the top; a router has a link per segment', () => {
    const u = racks();
    expect(u.links.get('tor1')).toEqual([
      { segment: 'rack1', iface: 'eth0', ip: '192.168.51.1', mac: '02:42:c0:a8:33:01', port: 'tor1' },
      { segment: 'spine', iface: 'eth1', ip: '192.168.52.1', mac: '02:42:c0:a8:34:01', port: 'tor1.1' },
    ]);
    expect(u.links.get('host1')![0]!.ip).toBe('192.168.51.2');
    expect(u.links.get('host3')![0]!.ip).toBe('192.168.20.30');
    expect(u.links.get('etcd')![0]!.ip).toBe('192.168.51.254');
    expect(segmentPortName('tor1', 1)).toBe('tor1.1');
  });

  it('makes each segment\'s first router its gateway and routes routers to the segments they are not on', () => {
    const u = racks();
    expect(u.segments.find((s) => s.name === 'rack2')).toMatchObject({ gateway: '192.168.20.1', gatewayNode: 'tor2' });
    expect(u.routes.get('tor1')).toEqual([{ dst: '192.168.20.0/24', via: '192.168.52.2', dev: 'eth1' }]);
    expect(u.routes.get('tor2')).toEqual([{ dst: '192.168.51.0/24', via: '192.168.52.1', dev: 'eth1' }]);
  });

  it('says where a node sends an underlay packet: straight on its own segment, else its gateway or route', () => {
    const u = racks();
    const host1 = { links: u.links.get('host1')!, gateway: u.segments[0]!.gateway! };
    expect(underlayFirstHop(host1, '192.168.51.254', u.segments)).toEqual({ via: '192.168.51.254', iface: 'eth0', direct: true });
    expect(underlayFirstHop(host1, '192.168.20.30', u.segments)).toEqual({ via: '192.168.51.1', iface: 'eth0', direct: false });
    const tor1 = { links: u.links.get('tor1')!, routes: u.routes.get('tor1')! };
    expect(underlayFirstHop(tor1, '192.168.20.30', u.segments)).toEqual({ via: '192.168.52.2', iface: 'eth1', direct: false });
    expect(underlayFirstHop(tor1, '10.1.1.1', u.segments)).toBeUndefined();
  });

  it('routes along a chain of routers', () => {
    const u = layOutSegments(
      [{ name: 'a', subnet: '10.0.1.0/24' }, { name: 'b', subnet: '10.0.2.0/24' }, { name: 'c', subnet: '10.0.3.0/24' }, { name: 'd', subnet: '10.0.4.0/24' }],
      [
        { name: 'r1', role: 'router', segments: ['a', 'b'] },
        { name: 'r2', role: 'router', segments: ['b', 'c'] },
        { name: 'r3', role: 'router', segments: ['c', 'd'] },
      ],
      [],
      () => { throw new Error('all fixed'); },
    );
    expect(u.routes.get('r1')).toEqual([
      { dst: '10.0.3.0/24', via: '10.0.2.2', dev: 'eth1' },
      { dst: '10.0.4.0/24', via: '10.0.2.2', dev: 'eth1' },
    ]);
  });

  it('finds segments no router joins', () => {
    expect(unjoinedSegments(['a', 'b', 'c'], [{ segments: ['a', 'b'] }])).toEqual(['c']);
    expect(unjoinedSegments(['a', 'b', 'c'], [{ segments: ['c', 'b'] }, { segments: ['b', 'a'] }])).toEqual([]);
  });
});
