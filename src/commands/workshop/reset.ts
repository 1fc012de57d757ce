import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { listrProgress, rendererFromProcess } from '../../cli/progress.js';
import { activeSession } from '../../workshop/session.js';
import { buildExerciseLab } from '../../workshop/workshop-engine.js';
import { entryOf, writeProgress } from '../../workshop/progress.js';

interface ResetResult {
  exercise: number;
  lab: string;
  durationMs: number;
}

export default class WorkshopReset extends BaseCommand<ResetResult> {
  static completion: ArgCompletion[] = [];
  static override summary = 'Back to the broken start: the active exercise\'s lab is rebuilt with its faults.';
  static override description = 'Everything changed in the lab since is gone (the lab is built anew); hints and time keep counting.';
  static override examples = ['<%= config.bin %> workshop reset'];

  protected async execute(): Promise<ResetResult> {
    await this.parse(WorkshopReset);
    const { progress, active, exercise } = await activeSession();
    this.labInScope = active.lab;
    const built = await buildExerciseLab(this.runtime, exercise, active.lab, this.abort.signal, listrProgress(rendererFromProcess(this.json)), { replaceOthers: true });
    progress.active = { ...active, run: built.run };
    entryOf(progress, exercise, new Date().toISOString()).resets++;
    await writeProgress(progress);
    return { exercise: exercise.id, lab: active.lab, durationMs: built.durationMs };
  }

  protected renderHuman(r: ResetResult): string {
    return `${this.colours.yellow('↺')} exercise ${r.exercise}: lab ${r.lab} is back to its broken start (${(r.durationMs / 1000).toFixed(1)} s)`;
  }
}
