// Every lab in labs/ on the real engine, built once for this file: it comes up, passes every
// check and shows its wiring as planned; then `overlab trace` on it: the hop list (node,
// interface, direction, order), the changes that matter for each lab's story, the drop verdicts —
// the no-overlay router and faults injected here (a deleted FDB entry, a stopped udp agent, an
// iptables DROP on the underlay, a link down, an MTU too small for --size) — and the pcapng read
// by Debian's tshark with the hop names; at the end each goes away without a trace (nothing with
// its label left, the machine's own links, routes and firewall rules unchanged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, readFile } from 'node:fs/promises';
import { ROOT, containersWithLabel, downLabs, machineNetworkState, networksWithLabel, overlab, overlabJson, seedAs } from './harness.js';
import type { TraceResult } from '../../src/trace/trace-result.js';
import type { ResolvedLab } from '../../src/plan/resolved-lab.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';
import type { InterfaceState } from '../../src/core/lab-interfaces.js';

// Each seed lab as a copy named t-<seed>: other test files run beside this one.
const LABS = ['same-host', 'egress', 'no-overlay', 'host-gw', 'flannel-udp', 'flannel-vxlan', 'vxlan-static', 'k8s-cni0', 'vxlan-tenants'];
const labsUp = new Set<string>();
let machineBefore: Awaited<ReturnType<typeof machineNetworkState>>;

async function up(seed: string): Promise<ResolvedLab | undefined> {
  const lab = `t-${seed}`;
  if (labsUp.has(lab)) return undefined;
  const r = await overlabJson<{ status: string; resolved: ResolvedLab }>(['up', await seedAs(seed, lab)]);
  expect(r.exitCode, JSON.stringify(r.body)).toBe(0);
  labsUp.add(lab);
  expect(r.body.result.status).toBe('created');
  return r.body.result.resolved;
}

/** The lab's first case: it comes up, passes every check of its spec and the kernel shows the
 * wiring the plan says (pod addresses and MACs, bridge membership). */
