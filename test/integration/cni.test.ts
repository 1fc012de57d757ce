// Real CNI against overlab's own wiring, for the same pods: two labs from one spec that differ
// only in podAttach (ip | cni). The kernel state must agree where docs/cni.md says it does
// (addresses, MTU, gateway, bridge, bridge ports, NAT) and differ exactly where it says it
// does (MACs, veth names, hairpin, the pod's route to the whole pod network); host-local's and
// flannel's files must be what those plugins write; DEL must leave nothing of the pod behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { containersWithLabel, downLabs, overlab, overlabJson } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';
import type { ResolvedLab } from '../../src/plan/resolved-lab.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { loadLabModel } from '../../src/lab/lab-files.js';
import { detachHostPods } from '../../src/deploy/cni-attach.js';
import { sandboxId } from '../../src/plan/cni-invocation.js';

const spec = (name: string, attach: 'ip' | 'cni') => `name: ${name}
network: { cidr: 10.244.0.0/16, bridge: cni0, backend: vxlan, controlPlane: static, podAttach: ${attach} }
hosts:
  - name: node1
    subnet: 10.244.1.0/24
    pods: [web, db, { name: fixed, ip: 10.244.1.20 }]
  - name: node2
    pods: [web]
checks:
  - { name: web reaches web across nodes, ping: { from: node1/web, to: node2/web } }
  - { name: fixed reaches db on its node, ping: { from: node1/fixed, to: node1/db } }
  - name: same-node frames carry the pods' MACs
    capture:
      on: node1:cni0
      during: { ping: { from: node1/web, to: node1/db, count: 2 } }
      expect: [{ proto: icmp, icmpType: echo-request, src: node1/web, dst: node1/db, srcMac: node1/web, dstMac: node1/db }]
`;

const OWN = 'cni-own';
const REAL = 'cni-real';
let dir: string;

