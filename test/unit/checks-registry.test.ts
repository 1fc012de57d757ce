// Check kinds as a registry: dispatch by lookup, argv-only probes, and a check whose lab part is
// gone reports "error" with the reason — never a pass or fail drawn from missing evidence.
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CHECK_KINDS, checkKindOf } from '../../src/checks/check-kinds.js';
import { KERNEL_STATE_ARGVS } from '../../src/checks/kinds/kernel.js';
import { taskStatusArgv } from '../../src/checks/kinds/agent-cost.js';
import { leaseProblems } from '../../src/checks/kinds/lease.js';
import { LabReferences } from '../../src/lab/lab-references.js';
import { LabPartMissing } from '../../src/lab/lab-part-missing.js';
import { planChecks, reachesOf, runCheck } from '../../src/checks/run-checks.js';
import { planUnits } from '../../src/checks/check-plan.js';
import { verifyLab } from '../../src/core/lab-verify.js';
import { unavailableNodes } from '../../src/lab/node-availability.js';
import { readLabFacts } from '../../src/lab/etcd-leases.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import type { ContainerRuntime, ContainerSummary, ExecResult } from '../../src/runtime/runtime.js';
import type { CheckSpec } from '../../src/lab-spec/lab-spec.js';
import { network, twoHostSpec } from './lab-fixture.js';

type Answer = (container: string, argv: string[]) => ExecResult | Error;

/** Records every exec; answers from `answer`. Only what verify uses. */
function fakeRuntime(answer: Answer, containers: ContainerSummary[] = []) {
  const calls: { container: string; argv: string[] }[] = [];
  const runtime = {
    endpoint: `fake:${randomUUID()}`,
    async exec(container: string, argv: string[]): Promise<ExecResult> {
      calls.push({ container, argv });
      const r = answer(container, argv);
      if (r instanceof Error) throw r;
      return r;
    },
    async list(): Promise<ContainerSummary[]> {
      return containers;
    },
    // No engine ID: the probe lock is named after this fake's own endpoint.
    async info() {
      return { serverVersion: 'fake', apiVersion: '', kernelVersion: '', operatingSystem: '' };
    },
  } as unknown as ContainerRuntime;
  return { runtime, calls };
}

const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
const PING_OK = '3 packets transmitted, 3 received, 0% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.050/0.070/0.090/0.010 ms\n';

