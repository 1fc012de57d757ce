// `overlab down --all` removes every lab on the engine, whoever built it. It runs alone, after every
// other integration file (vitest.config.ts: its own project, a later group), since it would remove
// their labs too.
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { containersWithLabel, overlab } from '../harness.js';

describe('down --all', () => {
  it('removes every lab, and a second run finds nothing left to do', async () => {
    const dir = await mkdtemp('/tmp/overlab-down-all-');
    for (const name of ['all-a', 'all-b']) {
      await writeFile(`${dir}/${name}.yaml`, `name: ${name}\nhosts:\n  - name: host1\n    pods: [pod1]\n`);
      expect((await overlab(['up', `${dir}/${name}.yaml`])).exitCode).toBe(0);
    }
    expect(await containersWithLabel('overlab.lab=all-a')).toHaveLength(2);
    expect((await overlab(['down', '--all'])).exitCode).toBe(0);
    expect(await containersWithLabel('overlab.lab')).toEqual([]);
    expect((await overlab(['down', '--all'])).exitCode).toBe(0);
  });
});
