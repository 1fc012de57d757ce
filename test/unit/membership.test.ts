import { describe, expect, it } from 'vitest';
import { allocateJoiningHost, resolveLab } from '../../src/plan/resolve-lab.js';
import { checkJoiningNames, logTime } from '../../src/core/node-membership.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { MAX_HOSTS } from '../../src/lab-spec/limits.js';
import { staticPeerChangeCommands } from '../../src/plan/overlay.js';
import { shellCommand } from '../../src/plan/shell-quote.js';
import { network, twoHostSpec } from './lab-fixture.js';

describe('allocateJoiningHost', () => {
  it('takes the next free underlay address and the first subnet nobody holds', () => {
    const spec = twoHostSpec();
    spec.hosts[0]!.subnets = { default: '172.16.3.0/24' }; // host1 holds 3, host2 gets 1
    const lab = resolveLab(spec, { takenSubnets: [] });
    const host = allocateJoiningHost(lab, 'host3', ['a', 'b']);
    expect(host.underlayIp).toBe('192.168.50.4');
    expect(host.networks[0]).toMatchObject({ subnet: '172.16.2.0/24', bridgeIp: '172.16.2.1' });
    expect(host.pods.map((p) => [p.name, p.ip, p.mac])).toEqual([
      ['a', '172.16.2.2', '02:42:ac:10:02:02'],
      ['b', '172.16.2.3', '02:42:ac:10:02:03'],
    ]);
    expect(host.container).toBe('overlab-demo-host3');
  });
});

describe('static peer changes', () => {
  it('adds and removes exactly one peer\'s vxlan entries', () => {
    const spec = twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'static', cidr: '10.244.0.0/16' })] });
    const lab = resolveLab(spec, { takenSubnets: [] });
    const [host1, host2] = lab.hosts;
    const lines = (change: 'add' | 'remove') => staticPeerChangeCommands(lab, host1!, lab.networks[0]!, host2!, change).map(shellCommand);
    expect(lines('add')).toEqual([
      'ip neigh replace 10.244.2.0 lladdr 02:42:0a:f4:02:00 dev flannel.1 nud permanent',
      'bridge fdb replace 02:42:0a:f4:02:00 dev flannel.1 dst 192.168.50.3 self permanent',
      'ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
    ]);
    expect(lines('remove')[0]).toBe('ip route del 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
  });
});

describe('logTime', () => {
  it('reads the timestamp of the first matching agent log line', () => {
    const log = '2026-11-25T19:42:10.463Z INFO  lease added: 10.244.2.0/24 -> 192.168.50.3\n2026-11-25T19:42:10.496Z INFO  programmed: ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n';
    expect(logTime(log, /programmed: ip route replace 10\.244\.2\.0\/24 /)).toBe(Date.parse('2026-11-25T19:42:10.496Z'));
    expect(logTime(log, /nothing/)).toBeUndefined();
  });

  it('skips what a peer logged for an earlier member of the same name and subnet', () => {
    const route = '2026-11-25T19:42:10.496Z INFO  programmed: ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink';
    const again = '2026-11-25T19:50:01.120Z INFO  programmed: ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink';
    const log = [route, '2026-11-25T19:45:00.000Z INFO  lease removed: 10.244.2.0/24', again].join('\n');
    const pattern = /programmed: ip route replace 10\.244\.2\.0\/24 /;
    expect(logTime(log, pattern, Date.parse('2026-11-25T19:50:00.000Z'))).toBe(Date.parse('2026-11-25T19:50:01.120Z'));
    expect(logTime(log, pattern, Date.parse('2026-11-25T19:51:00.000Z'))).toBeUndefined();
  });
});

describe('context switches', () => {
  it('sums every task of every process', async () => {
    const { sumContextSwitches } = await import('../../src/checks/kinds/agent-cost.js');
    const task = (v: number, n: number) => `Name:\tnode\nState:\tS\nvoluntary_ctxt_switches:\t${v}\nnonvoluntary_ctxt_switches:\t${n}\n`;
    expect(sumContextSwitches(task(10, 2) + task(5, 1) + task(7, 0))).toEqual({ voluntary: 22, involuntary: 3 });
  });
});

describe('forwardingSwitches', () => {
  it('subtracts what the agent does idle over the same time', async () => {
    const { forwardingSwitches } = await import('../../src/checks/kinds/agent-cost.js');
    expect(forwardingSwitches({ switches: 100, ms: 2000 }, { switches: 180, ms: 2000 })).toBe(80);
    expect(forwardingSwitches({ switches: 100, ms: 1000 }, { switches: 150, ms: 2000 })).toBe(0);
    expect(forwardingSwitches({ switches: 0, ms: 0 }, { switches: 40, ms: 2000 })).toBe(40);
  });
});

describe('a join that fails', () => {
  it('removes the container its own run made, by run id, and nothing else', async () => {
    const { FakeRuntime } = await import('../support/fake-runtime.js');
    const { bringUpLab } = await import('../../src/deploy/node-bringup.js');
    const { addHost } = await import('../../src/core/node-membership.js');
    const { LABEL_RUN } = await import('../../src/plan/container-names.js');
    const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
    const runtime = new FakeRuntime();
    const signal = new AbortController().signal;
    await bringUpLab(runtime, lab, signal);
    const before = runtime.names();
    // A bystander of the joiner's name-to-be would be someone else's; the join fails half-way.
    runtime.onExec((call) => (call.container === 'overlab-demo-host3' ? { stderr: 'RTNETLINK answers: Operation not permitted\n', exitCode: 2 } : undefined));
    await expect(addHost(runtime, lab, 'host3', ['pod1'], signal)).rejects.toThrow();
    const created = runtime.calls.find((c) => c.method === 'createAndStart' && (c.args[0] as { name: string }).name === 'overlab-demo-host3');
    const run = (created!.args[0] as { labels: Record<string, string> }).labels[LABEL_RUN];
    expect(run).toMatch(/^\S+$/);
    expect(runtime.calls.filter((c) => c.method === 'list').map((c) => c.args[0])).toContainEqual(expect.objectContaining({ [LABEL_RUN]: run }));
    expect(runtime.names()).toEqual(before);
  });
});

describe('node add into a lab at the host limit', () => {
  const labOf = (hosts: number) =>
    resolveLab(
      twoHostSpec({
        networks: [network({ backend: 'host-gw', cidr: '10.244.0.0/16' })],
        hosts: Array.from({ length: hosts }, (_, i) => ({ name: `host${i + 1}`, subnets: {}, pods: [{ name: 'pod1', network: 'default' }] })),
      }),
      { takenSubnets: [] },
    );

  it('accepts the last host that fits and refuses the one after, with exit 2 and the way out', () => {
    expect(() => checkJoiningNames(labOf(MAX_HOSTS - 1), 'joiner', ['pod1'])).not.toThrow();
    let error: unknown;
    try {
      checkJoiningNames(labOf(MAX_HOSTS), 'joiner', ['pod1']);
    } catch (e) {
      error = e;
    }
    expect(exitCodeFor(error)).toBe(2);
    expect((error as Error).message).toBe(`lab demo already has ${MAX_HOSTS} hosts, the most a lab may have (${MAX_HOSTS})`);
    expect((error as { hint?: string }).hint).toContain('overlab node rm demo <host>');
  });
});
