import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { listrProgress, rendererFromProcess } from '../cli/progress.js';
import { assertJunitWritable, progressLine, writeJunitIfAsked } from '../cli/verify-output.js';
import { loadLabSpec } from '../lab-loader/load.js';
import { resolveLab } from '../plan/resolve-lab.js';
import { rollbackLab, upLab } from '../core/lab-up.js';
import { specFileFor } from '../cli/bundled-labs.js';
import { verifyLab } from '../core/lab-verify.js';
import { inputError, interruptedError } from '../base/errors.js';
import { eachLimited } from '../base/each-limited.js';
import type { LabSpec } from '../lab-spec/lab-spec.js';
import { verifyExitCode, type VerifyReport } from '../checks/run-checks.js';
import { renderVerifyReport } from '../report/verify-report.js';
import { terminalSafe } from '../text/terminal-text.js';

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
  static override args = { spec: Args.string({ description: 'Lab spec paths or bundled lab names (one or more).', required: true }) };
  static override flags = {
    junit: Flags.string({ description: 'Also write JUnit XML to this file.' }),
    keep: Flags.boolean({ description: 'Leave the labs up afterwards.', default: false }),
    parallel: Flags.integer({
      description: 'Run up to N labs at the same time (labs share nothing: each has its own containers, underlay and lock). Progress lines then start with the lab\'s name; the results, JSON and JUnit are the same, in the order of the specs.',
      default: 1,
      min: 1,
      max: 64,
    }),
    engine: Flags.string({
      description: 'NAME=ENDPOINT: an engine for every lab of this run (unix://, tcp://, ssh:// or a Docker context name), added to each spec\'s engines:. Two or more engines spread each lab, hosts dealt out in spec order.',
      multiple: true,
    }),
  };

  protected async execute(): Promise<RunResult> {
    const { argv, flags } = await this.parse(Run);
    const files = argv as string[];
    assertJunitWritable(flags.junit);
    const specs = await Promise.all(files.map((f) => loadLabSpec(specFileFor(f)))); // all valid before anything starts
    const parallel = Math.min(flags.parallel, specs.length);
    const reports: (VerifyReport | undefined)[] = specs.map(() => undefined);
    // Specs of the same lab name run one after another (they would need the same lock).
    const byName = new Map<string, { spec: LabSpec; i: number }[]>();
    specs.forEach((spec, i) => byName.set(spec.name, [...(byName.get(spec.name) ?? []), { spec, i }]));
    const jobs = [...byName.values()];
    await eachLimited(jobs, parallel, async (job) => {
      for (const { spec, i } of job) {
        if (this.abort.signal.aborted) throw interruptedError();
        reports[i] = await this.runOne(spec, flags.keep, parallel > 1, flags.engine ?? []);
      }
    });
    const done = reports as VerifyReport[];
    await writeJunitIfAsked(flags.junit, done);
    this.resultExitCode = verifyExitCode(done);
    return { reports: done, kept: flags.keep };
  }

  /** up → verify → down of one lab, holding its lock. With `tagged`, every progress line names the
   * lab (labs run at the same time) and the up phases print one line each instead of listr2's. */
  private async runOne(spec: LabSpec, keep: boolean, tagged: boolean, engineFlags: readonly string[] = []): Promise<VerifyReport> {
    const signal = this.abort.signal;
    // The spec's engines (and --engine): this lab's own runtime.
    const runtime = this.specRuntime(spec, engineFlags);
    const tag = tagged ? `${this.colours.bold(spec.name)} ` : '';
    this.labInScope = spec.name;
    const headline = tagged ? `${tag}▶ up` : this.colours.bold(`\n▶ ${spec.name}`);
    const show = listrProgress(tagged ? 'silent' : rendererFromProcess(this.json));
    return upLab(
      runtime,
      {
        name: spec.name,
        resolve: ({ taken }) => resolveLab(spec, { takenSubnets: taken }),
        whenExisting: (_existing, lab) => {
          throw inputError(`lab "${lab.name}" is already up`, `run \`overlab down ${lab.name}\` first, or \`overlab verify ${lab.name}\``);
        },
        progress: (phases, phaseSignal) => {
          this.note(headline + (spec.description ? ` — ${terminalSafe(spec.description)}` : ''));
          return show(phases, phaseSignal);
        },
        signal,
      },
      // Still holding the lab's lock: verify, then take it down (unless --keep).
      async ({ lab, durationMs }) => {
        try {
          if (tagged) this.note(`${tag}${this.colours.green('✓')} up (${(durationMs / 1000).toFixed(1)} s), verifying`);
          return await verifyLab(runtime, lab, lab.checks, {
            signal,
            onResult: (r) => {
              this.note(tag + progressLine(r, this.colours));
            },
          });
        } finally {
          if (!keep || signal.aborted) await rollbackLab(runtime, lab.name);
        }
      },
    );
  }

  protected renderHuman(result: RunResult): string {
    return result.reports.map((r) => renderVerifyReport(r, this.colours)).join('\n\n');
  }
}
