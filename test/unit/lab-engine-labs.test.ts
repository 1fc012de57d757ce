import type { CheckSpec } from '../../src/lab-spec/lab-spec.js';
import { describe, expect, it } from 'vitest';
import { groupLabs, underlaysInUse } from '../../src/lab/engine-labs.js';
import { selectChecks } from '../../src/core/lab-verify.js';
import { parseInterfaces } from '../../src/core/lab-interfaces.js';
import type { ContainerSummary } from '../../src/runtime/runtime.js';

const container = (name: string, lab: string, node: string, role: string, state = 'running', extra: Record<string, string> = {}): ContainerSummary => ({
  id: name,
  name,
  state,
  labels: { 'overlab.lab': lab, 'overlab.node': node, 'overlab.role': role, 'overlab.underlay': '192.168.50.0/24', 'overlab.spec': '/x.yaml', ...extra },
});

describe('groupLabs', () => {
  it('groups containers by lab label and reads the fingerprint and run id from the switch', () => {
    const labs = groupLabs([
      container('overlab-a-host1', 'a', 'host1', 'host', 'running', { 'overlab.run': 'r1' }),
      container('overlab-b-switch', 'b', 'switch', 'switch', 'running', { 'overlab.fingerprint': 'f1', 'overlab.run': 'r2' }),
      container('overlab-a-switch', 'a', 'switch', 'switch', 'exited'),
      { id: 'x', name: 'other', state: 'running', labels: {} },
    ]);
    expect(labs.map((l) => [l.name, l.nodes.length, l.running])).toEqual([
      ['a', 2, 1],
      ['b', 1, 1],
    ]);
    expect(labs[0]!.fingerprint).toBeUndefined();
    expect(labs[0]!.run).toBeUndefined();
    expect(labs[1]).toMatchObject({ fingerprint: 'f1', run: 'r2' });
    expect(labs[0]!.containers.map((c) => c.name)).toEqual(['overlab-a-host1', 'overlab-a-switch']);
    expect(underlaysInUse(labs)).toEqual(['192.168.50.0/24', '192.168.50.0/24']);
  });

  it('reads an underlay label of several segments, and leaves out what is not a CIDR', () => {
    const labs = groupLabs([
      container('overlab-r-switch', 'r', 'switch', 'switch', 'running', { 'overlab.underlay': '192.168.59.0/24,192.168.63.0/24' }),
      container('overlab-x-switch', 'x', 'switch', 'switch', 'running', { 'overlab.underlay': 'from a future version' }),
    ]);
    expect(underlaysInUse(labs)).toEqual(['192.168.59.0/24', '192.168.63.0/24']);
  });
});

describe('selectChecks', () => {
  const checks: CheckSpec[] = [
    { name: 'a', kind: 'ping' },
    { name: 'b', kind: 'ping' },
  ];
  it('selects by name and rejects unknown names with the list of known ones', () => {
    expect(selectChecks(checks, undefined)).toEqual(checks);
    expect(selectChecks(checks, ['b'])).toEqual([checks[1]]);
    expect(() => selectChecks(checks, ['c'])).toThrow('no check named "c"');
  });
});

describe('parseInterfaces', () => {
  it('reads ip -j -d addr output for the host and each namespace', () => {
    const host = JSON.stringify([
      { ifname: 'lo', link_type: 'loopback', operstate: 'UNKNOWN', address: '00:00:00:00:00:00', mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'docker0', operstate: 'UP', address: '02:42:ac:10:01:01', mtu: 1500, linkinfo: { info_kind: 'bridge' }, addr_info: [{ family: 'inet', local: '172.16.1.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
      { ifname: 'veth-pod1', operstate: 'UP', address: '7a:00:00:00:00:01', mtu: 1500, master: 'docker0', linkinfo: { info_kind: 'veth' } },
    ]);
    const pod = JSON.stringify([{ ifname: 'eth0', operstate: 'UP', address: '02:42:ac:10:01:02', mtu: 1500, linkinfo: { info_kind: 'veth' }, addr_info: [{ family: 'inet', local: '172.16.1.2', prefixlen: 24 }] }]);
    const parsed = parseInterfaces('host1', `${host}\n\nnetns: pod1\n${pod}\n`);
    expect(parsed.map((i) => [i.netns ?? '-', i.name, i.kind, i.master ?? '', i.addresses.join(' ')])).toEqual([
      ['-', 'lo', 'loopback', '', '127.0.0.1/8'],
      ['-', 'docker0', 'bridge', '', '172.16.1.1/24'],
      ['-', 'veth-pod1', 'veth', 'docker0', ''],
      ['pod1', 'eth0', 'veth', '', '172.16.1.2/24'],
    ]);
  });
});
