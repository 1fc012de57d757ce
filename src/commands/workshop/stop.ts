import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { readProgress, writeProgress } from '../../workshop/progress.js';
import { removeExerciseLab } from '../../workshop/workshop-engine.js';

interface StopResult {
  exercise?: number;
  lab?: string;
  removed: string[];
}

export default class WorkshopStop extends BaseCommand<StopResult> {
  static completion: ArgCompletion[] = [];
  static override summary = "Stop the active exercise: its lab is removed (your progress stays).";
  static override description = 'Removes the lab `workshop start` built for the active exercise (only that lab); hints used, time and solved exercises stay in your progress file.';
  static override examples = ['<%= config.bin %> workshop stop'];

  protected async execute(): Promise<StopResult> {
    await this.parse(WorkshopStop);
    const progress = await readProgress();
    const active = progress.active;
    if (!active) return { removed: [] };
    this.labInScope = active.lab;
    const removed = await removeExerciseLab(this.runtime, active.lab, this.abort.signal);
    delete progress.active;
    await writeProgress(progress);
    return { exercise: active.id, lab: active.lab, removed };
  }

  protected renderHuman(r: StopResult): string {
    if (r.exercise === undefined) return 'no exercise is active';
    return `${this.colours.green('✓')} exercise ${r.exercise} stopped: lab ${r.lab} removed (${r.removed.length} containers)`;
  }
}
