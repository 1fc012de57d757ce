import { describe, expect, it } from 'vitest';
import { listLabStates } from '../../src/lab/engine-labs.js';
import { engineError } from '../../src/runtime/engine-errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const labels = (lab: string, node: string) => ({ 'overlab.lab': lab, 'overlab.node': node, 'overlab.role': node === 'switch' ? 'switch' : 'host', 'overlab.underlay': '192.168.50.0/24', 'overlab.spec': '/x.yaml' });

/** The engine's answer when a container's root filesystem went away under an archive read. */
const rootfsGone = (engine: string) =>
  engineError('server', { engine, operation: 'read', subject: 'file /etc/overlab/lab.json', status: 500, detail: 'error processing tar file: Error after fallback to chroot: no such file or directory: exit status 1' });

function twoLabs(): FakeRuntime {
  const runtime = new FakeRuntime();
  for (const lab of ['a', 'b']) {
    runtime.addContainer(`overlab-${lab}-switch`, labels(lab, 'switch'));
    runtime.addContainer(`overlab-${lab}-host1`, labels(lab, 'host1'));
  }
  return runtime;
}

describe('reading a lab\'s state while another process removes it', () => {
  it('reads the vanishing lab as having no model, and the other lab as it is', async () => {
    const runtime = twoLabs();
    // Another process's `down b` removes the switch between the listing and the read.
    runtime.failOn('readFile', () => {
      runtime.containers.delete('overlab-b-switch');
      return rootfsGone(runtime.endpoint);
    }, { when: (args) => args[0] === 'overlab-b-switch' });
    const states = await listLabStates(runtime);
    expect(states.map((s) => s.summary.name)).toEqual(['a', 'b']);
    expect(states[1]!.model).toBeUndefined();
    expect(states[1]!.state.status).toBe('incomplete');
  });

  it('reads again when one read fails on a container that stays (another process starting it)', async () => {
    const runtime = twoLabs();
    runtime.containers.get('overlab-b-switch')!.files.set('/etc/overlab/lab.json', Buffer.from(JSON.stringify({ name: 'b', hosts: [{ name: 'host1', container: 'overlab-b-host1' }], underlay: { switchContainer: 'overlab-b-switch' } })));
    runtime.failOn('readFile', () => rootfsGone(runtime.endpoint), { when: (args) => args[0] === 'overlab-b-switch', times: 1 });
    const states = await listLabStates(runtime);
    expect(states[1]!.model?.name).toBe('b');
    expect(runtime.calls.filter((c) => c.method === 'readFile' && c.args[0] === 'overlab-b-switch' && c.args[1] === '/etc/overlab/lab.json')).toHaveLength(2);
  });

  it('still reports the failure when the container is there and the engine fails anyway', async () => {
    const runtime = twoLabs();
    runtime.failOn('readFile', () => rootfsGone(runtime.endpoint), { when: (args) => args[0] === 'overlab-b-switch' });
    await expect(listLabStates(runtime)).rejects.toThrow(/no such file or directory/);
    // three reads of each of the two state files, then the engine's failure is the answer
    expect(runtime.calls.filter((c) => c.method === 'readFile' && c.args[0] === 'overlab-b-switch')).toHaveLength(6);
  });
});
