// A file replaced whole while the engine reads it through the archive API comes back torn (the
// old file's size, the new file's bytes): such a read is read again. On the in-memory runtime,
// whose readFile hands out a torn copy first. (The agent's stats: deploy-agents-wait.test.ts.)
import { describe, expect, it } from 'vitest';
import { readReplacedFile } from '../../src/runtime/replaced-file.js';
import { readDaemonStatus } from '../../src/deploy/node-daemons.js';
import { daemonStatusFile } from '../../src/plan/node-init.js';
import { agentFiles, hostSubnet } from '../../src/plan/overlay.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import type { ResolvedHost } from '../../src/plan/resolved-lab.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { network, twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec({ networks: [network({ backend: 'udp', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] }), { takenSubnets: [] });
const net = lab.networks[0]!;
const [host1, host2] = lab.hosts as [ResolvedHost, ResolvedHost];
const statsPath = agentFiles(lab, net).stats;

/** host1's agent's stats, knowing host2, as its writer renames them into place. */
const whole = JSON.stringify({ host: 'host1', subnet: hostSubnet(host1, net), peers: [{ subnet: hostSubnet(host2, net), publicIp: host2.underlayIp, backendType: 'udp' }] }, null, 2) + '\n';
/** What the engine sent once: the entry sized by the file it found, filled from the one renamed over it. */
const torn = whole.slice(0, whole.length - 40);

/** The file reads torn `tornReads` times, then whole. */
function runtimeWithTornReads(tornReads: number): { runtime: FakeRuntime; reads: () => number } {
  const runtime = new FakeRuntime();
  const c = runtime.addContainer(host1.container, { 'overlab.lab': lab.name });
  let reads = 0;
  runtime.before = (method, args) => {
    if (method !== 'readFile' || args[1] !== statsPath) return;
    reads++;
    c.files.set(statsPath, Buffer.from(reads <= tornReads ? torn : whole));
  };
  return { runtime, reads: () => reads };
}

describe('a file replaced whole, read through the archive API', () => {
  it('is read again when its text is torn, and returned once whole', async () => {
    const { runtime, reads } = runtimeWithTornReads(1);
    const text = await readReplacedFile(runtime, host1.container, statsPath, (t) => t.endsWith('}\n'));
    expect(text).toBe(whole);
    expect(reads()).toBe(2);
  });

  it('gives up after its tries and returns the last text for the caller to judge', async () => {
    const { runtime, reads } = runtimeWithTornReads(10);
    expect(await readReplacedFile(runtime, host1.container, statsPath, (t) => t.endsWith('}\n'), { tries: 3 })).toBe(torn);
    expect(reads()).toBe(3);
  });

  it('a whole text is read once', async () => {
    const { runtime, reads } = runtimeWithTornReads(0);
    await readReplacedFile(runtime, host1.container, statsPath, (t) => t.endsWith('}\n'));
    expect(reads()).toBe(1);
  });

  it("a daemon's status, replaced by its supervisor (mv), is not read as no status when torn", async () => {
    const runtime = new FakeRuntime();
    const c = runtime.addContainer(host1.container, { 'overlab.lab': lab.name });
    const status = 'pid=42 starts=1 want=up state=running exit=none\n';
    let reads = 0;
    runtime.before = (method, args) => {
      if (method === 'readFile' && args[1] === daemonStatusFile('etcd')) c.files.set(daemonStatusFile('etcd'), Buffer.from(++reads === 1 ? status.slice(0, 30) : status));
    };
    expect(await readDaemonStatus(runtime, host1.container, 'etcd')).toMatchObject({ pid: 42, state: 'running' });
    expect(reads).toBe(2);
  });

  it('a file that is not there is still an error for the caller', async () => {
    const runtime = new FakeRuntime();
    runtime.addContainer(host1.container, { 'overlab.lab': lab.name });
    await expect(readReplacedFile(runtime, host1.container, statsPath, () => true)).rejects.toThrow(/agent-stats.json/);
  });
});
