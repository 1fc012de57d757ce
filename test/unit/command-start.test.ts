// What `up` and `down` load before they run is most of what they cost on top of the engine's
// work (bench/lifecycle.mjs: CLI vs in-process): the code only some labs or commands need is
// imported when needed. These fail when a static import brings it back.
import { describe, expect, it } from 'vitest';
import { runPhases } from '../../src/cli/progress.js';
import type { UpPhase } from '../../src/core/up-phases.js';
import { staticClosure } from '../support/static-imports.js';

/** Check and fault kinds (only those a spec names: src/lab-loader/kind-loaders.ts), trace, the
 * fault engine, the HTML report. */
const NOT_BEFORE_RUN = /^src\/(trace|faults|checks\/kinds|report\/html)\/|^src\/lab-loader\/lab-kinds\.ts$/;

describe('what a command loads before it runs', () => {
  it('up: no check or fault kind, no trace, no fault engine, no listr2', () => {
    const { files, packages } = staticClosure('src/commands/up.ts');
    expect(files.has('src/lab-loader/load.ts')).toBe(true); // the walk does follow the imports
    expect([...files].filter((f) => NOT_BEFORE_RUN.test(f))).toEqual([]);
    expect(packages.has('yaml')).toBe(true);
    expect(packages.has('listr2')).toBe(false);
  });

  it('down: not the spec language at all (a lab\'s name needs none of it)', () => {
    const { files, packages } = staticClosure('src/commands/down.ts');
    expect(files.has('src/core/lab-down.ts')).toBe(true);
    expect([...files].filter((f) => f.startsWith('src/lab-loader/') || NOT_BEFORE_RUN.test(f))).toEqual([]);
    expect(packages.has('yaml')).toBe(false);
  });
});

describe('phases shown silently (--json), without listr2', () => {
  const phase = (title: string, log: string[], fail?: Error): UpPhase => ({
    title,
    run: async () => {
      await new Promise((r) => setTimeout(r, 1));
      log.push(title);
      if (fail) throw fail;
    },
  });

  it('run one after the other', async () => {
    const log: string[] = [];
    await runPhases([phase('a', log), phase('b', log), phase('c', log)], new AbortController().signal, 'silent');
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('stop at the first failure, which goes on as it is', async () => {
    const log: string[] = [];
    const boom = new Error('boom');
    const error = await runPhases([phase('a', log), phase('b', log, boom), phase('c', log)], new AbortController().signal, 'silent').catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(log).toEqual(['a', 'b']);
  });

  it('listr2 (plain lines) stops at the same failure with the same error', async () => {
    const log: string[] = [];
    const boom = new Error('boom');
    const error = await runPhases([phase('a', log), phase('b', log, boom), phase('c', log)], new AbortController().signal, 'simple').catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(log).toEqual(['a', 'b']);
  });
});