async function sh(container: string, script: string): Promise<string> {
  const r = await execa('docker', ['exec', container, 'sh', '-c', script], { reject: false });
  if (r.exitCode !== 0) throw new Error(`${script} in ${container}: exit ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

interface PodState {
  address: string;
  mtu: number;
  mac: string;
  state: string;
  lo: string;
  routes: string[];
  /** The host-side port this pod's eth0 is cabled to. */
  port: string;
}

interface HostState {
  bridge: { addresses: string[]; mtu: number; mac: string; state: string };
  ports: { name: string; master: string; mtu: number; hairpin: boolean }[];
  pods: Record<string, PodState>;
  nat: string[];
}

/** One host's kernel state, read with ip/bridge -j (and iptables-save for NAT), normalized. */
async function hostState(container: string, pods: string[]): Promise<HostState> {
  const links = JSON.parse(await sh(container, 'ip -j -d link show')) as { ifindex: number; ifname: string; mtu: number; address: string; operstate: string; master?: string }[];
  const br = JSON.parse(await sh(container, 'ip -j addr show dev cni0'))[0] as { addr_info: { family: string; local: string; prefixlen: number }[]; mtu: number; address: string; operstate: string };
  const ports = JSON.parse(await sh(container, 'bridge -j -d link show')) as { ifname: string; master: string; mtu: number; hairpin?: boolean }[];
  const nat = (await sh(container, 'iptables-save -t nat')).split('\n').filter((l) => l.startsWith('-A') || l.startsWith(':')).map((l) => l.replace(/\[\d+:\d+\]/, ''));
  const state: HostState = {
    bridge: { addresses: br.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), mtu: br.mtu, mac: br.address, state: br.operstate },
    ports: ports.filter((p) => p.master === 'cni0').map((p) => ({ name: p.ifname, master: p.master, mtu: p.mtu, hairpin: p.hairpin === true })).sort((a, b) => a.name.localeCompare(b.name)),
    pods: {},
    nat,
  };
  for (const pod of pods) {
    const addr = JSON.parse(await sh(container, `ip -n ${pod} -j -d addr show`)) as { ifname: string; mtu: number; address: string; operstate: string; link_index?: number; addr_info: { family: string; local: string; prefixlen: number }[] }[];
    const eth0 = addr.find((l) => l.ifname === 'eth0')!;
    const lo = addr.find((l) => l.ifname === 'lo')!;
    const routes = JSON.parse(await sh(container, `ip -n ${pod} -j route show`)) as { dst: string; gateway?: string; dev: string }[];
    state.pods[pod] = {
      address: eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`).join(','),
      mtu: eth0.mtu,
      mac: eth0.address,
      state: eth0.operstate,
      lo: lo.addr_info.some((a) => a.local === '127.0.0.1') ? 'up' : 'down',
      routes: routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}`).sort(),
      port: links.find((l) => l.ifindex === eth0.link_index)?.ifname ?? '?',
    };
  }
  return state;
}

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-cni-');
  await downLabs([OWN, REAL]);
  for (const [name, attach] of [[OWN, 'ip'], [REAL, 'cni']] as const) {
    await writeFile(`${dir}/${name}.yaml`, spec(name, attach));
    const up = await overlab(['up', `${dir}/${name}.yaml`]);
    expect(up.exitCode, up.stderr).toBe(0);
  }
});

afterAll(async () => {
  await downLabs([OWN, REAL]);
  await rm(dir, { recursive: true, force: true });
});

describe('real CNI and overlab\'s own wiring, same pods', () => {
  it('both pass their checks: same-host and cross-host pings, and frames with the pods\' MACs on cni0', async () => {
    for (const lab of [OWN, REAL]) {
      const verify = await overlabJson<VerifyReport>(['verify', lab]);
      expect(verify.body.result.checks.filter((c) => c.status !== 'pass').map((c) => `${lab}: ${c.name}: ${c.reason}`)).toEqual([]);
    }
  });

  it('agree on addresses, MTU, routes to the gateway, the bridge and its ports, NAT — and differ where docs/cni.md says', async () => {
    const pods = ['web', 'db', 'fixed'];
    const own = await hostState(`overlab-${OWN}-node1`, pods);
    const real = await hostState(`overlab-${REAL}-node1`, pods);

    // Equal: the bridge (gateway address, MTU, up), the NAT rules, and per pod address, MTU, state, lo.
    expect(real.bridge.addresses).toEqual(['10.244.1.1/24']);
    expect({ ...real.bridge, mac: '' }).toEqual({ ...own.bridge, mac: '' });
    expect(real.nat).toEqual(own.nat); // nat: true → FLANNEL_IPMASQ=true → the bridge plugin adds no masquerade of its own
    for (const pod of pods) {
      const { mac: _m, port: _p, routes: realRoutes, ...realRest } = real.pods[pod]!;
      const { mac: _n, port: _q, routes: ownRoutes, ...ownRest } = own.pods[pod]!;
      expect(realRest, pod).toEqual(ownRest);
      expect(realRest.mtu).toBe(1450);
      // Differs: the bridge plugin also routes the whole pod network (ipam.routes) via the gateway.
      expect(ownRoutes, pod).toEqual(['10.244.1.0/24 dev eth0', 'default via 10.244.1.1 dev eth0']);
      expect(realRoutes, pod).toEqual([...ownRoutes, '10.244.0.0/16 via 10.244.1.1 dev eth0'].sort());
    }
    expect(Object.fromEntries(pods.map((p) => [p, real.pods[p]!.address]))).toEqual({ web: '10.244.1.2/24', db: '10.244.1.3/24', fixed: '10.244.1.20/24' });

    // Ports: as many, all on cni0 with the pod MTU; names, MACs and hairpin differ.
    expect(real.ports.map((p) => [p.master, p.mtu])).toEqual(own.ports.map((p) => [p.master, p.mtu]));
    expect(own.ports.map((p) => [p.name, p.hairpin])).toEqual([['veth-db', false], ['veth-fixed', false], ['veth-web', false]]);
    for (const p of real.ports) expect([p.name, p.hairpin]).toEqual([expect.stringMatching(/^veth[0-9a-f]{8}$/), true]);
    expect(own.pods.web!.mac).toBe('02:42:0a:f4:01:02');
    expect(real.pods.web!.mac).not.toBe('02:42:0a:f4:01:02');
    expect(real.bridge.mac).not.toBe(own.bridge.mac);

    // The lab model carries the kernel's choices, so checks, trace and inspect name them right.
    const model = (await overlabJson<{ lab: ResolvedLab }>(['inspect', REAL])).body.result.lab;
    const node1 = model.hosts.find((h) => h.name === 'node1')!;
    for (const pod of node1.pods) expect([pod.mac, pod.hostVeth], pod.name).toEqual([real.pods[pod.name]!.mac, real.pods[pod.name]!.port]);
    expect(node1.networks[0]!.bridgeMac).toBe(real.bridge.mac);
  });

  it('leaves host-local\'s reservations, flannel\'s delegate and libcni\'s cache where those tools keep them', async () => {
    const node1 = `overlab-${REAL}-node1`;
    const id = (pod: string) => sandboxId(REAL, 'node1', pod);
    expect((await sh(node1, 'ls /var/lib/cni/networks/cbr0')).split('\n')).toEqual(['10.244.1.2', '10.244.1.20', '10.244.1.3', 'last_reserved_ip.0', 'lock']);
    expect(await sh(node1, 'cat /var/lib/cni/networks/cbr0/10.244.1.2')).toBe(`${id('web')}\r\neth0`);
    expect(await sh(node1, 'cat /var/lib/cni/networks/cbr0/last_reserved_ip.0')).toBe('10.244.1.20'); // fixed was asked for (IP=) last
    expect(await sh(node1, `cat /var/lib/cni/flannel/${id('web')}`)).toBe(
      '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}',
    );
    expect(await sh(node1, 'cat /etc/cni/net.d/10-flannel.conflist')).toContain('"type": "flannel"');
    expect(await sh(node1, 'cat /run/flannel/subnet.env')).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true');
    const cache = JSON.parse(await sh(node1, `cat /var/lib/cni/results/cbr0-${id('fixed')}-eth0`));
    expect(cache).toMatchObject({ kind: 'cniCacheV1', containerId: id('fixed'), ifName: 'eth0', networkName: 'cbr0', netns: '/var/run/netns/fixed' });
    expect(cache.cniArgs).toContainEqual(['IP', '10.244.1.20']);
    expect(cache.result.ips[0].address).toBe('10.244.1.20/24');
    // overlab's own wiring writes none of this
    expect((await execa('docker', ['exec', `overlab-${OWN}-node1`, 'ls', '/var/lib/cni'], { reject: false })).exitCode).not.toBe(0);
  });

  it('removes a pod with DEL and leaves nothing of it: veth, namespace, reservation, delegate, cache', async () => {
    const node1 = `overlab-${REAL}-node1`;
    const runtime = new DockerRuntime();
    const model = (await loadLabModel(runtime, `overlab-${REAL}-switch`))!;
    const host = model.hosts.find((h) => h.name === 'node1')!;
    const dbVeth = host.pods.find((p) => p.name === 'db')!.hostVeth;
    const natBefore = await sh(node1, 'iptables-save -t nat | grep -v "^#" | sed "s/\\[[0-9:]*\\]//"');
    await detachHostPods(runtime, model, host, new AbortController().signal, ['db']);

    const after = await hostState(node1, ['web', 'fixed']);
    expect(after.ports.map((p) => p.name)).not.toContain(dbVeth);
    expect(after.ports).toHaveLength(2);
    expect(await sh(node1, 'ip netns list')).not.toMatch(/^db\b/m);
    expect((await sh(node1, 'ip -j link show')).includes(dbVeth)).toBe(false);
    expect((await sh(node1, 'ls /var/lib/cni/networks/cbr0')).split('\n')).toEqual(['10.244.1.2', '10.244.1.20', 'last_reserved_ip.0', 'lock']);
    expect(await sh(node1, 'ls /var/lib/cni/flannel')).not.toContain(sandboxId(REAL, 'node1', 'db'));
    expect(await sh(node1, 'ls /var/lib/cni/results')).not.toContain(sandboxId(REAL, 'node1', 'db'));
    expect(await sh(node1, 'cat /var/lib/cni/networks/cbr0/last_reserved_ip.0')).toBe('10.244.1.20'); // host-local keeps its position
    expect(await sh(node1, 'iptables-save -t nat | grep -v "^#" | sed "s/\\[[0-9:]*\\]//"')).toBe(natBefore);
    // the other pods are untouched
    expect((await overlab(['exec', REAL, 'node1/web', '--', 'ping', '-c', '1', '-W', '2', '10.244.1.20'])).exitCode).toBe(0);
  });

  it('attaches a joining host\'s pods through CNI, and DELs them when it leaves', async () => {
    const add = await overlabJson<{ host: { pods: { hostVeth: string; mac: string; ip: string }[] } }>(['node', 'add', REAL, 'node3', '--pods', 'web']);
    expect(add.exitCode, JSON.stringify(add.body)).toBe(0);
    expect(add.body.result.host.pods[0]).toMatchObject({ ip: '10.244.3.2', hostVeth: expect.stringMatching(/^veth[0-9a-f]{8}$/) });
    expect((await overlab(['exec', REAL, 'node3/web', '--', 'ping', '-c', '1', '-W', '2', '10.244.1.2'])).exitCode).toBe(0);
    expect(await sh(`overlab-${REAL}-node3`, 'ls /var/lib/cni/networks/cbr0')).toContain('10.244.3.2');
    const rm = await overlab(['node', 'rm', REAL, 'node3']);
    expect(rm.exitCode, rm.stderr).toBe(0);
    expect(await containersWithLabel(`overlab.lab=${REAL}`, 'overlab.node=node3')).toEqual([]);
  });
});
