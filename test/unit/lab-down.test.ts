// downLab through the CLI's routed runtime: a lab on one engine is removed from one listing,
// without reading its model from the switch (an archive read, a third of `down`'s own time); a
// lab across engines, whose containers carry their engine's label, still has its model read, and
// every engine's share goes.
import { describe, expect, it } from 'vitest';
import { downLab } from '../../src/core/lab-down.js';
import { LAB_MODEL_FILE, LABEL_LAB, LABEL_NODE, SWITCH_NODE } from '../../src/plan/container-names.js';
import { LABEL_ENGINE, RoutedRuntime } from '../../src/runtime/routed-runtime.js';
import { FakeRuntime } from '../support/fake-runtime.js';

describe('downLab through the command\'s engine', () => {
  it('a lab on one engine: every container and the share go, and no file is read', async () => {
    const engine = new FakeRuntime();
    engine.addContainer('overlab-one-switch', { [LABEL_LAB]: 'one', [LABEL_NODE]: SWITCH_NODE });
    engine.addContainer('overlab-one-h1', { [LABEL_LAB]: 'one', [LABEL_NODE]: 'h1' });
    engine.addContainer('overlab-two-h1', { [LABEL_LAB]: 'two', [LABEL_NODE]: 'h1' });
    const routed = new RoutedRuntime([{ name: '', runtime: engine }], () => new FakeRuntime());
    const result = await downLab(routed, 'one');
    expect(result.removed).toEqual(['overlab-one-h1', 'overlab-one-switch']);
    expect([...engine.containers.keys()]).toEqual(['overlab-two-h1']);
    expect(engine.calls.map((c) => c.method)).not.toContain('readFile');
    expect(engine.calls.map((c) => c.method)).toContain('removeVolumes');
  });

  it('a lab across engines (its containers labelled with their engine): its model is read and both engines\' containers go', async () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    const engines = [
      { name: 'a', host: 'unix:///run/a.sock', switchContainer: 'overlab-spread-switch' },
      { name: 'b', host: 'ssh://me@10.0.0.2', switchContainer: 'overlab-spread-switch-b' },
    ];
    const labelled = (node: string, engine: string) => ({ [LABEL_LAB]: 'spread', [LABEL_NODE]: node, [LABEL_ENGINE]: engine });
    const primarySwitch = a.addContainer('overlab-spread-switch', labelled(SWITCH_NODE, 'a'));
    primarySwitch.files.set(LAB_MODEL_FILE, Buffer.from(JSON.stringify({ name: 'spread', engines, hosts: [{ name: 'h1', container: 'overlab-spread-h1', engine: 'a' }, { name: 'h2', container: 'overlab-spread-h2', engine: 'b' }], externals: [] })));
    a.addContainer('overlab-spread-h1', labelled('h1', 'a'));
    b.addContainer('overlab-spread-switch-b', labelled(SWITCH_NODE, 'b'));
    b.addContainer('overlab-spread-h2', labelled('h2', 'b'));
    const routed = new RoutedRuntime([{ name: '', runtime: a }], (e) => (e.name === 'b' ? b : new FakeRuntime()));
    const result = await downLab(routed, 'spread');
    expect(result.removed).toEqual(['overlab-spread-h1', 'overlab-spread-h2', 'overlab-spread-switch', 'overlab-spread-switch-b']);
    expect(a.containers.size + b.containers.size).toBe(0);
    expect(a.calls.map((c) => c.method)).toContain('readFile');
  });
});
