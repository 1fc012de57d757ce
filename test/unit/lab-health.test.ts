// A lab's running nodes measured (lab-health.ts) on the fake runtime: restarts against the boot
// record, cables as the switch holds them, etcd's config; and what `up` makes of it (planRepair).
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { networkConfigValue } from '../../src/plan/overlay.js';
import { measureLabHealth, type NodeProblem } from '../../src/lab/lab-health.js';
import { labState } from '../../src/lab/lab-state.js';
import { recordBoots } from '../../src/lab/lab-files.js';
import { planRepair } from '../../src/core/lab-repair.js';
import type { ResolvedLab } from '../../src/plan/resolved-lab.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { network, twoHostSpec } from './lab-fixture.js';

const staticLab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const etcdLab = resolveLab(
  twoHostSpec({ networks: [network({ cidr: '10.244.0.0/16', backend: 'vxlan', controlPlane: 'etcd' })], externals: [] }),
  { takenSubnets: [] },
);

interface World {
  runtime: FakeRuntime;
  /** Port names the switch's `ip -j link` shows. */
  links: Set<string>;
  /** What etcd answers for a config key (undefined: etcd does not answer). */
  etcdConfig: string | undefined;
}

async function built(lab: ResolvedLab): Promise<World> {
  const runtime = new FakeRuntime();
  for (const spec of containerSpecs(lab, 'r1')) await runtime.createAndStart(spec);
  const nodes = [...lab.hosts.map((h) => h.name), ...lab.externals.map((e) => e.name)];
  const world: World = { runtime, links: new Set(['lo', 'underlay', ...nodes]), etcdConfig: lab.networks[0]!.controlPlane === 'etcd' ? networkConfigValue(lab.networks[0]!) : undefined };
  runtime.onExec(({ container, command }) => {
    if (container === lab.underlay.switchContainer && command.join(' ') === 'ip -j link show') return { stdout: JSON.stringify([...world.links].map((ifname) => ({ ifname }))) };
    if (command[0] === 'etcdctl') return world.etcdConfig === undefined ? { exitCode: 1, stderr: 'context deadline exceeded' } : { stdout: `${world.etcdConfig}\n` };
    return undefined;
  });
  const all = [{ node: 'switch', container: lab.underlay.switchContainer }, ...lab.hosts.map((h) => ({ node: h.name, container: h.container })), ...lab.externals.map((e) => ({ node: e.name, container: e.container }))];
  await recordBoots(runtime, lab.underlay.switchContainer, all, { replace: true });
  return world;
}

async function measure(lab: ResolvedLab, world: World): Promise<NodeProblem[]> {
  return measureLabHealth(world.runtime, lab, await world.runtime.list({ 'overlab.lab': lab.name }));
}

const marker = { run: 'r1', fingerprint: 'f', completedAt: '2026-12-01T00:00:00Z' };

describe('measured lab health', () => {
  it('a lab as built has no problem', async () => {
    const world = await built(staticLab);
    expect(await measure(staticLab, world)).toEqual([]);
  });

  it('a host whose container restarted (its cable gone) is named, with when and what is missing', async () => {
    const world = await built(staticLab);
    world.runtime.restart(staticLab.hosts[1]!.container);
    world.links.delete('host2');
    const problems = await measure(staticLab, world);
    expect(problems).toEqual([
      expect.objectContaining({ node: 'host2', kind: 'restarted', detail: expect.stringMatching(/^host2 restarted at \d\d:\d\d:\d\d \(after the lab was built\): its cable to the switch \(eth0 ↔ port host2\), addresses, bridges and pods are gone$/) }),
    ]);
    const state = labState({ containers: await world.runtime.list({ 'overlab.lab': staticLab.name }), model: staticLab, marker, health: problems });
    expect(state.status).toBe('degraded');
    expect(state.detail).toMatch(/^host2 restarted at/);
  });

  it('a cable gone without a restart is named too; a restarted switch is one problem, not one per node', async () => {
    const world = await built(staticLab);
    world.links.delete('router');
    expect((await measure(staticLab, world)).map((p) => `${p.node} ${p.kind}`)).toEqual(['router uncabled']);
    world.runtime.restart(staticLab.underlay.switchContainer);
    world.links = new Set(['lo']);
    expect((await measure(staticLab, world)).map((p) => `${p.node} ${p.kind}`)).toEqual(['switch switch-restarted']);
  });

  it("a routed underlay: a bridge per segment, a router's cable per segment", async () => {
    const racks = resolveLab(
      parseLabSpec(
        `name: racks
network: { cidr: 10.244.0.0/16, backend: bgp }
underlay:
  segments: [{ name: rack1 }, { name: rack2 }]
hosts:
  - { name: host1, segment: rack1, pods: [pod1] }
  - { name: host2, segment: rack2, pods: [pod1] }
nodes:
  - { name: tor, role: router, segments: [rack1, rack2] }
`,
        'racks.yaml',
      ),
      { takenSubnets: [] },
    );
    const world = await built(racks);
    const ports = [...racks.hosts, ...racks.externals].flatMap((n) => n.links!.map((l) => l.port));
    const bridges = racks.underlay.segments!.map((g) => g.bridge);
    world.links = new Set(['lo', ...bridges, ...ports]);
    expect(await measure(racks, world)).toEqual([]);
    world.links.delete('tor.1');
    expect(await measure(racks, world)).toEqual([expect.objectContaining({ node: 'tor', kind: 'uncabled', detail: "tor's cable to the switch (eth1 ↔ port tor.1) is gone" })]);
    world.links = new Set(['lo', bridges[0]!, ...ports]);
    expect(await measure(racks, world)).toEqual([expect.objectContaining({ node: 'switch', kind: 'switch-restarted', detail: `the switch lost its bridge "${bridges[1]}": its bridge and every node's cable are gone` })]);
  });

  it('etcd that lost its data, or does not answer', async () => {
    const world = await built(etcdLab);
    expect(await measure(etcdLab, world)).toEqual([]);
    world.etcdConfig = '';
    expect(await measure(etcdLab, world)).toEqual([
      { node: 'etcd', kind: 'etcd-data', detail: 'etcd lost its data: the network config /coreos.com/network/config is gone', networks: ['default'] },
    ]);
    world.etcdConfig = undefined;
    expect((await measure(etcdLab, world)).map((p) => p.detail)).toEqual(['etcd on etcd does not answer (context deadline exceeded)']);
  });

  it('a lab built before the boot record: its wiring is still measured', async () => {
    const world = await built(staticLab);
    world.runtime.containers.get(staticLab.underlay.switchContainer)!.files.delete('/etc/overlab/boots.json');
    world.runtime.restart(staticLab.hosts[0]!.container);
    world.links.delete('host1');
    expect((await measure(staticLab, world)).map((p) => `${p.node} ${p.kind}`)).toEqual(['host1 uncabled']);
  });
});

