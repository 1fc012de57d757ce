// complete / degraded / building / incomplete, from containers, model, marker and lock holder.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { labState } from '../../src/lab/lab-state.js';
import type { ContainerSummary } from '../../src/runtime/runtime.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const containers = (state: (name: string) => string | undefined = () => 'running'): ContainerSummary[] =>
  containerSpecs(lab, 'r1').flatMap((s) => {
    const st = state(s.labels['overlab.node']!);
    return st ? [{ id: s.name, name: s.name, state: st, labels: s.labels }] : [];
  });
const marker = { run: 'r1', fingerprint: 'f', completedAt: '2026-12-01T00:00:00Z' };
const holder = { pid: 7, command: 'overlab up labs/demo.yaml', since: '2026-12-01T00:00:00Z' };

describe('labState', () => {
  it.each([
    ['complete', { containers: containers(), model: lab, marker }, 'every node is running (5 containers)'],
    ['degraded', { containers: containers((n) => (n === 'host2' ? undefined : n === 'outside' ? 'paused' : 'running')), model: lab, marker }, 'host2 is missing; outside is paused (paused)'],
    ['building', { containers: containers(), model: lab, holder }, 'being changed by pid 7 (`overlab up labs/demo.yaml`)'],
    ['incomplete', { containers: containers(), model: lab }, 'an `up` did not finish: no completion marker'],
    ['incomplete', { containers: containers((n) => (n === 'router' ? 'created' : 'running')) }, 'an `up` did not finish: the switch holds no lab model'],
    ['incomplete', { containers: containers((n) => (n === 'switch' ? undefined : 'running')) }, 'an `up` did not finish: the switch container is missing'],
    ['incomplete', { containers: containers(), model: lab, marker: { ...marker, run: 'r0' } }, 'an `up` did not finish: no completion marker'],
    ['incomplete', { containers: containers(), marker }, "the switch's lab model is missing or unreadable"],
    // node add rewriting the model: a read in the middle of it finds no model
    ['building', { containers: containers(), marker, holder }, 'being changed by pid 7 (`overlab up labs/demo.yaml`)'],
  ] as const)('%s: %s', (status, input, detail) => {
    const state = labState(input);
    expect(state.status).toBe(status);
    expect(state.detail).toBe(detail);
  });

  it('names containers the model does not know', () => {
    const extra: ContainerSummary = { id: 'x', name: 'overlab-demo-host9', state: 'running', labels: { 'overlab.lab': 'demo', 'overlab.node': 'host9' } };
    const state = labState({ containers: [...containers(), extra], model: lab, marker });
    expect(state).toMatchObject({ status: 'degraded', extra: ['host9'], detail: "host9 is not part of the lab's model" });
  });

  it('reports a holder even on a complete lab (node add running)', () => {
    expect(labState({ containers: containers(), model: lab, marker, holder })).toMatchObject({ status: 'complete', heldBy: holder });
  });
});