function comesUp(seed: string): void {
  it('comes up, passes every check and shows its wiring', async () => {
    const lab = `t-${seed}`;
    const resolved = await up(seed);
    expect(resolved, `${lab} was built by an earlier case`).toBeDefined();
    expect(await containersWithLabel(`overlab.lab=${lab}`)).toContain(`overlab-${lab}-switch`);

    const verify = await overlabJson<VerifyReport>(['verify', lab]);
    expect(verify.body.result.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.reason}`)).toEqual([]);
    expect(verify.exitCode).toBe(0);
    expect(verify.body.result.checks.length).toBeGreaterThanOrEqual(3);

    const inspect = await overlabJson<{ interfaces: InterfaceState[] }>(['inspect', lab]);
    for (const host of resolved!.hosts) {
      for (const pod of host.pods) {
        const eth0 = inspect.body.result.interfaces.find((i) => i.node === host.name && i.netns === pod.name && i.name === 'eth0');
        expect(eth0, `${host.name}/${pod.name}`).toMatchObject({ mac: pod.mac, addresses: [`${pod.ip}/${pod.prefixLen}`], kind: 'veth' });
        const veth = inspect.body.result.interfaces.find((i) => i.node === host.name && !i.netns && i.name === pod.hostVeth);
        expect(veth?.master).toBe(host.networks.find((n) => n.network === pod.network)!.bridge);
      }
    }
  });
}

async function trace(args: string[]): Promise<{ exitCode: number; result: TraceResult }> {
  const r = await overlabJson<TraceResult>(['trace', ...args]);
  return { exitCode: r.exitCode, result: r.body.result };
}

const docker = (container: string, argv: string[]) => execa('docker', ['exec', container, ...argv]);
const path = (r: TraceResult, leg = 'request') => r.hops.filter((h) => h.leg === leg).map((h) => `${h.node}:${h.iface}:${h.direction}`);
const hop = (r: TraceResult, node: string, iface: string) => r.hops.find((h) => h.node === node && h.iface === iface && h.leg === 'request');

const VXLAN_PATH = (a: string, b: string, bridge = 'docker0', pa = 'pod1', pb = 'pod1', vtep = 'flannel.1') => [
  `${a}/${pa}:eth0:out`,
  `${a}:veth-${pa}:in`,
  `${a}:${bridge}:in`,
  `${a}:${vtep}:out`,
  `${a}:eth0:out`,
  `switch:${a}:in`,
  'switch:underlay:through',
  `switch:${b}:out`,
  `${b}:eth0:in`,
  `${b}:${vtep}:in`,
  `${b}:${bridge}:out`,
  `${b}:veth-${pb}:out`,
  `${b}/${pb}:eth0:in`,
];

beforeAll(async () => {
  await downLabs(LABS.map((seed) => `t-${seed}`));
  machineBefore = await machineNetworkState();
  await execa('bash', [`${ROOT}scripts/install-test-tools.sh`], { stdio: 'inherit' });
}, 600_000);

afterAll(async () => {
  await downLabs(labsUp);
});

describe('same-host', () => {
  comesUp('same-host');

  it('bridges pod to pod by MAC on docker0 and never touches eth0', async () => {
    await up('same-host');
    const { exitCode, result } = await trace(['t-same-host', 'host1/pod1', 'host1/pod2']);
    expect(exitCode).toBe(0);
    expect(path(result)).toEqual(['host1/pod1:eth0:out', 'host1:veth-pod1:in', 'host1:docker0:through', 'host1:veth-pod2:out', 'host1/pod2:eth0:in']);
    expect(hop(result, 'host1', 'docker0')!.change).toBe('bridged by MAC');
    expect(result.hops.every((h) => !h.change?.includes('routed'))).toBe(true);
  });
});

describe('egress', () => {
  comesUp('egress');

  it('masquerades the pod behind host1 on the way to the outside node', async () => {
    await up('egress');
    const { exitCode, result } = await trace(['t-egress', 'host1/pod1', 'outside']);
    expect(exitCode).toBe(0);
    expect(path(result)).toEqual([
      'host1/pod1:eth0:out',
      'host1:veth-pod1:in',
      'host1:docker0:in',
      'host1:eth0:out',
      'switch:host1:in',
      'switch:underlay:through',
      'switch:outside:out',
      'outside:eth0:in',
    ]);
    expect(hop(result, 'host1', 'eth0')!.change).toMatch(/^routed: TTL 64→63, source MAC now host1, destination MAC now outside; masqueraded: source 172\.16\.1\.2 → 192\.168\.\d+\.2$/);
  });
});

describe('no-overlay', () => {
  comesUp('no-overlay');

  it('ends at the router with "no route to 172.16.2.0/24" and exits 1', async () => {
    await up('no-overlay');
    const { exitCode, result } = await trace(['t-no-overlay', 'host1/pod1', 'host2/pod1']);
    expect(exitCode).toBe(1);
    expect(result.delivered).toBe(false);
    expect(path(result).slice(0, 4)).toEqual(['host1/pod1:eth0:out', 'host1:veth-pod1:in', 'host1:docker0:in', 'host1:eth0:out']);
    expect(result.hops.at(-1)).toMatchObject({ node: 'router', iface: 'eth0', direction: 'in' });
    expect(hop(result, 'host1', 'eth0')!.change).toBe('routed: TTL 64→63, source MAC now host1, destination MAC now router');
    expect(result.drop).toMatchObject({ node: 'router', iface: 'eth0' });
    expect(result.drop!.reason).toContain('no route to 172.16.2.0/24');
    expect(result.drop!.evidence).toContain('router: nstat IpExtInNoRoutes +1 (arrived with no route to forward it)');
    expect(result.hops.some((h) => h.node.startsWith('host2'))).toBe(false);
  });

  it('--static says the same from the tables, and --format minimal ends with the verdict', async () => {
    const r = await overlab(['trace', 't-no-overlay', 'host1/pod1', 'host2/pod1', '--static', '--format', 'minimal']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual(['host1: ttl 64→63', 'switch: bridge', 'router: pass', "dropped at router:eth0: no route to 172.16.2.0/24 (host2's pod subnet)"]);
  });

  it('refuses bad input with exit 2: an unknown pod, an address outside the lab, --size with tcp', async () => {
    expect((await overlab(['trace', 't-no-overlay', 'host1/nope', 'host2/pod1'])).exitCode).toBe(2);
    expect((await overlab(['trace', 't-no-overlay', 'host1/pod1', '8.8.8.8'])).exitCode).toBe(2);
    expect((await overlab(['trace', 't-no-overlay', 'host1/pod1', 'host2/pod1', '--proto', 'tcp', '--size', '1000'])).exitCode).toBe(2);
  });
});

describe('host-gw', () => {
  comesUp('host-gw');

  it('routes plain packets host to host: no encapsulation anywhere', async () => {
    await up('host-gw');
    const { exitCode, result } = await trace(['t-host-gw', 'host1/pod1', 'host2/pod1']);
    expect(exitCode).toBe(0);
    expect(path(result)).toEqual([
      'host1/pod1:eth0:out',
      'host1:veth-pod1:in',
      'host1:docker0:in',
      'host1:eth0:out',
      'switch:host1:in',
      'switch:underlay:through',
      'switch:host2:out',
      'host2:eth0:in',
      'host2:docker0:out',
      'host2:veth-pod1:out',
      'host2/pod1:eth0:in',
    ]);
    expect(result.hops.every((h) => h.encapsulated === null)).toBe(true);
    expect(hop(result, 'host1', 'eth0')!.change).toBe('routed: TTL 64→63, source MAC now host1, destination MAC now host2');
  });

  it('an MTU too small for the probe (--size): dropped at host1:eth0, with the ICMP error and IpFragFails', async () => {
    await docker('overlab-t-host-gw-host1', ['ip', 'link', 'set', 'eth0', 'mtu', '1200']);
    try {
      const { exitCode, result } = await trace(['t-host-gw', 'host1/pod1', 'host2/pod1', '--size', '1400']);
      expect(exitCode).toBe(1);
      expect(result.drop).toMatchObject({ node: 'host1', iface: 'eth0', reason: 'MTU: a 1400-byte packet with DF set does not fit host1:eth0 (mtu 1200)' });
      expect(result.drop!.evidence.some((e) => e.includes('fragmentation needed'))).toBe(true);
      expect(result.drop!.evidence).toContain('host1: nstat IpFragFails +1 (needed fragmenting but had DF set)');
    } finally {
      await docker('overlab-t-host-gw-host1', ['ip', 'link', 'set', 'eth0', 'mtu', '1500']);
    }
  });

  it('a link down (host2 eth0): dropped at the switch port with no carrier', async () => {
    await trace(['t-host-gw', 'host1/pod1', 'host2/pod1']); // host1 knows host2's MAC: the frame leaves
    await docker('overlab-t-host-gw-host2', ['ip', 'link', 'set', 'eth0', 'down']);
    const { exitCode, result } = await trace(['t-host-gw', 'host1/pod1', 'host2/pod1']);
    expect(exitCode).toBe(1);
    expect(result.drop).toMatchObject({ node: 'switch', iface: 'host2' });
    expect(result.drop!.reason).toBe('interface down: host2:eth0 is DOWN, so switch port host2 has no carrier');
    await overlab(['down', 't-host-gw']); // its routes went with the link
    labsUp.delete('t-host-gw');
  });
});

describe('flannel-udp', () => {
  comesUp('flannel-udp');

  it('hands the bare packet to flannel0 and to the agent on UDP 8285, and follows the answer back', async () => {
    await up('flannel-udp');
    const { exitCode, result } = await trace(['t-flannel-udp', 'host1/pod1', 'host2/pod1', '--reply']);
    expect(exitCode).toBe(0);
    expect(result.replied).toBe(true);
    expect(path(result)).toEqual(VXLAN_PATH('host1', 'host2', 'docker0', 'pod1', 'pod1', 'flannel0'));
    expect(hop(result, 'host1', 'flannel0')!.change).toBe('routed: TTL 64→63; handed to flannel0 (raw IP, no Ethernet)');
    expect(hop(result, 'host1', 'eth0')!.encapsulated).toMatchObject({ type: 'flannel-udp', port: 8285 });
    expect(hop(result, 'host2', 'eth0')!.change).toBe('to the agent on UDP 8285');
    expect(path(result, 'reply')[0]).toBe('host2/pod1:eth0:out');
    expect(path(result, 'reply').at(-1)).toBe('host1/pod1:eth0:in');
  });

  it('a stopped udp agent: dropped at host1:flannel0, nothing reads it', async () => {
    const stats = JSON.parse((await docker('overlab-t-flannel-udp-host1', ['cat', '/run/overlab/agent-stats.json'])).stdout) as { device: { dataPathPid: number } };
    const pid = String(stats.device.dataPathPid);
    await docker('overlab-t-flannel-udp-host1', ['kill', '-STOP', pid]);
    try {
      const { exitCode, result } = await trace(['t-flannel-udp', 'host1/pod1', 'host2/pod1']);
      expect(exitCode).toBe(1);
      expect(result.hops.at(-1)).toMatchObject({ node: 'host1', iface: 'flannel0', direction: 'out' });
      expect(result.drop).toMatchObject({ node: 'host1', iface: 'flannel0' });
      expect(result.drop!.reason).toMatch(/^the udp agent on host1 is stopped \(.+, pid \d+, state T\): nothing reads flannel0$/);
    } finally {
      await docker('overlab-t-flannel-udp-host1', ['kill', '-CONT', pid]);
    }
  });
});

describe('flannel-vxlan', () => {
  comesUp('flannel-vxlan');

  it('wraps the pod frame in VXLAN VNI 1 on port 8472 and unwraps it at host2', async () => {
    await up('flannel-vxlan');
    const { exitCode, result } = await trace(['t-flannel-vxlan', 'host1/pod1', 'host2/pod1']);
    expect(exitCode).toBe(0);
    expect(path(result)).toEqual(VXLAN_PATH('host1', 'host2'));
    expect(hop(result, 'host1', 'flannel.1')!.change).toBe("routed: TTL 64→63, source MAC now host1's flannel.1, destination MAC now host2's flannel.1");
    expect(hop(result, 'host1', 'eth0')!.encapsulated).toMatchObject({ type: 'vxlan', vni: 1, port: 8472 });
    expect(hop(result, 'host2', 'flannel.1')!.change).toBe('decapsulated by flannel.1');
  });

  it('writes a pcapng that tshark opens, one interface per hop named node:iface, a comment per packet', async () => {
    const dir = await mkdtemp('/tmp/overlab-trace-test-');
    const file = `${dir}/journey.pcapng`;
    const r = await overlab(['trace', 't-flannel-vxlan', 'host1/pod1', 'host2/pod1', '--pcap', file]);
    expect(r.exitCode).toBe(0);
    expect((await readFile(file)).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const t = await execa('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment']);
    const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.map((x) => x[0])).toEqual(VXLAN_PATH('host1', 'host2').map((h) => h.split(':').slice(0, 2).join(':')));
    expect(rows[3]).toEqual(['host1:flannel.1', "hop 4: routed: TTL 64→63, source MAC now host1's flannel.1, destination MAC now host2's flannel.1"]);
    const d = await execa('tshark', ['-r', file, '-c', '1', '-V']);
    expect(d.stdout).toContain('Interface description: hop 1 (request, out): node host1/pod1, interface eth0');
  });
});

describe('report and diagram of a running lab', () => {
  it('overlab report writes one self-contained page with the lab, the trace, leases and host tables', async () => {
    await up('flannel-vxlan');
    const dir = await mkdtemp('/tmp/overlab-report-test-');
    const file = `${dir}/report.html`;
    const r = await overlabJson<{ out: string; checks: { passed: number; failed: number }; traces: { outcome: string }[] }>(['report', 't-flannel-vxlan', '--out', file, '--trace', 'host1/pod1:host2/pod1']);
    expect(r.exitCode).toBe(0);
    expect(r.body.result.checks.failed).toBe(0);
    expect(r.body.result.traces[0]!.outcome).toMatch(/^delivered in 13 hops/);
    const html = await readFile(file, 'utf8');
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\/|<script|<link/);
    for (const node of ['host1', 'host2', 'etcd', 'switch']) expect(html).toContain(`data-node="${node}"`);
    expect((html.match(/class="hop"/g) ?? []).length).toBe(13);
    expect(html).toContain('/coreos.com/network/subnets/10.244.1.0-24');
    expect(html).toContain('data-host-tables="host2"');
    expect((await overlab(['report', 't-flannel-vxlan', '--out', file, '--trace', 'host1/pod1'])).exitCode).toBe(2);
  });

  it('inspect --mermaid prints the running lab as a flowchart', async () => {
    const r = await overlab(['inspect', 't-flannel-vxlan', '--mermaid']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.startsWith('flowchart TB\n')).toBe(true);
    expect(r.stdout).toContain('subgraph host_host1["host1"]');
    expect(r.stdout).toContain('host_host1_flannel_1["flannel.1<br/>VTEP · VNI 1 · UDP 8472"]');
  });
});

describe('vxlan-static', () => {
  comesUp('vxlan-static');

  it('takes the same VXLAN path with the pinned VTEPs', async () => {
    await up('vxlan-static');
    const { exitCode, result } = await trace(['t-vxlan-static', 'host1/pod1', 'host2/pod1']);
    expect(exitCode).toBe(0);
    expect(path(result)).toEqual(VXLAN_PATH('host1', 'host2'));
  });

  it('a deleted FDB entry: dropped at host1:flannel.1, the VTEP does not know where to send it', async () => {
    const fdb = JSON.parse((await docker('overlab-t-vxlan-static-host1', ['bridge', '-j', 'fdb', 'show', 'dev', 'flannel.1'])).stdout) as { mac: string; dst?: string }[];
    const entry = fdb.find((f) => f.dst)!;
    await docker('overlab-t-vxlan-static-host1', ['bridge', 'fdb', 'del', entry.mac, 'dev', 'flannel.1', 'dst', entry.dst!]);
    try {
      const { exitCode, result } = await trace(['t-vxlan-static', 'host1/pod1', 'host2/pod1']);
      expect(exitCode).toBe(1);
      expect(result.hops.at(-1)).toMatchObject({ node: 'host1', iface: 'flannel.1', direction: 'out' });
      expect(result.drop).toMatchObject({ node: 'host1', iface: 'flannel.1' });
      expect(result.drop!.reason).toContain(`no FDB entry for host2's flannel.1 (${entry.mac})`);
      expect(result.drop!.evidence).toContain('host1: ip -s link flannel.1: TX dropped +1');
    } finally {
      await docker('overlab-t-vxlan-static-host1', ['bridge', 'fdb', 'append', entry.mac, 'dev', 'flannel.1', 'dst', entry.dst!, 'self', 'permanent']);
    }
  });

  it('an iptables DROP on the underlay (host2 drops UDP 8472): the rule and its counter', async () => {
    const rule = ['INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'];
    await docker('overlab-t-vxlan-static-host2', ['iptables', '-I', ...rule]);
    try {
      const { exitCode, result } = await trace(['t-vxlan-static', 'host1/pod1', 'host2/pod1']);
      expect(exitCode).toBe(1);
      expect(result.hops.at(-1)).toMatchObject({ node: 'host2', iface: 'eth0', direction: 'in' });
      expect(result.drop).toMatchObject({ node: 'host2', iface: 'eth0', reason: 'firewall: iptables -A INPUT -p udp -m udp --dport 8472 -j DROP' });
      expect(result.drop!.evidence).toContain('host2: iptables-save -c: [0→1 packets] -A INPUT -p udp -m udp --dport 8472 -j DROP (filter)');
    } finally {
      await docker('overlab-t-vxlan-static-host2', ['iptables', '-D', ...rule]);
    }
  });
});

