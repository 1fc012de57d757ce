import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { labNameOf, readLabArgument } from '../cli/lab-argument.js';
import { downAllLabs, downLab, type DownResult } from '../core/lab-down.js';
import { inputError } from '../core/errors.js';

export default class Down extends BaseCommand<DownResult[]> {
  static override summary = 'Remove a lab (or all labs) by label. Idempotent; works without the spec file.';
  static override examples = ['<%= config.bin %> down same-host', '<%= config.bin %> down labs/same-host.yaml', '<%= config.bin %> down --all'];
  static override args = { lab: Args.string({ description: 'Lab name or spec path.' }) };
  static override flags = { all: Flags.boolean({ description: 'Remove every overlab lab on this engine.', default: false }) };

  protected async execute(): Promise<DownResult[]> {
    const { args, flags } = await this.parse(Down);
    if (flags.all) return downAllLabs(this.runtime);
    if (!args.lab) throw inputError('name a lab (or a spec file), or pass --all', 'overlab ls shows the labs that are up');
    return [await downLab(this.runtime, labNameOf(await readLabArgument(args.lab)))];
  }

  protected renderHuman(results: DownResult[]): string {
    if (results.length === 0) return 'no overlab labs were up';
    return results
      .map((r) => (r.removed.length ? `${this.colours.green('✓')} ${r.lab}: removed ${r.removed.length} containers` : `• ${r.lab}: nothing to remove (already down)`))
      .join('\n');
  }
}
