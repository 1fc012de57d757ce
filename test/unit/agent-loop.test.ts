// The agent's control loop against an in-memory etcd and a fake kernel that understands the
// `ip`/`bridge`/`iptables` commands the agent issues.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { parseAgentStats } from '../../src/shared/agent-stats.js';
import { validateAgentConfig } from '../../src/agent/config.js';
import { MemoryEtcd } from '../support/etcd-memory.js';
import { type Logger, silentLogger } from '../../src/agent/log.js';
import { FakeKernel } from './agent-fake-kernel.js';

const CFG = '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}';
const agents: Agent[] = [];

/** Log lines by host (and echoed with AGENT_TEST_LOG=1). */
const logs = new Map<string, string[]>();

function loggerFor(host: string): Logger {
  const lines: string[] = [];
  logs.set(host, lines);
  const at = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
    if (process.env.AGENT_TEST_LOG) console.log(host, level, m);
  };
  return { info: at('info'), warn: at('warn'), error: at('error'), debug() {} };
}

function agentFor(etcd: MemoryEtcd, kernel: FakeKernel, host: string, ip: string, dir: string, extra: Record<string, unknown> = {}): Agent {
  const cfg = validateAgentConfig({
    host,
    publicIp: ip,
    etcdEndpoints: ['http://192.168.50.250:2379'],
    leaseTtlSeconds: 3600,
    logFile: join(dir, 'agent.log'),
    ipMasq: true,
    subnetEnvFile: join(dir, 'subnet.env'),
    statsFile: join(dir, 'stats.json'),
    pidFile: join(dir, 'agent.pid'),
    ...extra,
  });
  const a = new Agent(cfg, { etcd, runner: kernel, log: loggerFor(host) ?? silentLogger, skipSysctl: true });
  agents.push(a);
  return a;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const a of agents.splice(0)) await a.stop();
});

