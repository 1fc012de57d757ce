import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../lab/engine-labs.js';
import { withLabLock } from '../../lab/lab-lock.js';
import { inputError } from '../../base/errors.js';
import { assertName } from '../../lab-spec/name-assert.js';
import { clearFaults, type ClearResult } from '../../faults/fault-engine.js';

interface ClearOutput {
  lab: string;
  cleared: ClearResult[];
}

export default class FaultClear extends BaseCommand<ClearOutput> {
  static completion: ArgCompletion[] = ['lab', 'none'];
  static override summary = 'Mend faults: restore exactly what each one changed, then check that it is so.';
  static override description =
    'Give fault ids (as `overlab fault ls` shows them), or --all (newest first). A fault whose changes cannot all be restored stays recorded, and the command says what is still different (exit 3).';
  static override examples = ['<%= config.bin %> fault clear host-gw 2', '<%= config.bin %> fault clear host-gw --all'];
  static override strict = false;
  static override args = { lab: Args.string({ description: 'Lab name.', required: true }) };
  static override flags = { all: Flags.boolean({ description: 'Clear every active fault.', default: false }) };

  protected async execute(): Promise<ClearOutput> {
    const { args, argv, flags } = await this.parse(FaultClear);
    const labName = assertName('lab', args.lab, 'the lab');
    const words = (argv as string[]).slice(1);
    const ids = words.map((w) => {
      if (!/^[1-9][0-9]{0,8}$/.test(w)) throw inputError(`"${w}" is not a fault id`, 'fault ids are the numbers `overlab fault ls <lab>` shows');
      return Number(w);
    });
    if (flags.all === (ids.length > 0)) throw inputError(flags.all ? 'give fault ids or --all, not both' : 'which faults? give their ids or --all', `overlab fault clear ${labName} --all`);
    this.labInScope = labName;
    return withLabLock(this.runtime, labName, this.abort.signal, async () => {
      const lab = await requireRunningLab(this.runtime, labName, { acceptDegraded: true, holdsLock: true });
      const cleared = await clearFaults({ runtime: this.runtime, lab, signal: this.abort.signal }, flags.all ? 'all' : ids);
      return { lab: lab.name, cleared };
    });
  }

  protected renderHuman(r: ClearOutput): string {
    if (!r.cleared.length) return `lab ${r.lab} had no active faults`;
    return r.cleared
      .map((c) =>
        [
          `${this.colours.green('✓')} fault ${c.id} cleared (${c.kind}: ${c.summary})`,
          ...c.restored.slice(0, 8).map((x) => this.colours.dim(`  undid ${x}`)),
          ...(c.restored.length > 8 ? [this.colours.dim(`  … and ${c.restored.length - 8} more`)] : []),
        ].join('\n'),
      )
      .join('\n');
  }
}
