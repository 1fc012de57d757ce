// Faults on real labs: every kind is applied and cleared, and the kernel state of every namespace
// of the lab (ip -j, bridge -j, tc -j, iptables-save, ebtables-save, sysctls) is the same after
// `fault clear` as before `fault add`. Kinds that make no sense are refused (exit 2), the one the
// kernel cannot do (netem) exits 3, a spec's `faults:` are applied by `up`, and the lab's
// containers can change their own network sysctls but nothing else of the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { containersWithLabel, machineNetworkState, overlab, overlabJson } from './harness.js';
import { labKernelState, stateDifferences } from './kernel-state.js';

const LAB = 'fk';
const SPEC = `name: ${LAB}
network: { cidr: 10.244.0.0/16, backend: vxlan, controlPlane: static }
underlay: { gateway: router }
hosts:
  - { name: host1, pods: [pod1, pod2] }
  - { name: host2, pods: [pod1] }
nodes:
  - { name: router, role: router }
  - { name: outside, role: outside }
checks:
  - name: pods reach each other over VXLAN
    ping: { from: host1/pod1, to: host2/pod1 }
`;
const SPEC_WITH_FAULTS = `name: fk-spec
network: { cidr: 10.244.0.0/16, backend: vxlan, controlPlane: static }
hosts:
  - { name: host1, pods: [pod1] }
  - { name: host2, pods: [pod1] }
checks:
  - name: pods reach each other over VXLAN
    ping: { from: host1/pod1, to: host2/pod1 }
faults:
  - del-fdb: { on: host1, peer: host2 }
    description: the FDB entry is gone
  - link-down: { on: host2/pod1:eth0 }
`;

let dir: string;
let machineBefore: Awaited<ReturnType<typeof machineNetworkState>>;

async function pings(container: string, target: string, netns?: string): Promise<boolean> {
  const argv = ['exec', container, ...(netns ? ['ip', 'netns', 'exec', netns] : []), 'ping', '-c', '1', '-W', '1', target];
  return (await execa('docker', argv, { reject: false })).exitCode === 0;
}

