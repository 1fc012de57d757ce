// Labs built at the same time never choose the same underlay: the choice is held until the
// first lab's switch (with its underlay label) exists; and a lab that is up keeps its underlay.
import { describe, expect, it } from 'vitest';
import { chooseUnderlay } from '../../src/lab/underlay-choice.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { twoHostSpec } from './lab-fixture.js';

const signal = new AbortController().signal;

describe('the underlay choice', () => {
  it('a second lab waits for the first one\'s switch, then sees its underlay as taken', async () => {
    const runtime = new FakeRuntime();
    const first = await chooseUnderlay(runtime, 'lab-a', signal);
    const a = resolveLab(twoHostSpec({ name: 'lab-a' }), { takenSubnets: first.taken });
    let secondChose = false;
    const second = chooseUnderlay(runtime, 'lab-b', signal).then((c) => ((secondChose = true), c));
    await new Promise((r) => setTimeout(r, 300));
    expect(secondChose).toBe(false);
    // lab-a's switch starts: it carries the lab's underlay label.
    runtime.addContainer(a.underlay.switchContainer, { 'overlab.lab': 'lab-a', 'overlab.node': 'switch', 'overlab.role': 'switch', 'overlab.underlay': a.underlay.subnet });
    await first.release();
    const choice = await second;
    const b = resolveLab(twoHostSpec({ name: 'lab-b' }), { takenSubnets: choice.taken });
    await choice.release();
    expect(b.underlay.subnet).not.toBe(a.underlay.subnet);
  });

  it('a lab that is up keeps its underlay while nothing else takes it, even when a lower one is free', async () => {
    const spec = twoHostSpec();
    expect(resolveLab(spec, { takenSubnets: [] }).underlay.subnet).toBe('192.168.50.0/24');
    expect(resolveLab(spec, { takenSubnets: [], currentUnderlay: '192.168.52.0/24' }).underlay.subnet).toBe('192.168.52.0/24');
    expect(resolveLab(spec, { takenSubnets: ['192.168.52.0/24'], currentUnderlay: '192.168.52.0/24' }).underlay.subnet).toBe('192.168.50.0/24');
  });
});
