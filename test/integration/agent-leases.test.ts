// Hostile leases in a running flannel-vxlan lab (real engine, real etcd, real kernel): what other
// hosts write into etcd reaches no route, neighbour or FDB entry unless it passes flannel's rules,
// no value ever reaches a shell (a canary file never appears), each refusal is logged once — also
// across a re-list after an etcd restart — and listed in the stats file, and garbage written over
// a host's own lease is replaced by the host's own value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { parseAgentStats, type AgentStats } from '../../src/shared/agent-stats.js';
import { overlab, seedAs, until } from './harness.js';

// A copy of labs/flannel-vxlan.yaml of its own (other test files run beside this one), on the
// underlay the literal addresses below are in.
const LAB = 'a-flannel-vxlan';
const HOSTS = ['host1', 'host2'] as const;
const ETCD = `overlab-${LAB}-etcd`;
const SUBNETS = '/coreos.com/network/subnets/';
const CANARY = '/tmp/overlab-agent-leases-canary';
const TOUCH = `$(touch ${CANARY})`;

const vxlan = (ip: string, mac: string) => JSON.stringify({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac } });

/** key (after the subnets prefix) → value, and the code each must be refused with. */
const HOSTILE: { key: string; value: string; code: string }[] = [
  { key: '10.244.0.0-16', value: vxlan('192.168.50.9', '0a:00:00:00:00:09'), code: 'subnet' },
  { key: '10.244.8.0-24', value: vxlan('8.8.8.8', '0a:00:00:00:00:08'), code: 'public-ip' },
  { key: '10.244.9.0-24', value: vxlan('192.168.50.10', 'zz;reboot'), code: 'vtep-mac' },
  { key: '10.244.10.0-24', value: vxlan('192.168.50.11', TOUCH), code: 'vtep-mac' },
  { key: '10.244.11.0-24', value: vxlan(`192.168.50.12;touch ${CANARY}`, '0a:00:00:00:00:0b'), code: 'public-ip' },
  { key: TOUCH, value: vxlan('192.168.50.13', '0a:00:00:00:00:0d'), code: 'key' },
];