describe('agent control loop (vxlan, in-memory etcd, fake kernel)', () => {
  it('programs peers, survives a restart without changes, and unprograms removed leases', async () => {
    const etcd = new MemoryEtcd();
    await etcd.put('/coreos.com/network/config', CFG);
    const k1 = new FakeKernel();
    const k2 = new FakeKernel('192.168.50.3/24');
    const d1 = mkdtempSync(join(tmpdir(), 'agent1-'));
    const d2 = mkdtempSync(join(tmpdir(), 'agent2-'));
    const a1 = agentFor(etcd, k1, 'host1', '192.168.50.2', d1);
    await a1.start();
    const a2 = agentFor(etcd, k2, 'host2', '192.168.50.3', d2);
    await a2.start();
    await a1.settled();

    expect(readFileSync(join(d1, 'subnet.env'), 'utf8')).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
    const mac2 = k2.links.get('flannel.1')!.mac;
    expect(k1.links.get('flannel.1')).toMatchObject({ mtu: 1450, up: true, addrs: ['10.244.1.0/32'] });
    expect(k1.links.get('docker0')).toMatchObject({ kind: 'bridge', up: true, addrs: ['10.244.1.1/24'] });
    expect([...k1.routes.values()]).toEqual([{ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true }]);
    expect([...k1.neigh.values()]).toEqual([{ ip: '10.244.2.0', lladdr: mac2, dev: 'flannel.1' }]);
    expect([...k1.fdb.values()]).toEqual([{ mac: mac2, dst: '192.168.50.3', dev: 'flannel.1' }]);
    expect(k1.ipt.has('nat POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE')).toBe(true);
    expect([...k2.routes.values()].map((r) => r.dst)).toEqual(['10.244.1.0/24']);

    // restart host1's agent: same lease, same device, nothing changed in the kernel
    await a1.stop();
    k1.mutations = [];
    const a1b = agentFor(etcd, k1, 'host1', '192.168.50.2', d1);
    await a1b.start();
    await a1b.settled();
    expect(a1b.ownLease!.reused).toBe(true);
    expect(k1.mutations).toEqual([]);

    // a third host's lease comes and goes: host1 programs it, then removes route, neighbour and fdb
    const third = '/coreos.com/network/subnets/10.244.5.0-24';
    await etcd.put(third, '{"PublicIP":"192.168.50.5","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:00:00:00:00:05"}}');
    await a1b.settled();
    expect([...k1.routes.keys()].sort()).toEqual(['10.244.2.0/24', '10.244.5.0/24']);
    expect(k1.neigh.get('flannel.1 10.244.5.0')?.lladdr).toBe('0a:00:00:00:00:05');
    await etcd.delete(third);
    await a1b.settled();
    expect([...k1.routes.keys()]).toEqual(['10.244.2.0/24']);
    expect([...k1.neigh.values()].map((n) => n.ip)).toEqual(['10.244.2.0']);
    expect([...k1.fdb.values()].map((f) => f.dst)).toEqual(['192.168.50.3']);

    // host2's own lease is deleted behind its back: it re-acquires the same subnet
    const key2 = a2.ownLease!.key;
    await etcd.delete(key2);
    await a2.settled();
    expect(etcd.peek(key2)).toBeDefined();
    expect(a2.ownLease!.key).toBe(key2);
    await a1b.settled();
    expect([...k1.routes.keys()]).toEqual(['10.244.2.0/24']);
  });

  it('does not start on a host being wired: its underlay interface is there but not yet its address (a listener would fail, unseen)', async () => {
    const etcd = new MemoryEtcd();
    await etcd.put('/coreos.com/network/config', CFG);
    const k1 = new FakeKernel(null);
    const dir = mkdtempSync(join(tmpdir(), 'agent-wiring-'));
    await expect(agentFor(etcd, k1, 'host1', '192.168.50.2', dir).start()).rejects.toThrow('the underlay interface eth0 does not carry 192.168.50.2 yet');
    expect((await etcd.range('/coreos.com/network/subnets/', { prefix: true })).kvs).toEqual([]);
    expect(k1.mutations).toEqual([]);
    // Wired: its supervisor's next start goes through.
    k1.links.get('eth0')!.addrs.push('192.168.50.2/24');
    const again = agentFor(etcd, k1, 'host1', '192.168.50.2', dir);
    await again.start();
    await again.settled();
    expect(again.ownLease?.subnet).toBeDefined();
  });

  it('removes stale peers it finds in the kernel at start (lease expired while it was down)', async () => {
    const etcd = new MemoryEtcd();
    await etcd.put('/coreos.com/network/config', CFG);
    const k1 = new FakeKernel();
    k1.routes.set('10.244.9.0/24', { dst: '10.244.9.0/24', via: '10.244.9.0', dev: 'flannel.1', onlink: true });
    k1.neigh.set('flannel.1 10.244.9.0', { ip: '10.244.9.0', lladdr: '0a:00:00:00:00:09', dev: 'flannel.1' });
    k1.fdb.set('flannel.1 0a:00:00:00:00:09 192.168.50.9', { mac: '0a:00:00:00:00:09', dst: '192.168.50.9', dev: 'flannel.1' });
    const a1 = agentFor(etcd, k1, 'host1', '192.168.50.2', mkdtempSync(join(tmpdir(), 'agent3-')));
    await a1.start();
    await a1.settled();
    expect(k1.routes.size).toBe(0);
    expect(k1.neigh.size).toBe(0);
    expect(k1.fdb.size).toBe(0);
  });

  it('keeps kernel state when etcd goes away and catches up when it returns', async () => {
    const etcd = new MemoryEtcd();
    await etcd.put('/coreos.com/network/config', CFG);
    const k1 = new FakeKernel();
    const a1 = agentFor(etcd, k1, 'host1', '192.168.50.2', mkdtempSync(join(tmpdir(), 'agent4-')));
    await a1.start();
    await etcd.put('/coreos.com/network/subnets/10.244.5.0-24', '{"PublicIP":"192.168.50.5","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:00:00:00:00:05"}}');
    await a1.settled();
    expect(k1.routes.has('10.244.5.0/24')).toBe(true);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    etcd.down = true;
    etcd.dropWatches();
    await vi.advanceTimersByTimeAsync(1500); // the re-list at 1 s fails (etcd down); the next is due at 2 s
    expect(k1.routes.has('10.244.5.0/24')).toBe(true); // data plane untouched
    etcd.down = false;
    await etcd.put('/coreos.com/network/subnets/10.244.6.0-24', '{"PublicIP":"192.168.50.6","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:00:00:00:00:06"}}');
    expect(k1.routes.has('10.244.6.0/24')).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    await a1.settled();
    expect([...k1.routes.keys()].sort()).toEqual(['10.244.5.0/24', '10.244.6.0/24']);
  });

  it('re-registers on the same subnets within seconds when etcd comes back empty (its revision gone backwards, its own lease gone)', async () => {
    const etcd = new MemoryEtcd();
    await etcd.put('/coreos.com/network/config', CFG);
    const k1 = new FakeKernel();
    const k2 = new FakeKernel('192.168.50.3/24');
    const a1 = agentFor(etcd, k1, 'host1', '192.168.50.2', mkdtempSync(join(tmpdir(), 'agent-wipe1-')));
    const a2 = agentFor(etcd, k2, 'host2', '192.168.50.3', mkdtempSync(join(tmpdir(), 'agent-wipe2-')));
    await a1.start();
    await a2.start();
    // Enough history that the emptied etcd's revisions stay below what the agents saw.
    for (let i = 0; i < 20; i++) await etcd.put('/coreos.com/network/other', String(i));
    await a1.settled();
    await a2.settled();
    const before = (await etcd.range('/coreos.com/network/subnets/', { prefix: true })).kvs.map((kv) => kv.key).sort();
    expect(before).toHaveLength(2);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    etcd.wipe();
    await etcd.put('/coreos.com/network/config', CFG); // `up` seeds it again
    await vi.advanceTimersByTimeAsync(3000);
    await a1.settled();
    await a2.settled();
    const after = await etcd.range('/coreos.com/network/subnets/', { prefix: true });
    expect(after.kvs.map((kv) => kv.key).sort()).toEqual(before);
    // Each under a lease this etcd knows.
    for (const kv of after.kvs) expect((await etcd.leaseTimeToLive(kv.lease)).ttl).toBeGreaterThan(0);
    expect(logs.get('host1')!.some((l) => /revision went back/.test(l))).toBe(true);
    expect(k1.routes.has('10.244.2.0/24') || k1.routes.has('10.244.1.0/24')).toBe(true);
  });
});

