import { Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { assertJunitWritable, progressLine, writeJunitIfAsked } from '../../cli/verify-output.js';
import { activeSession } from '../../workshop/session.js';
import { checkExercise, type ExerciseCheck } from '../../workshop/workshop-engine.js';
import { entryOf, writeProgress } from '../../workshop/progress.js';

interface CheckOutput extends ExerciseCheck {
  title: string;
  hintsUsed: number;
  /** Seconds from the start of the attempt to this check, once solved. */
  secondsToSolve?: number;
}

export default class WorkshopCheck extends BaseCommand<CheckOutput> {
  static completion: ArgCompletion[] = [];
  static override summary = 'Is the active exercise solved? Runs its checks: exit 0 solved, 1 not yet.';
  static override description =
    'The lab must be the one `workshop start` (or `reset`) built, with its faults still recorded: a rebuilt lab, or faults removed with `overlab fault clear`, is not a fix. A lab run by agents gets the time it needs to converge after a fix (up to 15 s: an agent that waited for etcd tries again within its backoff), shown while it waits, before the answer is "not yet". --junit writes the checks as JUnit XML for grading.';
  static override examples = ['<%= config.bin %> workshop check', '<%= config.bin %> workshop check --json --junit grade.xml'];
  static override flags = { junit: Flags.string({ description: 'Also write the checks as JUnit XML to this file.' }) };

  protected async execute(): Promise<CheckOutput> {
    const { flags } = await this.parse(WorkshopCheck);
    assertJunitWritable(flags.junit);
    const { progress, active, exercise } = await activeSession();
    this.labInScope = active.lab;
    const result = await checkExercise(this.runtime, exercise, active, this.abort.signal, {
      onResult: (r) => this.note(progressLine(r, this.colours)),
      settle: true,
      onSettle: (ms) => this.note(`waiting up to ${Math.round(ms / 1000)} s for the lab to settle (its agents retry on their own) before saying "not yet"…`),
    });
    await writeJunitIfAsked(flags.junit, [result.report]);
    const entry = entryOf(progress, exercise, new Date().toISOString());
    entry.checks++;
    if (result.solved && !entry.solvedAt) {
      entry.solvedAt = new Date().toISOString();
      entry.secondsToSolve = Math.round((Date.parse(entry.solvedAt) - Date.parse(entry.startedAt)) / 1000);
      entry.solvedWithSolution = entry.solutionRevealed;
    }
    await writeProgress(progress);
    this.resultExitCode = result.solved ? 0 : 1;
    return { ...result, title: exercise.title, hintsUsed: entry.hintsUsed, ...(entry.secondsToSolve !== undefined && result.solved ? { secondsToSolve: entry.secondsToSolve } : {}) };
  }

  protected renderHuman(r: CheckOutput): string {
    const verdict = r.solved
      ? `${this.colours.green('✓ solved')} — exercise ${r.exercise}: ${r.title}${r.secondsToSolve !== undefined ? ` (in ${r.secondsToSolve < 120 ? `${r.secondsToSolve} s` : `${Math.round(r.secondsToSolve / 60)} min`}, ${r.hintsUsed} hint${r.hintsUsed === 1 ? '' : 's'})` : ''}`
      : `${this.colours.red('✗ not yet')} — ${r.line.replace(/^not yet: /, '')}`;
    return [verdict, ...(r.solved ? ['', this.colours.dim('next: overlab workshop list   ·   overlab workshop stop')] : ['', this.colours.dim('stuck? overlab workshop hint')])].join('\n');
  }
}
