// Repair in place of a lab across engines (lab-repair.ts), on the fake runtime: a node is wired
// again through the switch of its own engine, which hands it its namespace; the primary's switch,
// which it never asks, is not told to wait for it. A switch that needs repair is still refused.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { labState } from '../../src/lab/lab-state.js';
import type { NodeProblem } from '../../src/lab/lab-health.js';
import { planRepair, repairPhases } from '../../src/core/lab-repair.js';
import { DAEMON_STATE_DIR } from '../../src/plan/node-init.js';
import { NETNS_SHARE } from '../../src/plan/node-plans.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const lab = resolveLab(
  parseLabSpec(
    `name: spread
engines:
  a: { host: unix:///var/run/docker.sock }
  b: { host: ssh://me@10.0.0.2 }
network: { backend: vxlan }
hosts:
  - { name: h1, pods: [p1] }
  - { name: h2, pods: [p1] }
  - { name: h3, pods: [p1] }
`,
    '/labs/spread.yaml',
  ),
  { takenSubnets: [] },
);
const [a, b] = lab.engines!;
const marker = { run: 'r1', fingerprint: 'f', completedAt: '2026-12-01T00:00:00Z' };
const restarted = (node: string): NodeProblem => ({ node, kind: 'restarted', since: '2026-12-01T01:00:00Z', detail: `${node} restarted` });

async function built(): Promise<FakeRuntime> {
  const runtime = new FakeRuntime();
  for (const spec of containerSpecs(lab, 'r1')) {
    await runtime.createAndStart(spec);
    // Each node's supervisor listens (what wakeDaemons waits for).
    runtime.containers.get(spec.name)!.files.set(`${DAEMON_STATE_DIR}/init.pid`, Buffer.from('1\n'));
  }
  return runtime;
}

/** Which switch was told to hand its namespace over, how many times. */
const handOvers = (runtime: FakeRuntime) =>
  runtime.calls.filter((c) => c.method === 'execDetached' && (c.args[1] as string[])[0] === NETNS_SHARE).map((c) => `${c.args[0] as string} ${(c.args[1] as string[])[3]}`);

describe('repair in place across engines', () => {
  it("wires a host on the second engine again through that engine's switch", async () => {
    expect(lab.hosts.map((h) => h.engine)).toEqual([a!.name, b!.name, a!.name]);
    const runtime = await built();
    const state = labState({ containers: await runtime.list({ 'overlab.lab': lab.name }), model: lab, marker, health: [restarted('h2'), restarted('h3')] });
    const plan = planRepair(lab, state);
    expect(plan.refused).toBeUndefined();
    expect([...plan.nodes.keys()]).toEqual(['h2', 'h3']);
    const repair = repairPhases(runtime, lab, plan, 'r2').phases.find((p) => p.title.startsWith('Repair'))!;
    await repair.run(new AbortController().signal);
    expect(handOvers(runtime).sort()).toEqual([`${a!.switchContainer} 1`, `${b!.switchContainer} 1`].sort());
  });

  it('refuses when a switch needs repair: the engines would have to be stitched again', async () => {
    const containers = await (await built()).list({ 'overlab.lab': lab.name });
    for (const health of [[{ node: 'switch', kind: 'switch-restarted', detail: 'x' } as NodeProblem], [restarted(`switch-${b!.name}`)]]) {
      const plan = planRepair(lab, labState({ containers, model: lab, marker, health }));
      expect(plan.refused).toMatch(/several engines and its switch .* needs repair/);
    }
  });
});