const PREFIX = '/coreos.com/network';
const lease = (n: number, ip = `192.168.50.${n + 1}`, mac = `0a:00:00:00:00:${n.toString(16).padStart(2, '0')}`) =>
  JSON.stringify({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac } });

async function oneAgent(extra: Record<string, unknown> = { underlayCidr: '192.168.50.0/24' }) {
  const etcd = new MemoryEtcd();
  await etcd.put(`${PREFIX}/config`, CFG);
  const kernel = new FakeKernel();
  const dir = mkdtempSync(join(tmpdir(), 'agent-'));
  const agent = agentFor(etcd, kernel, 'host1', '192.168.50.2', dir, extra);
  await agent.start();
  await agent.settled();
  const stats = async () => {
    await agent.stop();
    return parseAgentStats(readFileSync(join(dir, 'stats.json'), 'utf8'))!;
  };
  return { etcd, kernel, agent, dir, stats, log: logs.get('host1')! };
}

/** Everything the kernel holds for peers, as text. */
function peerState(k: FakeKernel): string[] {
  return [
    ...[...k.routes.values()].map((r) => `route ${r.dst} via ${r.via}`),
    ...[...k.neigh.values()].map((n) => `neigh ${n.ip} ${n.lladdr}`),
    ...[...k.fdb.values()].map((f) => `fdb ${f.mac} ${f.dst}`),
  ].sort();
}

