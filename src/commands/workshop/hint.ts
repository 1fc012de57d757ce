import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { activeSession } from '../../workshop/session.js';
import { entryOf, writeProgress } from '../../workshop/progress.js';
import { indent } from '../../workshop/render.js';

interface HintResult {
  exercise: number;
  /** 1-based; 0 when there were no more. */
  number: number;
  of: number;
  hint?: string;
  /** The hints given so far, in order. */
  given: string[];
}

export default class WorkshopHint extends BaseCommand<HintResult> {
  static completion: ArgCompletion[] = [];
  static override summary = 'The next hint for the active exercise (each one is counted in your progress).';
  static override description = 'Hints come in order, from a nudge to nearly the answer; each one asked for is recorded in your progress file (~/.local/state/overlab/workshop.json, or under $XDG_STATE_HOME), which `workshop list` and `workshop check --junit` show.';
  static override examples = ['<%= config.bin %> workshop hint'];

  protected async execute(): Promise<HintResult> {
    await this.parse(WorkshopHint);
    const { progress, exercise } = await activeSession();
    const entry = entryOf(progress, exercise, new Date().toISOString());
    const of = exercise.hints.length;
    if (entry.hintsUsed >= of) return { exercise: exercise.id, number: 0, of, given: exercise.hints.slice(0, of) };
    entry.hintsUsed++;
    await writeProgress(progress);
    return { exercise: exercise.id, number: entry.hintsUsed, of, hint: exercise.hints[entry.hintsUsed - 1]!, given: exercise.hints.slice(0, entry.hintsUsed) };
  }

  protected renderHuman(r: HintResult): string {
    if (!r.hint) {
      return [`no more hints: you have had all ${r.of}.`, ...r.given.map((h, i) => `${this.colours.dim(`${i + 1}.`)}\n${indent(h)}`), '', this.colours.dim('overlab workshop solution shows the answer (and counts as seen)')].join('\n');
    }
    return [this.colours.bold(`hint ${r.number} of ${r.of}`), indent(r.hint), ...(r.number < r.of ? ['', this.colours.dim('another one: overlab workshop hint')] : [])].join('\n');
  }
}
