import { defineConfig } from 'vitest/config';
import { setting } from './src/shared/settings.js';
import { LongestFirst } from './test/support/longest-first.js';

// Test files run side by side, integration files too: each builds labs under names of its own and
// takes down only those (test/integration/harness.ts: seedAs, downLabs), so several share one
// engine. What needs the engine or the machine to itself — `down --all`, and the hung-engine
// timings (one Ctrl-C ends a command within 1 s) that labs built on both cores would skew — is
// test/integration/engine-wide/, its own project, run after the others have finished.
//
// How many files at once: OVERLAB_TEST_WORKERS, else 2 — measured on a 2-core machine, whole
// suite (unit + integration) in one session: 1 file at a time 714 s, 2 at a time 448 s, 4 at a time
// 646 s (labs built on both cores by four files thrash: faults and reliability took 3-4× longer).
const workers = setting('testWorkers', 2);

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: workers,
    // The longest files first, so that no long one starts last (test/support/longest-first.ts).
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: { name: 'side-by-side', include: ['test/**/*.test.ts'], exclude: ['test/integration/engine-wide/**'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'engine-wide', include: ['test/integration/engine-wide/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