describe('k8s-cni0', () => {
  comesUp('k8s-cni0');

  it('goes node1 → node3 over cni0 and VXLAN, through the veths the CNI bridge plugin made, and never through node2', async () => {
    await up('k8s-cni0');
    // Its pods are attached by real CNI: the host veths are the bridge plugin's vethXXXXXXXX, as the lab's model records them.
    const lab = (await overlabJson<{ lab: ResolvedLab }>(['inspect', 't-k8s-cni0'])).body.result.lab;
    const veth = (host: string, pod: string) => lab.hosts.find((h) => h.name === host)!.pods.find((p) => p.name === pod)!.hostVeth;
    expect([veth('node1', 'web'), veth('node3', 'db')]).toEqual([expect.stringMatching(/^veth[0-9a-f]{8}$/), expect.stringMatching(/^veth[0-9a-f]{8}$/)]);
    const { exitCode, result } = await trace(['t-k8s-cni0', 'node1/web', 'node3/db']);
    expect(exitCode).toBe(0);
    expect(path(result)).toEqual(
      VXLAN_PATH('node1', 'node3', 'cni0', 'web', 'db').map((h) => h.replace('node1:veth-web:', `node1:${veth('node1', 'web')}:`).replace('node3:veth-db:', `node3:${veth('node3', 'db')}:`)),
    );
    expect(result.hops.some((h) => h.node.startsWith('node2'))).toBe(false);
  });
});

