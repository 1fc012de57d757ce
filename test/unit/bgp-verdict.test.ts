import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeBgp, parseKernelRoutes, type BgpExpectation } from '../../src/probes/bgp-verdict.js';
import { parseBirdProtocols } from '../../src/probes/birdc-output.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bird/${name}`, import.meta.url), 'utf8');

// host1 in rack1 (192.168.10.2), reflector tor1 (192.168.10.1); host2 beside it; host3, host4 in rack2
const host1: BgpExpectation = {
  node: 'host1',
  sessions: [{ protocol: 'Reflector_tor1', peer: 'tor1', address: '192.168.10.1' }],
  routes: [
    { block: '10.244.0.64/26', owner: 'host2', via: '192.168.10.3', dev: 'eth0', viaNode: 'host2' },
    { block: '10.244.0.128/26', owner: 'host3', via: '192.168.10.1', dev: 'eth0', viaNode: 'tor1' },
    { block: '10.244.0.192/26', owner: 'host4', via: '192.168.10.1', dev: 'eth0', viaNode: 'tor1' },
  ],
  blackholes: ['10.244.0.0/26'],
};
const up = { birdc: { ok: true as const }, protocols: parseBirdProtocols(fixture('rr-host1-show-protocols.txt')), routes: parseKernelRoutes(fixture('rr-host1-ip-route.json')) };

describe('the bgp check\'s verdict', () => {
  it('passes on a converged reflector client: session up, every block via the right hop, its blackhole', () => {
    const j = judgeBgp(host1, up);
    expect(j).toMatchObject({ status: 'pass', seen: 'host1: 1/1 sessions Established, 3/3 blocks routed by BIRD, 1/1 blackholes' });
  });

  it('reads ip -j route: bird routes and blackholes', () => {
    expect(up.routes).toContainEqual({ dst: '10.244.0.0/26', type: 'blackhole', protocol: 'bird' });
    expect(up.routes).toContainEqual({ dst: '10.244.0.128/26', gateway: '192.168.10.1', dev: 'eth0', protocol: 'bird' });
    expect(parseKernelRoutes('not json')).toEqual([]);
    expect(parseKernelRoutes('[{"dst":1},null,{"dst":"x","gateway":{}}]')).toEqual([{ dst: 'x' }]);
  });

  it('names a session that is down with BIRD\'s words, and the blocks that went with it', () => {
    const routes = up.routes.filter((r) => r.protocol !== 'bird' || r.type === 'blackhole');
    const j = judgeBgp(host1, { ...up, protocols: parseBirdProtocols(fixture('fault-missing-neighbour-host4-show-protocols-all.txt')).map((p) => ({ ...p, name: 'Reflector_tor1' })), routes });
    expect(j.status).toBe('fail');
    expect(j.reason).toContain('session Reflector_tor1 with tor1 (192.168.10.1) is Active: Socket: Connection reset by peer');
    expect(j.reason).toContain("no route to host2's block 10.244.0.64/26: BIRD did not learn it");
    expect(j.problems).toHaveLength(4);
    expect(j.reason).toMatch(/\(\+1 more\)$/);
  });

  it('a disabled session reads as disabled; a missing one as missing from the config', () => {
    const disabled = parseBirdProtocols(fixture('fault-disabled-host2-show-protocols.txt'));
    const j = judgeBgp({ ...host1, node: 'host2', sessions: [{ protocol: 'Reflector_tor1', peer: 'tor1', address: '192.168.10.1' }, { protocol: 'Mesh_tor9', peer: 'tor9', address: '10.0.0.9' }], routes: [], blackholes: [] }, { ...up, protocols: disabled });
    expect(j.problems).toEqual(['session Reflector_tor1 with tor1 (192.168.10.1) is disabled (down)', 'host2 has no session Mesh_tor9 with tor9 (10.0.0.9) in its BIRD config']);
  });

  it('a route on the wrong hop, or put there by hand, is not BGP\'s', () => {
    const routes = up.routes.map((r) => (r.dst === '10.244.0.128/26' ? { ...r, gateway: '192.168.10.3' } : r.dst === '10.244.0.192/26' ? { ...r, protocol: 'static' } : r));
    const j = judgeBgp(host1, { ...up, routes });
    expect(j.problems).toEqual([
      "host3's block 10.244.0.128/26 goes via 192.168.10.3 dev eth0, expected via 192.168.10.1 dev eth0 (tor1)",
      "host4's block 10.244.0.192/26 is routed by static (via 192.168.10.1), not learned by BIRD",
    ]);
  });

  it('BIRD not running: says so, and what is missing', () => {
    const j = judgeBgp(host1, { birdc: { ok: false, error: 'Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory' }, protocols: [], routes: parseKernelRoutes(fixture('fault-bird-stopped-host4-ip-route.json')) });
    expect(j.seen).toBe('host1: BIRD not running');
    expect(j.problems[0]).toBe('BIRD is not running on host1 (birdc: Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory)');
    expect(j.problems).toContain("no blackhole for host1's own block 10.244.0.0/26 (proto bird)");
  });
});
