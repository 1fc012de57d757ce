// The up phases, the completion marker, rollback by run id and "already up" — on the in-memory
// runtime, without Docker.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { rollbackRun, upWithRollback, refuseExisting } from '../../src/core/lab-up.js';
import { existingLab, existingLabError } from '../../src/core/existing-lab.js';
import { upPhases } from '../../src/core/up-phases.js';
import { listrProgress } from '../../src/cli/progress.js';
import { loadLabModel, readBoots, readCompletion } from '../../src/lab/lab-files.js';
import { openLab, findLab, requireRunningLab } from '../../src/lab/engine-labs.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { LAB_MODEL_FILE } from '../../src/plan/container-names.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const SWITCH = 'overlab-demo-switch';
const ALL = ['overlab-demo-host1', 'overlab-demo-host2', 'overlab-demo-outside', 'overlab-demo-router', SWITCH];

async function runAll(runtime: FakeRuntime, run: string, signal = new AbortController().signal): Promise<void> {
  for (const phase of upPhases(runtime, lab, run)) await phase.run(signal);
}

describe('up phases', () => {
  it('label every container with the run id, keep the model in the switch and mark the lab complete last', async () => {
    const runtime = new FakeRuntime();
    await runAll(runtime, 'run-1');
    expect(runtime.names()).toEqual(ALL);
    for (const c of runtime.containers.values()) expect(c.labels['overlab.run']).toBe('run-1');
    // The lab's share carries the run id too; the switch's own command makes its bridge and hands
    // its namespace to the 4 other nodes (no exec in the switch).
    expect([...runtime.volumes]).toEqual([['overlab-demo-share', { 'overlab.lab': 'demo', 'overlab.run': 'run-1' }]]);
    expect(runtime.containers.get(SWITCH)!.spec.command.slice(-2)).toEqual(['4', lab.underlay.bridge]);
    expect(runtime.calls.filter((c) => ['exec', 'execDetached'].includes(c.method) && c.args[0] === SWITCH)).toEqual([]);
    expect(JSON.parse(runtime.file(SWITCH, LAB_MODEL_FILE)!)).toEqual(lab);
    expect(await loadLabModel(runtime, SWITCH)).toEqual(lab);
    expect(await readCompletion(runtime, SWITCH)).toMatchObject({ run: 'run-1' });
    // The marker is the very last thing written, the boot record just before it in the same archive.
    const writes = runtime.calls.filter((c) => ['createVolume', 'create', 'start', 'createAndStart', 'exec', 'execDetached', 'putTar'].includes(c.method));
    expect(writes.at(-1)).toEqual({ method: 'putTar', args: [SWITCH, '/etc', ['overlab/', 'overlab/boots.json', 'overlab/complete.json']] });
    expect(Object.keys((await readBoots(runtime, SWITCH))!.nodes).sort()).toEqual(['host1', 'host2', 'outside', 'router', 'switch']);
    const summary = (await findLab(runtime, 'demo'))!;
    expect((await openLab(runtime, summary)).state.status).toBe('complete');
    expect((await existingLab(runtime, lab)).kind).toBe('same');
  });

  it('find another lab\'s container with one of this lab\'s names before creating anything (exit 2)', async () => {
    const runtime = new FakeRuntime();
    runtime.addContainer('overlab-demo-host2', { 'overlab.lab': 'demo-x', 'overlab.node': 'host2' });
    const error = await runAll(runtime, 'run-1').catch((e: unknown) => e as Error);
    expect(exitCodeFor(error)).toBe(2);
    expect((error as Error).message).toBe('container overlab-demo-host2, which lab demo needs for its node host2, already belongs to lab demo-x (its node host2)');
    expect(runtime.calls.filter((c) => ['createVolume', 'create', 'createAndStart'].includes(c.method))).toEqual([]);
  });

  it('name a foreign container that holds a name', async () => {
    const runtime = new FakeRuntime();
    runtime.addContainer(SWITCH, {});
    const error = (await runAll(runtime, 'run-1').catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('already belongs to a container overlab did not make');
  });
});

describe('rollback by run id', () => {
  it('removes what this run made and nothing of a concurrent run', async () => {
    const runtime = new FakeRuntime();
    // Another run of the same lab already made a container (it never gets to the rest).
    runtime.addContainer('overlab-demo-router', { 'overlab.lab': 'demo', 'overlab.node': 'router', 'overlab.run': 'other-run' });
    const error = await upWithRollback(runtime, lab, new AbortController().signal, listrProgress('silent'), 'run-2').catch((e: unknown) => e as Error);
    // Its own create of the router collides: the engine says conflict, the run rolls back.
    expect(error).toBeInstanceOf(Error);
    expect(runtime.names()).toEqual(['overlab-demo-router']);
    expect(runtime.containers.get('overlab-demo-router')!.labels['overlab.run']).toBe('other-run');
  });

  it('removes everything of a run whose wiring failed, with the wiring error', async () => {
    const runtime = new FakeRuntime().onExec(({ container }) => (container === 'overlab-demo-host2' ? { exitCode: 1, stderr: '+ ip link add docker0 type bridge\nRTNETLINK answers: Operation not permitted\n' } : undefined));
    const error = (await upWithRollback(runtime, lab, new AbortController().signal, listrProgress('silent'), 'run-3').catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('wiring host2 failed');
    expect(runtime.names()).toEqual([]);
    expect(runtime.volumes.size).toBe(0);
  });

  it('on Ctrl-C removes what was made and says nothing was left', async () => {
    const runtime = new FakeRuntime();
    const controller = new AbortController();
    runtime.before = (method, args) => {
      if (method === 'createAndStart' && (args[0] as { name: string }).name === 'overlab-demo-host2') controller.abort();
    };
    const error = (await upWithRollback(runtime, lab, controller.signal, listrProgress('silent'), 'run-4').catch((e: unknown) => e)) as Error & { hint?: string };
    expect(exitCodeFor(error)).toBe(130);
    expect(error.hint).toBe('nothing of lab demo was left behind');
    expect(runtime.names()).toEqual([]);
    expect(runtime.volumes.size).toBe(0);
  });

  it('says so when the engine cannot be asked to clean up', async () => {
    const runtime = new FakeRuntime();
    runtime.failOn('list', new Error('engine gone'));
    expect(await rollbackRun(runtime, 'demo', 'run-5')).toMatchObject({ removed: [], clean: false });
  });
});

describe('what is already there', () => {
  it('a killed up (no marker) is unfinished, never "same"', async () => {
    const runtime = new FakeRuntime();
    const phases = upPhases(runtime, lab, 'run-6');
    for (const phase of phases.slice(0, -1)) await phase.run(new AbortController().signal);
    const existing = await existingLab(runtime, lab);
    expect(existing.kind).toBe('unfinished');
    const error = existingLabError(lab, existing as Exclude<typeof existing, { kind: 'absent' | 'same' }>, 'labs/demo.yaml');
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toBe('lab "demo" is only partly there: an `up` did not finish: no completion marker');
    expect(error.hint).toContain('overlab up labs/demo.yaml --recreate');
    await expect(requireRunningLab(runtime, 'demo')).rejects.toMatchObject({ kind: 'environment', message: expect.stringContaining('is not whole') });
  });

  it('a complete lab that lost a node or has one stopped is degraded, with the names, and up would repair it', async () => {
    const runtime = new FakeRuntime();
    await runAll(runtime, 'run-7');
    runtime.containers.delete('overlab-demo-host2');
    runtime.containers.get('overlab-demo-router')!.state = 'exited';
    const existing = await existingLab(runtime, lab);
    expect(existing).toMatchObject({ kind: 'degraded', state: { status: 'degraded', missing: ['host2'], stopped: [{ node: 'router', state: 'exited' }] } });
    expect(refuseExisting('labs/demo.yaml')(existing as never, lab)).toBe('repair');
    expect((existing as { state: { detail: string } }).state.detail).toBe('host2 is missing; router is stopped (exited)');
    expect(await requireRunningLab(runtime, 'demo', { acceptDegraded: true })).toEqual(lab);
    await expect(requireRunningLab(runtime, 'demo')).rejects.toMatchObject({ message: 'lab "demo" is degraded: host2 is missing; router is stopped (exited)' });
  });

  it('a whole lab from another spec is different (exit 2)', async () => {
    const runtime = new FakeRuntime();
    await runAll(runtime, 'run-8');
    const other = resolveLab(twoHostSpec({ description: 'changed' }), { takenSubnets: [] });
    const existing = await existingLab(runtime, other);
    expect(existing).toMatchObject({ kind: 'different', reasons: ['it was built from a different spec (or another version of this one)'] });
    expect(exitCodeFor(existingLabError(other, existing as never, 'x.yaml'))).toBe(2);
  });

  it('is absent when nothing carries the lab label', async () => {
    expect((await existingLab(new FakeRuntime(), lab)).kind).toBe('absent');
  });
});

describe('names inside one lab', () => {
  it('refuse a node named like one overlab adds itself before creating anything (exit 2)', async () => {
    const clashing = resolveLab(twoHostSpec({ externals: [{ name: 'switch', role: 'outside' }] }), { takenSubnets: [] });
    const runtime = new FakeRuntime();
    const error = (await upPhases(runtime, clashing, 'r')[0]!.run(new AbortController().signal).catch((e: unknown) => e)) as Error;
    expect(exitCodeFor(error)).toBe(2);
    expect(error.message).toBe('outside "switch" would be container overlab-demo-switch, which is the lab\'s underlay switch');
    expect(runtime.calls.filter((c) => c.method === 'createAndStart')).toEqual([]);
  });
});