describe('vxlan-tenants', () => {
  comesUp('vxlan-tenants');

  it('blue travels on flannel.10 with VNI 10; blue to red is dropped in host1 by the tenant rule', async () => {
    await up('vxlan-tenants');
    const blue = await trace(['t-vxlan-tenants', 'host1/blue1', 'host2/blue2']);
    expect(blue.exitCode).toBe(0);
    expect(path(blue.result)).toEqual(VXLAN_PATH('host1', 'host2', 'br-blue', 'blue1', 'blue2', 'flannel.10'));
    expect(hop(blue.result, 'host1', 'eth0')!.encapsulated).toMatchObject({ type: 'vxlan', vni: 10 });
    const red = await trace(['t-vxlan-tenants', 'host1/blue1', 'host2/red2']);
    expect(red.exitCode).toBe(1);
    expect(red.result.drop).toMatchObject({ node: 'host1', reason: 'firewall: iptables -A FORWARD -s 10.10.0.0/16 -d 10.20.0.0/16 -j DROP' });
  });
});

describe('every lab goes away without a trace', () => {
  it.each(LABS)('%s: down leaves nothing with its label, and the machine as it was', async (seed) => {
    const lab = `t-${seed}`;
    expect((await overlab(['down', lab])).exitCode).toBe(0);
    labsUp.delete(lab);
    expect(await containersWithLabel(`overlab.lab=${lab}`)).toEqual([]);
    expect(await networksWithLabel(`overlab.lab=${lab}`)).toEqual([]);
    expect(await machineNetworkState()).toEqual(machineBefore);
  });
});