describe('planRepair', () => {
  const stateOf = async (lab: ResolvedLab, world: World) =>
    labState({ containers: await world.runtime.list({ 'overlab.lab': lab.name }), model: lab, marker, health: await measure(lab, world) });

  it('a restarted host is wired again in its own container; the rest is left alone', async () => {
    const world = await built(etcdLab);
    world.runtime.restart(etcdLab.hosts[1]!.container);
    world.links.delete('host2');
    const plan = planRepair(etcdLab, await stateOf(etcdLab, world));
    expect([...plan.nodes]).toEqual([['host2', { action: 'rewire', why: expect.stringMatching(/^it restarted at /) }]]);
    expect(plan.switch).toBeUndefined();
    expect(plan.seedEtcd).toEqual([]);
  });

  it('a host whose pods the CNI plugins attached is made anew (their state is in its files)', async () => {
    const cni = resolveLab(twoHostSpec({ networks: [network({ cidr: '10.244.0.0/16', backend: 'vxlan', controlPlane: 'etcd', podAttach: 'cni', bridge: 'cni0' })], externals: [] }), { takenSubnets: [] });
    const world = await built(cni);
    world.runtime.restart(cni.hosts[0]!.container);
    world.links.delete('host1');
    expect(planRepair(cni, await stateOf(cni, world)).nodes.get('host1')?.action).toBe('create');
  });

  it('gone → created, stopped → started, etcd emptied → its config seeded', async () => {
    const world = await built(etcdLab);
    await world.runtime.remove(etcdLab.hosts[0]!.container);
    world.runtime.containers.get(etcdLab.hosts[1]!.container)!.state = 'exited';
    world.etcdConfig = '';
    const plan = planRepair(etcdLab, await stateOf(etcdLab, world));
    expect(Object.fromEntries([...plan.nodes].map(([n, a]) => [n, a.action]))).toEqual({ host1: 'create', host2: 'start' });
    expect(plan.seedEtcd).toEqual(['default']);
  });

  it('a restarted switch: its bridge again, and every node made anew (each held the old switch)', async () => {
    const world = await built(staticLab);
    world.runtime.restart(staticLab.underlay.switchContainer);
    world.links = new Set(['lo']);
    const plan = planRepair(staticLab, await stateOf(staticLab, world));
    expect(plan.switch).toBe('rebridge');
    expect([...plan.nodes.values()].every((a) => a.action === 'create')).toBe(true);
    expect([...plan.nodes.keys()].sort()).toEqual(['host1', 'host2', 'outside', 'router']);
  });

  it('refuses what it cannot repair in place: containers the model does not know', async () => {
    const world = await built(staticLab);
    world.runtime.addContainer('overlab-demo-host9', { 'overlab.lab': 'demo', 'overlab.node': 'host9' });
    expect(planRepair(staticLab, await stateOf(staticLab, world)).refused).toMatch(/host9/);
  });
});
