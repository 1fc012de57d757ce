import { BaseCommand } from '../cli/base-command.js';
import type { ArgCompletion } from '../cli/completion.js';
import { bundledLabs, type BundledLab } from '../cli/bundled-labs.js';
import { renderTable } from '../text/table.js';

export default class Labs extends BaseCommand<BundledLab[]> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = [];
  static override summary = 'List the labs that come with overlab, each with its one-line story.';
  static override description =
    'Every command that takes a spec file (up, validate, run) also takes the name of one of these labs, from any directory; a file of that name in the current directory wins. `overlab ls` lists the labs that are up; `overlab workshop list` the exercises.';
  static override examples = ['<%= config.bin %> labs', '<%= config.bin %> up flannel-vxlan', '<%= config.bin %> labs --json'];

  protected async execute(): Promise<BundledLab[]> {
    await this.parse(Labs);
    return bundledLabs();
  }

  protected renderHuman(labs: BundledLab[]): string {
    if (labs.length === 0) return 'no bundled labs found (the package has no labs/ folder)';
    return [
      renderTable(labs, [
        { header: 'LAB', value: (l) => l.name },
        { header: 'STORY', value: (l) => l.description },
      ]),
      '',
      this.colours.dim(`build one: overlab up <lab>   ·   the specs: ${labs[0]!.file.replace(/[^/]*$/, '')}`),
    ].join('\n');
  }
}
