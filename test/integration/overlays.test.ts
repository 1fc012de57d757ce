// Overlay control planes on the real engine: static and etcd program the same kernel state, and
// the data plane survives the faults flannel is designed for (agent restart, etcd outage, a host
// that goes away and whose lease expires).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { containersWithLabel, downLabs, overlab, overlabJson, seedAs } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';

let dir: string;

// Copies of the seed labs under names of their own: other test files run beside this one.
const LABS = ['o-flannel-vxlan', 'o-vxlan-static', 'expiry'];

/** o-flannel-vxlan is built once and shared, in this order: the control-plane comparison reads it
 * fresh, joining and leaving leave it as it was (host3 added, then removed; verify passes), and the
 * data-plane faults, which restart its daemons by hand, come last. Each asks for it with `up`,
 * which keeps a whole lab of the same spec as it is ('unchanged') and builds one that is not there. */
async function upFlannelVxlan(): Promise<void> {
  const up = await overlab(['up', await seedAs('flannel-vxlan', 'o-flannel-vxlan')]);
  expect(up.exitCode, up.stderr).toBe(0);
}

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-overlays-');
  await downLabs(LABS);
});

afterAll(async () => {
  await downLabs(LABS);
  await rm(dir, { recursive: true, force: true });
});

async function sh(container: string, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('docker', ['exec', container, 'sh', '-c', script], { reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** flannel.1's settings and the per-peer entries on a host, with the VTEP MACs (random in etcd
 * mode, pinned in static mode) and the underlay addresses (each lab gets a free underlay subnet,
 * which differs when other labs are up meanwhile) replaced by the host they belong to. */
async function vxlanState(container: string, macOwners: Record<string, string>, ipOwners: Record<string, string>) {
  const link = JSON.parse((await sh(container, 'ip -d -j link show flannel.1')).stdout)[0];
  const routes = JSON.parse((await sh(container, 'ip -j route show dev flannel.1')).stdout);
  const neigh = JSON.parse((await sh(container, 'ip -j neigh show dev flannel.1')).stdout);
  const fdb = JSON.parse((await sh(container, 'bridge -j fdb show dev flannel.1')).stdout);
  const owner = (mac: string) => macOwners[mac.toLowerCase()] ?? `unknown ${mac}`;
  const at = (ip: string) => ipOwners[ip] ?? `unknown ${ip}`;
  const data = link.linkinfo.info_data;
  return {
    device: { mtu: link.mtu, vni: data.id, port: data.port, learning: data.learning, local: at(data.local) },
    routes: routes.map((r: { dst: string; gateway: string; flags: string[] }) => `${r.dst} via ${r.gateway} onlink=${r.flags.includes('onlink')}`).sort(),
    neighbours: neigh.map((n: { dst: string; lladdr: string; state: string[] }) => `${n.dst} ${owner(n.lladdr)} ${n.state.join(',')}`).sort(),
    fdb: fdb.filter((f: { dst?: string }) => f.dst).map((f: { mac: string; dst: string }) => `${owner(f.mac)} dst ${at(f.dst)}`).sort(),
  };
}

/** Each host's underlay address, checked to be .2, .3, … of the lab's underlay /24. */
async function underlayAddresses(lab: string, hosts: string[]) {
  const owners: Record<string, string> = {};
  for (const [i, host] of hosts.entries()) {
    const addr = JSON.parse((await sh(`overlab-${lab}-${host}`, 'ip -j -4 addr show dev eth0')).stdout)[0];
    const ip: string = addr.addr_info[0].local;
    expect(ip).toMatch(new RegExp(`^192\\.168\\.\\d+\\.${i + 2}$`));
    owners[ip] = `underlay(${host})`;
  }
  return owners;
}

async function vtepMacs(lab: string, hosts: string[]) {
  const owners: Record<string, string> = {};
  for (const host of hosts) {
    const link = JSON.parse((await sh(`overlab-${lab}-${host}`, 'ip -j link show flannel.1')).stdout)[0];
    owners[link.address] = `vtep(${host})`;
  }
  return owners;
}

describe('static and etcd control planes', () => {
  it('program identical routes, neighbours and FDB entries', async () => {
    const states = [];
    for (const seed of ['flannel-vxlan', 'vxlan-static']) {
      const lab = `o-${seed}`;
      const up = await overlab(['up', await seedAs(seed, lab)]);
      expect(up.exitCode, up.stderr).toBe(0);
      const owners = await vtepMacs(lab, ['host1', 'host2']);
      const addresses = await underlayAddresses(lab, ['host1', 'host2']);
      states.push({ host1: await vxlanState(`overlab-${lab}-host1`, owners, addresses), host2: await vxlanState(`overlab-${lab}-host2`, owners, addresses) });
      // o-flannel-vxlan stays for the cases below (upFlannelVxlan).
      if (seed === 'vxlan-static') expect((await overlab(['down', lab])).exitCode).toBe(0);
    }
    const [viaEtcd, viaStatic] = states;
    expect(viaEtcd!.host1.routes).toEqual(['10.244.2.0/24 via 10.244.2.0 onlink=true']);
    expect(viaEtcd!.host1.neighbours).toEqual(['10.244.2.0 vtep(host2) PERMANENT']);
    expect(viaEtcd!.host1.fdb).toEqual(['vtep(host2) dst underlay(host2)']);
    expect(viaEtcd!.host1.device).toMatchObject({ mtu: 1450, vni: 1, port: 8472, learning: false, local: 'underlay(host1)' });
    expect(viaStatic).toEqual(viaEtcd);
  });
});

describe('joining and leaving (flannel-vxlan)', () => {
  it('programs a new host on every peer, and drops it again on node rm', async () => {
    await upFlannelVxlan();
    const add = await overlabJson<{ host: { underlayIp: string; networks: { subnet: string }[] }; propagation: { ms: number; peers: number }[] }>(['node', 'add', 'o-flannel-vxlan', 'host3', '--pods', 'pod1']);
    expect(add.exitCode, JSON.stringify(add.body)).toBe(0);
    expect(add.body.result.host.networks[0]!.subnet).toBe('10.244.3.0/24');
    expect(add.body.result.propagation).toEqual([expect.objectContaining({ peers: 2 })]);
    expect(add.body.result.propagation[0]!.ms).toBeGreaterThanOrEqual(0);
    for (const from of ['host1/pod1', 'host2/pod1']) {
      expect((await overlab(['exec', 'o-flannel-vxlan', from, '--', 'ping', '-c', '1', '-W', '2', '10.244.3.2'])).exitCode).toBe(0);
    }
    const inspect = await overlabJson<{ lab: { hosts: { name: string }[] } }>(['inspect', 'o-flannel-vxlan']);
    expect(inspect.body.result.lab.hosts.map((h) => h.name)).toEqual(['host1', 'host2', 'host3']);

    const rm = await overlabJson<{ propagation: { ms: number }[] }>(['node', 'rm', 'o-flannel-vxlan', 'host3']);
    expect(rm.exitCode, JSON.stringify(rm.body)).toBe(0);
    expect(await containersWithLabel('overlab.lab=o-flannel-vxlan', 'overlab.node=host3')).toEqual([]);
    for (const host of ['host1', 'host2']) {
      expect((await sh(`overlab-o-flannel-vxlan-${host}`, 'ip -j route show dev flannel.1')).stdout).not.toContain('10.244.3.0/24');
    }
    const leases = (await sh('overlab-o-flannel-vxlan-etcd', 'etcdctl get --prefix --keys-only /coreos.com/network/subnets/')).stdout;
    expect(leases).not.toContain('10.244.3.0-24');
    const verify = await overlabJson<VerifyReport>(['verify', 'o-flannel-vxlan']);
    expect(verify.body.result.failed).toBe(0);
  });
});

describe('faults the data plane survives (flannel-vxlan)', () => {
  const host1 = 'overlab-o-flannel-vxlan-host1';
  const etcd = 'overlab-o-flannel-vxlan-etcd';
  const pingAcross = () => overlab(['exec', 'o-flannel-vxlan', 'host1/pod1', '--', 'ping', '-c', '3', '-i', '0.2', '-W', '1', '10.244.2.2']);
  const kernelState = () => sh(host1, 'ip -j route show dev flannel.1; ip -j neigh show dev flannel.1; bridge -j fdb show dev flannel.1; ip -d -j link show flannel.1');

  beforeAll(upFlannelVxlan);

  afterAll(async () => {
    await overlab(['down', 'o-flannel-vxlan']);
  });

  it('keeps forwarding while the agent is dead, and the restarted agent re-syncs without changes', async () => {
    const before = (await kernelState()).stdout;
    expect((await sh(host1, 'kill -KILL $(cat /run/overlab/agent.pid)')).exitCode).toBe(0);
    expect((await pingAcross()).exitCode).toBe(0);
    await sh(host1, 'nohup node /opt/overlab/agent/main.js --config /etc/overlab/agent.json >>/var/log/overlab-agent.out 2>&1 &');
    // Ready again when the agent logs its re-sync; poll the log, do not guess a delay.
    let log = '';
    for (let i = 0; i < 100; i++) {
      log = (await overlab(['logs', 'o-flannel-vxlan', 'host1'])).stdout;
      if ((log.match(/agent ready/g) ?? []).length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((log.match(/agent ready/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect((await kernelState()).stdout).toBe(before);
    const verify = await overlabJson<VerifyReport>(['verify', 'o-flannel-vxlan']);
    expect(verify.body.result.failed).toBe(0);
  });

  it('keeps forwarding while etcd is down, and agents reconnect when it returns', async () => {
    const pid = (await sh(etcd, 'pidof etcd')).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    await sh(etcd, `kill -TERM ${pid}`);
    expect((await pingAcross()).exitCode).toBe(0);
    await sh(
      etcd,
      "nohup etcd --name o-flannel-vxlan --data-dir /var/lib/overlab-etcd --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls http://$(ip -j -4 addr show eth0 | sed -n 's/.*\"local\":\"\\([0-9.]*\\)\".*/\\1/p'):2379 --listen-peer-urls http://127.0.0.1:2380 >>/var/log/etcd.log 2>&1 &",
    );
    let reachable = false;
    for (let i = 0; i < 150 && !reachable; i++) {
      const stats = await sh(host1, 'cat /run/overlab/agent-stats.json');
      try {
        const parsed = JSON.parse(stats.stdout) as { etcd: { reachable: boolean; watching: boolean } };
        reachable = parsed.etcd.reachable && parsed.etcd.watching;
      } catch {
        reachable = false;
      }
      if (!reachable) await new Promise((r) => setTimeout(r, 200));
    }
    expect(reachable).toBe(true);
    const verify = await overlabJson<VerifyReport>(['verify', 'o-flannel-vxlan']);
    expect(verify.body.result.checks.filter((c) => c.status !== 'pass').map((c) => c.reason)).toEqual([]);
  });
});

describe('a host that goes away', () => {
  it('loses its lease after the TTL and every peer drops its entries', async () => {
    const spec = `${dir}/expiry.yaml`;
    await writeFile(
      spec,
      `name: expiry
network: { cidr: 10.244.0.0/16, backend: vxlan, controlPlane: etcd, leaseTtl: 6 }
hosts:
  - { name: host1, pods: [pod1] }
  - { name: host2, pods: [pod1] }
  - { name: host3, pods: [pod1] }
`,
    );
    expect((await overlab(['up', spec])).exitCode).toBe(0);
    const routes = async (host: string) => (await sh(`overlab-expiry-${host}`, 'ip -j route show dev flannel.1')).stdout;
    expect(await routes('host1')).toContain('10.244.3.0/24');
    await execa('docker', ['stop', '-t', '1', 'overlab-expiry-host3']);
    const stoppedAt = Date.now();
    let gone = false;
    for (let i = 0; i < 150 && !gone; i++) {
      gone = !(await routes('host1')).includes('10.244.3.0/24') && !(await routes('host2')).includes('10.244.3.0/24');
      if (!gone) await new Promise((r) => setTimeout(r, 200));
    }
    expect(gone).toBe(true);
    expect(Date.now() - stoppedAt).toBeGreaterThan(3000); // it went with the lease, not before
    const leases = (await sh('overlab-expiry-etcd', 'etcdctl get --prefix --keys-only /coreos.com/network/subnets/')).stdout;
    expect(leases).not.toContain('10.244.3.0-24');
    expect(leases).toContain('10.244.1.0-24');
    expect((await overlab(['down', 'expiry'])).exitCode).toBe(0);
  });
});