describe('leases the agent refuses', () => {
  it('programs none of the hostile leases, logs each once with its reason, and lists them in the stats', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { etcd, kernel, agent, stats, log } = await oneAgent();
    await etcd.put(`${PREFIX}/subnets/10.244.2.0-24`, lease(2));
    await etcd.put(`${PREFIX}/subnets/10.244.0.0-16`, lease(9));
    await etcd.put(`${PREFIX}/subnets/10.244.8.0-24`, lease(8, '8.8.8.8'));
    await etcd.put(`${PREFIX}/subnets/10.244.9.0-24`, lease(9, '192.168.50.10', 'zz;reboot'));
    await agent.settled();
    // a re-list (the watch broke) judges everything again, but logs nothing again
    etcd.dropWatches();
    await vi.advanceTimersByTimeAsync(1000);
    await agent.settled();
    expect(log.filter((l) => l.includes('re-syncing with etcd'))).toHaveLength(1);

    expect(peerState(kernel)).toEqual(['fdb 0a:00:00:00:00:02 192.168.50.3', 'neigh 10.244.2.0 0a:00:00:00:00:02', 'route 10.244.2.0/24 via 10.244.2.0']);
    expect(kernel.processes.flatMap((p) => p.batch).join('\n')).not.toMatch(/zz|reboot|8\.8\.8\.8|10\.244\.0\.0\/16|10\.244\.[89]\./);
    const refusals = log.filter((l) => l.includes('refused ('));
    expect(refusals).toEqual([
      `warn lease "${PREFIX}/subnets/10.244.0.0-16" refused (subnet): subnet 10.244.0.0/16 is not a /24 subnet of 10.244.0.0/16; not programming it`,
      `warn lease "${PREFIX}/subnets/10.244.8.0-24" refused (public-ip): PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24; not programming it`,
      `warn lease "${PREFIX}/subnets/10.244.9.0-24" refused (vtep-mac): BackendData.VtepMAC "zz;reboot" is not a MAC address; not programming it`,
    ]);
    const s = await stats();
    expect(s.peers).toEqual([{ subnet: '10.244.2.0/24', publicIp: '192.168.50.3', backendType: 'vxlan' }]);
    expect(s.rejectedLeases?.map((r) => [r.key.slice(PREFIX.length), r.code])).toEqual([
      ['/subnets/10.244.0.0-16', 'subnet'],
      ['/subnets/10.244.8.0-24', 'public-ip'],
      ['/subnets/10.244.9.0-24', 'vtep-mac'],
    ]);
    expect(s.rejectedLeases?.[1]?.reason).toBe('PublicIP 8.8.8.8 is outside the underlay 192.168.50.0/24');
  });

  it('without underlayCidr in the config, takes the underlay from the underlay interface', async () => {
    const { etcd, kernel, agent } = await oneAgent({});
    await etcd.put(`${PREFIX}/subnets/10.244.8.0-24`, lease(8, '8.8.8.8'));
    await agent.settled();
    expect(peerState(kernel)).toEqual([]);
    expect(agent.peerLeases).toEqual([]);
  });

  it('unprograms a peer whose lease turns bad', async () => {
    const { etcd, kernel, agent } = await oneAgent();
    await etcd.put(`${PREFIX}/subnets/10.244.2.0-24`, lease(2));
    await agent.settled();
    expect(kernel.routes.has('10.244.2.0/24')).toBe(true);
    await etcd.put(`${PREFIX}/subnets/10.244.2.0-24`, lease(2, '192.168.50.3', '01:00:5e:00:00:01'));
    await agent.settled();
    expect(peerState(kernel)).toEqual([]);
  });
});

describe('the agent keeps its own lease', () => {
  it('rewrites it when garbage, another value or no etcd lease is put over it', async () => {
    const { etcd, agent, stats, log } = await oneAgent();
    const own = agent.ownLease!;
    const want = etcd.peek(own.key)!.value;
    for (const [value, leaseId] of [
      ['garbage', undefined],
      [lease(1, '192.168.50.77'), undefined],
      [want, undefined],
    ] as const) {
      await etcd.put(own.key, value, leaseId);
      await agent.settled();
      expect(etcd.peek(own.key)).toMatchObject({ value: want, lease: own.etcdLease });
    }
    expect(log.filter((l) => l.startsWith('warn own lease'))).toEqual([
      `warn own lease ${own.key} holds an unreadable value "garbage"; rewriting it`,
      `warn own lease ${own.key} was changed (it names PublicIP 192.168.50.77, BackendData {"VNI":1,"VtepMAC":"0a:00:00:00:00:01"}); rewriting it`,
      `warn own lease ${own.key} is no longer attached to etcd lease ${own.etcdLease}; rewriting it`,
    ]);
    expect((await stats()).lease?.rewrites).toBe(3);
  });

  it('re-creates it under a new etcd lease when the old one is revoked, on the same subnet', async () => {
    const { etcd, agent } = await oneAgent();
    const { key, etcdLease } = agent.ownLease!;
    await etcd.leaseRevoke(etcdLease);
    await agent.settled();
    expect(agent.ownLease!.key).toBe(key);
    expect(agent.ownLease!.etcdLease).not.toBe(etcdLease);
    expect(etcd.peek(key)!.lease).toBe(agent.ownLease!.etcdLease);
  });

  it('yields the subnet to another host that re-created the key with a lease of its own', async () => {
    const { etcd, agent, dir } = await oneAgent();
    const { key } = agent.ownLease!;
    const other = await etcd.leaseGrant(60);
    await etcd.txn([], [{ delete: { key } }, { put: { key, value: lease(1, '192.168.50.9'), lease: other.id } }], []);
    await agent.settled();
    expect(agent.ownLease!.key).not.toBe(key);
    expect(etcd.peek(key)!.value).toContain('192.168.50.9');
    expect(readFileSync(join(dir, 'subnet.env'), 'utf8')).toContain(`FLANNEL_SUBNET=${formatGateway(agent.ownLease!.key)}`);
  });
});