const hostGw = resolveLab(twoHostSpec(), { takenSubnets: [] });
const vxlan = resolveLab(twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd' })] }), { takenSubnets: [] });
const running = (lab: typeof hostGw, except: string[] = []): ContainerSummary[] =>
  [...lab.hosts, ...lab.externals]
    .filter((n) => !except.includes(n.name))
    .map((n) => ({ id: n.container, name: n.container, state: 'running', labels: { 'overlab.lab': lab.name, 'overlab.node': n.name } }));

const pingCheck = { kind: 'ping', name: 'p', ping: { from: 'host1/pod1', to: 'host2/pod1', count: 3, expect: 'reachable' } } satisfies CheckSpec;
const unreachableCheck: CheckSpec = { kind: 'ping', name: 'u', ping: { from: 'host1/pod1', to: 'host2/pod1', count: 3, expect: 'unreachable' } };
const kernelCheck: CheckSpec = { kind: 'kernel', name: 'k', kernel: { on: 'host1', peer: 'host2', network: 'default' } };
const leaseCheck: CheckSpec = { kind: 'lease', name: 'l', lease: { host: 'host2', network: 'default' } };
const captureCheck = {
  kind: 'capture',
  name: 'c',
  capture: { on: 'host1:eth0', during: { ping: pingCheck.ping }, expect: [{ proto: 'vxlan', inner: { srcMac: 'host1:flannel.1' } }], absent: [] },
} satisfies CheckSpec;

describe('the check-kind registry', () => {
  it('has one module per kind, each with every part', () => {
    expect(CHECK_KINDS.map((k) => k.key)).toEqual(['ping', 'capture', 'kernel', 'lease', 'agentCost', 'trace', 'link', 'service', 'bgp']);
    expect(new Set(CHECK_KINDS.map((k) => k.label)).size).toBe(CHECK_KINDS.length);
    for (const k of CHECK_KINDS) {
      for (const part of ['schema', 'resolve', 'footprint', 'run', 'verdict'] as const) expect(typeof k[part], `${k.key}.${part}`).toBe('function');
      expect(checkKindOf(k.key)).toBe(k);
    }
    expect(checkKindOf('no-such-kind')).toBeUndefined();
  });

  it('plans a ping, a kernel read and a capture of that very ping together; a capture of another ping after them', () => {
    const otherPing: CheckSpec = { ...captureCheck, name: 'c2', capture: { ...captureCheck.capture, during: { ping: { ...pingCheck.ping, count: 1 } } } } as CheckSpec;
    expect(planChecks([pingCheck, kernelCheck, captureCheck, otherPing], new LabReferences(hostGw))).toEqual([[pingCheck, kernelCheck, captureCheck], [otherPing]]);
    const units = planUnits(reachesOf([pingCheck, kernelCheck, captureCheck, otherPing], new LabReferences(hostGw)));
    expect(units.map((u) => u.checks)).toEqual([[0, 2], [1], [3]]);
    expect(units[0]!.shared).toBe(true);
  });

  it('footprints name the lab nodes a check needs, etcd included when the state lives there', () => {
    const names = new LabReferences(vxlan);
    const fp = (c: CheckSpec) => checkKindOf(c.kind)!.footprint((c as unknown as Record<string, never>)[c.kind]!, names);
    expect(fp(pingCheck).nodes).toEqual(['host1', 'host2']);
    expect(fp(kernelCheck).nodes).toEqual(['host1', 'host2', 'etcd']);
    expect(fp(leaseCheck).nodes).toEqual(['host2', 'etcd']);
    expect(fp(captureCheck)).toEqual({ nodes: ['host1', 'host2'], captures: ['host1:eth0'], traffic: [pingCheck.ping], shared: true });
    expect(new LabReferences(hostGw).overlayNodes('default', 'host1')).toEqual(['host1']);
    expect(names.nodesOf(vxlan.hosts[1]!.pods[0]!.ip, '02:42:00:00:00:01', 'outside')).toEqual(['host2', 'outside']);
  });
});

describe('running checks', () => {
  it('a ping check runs ping as an argv, in the pod, and passes on replies', async () => {
    const { runtime, calls } = fakeRuntime(() => ok(PING_OK));
    const r = await runCheck(runtime, new LabReferences(hostGw), pingCheck, new AbortController().signal);
    expect(r).toMatchObject({ name: 'p', kind: 'ping', status: 'pass' });
    expect(calls).toHaveLength(1);
    // bounded by a deadline inside the container (timeout …), then in the pod's namespace
    const argv = calls[0]!.argv;
    expect(argv[0]).toBe('timeout');
    const inPod = argv.indexOf('ip');
    expect(argv.slice(inPod, inPod + 4)).toEqual(['ip', 'netns', 'exec', 'pod1']);
    expect(argv).toContain('ping');
    expect(argv).not.toContain('sh');
  });

  it('reads kernel state with three argv execs, never a shell', async () => {
    const { runtime, calls } = fakeRuntime((_c, argv) => ok(argv[0] === 'bridge' ? '' : '[]'));
    const r = await runCheck(runtime, new LabReferences(hostGw), kernelCheck, new AbortController().signal);
    expect(r.kind).toBe('kernel');
    expect(r.status).toBe('fail'); // the fake kernel has no routes
    expect(r.reason).toMatch(/^host1 lacks route 172\.16\.2\.0\/24 via /);
    expect(calls.map((c) => c.argv)).toEqual([[...KERNEL_STATE_ARGVS.routes], [...KERNEL_STATE_ARGVS.neighbours], [...KERNEL_STATE_ARGVS.fdb]]);
  });

  it('a check whose node is gone is an error with the reason, and nothing runs', async () => {
    const { runtime, calls } = fakeRuntime(() => ok(PING_OK));
    const unavailable = await unavailableNodes(fakeRuntime(() => ok(), running(hostGw, ['host2'])).runtime, hostGw);
    expect(unavailable.get('host2')).toEqual({ reason: 'host2 (container overlab-demo-host2) is gone from the lab' });
    // Without this, an "unreachable" check would pass because its target is simply gone.
    const r = await runCheck(runtime, new LabReferences(hostGw), unreachableCheck, new AbortController().signal, unavailable);
    expect(r).toMatchObject({ status: 'error', reason: 'host2 (container overlab-demo-host2) is gone from the lab' });
    expect(calls).toEqual([]);
  });

  it('verify after the etcd node was removed: etcd checks and VTEP-MAC captures are errors, the ping still runs', async () => {
    const { runtime, calls } = fakeRuntime((container) => (container.endsWith('-etcd') ? new Error('(HTTP code 404) no such container') : ok(PING_OK)), running(vxlan, ['etcd']));
    const report = await verifyLab(runtime, vxlan, [pingCheck, captureCheck, leaseCheck, kernelCheck], { signal: new AbortController().signal });
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['p', 'pass'],
      ['c', 'error'],
      ['l', 'error'],
      ['k', 'error'],
    ]);
    expect(report.checks[1]!.reason).toBe(
      "host1:flannel.1: the VTEP MAC is published only in host1's etcd lease, and etcd (container overlab-demo-etcd) is gone from the lab",
    );
    expect(report.checks[2]!.reason).toBe('etcd (container overlab-demo-etcd) is gone from the lab');
    expect(calls.some((c) => c.container.endsWith('-etcd'))).toBe(false);
  });

  it('an etcd that is there but cannot answer makes lease reads an error, not "no lease"', async () => {
    const { runtime } = fakeRuntime((container) => (container.endsWith('-etcd') ? new Error('connect ECONNREFUSED') : ok()));
    const facts = await readLabFacts(runtime, vxlan);
    expect(facts.unreadable).toEqual({ default: 'etcd (container overlab-demo-etcd) cannot be reached: connect ECONNREFUSED' });
    const r = await runCheck(runtime, new LabReferences(vxlan, facts), leaseCheck, new AbortController().signal);
    expect(r).toMatchObject({ status: 'error', reason: 'etcd (container overlab-demo-etcd) cannot be reached: connect ECONNREFUSED' });
    expect(() => new LabReferences(vxlan, facts).mac('host1:flannel.1')).toThrow(LabPartMissing);
  });

  it('a VTEP MAC comes from the lease when the agents chose it, from the plan when it is static', () => {
    expect(new LabReferences(vxlan, { vtepMacs: { 'host1/default': '0a:0b:0c:0d:0e:0f' } }).mac('host1:flannel.1')).toBe('0a:0b:0c:0d:0e:0f');
    expect(() => new LabReferences(vxlan, { vtepMacs: {} }).mac('host1:flannel.1')).toThrow(/host1 holds no lease in etcd/);
    const staticVxlan = resolveLab(twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'static' })] }), { takenSubnets: [] });
    expect(new LabReferences(staticVxlan).mac('host1:flannel.1')).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });
});

