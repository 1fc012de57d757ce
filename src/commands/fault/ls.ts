import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../lab/engine-labs.js';
import { assertName } from '../../lab-spec/name-assert.js';
import { listFaults } from '../../faults/fault-engine.js';
import { renderFaults, viewOf, type FaultView } from '../../report/fault-table.js';

interface LsResult {
  lab: string;
  faults: FaultView[];
}

export default class FaultLs extends BaseCommand<LsResult> {
  static completion: ArgCompletion[] = ['lab'];
  static override summary = "List a lab's active faults: what each broke and what it changed.";
  static override description = 'Faults come from `overlab fault add`, from the spec (`faults:`) or from a workshop exercise (hidden unless --reveal).';
  static override examples = ['<%= config.bin %> fault ls host-gw', '<%= config.bin %> fault ls ex3 --reveal --json'];
  static override args = { lab: Args.string({ description: 'Lab name.', required: true }) };
  static override flags = { reveal: Flags.boolean({ description: "Show an exercise's faults too (spoils it).", default: false }) };

  protected async execute(): Promise<LsResult> {
    const { args, flags } = await this.parse(FaultLs);
    const labName = assertName('lab', args.lab, 'the lab');
    const lab = await requireRunningLab(this.runtime, labName, { acceptDegraded: true });
    const book = await listFaults({ runtime: this.runtime, switchContainer: lab.underlay.switchContainer, signal: this.abort.signal });
    return { lab: lab.name, faults: book.faults.map((f) => viewOf(f, flags.reveal)) };
  }

  protected renderHuman(r: LsResult): string {
    return renderFaults(r.lab, r.faults, this.colours);
  }
}
