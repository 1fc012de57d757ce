// Unit-level scale harness for the agent: one agent (vxlan) among 64 hosts, against the in-memory
// etcd and the recording fake kernel (test/unit/agent-fake-kernel.ts). Counts, per scenario, the
// processes the agent starts, the kernel commands they carry, the etcd requests it makes, and the
// wall time — with no process cost, and with a simulated cost per process (what a fork+exec of
// `ip` costs inside a loaded container: ~100 ms was measured in a 64-host lab).
//
//   npx vite-node scripts/dev/agent-scale.ts [-- --peers 63 --cost-ms 100 --src src/agent]
//
// --no-underlay leaves underlayCidr out of the config (older agents do not know the key).
// --src points at another copy of src/agent (e.g. an older commit extracted with `git archive`)
// so the same scenarios measure before and after a change.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { EtcdClient } from '../../src/agent/etcd/types.js';
import { MemoryEtcd } from '../../test/support/etcd-memory.js';
import { FakeKernel } from '../../test/unit/agent-fake-kernel.js';

const { values } = parseArgs({
  options: { peers: { type: 'string', default: '63' }, 'cost-ms': { type: 'string', default: '100' }, src: { type: 'string', default: 'src/agent' }, 'no-underlay': { type: 'boolean', default: false } },
});
const PEERS = Number(values.peers);
const COST_MS = Number(values['cost-ms']);
const SRC = resolve(values.src as string);

// The agent's modules from --src (typed as this tree's); the in-memory etcd is the test double's.
const { Agent } = (await import(join(SRC, 'agent.ts'))) as typeof import('../../src/agent/agent.js');
const { validateAgentConfig } = (await import(join(SRC, 'config.ts'))) as typeof import('../../src/agent/config.js');
const { silentLogger } = (await import(join(SRC, 'log.ts'))) as typeof import('../../src/agent/log.js');

const PREFIX = '/coreos.com/network';
const CFG = '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}';
const hex = (n: number) => n.toString(16).padStart(2, '0');
const peerKey = (i: number) => `${PREFIX}/subnets/10.244.${i + 1}.0-24`;
const peerValue = (i: number, macTail = 0) =>
  JSON.stringify({ PublicIP: `192.168.50.${i + 2}`, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: `0a:00:00:00:${hex(macTail)}:${hex(i)}` } });

interface Counted {
  etcd: EtcdClient;
  calls: number;
}

/** The in-memory etcd behind a proxy that counts the agent's requests. */
function countingEtcd(real: EtcdClient): Counted {
  const c: Counted = { etcd: real, calls: 0 };
  c.etcd = new Proxy(real, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || prop === 'close') return v;
      return (...args: unknown[]) => {
        c.calls++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return c;
}

function newAgent(etcd: EtcdClient, kernel: FakeKernel, dir: string) {
  const cfg = validateAgentConfig({
    host: 'host1',
    publicIp: '192.168.50.2',
    ...(values['no-underlay'] ? {} : { underlayCidr: '192.168.50.0/24' }),
    etcdEndpoints: ['http://192.168.50.250:2379'],
    leaseTtlSeconds: 3600,
    logFile: join(dir, 'agent.log'),
    subnetEnvFile: join(dir, 'subnet.env'),
    statsFile: join(dir, 'stats.json'),
    statsIntervalMs: 3_600_000,
    pidFile: join(dir, 'agent.pid'),
  });
  return new Agent(cfg, { etcd, runner: kernel, log: silentLogger, skipSysctl: true });
}

interface Row {
  scenario: string;
  processes: number;
  commands: number;
  etcd: number;
  ms: number;
}

async function measure(scenario: string, kernel: FakeKernel, counted: Counted, fn: () => Promise<void>): Promise<Row> {
  kernel.resetCounters();
  counted.calls = 0;
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  return { scenario, processes: kernel.processes.length, commands: kernel.commands, etcd: counted.calls, ms };
}

async function scenarios(costMs: number): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'agent-scale-'));
  // (1) start among PEERS hosts whose leases are already there, empty kernel: program all
  {
    const mem = new MemoryEtcd();
    await mem.put(`${PREFIX}/config`, CFG);
    for (let i = 1; i <= PEERS; i++) await mem.put(peerKey(i), peerValue(i));
    const kernel = new FakeKernel();
    kernel.costMs = costMs;
    const counted = countingEtcd(mem);
    let agent = newAgent(counted.etcd, kernel, dir);
    rows.push(await measure(`start, ${PEERS} peers to program`, kernel, counted, async () => {
      await agent.start();
      await agent.settled();
    }));
    if (kernel.routes.size !== PEERS) throw new Error(`expected ${PEERS} routes, kernel has ${kernel.routes.size}`);
    await agent.stop();
    // (2) restart: everything is in place, a full re-sync changes nothing
    agent = newAgent(counted.etcd, kernel, dir);
    rows.push(await measure(`restart, ${PEERS} peers in place (full re-sync)`, kernel, counted, async () => {
      await agent.start();
      await agent.settled();
    }));
    if (kernel.mutations.length !== 0) throw new Error(`a restart changed the kernel: ${kernel.mutations.length} mutations`);
    await agent.stop();
    // (3) restart after every peer re-created its VTEP (new MACs): replace all
    for (let i = 1; i <= PEERS; i++) await mem.put(peerKey(i), peerValue(i, 1));
    agent = newAgent(counted.etcd, kernel, dir);
    rows.push(await measure(`restart, ${PEERS} peers changed MAC (full re-sync)`, kernel, counted, async () => {
      await agent.start();
      await agent.settled();
    }));
    await agent.stop();
  }
  // (4) alone first, then peers join one after another (the agent settles between joins)
  // (5) … or all in one burst (no await between the puts)
  for (const burst of [false, true]) {
    const mem = new MemoryEtcd();
    await mem.put(`${PREFIX}/config`, CFG);
    const kernel = new FakeKernel();
    kernel.costMs = costMs;
    const counted = countingEtcd(mem);
    const agent = newAgent(counted.etcd, kernel, dir);
    await agent.start();
    await agent.settled();
    rows.push(await measure(burst ? `${PEERS} peers join in one burst` : `${PEERS} peers join one by one`, kernel, counted, async () => {
      if (burst) await Promise.all(Array.from({ length: PEERS }, (_, i) => mem.put(peerKey(i + 1), peerValue(i + 1))));
      else {
        for (let i = 1; i <= PEERS; i++) {
          await mem.put(peerKey(i), peerValue(i));
          await agent.settled();
        }
      }
      await agent.settled();
    }));
    if (kernel.routes.size !== PEERS) throw new Error(`expected ${PEERS} routes, kernel has ${kernel.routes.size}`);
    await agent.stop();
  }
  return rows;
}

function print(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  const w = Math.max(...rows.map((r) => r.scenario.length));
  console.log(`${'scenario'.padEnd(w)}  processes  commands  etcd req  wall ms`);
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(w)}  ${String(r.processes).padStart(9)}  ${String(r.commands).padStart(8)}  ${String(r.etcd).padStart(8)}  ${r.ms.toFixed(1).padStart(7)}`);
  }
}

console.log(`agent scale harness: ${SRC}, 1 agent + ${PEERS} peers (vxlan)`);
print('no process cost (the agent\'s own CPU time)', await scenarios(0));
if (COST_MS > 0) print(`${COST_MS} ms per process (simulated fork+exec under load)`, await scenarios(COST_MS));
