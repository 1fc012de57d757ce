import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { findLab } from '../../lab/engine-labs.js';
import { loadLabModel } from '../../lab/lab-files.js';
import { switchContainerName } from '../../plan/container-names.js';
import { activeSession } from '../../workshop/session.js';
import { labNames, solutionCommands } from '../../workshop/workshop-engine.js';
import { entryOf, writeProgress } from '../../workshop/progress.js';
import { indent } from '../../workshop/render.js';
import { tolerated } from '../../base/debug-log.js';

interface SolutionResult {
  exercise: number;
  lab: string;
  commands: { on: string; argv: string[]; text: string }[];
  explanation?: string;
}

export default class WorkshopSolution extends BaseCommand<SolutionResult> {
  static completion: ArgCompletion[] = [];
  static override summary = 'Show the reference solution of the active exercise (your progress records that you saw it).';
  static override description = 'The commands that mend the active exercise\'s lab, with the names of its actual nodes, and why they work. Seeing it is recorded in your progress (`workshop list` shows "solved (with the solution)").';
  static override examples = ['<%= config.bin %> workshop solution'];

  protected async execute(): Promise<SolutionResult> {
    await this.parse(WorkshopSolution);
    const { progress, active, exercise } = await activeSession();
    const summary = await findLab(this.runtime, active.lab).catch(tolerated('workshop', `find the lab ${active.lab}`));
    const lab = summary ? await loadLabModel(this.runtime, switchContainerName(active.lab)).catch(tolerated('workshop', `read the model of ${active.lab}`)) : undefined;
    const names = lab ? await labNames(this.runtime, lab, exercise).catch(tolerated('workshop', `read the names of ${active.lab}`)) : undefined;
    const entry = entryOf(progress, exercise, new Date().toISOString());
    entry.solutionRevealed = true;
    await writeProgress(progress);
    return { exercise: exercise.id, lab: active.lab, commands: solutionCommands(exercise, lab, names), ...(exercise.explanation ? { explanation: exercise.explanation } : {}) };
  }

  protected renderHuman(r: SolutionResult): string {
    return [
      this.colours.bold(`Solution of exercise ${r.exercise}`),
      ...r.commands.map((c) => `  ${c.text}`),
      ...(r.explanation ? ['', this.colours.bold('Why'), indent(r.explanation)] : []),
      '',
      this.colours.dim('then: overlab workshop check'),
    ].join('\n');
  }
}
