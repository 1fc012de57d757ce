// The lab's record is written into its switch while the switch's own boot may be making the same
// directory (mkdir -p /etc/overlab/...): the engine's unpack then fails with "file exists" once.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { loadLabModel, saveLabModel } from '../../src/lab/lab-files.js';
import { engineError } from '../../src/runtime/engine-errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const serverError = (detail: string) => () => engineError('server', { engine: '/run/docker.sock', operation: 'copy files to', status: 500, detail });

describe('saveLabModel', () => {
  it('writes again when the container made the directory while the engine unpacked it', async () => {
    const runtime = new FakeRuntime();
    runtime.addContainer(lab.underlay.switchContainer, {});
    runtime.failOn('putTar', serverError('Error processing tar file(exit status 1): mkdir /etc/overlab: file exists'), { times: 1 });
    await saveLabModel(runtime, lab);
    expect(runtime.calls.filter((c) => c.method === 'putTar')).toHaveLength(2);
    expect((await loadLabModel(runtime, lab.underlay.switchContainer))?.name).toBe(lab.name);
  });

  it('does not hide any other failure of the engine', async () => {
    const runtime = new FakeRuntime();
    runtime.addContainer(lab.underlay.switchContainer, {});
    runtime.failOn('putTar', serverError('Error processing tar file(exit status 1): no space left on device'), { times: 1 });
    await expect(saveLabModel(runtime, lab)).rejects.toThrow(/no space left on device/);
    expect(runtime.calls.filter((c) => c.method === 'putTar')).toHaveLength(1);
  });
});
