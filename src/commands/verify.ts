import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { labNameOf } from '../cli/lab-argument.js';
import { assertJunitWritable, progressLine, writeJunitIfAsked } from '../cli/verify-output.js';
import { repairHint, requireLab } from '../lab/engine-labs.js';
import { verifyLab } from '../core/lab-verify.js';
import { verifyExitCode, type VerifyReport } from '../checks/run-checks.js';
import { renderVerifyReport } from '../report/verify-report.js';

export default class Verify extends BaseCommand<VerifyReport> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab-or-spec'];
  static override summary = 'Run a lab\'s checks (ping, capture, kernel, lease, agentCost, trace, link) and report what was seen.';
  static override description =
    'Exit 0 when every check passes, 1 when any fails; 3 when none failed but some could not be judged because an engine of a lab across engines does not answer (each such check is `unreachable` and names the engine; the others are judged as usual). With a spec path, the checks are read from the file (so they can be edited without rebuilding the lab); with a lab name, the checks the lab was built with are used. Checks that cannot see each other\'s traffic run at the same time; two verifies of one lab take turns (the second waits up to OVERLAB_PROBE_LOCK_WAIT_MS, 120 s, then names the first).';
  static override examples = ['<%= config.bin %> verify same-host', '<%= config.bin %> verify labs/host-gw.yaml --junit results.xml --json'];
  static override args = { lab: Args.string({ description: 'Lab name or spec path.', required: true }) };
  static override flags = {
    junit: Flags.string({ description: 'Also write JUnit XML to this file.' }),
    check: Flags.string({ description: 'Run only the check with this name (repeatable).', multiple: true }),
  };

  protected async execute(): Promise<VerifyReport> {
    const { args, flags } = await this.parse(Verify);
    assertJunitWritable(flags.junit);
    const arg = await this.readLabArgument(args.lab);
    // A degraded lab (a node gone or stopped since it was built) is still verified: the checks
    // that need the missing part say so as errors. One never built to the end is refused.
    // Measured: a node restarted since it was wired (its cable gone) makes the lab degraded too.
    const { model: lab, state, summary } = await requireLab(this.runtime, labNameOf(arg), { acceptDegraded: true, measure: true });
    const checks = arg.kind === 'spec' ? arg.spec.checks : lab.checks;
    if (state.status === 'degraded') this.note(`lab ${lab.name} is degraded: ${state.detail}; ${repairHint(lab.name, summary.specFile)}`);
    const verified = await verifyLab(this.runtime, lab, checks, {
      problems: state.problems,
      signal: this.abort.signal,
      ...(flags.check ? { only: flags.check } : {}),
      onResult: (r) => {
        this.note(progressLine(r, this.colours));
      },
    });
    const report = state.status === 'degraded' ? { ...verified, degraded: state.detail } : verified;
    await writeJunitIfAsked(flags.junit, [report]);
    this.resultExitCode = verifyExitCode([report]);
    return report;
  }

  protected renderHuman(report: VerifyReport): string {
    return renderVerifyReport(report, this.colours);
  }
}
