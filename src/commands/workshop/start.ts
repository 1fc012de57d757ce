import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { listrProgress, rendererFromProcess } from '../../cli/progress.js';
import { findExercise } from '../../workshop/exercise-load.js';
import { exercisesIn } from '../../workshop/session.js';
import { buildExerciseLab, removeExerciseLab } from '../../workshop/workshop-engine.js';
import { entryOf, readProgress, writeProgress } from '../../workshop/progress.js';
import { commandsWorthKnowing, renderTask } from '../../workshop/render.js';
import type { Exercise } from '../../workshop/exercise.js';

interface StartResult {
  id: number;
  title: string;
  level: string;
  lab: string;
  task: string;
  commands: string[];
  hints: number;
  /** Building the broken lab. */
  buildMs: number;
  /** From the command's start to the task being ready to print. */
  durationMs: number;
  /** The exercise that was active before and was stopped for this one. */
  stopped?: { id: number; lab: string };
}

export default class WorkshopStart extends BaseCommand<StartResult> {
  static completion: ArgCompletion[] = ['exercise'];
  static override summary = 'Start an exercise: build its lab, broken on purpose, and show the task.';
  static override description =
    'The lab is named ex<id>; an exercise that was active is stopped first (its lab removed). Your progress (started, hints, solved, time) is kept in $XDG_STATE_HOME/overlab/workshop.json (default ~/.local/state/overlab/workshop.json).';
  static override examples = ['<%= config.bin %> workshop start 1', '<%= config.bin %> workshop start 4 --dir ./my-exercises'];
  static override args = { id: Args.string({ description: 'The exercise: its id (or its file name without .yaml).', required: true }) };
  static override flags = { dir: Flags.string({ description: "A directory of exercises (default: overlab's own workshop/)." }) };
  private exercise?: Exercise;

  protected async execute(): Promise<StartResult> {
    const started = Date.now();
    const { args, flags } = await this.parse(WorkshopStart);
    const { dir, exercises } = await exercisesIn(flags.dir);
    const exercise = findExercise(exercises, args.id);
    this.exercise = exercise;
    const progress = await readProgress();
    const before = progress.active;
    let stopped: StartResult['stopped'];
    if (before && before.lab !== exercise.lab.name) {
      this.note(`stopping exercise ${before.id} (lab ${before.lab})`);
      await removeExerciseLab(this.runtime, before.lab, this.abort.signal);
      stopped = { id: before.id, lab: before.lab };
    }
    this.labInScope = exercise.lab.name;
    const built = await buildExerciseLab(this.runtime, exercise, exercise.lab.name, this.abort.signal, listrProgress(rendererFromProcess(this.json)));
    const now = new Date().toISOString();
    const entry = entryOf(progress, exercise, now);
    entry.starts++;
    if (!entry.solvedAt) entry.startedAt = now;
    progress.active = { collection: exercise.collection, dir, id: exercise.id, lab: exercise.lab.name, run: built.run, startedAt: now };
    await writeProgress(progress);
    return {
      id: exercise.id,
      title: exercise.title,
      level: exercise.level,
      lab: exercise.lab.name,
      task: exercise.task,
      commands: commandsWorthKnowing(exercise, exercise.lab.name),
      hints: exercise.hints.length,
      buildMs: built.durationMs,
      durationMs: Date.now() - started,
      ...(stopped ? { stopped } : {}),
    };
  }

  protected renderHuman(r: StartResult): string {
    return renderTask(this.exercise!, r.lab, this.colours, `lab ${r.lab} is up, broken on purpose (${(r.buildMs / 1000).toFixed(1)} s)`);
  }
}
