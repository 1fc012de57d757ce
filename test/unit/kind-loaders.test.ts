// Reading a spec loads only the kinds it names (src/lab-loader/kind-loaders.ts): the table of
// loaders keeps the registries' keys and order, and a spec read that way is the spec read with
// every kind (the same LabSpec, the same issues).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_KINDS } from '../../src/checks/check-kinds.js';
import { FAULT_KINDS } from '../../src/faults/fault-kinds.js';
import { CHECK_KIND_LOADERS, FAULT_KIND_LOADERS, kindsUsedBy } from '../../src/lab-loader/kind-loaders.js';
import { parseSpecText } from '../../src/lab-loader/load.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { SpecError } from '../../src/lab-spec/spec-error.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the kind loaders', () => {
  it('name every check kind of the registry, in its order, each loading the registry\'s own kind', async () => {
    expect(CHECK_KIND_LOADERS.map(([key]) => key)).toEqual(CHECK_KINDS.map((k) => k.key));
    const loaded = await Promise.all(CHECK_KIND_LOADERS.map(([, load]) => load()));
    loaded.forEach((kind, i) => expect(kind).toBe(CHECK_KINDS[i]));
  });

  it('name every fault kind of the registry, in its order, each loading the registry\'s own kind', async () => {
    expect(FAULT_KIND_LOADERS.map(([key]) => key)).toEqual(FAULT_KINDS.map((k) => k.key));
    const loaded = await Promise.all(FAULT_KIND_LOADERS.map(([, load]) => load()));
    loaded.forEach((kind, i) => expect(kind).toBe(FAULT_KINDS[i]));
  });

  it('load the kinds the entries name, in the registries\' order, and no other', async () => {
    const kinds = await kindsUsedBy({
      checks: [{ name: 'b', capture: {} }, { name: 'a', ping: {} }, { name: 'c', ping: {}, trace: {} }, null, 'x'],
      faults: [{ loss: {} }, { 'link-down': {} }],
    });
    expect(kinds.checks.map((k) => k.key)).toEqual(['ping', 'capture', 'trace']);
    expect(kinds.faults.map((k) => k.key)).toEqual(['link-down', 'loss']);
    expect(await kindsUsedBy({})).toEqual({ checks: [], faults: [] });
  });
});

describe('a spec read with only its own kinds', () => {
  const labs = readdirSync(join(ROOT, 'labs')).filter((f) => f.endsWith('.yaml'));

  it.each(labs)('%s: the same LabSpec as with every kind', async (name) => {
    const text = readFileSync(join(ROOT, 'labs', name), 'utf8');
    expect(await parseSpecText(text, name, name)).toEqual(parseLabSpec(text, name));
  });

  it('the same issues as with every kind, a kind\'s own among them', async () => {
    const text = [
      'name: x',
      'hosts: [{ name: host1, pods: [pod1] }, { name: host2, pods: [pod1] }]',
      'checks:',
      '  - { name: a, ping: { from: host1/pod9, to: host2/pod1 } }',
      '  - { name: a, trace: { from: host1/pod1, to: nowhere/pod1 } }',
      'faults:',
      '  - { loss: { on: host3:eth0, percent: 10 } }',
      '',
    ].join('\n');
    const issues = async (read: () => unknown) => {
      try {
        await read();
      } catch (e) {
        if (e instanceof SpecError) return e.issues;
        throw e;
      }
      throw new Error('the spec was accepted');
    };
    const lazy = await issues(() => parseSpecText(text, 'x.yaml', 'x.yaml'));
    expect(lazy).toEqual(await issues(() => parseLabSpec(text, 'x.yaml')));
    expect(lazy.map((i) => i.path)).toEqual(expect.arrayContaining(['checks[0].ping.from', 'checks[1].name', 'faults[0].loss.on']));
  });
});
