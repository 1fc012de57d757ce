// The agent's control loop against an in-memory etcd and a fake kernel that understands the
// `ip`/`bridge`/`iptables` commands the agent issues.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { validateAgentConfig } from '../../src/agent/config.js';
import { MemoryEtcd } from '../../src/agent/etcd/memory.js';
import type { CommandRunner, RunResult } from '../../src/agent/kernel.js';
import { silentLogger } from '../../src/agent/log.js';

interface Link {
  name: string;
  kind: string;
  mac: string;
  mtu: number;
  up: boolean;
  addrs: string[];
  info?: Record<string, unknown>;
}

class FakeKernel implements CommandRunner {
  links = new Map<string, Link>();
  routes = new Map<string, { dst: string; via?: string; dev: string; onlink: boolean }>();
  neigh = new Map<string, { ip: string; lladdr: string; dev: string }>();
  fdb = new Map<string, { mac: string; dst: string; dev: string }>();
  ipt = new Set<string>();
  mutations: string[] = [];
  private macs = 0;

  constructor() {
    this.links.set('eth0', { name: 'eth0', kind: 'veth', mac: '02:00:00:00:00:aa', mtu: 1500, up: true, addrs: ['192.168.50.2/24'] });
  }

  private ok(stdout = ''): RunResult {
    return { code: 0, stdout, stderr: '' };
  }
  private fail(msg: string): RunResult {
    return { code: 1, stdout: '', stderr: msg };
  }

  async run(argv: string[]): Promise<RunResult> {
    const a = [...argv];
    const line = a.join(' ');
    const cmd = a.shift();
    if (cmd === 'iptables') {
      const op = a[2];
      const rule = [a[1], ...a.slice(3)].join(' ');
      if (op === '-C') return this.ipt.has(rule) ? this.ok() : this.fail('no rule');
      this.ipt.add(rule);
      this.mutations.push(line);
      return this.ok();
    }
    if (cmd === 'bridge') {
      // bridge -j fdb show dev X | bridge fdb replace MAC dev X dst IP self permanent | bridge fdb del ...
      if (a[0] === '-j') {
        const dev = a[4] as string;
        return this.ok(JSON.stringify([...this.fdb.values()].filter((f) => f.dev === dev).map((f) => ({ mac: f.mac, dst: f.dst, flags: ['self'], state: 'permanent' }))));
      }
      const [, verb, mac, , dev, , dst] = a;
      const k = `${dev} ${mac} ${dst}`;
      if (verb === 'replace') this.fdb.set(k, { mac: mac!, dst: dst!, dev: dev! });
      else if (!this.fdb.delete(k)) return this.fail('no entry');
      this.mutations.push(line);
      return this.ok();
    }
    if (cmd !== 'ip') return { code: 127, stdout: '', stderr: 'not found' };
    const json = a[0] === '-j';
    if (json) a.shift();
    if (a[0] === '-d') a.shift();
    const [obj, verb] = a;
    if (obj === 'link') {
      if (verb === 'show') {
        const l = this.links.get(a[3] as string);
        if (!l) return this.fail(`Device "${a[3]}" does not exist.`);
        return this.ok(JSON.stringify([{ ifname: l.name, ifindex: 1, flags: l.up ? ['UP'] : [], mtu: l.mtu, address: l.mac, linkinfo: { info_kind: l.kind, info_data: l.info } }]));
      }
      if (verb === 'add') {
        const name = a[2] as string;
        const kind = a[a.indexOf('type') + 1] as string;
        const info = kind === 'vxlan' ? { id: Number(a[a.indexOf('id') + 1]), local: a[a.indexOf('local') + 1], link: a[a.indexOf('dev') + 1], port: Number(a[a.indexOf('dstport') + 1]), learning: false } : {};
        this.links.set(name, { name, kind, mac: `0a:00:00:00:01:0${++this.macs}`, mtu: 1500, up: false, addrs: [], info });
      } else if (verb === 'set') {
        const l = this.links.get(a[2] as string)!;
        if (a[3] === 'mtu') l.mtu = Number(a[4]);
        if (a[3] === 'up') l.up = true;
      } else if (verb === 'del') this.links.delete(a[2] as string);
      this.mutations.push(line);
      return this.ok();
    }
    if (obj === 'addr') {
      const l = this.links.get(a[a.indexOf('dev') + 1] as string);
      if (!l) return this.fail('no device');
      if (verb === 'show') return this.ok(JSON.stringify([{ ifname: l.name, addr_info: l.addrs.map((x) => ({ family: 'inet', local: x.split('/')[0], prefixlen: Number(x.split('/')[1]) })) }]));
      if (verb === 'replace' && !l.addrs.includes(a[2] as string)) l.addrs.push(a[2] as string);
      if (verb === 'del') l.addrs = l.addrs.filter((x) => x !== a[2]);
      this.mutations.push(line);
      return this.ok();
    }
    if (obj === 'route') {
      if (verb === 'show') {
        const dev = a[3];
        return this.ok(JSON.stringify([...this.routes.values()].filter((r) => r.dev === dev).map((r) => ({ dst: r.dst, ...(r.via ? { gateway: r.via } : {}), flags: r.onlink ? ['onlink'] : [] }))));
      }
      const dst = a[2] as string;
      if (verb === 'replace') this.routes.set(dst, { dst, ...(a.includes('via') ? { via: a[a.indexOf('via') + 1] } : {}), dev: a[a.indexOf('dev') + 1] as string, onlink: a.includes('onlink') });
      else if (!this.routes.delete(dst)) return this.fail('no route');
      this.mutations.push(line);
      return this.ok();
    }
    if (obj === 'neigh') {
      if (verb === 'show') {
        const dev = a[3];
        return this.ok(JSON.stringify([...this.neigh.values()].filter((n) => n.dev === dev).map((n) => ({ dst: n.ip, lladdr: n.lladdr, state: ['PERMANENT'] }))));
      }
      const ip = a[2] as string;
      const dev = a[a.indexOf('dev') + 1] as string;
      if (verb === 'replace') this.neigh.set(`${dev} ${ip}`, { ip, lladdr: a[4] as string, dev });
      else if (!this.neigh.delete(`${dev} ${ip}`)) return this.fail('no neigh');
      this.mutations.push(line);
      return this.ok();
    }
    return this.fail(`fake kernel: unsupported ${line}`);
  }
}