describe('pure parts of the kinds', () => {
  it('lease problems are named', () => {
    const expectation = { host: 'host2', underlayIp: '192.168.50.3', subnet: '172.16.2.0/24' };
    const net = vxlan.networks[0]!;
    expect(leaseProblems(undefined, expectation, net)).toEqual(['no lease with PublicIP 192.168.50.3']);
    expect(
      leaseProblems({ key: 'k', subnet: '172.16.9.0/24', publicIp: '192.168.50.3', backendType: 'vxlan', raw: { BackendData: { VNI: 1 } } }, expectation, net),
    ).toEqual(['subnet 172.16.9.0/24, expected 172.16.2.0/24', 'BackendData.VtepMAC is missing', 'the key is not attached to an etcd lease (no TTL)']);
  });

  it('task status argv takes only a process id', () => {
    expect(taskStatusArgv(42)).toEqual(['find', '/proc/42/task', '-mindepth', '2', '-maxdepth', '2', '-name', 'status', '-exec', 'cat', '{}', '+']);
    expect(() => taskStatusArgv(Number('1;reboot'))).toThrow(RangeError);
    expect(() => taskStatusArgv(-1)).toThrow(RangeError);
  });

  it('LabReferences parses with the one reference parser: hostile references are bad input', () => {
    const names = new LabReferences(hostGw);
    expect(() => names.endpoint('host1;reboot')).toThrow(/not a valid reference/);
    expect(() => names.captureTarget('host1:e$(id)')).toThrow(/not a valid interface name/);
    expect(names.captureTarget('host1/pod1:eth0')).toMatchObject({ container: 'overlab-demo-host1', netns: 'pod1', iface: 'eth0' });
  });
});

describe('checks stored by an older overlab', () => {
  it('get their kind from the key they have', async () => {
    const { withKind } = await import('../../src/checks/run-checks.js');
    const old = { name: 'p', ping: pingCheck.ping } as unknown as CheckSpec;
    expect(withKind(old)).toEqual(pingCheck);
    expect(withKind(kernelCheck)).toBe(kernelCheck);
  });
});

describe('a check naming a node the lab no longer has', () => {
  it('is an error saying so, and nothing runs', async () => {
    const { runtime, calls } = fakeRuntime(() => ok(PING_OK));
    const withoutHost2 = { ...hostGw, hosts: hostGw.hosts.filter((h) => h.name !== 'host2') };
    const r = await runCheck(runtime, new LabReferences(withoutHost2), unreachableCheck, new AbortController().signal);
    expect(r).toMatchObject({ status: 'error', reason: 'host2 is not in lab demo (removed with `overlab node rm`, or its container is gone)' });
    expect(calls).toEqual([]);
  });
});