async function sh(container: string, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('docker', ['exec', container, ...argv], { reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const etcdctl = (...args: string[]) => sh(ETCD, ['etcdctl', ...args]);


async function stats(host: string): Promise<Partial<AgentStats>> {
  return parseAgentStats((await sh(`overlab-${LAB}-${host}`, ['cat', '/run/overlab/agent-stats.json'])).stdout) ?? {};
}

async function agentLog(host: string): Promise<string> {
  return (await sh(`overlab-${LAB}-${host}`, ['cat', '/var/log/overlab-agent.log'])).stdout;
}

async function json<T>(host: string, argv: string[]): Promise<T[]> {
  const r = await sh(`overlab-${LAB}-${host}`, argv);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout || '[]') as T[];
}

/** What the kernel of a host holds that a lease could have put there. */
async function peerKernelState(host: string) {
  const routes = await json<{ dst: string; gateway?: string }>(host, ['ip', '-j', 'route', 'show', 'table', 'all']);
  const flannel = await json<{ dst: string; gateway?: string }>(host, ['ip', '-j', 'route', 'show', 'dev', 'flannel.1']);
  const neigh = await json<{ dst: string; lladdr?: string; dev: string }>(host, ['ip', '-j', 'neigh', 'show', 'dev', 'flannel.1']);
  const fdb = await json<{ mac: string; dst?: string }>(host, ['bridge', '-j', 'fdb', 'show', 'dev', 'flannel.1']);
  return {
    flannelRoutes: flannel.map((r) => `${r.dst} via ${r.gateway}`),
    allRouteText: JSON.stringify(routes),
    neigh: neigh.map((n) => `${n.dst} ${n.lladdr}`),
    fdb: fdb.filter((f) => f.dst).map((f) => `${f.mac} ${f.dst}`),
  };
}

let ownKey = '';
let ownValue = '';

beforeAll(async () => {
  await overlab(['down', LAB]);
  const up = await overlab(['up', await seedAs('flannel-vxlan', LAB, (t) => `${t}underlay:\n  subnet: 192.168.50.0/24\n`)]);
  expect(up.exitCode, up.stderr).toBe(0);
  ownKey = `${SUBNETS}10.244.1.0-24`;
  ownValue = (await etcdctl('get', '--print-value-only', ownKey)).stdout.trim();
  expect(ownValue).toContain('"PublicIP":"192.168.50.2"');
});

afterAll(async () => {
  await overlab(['down', LAB]);
});

describe('hostile leases in etcd (flannel-vxlan)', () => {
  it('reach no route, neighbour or FDB entry, are listed with their reason, and garbage over a host\'s own lease is rewritten', async () => {
    const before = { host1: await peerKernelState('host1'), host2: await peerKernelState('host2') };
    expect(before.host1.flannelRoutes).toEqual(['10.244.2.0/24 via 10.244.2.0']);

    for (const h of HOSTILE) expect((await etcdctl('put', `${SUBNETS}${h.key}`, h.value)).exitCode).toBe(0);
    expect((await etcdctl('put', ownKey, `garbage;touch ${CANARY}`)).exitCode).toBe(0);

    // every agent lists every hostile lease with the expected code
    for (const host of HOSTS) {
      const rejected = await until(`${host} to list the refused leases`, async () => {
        const r = (await stats(host)).rejectedLeases ?? [];
        return r.length === HOSTILE.length ? r : undefined;
      });
      expect(Object.fromEntries(rejected.map((r) => [r.key.slice(SUBNETS.length), r.code]))).toEqual(Object.fromEntries(HOSTILE.map((h) => [h.key, h.code])));
      expect(rejected.find((r) => r.key.endsWith('10.244.8.0-24'))?.reason).toBe('PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24');
      expect(rejected.find((r) => r.key.endsWith('10.244.9.0-24'))?.reason).toBe('BackendData.VtepMAC "zz;reboot" is not a MAC address');
    }

    // host1 put its own value back, under its etcd lease
    const rewritten = await until('host1 to rewrite its own lease', async () => {
      const r = JSON.parse((await etcdctl('get', '-w', 'json', ownKey)).stdout) as { kvs?: { value: string; lease?: number }[] };
      const kv = r.kvs?.[0];
      return kv && Buffer.from(kv.value, 'base64').toString() === ownValue ? kv : undefined;
    });
    expect(rewritten.lease ?? 0).not.toBe(0);
    // the stats file follows at its next write (every statsIntervalMs), not with the etcd write
    const rewrites = await until('host1\'s stats to count the rewrite', async () => {
      const n = (await stats('host1')).lease?.rewrites ?? 0;
      return n >= 1 ? n : undefined;
    });
    expect(rewrites).toBeGreaterThanOrEqual(1);
    expect(await agentLog('host1')).toMatch(/own lease \/coreos.com\/network\/subnets\/10\.244\.1\.0-24 holds an unreadable value "garbage;touch/);

    // a re-list after an etcd restart judges everything again but logs nothing again
    const pid = (await sh(ETCD, ['pidof', 'etcd'])).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    await sh(ETCD, ['kill', '-TERM', pid]);
    await until('etcd to exit', async () => ((await sh(ETCD, ['pidof', 'etcd'])).exitCode !== 0 ? true : undefined));
    const addr = await sh(ETCD, ['ip', '-j', '-4', 'addr', 'show', 'eth0']);
    const etcdIp = (JSON.parse(addr.stdout) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
    await sh(ETCD, [
      'sh', '-c',
      'nohup etcd --name "$1" --data-dir /var/lib/overlab-etcd --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$2:2379" --listen-peer-urls http://127.0.0.1:2380 >>/var/log/etcd.log 2>&1 &',
      'sh', LAB, etcdIp,
    ]);
    for (const host of HOSTS) {
      await until(`${host} to re-list after the etcd restart`, async () => {
        const s = await stats(host);
        const relisted = ((await agentLog(host)).match(/re-syncing with etcd/g) ?? []).length >= 1;
        return relisted && s.etcd?.watching && s.peerSync?.inSync ? true : undefined;
      });
    }

    for (const host of HOSTS) {
      const log = await agentLog(host);
      for (const h of HOSTILE) {
        const lines = log.split('\n').filter((l) => l.includes(`lease ${JSON.stringify(`${SUBNETS}${h.key}`)} refused (${h.code})`));
        expect(lines, `${host}: ${h.key}`).toHaveLength(1);
      }
      const s = await stats(host);
      expect(s.rejectedLeases?.length).toBe(HOSTILE.length);
      expect(s.peers?.map((p) => p.subnet)).toEqual([host === 'host1' ? '10.244.2.0/24' : '10.244.1.0/24']);

      // nothing of them in the kernel: the same peer entries as before
      const now = await peerKernelState(host);
      expect(now.flannelRoutes).toEqual(before[host].flannelRoutes);
      expect(now.neigh).toEqual(before[host].neigh);
      expect(now.fdb).toEqual(before[host].fdb);
      expect(now.allRouteText).not.toMatch(/8\.8\.8\.8|10\.244\.(8|9|10|11)\.0|"dst":"10\.244\.0\.0\/16","gateway"/);
    }

    // no value reached a shell, anywhere
    for (const c of [...HOSTS.map((h) => `overlab-${LAB}-${h}`), ETCD]) {
      expect((await sh(c, ['test', '-e', CANARY])).exitCode, c).not.toBe(0);
    }
    expect(existsSync(CANARY)).toBe(false);

    // and the data plane between the two real hosts still works
    const ping = await overlab(['exec', LAB, 'host1/pod1', '--', 'ping', '-c', '2', '-i', '0.2', '-W', '1', '10.244.2.2']);
    expect(ping.exitCode, ping.stdout + ping.stderr).toBe(0);
  });

  it('verify reports a lease problem as a lease problem: what sits at the key, and why the peer refused it', async () => {
    const host2 = `overlab-${LAB}-host2`;
    const key2 = `${SUBNETS}10.244.2.0-24`;
    const agentPid = (await sh(host2, ['cat', '/run/overlab/agent.pid'])).stdout.trim();
    expect(agentPid).toMatch(/^\d+$/);
    // host2's agent is frozen, so nobody puts its lease back while we look.
    await sh(host2, ['kill', '-STOP', agentPid]);
    try {
      expect((await etcdctl('put', key2, vxlan('8.8.8.8', '0a:00:00:00:00:08'))).exitCode).toBe(0);
      await until('host1 to refuse host2\'s lease', async () =>
        ((await stats('host1')).rejectedLeases ?? []).some((r) => r.key === key2 && r.code === 'public-ip') ? true : undefined,
      );
      const moved = await overlab(['verify', LAB, '--json', '--check', "host2's lease too", '--check', "host1's kernel has host2's VTEP (neighbour, FDB, onlink route) as host2's lease says"]);
      const checks = (JSON.parse(moved.stdout) as { result: { checks: { name: string; status: string; reason?: string }[] } }).result.checks;
      expect(moved.exitCode).toBe(1);
      expect(checks.find((c) => c.name === "host2's lease too")?.reason).toBe(`host2's lease: the key ${key2} names PublicIP 8.8.8.8, not host2's 192.168.50.3`);
      expect(checks.find((c) => c.name.startsWith("host1's kernel"))?.reason).toContain(`host1's agent refused "${key2}": PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24`);

      expect((await etcdctl('put', key2, 'not json')).exitCode).toBe(0);
      const garbage = await overlab(['verify', LAB, '--json', '--check', "host2's lease too"]);
      expect((JSON.parse(garbage.stdout) as { result: { checks: { reason?: string }[] } }).result.checks[0]?.reason).toBe(
        `host2's lease: the key ${key2} holds no flannel lease: its value is not JSON`,
      );
    } finally {
      await sh(host2, ['kill', '-CONT', agentPid]);
    }
    // host2's agent puts its own lease back, and the lab is whole again.
    await until('host2 to rewrite its lease', async () => ((await etcdctl('get', '--print-value-only', key2)).stdout.includes('"PublicIP":"192.168.50.3"') ? true : undefined));
    await until('every check to pass again', async () => ((await overlab(['verify', LAB])).exitCode === 0 ? true : undefined), 30_000);
  });
});
