import { Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { renderTable } from '../../text/table.js';
import { exercisesIn } from '../../workshop/session.js';
import { progressFile, readProgress, statusOf, type Status } from '../../workshop/progress.js';

interface Row {
  id: number;
  title: string;
  level: string;
  story?: string;
  status: Status;
  hintsUsed: number;
  hints: number;
  solutionRevealed: boolean;
}

interface ListResult {
  dir: string;
  progressFile: string;
  exercises: Row[];
}

export default class WorkshopList extends BaseCommand<ListResult> {
  static completion: ArgCompletion[] = [];
  static override summary = 'List the exercises: id, level, title, and where you are with each.';
  static override description = 'STATUS is new, active (the one running now), started (begun before, not solved), solved, or solved (with the solution) once it was shown; HINTS counts the hints asked for. The exercises come with overlab (its workshop/ folder) unless --dir names another folder.';
  static override examples = ['<%= config.bin %> workshop list', '<%= config.bin %> workshop list --dir ./my-exercises --json'];
  static override flags = { dir: Flags.string({ description: "A directory of exercises (default: overlab's own workshop/)." }) };

  protected async execute(): Promise<ListResult> {
    const { flags } = await this.parse(WorkshopList);
    const [{ dir, exercises }, progress] = await Promise.all([exercisesIn(flags.dir), readProgress()]);
    return {
      dir,
      progressFile: progressFile(),
      exercises: exercises.map((e) => {
        const entry = progress.exercises.find((p) => p.collection === e.collection && p.id === e.id);
        return {
          id: e.id,
          title: e.title,
          level: e.level,
          ...(e.story ? { story: e.story } : {}),
          status: statusOf(progress, e.collection, e.id),
          hintsUsed: entry?.hintsUsed ?? 0,
          hints: e.hints.length,
          solutionRevealed: entry?.solutionRevealed ?? false,
        };
      }),
    };
  }

  protected renderHuman(r: ListResult): string {
    const status = (row: Row) => {
      const text = row.status === 'solved' && row.solutionRevealed ? 'solved (with the solution)' : row.status;
      return row.status === 'solved' ? this.colours.green(text) : row.status === 'active' ? this.colours.yellow(text) : row.status === 'new' ? this.colours.dim(text) : text;
    };
    return [
      renderTable(r.exercises, [
        { header: 'ID', value: (e) => String(e.id) },
        { header: 'LEVEL', value: (e) => e.level },
        { header: 'TITLE', value: (e) => e.title },
        { header: 'STORY', value: (e) => e.story ?? '' },
        { header: 'STATUS', value: status },
        { header: 'HINTS', value: (e) => `${e.hintsUsed}/${e.hints}` },
      ]),
      '',
      this.colours.dim(`start one: overlab workshop start <id>   ·   progress: ${r.progressFile}`),
    ].join('\n');
  }
}
