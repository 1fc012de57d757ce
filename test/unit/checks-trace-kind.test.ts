// The trace check kind: how a spec asks for a journey, and how a trace's result is judged.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { SpecError } from '../../src/lab-spec/spec-error.js';
import { traceKind } from '../../src/checks/kinds/trace.js';
import type { TraceResult } from '../../src/trace/trace-result.js';

const lab = (check: string) => `name: t
network: { backend: vxlan, controlPlane: static }
hosts:
  - { name: host1, pods: [pod1] }
  - { name: host2, pods: [pod1] }
nodes:
  - { name: router, role: router }
checks:
  - name: journey
${check}
`;

const problems = (text: string) => {
  try {
    parseLabSpec(text, 'x.yaml');
    return [];
  } catch (e) {
    return (e as SpecError).issues.map((i) => `${i.path}: ${i.message}`);
  }
};

describe('trace check: spec', () => {
  it('takes from/to/via/dropAt with defaults', () => {
    const spec = parseLabSpec(lab('    trace: { from: host1/pod1, to: host2/pod1, via: ["host1:flannel.1", "host2:eth0"] }'), 'x.yaml');
    expect(spec.checks[0]).toMatchObject({ kind: 'trace', trace: { from: 'host1/pod1', to: 'host2/pod1', expect: 'delivered', proto: 'icmp', via: ['host1:flannel.1', 'host2:eth0'] } });
    const dropped = parseLabSpec(lab('    trace: { from: host1/pod1, to: host2/pod1, dropAt: router }'), 'x.yaml');
    expect(dropped.checks[0]).toMatchObject({ trace: { expect: 'dropped', dropAt: 'router' } });
  });

  it('refuses a via that is not an interface, an unknown node, and dropAt with expect delivered', () => {
    expect(problems(lab('    trace: { from: host1/pod1, to: host2/pod1, via: [host1] }'))).toEqual([expect.stringMatching(/checks\[0\]\.trace\.via\[0\]: "host1" is not an interface/)]);
    expect(problems(lab('    trace: { from: host1/pod1, to: host3/pod1 }'))).toEqual([expect.stringMatching(/checks\[0\]\.trace\.to: unknown host "host3"/)]);
    expect(problems(lab('    trace: { from: host1/pod1, to: host2/pod1, expect: delivered, dropAt: router }'))).toEqual([
      expect.stringMatching(/checks\[0\]\.trace\.dropAt: dropAt names where a dropped probe stops/),
    ]);
  });

  it('judges a result: delivered through the named interfaces, or not', () => {
    const hop = (n: number, node: string, iface: string) => ({ n, node, iface, direction: 'out' as const, atUs: n, summary: '', change: null, encapsulated: null, leg: 'request' as const });
    const result = {
      lab: 't',
      from: 'host1/pod1',
      to: 'host2/pod1',
      delivered: true,
      hops: [hop(1, 'host1/pod1', 'eth0'), hop(2, 'host1', 'flannel.1'), hop(3, 'host1', 'eth0'), hop(4, 'host2', 'eth0'), hop(5, 'host2/pod1', 'eth0')],
    } as unknown as TraceResult;
    const spec = { from: 'host1/pod1', to: 'host2/pod1', expect: 'delivered' as const, proto: 'icmp' as const };
    expect(traceKind.verdict({ ...spec, via: ['host1:flannel.1', 'host2:eth0'] }, result).status).toBe('pass');
    const wrongOrder = traceKind.verdict({ ...spec, via: ['host2:eth0', 'host1:flannel.1'] }, result);
    expect(wrongOrder).toMatchObject({ status: 'fail', reason: expect.stringMatching(/host1:flannel\.1/) });
    expect(traceKind.verdict({ ...spec, via: ['host1:flannel.20'] }, result)).toMatchObject({ status: 'fail', reason: 'never crossed host1:flannel.20' });
  });
});