async function addressOf(container: string, iface: string, netns?: string): Promise<string> {
  const argv = ['exec', container, ...(netns ? ['ip', 'netns', 'exec', netns] : []), 'ip', '-j', '-4', 'addr', 'show', 'dev', iface];
  return (JSON.parse((await execa('docker', argv)).stdout) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
}

interface FaultView {
  id: number;
  kind: string;
  summary: string;
  source: string;
  changed?: string[];
}

async function add(lab: string, args: string[]): Promise<FaultView> {
  const r = await overlabJson<{ fault: FaultView }>(['fault', 'add', lab, ...args]);
  expect(r.exitCode, JSON.stringify(r.body)).toBe(0);
  return r.body.result.fault;
}

async function clear(lab: string, id: number): Promise<void> {
  const r = await overlab(['fault', 'clear', lab, String(id)]);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
}

beforeAll(async () => {
  machineBefore = await machineNetworkState();
  dir = await mkdtemp('/tmp/overlab-faults-');
  await writeFile(`${dir}/fk.yaml`, SPEC);
  await writeFile(`${dir}/fk-spec.yaml`, SPEC_WITH_FAULTS);
  for (const lab of [LAB, 'fk-spec', 'fk-udp']) await overlab(['down', lab]);
  const up = await overlab(['up', `${dir}/fk.yaml`]);
  expect(up.exitCode, up.stderr).toBe(0);
});

afterAll(async () => {
  for (const lab of [LAB, 'fk-spec', 'fk-udp']) await overlab(['down', lab]);
  expect(await containersWithLabel(`overlab.lab=${LAB}`)).toEqual([]);
  expect(await machineNetworkState()).toEqual(machineBefore);
});

const h1 = `overlab-${LAB}-host1`;
const h2 = `overlab-${LAB}-host2`;

interface Case {
  args: string[];
  /** Lines the recorded changes must contain. */
  changed: RegExp[];
  /** What the fault does, seen from the lab (checked while it is active). */
  effect?: () => Promise<void>;
  ignoreIfindexOf?: string[];
}

const CASES: Case[] = [
  {
    args: ['link-down', 'host1:flannel.1'],
    changed: [/host1: flannel\.1 down \(was up\)/, /host1: route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink removed/, /neighbour 10\.244\.2\.0 lladdr .* removed/],
    effect: async () => expect(await pings(h1, await addressOf(h2, 'eth0', 'pod1'), 'pod1')).toBe(false),
  },
  { args: ['link-down', 'host1/pod1:eth0'], changed: [/host1\/pod1: eth0 down/, /host1\/pod1: route default via 10\.244\.1\.1 dev eth0 removed/] },
  { args: ['detach', 'host1:veth-pod2'], changed: [/host1: veth-pod2 no bridge port \(was port of docker0\)/] },
  { args: ['mtu', 'host1/pod1:eth0', '1500'], changed: [/host1\/pod1: eth0 mtu 1500 \(was 1450\)/] },
  {
    args: ['loss', 'host1:eth0', '100%'],
    changed: [/host1: iptables -t filter OUTPUT: -o eth0 -m statistic --mode random --probability 1\.0* -j DROP added/, /host1: iptables -t filter FORWARD: -o eth0 -m statistic/, /iptables table filter created/],
    effect: async () => expect(await pings(h1, await addressOf(h2, 'eth0'))).toBe(false),
  },
  { args: ['rate', 'host1:eth0', '1mbit'], changed: [/qdisc root on eth0: tbf \(was noqueue\)/] },
  {
    args: ['partition', 'host1', 'host2'],
    changed: [/switch: ebtables -t filter FORWARD: -i host1 -o host2 -j DROP added/, /switch: ebtables table filter created/],
    effect: async () => {
      expect(await pings(h1, await addressOf(h2, 'eth0'))).toBe(false);
      expect(await pings(h1, await addressOf(`overlab-${LAB}-router`, 'eth0'))).toBe(true);
    },
  },
  {
    args: ['block', 'host2', 'udp/8472'],
    changed: [/host2: iptables -t filter INPUT: -p udp -m udp --dport 8472 -j DROP added/],
    effect: async () => {
      expect(await pings(h1, await addressOf(h2, 'eth0'))).toBe(true);
      expect(await pings(h1, await addressOf(h2, 'eth0', 'pod1'), 'pod1')).toBe(false);
    },
  },
  { args: ['del-route', 'host1', '10.244.2.0/24'], changed: [/host1: route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink removed/] },
  { args: ['del-route', 'host2/pod1', 'default'], changed: [/host2\/pod1: route default via 10\.244\.2\.1 dev eth0 removed/] },
  { args: ['reroute', 'host1', '10.244.2.0/24', 'router'], changed: [/route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink removed/, /route 10\.244\.2\.0\/24 via 192\.168\.\d+\.\d+ dev eth0 added/] },
  { args: ['del-fdb', 'host1', 'host2'], changed: [/host1: fdb 02:42:0a:f4:02:00 dev flannel\.1 dst 192\.168\.\d+\.\d+ removed/] },
  { args: ['del-neigh', 'host1', 'host2'], changed: [/host1: neighbour 10\.244\.2\.0 lladdr 02:42:0a:f4:02:00 dev flannel\.1 removed/] },
  { args: ['vni', 'host2', '7'], changed: [/host2: flannel\.1 vxlan id 7 \(was 1\)/], ignoreIfindexOf: ['flannel.1'] },
  {
    args: ['forwarding-off', 'host1'],
    changed: [/host1: net\.ipv4\.ip_forward = 0 \(was 1\)/],
    effect: async () => expect(await pings(h1, await addressOf(h2, 'eth0', 'pod1'), 'pod1')).toBe(false),
  },
  { args: ['forwarding-off', 'router'], changed: [/router: net\.ipv4\.ip_forward = 0 \(was 1\)/] },
  { args: ['no-masquerade', 'host1'], changed: [/host1: iptables -t nat POSTROUTING: -s 10\.244\.0\.0\/16 ! -d 10\.244\.0\.0\/16 -o eth0 -j MASQUERADE removed/] },
  {
    args: ['pause', 'host2'],
    changed: [],
    effect: async () => expect((await execa('docker', ['inspect', '-f', '{{.State.Status}}', h2])).stdout).toBe('paused'),
  },
];

describe('faults', () => {
  // Two labs at once: every kind, one after another on lab fk; the control plane and a spec's
  // faults on labs of their own. The rest below runs on fk after both.
  describe.concurrent('at once', () => {
    it('every kind on one lab: recorded, in effect, and cleared byte for byte', async () => {
      // Each case ends with the state it began with, so the state read after one case is the
      // state before the next: one read per case.
      let before = await labKernelState(LAB);
      for (const c of CASES) {
        const name = c.args.join(' ');
        const fault = await add(LAB, c.args);
        try {
          expect(fault.kind, name).toBe(c.args[0]);
          for (const pattern of c.changed) expect(fault.changed, `${name}: ${pattern} in ${JSON.stringify(fault.changed)}`).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
          if (c.effect) await c.effect();
        } finally {
          await clear(LAB, fault.id);
        }
        const after = await labKernelState(LAB);
        expect(stateDifferences(before, after, { ignoreIfindexOf: c.ignoreIfindexOf ?? [] }), name).toEqual([]);
        before = after;
      }
    }, 900_000);

    it('a spec with faults: `up` applies them after wiring; `fault ls` shows them; `clear --all` mends the lab', specFaults, 300_000);

    it('the control plane: stop-agent on a udp host takes flannel0 with it and comes back; etcd down while host3 joins', controlPlane, 300_000);
  });

  describe.sequential('on one lab', () => {
    it('clears several faults at once, newest first, back to the very same state', async () => {
      const before = await labKernelState(LAB);
      for (const args of [['link-down', 'host1:flannel.1'], ['del-route', 'host2', '10.244.1.0/24'], ['block', 'host1', 'tcp/80'], ['partition', 'host2', 'router'], ['mtu', 'host2:eth0', '1400']]) await add(LAB, args);
      const ls = await overlabJson<{ faults: FaultView[] }>(['fault', 'ls', LAB]);
      expect(ls.body.result.faults.map((f) => f.kind)).toEqual(['link-down', 'del-route', 'block', 'partition', 'mtu']);
      const cleared = await overlabJson<{ cleared: { id: number }[] }>(['fault', 'clear', LAB, '--all']);
      expect(cleared.exitCode).toBe(0);
      expect(cleared.body.result.cleared.map((c) => c.id)).toEqual([...ls.body.result.faults.map((f) => f.id)].reverse());
      expect(stateDifferences(before, await labKernelState(LAB))).toEqual([]);
      expect((await overlabJson<{ faults: FaultView[] }>(['fault', 'ls', LAB])).body.result.faults).toEqual([]);
    });

    it('`inspect` shows the active faults', async () => {
      const f = await add(LAB, ['del-neigh', 'host1', 'host2']);
      try {
        const inspect = await overlab(['inspect', LAB]);
        expect(inspect.stdout).toContain(`fault ${f.id}`);
        expect(inspect.stdout).toContain("host1 has no neighbour entry for host2's VTEP");
      } finally {
        await clear(LAB, f.id);
      }
    });
  });

  const REFUSED: [string[], RegExp][] = [
    [['no-such-kind', 'host1'], /"no-such-kind" is not a fault kind/],
    [['link-down', 'host1:eth9'], /host1 has no interface eth9 .*its interfaces: .*eth0/],
    [['link-down', 'host9:eth0'], /unknown host or node "host9"/],
    [['link-down', 'host1:eth0;reboot'], /not a valid reference|is not a valid/],
    [['stop-agent', 'host1'], /this lab has no agents/],
    [['stop-etcd'], /this lab has no etcd/],
    [['loss', 'host1:eth0', '0'], /between 0.01 and 100/],
    [['rate', 'host1:eth0', 'fast'], /not a rate/],
    [['del-route', 'host1', '10.99.0.0/16'], /host1 has no route to 10\.99\.0\.0\/16/],
    [['partition', 'host1', 'host1'], /cannot be cut off from itself/],
    [['mtu', 'host1:eth0'], /mtu takes 2 arguments/],
    [['del-fdb', 'host1', 'router'], /"router" is an external node|needs a host|not a host/],
  ];

  describe.sequential('faults that make no sense, or that the kernel cannot do', () => {
    it('are refused with exit 2, saying why, and change nothing', async () => {
      const before = await labKernelState(LAB);
      for (const [args, message] of REFUSED) {
        const r = await overlabJson(['fault', 'add', LAB, ...args]);
        expect(r.exitCode, args.join(' ')).toBe(2);
        expect(`${r.body.message} ${(r.body as { hint?: string }).hint ?? ''}`, args.join(' ')).toMatch(message);
      }
      expect(stateDifferences(before, await labKernelState(LAB))).toEqual([]);
      expect((await overlabJson<{ faults: unknown[] }>(['fault', 'ls', LAB])).body.result.faults).toEqual([]);
    });

    it('delay and jitter need netem, which this kernel lacks: exit 3 saying so, nothing changed; doctor lists it', async () => {
      const before = await labKernelState(LAB);
      for (const args of [['delay', 'host1:eth0', '100ms'], ['jitter', 'host1:eth0', '100ms', '20ms']]) {
        const r = await overlabJson(['fault', 'add', LAB, ...args]);
        expect(r.exitCode).toBe(3);
        expect(r.body.message).toMatch(/needs the netem qdisc .* this kernel has none/);
      }
      expect(await labKernelState(LAB)).toEqual(before);
      const doctor = await overlabJson<{ check: string; ok: boolean; optional?: boolean }[]>(['doctor']);
      expect(doctor.exitCode).toBe(0);
      expect(doctor.body.result.find((f) => f.check.startsWith('qdisc netem'))).toMatchObject({ ok: false, optional: true });
      expect(doctor.body.result.find((f) => f.check.startsWith('qdisc tbf'))).toMatchObject({ ok: true });
    });

    it('clearing a fault that is not there is bad input', async () => {
      const r = await overlabJson(['fault', 'clear', LAB, '99']);
      expect(r.exitCode).toBe(2);
      expect(r.body.message).toContain('no active fault 99');
    });
  });

  describe.sequential('network sysctls in lab containers', () => {
    it('are the container\'s own and writable; the rest of /proc/sys stays read-only and the machine is untouched', async () => {
      const machineForward = (await execa('cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout;
      expect((await execa('docker', ['exec', h1, 'sysctl', '-w', 'net.ipv4.conf.all.accept_redirects=1'], { reject: false })).exitCode).toBe(0);
      expect((await execa('docker', ['exec', h1, 'sysctl', '-w', 'net.ipv4.conf.all.accept_redirects=0'], { reject: false })).exitCode).toBe(0);
      for (const key of ['kernel.domainname=x', 'vm.swappiness=1', 'fs.file-max=1000']) {
        const r = await execa('docker', ['exec', h1, 'sysctl', '-w', key], { reject: false });
        expect(r.exitCode, key).not.toBe(0);
      }
      const tops = (await execa('docker', ['exec', h1, 'ls', '/proc/sys'])).stdout.split('\n').filter(Boolean);
      const mounts = (await execa('docker', ['exec', h1, 'cat', '/proc/mounts'])).stdout.split('\n').map((l) => l.split(' '));
      for (const top of tops.filter((t) => t !== 'net')) {
        expect(mounts.find((m) => m[1] === `/proc/sys/${top}`)?.[3], top).toMatch(/^ro,/);
      }
      expect(mounts.some((m) => m[1] === '/proc/sys')).toBe(false);
      expect((await execa('cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout).toBe(machineForward);
    });
  });
});

async function specFaults(): Promise<void> {
  const up = await overlab(['up', `${dir}/fk-spec.yaml`]);
  expect(up.exitCode, up.stderr).toBe(0);
  const ls = await overlabJson<{ faults: FaultView[] }>(['fault', 'ls', 'fk-spec']);
  expect(ls.body.result.faults.map((f) => [f.kind, f.source])).toEqual([
    ['del-fdb', 'spec'],
    ['link-down', 'spec'],
  ]);
  expect((await overlab(['verify', 'fk-spec'])).exitCode).toBe(1);
  expect((await overlab(['fault', 'clear', 'fk-spec', '--all'])).exitCode).toBe(0);
  expect((await overlab(['verify', 'fk-spec'])).exitCode).toBe(0);
  expect((await overlab(['down', 'fk-spec'])).exitCode).toBe(0);
}

async function controlPlane(): Promise<void> {
  const spec = `name: fk-udp
network: { cidr: 10.244.0.0/16, backend: udp }
hosts:
  - { name: host1, pods: [pod1] }
  - { name: host2, pods: [pod1] }
  - { name: host3, pods: [pod1] }
`;
  await writeFile(`${dir}/fk-udp.yaml`, spec);
  const up = await overlab(['up', `${dir}/fk-udp.yaml`]);
  expect(up.exitCode, up.stderr).toBe(0);
  const u1 = 'overlab-fk-udp-host1';
  const u2 = 'overlab-fk-udp-host2';
  const before = await labKernelState('fk-udp', { ignoreIfindexOf: ['flannel0'] });
  const stop = await add('fk-udp', ['stop-agent', 'host2']);
  expect(stop.changed).toEqual(expect.arrayContaining([expect.stringMatching(/host2: link flannel0 \(tun\) removed/), expect.stringMatching(/host2: route 10\.244\.0\.0\/16 dev flannel0/)]));
  expect(await pings(u1, await addressOf(u2, 'eth0', 'pod1'), 'pod1')).toBe(false);
  await clear('fk-udp', stop.id);
  expect(await pings(u1, await addressOf(u2, 'eth0', 'pod1'), 'pod1')).toBe(true);
  expect(await labKernelState('fk-udp', { ignoreIfindexOf: ['flannel0'] })).toEqual(before);

  // etcd down while host3 (re)joins: its lease is gone and nobody routes to it until etcd is back.
  const etcd = await add('fk-udp', ['stop-etcd', 'host3']);
  expect((await execa('docker', ['exec', 'overlab-fk-udp-etcd', 'etcdctl', 'endpoint', 'health'], { reject: false })).exitCode).not.toBe(0);
  expect(await pings(u1, await addressOf('overlab-fk-udp-host3', 'eth0', 'pod1'), 'pod1')).toBe(false);
  await clear('fk-udp', etcd.id);
  expect(await pings(u1, await addressOf('overlab-fk-udp-host3', 'eth0', 'pod1'), 'pod1')).toBe(true);
  expect(await labKernelState('fk-udp', { ignoreIfindexOf: ['flannel0'] })).toEqual(before);
}
