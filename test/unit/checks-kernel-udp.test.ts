// The kernel check on a udp network judges the agent's peer table from its stats: a stats file it
// could not read is said as such, never as an agent that knows no peer (which reads as a restart).
import { describe, expect, it } from 'vitest';
import { kernelKind } from '../../src/checks/kinds/kernel.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { network, twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec({ networks: [network({ backend: 'udp', controlPlane: 'etcd', cidr: '10.244.0.0/16', port: 8285 })] }), { takenSubnets: [] });
type Observation = Parameters<typeof kernelKind.verdict>[1];
const udp = (stats: object | undefined): Observation =>
  ({
    kind: 'udp',
    self: 'host1',
    network: lab.networks[0]!,
    facts: { source: 'its lease', subnet: '10.244.2.0/24', publicIp: '192.168.50.3' },
    desired: { routes: [{ dst: '10.244.0.0/16', dev: 'flannel0' }], neighbours: [], fdb: [] },
    routes: [{ dst: '10.244.0.0/16', dev: 'flannel0' }],
    ...(stats ? { stats } : {}),
    refusals: [],
  }) as unknown as Observation;
const spec = { on: 'host1', peer: 'host2' } as Parameters<typeof kernelKind.verdict>[0];

describe('kernel check, udp', () => {
  it('passes when the agent knows the peer', () => {
    expect(kernelKind.verdict(spec, udp({ peers: [{ subnet: '10.244.2.0/24', publicIp: '192.168.50.3', backendType: 'udp' }] })).status).toBe('pass');
  });

  it('an agent that knows no peer: its count', () => {
    const v = kernelKind.verdict(spec, udp({ peers: [] }));
    expect(v.status).toBe('fail');
    expect(v.seen).toMatch(/agent knows 0 peer\(s\)$/);
    expect(v.reason).toContain('agent table entry 10.244.2.0/24 → 192.168.50.3:8285');
  });

  it('stats it could not read: says so, not "knows 0 peer(s)"', () => {
    const v = kernelKind.verdict(spec, udp(undefined));
    expect(v.status).toBe('fail');
    expect(v.seen).toMatch(/could not read host1's agent state$/);
    expect(v.seen).not.toContain('knows 0');
    expect(v.reason).toContain('a readable agent state');
  });
});
