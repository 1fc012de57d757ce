// A bigger flannel-vxlan lab than the seed labs, small enough for CI (12 hosts; bench/scale.mjs
// runs 64): `up` returns once every agent says it programmed every peer, and the kernels agree;
// etcd keeps its data on a tmpfs; peer syncs reuse the agents' long-lived batch processes; a host
// that joins, leaves and joins again under the same name is measured from its own lease both times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { overlab, overlabJson } from './harness.js';
import { parseAgentStats } from '../../src/shared/agent-stats.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';

const LAB = 'scale-ci';
const HOSTS = 12;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-scale-');
  await overlab(['down', LAB]);
});

afterAll(async () => {
  await overlab(['down', LAB]);
  await rm(dir, { recursive: true, force: true });
});

async function sh(container: string, script: string): Promise<string> {
  const r = await execa('docker', ['exec', container, 'sh', '-c', script], { reject: false });
  return r.stdout;
}

function spec(): string {
  return [
    `name: ${LAB}`,
    'network: { cidr: 10.244.0.0/16, backend: vxlan, controlPlane: etcd }',
    'hosts:',
    ...Array.from({ length: HOSTS }, (_, i) => `  - { name: host${i + 1}, pods: [pod1] }`),
    'checks:',
    `  - name: the first host's pod reaches the last host's`,
    `    ping: { from: host1/pod1, to: host${HOSTS}/pod1, expect: reachable }`,
    '',
  ].join('\n');
}

interface Joined {
  host: { networks: { subnet: string }[] };
  propagation: { ms: number; peers: number; measuredFrom: string }[];
}

describe(`a generated ${HOSTS}-host flannel-vxlan lab`, () => {
  it('comes up with every peer programmed on every host, and measures joins from their own lease', { timeout: 600_000 }, async () => {
    const file = `${dir}/${LAB}.yaml`;
    await writeFile(file, spec());
    const up = await overlab(['up', file]);
    expect(up.exitCode, up.stderr).toBe(0);

    const hosts = Array.from({ length: HOSTS }, (_, i) => `overlab-${LAB}-host${i + 1}`);
    for (const container of hosts) {
      const routes = JSON.parse(await sh(container, 'ip -j route show dev flannel.1')) as { dst: string }[];
      expect(routes.map((r) => r.dst).sort(), container).toHaveLength(HOSTS - 1);
      const stats = parseAgentStats(await sh(container, 'cat /run/overlab/agent-stats.json'));
      expect(stats?.peerSync?.failures, container).toBe(0);
      // three reads for the first full sync, then one ip and one bridge process kept for every sync
      expect(stats?.peerSync?.processes, container).toBeLessThanOrEqual(5);
      expect(await sh(container, 'ps -eo args')).toMatch(/^ip -force -batch -$/m);
    }
    expect((await sh(`overlab-${LAB}-etcd`, 'stat -f -c %T /var/lib/overlab-etcd')).trim()).toBe('tmpfs');

    const joins: Joined[] = [];
    for (let round = 0; round < 2; round++) {
      const add = await overlabJson<Joined>(['node', 'add', LAB, 'joiner', '--pods', 'pod1']);
      expect(add.exitCode, JSON.stringify(add.body)).toBe(0);
      joins.push(add.body.result);
      const subnet = add.body.result.host.networks[0]!.subnet;
      for (const container of hosts) expect(await sh(container, 'ip -j route show dev flannel.1'), container).toContain(`"dst":"${subnet}"`);
      const left = await overlabJson<{ propagation: { ms: number }[] }>(['node', 'rm', LAB, 'joiner']);
      expect(left.exitCode, JSON.stringify(left.body)).toBe(0);
      expect(left.body.result.propagation[0]!.ms).toBeGreaterThanOrEqual(0);
    }
    // the same name gets the same subnet again, and every peer's log holds its first join too
    expect(joins[1]!.host.networks[0]!.subnet).toBe(joins[0]!.host.networks[0]!.subnet);
    for (const join of joins) {
      expect(join.propagation).toEqual([expect.objectContaining({ peers: HOSTS, measuredFrom: 'agent logs: lease write sent → last peer programmed' })]);
      expect(join.propagation[0]!.ms).toBeGreaterThanOrEqual(0);
    }

    const verify = await overlabJson<VerifyReport>(['verify', LAB]);
    expect(verify.body.result.checks.filter((c) => c.status !== 'pass').map((c) => c.reason)).toEqual([]);
    expect((await overlab(['down', LAB])).exitCode).toBe(0);
  });
});
