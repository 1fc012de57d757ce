// The order test files start in: the longest first. Two files run at a time (vitest.config.ts), so
// a long file that starts late runs on alone at the end while the other worker idles; started
// first, the short ones fill in beside it. Vitest's own order needs the durations of an earlier
// run (its cache), which a clean clone — CI — does not have: there it starts the largest files
// first, and a short file of long labs (the workshop's) started among the last.
//
// The seconds are what each file took in CI (`.ci/run`, two files at a time): only their order
// matters, so they need refreshing only when a file's rank changes. A file not listed (a new
// one) starts after the listed ones.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const CI_SECONDS: Readonly<Record<string, number>> = {
  'test/integration/workshop.test.ts': 250,
  'test/integration/engines.test.ts': 205,
  'test/integration/faults.test.ts': 165,
  'test/integration/reliability.test.ts': 164,
  'test/integration/trace.test.ts': 150, // estimated: labs.test.ts's nine labs moved into it
  'test/integration/services.test.ts': 120,
  'test/integration/bgp.test.ts': 88,
  'test/integration/overlays.test.ts': 66,
  'test/integration/lifecycle.test.ts': 66,
  'test/integration/packed-install.test.ts': 65,
  'test/integration/restart.test.ts': 54,
  'test/integration/hostile.test.ts': 45,
  'test/integration/settle.test.ts': 43,
  'test/integration/scale.test.ts': 36,
  'test/integration/cni.test.ts': 26,
  'test/integration/agent-leases.test.ts': 23,
  'test/integration/cli-ux.test.ts': 21,
  'test/integration/engine-wide/hung-engine.test.ts': 19,
  'test/integration/verify-gone.test.ts': 10,
  'test/integration/labs.test.ts': 10,
  'test/integration/spec-cli.test.ts': 9,
  'test/unit/runtime-engine-client.test.ts': 8,
  'test/unit/node-init.test.ts': 7,
  'test/unit/agent-batch-session.test.ts': 7,
  'test/unit/architecture-rules.test.ts': 7,
  'test/browser/report.test.ts': 5,
  'test/integration/engine-wide/down-all.test.ts': 4,
  'test/integration/completion-shells.test.ts': 3,
  'test/unit/runtime-engine-errors.test.ts': 3,
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Vitest's order (failed first when its cache knows, else the largest) breaks the ties.
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const seconds = (f: TestSpecification) => CI_SECONDS[relative(root, f.moduleId)] ?? 0;
    return base
      .map((file, index) => ({ file, index, seconds: seconds(file) }))
      .sort((a, b) => b.seconds - a.seconds || a.index - b.index)
      .map((e) => e.file);
  }
}