function formatGateway(key: string): string {
  const m = /subnets\/(\d+\.\d+\.\d+)\.0-(\d+)$/.exec(key)!;
  return `${m[1]}.1/${m[2]}`;
}

describe('peer sync cost', () => {
  it('a burst of 63 joins is one sync: one bridge and one ip process', async () => {
    const { etcd, kernel, agent, stats } = await oneAgent();
    kernel.resetCounters();
    await Promise.all(Array.from({ length: 63 }, (_, i) => etcd.put(`${PREFIX}/subnets/10.244.${i + 2}.0-24`, lease(i + 2))));
    await agent.settled();
    expect(kernel.routes.size).toBe(63);
    expect(kernel.processes.map((p) => [p.argv.join(' '), p.batch.length])).toEqual([
      ['bridge -force -batch -', 63],
      ['ip -force -batch -', 126],
    ]);
    const s = await stats();
    expect(s.peerSync).toMatchObject({ syncs: 2, fullSyncs: 1, changes: 189, failures: 0, inSync: true });
  });

  it('a full re-sync reads the kernel once and repairs only what drifted, in one batch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { etcd, kernel, agent } = await oneAgent();
    for (let i = 2; i <= 64; i++) await etcd.put(`${PREFIX}/subnets/10.244.${i}.0-24`, lease(i));
    await agent.settled();
    kernel.routes.delete('10.244.7.0/24'); // drift behind the agent's back
    kernel.routes.delete('10.244.9.0/24');
    kernel.resetCounters();
    etcd.dropWatches();
    await vi.advanceTimersByTimeAsync(1000);
    await agent.settled();
    expect(kernel.processes.map((p) => p.argv.join(' ')).sort()).toEqual([
      'bridge -j fdb show dev flannel.1',
      'ip -force -batch -',
      'ip -j neigh show dev flannel.1',
      'ip -j route show dev flannel.1',
    ]);
    expect(kernel.mutations).toEqual(['ip route replace 10.244.7.0/24 via 10.244.7.0 dev flannel.1 onlink', 'ip route replace 10.244.9.0/24 via 10.244.9.0 dev flannel.1 onlink']);
  });

  it('retries a sync with a failed command as a full one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { etcd, kernel, agent, log } = await oneAgent();
    kernel.failWhen = (line) => line.includes('route replace 10.244.3.0/24');
    await etcd.put(`${PREFIX}/subnets/10.244.2.0-24`, lease(2));
    await etcd.put(`${PREFIX}/subnets/10.244.3.0-24`, lease(3));
    await agent.settled();
    expect([...kernel.routes.keys()]).toEqual(['10.244.2.0/24']);
    expect(log.some((l) => l.startsWith('error program failed: ip route replace 10.244.3.0/24') && l.includes('injected'))).toBe(true);
    kernel.failWhen = null;
    await vi.advanceTimersByTimeAsync(1000);
    await agent.settled();
    expect([...kernel.routes.keys()].sort()).toEqual(['10.244.2.0/24', '10.244.3.0/24']);
  });
});
