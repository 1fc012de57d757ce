import { Args } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../lab/engine-labs.js';
import { withLabLock } from '../../lab/lab-lock.js';
import { inputError } from '../../base/errors.js';
import { assertName } from '../../lab-spec/name-assert.js';
import { applyFault } from '../../faults/fault-engine.js';
import { faultFromArgs } from '../../faults/lab-scope.js';
import { viewOf, type FaultView } from '../../report/fault-table.js';
import { FAULT_KINDS } from '../../faults/fault-kinds.js';

interface AddResult {
  lab: string;
  fault: FaultView;
}

export default class FaultAdd extends BaseCommand<AddResult> {
  static completion: ArgCompletion[] = ['lab', FAULT_KINDS.map((k) => k.key), 'targets'];
  static override summary = 'Break a running lab on purpose: one fault, recorded so `fault clear` restores the kernel state exactly.';
  static override description = [
    'The kinds and their arguments:',
    ...FAULT_KINDS.map((k) => `  ${`${k.key} ${k.args}`.padEnd(36)} ${k.help}`),
    '',
    'Every fault records what it changed (routes, neighbours, FDB, links, qdiscs, iptables, sysctls, processes) in the lab itself; `overlab fault ls` shows it and `overlab fault clear` undoes it. A kind that makes no sense on the lab is refused (exit 2, saying why); one the kernel cannot do exits 3.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> fault add host-gw link-down host1:eth0',
    '<%= config.bin %> fault add flannel-udp block host2 udp/8285',
    '<%= config.bin %> fault add vxlan-static del-fdb host1 host2',
    '<%= config.bin %> fault add host-gw loss host1:eth0 30%',
  ];
  static override strict = false;
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    kind: Args.string({ description: `The fault kind: ${FAULT_KINDS.map((k) => k.key).join(', ')}.`, required: true }),
  };

  protected async execute(): Promise<AddResult> {
    const { args, argv } = await this.parse(FaultAdd);
    const labName = assertName('lab', args.lab, 'the lab');
    const rest = (argv as string[]).slice(2);
    if (rest.some((a) => a === '--')) throw inputError('fault add takes no `--`', 'e.g. overlab fault add host-gw link-down host1:eth0');
    this.labInScope = labName;
    return withLabLock(this.runtime, labName, this.abort.signal, async () => {
      const lab = await requireRunningLab(this.runtime, labName, { acceptDegraded: true, holdsLock: true });
      const fault = faultFromArgs(lab, args.kind, rest);
      const record = await applyFault({ runtime: this.runtime, lab, signal: this.abort.signal }, fault, 'cli');
      return { lab: lab.name, fault: viewOf(record, true) };
    });
  }

  protected renderHuman(r: AddResult): string {
    const f = r.fault;
    return [
      `${this.colours.yellow('⚡')} fault ${f.id} on lab ${r.lab}: ${f.summary}`,
      ...(f.changed?.length ? f.changed.slice(0, 8).map((c) => this.colours.dim(`  changed ${c}`)) : [this.colours.dim('  (no kernel state changed; a process or container was)')]),
      ...(f.changed && f.changed.length > 8 ? [this.colours.dim(`  … and ${f.changed.length - 8} more`)] : []),
      `undo: overlab fault clear ${r.lab} ${f.id}`,
    ].join('\n');
  }
}