const CFG = '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}';
const agents: Agent[] = [];

function agentFor(etcd: MemoryEtcd, kernel: FakeKernel, host: string, ip: string, dir: string): Agent {
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
  });
  const a = new Agent(cfg, { etcd, runner: kernel, log: process.env.AGENT_TEST_LOG ? { info: (m) => console.log(host, m), warn: (m) => console.log(host, 'WARN', m), error: (m) => console.log(host, 'ERROR', m), debug() {} } : silentLogger, skipSysctl: true });
  agents.push(a);
  return a;
}

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

describe('agent control loop (vxlan, in-memory etcd, fake kernel)', () => {
  it('programs peers, survives a restart without changes, and unprograms removed leases', async () => {
    const etcd = new MemoryEtcd();
    await etcd.put('/coreos.com/network/config', CFG);
    const k1 = new FakeKernel();
    const k2 = new FakeKernel();
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
    etcd.down = true;
    etcd.dropWatches();
    await new Promise((r) => setTimeout(r, 50));
    expect(k1.routes.has('10.244.5.0/24')).toBe(true); // data plane untouched
    etcd.down = false;
    await etcd.put('/coreos.com/network/subnets/10.244.6.0-24', '{"PublicIP":"192.168.50.6","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:00:00:00:00:06"}}');
    await new Promise((r) => setTimeout(r, 1300)); // first re-list after 1 s backoff
    await a1.settled();
    expect([...k1.routes.keys()].sort()).toEqual(['10.244.5.0/24', '10.244.6.0/24']);
  });
});
