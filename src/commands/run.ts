import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { rendererFromProcess, upWithRollback } from '../cli/progress.js';
import { assertJunitWritable, progressLine, writeJunitIfAsked } from '../cli/verify-output.js';
import { loadLabSpec } from '../spec/load.js';
import { resolveLab } from '../plan/addressing.js';
import { existingLab, rollbackLab } from '../core/lab-up.js';
import { withLabLock } from '../core/lab-lock.js';
import { takenSubnets } from '../core/taken-subnets.js';
import { verifyLab } from '../core/lab-verify.js';
import { inputError, interruptedError } from '../core/errors.js';
import type { VerifyReport } from '../checks/run-checks.js';
import { renderVerifyReport } from '../report/verify-report.js';
import { terminalSafe } from '../report/terminal-text.js';

interface RunResult {
  reports: VerifyReport[];
  kept: boolean;
}

export default class Run extends BaseCommand<RunResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['specs'];
  static override summary = 'up → verify → down for one or more specs: the one-shot form for CI and workshops.';
  static override description = 'Exit 0 when every check of every lab passed, 1 when any failed. Labs are always taken down unless --keep.';
  static override examples = ['<%= config.bin %> run labs/*.yaml --junit results.xml'];
  static override strict = false;
  static override args = { spec: Args.string({ description: 'Lab spec paths (one or more).', required: true }) };
  static override flags = {
    junit: Flags.string({ description: 'Also write JUnit XML to this file.' }),
    keep: Flags.boolean({ description: 'Leave the labs up afterwards.', default: false }),
  };

  protected async execute(): Promise<RunResult> {
    const { argv, flags } = await this.parse(Run);
    const files = argv as string[];
    assertJunitWritable(flags.junit);
    const specs = await Promise.all(files.map((f) => loadLabSpec(f))); // all valid before anything starts
    const reports: VerifyReport[] = [];
    for (const spec of specs) {
      if (this.abort.signal.aborted) throw interruptedError();
      await withLabLock(this.runtime, spec.name, this.abort.signal, async () => {
        const lab = resolveLab(spec, { takenSubnets: await takenSubnets(this.runtime, spec.name) });
        if ((await existingLab(this.runtime, lab)).kind !== 'absent') {
          throw inputError(`lab "${lab.name}" is already up`, `run \`overlab down ${lab.name}\` first, or \`overlab verify ${lab.name}\``);
        }
        this.labInScope = spec.name;
        this.note(this.colours.bold(`\n▶ ${spec.name}`) + (spec.description ? ` — ${terminalSafe(spec.description)}` : ''));
        try {
          await upWithRollback(this.runtime, lab, this.abort.signal, rendererFromProcess(this.json));
          const report = await verifyLab(this.runtime, lab, lab.checks, {
            signal: this.abort.signal,
            onResult: (r) => {
              this.note(progressLine(r, this.colours));
            },
          });
          reports.push(report);
        } finally {
          if (!flags.keep || this.abort.signal.aborted) await rollbackLab(this.runtime, lab.name);
        }
      });
    }
    await writeJunitIfAsked(flags.junit, reports);
    this.resultExitCode = reports.some((r) => r.failed > 0) ? 1 : 0;
    return { reports, kept: flags.keep };
  }

  protected renderHuman(result: RunResult): string {
    return result.reports.map((r) => renderVerifyReport(r, this.colours)).join('\n\n');
  }
}
