// A lease problem is reported as one: what sits at the host's key, and why a peer refused it.
import { describe, expect, it } from 'vitest';
import { parseLeaseEntries } from '../../src/lab/etcd-leases.js';
import { leaseProblems } from '../../src/checks/kinds/lease.js';
import { refusalsOf } from '../../src/checks/kinds/kernel.js';
import type { ResolvedNetwork } from '../../src/plan/resolved-lab.js';
import type { AgentStats } from '../../src/shared/agent-stats.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const kv = (key: string, value: string, lease?: number) => ({ key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
const KEY = '/coreos.com/network/subnets/10.244.2.0-24';
const net = { name: 'default', backend: 'vxlan', vni: 1 } as ResolvedNetwork;
const host2 = { host: 'host2', underlayIp: '192.168.50.3', subnet: '10.244.2.0/24' };

describe('lease entries', () => {
  it('keeps keys whose values are not leases, with why', () => {
    const out = JSON.stringify({
      kvs: [
        kv(KEY, 'not json'),
        kv('/coreos.com/network/subnets/10.244.3.0-24', '[1,2]'),
        kv('/coreos.com/network/subnets/10.244.4.0-24', JSON.stringify({ PublicIP: '192.168.50.4', BackendType: 'vxlan' }), 7),
      ],
    });
    const { leases, unreadable } = parseLeaseEntries(out);
    expect(leases.map((l) => l.key)).toEqual(['/coreos.com/network/subnets/10.244.4.0-24']);
    expect(unreadable).toEqual([
      { key: KEY, problem: 'its value is not JSON' },
      { key: '/coreos.com/network/subnets/10.244.3.0-24', problem: 'its value is JSON but not an object' },
    ]);
  });

  it('says what sits at the host\'s key rather than "no lease"', () => {
    expect(leaseProblems(undefined, host2, net, { key: KEY, problem: 'its value is not JSON' })).toEqual([`the key ${KEY} holds no flannel lease: its value is not JSON`]);
    const moved = { key: KEY, subnet: '10.244.2.0/24', publicIp: '8.8.8.8', backendType: 'vxlan', raw: {} };
    expect(leaseProblems(undefined, host2, net, moved)).toEqual([`the key ${KEY} names PublicIP 8.8.8.8, not host2's 192.168.50.3`]);
    expect(leaseProblems(undefined, host2, net)).toEqual(['no lease with PublicIP 192.168.50.3']);
  });

  it('finds an agent\'s refusal of the peer\'s key in its stats', () => {
    const stats = { rejectedLeases: [{ key: KEY, code: 'public-ip', reason: 'PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24', modRevision: 9 }] } as unknown as AgentStats;
    expect(refusalsOf(stats, KEY)).toEqual([{ key: KEY, reason: 'PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24' }]);
    expect(refusalsOf(stats, '/coreos.com/network/subnets/10.244.1.0-24')).toEqual([]);
    expect(refusalsOf(undefined, KEY)).toEqual([]);
  });
});
