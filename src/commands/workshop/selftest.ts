import { Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { inputError } from '../../base/errors.js';
import { renderTable } from '../../text/table.js';
import { findExercise } from '../../workshop/exercise-load.js';
import { exercisesIn } from '../../workshop/session.js';
import { selftest, type SelftestResult } from '../../workshop/workshop-engine.js';

interface SelftestOutput {
  dir: string;
  passed: number;
  failed: number;
  parallel: number;
  durationMs: number;
  exercises: SelftestResult[];
}

/** Run `work` over `items`, at most `limit` at a time, results in the items' order. */
async function pooled<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export default class WorkshopSelftest extends BaseCommand<SelftestOutput> {
  static completion: ArgCompletion[] = ['exercises'];
  static override summary = 'For exercise authors and CI: start → check fails → solve → check passes → reset → check fails → stop leaves nothing.';
  static override description =
    'Each exercise runs on a lab of its own (st<id>), so a student\'s exercise lab is never touched; exercises run side by side (--parallel). Exit 0 when every exercise behaves, 1 otherwise.';
  static override examples = ['<%= config.bin %> workshop selftest --all', '<%= config.bin %> workshop selftest 3 5 --dir ./my-exercises --json'];
  static override strict = false;
  static override flags = {
    all: Flags.boolean({ description: 'Every exercise of the directory.', default: false }),
    dir: Flags.string({ description: "A directory of exercises (default: overlab's own workshop/)." }),
    parallel: Flags.integer({ description: 'How many exercises run at once.', default: 4, min: 1, max: 16 }),
  };

  protected async execute(): Promise<SelftestOutput> {
    const { argv, flags } = await this.parse(WorkshopSelftest);
    const ids = argv as string[];
    if (flags.all === ids.length > 0) throw inputError(flags.all ? 'give exercise ids or --all, not both' : 'which exercises? give their ids or --all', 'overlab workshop selftest --all');
    const { dir, exercises } = await exercisesIn(flags.dir);
    const chosen = flags.all ? exercises : ids.map((id) => findExercise(exercises, id));
    const started = Date.now();
    const results = await pooled(chosen, flags.parallel, async (exercise) => {
      const r = await selftest(this.runtime, exercise, this.abort.signal);
      const bad = r.steps.find((s) => !s.ok);
      this.note(`${r.ok ? this.colours.green('✓') : this.colours.red('✗')} ${r.id} ${r.title} ${this.colours.dim(`(${(r.durationMs / 1000).toFixed(1)} s)`)}${bad ? `: ${bad.step}: ${bad.detail}` : ''}`);
      return r;
    });
    const failed = results.filter((r) => !r.ok).length;
    this.resultExitCode = failed ? 1 : 0;
    return { dir, passed: results.length - failed, failed, parallel: flags.parallel, durationMs: Date.now() - started, exercises: results };
  }

  protected renderHuman(r: SelftestOutput): string {
    const bad = (x: SelftestResult) => x.steps.find((s) => !s.ok);
    return [
      renderTable(r.exercises, [
        { header: '', value: (x) => (x.ok ? this.colours.green('✓') : this.colours.red('✗')) },
        { header: 'ID', value: (x) => String(x.id) },
        { header: 'TITLE', value: (x) => x.title, maxWidth: 50 },
        { header: 'TIME', value: (x) => `${(x.durationMs / 1000).toFixed(1)} s` },
        { header: 'FAILED STEP', value: (x) => (bad(x) ? `${bad(x)!.step}: ${bad(x)!.detail}` : ''), maxWidth: 90 },
      ]),
      '',
      `${r.passed}/${r.passed + r.failed} exercises behave (${(r.durationMs / 1000).toFixed(1)} s, ${r.parallel} at a time)`,
    ].join('\n');
  }
}
