import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../lab/engine-labs.js';
import { findLab } from '../../lab/engine-labs.js';
import { environmentError } from '../../base/errors.js';
import { findExercise } from '../../workshop/exercise-load.js';
import { exercisesIn } from '../../workshop/session.js';
import { applySolution, type SolveStepResult } from '../../workshop/workshop-engine.js';
import { entryOf, readProgress, writeProgress } from '../../workshop/progress.js';

interface SolveResult {
  exercise: number;
  lab: string;
  steps: SolveStepResult[];
}

export default class WorkshopSolve extends BaseCommand<SolveResult> {
  static completion: ArgCompletion[] = ['exercise'];
  static override summary = "Apply an exercise's reference solution to its running lab (for instructors and tests).";
  static override description = 'The lab must be up (`overlab workshop start <id>`); each command runs as an argv on its node. Then `overlab workshop check` should say solved.';
  static override examples = ['<%= config.bin %> workshop solve 3'];
  static override args = { id: Args.string({ description: 'The exercise: its id (or its file name without .yaml).', required: true }) };
  static override flags = { dir: Flags.string({ description: "A directory of exercises (default: overlab's own workshop/)." }) };

  protected async execute(): Promise<SolveResult> {
    const { args, flags } = await this.parse(WorkshopSolve);
    const { exercises } = await exercisesIn(flags.dir);
    const exercise = findExercise(exercises, args.id);
    const labName = exercise.lab.name;
    this.labInScope = labName;
    if (!(await findLab(this.runtime, labName))) throw environmentError(`exercise ${exercise.id}'s lab ${labName} is not up`, `start it first: overlab workshop start ${exercise.id}`);
    const lab = await requireRunningLab(this.runtime, labName, { acceptDegraded: true });
    const steps = await applySolution(this.runtime, exercise, lab, this.abort.signal, (s) => this.note(`${this.colours.green('✓')} ${s.on}: ${s.argv.join(' ')}`));
    const progress = await readProgress();
    if (progress.active?.lab === labName) {
      entryOf(progress, exercise, new Date().toISOString()).solutionRevealed = true;
      await writeProgress(progress);
    }
    return { exercise: exercise.id, lab: labName, steps };
  }

  protected renderHuman(r: SolveResult): string {
    return `${this.colours.green('✓')} exercise ${r.exercise}: the reference solution ran on ${r.lab} (${r.steps.length} command${r.steps.length === 1 ? '' : 's'}); now: overlab workshop check`;
  }
}
